"""Training services: certification types, the certificates agents hold, and their import.

Certificates come from passed exams (`programmes.award_after_exam`, source `exam:<code>`), from
CSV/XLSX files (`import_certifications`, all rows or none) or are recorded by hand. The ladder
asks `valid_certifications` which ones count on a given day. A revoked certificate stops
counting on the day (in the centre's time zone) it was revoked and shows as revoked everywhere;
renewing is passing the programme's exams again, which issues a new certificate and leaves the
old one in the history. A certificate's verification code lets anyone check it publicly
(`verify_certificate`), which tells only name, type, dates and status.
"""

from __future__ import annotations

import calendar
import json
import re
import secrets
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from agentladder.config import get_settings
from agentladder.db import in_chunks, utcnow
from agentladder.errors import Conflict, InvalidInput, NotFound
from agentladder.i18n import N_
from agentladder.imports import pipeline
from agentladder.imports.columns import AGENT_COLUMN, NAME_COLUMN, name_differs, row_agent
from agentladder.imports.spec import (
    Column,
    Importer,
    ImportRun,
    ParsedRow,
    Planned,
    Problems,
    date_cell,
    parse_date,
    text_cell,
)
from agentladder.org import service as org_service
from agentladder.org.schemas import AgentRead
from agentladder.tabular import cell_text, fold_header
from agentladder.training.certifications.schemas import (
    CertificateDocument,
    CertificationCreate,
    CertificationFilter,
    CertificationImportResult,
    CertificationPage,
    CertificationPreview,
    CertificationRead,
    CertificationRowPlan,
    CertificationStatus,
    CertificationTypeCreate,
    CertificationTypeRead,
    ExamToRetake,
    ExpiringReport,
    ExpiringRow,
    ExpiryReminder,
    TypeCount,
    Verification,
)
from agentladder.training.models import (
    Certification,
    CertificationProgramme,
    CertificationType,
    Exam,
)

if TYPE_CHECKING:
    from agentladder.org.models import User

# The four certifications of the source design (the shipped ladder policy's gates name them).
# Product and sales knowledge go stale with the product range, so they are renewed yearly;
# skills every two years.
BUILTIN_TYPES: dict[str, CertificationTypeRead] = {
    code: CertificationTypeRead(code=code, zh=zh, en=en, validity_months=months, builtin=True)
    for code, zh, en, months in (
        ("product_knowledge", "产品知识认证", "Product knowledge", 12),
        ("service_skill", "服务技能认证", "Service skill", 24),
        ("sales_skill", "销售技能认证", "Sales skill", 12),
        ("comprehensive", "综合能力认证", "Comprehensive ability", 24),
    )
}
# A certificate expiring within this many days is marked so it can be renewed in time.
EXPIRING_SOON_DAYS = 60
# The agent's scorecard reminds of certificates expiring within this many days.
REMINDER_DAYS = 90
# The trainer's report of what expires offers these windows.
EXPIRING_REPORT_DAYS = (30, 60, 90)
MAX_REVOCATION_REASON = 1000

STATUS_NAMES: dict[str, str] = {
    "valid": N_("Valid"),
    "expiring": N_("Expiring soon"),
    "expired": N_("Expired"),
    "pending": N_("Not yet valid"),
    "revoked": N_("Revoked"),
}

# Crockford's base32 without I, L, O, U: a code read aloud or typed from paper is not misread.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CODE_LETTERS = 12  # 60 bits: guessing one of even a million codes takes ~10^12 tries
_CODE_MISREAD = str.maketrans({"I": "1", "L": "1", "O": "0"})


# --- dates and validity --------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def default_expiry(issued_on: date, validity_months: int | None) -> date | None:
    """The last valid day of a certificate valid for `validity_months` (None: no expiry):
    issued 2025-03-01 for 12 months is valid through 2026-02-28."""
    if validity_months is None:
        return None
    return add_months(issued_on, validity_months) - timedelta(days=1)


