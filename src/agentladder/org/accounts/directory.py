"""Sign-in against an LDAP directory (OpenLDAP, Active Directory) with ldap3.

The rules:
- The service account (`ldap_bind_dn`; anonymous without one) searches `ldap_user_base` with
  `ldap_user_filter`, whose `{username}` is what the person typed, escaped (RFC 4515): a
  username or an employee number. Exactly one entry must match; two are refused, never guessed.
- The password is checked by binding as that entry. An empty password is refused first: an
  LDAP simple bind without a password is an unauthenticated bind that succeeds (RFC 4513 5.1.2).
- A person's groups are the entry's `memberOf` values (Active Directory, OpenLDAP's memberof
  overlay) and, when `ldap_group_base` is set, the groups `ldap_group_filter` finds there
  (`{user_dn}` and `{username}` in it are the entry's DN and its username).
- `ldap_role_groups` maps a group, named by its DN or by its cn, to roles; a person holds the
  roles of all their groups. DNs are compared case-insensitively, spaces after commas ignored.
- Every network failure, and a service account the directory refuses, is `Unavailable`: the
  login page says the directory cannot be reached, the log says why.
"""

from __future__ import annotations

import logging
import math
import ssl
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from ldap3 import NONE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import parse_dn

from agentladder.config import Settings
from agentladder.errors import InvalidInput, Unavailable
from agentladder.i18n import N_
from agentladder.org.schemas import ROLES

log = logging.getLogger(__name__)

# RFC 4511 resultCode invalidCredentials: a wrong password (or an unknown bind DN).
_INVALID_CREDENTIALS = 49
UNREACHABLE = N_("the sign-in directory cannot be reached; try again later or ask an administrator")


@dataclass(frozen=True)
class DirectoryUser:
    """A person as the directory describes them, with the roles their groups give."""

    dn: str
    username: str
    employee_no: str | None
    display_name: str
    group_dns: tuple[str, ...]
    roles: frozenset[str]


def dn_key(dn: str) -> str:
    """A DN in the form two spellings of it share: lower case, no spaces around separators."""
    try:
        parts = parse_dn(dn.strip(), strip=True)
    except LDAPException:
        return dn.strip().lower()
    return ",".join(f"{attribute.lower()}={value.lower()}" for attribute, value, _ in parts)


def _group_cn(dn: str) -> str | None:
    try:
        attribute, value, _ = parse_dn(dn.strip(), strip=True)[0]
    except (LDAPException, IndexError):
        return None
    return value.lower() if attribute.lower() == "cn" else None


def role_groups(settings: Settings) -> dict[str, frozenset[str]]:
    """`ldap_role_groups` with each group as a key to compare (a DN key or a lower-case cn);
    InvalidInput names a role that does not exist."""
    mapping: dict[str, frozenset[str]] = {}
    for group, roles in settings.ldap_role_groups.items():
        unknown = sorted(set(roles) - set(ROLES))
        if unknown:
            raise InvalidInput(
                "AGENTLADDER_LDAP_ROLE_GROUPS gives group {group} the unknown role {role}",
                group=group,
                role=unknown[0],
            )
        key = dn_key(group) if "=" in group else group.strip().lower()
        mapping[key] = mapping.get(key, frozenset()) | frozenset(roles)
    return mapping


def roles_of(group_dns: tuple[str, ...], mapping: Mapping[str, frozenset[str]]) -> frozenset[str]:
    """The roles the groups give, matched by DN or by cn."""
    roles: frozenset[str] = frozenset()
    for dn in group_dns:
        roles |= mapping.get(dn_key(dn), frozenset())
        cn = _group_cn(dn)
        if cn is not None:
            roles |= mapping.get(cn, frozenset())
    return roles


def _server(settings: Settings) -> Server:
    url = (settings.ldap_url or "").strip()
    tls = None
    if settings.ldap_start_tls or url.lower().startswith("ldaps:"):
        tls = Tls(
            validate=ssl.CERT_REQUIRED,
            ca_certs_file=str(settings.ldap_ca_file) if settings.ldap_ca_file else None,
        )
    return Server(url, get_info=NONE, tls=tls, connect_timeout=settings.ldap_timeout_s)


@contextmanager
def _bound(settings: Settings, dn: str | None, password: str | None) -> Iterator[Connection | None]:
    """A connection bound as `dn` (None: anonymous), or None when the directory refuses the
    password; closed on leaving."""
    connection = Connection(
        _server(settings),
        user=dn,
        password=password,
        read_only=True,
        auto_referrals=False,
        # ldap3 sets SO_RCVTIMEO from it, which takes whole seconds.
        receive_timeout=max(1, math.ceil(settings.ldap_timeout_s)),
        raise_exceptions=False,
    )
    try:
        connection.open()
        if settings.ldap_start_tls and not connection.start_tls():
            raise LDAPException(f"StartTLS refused: {connection.result}")
        if not connection.bind():
            if connection.result.get("result") == _INVALID_CREDENTIALS:
                yield None
                return
            raise Unavailable(UNREACHABLE) from _bind_error(connection)
        yield connection
    finally:
        if not connection.closed:
            connection.unbind()


