"""One upload -> preview -> apply flow for every importer's page: its four routes (the page,
the XLSX template, the upload that previews or checks, the apply of a previewed file), the stash
of an upload between its preview and its apply, and the page itself (`imports/import.html`,
which a domain's template extends with its own rows)."""

# No `from __future__ import annotations` here: FastAPI reads the signatures of the routes made
# below, and their annotations name this function's arguments (the permission).

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.errors import DomainError
from agentladder.imports import pipeline, stash
from agentladder.imports import service as imports_service
from agentladder.imports.schemas import ACTION_NAMES, ImportResult
from agentladder.imports.spec import Importer
from agentladder.imports.template import template_file_name, template_workbook
from agentladder.org.models import User
from agentladder.org.schemas import Permission
from agentladder.web.auth import SessionDep, SettingsDep, requires
from agentladder.web.templating import render

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class PageUpload:
    """A file a page imports (`dry_run`: preview only), who imports it and the settings."""

    settings: Settings
    user: User
    data: bytes
    file_name: str
    encoding: str | None
    dry_run: bool
    # The importer's own options the form offers (ImportOption.name -> ticked).
    options: Mapping[str, bool] = field(default_factory=dict)
    # The importer's own fields the form offers (ImportField.name -> the value given).
    values: Mapping[str, str] = field(default_factory=dict)

    @property
    def file(self) -> dict[str, Any]:
        """The keywords every import service takes: data, file_name, encoding, dry_run."""
        return {
            "data": self.data,
            "file_name": self.file_name,
            "encoding": self.encoding,
            "dry_run": self.dry_run,
        }


@dataclass(frozen=True)
class ImportOption:
    """An importer's own yes/no choice on its page ("create the teams it does not know"),
    kept from the preview to the import."""

    name: str
    label: str  # msgid


@dataclass(frozen=True)
class ImportField:
    """An importer's own text or choice field on its page (the category a bank's questions go
    under), kept from the preview to the import like an option."""

    name: str
    label: str  # msgid
    choices: tuple[tuple[str, str], ...] = ()  # (value, msgid); none: free text
    max_length: int = 200
    placeholder: str = ""  # msgid


async def _ticked(request: Request, options: Sequence[ImportOption]) -> dict[str, bool]:
    form = await request.form()
    return {option.name: form.get(option.name) == "true" for option in options}


async def _given(request: Request, fields: Sequence[ImportField]) -> dict[str, str]:
    # A value the field does not offer, or past its length, is dropped, never passed on.
    form = await request.form()
    values = {}
    for one in fields:
        value = form.get(one.name)
        text = value.strip() if isinstance(value, str) else ""
        if one.choices and text not in {choice for choice, _label in one.choices}:
            text = ""
        values[one.name] = text[: one.max_length]
    return values


# A domain's import service as a page calls it.
PageImport = Callable[[Session, PageUpload], ImportResult[Any]]
PageContext = Callable[[Request, Session], dict[str, object]]


UPLOAD_CHUNK = 1024 * 1024


async def read_upload(file: UploadFile, settings: Settings) -> bytes:
    """An uploaded file's bytes, read in chunks (the server has spooled the upload to disk)
    and refused (413) as soon as they pass the size limit, so a huge file is never held
    whole in memory."""
    limit = settings.upload_max_mb * 2**20
    parts: list[bytes] = []
    size = 0
    while chunk := await file.read(UPLOAD_CHUNK):
        size += len(chunk)
        stash.check_size(size, limit)
        parts.append(chunk)
    return b"".join(parts)


@dataclass(frozen=True)
class SavedUpload:
    """An upload written to the stash: its token (SHA-256), name as sent, and size."""

    token: str
    file_name: str
    size_bytes: int


async def save_upload(file: UploadFile, settings: Settings, kind: str) -> SavedUpload:
    """Write an upload to the stash chunk by chunk, never whole in memory, refused (413, and
    nothing left on disk) once it passes the size limit; old uploads go first."""
    writer = stash.UploadWriter(
        data_dir=settings.ensure_data_dir(),
        kind=kind,
        max_bytes=settings.upload_max_mb * 2**20,
        retention_s=settings.upload_retention_hours * 3600,
    )
    try:
        while chunk := await file.read(UPLOAD_CHUNK):
            writer.write(chunk)
    except BaseException:
        writer.discard()
        raise
    file_name = PurePath(file.filename or kind).name or kind
    return SavedUpload(writer.finish(file_name), file_name, writer.size_bytes)


def template_download(importer: Importer[Any, Any]) -> Response:
    """The importer's XLSX template as a download."""
    return Response(
        template_workbook(importer),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{template_file_name(importer)}"'},
    )


