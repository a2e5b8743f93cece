"""Certification routes: pages (`pages`) and REST (`api`, mounted under /api). Thin: parse,
authorize (by the dependency each route declares), call the service, render.

Programmes, revocation and the trainer's pages need `certifications.manage`; the expiring
report and the printed certificate follow the viewer's agent scope (`certifications.view`);
the verification page (`/verify`) is public and shows only name, type, dates and status.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, Response, UploadFile
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from agentladder.errors import DomainError, InvalidInput, NotFound
from agentladder.i18n import N_, translate
from agentladder.org import service as org_service
from agentladder.org.models import User
from agentladder.org.schemas import Permission, allows
from agentladder.reports import service as reports_service
from agentladder.training.certifications import documents
from agentladder.training.certifications import service as certifications_service
from agentladder.training.certifications.schemas import (
    CertificationFilter,
    CertificationImportResult,
    CertificationPage,
    CertificationRead,
    CertificationTypeCreate,
    CertificationTypeRead,
    ExpiringReport,
    RevocationIn,
)
from agentladder.training.exams import service as exams_service
from agentladder.training.programmes import service as programmes
from agentladder.web.auth import SessionDep, SettingsDep, request_language, requires
from agentladder.web.importing import PageUpload, add_import_routes, read_upload
from agentladder.web.params import PageNumber, RowId
from agentladder.web.responses import API_ERRORS, error_responses
from agentladder.web.templating import render

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["certifications"], responses=API_ERRORS)

CertificationsViewUser = Annotated[User, Depends(requires(Permission.CERTIFICATIONS_VIEW))]
CertificationsManageUser = Annotated[User, Depends(requires(Permission.CERTIFICATIONS_MANAGE))]
ExpiringDays = Annotated[int, Query(ge=1, le=366)]
ProgrammeCode = Annotated[str, Form(max_length=40)]
# A code as printed is 14 characters; room for spaces someone typed, never a long string.
VerificationCode = Annotated[str, Query(max_length=40)]
STATUS_FILTERS = ("all", "valid", "expiring", "expired", "revoked")


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _back(target: str, default: str) -> str:
    # Only this site's certification pages: never an open redirect.
    if target.startswith(("/certifications", "/agents/")) and "//" not in target:
        return target
    return default


def _filters(
    q: str | None, team: str | None, cert_type: str | None, status: str, page: int
) -> CertificationFilter:
    return CertificationFilter.model_validate(
        {
            "q": q or None,
            "team": team or None,
            "cert_type": cert_type or None,
            "status": status if status in STATUS_FILTERS else "all",
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
            "status_filters": STATUS_FILTERS,
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
            "can_manage": allows(user.roles, Permission.CERTIFICATIONS_MANAGE),
        },
    )


@pages.post("/certifications/{certificate_id}/revoke")
def revoke_form(
    session: SessionDep,
    user: CertificationsManageUser,
    certificate_id: RowId,
    reason: Annotated[str, Form(max_length=certifications_service.MAX_REVOCATION_REASON)],
    next: Annotated[str, Form(max_length=500)] = "/certifications",
) -> Response:
    """Revoke a certificate with the reason given; back to the page the form was on."""
    certifications_service.revoke_certification(
        session=session, certificate_id=certificate_id, reason=reason, user=user
    )
    return _redirect(_back(next, "/certifications"))


@pages.get("/certifications/{certificate_id}/certificate.pdf")
def certificate_pdf(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CertificationsViewUser,
    certificate_id: RowId,
) -> Response:
    """The printed certificate (one A4 landscape page in the viewer's language) for the agent
    themself or staff who may see the agent; its verification code is made when first printed."""
    document = certifications_service.certificate_document(
        session=session, certificate_id=certificate_id, scope=org_service.agent_scope(user)
    )
    verify_url = str(request.url_for("verify_page", code=document.verification_code))
    pdf = documents.certificate_pdf(
        document,
        language=request_language(request),
        verify_url=verify_url,
        centre_name=getattr(settings, "centre_name", None),
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": (
                f'inline; filename="certificate-{document.employee_no}-'
                f'{document.certification_id}.pdf"'
            ),
            "Cache-Control": "private, no-store",
        },
    )


# --- programmes ----------------------------------------------------------------------------


def _programmes_page(
    request: Request,
    session: Session,
    *,
    form: Mapping[str, object] | None = None,
    error: DomainError | None = None,
    type_form: Mapping[str, object] | None = None,
    type_error: DomainError | None = None,
) -> Response:
    problem = error or type_error
    language = request_language(request)
    types = certifications_service.list_certification_types(session=session)
    exams = exams_service.list_exams(session=session)
    return render(
        request,
        "training/programmes.html",
        {
            "programmes": programmes.list_programmes(session=session),
            "types": types,
            "type_names": {kind.code: kind.name(language) for kind in types},
            "exams": exams,
            "exam_titles": {exam.code: exam.title for exam in exams},
            "form": form or {},
            "error": error,
            "type_form": type_form or {},
            "type_error": type_error,
        },
        status_code=problem.status_code if problem else 200,
    )


@pages.get("/certifications/programmes")
def programmes_page(
    request: Request,
    session: SessionDep,
    user: CertificationsManageUser,
    code: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """The certification programmes (which exams award which certification, for how long),
    the form to add one or change the one named by `code`, and the certification types."""
    form: dict[str, object] = {}
    if code:
        form = programmes.get_programme(session=session, code=code).model_dump()
        form["editing"] = True
    return _programmes_page(request, session, form=form)


@pages.post("/certifications/programmes")
def programme_save_form(
    request: Request,
    session: SessionDep,
    user: CertificationsManageUser,
    code: ProgrammeCode,
    cert_type: Annotated[str, Form(max_length=40)],
    exam_codes: Annotated[list[str], Form(max_length=20)],
    validity_months: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    """Add a programme or change one (by its code)."""
    form: dict[str, object] = {
        "code": code,
        "cert_type": cert_type,
        "exam_codes": exam_codes,
        "validity_months": validity_months,
    }
    try:
        programme_in = programmes.ProgrammeIn.model_validate(
            {**form, "validity_months": validity_months.strip() or None}
        )
        programmes.save_programme(session=session, programme_in=programme_in, user_id=user.id)
    except ValidationError as exc:
        fields = ", ".join(str(e["loc"][-1]) for e in exc.errors() if e.get("loc"))
        problem = InvalidInput(N_("invalid input in: {fields}"), fields=fields)
        return _programmes_page(request, session, form=form, error=problem)
    except DomainError as exc:
        return _programmes_page(request, session, form=form, error=exc)
    return _redirect("/certifications/programmes")


@pages.post("/certifications/programmes/{programme_code}/delete")
def programme_delete_form(
    session: SessionDep,
    user: CertificationsManageUser,
    programme_code: Annotated[str, Path(max_length=40)],
) -> Response:
    """Delete a programme; the certificates it awarded stay."""
    programmes.delete_programme(session=session, code=programme_code)
    return _redirect("/certifications/programmes")


@pages.post("/certifications/types")
def type_add_form(
    request: Request,
    session: SessionDep,
    user: CertificationsManageUser,
    code: Annotated[str, Form(max_length=40)],
    zh: Annotated[str, Form(max_length=120)],
    en: Annotated[str, Form(max_length=120)],
    validity_months: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    """Add a certification type of the centre's own (beside the four built-in ones)."""
    form = {"code": code, "zh": zh, "en": en, "validity_months": validity_months}
    try:
        type_in = CertificationTypeCreate.model_validate(
            {**form, "validity_months": validity_months.strip() or None}
        )
        certifications_service.add_certification_type(session=session, type_in=type_in)
    except ValidationError as exc:
        fields = ", ".join(str(e["loc"][-1]) for e in exc.errors() if e.get("loc"))
        problem = InvalidInput(N_("invalid input in: {fields}"), fields=fields)
        return _programmes_page(request, session, type_form=form, type_error=problem)
    except DomainError as exc:
        return _programmes_page(request, session, type_form=form, type_error=exc)
    return _redirect("/certifications/programmes")


# --- what expires ----------------------------------------------------------------------------


def _expiring_xlsx(report: ExpiringReport, language: str) -> Response:
    def tr(message: str) -> str:
        return translate(language, message)  # type: ignore[arg-type]

    header = [
        tr(N_("Employee no.")),
        tr(N_("Name")),
        tr(N_("Team")),
        tr(N_("Certification")),
        tr(N_("Issued")),
        tr(N_("Expires")),
        tr(N_("Days left")),
        tr(N_("Exams to re-take")),
    ]
    rows = [
        [
            row.certification.employee_no,
            row.certification.agent_name,
            row.certification.team_code or "",
            row.certification.type_name(language),
            row.certification.issued_on,
            row.certification.expires_on,
            row.days_left,
            ", ".join(f"{exam.title} ({exam.code})" for exam in row.exams),
        ]
        for row in report.rows
    ]
    return Response(
        reports_service.export_table(rows, header, "xlsx", tr(N_("Expiring certificates"))),
        media_type=reports_service.MEDIA_TYPES["xlsx"],
        headers={
            "Content-Disposition": (
                f'attachment; filename="certificates-expiring-{report.today.isoformat()}'
                f'-{report.days}d.xlsx"'
            )
        },
    )


@pages.get("/certifications/expiring")
def expiring_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CertificationsViewUser,
    days: ExpiringDays = 30,
    format: Annotated[str, Query(pattern=r"^(html|xlsx)$")] = "html",
) -> Response:
    """What expires in the next `days` days (30, 60 or 90 offered) among the agents the user
    may see: counts per certification and the list with the exams to re-take; as XLSX too."""
    report = certifications_service.expiring_certifications(
        session=session, scope=org_service.agent_scope(user), days=days, today=settings.today()
    )
    if format == "xlsx":
        return _expiring_xlsx(report, request_language(request))
    return render(
        request,
        "training/expiring.html",
        {
            "report": report,
            "windows": certifications_service.EXPIRING_REPORT_DAYS,
            "can_manage": allows(user.roles, Permission.CERTIFICATIONS_MANAGE),
        },
    )


