"""`agentladder training ...`: certification types and certificates from the command line."""

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

training_app = typer.Typer(
    help="Training: certification types and certificates.", no_args_is_help=True
)
types_app = typer.Typer(help="Certification types (认证类型).", no_args_is_help=True)
certifications_app = typer.Typer(
    help="Certificates agents hold (认证): list, import and the import template.",
    no_args_is_help=True,
)
training_app.add_typer(types_app, name="types")
training_app.add_typer(certifications_app, name="certifications")


class StatusFilter(StrEnum):
    all = "all"
    valid = "valid"
    expiring = "expiring"
    expired = "expired"


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
