"""`agentladder quality transcripts import`, `quality autoqa run|show` and `quality autoqa
rules show|validate|apply`, as scripts call them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from agentladder.cli import app
from agentladder.config import Settings
from agentladder.quality.autoqa.rules import DEFAULT_RULES_PATH, RULE_IDS

LABELLED = Path(__file__).parents[2] / "data" / "autoqa" / "transcripts.jsonl"


def test_import_run_and_show_print_the_documented_json(cli_env: Settings, tmp_path: Path) -> None:
    runner = CliRunner()
    dry = runner.invoke(app, ["quality", "transcripts", "import", str(LABELLED), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "152 new" in dry.output
    done = runner.invoke(app, ["quality", "transcripts", "import", str(LABELLED)])
    assert done.exit_code == 0, done.output
    shown = runner.invoke(
        app, ["quality", "autoqa", "show", "--call", "autoqa-030", "--format", "json"]
    )
    assert shown.exit_code == 0, shown.output
    document = json.loads(shown.stdout)
    assert set(document) == {"call", "agent", "score", "rules"}
    assert [rule["rule"] for rule in document["rules"]] == list(RULE_IDS)
    forbidden = {rule["rule"]: rule for rule in document["rules"]}["forbidden_phrases"]
    assert forbidden["verdict"] == "fail"
    assert "听不懂" in forbidden["evidence"][0]["text"]
    period = runner.invoke(
        app, ["quality", "autoqa", "show", "--period", "2026-10", "--format", "json"]
    )
    assert period.exit_code == 0, period.output
    calls = json.loads(period.stdout)
    assert calls["period"] == "2026-10"
    assert {call["call"] for call in calls["calls"]} >= {"autoqa-030"}
    table = runner.invoke(app, ["quality", "autoqa", "show", "--call", "autoqa-030"])
    assert table.exit_code == 0
    assert "forbidden_phrases" in table.output
    run = runner.invoke(
        app, ["quality", "autoqa", "run", "--period", "2026-10", "--format", "json"]
    )
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["judged"] == 0
    neither = runner.invoke(app, ["quality", "autoqa", "show"])
    assert neither.exit_code != 0
    missing = runner.invoke(app, ["quality", "autoqa", "show", "--call", "nope"])
    assert missing.exit_code != 0
    assert "nope" in missing.output


def test_rules_show_validate_and_apply(cli_env: Settings, tmp_path: Path) -> None:
    runner = CliRunner()
    shown = runner.invoke(app, ["quality", "autoqa", "rules", "show"])
    assert shown.exit_code == 0
    assert "forbidden_phrases:" in shown.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        DEFAULT_RULES_PATH.read_text("utf-8").replace("max_share: 0.25", "max_share: 2"),
        encoding="utf-8",
    )
    refused = runner.invoke(app, ["quality", "autoqa", "rules", "validate", str(bad)])
    assert refused.exit_code == 1
    assert "rules.silence.max_share" in refused.output
    assert runner.invoke(app, ["quality", "autoqa", "rules", "apply", str(bad)]).exit_code == 1
    good = tmp_path / "good.yaml"
    good.write_text(
        DEFAULT_RULES_PATH.read_text("utf-8").replace("max_share: 0.25", "max_share: 0.3"),
        encoding="utf-8",
    )
    valid = runner.invoke(app, ["quality", "autoqa", "rules", "validate", str(good)])
    assert valid.exit_code == 0, valid.output
    applied = runner.invoke(app, ["quality", "autoqa", "rules", "apply", str(good)])
    assert applied.exit_code == 0, applied.output
    assert "+    max_share: 0.3" in applied.output
    now = runner.invoke(app, ["quality", "autoqa", "rules", "show"])
    assert "max_share: 0.3" in now.stdout
