"""Knowledge library routes: pages (`pages`) and REST (`api`, mounted under /api). Thin: parse,
authorize (the route's permission, then the item: `knowledge.items.service` answers 404 for a
draft that is not the user's), call the service, render.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.orm import Session

from agentladder.db import utcnow
from agentladder.errors import InvalidInput, NotFound
from agentladder.i18n import N_, translate
from agentladder.imports.schemas import ImportResult
from agentladder.knowledge.items import attachments as attachments_service
from agentladder.knowledge.items import importing as importing_service
from agentladder.knowledge.items import reports as reports_service
from agentladder.knowledge.items import rows, similar
from agentladder.knowledge.items import service as items_service
from agentladder.knowledge.items.diff import side_by_side
from agentladder.knowledge.points import service as points_service
from agentladder.knowledge.points.schemas import (
    POINT_EVENT_NAMES,
    PointRulesError,
    parse_rules,
    point_reason,
)
from agentladder.knowledge.rendering import item_html
from agentladder.knowledge.schemas import (
    ITEM_TYPE_NAMES,
    STATUS_NAMES,
    ItemDraft,
    ItemRead,
    SearchResponse,
    UsageSource,
)
from agentladder.knowledge.search import service as search_service
from agentladder.knowledge.search.index import Filters
from agentladder.org import service as org_service
from agentladder.org.models import User
from agentladder.org.schemas import AgentFilter, Permission, allows
from agentladder.validation import validation_problems
from agentladder.web.auth import SessionDep, SettingsDep, request_language, requires
from agentladder.web.datatable import PageSlice, shown_page
from agentladder.web.importing import PageUpload, add_import_routes, read_upload
from agentladder.web.params import PageNumber, RowId
from agentladder.web.responses import API_ERRORS, error_responses
from agentladder.web.templating import render

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["knowledge"], responses=API_ERRORS)

ReadUser = Annotated[User, Depends(requires(Permission.KNOWLEDGE_READ))]
WriteUser = Annotated[User, Depends(requires(Permission.KNOWLEDGE_WRITE))]
ReviewUser = Annotated[User, Depends(requires(Permission.KNOWLEDGE_REVIEW))]
AdoptUser = Annotated[User, Depends(requires(Permission.KNOWLEDGE_ADOPT))]
ReportsUser = Annotated[User, Depends(requires(Permission.KNOWLEDGE_REPORTS))]
ManageUser = Annotated[User, Depends(requires(Permission.KNOWLEDGE_MANAGE))]
SearchText = Annotated[str, Query(max_length=search_service.MAX_QUERY)]
FilterText = Annotated[str, Query(max_length=200)]
LongText = Annotated[str, Form(max_length=100_000)]
ShortText = Annotated[str, Form(max_length=1000)]
PER_PAGE = 20
SEARCH_PAGES = 5  # a search shows at most 100 results, 20 a page
LEDGER_PER_PAGE = 50
MAX_AGENT_CHOICES = 500  # agents the audit page's picker offers (a page of the agent list)
REPORT_DAYS = (30, 90, 365)


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _item_url(item_id: int) -> str:
    return f"/knowledge/items/{item_id}"


def _names(lang: str) -> dict[str, Any]:
    index = 0 if lang == "zh_Hans" else 1
    return {
        "type_names": {key: names[index] for key, names in ITEM_TYPE_NAMES.items()},
        "status_names": {key: names[index] for key, names in STATUS_NAMES.items()},
    }


def searchable_statuses(user: User) -> tuple[str, ...]:
    """The statuses a user may search: published and archived items, and for reviewers the
    items waiting for review (drafts are their authors' alone: never searched)."""
    if items_service.is_reviewer(user):
        return ("published", "in_review", "archived")
    return ("published", "archived")


def _status(user: User, status: str) -> str:
    if status not in searchable_statuses(user):
        raise InvalidInput(N_("items of status {status} are not searched"), status=status)
    return status


def _labels(text: str) -> list[str]:
    """Labels typed into one field, separated by commas (either width) or 、."""
    for separator in ("，", "、", ";", "；"):
        text = text.replace(separator, ",")
    return [part.strip() for part in text.split(",") if part.strip()]


def _import_items(session: Session, upload: PageUpload) -> ImportResult[Any]:
    return importing_service.import_items(session=session, **upload.file, user_id=upload.user.id)


add_import_routes(
    pages,
    importer=importing_service.ITEMS_IMPORTER,
    permission=Permission.KNOWLEDGE_MANAGE,
    base_url="/knowledge/import",
    template="knowledge/import.html",
    run=_import_items,
    upload_param="knowledge_upload_id",
    context=lambda request, session: _names(request_language(request)),
)


# --- search and browse -------------------------------------------------------------------------


@pages.get("/knowledge")
def library_page(
    request: Request,
    session: SessionDep,
    user: ReadUser,
    q: SearchText = "",
    type: FilterText = "",
    category: FilterText = "",
    tag: FilterText = "",
    call: Annotated[str, Query(max_length=100)] = "",
    status: FilterText = "published",
    page: PageNumber = 1,
) -> Response:
    """Search the library (or, without a query, browse the latest published items); with a
    `call` (from a QA evaluation), each result offers to link itself to that call."""
    kind = type if type in ITEM_TYPE_NAMES else ""
    found = None
    listed: list[Any] = []
    total = 0
    if q.strip():
        found = search_service.search(
            session=session,
            query=q,
            filters=Filters(
                type=kind or None,
                status=_status(user, status or "published"),
                category=tuple(part for part in category.split("/") if part),
                tag=tag or None,
            ),
            # Results are ranked, not stored: a later page asks for more and shows its slice.
            limit=min(page, SEARCH_PAGES) * PER_PAGE,
            user_id=user.id,
            log=page == 1,
        )
        total = len(found.items)
        found = replace(found, items=found.items[(page - 1) * PER_PAGE : page * PER_PAGE])
        if total == min(page, SEARCH_PAGES) * PER_PAGE and page < SEARCH_PAGES:
            total += 1  # there may be more: offer the next page
    else:
        listed, total = items_service.list_items(
            session=session,
            type_=kind or None,
            category=category or None,
            tag=tag or None,
            limit=PER_PAGE,
            offset=(page - 1) * PER_PAGE,
        )
    return render(
        request,
        "knowledge/library.html",
        {
            "q": q,
            "call": call.strip(),
            "status": status or "published",
            "statuses": searchable_statuses(user),
            "kind": kind,
            "category": category,
            "tag": tag,
            "found": found,
            "listed": listed,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PER_PAGE)),
            "per_page": PER_PAGE,
            "categories": sorted(rows.category_paths(session).values()),
            "may_write": allows(user.roles, Permission.KNOWLEDGE_WRITE),
            **_names(request_language(request)),
        },
    )


