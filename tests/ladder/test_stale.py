"""The ladder refuses evidence that changed after it was computed: by service, CLI and web;
`--allow-stale` decides anyway and every decision records it."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from agentladder.cli import app
from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.errors import StaleEvidence
from agentladder.ladder.decisions import service as decisions_service
from agentladder.metrics import service as metrics_service
from agentladder.org import service as org_service
from agentladder.periods import parse_period
from agentladder.web.app import create_app
from tests.conftest import make_settings
from tests.cycle.builders import build_centre, import_queue_log, october
from tests.factories import login, make_user
from tests.ladder.builders import give

runner = CliRunner()
REFRESH = "agentladder metrics compute --period 2026-10"


@pytest.fixture
def utc(cli_env: Settings) -> Settings:
    return make_settings(cli_env.data_dir, cli_env.resolved_database_url, timezone="UTC")


def _stale_october(settings: Settings) -> None:
    """October imported and computed, then another October file imported."""
    with session_scope(settings) as session:
        build_centre(session)
        make_user(session, settings, "manager", ["manager"])
    import_queue_log(settings, "queue_log-early", october(1, 2))
    with session_scope(settings) as session:
        metrics_service.compute_period(
            session=session, settings=settings, period=parse_period("2026-10")
        )
    import_queue_log(settings, "queue_log-late", october(20))


def test_run_period_refuses_stale_evidence_dry_or_not(utc: Settings) -> None:
    _stale_october(utc)
    for dry_run in (False, True):
        with session_scope(utc) as session, pytest.raises(StaleEvidence) as refused:
            decisions_service.run_period(
                session=session, settings=utc, period=parse_period("2026-10"), dry_run=dry_run
            )
        assert refused.value.status_code == 409
        assert "queue_log-late" in str(refused.value)
        assert REFRESH in str(refused.value)
        assert "queue_log-late" in refused.value.translated("zh_Hans")
    with session_scope(utc) as session:
        assert decisions_service.decision_periods(session=session) == []
    # Recomputed: nothing stale, the run decides.
    with session_scope(utc) as session:
        metrics_service.compute_period(
            session=session, settings=utc, period=parse_period("2026-10")
        )
        report = decisions_service.run_period(
            session=session, settings=utc, period=parse_period("2026-10")
        )
    assert report.stale_inputs == []
    assert all("stale_inputs" not in view.detail for view in report.decisions)


def test_cli_refuses_then_allow_stale_records_it(utc: Settings) -> None:
    # The CLI reads the process settings: the centre's default time zone, the same days here.
    _stale_october(utc)
    refused = runner.invoke(app, ["ladder", "run", "--period", "2026-10"])
    assert refused.exit_code == 1
    assert "queue_log-late" in refused.output
    assert REFRESH in refused.output
    allowed = runner.invoke(
        app, ["ladder", "run", "--period", "2026-10", "--allow-stale", "--format", "json"]
    )
    assert allowed.exit_code == 0, allowed.output
    decisions = json.loads(allowed.stdout)
    assert len(decisions) == 2
    for decision in decisions:
        [stale] = decision["stale_inputs"]
        assert stale["params"]["files"] == "queue_log-late"
        assert stale["refresh_command"] == REFRESH
        assert stale["source"] == "service_statistics"
        assert stale["computed_at"] < stale["changed_at"]
        assert decision["explanation"]["en"][0].startswith("Decided on stale evidence")
        assert "queue_log-late" in decision["explanation"]["en"][1]
        assert decision["explanation"]["zh_Hans"][0] != decision["explanation"]["en"][0]
    explained = runner.invoke(app, ["ladder", "explain", "A0001", "--period", "2026-10"])
    assert "queue_log-late" in explained.output
    # Recomputed and run again: the decisions no longer carry the mark.
    assert runner.invoke(app, ["metrics", "compute", "--period", "2026-10"]).exit_code == 0
    rerun = runner.invoke(app, ["ladder", "run", "--period", "2026-10", "--format", "json"])
    assert rerun.exit_code == 0, rerun.output
    assert all(d["stale_inputs"] == [] for d in json.loads(rerun.stdout))
    assert "Decided on stale" not in rerun.stdout


def test_web_run_shows_the_refusal(utc: Settings) -> None:
    _stale_october(utc)
    client = login(TestClient(create_app(utc)), "manager")
    page = client.post("/ladder/run", data={"period": "2026-10"}, follow_redirects=False)
    assert page.status_code == 409
    assert "queue_log-late" in page.text
    assert REFRESH in page.text
    api = client.post("/api/ladder/run", params={"period": "2026-10"})
    assert api.status_code == 409
    assert REFRESH in api.json()["detail"]
    allowed = client.post("/api/ladder/run", params={"period": "2026-10", "allow_stale": "true"})
    assert allowed.status_code == 200
    assert allowed.json()["decisions"][0]["stale_inputs"][0]["params"]["files"] == (
        "queue_log-late"
    )


def test_external_evidence_alone_is_never_stale(settings: Settings) -> None:
    with session_scope(settings) as session:
        build_centre(session)
        agent = org_service.get_agent_by_employee_no(session=session, employee_no="A0001")
        assert agent is not None
        give(session, agent, "2026-08", score=90)
    # ACD data of another month does not touch August.
    import_queue_log(settings, "october", october(5))
    with session_scope(settings) as session:
        report = decisions_service.run_period(
            session=session, settings=settings, period=parse_period("2026-08")
        )
    assert report.stale_inputs == []
    assert {v.employee_no for v in report.decisions} == {"A0001", "A0002"}
