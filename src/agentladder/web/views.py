"""Shell routes: login, logout, language, home, health, the charts' script."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from agentladder import __version__
from agentladder.config import LANGUAGES
from agentladder.db import current_revision, head_revision
from agentladder.errors import Forbidden, InvalidInput, TooManyAttempts, Unavailable
from agentladder.i18n import translate
from agentladder.org.accounts import service as accounts_service
from agentladder.org.models import User
from agentladder.org.schemas import (
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenRead,
    Permission,
    UserRead,
    allows,
)
from agentladder.reports.charts import service as charts_service
from agentladder.web.auth import (
    LANGUAGE_COOKIE,
    SESSION_COOKIE,
    OptionalUserDep,
    SelfUser,
    SessionDep,
    SettingsDep,
    client_ip,
    request_language,
    verify_csrf,
)
from agentladder.web.params import RowId
from agentladder.web.responses import API_ERRORS, Health, error_responses
from agentladder.web.templating import render

router = APIRouter()

# Routes anyone may reach without logging in; every other route declares a permission.
CHART_SCRIPT_PATH = "/assets/charts.js"
# The certificate check is public by design: it tells only name, type, dates and status.
CERTIFICATE_CHECK_PATHS = frozenset({"/verify", "/verify/{code}"})
PUBLIC_PATHS = frozenset(
    {"/login", "/healthz", "/language", "/static", CHART_SCRIPT_PATH, *CERTIFICATE_CHECK_PATHS}
)
# The versioned URL never changes content, so browsers keep it for a year without asking.
IMMUTABLE = "public, max-age=31536000, immutable"


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect would let a phishing link borrow our login page.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/login", include_in_schema=False)
def login_page(request: Request, user: OptionalUserDep, next: str | None = None) -> Response:
    """The login form (already logged-in users go home)."""
    if user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", include_in_schema=False, dependencies=[Depends(verify_csrf)])
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=80)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the password, open a session and go where the user was heading."""
    try:
        user = accounts_service.authenticate(
            session=session,
            settings=settings,
            username=username,
            password=password,
            client_ip=client_ip(request),
        )
    except (InvalidInput, Forbidden, TooManyAttempts, Unavailable) as exc:
        # Rendering (not raising) lets the request commit, so the failed attempt is kept.
        language = request_language(request)
        page = render(
            request,
            "login.html",
            {
                "next": _safe_next(next),
                "error": translate(language, exc.message, **exc.params),
                "username": username,
            },
            status_code=401 if isinstance(exc, InvalidInput) else exc.status_code,
        )
        if isinstance(exc, TooManyAttempts):
            page.headers["Retry-After"] = str(exc.retry_after_s)
        return page
    token = accounts_service.start_session(
        session=session, settings=settings, user=user, client_ip=client_ip(request)
    )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
    )
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, session: SessionDep, user: SelfUser) -> Response:
    """End the session."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        accounts_service.end_session(session=session, token=token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/language", include_in_schema=False, dependencies=[Depends(verify_csrf)])
def choose_language(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: OptionalUserDep,
    language: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Switch the UI language; remembered on the user (and in a cookie for the login page)."""
    if language not in LANGUAGES:
        raise InvalidInput("unknown language {language}", language=language)
    if user is not None:
        accounts_service.set_language(session=session, user=user, language=language)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        LANGUAGE_COOKIE,
        language,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
    )
    return response


@router.get("/", include_in_schema=False)
def home(user: SelfUser) -> Response:
    """Agents land on their own scorecard (their career plan); staff on the agent list."""
    if allows(user.roles, Permission.AGENTS_LIST):
        return RedirectResponse("/agents", status_code=303)
    if user.agent_id is not None:
        return RedirectResponse(f"/agents/{user.agent_id}/scorecard", status_code=303)
    return RedirectResponse("/account", status_code=303)


def _account_page(
    request: Request, session: Session, user: User, new_token: ApiTokenCreated | None = None
) -> Response:
    return render(
        request,
        "account.html",
        {
            "account": accounts_service.user_read(user),
            "tokens": accounts_service.list_api_tokens(session=session, user=user),
            "new_token": new_token,
        },
    )


@router.get("/account", include_in_schema=False)
def account(request: Request, user: SelfUser, session: SessionDep) -> Response:
    """The user's own account: roles, language, linked agent, access tokens."""
    return _account_page(request, session, user)


