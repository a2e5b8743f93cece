"""What every CLI command shares: the console, error exits and table/json/csv output."""

from __future__ import annotations

import csv
import json
import sys
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from agentladder.errors import DomainError, InvalidInput
from agentladder.periods import Period, parse_period

console = Console()


class OutputFormat(StrEnum):
    """How list commands print."""

    table = "table"
    json = "json"
    csv = "csv"


FormatOption = Annotated[OutputFormat, typer.Option("--format", help="table, json or csv.")]
PERIOD_HELP = "2026-10 (month), 2026-Q4, 2026-W41 or 2026-10-08."


def period_value(text: str) -> Period:
    """A `--period` option's text as a Period, or a usage error naming the option."""
    try:
        return parse_period(text)
    except InvalidInput as exc:
        raise typer.BadParameter(str(exc), param_hint="--period") from exc


def period_option(help_text: str = PERIOD_HELP, name: str = "--period") -> Any:
    """A period option, parsed once into a Period (`Annotated[Period, period_option()]`)."""
    return typer.Option(name, parser=period_value, metavar="PERIOD", help=help_text)


PeriodOption = Annotated[Period, period_option()]


# A command about one agent names it the same way everywhere: `ladder explain 100001`,
# `report scorecard 100001`; `--agent 100001` is accepted too, as scripts write either.
AgentArgument = Annotated[
    str | None,
    typer.Argument(metavar="AGENT", help="The agent's employee number.", show_default=False),
]
AgentOption = Annotated[
    str | None,
    typer.Option("--agent", help="The same as AGENT.", show_default=False),
]


def chosen_agent(argument: str | None, option: str | None) -> str:
    """The agent given as AGENT or as --agent (not two different ones)."""
    if argument and option and argument != option:
        raise typer.BadParameter(f"AGENT {argument} and --agent {option} differ: give one")
    agent = argument or option
    if not agent:
        raise typer.BadParameter("give the agent's employee number (AGENT or --agent)")
    return agent


def fail(error: DomainError) -> typer.Exit:
    """Print a domain error and return the exit (code 1) to raise."""
    console.print(f"[red]error:[/red] {error}")
    return typer.Exit(code=1)


def local_time_text(value: datetime) -> str:
    """A stored moment as the terminal shows it: to the minute, in the centre's zone (named),
    never in UTC."""
    # Imported here: the root --help loads no settings and no Babel (tests/test_startup.py).
    from agentladder.config import get_settings
    from agentladder.formatting import local_moment

    settings = get_settings()
    return f"{local_moment(value, settings.tz):%Y-%m-%d %H:%M} ({settings.timezone})"


def count_text(value: int) -> str:
    """A count with grouping (209,739)."""
    from agentladder.formatting import format_number

    return format_number(value, "int", "en")


def cell_text(value: object) -> str:
    """A value as a table cell (moments in the centre's zone)."""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, datetime):
        return local_time_text(value)
    return "" if value is None else str(value)


def emit(rows: list[dict[str, object]], columns: list[str], fmt: OutputFormat, title: str) -> None:
    """Print rows as a Rich table, a JSON list or CSV."""
    if fmt is OutputFormat.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
    elif fmt is OutputFormat.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows({k: cell_text(v) for k, v in row.items()} for row in rows)
    else:
        table = Table(title=title)
        for index, column in enumerate(columns):
            # The first column says whose row it is: narrow terminals shrink the others first.
            key_width = max((len(cell_text(row.get(column))) for row in rows), default=0)
            # Fold what does not fit rather than cut it to "1…".
            table.add_column(
                column, min_width=min(key_width, 24) if index == 0 else None, overflow="fold"
            )
        for row in rows:
            table.add_row(*(cell_text(row.get(column)) for column in columns))
        console.print(table)
