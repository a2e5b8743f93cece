"""Automatic QA in a real browser: the evaluator opens an assigned call whose transcript was
judged, sees the rules' evidence marked in it and an answer suggested, overrides the suggestion
and submits; the evaluation records that the suggestion was changed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.quality.models import QaEvaluation
from tests.quality.qa_world import FORM, build
from tests.quality.test_autoqa_workspace import import_c1
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


def test_the_evaluator_sees_the_evidence_overrides_a_suggestion_and_the_change_is_recorded(
    settings: Settings,
    live_server: Callable[[], str],  # noqa: F811
    new_context: Callable[[str], BrowserContext],  # noqa: F811
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    with session_scope(settings) as db:
        world = build(db, settings)
        import_c1(db, settings)
        sampled_id = world.sampled_id
    base_url = live_server()

    page = new_context(NEUTRAL_LOCALE).new_page()
    errors = _watch_errors(page)
    _log_in(page, base_url, "eva")
    page.goto(f"{base_url}/quality/my-calls")
    page.locator(f'form[action="/quality/my-calls/{sampled_id}/start"] button').click()

    # The brush-off is marked as a failed rule's evidence, the greeting as a passed one's.
    turn = page.locator("#turn-2")
    failed = turn.locator("mark.hit-fail")
    expect(failed.filter(has_text="不归我管")).to_have_count(1)
    expect(failed.filter(has_text="不知道")).to_have_count(1)
    expect(failed.first).to_have_attribute("title", "无服务禁语")
    expect(page.locator("#turn-0 mark.hit-pass")).to_have_count(1)
    expect(page.locator("#rule-forbidden_phrases")).to_contain_text("未通过")
    expect(page.locator("#rule-answer_speed")).to_contain_text("振铃 0:03（上限 0:06）")
    page.locator('#rule-forbidden_phrases a[href="#turn-2"]').first.click()
    assert page.url.endswith("#turn-2")

    # Service attitude is suggested "no", with the rule that decided it and its quotes.
    item = page.locator("#item-service_attitude")
    expect(item.locator(".tag.suggested")).to_have_text("自动质检建议：否")
    expect(item.locator('input[value="no"]')).to_be_checked()
    item.locator("details.autoqa-suggestion summary").click()
    expect(item.locator("ul.autoqa-decided")).to_contain_text("不归我管")
    live = item.locator(".tag.changed")
    expect(live).to_be_hidden()

    # The evaluator overrides it (and answers what was not suggested), then submits.
    item.locator('input[value="yes"]').check()
    expect(live).to_be_visible()
    expect(live).to_have_text("质检员已修改")
    for form_item in FORM.items():
        row = page.locator(f"#item-{form_item.code}")
        if row.get_attribute("data-suggested") is None:
            value = "yes" if form_item.kind == "yes_no" else str(form_item.scale_max)
            row.locator(f'input[type="radio"][value="{value}"]').check()
    page.locator("#submit-evaluation").click()
    expect(page.locator("#qa-score")).to_be_visible()
    expect(page.locator("#row-service_attitude")).to_contain_text("质检员已修改")
    expect(page.locator("#row-phone_etiquette")).to_contain_text("质检员已采纳")
    page.screenshot(path=str(tmp_path / "autoqa-submitted.png"), full_page=True)
    assert errors == []

    with session_scope(settings) as db:
        evaluation = db.scalars(select(QaEvaluation).where(QaEvaluation.call_id == "c1")).one()
        assert evaluation.status == "submitted"
        suggestions = json.loads(evaluation.suggestions_json)
        answers = json.loads(evaluation.answers_json)
    assert suggestions["service_attitude"]["answer"] is False
    assert suggestions["service_attitude"]["changed"] is True
    assert answers["service_attitude"] is True
    assert suggestions["phone_etiquette"]["changed"] is False
