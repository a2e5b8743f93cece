"""The KPI queries compiled to SQL and kept in the data directory: a later process runs them
without Ibis and gets the same values; another shape of data or thresholds compiles its own;
a damaged kept file is compiled again."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.metrics import compiled
from agentladder.metrics import service as metrics_service
from agentladder.periods import parse_period
from tests.conftest import make_settings
from tests.metrics.test_engine import CALLS, _agents, _import


@pytest.fixture(autouse=True)
def _no_queries_from_another_test() -> None:
    # The process keeps the last queries it built: each test starts without them.
    compiled._last = None


def _kept(settings: Settings) -> list[Path]:
    return sorted((settings.data_dir / metrics_service.KPI_CACHE).glob("*.json"))


def test_a_later_process_runs_the_kept_queries_without_ibis(settings: Settings) -> None:
    _import(settings, "queue_log", CALLS)
    first = _agents(settings, "2025-10")
    assert [path.name.split("-")[0] for path in _kept(settings)] == ["frames", "probes"]
    script = f"""
import json, sys
from pathlib import Path
from agentladder.db import session_scope
from agentladder.metrics import service
from agentladder.periods import parse_period
from tests.conftest import make_settings
settings = make_settings(Path({str(settings.data_dir)!r}), {settings.resolved_database_url!r})
with session_scope(settings) as session:
    service.compute_period(session=session, settings=settings, period=parse_period("2025-10"))
with session_scope(settings) as session:
    values = service.period_values(session=session, period=parse_period("2025-10"))
print(json.dumps({{"ibis": "ibis" in sys.modules, "sqlglot": "sqlglot" in sys.modules,
                  "agents": {{a["agent"]: a for a in values["agents"]}}}}))
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    later = json.loads(result.stdout.strip().splitlines()[-1])
    assert later["ibis"] is False
    assert later["sqlglot"] is False
    assert later["agents"] == json.loads(json.dumps(first))


def test_other_thresholds_compile_queries_of_their_own(settings: Settings) -> None:
    _import(settings, "queue_log", CALLS)
    _agents(settings, "2025-10")
    kept = _kept(settings)
    strict = make_settings(settings.data_dir, settings.resolved_database_url, service_level_s=5)
    with session_scope(strict) as session:
        metrics_service.compute_period(
            session=session, settings=strict, period=parse_period("2025-10")
        )
    assert len(_kept(settings)) == len(kept) + 2
    assert set(kept) < set(_kept(settings))


def test_a_damaged_kept_query_is_compiled_again(settings: Settings) -> None:
    _import(settings, "queue_log", CALLS)
    first = _agents(settings, "2025-10")
    for path in _kept(settings):
        path.write_text('{"calls": ["SELECT", "not base64 at all"]')
    compiled._last = None
    assert _agents(settings, "2025-10") == first
    assert all(json.loads(path.read_text()) for path in _kept(settings))
