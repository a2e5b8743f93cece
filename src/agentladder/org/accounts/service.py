"""Users, roles, passwords (argon2id), login sessions and login throttling."""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload, selectinload

from agentladder.config import Settings
from agentladder.db import utcnow
from agentladder.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyAttempts
from agentladder.org.models import Agent, ApiToken, LoginAttempt, User, UserRole, UserSession
from agentladder.org.schemas import (
    ApiTokenCreate,
    ApiTokenCreated,
    ApiTokenRead,
    DirectoryCheck,
    UserCreate,
    UserRead,
    UserUpdate,
)

if TYPE_CHECKING:
    from agentladder.org.accounts import directory

# Hash something once so that unknown usernames take as long as wrong passwords.
_DUMMY_PASSWORD = "not-a-real-password"  # noqa: S105
# The password of a directory account is checked by the directory: this is no argon2 hash, so
# no password matches it here.
DIRECTORY_PASSWORD_HASH = "!ldap"  # noqa: S105


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)


@lru_cache(maxsize=4)
def _dummy_hash(time_cost: int, memory_kib: int) -> str:
    return _hasher(time_cost, memory_kib).hash(_DUMMY_PASSWORD)


def password_hasher(settings: Settings) -> PasswordHasher:
    """The argon2id hasher with the configured cost."""
    return _hasher(settings.argon2_time_cost, settings.argon2_memory_kib)


def hash_password(password: str, settings: Settings) -> str:
    """An argon2id hash of the password."""
    return password_hasher(settings).hash(password)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def user_read(user: User) -> UserRead:
    """The public shape of a user (never the hash)."""
    return UserRead(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=sorted(user.roles),
        is_active=user.is_active,
        employee_no=user.agent.employee_no if user.agent else None,
        agent_id=user.agent_id,
        language=user.language,
        led_teams=[team.code for team in user.led_teams],
        last_login_at=user.last_login_at,
        auth_source="ldap" if user.auth_source == "ldap" else "local",
    )


def get_user_by_username(*, session: Session, username: str) -> User | None:
    """The user with this username, if any."""
    return session.scalar(select(User).where(User.username == username.strip()))


def get_user_or_raise(*, session: Session, user_id: int) -> User:
    """The user or NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user not found")
    return user


def list_users(*, session: Session) -> list[UserRead]:
    """Every user, by username."""
    query = (
        select(User)
        .options(
            selectinload(User.role_rows), selectinload(User.agent), selectinload(User.led_teams)
        )
        .order_by(User.username)
    )
    return [user_read(user) for user in session.scalars(query)]


def user_names(*, session: Session, usernames_only: bool = False) -> dict[int, str]:
    """Every user's name as pages show it, by user id: the display name, else the username
    (`usernames_only`: the username)."""
    rows = session.execute(select(User.id, User.username, User.display_name))
    return {
        user_id: username if usernames_only else (display_name or username)
        for user_id, username, display_name in rows
    }


def _agent_for(session: Session, employee_no: str | None, user: User | None) -> Agent | None:
    if not employee_no:
        return None
    agent = session.scalar(select(Agent).where(Agent.employee_no == employee_no.strip()))
    if agent is None:
        raise InvalidInput("unknown employee number {no}", no=employee_no)
    holder = session.scalar(select(User).where(User.agent_id == agent.id))
    if holder is not None and holder is not user:
        raise Conflict(
            "agent {no} is already linked to user {username}",
            no=employee_no,
            username=holder.username,
        )
    return agent


def create_user(
    *, session: Session, settings: Settings, user_in: UserCreate, password_hash: str | None = None
) -> User:
    """Create a user with roles; an agent role needs the user's own agent record.

    `password_hash` (a hash of `user_in.password`) saves rehashing when creating many at once.
    """
    if get_user_by_username(session=session, username=user_in.username):
        raise Conflict("user {username} exists", username=user_in.username)
    agent = _agent_for(session, user_in.employee_no, None)
    if "agent" in user_in.roles and agent is None:
        raise InvalidInput("a user with the agent role must be linked to an employee number")
    user = User(
        username=user_in.username,
        display_name=user_in.display_name or (agent.name if agent else user_in.username),
        password_hash=password_hash or hash_password(user_in.password, settings),
        language=user_in.language,
        agent=agent,
        role_rows=[UserRole(role=role) for role in dict.fromkeys(user_in.roles)],
    )
    session.add(user)
    session.flush()
    return user


def update_user(
    *, session: Session, settings: Settings, user_id: int, user_in: UserUpdate, acting: User
) -> User:
    """Change a user's roles, link, status or password; admins cannot lock themselves out."""
    user = get_user_or_raise(session=session, user_id=user_id)
    if user_in.display_name is not None:
        user.display_name = user_in.display_name
    if user_in.employee_no is not None:
        user.agent = _agent_for(session, user_in.employee_no, user)
    if user_in.roles is not None:
        if user is acting and "admin" not in user_in.roles:
            raise InvalidInput("you cannot remove your own admin role")
        user.role_rows = [UserRole(role=role) for role in dict.fromkeys(user_in.roles)]
    if "agent" in user.roles and user.agent is None:
        raise InvalidInput("a user with the agent role must be linked to an employee number")
    if user_in.is_active is not None:
        if user is acting and not user_in.is_active:
            raise InvalidInput("you cannot deactivate yourself")
        user.is_active = user_in.is_active
        if not user.is_active:
            session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    if user_in.password is not None:
        if user.auth_source == "ldap" and settings.ldap_enabled:
            raise InvalidInput("the password of a directory account is changed in the directory")
        # With directory sign-in off, a new password makes a directory account local again.
        user.auth_source = "local"
        user.password_hash = hash_password(user_in.password, settings)
        # A new password ends every other session of that user.
        session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    session.flush()
    return user


