"""The imports page: the ledger, rejected rows, unmapped identities and mapping them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from agentladder.errors import NotFound
from agentladder.ingest import service as ingest_service
from agentladder.org import service as org_service
from agentladder.web.auth import ImportsManageUser, SessionDep
from agentladder.web.params import RowId
from agentladder.web.responses import API_ERRORS
from agentladder.web.templating import render

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["imports"], responses=API_ERRORS)
REJECTED_SHOWN = 500


@pages.get("/imports")
def imports_page(request: Request, session: SessionDep, user: ImportsManageUser) -> Response:
    """Recent imports and the identities no agent is mapped to yet."""
    return render(
        request,
        "ingest/imports.html",
        {
            "batches": ingest_service.list_batches(session=session),
            "unmapped": ingest_service.unmapped_identities(session=session),
            "adapters": ingest_service.ADAPTERS,
        },
    )


@pages.get("/imports/{batch_id}")
def import_page(
    request: Request, session: SessionDep, user: ImportsManageUser, batch_id: RowId
) -> Response:
    """One import: counts, notes and its rejected rows with line, field and reason."""
    batch = ingest_service.get_batch_or_raise(session=session, batch_id=batch_id)
    return render(
        request,
        "ingest/import.html",
        {
            "batch": batch,
            "notes": ingest_service.batch_notes(batch),
            "rejected": batch.rejected[:REJECTED_SHOWN],
            "shown": REJECTED_SHOWN,
        },
    )


@pages.post("/imports/identities")
def map_identity_form(
    session: SessionDep,
    user: ImportsManageUser,
    identity: Annotated[str, Form(min_length=1, max_length=200)],
    employee_no: Annotated[str, Form(min_length=1, max_length=40)],
) -> Response:
    """Map a source identity to an agent; the next computation credits the agent."""
    agent = org_service.get_agent_by_employee_no(session=session, employee_no=employee_no)
    if agent is None:
        raise NotFound("agent not found")
    org_service.add_alias(session=session, agent=agent, identity=identity, source="imports")
    return RedirectResponse("/imports", status_code=303)


@api.get("/imports")
def api_imports(session: SessionDep, user: ImportsManageUser) -> list[dict[str, Any]]:
    """Recent imports with their row counts."""
    return [
        {
            "id": b.id,
            "adapter": b.adapter,
            "file_name": b.file_name,
            "sha256": b.file_sha256,
            "read": b.rows_read,
            "accepted": b.rows_accepted,
            "rejected": b.rows_rejected,
            "ignored": b.rows_ignored,
            "duplicate": b.rows_duplicate,
            "first_event_at": b.first_event_at,
            "last_event_at": b.last_event_at,
            "imported_at": b.imported_at,
        }
        for b in ingest_service.list_batches(session=session)
    ]


@api.get("/imports/unmapped")
def api_unmapped(session: SessionDep, user: ImportsManageUser) -> list[dict[str, Any]]:
    """Source identities no agent is mapped to, with their row counts."""
    return [
        {"identity": identity, "rows": rows}
        for identity, rows in ingest_service.unmapped_identities(session=session)
    ]
