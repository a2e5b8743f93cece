"""Training services: certification types, the certificates agents hold, and their import.

The exam system will issue certificates through `record_certification` (source `exam:<id>`);
until then they come from CSV/XLSX files (`import_certifications`, all rows or none) or are
recorded by hand. The ladder asks `valid_certifications` which ones count on a given day.
"""

from __future__ import annotations

import calendar
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from agentladder.db import utcnow
from agentladder.errors import Conflict, InvalidInput, NotFound
from agentladder.i18n import N_
from agentladder.org import service as org_service
from agentladder.org.schemas import AgentRead
from agentladder.tabular import TableFileError, cell_text, fold_header, map_headers, read_table
from agentladder.training.models import Certification, CertificationType
from agentladder.training.schemas import (
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
    ImportIssue,
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

STATUS_NAMES: dict[str, str] = {
    "valid": N_("Valid"),
    "expiring": N_("Expiring soon"),
    "expired": N_("Expired"),
    "pending": N_("Not yet valid"),
}
IMPORT_ACTION_NAMES = {"create": N_("New"), "update": N_("Changed"), "unchanged": N_("Unchanged")}
IMPORT_FIELD_NAMES = {"expires_on": N_("Expires"), "source": N_("Source")}

# Canonical field -> header spellings seen in Chinese and English exports (compared folded).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "agent": (
        "工号",
        "员工号",
        "员工编号",
        "座席工号",
        "坐席工号",
        "座席",
        "坐席",
        "agent",
        "employee_no",
        "employee no",
        "employee number",
        "employee id",
        "agent id",
        "staff id",
        "work number",
    ),
    "cert_type": (
        "认证类型",
        "认证",
        "认证名称",
        "证书类型",
        "证书",
        "证书名称",
        "certification",
        "certification type",
        "cert type",
        "cert_type",
        "certificate",
        "type",
    ),
    "issued_on": (
        "发证日期",
        "颁发日期",
        "认证日期",
        "获证日期",
        "发证时间",
        "issued",
        "issued on",
        "issued_on",
        "issue date",
        "date issued",
    ),
    "expires_on": (
        "有效期至",
        "到期日期",
        "失效日期",
        "截止日期",
        "有效期",
        "expires",
        "expires on",
        "expires_on",
        "expiry",
        "expiry date",
        "valid until",
    ),
    "source": ("来源", "发证机构", "source", "issuer"),
    "name": ("姓名", "座席姓名", "坐席姓名", "name", "agent name"),  # checked against the agent
}
REQUIRED = ("agent", "cert_type", "issued_on")
# An expiry cell saying the certificate never expires (an empty cell means: the type decides).
_NO_EXPIRY = {"长期", "长期有效", "永久", "永久有效", "无", "无期限", "never", "none", "permanent"}
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_IN_CHUNK = 5000  # ids per IN (...) list; SQLite limits bound parameters


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _IN_CHUNK):
        yield ids[start : start + _IN_CHUNK]


# --- dates and validity --------------------------------------------------------------------


def parse_date(text: str) -> date:
    """A date as exports write it: 2024-03-01, 2024/3/1, 2024.3.1, 2024年3月1日, 20240301."""
    value = text.strip()
    for pattern in _DATE_PATTERNS:
        match = pattern.match(value)
        if match:
            year, month, day = (int(part) for part in match.groups())
            return date(year, month, day)
    raise ValueError(value)


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
    issued_on: date, expires_on: date | None, today: date
) -> CertificationStatus:
    """Valid, expiring soon, expired, or pending (issued in the future), on `today`."""
    if issued_on > today:
        return "pending"
    if expires_on is not None and expires_on < today:
        return "expired"
    if expires_on is not None and expires_on <= today + timedelta(days=EXPIRING_SOON_DAYS):
        return "expiring"
    return "valid"


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


def _reads(
    certificates: Iterable[Certification],
    agents: dict[int, AgentRead],
    types: dict[str, CertificationTypeRead],
    today: date,
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
                status=certification_status(cert.issued_on, cert.expires_on, today),
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
    return _reads(certificates, agents, _types_by_code(session), today or date.today())


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
        )
    if filters.status == "expiring":
        query = query.where(Certification.expires_on <= soon)
    elif filters.status == "expired":
        query = query.where(Certification.expires_on < today)
    if scope.everyone and not (filters.q or filters.team or filters.agent_id is not None):
        found = list(session.scalars(query))
    else:
        found = [
            cert
            for chunk in _chunks(sorted(agents))
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
            found[start : start + filters.per_page], agents, _types_by_code(session), today
        ),
    )


def valid_certifications(
    *, session: Session, agent_ids: Iterable[int], on: date
) -> dict[int, set[str]]:
    """The certification codes each agent holds on a day (issued on or before it, expiring on
    or after it, or never); every agent asked about has an entry, empty when none."""
    wanted = sorted(set(agent_ids))
    held: dict[int, set[str]] = {agent_id: set() for agent_id in wanted}
    for chunk in _chunks(wanted):
        rows = session.execute(
            select(Certification.agent_id, Certification.cert_type).where(
                Certification.agent_id.in_(chunk),
                Certification.issued_on <= on,
                or_(Certification.expires_on.is_(None), Certification.expires_on >= on),
            )
        )
        for agent_id, cert_type in rows:
            held[agent_id].add(cert_type)
    return held


