"""`agentladder backup` and `agentladder restore`: one archive of the database and the data
directory, written and read back with a progress bar per step."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from agentladder.cli_output import console
from agentladder.config import LANGUAGES, Language, get_settings
from agentladder.errors import DomainError
from agentladder.formatting import format_number
from agentladder.i18n import N_, N_plural, translate, translate_count
from agentladder.operations import service as operations_service
from agentladder.operations.databases import StepProgress

STEP_LABELS = {
    "database": N_("Database"),
    "verify": N_("Checking the archive"),
    "files": N_("Data directory"),
}

LanguageOption = Annotated[
    str | None,
    typer.Option(
        "--language", help="zh_Hans or en for the messages (default: AGENTLADDER_DEFAULT_LANGUAGE)."
    ),
]


def _language(value: str | None) -> Language:
    if value is None:
        return get_settings().default_language
    if value not in LANGUAGES:
        raise typer.BadParameter("zh_Hans or en", param_hint="--language")
    return value


@contextmanager
def _progress_bars(language: Language) -> Iterator[StepProgress]:
    """Rich bars on stderr, one per step as the service reports it."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as bars:
        tasks: dict[str, TaskID] = {}

        def advance(step: str, done: int, total: int) -> None:
            if step not in tasks:
                label = translate(language, STEP_LABELS.get(step, step))
                tasks[step] = bars.add_task(label, total=total or 1)
            bars.update(tasks[step], completed=done, total=total or 1)

        yield advance


def _say(text: str) -> None:
    # Unwrapped: the messages name files, which a terminal-width wrap would cut.
    console.print(text, soft_wrap=True, markup=False)


def _fail(error: DomainError, language: Language) -> typer.Exit:
    prefix = translate(language, "error:")
    console.print(f"[red]{prefix}[/red] ", end="")
    _say(error.translated(language))
    return typer.Exit(code=1)


def backup(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            dir_okay=False,
            help="The archive to write (a .zip); default agentladder-backup-<date>-<time>.zip "
            "in the current folder.",
        ),
    ] = None,
    portable: Annotated[
        bool,
        typer.Option(
            "--portable",
            help="Write a SQLite database as every table's rows (JSON lines) instead of its "
            "file, as a PostgreSQL one always is.",
        ),
    ] = False,
    language: LanguageOption = None,
) -> None:
    """Back up the database and the data directory into one archive, with a manifest and
    checksums (safe while the server runs)."""
    chosen = _language(language)
    settings = get_settings()
    target = out or Path(f"agentladder-backup-{datetime.now():%Y%m%d-%H%M%S}.zip")
    try:
        with _progress_bars(chosen) as progress:
            manifest = operations_service.create_backup(
                settings=settings, out=target, portable=portable, progress=progress
            )
    except DomainError as exc:
        raise _fail(exc, chosen) from exc
    size_mb = target.stat().st_size / 1_000_000
    forms = N_plural(
        "Backed up to {path}: schema revision {revision}, {count} file, {size} MB.",
        "Backed up to {path}: schema revision {revision}, {count} files, {size} MB.",
    )
    _say(
        translate_count(
            chosen,
            forms,
            len(manifest.files),
            path=str(target),
            revision=manifest.alembic_revision or "-",
            count=format_number(len(manifest.files), "int", chosen),
            size=format_number(size_mb, "decimal1", chosen),
        )
    )


def restore(
    file: Annotated[Path, typer.Argument(dir_okay=False, help="A backup archive (.zip).")],
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Replace a database and data directory that already hold data."
        ),
    ] = False,
    check: Annotated[
        bool,
        typer.Option("--check", help="Only check the archive (manifest, checksums, schema)."),
    ] = False,
    language: LanguageOption = None,
) -> None:
    """Restore a backup into the configured database and data directory (stop the server
    first); an older schema is migrated to this version, a newer one refused."""
    chosen = _language(language)
    settings = get_settings()
    try:
        with _progress_bars(chosen) as progress:
            if check:
                manifest = operations_service.check_backup(archive_path=file, progress=progress)
            else:
                report = operations_service.restore_backup(
                    settings=settings, archive_path=file, force=force, progress=progress
                )
    except DomainError as exc:
        raise _fail(exc, chosen) from exc
    if check:
        forms = N_plural(
            "{path} is intact: {count} file, schema revision {revision}, made by agentladder "
            "{version}.",
            "{path} is intact: {count} files, schema revision {revision}, made by agentladder "
            "{version}.",
        )
        _say(
            translate_count(
                chosen,
                forms,
                len(manifest.files),
                path=str(file),
                count=format_number(len(manifest.files), "int", chosen),
                revision=manifest.alembic_revision or "-",
                version=manifest.product_version,
            )
        )
        return
    counts = {
        "path": str(file),
        "rows": format_number(report.rows, "int", chosen),
        "files": format_number(report.data_files, "int", chosen),
        "after": report.schema_revision or "-",
    }
    if report.backup_revision == report.schema_revision:
        message = N_(
            "Restored {path} (rows: {rows}, data files: {files}), schema revision {after}."
        )
        _say(translate(chosen, message, **counts))
        return
    message = N_(
        "Restored {path} (rows: {rows}, data files: {files}); schema revision {before} "
        "migrated to {after}."
    )
    _say(translate(chosen, message, before=report.backup_revision or "-", **counts))
