"""The deployment files agree with the product: every command in compose.yaml and the
Dockerfile is one the CLI accepts, every AGENTLADDER_ variable is a setting, and every
agentladder command in docs/operations.md parses."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from agentladder.cli import app, load_all_commands
from agentladder.config import Settings

ROOT = Path(__file__).parents[1]


def _parses(argv: list[str]) -> None:
    """Resolve an `agentladder ...` command line down to its command and parse its options."""
    assert argv[0] == "agentladder", argv
    # Typer vendors its own Click: groups are told apart by what they do, not by class.
    command: Any = load_all_commands(typer.main.get_command(app))
    context = command.context_class(command, info_name="agentladder")
    words = argv[1:]
    while hasattr(command, "get_command"):
        name, words = words[0], words[1:]
        found = command.get_command(context, name)
        assert found is not None, f"unknown command {name!r} in {argv}"
        command = found
        context = command.context_class(command, info_name=name, parent=context)
    command.make_context(command.name, list(words), parent=context.parent)


def _compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def test_compose_runs_the_app_postgresql_and_the_scheduler() -> None:
    services = _compose()["services"]
    assert set(services) == {"app", "db", "scheduler"}
    assert services["db"]["image"].startswith("postgres:")
    for name in ("app", "scheduler"):
        _parses(services[name]["command"])
    assert "--scheduler" in services["scheduler"]["command"]
    assert int(services["app"]["command"][services["app"]["command"].index("--workers") + 1]) > 1
    url = services["app"]["environment"]["AGENTLADDER_DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://")


def test_every_variable_in_the_deployment_files_is_a_setting() -> None:
    names = set(re.findall(r"AGENTLADDER_([A-Z0-9_]+)", (ROOT / "compose.yaml").read_text()))
    names |= set(re.findall(r"AGENTLADDER_([A-Z0-9_]+)", (ROOT / "Dockerfile").read_text()))
    names -= {"PORT"}  # compose's own: the published port
    assert names
    for name in names:
        assert name.lower() in Settings.model_fields, name


def test_the_dockerfile_command_parses() -> None:
    command = re.search(r"^CMD (\[.*\])$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert command is not None
    _parses(json.loads(command.group(1)))


def _documented_commands() -> list[list[str]]:
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.DOTALL):
        for line in block.splitlines():
            found = re.search(r"(?:^|/bin/|exec app )agentladder (.*)$", line.strip())
            if found:
                arguments = found.group(1).split("  #", 1)[0]
                commands.append(["agentladder", *shlex.split(arguments)])
    return commands


@pytest.mark.parametrize("argv", _documented_commands(), ids=" ".join)
def test_every_command_in_the_operations_guide_parses(argv: list[str]) -> None:
    _parses(argv)


def test_every_data_file_of_the_package_ships_in_the_wheel() -> None:
    """A file the code reads (a mapping, a default form, a template) that no package-data
    pattern names works from a checkout and is missing from a `pip install .` (a bug seen with
    the ingest mappings)."""
    import tomllib

    package = Path(__file__).resolve().parents[1] / "src" / "agentladder"
    project = tomllib.loads((package.parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = project["tool"]["setuptools"]["package-data"]["agentladder"]
    shipped = {path for pattern in patterns for path in package.glob(pattern) if path.is_file()}
    data_files = {
        path
        for path in package.rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in path.parts
    }
    assert sorted(str(path.relative_to(package)) for path in data_files - shipped) == []
