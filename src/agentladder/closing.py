"""The steps of a period close, in one ordered registry.

Closing a period (`agentladder cycle close`, see `agentladder.cycle.service`) computes the
period's metrics, then every evidence subsystem's aggregates, then runs the ladder. The
registry is core so that a subsystem, which sits below the ladder and the cycle, adds its
aggregates step from its own module in one line (in its `provider.py`, which the provider
registry loads before any close or ladder run):

    register_close_step(CloseStep("quality", "质检汇总", "QA aggregates", run=close_quality))

A step runs after the step named by `after` (the metrics, by default); the ladder run is the
`last` step, after all others. Steps run in one transaction: a failed step leaves the period
as it was before the close.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from agentladder.config import Language, Settings
from agentladder.periods import Period

# The running step's progress: units done, units in all.
StepProgress = Callable[[int, int], None]
# What a step did, as figures for the summary: {"values": 1234} or {"stored": 3, ...}.
StepFigures = dict[str, Any]

METRICS_STEP = "metrics"


@dataclass(frozen=True)
class CloseContext:
    """What a step is given: the period to close and how."""

    session: Session
    settings: Settings
    period: Period
    allow_stale: bool
    run_by: Any  # the user closing the period; None for the CLI and the scheduler
    progress: StepProgress


@dataclass(frozen=True)
class CloseStep:
    """One step of the period close."""

    name: str
    zh: str
    en: str
    run: Callable[[CloseContext], StepFigures]
    last: bool = False  # the ladder run: after every other step

    def label(self, language: Language) -> str:
        """The step's name in the reader's language."""
        return self.zh if language == "zh_Hans" else self.en


_registered: dict[str, tuple[CloseStep, str | None]] = {}


def register_close_step(step: CloseStep, *, after: str | None = METRICS_STEP) -> None:
    """Add a step to the period close, run after the step named (`None`: first). Registering a
    name again replaces its step."""
    _registered[step.name] = (step, after)


def close_steps() -> list[CloseStep]:
    """The registered steps in the order they run: each after the step it names (by name, when
    several name the same one), the `last` steps at the end."""
    # By name, not in the order registered: providers register when their module loads, and
    # the close must not run in another order because some command loaded one first.
    registered = sorted(_registered.values(), key=lambda entry: entry[0].name)
    order = [step for step, after in registered if after is None and not step.last]
    waiting = [(step, after) for step, after in registered if after is not None]
    while waiting:
        placed = {step.name: index for index, step in enumerate(order)}
        ready = [(step, after) for step, after in waiting if after in placed and not step.last]
        if not ready:
            unplaced = [(s.name, a) for s, a in waiting if not s.last]
            if unplaced:
                raise ValueError(f"close steps after unknown steps: {unplaced}")
            break
        step, after = ready[0]
        index = placed[after]
        # After the named step and the steps already placed after it.
        while index + 1 < len(order) and _registered[order[index + 1].name][1] == after:
            index += 1
        order.insert(index + 1, step)
        waiting.remove((step, after))
    return order + [step for step, _ in _registered.values() if step.last]