def set_language(*, session: Session, user: User, language: str) -> None:
    """Remember the user's language."""
    user.language = language
    session.flush()


def _failures_since(
    session: Session, settings: Settings, column: InstrumentedAttribute[str], value: str
) -> Any:
    """The failed logins for this username or address since the window opened or the last
    success, as a select."""
    since = utcnow() - timedelta(minutes=settings.login_lockout_minutes)
    last_success = session.scalar(
        select(func.max(LoginAttempt.attempted_at)).where(
            column == value, LoginAttempt.succeeded.is_(True)
        )
    )
    if last_success is not None and last_success > since:
        since = last_success
    return select(func.count(), func.max(LoginAttempt.attempted_at)).where(
        column == value,
        LoginAttempt.succeeded.is_(False),
        LoginAttempt.attempted_at > since,
    )


def address_wait_s(
    *, session: Session, settings: Settings, client_ip: str, now: datetime | None = None
) -> float:
    """Seconds this address must still wait before its next login try: none until
    `login_address_max_failures` failures in the window, then a wait that doubles with each
    further failure, up to `login_address_backoff_max_s`."""
    failures, last_failure = session.execute(
        _failures_since(session, settings, LoginAttempt.client_ip, client_ip)
    ).one()
    excess = int(failures or 0) - settings.login_address_max_failures
    if excess < 0 or last_failure is None:
        return 0.0
    wait_s: float = min(
        settings.login_address_backoff_s * 2.0 ** min(excess, 30),
        settings.login_address_backoff_max_s,
    )
    elapsed_s: float = ((now or utcnow()) - last_failure).total_seconds()
    return max(0.0, wait_s - elapsed_s)


def _refuse_if_throttled(
    session: Session, settings: Settings, username: str, client_ip: str
) -> None:
    user_failures, _ = session.execute(
        _failures_since(session, settings, LoginAttempt.username, username)
    ).one()
    if user_failures >= settings.login_max_failures:
        raise TooManyAttempts(
            "too many failed logins; try again in {minutes} minutes",
            retry_after_s=60 * settings.login_lockout_minutes,
            minutes=settings.login_lockout_minutes,
        )
    wait_s = address_wait_s(session=session, settings=settings, client_ip=client_ip)
    if wait_s > 0:
        raise TooManyAttempts(
            "too many failed logins from this address; try again in {seconds} seconds",
            retry_after_s=math.ceil(wait_s),
            seconds=math.ceil(wait_s),
        )


def _record_attempt(session: Session, username: str, client_ip: str, succeeded: bool) -> None:
    session.add(LoginAttempt(username=username[:80], client_ip=client_ip[:64], succeeded=succeeded))
    session.flush()


def _is_local_admin(user: User | None) -> bool:
    return user is not None and user.auth_source == "local" and "admin" in user.roles


