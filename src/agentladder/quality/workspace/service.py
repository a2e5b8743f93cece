"""The evaluator's workspace and the pages around an evaluation: the calls assigned to an
evaluator, an evaluation started from one, its draft kept as it is typed, who may see an
evaluation and its recording, and everything its page shows (call facts, recording, transcript,
form, disputes, audit trail).

Who sees an evaluation (and its call's recording): its evaluator, the evaluator the call is
assigned to, QA and administrators, the evaluated agent (once submitted) and a team lead of the
agent's team. A draft only its evaluator. Anyone else gets 404, as if it did not exist."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.errors import DomainError, InvalidInput, NotFound
from agentladder.org import service as org_service
from agentladder.org.accounts import service as accounts_service
from agentladder.quality import audit, calls
from agentladder.quality import service as quality_service
from agentladder.quality.autoqa import service as autoqa_service
from agentladder.quality.calibration import service as calibration_service
from agentladder.quality.disputes import service as disputes
from agentladder.quality.models import QaDispute, QaEvaluation, QaSampledCall
from agentladder.quality.recordings import AUDIO_TYPES
from agentladder.quality.schemas import Answer, FormItem, FormSpec
from agentladder.quality.workspace.transcript import (
    RuleLine,
    TranscriptView,
    TurnText,
    transcript_view,
)

if TYPE_CHECKING:
    from agentladder.org.models import User

# Kinds an evaluator chooses in the workspace (calibration ones belong to a session).
WORKSPACE_KINDS = ("official", "coaching")
SEE_ALL_ROLES = frozenset({"admin", "qa"})
MAX_COMMENT = 2000


# --- answers as forms carry them -----------------------------------------------------------


def parse_answer(item: FormItem, text: str | None) -> Answer:
    """A form field's value as the item's answer: "yes"/"no" for yes/no items, 0..max for
    scales, "" or "na" for not applicable (refused for an item that must apply)."""
    value = (text or "").strip().lower()
    if value in {"", "na", "n/a"}:
        if not item.allows_na:
            raise InvalidInput("item {item} cannot be not applicable", item=item.code)
        return None
    if item.kind == "yes_no":
        if value in {"yes", "y", "true", "1"}:
            return True
        if value in {"no", "n", "false", "0"}:
            return False
        raise InvalidInput("item {item} is answered yes or no", item=item.code)
    if not value.isdigit() or int(value) > (item.scale_max or 0):
        raise InvalidInput(
            "item {item} takes 0 to {maximum}", item=item.code, maximum=item.scale_max
        )
    return int(value)


def answer_text(answer: Any) -> str:
    """An answer as a form field's value (the inverse of `parse_answer`)."""
    if answer is None:
        return "na"
    if isinstance(answer, bool):
        return "yes" if answer else "no"
    return str(answer)


def parse_answers(
    spec: FormSpec, fields: Mapping[str, str]
) -> tuple[dict[str, Answer], dict[str, str]]:
    """Answers and comments from form fields `answer_<code>` and `comment_<code>`; an item
    left unanswered is not applicable."""
    answers: dict[str, Answer] = {}
    comments: dict[str, str] = {}
    for item in spec.items():
        raw = fields.get(f"answer_{item.code}")
        if raw is not None and raw.strip():
            answers[item.code] = parse_answer(item, raw)
        comment = (fields.get(f"comment_{item.code}") or "").strip()
        if len(comment) > MAX_COMMENT:
            raise InvalidInput("a comment is at most {maximum} characters", maximum=MAX_COMMENT)
        if comment:
            comments[item.code] = comment
    return answers, comments


# --- who may see what ----------------------------------------------------------------------


def _assigned_to(session: Session, evaluation: QaEvaluation, user: User) -> bool:
    return (
        session.scalar(
            select(QaSampledCall.id)
            .where(
                QaSampledCall.evaluator_user_id == user.id,
                or_(
                    QaSampledCall.evaluation_id == evaluation.id,
                    QaSampledCall.call_id == evaluation.call_id,
                ),
            )
            .limit(1)
        )
        is not None
    )


