"""Charts on pages: the script comes from this server (cached under a versioned URL, no
CDN), the pages carry their charts' specifications, and a real browser draws them in Chinese
and English with no script or policy error."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.ladder.decisions import service as decisions_service
from agentladder.ladder.policy import service as policy_service
from agentladder.periods import parse_period
from agentladder.reports.charts import service as charts_service
from agentladder.web.app import create_app
from tests.factories import login, make_agent, make_team, make_user
from tests.ladder.builders import HIRED, give, policy_text
from tests.web.test_browser import (  # noqa: F401 - fixtures
    _log_in,
    _watch_errors,
    browser,
    live_server,
    new_context,
)

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext


def test_chart_script_is_served_here_and_cached(settings: Settings) -> None:
    client = TestClient(create_app(settings))
    version = charts_service.script_version()
    url = f"/assets/charts.js?v={version}"
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert plain.headers["content-type"].startswith("text/javascript")
    assert plain.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "window.vegaEmbed=" in plain.text
    assert len(plain.content) > 500_000  # Vega, Vega-Lite and vega-embed themselves
    zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert int(zipped.headers["content-length"]) < len(plain.content)
    assert zipped.content == plain.content  # the client unzipped it
    # An old or missing version is revalidated, never kept for a year.
    stale = client.get("/assets/charts.js?v=old", headers={"Accept-Encoding": "identity"})
    assert stale.headers["cache-control"] == "no-cache"
    again = client.get(url, headers={"If-None-Match": plain.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert gzip.decompress(charts_service.browser_script().gzipped) == plain.content


def _centre(settings: Settings) -> dict[str, int]:
    with session_scope(settings) as db:
        make_team(db, code="T01", name="客服一组")
        make_team(db, code="T02", name="客服二组")
        wang = make_agent(db, employee_no="A0001", name="王芳", team_code="T01", hire_date=HIRED)
        li = make_agent(db, employee_no="A0002", name="李娜", team_code="T02", hire_date=HIRED)
        make_user(db, settings, "lina", ["agent"], agent=li)
        make_user(db, settings, "boss", ["manager"])
        policy_service.apply_policy(session=db, text=policy_text(consecutive=2, approval="manager"))
        for period, wang_score, li_score in (("2026-09", 80, 48), ("2026-10", 90, 52)):
            give(db, wang, period, score=wang_score)
            give(db, li, period, score=li_score)
            decisions_service.run_period(session=db, period=parse_period(period))
        db.flush()
        return {"wang": wang.id, "li": li.id}


def test_pages_carry_their_charts(settings: Settings) -> None:
    ids = _centre(settings)
    client = login(TestClient(create_app(settings)), "boss")
    page = client.get(f"/agents/{ids['li']}/scorecard").text
    bundle = f"/assets/charts.js?v={charts_service.script_version()}"
    assert f'<script src="/static/charts.js" data-bundle="{bundle}" defer>' in page
    assert "data-vega-lite" in client.get("/static/charts.js").text
    [spec_text] = re.findall(r"data-vega-lite='([^']*)'", page)
    spec = json.loads(spec_text.replace("&#39;", "'"))
    line = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "line")
    assert [row["category"] for row in line["data"]["values"]] == ["2026-09", "2026-10"]
    dashboard = client.get("/ladder").text
    assert {"level-pyramid-chart", "score-distribution-chart", "teams-compared-chart"} <= set(
        re.findall(r'class="chart" id="([^"]+)"', dashboard)
    )
    # A page without charts loads no chart script.
    assert "/assets/charts.js" not in client.get("/agents").text


@pytest.mark.browser
@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_browser_draws_the_charts(
    settings: Settings,
    live_server: Callable[[], str],  # noqa: F811
    new_context: Callable[[str], BrowserContext],  # noqa: F811
    locale: str,
) -> None:
    from playwright.sync_api import expect

    ids = _centre(settings)
    base_url = live_server()
    page = new_context(locale).new_page()
    errors = _watch_errors(page)
    _log_in(page, base_url, "boss")
    # The server bundles the script on its first request (a few seconds on a busy machine).
    page.goto(f"{base_url}/agents/{ids['li']}/scorecard", wait_until="domcontentloaded")
    chart = page.locator("#score-trend-chart")
    expect(chart).to_have_attribute("data-drawn", "true", timeout=60_000)
    expect(chart.locator("svg .mark-line path")).to_have_count(1)
    threshold = "晋级需 57.0 分" if locale == "zh-CN" else "Next level needs 57.0"
    expect(chart.locator("svg")).to_contain_text(threshold)
    page.goto(f"{base_url}/ladder")
    for chart_id in ("level-pyramid-chart", "score-distribution-chart", "teams-compared-chart"):
        expect(page.locator(f"#{chart_id}")).to_have_attribute("data-drawn", "true")
    level = "初级座席·新手" if locale == "zh-CN" else "Basic Fresh"
    expect(page.locator("#level-pyramid-chart svg")).to_contain_text(level)
    assert errors == []
