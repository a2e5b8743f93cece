"""The `agentladder` command. Every command parses, calls a service, prints.

The domains' command groups load only when one of them runs (or its help is shown), so that
`agentladder --help` starts in a fraction of a second whatever the domains import.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from agentladder import __version__
from agentladder.cli_lazy import LazyCommand, LazyGroup, load_all_commands
from agentladder.cli_output import console

__all__ = ["HELP_REQUESTED", "LAZY_COMMANDS", "LazyCommand", "app", "load_all_commands"]

HELP_REQUESTED = "agentladder.help_requested"
_COMMAND_WORDS = "agentladder.command_words"


LAZY_COMMANDS: dict[str, LazyCommand] = {
    "import": LazyCommand(
        "agentladder.ingest.cli:import_files",
        "Import ACD/CTI files; each file is stored completely or not at all. Rotated "
        "queue_logs are imported oldest first, whatever the order given.",
    ),
    "ingest": LazyCommand(
        "agentladder.ingest.cli:ingest_app",
        "Live ingest: follow a queue_log as Asterisk writes it.",
    ),
    "demo": LazyCommand(
        "agentladder.demo.cli:demo",
        "Build a realistic synthetic call centre in the configured database and show how to "
        "use it.",
    ),
    "org": LazyCommand(
        "agentladder.org.cli:org_app", "Teams, skill groups, agents, aliases and roster import."
    ),
    "users": LazyCommand("agentladder.org.cli:users_app", "Users and roles."),
    "metrics": LazyCommand(
        "agentladder.metrics.cli:metrics_app", "KPIs per agent and queue, per period."
    ),
    "training": LazyCommand(
        "agentladder.training.cli:training_app",
        "Training: question bank, exams, certifications, courses.",
    ),
    "knowledge": LazyCommand(
        "agentladder.knowledge.cli:knowledge_app",
        "The knowledge library (KM系统库): search, import and export, vocabulary, points.",
    ),
    "quality": LazyCommand(
        "agentladder.quality.cli:quality_app", "Service quality (质检): forms and QA scores."
    ),
    "report": LazyCommand(
        "agentladder.reports.cli:report_app",
        "Ladder reports (scorecard, team dashboard, promotion list) as XLSX, PDF or HTML.",
    ),
    "ladder": LazyCommand(
        "agentladder.ladder.cli:ladder_app",
        "The career ladder: policy, runs, decisions, backtests.",
    ),
    "backup": LazyCommand(
        "agentladder.operations.cli:backup",
        "Back up the database and the data directory into one archive, with a manifest and "
        "checksums (safe while the server runs).",
    ),
    "restore": LazyCommand(
        "agentladder.operations.cli:restore",
        "Restore a backup into the configured database and data directory (stop the server "
        "first); an older schema is migrated to this version, a newer one refused.",
    ),
    "cycle": LazyCommand(
        "agentladder.cycle.cli:cycle_app",
        "The period close: metrics, then subsystem aggregates, then the ladder.",
    ),
}


class _RootGroup(LazyGroup):
    """Loads the domains' commands on demand, and notes whether help was asked for anywhere
    on the command line before the root callback runs: help needs no database (and documents
    a fresh install)."""

    lazy_commands = LAZY_COMMANDS

    def invoke(self, ctx: Any) -> Any:
        words = [*getattr(ctx, "_protected_args", ()), *ctx.args]
        ctx.meta[HELP_REQUESTED] = bool({"--help", "-h"} & set(words))
        # Click empties the arguments before the root callback runs; it needs the command path.
        ctx.meta[_COMMAND_WORDS] = tuple(word for word in words if not word.startswith("-"))
        return super().invoke(ctx)


app = typer.Typer(
    cls=_RootGroup,
    name="agentladder",
    help="Fair, explainable evaluation and automatic promotion of call-centre agents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


# Commands that create or upgrade the schema themselves.
MIGRATING_COMMANDS = frozenset({"init", "serve", "demo"})
# Commands that check the database themselves: a backup is taken of an older schema too (before
# an upgrade), a restore creates or replaces the database.
SELF_CHECKING_COMMANDS = frozenset({"backup", "restore"})
# Commands that work on a file alone: they use the database when there is a current one and
# never create one.
DATABASE_FREE_COMMANDS = frozenset({("ladder", "policy", "validate"), ("quality", "forms", "show")})


def _print_version(value: bool) -> None:
    # Eager: printed while the options are read, before Click asks for a command.
    if value:
        console.print(__version__)
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """agentladder: 座席自动晋级系统."""
    if ctx.invoked_subcommand in MIGRATING_COMMANDS | SELF_CHECKING_COMMANDS:
        return
    if ctx.resilient_parsing:
        return
    if ctx.meta.get(HELP_REQUESTED):
        return
    from agentladder.config import get_settings
    from agentladder.db import current_revision, database_missing, head_revision

    words: tuple[str, ...] = ctx.meta.get(_COMMAND_WORDS, ())
    if any(words[: len(command)] == command for command in DATABASE_FREE_COMMANDS):
        return
    settings = get_settings()
    if database_missing(settings.resolved_database_url):
        console.print(
            f"[red]error:[/red] there is no database at {settings.resolved_database_url}: "
            "run `agentladder init` (or `agentladder demo`) first, or set AGENTLADDER_DATA_DIR"
        )
        raise typer.Exit(code=1)
    current, head = current_revision(settings.resolved_database_url), head_revision()
    if current != head:
        console.print(
            f"[red]error:[/red] the database schema is at {current or 'nothing'}, this version "
            f"needs {head}: run `agentladder init` first"
        )
        raise typer.Exit(code=1)


@app.command()
def init() -> None:
    """Create the database schema, or upgrade it to this version."""
    from agentladder.config import get_settings
    from agentladder.db import upgrade_schema

    settings = get_settings()
    settings.resolved_secret_key()
    before, after = upgrade_schema(settings)
    where = settings.resolved_database_url.split("@")[-1]
    if before == after:
        console.print(f"schema is up to date (revision {after}) at {where}")
    else:
        console.print(f"schema upgraded from {before or 'empty'} to {after} at {where}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    migrate: Annotated[bool, typer.Option(help="Upgrade the schema before serving.")] = True,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    scheduler: Annotated[
        bool,
        typer.Option(
            "--scheduler",
            help="Close the previous month on AGENTLADDER_CYCLE_CLOSE_DAY at "
            "AGENTLADDER_CYCLE_CLOSE_HOUR (one worker only).",
        ),
    ] = False,
) -> None:
    """Serve the web UI and the REST API (/api/docs)."""
    import os

    import uvicorn

    from agentladder.config import get_settings
    from agentladder.db import upgrade_schema

    if scheduler:
        # The app factory reads the settings in the server's processes: hand it the flag there.
        os.environ["AGENTLADDER_CYCLE_SCHEDULER"] = "true"
        get_settings.cache_clear()
    settings = get_settings()
    if settings.cycle_scheduler and workers > 1:
        raise typer.BadParameter(
            "the scheduler runs in one process: serve with one worker, or close periods "
            "from cron (docs/operations.md)",
            param_hint="--workers",
        )
    if migrate:
        upgrade_schema(settings)
    settings.resolved_secret_key()
    console.print(f"agentladder {__version__} on http://{host}:{port}/  (API docs: /api/docs)")
    uvicorn.run(
        "agentladder.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # The app reads X-Forwarded-For itself, from the `trusted_proxies` setting only.
        proxy_headers=False,
        log_level="info",
    )