def may_see(session: Session, evaluation: QaEvaluation, user: User) -> bool:
    """Whether the user may see the evaluation and its call's recording."""
    if evaluation.evaluator_user_id == user.id:
        return True
    if evaluation.status != "submitted":
        return False
    if evaluation.kind == "calibration" and not calibration_service.may_see_evaluation(
        session=session, evaluation=evaluation, viewer=user
    ):
        return False  # blind until the viewer scored the call or the session closed
    if not SEE_ALL_ROLES.isdisjoint(user.roles) or _assigned_to(session, evaluation, user):
        return True
    if user.agent_id == evaluation.agent_id:
        return evaluation.kind != "calibration"
    return "team_lead" in user.roles and disputes.leads_agent(session, user, evaluation.agent_id)


def evaluation_for(*, session: Session, evaluation_id: int, user: User) -> QaEvaluation:
    """The evaluation when the user may see it; NotFound otherwise."""
    evaluation = session.get(QaEvaluation, evaluation_id)
    if evaluation is None or not may_see(session, evaluation, user):
        raise NotFound("evaluation not found")
    return evaluation


def _sampled_call(session: Session, evaluation: QaEvaluation) -> QaSampledCall | None:
    return session.scalar(
        select(QaSampledCall).where(QaSampledCall.evaluation_id == evaluation.id).limit(1)
    )


def is_blind(session: Session, evaluation: QaEvaluation, user: User) -> bool:
    """Whether the agent's name is hidden from this user: the evaluator of a call drawn in a
    blind sample."""
    if user.id != evaluation.evaluator_user_id:
        return False
    sampled = _sampled_call(session, evaluation)
    return sampled is not None and sampled.sample.blind


# --- the evaluator's calls -----------------------------------------------------------------


@dataclass(frozen=True)
class AssignedCall:
    """A call assigned to the evaluator, not yet evaluated (or with a draft)."""

    sampled_id: int
    call_id: str
    call_at: datetime
    queue: str
    reason: str
    period: str
    agent: str | None  # None in a blind sample
    evaluation_id: int | None


@dataclass(frozen=True)
class DraftRow:
    """One of the evaluator's evaluations still in draft."""

    evaluation_id: int
    call_id: str
    call_at: datetime
    kind: str
    agent: str | None
    updated_at: datetime


def _agent_names(session: Session, agent_ids: set[int]) -> dict[int, str]:
    return {
        agent.id: f"{agent.name} ({agent.employee_no})"
        for agent in org_service.agents_by_ids(session=session, agent_ids=agent_ids)
    }


def my_calls(*, session: Session, user: User) -> tuple[list[AssignedCall], list[DraftRow]]:
    """The calls assigned to the user still to score, and the user's drafts."""
    sampled = list(
        session.scalars(
            select(QaSampledCall)
            .outerjoin(QaEvaluation, QaEvaluation.id == QaSampledCall.evaluation_id)
            .where(
                QaSampledCall.evaluator_user_id == user.id,
                or_(QaSampledCall.evaluation_id.is_(None), QaEvaluation.status == "draft"),
            )
            .order_by(QaSampledCall.call_at, QaSampledCall.id)
        )
    )
    drafts = list(
        session.scalars(
            select(QaEvaluation)
            .where(QaEvaluation.evaluator_user_id == user.id, QaEvaluation.status == "draft")
            .order_by(QaEvaluation.updated_at.desc())
        )
    )
    names = _agent_names(session, {s.agent_id for s in sampled} | {d.agent_id for d in drafts})
    blind_drafts = {s.evaluation_id for s in sampled if s.sample.blind}
    assigned = [
        AssignedCall(
            sampled_id=s.id,
            call_id=s.call_id,
            call_at=s.call_at,
            queue=s.queue,
            reason=s.reason,
            period=s.sample.period_label,
            agent=None if s.sample.blind else names.get(s.agent_id),
            evaluation_id=s.evaluation_id,
        )
        for s in sampled
    ]
    return assigned, [
        DraftRow(
            evaluation_id=d.id,
            call_id=d.call_id,
            call_at=d.call_at,
            kind=d.kind,
            agent=None if d.id in blind_drafts else names.get(d.agent_id),
            updated_at=d.updated_at,
        )
        for d in drafts
    ]