# --- import --------------------------------------------------------------------------------


@dataclass
class _Record:
    row: int
    agent_id: int
    cert_type: str
    issued_on: date
    expires_on: date | None  # as the file says it, or the type's default
    expiry_given: bool  # the file states an expiry (a date or "no expiry")
    source: str | None  # None: the file names no source
    name: str  # the name the file gives, checked against the agent's


@dataclass
class _Plan:
    preview: CertificationPreview
    records: list[_Record] = field(default_factory=list)
    existing: dict[tuple[int, str, date], Certification] = field(default_factory=dict)


def _map_columns(header: list[str], issues: list[ImportIssue]) -> dict[str, int]:
    columns, problems = map_headers(header, HEADER_ALIASES, REQUIRED)
    issues += [
        ImportIssue(
            row=1, column=problem.column, severity=problem.severity, message=problem.message
        )
        for problem in problems
    ]
    return columns


def _validate_row(
    number: int,
    cells: list[str],
    header: list[str],
    columns: dict[str, int],
    resolve: Callable[[str], int | None],
    types: dict[str, CertificationTypeRead],
    seen: dict[tuple[int, str, date], int],
    issues: list[ImportIssue],
) -> _Record | None:
    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    def problem(name: str, message: str, value: str | None = None, **params: object) -> None:
        issues.append(
            ImportIssue(
                row=number,
                column=header[columns[name]],
                message=message,
                value=value,
                params=params,
            )
        )

    errors_before = len(issues)
    identity = cell("agent")
    agent_id = resolve(identity) if identity else None
    if not identity:
        problem("agent", N_("employee number is empty"))
    elif agent_id is None:
        problem("agent", N_("no agent has this employee number or ACD identity"), identity)
    type_text = cell("cert_type")
    kind = types.get(fold_header(type_text)) if type_text else None
    if not type_text:
        problem("cert_type", N_("certification type is empty"))
    elif kind is None:
        codes = sorted({known.code for known in types.values()})
        problem(
            "cert_type",
            N_("unknown certification type (known: {codes})"),
            type_text,
            codes=", ".join(codes),
        )
    issued_on: date | None = None
    raw_issued = cell("issued_on")
    if not raw_issued:
        problem("issued_on", N_("issue date is empty"))
    else:
        try:
            issued_on = parse_date(raw_issued)
        except ValueError:
            problem("issued_on", N_("not a date (write 2024-03-01)"), raw_issued)
    expires_on: date | None = None
    raw_expires = cell("expires_on")
    expiry_given = bool(raw_expires)
    if raw_expires and raw_expires.casefold() not in _NO_EXPIRY:
        try:
            expires_on = parse_date(raw_expires)
        except ValueError:
            problem("expires_on", N_("not a date (write 2024-03-01)"), raw_expires)
        else:
            if issued_on is not None and expires_on < issued_on:
                problem("expires_on", N_("the expiry date is before the issue date"), raw_expires)
    elif not raw_expires and kind is not None and issued_on is not None:
        expires_on = default_expiry(issued_on, kind.validity_months)
    source = cell("source") or None
    if source is not None and len(source) > 200:
        problem("source", N_("longer than {limit} characters"), source[:40] + "…", limit=200)
    if agent_id is not None and kind is not None and issued_on is not None:
        key = (agent_id, kind.code, issued_on)
        if key in seen:
            problem(
                "agent",
                N_("the same certificate also appears in row {row}"),
                identity,
                row=seen[key],
            )
        else:
            seen[key] = number
    if len(issues) > errors_before or agent_id is None or kind is None or issued_on is None:
        return None
    return _Record(
        number, agent_id, kind.code, issued_on, expires_on, expiry_given, source, cell("name")
    )


