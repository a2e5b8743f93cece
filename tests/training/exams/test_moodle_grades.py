"""Attempts from Moodle's quiz Grades report (English and Chinese, CSV and XLSX) on the real
database: agents matched through the roster, unfinished attempts skipped, wrong rows named by
row and column with nothing stored, the same file again unchanged."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.errors import NotFound
from agentladder.imports.models import FileImport
from agentladder.org import service as org_service
from agentladder.training.exams import moodle_grades
from agentladder.training.exams import service as exams
from agentladder.training.exams.schemas import ExamSettings
from agentladder.training.models import AttemptSlot, Certification, ExamAttempt
from agentladder.training.programmes import service as programmes
from agentladder.training.questions import service as bank
from agentladder.training.questions.schemas import Question
from tests.factories import make_agent

DATA = Path(__file__).resolve().parent.parent.parent / "data" / "training"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _exam(session: Session, pass_percent: float = 60) -> str:
    question = Question.model_validate(
        {
            "type": "true_false",
            "name": "判断",
            "text": "宽带可以提速？",
            "category": ("产品知识",),
            "correct_answer": True,
        }
    )
    bank.store_question(session=session, question=question, source="test")
    settings = ExamSettings.model_validate(
        {
            "code": "MOODLE-1",
            "title": "迁移考试",
            "pass_percent": pass_percent,
            "blueprint": {"sections": [{"category": ["产品知识"], "count": 1}]},
        }
    )
    return exams.save_exam(session=session, settings_in=settings, user_id=None).code


def _roster(session: Session) -> None:
    make_agent(session, employee_no="100001", name="王芳")
    make_agent(session, employee_no="100002", name="李娜")
    make_agent(session, employee_no="100003", name="张伟")
    agent = make_agent(session, employee_no="100004", name="赵磊")
    org_service.add_alias(session=session, agent=agent, identity="zhao.lei@example.com")
    make_agent(session, employee_no="100005", name="刘洋")


def _import(session: Session, name: str, data: bytes | None = None, **options: object):  # type: ignore[no-untyped-def]
    return moodle_grades.import_moodle_grades(
        session=session,
        data=data if data is not None else (DATA / name).read_bytes(),
        file_name=name,
        exam_code="MOODLE-1",
        zone=SHANGHAI,
        **options,  # type: ignore[arg-type]
    )


def _attempts(session: Session) -> list[ExamAttempt]:
    return list(session.scalars(select(ExamAttempt).order_by(ExamAttempt.started_at)))


def test_the_english_report_imports_finished_attempts(session: Session) -> None:
    _exam(session)
    _roster(session)
    result = _import(session, "moodle_grades_en.csv")
    preview = result.preview
    assert result.applied, preview.errors
    # Wang, Li (found by the email's 100002) and Liu; Zhang in progress, Zhao waiting for a
    # mark and Chen never submitted are skipped with a warning; the average row is ignored.
    assert [row.employee_no for row in preview.rows] == ["100001", "100002", "100005"]
    warnings = {(issue.row, issue.message) for issue in preview.warnings}
    assert (4, "the attempt is not finished: it is skipped") in warnings
    assert (5, "Moodle has not finished grading this attempt: it is skipped") in warnings
    assert (7, "the attempt is not finished: it is skipped") in warnings
    assert not any(issue.row == 8 for issue in preview.issues)
    # Names are checked against the roster's (Chinese) names: a warning only.
    assert (2, "the name differs from the agent's name ({name})") in warnings

    wang, li, liu = _attempts(session)
    assert wang.started_at == datetime(2026, 3, 5, 2, 2, tzinfo=UTC)  # 10:02 in Shanghai
    assert wang.submitted_at == datetime(2026, 3, 5, 2, 31, tzinfo=UTC)
    assert li.started_at == datetime(2026, 3, 5, 6, 15, tzinfo=UTC)  # 2:15 PM
    assert (wang.marks, wang.max_marks, wang.percent, wang.passed) == (8, 10, 80, True)
    assert (li.marks, li.percent, li.passed) == (5, 50, False)
    assert (liu.marks, liu.percent, liu.passed) == (3, 30, False)
    assert {a.state for a in (wang, li, liu)} == {"finished"}
    assert wang.source == "import:moodle_grades_en.csv"
    ledger = session.scalars(select(FileImport)).one()
    assert {a.file_import_id for a in (wang, li, liu)} == {ledger.id}
    slots = session.scalars(
        select(AttemptSlot).where(AttemptSlot.attempt_id == liu.id).order_by(AttemptSlot.slot)
    ).all()
    assert [(s.slot, s.max_mark, s.mark, s.question_version_id) for s in slots] == [
        (1, 2, 0, None),
        (2, 2, 2, None),
        (3, 3, None, None),  # "-": no mark
        (4, 3, 1, None),
    ]


def test_the_same_file_again_changes_nothing(session: Session) -> None:
    _exam(session)
    _roster(session)
    assert _import(session, "moodle_grades_en.csv").applied
    again = _import(session, "moodle_grades_en.csv")
    assert again.applied
    assert [row.action for row in again.preview.rows] == ["unchanged"] * 3
    assert again.preview.previous_import is not None
    assert len(_attempts(session)) == 3
    # The Chinese export of the same attempts matches them too (same agents, same minutes).
    chinese = _import(session, "moodle_grades_zh.csv")
    assert [row.action for row in chinese.preview.rows] == ["unchanged"] * 3
    assert len(_attempts(session)) == 3


def test_a_pass_carried_over_awards_the_programmes_certificate(session: Session) -> None:
    _exam(session)
    _roster(session)
    programmes.save_programme(
        session=session,
        programme_in=programmes.ProgrammeIn(
            code="product", cert_type="product_knowledge", exam_codes=("MOODLE-1",)
        ),
        user_id=None,
    )
    _import(session, "moodle_grades_en.csv", dry_run=True)
    assert session.scalars(select(Certification)).all() == []
    assert _import(session, "moodle_grades_en.csv").applied
    # Only Wang passed (80 %), on 5 March in Shanghai; the same file again awards nothing more.
    [certificate] = session.scalars(select(Certification)).all()
    wang = org_service.get_agent_by_employee_no(session=session, employee_no="100001")
    assert wang is not None
    assert (certificate.agent_id, certificate.cert_type) == (wang.id, "product_knowledge")
    assert certificate.issued_on == date(2026, 3, 5)
    assert certificate.source == "exam:MOODLE-1"
    assert certificate.verification_code
    _import(session, "moodle_grades_en.csv")
    assert len(session.scalars(select(Certification)).all()) == 1


def test_a_regraded_attempt_is_updated(session: Session) -> None:
    _exam(session)
    _roster(session)
    _import(session, "moodle_grades_en.csv")
    text = (DATA / "moodle_grades_en.csv").read_text("utf-8")
    regraded = text.replace("3.00,0.00,2.00,-,1.00", "4.00,0.00,2.00,1.00,1.00")
    result = _import(session, "regraded.csv", regraded.encode())
    assert [row.action for row in result.preview.rows] == ["unchanged", "unchanged", "update"]
    assert result.preview.rows[2].changes["marks"] == ("3", "4")
    liu = _attempts(session)[-1]
    assert (liu.marks, liu.percent, liu.number) == (4, 40, 1)
    assert liu.source == "import:regraded.csv"


def test_the_chinese_report_as_a_workbook(session: Session) -> None:
    _exam(session)
    _roster(session)
    rows = list(csv.reader(io.StringIO((DATA / "moodle_grades_zh.csv").read_text("utf-8"))))
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append([float(cell) if cell.replace(".", "").isdigit() else cell for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = _import(session, "成绩.xlsx", buffer.getvalue())
    assert result.applied, result.preview.errors
    assert [row.employee_no for row in result.preview.rows] == ["100001", "100002", "100005"]
    warnings = {(issue.row, issue.message) for issue in result.preview.warnings}
    assert (4, "the attempt is not finished: it is skipped") in warnings  # 进行中
    assert (6, "the attempt is not finished: it is skipped") in warnings  # 从未提交
    assert not any(issue.row == 7 for issue in result.preview.issues)  # 总平均分
    assert not any(issue.row == 2 for issue in result.preview.issues)  # 王 芳 = 王芳
    wang, li, liu = _attempts(session)
    assert wang.started_at == datetime(2026, 3, 5, 2, 2, tzinfo=UTC)
    assert li.submitted_at == datetime(2026, 3, 5, 6, 40, tzinfo=UTC)
    # No completion time: started on plus 用时 (12 分钟).
    assert liu.submitted_at == datetime(2026, 3, 6, 3, 12, tzinfo=UTC)
    assert (wang.percent, li.percent, liu.percent) == (80, 50, 30)


def test_wrong_rows_are_named_and_nothing_is_stored(session: Session) -> None:
    _exam(session)
    _roster(session)
    result = _import(session, "moodle_grades_errors.csv")
    assert not result.applied
    errors = {(issue.row, issue.column, issue.message) for issue in result.preview.errors}
    assert errors == {
        (3, "Username", "no agent has this ID number, username or email"),
        (4, "Started on", "not a date and time (write 5 March 2026, 10:02 AM or 2026-03-05 10:02)"),
        (5, "Q. 2 /2.00", "the mark is more than the question's {max}"),
        (6, "Q. 2 /2.00", "not a mark (write a number such as 0.50, or -)"),
    }
    assert _attempts(session) == []
    ledger = session.scalars(select(FileImport)).one()
    assert (ledger.status, ledger.rejected) == ("refused", 4)


def test_a_dry_run_writes_nothing(session: Session) -> None:
    _exam(session)
    _roster(session)
    result = _import(session, "moodle_grades_en.csv", dry_run=True)
    assert result.dry_run
    assert not result.applied
    assert [row.action for row in result.preview.rows] == ["create"] * 3
    assert _attempts(session) == []
    assert session.scalars(select(FileImport)).all() == []


def test_a_file_without_identities_or_marks_is_refused(session: Session) -> None:
    _exam(session)
    _roster(session)
    data = (
        "Last name,First name,State,Started on,Completed\n"
        "Wang,Fang,Finished,5 March 2026 10:02 AM,5 March 2026 10:30 AM\n"
    )
    result = _import(session, "bare.csv", data.encode())
    messages = {issue.message for issue in result.preview.file_errors}
    assert messages == {
        "the file has no ID number, username or email column to find the agents by",
        "the file has no Grade/… or Q. n /… column: export it with the marks",
    }


def test_a_grade_only_report_and_new_numbers_after_online_attempts(session: Session) -> None:
    _exam(session, pass_percent=50)
    _roster(session)
    data = (
        "Surname,First name,ID number,State,Started on,Completed,Time taken,Grade/20.00\n"
        'Li,Na,100002,Finished,"March 5, 2026, 2:15 PM","March 5, 2026, 2:40 PM",25 mins,'
        "10.50\n"
        'Li,Na,100002,Finished,"March 6, 2026, 2:15 PM","March 6, 2026, 2:40 PM",25 mins,'
        "12\n"
    )
    result = _import(session, "grades.csv", data.encode())
    assert result.applied, result.preview.errors
    first, second = _attempts(session)
    assert (first.number, first.marks, first.max_marks, first.percent, first.passed) == (
        1,
        10.5,
        20,
        52.5,
        True,
    )
    assert second.number == 2
    assert session.scalars(select(AttemptSlot)).all() == []


def test_the_exam_must_exist(session: Session) -> None:
    with pytest.raises(NotFound):
        _import(session, "moodle_grades_en.csv")
