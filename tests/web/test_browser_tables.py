"""The table component in a real browser: the KPI table's agent column stays in view while
the others scroll sideways, and the columns a user chose survive a reload."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.metrics import service as metrics_service
from agentladder.metrics.models import MetricValue
from tests.factories import make_agent, make_team, make_user
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


def test_kpi_table_keeps_the_agent_column_and_remembers_columns(
    settings: Settings,
    live_server: Callable[[], str],  # noqa: F811
    new_context: Callable[[str], BrowserContext],  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    with session_scope(settings) as db:
        make_team(db, "T01", "客服一组")
        for index in range(1, 6):
            agent = make_agent(
                db, employee_no=f"10000{index}", name=f"座席{index}", team_code="T01"
            )
            for metric_id in metrics_service.AGENT_METRIC_IDS:
                db.add(
                    MetricValue(
                        period_kind="month",
                        period="2026-10",
                        scope="agent",
                        subject=agent.employee_no,
                        agent_id=agent.id,
                        metric_id=metric_id,
                        value=0.5 + index / 100,
                        numerator=None,
                        denominator=None,
                        sample_size=100,
                        engine="duckdb",
                    )
                )
        make_user(db, settings, "manager", ["manager"])
    base_url = live_server()
    context = new_context(NEUTRAL_LOCALE)
    page = context.new_page()
    page.set_viewport_size({"width": 700, "height": 800})
    errors = _watch_errors(page)
    _log_in(page, base_url, "manager")
    page.goto(f"{base_url}/kpis/agents?period=2026-10")

    chooser = page.locator('details.column-chooser[data-table="kpi-table"]')
    expect(chooser).to_be_visible()
    hold = page.locator('#kpi-table th[data-col="avg_hold_s"]')
    expect(hold).to_be_hidden()  # not among the default columns
    chooser.locator("summary").click()
    chooser.locator('button[data-action="all"]').click()
    expect(hold).to_be_visible()
    chooser.locator('input[value="handled_calls"]').uncheck()
    calls = page.locator('#kpi-table th[data-col="handled_calls"]')
    expect(calls).to_be_hidden()
    chooser.locator("summary").click()

    # Scrolled to the far right, the agent's number is still where it was, uncovered.
    frame = page.locator(".datatable-frame")
    widths = frame.evaluate("f => [f.scrollWidth, f.clientWidth]")
    assert widths[0] > widths[1] * 2, widths
    first_cell = page.locator("#kpi-table tbody tr").first.locator("td").first
    before = first_cell.bounding_box()
    frame.evaluate("f => { f.scrollLeft = f.scrollWidth; }")
    page.wait_for_function("() => document.querySelector('.datatable-frame').scrollLeft > 0")
    after = first_cell.bounding_box()
    assert before is not None
    assert after is not None
    assert abs(after["x"] - before["x"]) < 1
    on_top = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).closest('td')?.textContent.trim()",
        [after["x"] + after["width"] / 2, after["y"] + after["height"] / 2],
    )
    assert on_top == "100001"
    last_header = page.locator('#kpi-table th[data-col="idle_busy_ratio"]')
    expect(last_header).to_be_in_viewport()

    # The choice survives a reload (and a new page of the same browser).
    page.reload()
    expect(calls).to_be_hidden()
    expect(hold).to_be_visible()
    expect(page.locator("#kpi-table tbody tr").first.locator("td").nth(3)).to_be_hidden()
    chooser.locator("summary").click()
    expect(chooser.locator('input[value="handled_calls"]')).not_to_be_checked()
    chooser.locator('button[data-action="reset"]').click()
    expect(calls).to_be_visible()
    expect(hold).to_be_hidden()
    assert errors == []
