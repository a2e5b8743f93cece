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
        with (
            console.status(f"computing the metrics of {period.label} ({engine.value})..."),
            session_scope(settings) as session,
        ):
            report = metrics_service.compute_period(
                session=session, settings=settings, period=period, engine=engine.value
            )
    except DomainError as exc:
        raise fail(exc) from exc
    console.print(
        f"{report.period.label}: {report.values} values for {report.agents} agents and "
        f"{report.queues} queues ({report.engine}, {report.seconds:.2f} s)"
    )


# The columns `metrics show` prints in a terminal when none are chosen: 35 do not fit.
TABLE_METRICS = (
    "handled_calls",
    "aht_s",
    "avg_ring_s",
    "fcr_rate",
    "transfer_rate",
    "csat_rate",
    "attendance_rate",
)


def _chosen_metrics(text: str | None) -> list[str] | None:
    """The metric ids of `--metrics a,b`, each checked against the catalog."""
    if text is None:
        return None
    chosen = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in chosen if m not in metrics_service.BY_ID]
    if unknown or not chosen:
        raise typer.BadParameter(
            f"unknown metric {', '.join(unknown) or '(none given)'}; "
            "`agentladder metrics catalog` lists them",
            param_hint="--metrics",
        )
    return chosen


def _cell(value: object) -> object:
    """A value as a terminal shows it: floats rounded, nothing for no data."""
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        return round(value, 3) if abs(value) < 10 else round(value, 1)
    return value


@metrics_app.command("show")
def show(
    period: PeriodOption,
    agent: Annotated[str | None, typer.Option(help="One agent (employee number).")] = None,
    metrics: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated metric ids to show (default in a table: "
            + ", ".join(TABLE_METRICS)
            + "; every metric as json or csv)."
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Show a period's stored metrics."""
    chosen = _chosen_metrics(metrics)
    try:
        with session_scope() as session:
            values = metrics_service.period_values(session=session, period=period, subject=agent)
    except DomainError as exc:
        raise fail(exc) from exc
    if chosen is not None:
        for entry in (*values["agents"], *values["queues"]):
            entry["metrics"] = {k: v for k, v in entry["metrics"].items() if k in chosen}
            if "samples" in entry:
                entry["samples"] = {k: v for k, v in entry["samples"].items() if k in chosen}
    if fmt is OutputFormat.json:
        print(json.dumps(values, ensure_ascii=False, indent=2))
        return
    if not values["agents"] and not values["queues"]:
        console.print(
            f"no metrics stored for {period.label}"
            + (f" and agent {agent}" if agent else "")
            + f"; compute them with `agentladder metrics compute --period {period.label}`"
        )
        return
    table = fmt is OutputFormat.table
    if (table and len(values["agents"]) == 1 and not values["queues"]) or (table and agent):
        _show_one_agent(values, chosen)
        return
    shown = chosen or (list(TABLE_METRICS) if table else None)
    rows: list[dict[str, object]] = [
        {"agent": e["agent"], **{k: _cell(v) if table else v for k, v in e["metrics"].items()}}
        for e in values["agents"]
    ]
    ids = [k.id for k in metrics_service.CATALOG if not rows or k.id in rows[0]]
    columns = ["agent", *(m for m in ids if shown is None or m in shown)]
    emit(rows, columns, fmt, f"Agents {values['period']}")
    queue_rows: list[dict[str, object]] = [
        {"queue": e["queue"], **{k: _cell(v) for k, v in e["metrics"].items()}}
        for e in values["queues"]
    ]
    if queue_rows and table:
        queue_ids = [m for m in queue_rows[0] if m != "queue" and (shown is None or m in shown)]
        emit(queue_rows, ["queue", *queue_ids[:8]], fmt, f"Queues {values['period']}")
    if table and chosen is None:
        console.print(
            "more metrics: --metrics id,id (see `agentladder metrics catalog`), "
            "or --format csv / json for all of them"
        )


def _show_one_agent(values: dict[str, object], chosen: list[str] | None) -> None:
    """One agent's metrics as rows (metric, name, value, sample): they fit any terminal."""
    agents = values["agents"]
    assert isinstance(agents, list)
    for entry in agents:
        rows: list[dict[str, object]] = [
            {
                "metric": metric_id,
                "name": metrics_service.BY_ID[metric_id].en,
                "value": _cell(value),
                "sample": entry["samples"].get(metric_id, 0),
            }
            for metric_id, value in entry["metrics"].items()
            if chosen is not None or value is not None
        ]
        emit(
            rows,
            ["metric", "name", "value", "sample"],
            OutputFormat.table,
            f"Agent {entry['agent']} {values['period']}",
        )


@metrics_app.command("catalog")
def catalog(fmt: FormatOption = OutputFormat.table) -> None:
    """List every metric with its unit, direction and definition."""
    rows: list[dict[str, object]] = list(metrics_service.catalog_rows())
    emit(rows, ["id", "zh", "en", "unit", "direction", "scope", "definition"], fmt, "Metrics")