def certification_status(
    issued_on: date, expires_on: date | None, today: date, revoked_on: date | None = None
) -> CertificationStatus:
    """Revoked (from the day it was revoked), valid, expiring soon, expired, or pending (issued
    in the future), on `today`."""
    if revoked_on is not None and revoked_on <= today:
        return "revoked"
    if issued_on > today:
        return "pending"
    if expires_on is not None and expires_on < today:
        return "expired"
    if expires_on is not None and expires_on <= today + timedelta(days=EXPIRING_SOON_DAYS):
        return "expiring"
    return "valid"


def _zone() -> tzinfo:
    return get_settings().tz


def _day_start(day: date) -> datetime:
    """The first moment of a day in the centre's time zone."""
    return datetime.combine(day, time.min, tzinfo=_zone())


def revoked_on(cert: Certification) -> date | None:
    """The centre's calendar day a certificate was revoked on, if it was."""
    if cert.revoked_at is None:
        return None
    return cert.revoked_at.astimezone(_zone()).date()


def _revoked_by(day: date) -> ColumnElement[bool]:
    """Revoked on or before `day` (centre's time)."""
    return and_(
        Certification.revoked_at.is_not(None),
        Certification.revoked_at < _day_start(day + timedelta(days=1)),
    )


def _not_revoked_by(day: date) -> ColumnElement[bool]:
    """Not revoked, or revoked only after `day` (centre's time)."""
    return or_(
        Certification.revoked_at.is_(None),
        Certification.revoked_at >= _day_start(day + timedelta(days=1)),
    )


# --- certification types -------------------------------------------------------------------


def list_certification_types(*, session: Session) -> list[CertificationTypeRead]:
    """The built-in types, then those the centre added, by code."""
    added = session.scalars(select(CertificationType).order_by(CertificationType.code))
    return [
        *BUILTIN_TYPES.values(),
        *(
            CertificationTypeRead(
                code=row.code,
                zh=row.zh,
                en=row.en,
                validity_months=row.validity_months,
                builtin=False,
            )
            for row in added
        ),
    ]


def known_certification_types(*, session: Session) -> set[str]:
    """Every certification code: built-in and added."""
    return set(BUILTIN_TYPES) | set(session.scalars(select(CertificationType.code)))


def get_certification_type(*, session: Session, code: str) -> CertificationTypeRead | None:
    """A type by its code (case-insensitive), if any."""
    wanted = code.strip().casefold()
    for known in list_certification_types(session=session):
        if known.code.casefold() == wanted:
            return known
    return None


def add_certification_type(
    *, session: Session, type_in: CertificationTypeCreate
) -> CertificationTypeRead:
    """Add a type; its code and names must differ from every other type's (imports match any)."""
    for known in list_certification_types(session=session):
        if known.code.casefold() == type_in.code.casefold():
            raise Conflict("a certification type with code {code} exists", code=type_in.code)
        names = {fold_header(known.code), fold_header(known.zh), fold_header(known.en)}
        if fold_header(type_in.zh) in names or fold_header(type_in.en) in names:
            raise Conflict(
                "the name of certification type {code} is already used by {other}",
                code=type_in.code,
                other=known.code,
            )
    row = CertificationType(
        code=type_in.code, zh=type_in.zh, en=type_in.en, validity_months=type_in.validity_months
    )
    session.add(row)
    session.flush()
    return CertificationTypeRead(
        code=row.code, zh=row.zh, en=row.en, validity_months=row.validity_months, builtin=False
    )


def _type_lookup(types: list[CertificationTypeRead]) -> dict[str, CertificationTypeRead]:
    """Types by folded code, Chinese name and English name, as files spell them."""
    lookup: dict[str, CertificationTypeRead] = {}
    for known in types:
        for spelling in (known.code, known.zh, known.en):
            lookup.setdefault(fold_header(spelling), known)
    return lookup


# --- certificates --------------------------------------------------------------------------


def _programme_codes(session: Session) -> dict[int, str]:
    rows = session.execute(select(CertificationProgramme.id, CertificationProgramme.code)).all()
    return {row[0]: row[1] for row in rows}


