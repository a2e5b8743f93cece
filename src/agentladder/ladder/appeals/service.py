"""An agent appeals their own decision; a manager answers. The history keeps both."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from agentladder.config import DEFAULT_APPEAL_WINDOW_DAYS
from agentladder.db import utcnow
from agentladder.errors import Conflict, Forbidden, InvalidInput, NotFound
from agentladder.ladder.decisions import service as decisions_service
from agentladder.ladder.models import Appeal

if TYPE_CHECKING:
    from agentladder.org.models import User


def appeal_deadline(decided_at: datetime, window_days: int) -> datetime:
    """The last moment a decision made (or last changed) at `decided_at` may be appealed."""
    return decided_at + timedelta(days=window_days)


def create_appeal(
    *,
    session: Session,
    decision_id: int,
    agent_id: int,
    text: str,
    by: User | None,
    window_days: int = DEFAULT_APPEAL_WINDOW_DAYS,
    zone: str = "UTC",
) -> Appeal:
    """An agent appeals their own decision (one open appeal at a time), within `window_days`
    of the decision; the refusal names the day the window closed in the centre's `zone`."""
    row = decisions_service.get_decision(session=session, decision_id=decision_id)
    if row.agent_id != agent_id:
        raise Forbidden("an agent can only appeal their own decisions")
    if not text.strip():
        raise InvalidInput("an appeal needs a text")
    deadline = appeal_deadline(row.decided_at, window_days)
    if utcnow() > deadline:
        closed = deadline.astimezone(ZoneInfo(zone)).date().isoformat()
        raise Conflict("appeals against this decision closed on {day}", day=closed)
    if any(appeal.status == "open" for appeal in row.appeals):
        raise Conflict("this decision already has an open appeal")
    appeal = Appeal(text=text.strip(), created_by_user_id=by.id if by else None)
    row.appeals.append(appeal)
    session.flush()
    return appeal


def resolve_appeal(
    *, session: Session, appeal_id: int, upheld: bool, response: str, by: User | None
) -> Appeal:
    """A manager answers an appeal; the history keeps both. Upholding does not move the level
    by itself: the manager overrides the decision for that."""
    appeal = session.get(Appeal, appeal_id)
    if appeal is None:
        raise NotFound("appeal not found")
    if appeal.status != "open":
        raise Conflict("this appeal is already resolved")
    if not response.strip():
        raise InvalidInput("a resolution needs a response")
    appeal.status = "upheld" if upheld else "denied"
    appeal.response = response.strip()
    appeal.resolved_by_user_id = by.id if by else None
    appeal.resolved_at = utcnow()
    session.flush()
    return appeal
