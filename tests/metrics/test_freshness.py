"""Whether a period's stored metric values are older than the ACD imports and identity
mappings they were computed from (`freshness.stale_inputs`)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.freshness import StaleInput
from agentladder.metrics import freshness
from agentladder.metrics import service as metrics_service
from agentladder.org import service as org_service
from agentladder.periods import parse_period
from tests.conftest import make_settings
from tests.cycle.builders import build_centre, import_queue_log, october
from tests.factories import make_agent


@pytest.fixture
def utc(settings: Settings) -> Settings:
    return make_settings(settings.data_dir, settings.resolved_database_url, timezone="UTC")


def _stale(settings: Settings, period: str) -> list[StaleInput]:
    with session_scope(settings) as session:
        return freshness.stale_inputs(
            session=session, settings=settings, period=parse_period(period)
        )


def _compute(settings: Settings, period: str) -> None:
    with session_scope(settings) as session:
        metrics_service.compute_period(
            session=session, settings=settings, period=parse_period(period)
        )


def test_a_newer_import_makes_the_period_stale_until_recomputed(utc: Settings) -> None:
    with session_scope(utc) as session:
        build_centre(session)
    assert _stale(utc, "2026-10") == []  # no ACD data at all: nothing to be stale
    import_queue_log(utc, "queue_log-1001", october(1))
    [never] = _stale(utc, "2026-10")
    assert never.computed_at is None
    assert never.params == {"period": "2026-10", "files": "queue_log-1001"}
    assert never.refresh_command == "agentladder metrics compute --period 2026-10"
    assert "never computed" in never.describe("en")
    assert _stale(utc, "2026-09") == []  # a file of October leaves September alone
    _compute(utc, "2026-10")
    assert _stale(utc, "2026-10") == []
    import_queue_log(utc, "queue_log-1015", october(15))
    [newer] = _stale(utc, "2026-10")
    assert newer.params["files"] == "queue_log-1015"
    assert newer.computed_at is not None
    assert newer.computed_at.tzinfo is not None  # UTC from SQLite too
    assert newer.changed_at > newer.computed_at
    assert "queue_log-1015" in newer.describe("zh_Hans")
    _compute(utc, "2026-10")
    assert _stale(utc, "2026-10") == []


def test_the_repeat_contact_window_and_the_day_before_count(utc: Settings) -> None:
    with session_scope(utc) as session:
        build_centre(session)
    import_queue_log(utc, "october", october(10, 11))
    _compute(utc, "2026-10")
    # A call on 3 November may repeat one of late October (fcr_window_days = 7).
    import_queue_log(utc, "early-november", [date(2026, 11, 3)])
    assert [s.params["files"] for s in _stale(utc, "2026-10")] == ["early-november"]
    _compute(utc, "2026-10")
    # Past the window, November is no concern of October's.
    import_queue_log(utc, "late-november", [date(2026, 11, 20)])
    assert _stale(utc, "2026-10") == []
    # A state begun the evening before reaches into the month.
    _compute(utc, "2026-11")
    import_queue_log(utc, "last-of-october", october(31), at_hour=22)
    assert [s.params["files"] for s in _stale(utc, "2026-11")] == ["last-of-october"]


def test_periods_are_read_in_the_centres_time_zone(settings: Settings) -> None:
    # 2026-10-31 20:00 UTC is 1 November 04:00 in Shanghai: November's data, never computed.
    with session_scope(settings) as session:
        build_centre(session)
    import_queue_log(settings, "night", october(31), at_hour=20, calls_per_day=2)
    [november] = _stale(settings, "2026-11")
    assert november.computed_at is None
    assert _stale(settings, "2026-12") == []


def test_an_identity_mapped_after_the_computation_is_stale(utc: Settings) -> None:
    with session_scope(utc) as session:
        build_centre(session, aliased=False)
    import_queue_log(utc, "october", october(10, 11))
    _compute(utc, "2026-10")
    with session_scope(utc) as session:
        other = make_agent(session, employee_no="B0001", name="无关")
        org_service.add_alias(session=session, agent=other, identity="SIP/9999")  # not in files
    assert _stale(utc, "2026-10") == []
    with session_scope(utc) as session:
        agent = org_service.get_agent_by_employee_no(session=session, employee_no="A0001")
        assert agent is not None
        org_service.add_alias(session=session, agent=agent, identity="SIP/1001")
    [mapped] = _stale(utc, "2026-10")
    assert mapped.params["identities"] == "SIP/1001 → A0001"
    assert mapped.changed_at > datetime(2026, 1, 1, tzinfo=UTC)
    _compute(utc, "2026-10")
    assert _stale(utc, "2026-10") == []
