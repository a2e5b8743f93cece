"""Freshness of precomputed evidence: what changed after the values a decision would read were
computed, and the command that brings them up to date.

The evidence providers report `StaleInput`s (`EvidenceProvider.stale_inputs`); the ladder
refuses to decide on them unless told to, and then records them with the decision. Core: this
module knows no domain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agentladder.config import Language
from agentladder.i18n import translate

# How many names a stale input lists before it only counts the rest (a month of daily files).
MAX_NAMES_LISTED = 3


@dataclass(frozen=True)
class StaleInput:
    """One input that changed after the stored values were computed from it."""

    what: str  # a msgid (N_()) with {placeholders} filled from `params`
    params: dict[str, Any] = field(hash=False)
    changed_at: datetime  # UTC: when the newest change was made
    computed_at: datetime | None  # UTC: the oldest stored value, None when nothing is stored
    refresh_command: str  # e.g. `agentladder metrics compute --period 2026-10`
    source: str = ""  # the evidence provider that reported it

    def describe(self, language: Language) -> str:
        """The stale input as a sentence in the reader's language."""
        return translate(language, self.what, **self.params)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able record (kept in a decision's detail)."""
        return {
            "what": self.what,
            "params": self.params,
            "changed_at": self.changed_at.astimezone(UTC).isoformat(),
            "computed_at": (
                None if self.computed_at is None else self.computed_at.astimezone(UTC).isoformat()
            ),
            "refresh_command": self.refresh_command,
            "source": self.source,
        }


def listed_names(names: Sequence[str]) -> str:
    """A few names and how many more ("a.log, b.log, c.log (+12)"), the same in any language."""
    shown = ", ".join(names[:MAX_NAMES_LISTED])
    rest = len(names) - MAX_NAMES_LISTED
    return f"{shown} (+{rest})" if rest > 0 else shown


def refresh_commands(stale: Sequence[StaleInput]) -> list[str]:
    """The distinct commands that refresh these inputs, in the order first named."""
    return list(dict.fromkeys(item.refresh_command for item in stale))


def utc_text(moment: datetime | None) -> str:
    """A timestamp for messages: UTC to the second ("2026-11-02 03:04:05 UTC")."""
    if moment is None:
        return "-"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