def _reads(
    certificates: Iterable[Certification],
    agents: dict[int, AgentRead],
    types: dict[str, CertificationTypeRead],
    today: date,
    programmes: dict[int, str] | None = None,
) -> list[CertificationRead]:
    reads = []
    for cert in certificates:
        agent = agents.get(cert.agent_id)
        kind = types.get(cert.cert_type)
        reads.append(
            CertificationRead(
                id=cert.id,
                agent_id=cert.agent_id,
                employee_no=agent.employee_no if agent else "",
                agent_name=agent.name if agent else "",
                team_code=agent.team_code if agent else None,
                cert_type=cert.cert_type,
                type_zh=kind.zh if kind else cert.cert_type,
                type_en=kind.en if kind else cert.cert_type,
                issued_on=cert.issued_on,
                expires_on=cert.expires_on,
                source=cert.source,
                status=certification_status(
                    cert.issued_on, cert.expires_on, today, revoked_on(cert)
                ),
                revoked_at=cert.revoked_at,
                revoked_reason=cert.revoked_reason or "",
                programme_code=(programmes or {}).get(cert.programme_id)
                if cert.programme_id is not None
                else None,
            )
        )
    return reads


def _types_by_code(session: Session) -> dict[str, CertificationTypeRead]:
    return {known.code: known for known in list_certification_types(session=session)}


def record_certification(
    *,
    session: Session,
    cert_in: CertificationCreate,
    recorded_by: User | None = None,
    today: date | None = None,
) -> CertificationRead:
    """Record one certificate (by hand, or from an exam); without an expiry (and without
    `no_expiry`) the type's validity gives it. The same agent, type and issue date twice is a
    Conflict."""
    agents = org_service.agents_by_ids(session=session, agent_ids=[cert_in.agent_id])
    if not agents:
        raise NotFound("agent not found")
    kind = get_certification_type(session=session, code=cert_in.cert_type)
    if kind is None:
        raise InvalidInput("unknown certification type {code}", code=cert_in.cert_type)
    expires_on = (
        None
        if cert_in.no_expiry
        else cert_in.expires_on or default_expiry(cert_in.issued_on, kind.validity_months)
    )
    if expires_on is not None and expires_on < cert_in.issued_on:
        raise InvalidInput("the expiry date is before the issue date")
    existing = session.scalar(
        select(Certification).where(
            Certification.agent_id == cert_in.agent_id,
            Certification.cert_type == kind.code,
            Certification.issued_on == cert_in.issued_on,
        )
    )
    if existing is not None:
        raise Conflict(
            "the agent already holds {code} issued on {issued}",
            code=kind.code,
            issued=cert_in.issued_on.isoformat(),
        )
    cert = Certification(
        agent_id=cert_in.agent_id,
        cert_type=kind.code,
        issued_on=cert_in.issued_on,
        expires_on=expires_on,
        source=cert_in.source,
        recorded_by_user_id=recorded_by.id if recorded_by else None,
    )
    session.add(cert)
    session.flush()
    [read] = _reads(
        [cert], {agents[0].id: agents[0]}, _types_by_code(session), today or date.today()
    )
    return read


def certifications_of(
    *, session: Session, agent_id: int, today: date | None = None
) -> list[CertificationRead]:
    """One agent's certificates for display, by type then newest first, with their status on
    `today` (default: the machine's date). The caller checks the viewer may see the agent."""
    agents = {a.id: a for a in org_service.agents_by_ids(session=session, agent_ids=[agent_id])}
    certificates = session.scalars(
        select(Certification)
        .where(Certification.agent_id == agent_id)
        .order_by(Certification.cert_type, Certification.issued_on.desc())
    )
    return _reads(
        certificates,
        agents,
        _types_by_code(session),
        today or date.today(),
        _programme_codes(session),
    )


