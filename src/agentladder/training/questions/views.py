"""Question bank routes for trainers: the browser, a question with its versions, the editor,
import and export, the pictures questions show, and the REST API. Thin: parse, authorize (by
the dependency each route declares), call the service, render."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from agentladder.errors import Conflict, InvalidInput
from agentladder.i18n import N_
from agentladder.imports.schemas import ImportResult
from agentladder.org.models import User
from agentladder.org.schemas import Permission, allows
from agentladder.training.questions import editor, importing
from agentladder.training.questions import service as bank
from agentladder.training.questions.rendering import text_renderer
from agentladder.training.questions.schemas import (
    BANK_FORMATS,
    DIFFICULTIES,
    DIFFICULTY_NAMES,
    QUESTION_TYPE_NAMES,
    QUESTION_TYPES,
    TEXT_FORMAT_NAMES,
    CategoryRead,
    Question,
    QuestionFilter,
    QuestionPage,
    QuestionRead,
    QuestionSaved,
    QuestionType,
    parse_category_path,
)
from agentladder.web.auth import SessionDep, requires
from agentladder.web.importing import XLSX_MEDIA_TYPE, ImportField, PageUpload, add_import_routes
from agentladder.web.params import MAX_ROW_ID, PageNumber, RowId
from agentladder.web.responses import API_ERRORS, error_responses
from agentladder.web.templating import render

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["questions"], responses=API_ERRORS)

TrainingUser = Annotated[User, Depends(requires(Permission.TRAINING_MANAGE))]
# Pictures are fetched by whoever is shown the question: trainers, exam result readers, and an
# agent during and after an attempt (the service narrows an agent to their attempts' questions).
SignedInUser = Annotated[User, Depends(requires(Permission.SELF))]

BASE = "/training/questions"
SearchText = Annotated[str, Query(max_length=200)]
ShortText = Annotated[str, Query(max_length=100)]
CategoryText = Annotated[str, Query(max_length=2000)]
VersionNumber = Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)]
STATUS_NAMES = {"active": N_("In use"), "retired": N_("Retired"), "all": N_("All")}
# What a redirect after saving tells the trainer (`?saved=` on the question's page).
SAVED_MESSAGES = {
    "create": N_("Question created."),
    "update": N_(
        "Saved. Nobody has answered this question yet, so its current version was changed."
    ),
    "new_version": N_(
        "Saved as version {version}. The question has been answered, so the attempts keep "
        "the version they showed and new exams draw this one."
    ),
    "unchanged": N_("Nothing changed: the question is as it was."),
    "retired": N_("Question retired: new exams no longer draw it."),
    "restored": N_("Question restored to the bank."),
}
EXPORT_MEDIA_TYPES = {
    "gift": ("text/plain; charset=utf-8", "txt"),
    "moodle-xml": ("application/xml", "xml"),
    "xlsx": (XLSX_MEDIA_TYPE, "xlsx"),
}
FORMAT_NAMES = {"gift": N_("GIFT"), "moodle-xml": N_("Moodle XML"), "xlsx": N_("XLSX (template)")}


# --- the bank browser ----------------------------------------------------------------------


def _filter(
    q: SearchText = "",
    category: CategoryText = "",
    type: ShortText = "",
    difficulty: ShortText = "",
    tag: ShortText = "",
    status: ShortText = "active",
    page: PageNumber = 1,
) -> QuestionFilter:
    # A value the bank does not know is no filter, not an error: links outlive types and tags.
    return QuestionFilter(
        category=parse_category_path(category),
        type=type if type in QUESTION_TYPES else None,
        difficulty=difficulty if difficulty in DIFFICULTIES else None,
        tag=tag.strip() or None,
        status=status if status in STATUS_NAMES else "active",
        search=q.strip(),
        page=page,
    )


# The browser's and the API's filters, read from the same query parameters.
BankFilter = Annotated[QuestionFilter, Depends(_filter)]


@dataclass(frozen=True)
class TreeRow:
    """A category as the browser's tree shows it: indented by depth, counting its questions
    and those of the categories below it."""

    path: tuple[str, ...]
    name: str
    depth: int
    questions: int  # active questions filed here and below
    link: str  # the path as the `category` filter writes it


def _tree(categories: list[CategoryRead]) -> list[TreeRow]:
    return [
        TreeRow(
            path=category.path,
            name=category.name,
            depth=len(category.path) - 1,
            questions=sum(
                other.questions
                for other in categories
                if other.path[: len(category.path)] == category.path
            ),
            link=editor.category_text(category.path),
        )
        for category in categories
    ]


@pages.get(BASE)
def bank_page(
    request: Request,
    session: SessionDep,
    user: TrainingUser,
    query: BankFilter,
    deleted: ShortText = "",
) -> Response:
    """The bank: the category tree, search and filters, a page of questions."""
    categories = bank.category_tree(session=session)
    return render(
        request,
        "training/questions/bank.html",
        {
            "query": query,
            "category_text": editor.category_text(query.category),
            "result": bank.find_questions(session=session, query=query),
            "tree": _tree(categories),
            "bank_total": sum(category.questions for category in categories),
            "tags": bank.bank_tags(session=session),
            "type_names": QUESTION_TYPE_NAMES,
            "difficulty_names": DIFFICULTY_NAMES,
            "status_names": STATUS_NAMES,
            "format_names": FORMAT_NAMES,
            "deleted": deleted,
            "category_path": editor.category_text,
        },
    )


# --- import and export ---------------------------------------------------------------------


def _import_bank(session: Session, upload: PageUpload) -> ImportResult[Any]:
    chosen = upload.values.get("format") or None
    result, _report = importing.import_questions(
        session=session,
        **upload.file,
        bank_format=chosen,  # type: ignore[arg-type]
        category=parse_category_path(upload.values.get("category", "")),
        user_id=upload.user.id,
    )
    return result


add_import_routes(
    pages,
    importer=importing.QUESTION_SHEET_IMPORTER,
    permission=Permission.TRAINING_MANAGE,
    base_url=f"{BASE}/import",
    template="training/questions/import.html",
    run=_import_bank,
    upload_param="questions_upload_id",
    context=lambda request, session: {"type_names": QUESTION_TYPE_NAMES},
    template_file=importing.template_workbook,
    fields=(
        ImportField(
            "format",
            N_("Format"),
            choices=(
                ("", N_("By the file's name and content")),
                *((name, FORMAT_NAMES[name]) for name in BANK_FORMATS),
            ),
        ),
        ImportField(
            "category",
            N_("File under category"),
            max_length=500,
            placeholder=N_("optional, e.g. 产品知识/宽带"),
        ),
    ),
)


@pages.get(f"{BASE}/export")
def export_bank(
    request: Request,
    session: SessionDep,
    user: TrainingUser,
    format: ShortText = "gift",
    category: CategoryText = "",
    confirm: bool = False,
) -> Response:
    """The bank (or a category and below) as a GIFT, Moodle XML or XLSX file; when the format
    cannot carry some questions, a page lists them first and downloads on confirmation."""
    if format not in BANK_FORMATS:
        raise InvalidInput(
            N_("unknown bank format {format}: gift, moodle-xml or xlsx"), format=format
        )
    path = parse_category_path(category)
    data, left_out = importing.export_questions(
        session=session,
        bank_format=format,
        category=path,
    )
    if left_out and not confirm:
        return render(
            request,
            "training/questions/export.html",
            {
                "format": format,
                "format_names": FORMAT_NAMES,
                "category_text": editor.category_text(path),
                "left_out": left_out,
                "type_names": QUESTION_TYPE_NAMES,
            },
        )
    media_type, suffix = EXPORT_MEDIA_TYPES[format]
    return Response(
        data,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="questions.{suffix}"',
            # Scripts learn how many questions the file lacks without parsing a page.
            "X-Questions-Left-Out": str(len(left_out)),
        },
    )


# --- the editor ----------------------------------------------------------------------------


def _editor_page(
    request: Request,
    session: Session,
    form: editor.QuestionForm,
    *,
    question_id: int | None,
    version_id: int | None,
    problems: Sequence[editor.FormProblem] = (),
    preview: Question | None = None,
    status_code: int = 200,
    stored: QuestionRead | None = None,
) -> Response:
    by_key: dict[str, list[editor.FormProblem]] = {}
    for problem in problems:
        by_key.setdefault(problem.key, []).append(problem)
    return render(
        request,
        "training/questions/edit.html",
        {
            "form": form.with_spare_rows(),
            "question_id": question_id,
            "problems": problems,
            "problems_at": by_key,
            "preview": preview,
            "rich": text_renderer(preview, version_id) if preview else None,
            "type_names": QUESTION_TYPE_NAMES,
            "difficulty_names": DIFFICULTY_NAMES,
            "text_format_names": TEXT_FORMAT_NAMES,
            "question_types": QUESTION_TYPES,
            "attempted": stored.attempted if stored else False,
            "next_version": stored.versions + 1 if stored else 1,
            "categories": [
                editor.category_text(category.path)
                for category in bank.category_tree(session=session)
            ],
        },
        status_code=status_code,
    )


async def _posted_form(
    request: Request, kind: QuestionType, images: tuple[Any, ...]
) -> tuple[editor.QuestionForm, str]:
    posted = await request.form()

    def values(name: str) -> list[str]:
        return [value for value in posted.getlist(name) if isinstance(value, str)]

    action = posted.get("action")
    return editor.read_form(kind, values, images), action if isinstance(action, str) else "save"


def _saved(question_id: int, action: str, version: int) -> Response:
    return RedirectResponse(f"{BASE}/{question_id}?saved={action}&v={version}", status_code=303)


def _new_type(type: str) -> QuestionType:
    if not editor.is_question_type(type):
        raise InvalidInput(N_("unknown question type {type}"), type=type)
    return type  # type: ignore[return-value]


@pages.get(f"{BASE}/new")
def new_question_page(
    request: Request, session: SessionDep, user: TrainingUser, type: ShortText = "single_choice"
) -> Response:
    """An empty editor for a question of a type."""
    return _editor_page(
        request, session, editor.new_form(_new_type(type)), question_id=None, version_id=None
    )


@pages.post(f"{BASE}/new")
async def create_question(
    request: Request, session: SessionDep, user: TrainingUser, type: ShortText = "single_choice"
) -> Response:
    """Save a new question, or show it without saving (the preview button)."""
    form, action = await _posted_form(request, _new_type(type), ())
    question, problems = editor.to_question(form)
    if question is None or action == "preview":
        return _editor_page(
            request,
            session,
            form,
            question_id=None,
            version_id=None,
            problems=problems,
            preview=question,
            status_code=422 if problems else 200,
        )
    stored = bank.store_question(
        session=session, question=question, source="editor", user_id=user.id
    )
    return _saved(stored.question_id, stored.action, stored.version)


@pages.get(f"{BASE}/{{question_id}}/edit")
def edit_question_page(
    request: Request, session: SessionDep, user: TrainingUser, question_id: RowId
) -> Response:
    """The editor filled with the question's current version."""
    read = bank.get_question(session=session, question_id=question_id)
    return _editor_page(
        request,
        session,
        editor.form_of(read.question),
        question_id=read.id,
        version_id=read.version_id,
        stored=read,
    )