def start_from_assignment(
    *, session: Session, sampled_id: int, by: User, kind: str = "official"
) -> QaEvaluation:
    """The evaluation of a call assigned to the user (or to nobody yet: then it becomes theirs):
    its draft when one was started, else a new draft on the sample's form (the latest default
    form when the sample names none)."""
    sampled = session.get(QaSampledCall, sampled_id)
    if sampled is None or sampled.evaluator_user_id not in {None, by.id}:
        raise NotFound("call not found")
    sampled.evaluator_user_id = by.id  # a call assigned to nobody is the first taker's
    if sampled.evaluation_id is not None:
        existing = session.get(QaEvaluation, sampled.evaluation_id)
        if existing is not None:
            return existing
    if kind not in WORKSPACE_KINDS:
        raise InvalidInput("unknown evaluation kind {kind}", kind=kind)
    version_id = sampled.sample.form_version_id
    if version_id is None:
        version = quality_service.current_form_version(
            session=session, code=quality_service.default_form().code
        ) or quality_service.save_form(session=session, spec=quality_service.default_form())
        version_id = version.id
    evaluation = quality_service.start_evaluation(
        session=session,
        form_version_id=version_id,
        agent_id=sampled.agent_id,
        evaluator=by,
        call_id=sampled.call_id,
        call_at=sampled.call_at,
        kind=kind,
    )
    sampled.evaluation_id = evaluation.id
    session.flush()
    prefill_suggestions(session=session, evaluation=evaluation)
    return evaluation


def prefill_suggestions(*, session: Session, evaluation: QaEvaluation) -> dict[str, Any]:
    """Answer a draft's unanswered yes/no items that rules map to as the call's verdicts
    suggest, and keep each suggestion; the ones added. An item suggested once is never
    suggested again, so the evaluator's change stands. Official and coaching drafts only: a
    calibration is each evaluator's own judgement."""
    if evaluation.status != "draft" or evaluation.kind not in WORKSPACE_KINDS:
        return {}
    judged = autoqa_service.judged_call(session=session, call_id=evaluation.call_id)
    return _prefill(session, evaluation, judged)


def _prefill(
    session: Session, evaluation: QaEvaluation, judged: autoqa_service.JudgedCall | None
) -> dict[str, Any]:
    if evaluation.status != "draft" or evaluation.kind not in WORKSPACE_KINDS:
        return {}
    if judged is None or judged.rules is None:
        return {}
    spec = quality_service.form_spec(evaluation.form_version)
    answers = json.loads(evaluation.answers_json)
    suggested = json.loads(evaluation.suggestions_json or "{}")
    added = {
        code: suggestion
        for code, suggestion in autoqa_service.suggested_answers(
            judged.rules, judged.verdicts, form=spec
        ).items()
        if code not in answers and code not in suggested
    }
    if not added:
        return {}
    quality_service.save_draft(
        session=session,
        evaluation_id=evaluation.id,
        answers={**answers, **{code: s["answer"] for code, s in added.items()}},
        comments=json.loads(evaluation.comments_json),
    )
    evaluation.suggestions_json = json.dumps({**suggested, **added}, ensure_ascii=False)
    session.flush()
    return added


def save_workspace(
    *,
    session: Session,
    evaluation_id: int,
    fields: Mapping[str, str],
    by: User,
) -> QaEvaluation:
    """Keep the draft as the form stands (answers, comments, official or coaching)."""
    evaluation = session.get(QaEvaluation, evaluation_id)
    if evaluation is None or evaluation.evaluator_user_id != by.id:
        raise NotFound("evaluation not found")
    answers, comments = parse_answers(quality_service.form_spec(evaluation.form_version), fields)
    kind = fields.get("kind") or evaluation.kind
    if kind not in WORKSPACE_KINDS and kind != evaluation.kind:
        raise InvalidInput("unknown evaluation kind {kind}", kind=kind)
    quality_service.save_draft(
        session=session, evaluation_id=evaluation_id, answers=answers, comments=comments, by=by
    )
    evaluation.kind = kind
    session.flush()
    return evaluation


