"""Exam routes: pages (`pages`) and REST (`api`, mounted under /api). Thin: parse, authorize
(by the dependency each route declares), call the exam service, render.

An agent takes exams here (the attempt page saves every answer as it is given through the
API; the key never reaches the page before submission); trainers build exams and grade
essays; staff who read results see the attempts of the agents in their scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Path, Request, Response
from fastapi.responses import RedirectResponse
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from agentladder.config import Language, Settings
from agentladder.db import utcnow
from agentladder.errors import Forbidden, InvalidInput
from agentladder.formatting import local_moment
from agentladder.i18n import N_, translate
from agentladder.org import service as org_service
from agentladder.org.models import User
from agentladder.org.schemas import LEVELS, Permission, allows
from agentladder.training.exams import service as exams_service
from agentladder.training.exams.schemas import (
    EXAM_CODE_PATTERN,
    AttemptResult,
    AttemptView,
    ExamRead,
    ExamSettings,
    ExamStatusUpdate,
    SaveAnswer,
    SavedAnswer,
    Section,
    ShownSlot,
)
from agentladder.training.questions import grading
from agentladder.training.questions import service as bank
from agentladder.training.questions.rendering import ImageSource, image_url, question_html
from agentladder.training.questions.schemas import (
    DIFFICULTIES,
    DIFFICULTY_NAMES,
    QUESTION_TYPE_NAMES,
    QUESTION_TYPES,
    TEXT_FORMAT_NAMES,
    TextFormat,
    parse_category_path,
)
from agentladder.validation import validation_problems
from agentladder.web.auth import SessionDep, SettingsDep, request_language, requires
from agentladder.web.datatable import Column as DataColumn
from agentladder.web.datatable import DataTable, PageSlice, paginate
from agentladder.web.params import PageNumber, RowId
from agentladder.web.responses import API_ERRORS, error_responses
from agentladder.web.templating import render

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["exams"], responses=API_ERRORS)

TrainingManageUser = Annotated[User, Depends(requires(Permission.TRAINING_MANAGE))]
ExamsTakeUser = Annotated[User, Depends(requires(Permission.EXAMS_TAKE))]
ExamResultsUser = Annotated[User, Depends(requires(Permission.EXAM_RESULTS))]
ExamsPageUser = Annotated[User, Depends(requires(Permission.EXAMS_PAGE))]
ExamCode = Annotated[str, Path(max_length=40, pattern=EXAM_CODE_PATTERN)]
SlotNumber = Annotated[int, Path(ge=1, le=500)]


async def _read_form(request: Request) -> FormData:
    """The posted form, read here so the routes (blocking database work) stay synchronous and
    run in the thread pool; its field names vary (one per question or section row)."""
    return await request.form()


PostedForm = Annotated[FormData, Depends(_read_form)]

# Names the pages show (msgids).
STATUS_NAMES = {"draft": N_("Draft"), "published": N_("Published"), "closed": N_("Closed")}
LAYOUT_NAMES = {
    "one_per_page": N_("One question per page"),
    "all_on_one_page": N_("All questions on one page"),
}
GRADING_NAMES = {
    "highest": N_("Highest attempt"),
    "last": N_("Last attempt"),
    "first": N_("First attempt"),
    "average": N_("Average of attempts"),
}
REVIEW_NAMES = {
    "none": N_("Nothing"),
    "score": N_("The score"),
    "answers": N_("The score and the answers"),
}
STATE_NAMES = {
    "in_progress": N_("In progress"),
    "needs_grading": N_("Waiting for grading"),
    "finished": N_("Finished"),
}
SLOT_STATE_NAMES = {
    "right": N_("Right"),
    "partial": N_("Partly right"),
    "wrong": N_("Wrong"),
    "unanswered": N_("Not answered"),
    "needs_grading": N_("Waiting for grading"),
    "no_mark": N_("No mark"),
}
# The builder's own checks, in the reader's words.
_FIELD_NAMES = {
    "code": N_("Code"),
    "title": N_("Title"),
    "description": N_("Description"),
    "time_limit_min": N_("Time limit (minutes)"),
    "max_attempts": N_("Attempts allowed"),
    "pass_percent": N_("Pass mark (%)"),
    "opens_at": N_("Opens"),
    "closes_at": N_("Closes"),
    "title_section": N_("Title"),
    "count": N_("Questions drawn"),
    "question_ids": N_("Question ids"),
    "mark": N_("Mark per question"),
    "tag": N_("Tag"),
}
_LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # <input type="datetime-local">


def _agent_id(user: User) -> int:
    if user.agent_id is None:
        raise Forbidden(N_("your account is not linked to an agent"))
    return user.agent_id


@dataclass(frozen=True)
class _VersionImages(ImageSource):
    """A stored version's pictures by name, through the bank's image route (which shows an agent
    only those of questions their attempts showed)."""

    def url(self, name: str) -> str | None:
        """The picture's URL (the route answers 404 for a name the version lacks)."""
        return image_url(self.version_id, name) if self.version_id else None


