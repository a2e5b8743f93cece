"""Closing a period in one flow: metrics, subsystem aggregates, the ladder; twice gives the
same; by service, CLI and the dashboard's button."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from agentladder import closing
from agentladder.cli import app
from agentladder.config import Settings
from agentladder.cycle import service as cycle_service
from agentladder.db import session_scope
from agentladder.errors import InvalidInput
from agentladder.ladder.decisions import service as decisions_service
from agentladder.metrics import service as metrics_service
from agentladder.metrics.models import MetricValue
from agentladder.periods import parse_period
from agentladder.web.app import create_app
from tests.conftest import make_settings
from tests.cycle.builders import build_centre, import_queue_log, october
from tests.factories import csrf_token, login, make_agent, make_user

runner = CliRunner()


@pytest.fixture
def utc(settings: Settings) -> Settings:
    return make_settings(settings.data_dir, settings.resolved_database_url, timezone="UTC")


def _close(settings: Settings, period: str = "2026-10") -> cycle_service.CloseReport:
    with session_scope(settings) as session:
        return cycle_service.close_period(
            session=session, settings=settings, period=parse_period(period)
        )


def _stored(settings: Settings) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with session_scope(settings) as session:
        values = [
            (v.subject, v.metric_id, v.value, v.sample_size)
            for v in session.scalars(
                select(MetricValue).order_by(MetricValue.subject, MetricValue.metric_id)
            )
        ]
        decisions = [
            (v.employee_no, v.decision, v.to_level, v.composite, v.status, v.detail)
            for v in decisions_service.decision_views(
                session=session, period=parse_period("2026-10")
            )
        ]
    return values, decisions


def test_close_twice_gives_the_same_values_and_decisions(utc: Settings) -> None:
    with session_scope(utc) as session:
        build_centre(session)
    import_queue_log(utc, "october", october(1, 2))
    seen: list[tuple[str, int, int]] = []
    with session_scope(utc) as session:
        first = cycle_service.close_period(
            session=session,
            settings=utc,
            period=parse_period("2026-10"),
            progress=lambda step, done, total: seen.append((step, done, total)),
        )
    assert [s.name for s in first.steps] == ["metrics", "autoqa", "exam_attempts", "ladder"]
    assert seen == [
        ("metrics", 0, 1),
        ("metrics", 1, 1),
        ("autoqa", 0, 1),
        ("autoqa", 1, 1),
        ("exam_attempts", 0, 1),
        ("exam_attempts", 1, 1),
        ("ladder", 0, 1),
        ("ladder", 1, 1),
    ]
    metrics, _autoqa, exam_attempts, ladder = first.steps
    assert exam_attempts.figures == {"finished": 0}
    assert metrics.figures == {"values": metrics.figures["values"], "agents": 2, "queues": 1}
    assert metrics.figures["values"] > 0
    assert ladder.figures["decisions"] == {"promote": 2}
    assert ladder.figures["stored"] == 2
    assert ladder.figures["applied"] == 2  # the test policy approves automatically
    before = _stored(utc)
    second = _close(utc)
    assert second.step("metrics").figures == metrics.figures
    assert second.step("ladder").figures == {
        "decisions": {"promote": 2},
        "stored": 0,
        "unchanged": 0,
        "kept": 2,  # applied decisions are kept as they are
        "applied": 0,
    }
    assert _stored(utc) == before


def test_close_with_manager_approval_reports_unchanged(utc: Settings) -> None:
    with session_scope(utc) as session:
        build_centre(session, approval="manager")
    import_queue_log(utc, "october", october(1, 2))
    assert _close(utc).step("ladder").figures["stored"] == 2
    before = _stored(utc)
    again = _close(utc).step("ladder").figures
    assert (again["stored"], again["unchanged"], again["kept"]) == (0, 2, 0)
    assert _stored(utc) == before


def test_close_computes_first_so_nothing_is_stale(utc: Settings) -> None:
    with session_scope(utc) as session:
        build_centre(session)
    import_queue_log(utc, "early", october(1, 2))
    with session_scope(utc) as session:
        metrics_service.compute_period(
            session=session, settings=utc, period=parse_period("2026-10")
        )
    import_queue_log(utc, "late", october(20))
    report = _close(utc)
    assert "stale_inputs" not in report.step("ladder").figures
    assert report.step("metrics").figures["values"] > 0
    with session_scope(utc) as session:
        handled = metrics_service.period_values(
            session=session, period=parse_period("2026-10"), subject="A0001"
        )
    assert handled["agents"][0]["metrics"]["handled_calls"] == 180  # three days of 60


def test_a_period_the_policy_does_not_decide_is_refused_before_computing(utc: Settings) -> None:
    with session_scope(utc) as session:
        build_centre(session)
    import_queue_log(utc, "october", october(1))
    with session_scope(utc) as session, pytest.raises(InvalidInput):
        cycle_service.close_period(session=session, settings=utc, period=parse_period("2026-Q4"))
    with session_scope(utc) as session:
        assert metrics_service.available_periods(session=session) == []


@pytest.fixture
def subsystem_step() -> Iterator[list[str]]:
    """A subsystem's aggregates step, registered as a subsystem would, removed afterwards."""
    ran: list[str] = []

    def aggregate(context: closing.CloseContext) -> closing.StepFigures:
        # The metrics are computed by now, the ladder has not run yet.
        assert metrics_service.available_periods(session=context.session) == [context.period.label]
        assert decisions_service.decision_periods(session=context.session) == []
        ran.append(context.period.label)
        return {"aggregates": 1}

    saved = dict(closing._registered)
    closing.register_close_step(
        closing.CloseStep("quality", "质检汇总", "QA aggregates", aggregate)
    )
    yield ran
    closing._registered.clear()
    closing._registered.update(saved)