@pages.get("/knowledge/search")
def search_page(user: ReadUser, q: SearchText = "") -> Response:
    """The top bar's search: the library page with the query."""
    return _redirect("/knowledge?" + urlencode({"q": q}))


# --- one item ----------------------------------------------------------------------------------


def _attachment_url_for(urls: dict[str, str]) -> Any:
    return lambda name: urls.get(name)


def _item_context(session: Session, item: ItemRead, user: User) -> dict[str, Any]:
    row = items_service.get_item_row(session=session, item_id=item.id, by=user)
    files = attachments_service.attachments(session=session, item_id=item.id, by=user)
    urls = attachments_service.attachment_urls(item.id, files)
    render_md = _attachment_url_for(urls)
    sections = [
        (part, item_html(getattr(item.text, part), attachment_url=render_md))
        for part in ("situation", "solution", "result")
    ]
    history = items_service.may_see_history(row, user)
    return {
        "item": item,
        "sections": [(part, html) for part, html in sections if str(html).strip()],
        "body_html": item_html(item.text.body, attachment_url=render_md),
        "files": files,
        "file_urls": urls,
        "may_edit": items_service.may_edit(row, user),
        "is_author": row.author_user_id == user.id
        or (user.agent_id is not None and row.author_agent_id == user.agent_id),
        "may_review": item.pending_review
        and items_service.is_reviewer(user)
        and not (
            row.author_user_id == user.id
            or (user.agent_id is not None and row.author_agent_id == user.agent_id)
        ),
        "may_adopt": items_service.may_adopt(user),
        "may_history": history,
        "voted": items_service.has_voted(session=session, item_id=item.id, by=user),
        "comments": items_service.comments(session=session, item_id=item.id, by=user),
        "usages": items_service.usages(session=session, item_id=item.id, by=user)[:20],
        "linked": items_service.linked_items(session=session, item_id=item.id, by=user),
        "reviews": items_service.reviews(session=session, item_id=item.id, by=user)
        if history
        else [],
        "duplicates": similar.likely_duplicates(session=session, item_id=item.id, by=user)
        if item.pending_review or item.status == "draft"
        else [],
        "may_archive": items_service.is_reviewer(user)
        or (items_service.may_edit(row, user) and item.status != "published"),
    }


