"""Sign-in through an LDAP directory, against a real slapd (tests/ldap_server.py)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from agentladder.cli import app
from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.errors import InvalidInput, Unavailable
from agentladder.i18n import translate
from agentladder.org.accounts import directory
from agentladder.org.accounts import service as accounts_service
from agentladder.org.models import LoginAttempt, User
from agentladder.org.schemas import UserUpdate
from agentladder.web.app import create_app
from agentladder.web.auth import LANGUAGE_COOKIE, SESSION_COOKIE
from tests.factories import PASSWORD, csrf_token, login, make_agent, make_user
from tests.ldap_server import (
    GROUPS_BASE,
    PEOPLE_BASE,
    SERVICE_DN,
    SERVICE_PASSWORD,
    USER_PASSWORD,
    LdapDirectory,
    group_dn,
    person_dn,
)

ROLE_GROUPS = {
    # By DN, spelled as an administrator might: case and spaces differ from the directory's.
    "CN=agentladder-agents, OU=groups, DC=example, DC=com": ["agent"],
    # By cn: a groupOfNames, a POSIX group (memberUid) and one that nobody is in yet.
    "agentladder-leads": ["team_lead"],
    "quality": ["qa"],
    "agentladder-admins": ["admin", "manager"],
}


def directory_settings(settings: Settings, ldap: LdapDirectory, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "ldap_url": ldap.url,
        "ldap_bind_dn": SERVICE_DN,
        "ldap_bind_password": SERVICE_PASSWORD,
        "ldap_user_base": PEOPLE_BASE,
        "ldap_group_base": GROUPS_BASE,
        "ldap_role_groups": ROLE_GROUPS,
        "ldap_timeout_s": 2.0,
    }
    values.update(overrides)
    return settings.model_copy(update=values)


def post_login(client: TestClient, username: str, password: str) -> tuple[int, str]:
    response = client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": csrf_token(client),
            "next": "/",
        },
        follow_redirects=False,
    )
    return response.status_code, response.text


def user_named(settings: Settings, username: str) -> User | None:
    with session_scope(settings) as db:
        user = db.scalar(select(User).where(User.username == username))
        if user is not None:
            db.expunge(user)
        return user


def roles_of(settings: Settings, username: str) -> set[str]:
    with session_scope(settings) as db:
        user = accounts_service.get_user_by_username(session=db, username=username)
        assert user is not None
        return set(user.roles)


def test_directory_user_logs_in_through_the_form_and_gets_mapped_roles(
    settings: Settings, session: Session, ldap_directory: LdapDirectory
) -> None:
    agent = make_agent(session, employee_no="A200", name="赵磊")
    session.commit()
    configured = directory_settings(settings, ldap_directory)
    client = TestClient(create_app(configured))

    status, _ = post_login(client, "zhao.lei", USER_PASSWORD)

    assert status == 303
    assert SESSION_COOKIE in client.cookies
    assert client.get("/api/me").json()["username"] == "zhao.lei"
    user = user_named(configured, "zhao.lei")
    assert user is not None
    assert user.auth_source == "ldap"
    assert user.display_name == "赵磊"
    assert user.agent_id == agent.id
    # agent: member of a group named by DN (read from memberOf); team_lead: by cn; qa: a POSIX
    # group found by the group search.
    assert roles_of(configured, "zhao.lei") == {"agent", "team_lead", "qa"}


def test_group_change_updates_roles_at_the_next_login(
    settings: Settings, session: Session, ldap_directory: LdapDirectory
) -> None:
    make_agent(session, employee_no="A100", name="李娜")
    session.commit()
    configured = directory_settings(settings, ldap_directory)
    assert post_login(TestClient(create_app(configured)), "li.na", USER_PASSWORD)[0] == 303
    assert roles_of(configured, "li.na") == {"agent"}

    ldap_directory.add_member("agentladder-leads", "li.na")
    assert post_login(TestClient(create_app(configured)), "li.na", USER_PASSWORD)[0] == 303
    assert roles_of(configured, "li.na") == {"agent", "team_lead"}

    ldap_directory.remove_member("agentladder-agents", "li.na")
    ldap_directory.remove_member("agentladder-leads", "li.na")
    status, page = post_login(TestClient(create_app(configured)), "li.na", USER_PASSWORD)
    assert status == 403
    assert (
        translate(
            "zh_Hans",
            "your directory account is in no group that gives a role in "
            "agentladder; ask an administrator",
        )
        in page
    )
    assert roles_of(configured, "li.na") == set()


def test_wrong_password_fails_and_counts_towards_throttling(
    settings: Settings, session: Session, ldap_directory: LdapDirectory
) -> None:
    make_agent(session, employee_no="A100", name="李娜")
    session.commit()
    configured = directory_settings(settings, ldap_directory)
    client = TestClient(create_app(configured))
    wrong = translate("zh_Hans", "wrong username or password")
    for _ in range(configured.login_max_failures):
        status, page = post_login(client, "li.na", "not-her-password")
        assert status == 401
        assert wrong in page
    # The right password no longer helps while the username is locked.
    assert post_login(client, "li.na", USER_PASSWORD)[0] == 429
    assert user_named(configured, "li.na") is None
    # An empty password would be an anonymous bind, which a directory accepts.
    assert post_login(TestClient(create_app(configured)), "A100", "")[0] in (401, 422)
    with session_scope(configured) as db:
        attempts = db.scalars(select(LoginAttempt).where(LoginAttempt.username == "li.na"))
        assert [attempt.succeeded for attempt in attempts] == [False] * 5


def test_unknown_names_and_filter_characters_find_nobody(
    settings: Settings, ldap_directory: LdapDirectory
) -> None:
    configured = directory_settings(settings, ldap_directory)
    assert directory.find_user(settings=configured, username="nobody.here") is None
    # Typed filter syntax is escaped, never read as a wildcard or a second condition.
    assert directory.find_user(settings=configured, username="*") is None
    assert directory.find_user(settings=configured, username="li.na)(uid=*") is None
    assert post_login(TestClient(create_app(configured)), "nobody.here", "x" * 12)[0] == 401


def test_directory_down_local_admin_still_logs_in(
    settings: Settings, session: Session, ldap_directory: LdapDirectory
) -> None:
    make_user(session, settings, "admin", ["admin"])
    make_user(session, settings, "manager", ["manager"])
    session.commit()
    configured = directory_settings(settings, ldap_directory)
    ldap_directory.stop()
    client = TestClient(create_app(configured))

    status, page = post_login(client, "li.na", USER_PASSWORD)
    assert status == 503
    assert translate("zh_Hans", directory.UNREACHABLE) in page
    assert "Traceback" not in page
    # A local account that is no administrator signs in through the directory only.
    assert post_login(client, "manager", PASSWORD)[0] == 503
    assert post_login(client, "admin", PASSWORD)[0] == 303
    # An outage is nobody's failed guess: nothing is recorded against li.na.
    with session_scope(configured) as db:
        assert db.scalars(select(LoginAttempt).where(LoginAttempt.username == "li.na")).all() == []


def test_local_admin_not_in_the_directory_logs_in_while_it_is_up(
    settings: Settings, session: Session, ldap_directory: LdapDirectory
) -> None:
    make_user(session, settings, "admin", ["admin"])
    session.commit()
    configured = directory_settings(settings, ldap_directory)
    client = TestClient(create_app(configured))
    assert post_login(client, "admin", "wrong-password-x")[0] == 401
    assert post_login(client, "admin", PASSWORD)[0] == 303


def test_user_matched_by_employee_number(
    settings: Settings, session: Session, ldap_directory: LdapDirectory
) -> None:
    agent = make_agent(session, employee_no="A100", name="李娜")
    # An account made before sign-in moved to the directory, under another username.
    make_user(session, settings, "lina", ["agent"], agent=agent)
    session.commit()
    configured = directory_settings(settings, ldap_directory)
    client = TestClient(create_app(configured))

    assert post_login(client, "A100", USER_PASSWORD)[0] == 303

    assert client.get("/api/me").json()["username"] == "lina"
    adopted = user_named(configured, "lina")
    assert adopted is not None
    assert adopted.auth_source == "ldap"
    assert adopted.agent_id == agent.id
    assert user_named(configured, "li.na") is None
    # Its old local password is gone: the directory checks it now.
    assert post_login(TestClient(create_app(configured)), "lina", PASSWORD)[0] == 401


def test_a_local_admin_is_never_taken_over(
    settings: Settings, session: Session, ldap_directory: LdapDirectory
) -> None:
    make_user(session, settings, "li.na", ["admin"])
    session.commit()
    configured = directory_settings(settings, ldap_directory)
    client = TestClient(create_app(configured))
    # Her username is the local administrator's: the local password decides.
    assert post_login(client, "li.na", USER_PASSWORD)[0] == 401
    assert post_login(client, "li.na", PASSWORD)[0] == 303
    # Through her employee number the directory finds her, and refuses the clash.
    status, _ = post_login(TestClient(create_app(configured)), "A100", USER_PASSWORD)
    assert status == 403
    local = user_named(configured, "li.na")
    assert local is not None
    assert local.auth_source == "local"


def test_agent_role_needs_the_agent_record(
    settings: Settings, ldap_directory: LdapDirectory
) -> None:
    configured = directory_settings(settings, ldap_directory)
    status, page = post_login(TestClient(create_app(configured)), "li.na", USER_PASSWORD)
    assert status == 403
    assert "A100" in page
    assert user_named(configured, "li.na") is None


def test_directory_password_is_not_set_locally(
    settings: Settings, session: Session, ldap_directory: LdapDirectory
) -> None:
    make_agent(session, employee_no="A100", name="李娜")
    admin = make_user(session, settings, "admin", ["admin"])
    session.commit()
    configured = directory_settings(settings, ldap_directory)
    assert post_login(TestClient(create_app(configured)), "li.na", USER_PASSWORD)[0] == 303
    with session_scope(configured) as db:
        target = accounts_service.get_user_by_username(session=db, username="li.na")
        acting = db.get(User, admin.id)
        assert target is not None
        assert acting is not None
        with pytest.raises(InvalidInput, match="changed in the directory"):
            accounts_service.update_user(
                session=db,
                settings=configured,
                user_id=target.id,
                user_in=UserUpdate(password="a-local-password"),
                acting=acting,
            )


def test_wrong_service_account_is_unavailable(
    settings: Settings, ldap_directory: LdapDirectory
) -> None:
    configured = directory_settings(settings, ldap_directory, ldap_bind_password="wrong")
    with pytest.raises(Unavailable) as raised:
        directory.find_user(settings=configured, username="li.na")
    assert "service account" in str(raised.value.__cause__)


def test_role_groups_compare_dns_and_names() -> None:
    mapping = {
        "cn=agentladder-agents,ou=groups,dc=example,dc=com": frozenset({"agent"}),
        "quality": frozenset({"qa"}),
    }
    groups = (group_dn("AgentLadder-Agents").upper(), group_dn("quality"), person_dn("x"))
    assert directory.roles_of(groups, mapping) == {"agent", "qa"}
    assert directory.dn_key("CN=A, OU=B,DC=c") == "cn=a,ou=b,dc=c"


def test_unknown_role_in_the_mapping_is_refused(settings: Settings) -> None:
    configured = settings.model_copy(update={"ldap_role_groups": {"staff": ["boss"]}})
    with pytest.raises(InvalidInput, match="boss"):
        directory.role_groups(configured)


def test_user_filter_must_name_the_user(settings: Settings) -> None:
    with pytest.raises(ValueError, match="username"):
        Settings(ldap_user_filter="(uid=someone)")


def test_ldap_test_command_shows_entry_groups_and_roles(
    cli_env: Settings, ldap_directory: LdapDirectory, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "AGENTLADDER_LDAP_URL": ldap_directory.url,
        "AGENTLADDER_LDAP_BIND_DN": SERVICE_DN,
        "AGENTLADDER_LDAP_BIND_PASSWORD": SERVICE_PASSWORD,
        "AGENTLADDER_LDAP_USER_BASE": PEOPLE_BASE,
        "AGENTLADDER_LDAP_GROUP_BASE": GROUPS_BASE,
        "AGENTLADDER_LDAP_ROLE_GROUPS": '{"agentladder-leads": ["team_lead"], "quality": ["qa"]}',
    }.items():
        monkeypatch.setenv(name, value)
    from agentladder.config import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    found = runner.invoke(
        app,
        ["users", "ldap-test", "A200", "--ask-password", "--format", "json"],
        input=USER_PASSWORD + "\n",
    )
    assert found.exit_code == 0, found.output
    assert person_dn("zhao.lei") in found.output
    assert '"team_lead"' in found.output
    assert '"password_accepted": true' in found.output
    missing = runner.invoke(app, ["users", "ldap-test", "nobody.here"])
    assert missing.exit_code == 1
    ldap_directory.stop()
    down = runner.invoke(app, ["users", "ldap-test", "li.na"])
    assert down.exit_code == 1
    assert "cause" in down.output


def test_user_pages_mark_directory_accounts(
    settings: Settings, session: Session, ldap_directory: LdapDirectory
) -> None:
    make_user(session, settings, "admin", ["admin"])
    make_user(session, settings, "local.qa", ["qa"])
    session.commit()
    configured = directory_settings(settings, ldap_directory)
    ldap_directory.add_member("agentladder-admins", "chen.jie")
    assert post_login(TestClient(create_app(configured)), "chen.jie", USER_PASSWORD)[0] == 303
    chen = user_named(configured, "chen.jie")
    local = user_named(configured, "local.qa")
    assert chen is not None
    assert local is not None
    admin = login(TestClient(create_app(configured)), "admin")
    admin.cookies.set(LANGUAGE_COOKIE, "en")

    listing = admin.get("/users").text
    assert listing.count(">Directory</span>") == 1
    directory_page = admin.get(f"/users/{chen.id}").text
    assert "Signs in through the directory (LDAP)" in directory_page
    assert 'name="password"' not in directory_page
    local_page = admin.get(f"/users/{local.id}").text
    assert "Signs in through the directory" not in local_page
    assert 'name="password"' in local_page
