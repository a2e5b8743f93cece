"""After an evaluation is submitted: the agent acknowledges it or disputes single items within
the dispute window; a team lead of the agent's team, a QA evaluator or an administrator upholds
or overturns each dispute (an overturn changes the item's answer and rescores the call at once);
QA may regrade an evaluation with a reason. Nothing else changes a submitted evaluation, and
every change is written to its audit trail.

Who decides: never the evaluated agent, and never the evaluator who scored the call: a dispute
is a second opinion. Each item is disputed once: the decision on it is final (a regrade by QA
can still correct it, with a reason in the trail)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.db import utcnow
from agentladder.errors import Conflict, Forbidden, InvalidInput, NotFound
from agentladder.org import service as org_service
from agentladder.quality import audit
from agentladder.quality import service as quality_service
from agentladder.quality.models import QaDispute, QaEvaluation
from agentladder.quality.schemas import Answer
from agentladder.quality.scoring import score_call

if TYPE_CHECKING:
    from agentladder.org.models import User

DECISIONS = ("upheld", "overturned")
# Roles that decide disputes about any agent; a team lead decides about their teams' agents.
DECIDING_ROLES = frozenset({"admin", "qa"})
REGRADING_ROLES = frozenset({"admin", "qa"})
MAX_REASON = 2000


def _submitted(session: Session, evaluation_id: int) -> QaEvaluation:
    evaluation = session.get(QaEvaluation, evaluation_id)
    if evaluation is None or evaluation.status != "submitted":
        raise NotFound("evaluation not found")
    return evaluation


def _own(session: Session, evaluation_id: int, by: User) -> QaEvaluation:
    """A submitted evaluation of the user's own calls (calibration ones are not theirs to see)."""
    evaluation = _submitted(session, evaluation_id)
    if (
        by.agent_id is None
        or evaluation.agent_id != by.agent_id
        or evaluation.kind == "calibration"
    ):
        raise NotFound("evaluation not found")
    return evaluation


