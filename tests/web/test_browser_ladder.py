"""The ladder in a real browser: an agent reads their scorecard and the gap to the next level;
a manager edits the policy (validated as they type), approves a promotion, and the agent's
level changes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.ladder.decisions import service as decisions_service
from agentladder.ladder.policy import service as policy_service
from agentladder.periods import parse_period
from tests.factories import make_agent, make_team, make_user
from tests.ladder.builders import HIRED, give, policy_text
from tests.web.test_browser import (  # noqa: F401 - fixtures
    NEUTRAL_LOCALE,
    _log_in,
    _watch_errors,
    browser,
    live_server,
    new_context,
)

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

pytestmark = pytest.mark.browser


def test_agent_scorecard_and_manager_approval(
    settings: Settings,
    live_server: Callable[[], str],  # noqa: F811
    new_context: Callable[[str], BrowserContext],  # noqa: F811
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    with session_scope(settings) as db:
        make_team(db, code="T01", name="客服一组")
        wang = make_agent(db, employee_no="A0001", name="王芳", team_code="T01", hire_date=HIRED)
        li = make_agent(db, employee_no="A0002", name="李娜", team_code="T01", hire_date=HIRED)
        make_user(db, settings, "wangfang", ["agent"], agent=wang)
        make_user(db, settings, "lina", ["agent"], agent=li)
        make_user(db, settings, "boss", ["manager"])
        policy_service.apply_policy(session=db, text=policy_text(consecutive=1, approval="manager"))
        give(db, wang, "2026-10", score=90)
        give(db, li, "2026-10", score=50, qa_evaluations=6)
        decisions_service.run_period(session=db, period=parse_period("2026-10"))
        db.flush()
        wang_id, li_id = wang.id, li.id
    base_url = live_server()

    # 1. 李娜 lands on her scorecard and reads what she still needs.
    page = new_context(NEUTRAL_LOCALE).new_page()
    errors = _watch_errors(page)
    _log_in(page, base_url, "lina")
    expect(page).to_have_url(f"{base_url}/agents/{li_id}/scorecard")
    expect(page.locator("#current-level")).to_have_text("初级座席·新手")
    expect(page.locator("#next-level")).to_have_text("初级座席·二级")
    expect(page.locator("#gap")).to_contain_text("综合分还差 7.0 分")  # 50 -> 55 + band 2
    expect(page.locator("#gap .progress").first).to_be_visible()
    page.screenshot(path=str(tmp_path / "scorecard.png"), full_page=True)
    response = page.goto(f"{base_url}/agents/{wang_id}/scorecard")
    assert response is not None
    assert response.status == 404
    assert errors == []

    # 2. The manager checks a policy edit as they type, then approves 王芳's promotion.
    page = new_context("zh-CN").new_page()
    errors = _watch_errors(page)
    _log_in(page, base_url, "boss")
    page.goto(f"{base_url}/ladder/policy")
    editor = page.locator("#policy-text")
    text = editor.input_value()
    editor.fill(text.replace("weight: 50, metrics: {qa_score", "weight: 49, metrics: {qa_score"))
    expect(page.locator("#policy-problems")).to_contain_text("权重合计为 99，而不是 100")
    expect(page.locator("#apply-policy")).to_be_disabled()
    expect(page.locator("#policy-diff")).to_contain_text("+  quality: {weight: 49")
    editor.fill(text)
    expect(page.locator("#policy-status")).to_contain_text(text_hash_prefix(settings))
    page.goto(f"{base_url}/ladder/decisions?period=2026-10")
    row = page.locator("#row-A0001")
    expect(row).to_contain_text("晋级")
    expect(row).to_contain_text("待审批")
    row.get_by_role("button", name="批准").click()
    expect(page.locator("#row-A0001")).to_contain_text("已批准")
    assert errors == []

    # 3. 王芳 sees her new level.
    page = new_context(NEUTRAL_LOCALE).new_page()
    _log_in(page, base_url, "wangfang")
    expect(page.locator("#current-level")).to_have_text("初级座席·二级")


def text_hash_prefix(settings: Settings) -> str:
    """The first characters of the hash of the policy in force."""
    with session_scope(settings) as db:
        return policy_service.current_policy(session=db).content_hash[:12]
