"""A small centre whose ACD data comes through the queue_log adapter, for period closes and
freshness checks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time

from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.external.models import ExternalEvidence
from agentladder.ingest import service as ingest_service
from agentladder.ladder.policy import service as policy_service
from agentladder.org import service as org_service
from tests.factories import make_agent
from tests.ladder.builders import HIRED, policy_text

AGENTS = {"A0001": "SIP/1001", "A0002": "SIP/1002"}


def queue_log(days: Iterable[date], *, calls_per_day: int = 60, at_hour: int = 10) -> bytes:
    """Every agent of AGENTS answers `calls_per_day` calls on each day, from `at_hour` UTC."""
    lines = []
    for day in days:
        start = int(datetime.combine(day, time(at_hour), tzinfo=UTC).timestamp())
        for index, identity in enumerate(AGENTS.values()):
            for n in range(calls_per_day):
                at = start + index * 30 + n * 60
                call = f"{day:%m%d}-{index}-{n}"
                caller = f"139{day:%m%d}{index}{n:03d}"
                lines += [
                    f"{at}|{call}|support|NONE|ENTERQUEUE||{caller}|1",
                    f"{at + 4}|{call}|support|{identity}|CONNECT|4|x|2",
                    f"{at + 40}|{call}|support|{identity}|COMPLETECALLER|4|36|1",
                ]
    return ("\n".join(lines) + "\n").encode()


def import_queue_log(settings: Settings, name: str, days: Iterable[date], **kwargs: int) -> None:
    """One queue_log file imported in its own transaction."""
    with session_scope(settings) as session:
        report = ingest_service.import_file(
            session=session,
            settings=settings,
            adapter="queue_log",
            data=queue_log(days, **kwargs),
            file_name=name,
        )
        assert report.batch_id is not None
        assert not report.already_imported


def build_centre(session: Session, *, aliased: bool = True, approval: str = "auto") -> None:
    """Two agents (A0001 mapped to SIP/1001, A0002 to SIP/1002 unless `aliased` is off), the
    test policy, and QA scores from another tool for September to November 2026."""
    policy_service.apply_policy(session=session, text=policy_text(consecutive=1, approval=approval))
    for number, identity in AGENTS.items():
        agent = make_agent(session, employee_no=number, name=f"座席{number}", hire_date=HIRED)
        if aliased:
            org_service.add_alias(session=session, agent=agent, identity=identity)
        for period in ("2026-09", "2026-10", "2026-11"):
            session.add(
                ExternalEvidence(
                    agent_id=agent.id,
                    period=period,
                    metric_id="qa_score",
                    value=95.0 if number == "A0001" else 50.0,
                    sample_size=8,
                    source="test",
                )
            )
    session.flush()


def october(*days: int) -> list[date]:
    """Days of October 2026."""
    return [date(2026, 10, day) for day in days]
