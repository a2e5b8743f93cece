"""Service quality monitoring: forms and their versions, evaluations from draft to submitted."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.db import utcnow
from agentladder.errors import Conflict, InvalidInput, NotFound
from agentladder.org import service as org_service
from agentladder.org.accounts import service as accounts_service
from agentladder.periods import Period, period_of
from agentladder.quality import audit
from agentladder.quality.models import EVALUATION_KINDS, QaEvaluation, QaForm, QaFormVersion
from agentladder.quality.schemas import Answer, FormSpec
from agentladder.quality.scoring import item_score, score_call

if TYPE_CHECKING:
    from agentladder.imports.schemas import ImportResult
    from agentladder.org.models import User
    from agentladder.quality.autoqa.importing import TranscriptRowPlan

DEFAULT_FORM_PATH = Path(__file__).parent / "default_form.yaml"


@cache
def default_form() -> FormSpec:
    """The bilingual form agentladder ships (the source design's quality items and fatal
    errors); a centre starts from it."""
    return FormSpec.model_validate(yaml.safe_load(DEFAULT_FORM_PATH.read_text(encoding="utf-8")))


def _spec_hash(spec: FormSpec) -> str:
    return hashlib.sha256(
        json.dumps(spec.model_dump(), sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


def current_form_version(*, session: Session, code: str) -> QaFormVersion | None:
    """A form's latest version, or None for an unknown form."""
    return session.scalar(
        select(QaFormVersion)
        .join(QaForm)
        .where(QaForm.code == code)
        .order_by(QaFormVersion.version.desc())
        .limit(1)
    )


def form_spec(version: QaFormVersion) -> FormSpec:
    """What a stored form version asks."""
    return _parsed_spec(version.spec_json)


@lru_cache(maxsize=64)
def _parsed_spec(spec_json: str) -> FormSpec:
    # A version never changes once it has evaluations, and a FormSpec is frozen: parsed once.
    return FormSpec.model_validate_json(spec_json)


def save_form(*, session: Session, spec: FormSpec, by: User | None = None) -> QaFormVersion:
    """Store a form: its first version; a new version when the latest has evaluations (each
    keeps the version it was scored on); else the latest is replaced. Unchanged: no change."""
    latest = current_form_version(session=session, code=spec.code)
    digest = _spec_hash(spec)
    if latest is not None and latest.spec_hash == digest:
        return latest
    if latest is not None and not _has_evaluations(session, latest.id):
        latest.spec_json = spec.model_dump_json()
        latest.spec_hash = digest
        latest.created_by_user_id = by.id if by else None
        session.flush()
        return latest
    form = latest.form if latest is not None else None
    if form is None:
        form = QaForm(code=spec.code)
        session.add(form)
        session.flush()
    version = QaFormVersion(
        form_id=form.id,
        version=(latest.version + 1) if latest is not None else 1,
        spec_json=spec.model_dump_json(),
        spec_hash=digest,
        created_by_user_id=by.id if by else None,
    )
    session.add(version)
    session.flush()
    return version


def _has_evaluations(session: Session, version_id: int) -> bool:
    return (
        session.scalar(
            select(QaEvaluation.id).where(QaEvaluation.form_version_id == version_id).limit(1)
        )
        is not None
    )


def start_evaluation(
    *,
    session: Session,
    form_version_id: int,
    agent_id: int,
    evaluator: User | None,
    call_id: str,
    call_at: datetime,
    kind: str = "official",
) -> QaEvaluation:
    """A draft evaluation of one call on one form version."""
    if kind not in EVALUATION_KINDS:
        raise InvalidInput("unknown evaluation kind {kind}", kind=kind)
    if session.get(QaFormVersion, form_version_id) is None:
        raise NotFound("form version not found")
    evaluation = QaEvaluation(
        form_version_id=form_version_id,
        agent_id=agent_id,
        evaluator_user_id=evaluator.id if evaluator else None,
        call_id=call_id,
        call_at=call_at,
        kind=kind,
    )
    session.add(evaluation)
    session.flush()
    return evaluation


def _draft(session: Session, evaluation_id: int, by: User | None) -> QaEvaluation:
    evaluation = session.get(QaEvaluation, evaluation_id)
    if evaluation is None:
        raise NotFound("evaluation not found")
    if by is not None and evaluation.evaluator_user_id != by.id:
        raise NotFound("evaluation not found")  # another evaluator's draft is not theirs to see
    if evaluation.status == "submitted":
        raise Conflict("a submitted evaluation changes only through a dispute or a regrade")
    return evaluation


