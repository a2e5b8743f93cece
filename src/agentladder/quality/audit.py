"""The audit trail of evaluations: who did what to one, when, what changed and why. Entries are
only ever added."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.db import utcnow
from agentladder.org.accounts import service as accounts_service
from agentladder.quality.models import QaAuditEntry, QaEvaluation

if TYPE_CHECKING:
    from agentladder.org.models import User


def scores_of(evaluation: QaEvaluation) -> dict[str, Any]:
    """The scores an audit entry records before and after a change."""
    return {
        "overall": evaluation.overall,
        "compliance": evaluation.compliance,
        "fatal": evaluation.fatal,
    }


def record(
    *,
    session: Session,
    evaluation: QaEvaluation,
    action: str,
    by: User | None,
    reason: str = "",
    items: dict[str, list[Any]] | None = None,
    scores_before: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> QaAuditEntry:
    """Add one entry: `items` as {item code: [before, after]}, the scores before (when given)
    and after the change."""
    changes: dict[str, Any] = {}
    if items:
        changes["items"] = items
    if scores_before is not None:
        changes["scores"] = {"before": scores_before, "after": scores_of(evaluation)}
    entry = QaAuditEntry(
        evaluation_id=evaluation.id,
        at=at or utcnow(),
        by_user_id=by.id if by else None,
        action=action,
        changes_json=json.dumps(changes, ensure_ascii=False),
        reason=reason,
    )
    session.add(entry)
    session.flush()
    return entry


def record_submitted(
    *, session: Session, evaluations: list[QaEvaluation], at: datetime | None = None
) -> None:
    """A "submitted" entry for each of many evaluations stored at once, by its evaluator."""
    moment = at or utcnow()
    session.add_all(
        QaAuditEntry(
            evaluation_id=evaluation.id,
            at=moment,
            by_user_id=evaluation.evaluator_user_id,
            action="submitted",
            changes_json="{}",
            reason="",
        )
        for evaluation in evaluations
    )
    session.flush()


@dataclass(frozen=True)
class AuditLine:
    """An audit entry as pages show it."""

    at: datetime
    by: str | None  # the person's name; None for the system (imports, the CLI)
    by_user_id: int | None
    action: str
    items: dict[str, list[Any]]
    scores: dict[str, dict[str, Any]] | None
    reason: str


def trail(*, session: Session, evaluation_id: int) -> list[AuditLine]:
    """An evaluation's audit trail, oldest first."""
    names = accounts_service.user_names(session=session)
    entries = session.scalars(
        select(QaAuditEntry)
        .where(QaAuditEntry.evaluation_id == evaluation_id)
        .order_by(QaAuditEntry.at, QaAuditEntry.id)
    )
    lines = []
    for entry in entries:
        changes = json.loads(entry.changes_json or "{}")
        lines.append(
            AuditLine(
                at=entry.at,
                by=names.get(entry.by_user_id) if entry.by_user_id else None,
                by_user_id=entry.by_user_id,
                action=entry.action,
                items=changes.get("items", {}),
                scores=changes.get("scores"),
                reason=entry.reason,
            )
        )
    return lines
