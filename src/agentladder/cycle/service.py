"""Closing a period in one flow: compute its metrics, then every evidence subsystem's
aggregates, then run the ladder on what was just computed (which therefore finds nothing
stale). The CLI (`agentladder cycle close`), the ladder dashboard's button and the scheduler
all call `close_period`. Closing a period twice gives the same values and decisions.

The steps come from the registry in `agentladder.closing` (core, so that a subsystem below the
ladder can add its step); the two shipped steps are registered here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from agentladder.closing import (
    METRICS_STEP,
    CloseContext,
    CloseStep,
    StepFigures,
    close_steps,
    register_close_step,
)
from agentladder.config import Settings
from agentladder.ladder.decisions import service as decisions_service
from agentladder.ladder.policy import service as policy_service
from agentladder.metrics import service as metrics_service
from agentladder.periods import Period, period_of

LADDER_STEP = "ladder"


def steps() -> list[CloseStep]:
    """The steps a close runs, in order (with every subsystem's: their providers register
    them when the provider registry loads)."""
    metrics_service.evidence_providers()
    return close_steps()


LADDER_FIGURES = ("stored", "unchanged", "kept", "applied")

# Progress of the whole close: step name, units done, units in all.
CloseProgress = Callable[[str, int, int], None]


def _compute_metrics(context: CloseContext) -> StepFigures:
    """Every metric of the period, replacing what was stored for it."""
    context.progress(0, 1)
    report = metrics_service.compute_period(
        session=context.session, settings=context.settings, period=context.period
    )
    context.progress(1, 1)
    return {"values": report.values, "agents": report.agents, "queues": report.queues}


def _run_ladder(context: CloseContext) -> StepFigures:
    """The ladder's decisions for the period, on the evidence just computed."""
    context.progress(0, 1)
    report = decisions_service.run_period(
        session=context.session,
        settings=context.settings,
        period=context.period,
        run_by=context.run_by,
        allow_stale=context.allow_stale,
    )
    context.progress(1, 1)
    figures: StepFigures = {"decisions": dict(sorted(report.counts().items()))}
    figures.update({name: getattr(report, name) for name in LADDER_FIGURES})
    if report.stale_inputs:
        figures["stale_inputs"] = [item.as_dict() for item in report.stale_inputs]
    return figures


register_close_step(
    CloseStep(METRICS_STEP, "计算指标", "Compute the metrics", _compute_metrics), after=None
)
register_close_step(
    CloseStep(LADDER_STEP, "晋级评定", "Run the ladder", _run_ladder, last=True), after=None
)


@dataclass
class StepSummary:
    """What one step of a close did."""

    name: str
    zh: str
    en: str
    figures: StepFigures
    seconds: float

    def as_json(self) -> dict[str, Any]:
        """The shape `cycle close --format json` prints for a step."""
        return {
            "step": self.name,
            "label": {"zh_Hans": self.zh, "en": self.en},
            "figures": self.figures,
            "seconds": round(self.seconds, 2),
        }


@dataclass
class CloseReport:
    """What closing a period did, step by step."""

    period: str
    steps: list[StepSummary] = field(default_factory=list)

    def step(self, name: str) -> StepSummary:
        """One step's summary by name."""
        for summary in self.steps:
            if summary.name == name:
                return summary
        raise KeyError(name)


def _check_period_kind(session: Session, chosen: Period) -> None:
    """Refuse before computing anything a period the ladder's policy does not decide."""
    policy_service.check_period_kind(policy_service.current_policy(session=session).policy, chosen)


def close_period(
    *,
    session: Session,
    settings: Settings,
    period: Period,
    allow_stale: bool = False,
    run_by: Any = None,
    progress: CloseProgress | None = None,
) -> CloseReport:
    """Close a period: every registered step in order (metrics, subsystem aggregates, the
    ladder), in the caller's transaction; `progress(step, done, total)` follows each step.
    `allow_stale` is handed to the ladder run (it finds nothing stale after the metrics step
    unless a subsystem step leaves something so)."""
    chosen = period
    _check_period_kind(session, chosen)
    report = CloseReport(period=chosen.label)
    for step in steps():

        def step_progress(done: int, total: int, name: str = step.name) -> None:
            if progress is not None:
                progress(name, done, total)

        started = time.perf_counter()
        figures = step.run(
            CloseContext(
                session=session,
                settings=settings,
                period=chosen,
                allow_stale=allow_stale,
                run_by=run_by,
                progress=step_progress,
            )
        )
        session.flush()
        report.steps.append(
            StepSummary(step.name, step.zh, step.en, figures, time.perf_counter() - started)
        )
    return report


def period_to_close(*, session: Session, today: date) -> Period | None:
    """The period the scheduler closes on `today`: the month before it, or under a quarterly
    policy the quarter before it when that quarter ended last month (else None)."""
    last_month = period_of("month", today).previous()
    kind = policy_service.current_policy(session=session).policy.period
    if kind == "month":
        return last_month
    return last_month.quarter() if last_month.closes_quarter() else None