def rich(text: str, text_format: str, version_id: int | None) -> Markup:
    """A question's text, option or feedback as safe HTML (pages call it in templates)."""
    known: TextFormat = "moodle"
    for name in TEXT_FORMAT_NAMES:
        if name == text_format:
            known = name
    return question_html(text, known, _VersionImages(version_id))


def exact_number(value: float) -> str:
    """A number as the trainer wrote it (no rounding to the page's usual two decimals)."""
    return f"{value:.10f}".rstrip("0").rstrip(".")


def _names() -> dict[str, Any]:
    return {
        "rich": rich,
        "exact_number": exact_number,
        "status_names": STATUS_NAMES,
        "layout_names": LAYOUT_NAMES,
        "grading_names": GRADING_NAMES,
        "review_names": REVIEW_NAMES,
        "state_names": STATE_NAMES,
        "slot_state_names": SLOT_STATE_NAMES,
        "type_names": QUESTION_TYPE_NAMES,
        "difficulty_names": DIFFICULTY_NAMES,
    }


def _scoped(session: Session, user: User, exam: ExamRead) -> ExamRead:
    """The exam with, for a team lead, only their teams' attempts counted."""
    scope = org_service.agent_scope(user)
    if scope.everyone:
        return exam
    attempts = exams_service.exam_attempts(session=session, code=exam.code, scope=scope)
    return exam.model_copy(update={"attempts": len(attempts)})


def _scoped_exams(session: Session, user: User) -> list[ExamRead]:
    return [_scoped(session, user, exam) for exam in exams_service.list_exams(session=session)]


# --- the agent's pages ------------------------------------------------------------------------


@pages.get("/exams")
def exams_page(request: Request, session: SessionDep, user: ExamsPageUser) -> Response:
    """An agent's exams (assigned, open, taken, with results); for staff who read results,
    every exam with its attempts."""
    mine = None
    if allows(user.roles, Permission.EXAMS_TAKE) and user.agent_id is not None:
        mine = exams_service.agent_exams(session=session, agent_id=user.agent_id, now=utcnow())
    return render(
        request,
        "training/exams/index.html",
        {
            "mine": mine,
            "exams": _scoped_exams(session, user)
            if allows(user.roles, Permission.EXAM_RESULTS)
            else None,
            "can_manage": allows(user.roles, Permission.TRAINING_MANAGE),
            **_names(),
        },
    )


@pages.post("/exams/{code}/start")
def start_attempt_form(session: SessionDep, user: ExamsTakeUser, code: ExamCode) -> Response:
    """Start an attempt (or continue the one in progress) and open it."""
    attempt_id = exams_service.start_attempt(
        session=session, exam_code=code, agent_id=_agent_id(user), now=utcnow()
    )
    return RedirectResponse(f"/exams/attempts/{attempt_id}", status_code=303)


@pages.get("/exams/attempts/{attempt_id}")
def attempt_page(
    request: Request, session: SessionDep, user: ExamsTakeUser, attempt_id: RowId
) -> Response:
    """The agent's attempt: every question with the answers saved so far and the time left;
    a submitted (or timed-out) attempt goes to its result."""
    view = exams_service.attempt_view(
        session=session, attempt_id=attempt_id, agent_id=_agent_id(user), now=utcnow()
    )
    if view.state != "in_progress":
        return RedirectResponse(f"/exams/attempts/{attempt_id}/result", status_code=303)
    return render(
        request,
        "training/exams/attempt.html",
        {
            "view": view,
            "answered": {slot.slot: not grading.is_blank(slot.response) for slot in view.slots},
            "ordering": {slot.slot: _ordering_shown(slot) for slot in view.slots},
            **_names(),
        },
    )


