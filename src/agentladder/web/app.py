"""The FastAPI application factory."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from swagger_ui_bundle import swagger_ui_path

from agentladder import __version__
from agentladder.config import Settings, get_settings
from agentladder.errors import DomainError
from agentladder.i18n import N_, translate
from agentladder.org.schemas import Permission
from agentladder.web.auth import (
    CSRF_COOKIE,
    LoginRequired,
    new_csrf_nonce,
    request_language,
    route_permission,
)
from agentladder.web.templating import render

STATIC_DIR = Path(__file__).parent / "static"

# Pages may load scripts and styles only from this site; nothing may frame them.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
# The interactive API page serves Swagger UI from the swagger-ui-bundle wheel (many intranets
# reach no CDN) and starts it with an inline script; only that page may run one.
API_DOCS_PATH = "/api/docs"
API_DOCS_ASSETS = "/api/docs/assets"
API_DOCS_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
)


log = logging.getLogger(__name__)
SERVER_ERROR_MESSAGE = N_(
    "Something went wrong on our side; it has been logged. Try again, or tell your administrator."
)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api") or request.url.path == "/healthz"


def _error_response(request: Request, status: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": message}, status_code=status)
    return render(request, "error.html", {"status": status, "message": message}, status_code=status)


def routers() -> list[tuple[APIRouter, str]]:
    """Every domain's routers with the prefix each is mounted under."""
    from agentladder.cycle import views as cycle_views
    from agentladder.ingest import views as ingest_views
    from agentladder.knowledge import views as knowledge_views
    from agentladder.ladder import views as ladder_views
    from agentladder.metrics import views as metrics_views
    from agentladder.org import views as org_views
    from agentladder.quality import views as quality_views
    from agentladder.quality.autoqa import views as autoqa_views
    from agentladder.training import views as training_views
    from agentladder.training.exams import analysis_views as exam_statistics_views
    from agentladder.training.exams import views as exam_views
    from agentladder.training.questions import views as question_views
    from agentladder.web import views as web_views

    return [
        (web_views.router, ""),
        (org_views.pages, ""),
        (org_views.api, "/api"),
        (metrics_views.pages, ""),
        (metrics_views.api, "/api"),
        (ingest_views.pages, ""),
        (ingest_views.api, "/api"),
        (training_views.pages, ""),
        (training_views.api, "/api"),
        (exam_views.pages, ""),
        (exam_views.api, "/api"),
        (exam_statistics_views.pages, ""),
        (exam_statistics_views.api, "/api"),
        (question_views.pages, ""),
        (question_views.api, "/api"),
        (quality_views.pages, ""),
        (quality_views.api, "/api"),
        (autoqa_views.pages, ""),
        (autoqa_views.api, "/api"),
        (ladder_views.pages, ""),
        (ladder_views.api, "/api"),
        (cycle_views.pages, ""),
        (cycle_views.api, "/api"),
        (knowledge_views.pages, ""),
        (knowledge_views.api, "/api"),
    ]


class CsrfCookieAndHeaders:
    """Give every request its CSRF nonce (a new cookie when the browser has none) and every
    response the security headers. A plain ASGI middleware: Starlette's `BaseHTTPMiddleware`
    runs each request in a task group with streaming wrappers, a cost on every answer saved."""

    def __init__(self, app: ASGIApp, cookie_secure: bool) -> None:
        self.app = app
        self.cookie_secure = cookie_secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = Request(scope).cookies.get(CSRF_COOKIE)
        state = scope.setdefault("state", {})
        state["csrf_nonce"] = nonce or new_csrf_nonce()
        state["viewer"] = None

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if nonce is None:
                    cookie = Response()
                    cookie.set_cookie(
                        CSRF_COOKIE,
                        state["csrf_nonce"],
                        httponly=True,
                        samesite="lax",
                        secure=self.cookie_secure,
                    )
                    headers.append("set-cookie", cookie.headers["set-cookie"])
                if scope["path"] == API_DOCS_PATH:
                    headers["Content-Security-Policy"] = API_DOCS_CSP
                for header, value in SECURITY_HEADERS.items():
                    headers.setdefault(header, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


@dataclass(frozen=True)
class RouteInfo:
    """A route as mounted, with the permission it declares (None for public routes)."""

    method: str
    path: str
    permission: Permission | None


def declared_routes() -> list[RouteInfo]:
    """Every mounted route and method with its declared permission, for audits and tests."""
    found = []
    for router, prefix in routers():
        for route in router.routes:
            if isinstance(route, APIRoute):
                permission = route_permission(route)
                path = prefix + route.path
                found += [RouteInfo(m, path, permission) for m in sorted(route.methods or ())]
    return found


def create_app(settings: Settings | None = None, scheduler: bool | None = None) -> FastAPI:
    """Build the web application for the given (or process) settings; `scheduler` (default:
    the `cycle_scheduler` setting) closes the previous period on a schedule while it runs."""
    from agentladder.web.scheduler import scheduler_lifespan

    settings = settings or get_settings()
    settings.resolved_secret_key()  # create it now, not during the first request
    enabled = settings.cycle_scheduler if scheduler is None else scheduler
    app = FastAPI(
        lifespan=scheduler_lifespan(settings, enabled),
        title="agentladder",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings

    app.add_middleware(CsrfCookieAndHeaders, cookie_secure=settings.cookie_secure)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": "not authenticated"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        language = request_language(request)
        return _error_response(request, exc.status_code, exc.translated(language))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        language = request_language(request)
        messages = {404: N_("page not found"), 405: N_("method not allowed")}
        message = messages.get(exc.status_code, str(exc.detail))
        return _error_response(request, exc.status_code, translate(language, message))

    async def validation_error(
        request: Request, exc: RequestValidationError | ValidationError
    ) -> Response:
        errors = exc.errors()
        if _wants_json(request):
            return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)
        language = request_language(request)
        fields = ", ".join(str(error["loc"][-1]) for error in errors if error.get("loc"))
        return _error_response(
            request, 422, translate(language, "invalid input in: {fields}", fields=fields)
        )

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        # Logged with its traceback (the server re-raises it too); the person gets the
        # product's own page in their language, not a bare "Internal Server Error".
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        language = request_language(request)
        message = translate(language, SERVER_ERROR_MESSAGE)
        try:
            return _error_response(request, 500, message)
        except Exception:  # the page itself needs what just failed: plain text will do
            return PlainTextResponse(message, status_code=500)

    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(ValidationError, validation_error)  # type: ignore[arg-type]

    for router, prefix in routers():
        app.include_router(router, prefix=prefix)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount(API_DOCS_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="api-docs-assets")

    @app.get(API_DOCS_PATH, include_in_schema=False)
    def api_docs() -> HTMLResponse:
        """Swagger UI over /api/openapi.json, every asset served by this server."""
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="agentladder API",
            swagger_js_url=f"{API_DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{API_DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{API_DOCS_ASSETS}/favicon-32x32.png",
        )

    return app