def test_a_subsystem_step_runs_between_metrics_and_ladder(
    utc: Settings, subsystem_step: list[str]
) -> None:
    assert [s.name for s in cycle_service.steps()] == [
        "metrics",
        "autoqa",
        "exam_attempts",
        "quality",
        "ladder",
    ]
    with session_scope(utc) as session:
        build_centre(session)
    import_queue_log(utc, "october", october(1, 2))
    report = _close(utc)
    assert subsystem_step == ["2026-10"]
    assert [s.name for s in report.steps] == [
        "metrics",
        "autoqa",
        "exam_attempts",
        "quality",
        "ladder",
    ]
    assert report.step("quality").figures == {"aggregates": 1}


def test_steps_are_ordered_by_what_they_follow(subsystem_step: list[str]) -> None:
    def nothing(context: closing.CloseContext) -> closing.StepFigures:
        return {}

    # Registered before the step it follows, and a second one after the metrics.
    closing.register_close_step(closing.CloseStep("exams", "考试", "Exams", nothing), after="kb")
    closing.register_close_step(closing.CloseStep("kb", "知识库", "Knowledge", nothing))
    names = [s.name for s in closing.close_steps()]
    # Steps after the same one run by name: the order never depends on which module loaded
    # first. "quality" follows the metrics, "exams" follows "kb".
    assert names == ["metrics", "autoqa", "exam_attempts", "kb", "quality", "exams", "ladder"]
    closing.register_close_step(closing.CloseStep("lost", "无", "Lost", nothing), after="nope")
    with pytest.raises(ValueError, match="nope"):
        closing.close_steps()


def test_cli_close_prints_a_summary_per_step(cli_env: Settings) -> None:
    with session_scope(cli_env) as session:
        build_centre(session)
    import_queue_log(cli_env, "october", october(1, 2))
    table = runner.invoke(app, ["cycle", "close", "--period", "2026-10"])
    assert table.exit_code == 0, table.output
    assert "Closed 2026-10" in table.stdout
    assert "values" in table.stdout
    assert "promote 2" in table.stdout
    assert "stored 2" in table.stdout
    document = runner.invoke(app, ["cycle", "close", "--period", "2026-10", "--format", "json"])
    assert document.exit_code == 0, document.output
    steps = json.loads(document.stdout)["steps"]
    assert [s["step"] for s in steps] == ["metrics", "autoqa", "exam_attempts", "ladder"]
    assert steps[1]["figures"] == {"transcripts": 0, "judged": 0}
    assert steps[2]["figures"] == {"finished": 0}
    assert steps[3]["figures"]["kept"] == 2
    assert steps[3]["label"] == {"zh_Hans": "晋级评定", "en": "Run the ladder"}
    rows = runner.invoke(app, ["cycle", "close", "--period", "2026-10", "--format", "csv"])
    assert rows.stdout.splitlines()[0] == "step,label,summary,seconds"
    refused = runner.invoke(app, ["cycle", "close", "--period", "2026-Q4"])
    assert refused.exit_code == 1
    assert "the policy evaluates by month" in refused.output


def test_dashboard_button(utc: Settings) -> None:
    with session_scope(utc) as session:
        build_centre(session)
        agent = make_agent(session, employee_no="A0009", name="王芳")
        make_user(session, utc, "manager", ["manager"])
        make_user(session, utc, "agent", ["agent"], agent=agent)
    import_queue_log(utc, "october", october(1, 2))
    manager = login(TestClient(create_app(utc)), "manager")
    board = manager.get("/ladder")
    assert 'action="/cycle/close"' in board.text
    closed = manager.post("/cycle/close", data={"period": "2026-10"}, follow_redirects=False)
    assert closed.status_code == 303
    assert closed.headers["location"] == "/ladder?period=2026-10&closed=1"
    page = manager.get(closed.headers["location"])
    assert "2026-10 已结账" in page.text
    assert "（3 项决定）" in page.text
    api = manager.post("/api/cycle/close", params={"period": "2026-10"})
    assert api.status_code == 200
    assert api.json()["steps"][-1]["figures"]["kept"] == 2
    # An agent may not close; nor may a form without its CSRF token.
    agent_client = login(TestClient(create_app(utc)), "agent")
    refused = agent_client.post("/cycle/close", data={"period": "2026-10"}, follow_redirects=False)
    assert refused.status_code == 403
    forged = TestClient(create_app(utc))
    token = csrf_token(forged)
    forged.post(
        "/login",
        data={"username": "manager", "password": "correct-horse-battery", "csrf_token": token},
    )
    no_token = forged.post("/cycle/close", data={"period": "2026-10"}, follow_redirects=False)
    assert no_token.status_code == 403
    # A GET changes nothing.
    assert manager.get("/cycle/close").status_code == 405