def add_import_routes(
    router: APIRouter,
    *,
    importer: Importer[Any, Any],
    permission: Permission,
    base_url: str,
    template: str,
    run: PageImport,
    upload_param: str = "token",
    context: PageContext | None = None,
    dry_run_option: bool = False,
    options: Sequence[ImportOption] = (),
    template_file: Callable[[], bytes] | None = None,
    fields: Sequence[ImportField] = (),
) -> None:
    """Add an importer's page routes, all under `permission`: GET `base_url` (the page), GET
    `{base_url}/template`, POST `base_url` (upload: preview it, or with `dry_run_option` the
    form's dry_run box decides between checking and importing) and POST
    `{base_url}/{upload_param}/apply` (import the previewed file). `template_file`: the
    template's bytes when it is more than the headers and an example row (a whole form);
    `fields`: text or choice fields the run reads from `PageUpload.values`."""
    user_dep = Annotated[User, Depends(requires(permission))]

    def page(
        request: Request, session: Session, status_code: int = 200, **values: object
    ) -> Response:
        return render(
            request,
            template,
            {
                "importer": importer,
                "base_url": base_url,
                "dry_run_option": dry_run_option,
                "import_options": options,
                "chosen_options": {},
                "import_fields": fields,
                "field_values": {},
                "row_actions": ACTION_NAMES,
                "field_names": importer.labels,
                "recent_imports": imports_service.list_imports(session=session, kind=importer.kind),
                "preview": None,
                **(context(request, session) if context else {}),
                **values,
            },
            status_code=status_code,
        )

    def show(
        request: Request, session: Session, result: ImportResult[Any], **values: object
    ) -> Response:
        can_apply = pipeline.importable(importer, result.preview)
        return page(
            request,
            session,
            200 if can_apply else 422,
            preview=result.preview,
            applied=result.applied,
            importable=can_apply,
            **values,
        )

    @router.get(base_url, name=f"{importer.kind}_import_page")
    def import_page(request: Request, session: SessionDep, user: user_dep) -> Response:
        """The upload form, the template link and the recent files."""
        return page(request, session)

    @router.get(f"{base_url}/template", name=f"{importer.kind}_import_template")
    def import_template(user: user_dep) -> Response:
        """The XLSX template: the accepted headers and an example row."""
        if template_file is not None:
            return Response(
                template_file(),
                media_type=XLSX_MEDIA_TYPE,
                headers={
                    "Content-Disposition": (
                        f'attachment; filename="{template_file_name(importer)}"'
                    )
                },
            )
        return template_download(importer)

    @router.post(base_url, name=f"{importer.kind}_import_upload")
    async def import_upload(
        request: Request,
        session: SessionDep,
        settings: SettingsDep,
        user: user_dep,
        file: Annotated[UploadFile, File()],
        encoding: Annotated[str, Form()] = "",
        dry_run: Annotated[bool, Form()] = False,
    ) -> Response:
        """Keep the upload and show what importing it would do (or, when the page offers the
        choice and the box is unticked, import it)."""
        file_name = file.filename or f"{importer.kind}.csv"
        try:
            data = await read_upload(file, settings)
            token = stash.stash_upload(
                data_dir=settings.ensure_data_dir(),
                kind=importer.kind,
                data=data,
                file_name=file_name,
                max_bytes=settings.upload_max_mb * 2**20,
                retention_s=settings.upload_retention_hours * 3600,
            )
            chosen = await _ticked(request, options)
            values = await _given(request, fields)
            upload = PageUpload(
                settings,
                user,
                data,
                file_name,
                encoding or None,
                dry_run or not dry_run_option,
                chosen,
                values,
            )
            result = run(session, upload)
        except DomainError as exc:
            return page(
                request,
                session,
                exc.status_code,
                file_error=exc,
                encoding=encoding,
                field_values=await _given(request, fields),
            )
        return show(
            request,
            session,
            result,
            token=token,
            encoding=encoding,
            chosen_options=chosen,
            field_values=values,
        )

    @router.post(f"{base_url}/{{{upload_param}}}/apply", name=f"{importer.kind}_import_apply")
    async def import_apply(
        request: Request,
        session: SessionDep,
        settings: SettingsDep,
        user: user_dep,
        encoding: Annotated[str, Form()] = "",
    ) -> Response:
        """Import the previewed file (with the options it was previewed with): all rows, or
        none when any row has an error."""
        token = request.path_params[upload_param]
        data, file_name = stash.load_upload(
            data_dir=settings.ensure_data_dir(), kind=importer.kind, token=token
        )
        chosen = await _ticked(request, options)
        values = await _given(request, fields)
        upload = PageUpload(
            settings, user, data, file_name, encoding or None, False, chosen, values
        )
        result = run(session, upload)
        return show(
            request,
            session,
            result,
            token=token,
            encoding=encoding,
            chosen_options=chosen,
            field_values=values,
        )
