"""Acceptance tests in a real browser: headless Chromium against `agentladder serve`.

The server runs as a subprocess on the test database (SQLite, or PostgreSQL when
AGENTLADDER_TEST_DATABASE_URL is set). Without Chromium or Playwright these tests are skipped,
unless AGENTLADDER_REQUIRE_BROWSER=1 (as in CI), where that is a failure.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, NoReturn
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.org.models import User
from tests.factories import PASSWORD, make_agent, make_team, make_user

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Response

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REQUIRE_ENV = "AGENTLADDER_REQUIRE_BROWSER"
SECRET_KEY = "test-secret-key-not-for-production"
STARTUP_TIMEOUT = 30.0

# A browser whose language the product does not speak, so the configured default applies.
NEUTRAL_LOCALE = "fr-FR"


def _unavailable(reason: str) -> NoReturn:
    """Skip, or fail when the environment demands a browser."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but the browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _unavailable(f"playwright cannot be imported: {exc}")
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
        except Exception as exc:
            _unavailable(f"Chromium does not start: {exc}")
        yield chromium
        chromium.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _server_env(settings: Settings) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AGENTLADDER_")}
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    env.update(
        {
            "AGENTLADDER_DATABASE_URL": settings.resolved_database_url,
            "AGENTLADDER_DATA_DIR": str(settings.data_dir),
            "AGENTLADDER_SECRET_KEY": SECRET_KEY,
            "AGENTLADDER_ARGON2_TIME_COST": "1",
            "AGENTLADDER_ARGON2_MEMORY_KIB": "64",
            "AGENTLADDER_DEFAULT_LANGUAGE": "zh_Hans",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"the server exited with {process.returncode}:\n{log.read_text(errors='replace')}"
            )
        try:
            with opener.open(f"{base_url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}: {exc.read()[:200]!r}"
        except (urllib.error.URLError, OSError) as exc:
            last = repr(exc)
        time.sleep(0.1)
    pytest.fail(
        f"/healthz did not answer 200 within {STARTUP_TIMEOUT:.0f}s ({last}):\n"
        f"{log.read_text(errors='replace')}"
    )


@pytest.fixture
def live_server(settings: Settings, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Start `agentladder serve` on the test database (call it after arranging the data);
    returns the base URL. The process is always stopped before the tables are emptied."""
    running: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []

    def start() -> str:
        port = _free_port()
        log_path = tmp_path / "server.log"
        log = log_path.open("wb")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "agentladder",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-migrate",
            ],
            env=_server_env(settings),
            cwd=tmp_path,  # no stray agentladder.toml from the working directory
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        running.append((process, log))
        base_url = f"http://127.0.0.1:{port}"
        _wait_until_healthy(base_url, process, log_path)
        return base_url

    yield start
    for process, log in running:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


@pytest.fixture
def new_context(browser: Browser) -> Iterator[Callable[[str], BrowserContext]]:
    """Fresh browser contexts (no cookies) with a given browser language; closed at the end."""
    contexts: list[BrowserContext] = []

    def make(locale: str) -> BrowserContext:
        context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 800})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def _watch_errors(page: Page) -> list[str]:
    """Collect script errors, console errors (CSP violations land there) and failed
    subresources; the favicon, which the product does not ship, is not a failure."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(f"console: {message.text}")

    def on_response(response: Response) -> None:
        request = response.request
        if (
            response.status >= 400
            and request.resource_type != "document"
            and not request.url.endswith("/favicon.ico")
        ):
            errors.append(f"HTTP {response.status}: {request.url}")

    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    page.on("console", on_console)
    page.on("response", on_response)
    page.on("requestfailed", lambda request: errors.append(f"failed: {request.url}"))
    return errors


def _log_in(page: Page, base_url: str, username: str) -> None:
    """Log in through the form and wait for the page the server sends the user to."""
    page.goto(f"{base_url}/login")
    page.locator('input[name="username"]').fill(username)
    page.locator('input[name="password"]').fill(PASSWORD)
    with page.expect_response(
        lambda response: response.request.method == "POST" and response.url == f"{base_url}/login"
    ) as posted:
        page.locator('form[action="/login"] button[type="submit"]').click()
    assert posted.value.status == 303, f"login refused: HTTP {posted.value.status}"
    page.wait_for_url(lambda url: url != f"{base_url}/login")
    assert urlsplit(page.url).path != "/login", (
        f"the login was accepted (303) but the page it led to, {page.url}, asked to log in "
        "again: the new session was not visible to the very next request"
    )


def _stored_language(settings: Settings, username: str) -> str | None:
    with session_scope(settings) as db:
        return db.scalar(select(User.language).where(User.username == username))


def test_admin_sees_agents_and_language_choice_is_remembered_per_user(
    settings: Settings,
    live_server: Callable[[], str],
    new_context: Callable[[str], BrowserContext],
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    with session_scope(settings) as db:
        make_team(db, code="T01", name="客服一组")
        make_agent(db, employee_no="A0001", name="王芳", team_code="T01")
        make_agent(db, employee_no="A0002", name="李娜", team_code="T01")
        make_agent(db, employee_no="A0003", name="张伟")
        make_user(db, settings, "admin", ["admin"])
    base_url = live_server()

    # 1. A browser in a language the product does not speak gets the default: Chinese.
    page = new_context(NEUTRAL_LOCALE).new_page()
    errors = _watch_errors(page)
    stylesheet = []
    page.on(
        "response",
        lambda response: (
            stylesheet.append(response.status) if response.url.endswith("/static/app.css") else None
        ),
    )
    page.goto(f"{base_url}/login")
    html = page.locator("html")
    heading = page.get_by_role("heading", level=1)
    expect(html).to_have_attribute("lang", "zh-Hans")
    expect(heading).to_have_text("登录")
    expect(page.locator("#language-switch")).to_be_visible()

    _log_in(page, base_url, "admin")
    expect(page).to_have_url(f"{base_url}/agents")
    expect(html).to_have_attribute("lang", "zh-Hans")
    expect(heading).to_have_text("座席")
    expect(page.locator("header nav")).to_contain_text("座席")
    expect(page.locator("header nav")).to_contain_text("班组")
    table = page.locator("#agent-table")
    for name in ("王芳", "李娜", "张伟"):
        expect(table).to_contain_text(name)
    expect(table.locator("tbody tr")).to_have_count(3)
    expect(page.get_by_role("button", name="简体中文")).to_have_attribute("aria-pressed", "true")
    page.screenshot(path=str(tmp_path / "admin.png"), full_page=True)
    assert stylesheet, "the stylesheet was not requested"
    assert all(status in (200, 304) for status in stylesheet), stylesheet

    # 2. Switch to English; a reload keeps it.
    page.get_by_role("button", name="English").click()
    expect(html).to_have_attribute("lang", "en")
    expect(page).to_have_url(f"{base_url}/agents")
    expect(heading).to_have_text("Agents")
    expect(page.locator("header nav")).to_contain_text("Teams")
    expect(table).to_contain_text("王芳")
    page.reload()
    expect(html).to_have_attribute("lang", "en")
    expect(heading).to_have_text("Agents")
    assert _stored_language(settings, "admin") == "en"

    # 3. Back to Chinese, then log out.
    page.get_by_role("button", name="简体中文").click()
    expect(html).to_have_attribute("lang", "zh-Hans")
    expect(heading).to_have_text("座席")
    assert _stored_language(settings, "admin") == "zh_Hans"
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(f"{base_url}/login")
    page.goto(f"{base_url}/agents")
    expect(page).to_have_url(f"{base_url}/login?next=/agents")
    assert errors == []

    # 4. A new browser that prefers English: the login page follows the browser, but after
    #    logging in the user's own choice (Chinese) wins, with no cookie to carry it.
    page = new_context("en-US").new_page()
    errors = _watch_errors(page)
    html = page.locator("html")
    heading = page.get_by_role("heading", level=1)
    page.goto(f"{base_url}/login")
    expect(html).to_have_attribute("lang", "en")
    expect(heading).to_have_text("Log in")
    _log_in(page, base_url, "admin")
    expect(page).to_have_url(f"{base_url}/agents")
    expect(html).to_have_attribute("lang", "zh-Hans")
    expect(heading).to_have_text("座席")
    page.get_by_role("button", name="English").click()
    expect(html).to_have_attribute("lang", "en")
    expect(heading).to_have_text("Agents")
    assert errors == []

    # 5. A new browser that prefers Chinese: after logging in, the stored English wins.
    page = new_context("zh-CN").new_page()
    errors = _watch_errors(page)
    html = page.locator("html")
    heading = page.get_by_role("heading", level=1)
    page.goto(f"{base_url}/login")
    expect(html).to_have_attribute("lang", "zh-Hans")
    _log_in(page, base_url, "admin")
    expect(page).to_have_url(f"{base_url}/agents")
    expect(html).to_have_attribute("lang", "en")
    expect(heading).to_have_text("Agents")
    expect(page.get_by_role("button", name="English")).to_have_attribute("aria-pressed", "true")
    assert errors == []


def test_agent_sees_only_their_own_profile(
    settings: Settings,
    live_server: Callable[[], str],
    new_context: Callable[[str], BrowserContext],
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    with session_scope(settings) as db:
        make_team(db, code="T01", name="客服一组")
        wang = make_agent(db, employee_no="A0001", name="王芳", team_code="T01")
        li = make_agent(db, employee_no="A0002", name="李娜", team_code="T01")
        make_user(db, settings, "wangfang", ["agent"], agent=wang)
        db.flush()
        wang_id, li_id = wang.id, li.id
    base_url = live_server()

    page = new_context(NEUTRAL_LOCALE).new_page()
    errors = _watch_errors(page)
    _log_in(page, base_url, "wangfang")
    # An agent lands on their scorecard (the ladder has not decided anything yet).
    expect(page).to_have_url(f"{base_url}/agents/{wang_id}/scorecard")
    expect(page.locator("#no-decision")).to_be_visible()
    page.goto(f"{base_url}/agents/{wang_id}")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("王芳")
    expect(heading).to_contain_text("A0001")
    level = page.locator("#current-level")
    expect(level).to_be_visible()
    assert level.inner_text().strip(), "the current level is empty"
    history = page.locator("#level-history")
    expect(history).to_be_visible()
    expect(history.locator("thead")).to_be_visible()
    start = history.locator("tbody tr")
    expect(start).to_have_count(1)  # the level the agent was created at
    expect(start.locator("td").nth(1)).to_have_text("（初始定级）")
    expect(start.locator("td").nth(2)).to_have_text(level.inner_text().strip())
    nav = page.locator("header nav")
    expect(nav.get_by_role("link", name="我的档案")).to_have_attribute("href", f"/agents/{wang_id}")
    expect(nav).not_to_contain_text("班组")  # no staff menu for an agent
    expect(page.locator(f'form[action="/agents/{wang_id}/level"]')).to_have_count(0)
    page.screenshot(path=str(tmp_path / "agent.png"), full_page=True)
    assert errors == []

    # Someone else's profile is hidden as if it did not exist; the list is forbidden.
    for agent_id in (li_id, 999_999):
        response = page.goto(f"{base_url}/agents/{agent_id}")
        assert response is not None
        assert response.status == 404, f"/agents/{agent_id}: {response.status}"
        expect(heading).to_have_text("未找到")
        expect(page.get_by_role("alert")).to_have_text("座席不存在")
        expect(page.locator("main")).not_to_contain_text("李娜")

    response = page.goto(f"{base_url}/agents")
    assert response is not None
    assert response.status == 403, f"/agents: {response.status}"
    expect(heading).to_have_text("无权访问")
    expect(page.locator("main")).not_to_contain_text("李娜")
