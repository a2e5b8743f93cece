"""What a clumsy or hostile URL gets: a 422 for ids and pages no database holds (never an
overflow deep in SQL), and the product's own page, in the reader's language, for any error
that still escapes."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.db import session_scope, upgrade_schema
from agentladder.web.app import create_app
from tests.conftest import fresh_database_url, make_settings
from tests.factories import login, make_agent, make_team, make_user

HUGE = "99999999999999999999"  # beyond 64 bits
BEYOND_INTEGER = str(2**31)  # fits 64 bits; PostgreSQL's integer keys once raised on it


@pytest.fixture
def admin(settings: Settings, session: Session) -> TestClient:
    make_team(session, "T01", "客服一组")
    make_agent(session, employee_no="100001", name="王芳", team_code="T01")
    make_user(session, settings, "admin", ["admin"])
    session.commit()
    return login(TestClient(create_app(settings), raise_server_exceptions=False), "admin")


@pytest.mark.parametrize(
    "path",
    [
        f"/agents/{HUGE}",
        f"/agents/{HUGE}/scorecard",
        f"/agents/{HUGE}/kpis",
        f"/api/agents/{HUGE}",
        f"/api/agents/{HUGE}/metrics",
        f"/imports/{HUGE}",
        f"/agents?page={HUGE}",
        f"/api/agents?page={HUGE}",
        f"/ladder?team={HUGE}",
        "/agents/0",
        f"/agents/{BEYOND_INTEGER}",
        f"/api/agents/{BEYOND_INTEGER}",
        f"/imports/{BEYOND_INTEGER}",
        f"/ladder?team={BEYOND_INTEGER}",
    ],
)
def test_ids_and_pages_beyond_any_row_are_a_422(admin: TestClient, path: str) -> None:
    response = admin.get(path)
    assert response.status_code == 422, response.text[:300]


def test_an_error_that_escapes_gets_the_products_page(tmp_path: Path, worker_name: str) -> None:
    url = fresh_database_url(tmp_path, f"{worker_name}_broken")
    settings = make_settings(tmp_path / "data", url)
    upgrade_schema(settings)
    with session_scope(settings) as session:
        make_user(session, settings, "admin", ["admin"])
    client = login(TestClient(create_app(settings), raise_server_exceptions=False), "admin")
    # A store broken under the running server: its agents table is gone.
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE agents RENAME TO agents_gone"))
    engine.dispose()
    page = client.get("/agents")
    assert page.status_code == 500
    assert 'href="/static/app.css"' in page.text  # the product's styled page, not a bare 500
    assert "已记录" in page.text  # in the reader's language (the tests' default is Chinese)
    api = client.get("/api/agents")
    assert api.status_code == 500
    assert "logged" in api.json()["detail"] or "已记录" in api.json()["detail"]
