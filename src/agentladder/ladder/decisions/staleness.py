"""The ladder decides only on fresh evidence: before a run it asks every evidence provider what
changed after the facts it hands over were computed, refuses when anything did, and, when told
to decide anyway (`--allow-stale`), records the stale inputs with every decision."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.errors import StaleEvidence
from agentladder.freshness import StaleInput, refresh_commands
from agentladder.i18n import N_
from agentladder.ladder.decisions import facts as ladder_facts
from agentladder.periods import Period


def check_evidence(
    *, session: Session, settings: Settings, period: Period, allow_stale: bool
) -> list[StaleInput]:
    """The period's stale inputs; StaleEvidence when there are any and they are not allowed."""
    stale = ladder_facts.stale_inputs(session=session, settings=settings, period=period)
    if stale and not allow_stale:
        raise StaleEvidence(period=period.label, stale_inputs=stale)
    return stale


def mark_stale(detail: dict[str, Any], stale: list[StaleInput]) -> None:
    """Record in a decision's detail that it was decided on stale evidence, and say so first in
    its explanation (the last reason stays the decision's own)."""
    if not stale:
        return
    detail["stale_inputs"] = [item.as_dict() for item in stale]
    detail["reasons"] = [
        {
            "message": N_(
                "Decided on stale evidence, as asked (--allow-stale); refresh it with {commands}"
            ),
            "params": {"commands": ", ".join(refresh_commands(stale))},
        },
        *({"message": item.what, "params": item.params} for item in stale),
        *detail.get("reasons", []),
    ]
