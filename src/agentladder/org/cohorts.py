"""An agent's primary skill group and the cohort the ladder compares the agent with.

Rules (the service keeps the stored rows to them; docs/org.md explains them to managers):
* the primary group is always one of the agent's skill groups: setting a primary adds it to
  the groups, and removing it from the groups re-picks it;
* re-picking, or an agent without a chosen primary: the only group when the agent has exactly
  one, else none (with several groups nobody but a person can say which one is theirs);
* the cohort (`LevelStanding.skill_group`, the `skill_group` of percentile scoring and
  shrinkage) is the primary group; without one, the first of the agent's groups by code; none
  without groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar


class _Group(Protocol):
    @property
    def code(self) -> str: ...


G = TypeVar("G", bound=_Group)


def settled_primary(groups: Sequence[G], primary: G | None) -> G | None:
    """The primary group to store for these groups: the wanted one if it is among them, else
    the only group, else none."""
    codes = {group.code for group in groups}
    if primary is not None and primary.code in codes:
        return primary
    return groups[0] if len(groups) == 1 else None


def cohort_code(group_codes: Sequence[str], primary_code: str | None) -> str | None:
    """The skill group the ladder compares the agent with: the primary; without one, the first
    group by code; None for an agent without groups."""
    if primary_code is not None:
        return primary_code
    return min(group_codes) if group_codes else None
