"""`agentladder report ...`: the ladder's reports written to a file as XLSX, PDF or HTML."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from agentladder.cli_output import (
    AgentArgument,
    AgentOption,
    chosen_agent,
    console,
    fail,
    period_option,
)
from agentladder.config import Language
from agentladder.db import session_scope
from agentladder.errors import DomainError
from agentladder.ladder.documents import service as documents_service
from agentladder.org import service as org_service
from agentladder.periods import Period
from agentladder.reports import service as reports_service
from agentladder.reports.schemas import Document

report_app = typer.Typer(
    help="Ladder reports (scorecard, team dashboard, promotion list) as XLSX, PDF or HTML.",
    no_args_is_help=True,
)


class ReportFormat(StrEnum):
    xlsx = "xlsx"
    pdf = "pdf"
    html = "html"


class ReportLanguage(StrEnum):
    zh_Hans = "zh_Hans"
    en = "en"


PeriodOption = Annotated[
    Period | None, period_option("2026-10 (month) or 2026-Q4; default: the latest decided.")
]
FormatOption = Annotated[
    ReportFormat | None,
    typer.Option("--format", help="xlsx, pdf or html; default: from the --out file's suffix."),
]
OutOption = Annotated[
    Path, typer.Option("--out", dir_okay=False, writable=True, help="The file to write.")
]
LanguageOption = Annotated[
    ReportLanguage, typer.Option("--language", help="zh_Hans (简体中文) or en.")
]


def _language(value: ReportLanguage) -> Language:
    return "en" if value is ReportLanguage.en else "zh_Hans"


def _format(fmt: ReportFormat | None, out: Path) -> ReportFormat:
    """The format asked for, else the one the file name says."""
    if fmt is not None:
        return fmt
    suffix = out.suffix.lower().lstrip(".")
    if suffix == "htm":
        return ReportFormat.html
    try:
        return ReportFormat(suffix)
    except ValueError:
        raise typer.BadParameter(
            "give --format xlsx, pdf or html, or an --out file ending in one of them",
            param_hint="--format",
        ) from None


def _write(build: Callable[[Session], Document], fmt: ReportFormat | None, out: Path) -> None:
    """Build the document in a session, render it, write the file and say so."""
    chosen = _format(fmt, out)
    try:
        with session_scope() as session:
            document = build(session)
        data = reports_service.render_document(document, chosen.value)
    except DomainError as exc:
        raise fail(exc) from exc
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    console.print(
        f"wrote {out} ({chosen.value}, {len(data):,} bytes): {document.title}",
        soft_wrap=True,
        markup=False,
        highlight=False,
    )


@report_app.command("scorecard")
def scorecard(
    out: OutOption,
    agent_argument: AgentArgument = None,
    agent_option: AgentOption = None,
    period: PeriodOption = None,
    fmt: FormatOption = None,
    language: LanguageOption = ReportLanguage.zh_Hans,
) -> None:
    """An agent's scorecard: level, progress to the next level per gate, trend, evidence with
    sample sizes, decisions and appeals."""
    agent = chosen_agent(agent_argument, agent_option)
    _write(
        lambda session: documents_service.scorecard_document(
            session=session,
            employee_no=agent,
            period=period,
            language=_language(language),
            scope=org_service.AgentScope.everyone_scope(),
        ),
        fmt,
        out,
    )


@report_app.command("team")
def team(
    out: OutOption,
    period: PeriodOption = None,
    team_code: Annotated[
        str | None, typer.Option("--team", help="One team's code; default: every team.")
    ] = None,
    fmt: FormatOption = None,
    language: LanguageOption = ReportLanguage.zh_Hans,
) -> None:
    """A team's dashboard: level pyramid, score distribution, who is close to promotion,
    who is at risk, pending approvals."""
    _write(
        lambda session: documents_service.team_document(
            session=session,
            period=period,
            team_code=team_code,
            language=_language(language),
            scope=org_service.AgentScope.everyone_scope(),
            today=date.today(),
        ),
        fmt,
        out,
    )


@report_app.command("promotions")
def promotions(
    out: OutOption,
    period: PeriodOption = None,
    fmt: FormatOption = None,
    language: LanguageOption = ReportLanguage.zh_Hans,
) -> None:
    """The period's promotion list for management (奖惩、升迁依据) with the fairness table:
    promotion and demotion rates by team, skill group, tenure band and evaluator group."""
    _write(
        lambda session: documents_service.promotions_document(
            session=session, period=period, language=_language(language)
        ),
        fmt,
        out,
    )