@pages.get("/knowledge/items/{item_id}")
def item_page(request: Request, session: SessionDep, user: ReadUser, item_id: RowId) -> Response:
    """An item as the user may read it, with what they may do with it."""
    item = items_service.get_item(session=session, item_id=item_id, by=user)
    items_service.record_view(session=session, item_id=item_id, by=user)
    return render(
        request,
        "knowledge/item.html",
        {**_item_context(session, item, user), **_names(request_language(request))},
    )


def _draft_from_form(form: dict[str, str]) -> ItemDraft:
    return ItemDraft.model_validate(
        {
            "type": form.get("type", "article"),
            "category": form.get("category", ""),
            "title": form.get("title", ""),
            "title_en": form.get("title_en", ""),
            "body": form.get("body", ""),
            "situation": form.get("situation", ""),
            "solution": form.get("solution", ""),
            "result": form.get("result", ""),
            "tags": _labels(form.get("tags", "")),
            "products": _labels(form.get("products", "")),
            "queues": _labels(form.get("queues", "")),
            "skill_groups": _labels(form.get("skill_groups", "")),
            "note": form.get("note", ""),
        }
    )


def _editor(
    request: Request,
    session: Session,
    *,
    form: dict[str, str],
    item_id: int | None,
    problems: list[str],
    user: User,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "knowledge/editor.html",
        {
            "form": form,
            "item_id": item_id,
            "problems": problems,
            "categories": sorted(rows.category_paths(session).values()),
            "duplicates": similar.likely_duplicates(session=session, item_id=item_id, by=user)
            if item_id
            else [],
            **_names(request_language(request)),
        },
        status_code=status_code,
    )


def _form_of(item: ItemRead) -> dict[str, str]:
    text = item.text
    return {
        "type": item.type,
        "category": item.category,
        "title": text.title,
        "title_en": text.title_en,
        "body": text.body,
        "situation": text.situation,
        "solution": text.solution,
        "result": text.result,
        "tags": ", ".join(text.tags),
        "products": ", ".join(text.products),
        "queues": ", ".join(text.queues),
        "skill_groups": ", ".join(text.skill_groups),
        "note": "",
    }


EDITOR_FIELDS = (
    "type", "category", "title", "title_en", "body", "situation", "solution", "result",
    "tags", "products", "queues", "skill_groups", "note",
)  # fmt: skip


async def _posted_form(request: Request) -> dict[str, str]:
    form = await request.form()
    values = {name: str(form.get(name) or "") for name in EDITOR_FIELDS}
    if any(len(value) > 100_000 for value in values.values()):
        raise InvalidInput(N_("a text is at most {maximum} characters"), maximum=100_000)
    return values


def _problems(request: Request, error: ValidationError | InvalidInput) -> list[str]:
    language = request_language(request)
    if isinstance(error, ValidationError):
        return [
            f"{problem.key}: {translate(language, problem.message, **problem.params)}"
            for problem in validation_problems(error)
        ]
    return [error.translated(language)]