def _plan(session: Session, data: bytes, file_name: str, encoding: str | None) -> _Plan:
    table = read_table(data, file_name, encoding)
    issues: list[ImportIssue] = []
    columns = _map_columns(table.header, issues)
    data_rows = [(number, cells) for number, cells in table.rows if any(cells)]
    base_name = Path(file_name).name or "certifications"
    default_source = f"import:{base_name}"[:200]
    records: list[_Record] = []
    rows: list[CertificationRowPlan] = []
    existing: dict[tuple[int, str, date], Certification] = {}
    if not any(issue.severity == "error" for issue in issues):
        resolve = org_service.identity_resolver(session=session)
        types = _type_lookup(list_certification_types(session=session))
        seen: dict[tuple[int, str, date], int] = {}
        for number, cells in data_rows:
            record = _validate_row(
                number, cells, table.header, columns, resolve, types, seen, issues
            )
            if record is not None:
                records.append(record)
        if not data_rows:
            issues.append(
                ImportIssue(row=None, column=None, message=N_("the file has no data rows"))
            )
    if records:
        agent_ids = sorted({record.agent_id for record in records})
        agents = {a.id: a for a in org_service.agents_by_ids(session=session, agent_ids=agent_ids)}
        keys = [(r.agent_id, r.cert_type, r.issued_on) for r in records]
        for chunk in _chunks(agent_ids):
            for cert in session.scalars(
                select(Certification).where(Certification.agent_id.in_(chunk))
            ):
                key = (cert.agent_id, cert.cert_type, cert.issued_on)
                existing[key] = cert
        existing = {key: existing[key] for key in keys if key in existing}
        for record in records:
            agent = agents[record.agent_id]
            if record.name and fold_header(record.name) != fold_header(agent.name):
                issues.append(
                    ImportIssue(
                        row=record.row,
                        column=table.header[columns["name"]],
                        severity="warning",
                        message=N_("the name differs from the agent's name ({name})"),
                        value=record.name,
                        params={"name": agent.name},
                    )
                )
            old = existing.get((record.agent_id, record.cert_type, record.issued_on))
            expires_on, source = record.expires_on, record.source or default_source
            changes: dict[str, tuple[str, str]] = {}
            if old is not None:
                # What the file leaves out, the stored certificate keeps.
                expires_on = expires_on if record.expiry_given else old.expires_on
                source = record.source or old.source
                if old.expires_on != expires_on:
                    changes["expires_on"] = (cell_text(old.expires_on), cell_text(expires_on))
                if old.source != source:
                    changes["source"] = (old.source, source)
            record.expires_on, record.source = expires_on, source
            rows.append(
                CertificationRowPlan(
                    row=record.row,
                    agent_id=record.agent_id,
                    employee_no=agent.employee_no,
                    name=agent.name,
                    cert_type=record.cert_type,
                    issued_on=record.issued_on,
                    expires_on=expires_on,
                    source=source,
                    action="create" if old is None else "update" if changes else "unchanged",
                    changes=changes,
                )
            )
    issues.sort(key=lambda issue: issue.row or 0)
    preview = CertificationPreview(
        file_name=base_name,
        file_sha256=hashlib.sha256(data).hexdigest(),
        encoding=table.encoding,
        columns={name: table.header[index] for name, index in columns.items()},
        rows_read=len(data_rows),
        rows=rows,
        issues=issues,
    )
    return _Plan(preview=preview, records=records, existing=existing)


def preview_certifications(
    *, session: Session, data: bytes, file_name: str, encoding: str | None = None
) -> CertificationPreview:
    """What importing the file would do, row by row, and every problem found; writes nothing."""
    return _plan(session, data, file_name, encoding).preview


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
    plan = _plan(session, data, file_name, encoding)
    preview = plan.preview
    if dry_run or preview.errors:
        return CertificationImportResult(applied=False, dry_run=dry_run, preview=preview)
    recorder = recorded_by.id if recorded_by else None
    for record, row in zip(plan.records, preview.rows, strict=True):
        if row.action == "unchanged":
            continue
        cert = plan.existing.get((record.agent_id, record.cert_type, record.issued_on))
        if cert is None:
            cert = Certification(
                agent_id=record.agent_id, cert_type=record.cert_type, issued_on=record.issued_on
            )
            session.add(cert)
        cert.expires_on = row.expires_on
        cert.source = row.source
        cert.recorded_at = utcnow()
        cert.recorded_by_user_id = recorder
    session.flush()
    return CertificationImportResult(applied=True, preview=preview)


# --- uploads waiting between preview and apply -------------------------------------------

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
_TOKEN = re.compile(r"^[0-9a-f]{64}$")
_UPLOADS = ("uploads", "certifications")


def stash_upload(*, data_dir: Path, data: bytes, file_name: str) -> str:
    """Keep an uploaded file until it is applied; the token is the file's SHA-256."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise TableFileError("the file is larger than {mb} MB", mb=MAX_UPLOAD_BYTES // 2**20)
    token = hashlib.sha256(data).hexdigest()
    folder = data_dir.joinpath(*_UPLOADS)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / token).write_bytes(data)
    (folder / f"{token}.name").write_text(
        Path(file_name).name or "certifications", encoding="utf-8"
    )
    return token


def load_upload(*, data_dir: Path, token: str) -> tuple[bytes, str]:
    """The stashed file and its original name."""
    folder = data_dir.joinpath(*_UPLOADS)
    if not _TOKEN.match(token) or not (folder / token).exists():
        raise TableFileError("the uploaded file is no longer available; upload it again")
    return (folder / token).read_bytes(), (folder / f"{token}.name").read_text(encoding="utf-8")


__all__ = [
    "BUILTIN_TYPES",
    "EXPIRING_SOON_DAYS",
    "IMPORT_ACTION_NAMES",
    "IMPORT_FIELD_NAMES",
    "STATUS_NAMES",
    "add_certification_type",
    "add_months",
    "certification_status",
    "certifications_of",
    "default_expiry",
    "get_certification_type",
    "import_certifications",
    "known_certification_types",
    "list_certification_types",
    "list_certifications",
    "load_upload",
    "parse_date",
    "preview_certifications",
    "record_certification",
    "stash_upload",
    "valid_certifications",
]
