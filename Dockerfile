# agentladder: the web UI, the REST API and the command line in one image.
# Build: docker build -t agentladder .   Run with PostgreSQL: docker compose up (compose.yaml).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    AGENTLADDER_DATA_DIR=/data \
    AGENTLADDER_TIMEZONE=Asia/Shanghai

# tzdata: the container's own clock and logs in the centre's zone (the app reads
# AGENTLADDER_TIMEZONE either way).
RUN apt-get update \
    && apt-get install -y --no-install-recommends tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /home/agentladder agentladder \
    && mkdir -p /data && chown agentladder /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install .

USER agentladder
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"

# The schema is upgraded before the workers start (serve --migrate is the default).
CMD ["agentladder", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "4"]
