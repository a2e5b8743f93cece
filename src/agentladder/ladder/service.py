"""Ladder services other domains may call."""

from __future__ import annotations

from agentladder.errors import InvalidInput
from agentladder.org.schemas import LEVELS, TIER_NAMES, Level

__all__ = ["LEVELS", "TIER_NAMES", "Level", "first_level", "get_level", "level_rank", "parse_level"]

_BY_ID = {level.id: level for level in LEVELS}


def first_level() -> Level:
    """The level every new agent starts at."""
    return LEVELS[0]


def get_level(level_id: str) -> Level:
    """The level with this id, or InvalidInput."""
    try:
        return _BY_ID[level_id]
    except KeyError:
        raise InvalidInput("unknown level {level}", level=level_id) from None


def level_rank(level_id: str) -> int:
    """Position on the ladder, 0 at the bottom."""
    return LEVELS.index(get_level(level_id))


def parse_level(text: str) -> Level:
    """A level from its id, Chinese or English name, or 1-based rank, as people write it."""
    wanted = text.strip()
    folded = wanted.casefold().replace(" ", "").replace("_", "")
    for index, level in enumerate(LEVELS, start=1):
        names = {level.id, level.en, level.zh, str(index)}
        if wanted in names or folded in {
            n.casefold().replace(" ", "").replace("_", "") for n in names
        }:
            return level
    raise InvalidInput("unknown level {level}", level=wanted)


# The ladder's evaluation lives in its own modules; other domains and the views reach it here.
from agentladder.ladder import labels  # noqa: E402
from agentladder.ladder.insights import (  # noqa: E402
    FairnessRow,
    GateProgress,
    Scorecard,
    TeamDashboard,
    fairness_table,
    latest_period,
    progress_toward,
    promotion_list,
    scorecard,
    team_dashboard,
)
from agentladder.ladder.runs import (  # noqa: E402
    BacktestReport,
    DecisionView,
    LoadedPolicy,
    RunReport,
    apply_policy,
    backtest,
    create_appeal,
    current_policy,
    decision_for,
    decision_periods,
    decision_views,
    get_decision,
    load_policy_text,
    override_decision,
    policy_diff,
    policy_versions,
    render,
    resolve_appeal,
    review_decision,
    run_period,
)

__all__ += [
    "BacktestReport",
    "DecisionView",
    "FairnessRow",
    "GateProgress",
    "LoadedPolicy",
    "RunReport",
    "Scorecard",
    "TeamDashboard",
    "apply_policy",
    "backtest",
    "create_appeal",
    "current_policy",
    "decision_for",
    "decision_periods",
    "decision_views",
    "fairness_table",
    "get_decision",
    "labels",
    "latest_period",
    "load_policy_text",
    "override_decision",
    "policy_diff",
    "policy_versions",
    "progress_toward",
    "promotion_list",
    "render",
    "resolve_appeal",
    "review_decision",
    "run_period",
    "scorecard",
    "team_dashboard",
]
