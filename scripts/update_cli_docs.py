"""Regenerate docs/cli.md from the real `--help` output of every command."""

from __future__ import annotations

from pathlib import Path

import typer.main
from typer.testing import CliRunner

from agentladder.cli import app, load_all_commands

DOC = Path(__file__).resolve().parent.parent / "docs" / "cli.md"


def command_paths(group: object, prefix: str = "") -> list[str]:
    """Every leaf command under a Click group, as space-separated paths."""
    paths = []
    for name, command in getattr(group, "commands", {}).items():
        path = f"{prefix} {name}".strip()
        if getattr(command, "commands", None):
            paths += command_paths(command, path)
        else:
            paths.append(path)
    return paths


def main() -> None:
    runner = CliRunner()
    parts = [
        "# Command line\n",
        "Every command prints help with `--help`. The output below is the real `--help` text",
        "(regenerate with `python scripts/update_cli_docs.py`).\n",
    ]
    for path in ["", *command_paths(load_all_commands(typer.main.get_command(app)))]:
        result = runner.invoke(
            app, [*path.split(), "--help"], env={"COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}
        )
        title = f"agentladder {path}".strip()
        text = "\n".join(line.rstrip() for line in result.output.rstrip().splitlines())
        parts += [f"## `{title}`\n", "```text", text, "```\n"]
    DOC.write_text("\n".join(parts), encoding="utf-8")
    print(f"{DOC}: {len(parts)} lines")


if __name__ == "__main__":
    main()
