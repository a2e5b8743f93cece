"""Every page and PDF of a demo centre, read in Chinese, shows names and not the keys behind them:
no snake_case id (`score_lower_bound`, `product_knowledge`, `avg_ring_s`), no decision, status,
component or period-kind key, no Python value. The catalog test (tests/test_i18n.py) catches an
untranslated msgid; this one catches a label that comes from data or from code."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.demo import service as demo_service
from agentladder.ingest.models import ImportBatch
from agentladder.knowledge.models import KbItem
from agentladder.ladder.labels import COMPONENT_NAMES, DECISION_NAMES, GATE_NAMES, STATUS_NAMES
from agentladder.metrics import service as metrics_service
from agentladder.org.models import Agent, User
from agentladder.org.schemas import Permission
from agentladder.periods import parse_period
from agentladder.quality import service as quality_service
from agentladder.quality.models import QaEvaluation
from agentladder.quality.sampling import service as sampling
from agentladder.training.certifications.service import BUILTIN_TYPES
from agentladder.training.models import Certification, Exam, ExamAttempt, QuestionVersion
from agentladder.web.app import create_app, declared_routes
from tests.conftest import _empty_all_tables, make_settings
from tests.factories import csrf_token, login

TODAY = date(2026, 11, 23)
SNAKE_CASE = re.compile(r"(?<![A-Za-z0-9_./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![A-Za-z0-9_./-])")
# Keys that are single words: decisions, statuses, components, period kinds, Python values.
WORD_KEYS = (
    set(DECISION_NAMES) | set(STATUS_NAMES) | set(COMPONENT_NAMES) | {"month", "quarter"}
) - {"insufficient_evidence"}
PYTHON_VALUES = {"True", "False", "None", "nan"}
# The certification import page lists the column headers and type names a file may use, in
# both languages ("认证类型/certification", "产品知识认证 / Product knowledge").
BILINGUAL_BY_DESIGN = {
    "/certifications/import": {"certification", "knowledge"},
    "/knowledge/import": {"knowledge"},  # the command `agentladder knowledge import FOLDER`
}
# Pages that show the demo's question bank, exams and knowledge library, whose texts the centre
# wrote in both languages ("产品知识 Product knowledge"): their English words are content, not keys.
BILINGUAL_CONTENT = ("/exams", "/training/questions", "/certifications/programmes", "/knowledge")
# Names of Asterisk's and FreeSWITCH's own files and modules, which people know by them.
TECHNICAL_NAMES = {"queue_log", "cdr_csv", "mod_cdr_csv"}
# Elements whose text is code or data typed by people (the policy editor, file names, ids).
SKIPPED_ELEMENTS = {"script", "style", "code", "pre", "textarea", "kbd"}


class _VisibleText(HTMLParser):
    """The text a reader sees: element text and the attributes shown as tooltips or labels."""

    def __init__(self) -> None:
        super().__init__()
        self.skipping = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED_ELEMENTS:
            self.skipping += 1
        for name, value in attrs:
            if name in ("title", "placeholder", "aria-label", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED_ELEMENTS:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def _visible(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def _leaks(text: str, english: bool = False) -> set[str]:
    """Keys and ids that should have been names (in English text, keys that are also English
    words, such as "quality", are not told apart from the words)."""
    words = set(re.findall(r"[A-Za-z][A-Za-z0-9_]*", text))
    found = (set(SNAKE_CASE.findall(text)) - TECHNICAL_NAMES) | (words & PYTHON_VALUES)
    if english:
        return found
    found |= words & (WORD_KEYS | set(GATE_NAMES) | set(BUILTIN_TYPES))
    found |= words & {m for m in metrics_service.metric_definitions() if "_" in m}
    return found


@pytest.fixture(scope="module")
def centre(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[Settings]:
    """A small demo centre with calls, metrics and two ladder cycles."""
    settings = make_settings(tmp_path_factory.mktemp("i18n-pages"), database_url)
    with session_scope(settings) as session:
        demo_service.build_demo(
            session=session,
            settings=settings,
            today=TODAY,
            agents=12,
            seed=11,
            call_months=2,
            period_kinds=("month",),
        )
    yield settings
    _empty_all_tables(database_url)


def _upload_a_queue_log(client: TestClient, settings: Settings) -> int:
    """One of the demo's queue_log files through the imports page: the job that imports it."""
    path = next(path for path in (settings.data_dir / "demo").rglob("queue_log*") if path.is_file())
    sent = client.post(
        "/imports/upload",
        data={"csrf_token": csrf_token(client, "/imports")},
        files={"file": (path.name, path.read_bytes(), "text/plain")},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text[:500]
    return int(sent.headers["location"].rsplit("/", 1)[1])


def _calibration_session(session: Session) -> int:
    """A closed calibration session on two demo calls, scored by two demo users."""
    from datetime import UTC, datetime

    from agentladder.org.accounts import service as accounts_service
    from agentladder.quality import service as quality_service
    from agentladder.quality.calibration import service as calibration

    if existing := calibration.list_sessions(session=session):
        return existing[0].id
    employee_no = session.scalar(select(func.min(Agent.employee_no)))
    calls = [
        calibration.CalibrationCall(f"i18n.{n}", employee_no, datetime(2026, 10, 2 + n, tzinfo=UTC))
        for n in range(2)
    ]
    created = calibration.create_session(
        session=session, code="CAL-I18N", title="校准", calls=calls
    )
    perfect = {
        item.code: item.scale_max if item.kind == "scale" else True
        for item in quality_service.default_form().items()
    }
    for n, call in enumerate(calls):
        for name, tone in (("qa", 4), ("admin", 2 + n)):
            user = accounts_service.get_user_by_username(session=session, username=name)
            assert user is not None
            calibration.add_evaluation(
                session=session,
                code="CAL-I18N",
                call_id=call.call_id,
                evaluator=user,
                answers={**perfect, "tone_voice": tone},
                submit=True,
            )
        calibration.record_anchor(
            session=session, code="CAL-I18N", call_id=call.call_id, answers=perfect, by=user
        )
    return created.id


def _an_evaluation(session: Session) -> int:
    """A submitted QA evaluation of the first agent's (the demo's, or one made here)."""
    found = session.scalar(select(func.min(QaEvaluation.id)))
    if found is not None:
        return int(found)
    version = quality_service.save_form(session=session, spec=quality_service.default_form())
    answers = {
        item.code: (item.scale_max if item.kind == "scale" else True)
        for item in quality_service.default_form().items()
    }
    evaluation = quality_service.start_evaluation(
        session=session,
        form_version_id=version.id,
        agent_id=session.scalar(select(func.min(Agent.id))),
        evaluator=None,
        call_id="demo-call",
        call_at=datetime(2026, 10, 8, 2, 0, tzinfo=UTC),
    )
    quality_service.save_draft(session=session, evaluation_id=evaluation.id, answers=answers)
    quality_service.submit_evaluation(session=session, evaluation_id=evaluation.id)
    return evaluation.id


def _a_transcript(session: Session, settings: Settings) -> str:
    """A call with a transcript, judged: the demo's first, or one of the first agent's."""
    from agentladder.quality.autoqa import importing as autoqa_importing
    from agentladder.quality.models import CallTranscript

    found = session.scalar(select(func.min(CallTranscript.call_id)))
    if found is not None:
        return str(found)
    employee_no = session.scalar(select(func.min(Agent.employee_no)))
    line = json.dumps(
        {
            "call_id": "i18n-aq",
            "agent": employee_no,
            "started_at": "2026-10-08T10:00:00+08:00",
            "hangup_by": "agent",
            "turns": [
                {"speaker": "agent", "start_s": 0, "end_s": 40, "text": "您好，安信电器客服。"},
                {"speaker": "customer", "start_s": 41, "end_s": 45, "text": "你好"},
            ],
        },
        ensure_ascii=False,
    )
    autoqa_importing.import_transcripts(
        session=session, settings=settings, data=line.encode(), file_name="t.jsonl"
    )
    return "i18n-aq"


def _training_ids(session: Session) -> dict[str, object]:
    """The demo's training records the pages name: a certificate, an exam with a submitted
    attempt, and a question with its version."""
    attempt = session.scalars(
        select(ExamAttempt).where(ExamAttempt.state == "finished").order_by(ExamAttempt.id)
    ).first()
    assert attempt is not None
    version = session.scalars(select(QuestionVersion).order_by(QuestionVersion.id)).first()
    assert version is not None
    return {
        "certificate_id": session.scalar(select(func.min(Certification.id))),
        "verification_code": session.scalar(
            select(func.min(Certification.verification_code)).where(
                Certification.verification_code.is_not(None)
            )
        ),
        "code": session.scalar(select(Exam.code).where(Exam.id == attempt.exam_id)),
        "attempt_id": attempt.id,
        "question_id": version.question_id,
        "version_id": version.id,
    }


def _pages(settings: Settings, job_id: int) -> list[str]:
    with session_scope(settings) as session:
        ids = {
            "calibration_id": _calibration_session(session),
            "agent_id": session.scalar(select(func.min(Agent.id))),
            "user_id": session.scalar(select(func.min(User.id))),
            "batch_id": session.scalar(select(func.max(ImportBatch.id))),
            "job_id": job_id,
            # A QA sample of the demo's last full month, blind: its page shows pseudonyms.
            "sample_id": sampling.draw_sample(
                session=session,
                settings=settings,
                period=parse_period("2026-10"),
                seed=1,
                per_agent=1,
                blind=True,
            ).id,
            "evaluation_id": _an_evaluation(session),
            "call_id": _a_transcript(session, settings),
            # The demo library's first published item (with its revisions and reviews).
            "item_id": session.scalar(
                select(func.min(KbItem.id)).where(KbItem.status == "published")
            ),
            **_training_ids(session),
        }
    paths = []
    for route in declared_routes():
        if route.method != "GET" or route.path.startswith(("/api", "/healthz", "/static")):
            continue
        if (
            route.path.endswith("/recording")
            or "/images/" in route.path
            or "/attachments/" in route.path
        ):
            continue  # audio and pictures, not pages
        if route.permission is Permission.EXAMS_TAKE:
            continue  # an agent's own attempt: the admin reading every page has none
        if route.path == "/verify/{code}":  # the public page takes a certificate's code
            paths.append(f"/verify/{ids['verification_code']}")
            continue
        paths.append(route.path.format(**ids))
    return paths


def test_every_page_and_pdf_in_chinese_names_things_instead_of_showing_keys(
    centre: Settings,
) -> None:
    client = login(TestClient(create_app(centre)), "admin", "agentladder-demo")
    leaks: dict[str, set[str]] = {}
    pdfs = 0
    job_id = _upload_a_queue_log(client, centre)
    # The ledger entry names the adapter's notes in Chinese (they are stored in English).
    entry = _visible(client.get(f"/imports/jobs/{job_id}").text)
    assert "格式 文本文件" in entry
    assert not re.search(r"\b(flat|layout|encoding)\b", entry)
    for path in _pages(centre, job_id):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        kind = response.headers["content-type"]
        if kind.startswith("text/html"):
            text = _visible(response.text)
            # A page's title is plain words (a template once put a whole form in it).
            title = re.search(r"<title>(.*?)</title>", response.text, re.S)
            assert title is not None, path
            assert "<" not in title.group(1), (path, title.group(1)[:80])
        elif kind == "application/pdf":
            pdfs += 1
            reader = PdfReader(io.BytesIO(response.content))
            text = " ".join(page.extract_text() for page in reader.pages)
        else:
            continue  # spreadsheet templates: their headers are the bilingual column names
        allowed = BILINGUAL_BY_DESIGN.get(path, set())
        if path.startswith(BILINGUAL_CONTENT):
            keys = WORD_KEYS | set(GATE_NAMES) | set(BUILTIN_TYPES)
            allowed = allowed | {word for word in keys if "_" not in word}
        if found := _leaks(text) - allowed:
            leaks[path] = found
    assert pdfs >= 3
    # The ledger names the adapter, not its id.
    assert "Asterisk 队列日志" in _visible(client.get("/imports").text)
    assert leaks == {}, repr(leaks)


def test_the_check_catches_what_it_is_for() -> None:
    assert _leaks("未达到初级座席·三级的晋级条件：score_lower_bound。") == {"score_lower_bound"}
    assert _leaks("认证：product_knowledge") == {"product_knowledge"}
    assert _leaks("avg_ring_s 没有数据") == {"avg_ring_s"}
    assert _leaks("政策按month考核") == {"month"}
    assert _leaks("✓ / False") == {"False"}
    assert _leaks("文件 queue_log.csv 已导入，账号 Agent/1001") == set()


def test_skill_groups_are_shown_by_their_names(centre: Settings) -> None:
    client = login(TestClient(create_app(centre)), "admin", "agentladder-demo")
    names = dict(demo_service.SKILL_GROUPS)
    fairness = client.get("/ladder/fairness?period=2026-10").text
    groups = re.findall(
        r'<tr data-dimension="skill_group"><td>[^<]*</td><td>([^<]*)</td>', fairness
    )
    assert groups
    assert all(label.split(" (")[0] in names.values() for label in groups), groups
    agent_page = _visible(client.get("/agents").text)
    assert any(name in agent_page for name in names.values())