def list_certifications(
    *,
    session: Session,
    scope: org_service.AgentScope,
    filters: CertificationFilter,
    today: date,
) -> CertificationPage:
    """Certificates of the agents the scope allows, filtered and paged, by employee number,
    type and newest first; the status filters read `today`."""
    agents = {
        agent.id: org_service.agent_read(agent)
        for agent in org_service.all_agents(session=session)
        if scope.allows(agent)
    }
    if filters.agent_id is not None:
        agents = {i: a for i, a in agents.items() if i == filters.agent_id}
    if filters.q:
        needle = filters.q.strip().casefold()
        agents = {
            i: a
            for i, a in agents.items()
            if needle in a.name.casefold() or needle in a.employee_no.casefold()
        }
    if filters.team:
        team = filters.team.strip().casefold()
        agents = {i: a for i, a in agents.items() if (a.team_code or "").casefold() == team}
    query = select(Certification)
    if filters.cert_type:
        query = query.where(Certification.cert_type == filters.cert_type)
    soon = today + timedelta(days=EXPIRING_SOON_DAYS)
    if filters.status in {"valid", "expiring"}:
        query = query.where(
            Certification.issued_on <= today,
            or_(Certification.expires_on.is_(None), Certification.expires_on >= today),
            _not_revoked_by(today),
        )
    if filters.status == "expiring":
        query = query.where(Certification.expires_on <= soon)
    elif filters.status == "expired":
        query = query.where(Certification.expires_on < today, _not_revoked_by(today))
    elif filters.status == "revoked":
        query = query.where(_revoked_by(today))
    if scope.everyone and not (filters.q or filters.team or filters.agent_id is not None):
        found = list(session.scalars(query))
    else:
        found = [
            cert
            for chunk in in_chunks(sorted(agents))
            for cert in session.scalars(query.where(Certification.agent_id.in_(chunk)))
        ]
    found = [cert for cert in found if cert.agent_id in agents]
    found.sort(
        key=lambda c: (agents[c.agent_id].employee_no, c.cert_type, -c.issued_on.toordinal())
    )
    start = (filters.page - 1) * filters.per_page
    return CertificationPage(
        total=len(found),
        page=filters.page,
        per_page=filters.per_page,
        today=today,
        certifications=_reads(
            found[start : start + filters.per_page],
            agents,
            _types_by_code(session),
            today,
            _programme_codes(session),
        ),
    )


def valid_certifications(
    *, session: Session, agent_ids: Iterable[int], on: date
) -> dict[int, set[str]]:
    """The certification codes each agent holds on a day (issued on or before it, expiring on
    or after it, or never, and not revoked by then); every agent asked about has an entry,
    empty when none."""
    wanted = sorted(set(agent_ids))
    held: dict[int, set[str]] = {agent_id: set() for agent_id in wanted}
    for chunk in in_chunks(wanted):
        rows = session.execute(
            select(Certification.agent_id, Certification.cert_type).where(
                Certification.agent_id.in_(chunk),
                Certification.issued_on <= on,
                or_(Certification.expires_on.is_(None), Certification.expires_on >= on),
                # A revoked certificate stops counting on the day it was revoked, that day
                # read in the centre's time zone (as every other date here).
                _not_revoked_by(on),
            )
        )
        for agent_id, cert_type in rows:
            held[agent_id].add(cert_type)
    return held


# --- revocation ----------------------------------------------------------------------------


