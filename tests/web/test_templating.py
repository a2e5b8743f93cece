"""The page shell: the menu lights the one item a page belongs to."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.web.app import create_app
from agentladder.web.templating import NavItem, current_item
from tests.factories import login, make_user


def test_the_longest_menu_path_a_page_is_under_wins() -> None:
    items = [
        NavItem("Agents", "/agents"),
        NavItem("My scorecard", "/agents/7/scorecard"),
        NavItem("Ladder", "/ladder"),
        NavItem("Decisions", "/ladder/decisions"),
        NavItem("Policy", "/ladder/policy"),
    ]
    assert current_item(items, "/ladder/decisions") == "/ladder/decisions"
    assert current_item(items, "/ladder") == "/ladder"
    assert current_item(items, "/ladder/export") == "/ladder"
    assert current_item(items, "/agents/7/scorecard") == "/agents/7/scorecard"
    assert current_item(items, "/agents/8") == "/agents"
    assert current_item(items, "/ladderx") is None  # a folder, not a text prefix
    assert current_item(items, "/") is None


def test_a_page_lights_one_menu_item(settings: Settings, session: Session) -> None:
    make_user(session, settings, "boss", ["manager"])
    session.commit()
    boss = login(TestClient(create_app(settings)), "boss")
    for path, href in (("/ladder/policy", "/ladder/policy"), ("/ladder", "/ladder")):
        page = boss.get(path)
        assert page.status_code == 200
        lit = re.findall(r'<a href="([^"]+)" aria-current="page"', page.text)
        assert lit == [href]
