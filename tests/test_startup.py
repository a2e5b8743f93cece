"""What starting a command costs: the root help loads no domain, and heavy libraries load only
when a command needs them (the time itself is measured by benchmarks/cli_startup.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from agentladder.cli import LAZY_COMMANDS
from agentladder.ladder.cli import ladder_app

HEAVY = ("ibis", "duckdb", "pyarrow", "pyspark", "openpyxl", "fpdf", "pandas", "numpy")


def loaded_after(code: str) -> list[str]:
    """Top-level packages loaded by running `code` in a fresh interpreter."""
    script = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    return list(json.loads(result.stdout.strip().splitlines()[-1]))


def test_the_root_help_loads_no_domain_and_no_database_library() -> None:
    modules = loaded_after(
        "from agentladder.cli import app\ntry:\n    app(['--help'])\nexcept SystemExit:\n    pass"
    )
    ours = sorted(m for m in modules if m.startswith("agentladder."))
    # The CLI's own modules and core ones (the --period option's Period), no domain.
    assert ours == [
        "agentladder.cli",
        "agentladder.cli_lazy",
        "agentladder.cli_output",
        "agentladder.errors",
        "agentladder.periods",
    ]
    assert not [m for m in modules if m.split(".")[0] in (*HEAVY, "sqlalchemy", "fastapi")]


@pytest.mark.parametrize(
    "module",
    [
        "agentladder.ladder.cli",
        "agentladder.metrics.cli",
        "agentladder.org.cli",
        "agentladder.training.cli",
        "agentladder.reports.cli",
        "agentladder.ingest.service",
        "agentladder.metrics.service",
        "agentladder.web.app",
    ],
)
def test_heavy_libraries_load_only_when_a_command_needs_them(module: str) -> None:
    modules = loaded_after(f"import {module}")
    assert sorted({m.split(".")[0] for m in modules} & set(HEAVY)) == []


def test_the_root_lists_each_lazy_command_with_its_own_help() -> None:
    groups = [LAZY_COMMANDS, ladder_app.info.cls.lazy_commands]  # type: ignore[union-attr]
    for lazy_commands in groups:
        for name, lazy in lazy_commands.items():
            command = lazy.load(name)
            assert command.name == name
            assert " ".join(lazy.help.split()) == " ".join((command.help or "").split())


def test_the_ladders_help_loads_no_evidence_import_or_backtest() -> None:
    # The evidence commands' help lists every provider's metrics; the backtest simulates.
    modules = loaded_after(
        "from agentladder.cli import app\ntry:\n    app(['ladder', '--help'])\n"
        "except SystemExit:\n    pass"
    )
    assert "agentladder.ladder.cli" in modules
    assert not {"agentladder.external.cli", "agentladder.ladder.backtest.service"} & set(modules)
