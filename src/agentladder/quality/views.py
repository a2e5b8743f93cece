"""Quality routes (pages). Thin: parse, authorize (by the dependency each route declares), call
the service, render."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.orm import Session

from agentladder.imports.schemas import ImportResult
from agentladder.org.models import User
from agentladder.org.schemas import Permission
from agentladder.quality import forms_io, importing
from agentladder.web.auth import SessionDep, requires
from agentladder.web.importing import XLSX_MEDIA_TYPE, PageUpload, add_import_routes

pages = APIRouter(include_in_schema=False)

# --- forms and past evaluations from files ---------------------------------------------------

QaImportUser = Annotated[User, Depends(requires(Permission.QA_IMPORT))]
YAML_MEDIA_TYPE = "application/yaml"


def _import_forms(session: Session, upload: PageUpload) -> ImportResult[forms_io.FormRowPlan]:
    return forms_io.import_forms(session=session, **upload.file, imported_by=upload.user)


def _import_evaluations(
    session: Session, upload: PageUpload
) -> ImportResult[importing.EvaluationRowPlan]:
    return importing.import_evaluations(
        session=session, **upload.file, zone=upload.settings.tz, imported_by=upload.user
    )


add_import_routes(
    pages,
    importer=forms_io.FORMS_IMPORTER,
    permission=Permission.QA_IMPORT,
    base_url="/quality/forms/import",
    template="quality/forms_import.html",
    run=_import_forms,
    upload_param="forms_upload_id",
    context=lambda request, session: {
        "forms": forms_io.stored_forms(session=session),
        "fatal_names": forms_io.FATAL_CLASS_NAMES,
    },
    template_file=forms_io.forms_template,
)
add_import_routes(
    pages,
    importer=importing.EVALUATIONS_IMPORTER,
    permission=Permission.QA_IMPORT,
    base_url="/quality/evaluations/import",
    template="quality/evaluations_import.html",
    run=_import_evaluations,
    upload_param="evaluations_upload_id",
    context=lambda request, session: {"kind_names": importing.KIND_NAMES},
)


@pages.get("/quality/forms/export")
def forms_export(
    session: SessionDep,
    user: QaImportUser,
    form: Annotated[str, Query(max_length=40, pattern=r"^[a-z][a-z0-9_]*$")] = "default",
    file_format: Annotated[Literal["yaml", "xlsx"], Query(alias="format")] = "yaml",
    version: Annotated[int | None, Query(ge=1, le=100_000)] = None,
) -> Response:
    """A form (its latest version, or the one asked for) as YAML or XLSX, to edit and import."""
    data = forms_io.export_form(session=session, code=form, fmt=file_format, version=version)
    name = forms_io.form_file_name(form, file_format)
    return Response(
        data,
        media_type=XLSX_MEDIA_TYPE if file_format == "xlsx" else YAML_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