def save_draft(
    *,
    session: Session,
    evaluation_id: int,
    answers: Mapping[str, Answer],
    comments: Mapping[str, str] | None = None,
    by: User | None = None,
) -> QaEvaluation:
    """Keep a draft's answers and per-item comments (checked against the form, not scored):
    a draft may leave items unanswered, even those that must apply (submitting may not)."""
    evaluation = _draft(session, evaluation_id, by)
    spec = form_spec(evaluation.form_version)
    items = {item.code: item for item in spec.items()}
    unknown = sorted(set(answers) - set(items))
    if unknown:
        raise InvalidInput("the form has no item {items}", items=", ".join(unknown))
    for code, answer in answers.items():
        item_score(items[code], answer)  # refuses an answer that does not fit its item
    codes = set(items)
    unknown = sorted(set(comments or {}) - codes)
    if unknown:
        raise InvalidInput("the form has no item {items}", items=", ".join(unknown))
    evaluation.answers_json = json.dumps(dict(answers), ensure_ascii=False)
    evaluation.comments_json = json.dumps(dict(comments or {}), ensure_ascii=False)
    evaluation.updated_at = utcnow()
    session.flush()
    return evaluation


def submit_evaluation(
    *, session: Session, evaluation_id: int, by: User | None = None
) -> QaEvaluation:
    """Score the draft on the server and make it final; nothing changes it afterwards. Each
    automatic QA suggestion records whether the submitted answer differs from it."""
    evaluation = _draft(session, evaluation_id, by)
    answers = json.loads(evaluation.answers_json)
    scored = score_call(form_spec(evaluation.form_version), answers)
    if scored.overall is None:
        raise InvalidInput("no item of the form was answered")
    suggestions = json.loads(evaluation.suggestions_json or "{}")
    if suggestions:
        for code, suggestion in suggestions.items():
            suggestion["changed"] = answers.get(code) != suggestion["answer"]
        evaluation.suggestions_json = json.dumps(suggestions, ensure_ascii=False)
    evaluation.overall = scored.overall
    evaluation.compliance = scored.compliance
    evaluation.fatal = scored.fatal
    evaluation.scores_json = scored.model_dump_json()
    evaluation.status = "submitted"
    evaluation.submitted_at = evaluation.updated_at = utcnow()
    session.flush()
    audit.record(session=session, evaluation=evaluation, action="submitted", by=by)
    return evaluation


@dataclass(frozen=True)
class FinishedEvaluation:
    """An evaluation answered in full outside the workspace (the demo's evaluators)."""

    agent_id: int
    evaluator: User
    call_id: str
    call_at: datetime
    answers: Mapping[str, Answer]
    kind: str = "official"


def record_evaluations(
    *, session: Session, form_version_id: int, evaluations: Sequence[FinishedEvaluation]
) -> list[QaEvaluation]:
    """Evaluations answered in full elsewhere, scored on the server and stored submitted in one
    go, each with its audit entry (as if each had been submitted in the workspace)."""
    version = session.get(QaFormVersion, form_version_id)
    if version is None:
        raise NotFound("form version not found")
    spec = form_spec(version)
    now = utcnow()
    stored = []
    for finished in evaluations:
        if finished.kind not in EVALUATION_KINDS:
            raise InvalidInput("unknown evaluation kind {kind}", kind=finished.kind)
        scored = score_call(spec, finished.answers)
        if scored.overall is None:
            raise InvalidInput("no item of the form was answered")
        stored.append(
            QaEvaluation(
                form_version_id=version.id,
                agent_id=finished.agent_id,
                evaluator_user_id=finished.evaluator.id,
                call_id=finished.call_id,
                call_at=finished.call_at,
                kind=finished.kind,
                status="submitted",
                answers_json=json.dumps(dict(finished.answers), ensure_ascii=False),
                comments_json="{}",
                overall=scored.overall,
                compliance=scored.compliance,
                fatal=scored.fatal,
                scores_json=scored.model_dump_json(),
                created_at=now,
                updated_at=now,
                submitted_at=now,
            )
        )
    session.add_all(stored)
    session.flush()
    audit.record_submitted(session=session, evaluations=stored, at=now)
    return stored


def period_evaluations(
    *, session: Session, period: Period, zone: ZoneInfo, kind: str = "official"
) -> list[QaEvaluation]:
    """The period's submitted evaluations of one kind, by the call's time."""
    start, end = period.bounds_utc(zone)
    return list(
        session.scalars(
            select(QaEvaluation)
            .where(
                QaEvaluation.status == "submitted",
                QaEvaluation.kind == kind,
                QaEvaluation.call_at >= start,
                QaEvaluation.call_at < end,
            )
            .order_by(QaEvaluation.call_at, QaEvaluation.id)
        )
    )


# The months an evaluator's harshness is estimated over, ending with the period scored.
SCORING_WINDOW_MONTHS = 3
# Evaluators with fewer evaluations in the window get no effect (their scores count as given).
MIN_EVALUATOR_EVALUATIONS = 30


@dataclass(frozen=True)
class AgentQaScore:
    """An agent's QA in a period: raw mean, mean with their evaluators' effects taken out."""

    agent: str
    agent_id: int
    qa_score: float
    qa_score_adjusted: float
    evaluations: int
    fatal_errors: int
    # How many of the agent's evaluations each evaluator made, by username.
    evaluations_by: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class EvaluatorEffect:
    """How much an evaluator's scores run above (+) or below (-) the others', shrunk."""

    evaluator: str
    effect: float
    evaluations: int


