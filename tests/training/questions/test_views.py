"""The question bank's pages and API through the real app: who may open them, the browser,
the editor (every type, problems beside the fields, versions), import and export, pictures,
and texts from files rendered safely."""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.training.exams import service as exams
from agentladder.training.exams.schemas import ExamSettings
from agentladder.training.questions import importing
from agentladder.training.questions import service as bank
from agentladder.training.questions.rendering import question_html
from agentladder.training.questions.schemas import QUESTION_TYPES, Question, QuestionFilter
from agentladder.web.app import create_app
from agentladder.web.auth import LANGUAGE_COOKIE
from tests.factories import login, make_agent, make_team, make_user

NOW = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
# A 1x1 PNG.
PIXEL = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
    )
).decode()
GIFT = """$CATEGORY: 产品知识/宽带

::300M 套餐::下列哪个套餐的下行速率是 300M？{
=安心宽带 300M#对
~安心宽带 100M#不对
}

::七天无理由::宽带安装后七天内可以无理由退订。{T}
"""
MOODLE_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<quiz>
  <question type="category"><category><text>$course$/top/服务技能</text></category></question>
  <question type="multichoice">
    <name><text>看图选择</text></name>
    <questiontext format="html">
      <text><![CDATA[<p>哪个按钮？<img src="@@PLUGINFILE@@/button.png" alt="按钮"></p>]]></text>
      <file name="button.png" path="/" encoding="base64">{PIXEL}</file>
    </questiontext>
    <single>true</single>
    <answer fraction="100" format="html"><text>挂机</text></answer>
    <answer fraction="0" format="html"><text>保持</text></answer>
  </question>
  <question type="calculated">
    <name><text>计算话费</text></name>
    <questiontext format="html"><text>话费是多少？</text></questiontext>
  </question>
</quiz>
"""


@dataclass
class Centre:
    settings: Settings
    ids: dict[str, int]


def single(name: str, category: tuple[str, ...] = ("产品知识",), **extra: Any) -> Question:
    return Question.model_validate(
        {
            "type": "single_choice",
            "name": name,
            "text": f"{name}？",
            "category": category,
            "difficulty": "easy",
            "choices": [
                {"text": "对的", "fraction": 1, "feedback": "好"},
                {"text": "错的", "fraction": 0},
            ],
            **extra,
        }
    )


@pytest.fixture
def centre(settings: Settings) -> Centre:
    """trainer, admin, agent (A0001), lead; questions in 产品知识, 产品知识/宽带 and 服务技能."""
    with session_scope(settings) as session:
        team = make_team(session, "T01", "客服一组")
        agent = make_agent(session, employee_no="A0001", name="王芳", team_code="T01")
        make_user(session, settings, "trainer", ["trainer"])
        make_user(session, settings, "admin", ["admin"])
        make_user(session, settings, "agent", ["agent"], agent=agent)
        make_user(session, settings, "lead", ["team_lead"], lead_team_id=team)
        make_user(session, settings, "qa", ["qa"])
        ids = {"agent": agent.id}
        for key, question in (
            ("plain", single("资费题")),
            ("broadband", single("宽带题", ("产品知识", "宽带"), tags=("宽带",))),
            ("skill", single("话术题", ("服务技能",), difficulty="hard")),
        ):
            ids[key] = bank.store_question(
                session=session, question=question, source="test"
            ).question_id
    return Centre(settings, ids)


def client_for(centre: Centre, username: str) -> TestClient:
    client = login(TestClient(create_app(centre.settings)), username)
    client.cookies.set(LANGUAGE_COOKIE, "en")
    return client


def attempt(centre: Centre, question_id: int, code: str = "EX1") -> None:
    """The agent starts an exam that shows the question."""
    with session_scope(centre.settings) as session:
        exams.save_exam(
            session=session,
            settings_in=ExamSettings.model_validate(
                {
                    "code": code,
                    "title": "考试",
                    "blueprint": {"sections": [{"question_ids": [question_id]}]},
                }
            ),
            user_id=None,
        )
        exams.set_exam_status(session=session, code=code, status="published")
        exams.start_attempt(session=session, exam_code=code, agent_id=centre.ids["agent"], now=NOW)


class _FormReader(HTMLParser):
    """The fields a browser would send for one form (inputs, text areas, selects, checked
    boxes), in page order."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._textarea: str | None = None
        self._text = ""
        self._select: str | None = None
        self._first_option: str | None = None
        self._chosen = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {key: value or "" for key, value in attrs}
        if tag == "form" and attr.get("id") == self.form_id:
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and "name" in attr:
            if attr.get("type") in ("checkbox", "radio") and "checked" not in attr:
                return
            self.fields.append((attr["name"], attr.get("value", "")))
        elif tag == "textarea":
            self._textarea, self._text = attr["name"], ""
        elif tag == "select":
            self._select, self._first_option, self._chosen = attr["name"], None, False
        elif tag == "option" and self._select is not None:
            if self._first_option is None:
                self._first_option = attr.get("value", "")
            if "selected" in attr:
                self.fields.append((self._select, attr.get("value", "")))
                self._chosen = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self._textarea is not None:
            # The HTML parser drops the one line break right after <textarea>.
            text = self._text[1:] if self._text.startswith("\n") else self._text
            self.fields.append((self._textarea, text.replace("\n", "\r\n")))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            if not self._chosen:
                self.fields.append((self._select, self._first_option or ""))
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data