def revoke_certification(
    *,
    session: Session,
    certificate_id: int,
    reason: str,
    user: User | None,
    now: datetime | None = None,
) -> CertificationRead:
    """Revoke a certificate, with the reason: from the day of `now` (default: this moment) it
    counts for nothing and shows as revoked (its pages, lists, its verification page).
    Revoking twice is a Conflict."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput(N_("give the reason for revoking the certificate"))
    if len(reason) > MAX_REVOCATION_REASON:
        raise InvalidInput(
            N_("the reason is longer than {limit} characters"), limit=MAX_REVOCATION_REASON
        )
    cert = session.get(Certification, certificate_id)
    if cert is None:
        raise NotFound(N_("certificate not found"))
    if cert.revoked_at is not None:
        raise Conflict(N_("the certificate is already revoked"))
    cert.revoked_at = now or utcnow()
    cert.revoked_reason = reason
    cert.revoked_by_user_id = user.id if user else None
    session.flush()
    agents = org_service.agents_by_ids(session=session, agent_ids=[cert.agent_id])
    [read] = _reads(
        [cert],
        {agent.id: agent for agent in agents},
        _types_by_code(session),
        cert.revoked_at.astimezone(_zone()).date(),
        _programme_codes(session),
    )
    return read


# --- expiry: the trainer's report and the agent's reminders --------------------------------


def _renewed(cert: Certification, others: Iterable[Certification], today: date) -> bool:
    """Whether a later certificate of the same type, not revoked, outlasts this one."""
    for other in others:
        if other.cert_type != cert.cert_type or other.issued_on <= cert.issued_on:
            continue
        revoked = revoked_on(other)
        if revoked is not None and revoked <= today:
            continue
        if other.expires_on is None or (
            cert.expires_on is not None and other.expires_on > cert.expires_on
        ):
            return True
    return False


def _exams_to_retake(
    session: Session, certificates: Iterable[Certification]
) -> dict[int, list[ExamToRetake]]:
    """Per certificate, the exams that renew it: those of the programme that awarded it, else
    of every programme awarding its type."""
    programmes = list(
        session.scalars(select(CertificationProgramme).order_by(CertificationProgramme.code))
    )
    titles = {row[0]: row[1] for row in session.execute(select(Exam.code, Exam.title)).all()}
    by_id = {row.id: row for row in programmes}
    found: dict[int, list[ExamToRetake]] = {}
    for cert in certificates:
        chosen = (
            [by_id[cert.programme_id]]
            if cert.programme_id in by_id
            else [row for row in programmes if row.cert_type == cert.cert_type]
        )
        codes: list[str] = []
        for row in chosen:
            codes += [code for code in json.loads(row.exam_codes_json) if code not in codes]
        found[cert.id] = [ExamToRetake(code=code, title=titles.get(code, code)) for code in codes]
    return found


def _expiring(
    session: Session, agent_ids: list[int] | None, today: date, until: date
) -> list[Certification]:
    """Certificates in force today, expiring by `until`, not renewed yet; soonest first."""
    query = select(Certification).where(
        Certification.issued_on <= today,
        Certification.expires_on >= today,
        Certification.expires_on <= until,
        _not_revoked_by(today),
    )
    if agent_ids is None:
        candidates = list(session.scalars(query))
    else:
        candidates = [
            cert
            for chunk in in_chunks(agent_ids)
            for cert in session.scalars(query.where(Certification.agent_id.in_(chunk)))
        ]
    holders = sorted({cert.agent_id for cert in candidates})
    held: dict[int, list[Certification]] = {}
    for chunk in in_chunks(holders):
        for cert in session.scalars(select(Certification).where(Certification.agent_id.in_(chunk))):
            held.setdefault(cert.agent_id, []).append(cert)
    expiring = [cert for cert in candidates if not _renewed(cert, held[cert.agent_id], today)]
    expiring.sort(key=lambda c: (c.expires_on, c.agent_id, c.cert_type))
    return expiring


def expiring_certifications(
    *, session: Session, scope: org_service.AgentScope, days: int, today: date
) -> ExpiringReport:
    """What expires from `today` through `days` later, among the agents the scope allows:
    counts per type and the certificates, soonest first, with the exams that renew each. A
    certificate already renewed (a later one outlasts it) or revoked is left out."""
    if not 1 <= days <= 366:
        raise InvalidInput(N_("the window is 1 to 366 days"))
    until = today + timedelta(days=days)
    agents = {
        agent.id: org_service.agent_read(agent)
        for agent in org_service.all_agents(session=session)
        if scope.allows(agent)
    }
    expiring = [
        cert
        for cert in _expiring(session, None if scope.everyone else sorted(agents), today, until)
        if cert.agent_id in agents
    ]
    types = _types_by_code(session)
    reads = _reads(expiring, agents, types, today, _programme_codes(session))
    exams = _exams_to_retake(session, expiring)
    counts: dict[str, int] = {}
    for cert in expiring:
        counts[cert.cert_type] = counts.get(cert.cert_type, 0) + 1
    return ExpiringReport(
        today=today,
        days=days,
        until=until,
        counts=[
            TypeCount(cert_type=code, type_zh=kind.zh, type_en=kind.en, count=counts[code])
            for code, kind in types.items()
            if code in counts
        ]
        + [
            TypeCount(cert_type=code, type_zh=code, type_en=code, count=number)
            for code, number in counts.items()
            if code not in types
        ],
        rows=[
            ExpiringRow(
                certification=read,
                days_left=(cert.expires_on - today).days,  # type: ignore[operator]
                exams=exams[cert.id],
            )
            for cert, read in zip(expiring, reads, strict=True)
        ],
    )


def expiry_reminders(
    *, session: Session, agent_id: int, today: date, within_days: int = REMINDER_DAYS
) -> list[ExpiryReminder]:
    """The agent's certificates expiring within `within_days` and not renewed yet, soonest
    first, with the exams to re-take. The caller checks the viewer may see the agent."""
    expiring = _expiring(session, [agent_id], today, today + timedelta(days=within_days))
    types = _types_by_code(session)
    exams = _exams_to_retake(session, expiring)
    reminders = []
    for cert in expiring:
        assert cert.expires_on is not None
        kind = types.get(cert.cert_type)
        reminders.append(
            ExpiryReminder(
                certification_id=cert.id,
                cert_type=cert.cert_type,
                type_zh=kind.zh if kind else cert.cert_type,
                type_en=kind.en if kind else cert.cert_type,
                expires_on=cert.expires_on,
                days_left=(cert.expires_on - today).days,
                exams=exams[cert.id],
            )
        )
    return reminders


# --- verification codes and the public check ---------------------------------------------


def new_verification_code() -> str:
    """A random code printed on a certificate: 12 characters in three groups (60 bits)."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LETTERS))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalize_verification_code(text: str) -> str | None:
    """A code as typed (any case, spaces or dashes anywhere, O for 0, I or L for 1) in its
    printed form, or None when it cannot be one."""
    raw = re.sub(r"[\s\-\u2010-\u2015\uff0d]", "", text).upper().translate(_CODE_MISREAD)
    if len(raw) != _CODE_LETTERS or any(ch not in _CODE_ALPHABET for ch in raw):
        return None
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def ensure_verification_code(*, session: Session, certificate_id: int) -> str:
    """The certificate's verification code, given one now if it has none (when first
    printed)."""
    cert = session.get(Certification, certificate_id)
    if cert is None:
        raise NotFound(N_("certificate not found"))
    if cert.verification_code is None:
        code = new_verification_code()
        # 60 random bits collide about never; the unique index would refuse it anyway.
        while session.scalar(
            select(Certification.id).where(Certification.verification_code == code)
        ):
            code = new_verification_code()
        cert.verification_code = code
        session.flush()
    return cert.verification_code


