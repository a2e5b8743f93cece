"""`agentladder cycle ...`: close a period in one command (metrics, subsystem aggregates, the
ladder), with a progress bar per step and a summary per step."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from agentladder.cli_output import FormatOption, OutputFormat, emit, fail, period_option
from agentladder.config import get_settings
from agentladder.cycle import service as cycle_service
from agentladder.db import session_scope
from agentladder.errors import DomainError
from agentladder.periods import Period

cycle_app = typer.Typer(
    help="The period close: metrics, then subsystem aggregates, then the ladder.",
    no_args_is_help=True,
)


def _figures_text(figures: dict[str, object]) -> str:
    """A step's figures in one line ("values 1234, agents 120" / "hold 101; stored 0...")."""
    parts = []
    for key, value in figures.items():
        if key == "stale_inputs" and isinstance(value, list):
            parts.append(f"decided on {len(value)} stale inputs")
        elif isinstance(value, dict):
            parts.append(", ".join(f"{k} {n}" for k, n in value.items()) or "no decisions")
        else:
            parts.append(f"{key} {value}")
    return "; ".join(parts)


@cycle_app.command("close")
def close(
    period: Annotated[Period, period_option("2026-10 (month) or 2026-Q4.")],
    allow_stale: Annotated[
        bool,
        typer.Option(
            "--allow-stale",
            help="Let the ladder decide even if a step leaves stale evidence; the decisions "
            "record it.",
        ),
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Close a period: compute its metrics, every subsystem's aggregates, then run the ladder
    (closing it again changes nothing)."""
    settings = get_settings()
    steps = cycle_service.steps()
    # On stderr, so that json and csv on stdout stay clean.
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    ) as bars:
        tasks: dict[str, TaskID] = {
            step.name: bars.add_task(f"{step.en} {step.zh}", total=1) for step in steps
        }

        def advance(step: str, done: int, total: int) -> None:
            bars.update(tasks[step], completed=done, total=total)

        try:
            with session_scope(settings) as session:
                report = cycle_service.close_period(
                    session=session,
                    settings=settings,
                    period=period,
                    allow_stale=allow_stale,
                    progress=advance,
                )
        except DomainError as exc:
            bars.stop()
            raise fail(exc) from exc
    if fmt is OutputFormat.json:
        document = {"period": report.period, "steps": [s.as_json() for s in report.steps]}
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return
    rows: list[dict[str, object]] = [
        {
            "step": summary.name,
            "label": f"{summary.en} {summary.zh}",
            "summary": _figures_text(summary.figures),
            "seconds": round(summary.seconds, 2),
        }
        for summary in report.steps
    ]
    emit(rows, ["step", "label", "summary", "seconds"], fmt, f"Closed {report.period}")
