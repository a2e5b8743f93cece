"""Course records: the courses agents completed and their hours, entered one at a time
(`record_course`) or imported from CSV/XLSX (`import_courses`, all rows or none). An agent,
course and completion day identify a record: the same one again in a file updates its hours,
never duplicates it. The training provider sums the hours of each period (`course_hours`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from agentladder.db import in_chunks, utcnow
from agentladder.errors import Conflict, NotFound
from agentladder.i18n import N_
from agentladder.imports import pipeline
from agentladder.imports.columns import AGENT_COLUMN, NAME_COLUMN, name_differs, row_agent
from agentladder.imports.spec import (
    CellError,
    Column,
    Importer,
    ImportRun,
    ParsedRow,
    Planned,
    Problems,
    date_cell,
    text_cell,
)
from agentladder.org import service as org_service
from agentladder.org.schemas import AgentRead
from agentladder.training.courses.schemas import (
    MAX_COURSE_HOURS,
    AgentCourseHours,
    CourseCreate,
    CourseImportResult,
    CourseRead,
    CourseRowPlan,
)
from agentladder.training.models import CourseRecord


def _read(record: CourseRecord, agent: AgentRead | None) -> CourseRead:
    return CourseRead(
        id=record.id,
        agent_id=record.agent_id,
        employee_no=agent.employee_no if agent else "",
        agent_name=agent.name if agent else "",
        course=record.course,
        completed_on=record.completed_on,
        hours=record.hours,
        source=record.source,
        recorded_at=record.recorded_at,
    )


# --- one record at a time ---------------------------------------------------------------------


def record_course(*, session: Session, course_in: CourseCreate) -> CourseRead:
    """Record a course an agent completed; the same agent, course and day twice is a Conflict."""
    agents = org_service.agents_by_ids(session=session, agent_ids=[course_in.agent_id])
    if not agents:
        raise NotFound(N_("agent {id} does not exist"), id=course_in.agent_id)
    existing = session.scalar(
        select(CourseRecord.id).where(
            CourseRecord.agent_id == course_in.agent_id,
            CourseRecord.course == course_in.course,
            CourseRecord.completed_on == course_in.completed_on,
        )
    )
    if existing is not None:
        raise Conflict(
            N_("the agent already has course {course} completed on {day}"),
            course=course_in.course,
            day=course_in.completed_on.isoformat(),
        )
    record = CourseRecord(
        agent_id=course_in.agent_id,
        course=course_in.course,
        completed_on=course_in.completed_on,
        hours=course_in.hours,
        source=course_in.source,
        recorded_at=utcnow(),
    )
    session.add(record)
    session.flush()
    return _read(record, agents[0])


def list_courses(
    *,
    session: Session,
    agent_id: int | None = None,
    first_day: date | None = None,
    last_day: date | None = None,
) -> list[CourseRead]:
    """Course records (of one agent, completed within the days given), newest first."""
    query = select(CourseRecord)
    if agent_id is not None:
        query = query.where(CourseRecord.agent_id == agent_id)
    if first_day is not None:
        query = query.where(CourseRecord.completed_on >= first_day)
    if last_day is not None:
        query = query.where(CourseRecord.completed_on <= last_day)
    records = session.scalars(
        query.order_by(CourseRecord.completed_on.desc(), CourseRecord.agent_id, CourseRecord.course)
    ).all()
    agents = {
        agent.id: agent
        for agent in org_service.agents_by_ids(
            session=session, agent_ids={record.agent_id for record in records}
        )
    }
    return [_read(record, agents.get(record.agent_id)) for record in records]


# --- what the training provider reads ---------------------------------------------------------


def course_hours(*, session: Session, first_day: date, last_day: date) -> list[AgentCourseHours]:
    """Per agent, the hours of the courses completed from `first_day` to `last_day` (both
    included) and how many records give them, by agent id."""
    rows = session.execute(
        select(CourseRecord.agent_id, func.sum(CourseRecord.hours), func.count())
        .where(CourseRecord.completed_on >= first_day, CourseRecord.completed_on <= last_day)
        .group_by(CourseRecord.agent_id)
        .order_by(CourseRecord.agent_id)
    ).all()
    return [
        AgentCourseHours(agent_id=agent_id, hours=float(hours or 0.0), courses=count)
        for agent_id, hours, count in rows
    ]


def courses_recorded_after(
    *, session: Session, first_day: date, last_day: date, after: datetime
) -> tuple[int, datetime | None]:
    """How many course records completed within the days were entered or changed after a
    moment, and when the last was."""
    count, newest = session.execute(
        select(func.count(), func.max(CourseRecord.recorded_at)).where(
            CourseRecord.completed_on >= first_day,
            CourseRecord.completed_on <= last_day,
            CourseRecord.recorded_at > after,
        )
    ).one()
    return int(count or 0), newest


# --- import -----------------------------------------------------------------------------------

# A unit people write after the number ("2 小时", "1.5h"): the column is hours whatever it says.
_HOURS_UNIT = re.compile(r"\s*(小时|学时|课时|个小时|hours?|hrs?|h)$", re.IGNORECASE)


def _hours_cell(text: str) -> float:
    cleaned = _HOURS_UNIT.sub("", text.strip())
    try:
        hours = float(cleaned)
    except ValueError as exc:
        raise CellError(N_("not a number of hours (write 1.5)")) from exc
    if not math.isfinite(hours) or hours < 0:
        raise CellError(N_("not a number of hours (write 1.5)"))
    if hours > MAX_COURSE_HOURS:
        raise CellError(N_("more than {limit} hours in one course"), limit=MAX_COURSE_HOURS)
    return hours


COURSE_COLUMNS = (
    AGENT_COLUMN,
    Column(
        "course",
        label=N_("Course"),
        zh=("课程", "课程名称", "课程名", "培训课程", "培训名称"),
        en=("course", "course name", "course title", "training"),
        example="投诉处理技巧",
        help=N_("The course's name (the same name, agent and day identify a record)."),
        required=True,
        if_empty=N_("course is empty"),
        parse=text_cell(200, N_("longer than {limit} characters")),
    ),
    Column(
        "completed_on",
        label=N_("Completed on"),
        zh=("完成日期", "结业日期", "完成时间", "培训日期"),
        en=("completed on", "completed", "completed_on", "completion date", "date"),
        example="2026-10-15",
        help=N_("The day the course was completed: 2026-10-15, 2026/10/15 or 2026年10月15日."),
        required=True,
        if_empty=N_("completion date is empty"),
        parse=date_cell,
    ),
    Column(
        "hours",
        label=N_("Hours"),
        zh=("学时", "课时", "培训学时", "时长", "小时数"),
        en=("hours", "training hours", "duration"),
        example="3.5",
        help=N_("The course's hours: 3.5, or 3.5 小时."),
        required=True,
        if_empty=N_("hours are empty"),
        parse=_hours_cell,
    ),
    NAME_COLUMN,
)


@dataclass
class CourseImportOptions:
    """The ids of the records an import stored (pointed at its ledger row afterwards)."""

    stored_ids: list[int] = field(default_factory=list)


def _check_courses(
    session: Session, rows: list[ParsedRow], problems: Problems, run: ImportRun[CourseImportOptions]
) -> list[Planned[CourseRowPlan]]:
    resolve = org_service.identity_resolver(session=session)
    checked: list[tuple[ParsedRow, int, str, date, float]] = []
    for row in rows:
        agent_id = row_agent(problems, row, resolve)
        course: str | None = row.value("course")
        completed_on: date | None = row.value("completed_on")
        hours: float | None = row.value("hours")
        if agent_id is None or not course or completed_on is None or hours is None:
            continue
        problems.first_row(
            (agent_id, course, completed_on),
            row,
            "course",
            N_("the same course also appears in row {row}"),
        )
        if not problems.failed(row.number):
            checked.append((row, agent_id, course, completed_on, hours))
    agent_ids = sorted({agent_id for _, agent_id, _, _, _ in checked})
    agents = {a.id: a for a in org_service.agents_by_ids(session=session, agent_ids=agent_ids)}
    existing: dict[tuple[int, str, date], CourseRecord] = {}
    for chunk in in_chunks(agent_ids):
        for record in session.scalars(select(CourseRecord).where(CourseRecord.agent_id.in_(chunk))):
            existing[(record.agent_id, record.course, record.completed_on)] = record
    planned: list[Planned[CourseRowPlan]] = []
    for row, agent_id, course, completed_on, hours in checked:
        agent = agents[agent_id]
        name_differs(problems, row, agent.name)
        old = existing.get((agent_id, course, completed_on))
        changes: dict[str, tuple[str, str]] = {}
        if old is not None and old.hours != hours:
            changes["hours"] = (f"{old.hours:g}", f"{hours:g}")
        plan = CourseRowPlan(
            row=row.number,
            agent_id=agent_id,
            employee_no=agent.employee_no,
            name=agent.name,
            course=course,
            completed_on=completed_on,
            hours=hours,
            action="create" if old is None else "update" if changes else "unchanged",
            changes=changes,
        )
        planned.append(Planned(plan, old))
    return planned


def _apply_courses(
    session: Session, planned: list[Planned[CourseRowPlan]], run: ImportRun[CourseImportOptions]
) -> None:
    stored: list[CourseRecord] = []
    source = f"import:{run.file_name}"[:200]
    for item in planned:
        row = item.plan
        if row.action == "unchanged":
            continue
        record: CourseRecord | None = item.record
        if record is None:
            record = CourseRecord(
                agent_id=row.agent_id, course=row.course, completed_on=row.completed_on
            )
            session.add(record)
        record.hours = row.hours
        record.source = source
        # The moment the period's evidence changed: a period closed before it is stale.
        record.recorded_at = utcnow()
        stored.append(record)
    session.flush()
    run.options.stored_ids.extend(record.id for record in stored)


COURSES_IMPORTER: Importer[CourseImportOptions, CourseRowPlan] = Importer(
    kind="training_courses",
    title=N_("Course records"),
    columns=COURSE_COLUMNS,
    check=_check_courses,
    apply=_apply_courses,
)


def import_courses(
    *,
    session: Session,
    data: bytes,
    file_name: str,
    encoding: str | None = None,
    dry_run: bool = False,
    user_id: int | None = None,
) -> CourseImportResult:
    """Import course records from a CSV/XLSX file: all rows, or none when any row has an error
    (`dry_run`: only report). The same agent, course and day again updates the hours; an
    unchanged record is left alone."""
    options = CourseImportOptions()
    result = pipeline.run_import(
        COURSES_IMPORTER,
        session=session,
        data=data,
        file_name=file_name,
        encoding=encoding,
        dry_run=dry_run,
        options=options,
        user_id=user_id,
    )
    if result.applied and result.import_id is not None:
        # The ledger row is added after the rows are applied: point the records at it.
        for chunk in in_chunks(options.stored_ids):
            session.execute(
                update(CourseRecord)
                .where(CourseRecord.id.in_(chunk))
                .values(file_import_id=result.import_id)
            )
    return result


__all__ = [
    "COURSES_IMPORTER",
    "course_hours",
    "courses_recorded_after",
    "import_courses",
    "list_courses",
    "record_course",
]