@pages.get("/knowledge/new")
def new_item_page(
    request: Request,
    session: SessionDep,
    user: WriteUser,
    type: FilterText = "case",
) -> Response:
    """An empty editor (a case by default: what agents write most)."""
    form = dict.fromkeys(EDITOR_FIELDS, "")
    form["type"] = type if type in ITEM_TYPE_NAMES else "case"
    return _editor(request, session, form=form, item_id=None, problems=[], user=user)


async def _save_from_editor(
    request: Request, session: Session, user: User, item_id: int | None
) -> Response:
    """A new item (`item_id` None) or a new revision from the editor's form, submitted for review
    when asked; the editor again, with what was typed, when the text does not validate."""
    form = await _posted_form(request)
    try:
        draft = _draft_from_form(form)
    except ValidationError as error:
        problems = _problems(request, error)
        return _editor(
            request,
            session,
            form=form,
            item_id=item_id,
            problems=problems,
            user=user,
            status_code=422,
        )
    if item_id is None:
        item = items_service.create_item(session=session, draft=draft, by=user)
    else:
        item = items_service.edit_item(session=session, item_id=item_id, draft=draft, by=user)
    if (await request.form()).get("submit") == "review" and item.status == "draft":
        items_service.submit(session=session, item_id=item.id, by=user)
    return _redirect(_item_url(item.id))


@pages.post("/knowledge/items")
async def create_item(request: Request, session: SessionDep, user: WriteUser) -> Response:
    """Save a new draft (and submit it for review when asked)."""
    return await _save_from_editor(request, session, user, None)


@pages.get("/knowledge/items/{item_id}/edit")
def edit_item_page(
    request: Request, session: SessionDep, user: WriteUser, item_id: RowId
) -> Response:
    """The editor with the item's latest revision."""
    row = items_service.get_item_row(session=session, item_id=item_id, by=user)
    if not items_service.may_edit(row, user):
        raise InvalidInput(N_("you may not edit this item"))
    item = items_service.get_item(
        session=session, item_id=item_id, by=user, revision=row.current_revision
    )
    return _editor(request, session, form=_form_of(item), item_id=item_id, problems=[], user=user)


@pages.post("/knowledge/items/{item_id}/edit")
async def edit_item(
    request: Request, session: SessionDep, user: WriteUser, item_id: RowId
) -> Response:
    """Save a new revision (a reviewer's edit of a published item is published at once)."""
    return await _save_from_editor(request, session, user, item_id)


class PreviewIn(BaseModel):
    """Text the editor wants to see rendered."""

    text: str = Field(default="", max_length=100_000)


@pages.post("/knowledge/preview")
def preview(body: PreviewIn, user: WriteUser) -> HTMLResponse:
    """The editor's preview: Markdown rendered and sanitized exactly as the item page does
    (attachments are shown on the item page once saved)."""
    return HTMLResponse(str(item_html(body.text)))


class DuplicatesIn(BaseModel):
    """A text being written, to compare with the library."""

    title: str = Field(default="", max_length=300)
    text: str = Field(default="", max_length=100_000)
    item_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


@pages.post("/knowledge/duplicates")
def duplicates(body: DuplicatesIn, session: SessionDep, user: WriteUser) -> list[dict[str, Any]]:
    """Published or waiting items that say much the same (for the editor's hints)."""
    return [
        {"id": hit.id, "title": hit.title, "similarity": round(hit.similarity, 3)}
        for hit in similar.duplicates_of_text(
            session=session, title=body.title, text=body.text, exclude_id=body.item_id, by=user
        )
    ]


@pages.post("/knowledge/items/{item_id}/submit")
def submit_item(session: SessionDep, user: WriteUser, item_id: RowId) -> Response:
    """The author sends the draft to the reviewers."""
    items_service.submit(session=session, item_id=item_id, by=user)
    return _redirect(_item_url(item_id))


