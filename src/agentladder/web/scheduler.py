"""The period close on a schedule (`agentladder serve --scheduler`): an APScheduler job in the
web server's process closes the previous month on `cycle_close_day` at `cycle_close_hour`, in
the centre's time zone. The job computes before it decides, so it never meets stale evidence;
a failure is logged and the server keeps serving. A second job submits, every minute, the exam
attempts whose time ran out while nobody had them open. The cron alternative:
docs/operations.md.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Any

from agentladder.config import Settings
from agentladder.cycle import service as cycle_service
from agentladder.db import session_scope, utcnow
from agentladder.training.exams import service as exams_service

log = logging.getLogger(__name__)

JOB_ID = "cycle-close"
OVERDUE_JOB_ID = "exam-overdue"


def run_scheduled_close(
    *, settings: Settings, now: datetime | None = None
) -> cycle_service.CloseReport | None:
    """Close the period that ended before `now` (default: now, in the centre's time zone);
    None when there is none to close or the close failed (logged, never raised)."""
    today = (now or datetime.now(settings.tz)).astimezone(settings.tz).date()
    try:
        with session_scope(settings) as session:
            period = cycle_service.period_to_close(session=session, today=today)
            if period is None:
                log.info("scheduled close on %s: no period ended last month", today)
                return None
            report = cycle_service.close_period(session=session, settings=settings, period=period)
    except Exception:
        # The server keeps serving; the next run (or a close by hand) tries again.
        log.exception("the scheduled close on %s failed; nothing was changed", today)
        return None
    log.info(
        "scheduled close of %s: %s",
        report.period,
        "; ".join(f"{s.name} {s.figures}" for s in report.steps),
    )
    return report


def finish_overdue_exams(*, settings: Settings) -> int | None:
    """Submit the exam attempts past their deadline; how many (None when it failed, logged)."""
    try:
        with session_scope(settings) as session:
            finished = exams_service.finish_overdue_attempts(session=session, now=utcnow())
    except Exception:
        log.exception("finishing the overdue exam attempts failed; the next run tries again")
        return None
    if finished:
        log.info("finished %d overdue exam attempt(s)", finished)
    return finished


def close_trigger(settings: Settings) -> Any:
    """The cron trigger: day `cycle_close_day` of every month at `cycle_close_hour`:00."""
    from apscheduler.triggers.cron import CronTrigger

    return CronTrigger(
        day=settings.cycle_close_day,
        hour=settings.cycle_close_hour,
        minute=0,
        timezone=settings.tz,
    )


def start_scheduler(settings: Settings) -> Any:
    """A started background scheduler with the close job and the overdue attempts job."""
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(timezone=settings.tz)
    scheduler.add_job(
        run_scheduled_close,
        trigger=close_trigger(settings),
        kwargs={"settings": settings},
        id=JOB_ID,
        name="close the previous period",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=3600,
    )
    scheduler.add_job(
        finish_overdue_exams,
        trigger="interval",
        minutes=1,
        kwargs={"settings": settings},
        id=OVERDUE_JOB_ID,
        name="submit overdue exam attempts",
        max_instances=1,
        coalesce=True,
    )
    scheduler.start()
    return scheduler


def scheduler_lifespan(
    settings: Settings, enabled: bool
) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """The web app's lifespan: the scheduler runs while the app does, when enabled
    (`app.state.scheduler`, None otherwise)."""

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        scheduler = start_scheduler(settings) if enabled else None
        app.state.scheduler = scheduler
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)

    return lifespan
