"""Whether a period's stored metric values are older than what they were computed from: ACD
imports with events in the data the period's computation reads, and identities mapped to
agents since (an unmapped identity's calls move to the agent when the period is recomputed).

A removed alias leaves no trace to compare with; recompute by hand after removing one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.freshness import StaleInput, listed_names
from agentladder.i18n import N_
from agentladder.ingest import service as ingest_service
from agentladder.metrics.models import MetricValue
from agentladder.org import service as org_service
from agentladder.periods import Period

# Agent states (logins, pauses) begun the evening before reach into the period's first day.
STATE_LOOKBACK = timedelta(days=1)


def input_window(period: Period, settings: Settings) -> tuple[datetime, datetime]:
    """The UTC time range whose events a period's computation reads: the period, the day
    before it, and the repeat-contact window after it (a call on the 31st repeated on the 2nd
    was not resolved first time: see `metrics.engine.compute`)."""
    start, end = period.bounds_utc(settings.tz)
    return start - STATE_LOOKBACK, end + timedelta(days=settings.fcr_window_days)


def compute_command(period: Period) -> str:
    """The command that recomputes a period's metrics."""
    return f"agentladder metrics compute --period {period.label}"


def oldest_computation(*, session: Session, period: Period) -> datetime | None:
    """When the oldest of a period's stored values was computed (UTC); None when none is."""
    oldest: datetime | None = session.scalar(
        select(func.min(MetricValue.computed_at)).where(
            MetricValue.period_kind == period.kind, MetricValue.period == period.label
        )
    )
    return oldest


def stale_inputs(*, session: Session, settings: Settings, period: Period) -> list[StaleInput]:
    """What changed after a period's metrics were computed: ACD files imported since whose
    events the computation reads, and identities those files name mapped to agents since; or,
    for a period never computed, the files with events in it."""
    chosen = period
    refresh = compute_command(chosen)
    computed_at = oldest_computation(session=session, period=chosen)
    if computed_at is None:
        # Only files with events inside the period: a file that merely reaches its look-back
        # or repeat-contact window stores no value for it, and would leave it stale for ever.
        start, end = chosen.bounds_utc(settings.tz)
        own = ingest_service.imports_touching(session=session, start=start, end=end)
        if not own:
            return []
        return [
            StaleInput(
                what=N_(
                    "ACD data for {period} was imported ({files}) but its metrics were never "
                    "computed"
                ),
                params={"period": chosen.label, "files": listed_names([i.file_name for i in own])},
                changed_at=own[-1].imported_at,
                computed_at=None,
                refresh_command=refresh,
            )
        ]
    read_from, read_until = input_window(chosen, settings)
    touching = ingest_service.imports_touching(session=session, start=read_from, end=read_until)
    stale = []
    newer = [touch for touch in touching if touch.imported_at > computed_at]
    if newer:
        stale.append(
            StaleInput(
                what=N_("ACD files imported after the metrics of {period} were computed: {files}"),
                params={
                    "period": chosen.label,
                    "files": listed_names([touch.file_name for touch in reversed(newer)]),
                },
                changed_at=newer[-1].imported_at,
                computed_at=computed_at,
                refresh_command=refresh,
            )
        )
    # Aliases are rarely added after a computation: the files' identities are read only then.
    if touching and org_service.aliases_created_after(session=session, after=computed_at):
        named = ingest_service.identities_in_batches(
            session=session, batch_ids=[touch.batch_id for touch in touching]
        )
        mapped = org_service.aliases_created_after(session=session, after=computed_at, among=named)
        if mapped:
            stale.append(
                StaleInput(
                    what=N_(
                        "ACD identities mapped to agents after the metrics of {period} were "
                        "computed: {identities}"
                    ),
                    params={
                        "period": chosen.label,
                        "identities": listed_names(
                            [f"{alias.identity} → {alias.employee_no}" for alias in mapped]
                        ),
                    },
                    changed_at=mapped[-1].created_at,
                    computed_at=computed_at,
                    refresh_command=refresh,
                )
            )
    return stale