@pages.post(f"{BASE}/{{question_id}}/edit")
async def update_question(
    request: Request, session: SessionDep, user: TrainingUser, question_id: RowId
) -> Response:
    """Save the question (in place when nobody answered it, else as a new version), or show
    it without saving."""
    read = bank.get_question(session=session, question_id=question_id)
    form, action = await _posted_form(request, read.question.type, read.question.images)
    question, problems = editor.to_question(form)
    if question is None or action == "preview":
        return _editor_page(
            request,
            session,
            form,
            question_id=read.id,
            version_id=read.version_id,
            problems=problems,
            preview=question,
            status_code=422 if problems else 200,
            stored=read,
        )
    stored = bank.store_question(
        session=session,
        question=question,
        source="editor",
        user_id=user.id,
        question_id=read.id,
    )
    return _saved(stored.question_id, stored.action, stored.version)


# --- a question ----------------------------------------------------------------------------


def _question_page(
    request: Request,
    session: Session,
    question_id: int,
    version: int | None = None,
    message: str | None = None,
    message_params: dict[str, Any] | None = None,
    error: Conflict | None = None,
) -> Response:
    read = bank.get_question(session=session, question_id=question_id, version=version)
    return render(
        request,
        "training/questions/question.html",
        {
            "read": read,
            "q": read.question,
            "rich": text_renderer(read.question, read.version_id),
            "history": bank.question_history(session=session, question_id=question_id),
            "category_text": editor.category_text(read.question.category),
            "type_names": QUESTION_TYPE_NAMES,
            "difficulty_names": DIFFICULTY_NAMES,
            "text_format_names": TEXT_FORMAT_NAMES,
            "message": message,
            "message_params": message_params or {},
            "error": error,
        },
        status_code=error.status_code if error else 200,
    )