def certificate_document(
    *, session: Session, certificate_id: int, scope: org_service.AgentScope
) -> CertificateDocument:
    """What the printed certificate says (its code made now if it had none); NotFound for a
    certificate of an agent outside the scope, as for one that does not exist."""
    cert = session.get(Certification, certificate_id)
    if cert is None:
        raise NotFound(N_("certificate not found"))
    try:
        agent = org_service.get_agent_or_raise(session=session, agent_id=cert.agent_id, scope=scope)
    except NotFound:
        raise NotFound(N_("certificate not found")) from None
    code = ensure_verification_code(session=session, certificate_id=cert.id)
    kind = get_certification_type(session=session, code=cert.cert_type)
    return CertificateDocument(
        certification_id=cert.id,
        agent_name=agent.name,
        employee_no=agent.employee_no,
        type_zh=kind.zh if kind else cert.cert_type,
        type_en=kind.en if kind else cert.cert_type,
        issued_on=cert.issued_on,
        expires_on=cert.expires_on,
        verification_code=code,
        revoked_on=revoked_on(cert),
    )


def verify_certificate(*, session: Session, code: str, today: date) -> Verification:
    """The public check of a printed code: the holder's name, the type, the dates and whether
    it is valid, expired or revoked on `today`; NotFound for a code no certificate has (the
    same answer for a malformed one)."""
    normalized = normalize_verification_code(code)
    cert = (
        session.scalar(select(Certification).where(Certification.verification_code == normalized))
        if normalized
        else None
    )
    if cert is None:
        raise NotFound(N_("no certificate has this verification code"))
    [agent] = org_service.agents_by_ids(session=session, agent_ids=[cert.agent_id])
    kind = get_certification_type(session=session, code=cert.cert_type)
    status = certification_status(cert.issued_on, cert.expires_on, today, revoked_on(cert))
    return Verification(
        name=agent.name,
        type_zh=kind.zh if kind else cert.cert_type,
        type_en=kind.en if kind else cert.cert_type,
        issued_on=cert.issued_on,
        expires_on=cert.expires_on,
        # Not yet valid reads as not valid: the page has only three answers.
        status="revoked"
        if status == "revoked"
        else "expired"
        if status in ("expired", "pending")
        else "valid",
    )


