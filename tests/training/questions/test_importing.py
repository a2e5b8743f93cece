"""The corpus banks through the real import: expected counts and skips, nothing half-stored,
the CLI's JSON report, and export -> import giving the same questions."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from agentladder.cli import app
from agentladder.config import Settings
from agentladder.training.questions import importing
from agentladder.training.questions import service as bank
from tests.conftest import corpus_path

runner = CliRunner()


def _import(session: Session, path: Path, **options: object):  # type: ignore[no-untyped-def]
    return importing.import_questions(
        session=session,
        data=path.read_bytes(),
        file_name=path.name,
        **options,  # type: ignore[arg-type]
    )


def test_the_real_moodle_export_imports_with_its_one_calculated_question_skipped(
    session: Session,
) -> None:
    path = corpus_path("question_bank", "moodle_xml", "DS-20200731.xml")
    result, report = _import(session, path)
    assert result.applied, result.preview.errors[:3]
    assert report.imported == 318
    assert report.by_type == {
        "essay": 35,
        "matching": 10,
        "multiple_choice": 37,
        "numerical": 36,
        "short_answer": 40,
        "single_choice": 159,
        "true_false": 1,
    }
    assert [(s.type, s.name) for s in report.skipped] == [
        ("calculated", "2log bepalen binsearch N elementen")
    ]
    assert report.categories == 52
    assert len(bank.bank_questions(session=session)) == 318
    # The skipped question is a warning on its line, not a refusal.
    [warning] = [issue for issue in result.preview.issues if issue.severity == "warning"]
    assert warning.row == report.skipped[0].line


def test_nested_categories_file_and_a_target_category(session: Session) -> None:
    path = corpus_path("question_bank", "moodle_xml", "nested_categories_with_questions.xml")
    result, report = _import(session, path, category=("导入", "Moodle"))
    assert result.applied
    assert report.skipped == []
    paths = {category.path for category in bank.category_tree(session=session)}
    assert ("导入", "Moodle", "Iota", "Kappa", "Lambda") in paths


def test_a_bad_question_refuses_the_file_and_names_its_line(
    session: Session, tmp_path: Path
) -> None:
    path = tmp_path / "bank.gift"
    path.write_text(
        "::好题::客服热线是？{=95000 ~95001}\n\n::坏题::括号没关 {=对 ~错\n\n::又一题::对吗？{T}\n",
        encoding="utf-8",
    )
    result, report = _import(session, path)
    assert not result.applied
    assert report.imported == 0
    assert [issue.row for issue in result.preview.errors] == [3]
    assert bank.bank_questions(session=session) == []


def test_export_then_import_is_unchanged(session: Session, tmp_path: Path) -> None:
    source = corpus_path("question_bank", "moodle_xml", "DS-20200731.xml")
    _import(session, source)
    before = {q.content_hash() for _id, q in bank.bank_questions(session=session)}
    for bank_format in ("moodle-xml", "gift", "xlsx"):
        data, left_out = importing.export_questions(session=session, bank_format=bank_format)  # type: ignore[arg-type]
        suffix = {"moodle-xml": "xml", "gift": "gift", "xlsx": "xlsx"}[bank_format]
        path = tmp_path / f"bank.{suffix}"
        path.write_bytes(data)
        result, report = _import(session, path)
        assert result.applied, (bank_format, result.preview.errors[:3])
        assert report.imported + len(left_out) == 318, bank_format
        assert {row.action for row in result.preview.rows} == {"unchanged"}, bank_format
    after = {q.content_hash() for _id, q in bank.bank_questions(session=session)}
    assert after == before


def test_cli_report_is_the_documented_json(cli_env: Settings) -> None:
    path = corpus_path("question_bank", "moodle_xml", "DS-20200731.xml")
    result = runner.invoke(
        app, ["training", "questions", "import", str(path), "--dry-run", "--output", "json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report) == {"file", "imported", "by_type", "skipped", "categories"}
    assert report["file"] == "DS-20200731.xml"
    assert report["imported"] == 318
    assert report["skipped"] == [
        {
            "name": "2log bepalen binsearch N elementen",
            "type": "calculated",
            "reason": report["skipped"][0]["reason"],
        }
    ]
    listed = runner.invoke(app, ["training", "questions", "list", "--format", "json"])
    assert json.loads(listed.output) == []  # a dry run stores nothing


def test_cli_export_and_template(cli_env: Settings, tmp_path: Path) -> None:
    template = tmp_path / "template.xlsx"
    assert (
        runner.invoke(app, ["training", "questions", "template", "--out", str(template)]).exit_code
        == 0
    )
    imported = runner.invoke(app, ["training", "questions", "import", str(template)])
    assert imported.exit_code == 0, imported.output
    out = tmp_path / "bank.gift"
    exported = runner.invoke(
        app,
        [
            "training",
            "questions",
            "export",
            "--format",
            "gift",
            "--out",
            str(out),
            "--category",
            "示例 Examples",
        ],
    )
    assert exported.exit_code == 0, exported.output
    assert "left out: 投诉处理步骤 (ordering)" in exported.output  # GIFT has no ordering type
    assert out.read_text(encoding="utf-8").count("::") >= 14