def authenticate(
    *, session: Session, settings: Settings, username: str, password: str, client_ip: str
) -> User:
    """The user whose password this is; throttled per username and per client address.

    Every try is recorded. After `login_max_failures` failures within the lockout window a
    username is refused until the window passes; an address is slowed down (`address_wait_s`).
    With directory sign-in on, the directory checks everyone but local administrators, who
    keep working when the directory is down (`sign_in_through_directory`).
    """
    username = username.strip()
    _refuse_if_throttled(session, settings, username, client_ip)
    user = get_user_by_username(session=session, username=username)
    if settings.ldap_enabled and not _is_local_admin(user):
        return sign_in_through_directory(
            session=session,
            settings=settings,
            username=username,
            password=password,
            client_ip=client_ip,
        )
    hasher = password_hasher(settings)
    ok = False
    try:
        if user is None:
            dummy = _dummy_hash(settings.argon2_time_cost, settings.argon2_memory_kib)
            hasher.verify(dummy, password + "x")
        else:
            ok = hasher.verify(user.password_hash, password) and user.is_active
    except (VerificationError, InvalidHashError):
        ok = False
    _record_attempt(session, username, client_ip, ok)
    if not ok or user is None:
        raise InvalidInput("wrong username or password")
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    user.last_login_at = utcnow()
    return user


def sign_in_through_directory(
    *, session: Session, settings: Settings, username: str, password: str, client_ip: str
) -> User:
    """The local user of the directory entry this username or employee number names, once the
    directory accepts the password; created or updated from the entry (`sync_directory_user`).

    Wrong passwords and unknown names are recorded as failures, as local ones are; a directory
    that cannot be reached raises Unavailable and records nothing: an outage is nobody's guess.
    """
    # The directory client (ldap3) loads only when the directory is asked.
    from agentladder.org.accounts import directory

    entry = directory.find_user(settings=settings, username=username)
    ok = entry is not None and directory.verify_password(
        settings=settings, user=entry, password=password
    )
    if not ok or entry is None:
        _record_attempt(session, username, client_ip, False)
        raise InvalidInput("wrong username or password")
    try:
        user = sync_directory_user(session=session, entry=entry)
    except (Forbidden, InvalidInput):
        _record_attempt(session, username, client_ip, False)
        raise
    _record_attempt(session, username, client_ip, True)
    user.last_login_at = utcnow()
    return user


def _directory_agent(session: Session, entry: directory.DirectoryUser) -> Agent | None:
    if not entry.employee_no:
        return None
    return session.scalar(select(Agent).where(Agent.employee_no == entry.employee_no))


def sync_directory_user(*, session: Session, entry: directory.DirectoryUser) -> User:
    """Create or update the local user of a directory entry: its roles, name and agent link.

    The local user is the one with the entry's username, else the one linked to the agent with
    the entry's employee number (an account made before sign-in moved to the directory). Such
    a local account becomes directory-managed, except a local administrator, which stays the
    fallback and is never taken over. A directory employee number that names an agent sets the
    link; without one the link stays as an administrator set it.
    """
    agent = _directory_agent(session, entry)
    user = get_user_by_username(session=session, username=entry.username)
    if user is None and agent is not None:
        user = session.scalar(select(User).where(User.agent_id == agent.id))
    if _is_local_admin(user):
        assert user is not None
        raise Forbidden(
            "the directory account {username} matches the local administrator {local}; an "
            "administrator must rename one of them",
            username=entry.username,
            local=user.username,
        )
    if user is not None and not user.is_active:
        raise InvalidInput("wrong username or password")
    if agent is not None:
        holder = session.scalar(select(User).where(User.agent_id == agent.id))
        if holder is not None and holder is not user:
            raise Forbidden(
                "employee number {no} is linked to another user, {username}; ask an administrator",
                no=agent.employee_no,
                username=holder.username,
            )
    roles = entry.roles
    if user is not None:
        # Kept rows stay rows: a role dropped and added back in one flush would clash.
        user.role_rows = [row for row in user.role_rows if row.role in roles] + [
            UserRole(role=role) for role in sorted(roles - user.roles)
        ]
        session.flush()
    if not roles:
        raise Forbidden(
            "your directory account is in no group that gives a role in agentladder; ask an "
            "administrator"
        )
    if "agent" in roles and agent is None and (user is None or user.agent is None):
        if entry.employee_no:
            raise Forbidden(
                "no agent has the employee number {no} of your directory account; ask an "
                "administrator to import the roster",
                no=entry.employee_no,
            )
        raise Forbidden(
            "the agent role needs an employee number in your directory account; ask an "
            "administrator"
        )
    if user is None:
        user = User(
            username=entry.username,
            display_name=entry.display_name,
            password_hash=DIRECTORY_PASSWORD_HASH,
            auth_source="ldap",
            agent=agent,
            role_rows=[UserRole(role=role) for role in sorted(roles)],
        )
        session.add(user)
    else:
        user.auth_source = "ldap"
        user.password_hash = DIRECTORY_PASSWORD_HASH
        user.display_name = entry.display_name
        if agent is not None:
            user.agent = agent
    session.flush()
    return user