def _ordering_shown(slot: ShownSlot) -> list[int]:
    """The positions of an ordering question's items as the page lists them: the saved order,
    else the shuffled one."""
    if slot.type != "ordering":
        return []
    if isinstance(slot.response, list) and slot.response:
        return [int(position) for position in slot.response]
    return [choice.position for choice in slot.answers]


def _posted_response(slot: ShownSlot, form: FormData) -> Any:
    """The answer a page without scripts posts for a slot, in shown positions."""
    name = f"q{slot.slot}"
    kind = slot.type
    if kind == "single_choice":
        return _int_or_none(form.get(name))
    if kind == "multiple_choice":
        picked = [_int_or_none(value) for value in form.getlist(name)]
        return sorted({value for value in picked if value is not None})
    if kind == "true_false":
        return {"true": True, "false": False}.get(str(form.get(name, "")))
    if kind in ("short_answer", "numerical", "essay"):
        value = form.get(name)
        return value if isinstance(value, str) else None
    if kind == "matching":
        return {
            str(index): _int_or_none(form.get(f"{name}_m{index}"))
            for index, prompt in enumerate(slot.prompts)
            if prompt
        }
    if kind == "ordering":
        shown = _ordering_shown(slot)
        ranks = {position: _int_or_none(form.get(f"{name}_r{position}")) or 0 for position in shown}
        return sorted(shown, key=lambda position: (ranks[position], shown.index(position)))
    return None


def _int_or_none(value: object) -> int | None:
    text = value.strip() if isinstance(value, str) else ""
    return int(text) if text.isdigit() and len(text) < 6 else None


def _changed(slot: ShownSlot, posted: Any) -> bool:
    """Whether the form says something other than what the page showed (what is stored)."""
    if slot.type == "description":
        return False
    if slot.type == "ordering":
        return bool(posted != _ordering_shown(slot))
    if slot.type == "essay" and slot.response is None and posted == slot.response_template:
        return False
    if grading.is_blank(posted) and grading.is_blank(slot.response):
        return False
    return bool(posted != slot.response)


def _save_posted(session: Session, user: User, attempt_id: int, form: FormData) -> None:
    """Store what a page without scripts posts: every answer that differs from the stored one."""
    agent_id = _agent_id(user)
    now = utcnow()
    view = exams_service.attempt_view(
        session=session, attempt_id=attempt_id, agent_id=agent_id, now=now
    )
    for slot in view.slots:
        posted = _posted_response(slot, form)
        if _changed(slot, posted):
            exams_service.save_answer(
                session=session,
                attempt_id=attempt_id,
                agent_id=agent_id,
                answer=SaveAnswer(slot=slot.slot, response=posted, seq=slot.response_seq + 1),
                now=now,
            )


@pages.post("/exams/attempts/{attempt_id}/save")
def save_attempt_form(
    session: SessionDep, user: ExamsTakeUser, attempt_id: RowId, form: PostedForm
) -> Response:
    """Save the answers of the page (without scripts: the page saves as it goes otherwise)."""
    _save_posted(session, user, attempt_id, form)
    return RedirectResponse(f"/exams/attempts/{attempt_id}", status_code=303)


@pages.post("/exams/attempts/{attempt_id}/submit")
def submit_attempt_form(
    session: SessionDep, user: ExamsTakeUser, attempt_id: RowId, form: PostedForm
) -> Response:
    """Save the page's answers, submit the attempt and show its result."""
    view = exams_service.attempt_view(
        session=session, attempt_id=attempt_id, agent_id=_agent_id(user), now=utcnow()
    )
    if view.state == "in_progress":
        _save_posted(session, user, attempt_id, form)
        exams_service.submit_attempt(
            session=session, attempt_id=attempt_id, agent_id=_agent_id(user), now=utcnow()
        )
    return RedirectResponse(f"/exams/attempts/{attempt_id}/result", status_code=303)


@pages.get("/exams/attempts/{attempt_id}/result")
def attempt_result_page(
    request: Request, session: SessionDep, user: ExamsTakeUser, attempt_id: RowId
) -> Response:
    """The agent's result: the score and the review, as far as the exam's setting shows them."""
    review = exams_service.attempt_review(
        session=session, attempt_id=attempt_id, agent_id=_agent_id(user), now=utcnow()
    )
    if review.result.state == "in_progress":
        return RedirectResponse(f"/exams/attempts/{attempt_id}", status_code=303)
    return render(
        request,
        "training/exams/result.html",
        {"review": review, "staff": False, **_names()},
    )


