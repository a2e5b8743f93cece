"""`agentladder training ...`: certification types and certificates from the command line."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from agentladder.cli_output import FormatOption, OutputFormat, cell_text, console, emit, fail
from agentladder.config import get_settings
from agentladder.db import session_scope
from agentladder.errors import DomainError, NotFound
from agentladder.i18n import translate
from agentladder.org import service as org_service
from agentladder.training import service as training_service
from agentladder.training.schemas import (
    CertificationFilter,
    CertificationPreview,
    CertificationTypeCreate,
)

training_app = typer.Typer(
    help="Training: certification types and certificates.", no_args_is_help=True
)
types_app = typer.Typer(help="Certification types (认证类型).", no_args_is_help=True)
certifications_app = typer.Typer(
    help="Certificates agents hold (认证): list and import.", no_args_is_help=True
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
            kind.model_dump() for kind in training_service.list_certification_types(session=session)
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
            training_service.add_certification_type(session=session, type_in=type_in)
    except DomainError as exc:
        raise fail(exc) from exc
    except ValueError as exc:  # pydantic's ValidationError
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=1) from exc
    console.print(f"certification type {code} added")


def _print_preview(preview: CertificationPreview) -> None:
    language = get_settings().default_language
    console.print(
        f"{preview.file_name} ({preview.encoding}): {preview.rows_read} rows read, "
        f"{preview.count('create')} new, {preview.count('update')} changed, "
        f"{preview.count('unchanged')} unchanged, {len(preview.errors)} errors"
    )
    if preview.issues:
        table = Table(title="Problems")
        for column in ("row", "column", "value", "problem"):
            table.add_column(column)
        for issue in preview.issues:
            style = "red" if issue.severity == "error" else "yellow"
            table.add_row(
                cell_text(issue.row),
                cell_text(issue.column),
                cell_text(issue.value),
                f"[{style}]{translate(language, issue.message, **issue.params)}[/{style}]",
            )
        console.print(table)
    changed = [row for row in preview.rows if row.action != "unchanged"]
    if changed:
        table = Table(title="Changes")
        for column in ("row", "employee no", "name", "certification", "issued", "expires"):
            table.add_column(column)
        table.add_column("action")
        for row in changed:
            changes = "; ".join(f"{k}: {a} -> {b}" for k, (a, b) in row.changes.items())
            table.add_row(
                str(row.row),
                row.employee_no,
                row.name,
                row.cert_type,
                row.issued_on.isoformat(),
                cell_text(row.expires_on),
                f"{row.action} {changes}".strip(),
            )
        console.print(table)


@certifications_app.command("import")
def certifications_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
    encoding: Annotated[
        str | None,
        typer.Option(help="CSV text encoding (default: detect; gb18030 for Chinese Excel)."),
    ] = None,
) -> None:
    """Import certificates from CSV or XLSX (工号, 认证类型, 发证日期, 有效期至, 来源);
    a file with any error changes nothing."""
    data = file.read_bytes()
    try:
        with session_scope() as session:
            result = training_service.import_certifications(
                session=session, data=data, file_name=file.name, encoding=encoding, dry_run=dry_run
            )
    except DomainError as exc:
        raise fail(exc) from exc
    preview = result.preview
    _print_preview(preview)
    if preview.errors:
        console.print("[red]nothing imported:[/red] correct the rows above and import again")
        raise typer.Exit(code=1)
    console.print(
        "dry run: nothing written"
        if dry_run
        else ("[green]imported[/green]" if result.applied else "nothing imported")
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
            help=f"valid includes expiring (within {training_service.EXPIRING_SOON_DAYS} days)."
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
                page = training_service.list_certifications(
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
