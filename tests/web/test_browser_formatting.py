"""In a real browser, in Chinese and in English, the pages people read most (scorecard, KPI table,
dashboard, decisions) show numbers as people read them: percentages with %, durations as m:ss,
scores with one decimal, no raw floats, no key or snake_case id, no Python value; the top bar
fits one line at 1366 px and the scorecard fits a 390 px phone."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.demo import service as demo_service
from agentladder.ladder.models import LadderDecision
from tests.web.test_browser import (  # noqa: F401 - fixtures
    _watch_errors,
    browser,
    live_server,
    new_context,
)
from tests.web.test_i18n_pages import _leaks

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

pytestmark = pytest.mark.browser

PASSWORD = "agentladder-demo"
RAW_FLOAT = re.compile(r"\d+\.\d{3,}")  # 0.8431 or 263.3333: a value nobody formatted
PERCENT = re.compile(r"^\d{1,3}(\.\d)? ?%$")
DURATION = re.compile(r"^\d+:\d{2}$")
SCORE = re.compile(r"^\d{1,3}\.\d$")


def _log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click('form[action="/login"] button')
    page.wait_for_load_state()


def _cells(page: Page, selector: str) -> list[str]:
    return [text.strip() for text in page.locator(selector).all_inner_texts()]


def _readable(page: Page) -> str:
    text = page.locator("main").inner_text()
    assert not RAW_FLOAT.search(text), RAW_FLOAT.search(text)
    english = page.evaluate("document.documentElement.lang") == "en"
    assert _leaks(text, english) == set(), page.url
    return text


def test_pages_show_formatted_values_in_both_languages(
    settings: Settings,
    live_server: Callable[[], str],  # noqa: F811
    new_context: Callable[[str], BrowserContext],  # noqa: F811
) -> None:
    with session_scope(settings) as session:
        demo_service.build_demo(
            session=session,
            settings=settings,
            today=date(2026, 11, 23),
            agents=12,
            seed=5,
            call_months=2,
            period_kinds=("month",),
        )
        decided = session.scalars(select(LadderDecision).where(LadderDecision.period == "2026-10"))
        agent_id = next(iter(decided)).agent_id
    base_url = live_server()
    for locale, words in (("zh-CN", ("综合得分", "证据")), ("en-US", ("Composite", "Evidence"))):
        context = new_context(locale)
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.set_viewport_size({"width": 1366, "height": 900})
        errors = _watch_errors(page)
        _log_in(page, base_url, "admin")

        # The menu fits one line: no item sits below the first one.
        tops = page.locator(".topbar nav a").evaluate_all(
            "links => links.map(link => link.getBoundingClientRect().top)"
        )
        assert len(tops) >= 10
        assert max(tops) - min(tops) < 4, tops

        page.goto(f"{base_url}/agents/{agent_id}/scorecard")
        text = _readable(page)
        assert all(word in text for word in words)
        values = _cells(page, "table.evidence td.num")
        assert any(DURATION.match(value) for value in values), values
        assert any(PERCENT.match(value) for value in values), values
        assert any(SCORE.match(value) for value in values), values

        page.goto(f"{base_url}/kpis/agents?period=2026-10")
        _readable(page)
        values = _cells(page, "#kpi-table td.num")
        assert any(DURATION.match(value) for value in values), values
        assert any(PERCENT.match(value) for value in values), values

        page.goto(f"{base_url}/ladder")
        _readable(page)

        page.goto(f"{base_url}/ladder/decisions?period=2026-10")
        text = _readable(page)
        assert re.search(r"\b\d{1,3}\.\d\b", text)  # composite scores, one decimal

        # On a phone the scorecard fits the screen: nothing to scroll sideways.
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{base_url}/agents/{agent_id}/scorecard")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width
        assert errors == []
