"""ACD/CTI files uploaded on the imports page (or the API), imported in the background.

The upload is stashed on disk first (`imports.stash`), a job row records what was asked for,
and `run_job` then imports the file through the same `service.import_file` as the CLI, in its
own sessions: each step it reaches is committed at once, so that the job page, polling, sees it
while the import's own transaction is still open. A file is stored completely or not at all;
the job ends on its ledger entry, or with the problem that stopped it.
"""

from __future__ import annotations

import codecs
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.db import session_scope, utcnow
from agentladder.errors import DomainError, InvalidInput, NotFound
from agentladder.i18n import N_
from agentladder.imports import stash
from agentladder.ingest import service as ingest_service
from agentladder.ingest.models import ImportJob

if TYPE_CHECKING:
    from agentladder.org.models import User

log = logging.getLogger(__name__)

UPLOAD_KIND = "acd"
# The steps a job goes through, in order; the page shows them as a list.
STEPS = ("queued", "detecting", "reading", "storing", "finished")
STEP_NAMES = {
    "queued": N_("Waiting to start"),
    "detecting": N_("Choosing the adapter"),
    "reading": N_("Reading the file"),
    "storing": N_("Storing the records"),
    "finished": N_("Finished"),
}
UNEXPECTED = N_(
    "the import stopped on an unexpected error; nothing was stored (see the server log)"
)


@dataclass(frozen=True)
class JobRequest:
    """What a person asks for with an upload: the adapter ("auto" to detect it), a shipped
    mapping's name or a mapping file's text, the encoding and the time zone of the file."""

    adapter: str = ingest_service.AUTO_ADAPTER
    mapping_name: str | None = None
    mapping_text: str | None = None
    mapping_file_name: str = "mapping.yaml"
    encoding: str | None = None
    timezone: str | None = None


def check_request(request: JobRequest) -> dict[str, Any]:
    """The request's options, each refused now (422) rather than when the job runs (and before
    the upload is written)."""
    if request.adapter != ingest_service.AUTO_ADAPTER:
        ingest_service.get_adapter(request.adapter)
    mapping: dict[str, Any] | None = None
    if request.mapping_text:
        mapping = ingest_service.parse_mapping_text(
            request.mapping_text, file_name=request.mapping_file_name
        )
    elif request.mapping_name:
        mapping = ingest_service.load_shipped_mapping(request.mapping_name)
    if request.encoding:
        try:
            codecs.lookup(request.encoding)
        except LookupError:
            raise InvalidInput("unknown encoding {encoding}", encoding=request.encoding) from None
    if request.timezone:
        ingest_service.check_timezone(request.timezone)
    return {
        "mapping": mapping,
        "mapping_name": None if request.mapping_text else request.mapping_name,
        "encoding": request.encoding,
        "timezone": request.timezone,
    }


def create_job(
    *,
    session: Session,
    upload_token: str,
    file_name: str,
    size_bytes: int,
    request: JobRequest,
    user: User | None,
) -> ImportJob:
    """Record an uploaded file's import, to be run by `run_job`."""
    job = ImportJob(
        file_name=file_name[:255],
        upload_token=upload_token,
        size_bytes=size_bytes,
        adapter_requested=request.adapter,
        options=check_request(request),
        status="queued",
        step="queued",
        already_imported=False,
        created_by_user_id=user.id if user else None,
    )
    session.add(job)
    session.flush()
    return job


def get_job_or_raise(*, session: Session, job_id: int) -> ImportJob:
    """One import job."""
    job = session.get(ImportJob, job_id)
    if job is None:
        raise NotFound("import job not found")
    return job


def list_unfinished_jobs(*, session: Session) -> list[ImportJob]:
    """Jobs still queued or running, oldest first."""
    return list(
        session.scalars(
            select(ImportJob)
            .where(ImportJob.status.in_(("queued", "running")))
            .order_by(ImportJob.id)
        )
    )


def _update(settings: Settings, job_id: int, **values: Any) -> None:
    with session_scope(settings) as session:
        job = get_job_or_raise(session=session, job_id=job_id)
        for name, value in values.items():
            setattr(job, name, value)


def run_job(*, settings: Settings, job_id: int) -> None:
    """Import a job's file: detect the adapter when asked to, then read and store it through
    the ledger, committing each step. Never raises: a failure is the job's problem."""
    with session_scope(settings) as session:
        job = get_job_or_raise(session=session, job_id=job_id)
        if job.status != "queued":
            return  # started already (a second call for the same job)
        job.status, job.step, job.started_at = "running", "detecting", utcnow()
        token, file_name, requested = job.upload_token, job.file_name, job.adapter_requested
        options, user_id = dict(job.options), job.created_by_user_id
    data_dir = settings.ensure_data_dir()
    try:
        path = stash.upload_path(data_dir=data_dir, kind=UPLOAD_KIND, token=token)
        choice = ingest_service.choose_adapter(
            adapter=requested, path=path, mapping=options.get("mapping"), file_name=file_name
        )
        detection = (
            {"reason": choice.detection.reason, "params": choice.detection.params}
            if choice.detection
            else None
        )
        _update(settings, job_id, adapter=choice.adapter, detection=detection)
        with session_scope(settings) as session:
            report = ingest_service.import_file(
                session=session,
                settings=settings,
                adapter=choice.adapter,
                path=path,
                file_name=file_name,
                mapping=choice.mapping,
                encoding=options.get("encoding"),
                timezone=options.get("timezone"),
                imported_by_id=user_id,
                progress=lambda step: _update(settings, job_id, step=step),
            )
        _update(
            settings,
            job_id,
            status="done",
            step="finished",
            batch_id=report.batch_id,
            already_imported=report.already_imported,
            finished_at=utcnow(),
        )
    except DomainError as exc:
        problem = {"message": exc.message, "params": {k: str(v) for k, v in exc.params.items()}}
        _update(settings, job_id, status="failed", problem=problem, finished_at=utcnow())
    except Exception:
        log.exception("import job %s (%s) failed", job_id, file_name)
        problem = {"message": UNEXPECTED, "params": {}}
        _update(settings, job_id, status="failed", problem=problem, finished_at=utcnow())
    finally:
        # The ledger keeps the file's hash and rejected rows: the upload itself is not needed.
        stash.discard_upload(data_dir=data_dir, kind=UPLOAD_KIND, token=token)


def job_json(job: ImportJob) -> dict[str, Any]:
    """A job as the API and the job page's polling read it."""
    return {
        "id": job.id,
        "file_name": job.file_name,
        "size_bytes": job.size_bytes,
        "adapter_requested": job.adapter_requested,
        "adapter": job.adapter,
        "detection": job.detection,
        "status": job.status,
        "step": job.step,
        "finished": job.status in ("done", "failed"),
        "problem": job.problem,
        "batch_id": job.batch_id,
        "already_imported": job.already_imported,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }
