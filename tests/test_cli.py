"""The command line, through Typer's runner, on the test database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentladder.cli import app
from agentladder.config import Settings

runner = CliRunner()


def run(*args: str, input: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=input)
    assert result.exit_code == 0, result.output
    return result.output


def test_init_reports_the_schema(cli_env: Settings) -> None:
    assert "up to date" in run("init")
    assert (cli_env.data_dir / "secret_key").exists() is False  # the env gives the secret


def test_secret_key_is_generated_into_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="sqlite://")
    key = settings.resolved_secret_key()
    assert len(key) > 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert Settings(data_dir=tmp_path, database_url="sqlite://").resolved_secret_key() == key


def test_demo_then_lists(cli_env: Settings) -> None:
    output = run("demo", "--agents", "30", "--seed", "11", "--periods", "month")
    assert "Built the demo centre" in output
    assert "agentladder-demo" in output
    assert "already built" in run("demo", "--agents", "30")
    assert runner.invoke(app, ["demo", "--periods", "week,quarter"]).exit_code == 2  # no months
    agents = json.loads(run("org", "agents", "list", "--format", "json"))
    assert len(agents) == 30
    csv_out = run("org", "agents", "list", "--team", "T01", "--format", "csv")
    assert csv_out.splitlines()[0].startswith("employee_no,name,team_code")
    assert len(csv_out.splitlines()) == 1 + sum(1 for a in agents if a["team_code"] == "T01")
    users = json.loads(run("users", "list", "--format", "json"))
    assert {"admin", "manager", "qa", "trainer"} <= {u["username"] for u in users}
    assert "100001" in run("org", "alias", "resolve", "SIP/8001-0000abcd")


def test_roster_import_cli(cli_env: Settings, tmp_path: Path) -> None:
    run("org", "teams", "create", "T01", "客服一组")
    run("org", "skill-groups", "create", "general", "普通话热线")
    roster = tmp_path / "花名册.csv"
    roster.write_bytes(
        "工号,姓名,入职日期,班组,技能组\n9001,王芳,2024-03-01,T01,general\n".encode("gbk")
    )
    dry = run("org", "roster", "import", str(roster), "--dry-run")
    assert "1 new" in dry
    assert "nothing written" in dry
    assert json.loads(run("org", "agents", "list", "--format", "json")) == []
    assert "imported" in run("org", "roster", "import", str(roster))
    assert "1 unchanged" in run("org", "roster", "import", str(roster))
    bad = tmp_path / "bad.csv"
    bad.write_text("工号,姓名,入职日期,班组\n9002,李强,2024-02-30,T01\n", encoding="utf-8")
    result = runner.invoke(app, ["org", "roster", "import", str(bad)])
    assert result.exit_code == 1
    assert "入职日期" in result.output
    assert "nothing imported" in result.output


def test_users_create_admin(cli_env: Settings) -> None:
    run("users", "create-admin", "boss", input="long-enough-password\nlong-enough-password\n")
    generated = run("users", "create-admin", "boss2", "--generate")
    assert "password:" in generated
    result = runner.invoke(
        app, ["users", "create-admin", "boss", "--password", "long-enough-password"]
    )
    assert result.exit_code == 1
    assert "exists" in result.output
    users = json.loads(run("users", "list", "--format", "json"))
    assert [u["roles"] for u in users] == [["admin"], ["admin"]]


def test_agent_role_needs_an_employee_number(cli_env: Settings) -> None:
    result = runner.invoke(
        app, ["users", "create", "x1", "--role", "agent", "--password", "long-enough-password"]
    )
    assert result.exit_code == 1
    assert "employee number" in result.output


def test_import_calls_table_cli(cli_env: Settings) -> None:
    from agentladder.ingest.service import shipped_mapping
    from tests.conftest import corpus_path

    corpus = str(corpus_path("calls_table", "Call-Center-Dataset.csv"))
    mapping = str(shipped_mapping("call_center_dataset"))
    dry = run("import", "calls-table", corpus, "--mapping", mapping, "--dry-run")
    # Counts grouped, and adding up: read = accepted + rejected + ignored.
    assert "read 5,000 rows = 5,000 accepted + 0 rejected + 0 ignored" in dry
    assert "make 5,000 calls = 5,000 new + 0 already stored" in dry
    # The span is in the centre's zone, as pages show it (it was printed in UTC).
    assert f"({cli_env.timezone})" in dry
    assert " UTC" not in dry
    assert "nothing written" in dry
    assert "Becky (631)" in dry
    assert "batch 1" in run("import", "calls-table", corpus, "--mapping", mapping)
    assert "already imported" in run("import", "calls-table", corpus, "--mapping", mapping)
    unknown = runner.invoke(app, ["import", "nope", corpus])
    assert unknown.exit_code == 1
    assert "calls-table" in unknown.output


def test_commands_refuse_an_old_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agentladder.config import get_settings

    monkeypatch.setenv("AGENTLADDER_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("AGENTLADDER_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["users", "list"])
        assert result.exit_code == 1
        assert "agentladder init" in result.output
    finally:
        get_settings.cache_clear()


def test_help_needs_no_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # docs/cli.md once held the schema error instead of the help text.
    from agentladder.config import get_settings

    monkeypatch.setenv("AGENTLADDER_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("AGENTLADDER_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        for args in (["ladder", "run", "--help"], ["users", "--help"], ["--help"]):
            result = runner.invoke(app, args)
            assert result.exit_code == 0, args
            assert "Usage: agentladder" in result.output
            assert "agentladder init" not in result.output
    finally:
        get_settings.cache_clear()


def test_policy_validate_needs_no_database_and_creates_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # It once ran the schema check, which created ./agentladder-data/ and then refused.
    from agentladder.config import get_settings
    from agentladder.ladder.policy.service import DEFAULT_POLICY_PATH

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AGENTLADDER_DATA_DIR", raising=False)
    monkeypatch.delenv("AGENTLADDER_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        bad = tmp_path / "bad.yaml"
        bad.write_text("name: x\ncomponents: 3\n", encoding="utf-8")
        validated = runner.invoke(app, ["ladder", "policy", "validate", str(DEFAULT_POLICY_PATH)])
        refused = runner.invoke(app, ["ladder", "policy", "validate", str(bad)])
        listing = runner.invoke(app, ["users", "list"])
    finally:
        get_settings.cache_clear()
    assert validated.exit_code == 0, validated.output
    assert "valid" in validated.output
    assert "shipped" in validated.output
    assert refused.exit_code == 1
    assert "components" in refused.output
    assert listing.exit_code == 1
    assert "no database" in listing.output
    assert not (tmp_path / "agentladder-data").exists()


def test_roster_template_imports_as_it_is(cli_env: Settings, tmp_path: Path) -> None:
    run("org", "teams", "create", "T01", "客服一组")
    run("org", "skill-groups", "create", "general", "普通话热线")
    template = tmp_path / "roster.xlsx"
    assert "template written" in run("org", "roster", "template", "--out", str(template))
    dry = run("org", "roster", "import", str(template), "--dry-run")
    assert "1 new" in dry
    assert "0 errors" in dry
    assert "nothing written" in dry
    rows = json.loads(
        run("org", "roster", "import", str(template), "--dry-run", "--format", "json")
    )
    assert [(r["employee_no"], r["action"]) for r in rows["preview"]["rows"]] == [
        ("100001", "create")
    ]
    help_text = run("org", "roster", "import", "--help")
    for header in ("工号", "employee no", "入职日期", "hire date", "分机", "acd identities"):
        assert header in help_text


def test_import_prints_csv_and_says_when_a_file_came_before(
    cli_env: Settings, tmp_path: Path
) -> None:
    run("org", "teams", "create", "T01", "客服一组")
    roster = tmp_path / "r.csv"
    roster.write_text("工号,姓名,入职日期,班组\n9001,王芳,2024-03-01,T01\n", encoding="utf-8")
    run("org", "roster", "import", str(roster))
    again = run("org", "roster", "import", str(roster))
    assert "imported before" in again
    bad = tmp_path / "bad.csv"
    bad.write_text("工号,姓名,入职日期,班组\n9002,李强,2024-02-30,T01\n", encoding="utf-8")
    result = runner.invoke(app, ["org", "roster", "import", str(bad), "--format", "csv"])
    assert result.exit_code == 1
    assert result.output.splitlines()[:2] == [
        "row,outcome,column,value,detail",
        "2,error,入职日期,2024-02-30,不是有效日期（请按 2024-03-01 的格式填写）",
    ]


def test_version_prints_without_a_command_or_a_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentladder import __version__

    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == __version__
    assert not (tmp_path / "agentladder-data").exists()


def test_queue_log_imports_as_queue_hyphen_log_and_under_its_old_name(
    cli_env: Settings, tmp_path: Path
) -> None:
    log = tmp_path / "queue_log"
    log.write_text(
        "1760000000|c1|support|NONE|ENTERQUEUE||13800000000|1\n"
        "1760000003|c1|support|Agent/1001|CONNECT|3|c1.1|2\n"
        "1760000063|c1|support|Agent/1001|COMPLETEAGENT|3|60|1\n",
        encoding="utf-8",
    )
    assert runner.invoke(app, ["init"]).exit_code == 0
    first = runner.invoke(app, ["import", "queue-log", str(log)])
    assert first.exit_code == 0, first.output
    assert "accepted" in first.output
    # The same file under the name scripts used before: the ledger knows it already.
    again = runner.invoke(app, ["import", "queue_log", str(log)])
    assert again.exit_code == 0, again.output
    assert "already imported" in again.output
    assert "queue-log" in runner.invoke(app, ["import", "--help"]).output


def test_queue_log_summary_reads_as_words_not_python(cli_env: Settings) -> None:
    from tests.conftest import corpus_path

    output = run("import", "queue-log", str(corpus_path("queue_log", "pbxware", "queue_log.csv")))
    assert "read 1,000 rows = 989 accepted + 0 rejected + 11 ignored" in output
    assert "ignored: queue and configuration events without a call 11" in output
    # The open-call note was printed as a dict: "{'end_of_file': 4}".
    assert "open calls (not counted as completed): end of file 4" in output
    assert "{'" not in output


def _sum_adds_up(line: str) -> bool:
    """'read 1,000 rows = 989 accepted + 0 rejected + 11 ignored': the right side adds up."""
    total, parts = line.split(" rows = ")
    numbers = [int(part.split()[0].replace(",", "")) for part in parts.split(" + ")]
    return int(total.rsplit(" ", 1)[1].replace(",", "")) == sum(numbers)


def test_import_auto_says_which_adapter_and_counts_add_up_with_reasons(
    cli_env: Settings, tmp_path: Path
) -> None:
    from tests.conftest import corpus_path

    queue_log = corpus_path("queue_log", "pbxware", "queue_log.csv")
    output = run("import", "auto", str(queue_log))
    assert "queue_log.csv: read with queue-log (the header names the columns of a PBXware" in (
        output
    )
    [line] = [line for line in output.splitlines() if " rows = " in line]
    assert _sum_adds_up(line)
    # A second, overlapping file: the records it makes that are stored already are said to be.
    overlapping = tmp_path / "rotated.csv"
    lines = queue_log.read_text(encoding="utf-8").splitlines(keepends=True)
    overlapping.write_text("".join(lines[:1] + lines[500:]), encoding="utf-8")
    again = run("import", "auto", str(overlapping))
    [line] = [line for line in again.splitlines() if " rows = " in line]
    assert _sum_adds_up(line)
    made = next(line for line in again.splitlines() if "the accepted rows make" in line)
    assert "already stored by an earlier file" in made
    assert " 0 already stored" not in made

    # Survey rows nobody rated are ignored, and the reason is printed with the count.
    surveys = tmp_path / "surveys.csv"
    surveys.write_text(
        "评价编号,通话流水号,工号,评价时间,满意度,问题是否解决\n"
        "S1,C1,1001,2026-10-08 09:00:00,满意,是\n"
        "S2,C2,1001,2026-10-08 10:00:00,,\n"
        "S3,C3,1002,2026-10-08 11:00:00,,\n",
        encoding="utf-8",
    )
    from agentladder.ingest.service import shipped_mapping

    report = run("import", "surveys", str(surveys), "--mapping", str(shipped_mapping("surveys_zh")))
    assert "read 3 rows = 1 accepted + 0 rejected + 2 ignored" in report
    assert "ignored: surveys without a score, not rated 2" in report
    unknown = runner.invoke(
        app, ["import", "auto", str(corpus_path("queue_log", "pbxware", "queues.csv"))]
    )
    assert unknown.exit_code == 1
    assert "cannot tell which adapter reads queues.csv" in unknown.output
