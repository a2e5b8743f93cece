"""Attempts imported from Moodle's quiz Grades report, for centres moving over.

The report's download (CSV or XLSX; Moodle's `mod/quiz/report/overview`) has one row per
attempt: the name as Last name and First name, the identity fields the site shows (Username,
ID number, Email address...), State, Started on, Completed, Duration (older sites: Time
taken), `Grade/10.00` (the quiz grade out of its maximum) and, per question, `Q. 1 /1.00`
(the mark out of the slot's maximum), then a closing "Overall average" row. A Chinese site
writes 姓氏, 名字, 用户名, 学号 / ID号, 电子邮件, 状态, 开始于, 完成, 用时, 成绩/10.00 and
the same `Q. 1 /1.00`. Rules, each as the import applies it:

- The agent is found by the ID number, then the username, then the email (whole, then the
  part before @) through the roster's employee numbers and ACD identities, then a login
  account's username; a row nobody matches is an error naming the identity cell.
- Only finished attempts are stored ("Finished", 已完成); "In progress", "Overdue" and "Never
  submitted" rows, and attempts Moodle has not finished grading ("Requires grading", "Not yet
  graded"), are skipped with a warning. The "Overall average" (and group average) rows are
  ignored.
- Times are read in the centre's time zone: "5 March 2026, 10:02 AM" (with or without the
  weekday and comma), "March 5, 2026, 10:02 AM", "2026年03月5日 10:02" (a weekday, 上午/下午
  too) and ISO. A missing Completed time is Started on plus the Duration.
- A question's mark is the cell ("-": no mark, counted 0), out of the header's maximum; the
  attempt's marks are their sum and its percent their share of the maximum (the Grade column
  alone when the file has no question columns; a grade that disagrees with the questions is a
  warning). Passed is the percent reaching the exam's pass mark.
- An attempt is stored with source `import:<file>` and its ledger row, its slots numbered as
  the file's questions with marks only (no question versions: the exam's blueprint may differ).
  The same attempt again (agent and start time) is unchanged, or updated when Moodle regraded
  it; a file with any error stores nothing.
- A passing attempt awards the certificate of a programme that names the exam, as a pass taken
  here does (issued on the day it was completed); a regrade to a fail revokes nothing.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from agentladder.db import in_chunks
from agentladder.i18n import N_
from agentladder.imports import pipeline
from agentladder.imports.schemas import ImportResult, RowPlan
from agentladder.imports.spec import (
    Column,
    Importer,
    ImportRun,
    ParsedRow,
    Planned,
    Problems,
)
from agentladder.org import service as org_service
from agentladder.org.accounts import service as accounts_service
from agentladder.tabular import Table, fold_header, read_table
from agentladder.training.exams import service as exams_service
from agentladder.training.exams.moodle_report import (
    FIXED_COLUMNS,
    IDENTITY_FIELDS,
    NEEDS_GRADING,
    NONE_CELLS,
    GradesLayout,
    attempt_state,
    grades_layout,
    parse_duration,
)
from agentladder.training.models import AttemptSlot, ExamAttempt
from agentladder.training.programmes import service as programmes

if TYPE_CHECKING:
    from agentladder.org.models import User

KIND = "exam_attempts"
_MARK_TOLERANCE = 1e-6
# A grade and the sum of the question marks may differ by Moodle's rounding (2 decimals).
_GRADE_TOLERANCE_PERCENT = 0.5

# --- checking and applying ----------------------------------------------------------------------


class AttemptRowPlan(RowPlan):
    """One imported attempt: whose, when, and its marks."""

    employee_no: str
    name: str
    started_at: datetime
    submitted_at: datetime
    marks: float
    max_marks: float
    percent: float | None
    passed: bool


@dataclass
class GradesImportOptions:
    """The exam the attempts belong to, the file's question columns and the centre's zone."""

    exam_id: int
    exam_code: str
    pass_percent: float
    zone: tzinfo
    layout: GradesLayout
    # The attempts the apply stored or changed, so they can point at the file's ledger row.
    stored_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Record:
    """What the apply needs for one planned row."""

    agent_id: int
    number: int
    marks: dict[int, float | None]  # slot -> mark
    max_marks: dict[int, float]
    existing: ExamAttempt | None


def _moment(value: datetime, zone: tzinfo) -> datetime:
    return value.replace(tzinfo=zone).astimezone(UTC)


def _same_moment(a: datetime, b: datetime) -> bool:
    return a.astimezone(UTC).replace(microsecond=0) == b.astimezone(UTC).replace(microsecond=0)


def _is_average_row(header_fields: dict[str, int], cells: list[str]) -> bool:
    """Moodle's closing "Overall average" row (or a group's average): no identity, no state,
    and a cell saying average."""

    def cell(name: str) -> str:
        index = header_fields.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    if cell("state") or any(cell(name) for name in IDENTITY_FIELDS):
        return False
    return any(re.search(r"average|平均", text, re.IGNORECASE) for text in cells)


def _agent_finder(session: Session) -> Callable[[ParsedRow], int | None]:
    resolve = org_service.identity_resolver(session=session)

    def find(row: ParsedRow) -> int | None:
        candidates = [row.text(name) for name in IDENTITY_FIELDS if row.text(name)]
        email = row.text("email")
        if "@" in email:
            candidates.append(email.split("@", 1)[0])
        for identity in candidates:
            agent_id = resolve(identity)
            if agent_id is not None:
                return agent_id
        username = row.text("username")
        if username:
            user = accounts_service.get_user_by_username(session=session, username=username)
            if user is not None and user.agent_id is not None:
                return user.agent_id
        return None

    return find


def _name_differs(problems: Problems, row: ParsedRow, agent_name: str) -> None:
    last, first = row.text("last_name"), row.text("first_name")
    if not (last or first):
        return
    spellings = {fold_header(last + first), fold_header(first + last)}
    if fold_header(agent_name) not in spellings:
        problems.add(
            row.number,
            "last_name",
            N_("the name differs from the agent's name ({name})"),
            f"{last} {first}".strip(),
            severity="warning",
            name=agent_name,
        )


@dataclass(frozen=True)
class _Checked:
    row: ParsedRow
    agent_id: int
    started: datetime
    submitted: datetime
    marks: dict[int, float | None]
    max_marks: dict[int, float]
    total: float
    maximum: float
    percent: float | None


def _needs_grading(row: ParsedRow, layout: GradesLayout) -> bool:
    cells = [row.value(q.name) for q in layout.questions]
    return NEEDS_GRADING in cells or row.value("grade") == NEEDS_GRADING


def _marks(
    row: ParsedRow, problems: Problems, layout: GradesLayout
) -> tuple[dict[int, float | None], dict[int, float], float, float] | None:
    """The row's slot marks, their maxima, its marks and maximum; None when a mark is missing
    (reported)."""
    grade = row.value("grade")
    marks: dict[int, float | None] = {}
    for question in layout.questions:
        mark = row.value(question.name)
        if isinstance(mark, float) and not (
            -question.max_mark - _MARK_TOLERANCE <= mark <= question.max_mark + _MARK_TOLERANCE
        ):
            problems.add(
                row.number,
                question.name,
                N_("the mark is more than the question's {max}"),
                row.text(question.name),
                max=f"{question.max_mark:g}",
            )
        marks[question.slot] = mark if isinstance(mark, float) else None
    maxima = {q.slot: q.max_mark for q in layout.questions}
    if layout.questions:
        total = math.fsum(mark or 0.0 for mark in marks.values())
        maximum = math.fsum(maxima.values())
    elif isinstance(grade, float) and layout.grade_max is not None:
        total, maximum = grade, layout.grade_max
    else:
        problems.add(row.number, "grade", N_("the grade is empty"), row.text("grade"))
        return None
    if isinstance(grade, float) and layout.grade_max:
        if grade > layout.grade_max + _MARK_TOLERANCE:
            problems.add(
                row.number,
                "grade",
                N_("the grade is more than the maximum {max}"),
                row.text("grade"),
                max=f"{layout.grade_max:g}",
            )
        elif maximum and layout.questions:
            by_grade = 100 * grade / layout.grade_max
            by_questions = 100 * total / maximum
            if abs(by_grade - by_questions) > _GRADE_TOLERANCE_PERCENT:
                problems.add(
                    row.number,
                    "grade",
                    N_("the grade differs from the sum of the question marks ({percent}%)"),
                    row.text("grade"),
                    severity="warning",
                    percent=f"{by_questions:.2f}",
                )
    return marks, maxima, total, maximum


def _times(row: ParsedRow, problems: Problems) -> tuple[datetime, datetime] | None:
    """When the attempt started and was submitted (naive local); None when either is missing
    (reported, or its cell's error is)."""
    started: datetime | None = row.value("started")
    completed: datetime | None = row.value("completed")
    if completed is None and row.text("completed") in NONE_CELLS:
        seconds = parse_duration(row.text("duration"))
        if seconds is None:
            problems.add(row.number, "completed", N_("the completion time is empty"))
        elif started is not None:
            completed = started + timedelta(seconds=seconds)
    if started is None or completed is None:
        return None
    if completed < started:
        problems.add(
            row.number,
            "completed",
            N_("the attempt is completed before it started"),
            row.text("completed"),
        )
        return None
    return started, completed


def _check_row(
    row: ParsedRow,
    problems: Problems,
    run: ImportRun[GradesImportOptions],
    find_agent: Callable[[ParsedRow], int | None],
) -> _Checked | None:
    """One row's agent, times and marks; None when it is rejected or skipped."""
    state = attempt_state(row.text("state"))
    if state is None:
        problems.add(
            row.number,
            "state",
            N_("unknown attempt state (write Finished, In progress, Overdue or Never submitted)"),
            row.text("state"),
        )
        return None
    if state != "finished":
        problems.add(
            row.number,
            "state",
            N_("the attempt is not finished: it is skipped"),
            row.text("state"),
            severity="warning",
        )
        return None
    if _needs_grading(row, run.options.layout):
        problems.add(
            row.number,
            "state",
            N_("Moodle has not finished grading this attempt: it is skipped"),
            row.text("state"),
            severity="warning",
        )
        return None
    agent_id = find_agent(row)
    if agent_id is None:
        column = next((name for name in IDENTITY_FIELDS if row.text(name)), "idnumber")
        problems.add(
            row.number,
            column,
            N_("no agent has this ID number, username or email"),
            row.text(column),
        )
    times = _times(row, problems)
    marks = _marks(row, problems, run.options.layout)
    if marks is None or agent_id is None or times is None or problems.failed(row.number):
        return None
    slot_marks, maxima, total, maximum = marks
    zone = run.options.zone
    return _Checked(
        row=row,
        agent_id=agent_id,
        started=_moment(times[0], zone),
        submitted=_moment(times[1], zone),
        marks=slot_marks,
        max_marks=maxima,
        total=round(total, 7),
        maximum=round(maximum, 7),
        percent=round(100 * total / maximum, 5) if maximum else None,
    )


def _existing(
    session: Session, exam_id: int, agent_ids: set[int]
) -> tuple[dict[int, list[ExamAttempt]], dict[int, dict[int, AttemptSlot]]]:
    """The exam's attempts of these agents, and each one's slots by number."""
    attempts: dict[int, list[ExamAttempt]] = defaultdict(list)
    for chunk in in_chunks(sorted(agent_ids)):
        for attempt in session.scalars(
            select(ExamAttempt).where(
                ExamAttempt.exam_id == exam_id,
                ExamAttempt.agent_id.in_(chunk),
            )
        ):
            attempts[attempt.agent_id].append(attempt)
    attempt_ids = [a.id for mine in attempts.values() for a in mine]
    slots: dict[int, dict[int, AttemptSlot]] = defaultdict(dict)
    for chunk in in_chunks(attempt_ids):
        for row in session.scalars(select(AttemptSlot).where(AttemptSlot.attempt_id.in_(chunk))):
            slots[row.attempt_id][row.slot] = row
    return attempts, slots


def _changes(
    old: ExamAttempt, old_slots: dict[int, AttemptSlot], new: _Checked
) -> dict[str, tuple[str, str]]:
    changes: dict[str, tuple[str, str]] = {}
    if old.marks is None or abs(old.marks - new.total) > _MARK_TOLERANCE:
        changes["marks"] = (f"{old.marks:g}" if old.marks is not None else "", f"{new.total:g}")
    if abs(old.max_marks - new.maximum) > _MARK_TOLERANCE:
        changes["max_marks"] = (f"{old.max_marks:g}", f"{new.maximum:g}")
    if old.submitted_at is None or not _same_moment(old.submitted_at, new.submitted):
        changes["submitted_at"] = (
            old.submitted_at.isoformat() if old.submitted_at else "",
            new.submitted.isoformat(),
        )
    for slot, mark in new.marks.items():
        stored = old_slots.get(slot)
        if stored is None or stored.mark != mark:
            before = "" if stored is None or stored.mark is None else f"{stored.mark:g}"
            changes[f"Q. {slot}"] = (before, "-" if mark is None else f"{mark:g}")
    return changes


def _check(
    session: Session,
    rows: list[ParsedRow],
    problems: Problems,
    run: ImportRun[GradesImportOptions],
) -> list[Planned[AttemptRowPlan]]:
    layout = run.options.layout
    if not any(name in problems.headers for name in IDENTITY_FIELDS):
        problems.add(
            1,
            None,
            N_("the file has no ID number, username or email column to find the agents by"),
        )
    if layout.grade_header is None and not layout.questions:
        problems.add(
            1, None, N_("the file has no Grade/… or Q. n /… column: export it with the marks")
        )
    if problems.failed(1):  # the header: nothing to read the rows by
        return []
    find_agent = _agent_finder(session)
    checked: list[_Checked] = []
    for row in rows:
        found = _check_row(row, problems, run, find_agent)
        if found is None:
            continue
        if problems.first_row(
            (found.agent_id, found.started),
            row,
            "started",
            N_("the same attempt also appears in row {row}"),
        ):
            checked.append(found)
    agents = {
        agent.id: agent
        for agent in org_service.agents_by_ids(
            session=session, agent_ids={c.agent_id for c in checked}
        )
    }
    existing, existing_slots = _existing(
        session, run.options.exam_id, {c.agent_id for c in checked}
    )
    next_number = {
        agent_id: max((a.number for a in mine), default=0) for agent_id, mine in existing.items()
    }
    planned: list[Planned[AttemptRowPlan]] = []
    for found in sorted(checked, key=lambda c: (c.started, c.row.number)):
        agent = agents[found.agent_id]
        _name_differs(problems, found.row, agent.name)
        old = next(
            (
                a
                for a in existing.get(found.agent_id, [])
                if _same_moment(a.started_at, found.started)
            ),
            None,
        )
        changes: dict[str, tuple[str, str]] = {}
        if old is None:
            next_number[found.agent_id] = number = next_number.get(found.agent_id, 0) + 1
            action = "create"
        else:
            number = old.number
            if old.source == "online":
                problems.add(
                    found.row.number,
                    "started",
                    N_("the agent took an attempt online at this time: the row is skipped"),
                    found.row.text("started"),
                    severity="warning",
                )
            else:
                changes = _changes(old, existing_slots.get(old.id, {}), found)
            action = "update" if changes else "unchanged"
        plan = AttemptRowPlan(
            row=found.row.number,
            action=action,
            changes=changes,
            employee_no=agent.employee_no,
            name=agent.name,
            started_at=found.started,
            submitted_at=found.submitted,
            marks=found.total,
            max_marks=found.maximum,
            percent=found.percent,
            passed=found.percent is not None and found.percent >= run.options.pass_percent,
        )
        planned.append(
            Planned(plan, _Record(found.agent_id, number, found.marks, found.max_marks, old))
        )
    return sorted(planned, key=lambda item: item.plan.row)


def _apply(
    session: Session, planned: list[Planned[AttemptRowPlan]], run: ImportRun[GradesImportOptions]
) -> None:
    source = f"import:{run.file_name}"[:200]
    passes: list[ExamAttempt] = []
    for item in planned:
        plan, record = item.plan, item.record
        assert isinstance(record, _Record)
        if plan.action == "unchanged":
            continue
        attempt = record.existing
        if attempt is None:
            attempt = ExamAttempt(
                exam_id=run.options.exam_id,
                agent_id=record.agent_id,
                number=record.number,
                started_at=plan.started_at,
            )
            session.add(attempt)
        else:
            session.execute(delete(AttemptSlot).where(AttemptSlot.attempt_id == attempt.id))
        attempt.state = "finished"
        attempt.submitted_at = plan.submitted_at
        attempt.marks = plan.marks
        attempt.max_marks = plan.max_marks
        attempt.percent = plan.percent
        attempt.passed = plan.passed
        attempt.source = source
        session.flush()
        for slot, mark in sorted(record.marks.items()):
            maximum = record.max_marks[slot]
            session.add(
                AttemptSlot(
                    attempt_id=attempt.id,
                    slot=slot,
                    question_version_id=None,
                    max_mark=maximum,
                    mark=mark,
                    fraction=None if mark is None or not maximum else mark / maximum,
                )
            )
        run.options.stored_ids.append(attempt.id)
        if attempt.passed:
            passes.append(attempt)
    # A pass carried over from Moodle earns a programme's certificate as a pass taken here does;
    # oldest first, so that a later pass renews the certificate an earlier one earned.
    for attempt in sorted(passes, key=lambda a: (a.submitted_at or a.started_at, a.id)):
        programmes.award_after_exam(
            session=session,
            agent_id=attempt.agent_id,
            exam_code=run.options.exam_code,
            passed_on=attempt.submitted_at or attempt.started_at,
        )


_WORDS = {
    "create": "imported",
    "update": "regraded",
    "unchanged": "already stored",
    "errors": "rejected",
}


def _importer(extra: tuple[Column, ...] = ()) -> Importer[GradesImportOptions, AttemptRowPlan]:
    return Importer(
        kind=KIND,
        title=N_("Exam attempts (Moodle grades)"),
        columns=(*FIXED_COLUMNS, *extra),
        check=_check,
        apply=_apply,
        words=_WORDS,
    )


# The importer as commands describe it: the fixed columns (the grade and question columns are
# read from each file's header).
GRADES_IMPORTER = _importer()


def _without_averages(table: Table) -> Table:
    lookup = {
        fold_header(spelling): column.name
        for column in FIXED_COLUMNS
        for spelling in column.spellings
    }
    fields: dict[str, int] = {}
    for index, title in enumerate(table.header):
        name = lookup.get(fold_header(title))
        if name is not None:
            fields.setdefault(name, index)
    rows = [(number, cells) for number, cells in table.rows if not _is_average_row(fields, cells)]
    return Table(
        encoding=table.encoding, header=table.header, rows=rows, header_row=table.header_row
    )


def import_moodle_grades(
    *,
    session: Session,
    data: bytes,
    file_name: str,
    exam_code: str,
    zone: tzinfo,
    encoding: str | None = None,
    dry_run: bool = False,
    imported_by: User | None = None,
) -> ImportResult[AttemptRowPlan]:
    """Import the finished attempts of a Moodle quiz Grades report (CSV/XLSX) into an exam:
    all rows, or none when any row has an error (`dry_run`: only report). The same attempt
    again is unchanged (or regraded), never duplicated."""
    exam = exams_service.exam_by_code(session=session, code=exam_code)
    table = _without_averages(read_table(data, file_name, encoding))
    layout = grades_layout(table.header)
    options = GradesImportOptions(
        exam_id=exam.id,
        exam_code=exam.code,
        pass_percent=exam.pass_percent,
        zone=zone,
        layout=layout,
    )
    result = pipeline.run_import(
        _importer(layout.columns),
        session=session,
        data=data,
        file_name=file_name,
        encoding=encoding,
        dry_run=dry_run,
        options=options,
        user_id=imported_by.id if imported_by else None,
        table=table,
    )
    if result.applied and result.import_id is not None and options.stored_ids:
        # The ledger row is added after the rows are applied: point the attempts at it.
        session.execute(
            update(ExamAttempt)
            .where(ExamAttempt.id.in_(options.stored_ids))
            .values(file_import_id=result.import_id)
        )
    return result
