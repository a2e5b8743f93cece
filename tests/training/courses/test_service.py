"""Course records on the real database: entered one at a time, imported from CSV/XLSX (all rows
or none, the same record again updated, never duplicated), listed, and summed per period."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.errors import Conflict, NotFound
from agentladder.imports import service as imports_service
from agentladder.org import service as org_service
from agentladder.training.courses import service as courses_service
from agentladder.training.courses.schemas import CourseCreate, CourseImportResult
from agentladder.training.models import CourseRecord
from tests.factories import make_agent

GOOD = """工号,姓名,课程,完成日期,学时
100001,王芳,投诉处理技巧,2026-10-08,3.5
100001,王芳,新产品培训,2026/10/31,2 小时
Agent/8002,李强,投诉处理技巧,2026年11月1日,3.5
"""


@pytest.fixture
def centre(session: Session) -> dict[str, int]:
    wang = make_agent(session, employee_no="100001", name="王芳")
    li = make_agent(session, employee_no="100002", name="李强")
    org_service.add_alias(session=session, agent=li, identity="Agent/8002")
    session.commit()
    return {"wang": wang.id, "li": li.id}


def _import(
    settings: Settings, data: bytes, name: str = "课程.csv", **kwargs: object
) -> CourseImportResult:
    with session_scope(settings) as session:
        return courses_service.import_courses(
            session=session,
            data=data,
            file_name=name,
            **kwargs,  # type: ignore[arg-type]
        )


def _stored(settings: Settings) -> list[tuple[int, str, date, float, str]]:
    with session_scope(settings) as session:
        return [
            (r.agent_id, r.course, r.completed_on, r.hours, r.source)
            for r in courses_service.list_courses(session=session)
        ]


def test_a_file_with_chinese_headers_imports_every_row(
    settings: Settings, centre: dict[str, int]
) -> None:
    result = _import(settings, GOOD.encode("gb18030"))
    assert result.applied
    assert result.preview.issues == []
    assert [(r.row, r.employee_no, r.action) for r in result.preview.rows] == [
        (2, "100001", "create"),
        (3, "100001", "create"),
        (4, "100002", "create"),
    ]
    assert _stored(settings) == [
        (centre["li"], "投诉处理技巧", date(2026, 11, 1), 3.5, "import:课程.csv"),
        (centre["wang"], "新产品培训", date(2026, 10, 31), 2.0, "import:课程.csv"),
        (centre["wang"], "投诉处理技巧", date(2026, 10, 8), 3.5, "import:课程.csv"),
    ]
    with session_scope(settings) as session:
        [ledger] = imports_service.list_imports(session=session, kind="training_courses")
        assert (ledger.status, ledger.created) == ("applied", 3)
        linked = session.scalars(select(CourseRecord.file_import_id)).all()
        assert set(linked) == {ledger.id}
        october = courses_service.course_hours(
            session=session, first_day=date(2026, 10, 1), last_day=date(2026, 10, 31)
        )
    assert [(a.agent_id, a.hours, a.courses) for a in october] == [(centre["wang"], 5.5, 2)]


def test_an_xlsx_with_english_headers_and_number_cells(
    settings: Settings, centre: dict[str, int]
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Employee no", "Name", "Course", "Completed on", "Hours"])
    sheet.append(["100001", "王芳", "Complaint handling", date(2026, 10, 8), 4])
    sheet.append([100002, "李强", "Complaint handling", date(2026, 10, 9), 1.25])
    buffer = io.BytesIO()
    book.save(buffer)
    assert _import(settings, buffer.getvalue(), name="courses.xlsx").applied
    assert [(agent, hours) for agent, _c, _d, hours, _s in _stored(settings)] == [
        (centre["li"], 1.25),
        (centre["wang"], 4.0),
    ]


def test_bad_rows_are_named_and_nothing_is_stored(
    settings: Settings, centre: dict[str, int]
) -> None:
    text = (
        "工号,课程,完成日期,学时\n"
        "100001,投诉处理技巧,2026-10-08,3\n"  # good
        "999999,投诉处理技巧,2026-10-08,3\n"  # nobody
        "100002,投诉处理技巧,2026-10-32,3\n"  # no such day
        "100002,新产品培训,2026-10-08,三小时\n"  # not a number
        "100002,服务礼仪,2026-10-08,-1\n"  # negative
        "100002,全年轮训,2026-10-08,5000\n"  # too many for one course
        "100001,投诉处理技巧,2026-10-08,4\n"  # row 2 again
        "100001,,2026-10-08,\n"  # empty course and hours
    )
    result = _import(settings, text.encode())
    assert not result.applied
    assert [(e.row, e.column, e.value) for e in result.preview.errors] == [
        (3, "工号", "999999"),
        (4, "完成日期", "2026-10-32"),
        (5, "学时", "三小时"),
        (6, "学时", "-1"),
        (7, "学时", "5000"),
        (8, "课程", "投诉处理技巧"),
        (9, "课程", None),
        (9, "学时", None),
    ]
    assert result.preview.errors[5].params == {"row": 2}
    assert result.preview.errors[4].text("en") == "more than 1000 hours in one course"
    assert _stored(settings) == []


def test_missing_column_and_dry_run(settings: Settings, centre: dict[str, int]) -> None:
    result = _import(settings, "工号,课程,完成日期\n100001,投诉处理技巧,2026-10-08\n".encode())
    assert [(e.row, e.column, e.message) for e in result.preview.errors] == [
        (1, "学时", "required column is missing")
    ]
    dry = _import(settings, GOOD.encode(), dry_run=True)
    assert (dry.applied, dry.dry_run, dry.preview.count("create")) == (False, True, 3)
    assert _stored(settings) == []


def test_reimport_changes_nothing_then_updates_the_hours(
    settings: Settings, centre: dict[str, int]
) -> None:
    assert _import(settings, GOOD.encode()).applied
    with session_scope(settings) as session:
        stamps = sorted(session.scalars(select(CourseRecord.recorded_at)))
    again = _import(settings, GOOD.encode(), name="again.csv")
    assert again.preview.count("unchanged") == 3
    with session_scope(settings) as session:
        assert sorted(session.scalars(select(CourseRecord.recorded_at))) == stamps
    changed = _import(settings, GOOD.replace("2 小时", "2.5").encode(), name="fixed.csv")
    [row] = [r for r in changed.preview.rows if r.action == "update"]
    assert (row.row, row.changes) == (3, {"hours": ("2", "2.5")})
    stored = _stored(settings)
    assert len(stored) == 3
    assert (centre["wang"], "新产品培训", date(2026, 10, 31), 2.5, "import:fixed.csv") in stored
    with session_scope(settings) as session:
        assert max(session.scalars(select(CourseRecord.recorded_at))) > stamps[-1]


def test_a_name_that_differs_from_the_agents_is_a_warning(
    settings: Settings, centre: dict[str, int]
) -> None:
    text = "工号,姓名,课程,完成日期,学时\n100001,王小芳,投诉处理技巧,2026-10-08,3\n"
    result = _import(settings, text.encode())
    assert result.applied
    assert [(w.row, w.column, w.severity, w.params) for w in result.preview.issues] == [
        (2, "姓名", "warning", {"name": "王芳"})
    ]


def test_record_course_by_hand_and_list_one_agents(
    session: Session, centre: dict[str, int]
) -> None:
    record = courses_service.record_course(
        session=session,
        course_in=CourseCreate(
            agent_id=centre["wang"],
            course=" 投诉处理技巧 ",
            completed_on=date(2026, 10, 8),
            hours=3,
        ),
    )
    assert (record.employee_no, record.course, record.hours, record.source) == (
        "100001",
        "投诉处理技巧",
        3,
        "manual",
    )
    with pytest.raises(Conflict):
        courses_service.record_course(
            session=session,
            course_in=CourseCreate(
                agent_id=centre["wang"],
                course="投诉处理技巧",
                completed_on=date(2026, 10, 8),
                hours=4,
            ),
        )
    with pytest.raises(NotFound):
        courses_service.record_course(
            session=session,
            course_in=CourseCreate(
                agent_id=999_999, course="投诉处理技巧", completed_on=date(2026, 10, 8), hours=4
            ),
        )
    courses_service.record_course(
        session=session,
        course_in=CourseCreate(
            agent_id=centre["li"], course="新产品培训", completed_on=date(2026, 9, 30), hours=2
        ),
    )
    mine = courses_service.list_courses(session=session, agent_id=centre["wang"])
    assert [(c.course, c.agent_name) for c in mine] == [("投诉处理技巧", "王芳")]
    october = courses_service.list_courses(
        session=session, first_day=date(2026, 10, 1), last_day=date(2026, 10, 31)
    )
    assert [c.agent_id for c in october] == [centre["wang"]]