@pages.get(f"{BASE}/{{question_id}}")
def question_page(
    request: Request,
    session: SessionDep,
    user: TrainingUser,
    question_id: RowId,
    version: VersionNumber = None,
    saved: ShortText = "",
    v: VersionNumber = None,
) -> Response:
    """A question as an agent sees it and with its key, its versions (`?version=n` shows
    one), whether it was answered, and what saving it did (`?saved=`)."""
    return _question_page(
        request,
        session,
        question_id,
        version,
        message=SAVED_MESSAGES.get(saved),
        message_params={"version": v or ""},
    )


@pages.post(f"{BASE}/{{question_id}}/retire")
def retire_question(session: SessionDep, user: TrainingUser, question_id: RowId) -> Response:
    """Take the question out of new exams' draws."""
    bank.retire_question(session=session, question_id=question_id, user_id=user.id)
    return RedirectResponse(f"{BASE}/{question_id}?saved=retired", status_code=303)


@pages.post(f"{BASE}/{{question_id}}/restore")
def restore_question(session: SessionDep, user: TrainingUser, question_id: RowId) -> Response:
    """Put a retired question back in the bank."""
    bank.restore_question(session=session, question_id=question_id)
    return RedirectResponse(f"{BASE}/{question_id}?saved=restored", status_code=303)