@dataclass(frozen=True)
class PeriodQaScores:
    """The period's QA scores per agent and the evaluators' effects behind the adjustment."""

    period: str
    agents: list[AgentQaScore]
    evaluators: list[EvaluatorEffect]

    def adjustment_of(self, agent: AgentQaScore) -> dict[str, Any]:
        """What the ladder's explanation shows beside an adjusted score: the raw score and
        the effect of each evaluator who scored the agent (0 for one with too few evaluations
        to estimate)."""
        effects = {e.evaluator: e.effect for e in self.evaluators}
        return {
            "raw": round(agent.qa_score, 2),
            "adjusted": round(agent.qa_score_adjusted, 2),
            "evaluators": [
                {"evaluator": name, "effect": round(effects.get(name, 0.0), 2), "evaluations": n}
                for name, n in agent.evaluations_by
            ],
        }

    def as_json(self) -> dict[str, Any]:
        """The shape `agentladder quality scores --format json` prints."""
        return {
            "period": self.period,
            "agents": [
                {
                    "agent": a.agent,
                    "qa_score": round(a.qa_score, 2),
                    "qa_score_adjusted": round(a.qa_score_adjusted, 2),
                    "evaluations": a.evaluations,
                    "fatal_errors": a.fatal_errors,
                }
                for a in self.agents
            ],
            "evaluators": [
                {
                    "evaluator": e.evaluator,
                    "effect": round(e.effect, 2),
                    "evaluations": e.evaluations,
                }
                for e in self.evaluators
            ],
        }


def period_scores(
    *,
    session: Session,
    period: Period,
    zone: ZoneInfo,
    window_months: int = SCORING_WINDOW_MONTHS,
    min_evaluations: int = MIN_EVALUATOR_EVALUATIONS,
) -> PeriodQaScores:
    """Raw and evaluator-adjusted QA scores of the period's official evaluations; the
    evaluators' effects are fitted over the `window_months` ending with the period."""
    start, end = period.bounds_utc(zone)
    months = period.first_day.year * 12 + period.first_day.month - window_months
    window_start = period_of("month", date(months // 12, months % 12 + 1, 1)).bounds_utc(zone)[0]
    rows = session.execute(
        select(
            QaEvaluation.agent_id,
            QaEvaluation.evaluator_user_id,
            QaEvaluation.overall,
            QaEvaluation.fatal,
            QaEvaluation.call_at,
        ).where(
            QaEvaluation.status == "submitted",
            QaEvaluation.kind == "official",
            QaEvaluation.call_at >= min(window_start, start),
            QaEvaluation.call_at < end,
        )
    ).all()
    effects: dict[int, float] = {}
    counts: dict[int, int] = {}
    if rows:
        # Imported here: numpy loads only when scores are fitted (tests/test_startup.py).
        from agentladder.quality.bias import fit_evaluator_effects

        fit = fit_evaluator_effects(
            [(agent, evaluator or 0, overall or 0.0) for agent, evaluator, overall, _, _ in rows],
            min_evaluations=min_evaluations,
        )
        effects, counts = fit.evaluator_effects, fit.evaluator_evaluations
    in_period: dict[int, list[tuple[int, float, bool]]] = {}
    for agent, evaluator, overall, fatal, call_at in rows:
        if start <= call_at < end:
            in_period.setdefault(agent, []).append((evaluator or 0, overall or 0.0, fatal))
    numbers = {
        a.id: a.employee_no
        for a in org_service.agents_by_ids(session=session, agent_ids=set(in_period))
    }
    names = accounts_service.user_names(session=session, usernames_only=True)
    agents = [
        AgentQaScore(
            agent=numbers[agent_id],
            agent_id=agent_id,
            qa_score=sum(score for _, score, _ in scored) / len(scored),
            qa_score_adjusted=sum(
                score - effects.get(evaluator, 0.0) for evaluator, score, _ in scored
            )
            / len(scored),
            evaluations=len(scored),
            fatal_errors=sum(1 for _, _, fatal in scored if fatal),
            evaluations_by=tuple(
                sorted(Counter(names.get(evaluator, "?") for evaluator, _, _ in scored).items())
            ),
        )
        for agent_id, scored in in_period.items()
    ]
    evaluators = [
        EvaluatorEffect(names.get(user_id, "?"), effect, counts[user_id])
        for user_id, effect in effects.items()
    ]
    return PeriodQaScores(
        period=period.label,
        agents=sorted(agents, key=lambda a: a.agent),
        evaluators=sorted(evaluators, key=lambda e: e.evaluator),
    )


# --- transcripts -----------------------------------------------------------------------------


def import_transcripts(
    *, session: Session, settings: Settings, data: bytes, file_name: str
) -> ImportResult[TranscriptRowPlan]:
    """Import a file of call transcripts (JSON Lines, CSV or XLSX) through the import
    pipeline: the calls that can be read are stored and judged, the others rejected."""
    # Imported here: the importer brings the judging toolkit (OpenCC, RapidFuzz), which the
    # many callers of this module that never import transcripts should not load.
    from agentladder.quality.autoqa import importing

    return importing.import_transcripts(
        session=session, settings=settings, data=data, file_name=file_name
    )