@pages.post("/knowledge/items/{item_id}/review")
def review_item(
    session: SessionDep,
    user: ReviewUser,
    item_id: RowId,
    decision: Annotated[str, Form(pattern="^(approve|return)$")],
    comment: Annotated[str, Form(max_length=items_service.MAX_COMMENT)] = "",
    grade: Annotated[str, Form(max_length=1)] = "",
) -> Response:
    """Approve (publish) or return the waiting revision."""
    items_service.review(
        session=session,
        item_id=item_id,
        by=user,
        decision=decision,  # type: ignore[arg-type]
        comment=comment,
        grade=int(grade) if grade.isdigit() else None,
    )
    return _redirect(_item_url(item_id))


@pages.post("/knowledge/items/{item_id}/adopt")
def adopt_item(session: SessionDep, user: AdoptUser, item_id: RowId) -> Response:
    """Adopt a published case as best practice."""
    items_service.adopt(session=session, item_id=item_id, by=user)
    return _redirect(_item_url(item_id))


@pages.post("/knowledge/items/{item_id}/sop")
def make_sop(session: SessionDep, user: AdoptUser, item_id: RowId) -> Response:
    """Start an SOP from a best practice (a draft in the editor)."""
    sop = items_service.make_sop(session=session, item_id=item_id, by=user)
    return _redirect(f"/knowledge/items/{sop.id}/edit")


