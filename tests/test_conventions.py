"""Conventions checked by code: thin views and CLI, documented settings and commands."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import typer.main

from agentladder.cli import app, load_all_commands
from agentladder.config import Settings

_spec = importlib.util.spec_from_file_location(
    "update_cli_docs", Path(__file__).resolve().parent.parent / "scripts" / "update_cli_docs.py"
)
assert _spec
assert _spec.loader
_docs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_docs)
command_paths = _docs.command_paths

SRC = Path(__file__).resolve().parent.parent / "src" / "agentladder"
DOCS = Path(__file__).resolve().parent.parent / "docs"
ORM_CALLS = {"select", "add", "delete", "execute", "scalar", "scalars", "query", "commit", "flush"}


def test_views_and_cli_never_touch_the_orm() -> None:
    offenders = []
    for path in [*SRC.glob("**/*views.py"), *SRC.glob("**/cli.py"), SRC / "cli.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                owner = getattr(func, "value", None)
                if name in ORM_CALLS and (
                    isinstance(func, ast.Name) or getattr(owner, "id", "") == "session"
                ):
                    offenders.append(f"{path.relative_to(SRC)}:{node.lineno} {name}()")
    assert offenders == []


def test_every_setting_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"AGENTLADDER_{name.upper()}" not in text]
    assert missing == []


def test_every_cli_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    commands = command_paths(load_all_commands(typer.main.get_command(app)))
    assert len(commands) > 10
    missing = [c for c in commands if f"agentladder {c}" not in text]
    assert missing == []


def test_every_metric_is_documented() -> None:
    from agentladder.metrics.catalog import CATALOG

    text = (DOCS / "metrics.md").read_text(encoding="utf-8")
    missing = [kpi.id for kpi in CATALOG if f"`{kpi.id}`" not in text]
    assert missing == []
