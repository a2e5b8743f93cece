"""`agentladder training courses ...`: course records (the hours the ladder's `training_hours`
sums) entered, imported and listed."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from agentladder.cli_imports import add_import_commands
from agentladder.cli_output import FormatOption, OutputFormat, console, emit, fail, period_option
from agentladder.config import get_settings
from agentladder.db import session_scope
from agentladder.errors import DomainError, NotFound
from agentladder.imports.spec import parse_date
from agentladder.org import service as org_service
from agentladder.periods import Period
from agentladder.training.courses import service as courses_service
from agentladder.training.courses.schemas import CourseCreate

courses_app = typer.Typer(
    help="Course records (培训课程): the courses agents completed and their hours.",
    no_args_is_help=True,
)

COLUMNS = ["employee_no", "agent_name", "course", "completed_on", "hours", "source"]


def _day(text: str) -> date:
    try:
        return parse_date(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r}: write 2026-10-15", param_hint="--on") from exc


def _agent_id(identity: str) -> int:
    """The agent named by an employee number or ACD identity (inside a session scope)."""
    with session_scope() as session:
        agent_id = org_service.resolve_identity(session=session, identity=identity)
    if agent_id is None:
        raise NotFound("agent not found")
    return agent_id


add_import_commands(
    courses_app,
    courses_service.COURSES_IMPORTER,
    summary="Import course records from CSV or XLSX; the same agent, course and day again "
    "updates the hours, never duplicates the record.",
    run=courses_service.import_courses,
    row_fields=[
        ("employee_no", "employee no"),
        ("name", "name"),
        ("course", "course"),
        ("completed_on", "completed"),
        ("hours", "hours"),
    ],
)


@courses_app.command("add")
def courses_add(
    employee_no: Annotated[str, typer.Argument(help="Employee number or ACD identity.")],
    course: Annotated[str, typer.Argument(help="The course's name, e.g. 投诉处理技巧.")],
    hours: Annotated[float, typer.Argument(help="The course's hours, e.g. 3.5.")],
    on: Annotated[
        date | None,
        typer.Option(
            "--on",
            parser=_day,
            metavar="DATE",
            help="The day it was completed (default: today).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Record a course an agent completed."""
    settings = get_settings()
    try:
        agent_id = _agent_id(employee_no)
        course_in = CourseCreate.model_validate(
            {
                "agent_id": agent_id,
                "course": course,
                "completed_on": on or settings.today(),
                "hours": hours,
            }
        )
        with session_scope(settings) as session:
            read = courses_service.record_course(session=session, course_in=course_in)
    except DomainError as exc:
        raise fail(exc) from exc
    except ValueError as exc:  # pydantic's ValidationError
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=1) from exc
    console.print(
        f"course {read.course} ({read.hours:g} h, {read.completed_on.isoformat()}) recorded "
        f"for {read.employee_no}",
        highlight=False,
        markup=False,
    )


@courses_app.command("list")
def courses_list(
    agent: Annotated[
        str | None, typer.Option(help="One agent: employee number or ACD identity.")
    ] = None,
    period: Annotated[
        Period | None, period_option("Only courses completed in this period (2026-10, 2026-Q4).")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List course records, newest first, with their hours."""
    try:
        agent_id = None if agent is None else _agent_id(agent)
        with session_scope() as session:
            records = courses_service.list_courses(
                session=session,
                agent_id=agent_id,
                first_day=period.first_day if period else None,
                last_day=period.last_day if period else None,
            )
    except DomainError as exc:
        raise fail(exc) from exc
    rows: list[dict[str, Any]] = [record.model_dump() for record in records]
    total = sum(record.hours for record in records)
    emit(rows, COLUMNS, fmt, f"Course records ({len(rows)}, {total:g} hours)")
