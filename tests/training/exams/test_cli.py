"""`agentladder training exams ...` and `training attempts ...` through Typer's runner on the test
database: the statistics JSON exactly as documented, the table with dubious rows marked, the
Moodle grades import (dry run, errors, again), the exam list, settings and grading queue."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from agentladder.cli import app
from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.training.exams import service as exams
from agentladder.training.exams.schemas import ExamSettings, SaveAnswer
from agentladder.training.questions import service as bank
from agentladder.training.questions.schemas import Question
from tests.factories import make_agent
from tests.training.exams.test_analysis import build

runner = CliRunner()
DATA = Path(__file__).resolve().parent.parent.parent / "data" / "training"

TEST_KEYS = ["mean", "sd", "skewness", "kurtosis", "cic", "error_ratio", "standard_error"]
ITEM_KEYS = [
    "slot",
    "question",
    "facility",
    "sd",
    "random_guess",
    "intended_weight",
    "effective_weight",
    "discrimination_index",
    "discriminative_efficiency",
    "dubious",
]


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def words(text: str) -> str:
    """The output with Rich's line wrapping undone."""
    return " ".join(text.split())


def _imported_exam(settings: Settings, tmp_path: Path) -> Path:
    """An exam and six agents; a Moodle report where the fourth question is answered right by
    the weakest agents only (a dubious question)."""
    with session_scope(settings) as session:
        bank.store_question(
            session=session,
            question=Question.model_validate(
                {"type": "true_false", "name": "判断", "text": "？", "correct_answer": True}
            ),
            source="t",
        )
        exams.save_exam(
            session=session,
            settings_in=ExamSettings.model_validate(
                {"code": "MIG", "title": "迁移", "blueprint": {"sections": [{"count": 1}]}}
            ),
            user_id=None,
        )
        for n in range(6):
            make_agent(session, employee_no=f"10000{n}", name=f"座席{n}")
    marks = ["1,1,1,0", "1,1,1,0", "1,1,0,0", "0,1,0,1", "0,0,0,1", "0,0,0,1"]
    report = tmp_path / "grades.csv"
    report.write_text(
        "Last name,First name,ID number,State,Started on,Completed,Grade/4.00,"
        "Q. 1 /1.00,Q. 2 /1.00,Q. 3 /1.00,Q. 4 /1.00\n"
        + "".join(
            f'座,席{n},10000{n},Finished,"5 March 2026, 10:0{n} AM","5 March 2026, 10:3{n} AM",'
            f"{sum(int(x) for x in row.split(','))},{row}\n"
            for n, row in enumerate(marks)
        )
        + "Overall average,,,,,,2.00,0.50,0.67,0.33,0.50\n",
        encoding="utf-8",
    )
    return report


def test_stats_json_is_the_documented_contract(cli_env: Settings) -> None:
    with session_scope(cli_env) as session:
        build(session)
    shown = json.loads(run("training", "exams", "stats", "STAT-1", "--format", "json"))
    assert list(shown) == ["exam", "attempts", "test", "items"]
    assert (shown["exam"], shown["attempts"]) == ("STAT-1", 14)
    assert list(shown["test"]) == TEST_KEYS
    assert [list(item) for item in shown["items"]] == [ITEM_KEYS] * 4
    first = shown["items"][0]
    assert (first["slot"], first["question"], first["random_guess"]) == (1, "资费", 25.0)
    assert 0 <= first["facility"] <= 100
    assert isinstance(first["dubious"], bool)
    every = json.loads(
        run("training", "exams", "stats", "STAT-1", "--which", "all", "--format", "json")
    )
    assert every["attempts"] == 21


def test_import_then_stats_table_marks_dubious_rows(cli_env: Settings, tmp_path: Path) -> None:
    report = _imported_exam(cli_env, tmp_path)
    dry = run("training", "attempts", "import", str(report), "--exam", "MIG", "--dry-run")
    assert "6 imported" in dry
    assert "dry run: nothing written" in dry
    assert (
        json.loads(run("training", "attempts", "list", "--exam", "MIG", "--format", "json")) == []
    )
    assert "6 imported" in run("training", "attempts", "import", str(report), "--exam", "MIG")
    again = run("training", "attempts", "import", str(report), "--exam", "MIG")
    assert "6 already stored" in words(again)
    listed = json.loads(run("training", "attempts", "list", "--exam", "MIG", "--format", "json"))
    assert len(listed) == 6
    assert {a["source"] for a in listed} == {"import:grades.csv"}

    shown = json.loads(run("training", "exams", "stats", "MIG", "--format", "json"))
    assert [item["question"] for item in shown["items"]] == ["Q. 1", "Q. 2", "Q. 3", "Q. 4"]
    assert [item["dubious"] for item in shown["items"]] == [False, False, False, True]
    assert [item["random_guess"] for item in shown["items"]] == [None] * 4
    table = run("training", "exams", "stats", "MIG")
    dubious = [line for line in table.splitlines() if "Q. 4" in line]
    assert dubious
    assert "!" in dubious[0]
    assert "negcovar" in dubious[0]
    assert "!" not in next(line for line in table.splitlines() if "Q. 1" in line)


