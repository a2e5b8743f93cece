"""The period close on a schedule: the job with a fixed "now", its failure handling, and the
jobs `create_app` registers when the scheduler is on (no waiting for a real trigger); the job
that submits exam attempts whose time ran out unseen."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from agentladder.config import Settings
from agentladder.cycle import service as cycle_service
from agentladder.db import session_scope, utcnow
from agentladder.ladder.decisions import service as decisions_service
from agentladder.ladder.policy import service as policy_service
from agentladder.periods import parse_period
from agentladder.training.exams import service as exams
from agentladder.web import scheduler
from agentladder.web.app import create_app
from tests.conftest import make_settings
from tests.cycle.builders import build_centre, import_queue_log, october
from tests.factories import make_agent
from tests.ladder.builders import policy_text
from tests.training.exams.test_service import build_bank, make_exam

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_job_closes_the_month_before_now_in_the_centres_time_zone(
    settings: Settings,
) -> None:
    with session_scope(settings) as session:
        build_centre(session)
    import_queue_log(settings, "october", october(1, 2))
    # 1 November 00:30 in Shanghai is still 31 October in UTC: October is the month before.
    now = datetime(2026, 11, 1, 0, 30, tzinfo=SHANGHAI)
    report = scheduler.run_scheduled_close(settings=settings, now=now)
    assert report is not None
    assert report.period == "2026-10"
    assert report.step("ladder").figures["decisions"] == {"promote": 2}
    with session_scope(settings) as session:
        assert decisions_service.decision_periods(session=session) == ["2026-10"]
    again = scheduler.run_scheduled_close(settings=settings, now=now)
    assert again is not None
    assert again.step("ladder").figures["stored"] == 0


def test_a_quarterly_policy_closes_only_after_a_quarter(settings: Settings) -> None:
    quarterly = policy_text().replace("period: month", "period: quarter")
    with session_scope(settings) as session:
        policy_service.apply_policy(session=session, text=quarterly)
        assert (
            cycle_service.period_to_close(session=session, today=datetime(2026, 11, 3).date())
            is None
        )
        assert cycle_service.period_to_close(
            session=session, today=datetime(2027, 1, 3).date()
        ) == parse_period("2026-Q4")
    assert (
        scheduler.run_scheduled_close(
            settings=settings, now=datetime(2026, 11, 3, 2, tzinfo=SHANGHAI)
        )
        is None
    )


def test_a_failed_close_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A database without the schema: the close fails inside the job.
    broken = make_settings(tmp_path / "data", f"sqlite:///{tmp_path / 'empty.db'}")
    with caplog.at_level(logging.ERROR, logger="agentladder.web.scheduler"):
        assert (
            scheduler.run_scheduled_close(
                settings=broken, now=datetime(2026, 11, 3, 2, tzinfo=SHANGHAI)
            )
            is None
        )
    assert "the scheduled close on 2026-11-03 failed" in caplog.text


def test_create_app_with_the_scheduler_registers_the_close_and_overdue_jobs(
    settings: Settings,
) -> None:
    configured = make_settings(
        settings.data_dir, settings.resolved_database_url, cycle_close_day=5, cycle_close_hour=4
    )
    app = create_app(configured, scheduler=True)
    with TestClient(app):
        running = app.state.scheduler
        assert running.running
        jobs = {job.id: job for job in running.get_jobs()}
        assert sorted(jobs) == sorted([scheduler.JOB_ID, scheduler.OVERDUE_JOB_ID])
        assert jobs[scheduler.OVERDUE_JOB_ID].func is scheduler.finish_overdue_exams
        assert jobs[scheduler.OVERDUE_JOB_ID].trigger.interval.total_seconds() == 60
        job = jobs[scheduler.JOB_ID]
        assert job.func is scheduler.run_scheduled_close
        assert job.kwargs == {"settings": configured}
        fields = {field.name: str(field) for field in job.trigger.fields}
        assert (fields["day"], fields["hour"], fields["minute"]) == ("5", "4", "0")
        assert job.trigger.timezone == SHANGHAI
        assert job.next_run_time.day == 5
        assert job.next_run_time.hour == 4
    assert not running.running
    plain = create_app(settings)
    with TestClient(plain):
        assert plain.state.scheduler is None


def test_the_overdue_job_submits_an_attempt_nobody_came_back_to(settings: Settings) -> None:
    started = utcnow() - timedelta(hours=1)
    with session_scope(settings) as session:
        build_bank(session)
        agent = make_agent(session)
        code = make_exam(session, time_limit_min=10)
        attempt_id = exams.start_attempt(
            session=session, exam_code=code, agent_id=agent.id, now=started
        )
    assert scheduler.finish_overdue_exams(settings=settings) == 1
    assert scheduler.finish_overdue_exams(settings=settings) == 0
    with session_scope(settings) as session:
        result = exams.attempt_result(session=session, attempt_id=attempt_id)
    assert result.state == "finished"
    assert result.submitted_at == started + timedelta(minutes=10)