# --- what an evaluation's page shows -------------------------------------------------------


@dataclass(frozen=True)
class RecordingState:
    """Whether the call's recording can be played, or why not (a msgid with params)."""

    available: bool
    problem: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


def recording_file(
    *, session: Session, settings: Settings, evaluation_id: int, user: User
) -> tuple[Path, str]:
    """The recording of an evaluation's call and its media type, for a user who may see it."""
    evaluation = evaluation_for(session=session, evaluation_id=evaluation_id, user=user)
    agent_identity = queue = None
    template = settings.recording_path_template
    if "{agent" in template or "{queue" in template:
        facts = calls.call_facts(
            session=session,
            settings=settings,
            call_id=evaluation.call_id,
            agent_id=evaluation.agent_id,
        )
        if facts is not None:
            agent_identity, queue = facts.agent_identity, facts.queue
    path = calls.call_recording(
        settings=settings,
        call_id=evaluation.call_id,
        started_at=evaluation.call_at,
        agent_identity=agent_identity,
        queue=queue,
    )
    return path, AUDIO_TYPES[path.suffix.lower()]


def _recording_state(
    session: Session, settings: Settings, evaluation: QaEvaluation, user: User
) -> RecordingState:
    try:
        recording_file(session=session, settings=settings, evaluation_id=evaluation.id, user=user)
    except DomainError as exc:
        return RecordingState(False, exc.message, exc.params)
    return RecordingState(True)


@dataclass(frozen=True)
class ItemRow:
    """One item of the form with its answer, comment and dispute on this evaluation."""

    item: FormItem
    section_code: str
    answer: Any
    answer_text: str
    comment: str
    dispute: QaDispute | None
    suggestion: ItemSuggestion | None = None


@dataclass(frozen=True)
class ItemSuggestion:
    """What automatic QA suggested for an item, the rules that decided it (their verdicts and
    evidence as the page shows them) and, once submitted, whether the evaluator changed it."""

    answer: bool
    rules: list[RuleLine]
    changed: bool | None


@dataclass(frozen=True)
class EvaluationPage:
    """Everything an evaluation's page shows."""

    evaluation: QaEvaluation
    spec: FormSpec
    items: list[ItemRow]
    sections: dict[str, float]
    agent_name: str | None  # None: blind
    evaluator_name: str | None  # None: hidden from the agent by the setting
    facts: calls.CallFacts | None
    recording: RecordingState
    transcript: TranscriptView | None
    transcript_problem: InvalidInput | None  # a transcript file that cannot be read
    trail: list[audit.AuditLine]
    is_evaluator: bool
    is_agent: bool
    editable: bool
    can_decide: bool
    can_regrade: bool
    dispute_deadline: datetime | None
    can_dispute: bool