# --- import: the certificates importer ---------------------------------------------------

# An expiry cell saying the certificate never expires (an empty cell means: the type decides).
_NO_EXPIRY = {"长期", "长期有效", "永久", "永久有效", "无", "无期限", "never", "none", "permanent"}
NO_EXPIRY = "no expiry"  # what the expiry column's reader returns for those words


def _expiry_cell(text: str) -> date | str:
    if text.casefold() in _NO_EXPIRY:
        return NO_EXPIRY
    return date_cell(text)


CERTIFICATE_COLUMNS = (
    AGENT_COLUMN,
    Column(
        "cert_type",
        label=N_("Certification"),
        zh=("认证类型", "认证", "认证名称", "证书类型", "证书", "证书名称"),
        en=(
            "certification",
            "certification type",
            "cert type",
            "cert_type",
            "certificate",
            "type",
        ),
        example="product_knowledge",
        help=N_("The certification type: its code, Chinese or English name."),
        required=True,
        if_empty=N_("certification type is empty"),
    ),
    Column(
        "issued_on",
        label=N_("Issued"),
        zh=("发证日期", "颁发日期", "认证日期", "获证日期", "发证时间"),
        en=("issued", "issued on", "issued_on", "issue date", "date issued"),
        example="2025-03-01",
        help=N_("The issue date: 2025-03-01, 2025/3/1 or 2025年3月1日."),
        required=True,
        if_empty=N_("issue date is empty"),
        parse=date_cell,
    ),
    Column(
        "expires_on",
        label=N_("Expires"),
        zh=("有效期至", "到期日期", "失效日期", "截止日期", "有效期"),
        en=("expires", "expires on", "expires_on", "expiry", "expiry date", "valid until"),
        example="2026-02-28",
        help=N_("The last valid day; empty: the type's validity; 长期 or never: no expiry."),
        parse=_expiry_cell,
    ),
    Column(
        "source",
        label=N_("Source"),
        zh=("来源", "发证机构"),
        en=("source", "issuer"),
        example="培训部",
        help=N_("Who issued it (default: import:<file name>)."),
        parse=text_cell(200, N_("longer than {limit} characters")),
    ),
    NAME_COLUMN,
)


def _check_certificates(
    session: Session, rows: list[ParsedRow], problems: Problems, run: ImportRun[None]
) -> list[Planned[CertificationRowPlan]]:
    resolve = org_service.identity_resolver(session=session)
    types = _type_lookup(list_certification_types(session=session))
    default_source = f"import:{run.file_name}"[:200]
    checked: list[tuple[ParsedRow, int, CertificationTypeRead, date]] = []
    for row in rows:
        agent_id = row_agent(problems, row, resolve)
        type_text = row.text("cert_type")
        kind = types.get(fold_header(type_text)) if type_text else None
        if type_text and kind is None:
            codes = sorted({known.code for known in types.values()})
            problems.add(
                row.number,
                "cert_type",
                N_("unknown certification type (known: {codes})"),
                type_text,
                codes=", ".join(codes),
            )
        issued_on: date | None = row.value("issued_on")
        expires = row.value("expires_on")
        if isinstance(expires, date) and issued_on is not None and expires < issued_on:
            problems.add(
                row.number,
                "expires_on",
                N_("the expiry date is before the issue date"),
                row.text("expires_on"),
            )
        if agent_id is None or kind is None or issued_on is None:
            continue
        problems.first_row(
            (agent_id, kind.code, issued_on),
            row,
            "agent",
            N_("the same certificate also appears in row {row}"),
        )
        if not problems.failed(row.number):
            checked.append((row, agent_id, kind, issued_on))
    agent_ids = sorted({agent_id for _, agent_id, _, _ in checked})
    agents = {a.id: a for a in org_service.agents_by_ids(session=session, agent_ids=agent_ids)}
    existing: dict[tuple[int, str, date], Certification] = {}
    for chunk in in_chunks(agent_ids):
        for cert in session.scalars(select(Certification).where(Certification.agent_id.in_(chunk))):
            existing[(cert.agent_id, cert.cert_type, cert.issued_on)] = cert
    planned: list[Planned[CertificationRowPlan]] = []
    for row, agent_id, kind, issued_on in checked:
        agent = agents[agent_id]
        name_differs(problems, row, agent.name)
        old = existing.get((agent_id, kind.code, issued_on))
        expires = row.value("expires_on")
        expires_on = (
            None
            if expires == NO_EXPIRY
            else expires
            if isinstance(expires, date)
            else default_expiry(issued_on, kind.validity_months)
        )
        source = row.value("source") or default_source
        changes: dict[str, tuple[str, str]] = {}
        if old is not None:
            # What the file leaves out, the stored certificate keeps.
            expires_on = expires_on if row.text("expires_on") else old.expires_on
            source = row.value("source") or old.source
            if old.expires_on != expires_on:
                changes["expires_on"] = (cell_text(old.expires_on), cell_text(expires_on))
            if old.source != source:
                changes["source"] = (old.source, source)
        plan = CertificationRowPlan(
            row=row.number,
            agent_id=agent_id,
            employee_no=agent.employee_no,
            name=agent.name,
            cert_type=kind.code,
            issued_on=issued_on,
            expires_on=expires_on,
            source=source,
            action="create" if old is None else "update" if changes else "unchanged",
            changes=changes,
        )
        planned.append(Planned(plan, old))
    return planned