def _text(value: str, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput("give a reason: {what}", what=what)
    if len(text) > MAX_REASON:
        raise InvalidInput("a reason is at most {maximum} characters", maximum=MAX_REASON)
    return text


def dispute_deadline(evaluation: QaEvaluation, settings: Settings) -> datetime | None:
    """The last moment (UTC) the agent may dispute the evaluation's items."""
    if evaluation.submitted_at is None:
        return None
    return evaluation.submitted_at + timedelta(days=settings.qa_dispute_window_days)


def acknowledge(
    *, session: Session, evaluation_id: int, by: User, now: datetime | None = None
) -> QaEvaluation:
    """The agent has read the evaluation (once: acknowledging again changes nothing)."""
    evaluation = _own(session, evaluation_id, by)
    if evaluation.acknowledged_at is None:
        evaluation.acknowledged_at = now or utcnow()
        audit.record(session=session, evaluation=evaluation, action="acknowledged", by=by, at=now)
    return evaluation


def raise_dispute(
    *,
    session: Session,
    settings: Settings,
    evaluation_id: int,
    item: str,
    reason: str,
    by: User,
    now: datetime | None = None,
) -> QaDispute:
    """The evaluated agent disputes one item, within the dispute window after submission."""
    evaluation = _own(session, evaluation_id, by)
    moment = now or utcnow()
    deadline = dispute_deadline(evaluation, settings)
    if deadline is None or moment > deadline:
        raise Conflict(
            "the dispute window closed {days} days after the evaluation was submitted",
            days=settings.qa_dispute_window_days,
        )
    spec = quality_service.form_spec(evaluation.form_version)
    if item not in {form_item.code for form_item in spec.items()}:
        raise InvalidInput("the form has no item {items}", items=item)
    text = _text(reason, "why the answer is wrong")
    if any(dispute.item_code == item for dispute in evaluation.disputes):
        raise Conflict("item {item} is already disputed", item=item)
    answers = json.loads(evaluation.answers_json)
    dispute = QaDispute(
        evaluation=evaluation,
        item_code=item,
        reason=text,
        raised_by_user_id=by.id,
        raised_at=moment,
        answer_before_json=json.dumps(answers.get(item)),
    )
    session.add(dispute)
    session.flush()
    audit.record(
        session=session,
        evaluation=evaluation,
        action="disputed",
        by=by,
        reason=text,
        items={item: [answers.get(item), answers.get(item)]},
        at=moment,
    )
    return dispute


def may_decide(session: Session, evaluation: QaEvaluation, user: User) -> bool:
    """Whether the user decides disputes about this evaluation: QA or an administrator, or a
    team lead of the agent's team; never the agent nor the call's evaluator."""
    if user.agent_id == evaluation.agent_id or user.id == evaluation.evaluator_user_id:
        return False
    if not DECIDING_ROLES.isdisjoint(user.roles):
        return True
    return "team_lead" in user.roles and leads_agent(session, user, evaluation.agent_id)


def leads_agent(session: Session, user: User, agent_id: int) -> bool:
    """Whether the user leads the agent's team."""
    led = org_service.agent_scope(user).team_ids
    if not led:
        return False
    agent = org_service.get_agent_or_raise(
        session=session, agent_id=agent_id, scope=org_service.AgentScope.everyone_scope()
    )
    return agent.team_id in led


def get_dispute(*, session: Session, dispute_id: int, by: User) -> QaDispute:
    """A dispute the user may see: about their own evaluation, one they scored, or one they
    decide (404 otherwise, the same as a dispute that does not exist)."""
    dispute = session.get(QaDispute, dispute_id)
    if dispute is None:
        raise NotFound("dispute not found")
    evaluation = dispute.evaluation
    own = evaluation.agent_id == by.agent_id and evaluation.kind != "calibration"
    if own or by.id == evaluation.evaluator_user_id or may_decide(session, evaluation, by):
        return dispute
    raise NotFound("dispute not found")


def _rescore(evaluation: QaEvaluation, answers: Mapping[str, Answer]) -> None:
    scored = score_call(quality_service.form_spec(evaluation.form_version), answers)
    if scored.overall is None:
        raise InvalidInput("no item of the form was answered")
    evaluation.answers_json = json.dumps(dict(answers), ensure_ascii=False)
    evaluation.overall = scored.overall
    evaluation.compliance = scored.compliance
    evaluation.fatal = scored.fatal
    evaluation.scores_json = scored.model_dump_json()


def decide_dispute(
    *,
    session: Session,
    dispute_id: int,
    decision: str,
    note: str,
    by: User,
    new_answer: Answer = None,
    now: datetime | None = None,
) -> QaDispute:
    """Uphold (the answer stands) or overturn (the item takes `new_answer` and the call is
    rescored at once: overall, compliance, fatal flag, section scores)."""
    dispute = session.get(QaDispute, dispute_id)
    if dispute is None:
        raise NotFound("dispute not found")
    evaluation = dispute.evaluation
    if by.agent_id == evaluation.agent_id:
        raise Forbidden("an agent does not decide a dispute about their own evaluation")
    if by.id == evaluation.evaluator_user_id:
        raise Forbidden("the evaluator of a call does not decide disputes about it")
    if not may_decide(session, evaluation, by):
        raise NotFound("dispute not found")
    if decision not in DECISIONS:
        raise InvalidInput("a dispute is upheld or overturned, not {decision}", decision=decision)
    if dispute.status != "open":
        raise Conflict("this dispute was already decided")
    text = _text(note, "the decision")
    moment = now or utcnow()
    answers: dict[str, Any] = json.loads(evaluation.answers_json)
    before = answers.get(dispute.item_code)
    scores_before = audit.scores_of(evaluation)
    if decision == "overturned":
        if new_answer == before and type(new_answer) is type(before):
            raise InvalidInput(
                "an overturned item takes another answer than {answer}", answer=before
            )
        answers[dispute.item_code] = new_answer
        _rescore(evaluation, answers)  # refuses an answer the item does not take
    dispute.status = decision
    dispute.decided_by_user_id = by.id
    dispute.decided_at = moment
    dispute.decision_note = text
    overturned = decision == "overturned"
    after = new_answer if overturned else before
    if overturned:
        dispute.answer_after_json = json.dumps(new_answer)
        evaluation.updated_at = moment
    session.flush()
    audit.record(
        session=session,
        evaluation=evaluation,
        action=decision,
        by=by,
        reason=text,
        items={dispute.item_code: [before, after]},
        scores_before=scores_before if overturned else None,
        at=moment,
    )
    return dispute


def regrade(
    *,
    session: Session,
    evaluation_id: int,
    answers: Mapping[str, Answer],
    reason: str,
    by: User,
    now: datetime | None = None,
) -> QaEvaluation:
    """QA changes answers of a submitted evaluation, with a reason; rescored at once. Items
    with an open dispute wait for its decision."""
    evaluation = _submitted(session, evaluation_id)
    if REGRADING_ROLES.isdisjoint(by.roles):
        raise NotFound("evaluation not found")
    if by.agent_id == evaluation.agent_id:
        raise Forbidden("an agent does not regrade their own evaluation")
    text = _text(reason, "why the answers change")
    current: dict[str, Any] = json.loads(evaluation.answers_json)
    changed = {
        code: [current.get(code), answer]
        for code, answer in answers.items()
        if current.get(code) != answer or type(current.get(code)) is not type(answer)
    }
    if not changed:
        raise InvalidInput("the regrade changes no answer")
    disputed = sorted(
        d.item_code for d in evaluation.disputes if d.status == "open" and d.item_code in changed
    )
    if disputed:
        raise Conflict("decide the open dispute first: {items}", items=", ".join(disputed))
    moment = now or utcnow()
    scores_before = audit.scores_of(evaluation)
    _rescore(evaluation, {**current, **answers})
    evaluation.updated_at = moment
    session.flush()
    audit.record(
        session=session,
        evaluation=evaluation,
        action="regraded",
        by=by,
        reason=text,
        items=changed,
        scores_before=scores_before,
        at=moment,
    )
    return evaluation


def open_disputes(*, session: Session, by: User, status: str = "open") -> list[QaDispute]:
    """The disputes the user decides (a team lead: their teams' agents), oldest first;
    `status` "all" lists decided ones too."""
    query = select(QaDispute).join(QaEvaluation).order_by(QaDispute.raised_at, QaDispute.id)
    if status != "all":
        query = query.where(QaDispute.status == status)
    return [d for d in session.scalars(query) if may_decide(session, d.evaluation, by)]