def check_directory(*, settings: Settings, username: str, password: str | None) -> DirectoryCheck:
    """What the directory says about a username or employee number: entry, groups, roles and,
    given a password, whether it is accepted. Changes nothing."""
    if not settings.ldap_enabled:
        raise InvalidInput("directory sign-in is off: set AGENTLADDER_LDAP_URL")
    from agentladder.org.accounts import directory

    entry = directory.find_user(settings=settings, username=username)
    if entry is None:
        return DirectoryCheck(typed=username, found=False)
    accepted = (
        None
        if password is None
        else directory.verify_password(settings=settings, user=entry, password=password)
    )
    return DirectoryCheck(
        typed=username,
        found=True,
        dn=entry.dn,
        username=entry.username,
        employee_no=entry.employee_no,
        display_name=entry.display_name,
        groups=list(entry.group_dns),
        roles=sorted(entry.roles),
        password_accepted=accepted,
    )


def start_session(*, session: Session, settings: Settings, user: User, client_ip: str) -> str:
    """Open a login session and return its token (only the token's hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.execute(delete(UserSession).where(UserSession.expires_at < now))
    session.add(
        UserSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            expires_at=now + timedelta(hours=settings.session_hours),
            client_ip=client_ip[:64],
        )
    )
    session.flush()
    return token


def resolve_session(*, session: Session, token: str) -> User | None:
    """The active user behind a session token, or None when it is unknown or expired."""
    # One query (joined, not select-in loads): every request of a signed-in user runs it.
    row = (
        session.execute(
            select(UserSession)
            .where(UserSession.token_hash == _token_hash(token))
            .options(
                joinedload(UserSession.user).joinedload(User.role_rows),
                joinedload(UserSession.user).joinedload(User.led_teams),
            )
        )
        .unique()
        .scalar_one_or_none()
    )
    if row is None or row.expires_at <= utcnow() or not row.user.is_active:
        return None
    return row.user


def end_session(*, session: Session, token: str) -> None:
    """Log a session out."""
    session.execute(delete(UserSession).where(UserSession.token_hash == _token_hash(token)))
    session.flush()


# Prefix that makes a leaked token recognisable (secret scanners, logs).
API_TOKEN_PREFIX = "alt_"  # noqa: S105 (a label, not a secret)
# last_used_at is written at most this often per token: scripts call in loops.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def create_api_token(*, session: Session, user: User, token_in: ApiTokenCreate) -> ApiTokenCreated:
    """A new personal access token for `user`; the secret is returned once, only its hash
    kept."""
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    row = ApiToken(
        user_id=user.id,
        name=token_in.name,
        token_hash=_token_hash(secret),
        prefix=secret[:12],
        created_at=now,
        expires_at=(
            now + timedelta(days=token_in.expires_in_days) if token_in.expires_in_days else None
        ),
    )
    session.add(row)
    session.flush()
    return ApiTokenCreated(**ApiTokenRead.model_validate(row).model_dump(), token=secret)


def list_api_tokens(*, session: Session, user: User) -> list[ApiTokenRead]:
    """A user's tokens, newest first, revoked ones included (they say when)."""
    rows = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
    )
    return [ApiTokenRead.model_validate(row) for row in rows]


def revoke_api_token(*, session: Session, acting: User | None, token_id: int) -> ApiTokenRead:
    """Revoke a token: its owner or an admin may (`acting` None: the operator on the command
    line); anyone else is told it does not exist."""
    row = session.get(ApiToken, token_id)
    if row is None or (
        acting is not None and row.user_id != acting.id and "admin" not in acting.roles
    ):
        raise NotFound("token not found")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return ApiTokenRead.model_validate(row)


def resolve_api_token(*, session: Session, token: str) -> User | None:
    """The active user a bearer token acts as, or None for an unknown, revoked or expired
    token; records when it was last used."""
    if not token.startswith(API_TOKEN_PREFIX) or not token.isascii():
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    now = utcnow()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    if not row.user.is_active:
        return None
    if row.last_used_at is None or now - row.last_used_at >= _LAST_USED_RESOLUTION:
        row.last_used_at = now
        session.flush()
    return row.user


def generate_password() -> str:
    """A random password that people can type."""
    return secrets.token_urlsafe(12)