@pages.post(f"{BASE}/{{question_id}}/delete")
def delete_question(
    request: Request, session: SessionDep, user: TrainingUser, question_id: RowId
) -> Response:
    """Delete a question nobody answered; an answered one is refused with the reason."""
    name = bank.get_question(session=session, question_id=question_id).question.name
    try:
        bank.delete_question(session=session, question_id=question_id)
    except Conflict as exc:
        return _question_page(request, session, question_id, error=exc)
    return RedirectResponse(f"{BASE}?{urlencode({'deleted': name[:100]})}", status_code=303)


# --- pictures ------------------------------------------------------------------------------

# A picture is served as a download in a sandbox: even an SVG with a script runs nothing.
IMAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    "Cache-Control": "private, max-age=300",
}


@pages.get(f"{BASE}/versions/{{version_id}}/images/{{name:path}}")
def question_image(
    session: SessionDep, user: SignedInUser, version_id: RowId, name: str
) -> Response:
    """A picture a question's text shows, by the name the question stores it under."""
    sees_all = allows(user.roles, Permission.TRAINING_MANAGE) or allows(
        user.roles, Permission.EXAM_RESULTS
    )
    image = bank.question_image(
        session=session,
        version_id=version_id,
        name=name,
        agent_id=None if sees_all else user.agent_id,
    )
    media_type = image.media_type if image.media_type.startswith("image/") else None
    return Response(
        base64.b64decode(image.data_base64),
        media_type=media_type or "application/octet-stream",
        headers=IMAGE_HEADERS,
    )


# --- REST ----------------------------------------------------------------------------------


@api.get("/training/questions", response_model=QuestionPage)
def api_questions(
    session: SessionDep,
    user: TrainingUser,
    query: BankFilter,
) -> QuestionPage:
    """The bank's questions (current versions), filtered like the browser, newest first."""
    return bank.find_questions(session=session, query=query)


@api.get(
    "/training/questions/{question_id}",
    response_model=QuestionRead,
    responses=error_responses(404),
)
def api_question(
    session: SessionDep, user: TrainingUser, question_id: RowId, version: VersionNumber = None
) -> QuestionRead:
    """A question with its content (the current version unless `version` names another)."""
    return bank.get_question(session=session, question_id=question_id, version=version)


def _stored(stored: bank.Stored) -> QuestionSaved:
    return QuestionSaved(
        question_id=stored.question_id,
        version_id=stored.version_id,
        version=stored.version,
        action=stored.action,
    )


@api.post(
    "/training/questions",
    response_model=QuestionSaved,
    status_code=201,
    responses=error_responses(400),
)
def api_create_question(
    session: SessionDep, user: TrainingUser, question: Question
) -> QuestionSaved:
    """Add a question to the bank (its category made if missing)."""
    return _stored(
        bank.store_question(session=session, question=question, source="api", user_id=user.id)
    )


@api.put(
    "/training/questions/{question_id}",
    response_model=QuestionSaved,
    responses=error_responses(400, 404),
)
def api_update_question(
    session: SessionDep, user: TrainingUser, question_id: RowId, question: Question
) -> QuestionSaved:
    """Store a question's new content: in place when nobody answered it, else a new version
    (`action` says which)."""
    return _stored(
        bank.store_question(
            session=session,
            question=question,
            source="api",
            user_id=user.id,
            question_id=question_id,
        )
    )


@api.post(
    "/training/questions/{question_id}/retire",
    response_model=QuestionRead,
    responses=error_responses(404),
)
def api_retire_question(
    session: SessionDep, user: TrainingUser, question_id: RowId
) -> QuestionRead:
    """Retire a question: new exams no longer draw it; attempts and statistics keep it."""
    bank.retire_question(session=session, question_id=question_id, user_id=user.id)
    return bank.get_question(session=session, question_id=question_id)
