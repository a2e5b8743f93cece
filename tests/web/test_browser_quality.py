"""QA in a real browser: an evaluator scores an assigned call with the recording player (the
audio loads, seeks and changes speed), the draft survives a reload, and they submit; the agent
sees the evaluation and disputes an item; their team lead overturns it and the score shown is
recomputed."""

from __future__ import annotations

import math
import struct
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from agentladder.config import Settings
from agentladder.db import session_scope
from tests.quality.qa_world import FORM, build
from tests.web.test_browser import (  # noqa: F401 - fixtures
    NEUTRAL_LOCALE,
    _log_in,
    _watch_errors,
    browser,
    live_server,
    new_context,
)

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Locator, Page

pytestmark = pytest.mark.browser

SECONDS = 30


def write_tone(path: Path, seconds: int = SECONDS, rate: int = 8000) -> None:
    """A 440 Hz tone: a real recording the browser can decode and seek in."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / rate)))
        for n in range(seconds * rate)
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)


def _until(locator: Locator, predicate: str, timeout_s: float = 10.0) -> None:
    """Wait until a function of the element holds (evaluated as a function: the pages' CSP
    forbids evaluating strings)."""
    deadline = time.monotonic() + timeout_s
    while not locator.evaluate(predicate):
        assert time.monotonic() < deadline, f"not within {timeout_s} s: {predicate}"
        time.sleep(0.1)


def _real(errors: list[str]) -> list[str]:
    """The page's errors, less the audio streams the browser drops when it leaves the page
    (a media request still open is aborted, which the watcher reports as failed)."""
    return [e for e in errors if not (e.startswith("failed: ") and e.endswith("/recording"))]


def _answer_everything(page: Page, failed: str) -> None:
    for item in FORM.items():
        value = "no" if item.code == failed else ("yes" if item.kind == "yes_no" else "4")
        page.locator(f'#item-{item.code} input[type="radio"][value="{value}"]').check()


def test_an_evaluator_scores_a_call_the_agent_disputes_and_the_lead_overturns(
    settings: Settings,
    live_server: Callable[[], str],  # noqa: F811
    new_context: Callable[[str], BrowserContext],  # noqa: F811
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    recordings = tmp_path / "recordings"
    # The server reads its recordings folder from agentladder.toml in its working directory.
    (tmp_path / "agentladder.toml").write_text(f'recordings_dir = "{recordings}"\n')
    # Call c1 began 2025-10-09 08:53 UTC: 16:53 in the centre's zone (Asia/Shanghai).
    write_tone(recordings / "2025" / "10" / "09" / "c1.wav")
    with session_scope(settings) as db:
        world = build(db, settings)
        sampled_id = world.sampled_id
    base_url = live_server()

    # 1. The evaluator opens the assigned call, listens, seeks, scores it and submits.
    page = new_context(NEUTRAL_LOCALE).new_page()
    errors = _watch_errors(page)
    _log_in(page, base_url, "eva")
    page.goto(f"{base_url}/quality/my-calls")
    expect(page.locator("#assigned-calls")).to_contain_text("王芳")
    page.locator(f'form[action="/quality/my-calls/{sampled_id}/start"] button').click()
    expect(page.locator("#call-facts")).to_contain_text("support")
    player = page.locator("#player")
    _until(page.locator("#player"), "audio => audio.readyState >= 1")
    duration = player.evaluate("audio => audio.duration")
    assert abs(duration - SECONDS) < 0.5
    page.locator('#player-tools button[data-skip="10"]').click()
    page.locator('#player-tools button[data-skip="10"]').click()
    page.locator('#player-tools button[data-skip="-10"]').click()
    _until(player, "audio => Math.abs(audio.currentTime - 10) < 0.5")
    _until(player, "audio => audio.seekable.length > 0 && audio.seekable.end(0) > 29")
    page.locator("#player-speed").select_option("1.5")
    assert player.evaluate("audio => audio.playbackRate") == 1.5
    _answer_everything(page, failed="no_customer_loss")
    page.locator('input[name="comment_no_customer_loss"]').fill("承诺了无法兑现的退款")
    expect(page.locator("#qa-form")).to_have_attribute("data-saved", "1", timeout=15_000)
    expect(page.locator("#autosave-status")).to_contain_text("保存")
    page.reload()  # nothing is lost
    expect(page.locator('#item-no_customer_loss input[value="no"]')).to_be_checked()
    expect(page.locator('input[name="comment_no_customer_loss"]')).to_have_value(
        "承诺了无法兑现的退款"
    )
    page.locator("#submit-evaluation").click()
    expect(page.locator("#qa-score")).to_contain_text("0.0 分")
    expect(page.locator("#qa-score")).to_contain_text("致命错误")
    page.screenshot(path=str(tmp_path / "evaluated.png"), full_page=True)
    assert _real(errors) == []

    # 2. The agent reads it, acknowledges it and disputes the fatal item.
    page = new_context(NEUTRAL_LOCALE).new_page()
    errors = _watch_errors(page)
    _log_in(page, base_url, "agent1")
    page.goto(f"{base_url}/quality/my-evaluations")
    page.locator("#my-evaluations a").first.click()
    _until(page.locator("#player"), "audio => audio.readyState >= 1")
    page.locator("#acknowledge").click()
    row = page.locator("#row-no_customer_loss")
    row.locator("summary").click()
    row.locator('textarea[name="reason"]').fill("客户并未因此产生费用")
    row.get_by_role("button", name="提交申诉").click()
    expect(page.locator("#row-no_customer_loss")).to_contain_text("客户并未因此产生费用")
    expect(page.locator("#audit-trail")).to_contain_text("已申诉")
    assert _real(errors) == []

    # 3. The agent's team lead overturns it; the call is rescored at once.
    page = new_context(NEUTRAL_LOCALE).new_page()
    errors = _watch_errors(page)
    _log_in(page, base_url, "lead1")
    page.goto(f"{base_url}/quality/disputes")
    dispute = page.locator("#disputes tbody tr").first
    expect(dispute).to_contain_text("客户并未因此产生费用")
    dispute.locator('input[name="answer"][value="yes"]').check()
    dispute.locator('input[name="note"]').fill("录音中未承诺退款")
    dispute.get_by_role("button", name="改判").click()
    expect(page.locator("#disputes")).to_contain_text("没有待裁决的申诉")
    page.goto(page.url.replace("/quality/disputes", "/quality/disputes?status=all"))
    page.locator("#disputes tbody tr a").first.click()
    expect(page.locator("#qa-score")).to_contain_text("100.0 分")
    expect(page.locator("#qa-score")).not_to_contain_text("致命错误")
    expect(page.locator("#audit-trail")).to_contain_text("0.0 → 100.0")
    assert _real(errors) == []
