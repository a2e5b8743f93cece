"""A decision as everyone reads it: who it is about, what was decided, and why, in the
reader's language."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agentladder.config import Language
from agentladder.formatting import format_number
from agentladder.i18n import N_, translate, translate_count
from agentladder.ladder import labels
from agentladder.ladder.decisions import rules
from agentladder.ladder.decisions.scoring import PeriodScores
from agentladder.ladder.models import LadderDecision
from agentladder.org import service as org_service
from agentladder.org.levels import service as levels_service


def _components(card: PeriodScores) -> list[dict[str, Any]]:
    return [
        {
            "component": component.name,
            "weight": component.weight,
            "score": None if component.score is None else round(component.score, 2),
            "renormalised": component.renormalised,
            "metrics": [
                {
                    "metric": metric.metric_id,
                    "weight": metric.weight,
                    "raw": metric.raw,
                    "sample_size": metric.sample_size,
                    "shrunk": None if metric.shrunk is None else round(metric.shrunk, 4),
                    "points": None if metric.points is None else round(metric.points, 2),
                    "points_se": None if metric.points_se is None else round(metric.points_se, 2),
                    "source": metric.source,
                    **({"adjustment": metric.adjustment} if metric.adjustment else {}),
                    **({"pooled": metric.pooled} if metric.pooled else {}),
                }
                for metric in component.metrics
            ],
        }
        for component in card.components
    ]


def detail_of(card: PeriodScores, outcome: rules.Outcome) -> dict[str, Any]:
    return {
        "components": _components(card),
        "composite_se": round(card.composite_se, 2),
        **({"pooled": card.pooled} if card.pooled else {}),
        "gates": [gate.as_dict() for gate in outcome.gates],
        "reasons": [reason.as_dict() for reason in outcome.reasons],
        "gaps": [gap.as_dict() for gap in outcome.gaps],
        "review": outcome.review,
    }


# --- decisions as everyone reads them ---------------------------------------------------


@dataclass
class DecisionView:
    """A decision with who it is about and everything that explains it."""

    agent_id: int
    employee_no: str
    name: str
    team_code: str | None
    period: str
    from_level: str
    to_level: str
    decision: str
    composite: float | None
    detail: dict[str, Any]
    policy_hash: str
    status: str
    decision_id: int | None = None
    overrides: list[dict[str, Any]] = field(default_factory=list)
    appeals: list[dict[str, Any]] = field(default_factory=list)
    qualify_streak: int = 0  # periods in a row qualifying for the next level, this one included
    floor_streak: int = 0  # periods in a row below the current level's floor
    decided_at: datetime | None = None  # when the stored decision was made or last changed

    @property
    def below_floor(self) -> bool:
        """Whether the agent was below the current level's floor this period (at risk)."""
        return self.floor_streak > 0 and self.decision != "demote"

    @property
    def effective_level(self) -> str:
        """The level the decision leaves the agent at: the latest override, else the rule's
        outcome unless a manager rejected it."""
        if self.overrides:
            return str(self.overrides[-1]["to_level"])
        return self.from_level if self.status == "rejected" else self.to_level

    def explanation(self, language: Language) -> list[str]:
        """The decision's reasons in the reader's language."""
        return [reason_text(reason, language) for reason in self.detail.get("reasons", [])]

    def headline(self, language: Language) -> str:
        """The decision, the move and its status in one line in the reader's language."""
        return translate(
            language,
            N_("{decision}: {from_level} → {to_level} ({status})"),
            decision=labels.name(labels.DECISION_NAMES, self.decision, language),
            from_level=levels_service.level_name(self.from_level, language),
            to_level=levels_service.level_name(self.to_level, language),
            status=labels.name(labels.STATUS_NAMES, self.status, language),
        )

    def gate_lines(self, language: Language) -> list[tuple[bool, str]]:
        """Each gate as (passed, "gate (level): required x, actual y") in the reader's language."""
        lines = []
        for gate in self.detail.get("gates", []):
            params = {
                "gate": labels.gate_name(gate["gate"], language),
                "required": labels.gate_value_text(gate["required"], language),
                "actual": labels.gate_value_text(gate["actual"], language),
            }
            if gate.get("level"):
                params["level"] = levels_service.level_name(gate["level"], language)
                message = N_("{gate} ({level}): required {required}, actual {actual}")
            else:
                message = N_("{gate}: required {required}, actual {actual}")
            lines.append((bool(gate["passed"]), translate(language, message, **params)))
        return lines

    def gaps(self, language: Language) -> list[str]:
        """What the agent still needs for the next level, in the reader's language."""
        return [reason_text(gap, language) for gap in self.detail.get("gaps", [])]

    def as_json(self) -> dict[str, Any]:
        """The shape `ladder run --format json` prints."""
        return {
            "agent": self.employee_no,
            "name": self.name,
            "period": self.period,
            "from_level": self.from_level,
            "to_level": self.to_level,
            "decision": self.decision,
            "status": self.status,
            "composite": None if self.composite is None else round(self.composite, 2),
            "components": self.detail.get("components", []),
            "gates": [
                {k: gate[k] for k in ("gate", "level", "required", "actual", "passed")}
                for gate in self.detail.get("gates", [])
            ],
            "explanation": {"zh_Hans": self.explanation("zh_Hans"), "en": self.explanation("en")},
            "gaps": {"zh_Hans": self.gaps("zh_Hans"), "en": self.gaps("en")},
            "overrides": self.overrides,
            "appeals": self.appeals,
            "policy_hash": self.policy_hash,
            "stale_inputs": self.detail.get("stale_inputs", []),
        }


