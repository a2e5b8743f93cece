"""`agentladder training ...`: certification types, programmes and certificates from the command
line."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from agentladder.cli_imports import add_import_commands
from agentladder.cli_output import FormatOption, OutputFormat, console, emit, fail
from agentladder.config import get_settings
from agentladder.db import session_scope
from agentladder.errors import DomainError, NotFound
from agentladder.org import service as org_service
from agentladder.training.certifications import service as certifications_service
from agentladder.training.certifications.schemas import (
    CertificationFilter,
    CertificationTypeCreate,
)
from agentladder.training.courses.cli import courses_app
from agentladder.training.exams.cli import attempts_app, exams_app
from agentladder.training.programmes import service as programmes
from agentladder.training.questions.cli import questions_app

training_app = typer.Typer(
    help="Training: question bank, exams, certifications, courses.",
    no_args_is_help=True,
)
types_app = typer.Typer(help="Certification types (认证类型).", no_args_is_help=True)
certifications_app = typer.Typer(
    help="Certificates agents hold (认证): list, import, revoke, what expires.",
    no_args_is_help=True,
)
programmes_app = typer.Typer(
    help="Certification programmes (认证项目): which exams award which certification.",
    no_args_is_help=True,
)
training_app.add_typer(types_app, name="types")
training_app.add_typer(certifications_app, name="certifications")
training_app.add_typer(programmes_app, name="programmes")
training_app.add_typer(questions_app, name="questions")
training_app.add_typer(courses_app, name="courses")
training_app.add_typer(exams_app, name="exams")
training_app.add_typer(attempts_app, name="attempts")


class StatusFilter(StrEnum):
    all = "all"
    valid = "valid"
    expiring = "expiring"
    expired = "expired"
    revoked = "revoked"


EVERYONE = org_service.AgentScope(everyone=True, team_ids=frozenset(), agent_id=None)


@types_app.command("list")
def types_list(fmt: FormatOption = OutputFormat.table) -> None:
    """List the certification types: built-in and added."""
    with session_scope() as session:
        rows = [
            kind.model_dump()
            for kind in certifications_service.list_certification_types(session=session)
        ]
    emit(rows, ["code", "zh", "en", "validity_months", "builtin"], fmt, "Certification types")


@types_app.command("add")
def types_add(
    code: str,
    zh: Annotated[str, typer.Argument(help="Chinese name, e.g. 投诉处理认证.")],
    en: Annotated[str, typer.Argument(help="English name, e.g. 'Complaint handling'.")],
    validity_months: Annotated[
        int | None,
        typer.Option(help="Months a certificate stays valid when a file gives no expiry."),
    ] = None,
) -> None:
    """Add a certification type (the ladder policy's gates name it by its code)."""
    try:
        type_in = CertificationTypeCreate.model_validate(
            {"code": code, "zh": zh, "en": en, "validity_months": validity_months}
        )
        with session_scope() as session:
            certifications_service.add_certification_type(session=session, type_in=type_in)
    except DomainError as exc:
        raise fail(exc) from exc
    except ValueError as exc:  # pydantic's ValidationError
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=1) from exc
    console.print(f"certification type {code} added")


add_import_commands(
    certifications_app,
    certifications_service.CERTIFICATES_IMPORTER,
    summary="Import certificates from CSV or XLSX; the same certificate again is updated, never "
    "duplicated.",
    run=certifications_service.import_certifications,
    row_fields=[
        ("employee_no", "employee no"),
        ("name", "name"),
        ("cert_type", "certification"),
        ("issued_on", "issued"),
        ("expires_on", "expires"),
    ],
)


