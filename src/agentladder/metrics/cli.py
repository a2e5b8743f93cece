"""`agentladder metrics ...`: compute and show KPIs per period."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from agentladder.cli_output import FormatOption, OutputFormat, PeriodOption, console, emit, fail
from agentladder.config import get_settings
from agentladder.db import session_scope
from agentladder.errors import DomainError
from agentladder.metrics import service as metrics_service

metrics_app = typer.Typer(help="KPIs per agent and queue, per period.", no_args_is_help=True)


class Engine(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


@metrics_app.command("compute")
def compute(
    period: PeriodOption,
    engine: Annotated[Engine, typer.Option(help="duckdb (in process) or spark.")] = Engine.duckdb,
) -> None:
    """Compute every metric for a period (re-running replaces the period's values)."""
    settings = get_settings()
    try:
        with session_scope(settings) as session:
            report = metrics_service.compute_period(
                session=session, settings=settings, period=period, engine=engine.value
            )
    except DomainError as exc:
        raise fail(exc) from exc
    console.print(
        f"{report.period.label}: {report.values} values for {report.agents} agents and "
        f"{report.queues} queues ({report.engine}, {report.seconds:.2f} s)"
    )


@metrics_app.command("show")
def show(
    period: PeriodOption,
    agent: Annotated[str | None, typer.Option(help="One agent (employee number).")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Show a period's stored metrics."""
    try:
        with session_scope() as session:
            values = metrics_service.period_values(session=session, period=period, subject=agent)
    except DomainError as exc:
        raise fail(exc) from exc
    if fmt is OutputFormat.json:
        print(json.dumps(values, ensure_ascii=False, indent=2))
        return
    rows: list[dict[str, object]] = [
        {"agent": entry["agent"], **entry["metrics"]} for entry in values["agents"]
    ]
    columns = ["agent", *(rows[0].keys() - {"agent"} if rows else [])]
    ordered = ["agent"] + [k.id for k in metrics_service.CATALOG if k.id in columns]
    emit(rows, ordered, fmt, f"Agents {values['period']}")
    queue_rows: list[dict[str, object]] = [
        {"queue": entry["queue"], **entry["metrics"]} for entry in values["queues"]
    ]
    if queue_rows and fmt is OutputFormat.table:
        emit(queue_rows, list(queue_rows[0].keys()), fmt, f"Queues {values['period']}")


@metrics_app.command("catalog")
def catalog(fmt: FormatOption = OutputFormat.table) -> None:
    """List every metric with its unit, direction and definition."""
    rows: list[dict[str, object]] = list(metrics_service.catalog_rows())
    emit(rows, ["id", "zh", "en", "unit", "direction", "scope", "definition"], fmt, "Metrics")
