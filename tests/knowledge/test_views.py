"""The library's pages and API through the app: an agent writes a case and submits it, a QA
evaluator approves it, a colleague finds it from the top bar, votes and links a call; another
agent's draft is 404 (page, API, history, attachment); attachments are checked and served only
to readers; the JSON search contract."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.knowledge.items import service as items_service
from agentladder.web.app import create_app
from tests.factories import login
from tests.knowledge.kb_world import CASE, World, build, case, published

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class Library:
    settings: Settings
    world: World

    def client(self, username: str) -> TestClient:
        return login(TestClient(create_app(self.settings)), username)


@pytest.fixture
def library(settings: Settings) -> Library:
    with session_scope(settings) as session:
        world = build(session, settings)
    return Library(settings, world)


def _form(**changes: str) -> dict[str, str]:
    form = {
        "type": "case",
        "category": CASE.category,
        "title": CASE.title,
        "title_en": CASE.title_en,
        "situation": CASE.situation,
        "solution": CASE.solution,
        "result": CASE.result,
        "body": "",
        "tags": "宽带，光猫、故障排查",
        "products": "光宽带",
        "queues": "",
        "skill_groups": "",
        "note": "",
    }
    form.update(changes)
    return form


def _item_id(response: object) -> int:
    location = response.headers["location"]  # type: ignore[attr-defined]
    match = re.fullmatch(r"/knowledge/items/(\d+)", location)
    assert match, location
    return int(match.group(1))


def test_a_case_from_draft_to_a_colleagues_search(library: Library) -> None:
    agent = library.client("a1")
    response = agent.post("/knowledge/items", data=_form(submit="review"), follow_redirects=False)
    assert response.status_code == 303
    item_id = _item_id(response)
    page = agent.get(f"/knowledge/items/{item_id}")
    assert page.status_code == 200
    assert "光猫红灯闪烁怎么处理" in page.text
    assert "故障排查" in page.text  # the tags typed with Chinese separators
    # A colleague cannot see it yet; QA approves it from the review queue.
    assert library.client("a2").get(f"/knowledge/items/{item_id}").status_code == 404
    qa = library.client("qa")
    assert f"/knowledge/items/{item_id}" in qa.get("/knowledge/review").text
    response = qa.post(
        f"/knowledge/items/{item_id}/review",
        data={"decision": "approve", "grade": "5", "comment": ""},
        follow_redirects=False,
    )
    assert response.status_code == 303
    colleague = library.client("b1")
    found = colleague.get("/knowledge/search", params={"q": "光猫 红灯"}, follow_redirects=True)
    assert found.status_code == 200
    assert f"/knowledge/items/{item_id}" in found.text
    assert "<mark>" in found.text  # the snippet marks what matched
    colleague.post(f"/knowledge/items/{item_id}/vote", data={"helpful": "yes"})
    colleague.post(f"/knowledge/items/{item_id}/usages", data={"call_id": "1700000000.7"})
    page = colleague.get(f"/knowledge/items/{item_id}").text
    assert "1700000000.7" in page
    mine = agent.get("/knowledge/mine").text
    assert "光猫红灯闪烁怎么处理" in mine
    # Publishing (10), grade 5 (5), the vote (1) and the call (1).
    assert "17" in mine


def test_another_agents_draft_is_not_found_anywhere(library: Library) -> None:
    with session_scope(library.settings) as session:
        draft = items_service.create_item(session=session, draft=CASE, by=library.world.users["a1"])
        draft_id = draft.id
    author = library.client("a1")
    upload = author.post(
        f"/knowledge/items/{draft_id}/attachments",
        files={"file": ("plan.png", PNG, "image/png")},
        follow_redirects=False,
    )
    assert upload.status_code == 303
    author_page = author.get(f"/knowledge/items/{draft_id}").text
    [attachment_url] = re.findall(rf"/knowledge/items/{draft_id}/attachments/\d+", author_page)
    assert author.get(attachment_url).content == PNG
    other = library.client("a2")
    for path in (
        f"/knowledge/items/{draft_id}",
        f"/knowledge/items/{draft_id}/edit",
        f"/knowledge/items/{draft_id}/revisions",
        f"/api/knowledge/items/{draft_id}",
        attachment_url,
    ):
        assert other.get(path).status_code == 404, path
    assert (
        other.post(f"/knowledge/items/{draft_id}/edit", data=_form(title="改掉")).status_code == 404
    )
    assert other.post(f"/knowledge/items/{draft_id}/submit").status_code == 404
    # Not even a reviewer sees a draft that was never submitted.
    assert library.client("qa").get(f"/knowledge/items/{draft_id}").status_code == 404
    # Anonymous: the login page, never the file.
    anonymous = TestClient(create_app(library.settings))
    assert anonymous.get(attachment_url, follow_redirects=False).status_code in (303, 401)


def test_attachments_are_checked(library: Library) -> None:
    with session_scope(library.settings) as session:
        item_id = published(session, library.world).id
    author = library.client("a1")
    for name, data in (
        ("run.exe", b"MZ..."),
        ("fake.png", b"<svg onload=alert(1)>"),
        ("../../etc/passwd.txt", b"\xff\xfe"),
    ):
        response = author.post(
            f"/knowledge/items/{item_id}/attachments", files={"file": (name, data, "image/png")}
        )
        assert response.status_code == 422, name
    response = author.post(
        f"/knowledge/items/{item_id}/attachments",
        files={"file": ("../../notes.txt", "第一步".encode(), "text/plain")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = author.get(f"/knowledge/items/{item_id}").text
    assert "notes.txt" in page
    assert "../" not in page.split("notes.txt")[0][-40:]
    [url] = re.findall(rf"/knowledge/items/{item_id}/attachments/\d+", page)
    served = library.client("b1").get(url)
    assert served.headers["content-disposition"].startswith("attachment")
    assert served.headers["x-content-type-options"] == "nosniff"
    # A colleague may read the item but not attach to it.
    colleague = library.client("b1")
    response = colleague.post(
        f"/knowledge/items/{item_id}/attachments", files={"file": ("x.txt", b"x", "text/plain")}
    )
    assert response.status_code == 404


def test_the_json_search_contract(library: Library) -> None:
    with session_scope(library.settings) as session:
        item_id = published(session, library.world).id
    body = library.client("b1").get("/api/knowledge/search", params={"q": "光猫红灯"}).json()
    assert body["query"] == "光猫红灯"
    [hit] = body["results"]
    assert set(hit) == {"id", "title", "type", "score", "snippet"}
    assert (hit["id"], hit["type"], hit["title"]) == (item_id, "case", CASE.title)
    assert hit["score"] > 0
    assert "<" not in hit["snippet"]


def test_the_editor_shows_problems_and_keeps_what_was_typed(library: Library) -> None:
    agent = library.client("a1")
    response = agent.post("/knowledge/items", data=_form(solution="", title="半截的案例"))
    assert response.status_code == 422
    assert "半截的案例" in response.text
    assert "situation and its solution" not in response.text
    assert agent.get("/knowledge/new").status_code == 200
    preview = agent.post("/knowledge/preview", json={"text": "**粗体** <script>alert(1)</script>"})
    assert "<strong>粗体</strong>" in preview.text
    assert "<script>" not in preview.text


def test_settings_are_for_trainers_and_managers(library: Library) -> None:
    assert library.client("a1").get("/knowledge/settings").status_code == 403
    assert library.client("lead").get("/knowledge/settings").status_code == 403
    trainer = library.client("trainer")
    page = trainer.get("/knowledge/settings")
    assert page.status_code == 200
    assert "half_life_months" in page.text
    bad = trainer.post("/knowledge/settings/rules", data={"rules": "adopted: lots"})
    assert bad.status_code == 422
    saved = trainer.post(
        "/knowledge/settings/vocabulary",
        data={"terms": "光猫\n机顶盒", "synonyms": "宽带 = 网络 = 网\n退款＝退钱"},
        follow_redirects=True,
    )
    assert saved.status_code == 200
    assert "退款 = 退钱" in saved.text
    assert library.client("manager").get("/knowledge/reports").status_code == 200
    assert library.client("a1").get("/knowledge/reports").status_code == 403


def test_qa_links_the_knowledge_used_on_an_evaluated_call(library: Library) -> None:
    with session_scope(library.settings) as session:
        item_id = published(session, library.world).id
    qa = library.client("qa")
    found = qa.get("/knowledge", params={"q": "光猫", "call": "call-42"}).text
    assert f'action="/knowledge/items/{item_id}/usages"' in found
    assert 'name="call_id" value="call-42"' in found
    qa.post(f"/knowledge/items/{item_id}/usages", data={"call_id": "call-42"})
    with session_scope(library.settings) as session:
        usages = items_service.usages(
            session=session, item_id=item_id, by=library.world.users["qa"]
        )
    assert [(call, source) for call, source, _ in usages] == [("call-42", "qa")]


def test_managers_audit_any_agents_ledger_team_leads_their_teams(library: Library) -> None:
    with session_scope(library.settings) as session:
        published(session, library.world, author="a1", grade=5)
        published(session, library.world, author="b1", draft=case(title="二组的案例"))
    a1 = library.world.agents["a1"].employee_no
    b1 = library.world.agents["b1"].employee_no
    audit = library.client("manager").get("/knowledge/points", params={"agent": a1})
    assert audit.status_code == 200
    assert "张三" in audit.text
    assert "15" in audit.text  # published 10 + grade 5
    lead = library.client("lead")  # leads T1: a1's team, not b1's
    assert lead.get("/knowledge/points", params={"agent": a1}).status_code == 200
    assert lead.get("/knowledge/points", params={"agent": b1}).status_code == 404
    assert library.client("a2").get("/knowledge/points", params={"agent": a1}).status_code == 403


def test_reviewers_search_what_waits_for_review_agents_do_not(library: Library) -> None:
    with session_scope(library.settings) as session:
        waiting = items_service.create_item(
            session=session, draft=case(title="待审核的光猫案例"), by=library.world.users["a1"]
        )
        items_service.submit(session=session, item_id=waiting.id, by=library.world.users["a1"])
        waiting_id = waiting.id
    params = {"q": "光猫", "status": "in_review"}
    found = library.client("qa").get("/api/knowledge/search", params=params).json()
    assert [hit["id"] for hit in found["results"]] == [waiting_id]
    assert library.client("a2").get("/api/knowledge/search", params=params).status_code == 422
    published_only = library.client("a2").get("/api/knowledge/search", params={"q": "光猫"})
    assert published_only.json()["results"] == []
    page = library.client("qa").get("/knowledge", params=params).text
    assert f"/knowledge/items/{waiting_id}" in page
