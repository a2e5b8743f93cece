"""Service quality monitoring: forms and their versions, evaluations from draft to submitted."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.db import utcnow
from agentladder.errors import Conflict, InvalidInput, NotFound
from agentladder.quality.models import EVALUATION_KINDS, QaEvaluation, QaForm, QaFormVersion
from agentladder.quality.schemas import Answer, FormSpec
from agentladder.quality.scoring import score_call

if TYPE_CHECKING:
    from agentladder.org.models import User

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
    return FormSpec.model_validate_json(version.spec_json)


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
    """Keep a draft's answers and per-item comments (checked against the form, not scored)."""
    evaluation = _draft(session, evaluation_id, by)
    spec = form_spec(evaluation.form_version)
    score_call(spec, answers)  # refuses an answer that does not fit its item
    codes = {item.code for item in spec.items()}
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
    """Score the draft on the server and make it final; nothing changes it afterwards."""
    evaluation = _draft(session, evaluation_id, by)
    scored = score_call(form_spec(evaluation.form_version), json.loads(evaluation.answers_json))
    if scored.overall is None:
        raise InvalidInput("no item of the form was answered")
    evaluation.overall = scored.overall
    evaluation.compliance = scored.compliance
    evaluation.fatal = scored.fatal
    evaluation.scores_json = scored.model_dump_json()
    evaluation.status = "submitted"
    evaluation.submitted_at = evaluation.updated_at = utcnow()
    session.flush()
    return evaluation
