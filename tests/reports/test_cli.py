"""`agentladder report ...` writes the files, and says clearly what is wrong otherwise."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from agentladder.cli import app
from agentladder.config import Settings
from agentladder.db import session_scope
from tests.reports.conftest import pdf_text
from tests.reports.situation import build_centre

runner = CliRunner()


@pytest.fixture
def decided(cli_env: Settings) -> Settings:
    with session_scope(cli_env) as session:
        build_centre(session, cli_env)
    return cli_env


def run(*args: str) -> str:
    result = runner.invoke(app, ["report", *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("scorecard", ["--agent", "100003"]),
        ("team", ["--team", "T02"]),
        ("promotions", []),
    ],
)
@pytest.mark.parametrize("fmt", ["xlsx", "pdf", "html"])
def test_report_writes_the_file(
    decided: Settings, tmp_path: Path, command: str, options: list[str], fmt: str
) -> None:
    out = tmp_path / "out" / f"{command}.{fmt}"
    output = run(command, *options, "--period", "2026-10", "--format", fmt, "--out", str(out))
    assert f"wrote {out} ({fmt}," in output
    data = out.read_bytes()
    if fmt == "pdf":
        assert data.startswith(b"%PDF-")
        assert "2026-10" in pdf_text(data)[0]
    elif fmt == "xlsx":
        assert load_workbook(io.BytesIO(data)).sheetnames[0] == "概要"
    else:
        assert '<html lang="zh-Hans">' in data.decode("utf-8")


def test_format_from_the_file_name_and_english(decided: Settings, tmp_path: Path) -> None:
    out = tmp_path / "晋级名单.pdf"
    run("promotions", "--out", str(out), "--language", "en")  # the latest period by default
    text = "\n".join(pdf_text(out.read_bytes()))
    assert "Promotion list · 2026-10" in text
    assert "Fairness table" in text
    page = tmp_path / "scorecard.htm"
    run("scorecard", "--agent", "100001", "--period", "2026-09", "--out", str(page))
    assert "王芳" in page.read_text(encoding="utf-8")
    # The agent as AGENT, as `ladder explain 100001` takes it; the same file.
    positional = tmp_path / "positional.htm"
    run("scorecard", "100001", "--period", "2026-09", "--out", str(positional))
    assert positional.read_text(encoding="utf-8") == page.read_text(encoding="utf-8")
    neither = runner.invoke(app, ["report", "scorecard", "--out", str(tmp_path / "x.pdf")])
    assert neither.exit_code == 2
    assert "AGENT or --agent" in neither.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scorecard", "--agent", "999999"], "no agent has the employee number 999999"),
        (
            ["scorecard", "--agent", "100001", "--period", "2026-05"],
            "agent 100001 has no ladder decision for 2026-05",
        ),
        (["team", "--team", "T99"], "no team has the code T99"),
        (["team", "--period", "2026-05"], "no ladder decisions for 2026-05"),
        (["promotions", "--period", "2026-05"], "no ladder decisions for 2026-05"),
        (["promotions", "--period", "2026-13"], "unknown period 2026-13"),
    ],
)
def test_unknown_agent_team_or_period_fails_clearly(
    decided: Settings, tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "report.pdf"
    result = runner.invoke(app, ["report", *args, "--out", str(out)])
    # A period that does not parse is a usage error of --period (2); the rest fail as errors (1).
    assert result.exit_code == (2 if message.startswith("unknown period") else 1)
    assert message in " ".join(result.output.replace("│", " ").split())
    assert not out.exists()


def test_an_unknown_file_type_needs_format(decided: Settings, tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", "promotions", "--out", str(tmp_path / "list.doc")])
    assert result.exit_code == 2
    assert "--format" in result.output


def test_nothing_decided_yet(cli_env: Settings, tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", "team", "--out", str(tmp_path / "team.pdf")])
    assert result.exit_code == 1
    assert "the ladder has not decided any period yet" in result.output