def test_a_wrong_report_exits_with_its_rows_named(cli_env: Settings) -> None:
    with session_scope(cli_env) as session:
        build(session)
        for n in range(1, 6):
            make_agent(session, employee_no=f"10000{n}", name="王芳")
    result = runner.invoke(
        app,
        ["training", "attempts", "import", str(DATA / "moodle_grades_errors.csv"),
         "--exam", "STAT-1", "--format", "csv"],
    )  # fmt: skip
    assert result.exit_code == 1
    problems = [row[:4] for row in csv.reader(io.StringIO(result.output)) if row]
    assert ["3", "error", "Username", "ghost"] in problems
    assert ["4", "error", "Started on", "5 Marc 2026, 2:15 PM"] in problems
    assert ["6", "error", "Q. 2 /2.00", "two"] in problems
    missing = runner.invoke(app, ["training", "attempts", "import", str(DATA / "x.csv")])
    assert missing.exit_code != 0
    unknown = runner.invoke(
        app,
        ["training", "attempts", "import", str(DATA / "moodle_grades_en.csv"), "--exam", "NOPE"],
    )
    assert unknown.exit_code == 1
    assert "NOPE" in unknown.output


def test_list_show_and_grading_queue(cli_env: Settings) -> None:
    with session_scope(cli_env) as session:
        build(session)
        bank.store_question(
            session=session,
            question=Question.model_validate(
                {
                    "type": "essay",
                    "name": "安抚话术",
                    "text": "写出安抚话术。",
                    "category": ["写作"],
                }
            ),
            source="t",
        )
        exams.save_exam(
            session=session,
            settings_in=ExamSettings.model_validate(
                {
                    "code": "ESSAY",
                    "title": "写作",
                    "blueprint": {"sections": [{"category": ["写作"], "count": 1}]},
                }
            ),
            user_id=None,
        )
        exams.set_exam_status(session=session, code="ESSAY", status="published")
        agent = make_agent(session, employee_no="E9999", name="王芳")
        now = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
        attempt_id = exams.start_attempt(
            session=session, exam_code="ESSAY", agent_id=agent.id, now=now
        )
        exams.save_answer(
            session=session,
            attempt_id=attempt_id,
            agent_id=agent.id,
            answer=SaveAnswer(slot=1, response="您好，请别着急。", seq=1),
            now=now,
        )
        exams.submit_attempt(session=session, attempt_id=attempt_id, agent_id=agent.id, now=now)

    listed = json.loads(run("training", "exams", "list", "--format", "json"))
    assert [(e["code"], e["attempts"]) for e in listed] == [("ESSAY", 1), ("STAT-1", 22)]
    shown = json.loads(run("training", "exams", "show", "STAT-1", "--format", "json"))
    assert shown["exam"]["code"] == "STAT-1"
    assert shown["exam"]["blueprint"]["sections"][1]["category"] == ["服务技能"]
    assert shown["attempts"] == {
        "in_progress": 1,
        "needs_grading": 0,
        "finished": 21,
        "imported": 0,
        "agents": 14,
    }
    assert "grading_method" in run("training", "exams", "show", "STAT-1")
    queue = json.loads(run("training", "exams", "grading-queue", "--format", "json"))
    assert [(q["exam_code"], q["employee_no"], q["question_name"]) for q in queue] == [
        ("ESSAY", "E9999", "安抚话术")
    ]
    missing = runner.invoke(app, ["training", "exams", "show", "NOPE"])
    assert missing.exit_code == 1


EXAM_YAML = """
code: SS-2027
title: 服务技能认证考试 Service skill
time_limit_min: 40
max_attempts: 2
grading_method: highest
pass_percent: 70
review: answers
audience:
  levels: [basic_junior, basic_senior]
blueprint:
  sections:
    - title: 服务礼仪
      category: [服务技能]
      count: 2
      mark: 5
"""


def test_an_exam_saved_from_yaml_and_published(cli_env: Settings, tmp_path: Path) -> None:
    from agentladder.training.questions import service as bank
    from agentladder.training.questions.schemas import Question

    with session_scope() as session:
        for number in range(3):
            bank.store_question(
                session=session,
                question=Question.model_validate(
                    {
                        "type": "true_false",
                        "name": f"礼仪{number}",
                        "text": f"接听时先自报家门。{number}",
                        "category": ["服务技能"],
                        "correct_answer": True,
                    }
                ),
                source="test",
            )
    path = tmp_path / "exam.yaml"
    path.write_text(EXAM_YAML, encoding="utf-8")
    saved = runner.invoke(app, ["training", "exams", "save", str(path), "--publish"])
    assert saved.exit_code == 0, saved.output
    assert "SS-2027 saved (published, 2 questions)" in saved.output
    again = runner.invoke(app, ["training", "exams", "save", str(path)])
    assert again.exit_code == 0, again.output  # the same code changes the exam
    closed = runner.invoke(app, ["training", "exams", "status", "SS-2027", "closed"])
    assert "SS-2027: closed" in closed.output
    path.write_text(EXAM_YAML.replace("count: 2", "count: 9"), encoding="utf-8")
    refused = runner.invoke(app, ["training", "exams", "save", str(path)])
    assert refused.exit_code == 1
    assert "pool holds 3" in refused.output
