"""`agentladder training courses ...` through Typer's runner on the test database."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from agentladder.cli import app
from agentladder.config import Settings

runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def roster(tmp_path: Path) -> None:
    run("org", "teams", "create", "T01", "客服一组")
    file = tmp_path / "花名册.csv"
    file.write_text(
        "工号,姓名,入职日期,班组,分机\n9001,王芳,2024-03-01,T01,Agent/9001\n9002,李强,2024-03-01,T01,\n",
        encoding="utf-8",
    )
    run("org", "roster", "import", str(file))


def test_import_add_and_list(cli_env: Settings, tmp_path: Path) -> None:
    roster(tmp_path)
    courses = tmp_path / "课程.csv"
    courses.write_bytes(
        "工号,姓名,课程,完成日期,学时\n"
        "Agent/9001,王芳,投诉处理技巧,2026-10-08,3.5\n"
        "9002,李小强,新产品培训,2026-11-02,2\n".encode("gbk")
    )
    dry = run("training", "courses", "import", str(courses), "--dry-run")
    assert "2 new" in dry
    assert "nothing written" in dry
    assert "李强" in dry  # the name differs: a warning naming the agent's name
    assert json.loads(run("training", "courses", "list", "--format", "json")) == []
    assert "imported" in run("training", "courses", "import", str(courses))
    assert "2 unchanged" in run("training", "courses", "import", str(courses))
    added = run("training", "courses", "add", "9001", "服务礼仪", "1.5", "--on", "2026/10/20")
    assert "recorded for 9001" in added
    again = runner.invoke(
        app, ["training", "courses", "add", "9001", "服务礼仪", "1.5", "--on", "2026-10-20"]
    )
    assert again.exit_code == 1
    assert "already has course" in again.output
    mine = json.loads(
        run("training", "courses", "list", "--agent", "Agent/9001", "--format", "json")
    )
    assert [(c["course"], c["completed_on"], c["hours"]) for c in mine] == [
        ("服务礼仪", "2026-10-20", 1.5),
        ("投诉处理技巧", "2026-10-08", 3.5),
    ]
    october = run("training", "courses", "list", "--period", "2026-10")
    assert "Course records (2, 5 hours)" in october
    nobody = runner.invoke(app, ["training", "courses", "list", "--agent", "nobody"])
    assert nobody.exit_code == 1
    bad_day = runner.invoke(
        app, ["training", "courses", "add", "9001", "服务礼仪", "1", "--on", "20.10.2026"]
    )
    assert bad_day.exit_code == 2
    negative = runner.invoke(app, ["training", "courses", "add", "9001", "服务礼仪", "--", "-1"])
    assert negative.exit_code == 1


def test_the_template_imports_as_it_is(cli_env: Settings, tmp_path: Path) -> None:
    run("org", "skill-groups", "create", "general", "普通话热线")
    run("org", "teams", "create", "T01", "客服一组")
    roster_file = tmp_path / "roster.xlsx"
    run("org", "roster", "template", "--out", str(roster_file))
    run("org", "roster", "import", str(roster_file))  # agent 100001, whom the example names
    template = tmp_path / "courses.xlsx"
    run("training", "courses", "template", "--out", str(template))
    dry = run("training", "courses", "import", str(template), "--dry-run")
    assert "1 new" in dry
    assert "0 errors" in dry
    help_text = run("training", "courses", "import", "--help")
    for header in ("课程", "course", "完成日期", "completed on", "学时", "hours", "工号"):
        assert header in help_text
