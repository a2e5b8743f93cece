"""The knowledge library in a real browser against `agentladder serve`: the XSS payload list
written into an item, its title, a comment and a search renders harmless (no dialog, no script
element, no handler, no script link in the rendered DOM), and the full case flow: an agent writes
a case in the editor (the likely duplicate shows while typing), submits it; QA returns it with a
comment; the author fixes it (the preview renders) and submits again; QA approves it; a
colleague finds it from the top bar with a synonym, says it helped and links a call; the trainer
adopts it; the author sees the points."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.knowledge.items import service as items_service
from agentladder.knowledge.schemas import ItemDraft
from agentladder.knowledge.search import service as search_service
from tests.knowledge.kb_world import CASE, build, case, published
from tests.knowledge.xss import xss_payloads
from tests.web.test_browser import (  # noqa: F401 - fixtures
    NEUTRAL_LOCALE,
    _log_in,
    _watch_errors,
    browser,
    live_server,
    new_context,
)

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

pytestmark = pytest.mark.browser

# Everything the rendered page may not hold, checked in the browser's own DOM.
_DANGER = """() => {
  const found = [];
  for (const node of document.querySelectorAll('main *')) {
    const tag = node.tagName.toLowerCase();
    if (['script', 'iframe', 'object', 'embed', 'base', 'meta', 'svg', 'math', 'form', 'style']
        .includes(tag) && !node.closest('form[method="post"], form[method="get"]')) {
      found.push('element ' + tag);
    }
    for (const attribute of node.attributes) {
      const name = attribute.name.toLowerCase();
      const value = attribute.value.replace(/[\\x00-\\x20]+/g, '').toLowerCase();
      if (name.startsWith('on')) found.push(tag + ' ' + name);
      if (['href', 'src', 'action', 'formaction', 'xlink:href'].includes(name) &&
          /^(javascript|vbscript|data):/.test(value)) found.push(tag + ' ' + name + '=' + value);
      if (name === 'style') found.push(tag + ' style');
    }
  }
  return found;
}"""


def _open(contexts: Callable[[str], BrowserContext], base_url: str, username: str) -> Page:
    page = contexts(NEUTRAL_LOCALE).new_page()
    _log_in(page, base_url, username)
    return page


def test_the_xss_payload_list_renders_harmless(
    settings: Settings,
    live_server: Callable[[], str],  # noqa: F811
    new_context: Callable[[str], BrowserContext],  # noqa: F811
) -> None:
    payloads = xss_payloads()
    with session_scope(settings) as session:
        world = build(session, settings)
        body = "\n\n".join(payloads)
        item = published(
            session,
            world,
            draft=ItemDraft(
                type="article",
                title="光猫 <script>alert(1)</script> <img src=x onerror=alert(2)>",
                body=body,
                tags=['"><svg onload=alert(3)>', "光猫"],
            ),
        )
        cased = published(
            session, world, draft=case(situation=body[:50_000], solution=body[:50_000])
        )
        for payload in payloads[:40]:
            items_service.add_comment(
                session=session, item_id=item.id, by=world.users["b1"], body=payload
            )
        item_id, case_id = item.id, cased.id
    base_url = live_server()
    page = _open(new_context, base_url, "a2")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    errors = _watch_errors(page)
    for path in (
        f"/knowledge/items/{item_id}",
        f"/knowledge/items/{case_id}",
        "/knowledge?q=光猫",
        "/knowledge?q=%3Cscript%3Ealert(1)%3C/script%3E",
        "/knowledge",
    ):
        page.goto(base_url + path)
        page.wait_for_load_state("load")
        assert page.evaluate(_DANGER) == [], path
        # Hover and focus everything a payload might hang a handler on.
        for link in page.locator(".kb-markdown a, .kb-markdown img").all()[:60]:
            link.hover()
    assert dialogs == []
    # The CSP never had to block anything: a blocked inline script would be a sanitizer miss.
    assert [error for error in errors if "Content Security Policy" in error] == []
    # The words of the payloads are still there, as text.
    page.goto(f"{base_url}/knowledge/items/{item_id}")
    assert "<script>alert(1)</script>" in page.locator("h1").inner_text()


def test_a_case_from_the_editor_to_a_colleagues_call(
    settings: Settings,
    live_server: Callable[[], str],  # noqa: F811
    new_context: Callable[[str], BrowserContext],  # noqa: F811
) -> None:
    with session_scope(settings) as session:
        world = build(session, settings)
        # The centre's synonyms: a colleague who says 调制解调器 finds what the author called 光猫.
        search_service.set_vocabulary(
            session=session, terms=["光猫"], synonyms=[["光猫", "猫", "调制解调器", "modem"]]
        )
        # An older case that says much the same: the editor shows it while the agent types.
        older = published(session, world, author="b1", draft=case(title="光猫LOS灯红了"))
        older_id = older.id
    base_url = live_server()

    author = _open(new_context, base_url, "a1")
    errors = _watch_errors(author)
    author.goto(f"{base_url}/knowledge/new")
    author.locator('input[name="title"]').fill("光猫红灯闪烁怎么处理")
    author.locator('input[name="category"]').fill("宽带/故障")
    author.locator('textarea[name="situation"]').fill(CASE.situation)
    author.locator('textarea[name="solution"]').fill(CASE.solution)
    author.locator('textarea[name="result"]').fill(CASE.result)
    author.locator('input[name="tags"]').fill("宽带，光猫")
    hint = author.locator(f'#kb-duplicates a[href="/knowledge/items/{older_id}"]')
    hint.wait_for(timeout=10_000)
    author.locator('button[name="submit"][value="review"]').click()
    author.wait_for_url(lambda url: "/knowledge/items/" in url)
    new_id = int(author.url.rstrip("/").rsplit("/", 1)[1])

    # QA returns it: the dispatch step is missing.
    qa = _open(new_context, base_url, "qa")
    qa.goto(f"{base_url}/knowledge/review")
    qa.locator(f'a[href="/knowledge/items/{new_id}"]').click()
    qa.locator('textarea[name="comment"]').fill("请补充：重启无效时如何派单")
    qa.locator('button[name="decision"][value="return"]').click()
    qa.wait_for_url(f"{base_url}/knowledge/items/{new_id}")
    assert qa.goto(f"{base_url}/knowledge/items/{new_id}").status == 404  # a draft again

    # The author reads the comment, fixes the solution (previewed) and submits again.
    author.goto(f"{base_url}/knowledge/items/{new_id}")
    assert "请补充：重启无效时如何派单" in author.locator(".kb-reviews").inner_text()
    author.goto(f"{base_url}/knowledge/items/{new_id}/edit")
    author.locator('textarea[name="solution"]').fill(
        CASE.solution + "\n4. **重启无效**：派单上门，告知客户 24 小时内联系。"
    )
    author.locator("#kb-preview-button").click()
    author.locator("#kb-preview strong").filter(has_text="重启无效").wait_for()
    author.locator('button[name="submit"][value="review"]').click()
    author.wait_for_url(f"{base_url}/knowledge/items/{new_id}")

    qa.goto(f"{base_url}/knowledge/review")
    qa.locator(f'a[href="/knowledge/items/{new_id}"]').click()
    qa.locator('select[name="grade"]').select_option("5")
    qa.locator('button[name="decision"][value="approve"]').click()
    qa.wait_for_url(f"{base_url}/knowledge/items/{new_id}")

    # A colleague asks in other words, from the top bar, and finds it.
    colleague = _open(new_context, base_url, "b1")
    colleague.locator(".kb-top-search input").fill("调制解调器 红灯")
    colleague.locator(".kb-top-search input").press("Enter")
    colleague.locator(f'.kb-results a[href="/knowledge/items/{new_id}"]').click()
    assert "派单上门" in colleague.locator("article").inner_text()
    colleague.locator("form[action$='/vote'] button").click()
    colleague.locator('input[name="call_id"]').fill("1760001000.42")
    colleague.locator("form[action$='/usages'] button").click()
    colleague.locator(".kb-usages").filter(has_text="1760001000.42").wait_for()

    # The trainer adopts it as best practice.
    trainer = _open(new_context, base_url, "trainer")
    trainer.goto(f"{base_url}/knowledge/items/{new_id}")
    trainer.locator("form[action$='/adopt'] button").click()
    trainer.locator(".kb-adopted").first.wait_for()

    author.goto(f"{base_url}/knowledge/mine")
    ledger = author.locator(".kb-ledger").inner_text()
    # Published 10, grade 5: 5, adopted 20, one helpful vote 1, one call 1: 37 in all.
    for points in ("10", "5", "20", "1"):
        assert points in ledger
    assert "37" in author.locator("main dl.facts").inner_text()
    assert errors == []
