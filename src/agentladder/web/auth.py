"""Request dependencies: database session, current user, permission checks and CSRF.

Every route depends on `requires(Permission.X)` (or is listed as public), so the permission
matrix is enforced in one place and tests can enumerate what each route needs.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from typing import Annotated, Any
from weakref import WeakKeyDictionary

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from agentladder.config import Language, Settings
from agentladder.db import session_scope
from agentladder.errors import DomainError, Forbidden
from agentladder.i18n import normalize_language
from agentladder.org.accounts import service as accounts_service
from agentladder.org.models import User
from agentladder.org.schemas import Permission, allows

SESSION_COOKIE = "al_session"
CSRF_COOKIE = "al_csrf"
LANGUAGE_COOKIE = "al_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(DomainError):
    """No valid session: pages redirect to the login page, the API answers 401."""

    status_code = 401


class CsrfFailed(DomainError):
    """The form or header token does not match the cookie."""

    status_code = 403


def get_settings_dep(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


# A worker runs sync dependencies and routes in anyio's 40 threads but holds 15 database
# connections (SQLAlchemy's pool: 5 + 10 overflow). A request takes its connection in one thread
# (finding the user) and needs another thread for the route: with more requests in flight than
# connections, every thread can end up waiting for a connection held by a request that waits for
# a thread, until the pool's 30 s timeout fails them (benchmarks/exam_day.py: 300 agents answering
# an exam on two workers stalled so). Requests beyond the pool wait here, in the event loop.
DB_REQUESTS_IN_FLIGHT = 15
_DB_GATES: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = WeakKeyDictionary()


async def _db_slot() -> AsyncIterator[None]:
    """Hold one of the worker's database slots for the request."""
    loop = asyncio.get_running_loop()
    gate = _DB_GATES.get(loop)
    if gate is None:
        gate = _DB_GATES[loop] = asyncio.Semaphore(DB_REQUESTS_IN_FLIGHT)
    async with gate:
        yield


def get_db(
    request: Request, _slot: Annotated[None, Depends(_db_slot, scope="function")]
) -> Iterator[Session]:
    """One session per request, committed when the route returns without error."""
    with session_scope(request.app.state.settings) as session:
        yield session


# scope="function": commit before the response leaves, so a redirect never outruns its write.
SessionDep = Annotated[Session, Depends(get_db, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def csrf_nonce(request: Request) -> str:
    """The browser's CSRF nonce (set by the middleware when it has none yet)."""
    nonce: str = request.state.csrf_nonce
    return nonce


def csrf_token_for(nonce: str, settings: Settings) -> str:
    """The token forms carry: an HMAC of the cookie nonce, so a planted cookie cannot forge it."""
    key = settings.resolved_secret_key().encode()
    return hmac.new(key, nonce.encode(), hashlib.sha256).hexdigest()


def new_csrf_nonce() -> str:
    """A fresh nonce for the CSRF cookie."""
    return secrets.token_urlsafe(24)


async def verify_csrf(request: Request) -> None:
    """Refuse an unsafe request whose token (form field or header) does not match the cookie."""
    if request.method in SAFE_METHODS or getattr(request.state, "bearer_auth", False):
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    nonce = request.cookies.get(CSRF_COOKIE)
    expected = csrf_token_for(nonce, request.app.state.settings) if nonce else None
    if not sent or expected is None or not hmac.compare_digest(sent, expected):
        raise CsrfFailed("the form has expired or did not come from this site; reload and retry")


@dataclass(frozen=True)
class Viewer:
    """Who is looking, as the page frame needs it; outlives the request's database session
    (error pages render after it has closed)."""

    id: int
    username: str
    display_name: str
    roles: frozenset[str]
    agent_id: int | None
    language: str | None


def viewer(request: Request) -> Viewer | None:
    """The logged-in user of this request, if any."""
    found: Viewer | None = getattr(request.state, "viewer", None)
    return found


# Scripts authenticate with a personal access token (Authorization: Bearer alt_...); declared
# here so the OpenAPI document lists it as the API's security scheme.
BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="PersonalAccessToken",
    description="A personal access token from /account or `agentladder users token create`.",
)
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]


def current_user_optional(request: Request, session: SessionDep, bearer: BearerDep) -> User | None:
    """The user of a bearer token when the request carries one, else the logged-in user, or
    None."""
    if bearer is not None:
        # A browser never sends this header cross-site on its own: no CSRF token is needed.
        request.state.bearer_auth = True
        user = accounts_service.resolve_api_token(session=session, token=bearer.credentials)
    else:
        token = request.cookies.get(SESSION_COOKIE)
        user = accounts_service.resolve_session(session=session, token=token) if token else None
    request.state.viewer = (
        Viewer(user.id, user.username, user.display_name, user.roles, user.agent_id, user.language)
        if user
        else None
    )
    return user


OptionalUserDep = Annotated[User | None, Depends(current_user_optional)]