def _bind_error(connection: Connection) -> LDAPException:
    result = connection.result or {}
    return LDAPException(f"bind refused: {result.get('description')} {result.get('message')}")


def _search(
    connection: Connection, base: str, query: str, attributes: list[str] | None, limit: int
) -> list[tuple[str, Mapping[str, Any]]]:
    connection.search(
        base,
        query,
        search_scope=SUBTREE,
        attributes=attributes,
        size_limit=limit,
    )
    # sizeLimitExceeded (4) still returns the entries found: the caller counts them.
    if connection.result.get("result") not in (0, 4):
        raise LDAPException(f"search refused: {connection.result.get('description')}")
    return [
        (item["dn"], item.get("attributes", {}))
        for item in connection.response or []
        if item.get("type") == "searchResEntry"
    ]


def _values(attributes: Mapping[str, Any], name: str) -> list[str]:
    value = attributes.get(name)
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [str(item) for item in items if str(item).strip()]


def _first(attributes: Mapping[str, Any], name: str) -> str | None:
    values = _values(attributes, name)
    return values[0].strip() if values else None


def _service_connection(settings: Settings) -> AbstractContextManager[Connection | None]:
    return _bound(settings, settings.ldap_bind_dn or None, settings.ldap_bind_password or None)


def _entry_to_user(
    settings: Settings,
    connection: Connection,
    dn: str,
    attributes: Mapping[str, Any],
    mapping: Mapping[str, frozenset[str]],
) -> DirectoryUser:
    username = _first(attributes, settings.ldap_username_attribute)
    if username is None:
        raise LDAPException(f"{dn} has no {settings.ldap_username_attribute}")
    groups = dict.fromkeys(_values(attributes, "memberOf"))
    if settings.ldap_group_base:
        query = settings.ldap_group_filter.replace("{user_dn}", escape_filter_chars(dn)).replace(
            "{username}", escape_filter_chars(username)
        )
        for group_dn, _ in _search(connection, settings.ldap_group_base, query, None, 0):
            groups.setdefault(group_dn)
    group_dns = tuple(groups)
    return DirectoryUser(
        dn=dn,
        username=username,
        employee_no=_first(attributes, settings.ldap_employee_no_attribute),
        display_name=_first(attributes, settings.ldap_display_name_attribute) or username,
        group_dns=group_dns,
        roles=roles_of(group_dns, mapping),
    )


def find_user(*, settings: Settings, username: str) -> DirectoryUser | None:
    """The one directory entry matching a username or employee number, with its groups and
    roles; None when no entry (or more than one) matches."""
    mapping = role_groups(settings)
    query = settings.ldap_user_filter.replace("{username}", escape_filter_chars(username.strip()))
    attributes = [
        settings.ldap_username_attribute,
        settings.ldap_employee_no_attribute,
        settings.ldap_display_name_attribute,
        "memberOf",
    ]
    try:
        with _service_connection(settings) as connection:
            if connection is None:
                raise Unavailable(UNREACHABLE) from LDAPException(
                    "the directory refused the service account (AGENTLADDER_LDAP_BIND_DN)"
                )
            entries = _search(connection, settings.ldap_user_base, query, attributes, 2)
            if len(entries) != 1:
                if entries:
                    log.warning("LDAP filter %s matches more than one entry; refused", query)
                return None
            dn, found = entries[0]
            return _entry_to_user(settings, connection, dn, found, mapping)
    except Unavailable as exc:
        log.warning("LDAP sign-in unavailable: %s", exc.__cause__)
        raise
    except (LDAPException, OSError) as exc:
        log.warning("LDAP sign-in unavailable: %s", exc)
        raise Unavailable(UNREACHABLE) from exc


def verify_password(*, settings: Settings, user: DirectoryUser, password: str) -> bool:
    """Whether the directory accepts this password for the entry (a bind as it)."""
    if not password:
        return False
    try:
        with _bound(settings, user.dn, password) as connection:
            return connection is not None
    except Unavailable as exc:
        log.warning("LDAP sign-in unavailable: %s", exc.__cause__)
        raise
    except (LDAPException, OSError) as exc:
        log.warning("LDAP sign-in unavailable: %s", exc)
        raise Unavailable(UNREACHABLE) from exc
