"""The imports page: upload an ACD/CTI file (imported in the background, its progress on a job
page), the ledger by pages, rejected rows, unmapped identities and mapping them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, BackgroundTasks, File, Form, Request, Response, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse

from agentladder.errors import DomainError, InvalidInput, NotFound
from agentladder.ingest import jobs as jobs_service
from agentladder.ingest import service as ingest_service
from agentladder.ingest.models import ImportBatch, ImportJob
from agentladder.org import service as org_service
from agentladder.reports import service as reports_service
from agentladder.web.auth import ImportsManageUser, SessionDep, SettingsDep, request_language
from agentladder.web.importing import save_upload
from agentladder.web.params import OptionalRowIdQuery, PageNumber, RowId
from agentladder.web.responses import API_ERRORS, error_responses
from agentladder.web.templating import render

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agentladder.config import Settings
    from agentladder.org.models import User

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["imports"], responses=API_ERRORS)
REJECTED_SHOWN = 500
# How often the job page reloads itself when the browser runs no script.
REFRESH_S = 3
MAPPING_MAX_BYTES = 256 * 1024

AdapterField = Annotated[str, Form(min_length=1, max_length=40)]
OptionalText = Annotated[str, Form(max_length=60)]


async def _job_request(
    adapter: str,
    mapping: str,
    mapping_file: UploadFile | None,
    encoding: str,
    timezone: str,
) -> jobs_service.JobRequest:
    mapping_text = None
    mapping_file_name = "mapping.yaml"
    if mapping_file is not None and mapping_file.filename:
        raw = await mapping_file.read(MAPPING_MAX_BYTES + 1)
        if len(raw) > MAPPING_MAX_BYTES:
            raise InvalidInput("the mapping file is larger than 256 KB")
        mapping_text = raw.decode("utf-8-sig", errors="replace")
        mapping_file_name = mapping_file.filename
    return jobs_service.JobRequest(
        adapter=adapter.strip() or ingest_service.AUTO_ADAPTER,
        mapping_name=mapping.strip() or None,
        mapping_text=mapping_text,
        mapping_file_name=mapping_file_name,
        encoding=encoding.strip() or None,
        timezone=timezone.strip() or None,
    )


def _names(request: Request) -> dict[str, object]:
    """Adapters and mappings by their names in the reader's language."""
    language = request_language(request)
    return {
        "adapter_title": lambda adapter: ingest_service.adapter_title(adapter, language),
        "mapping_title": lambda name: ingest_service.mapping_title(name, language),
        "note_name": lambda key: ingest_service.note_name(str(key), language),
    }


def _imports_page(
    request: Request,
    session: SessionDep,
    page: int,
    status_code: int = 200,
    **values: object,
) -> Response:
    return render(
        request,
        "ingest/imports.html",
        {
            **_names(request),
            "ledger": ingest_service.page_batches(session=session, page=page),
            "unmapped": ingest_service.unmapped_identities(session=session),
            "adapters": ingest_service.ADAPTERS,
            "mappings": ingest_service.shipped_mapping_names(),
            "running": jobs_service.list_unfinished_jobs(session=session),
            "form": {},
            "upload_error": None,
            "centre_timezone": request.app.state.settings.timezone,
            **values,
        },
        status_code=status_code,
    )


@pages.get("/imports")
def imports_page(
    request: Request, session: SessionDep, user: ImportsManageUser, page: PageNumber = 1
) -> Response:
    """The upload form, imports in progress, the identities no agent is mapped to yet and a
    page of the ledger."""
    return _imports_page(request, session, page)


@pages.post("/imports/upload")
async def upload_form(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: ImportsManageUser,
    background: BackgroundTasks,
    file: Annotated[UploadFile, File()],
    adapter: AdapterField = ingest_service.AUTO_ADAPTER,
    mapping: OptionalText = "",
    mapping_file: Annotated[UploadFile | None, File()] = None,
    encoding: OptionalText = "",
    timezone: OptionalText = "",
) -> Response:
    """Keep the upload on disk and import it in the background; on to its job page."""
    form = {"adapter": adapter, "mapping": mapping, "encoding": encoding, "timezone": timezone}
    try:
        job_request = await _job_request(adapter, mapping, mapping_file, encoding, timezone)
        job = await _start_job(session, settings, user, background, file, job_request)
    except DomainError as exc:
        return _imports_page(request, session, 1, exc.status_code, upload_error=exc, form=form)
    return RedirectResponse(f"/imports/jobs/{job.id}", status_code=303)


async def _start_job(
    session: Session,
    settings: Settings,
    user: User,
    background: BackgroundTasks,
    file: UploadFile,
    job_request: jobs_service.JobRequest,
) -> ImportJob:
    """Check the options, keep the upload on disk, record the job and run it after the answer."""
    jobs_service.check_request(job_request)
    saved = await save_upload(file, settings, jobs_service.UPLOAD_KIND)
    job = jobs_service.create_job(
        session=session,
        upload_token=saved.token,
        file_name=saved.file_name,
        size_bytes=saved.size_bytes,
        request=job_request,
        user=user,
    )
    background.add_task(jobs_service.run_job, settings=settings, job_id=job.id)
    return job


@pages.get("/imports/jobs/{job_id}")
def job_page(
    request: Request, session: SessionDep, user: ImportsManageUser, job_id: RowId
) -> Response:
    """An upload's import as it goes (the page polls, or reloads itself without script); a
    finished import goes on to its ledger entry."""
    job = jobs_service.get_job_or_raise(session=session, job_id=job_id)
    if job.status == "done" and job.batch_id is not None:
        return RedirectResponse(f"/imports/{job.batch_id}?job={job.id}", status_code=303)
    return render(
        request,
        "ingest/job.html",
        {
            **_names(request),
            "job": job,
            "steps": jobs_service.STEPS,
            "step_names": jobs_service.STEP_NAMES,
            "refresh_s": REFRESH_S,
        },
    )


