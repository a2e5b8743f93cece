"""Certification routes: pages (`pages`) and REST (`api`, mounted under /api). Thin: parse,
authorize (by the dependency each route declares), call the service, render."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, Response, UploadFile
from sqlalchemy.orm import Session

from agentladder.org import service as org_service
from agentladder.org.models import User
from agentladder.org.schemas import Permission, allows
from agentladder.training.certifications import service as certifications_service
from agentladder.training.certifications.schemas import (
    CertificationFilter,
    CertificationImportResult,
    CertificationPage,
    CertificationRead,
    CertificationTypeRead,
)
from agentladder.web.auth import SessionDep, SettingsDep, requires
from agentladder.web.importing import PageUpload, add_import_routes, read_upload
from agentladder.web.params import PageNumber, RowId
from agentladder.web.responses import API_ERRORS, error_responses
from agentladder.web.templating import render

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["certifications"], responses=API_ERRORS)

CertificationsViewUser = Annotated[User, Depends(requires(Permission.CERTIFICATIONS_VIEW))]
CertificationsManageUser = Annotated[User, Depends(requires(Permission.CERTIFICATIONS_MANAGE))]


def _filters(
    q: str | None, team: str | None, cert_type: str | None, status: str, page: int
) -> CertificationFilter:
    return CertificationFilter.model_validate(
        {
            "q": q or None,
            "team": team or None,
            "cert_type": cert_type or None,
            "status": status if status in {"all", "valid", "expiring", "expired"} else "all",
            "page": page,
        }
    )


def _import_certificates(session: Session, upload: PageUpload) -> CertificationImportResult:
    return certifications_service.import_certifications(
        session=session, **upload.file, recorded_by=upload.user
    )


add_import_routes(
    pages,
    importer=certifications_service.CERTIFICATES_IMPORTER,
    permission=Permission.CERTIFICATIONS_MANAGE,
    base_url="/certifications/import",
    template="training/import.html",
    run=_import_certificates,
    upload_param="upload_id",
    context=lambda request, session: {
        "types": certifications_service.list_certification_types(session=session)
    },
)


# --- pages ---------------------------------------------------------------------------------


@pages.get("/certifications")
def certifications_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CertificationsViewUser,
    q: str | None = None,
    team: str | None = None,
    cert_type: str | None = None,
    status: str = "all",
    page: PageNumber = 1,
) -> Response:
    """Certificates of the agents the user may see (an agent: their own), with filters and
    the ones expiring soon marked."""
    scope = org_service.agent_scope(user)
    filters = _filters(q, team, cert_type, status, page)
    return render(
        request,
        "training/certifications.html",
        {
            "result": certifications_service.list_certifications(
                session=session, scope=scope, filters=filters, today=settings.today()
            ),
            "filters": filters,
            "teams": org_service.list_teams(session=session, scope=scope)
            if scope.everyone or scope.team_ids
            else [],
            "types": certifications_service.list_certification_types(session=session),
            "statuses": certifications_service.STATUS_NAMES,
            "soon_days": certifications_service.EXPIRING_SOON_DAYS,
            "can_manage": allows(user.roles, Permission.CERTIFICATIONS_MANAGE),
        },
    )


@pages.get("/agents/{agent_id}/certifications")
def agent_certifications_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CertificationsViewUser,
    agent_id: RowId,
) -> Response:
    """One agent's certificates (404 outside the user's scope)."""
    agent = org_service.get_agent_or_raise(
        session=session, agent_id=agent_id, scope=org_service.agent_scope(user)
    )
    return render(
        request,
        "training/agent.html",
        {
            "agent": org_service.agent_read(agent),
            "certifications": certifications_service.certifications_of(
                session=session, agent_id=agent.id, today=settings.today()
            ),
            "statuses": certifications_service.STATUS_NAMES,
            "soon_days": certifications_service.EXPIRING_SOON_DAYS,
        },
    )


# --- REST ----------------------------------------------------------------------------------


@api.get("/certification-types", response_model=list[CertificationTypeRead])
def api_certification_types(
    session: SessionDep, user: CertificationsViewUser
) -> list[CertificationTypeRead]:
    """Every certification type: built-in and added."""
    return certifications_service.list_certification_types(session=session)


@api.get("/certifications", response_model=CertificationPage)
def api_certifications(
    session: SessionDep,
    settings: SettingsDep,
    user: CertificationsViewUser,
    q: str | None = None,
    team: str | None = None,
    cert_type: str | None = None,
    status: str = "all",
    page: PageNumber = 1,
) -> CertificationPage:
    """Certificates in the caller's scope, filtered and paged."""
    return certifications_service.list_certifications(
        session=session,
        scope=org_service.agent_scope(user),
        filters=_filters(q, team, cert_type, status, page),
        today=settings.today(),
    )


@api.get(
    "/agents/{agent_id}/certifications",
    response_model=list[CertificationRead],
    responses=error_responses(404),
)
def api_agent_certifications(
    session: SessionDep, settings: SettingsDep, user: CertificationsViewUser, agent_id: RowId
) -> list[CertificationRead]:
    """One agent's certificates (404 outside the caller's scope)."""
    agent = org_service.get_agent_or_raise(
        session=session, agent_id=agent_id, scope=org_service.agent_scope(user)
    )
    return certifications_service.certifications_of(
        session=session, agent_id=agent.id, today=settings.today()
    )


@api.post(
    "/certifications/import",
    response_model=CertificationImportResult,
    responses=error_responses(400, 413),
)
async def api_certifications_import(
    session: SessionDep,
    settings: SettingsDep,
    user: CertificationsManageUser,
    file: Annotated[UploadFile, File()],
    dry_run: bool = False,
    encoding: str | None = None,
) -> CertificationImportResult:
    """Import certificates from a CSV/XLSX file (`dry_run`: only report); a file with errors
    changes nothing."""
    data = await read_upload(file, settings)
    return certifications_service.import_certifications(
        session=session,
        data=data,
        file_name=file.filename or "certifications.csv",
        encoding=encoding,
        dry_run=dry_run,
        recorded_by=user,
    )