def _apply_certificates(
    session: Session, planned: list[Planned[CertificationRowPlan]], run: ImportRun[None]
) -> None:
    for item in planned:
        row = item.plan
        if row.action == "unchanged":
            continue
        cert: Certification | None = item.record
        if cert is None:
            cert = Certification(
                agent_id=row.agent_id, cert_type=row.cert_type, issued_on=row.issued_on
            )
            session.add(cert)
        cert.expires_on = row.expires_on
        cert.source = row.source
        cert.recorded_at = utcnow()
        cert.recorded_by_user_id = run.user_id


CERTIFICATES_IMPORTER: Importer[None, CertificationRowPlan] = Importer(
    kind="certifications",
    title=N_("Certificates"),
    columns=CERTIFICATE_COLUMNS,
    check=_check_certificates,
    apply=_apply_certificates,
)


def preview_certifications(
    *, session: Session, data: bytes, file_name: str, encoding: str | None = None
) -> CertificationPreview:
    """What importing the file would do, row by row, and every problem found; writes nothing."""
    return import_certifications(
        session=session, data=data, file_name=file_name, encoding=encoding, dry_run=True
    ).preview


def import_certifications(
    *,
    session: Session,
    data: bytes,
    file_name: str,
    encoding: str | None = None,
    dry_run: bool = False,
    recorded_by: User | None = None,
) -> CertificationImportResult:
    """Import certificates from a CSV/XLSX file: all rows, or none when any row has an error
    (`dry_run`: only report). The same certificate again (agent, type, issue date) is updated,
    never duplicated; an unchanged one is left alone."""
    return pipeline.run_import(
        CERTIFICATES_IMPORTER,
        session=session,
        data=data,
        file_name=file_name,
        encoding=encoding,
        dry_run=dry_run,
        options=None,
        user_id=recorded_by.id if recorded_by else None,
    )


__all__ = [
    "BUILTIN_TYPES",
    "CERTIFICATES_IMPORTER",
    "EXPIRING_REPORT_DAYS",
    "EXPIRING_SOON_DAYS",
    "REMINDER_DAYS",
    "STATUS_NAMES",
    "add_certification_type",
    "add_months",
    "certificate_document",
    "certification_status",
    "certifications_of",
    "default_expiry",
    "ensure_verification_code",
    "expiring_certifications",
    "expiry_reminders",
    "get_certification_type",
    "import_certifications",
    "known_certification_types",
    "list_certification_types",
    "list_certifications",
    "new_verification_code",
    "normalize_verification_code",
    "parse_date",
    "preview_certifications",
    "record_certification",
    "revoke_certification",
    "revoked_on",
    "valid_certifications",
    "verify_certificate",
]