@router.post("/account/tokens", include_in_schema=False)
def account_token_create(
    request: Request,
    user: SelfUser,
    session: SessionDep,
    name: Annotated[str, Form(max_length=200)],
    expires_in_days: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Create a token from the account page; its secret is shown on the answer only."""
    days = expires_in_days.strip()
    try:
        token_in = ApiTokenCreate(name=name, expires_in_days=int(days) if days else None)
    except (ValueError, ValidationError) as exc:
        raise InvalidInput("give the token a name, and an expiry of 1 to 3650 days") from exc
    created = accounts_service.create_api_token(session=session, user=user, token_in=token_in)
    return _account_page(request, session, user, new_token=created)


@router.post("/account/tokens/{token_id}/revoke", include_in_schema=False)
def account_token_revoke(token_id: RowId, user: SelfUser, session: SessionDep) -> Response:
    """Revoke one of one's own tokens."""
    accounts_service.revoke_api_token(session=session, acting=user, token_id=token_id)
    return RedirectResponse("/account#tokens", status_code=303)


@router.get("/api/me", response_model=UserRead, tags=["account"], responses=API_ERRORS)
def api_me(user: SelfUser) -> UserRead:
    """The logged-in user."""
    return accounts_service.user_read(user)


@router.get(
    "/api/tokens", response_model=list[ApiTokenRead], tags=["account"], responses=API_ERRORS
)
def api_tokens_list(user: SelfUser, session: SessionDep) -> list[ApiTokenRead]:
    """The logged-in user's personal access tokens (never their secrets)."""
    return accounts_service.list_api_tokens(session=session, user=user)


@router.post(
    "/api/tokens",
    response_model=ApiTokenCreated,
    status_code=201,
    tags=["account"],
    responses=API_ERRORS | error_responses(400),
)
def api_tokens_create(
    token_in: ApiTokenCreate, user: SelfUser, session: SessionDep
) -> ApiTokenCreated:
    """A new personal access token acting with the user's roles; the secret is in this answer
    only. Send it as `Authorization: Bearer <token>`."""
    return accounts_service.create_api_token(session=session, user=user, token_in=token_in)


@router.delete(
    "/api/tokens/{token_id}",
    response_model=ApiTokenRead,
    tags=["account"],
    responses=API_ERRORS | error_responses(404),
)
def api_tokens_revoke(token_id: RowId, user: SelfUser, session: SessionDep) -> ApiTokenRead:
    """Revoke a token (one's own; an admin any user's)."""
    return accounts_service.revoke_api_token(session=session, acting=user, token_id=token_id)


@router.get(
    "/healthz",
    tags=["health"],
    response_model=Health,
    responses={503: {"model": Health, "description": "Not ready: see `status`."}},
)
def healthz(settings: SettingsDep) -> Response:
    """Liveness and schema state: 200 when the database answers and is at the newest revision."""
    try:
        revision = current_revision(settings.resolved_database_url)
    except SQLAlchemyError as exc:
        return JSONResponse({"status": "error", "detail": type(exc).__name__}, status_code=503)
    head = head_revision()
    ok = revision == head
    return JSONResponse(
        {
            "status": "ok" if ok else "migrate",
            "version": __version__,
            "schema": revision,
            "schema_head": head,
        },
        status_code=200 if ok else 503,
    )


@router.get(CHART_SCRIPT_PATH, include_in_schema=False)
def chart_script(
    request: Request, v: Annotated[str | None, Query(max_length=64)] = None
) -> Response:
    """The charts' JavaScript (Vega, Vega-Lite, vega-embed from the vl-convert wheel and our
    embed.js), served by this server so charts draw with no internet: cached for a year under
    its versioned URL (`?v=`), revalidated by ETag otherwise, gzipped when the browser may."""
    version = charts_service.script_version()
    etag = f'"{version}"'
    headers = {
        "ETag": etag,
        "Cache-Control": IMMUTABLE if v == version else "no-cache",
        "Vary": "Accept-Encoding",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    script = charts_service.browser_script()
    media_type = "text/javascript; charset=utf-8"
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(script.gzipped, media_type=media_type, headers=headers)
    return Response(script.body, media_type=media_type, headers=headers)