def evaluation_page(
    *, session: Session, settings: Settings, evaluation_id: int, user: User, now: datetime
) -> EvaluationPage:
    """An evaluation as the user may see it (404 when they may not)."""
    evaluation = evaluation_for(session=session, evaluation_id=evaluation_id, user=user)
    is_agent = user.agent_id == evaluation.agent_id
    is_evaluator = user.id == evaluation.evaluator_user_id
    judged = autoqa_service.judged_call(session=session, call_id=evaluation.call_id)
    if is_evaluator:  # a transcript judged after the draft began suggests its answers now
        _prefill(session, evaluation, judged)
    spec = quality_service.form_spec(evaluation.form_version)
    blind = is_blind(session, evaluation, user)
    facts = calls.call_facts(
        session=session, settings=settings, call_id=evaluation.call_id, agent_id=evaluation.agent_id
    )
    transcript, transcript_problem = _transcript(
        session, settings, evaluation, judged, facts=facts, blind=blind
    )
    answers = json.loads(evaluation.answers_json)
    comments = json.loads(evaluation.comments_json)
    suggestions = json.loads(evaluation.suggestions_json or "{}")
    by_item = {d.item_code: d for d in evaluation.disputes}
    items = [
        ItemRow(
            item=item,
            section_code=section.code,
            answer=answers.get(item.code),
            answer_text=answer_text(answers.get(item.code)) if item.code in answers else "",
            comment=comments.get(item.code, ""),
            dispute=by_item.get(item.code),
            suggestion=_item_suggestion(suggestions.get(item.code), transcript),
        )
        for section in spec.sections
        for item in section.items
    ]
    agent_name = (
        None if blind else _agent_names(session, {evaluation.agent_id}).get(evaluation.agent_id)
    )
    evaluator_name = None
    trail = audit.trail(session=session, evaluation_id=evaluation.id)
    if evaluation.evaluator_user_id is not None:
        evaluator = accounts_service.get_user_or_raise(
            session=session, user_id=evaluation.evaluator_user_id
        )
        if settings.qa_show_evaluator or not is_agent or is_evaluator:
            evaluator_name = evaluator.display_name or evaluator.username
        else:  # "" in the trail: the evaluator, unnamed
            trail = [
                replace(line, by="") if line.by_user_id == evaluator.id else line for line in trail
            ]
    deadline = disputes.dispute_deadline(evaluation, settings)
    submitted = evaluation.status == "submitted"
    scores = json.loads(evaluation.scores_json or "{}")
    return EvaluationPage(
        evaluation=evaluation,
        spec=spec,
        items=items,
        sections=scores.get("sections", {}),
        agent_name=agent_name,
        evaluator_name=evaluator_name,
        facts=facts,
        recording=_recording_state(session, settings, evaluation, user),
        transcript=transcript,
        transcript_problem=transcript_problem,
        trail=trail,
        is_evaluator=is_evaluator,
        is_agent=is_agent,
        editable=is_evaluator and not submitted,
        can_decide=submitted and disputes.may_decide(session, evaluation, user),
        can_regrade=submitted
        and not disputes.REGRADING_ROLES.isdisjoint(user.roles)
        and not is_agent,
        dispute_deadline=deadline,
        can_dispute=submitted
        and is_agent
        and evaluation.kind != "calibration"
        and deadline is not None
        and now <= deadline,
    )


def _hidden_names(
    session: Session, evaluation: QaEvaluation, facts: calls.CallFacts | None, identity: str | None
) -> list[str]:
    """How the agent may be named in a transcript: name, employee number, ACD identity (and
    its number, SIP/1001 -> 1001)."""
    names = [
        name
        for agent in org_service.agents_by_ids(session=session, agent_ids={evaluation.agent_id})
        for name in (agent.name, agent.employee_no)
    ]
    for found in (identity, facts.agent_identity if facts else None):
        if found:
            names += [found, found.rsplit("/", 1)[-1]]
    return names


def _transcript(
    session: Session,
    settings: Settings,
    evaluation: QaEvaluation,
    judged: autoqa_service.JudgedCall | None,
    *,
    facts: calls.CallFacts | None,
    blind: bool,
) -> tuple[TranscriptView | None, InvalidInput | None]:
    """The call's stored transcript with the rules' verdicts, else the transcript file in the
    recordings folder (None when neither; the problem when the file cannot be read)."""
    if judged is not None:
        stored = judged.transcript
        return transcript_view(
            [TurnText(t.speaker, t.start_s, t.text) for t in stored.turns],
            hangup_by=stored.hangup_by,
            stored=True,
            verdicts=judged.verdicts,
            score=judged.score,
            judged=bool(judged.verdicts),
            current=judged.current,
            hidden_names=_hidden_names(session, evaluation, facts, stored.agent) if blind else (),
        ), None
    try:
        found = calls.call_transcript(settings=settings, call_id=evaluation.call_id)
    except InvalidInput as exc:
        return None, exc
    if found is None:
        return None, None
    return transcript_view(
        [TurnText(t.speaker, t.start_s, t.text) for t in found.turns],
        hangup_by=found.hangup_by,
        hidden_names=_hidden_names(session, evaluation, facts, None) if blind else (),
    ), None