def request_language(request: Request) -> Language:
    """The user's chosen language, else the cookie, else the browser's, else the default."""
    settings: Settings = request.app.state.settings
    user = viewer(request)
    chosen = (user.language if user else None) or request.cookies.get(LANGUAGE_COOKIE)
    if chosen:
        return normalize_language(chosen, settings.default_language)
    accept = request.headers.get("accept-language", "").split(",")[0]
    return normalize_language(accept, settings.default_language)


PermissionDependency = Callable[..., Coroutine[Any, Any, User]]


def requires(permission: Permission) -> PermissionDependency:
    """A dependency that lets the request through only for a user whose roles grant `permission`;
    unsafe methods must also carry the CSRF token."""

    async def dependency(request: Request, user: OptionalUserDep) -> User:
        if user is None:
            raise LoginRequired("please log in")
        await verify_csrf(request)
        if not allows(user.roles, permission):
            raise Forbidden("you do not have permission for this page")
        return user

    dependency.permission = permission  # type: ignore[attr-defined]
    return dependency


def route_permission(route: APIRoute) -> Permission | None:
    """The permission a route declares through `requires`, or None for a public route."""
    stack = list(route.dependant.dependencies)
    while stack:
        dependant = stack.pop()
        permission = getattr(dependant.call, "permission", None)
        if isinstance(permission, Permission):
            return permission
        stack.extend(dependant.dependencies)
    return None


# One alias per permission, so a route's signature says what it needs.
SelfUser = Annotated[User, Depends(requires(Permission.SELF))]
AgentsListUser = Annotated[User, Depends(requires(Permission.AGENTS_LIST))]
AgentsViewUser = Annotated[User, Depends(requires(Permission.AGENTS_VIEW))]
AgentsEditUser = Annotated[User, Depends(requires(Permission.AGENTS_EDIT))]
TeamsViewUser = Annotated[User, Depends(requires(Permission.TEAMS_VIEW))]
TeamsManageUser = Annotated[User, Depends(requires(Permission.TEAMS_MANAGE))]
RosterImportUser = Annotated[User, Depends(requires(Permission.ROSTER_IMPORT))]
UsersManageUser = Annotated[User, Depends(requires(Permission.USERS_MANAGE))]
ImportsManageUser = Annotated[User, Depends(requires(Permission.IMPORTS_MANAGE))]
MetricsViewUser = Annotated[User, Depends(requires(Permission.METRICS_VIEW))]
EvidenceImportUser = Annotated[User, Depends(requires(Permission.EVIDENCE_IMPORT))]
LadderViewUser = Annotated[User, Depends(requires(Permission.LADDER_VIEW))]
LadderTeamUser = Annotated[User, Depends(requires(Permission.LADDER_TEAM))]
LadderReportsUser = Annotated[User, Depends(requires(Permission.LADDER_REPORTS))]
LadderRunUser = Annotated[User, Depends(requires(Permission.LADDER_RUN))]
LadderDecideUser = Annotated[User, Depends(requires(Permission.LADDER_DECIDE))]
LadderPolicyUser = Annotated[User, Depends(requires(Permission.LADDER_POLICY))]
LadderAppealUser = Annotated[User, Depends(requires(Permission.LADDER_APPEAL))]
QaDashboardUser = Annotated[User, Depends(requires(Permission.QA_DASHBOARD))]
QaImportUser = Annotated[User, Depends(requires(Permission.QA_IMPORT))]
QualitySamplesUser = Annotated[User, Depends(requires(Permission.QUALITY_SAMPLES))]
QaCalibrationUser = Annotated[User, Depends(requires(Permission.QA_CALIBRATION))]
QaEvaluateUser = Annotated[User, Depends(requires(Permission.QA_EVALUATE))]
QaViewUser = Annotated[User, Depends(requires(Permission.QA_VIEW))]
QaOwnUser = Annotated[User, Depends(requires(Permission.QA_OWN))]
QaReviewUser = Annotated[User, Depends(requires(Permission.QA_REVIEW))]
AutoqaViewUser = Annotated[User, Depends(requires(Permission.AUTOQA_VIEW))]


@lru_cache(maxsize=16)
def _trusted_networks(ranges: tuple[str, ...]) -> tuple[IPv4Network | IPv6Network, ...]:
    return tuple(ip_network(text.strip(), strict=False) for text in ranges if text.strip())


def _is_trusted(address: str, networks: tuple[IPv4Network | IPv6Network, ...]) -> bool:
    try:
        parsed = ip_address(address.strip())
    except ValueError:
        return False
    return any(parsed in network for network in networks)


def client_ip(request: Request) -> str:
    """The client's address: the peer, unless the peer is a trusted proxy; then the nearest
    X-Forwarded-For hop that is not one (a client cannot forge past a trusted proxy)."""
    peer = request.client.host if request.client else "unknown"
    settings = request.app.state.settings
    networks = _trusted_networks(tuple(settings.trusted_proxies))
    if not networks or not _is_trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in request.headers.get("x-forwarded-for", "").split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        if not _is_trusted(hop, networks):
            return hop[:64]
    return peer
