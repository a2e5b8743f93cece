"""Login, sessions, CSRF, throttling, language, security headers."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.org.accounts import service as accounts_service
from agentladder.org.accounts.service import hash_password, password_hasher
from agentladder.web.app import create_app
from agentladder.web.auth import DB_REQUESTS_IN_FLIGHT, SESSION_COOKIE, SessionDep
from tests.factories import PASSWORD, csrf_token, login, make_agent, make_user


@pytest.fixture
def client(settings: Settings, session: Session) -> TestClient:
    agent = make_agent(session, employee_no="A1", name="王芳")
    make_user(session, settings, "admin", ["admin"])
    make_user(session, settings, "wang", ["agent"], agent=agent)
    session.commit()
    return TestClient(create_app(settings))


def test_login_page_and_healthz(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert 'name="password"' in page.text
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"


def test_session_cookie_is_httponly_and_samesite(client: TestClient) -> None:
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={"username": "admin", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"]
    assert SESSION_COOKIE in cookie
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert response.headers["content-security-policy"].startswith("default-src 'self'")


def test_wrong_password_and_unknown_user_look_the_same(client: TestClient) -> None:
    token = csrf_token(client)
    wrong = client.post(
        "/login", data={"username": "admin", "password": "nope-nope-nope", "csrf_token": token}
    )
    unknown = client.post(
        "/login", data={"username": "ghost", "password": "nope-nope-nope", "csrf_token": token}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert SESSION_COOKIE not in client.cookies


def test_login_form_without_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/login")
    response = client.post("/login", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 403
    assert SESSION_COOKIE not in client.cookies


def test_forms_need_the_token_of_this_browser(client: TestClient, settings: Settings) -> None:
    login(client, "admin")
    del client.headers["X-CSRF-Token"]
    refused = client.post("/teams", data={"code": "T1", "name": "一组"}, follow_redirects=False)
    assert refused.status_code == 403
    other_browser = TestClient(create_app(settings))
    foreign_token = csrf_token(other_browser)
    forged = client.post(
        "/teams",
        data={"code": "T1", "name": "一组", "csrf_token": foreign_token},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    good = client.post(
        "/teams",
        data={"code": "T1", "name": "一组", "csrf_token": csrf_token(client, "/teams")},
        follow_redirects=False,
    )
    assert good.status_code == 303


def test_login_is_throttled_after_repeated_failures(client: TestClient, settings: Settings) -> None:
    token = csrf_token(client)
    for _ in range(settings.login_max_failures):
        response = client.post(
            "/login", data={"username": "admin", "password": "wrong-password", "csrf_token": token}
        )
        assert response.status_code == 401
    locked = client.post(
        "/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token}
    )
    assert locked.status_code == 429
    assert SESSION_COOKIE not in client.cookies
    # Another user from the same address is not locked out by admin's failures.
    assert login(TestClient(create_app(settings)), "wang")


def test_logout_ends_the_session_server_side(client: TestClient) -> None:
    login(client, "admin")
    stolen = client.cookies.get(SESSION_COOKIE)
    assert client.get("/api/me").json()["username"] == "admin"
    client.post("/logout", follow_redirects=False)
    replay = TestClient(client.app)
    replay.cookies.set(SESSION_COOKIE, stolen or "")
    assert replay.get("/api/me").status_code == 401


def test_next_parameter_cannot_redirect_off_site(client: TestClient) -> None:
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={
            "username": "admin",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/x",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_language_is_remembered_per_user(client: TestClient, settings: Settings) -> None:
    login(client, "admin")
    assert '<html lang="zh-Hans">' in client.get("/agents").text
    client.post("/language", data={"language": "en", "next": "/agents"}, follow_redirects=False)
    assert '<html lang="en">' in client.get("/agents").text
    fresh = login(TestClient(create_app(settings)), "admin")
    assert '<html lang="en">' in fresh.get("/agents").text
    with session_scope(settings) as session:
        user = accounts_service.get_user_by_username(session=session, username="admin")
        assert user is not None
        assert user.language == "en"


def test_deactivated_user_is_logged_out(client: TestClient, settings: Settings) -> None:
    agent_client = login(TestClient(create_app(settings)), "wang")
    admin = login(client, "admin")
    with session_scope(settings) as session:
        wang = accounts_service.get_user_by_username(session=session, username="wang")
        assert wang is not None
        wang_id = wang.id
    response = admin.patch(f"/api/users/{wang_id}", json={"is_active": False})
    assert response.status_code == 200
    assert agent_client.get("/api/me").status_code == 401


def test_passwords_are_argon2id_and_never_returned(settings: Settings, client: TestClient) -> None:
    digest = hash_password("s3cret-password", settings)
    assert digest.startswith("$argon2id$")
    assert password_hasher(settings).verify(digest, "s3cret-password")
    admin = login(client, "admin")
    assert "password" not in str(admin.get("/api/users").json())


def test_openapi_spec_lists_the_rest_api(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert {
        "/api/agents",
        "/api/agents/{agent_id}",
        "/api/teams",
        "/api/roster/import",
        "/api/me",
    } <= set(spec["paths"])
    assert not any(path.startswith("/agents") for path in spec["paths"]), (
        "pages stay out of the API spec"
    )


def test_writes_are_committed_before_the_response_is_sent(
    client: TestClient, settings: Settings
) -> None:
    """A redirect must not reach the browser before its write is committed (it did, on SQLite:
    the next page sometimes still saw the old state)."""
    import anyio
    from sqlalchemy import func, select

    from agentladder.org.models import UserSession

    token = csrf_token(client)
    nonce = client.cookies.get("al_csrf")
    body = f"username=admin&password={PASSWORD}&csrf_token={token}".encode()
    sessions_when_sent: list[int] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            with session_scope(settings) as check:
                count = check.scalar(select(func.count()).select_from(UserSession))
            sessions_when_sent.append(count or 0)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/login",
        "raw_path": b"/login",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()),
            (b"cookie", f"al_csrf={nonce}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    app = create_app(settings)

    async def run() -> None:
        async with app.router.lifespan_context(app):
            await app(scope, receive, send)  # type: ignore[arg-type]

    anyio.run(run)
    assert sessions_when_sent == [1]


def _fail_from(client: TestClient, username: str, forwarded_for: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    response = client.post(
        "/login",
        data={"username": username, "password": "wrong", "csrf_token": csrf_token(client)},
        headers=headers,
    )
    return response.status_code


def test_an_address_is_slowed_down_not_locked(
    settings: Settings, session: Session, tmp_path: object
) -> None:
    # One NAT address in front of a whole floor: 20 failures once locked everyone out for 15
    # minutes. Now the address waits a doubling delay after its allowance, and a right password
    # gets through once the wait is over.
    from datetime import timedelta

    from agentladder.org.models import LoginAttempt

    make_user(session, settings, "admin", ["admin"])
    session.commit()
    throttled = settings.model_copy(
        update={"login_address_max_failures": 3, "login_address_backoff_s": 30.0}
    )
    client = TestClient(create_app(throttled))
    for number in range(3):
        assert _fail_from(client, f"floor-user-{number}") == 401
    waiting = client.post(
        "/login", data={"username": "admin", "password": PASSWORD, "csrf_token": csrf_token(client)}
    )
    assert waiting.status_code == 429
    assert 0 < int(waiting.headers["Retry-After"]) <= 30
    with session_scope(throttled) as db:
        wait_s = accounts_service.address_wait_s(
            session=db, settings=throttled, client_ip="testclient"
        )
        assert 0 < wait_s <= 30  # the allowance is used up: the first wait
        later = accounts_service.utcnow() + timedelta(seconds=31)
        assert (
            accounts_service.address_wait_s(
                session=db, settings=throttled, client_ip="testclient", now=later
            )
            == 0.0
        )
        # Let the wait pass: age every attempt by a minute.
        for attempt in db.query(LoginAttempt).all():
            attempt.attempted_at -= timedelta(minutes=1)
    # One more failure past the allowance doubles the wait.
    assert _fail_from(client, "floor-user-3") == 401
    with session_scope(throttled) as db:
        assert (
            30
            < accounts_service.address_wait_s(
                session=db, settings=throttled, client_ip="testclient"
            )
            <= 60
        )
        for attempt in db.query(LoginAttempt).all():
            attempt.attempted_at -= timedelta(minutes=1)
    assert login(client, "admin")


def test_forwarded_for_counts_only_behind_a_trusted_proxy(
    settings: Settings, session: Session
) -> None:
    from agentladder.org.models import LoginAttempt

    make_user(session, settings, "admin", ["admin"])
    session.commit()
    # The test client's peer is "testclient", not an address: no proxy is trusted yet.
    untrusted = TestClient(create_app(settings))
    _fail_from(untrusted, "admin", forwarded_for="203.0.113.9")
    behind_proxy = TestClient(
        create_app(settings.model_copy(update={"trusted_proxies": ["10.0.0.0/8"]})),
        client=("10.1.2.3", 50000),
    )
    # A client cannot forge past the proxy: the nearest untrusted hop is the client.
    _fail_from(behind_proxy, "admin", forwarded_for="198.51.100.1, 192.0.2.7, 10.9.9.9")
    direct = TestClient(
        create_app(settings.model_copy(update={"trusted_proxies": ["10.0.0.0/8"]})),
        client=("192.0.2.50", 50000),
    )
    _fail_from(direct, "admin", forwarded_for="198.51.100.1")
    with session_scope(settings) as db:
        addresses = [a.client_ip for a in db.query(LoginAttempt).order_by(LoginAttempt.id)]
    assert addresses == ["testclient", "192.0.2.7", "192.0.2.50"]


def test_trusted_proxies_must_be_addresses_or_ranges(settings: Settings) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="not an address or CIDR range"):
        Settings(**{**settings.model_dump(), "trusted_proxies": ["10.0.0.0/33"]})


def test_a_worker_lets_no_more_requests_at_the_database_than_it_has_connections(
    settings: Settings,
) -> None:
    # 60 requests at once on anyio's 40 threads and a pool of 15 connections: without the
    # worker's gate every thread could wait for a connection held by a request that waits for a
    # thread, until the pool's 30 s timeout failed them (the exam-day benchmark stalled so).
    app = create_app(settings)
    lock = threading.Lock()
    inside, most = 0, 0

    @app.get("/test-database-slot")
    def hold_a_connection(session: SessionDep) -> dict[str, int]:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        session.execute(text("SELECT 1"))
        time.sleep(0.05)
        with lock:
            inside -= 1
        return {"inside": inside}

    async def burst() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await asyncio.gather(*(client.get("/test-database-slot") for _ in range(60)))

    responses = asyncio.run(burst())
    assert [response.status_code for response in responses] == [200] * 60
    assert 1 < most <= DB_REQUESTS_IN_FLIGHT