def _item_suggestion(
    stored: dict[str, Any] | None, transcript: TranscriptView | None
) -> ItemSuggestion | None:
    if stored is None:
        return None
    rules = [
        (transcript.rule(rule) if transcript else None) or RuleLine(rule, "", [])
        for rule in stored.get("rules", [])
    ]
    return ItemSuggestion(answer=bool(stored["answer"]), rules=rules, changed=stored.get("changed"))


@dataclass(frozen=True)
class AgentEvaluationRow:
    """One of the agent's evaluations in their list."""

    evaluation_id: int
    call_id: str
    call_at: datetime
    kind: str
    overall: float | None
    fatal: bool
    evaluator: str | None
    submitted_at: datetime | None
    acknowledged_at: datetime | None
    open_disputes: int


def my_evaluations(*, session: Session, settings: Settings, user: User) -> list[AgentEvaluationRow]:
    """The user's own submitted evaluations (official and coaching), newest call first."""
    if user.agent_id is None:
        return []
    rows = list(
        session.scalars(
            select(QaEvaluation)
            .where(
                QaEvaluation.agent_id == user.agent_id,
                QaEvaluation.status == "submitted",
                QaEvaluation.kind != "calibration",
            )
            .order_by(QaEvaluation.call_at.desc(), QaEvaluation.id.desc())
        )
    )
    names = accounts_service.user_names(session=session) if settings.qa_show_evaluator else {}
    return [
        AgentEvaluationRow(
            evaluation_id=e.id,
            call_id=e.call_id,
            call_at=e.call_at,
            kind=e.kind,
            overall=e.overall,
            fatal=e.fatal,
            evaluator=names.get(e.evaluator_user_id) if e.evaluator_user_id else None,
            submitted_at=e.submitted_at,
            acknowledged_at=e.acknowledged_at,
            open_disputes=sum(1 for d in e.disputes if d.status == "open"),
        )
        for e in rows
    ]


@dataclass(frozen=True)
class DisputeRow:
    """A dispute in the leads' queue."""

    dispute: QaDispute
    agent: str
    item: FormItem
    answer_before: Any
    evaluation_overall: float | None


def dispute_queue(*, session: Session, user: User, status: str = "open") -> list[DisputeRow]:
    """The disputes the user decides (open ones, or all)."""
    found = disputes.open_disputes(session=session, by=user, status=status)
    names = _agent_names(session, {d.evaluation.agent_id for d in found})
    rows = []
    for dispute in found:
        rows.append(
            DisputeRow(
                dispute=dispute,
                agent=names.get(dispute.evaluation.agent_id, "?"),
                item=form_item(dispute.evaluation, dispute.item_code),
                answer_before=json.loads(dispute.answer_before_json),
                evaluation_overall=dispute.evaluation.overall,
            )
        )
    return rows


def form_item(evaluation: QaEvaluation, code: str) -> FormItem:
    """An item of the evaluation's form version by its code."""
    for item in quality_service.form_spec(evaluation.form_version).items():
        if item.code == code:
            return item
    raise InvalidInput("the form has no item {items}", items=code)


def decide_from_form(
    *, session: Session, dispute_id: int, decision: str, answer: str, note: str, by: User
) -> QaDispute:
    """A dispute decided from the form: an overturn's new answer as the form carries it."""
    dispute = disputes.get_dispute(session=session, dispute_id=dispute_id, by=by)
    new_answer: Answer = None
    if decision == "overturned":
        new_answer = parse_answer(form_item(dispute.evaluation, dispute.item_code), answer)
    return disputes.decide_dispute(
        session=session,
        dispute_id=dispute_id,
        decision=decision,
        new_answer=new_answer,
        note=note,
        by=by,
    )


def regrade_from_form(
    *, session: Session, evaluation_id: int, fields: Mapping[str, str], by: User
) -> QaEvaluation:
    """A regrade from the form: the answers as it carries them, its `reason`."""
    evaluation = evaluation_for(session=session, evaluation_id=evaluation_id, user=by)
    answers, _ = parse_answers(quality_service.form_spec(evaluation.form_version), fields)
    return disputes.regrade(
        session=session,
        evaluation_id=evaluation_id,
        answers=answers,
        reason=fields.get("reason", ""),
        by=by,
    )
