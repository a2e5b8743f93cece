"""`agentladder backup` and `agentladder restore` through the command line: messages in the
chosen language, bad files refused with a message and exit code 1, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentladder.cli import app
from agentladder.config import Settings, get_settings
from agentladder.db import head_revision

runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def refused(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.output


def test_backup_then_restore(cli_env: Settings, tmp_path: Path) -> None:
    run("org", "teams", "create", "T01", "客服一组")
    archive = tmp_path / "nightly.zip"
    assert f"Backed up to {archive}" in run("backup", "--out", str(archive), "--language", "en")
    assert "完好" in run("restore", str(archive), "--check", "--language", "zh_Hans")
    # The installation holds the team: a restore over it must be forced.
    assert "--force" in refused("restore", str(archive), "--language", "en")
    assert f"schema revision {head_revision()}" in run(
        "restore", str(archive), "--force", "--language", "en"
    )
    teams = json.loads(run("org", "teams", "list", "--format", "json"))
    assert [team["code"] for team in teams] == ["T01"]


def test_restore_into_a_new_installation(
    cli_env: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("org", "teams", "create", "T02", "客服二组")
    archive = tmp_path / "b.zip"
    run("backup", "--out", str(archive))
    # No database there yet: restore creates it (other commands would refuse to start).
    monkeypatch.setenv("AGENTLADDER_DATA_DIR", str(tmp_path / "new"))
    monkeypatch.setenv("AGENTLADDER_DATABASE_URL", f"sqlite:///{tmp_path / 'new' / 'al.db'}")
    get_settings.cache_clear()
    assert "已恢复" in run("restore", str(archive))
    teams = json.loads(run("org", "teams", "list", "--format", "json"))
    assert [team["code"] for team in teams] == ["T02"]


def test_bad_backup_files_are_refused_without_a_traceback(
    cli_env: Settings, tmp_path: Path
) -> None:
    missing = tmp_path / "nope.zip"
    assert "no backup file" in refused("restore", str(missing), "--language", "en")
    text = tmp_path / "notes.zip"
    text.write_text("not a zip", encoding="utf-8")
    assert "不是 agentladder 备份" in refused("restore", str(text))
    archive = tmp_path / "good.zip"
    run("backup", "--out", str(archive))
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(archive.read_bytes()[:-200])
    assert "damaged.zip" in refused("restore", str(damaged), "--check", "--language", "en")
    assert "zh_Hans or en" in runner.invoke(app, ["backup", "--language", "fr"]).output
