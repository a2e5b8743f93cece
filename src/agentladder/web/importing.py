"""One upload -> preview -> apply flow for every importer's page: the stash of an upload
between its preview and its apply, the page (`imports/import.html`, which a domain's template
extends with its own rows) and the XLSX template download."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response, UploadFile
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.imports import service as imports_service
from agentladder.imports import stash
from agentladder.imports.schemas import ACTION_NAMES
from agentladder.imports.spec import Importer
from agentladder.imports.template import template_file_name, template_workbook
from agentladder.web.templating import render

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Upload:
    """An uploaded file kept in the stash: its bytes, name and token (its SHA-256)."""

    data: bytes
    file_name: str
    token: str


async def stash_upload(
    file: UploadFile, *, settings: Settings, importer: Importer[Any, Any]
) -> Upload:
    """Read an uploaded file and keep it until it is applied."""
    data = await file.read()
    file_name = file.filename or f"{importer.kind}.csv"
    token = stash.stash_upload(
        data_dir=settings.ensure_data_dir(), kind=importer.kind, data=data, file_name=file_name
    )
    return Upload(data=data, file_name=file_name, token=token)


def stashed_upload(*, settings: Settings, importer: Importer[Any, Any], token: str) -> Upload:
    """A file stashed at its preview (TableFileError when it is gone)."""
    data, file_name = stash.load_upload(
        data_dir=settings.ensure_data_dir(), kind=importer.kind, token=token
    )
    return Upload(data=data, file_name=file_name, token=token)


def import_page(
    request: Request,
    session: Session,
    *,
    importer: Importer[Any, Any],
    template: str,
    base_url: str,
    status_code: int = 200,
    **context: object,
) -> Response:
    """An importer's page: the upload form, the template link, the preview (or what was
    imported) and the importer's recent files. `base_url` is where the form posts; the apply
    form posts to `{base_url}/{token}/apply` and the template is `{base_url}/template`."""
    return render(
        request,
        template,
        {
            "importer": importer,
            "base_url": base_url,
            "row_actions": ACTION_NAMES,
            "field_names": importer.labels,
            "recent_imports": imports_service.list_imports(session=session, kind=importer.kind),
            "preview": None,
            **context,
        },
        status_code=status_code,
    )


def template_download(importer: Importer[Any, Any]) -> Response:
    """The importer's XLSX template as a download."""
    return Response(
        template_workbook(importer),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{template_file_name(importer)}"'},
    )