def decision_name(kind: str, language: Language) -> str:
    """A decision kind (promote, hold, ...) by its name in the reader's language."""
    return labels.name(labels.DECISION_NAMES, kind, language)


def status_name(status: str, language: Language) -> str:
    """A decision's status (pending, final, ...) by its name in the reader's language."""
    return labels.name(labels.STATUS_NAMES, status, language)


def _param_text(key: str, value: Any, language: Language) -> Any:
    # Level and metric ids become their names in the reader's language.
    if key == "level" and isinstance(value, str):
        return levels_service.level_name(value, language)
    if key == "metric" and isinstance(value, str):
        return labels.metric_name(value, language)
    if key == "metrics" and isinstance(value, (str, list)):
        return labels.metric_names_list(value, language)
    if key == "failed" and isinstance(value, (str, list)):
        return labels.gate_names_list(value, language)
    if key == "periods" and isinstance(value, list):
        return translate(language, labels.LIST_SEPARATOR).join(value)
    if key in ("certification", "certifications") and isinstance(value, (str, list)):
        return labels.certification_list(value, language)
    return value


def pooled_text(pooled: dict[str, Any], language: Language) -> str:
    """How a metric was pooled over periods, in one line ("pooled over 2026-05 ×1 (5),
    2026-04 ×0.5 (4): 9 in all")."""
    periods = translate(language, labels.LIST_SEPARATOR).join(
        translate(
            language,
            N_("{period} ×{weight} ({sample})"),
            period=entry["period"],
            weight=format_number(entry["weight"], "plain", language),
            sample=format_number(entry["sample"], "int", language),
        )
        for entry in pooled.get("periods", [])
    )
    return translate(
        language,
        N_("pooled over {periods}: {sample} in all"),
        periods=periods,
        sample=format_number(pooled.get("sample", 0), "int", language),
    )


def reason_text(reason: dict[str, Any], language: Language) -> str:
    """One stored reason as a sentence in the reader's language (level ids become names)."""
    params = {
        key: _param_text(key, value, language) for key, value in reason.get("params", {}).items()
    }
    message: str = reason["message"]
    plural = reason.get("plural")
    if plural:
        return translate_count(language, (message, plural), int(params["count"]), **params)
    return translate(language, message, **params)


def view_of(
    person: org_service.LevelStanding,
    period: str,
    outcome: rules.Outcome,
    card: PeriodScores,
    content_hash: str,
    status: str,
) -> DecisionView:
    return DecisionView(
        agent_id=person.agent_id,
        employee_no=person.employee_no,
        name=person.name,
        team_code=person.team_code,
        period=period,
        from_level=outcome.from_level,
        to_level=outcome.to_level,
        decision=outcome.decision,
        composite=outcome.composite,
        detail=detail_of(card, outcome),
        policy_hash=content_hash,
        status=status,
        qualify_streak=outcome.qualify_streak,
        floor_streak=outcome.floor_streak,
    )


def stored_view(row: LadderDecision, person: org_service.AgentRead) -> DecisionView:
    return DecisionView(
        agent_id=row.agent_id,
        employee_no=person.employee_no,
        name=person.name,
        team_code=person.team_code,
        period=row.period,
        from_level=row.from_level,
        to_level=row.to_level,
        decision=row.decision,
        composite=row.composite,
        detail=json.loads(row.detail),
        policy_hash=row.policy_hash,
        status=row.status,
        decision_id=row.id,
        qualify_streak=row.qualify_streak,
        floor_streak=row.floor_streak,
        decided_at=row.decided_at,
        overrides=[
            {
                "decision": o.decision,
                "to_level": o.to_level,
                "reason": o.reason,
                "at": o.created_at.isoformat(),
                "by_user_id": o.created_by_user_id,
            }
            for o in row.overrides
        ],
        appeals=[
            {
                "id": a.id,
                "text": a.text,
                "status": a.status,
                "response": a.response,
                "at": a.created_at.isoformat(),
                "resolved_at": a.resolved_at.isoformat() if a.resolved_at else None,
            }
            for a in row.appeals
        ],
    )