# --- staff pages ------------------------------------------------------------------------------


@dataclass
class SectionRow:
    """A section as the builder's form row holds it, typed text and all."""

    title: str = ""
    category: str = ""
    difficulty: str = ""
    types: list[str] = field(default_factory=list)
    tag: str = ""
    count: str = ""
    question_ids: str = ""
    mark: str = ""
    pool: int | None = None  # the questions it may draw from, once checked

    @property
    def blank(self) -> bool:
        """Whether the trainer left the row empty."""
        return not any(
            (self.title, self.category, self.difficulty, self.types, self.tag, self.count)
        ) and not (self.question_ids or self.mark)


@dataclass
class ExamForm:
    """The builder's form as typed: shown again as it was when something is wrong."""

    code: str = ""
    title: str = ""
    description: str = ""
    layout: str = "one_per_page"
    shuffle_questions: bool = True
    shuffle_options: bool = True
    time_limit_min: str = ""
    max_attempts: str = ""
    grading_method: str = "highest"
    pass_percent: str = "60"  # noqa: S105 - the pass mark, not a password
    review: str = "score"
    opens_at: str = ""
    closes_at: str = ""
    teams: list[str] = field(default_factory=list)
    skill_groups: list[str] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    agents: str = ""
    sections: list[SectionRow] = field(default_factory=lambda: [SectionRow()])


def _local_input(value: datetime | None, zone: ZoneInfo) -> str:
    return local_moment(value, zone).strftime(_LOCAL_INPUT) if value else ""


