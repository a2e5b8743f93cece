"""The contribution point rules: what earns how many points, the caps that keep votes and call
links from being farmed, and the optional decay of a standing balance. A YAML document,
validated, versioned by its content hash like the ladder policy."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agentladder.errors import InvalidInput
from agentladder.i18n import N_, translate
from agentladder.validation import ValidationProblem, validation_problems

if TYPE_CHECKING:
    from agentladder.config import Language

_POINTS = Field(ge=0, le=10_000)


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PublishRule(_Rule):
    """Points to the author when an item is first published, by type."""

    article: float = _POINTS
    case: float = _POINTS
    sop: float = _POINTS
    script: float = _POINTS


class EditRule(_Rule):
    """Points to the writer of a published revision of someone's item that changes at least
    `min_changed_chars` characters (smaller edits earn nothing)."""

    points: float = _POINTS
    min_changed_chars: int = Field(default=80, ge=0, le=100_000)


class VoteRule(_Rule):
    """Points to the author per helpful vote; at most `max_per_item` votes of an item count, a
    voter's votes for one author count at most `max_per_voter_per_author` times a month, and
    votes from the author's own team count at most `max_same_team_per_item` per item."""

    points: float = _POINTS
    max_per_item: int = Field(default=20, ge=0, le=100_000)
    max_per_voter_per_author: int = Field(default=3, ge=0, le=1000)
    max_same_team_per_item: int = Field(default=5, ge=0, le=100_000)


class UsageRule(_Rule):
    """Points to the author per call the item was used on, at most `max_per_item_month` calls
    of an item a month."""

    points: float = _POINTS
    max_per_item_month: int = Field(default=10, ge=0, le=100_000)


class GradeRule(_Rule):
    """Points to the author by the reviewer's quality grade (1 poor ... 5 excellent)."""

    grade_1: float = Field(default=0, ge=-10_000, le=10_000)
    grade_2: float = Field(default=0, ge=-10_000, le=10_000)
    grade_3: float = Field(default=0, ge=-10_000, le=10_000)
    grade_4: float = Field(default=0, ge=-10_000, le=10_000)
    grade_5: float = Field(default=0, ge=-10_000, le=10_000)

    def points(self, grade: int) -> float:
        """The points of a grade."""
        return float(getattr(self, f"grade_{grade}"))


class DecayRule(_Rule):
    """A point's weight in the standing balance halves every `half_life_months`."""

    half_life_months: float = Field(gt=0, le=1200)


class PointRules(_Rule):
    """Every rule; a rule set to 0 pays nothing."""

    publish: PublishRule
    edit: EditRule
    adopted: float = _POINTS
    sop: float = _POINTS
    helpful_vote: VoteRule
    used_on_call: UsageRule
    review_grade: GradeRule
    decay: DecayRule | None = None


class PointRulesError(InvalidInput):
    """Rules that do not validate: every problem with the key it concerns."""

    def __init__(self, problems: list[ValidationProblem]) -> None:
        self.details = problems
        self.problems = [
            (problem.key, translate("en", problem.message, **problem.params))
            for problem in problems
        ]
        super().__init__(
            N_("the point rules are not valid: {problems}"),
            problems="; ".join(f"{key}: {text}" for key, text in self.problems),
        )

    def translated(self, language: Language) -> str:
        """Every problem in the reader's language."""
        return translate(
            language,
            N_("the point rules are not valid: {problems}"),
            problems="; ".join(
                f"{problem.key}: {translate(language, problem.message, **problem.params)}"
                for problem in self.details
            ),
        )


def parse_rules(text: str) -> PointRules:
    """Validated rules from YAML text, or a PointRulesError naming every problem."""
    try:
        document: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise PointRulesError(
            [
                ValidationProblem(
                    (f"line {line}",),
                    N_("not valid YAML on line {line}: {detail}"),
                    {"line": line, "detail": str(getattr(exc, "problem", exc))},
                )
            ]
        ) from exc
    if not isinstance(document, dict):
        raise PointRulesError([ValidationProblem((), N_("must be a mapping (key: value)"))])
    try:
        return PointRules.model_validate(document)
    except ValidationError as exc:
        raise PointRulesError(validation_problems(exc)) from exc


def rules_hash(rules: PointRules) -> str:
    """The content hash that identifies a rules version."""
    canonical = json.dumps(rules.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


# What earned a ledger entry, as the ledger page names it.
POINT_EVENT_NAMES: dict[str, str] = {
    "publish": N_("Item published"),
    "edit": N_("Edit published"),
    "adopted": N_("Adopted as best practice"),
    "sop": N_("SOP made from your best practice"),
    "helpful_vote": N_("Helpful vote"),
    "used_on_call": N_("Used on a call"),
    "review_grade": N_("Reviewer's grade"),
    "correction": N_("Correction"),
}
# Why an entry pays what it does (0 at a cap, a correction's cause), with the detail's params.
_REASONS: dict[str, str] = {
    "trivial_edit": N_("fewer than {min_changed_chars} characters changed: no points"),
    "max_per_item": N_("the item's cap on helpful votes is reached"),
    "max_per_voter_per_author": N_("this voter's monthly cap on votes for you is reached"),
    "max_same_team_per_item": N_("the item's cap on votes from your own team is reached"),
    "own_call": N_("your own item on your own call: no points"),
    "max_per_item_month": N_("the item's monthly cap on calls is reached"),
    "duplicate": N_("taken back: the item was archived as a duplicate"),
    "vote_withdrawn": N_("taken back: the vote was withdrawn"),
}


def point_reason(detail: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """Why an entry pays what it does, as a msgid and its params (None: the rule's amount)."""
    cause = detail.get("capped") or detail.get("reason")
    if cause in _REASONS:
        return _REASONS[cause], {key: value for key, value in detail.items() if key != "capped"}
    if "grade" in detail:
        return N_("grade {grade} of 5"), {"grade": detail["grade"]}
    if "call" in detail:
        return N_("call {call}"), {"call": detail["call"]}
    return None