def form_fields(html: str, form_id: str = "question-form") -> list[tuple[str, str]]:
    reader = _FormReader(form_id)
    reader.feed(html)
    return reader.fields


def post_form(client: TestClient, url: str, fields: list[tuple[str, str]], **changes: str) -> Any:
    body = [(name, changes.pop(name) if name in changes else value) for name, value in fields]
    body += list(changes.items())
    encoded = "&".join(f"{_quote(name)}={_quote(value)}" for name, value in body)
    return client.post(
        url,
        content=encoded,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


def _quote(text: str) -> str:
    from urllib.parse import quote_plus

    return quote_plus(text)


# --- who may open the pages ------------------------------------------------------------------


def test_agents_team_leads_and_qa_are_refused(centre: Centre) -> None:
    question = centre.ids["plain"]
    gets = [
        "/training/questions",
        f"/training/questions/{question}",
        f"/training/questions/{question}/edit",
        "/training/questions/new?type=essay",
        "/training/questions/import",
        "/training/questions/import/template",
        "/training/questions/export?format=gift",
        "/api/training/questions",
        f"/api/training/questions/{question}",
    ]
    posts = [
        f"/training/questions/{question}/retire",
        f"/training/questions/{question}/delete",
        f"/api/training/questions/{question}/retire",
    ]
    for username in ("agent", "lead", "qa"):
        client = client_for(centre, username)
        for url in gets:
            assert client.get(url).status_code == 403, (username, url)
        for url in posts:
            assert client.post(url, follow_redirects=False).status_code == 403, (username, url)
    for username in ("trainer", "admin"):
        client = client_for(centre, username)
        for url in gets:
            assert client.get(url).status_code == 200, (username, url)


# --- the browser -----------------------------------------------------------------------------


def test_browser_tree_counts_filters_and_search(centre: Centre) -> None:
    client = client_for(centre, "trainer")
    page = client.get("/training/questions").text
    tree = page[page.index('id="category-tree"') : page.index("</ul>", page.index("category-tree"))]
    # 产品知识 counts its own question and the one in 宽带 below it.
    assert re.search(r"产品知识</a> <span class=\"count\">2<", tree)
    assert re.search(r"宽带</a> <span class=\"count\">1<", tree)
    assert "3 questions." in page

    def names(url: str) -> list[str]:
        body = client.get(url).text
        table = body[body.index('id="question-table"') :]
        return re.findall(r'<a href="/training/questions/\d+">([^<]+)</a>', table)

    assert sorted(names("/training/questions?category=产品知识")) == ["宽带题", "资费题"]
    assert names("/training/questions?category=产品知识 / 宽带") == ["宽带题"]
    assert names("/training/questions?difficulty=hard") == ["话术题"]
    assert names("/training/questions?tag=宽带") == ["宽带题"]
    assert names("/training/questions?q=话术") == ["话术题"]
    assert names("/training/questions?type=essay") == []
    # Unknown filter values are no filter.
    assert len(names("/training/questions?type=nonsense&status=whatever")) == 3
    client.post(f"/training/questions/{centre.ids['skill']}/retire")
    assert "话术题" not in names("/training/questions")
    assert names("/training/questions?status=retired") == ["话术题"]
    assert len(names("/training/questions?status=all")) == 3


def test_browser_pages_through_many_questions(centre: Centre) -> None:
    with session_scope(centre.settings) as session:
        for number in range(55):
            bank.store_question(session=session, question=single(f"批量{number:02d}"), source="t")
    client = client_for(centre, "trainer")
    first = client.get("/training/questions").text
    assert "Page 1 of 2" in first
    assert 'rel="next"' in first
    second = client.get("/training/questions?page=2").text
    assert second.count("<tr>") + second.count('<tr class="retired">') >= 8


# --- the editor ------------------------------------------------------------------------------


def test_create_edit_in_place_then_new_version_after_an_attempt(centre: Centre) -> None:
    client = client_for(centre, "trainer")
    fields = form_fields(client.get("/training/questions/new?type=single_choice").text)
    created = post_form(
        client,
        "/training/questions/new?type=single_choice",
        fields,
        name="新题",
        text="哪个对？",
        category="产品知识 / 新类",
        tags="新, 宽带",
        difficulty="medium",
        choice_text="甲",
        choice_percent="100",
    )
    # Only the first row's fields were replaced; add a second option by posting again below.
    assert created.status_code == 422  # a single option is not a choice question
    assert "a choice question needs at least two options" in created.text
    assert 'value="新题"' in created.text  # what was typed is kept
    fields = form_fields(created.text)
    texts = iter(["甲", "乙"])
    percents = iter(["100", "0"])
    body = []
    for name, value in fields:
        if name == "choice_text":
            value = next(texts, value)
        elif name == "choice_percent":
            value = next(percents, value)
        body.append((name, value))
    created = post_form(client, "/training/questions/new?type=single_choice", body)
    assert created.status_code == 303, created.text[:2000]
    location = created.headers["location"]
    assert "saved=create" in location
    page = client.get(location).text
    assert "Question created." in page
    question_id = int(re.findall(r"/training/questions/(\d+)", location)[0])
    with session_scope(centre.settings) as session:
        read = bank.get_question(session=session, question_id=question_id)
    assert read.question.category == ("产品知识", "新类")
    assert read.question.tags == ("新", "宽带")
    assert [c.text for c in read.question.choices] == ["甲", "乙"]
    assert [c.fraction for c in read.question.choices] == [1, 0]

    # Unanswered: the edit changes version 1 in place.
    edit_url = f"/training/questions/{question_id}/edit"
    edited = post_form(client, edit_url, form_fields(client.get(edit_url).text), name="新题二")
    assert edited.status_code == 303
    assert "saved=update" in edited.headers["location"]
    page = client.get(edited.headers["location"]).text
    assert "its current version was changed" in page
    assert "1 of 1" in page

    # Answered: the edit makes version 2; the history shows both, version 1 can be opened.
    attempt(centre, question_id)
    edited = post_form(client, edit_url, form_fields(client.get(edit_url).text), name="新题三")
    assert "saved=new_version" in edited.headers["location"]
    page = client.get(edited.headers["location"]).text
    assert "Saved as version 2" in page
    assert "2 of 2" in page
    assert "Yes: attempts showed it" in page
    assert f'href="/training/questions/{question_id}?version=1"' in page
    old = client.get(f"/training/questions/{question_id}?version=1").text
    assert "新题二" in old
    assert 'id="old-version"' in old
    assert client.get(f"/training/questions/{question_id}?version=9").status_code == 404


@pytest.mark.parametrize("kind", [t for t in QUESTION_TYPES if t != "description"])
def test_every_type_round_trips_through_the_editor_unchanged(centre: Centre, kind: str) -> None:
    [example] = [q for q in importing._TEMPLATE_EXAMPLES if q.type == kind]
    example = example.model_copy(
        update={
            "general_feedback": "第一行\n第二行",
            "explanation": "\n开头换行的解析",
            "tags": ("甲", "乙"),
            "idnumber": f"id-{kind}",
        }
    )
    with session_scope(centre.settings) as session:
        question_id = bank.store_question(session=session, question=example, source="t").question_id
    client = client_for(centre, "trainer")
    edit_url = f"/training/questions/{question_id}/edit"
    page = client.get(edit_url)
    assert page.status_code == 200
    saved = post_form(client, edit_url, form_fields(page.text))
    assert saved.status_code == 303, saved.text[:3000]
    assert "saved=unchanged" in saved.headers["location"]
    assert "Nothing changed" in client.get(saved.headers["location"]).text


def test_new_forms_of_every_type_open(centre: Centre) -> None:
    client = client_for(centre, "trainer")
    for kind in QUESTION_TYPES:
        page = client.get(f"/training/questions/new?type={kind}")
        assert page.status_code == 200, kind
    assert client.get("/training/questions/new?type=cloze").status_code == 422


def test_problems_are_shown_beside_their_fields_and_input_is_kept(centre: Centre) -> None:
    client = client_for(centre, "trainer")
    url = "/training/questions/new?type=numerical"
    fields = form_fields(client.get(url).text)
    values = iter(["abc", "12"])
    body = [
        (name, next(values, value) if name == "number_value" else value) for name, value in fields
    ]
    refused = post_form(client, url, body, name="坏数字", text="多少？", default_mark="两分")
    assert refused.status_code == 422
    assert 'value="abc"' in refused.text
    assert 'value="两分"' in refused.text
    assert refused.text.count('aria-invalid="true"') == 2
    assert "must be a number" in refused.text
    assert 'id="form-problems"' in refused.text
    # A multiple-choice question whose right options do not add up: the model's own message.
    url = "/training/questions/new?type=multiple_choice"
    fields = form_fields(client.get(url).text)
    texts, percents = iter(["甲", "乙", "丙"]), iter(["50", "0", "150"])
    body = []
    for name, value in fields:
        if name == "choice_text":
            value = next(texts, value)
        elif name == "choice_percent":
            value = next(percents, value)
        body.append((name, value))
    refused = post_form(client, url, body, name="多选", text="选？")
    assert "must be between -100 and 100" in refused.text
    body = [(n, "20" if v == "150" else v) for n, v in body]
    refused = post_form(client, url, body, name="多选", text="选？")
    assert "must add up to the whole mark" in refused.text
    with session_scope(centre.settings) as session:
        assert bank.find_questions(session=session, query=QuestionFilter(search="多选")).total == 0


def test_preview_shows_the_question_without_saving(centre: Centre) -> None:
    client = client_for(centre, "trainer")
    url = "/training/questions/new?type=true_false"
    fields = form_fields(client.get(url).text)
    shown = post_form(
        client,
        url,
        fields,
        name="预览题",
        text="**粗体**",
        text_format="markdown",
        action="preview",
    )
    assert shown.status_code == 200
    assert 'id="question-preview"' in shown.text
    assert "<strong>粗体</strong>" in shown.text
    with session_scope(centre.settings) as session:
        assert bank.find_questions(session=session, query=QuestionFilter(search="预览")).total == 0


# --- a question's page: retire, restore, delete ----------------------------------------------


def test_retire_restore_and_delete(centre: Centre) -> None:
    client = client_for(centre, "trainer")
    plain, skill = centre.ids["plain"], centre.ids["skill"]
    retired = client.post(f"/training/questions/{plain}/retire", follow_redirects=True)
    assert "Question retired" in retired.text
    assert 'id="restore"' in retired.text
    restored = client.post(f"/training/questions/{plain}/restore", follow_redirects=True)
    assert 'id="retire"' in restored.text
    deleted = client.post(f"/training/questions/{plain}/delete", follow_redirects=True)
    assert "资费题" in deleted.text
    assert "deleted" in deleted.text
    assert client.get(f"/training/questions/{plain}").status_code == 404
    attempt(centre, skill)
    page = client.get(f"/training/questions/{skill}").text
    assert 'id="delete"' not in page
    refused = client.post(f"/training/questions/{skill}/delete")
    assert refused.status_code == 409
    assert "has been attempted: retire it instead" in refused.text


# --- rendering -------------------------------------------------------------------------------

XSS = (
    '<p>题<script>alert("x")</script><img src="x" onerror="alert(1)">'
    '<a href="javascript:alert(2)">链接</a><iframe src="//evil"></iframe>'
    '<b style="color:red" onclick="alert(3)">粗</b></p>'
)


def test_script_handlers_and_javascript_links_never_reach_the_page(centre: Centre) -> None:
    question = Question.model_validate(
        {
            "type": "multiple_choice",
            "name": "<script>alert('name')</script>",
            "text": XSS,
            "text_format": "html",
            "general_feedback": '<svg onload="alert(4)">',
            "choices": [
                {"text": XSS, "fraction": 0.5, "text_format": "html", "feedback": XSS},
                {"text": "<img src=x onerror=alert(5)>", "fraction": 0.5},
            ],
        }
    )
    with session_scope(centre.settings) as session:
        question_id = bank.store_question(
            session=session, question=question, source="t"
        ).question_id
    client = client_for(centre, "trainer")
    for url in (
        f"/training/questions/{question_id}",
        "/training/questions?q=alert",
    ):
        page = client.get(url).text
        assert "<script>alert" not in page
        assert "onerror" not in page
        assert "onload" not in page
        assert "onclick" not in page
        assert "javascript:" not in page
        assert "<iframe" not in page
        assert "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;" in page
    page = client.get(f"/training/questions/{question_id}").text
    assert "<b>粗</b>" in page  # formatting stays
    edit = client.get(f"/training/questions/{question_id}/edit").text
    assert "<script>alert" not in edit  # texts sit escaped in the editor's fields
    preview = post_form(
        client,
        f"/training/questions/{question_id}/edit",
        form_fields(edit),
        action="preview",
    )
    assert preview.status_code == 200
    # The page's own script only; no text brings another, nor a handler or a script link.
    assert not re.search(
        r'<script(?! src="/static/)|<[^>]*\bon\w+=|<[^>]*javascript:', preview.text
    )


@pytest.mark.parametrize("text_format", ["html", "moodle", "markdown", "plain"])
def test_every_format_is_sanitized(text_format: str) -> None:
    html = str(question_html(XSS + "\n[x](javascript:alert(1))", text_format))  # type: ignore[arg-type]
    # Escaped text may mention them; no tag carries them.
    assert "<script" not in html
    assert not re.search(r"<[^>]*\bon\w+=", html)
    assert not re.search(r"<[^>]*javascript:", html)
    assert "<iframe" not in html


def test_plain_and_moodle_keep_line_breaks() -> None:
    assert str(question_html("a<b\nc", "plain")) == "a&lt;b<br>\nc"
    assert str(question_html("一\n二", "moodle")) == "一<br>\n二"
    assert "<table>" in str(question_html("|a|b|\n|-|-|\n|1|2|", "markdown"))


# --- import, export, pictures ----------------------------------------------------------------


def _upload(client: TestClient, name: str, data: bytes, **fields: str) -> Any:
    return client.post(
        "/training/questions/import",
        files={"file": (name, io.BytesIO(data), "application/octet-stream")},
        data=fields,
    )


def _apply(client: TestClient, preview: Any, **fields: str) -> Any:
    action = re.search(r'action="(/training/questions/import/[^"]+/apply)"', preview.text)
    assert action, preview.text[:3000]
    return client.post(action.group(1), data=fields)


def test_import_gift_under_a_category(centre: Centre) -> None:
    client = client_for(centre, "trainer")
    preview = _upload(client, "bank.gift", GIFT.encode(), category="导入")
    assert preview.status_code == 200
    assert "300M 套餐" in preview.text
    assert 'name="category" value="导入"' in preview.text  # kept for the import
    applied = _apply(client, preview, category="导入")
    assert applied.status_code == 200
    with session_scope(centre.settings) as session:
        found = bank.find_questions(
            session=session, query=QuestionFilter(category=("导入", "产品知识", "宽带"))
        )
    assert sorted(item.name for item in found.items) == ["300M 套餐", "七天无理由"]


def test_import_moodle_xml_lists_skipped_questions_and_serves_pictures(centre: Centre) -> None:
    client = client_for(centre, "trainer")
    preview = _upload(client, "export.xml", MOODLE_XML.encode())
    assert preview.status_code == 200
    skipped = preview.text[preview.text.index('id="questions-skipped"') :]
    assert "计算话费" in skipped
    assert "<code>calculated</code>" in skipped
    assert "calculated questions are not supported" in skipped
    applied = _apply(client, preview)
    assert 'id="questions-skipped"' in applied.text
    with session_scope(centre.settings) as session:
        [item] = bank.find_questions(session=session, query=QuestionFilter(search="看图")).items
        read = bank.get_question(session=session, question_id=item.id)
    page = client.get(f"/training/questions/{item.id}").text
    src = f"/training/questions/versions/{read.version_id}/images/button.png"
    assert f'src="{src}"' in page
    picture = client.get(src)
    assert picture.status_code == 200
    assert picture.headers["content-type"] == "image/png"
    assert "sandbox" in picture.headers["content-security-policy"]
    assert picture.content == base64.b64decode(PIXEL)
    base = f"/training/questions/versions/{read.version_id}/images"
    for name in ("other.png", "../../../etc/passwd", "%2e%2e/button.png"):
        assert client.get(f"{base}/{name}").status_code == 404, name
    assert client.get("/training/questions/versions/999999/images/button.png").status_code == 404
    # An agent sees the picture only once an attempt has shown the question.
    agent = client_for(centre, "agent")
    assert agent.get(src).status_code == 404
    attempt(centre, item.id)
    assert agent.get(src).status_code == 200
    # A lead reads results with the questions in them.
    assert client_for(centre, "lead").get(src).status_code == 200


def test_import_xlsx_template_and_a_format_choice(centre: Centre) -> None:
    client = client_for(centre, "trainer")
    template = client.get("/training/questions/import/template")
    assert template.status_code == 200
    preview = _upload(client, "template.xlsx", template.content)
    assert preview.status_code == 200
    applied = _apply(client, preview)
    assert applied.status_code == 200
    with session_scope(centre.settings) as session:
        found = bank.find_questions(
            session=session, query=QuestionFilter(category=("示例 Examples",))
        )
    assert found.total == len(importing._TEMPLATE_EXAMPLES)
    # A GIFT file called .xml, read as GIFT because the trainer says so.
    chosen = _upload(client, "odd-name.xml", GIFT.encode(), format="gift")
    assert chosen.status_code == 200
    assert "300M 套餐" in chosen.text
    refused = _upload(client, "odd-name.xml", GIFT.encode())
    assert refused.status_code >= 400


@pytest.mark.parametrize("bank_format", ["gift", "moodle-xml", "xlsx"])
def test_exports_download_and_import_again_unchanged(centre: Centre, bank_format: str) -> None:
    # What every format carries (GIFT has no difficulty, a sheet row no option feedback).
    with session_scope(centre.settings) as session:
        for name, path in (("往返一", ("往返",)), ("往返二", ("往返", "下级"))):
            question = single(name, path, difficulty=None)
            question = question.model_copy(
                update={
                    "choices": tuple(
                        c.model_copy(update={"feedback": ""}) for c in question.choices
                    )
                }
            )
            bank.store_question(session=session, question=question, source="t")
    client = client_for(centre, "trainer")
    exported = client.get(f"/training/questions/export?format={bank_format}&category=往返")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["content-disposition"]
    assert exported.headers["x-questions-left-out"] == "0"
    suffix = {"gift": "txt", "moodle-xml": "xml", "xlsx": "xlsx"}[bank_format]
    if bank_format == "xlsx":
        sheet = load_workbook(io.BytesIO(exported.content)).worksheets[0]
        assert sheet.max_row == 3  # the header and two questions
    preview = _upload(client, f"questions.{suffix}", exported.content)
    assert preview.status_code == 200
    assert re.search(
        r"2 rows read \([^)]*\): 0 new, 0 changed, 2 unchanged, 0 errors", preview.text
    )


def test_export_names_the_questions_a_format_cannot_carry(centre: Centre) -> None:
    ordering = next(q for q in importing._TEMPLATE_EXAMPLES if q.type == "ordering")
    with session_scope(centre.settings) as session:
        bank.store_question(session=session, question=ordering, source="t")
    client = client_for(centre, "trainer")
    page = client.get("/training/questions/export?format=gift")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "投诉处理步骤" in page.text
    assert 'id="download-anyway"' in page.text
    file = client.get("/training/questions/export?format=gift&confirm=true")
    assert file.headers["x-questions-left-out"] == "1"
    assert "投诉处理步骤" not in file.text
    assert client.get("/training/questions/export?format=pdf").status_code == 422


# --- REST ------------------------------------------------------------------------------------


def test_api_create_read_update_retire(centre: Centre) -> None:
    client = client_for(centre, "trainer")
    body = single("接口题", ("接口",)).model_dump(mode="json")
    created = client.post("/api/training/questions", json=body)
    assert created.status_code == 201, created.text
    saved = created.json()
    assert saved["action"] == "create"
    question_id = saved["question_id"]
    listed = client.get("/api/training/questions", params={"category": "接口"}).json()
    assert [item["name"] for item in listed["items"]] == ["接口题"]
    read = client.get(f"/api/training/questions/{question_id}").json()
    assert read["question"]["choices"][0]["text"] == "对的"
    body["text"] = "改过的题干"
    assert (
        client.put(f"/api/training/questions/{question_id}", json=body).json()["action"] == "update"
    )
    attempt(centre, question_id)
    body["text"] = "再改"
    again = client.put(f"/api/training/questions/{question_id}", json=body).json()
    assert (again["action"], again["version"]) == ("new_version", 2)
    assert (
        client.get(f"/api/training/questions/{question_id}?version=1").json()["question"]["text"]
        == "改过的题干"
    )
    retired = client.post(f"/api/training/questions/{question_id}/retire").json()
    assert retired["status"] == "retired"
    bad = client.post("/api/training/questions", json={**body, "choices": []})
    assert bad.status_code == 422
    assert client.get("/api/training/questions/999999").status_code == 404
    assert client_for(centre, "agent").get("/api/training/questions").status_code == 403
