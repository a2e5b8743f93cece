"""`agentladder import ADAPTER FILE...`: files into the normalized store through the ledger;
`agentladder ingest watch LOG`: a queue_log followed as it grows."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from agentladder.cli_output import console, count_text, fail, local_time_text
from agentladder.config import get_settings
from agentladder.db import session_scope
from agentladder.errors import DomainError
from agentladder.ingest import service as ingest_service
from agentladder.ingest import watching
from agentladder.ingest.service import ImportReport, load_mapping

MAX_REJECTED_SHOWN = 20


def _note_text(value: object) -> str:
    """A note as a reader takes it: counts by reason as words and grouped numbers, never a
    Python dict ("{'end_of_file': 4}")."""
    if isinstance(value, dict):
        return ", ".join(f"{str(k).replace('_', ' ')} {_note_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return ", ".join(_note_text(item) for item in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return count_text(value)
    return str(value)


DATASET_WORDS = {
    "interactions": "calls",
    "agent_states": "agent states",
    "daily_stats": "agent days",
    "surveys": "surveys",
    "feedback": "complaints and praise",
    "tickets": "tickets",
    "leads": "leads",
    "schedules": "shifts and absences",
}


def counts_lines(report: ImportReport) -> list[str]:
    """The counts as they add up: every row read is accepted, rejected or ignored (ignored ones
    by reason); the records the accepted rows make are new or were stored by an earlier file."""
    counts = report.accounting
    lines = [
        f"read {count_text(counts.rows_read)} rows = {count_text(counts.rows_accepted)} "
        f"accepted + {count_text(counts.rows_rejected)} rejected + "
        f"{count_text(counts.rows_ignored)} ignored"
    ]
    if counts.ignored_by_reason:
        lines.append(
            "  ignored: "
            + ", ".join(
                f"{reason} {count_text(n)}" for reason, n in counts.ignored_by_reason.items()
            )
        )
    if report.main_dataset:
        new = report.stored.get(report.main_dataset, 0)
        word = DATASET_WORDS.get(report.main_dataset, report.main_dataset)
        lines.append(
            f"  the accepted rows make {count_text(new + counts.rows_duplicate)} {word} = "
            f"{count_text(new)} new + {count_text(counts.rows_duplicate)} already stored by an "
            "earlier file (not stored again)"
        )
    return lines


def _print(report: ImportReport) -> None:
    if report.already_imported:
        console.print(
            f"{report.file_name}: already imported (batch {report.batch_id}); nothing to do"
        )
        return
    first, *rest = counts_lines(report)
    # Not wrapped: each sum stays on one line, as a reader (or a script) adds it up.
    console.print(f"{report.file_name}: {first}", highlight=False, markup=False, soft_wrap=True)
    for line in rest:
        console.print(line, highlight=False, markup=False, soft_wrap=True)
    if report.first_event_at and report.last_event_at:
        console.print(
            f"  events from {local_time_text(report.first_event_at)} "
            f"to {local_time_text(report.last_event_at)}",
            highlight=False,
        )
    console.print(
        "stored: " + ", ".join(f"{k} {count_text(v)}" for k, v in report.stored.items()),
        highlight=False,
    )
    for key, value in report.notes.items():
        if key.endswith(ingest_service.IGNORED_SUFFIX):
            continue  # said with the counts above
        console.print(f"  {key.replace('_', ' ')}: {_note_text(value)}", highlight=False)
    if report.rejected:
        table = Table(title=f"Rejected rows ({report.rows_rejected})")
        for column in ("line", "field", "reason"):
            table.add_column(column)
        for row in report.rejected[:MAX_REJECTED_SHOWN]:
            table.add_row(str(row.line_no), row.field, row.reason)
        console.print(table)
        if report.rows_rejected > MAX_REJECTED_SHOWN:
            console.print(f"  ... and {report.rows_rejected - MAX_REJECTED_SHOWN} more")
    if report.unmapped_identities:
        shown = ", ".join(f"{identity} ({rows})" for identity, rows in report.unmapped_identities)
        console.print(
            f"[yellow]unmapped identities[/yellow] (map them with `agentladder org alias add`): "
            f"{shown}"
        )
    console.print("dry run: nothing written" if report.dry_run else f"batch {report.batch_id}")


def import_files(
    adapter: Annotated[
        str,
        typer.Argument(
            help="The adapter: "
            + "; ".join(
                f"{ingest_service.adapter_command_name(info.name)} ({info.description})"
                for info in ingest_service.ADAPTERS.values()
            )
            + f"; or {ingest_service.AUTO_ADAPTER} (told from each file's first lines, with the "
            "shipped mapping it needs)."
        ),
    ],
    files: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, readable=True)],
    mapping: Annotated[Path | None, typer.Option(help="Column-mapping YAML file.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report; write nothing.")] = False,
    encoding: Annotated[str | None, typer.Option(help="Text encoding (default: detect).")] = None,
    timezone: Annotated[
        str | None,
        typer.Option(help="Time zone of the file's local times (default: the centre's)."),
    ] = None,
) -> None:
    """Import ACD/CTI files; each file is stored completely or not at all. Rotated queue_logs
    are imported oldest first, whatever the order given."""
    settings = get_settings()
    try:
        loaded = load_mapping(mapping) if mapping else None
        for path in ingest_service.import_order(adapter, files):
            choice = ingest_service.choose_adapter(adapter=adapter, path=path, mapping=loaded)
            if choice.detection is not None:
                reason = choice.detection.reason.format(**choice.detection.params)
                console.print(
                    f"{path.name}: read with {ingest_service.adapter_command_name(choice.adapter)}"
                    f" ({reason})",
                    highlight=False,
                    markup=False,
                    soft_wrap=True,
                )
            with session_scope(settings) as session:
                report = ingest_service.import_file(
                    session=session,
                    settings=settings,
                    adapter=choice.adapter,
                    path=path,
                    mapping=choice.mapping,
                    encoding=encoding,
                    timezone=timezone,
                    dry_run=dry_run,
                )
            _print(report)
    except DomainError as exc:
        raise fail(exc) from exc


ingest_app = typer.Typer(
    help="Live ingest: follow a queue_log as Asterisk writes it.", no_args_is_help=True
)


def _print_read(read: watching.WatchRead) -> None:
    if read.rotated_from:
        console.print(f"rotated: read the rest of {read.rotated_from} first", highlight=False)
    if read.missed_rotation:
        console.print(
            "[yellow]rotated, and the rotated file was not found: its unread rest is "
            "missing[/yellow]"
        )
    report = read.report
    if report is None:
        return
    new = report.stored.get("interactions", 0)
    console.print(
        f"{local_time_text(datetime.now(UTC))} {count_text(read.lines)} lines: "
        f"{count_text(new)} calls and legs stored, "
        f"{count_text(report.stored.get('agent_states', 0))} agent states; "
        f"{count_text(read.carried_lines)} lines in progress carried to the next read "
        f"(batch {report.batch_id})",
        highlight=False,
    )


@ingest_app.command("watch")
def watch_log(
    path: Annotated[Path, typer.Argument(help="The queue_log Asterisk writes to.")],
    interval: Annotated[
        float, typer.Option(min=0.1, help="Seconds between reads once caught up.")
    ] = watching.INTERVAL_S,
    max_lines: Annotated[
        int, typer.Option(min=1, help="Lines per batch at most (a watcher behind catches up).")
    ] = watching.MAX_LINES,
    once: Annotated[
        bool, typer.Option("--once", help="Read what is there now, then stop.")
    ] = False,
) -> None:
    """Follow a queue_log as it grows: every few seconds the new lines are imported as a batch
    of the ledger, through the same adapter as a file. Survives rotation (rename or
    copytruncate) and restarts: it resumes after the last batch it stored."""
    settings = get_settings()
    path = path.absolute()
    try:
        if not once:
            console.print(f"watching {path} (Ctrl+C to stop)", highlight=False)
        watching.watch(
            settings=settings,
            path=path,
            interval_s=interval,
            max_lines=max_lines,
            on_read=_print_read,
            until_caught_up=once,
        )
    except DomainError as exc:
        raise fail(exc) from exc
    except KeyboardInterrupt:
        console.print("stopped")
