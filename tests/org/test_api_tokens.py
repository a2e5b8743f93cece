"""Personal access tokens: scripts call the API with `Authorization: Bearer ...` instead of
scraping the login form; a token acts with its user's roles, needs no CSRF token, is stored
hashed, and stops working when revoked, expired or its user is deactivated."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from agentladder.cli import app
from agentladder.config import Settings
from agentladder.db import session_scope, utcnow
from agentladder.org.models import ApiToken, User
from agentladder.web.app import create_app
from tests.factories import csrf_token, login, make_agent, make_user


def _world(session: Session, settings: Settings) -> tuple[int, int]:
    own = make_agent(session, employee_no="100001", name="王芳")
    other = make_agent(session, employee_no="100002", name="李雷")
    make_user(session, settings, "admin", ["admin"])
    make_user(session, settings, "wang", ["agent"], agent=own)
    session.commit()
    return own.id, other.id


def _create(client: TestClient, name: str, **extra: object) -> dict:
    response = client.post(
        "/api/tokens",
        json={"name": name, **extra},
        headers={"X-CSRF-Token": csrf_token(client, "/account")},
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_a_token_acts_with_its_users_roles_and_needs_no_csrf(
    settings: Settings, session: Session
) -> None:
    own, other = _world(session, settings)
    browser = login(TestClient(create_app(settings)), "wang")
    created = _create(browser, "nightly report")
    assert created["token"].startswith("alt_")
    script = TestClient(create_app(settings))  # no cookies at all
    bearer = {"Authorization": f"Bearer {created['token']}"}
    assert script.get("/api/me", headers=bearer).json()["username"] == "wang"
    # An agent's token sees what the agent sees: their own data, not a colleague's.
    assert script.get(f"/api/agents/{own}", headers=bearer).status_code == 200
    assert script.get(f"/api/agents/{other}", headers=bearer).status_code == 404
    # An unsafe method through a token needs no CSRF token (a cookie session still does).
    second = script.post("/api/tokens", json={"name": "second"}, headers=bearer)
    assert second.status_code == 201, second.text
    forged = browser.post(
        "/api/tokens", json={"name": "no csrf"}, headers={"X-CSRF-Token": "forged"}
    )
    assert forged.status_code == 403
    listed = script.get("/api/tokens", headers=bearer).json()
    assert [t["name"] for t in listed] == ["second", "nightly report"]
    assert all("token" not in t for t in listed)
    assert listed[1]["last_used_at"] is not None
    with session_scope(settings) as db:
        stored = db.scalars(select(ApiToken.token_hash)).all()
    assert hashlib.sha256(created["token"].encode()).hexdigest() in stored
    assert created["token"] not in stored


def test_revoked_expired_and_wrong_tokens_are_refused(settings: Settings, session: Session) -> None:
    _world(session, settings)
    browser = login(TestClient(create_app(settings)), "wang")
    revoked = _create(browser, "old")
    expiring = _create(browser, "short", expires_in_days=1)
    script = TestClient(create_app(settings))
    for token in (revoked, expiring):
        headers = {"Authorization": f"Bearer {token['token']}"}
        assert script.get("/api/me", headers=headers).status_code == 200
    answer = browser.delete(
        f"/api/tokens/{revoked['id']}", headers={"X-CSRF-Token": csrf_token(browser, "/account")}
    )
    assert answer.json()["revoked_at"] is not None
    with session_scope(settings) as db:
        row = db.get(ApiToken, expiring["id"])
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
    for token in (
        revoked["token"],
        expiring["token"],
        "alt_guess",
        "not-a-token",
        "alt_" + "x" * 300,
    ):
        refused = script.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 401, token


def test_only_the_owner_or_an_admin_revokes(settings: Settings, session: Session) -> None:
    _world(session, settings)
    make_user(session, settings, "li", ["trainer"])
    session.commit()
    owner = login(TestClient(create_app(settings)), "wang")
    token = _create(owner, "mine")
    stranger = login(TestClient(create_app(settings)), "li")
    refused = stranger.delete(
        f"/api/tokens/{token['id']}", headers={"X-CSRF-Token": csrf_token(stranger, "/account")}
    )
    assert refused.status_code == 404
    admin = login(TestClient(create_app(settings)), "admin")
    done = admin.delete(
        f"/api/tokens/{token['id']}", headers={"X-CSRF-Token": csrf_token(admin, "/account")}
    )
    assert done.status_code == 200


def test_a_deactivated_users_token_stops_working(settings: Settings, session: Session) -> None:
    _world(session, settings)
    token = _create(login(TestClient(create_app(settings)), "wang"), "script")
    with session_scope(settings) as db:
        user = db.scalar(select(User).where(User.username == "wang"))
        assert user is not None
        user.is_active = False
    script = TestClient(create_app(settings))
    answer = script.get("/api/me", headers={"Authorization": f"Bearer {token['token']}"})
    assert answer.status_code == 401


def test_the_openapi_document_declares_bearer_auth(settings: Settings) -> None:
    schemes = TestClient(create_app(settings)).get("/api/openapi.json").json()["components"]
    assert schemes["securitySchemes"]["PersonalAccessToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["securitySchemes"]["PersonalAccessToken"]["description"],
    }


def test_tokens_from_the_command_line(cli_env: Settings, session: Session) -> None:
    _world(session, cli_env)
    runner = CliRunner()
    created = runner.invoke(app, ["users", "token", "create", "wang", "--name", "cron"])
    assert created.exit_code == 0, created.output
    secret = created.output.strip().splitlines()[-1]
    assert secret.startswith("alt_")
    listed = runner.invoke(app, ["users", "token", "list", "wang", "--format", "json"])
    assert '"cron"' in listed.output
    assert secret not in listed.output
    client = TestClient(create_app(cli_env))
    assert client.get("/api/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    revoked = runner.invoke(app, ["users", "token", "revoke", "1"])
    assert revoked.exit_code == 0, revoked.output
    assert client.get("/api/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    unknown = runner.invoke(app, ["users", "token", "create", "nobody", "--name", "x"])
    assert unknown.exit_code == 1
    assert "Traceback" not in unknown.output
    blank = runner.invoke(app, ["users", "token", "create", "wang", "--name", "  "])
    assert blank.exit_code == 2


def test_the_account_page_creates_shows_once_and_revokes(
    settings: Settings, session: Session
) -> None:
    import re

    _world(session, settings)
    browser = login(TestClient(create_app(settings)), "wang")
    token = csrf_token(browser, "/account")
    page = browser.post(
        "/account/tokens",
        data={"name": "<b>夜间报表</b>", "expires_in_days": "30", "csrf_token": token},
    )
    assert page.status_code == 200
    secret = re.search(r'id="new-token">(alt_[^<]+)<', page.text)
    assert secret is not None
    assert "&lt;b&gt;夜间报表&lt;/b&gt;" in page.text  # the name is escaped
    again = browser.get("/account")
    assert secret.group(1) not in again.text  # shown once
    assert secret.group(1)[:12] in again.text
    script = TestClient(create_app(settings))
    bearer = {"Authorization": f"Bearer {secret.group(1)}"}
    assert script.get("/api/me", headers=bearer).status_code == 200
    token_id = re.search(r'action="/account/tokens/(\d+)/revoke"', again.text)
    assert token_id is not None
    revoked = browser.post(
        f"/account/tokens/{token_id.group(1)}/revoke",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    assert script.get("/api/me", headers=bearer).status_code == 401
    bad = browser.post(
        "/account/tokens", data={"name": "x", "expires_in_days": "0", "csrf_token": token}
    )
    assert bad.status_code == 422