@certifications_app.command("list")
def certifications_list(
    agent: Annotated[
        str | None, typer.Option(help="One agent: employee number or ACD identity.")
    ] = None,
    cert_type: Annotated[str | None, typer.Option("--type", help="Certification code.")] = None,
    status: Annotated[
        StatusFilter,
        typer.Option(
            help="valid includes expiring (within "
            f"{certifications_service.EXPIRING_SOON_DAYS} days)."
        ),
    ] = StatusFilter.all,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List certificates with their status today."""
    settings = get_settings()
    today = settings.today()
    filters = CertificationFilter.model_validate(
        {"cert_type": cert_type, "status": status.value, "per_page": 1000}
    )
    rows: list[dict[str, object]] = []
    try:
        with session_scope(settings) as session:
            if agent is not None:
                agent_id = org_service.resolve_identity(session=session, identity=agent)
                if agent_id is None:
                    raise NotFound("agent not found")
                filters = filters.model_copy(update={"agent_id": agent_id})
            while True:
                page = certifications_service.list_certifications(
                    session=session, scope=EVERYONE, filters=filters, today=today
                )
                rows += [cert.model_dump() for cert in page.certifications]
                if len(rows) >= page.total or not page.certifications:
                    break
                filters = filters.model_copy(update={"page": filters.page + 1})
    except DomainError as exc:
        raise fail(exc) from exc
    emit(
        rows,
        [
            "employee_no",
            "agent_name",
            "cert_type",
            "issued_on",
            "expires_on",
            "status",
            "source",
        ],
        fmt,
        f"Certificates on {today.isoformat()} ({len(rows)})",
    )


@certifications_app.command("revoke")
def certifications_revoke(
    certificate_id: Annotated[int, typer.Argument(min=1, max=2**31 - 1, help="Certificate id.")],
    reason: Annotated[str, typer.Option(help="Why it is revoked (kept with it).")],
) -> None:
    """Revoke a certificate: from today it counts for nothing and shows as revoked."""
    try:
        with session_scope() as session:
            revoked = certifications_service.revoke_certification(
                session=session, certificate_id=certificate_id, reason=reason, user=None
            )
    except DomainError as exc:
        raise fail(exc) from exc
    console.print(
        f"certificate #{revoked.id} ({revoked.employee_no} {revoked.cert_type} issued "
        f"{revoked.issued_on.isoformat()}) revoked"
    )


@certifications_app.command("expiring")
def certifications_expiring(
    days: Annotated[int, typer.Option(min=1, max=366, help="The window: 30, 60 or 90.")] = 30,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Certificates expiring in the next DAYS days and not renewed yet, soonest first, with the
    exams that renew each."""
    settings = get_settings()
    try:
        with session_scope(settings) as session:
            report = certifications_service.expiring_certifications(
                session=session, scope=EVERYONE, days=days, today=settings.today()
            )
    except DomainError as exc:
        raise fail(exc) from exc
    rows: list[dict[str, object]] = [
        {
            "id": row.certification.id,
            "employee_no": row.certification.employee_no,
            "agent_name": row.certification.agent_name,
            "team_code": row.certification.team_code,
            "cert_type": row.certification.cert_type,
            "issued_on": row.certification.issued_on,
            "expires_on": row.certification.expires_on,
            "days_left": row.days_left,
            "exams": [exam.code for exam in row.exams],
        }
        for row in report.rows
    ]
    counts = ", ".join(f"{count.cert_type} {count.count}" for count in report.counts)
    emit(
        rows,
        ["employee_no", "agent_name", "cert_type", "expires_on", "days_left", "exams"],
        fmt,
        f"Expiring {report.today.isoformat()} to {report.until.isoformat()} ({counts or 'none'})",
    )


@programmes_app.command("list")
def programmes_list(fmt: FormatOption = OutputFormat.table) -> None:
    """List the programmes: code, certification, exams to pass, validity, certificates given."""
    with session_scope() as session:
        rows = [programme.model_dump() for programme in programmes.list_programmes(session=session)]
    emit(
        rows,
        ["code", "cert_type", "exam_codes", "validity_months", "awarded"],
        fmt,
        "Certification programmes",
    )


@programmes_app.command("add")
def programmes_add(
    code: Annotated[str, typer.Argument(help="The programme's code, e.g. SS-CERT.")],
    cert_type: Annotated[str, typer.Option("--type", help="The certification it awards.")],
    exam: Annotated[
        list[str], typer.Option(help="An exam to pass (repeat for a set: all must be passed).")
    ],
    validity_months: Annotated[
        int | None,
        typer.Option(help="Months an awarded certificate is valid (default: the type's)."),
    ] = None,
) -> None:
    """Add a programme, or change the one with this code."""
    try:
        programme_in = programmes.ProgrammeIn.model_validate(
            {
                "code": code,
                "cert_type": cert_type,
                "exam_codes": exam,
                "validity_months": validity_months,
            }
        )
        with session_scope() as session:
            saved = programmes.save_programme(
                session=session, programme_in=programme_in, user_id=None
            )
    except DomainError as exc:
        raise fail(exc) from exc
    except ValueError as exc:  # pydantic's ValidationError
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=1) from exc
    console.print(
        f"programme {saved.code} saved: {', '.join(saved.exam_codes)} -> {saved.cert_type}"
    )


@programmes_app.command("remove")
def programmes_remove(code: str) -> None:
    """Remove a programme; the certificates it awarded stay."""
    try:
        with session_scope() as session:
            programmes.delete_programme(session=session, code=code)
    except DomainError as exc:
        raise fail(exc) from exc
    console.print(f"programme {code} removed")
