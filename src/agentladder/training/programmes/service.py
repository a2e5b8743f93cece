"""Certification programmes: passing a named exam, or every exam of a set, awards a
certification type. Re-taking and passing later renews it: every exam of the set passed again
after the last certificate the programme gave issues a new one from the new date, and the old
one stays in the history. The ladder's gates read the certificates as they read imported ones.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, tzinfo

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.config import get_settings
from agentladder.errors import Conflict, InvalidInput, NotFound
from agentladder.i18n import N_
from agentladder.training.certifications import service as certifications_service
from agentladder.training.certifications.schemas import CertificationCreate
from agentladder.training.models import (
    Certification,
    CertificationProgramme,
    Exam,
    ExamAttempt,
)


class ProgrammeIn(BaseModel):
    """A programme as the trainer defines it."""

    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")
    cert_type: str = Field(min_length=1, max_length=40)
    exam_codes: tuple[str, ...] = Field(min_length=1, max_length=20)
    validity_months: int | None = Field(default=None, ge=1, le=600)

    @field_validator("exam_codes", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.replace("，", ",").replace("\n", ",").split(",")
        if isinstance(value, list | tuple):
            # Each exam once, in the order given.
            return tuple(dict.fromkeys(str(part).strip() for part in value if str(part).strip()))
        return value

    @field_validator("code", "cert_type", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value


class ProgrammeRead(ProgrammeIn):
    id: int
    awarded: int  # certificates awarded through it


def _read(session: Session, row: CertificationProgramme) -> ProgrammeRead:
    awarded = len(
        session.scalars(select(Certification.id).where(Certification.programme_id == row.id)).all()
    )
    return ProgrammeRead(
        id=row.id,
        code=row.code,
        cert_type=row.cert_type,
        exam_codes=tuple(json.loads(row.exam_codes_json)),
        validity_months=row.validity_months,
        awarded=awarded,
    )


def list_programmes(*, session: Session) -> list[ProgrammeRead]:
    """Every programme, by code."""
    rows = session.scalars(select(CertificationProgramme).order_by(CertificationProgramme.code))
    return [_read(session, row) for row in rows]


def get_programme(*, session: Session, code: str) -> ProgrammeRead:
    """One programme by its code; NotFound when there is none."""
    row = session.scalar(select(CertificationProgramme).where(CertificationProgramme.code == code))
    if row is None:
        raise NotFound(N_("certification programme {code} does not exist"), code=code)
    return _read(session, row)


def save_programme(
    *, session: Session, programme_in: ProgrammeIn, user_id: int | None
) -> ProgrammeRead:
    """Create or change a programme (by code); its type and exams must exist."""
    if (
        certifications_service.get_certification_type(session=session, code=programme_in.cert_type)
        is None
    ):
        raise InvalidInput(N_("unknown certification type {code}"), code=programme_in.cert_type)
    known = set(session.scalars(select(Exam.code).where(Exam.code.in_(programme_in.exam_codes))))
    missing = [code for code in programme_in.exam_codes if code not in known]
    if missing:
        raise InvalidInput(N_("exam {code} does not exist"), code=missing[0])
    row = session.scalar(
        select(CertificationProgramme).where(CertificationProgramme.code == programme_in.code)
    )
    if row is None:
        row = CertificationProgramme(code=programme_in.code, created_by_user_id=user_id)
        session.add(row)
    row.cert_type = programme_in.cert_type
    row.exam_codes_json = json.dumps(list(programme_in.exam_codes))
    row.validity_months = programme_in.validity_months
    session.flush()
    return _read(session, row)


def delete_programme(*, session: Session, code: str) -> None:
    """Remove a programme; the certificates it awarded stay."""
    row = session.scalar(select(CertificationProgramme).where(CertificationProgramme.code == code))
    if row is None:
        raise NotFound(N_("certification programme {code} does not exist"), code=code)
    session.delete(row)
    session.flush()


def _passed_exams(
    session: Session,
    agent_id: int,
    exam_codes: Sequence[str],
    after: date | None,
    until: date,
    zone: tzinfo,
) -> set[str]:
    """The exams the agent passed on a day after `after` (None: ever) up to `until`, in the
    centre's time zone."""
    rows = session.execute(
        select(Exam.code, ExamAttempt.submitted_at)
        .join(ExamAttempt, ExamAttempt.exam_id == Exam.id)
        .where(
            ExamAttempt.agent_id == agent_id,
            ExamAttempt.state == "finished",
            ExamAttempt.passed.is_(True),
            Exam.code.in_(list(exam_codes)),
        )
    ).all()
    passed = set()
    for code, submitted_at in rows:
        day = submitted_at.astimezone(zone).date() if submitted_at else None
        if day is not None and (after is None or day > after) and day <= until:
            passed.add(code)
    return passed


def _last_award(session: Session, agent_id: int, programme_id: int) -> date | None:
    """The issue date of the newest certificate the programme gave the agent."""
    return session.scalar(
        select(Certification.issued_on)
        .where(Certification.agent_id == agent_id, Certification.programme_id == programme_id)
        .order_by(Certification.issued_on.desc())
        .limit(1)
    )


def award_after_exam(
    *, session: Session, agent_id: int, exam_code: str, passed_on: datetime
) -> list[int]:
    """Award the certificate of every programme that names the exam and whose exams the agent
    has now all passed (since the programme's last certificate to the agent: a renewal means
    passing the set again), issued on the day of the pass in the centre's time zone; the ids
    of the certificates made (a second pass on the same day makes none)."""
    zone = get_settings().tz
    issued_on: date = passed_on.astimezone(zone).date()
    made: list[int] = []
    for row in session.scalars(select(CertificationProgramme).order_by(CertificationProgramme.id)):
        exam_codes: list[str] = json.loads(row.exam_codes_json)
        if exam_code not in exam_codes:
            continue
        after = _last_award(session, agent_id, row.id)
        passed = _passed_exams(session, agent_id, exam_codes, after, issued_on, zone)
        if passed != set(exam_codes):
            continue
        kind = certifications_service.get_certification_type(session=session, code=row.cert_type)
        if kind is None:
            continue
        validity = row.validity_months or kind.validity_months
        try:
            with session.begin_nested():
                read = certifications_service.record_certification(
                    session=session,
                    cert_in=CertificationCreate(
                        agent_id=agent_id,
                        cert_type=row.cert_type,
                        issued_on=issued_on,
                        expires_on=certifications_service.default_expiry(issued_on, validity),
                        no_expiry=validity is None,
                        source=f"exam:{exam_code}"[:200],
                    ),
                )
        except Conflict:
            continue
        certificate = session.get(Certification, read.id)
        assert certificate is not None
        certificate.programme_id = row.id
        certificate.verification_code = certifications_service.new_verification_code()
        made.append(read.id)
    session.flush()
    return made