@pages.get("/imports/{batch_id}")
def import_page(
    request: Request,
    session: SessionDep,
    user: ImportsManageUser,
    batch_id: RowId,
    job: OptionalRowIdQuery = None,
) -> Response:
    """One import: how its rows add up, notes and its rejected rows with line, field and
    reason; reached from an upload's job, what the job chose."""
    batch = ingest_service.get_batch_or_raise(session=session, batch_id=batch_id)
    upload = jobs_service.get_job_or_raise(session=session, job_id=job) if job else None
    if upload is not None and upload.batch_id != batch.id:
        upload = None
    return render(
        request,
        "ingest/import.html",
        {
            **_names(request),
            "batch": batch,
            "counts": ingest_service.batch_accounting(batch),
            "notes": {
                key: value
                for key, value in ingest_service.batch_notes(batch).items()
                if not key.endswith(ingest_service.IGNORED_SUFFIX)
            },
            "rejected": batch.rejected[:REJECTED_SHOWN],
            "shown": REJECTED_SHOWN,
            "job": upload,
        },
    )


@pages.get("/imports/{batch_id}/rejected.csv")
def rejected_csv(session: SessionDep, user: ImportsManageUser, batch_id: RowId) -> Response:
    """Every rejected row of an import as CSV: line, field, reason, the row as read."""
    batch = ingest_service.get_batch_or_raise(session=session, batch_id=batch_id)
    body = reports_service.export_table(
        [(r.line_no, r.field, r.reason, r.raw) for r in batch.rejected],
        ["line", "field", "reason", "raw"],
        "csv",
    )
    return Response(
        body,
        media_type=reports_service.MEDIA_TYPES["csv"],
        headers={"Content-Disposition": f'attachment; filename="import-{batch.id}-rejected.csv"'},
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


def _batch_json(b: ImportBatch) -> dict[str, Any]:
    return {
        "id": b.id,
        "adapter": b.adapter,
        "file_name": b.file_name,
        "sha256": b.file_sha256,
        "read": b.rows_read,
        "accepted": b.rows_accepted,
        "rejected": b.rows_rejected,
        "ignored": b.rows_ignored,
        "duplicate": b.rows_duplicate,
        "ignored_by_reason": ingest_service.batch_accounting(b).ignored_by_reason,
        "first_event_at": b.first_event_at,
        "last_event_at": b.last_event_at,
        "imported_at": b.imported_at,
    }


def _job_json(job: ImportJob, session: SessionDep) -> dict[str, Any]:
    body = jobs_service.job_json(job)
    batch = (
        ingest_service.get_batch_or_raise(session=session, batch_id=job.batch_id)
        if job.batch_id is not None
        else None
    )
    body["batch"] = _batch_json(batch) if batch is not None else None
    body["links"] = {
        "job": f"/api/imports/jobs/{job.id}",
        "page": f"/imports/jobs/{job.id}",
        "ledger_entry": f"/imports/{job.batch_id}" if job.batch_id else None,
        "rejected_csv": f"/imports/{job.batch_id}/rejected.csv" if job.batch_id else None,
    }
    return body


@api.get("/imports")
def api_imports(
    session: SessionDep, user: ImportsManageUser, page: PageNumber = 1
) -> list[dict[str, Any]]:
    """A page of the ledger (50 imports, newest first) with their row counts."""
    ledger = ingest_service.page_batches(session=session, page=page)
    return [_batch_json(b) for b in ledger.batches] if ledger.page == page else []


@api.post("/imports", status_code=202, responses=error_responses(400, 413))
async def api_upload(
    session: SessionDep,
    settings: SettingsDep,
    user: ImportsManageUser,
    background: BackgroundTasks,
    file: Annotated[UploadFile, File()],
    adapter: AdapterField = ingest_service.AUTO_ADAPTER,
    mapping: OptionalText = "",
    mapping_file: Annotated[UploadFile | None, File()] = None,
    encoding: OptionalText = "",
    timezone: OptionalText = "",
) -> JSONResponse:
    """Upload an ACD/CTI file (multipart: `file`, and the form's other fields: `adapter`, "auto"
    by default, `mapping` or `mapping_file`, `encoding`, `timezone`) and import it in the
    background; the job as JSON (202), to poll at `links.job` until `finished`."""
    job_request = await _job_request(adapter, mapping, mapping_file, encoding, timezone)
    job = await _start_job(session, settings, user, background, file, job_request)
    return JSONResponse(
        _jsonable(_job_json(job, session)),
        status_code=202,
        headers={"Location": f"/api/imports/jobs/{job.id}"},
    )


def _jsonable(body: dict[str, Any]) -> Any:
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder(body)


@api.get("/imports/jobs/{job_id}", responses=error_responses(404))
def api_job(session: SessionDep, user: ImportsManageUser, job_id: RowId) -> dict[str, Any]:
    """An upload's import: its step, the adapter chosen (and why), its problem, or its ledger
    entry with the row counts."""
    job = jobs_service.get_job_or_raise(session=session, job_id=job_id)
    return _job_json(job, session)


@api.get("/imports/unmapped")
def api_unmapped(session: SessionDep, user: ImportsManageUser) -> list[dict[str, Any]]:
    """Source identities no agent is mapped to, with their row counts."""
    return [
        {"identity": identity, "rows": rows}
        for identity, rows in ingest_service.unmapped_identities(session=session)
    ]
