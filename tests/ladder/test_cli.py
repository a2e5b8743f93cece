"""`agentladder ladder ...` end to end: policy validate/apply, run (JSON shape), explain,
approve/reject, backtest, evidence import."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from agentladder.cli import app
from agentladder.config import Settings
from agentladder.db import session_scope
from tests.factories import make_agent
from tests.ladder.builders import HIRED, give, policy_text

runner = CliRunner()


def _world(settings: Settings) -> None:
    with session_scope(settings) as session:
        for number, score in (("A0001", 90), ("A0002", 40)):
            agent = make_agent(session, employee_no=number, name=f"座席{number}", hire_date=HIRED)
            give(session, agent, "2026-09", score=score)
            give(session, agent, "2026-10", score=score)


def test_policy_validate_and_apply(cli_env: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(policy_text(weights=(50, 49)), encoding="utf-8")
    refused = runner.invoke(app, ["ladder", "policy", "validate", str(bad)])
    assert refused.exit_code == 1
    assert "components: weights sum to 99, not 100" in refused.output
    good = tmp_path / "good.yaml"
    good.write_text(policy_text(), encoding="utf-8")
    assert runner.invoke(app, ["ladder", "policy", "validate", str(good)]).exit_code == 0
    applied = runner.invoke(app, ["ladder", "policy", "apply", str(good), "--note", "试行"])
    assert applied.exit_code == 0, applied.output
    assert "+name: Test ladder" in applied.output  # the diff against the shipped default
    shown = runner.invoke(app, ["ladder", "policy", "show"])
    assert "name: Test ladder" in shown.output
    history = runner.invoke(app, ["ladder", "policy", "history", "--format", "json"])
    assert json.loads(history.output)[0]["note"] == "试行"


def test_run_json_explain_approve_and_backtest(cli_env: Settings, tmp_path: Path) -> None:
    _world(cli_env)
    policy = tmp_path / "policy.yaml"
    policy.write_text(policy_text(approval="manager"), encoding="utf-8")
    assert runner.invoke(app, ["ladder", "policy", "apply", str(policy)]).exit_code == 0
    table = runner.invoke(app, ["ladder", "run", "--period", "2026-09"])
    assert table.exit_code == 0
    # The table is read by people: level, decision and status names, not their ids.
    assert "Basic" in table.output
    assert "Final" in table.output
    assert "basic_fresh" not in table.output
    result = runner.invoke(app, ["ladder", "run", "--period", "2026-10", "--format", "json"])
    assert result.exit_code == 0, result.output
    decisions = json.loads(result.output)
    first = next(d for d in decisions if d["agent"] == "A0001")
    assert {
        "agent",
        "period",
        "from_level",
        "to_level",
        "decision",
        "composite",
        "components",
        "gates",
        "policy_hash",
    } <= set(first)
    assert (first["period"], first["decision"], first["to_level"]) == (
        "2026-10",
        "promote",
        "basic_sophomore",
    )
    assert first["composite"] == 90
    assert all(set(g) >= {"gate", "required", "actual", "passed"} for g in first["gates"])
    assert len(first["policy_hash"]) == 64
    explained = runner.invoke(
        app, ["ladder", "explain", "A0002", "--period", "2026-10", "--language", "en"]
    )
    assert explained.exit_code == 0
    assert "Not qualified for Basic Sophomore: Composite score." in explained.output
    assert "+17.0 points" in explained.output  # 40 -> 55 + band 2
    assert "A0002 座席A0002 2026-10: Hold: Basic Fresh → Basic Fresh (Final)" in explained.output
    assert "✓ Handled calls: required 100, actual 120" in explained.output
    assert "✗ Composite score (Basic Sophomore): required 57, actual 40" in explained.output
    as_option = runner.invoke(
        app, ["ladder", "explain", "--agent", "A0002", "--period", "2026-10", "--language", "en"]
    )
    assert as_option.output == explained.output
    in_chinese = runner.invoke(app, ["ladder", "explain", "A0002", "--period", "2026-10"])
    assert "✗ 综合得分（初级座席·二级）：要求 57，实际 40" in in_chinese.output
    assert "score" not in in_chinese.output
    rejected = runner.invoke(
        app, ["ladder", "reject", "A0001", "--period", "2026-10", "--reason", "待复核"]
    )
    assert rejected.exit_code == 0
    assert "rejected" in rejected.output
    again = runner.invoke(app, ["ladder", "approve", "A0001", "--period", "2026-10"])
    assert again.exit_code == 1  # no longer pending
    proposed = tmp_path / "proposed.yaml"
    proposed.write_text(policy_text(approval="manager", consecutive=1), encoding="utf-8")
    backtest = runner.invoke(
        app,
        [
            "ladder",
            "backtest",
            "--policy",
            str(proposed),
            "--from",
            "2026-09",
            "--to",
            "2026-10",
            "--format",
            "json",
        ],
    )
    assert backtest.exit_code == 0, backtest.output
    changes = json.loads(backtest.output)
    # One qualifying period is enough under the proposal: A0001 moves in September already.
    assert [(c["period"], c["agent"]) for c in changes][:1] == [("2026-09", "A0001")]


def test_evidence_import_reports_rows(cli_env: Settings, tmp_path: Path) -> None:
    _world(cli_env)
    data = tmp_path / "qa.csv"
    data.write_text(
        "agent,period,metric,value,sample_size\nA0001,2026-11,qa_score,92,7\n", encoding="utf-8"
    )
    checked = runner.invoke(app, ["ladder", "evidence", "import", str(data), "--dry-run"])
    assert checked.exit_code == 0, checked.output
    assert "dry run" in checked.output
    stored = runner.invoke(app, ["ladder", "evidence", "import", str(data)])
    assert stored.exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "agent,period,metric,value,sample_size\nA9999,2026-11,qa_score,92,7\n", encoding="utf-8"
    )
    refused = runner.invoke(app, ["ladder", "evidence", "import", str(bad)])
    assert refused.exit_code == 1
    assert "A9999" in refused.output


def test_evidence_template_imports_as_it_is(cli_env: Settings, tmp_path: Path) -> None:
    with session_scope(cli_env) as session:
        make_agent(session, employee_no="100001", name="王芳", hire_date=HIRED)
    template = tmp_path / "evidence.xlsx"
    checked = runner.invoke(app, ["ladder", "evidence", "template", "--out", str(template)])
    assert checked.exit_code == 0, checked.output
    dry = runner.invoke(app, ["ladder", "evidence", "import", str(template), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "1 new" in dry.output
    assert "0 rejected" in dry.output
    shown = runner.invoke(app, ["ladder", "evidence", "import", "--help"])
    for header in ("周期", "period", "样本量", "sample size", "指标", "metric"):
        assert header in shown.output


def test_a_policy_saved_by_chinese_notepad_reads_as_any_other(
    cli_env: Settings, tmp_path: Path
) -> None:
    # Chinese Notepad (and Excel's "save as text") write GB18030, not UTF-8.
    notepad = tmp_path / "晋级政策.yaml"
    notepad.write_bytes(policy_text().encode("gb18030"))
    validated = runner.invoke(app, ["ladder", "policy", "validate", str(notepad)])
    assert validated.exit_code == 0, validated.output
    assert "valid" in validated.output
    applied = runner.invoke(app, ["ladder", "policy", "apply", str(notepad)])
    assert applied.exit_code == 0, applied.output


def test_bad_arguments_and_files_never_end_in_a_traceback(
    cli_env: Settings, tmp_path: Path
) -> None:
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(bytes(range(256)) * 40)
    policy = tmp_path / "policy.yaml"
    policy.write_text(policy_text(), encoding="utf-8")
    cases = [
        ["ladder", "backtest", "--policy", str(policy), "--from", "2026-11", "--to", "2026-09"],
        ["ladder", "policy", "validate", str(garbage)],
        ["ladder", "policy", "apply", str(garbage)],
        ["ladder", "run", "--period", "2026-13"],
        ["ladder", "run", "--period", "2026-W41"],
        ["ladder", "explain", "999999", "--period", "2026-10"],
        ["ladder", "evidence", "import", str(garbage)],
        ["import", "queue_log", str(garbage)],
        ["import", "calls-table", str(garbage)],
        ["org", "roster", "import", str(garbage)],
        ["training", "certifications", "import", str(garbage)],
        ["metrics", "compute", "--period", "someday"],
        ["cycle", "close", "--period", "2026-W41"],
    ]
    for args in cases:
        result = runner.invoke(app, args)
        # A clear error (exit 1) or a usage error (exit 2), never an exception's traceback.
        assert result.exit_code in (1, 2), (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            args,
            repr(result.exception),
        )
        assert "Traceback" not in result.output, args


def test_evidence_import_help_lists_the_accepted_metrics() -> None:
    shown = runner.invoke(app, ["ladder", "evidence", "import", "--help"])
    assert shown.exit_code == 0
    text = " ".join(shown.output.replace("│", " ").split())  # as wrapped for the terminal
    assert "qa_score (质检得分 | QA score)" in text
    assert "handled_calls (接听量 | Handled calls)" in text


def test_explain_lists_the_pooled_periods_and_a_backtest_pools_alike(
    cli_env: Settings, tmp_path: Path
) -> None:
    with session_scope(cli_env) as session:
        agent = make_agent(session, employee_no="A0003", name="座席A0003", hire_date=HIRED)
        give(session, agent, "2026-09", score=80, qa_evaluations=3)
        give(session, agent, "2026-10", score=80, qa_evaluations=4)
    window = "  window: {qa_score: {periods: 2, decay: 0.5}}"
    pooled = tmp_path / "pooled.yaml"
    pooled.write_text(policy_text(evidence=window), encoding="utf-8")
    assert runner.invoke(app, ["ladder", "policy", "apply", str(pooled)]).exit_code == 0
    assert runner.invoke(app, ["ladder", "run", "--period", "2026-10"]).exit_code == 0
    explained = runner.invoke(
        app, ["ladder", "explain", "A0003", "--period", "2026-10", "--language", "en"]
    )
    assert "QA score pooled over 2026-10 ×1, 2026-09 ×0.5: 7 observations." in explained.output
    assert "✓ QA evaluations: required 6, actual 7" in explained.output
    in_chinese = runner.invoke(app, ["ladder", "explain", "A0003", "--period", "2026-10"])
    assert "合并了 2026-10 ×1、2026-09 ×0.5 的证据：共 7 个样本" in in_chinese.output
    # Under the same policy without the window, the backtest finds October thin.
    alone = tmp_path / "alone.yaml"
    alone.write_text(policy_text(), encoding="utf-8")
    backtest = runner.invoke(
        app,
        [
            *("ladder", "backtest", "--policy", str(alone)),
            *("--from", "2026-10", "--to", "2026-10", "--format", "json"),
        ],
    )
    assert backtest.exit_code == 0, backtest.output
    [change] = json.loads(backtest.output)
    assert change["agent"] == "A0003"
    assert change["proposed"] == "insufficient_evidence -> basic_fresh"