@pages.post("/knowledge/items/{item_id}/archive")
def archive_item(
    session: SessionDep,
    user: WriteUser,
    item_id: RowId,
    duplicate_of: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Archive the item: obsolete, or a duplicate of another (its points are taken back)."""
    target = duplicate_of.strip().lstrip("#")
    if target and not target.isdigit():
        raise InvalidInput(N_("give the number of the item it duplicates"))
    items_service.archive(
        session=session, item_id=item_id, by=user, duplicate_of=int(target) if target else None
    )
    return _redirect(_item_url(item_id))


@pages.post("/knowledge/items/{item_id}/link")
def link_item(
    session: SessionDep,
    user: WriteUser,
    item_id: RowId,
    other_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
) -> Response:
    """Mark a likely duplicate as a related item instead."""
    items_service.link(session=session, item_id=item_id, other_id=other_id, by=user)
    return _redirect(_item_url(item_id))


@pages.post("/knowledge/items/{item_id}/vote")
def vote_item(
    session: SessionDep,
    user: ReadUser,
    item_id: RowId,
    helpful: Annotated[str, Form(pattern="^(yes|no)$")] = "yes",
) -> Response:
    """Say the item helped, or take that back."""
    items_service.vote(session=session, item_id=item_id, by=user, helpful=helpful == "yes")
    return _redirect(_item_url(item_id))


@pages.post("/knowledge/items/{item_id}/comments")
def comment_item(
    session: SessionDep,
    user: ReadUser,
    item_id: RowId,
    body: Annotated[str, Form(max_length=items_service.MAX_COMMENT)],
) -> Response:
    """Comment on a published item."""
    items_service.add_comment(session=session, item_id=item_id, by=user, body=body)
    return _redirect(_item_url(item_id) + "#comments")


@pages.post("/knowledge/items/{item_id}/usages")
def use_item(
    session: SessionDep,
    user: ReadUser,
    item_id: RowId,
    call_id: Annotated[str, Form(min_length=1, max_length=100)],
) -> Response:
    """Say the item solved a call (by its call id)."""
    source: UsageSource = "qa" if allows(user.roles, Permission.QA_EVALUATE) else "agent"
    items_service.record_usage(
        session=session, item_id=item_id, call_id=call_id, by=user, source=source
    )
    return _redirect(_item_url(item_id) + "#usages")


@pages.post("/knowledge/items/{item_id}/attachments")
async def attach_file(
    session: SessionDep,
    settings: SettingsDep,
    user: WriteUser,
    item_id: RowId,
    file: Annotated[UploadFile, File()],
) -> Response:
    """Attach a file (a picture the text shows as `![..](attachment:NAME)`, or a document)."""
    data = await read_upload(file, settings)
    attachments_service.add_attachment(
        session=session,
        data_dir=settings.data_dir,
        item_id=item_id,
        by=user,
        name=file.filename or "",
        data=data,
    )
    return _redirect(_item_url(item_id) + "#attachments")


@pages.get("/knowledge/items/{item_id}/attachments/{attachment_id}")
def attachment_file(
    session: SessionDep,
    settings: SettingsDep,
    user: ReadUser,
    item_id: RowId,
    attachment_id: RowId,
) -> Response:
    """An attachment, to signed-in users who may read its item; pictures inline, the rest as a
    download."""
    stored = attachments_service.get_attachment(
        session=session,
        data_dir=settings.data_dir,
        item_id=item_id,
        attachment_id=attachment_id,
        by=user,
    )
    return FileResponse(
        stored.path,
        media_type=stored.media_type,
        filename=stored.name,
        content_disposition_type="inline" if stored.inline else "attachment",
        headers={"Cache-Control": "private, max-age=300"},
    )


@pages.get("/knowledge/items/{item_id}/revisions")
def revisions_page(
    request: Request,
    session: SessionDep,
    user: ReadUser,
    item_id: RowId,
    left: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    right: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    """Every revision, and two of them side by side (the two latest unless chosen)."""
    history = items_service.revisions(session=session, item_id=item_id, by=user)
    item = items_service.get_item(session=session, item_id=item_id, by=user)
    numbers = [revision.number for revision in history]
    chosen_right = right if right in numbers else numbers[0]
    chosen_left = left if left in numbers else (numbers[1] if len(numbers) > 1 else numbers[0])
    by_number = {revision.number: revision for revision in history}
    row = items_service.get_item_row(session=session, item_id=item_id, by=user)
    return render(
        request,
        "knowledge/revisions.html",
        {
            "item": item,
            "history": history,
            "left": by_number[chosen_left],
            "right": by_number[chosen_right],
            "diff": side_by_side(by_number[chosen_left].text, by_number[chosen_right].text),
            "may_edit": items_service.may_edit(row, user),
            **_names(request_language(request)),
        },
    )


@pages.post("/knowledge/items/{item_id}/revert")
def revert_item(
    session: SessionDep,
    user: WriteUser,
    item_id: RowId,
    revision: Annotated[int, Form(ge=1, le=2**31 - 1)],
) -> Response:
    """Bring an earlier revision's text back, as a new revision."""
    items_service.revert(session=session, item_id=item_id, to_revision=revision, by=user)
    return _redirect(f"/knowledge/items/{item_id}/revisions")


# --- lists of one's own, the review queue, reports -------------------------------------------


def _points_context(
    request: Request, session: Session, agent_id: int, page: int, page_url: str
) -> dict[str, Any]:
    """An agent's standing balance, total and ledger page, with the items' titles and the
    reasons in the reader's language (My contributions and the ledger audit page)."""
    points = points_service.agent_points(session=session, agent_id=agent_id, at=utcnow())
    shown = shown_page(points.entries, page, LEDGER_PER_PAGE)
    entries = points_service.ledger(
        session=session,
        agent_ids=[agent_id],
        limit=LEDGER_PER_PAGE,
        offset=(shown - 1) * LEDGER_PER_PAGE,
    )
    named = rows.items_by_ids(
        session=session, item_ids=sorted({e.item_id for e in entries if e.item_id})
    )
    language = request_language(request)

    def reason(detail: dict[str, Any]) -> str:
        found = point_reason(detail)
        return translate(language, found[0], **found[1]) if found else ""

    return {
        "ledger": PageSlice(entries, shown, LEDGER_PER_PAGE, points.entries),
        "page_url": page_url,
        "balance": points.balance,
        "earned": points.earned,
        "titles": {
            item_id: revision.title
            for item_id, revision in rows.shown_revisions(session, list(named.values())).items()
        },
        "point_events": POINT_EVENT_NAMES,
        "point_reason": reason,
        "rules": points_service.rules_in_force(session=session),
    }


@pages.get("/knowledge/mine")
def my_contributions(
    request: Request, session: SessionDep, user: WriteUser, page: PageNumber = 1
) -> Response:
    """The user's items and, for an agent, their points: balance, total earned, and how each
    was earned (the ledger, 50 entries a page)."""
    points = (
        _points_context(request, session, user.agent_id, page, "/knowledge/mine?")
        if user.agent_id is not None
        else {"ledger": None}
    )
    return render(
        request,
        "knowledge/mine.html",
        {
            "items": items_service.own_items(session=session, by=user),
            **points,
            **_names(request_language(request)),
        },
    )


@pages.get("/knowledge/points")
def points_audit(
    request: Request,
    session: SessionDep,
    user: ReportsUser,
    agent: Annotated[str, Query(max_length=40)] = "",
    page: PageNumber = 1,
) -> Response:
    """Any agent's points ledger, for those who audit it: managers and admins every agent's, a
    team lead their teams' (another agent is not found, as on the agent pages)."""
    scope = org_service.agent_scope(user)
    listed = org_service.list_agents(
        session=session, scope=scope, filters=AgentFilter(per_page=MAX_AGENT_CHOICES)
    ).agents
    chosen = agent.strip()
    context: dict[str, Any] = {"agent": None, "ledger": None}
    if chosen:
        agent_id = org_service.resolve_identity(session=session, identity=chosen)
        if agent_id is None:
            raise NotFound(N_("agent not found"))
        found = org_service.get_agent_or_raise(session=session, agent_id=agent_id, scope=scope)
        page_url = f"/knowledge/points?{urlencode({'agent': chosen})}&"
        context = {
            "agent": org_service.agent_read(found),
            **_points_context(request, session, found.id, page, page_url),
        }
    return render(
        request,
        "knowledge/points.html",
        {"agents": listed, "chosen": chosen, **context, **_names(request_language(request))},
    )


@pages.get("/knowledge/review")
def review_queue(request: Request, session: SessionDep, user: ReviewUser) -> Response:
    """What waits for review, oldest first."""
    return render(
        request,
        "knowledge/review.html",
        {
            "items": items_service.review_queue(session=session, by=user),
            **_names(request_language(request)),
        },
    )


@pages.get("/knowledge/reports")
def reports_page(
    request: Request,
    session: SessionDep,
    user: ReportsUser,
    days: Annotated[int, Query(ge=1, le=3660)] = 90,
) -> Response:
    """Most used, most helpful, the gaps, each team's contributions."""
    end = utcnow()
    report = reports_service.library_report(
        session=session, start=end - timedelta(days=days), end=end
    )
    return render(
        request,
        "knowledge/reports.html",
        {
            "report": report,
            "days": days,
            "choices": REPORT_DAYS,
            **_names(request_language(request)),
        },
    )


@pages.get("/knowledge/settings")
def settings_page(
    request: Request,
    session: SessionDep,
    user: ManageUser,
) -> Response:
    """The point rules in force (and their history) and the search vocabulary."""
    return _settings(request, session, rules_text=None, problems=[], saved="")


def _settings(
    request: Request,
    session: Session,
    *,
    rules_text: str | None,
    problems: list[str],
    saved: str,
    status_code: int = 200,
) -> Response:
    current = points_service.rules_in_force(session=session)
    words = search_service.vocabulary(session=session)
    return render(
        request,
        "knowledge/settings.html",
        {
            "rules_text": rules_text if rules_text is not None else current.yaml_text,
            "current": current,
            "history": points_service.rules_history(session=session),
            "shipped_note": points_service.SHIPPED_NOTE,
            "terms_text": "\n".join(words.terms),
            "synonyms_text": "\n".join(" = ".join(group) for group in words.synonyms),
            "problems": problems,
            "saved": saved,
        },
        status_code=status_code,
    )


@pages.post("/knowledge/settings/rules")
def save_rules(
    request: Request,
    session: SessionDep,
    user: ManageUser,
    rules: Annotated[str, Form(max_length=50_000)],
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Apply new point rules (points already earned keep the version they were earned under)."""
    try:
        parse_rules(rules)
    except PointRulesError as error:
        language = request_language(request)
        return _settings(
            request,
            session,
            rules_text=rules,
            problems=[
                f"{problem.key}: {translate(language, problem.message, **problem.params)}"
                for problem in error.details
            ],
            saved="",
            status_code=422,
        )
    points_service.apply_rules(session=session, text=rules, by=user, note=note)
    return _redirect("/knowledge/settings?saved=rules")


@pages.post("/knowledge/settings/vocabulary")
def save_vocabulary(
    session: SessionDep,
    user: ManageUser,
    terms: Annotated[str, Form(max_length=200_000)] = "",
    synonyms: Annotated[str, Form(max_length=200_000)] = "",
) -> Response:
    """Replace the dictionary terms and synonym groups (one group a line, words joined by =)."""
    groups = [
        [word.strip() for word in line.replace("＝", "=").split("=")]
        for line in synonyms.splitlines()
        if line.strip()
    ]
    search_service.set_vocabulary(
        session=session,
        terms=[line.strip() for line in terms.splitlines() if line.strip()],
        synonyms=groups,
    )
    return _redirect("/knowledge/settings?saved=vocabulary")


# --- REST -------------------------------------------------------------------------------------


@api.get("/knowledge/search", response_model=SearchResponse, response_model_exclude_none=True)
def api_search(
    session: SessionDep,
    user: ReadUser,
    q: SearchText = "",
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    type: FilterText = "",
    category: FilterText = "",
    tag: FilterText = "",
    product: FilterText = "",
    status: FilterText = "published",
) -> SearchResponse:
    """Search the library (published items unless `status` says archived, or in_review for a
    reviewer): the same contract as `knowledge search --format json`."""
    return search_service.search(
        session=session,
        query=q,
        filters=Filters(
            type=type or None,
            status=_status(user, status or "published"),
            category=tuple(part for part in category.split("/") if part),
            tag=tag or None,
            product=product or None,
        ),
        limit=limit,
        user_id=user.id,
    ).response()


@api.get("/knowledge/items/{item_id}", response_model=ItemRead, responses=error_responses(404))
def api_item(session: SessionDep, user: ReadUser, item_id: RowId) -> ItemRead:
    """An item as the user may read it (a draft only its author)."""
    return items_service.get_item(session=session, item_id=item_id, by=user)


@api.post(
    "/knowledge/items", response_model=ItemRead, status_code=201, responses=error_responses(400)
)
def api_create_item(session: SessionDep, user: WriteUser, draft: ItemDraft) -> ItemRead:
    """Write a draft."""
    item = items_service.create_item(session=session, draft=draft, by=user)
    return items_service.get_item(session=session, item_id=item.id, by=user)


class UsageIn(BaseModel):
    """A call the item was used on."""

    call_id: str = Field(min_length=1, max_length=100)


@api.post("/knowledge/items/{item_id}/usages", status_code=201, responses=error_responses(404, 409))
def api_use_item(
    session: SessionDep, user: ReadUser, item_id: RowId, usage: UsageIn
) -> dict[str, bool]:
    """Link the item to a call it helped on (`created`: false when the link existed)."""
    source: UsageSource = "qa" if allows(user.roles, Permission.QA_EVALUATE) else "agent"
    created = items_service.record_usage(
        session=session, item_id=item_id, call_id=usage.call_id, by=user, source=source
    )
    return {"created": created}


@api.get("/knowledge/points")
def api_points(
    session: SessionDep, user: ReadUser, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[dict[str, Any]]:
    """The user's own points ledger (an agent's), the latest first."""
    if user.agent_id is None:
        return []
    return [
        {
            "earned_at": entry.earned_at.isoformat(),
            "event": entry.event,
            "points": entry.points,
            "item_id": entry.item_id,
            "detail": entry.detail,
            "rules": entry.rules_hash,
        }
        for entry in points_service.ledger(session=session, agent_ids=[user.agent_id], limit=limit)
    ]