# --- the public check of a printed certificate --------------------------------------------


def _public(response: Response) -> Response:
    # Nothing here is for search engines or shared caches: the status changes when revoked.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@pages.get("/verify")
def verify_form(
    request: Request,
    code: VerificationCode = "",
) -> Response:
    """The form to check a certificate by the code printed on it (no login)."""
    if code.strip():
        normalized = certifications_service.normalize_verification_code(code)
        if normalized is not None:
            return _public(_redirect(f"/verify/{normalized}"))
        return _public(
            render(request, "training/verify.html", {"result": None, "code": code}, status_code=404)
        )
    return _public(render(request, "training/verify.html", {"result": None, "code": ""}))


@pages.get("/verify/{code}", name="verify_page")
def verify_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    code: str,
) -> Response:
    """Whether the certificate with this code is valid: the holder's name, the certification,
    its dates and status, nothing else (no login; an unknown code is a plain 404)."""
    try:
        result = certifications_service.verify_certificate(
            session=session, code=code[:40], today=settings.today()
        )
    except NotFound:
        return _public(
            render(request, "training/verify.html", {"result": None, "code": code[:40]}, 404)
        )
    return _public(render(request, "training/verify.html", {"result": result, "code": code}))


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


@api.get("/certifications/expiring", response_model=ExpiringReport)
def api_expiring(
    session: SessionDep,
    settings: SettingsDep,
    user: CertificationsViewUser,
    days: ExpiringDays = 30,
) -> ExpiringReport:
    """What expires in the next `days` days among the caller's agents, with the exams that
    renew each certificate."""
    return certifications_service.expiring_certifications(
        session=session, scope=org_service.agent_scope(user), days=days, today=settings.today()
    )


@api.post(
    "/certifications/{certificate_id}/revoke",
    response_model=CertificationRead,
    responses=error_responses(404, 409),
)
def api_revoke(
    session: SessionDep,
    user: CertificationsManageUser,
    certificate_id: RowId,
    revocation: RevocationIn,
) -> CertificationRead:
    """Revoke a certificate with a reason; from today it counts for nothing."""
    return certifications_service.revoke_certification(
        session=session, certificate_id=certificate_id, reason=revocation.reason, user=user
    )


@api.get("/certification-programmes", response_model=list[programmes.ProgrammeRead])
def api_programmes(
    session: SessionDep, user: CertificationsManageUser
) -> list[programmes.ProgrammeRead]:
    """Every certification programme: its exams, the type it awards and for how long."""
    return programmes.list_programmes(session=session)