def _number_text(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _exam_form(exam: ExamRead, zone: ZoneInfo) -> ExamForm:
    """An exam's settings in the builder's form."""
    return ExamForm(
        code=exam.code,
        title=exam.title,
        description=exam.description,
        layout=exam.layout,
        shuffle_questions=exam.shuffle_questions,
        shuffle_options=exam.shuffle_options,
        time_limit_min=str(exam.time_limit_s // 60) if exam.time_limit_s else "",
        max_attempts=str(exam.max_attempts or ""),
        grading_method=exam.grading_method,
        pass_percent=_number_text(exam.pass_percent),
        review=exam.review,
        opens_at=_local_input(exam.opens_at, zone),
        closes_at=_local_input(exam.closes_at, zone),
        teams=list(exam.audience.teams),
        skill_groups=list(exam.audience.skill_groups),
        levels=list(exam.audience.levels),
        agents="\n".join(exam.audience.agents),
        sections=[
            SectionRow(
                title=section.title,
                category="/".join(section.category),
                difficulty=section.difficulty or "",
                types=list(section.types),
                tag=section.tag or "",
                count=str(section.count) if section.count else "",
                question_ids=", ".join(str(qid) for qid in section.question_ids),
                mark=_number_text(section.mark),
            )
            for section in exam.blueprint.sections
        ],
    )


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _posted_form(form: FormData) -> ExamForm:
    """The builder's form as posted; rows left empty or marked for removal are dropped, and
    "add section" adds an empty one."""
    rows = []
    for index in range(min(_int_or_none(form.get("section_rows")) or 0, 50)):
        prefix = f"s{index}_"
        if form.get(prefix + "remove"):
            continue
        row = SectionRow(
            title=_text(form, prefix + "title"),
            category=_text(form, prefix + "category"),
            difficulty=_text(form, prefix + "difficulty"),
            types=[str(value) for value in form.getlist(prefix + "types")],
            tag=_text(form, prefix + "tag"),
            count=_text(form, prefix + "count"),
            question_ids=_text(form, prefix + "question_ids"),
            mark=_text(form, prefix + "mark"),
        )
        if not row.blank:
            rows.append(row)
    if form.get("action") == "add_section" or not rows:
        rows.append(SectionRow())
    return ExamForm(
        code=_text(form, "code"),
        title=_text(form, "title"),
        description=_text(form, "description"),
        layout=_text(form, "layout"),
        shuffle_questions=bool(form.get("shuffle_questions")),
        shuffle_options=bool(form.get("shuffle_options")),
        time_limit_min=_text(form, "time_limit_min"),
        max_attempts=_text(form, "max_attempts"),
        grading_method=_text(form, "grading_method"),
        pass_percent=_text(form, "pass_percent"),
        review=_text(form, "review"),
        opens_at=_text(form, "opens_at"),
        closes_at=_text(form, "closes_at"),
        teams=[str(value) for value in form.getlist("teams")],
        skill_groups=[str(value) for value in form.getlist("skill_groups")],
        levels=[str(value) for value in form.getlist("levels")],
        agents=_text(form, "agents"),
        sections=rows,
    )


def _split(text: str) -> list[str]:
    return [part for part in text.replace(",", " ").replace("，", " ").split() if part]


def _moment(text: str, zone: ZoneInfo, name: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.strptime(text, _LOCAL_INPUT).replace(tzinfo=zone)
    except ValueError as exc:
        raise InvalidInput(
            N_("{field}: write a date and time such as 2026-11-10T09:00"), field=name
        ) from exc


def _section_values(row: SectionRow) -> dict[str, Any]:
    return {
        "title": row.title,
        "category": parse_category_path(row.category),
        "difficulty": row.difficulty or None,
        "types": row.types,
        "tag": row.tag or None,
        "count": row.count or 0,
        "question_ids": _split(row.question_ids),
        "mark": row.mark or None,
    }


def _settings_in(form: ExamForm, zone: ZoneInfo) -> ExamSettings:
    """The form as exam settings; InvalidInput or ValidationError when it cannot be one."""
    return ExamSettings.model_validate(
        {
            "code": form.code,
            "title": form.title,
            "description": form.description,
            "layout": form.layout,
            "shuffle_questions": form.shuffle_questions,
            "shuffle_options": form.shuffle_options,
            "time_limit_min": form.time_limit_min or None,
            "max_attempts": form.max_attempts or None,
            "grading_method": form.grading_method,
            "pass_percent": form.pass_percent or 0,
            "review": form.review,
            "opens_at": _moment(form.opens_at, zone, "opens_at"),
            "closes_at": _moment(form.closes_at, zone, "closes_at"),
            "blueprint": {"sections": [_section_values(row) for row in form.sections]},
            "audience": {
                "teams": form.teams,
                "skill_groups": form.skill_groups,
                "levels": form.levels,
                "agents": _split(form.agents),
            },
        }
    )


def _problems_text(exc: ValidationError, language: Language) -> list[str]:
    """Validation errors as sentences naming the field (and the section) in the reader's words."""
    found = []
    for problem in validation_problems(exc):
        message = translate(language, problem.message, **problem.params)
        where = [str(part) for part in problem.loc]
        if where[:2] == ["blueprint", "sections"] and len(where) > 2 and where[2].isdigit():
            section = translate(language, "Section {number}", number=int(where[2]) + 1)
            rest = where[3:4]
            label = translate(language, _FIELD_NAMES.get(rest[0], rest[0])) if rest else ""
            found.append(f"{section} {label}: {message}" if label else f"{section}: {message}")
        elif where:
            label = translate(language, _FIELD_NAMES.get(where[0], where[0]))
            found.append(f"{label}: {message}")
        else:
            found.append(message)
    return found


def _check_pools(session: SessionDep, form: ExamForm) -> None:
    """Fill each row's pool size where the row can be read as a section."""
    for row in form.sections:
        try:
            section = Section.model_validate({**_section_values(row), "count": row.count or 1})
        except ValidationError:
            row.pool = None
            continue
        row.pool = exams_service.pool_sizes(session=session, sections=[section])[0]


def _builder(
    request: Request,
    session: SessionDep,
    form: ExamForm,
    *,
    editing: ExamRead | None,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    _check_pools(session, form)
    return render(
        request,
        "training/exams/builder.html",
        {
            "form": form,
            "editing": editing,
            "problems": problems or [],
            "teams": org_service.list_teams(session=session),
            "skill_groups": org_service.list_skill_groups(session=session),
            "level_ids": [level.id for level in LEVELS],
            "categories": ["/".join(c.path) for c in bank.category_tree(session=session)],
            "question_types": QUESTION_TYPES,
            "difficulties": DIFFICULTIES,
            **_names(),
        },
        status_code=status_code,
    )


def _save_builder(
    request: Request,
    session: Session,
    settings: Settings,
    user: User,
    posted: FormData,
    editing: ExamRead | None,
) -> Response:
    """Check (pool sizes), add a row, or save the posted builder form."""
    form = _posted_form(posted)
    if editing is not None:
        form.code = editing.code  # the code never changes
    if posted.get("action") in ("check", "add_section"):
        return _builder(request, session, form, editing=editing)
    language = request_language(request)
    try:
        settings_in = _settings_in(form, settings.tz)
        saved = exams_service.save_exam(
            session=session,
            settings_in=settings_in,
            user_id=user.id,
            code=editing.code if editing else None,
        )
    except ValidationError as exc:
        problems = _problems_text(exc, language)
    except InvalidInput as exc:
        problems = [exc.translated(language)]
    else:
        return RedirectResponse(f"/exams/{saved.code}", status_code=303)
    return _builder(request, session, form, editing=editing, problems=problems, status_code=422)


@pages.get("/exams/new")
def new_exam_page(request: Request, session: SessionDep, user: TrainingManageUser) -> Response:
    """The exam builder, empty."""
    return _builder(request, session, ExamForm(), editing=None)


@pages.post("/exams/new")
def new_exam_form(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: TrainingManageUser,
    form: PostedForm,
) -> Response:
    """Create an exam from the builder (or check its sections, or add one)."""
    return _save_builder(request, session, settings, user, form, editing=None)


@pages.get("/exams/grading")
def grading_page(request: Request, session: SessionDep, user: TrainingManageUser) -> Response:
    """Essay answers waiting for a mark, oldest first, a form for each."""
    return render(
        request,
        "training/exams/grading.html",
        {"items": exams_service.grading_queue(session=session), **_names()},
    )


@pages.post("/exams/grading/{submitted_attempt_id}/{slot}")
def grade_essay_form(
    session: SessionDep,
    user: TrainingManageUser,
    submitted_attempt_id: RowId,
    slot: SlotNumber,
    mark: Annotated[float, Form(ge=0, le=1000)],
    comment: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Mark one essay answer; the attempt finishes once all its essays are marked."""
    exams_service.grade_essay(
        session=session,
        attempt_id=submitted_attempt_id,
        slot=slot,
        mark=mark,
        comment=comment,
        user_id=user.id,
        now=utcnow(),
    )
    return RedirectResponse("/exams/grading", status_code=303)


@pages.get("/exams/{code}")
def exam_page(
    request: Request,
    session: SessionDep,
    user: ExamResultsUser,
    code: ExamCode,
    page: PageNumber = 1,
) -> Response:
    """An exam's settings and the attempts of the agents in the user's scope, a page of them
    at a time (newest first)."""
    exam = exams_service.get_exam(session=session, code=code)
    can_manage = allows(user.roles, Permission.TRAINING_MANAGE)
    attempts: PageSlice[Any] = paginate(
        exams_service.exam_attempts(
            session=session, code=code, scope=org_service.agent_scope(user)
        ),
        page,
    )
    return render(
        request,
        "training/exams/exam.html",
        {
            "exam": exam,
            "attempts": attempts.rows,
            # Only the pager's links: the list keeps the service's order (newest first).
            "table": DataTable(
                table_id="exam-attempts",
                path=f"/exams/{code}",
                columns=[DataColumn("started", "", sortable=False)],
                sort="started",
                desc=True,
                page=attempts,
            ),
            "problems": exams_service.blueprint_problems(session=session, blueprint=exam.blueprint)
            if can_manage
            else [],
            "can_manage": can_manage,
            **_names(),
        },
    )


@pages.get("/exams/{code}/edit")
def edit_exam_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: TrainingManageUser,
    code: ExamCode,
) -> Response:
    """The exam builder on an exam's settings."""
    exam = exams_service.get_exam(session=session, code=code)
    return _builder(request, session, _exam_form(exam, settings.tz), editing=exam)


@pages.post("/exams/{code}/edit")
def edit_exam_form(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: TrainingManageUser,
    code: ExamCode,
    form: PostedForm,
) -> Response:
    """Change an exam from the builder; attempts already started keep what they drew."""
    exam = exams_service.get_exam(session=session, code=code)
    return _save_builder(request, session, settings, user, form, editing=exam)


@pages.post("/exams/{code}/status")
def exam_status_form(
    session: SessionDep,
    user: TrainingManageUser,
    code: ExamCode,
    status: Annotated[str, Form(max_length=10)],
) -> Response:
    """Publish, close or withdraw an exam."""
    exams_service.set_exam_status(session=session, code=code, status=status)
    return RedirectResponse(f"/exams/{code}", status_code=303)


@pages.get("/exams/{code}/attempts/{attempt_id}")
def exam_attempt_page(
    request: Request,
    session: SessionDep,
    user: ExamResultsUser,
    code: ExamCode,
    attempt_id: RowId,
) -> Response:
    """An agent's attempt in full (the user's scope only): score, answers, right answers."""
    review = exams_service.attempt_review(
        session=session,
        attempt_id=attempt_id,
        now=utcnow(),
        scope=org_service.agent_scope(user),
        exam_code=code,
    )
    return render(
        request,
        "training/exams/result.html",
        {"review": review, "staff": True, **_names()},
    )


# --- REST -------------------------------------------------------------------------------------


@api.get("/exams", response_model=list[ExamRead])
def api_exams(session: SessionDep, user: ExamResultsUser) -> list[ExamRead]:
    """Every exam with its settings and the number of attempts (a team lead: their teams')."""
    return _scoped_exams(session, user)


@api.post(
    "/exams",
    response_model=ExamRead,
    status_code=201,
    responses=error_responses(400, 409),
)
def api_create_exam(
    session: SessionDep, user: TrainingManageUser, settings_in: ExamSettings
) -> ExamRead:
    """Create an exam (a draft until published)."""
    return exams_service.save_exam(session=session, settings_in=settings_in, user_id=user.id)


@api.get("/exams/attempts/{attempt_id}", response_model=AttemptView, responses=error_responses(404))
def api_attempt(session: SessionDep, user: ExamsTakeUser, attempt_id: RowId) -> AttemptView:
    """The agent's own attempt as the page shows it: questions by position, no key."""
    return exams_service.attempt_view(
        session=session, attempt_id=attempt_id, agent_id=_agent_id(user), now=utcnow()
    )


@api.put(
    "/exams/attempts/{attempt_id}/answers",
    response_model=SavedAnswer,
    responses=error_responses(400, 404, 409),
)
def api_save_answer(
    session: SessionDep, user: ExamsTakeUser, attempt_id: RowId, answer: SaveAnswer
) -> SavedAnswer:
    """Store an answer (an older `seq` than the stored one changes nothing); the receipt
    carries the seconds left by the server's clock. Refused after the deadline."""
    return exams_service.save_answer(
        session=session,
        attempt_id=attempt_id,
        agent_id=_agent_id(user),
        answer=answer,
        now=utcnow(),
    )


@api.post(
    "/exams/attempts/{attempt_id}/submit",
    response_model=AttemptResult,
    responses=error_responses(404),
)
def api_submit_attempt(
    session: SessionDep, user: ExamsTakeUser, attempt_id: RowId
) -> AttemptResult:
    """Submit the agent's attempt; the result as far as the exam's review setting shows it."""
    agent_id = _agent_id(user)
    exams_service.submit_attempt(
        session=session, attempt_id=attempt_id, agent_id=agent_id, now=utcnow()
    )
    return exams_service.attempt_review(
        session=session, attempt_id=attempt_id, agent_id=agent_id, now=utcnow()
    ).result


@api.get("/exams/{code}", response_model=ExamRead, responses=error_responses(404))
def api_exam(session: SessionDep, user: ExamResultsUser, code: ExamCode) -> ExamRead:
    """One exam with its blueprint and audience."""
    return _scoped(session, user, exams_service.get_exam(session=session, code=code))


@api.put("/exams/{code}", response_model=ExamRead, responses=error_responses(400, 404, 409))
def api_update_exam(
    session: SessionDep, user: TrainingManageUser, code: ExamCode, settings_in: ExamSettings
) -> ExamRead:
    """Change an exam (its code stays); attempts already started keep what they drew."""
    return exams_service.save_exam(
        session=session, settings_in=settings_in, user_id=user.id, code=code
    )


@api.post("/exams/{code}/status", response_model=ExamRead, responses=error_responses(400, 404))
def api_exam_status(
    session: SessionDep, user: TrainingManageUser, code: ExamCode, status_in: ExamStatusUpdate
) -> ExamRead:
    """Publish, close or withdraw (draft) an exam."""
    return exams_service.set_exam_status(session=session, code=code, status=status_in.status)


@api.get(
    "/exams/{code}/attempts",
    response_model=list[AttemptResult],
    responses=error_responses(404),
)
def api_exam_attempts(
    session: SessionDep, user: ExamResultsUser, code: ExamCode
) -> list[AttemptResult]:
    """The attempts at an exam by the agents in the caller's scope, newest first."""
    return exams_service.exam_attempts(
        session=session, code=code, scope=org_service.agent_scope(user)
    )
