"""Every route x every role, generated from the permission matrix, plus object-level checks."""

from __future__ import annotations

import base64
import io
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.db import get_engine, session_scope, upgrade_schema
from agentladder.imports.stash import stash_upload
from agentladder.ingest import jobs as jobs_service
from agentladder.ingest import service as ingest_service
from agentladder.knowledge.items import attachments as kb_attachments
from agentladder.knowledge.items import importing as kb_importing
from agentladder.knowledge.items import service as kb_service
from agentladder.knowledge.points import service as kb_points
from agentladder.knowledge.schemas import ItemDraft
from agentladder.ladder.appeals import service as appeals_service
from agentladder.ladder.decisions import service as decisions_service
from agentladder.ladder.policy import service as policy_service
from agentladder.org import service as org_service
from agentladder.org.accounts import service as accounts_service
from agentladder.org.models import ROLES
from agentladder.org.schemas import MATRIX, Permission
from agentladder.periods import parse_period
from agentladder.quality import forms_io
from agentladder.quality import service as quality_service
from agentladder.quality.autoqa import importing as autoqa_importing
from agentladder.quality.autoqa.rules import DEFAULT_RULES_PATH
from agentladder.quality.calibration import service as calibration
from agentladder.quality.disputes import service as disputes_service
from agentladder.quality.models import QaSample, QaSampledCall
from agentladder.quality.sampling import drawing
from agentladder.quality.sampling import service as sampling
from agentladder.training.certifications import service as certifications_service
from agentladder.training.certifications.schemas import CertificationCreate
from agentladder.training.exams import service as exams_service
from agentladder.training.exams.schemas import ExamSettings, SaveAnswer
from agentladder.training.questions import service as bank_service
from agentladder.training.questions.schemas import Question
from agentladder.web.app import create_app, declared_routes
from agentladder.web.views import PUBLIC_PATHS
from tests.conftest import copy_database_url, fresh_database_url, make_settings
from tests.factories import PASSWORD, login, make_agent, make_team, make_user
from tests.ladder.builders import give, policy_text
from tests.training.test_programmes import add_programme, make_exam

QUEUE_LOG = b"1760000000|c9|support|NONE|ENTERQUEUE||139|1\n"
ANSWERED_CALL = (
    b"1760001000|q1|support|NONE|ENTERQUEUE||137|1\n"
    b"1760001010|q1|support|Agent/1001|CONNECT|10|x|2\n"
    b"1760001100|q1|support|Agent/1001|COMPLETECALLER|10|90|1\n"
    b"1760002000|q2|support|NONE|ENTERQUEUE||136|1\n"
    b"1760002010|q2|support|Agent/1001|CONNECT|10|x|2\n"
    b"1760002100|q2|support|Agent/1001|COMPLETECALLER|10|90|1\n"
)
ROSTER_CSV = "工号,姓名,入职日期,班组\nR0001,李娜,2024-05-06,T01\n".encode()
CERTIFICATES_CSV = "工号,认证类型,发证日期\nA0001,product_knowledge,2025-01-06\n".encode()
EVIDENCE_CSV = "工号,周期,指标,值,样本量\nA0001,2026-09,qa_score,90,8\n".encode()
POLICY = policy_text(consecutive=1, approval="manager")
AUTOQA_RULES = DEFAULT_RULES_PATH.read_text("utf-8")
KB_RULES = kb_points.default_rules_text()
# A1's call with a transcript, standing alone (not in the ACD data).
# The question bank: a question to edit, and the form and JSON that store one.
BANK_QUESTION = {
    "type": "single_choice",
    "name": "权限测试题",
    "text": "哪个对？",
    "category": ["权限"],
    "choices": [{"text": "甲", "fraction": 1}, {"text": "乙", "fraction": 0}],
}
BANK_QUESTION_FORM = {
    "name": "权限测试题",
    "text": "哪个对？",
    "category": "权限",
    "choice_text": ["甲", "乙"],
    "choice_percent": ["100", "0"],
}
BANK_GIFT = "::题::哪个对？{=甲 ~乙}\n".encode()
PIXEL_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgAAIAAAUAAeIhvDMAAAAASUVORK5CYII="
)
AUTOQA_TRANSCRIPT = (
    '{"call_id": "aq1", "agent": "A0001", "started_at": "2026-09-10T10:00:00+08:00", '
    '"turns": [{"speaker": "agent", "start_s": 0, "end_s": 4, "text": "您好，安信电器。"}]}'
).encode()
QA_FORM = quality_service.default_form()
QA_FORM_YAML = forms_io.form_yaml(QA_FORM).encode()
TRANSCRIPTS_JSONL = (
    '{"call_id": "t1", "agent": "A0001", "started_at": "2025-10-09T09:00:00+08:00", '
    '"turns": [{"speaker": "agent", "start_s": 0, "end_s": 3, "text": "您好"}]}\n'
).encode()
QA_EVALUATIONS_CSV = (
    "通话编号,通话时间,工号,质检员," + ",".join(item.code for item in QA_FORM.items()) + "\n"
    "c1,2026-09-01 09:30,A0001,qa,"
    + ",".join(str(item.scale_max) if item.scale_max else "yes" for item in QA_FORM.items())
    + "\n"
).encode()


def _routes() -> list[tuple[str, str, Permission | None]]:
    return [(r.method, r.path, r.permission) for r in declared_routes()]


ROUTES = _routes()
PROTECTED = [(m, p, perm) for m, p, perm in ROUTES if perm is not None]


def test_every_route_declares_a_permission_or_is_public() -> None:
    undeclared = [
        (method, path)
        for method, path, permission in ROUTES
        if permission is None
        and path not in PUBLIC_PATHS
        and not path.startswith("/api/docs")
        and path != "/api/openapi.json"
    ]
    assert undeclared == []
    assert len(PROTECTED) >= 25


@dataclass
class World:
    """One centre: team T01 (led by `team_lead`, agent A1 is `agent`), team T02 with A2."""

    settings: Settings
    ids: dict[str, Any]


@pytest.fixture(scope="module")
def world_template(tmp_path_factory: pytest.TempPathFactory, worker_name: str) -> World:
    """The world built once per worker, copied for each test that may change it."""
    url = fresh_database_url(tmp_path_factory.mktemp("db"), f"{worker_name}_template")
    settings = make_settings(tmp_path_factory.mktemp("template") / "data", url)
    upgrade_schema(settings)
    world = _build_world(settings)
    get_engine(url).dispose()
    return world


@pytest.fixture
def world(world_template: World, tmp_path: Path, worker_name: str) -> Iterator[World]:
    """A copy of the world of its own, database and data directory, for a test that may change
    it: building one took about a second, and over a hundred tests change it."""
    url = copy_database_url(
        world_template.settings.resolved_database_url, tmp_path, f"{worker_name}_world"
    )
    data_dir = tmp_path / "data"
    shutil.copytree(world_template.settings.data_dir, data_dir)
    settings = make_settings(data_dir, url, recordings_dir=data_dir / "recordings")
    yield World(settings=settings, ids=world_template.ids)
    get_engine(url).dispose()


@pytest.fixture(scope="module")
def read_world(tmp_path_factory: pytest.TempPathFactory, worker_name: str) -> Iterator[World]:
    """One world per worker shared by the tests that only read (GET): building it is most of
    a test's time, and there are over a thousand route x role checks."""
    url = fresh_database_url(tmp_path_factory.mktemp("db"), f"{worker_name}_read")
    settings = make_settings(tmp_path_factory.mktemp("read") / "data", url)
    upgrade_schema(settings)
    yield _build_world(settings)
    get_engine(url).dispose()


@pytest.fixture(scope="module")
def read_clients(read_world: World) -> dict[str, TestClient]:
    """A logged-in client per role on the shared world, for the tests that only read."""
    app = create_app(read_world.settings)
    return {role: login(TestClient(app), role) for role in ROLES}


@pytest.fixture(scope="module")
def anonymous_client(read_world: World) -> TestClient:
    """A client that never logs in, on the shared world."""
    return TestClient(create_app(read_world.settings))


def _world_for(request: pytest.FixtureRequest, method: str) -> World:
    return request.getfixturevalue("read_world" if method == "GET" else "world")  # type: ignore[no-any-return]


def _build_world(settings: Settings) -> World:
    # Recordings are kept where the QA pages find the evaluated call's one.
    settings = make_settings(
        settings.data_dir,
        settings.resolved_database_url,
        recordings_dir=settings.data_dir / "recordings",
    )
    with session_scope(settings) as session:
        t1 = make_team(session, "T01", "客服一组")
        t2 = make_team(session, "T02", "客服二组")
        a1 = make_agent(session, employee_no="A0001", name="王芳", team_code="T01")
        a2 = make_agent(session, employee_no="A0002", name="李强", team_code="T02")
        alias = org_service.add_alias(session=session, agent=a1, identity="Agent/1001")
        for role in ROLES:
            make_user(
                session,
                settings,
                role,
                [role],
                agent=a1 if role == "agent" else None,
                lead_team_id=t1 if role == "team_lead" else None,
            )
        target = make_user(session, settings, "target", ["qa"])
        # A call still waiting, a line that is not one, and answered calls of A1 (Agent/1001):
        # one in a QA sample, one left to draw.
        batch = ingest_service.import_file(
            session=session,
            settings=settings,
            adapter="queue_log",
            data=b"1760000000|c1|support|NONE|ENTERQUEUE||138|1\nnot a line\n" + ANSWERED_CALL,
            file_name="queue_log",
        )
        qa_sample = sampling.draw_sample(
            session=session,
            settings=settings,
            period=parse_period("2025-10"),
            per_agent=1,
            rules=drawing.SamplingRules(max_targeted=0),
        )
        job = jobs_service.create_job(
            session=session,
            upload_token="0" * 64,
            file_name="queue_log",
            size_bytes=1,
            request=jobs_service.JobRequest(adapter="queue_log"),
            user=None,
        )
        data_dir = settings.ensure_data_dir()
        token = stash_upload(data_dir=data_dir, kind="roster", data=ROSTER_CSV, file_name="r.csv")
        upload_id = stash_upload(
            data_dir=data_dir, kind="certifications", data=CERTIFICATES_CSV, file_name="c.csv"
        )
        evidence_upload_id = stash_upload(
            data_dir=data_dir, kind="evidence", data=EVIDENCE_CSV, file_name="qa.csv"
        )
        quality_service.save_form(session=session, spec=QA_FORM)
        forms_upload_id = stash_upload(
            data_dir=data_dir, kind="qa_forms", data=QA_FORM_YAML, file_name="form.yaml"
        )
        evaluations_upload_id = stash_upload(
            data_dir=data_dir, kind="qa_evaluations", data=QA_EVALUATIONS_CSV, file_name="qa.csv"
        )
        transcripts_upload_id = stash_upload(
            data_dir=data_dir, kind="transcripts", data=TRANSCRIPTS_JSONL, file_name="t.jsonl"
        )
        # A1's promotions wait for approval: August's with an open appeal, September's not.
        policy_service.apply_policy(session=session, text=POLICY)
        for period in ("2026-08", "2026-09"):
            give(session, a1, period, score=90)
        decisions_service.run_period(session=session, period=parse_period("2026-08"))
        september = decisions_service.run_period(session=session, period=parse_period("2026-09"))
        [decision_id] = [v.decision_id for v in september.decisions if v.agent_id == a1.id]
        august = decisions_service.decision_for(
            session=session, agent_id=a1.id, period=parse_period("2026-08")
        )
        assert august.decision_id is not None
        appeal = appeals_service.create_appeal(
            session=session, decision_id=august.decision_id, agent_id=a1.id, text="请复核", by=None
        )
        calibrated = calibration.create_session(
            session=session,
            code="CAL-W",
            calls=[calibration.CalibrationCall("w1", "A0001", datetime(2026, 9, 1, tzinfo=UTC))],
        )
        # Everyone allowed has scored the call, so each sees the evaluation they may anchor.
        for name in ("admin", "manager", "qa", "target"):
            scored = calibration.add_evaluation(
                session=session,
                code="CAL-W",
                call_id="w1",
                evaluator=accounts_service.get_user_by_username(session=session, username=name),
                answers={
                    item.code: item.scale_max if item.kind == "scale" else True
                    for item in quality_service.default_form().items()
                },
                submit=True,
            )
        qa_ids = _quality_world(session, settings, a1, target)
        bank_ids = _question_world(session, settings, a1)
        exam_ids = _exam_world(session, a1)
        certification_ids = _certification_world(session, a1)
        autoqa_importing.import_transcripts(
            session=session, settings=settings, data=AUTOQA_TRANSCRIPT, file_name="t.jsonl"
        )
        knowledge_ids = _knowledge_world(session, settings, a2)
        ids = {
            **knowledge_ids,
            **qa_ids,
            **certification_ids,
            **bank_ids,
            **exam_ids,
            "calibration_id": calibrated.id,
            "calibration_evaluation_id": scored.id,
            "decision_id": decision_id,
            "appeal_id": appeal.id,
            "agent_id": a1.id,
            "other_agent_id": a2.id,
            "team_id": t1,
            "other_team_id": t2,
            "alias_id": alias.id,
            "user_id": target.id,
            "token": token,
            "batch_id": batch.batch_id,
            "job_id": job.id,
            "upload_id": upload_id,
            "evidence_upload_id": evidence_upload_id,
            "forms_upload_id": forms_upload_id,
            "evaluations_upload_id": evaluations_upload_id,
            "transcripts_upload_id": transcripts_upload_id,
            "sample_id": qa_sample.id,
            "call_id": "aq1",
            "period": "2026-09",
        }
    return World(settings=settings, ids=ids)


def _quality_world(
    session: Session, settings: Settings, agent: Any, evaluator: Any
) -> dict[str, int]:
    """A1's call q1 evaluated by `target` and submitted, its recording, an open dispute of A1's
    about one item; call q2 drawn in a sample and assigned to nobody yet."""
    version = quality_service.save_form(session=session, spec=quality_service.default_form())
    call_at = datetime(2026, 9, 10, 2, 0, tzinfo=UTC)
    evaluation = quality_service.start_evaluation(
        session=session,
        form_version_id=version.id,
        agent_id=agent.id,
        evaluator=evaluator,
        call_id="q1",
        call_at=call_at,
    )
    quality_service.save_draft(
        session=session,
        evaluation_id=evaluation.id,
        answers={**QA_ANSWERS, "listening": False},
        by=evaluator,
    )
    quality_service.submit_evaluation(session=session, evaluation_id=evaluation.id, by=evaluator)
    agent_user = accounts_service.get_user_by_username(session=session, username="agent")
    assert agent_user is not None
    dispute = disputes_service.raise_dispute(
        session=session,
        settings=settings,
        evaluation_id=evaluation.id,
        item="listening",
        reason="我没有打断客户",
        by=agent_user,
    )
    recording = settings.data_dir / "recordings" / "2026" / "09" / "10" / "q1.wav"
    recording.parent.mkdir(parents=True)
    recording.write_bytes(b"RIFF\x24\x00\x00\x00WAVE")
    sample = QaSample(period_label="2026-09", seed=1)
    session.add(sample)
    session.flush()
    sampled = QaSampledCall(sample_id=sample.id, agent_id=agent.id, call_id="q2", call_at=call_at)
    session.add(sampled)
    session.flush()
    return {"evaluation_id": evaluation.id, "dispute_id": dispute.id, "sampled_id": sampled.id}


KB_CASE = ItemDraft(
    type="case",
    title="光猫红灯",
    category="宽带/故障",
    situation="客户说光猫亮红灯。",
    solution="检查光纤接头后重启。",
    result="恢复上网。",
    tags=["宽带"],
)
KB_CSV = "标题,类型,正文\n资费说明,问答,月租 59 元。\n".encode()
KB_FORM = {
    "type": "case",
    "title": "权限测试案例",
    "category": "宽带",
    "situation": "情境",
    "solution": "解决方案",
    "result": "结果",
    "tags": "测试",
}
# Item routes that act on the caller's own item: each role writes a draft of its own first.
KB_OWN_ITEM_ROUTES = ("/edit", "/submit", "/archive", "/link", "/revisions", "/revert")


def _knowledge_world(session: Session, settings: Settings, agent: Any) -> dict[str, Any]:
    """Items written by `writer` (agent A2, none of the roles): a published case with a picture
    (item_id), one waiting for review, an adopted one."""
    writer = make_user(session, settings, "writer", ["agent"], agent=agent)
    reviewer = accounts_service.get_user_by_username(session=session, username="target")
    assert reviewer is not None

    def publish(title: str) -> int:
        item = kb_service.create_item(
            session=session, draft=KB_CASE.model_copy(update={"title": title}), by=writer
        )
        kb_service.submit(session=session, item_id=item.id, by=writer)
        kb_service.review(session=session, item_id=item.id, by=reviewer, decision="approve")
        return item.id

    item_id = publish("光猫红灯")
    attachment = kb_attachments.add_attachment(
        session=session,
        data_dir=settings.ensure_data_dir(),
        item_id=item_id,
        by=writer,
        name="p.png",
        data=base64.b64decode(PIXEL_PNG),
    )
    adopted_id = publish("光猫红灯（最佳实践）")
    kb_service.adopt(session=session, item_id=adopted_id, by=reviewer)
    pending = kb_service.create_item(
        session=session, draft=KB_CASE.model_copy(update={"title": "待审核"}), by=writer
    )
    kb_service.submit(session=session, item_id=pending.id, by=writer)
    upload_id = stash_upload(
        data_dir=settings.ensure_data_dir(), kind=kb_importing.KIND, data=KB_CSV, file_name="k.csv"
    )
    return {
        "knowledge_upload_id": upload_id,
        "item_id": item_id,
        "attachment_id": attachment.id,
        "adopted_item_id": adopted_id,
        "pending_item_id": pending.id,
    }


def _certification_world(session: Session, agent: Any) -> dict[str, Any]:
    """A1's certificate, and a programme whose exam awards product knowledge."""
    make_exam(session, "PERM-EXAM", "产品知识考试", "权限测试")
    add_programme(session, "PERM-PK", "product_knowledge", "PERM-EXAM")
    certificate = certifications_service.record_certification(
        session=session,
        cert_in=CertificationCreate(
            agent_id=agent.id, cert_type="service_skill", issued_on=date(2026, 1, 5)
        ),
    )
    return {"certificate_id": certificate.id, "programme_code": "PERM-PK"}


def _question_world(session: Session, settings: Settings, agent: Any) -> dict[str, Any]:
    """A question nobody answered; one with a picture that an attempt of A1's showed; a GIFT
    upload waiting to be imported."""
    question = Question.model_validate(BANK_QUESTION)
    question_id = bank_service.store_question(
        session=session, question=question, source="test"
    ).question_id
    pictured = Question.model_validate(
        {
            **BANK_QUESTION,
            "name": "看图题",
            "text": '<img src="@@PLUGINFILE@@/p.png">',
            "images": [{"name": "p.png", "media_type": "image/png", "data_base64": PIXEL_PNG}],
        }
    )
    stored = bank_service.store_question(session=session, question=pictured, source="test")
    exams_service.save_exam(
        session=session,
        settings_in=ExamSettings.model_validate(
            {
                "code": "PERM-BANK",
                "title": "看图考试",
                "blueprint": {"sections": [{"question_ids": [stored.question_id]}]},
            }
        ),
        user_id=None,
    )
    exams_service.set_exam_status(session=session, code="PERM-BANK", status="published")
    exams_service.start_attempt(
        session=session, exam_code="PERM-BANK", agent_id=agent.id, now=datetime.now(UTC)
    )
    upload_id = stash_upload(
        data_dir=settings.ensure_data_dir(), kind="questions", data=BANK_GIFT, file_name="b.gift"
    )
    return {
        "question_id": question_id,
        "version_id": stored.version_id,
        "name": "p.png",
        "questions_upload_id": upload_id,
    }


EXAM_SETTINGS: dict[str, Any] = {
    "code": "PERM-TAKE",
    "title": "权限考试",
    "shuffle_questions": False,
    "blueprint": {"sections": [{"category": ["权限考试"], "count": 2}]},
}
EXAM_FORM = {
    "code": "PERM-NEW",
    "title": "新考试",
    "layout": "one_per_page",
    "grading_method": "highest",
    "pass_percent": "60",
    "review": "score",
    "section_rows": "1",
    "s0_category": "权限考试",
    "s0_count": "1",
    "action": "save",
}


def _exam_world(session: Session, agent: Any) -> dict[str, Any]:
    """Exam PERM-TAKE (a choice and an essay): A1's first attempt submitted, its essay waiting
    for a mark; the second in progress."""
    ids = [
        bank_service.store_question(
            session=session, question=Question.model_validate(question), source="test"
        ).question_id
        for question in (
            {**BANK_QUESTION, "name": "考试选择题", "category": ["权限考试"]},
            {"type": "essay", "name": "考试问答题", "text": "写问候。", "category": ["权限考试"]},
        )
    ]
    settings_in = ExamSettings.model_validate(
        {**EXAM_SETTINGS, "blueprint": {"sections": [{"question_ids": ids}]}}
    )
    exams_service.save_exam(session=session, settings_in=settings_in, user_id=None)
    exams_service.set_exam_status(session=session, code="PERM-TAKE", status="published")
    now = datetime.now(UTC)
    submitted = exams_service.start_attempt(
        session=session, exam_code="PERM-TAKE", agent_id=agent.id, now=now
    )
    exams_service.save_answer(
        session=session,
        attempt_id=submitted,
        agent_id=agent.id,
        answer=SaveAnswer(slot=2, response="您好", seq=1),
        now=now,
    )
    exams_service.submit_attempt(session=session, attempt_id=submitted, agent_id=agent.id, now=now)
    attempt_id = exams_service.start_attempt(
        session=session, exam_code="PERM-TAKE", agent_id=agent.id, now=now
    )
    return {
        "code": "PERM-TAKE",
        "attempt_id": attempt_id,
        "submitted_attempt_id": submitted,
        "slot": 2,
    }


QA_ANSWERS = {
    item.code: (item.scale_max if item.kind == "scale" else True)
    for item in quality_service.default_form().items()
}
QA_WORKSPACE_FIELDS = {
    f"answer_{code}": ("yes" if value is True else str(value)) for code, value in QA_ANSWERS.items()
}


def _payload(method: str, path: str) -> dict[str, Any]:
    """A valid request body for each unsafe route, so allowed roles can succeed."""
    roster = {"file": ("roster.csv", io.BytesIO(ROSTER_CSV), "text/csv")}
    certificates = {"file": ("certs.csv", io.BytesIO(CERTIFICATES_CSV), "text/csv")}

    def acd_file() -> dict[str, Any]:
        return {"file": ("queue_log", io.BytesIO(QUEUE_LOG), "text/plain")}

    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "/logout"): {},
        ("POST", "/agents/{agent_id}/level"): {
            "data": {"level": "basic_sophomore", "effective_on": "2025-01-01", "reason": "test"}
        },
        ("POST", "/agents/{agent_id}/aliases"): {"data": {"identity": "SIP/7777"}},
        ("POST", "/agents/{agent_id}/skill-groups"): {"data": {"primary_skill_group": ""}},
        ("POST", "/agents/{agent_id}/aliases/{alias_id}/delete"): {},
        ("POST", "/teams"): {"data": {"code": "T09", "name": "新班组"}},
        ("POST", "/teams/{team_id}"): {"data": {"name": "客服一组", "leads": "team_lead"}},
        ("POST", "/skill-groups"): {"data": {"code": "vip", "name": "VIP专席"}},
        ("POST", "/roster/import"): {"files": roster},
        ("POST", "/roster/import/{token}/apply"): {"data": {}},
        ("POST", "/users"): {
            "data": {"username": "newbie", "password": PASSWORD, "roles": ["trainer"]}
        },
        ("POST", "/users/{user_id}"): {"data": {"roles": ["qa", "trainer"], "is_active": "1"}},
        ("POST", "/imports/upload"): {"files": acd_file(), "data": {"adapter": "queue_log"}},
        ("POST", "/api/imports"): {"files": acd_file(), "data": {"adapter": "queue_log"}},
        ("POST", "/imports/identities"): {
            "data": {"identity": "Agent/9999", "employee_no": "A0002"}
        },
        ("POST", "/api/agents/{agent_id}/level"): {
            "json": {"level": "basic_sophomore", "effective_on": "2025-01-01", "reason": "test"}
        },
        ("POST", "/api/agents/{agent_id}/aliases"): {"json": {"identity": "PJSIP/7777"}},
        ("PATCH", "/api/agents/{agent_id}"): {"json": {"primary_skill_group_code": None}},
        ("POST", "/api/teams"): {"json": {"code": "T09", "name": "新班组"}},
        ("PATCH", "/api/teams/{team_id}"): {"json": {"name": "一组"}},
        ("POST", "/api/skill-groups"): {"json": {"code": "vip", "name": "VIP专席"}},
        ("POST", "/api/roster/import"): {"files": roster, "params": {"dry_run": "true"}},
        ("POST", "/api/users"): {
            "json": {"username": "newbie", "password": PASSWORD, "roles": ["trainer"]}
        },
        ("PATCH", "/api/users/{user_id}"): {"json": {"roles": ["qa", "trainer"]}},
        ("POST", "/ladder/decisions/{decision_id}/appeal"): {"data": {"text": "请复核"}},
        ("POST", "/ladder/run"): {"data": {"period": "2026-09"}},
        ("POST", "/ladder/decisions/{decision_id}/approve"): {"data": {}},
        ("POST", "/ladder/decisions/{decision_id}/reject"): {"data": {"reason": "待复核"}},
        ("POST", "/ladder/decisions/{decision_id}/override"): {
            "data": {"decision": "hold", "reason": "待复核"}
        },
        ("POST", "/ladder/appeals/{appeal_id}/resolve"): {
            "data": {"outcome": "denied", "response": "证据充分"}
        },
        ("POST", "/ladder/policy/apply"): {"data": {"text": POLICY}},
        ("POST", "/ladder/policy/backtest"): {
            "data": {"text": POLICY, "first": "2026-08", "last": "2026-09"}
        },
        ("POST", "/ladder/evidence"): {
            "files": {"file": ("qa.csv", io.BytesIO(EVIDENCE_CSV), "text/csv")},
            "data": {"dry_run": "true"},
        },
        ("POST", "/ladder/evidence/{evidence_upload_id}/apply"): {"data": {}},
        ("POST", "/api/ladder/run"): {"params": {"period": "2026-09", "dry_run": "true"}},
        ("POST", "/api/ladder/decisions/{decision_id}/review"): {"json": {"approve": True}},
        ("POST", "/api/ladder/policy/validate"): {"json": {"text": POLICY}},
        ("POST", "/cycle/close"): {"data": {"period": "2026-09"}},
        ("POST", "/api/cycle/close"): {"params": {"period": "2026-09"}},
        ("POST", "/certifications/import"): {"files": certificates},
        ("POST", "/certifications/import/{upload_id}/apply"): {"data": {}},
        ("POST", "/api/certifications/import"): {
            "files": certificates,
            "params": {"dry_run": "true"},
        },
        ("POST", "/certifications/{certificate_id}/revoke"): {"data": {"reason": "测试"}},
        ("POST", "/api/certifications/{certificate_id}/revoke"): {"json": {"reason": "测试"}},
        ("POST", "/certifications/programmes"): {
            "data": {"code": "NEW-P", "cert_type": "service_skill", "exam_codes": ["PERM-EXAM"]}
        },
        ("POST", "/certifications/programmes/{programme_code}/delete"): {"data": {}},
        ("POST", "/certifications/types"): {
            "data": {"code": "complaints", "zh": "投诉处理认证", "en": "Complaint handling"}
        },
        ("POST", "/quality/forms/import"): {
            "files": {"file": ("form.yaml", io.BytesIO(QA_FORM_YAML), "application/yaml")}
        },
        ("POST", "/quality/forms/import/{forms_upload_id}/apply"): {"data": {}},
        ("POST", "/quality/evaluations/import"): {
            "files": {"file": ("qa.csv", io.BytesIO(QA_EVALUATIONS_CSV), "text/csv")}
        },
        ("POST", "/quality/evaluations/import/{evaluations_upload_id}/apply"): {"data": {}},
        ("POST", "/quality/transcripts/import"): {
            "files": {"file": ("t.jsonl", io.BytesIO(TRANSCRIPTS_JSONL), "application/jsonl")}
        },
        ("POST", "/quality/transcripts/import/{transcripts_upload_id}/apply"): {"data": {}},
        ("POST", "/training/questions/new"): {
            "data": BANK_QUESTION_FORM,
            "params": {"type": "single_choice"},
        },
        ("POST", "/training/questions/{question_id}/edit"): {"data": BANK_QUESTION_FORM},
        ("POST", "/training/questions/{question_id}/retire"): {"data": {}},
        ("POST", "/training/questions/{question_id}/restore"): {"data": {}},
        ("POST", "/training/questions/{question_id}/delete"): {"data": {}},
        ("POST", "/training/questions/import"): {
            "files": {"file": ("bank.gift", io.BytesIO(BANK_GIFT), "text/plain")}
        },
        ("POST", "/training/questions/import/{questions_upload_id}/apply"): {"data": {}},
        ("POST", "/api/training/questions"): {"json": BANK_QUESTION},
        ("PUT", "/api/training/questions/{question_id}"): {"json": BANK_QUESTION},
        ("POST", "/api/training/questions/{question_id}/retire"): {},
        ("POST", "/api/tokens"): {"json": {"name": "script"}},
        ("DELETE", "/api/tokens/{token_id}"): {},
        ("POST", "/account/tokens"): {"data": {"name": "script", "expires_in_days": "30"}},
        ("POST", "/account/tokens/{token_id}/revoke"): {"data": {}},
        ("POST", "/quality/samples"): {"data": {"period": "2025-10", "seed": "1"}},
        ("POST", "/quality/calibration"): {
            "data": {
                "code": "CAL-NEW",
                "held_on": "2026-11-03",
                "calls": "n1,A0001,2026-11-02 10:15",
            }
        },
        ("POST", "/quality/calibration/{calibration_id}/score"): {"data": {"call_id": "w1"}},
        (
            "POST",
            "/quality/calibration/{calibration_id}/evaluations/{calibration_evaluation_id}/anchor",
        ): {"data": {}},
        ("POST", "/quality/my-calls/{sampled_id}/start"): {"data": {"kind": "official"}},
        ("POST", "/quality/evaluations/{evaluation_id}/draft"): {"data": QA_WORKSPACE_FIELDS},
        ("POST", "/quality/evaluations/{evaluation_id}/submit"): {"data": QA_WORKSPACE_FIELDS},
        ("POST", "/quality/evaluations/{evaluation_id}/regrade"): {
            "data": {"answer_procedure": "no", "reason": "复核更正"}
        },
        ("POST", "/quality/evaluations/{evaluation_id}/acknowledge"): {"data": {}},
        ("POST", "/quality/evaluations/{evaluation_id}/disputes"): {
            "data": {"item": "basic_courtesy", "reason": "请复核"}
        },
        ("POST", "/quality/autoqa/rules"): {"data": {"text": AUTOQA_RULES}},
        ("POST", "/quality/autoqa/run"): {"data": {"period": "2026-09"}},
        ("POST", "/api/quality/autoqa/rules/validate"): {"json": {"text": AUTOQA_RULES}},
        ("POST", "/api/quality/autoqa/rules"): {"json": {"text": AUTOQA_RULES}},
        ("POST", "/quality/disputes/{dispute_id}/decide"): {
            "data": {"decision": "upheld", "note": "维持原判"}
        },
    }
    bodies |= {
        ("POST", "/knowledge/items"): {"data": KB_FORM},
        ("POST", "/knowledge/import"): {
            "files": {"file": ("k.csv", io.BytesIO(KB_CSV), "text/csv")}
        },
        ("POST", "/knowledge/import/{knowledge_upload_id}/apply"): {"data": {}},
        ("POST", "/knowledge/items/{item_id}/edit"): {"data": {**KB_FORM, "title": "改过的"}},
        ("POST", "/knowledge/preview"): {"json": {"text": "**粗体**"}},
        ("POST", "/knowledge/duplicates"): {"json": {"title": "光猫红灯", "text": "重启光猫"}},
        ("POST", "/knowledge/items/{item_id}/submit"): {"data": {}},
        ("POST", "/knowledge/items/{item_id}/review"): {
            "data": {"decision": "approve", "grade": "4"}
        },
        ("POST", "/knowledge/items/{item_id}/adopt"): {"data": {}},
        ("POST", "/knowledge/items/{item_id}/sop"): {"data": {}},
        ("POST", "/knowledge/items/{item_id}/archive"): {"data": {}},
        ("POST", "/knowledge/items/{item_id}/link"): {"data": {"other_id": "1"}},
        ("POST", "/knowledge/items/{item_id}/vote"): {"data": {"helpful": "yes"}},
        ("POST", "/knowledge/items/{item_id}/comments"): {"data": {"body": "有用"}},
        ("POST", "/knowledge/items/{item_id}/usages"): {"data": {"call_id": "q1"}},
        ("POST", "/knowledge/items/{item_id}/attachments"): {
            "files": {"file": ("note.txt", io.BytesIO("步骤".encode()), "text/plain")}
        },
        ("POST", "/knowledge/items/{item_id}/revert"): {"data": {"revision": "1"}},
        ("POST", "/knowledge/settings/rules"): {"data": {"rules": KB_RULES}},
        ("POST", "/knowledge/settings/vocabulary"): {
            "data": {"terms": "光猫", "synonyms": "宽带 = 网络"}
        },
        ("POST", "/api/knowledge/items"): {"json": KB_CASE.model_dump()},
        ("POST", "/api/knowledge/items/{item_id}/usages"): {"json": {"call_id": "q2"}},
    }
    bodies |= {
        ("POST", "/exams/{code}/start"): {"data": {}},
        ("POST", "/exams/attempts/{attempt_id}/save"): {"data": {"q1": "0"}},
        ("POST", "/exams/attempts/{attempt_id}/submit"): {"data": {"q1": "0"}},
        ("POST", "/exams/new"): {"data": EXAM_FORM},
        ("POST", "/exams/{code}/edit"): {"data": EXAM_FORM},
        ("POST", "/exams/{code}/status"): {"data": {"status": "closed"}},
        ("POST", "/exams/{code}/statistics/questions/{question_id}/retire"): {"data": {}},
        ("POST", "/exams/grading/{submitted_attempt_id}/{slot}"): {
            "data": {"mark": "0.5", "comment": "好"}
        },
        ("POST", "/api/exams"): {"json": {**EXAM_SETTINGS, "code": "PERM-API"}},
        ("PUT", "/api/exams/{code}"): {"json": EXAM_SETTINGS},
        ("POST", "/api/exams/{code}/status"): {"json": {"status": "closed"}},
        ("PUT", "/api/exams/attempts/{attempt_id}/answers"): {
            "json": {"slot": 1, "response": 0, "seq": 1}
        },
        ("POST", "/api/exams/attempts/{attempt_id}/submit"): {},
    }
    if method == "GET":
        return {}
    return bodies[(method, path)]


def test_every_unsafe_route_has_a_payload() -> None:
    for method, path, _ in PROTECTED:
        _payload(method, path)


def _call(client: TestClient, method: str, path: str, ids: dict[str, Any]) -> int:
    if "{token_id}" in path:
        # A token is revoked by its owner: each role revokes one of its own.
        created = client.post("/api/tokens", json={"name": "to revoke"})
        ids = {**ids, "token_id": created.json()["id"] if created.status_code == 201 else 1}
    if path.startswith("/quality/evaluations/") and path.endswith(("/draft", "/submit")):
        # A draft is its evaluator's: each role starts one on the call drawn for nobody yet.
        started = client.post(
            f"/quality/my-calls/{ids['sampled_id']}/start",
            data={"kind": "official"},
            follow_redirects=False,
        )
        location = started.headers.get("location", "")
        if started.status_code == 303 and location.startswith("/quality/evaluations/"):
            ids = {**ids, "evaluation_id": int(location.rsplit("/", 1)[1])}
    if path.startswith("/knowledge/items/{item_id}"):
        ids = _knowledge_item_for(client, path, ids)
    # A path parameter's converter (`{name:path}`) is no format spec.
    url = re.sub(r"\{(\w+):\w+\}", r"{\1}", path).format(**ids)
    response = client.request(method, url, follow_redirects=False, **_payload(method, path))
    return response.status_code


def _knowledge_item_for(client: TestClient, path: str, ids: dict[str, Any]) -> dict[str, Any]:
    """The item a library route acts on: the caller's own new draft for the author's routes, the
    waiting item for a review, the adopted case for an SOP, else the published case."""
    if path.endswith(KB_OWN_ITEM_ROUTES) or path.endswith("/attachments"):
        created = client.post("/knowledge/items", data=KB_FORM, follow_redirects=False)
        location = created.headers.get("location", "")
        if created.status_code == 303 and location.startswith("/knowledge/items/"):
            return {**ids, "item_id": int(location.rsplit("/", 1)[1])}
        return ids
    if path.endswith("/review"):
        return {**ids, "item_id": ids["pending_item_id"]}
    if path.endswith("/sop"):
        return {**ids, "item_id": ids["adopted_item_id"]}
    return ids


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "permission"), PROTECTED)
def test_route_by_role(
    request: pytest.FixtureRequest, role: str, method: str, path: str, permission: Permission
) -> None:
    allowed = role in MATRIX[permission]
    # A refused request never reaches the route, so it changes nothing: it may use the shared
    # world; an allowed unsafe one gets a world of its own.
    world = _world_for(request, method if allowed else "GET")
    if method == "GET" or not allowed:
        client = request.getfixturevalue("read_clients")[role]
    else:
        client = login(TestClient(create_app(world.settings)), role)
    status = _call(client, method, path, world.ids)
    if allowed:
        assert status < 400, f"{role} should be allowed {method} {path}, got {status}"
    else:
        assert status == 403, f"{role} should be refused {method} {path}, got {status}"


@pytest.mark.parametrize(("method", "path", "permission"), PROTECTED)
def test_route_without_login(
    request: pytest.FixtureRequest, method: str, path: str, permission: Permission
) -> None:
    # Refused before any route runs: the shared world serves every method.
    world = _world_for(request, "GET")
    client = request.getfixturevalue("anonymous_client")
    status = _call(client, method, path, world.ids)
    if path.startswith("/api"):
        assert status == 401
    elif method == "GET":
        assert status == 303
    else:
        # Unsafe pages without a session are refused (login first, then CSRF).
        assert status in {303, 403}


@pytest.mark.parametrize(
    "path", ["/quality/autoqa/calls/{call_id}", "/api/quality/autoqa/calls/{call_id}"]
)
def test_only_the_agent_and_their_lead_see_an_agents_automatic_qa(world: World, path: str) -> None:
    with session_scope(world.settings) as session:
        a2 = make_agent(session, employee_no="A0003", name="赵磊", team_code="T02")
        make_user(session, world.settings, "other_agent", ["agent"], agent=a2)
    app = create_app(world.settings)
    url = path.format(**world.ids)
    for username, status in (("agent", 200), ("team_lead", 200), ("qa", 200), ("other_agent", 404)):
        assert login(TestClient(app), username).get(url).status_code == status, username


@pytest.mark.parametrize("path", ["/agents/{other_agent_id}", "/api/agents/{other_agent_id}"])
def test_agent_cannot_see_another_agent(world: World, path: str) -> None:
    client = login(TestClient(create_app(world.settings)), "agent")
    assert client.get(path.format(**world.ids)).status_code == 404
    own = client.get(path.replace("other_agent_id", "agent_id").format(**world.ids))
    assert own.status_code == 200
    assert "王芳" in own.text


@pytest.mark.parametrize("path", ["/agents/{other_agent_id}", "/api/agents/{other_agent_id}"])
def test_team_lead_sees_only_their_team(world: World, path: str) -> None:
    client = login(TestClient(create_app(world.settings)), "team_lead")
    assert client.get(path.format(**world.ids)).status_code == 404
    assert (
        client.get(path.replace("other_agent_id", "agent_id").format(**world.ids)).status_code
        == 200
    )
    listed = client.get("/api/agents").json()
    assert [a["employee_no"] for a in listed["agents"]] == ["A0001"]
    teams = client.get("/api/teams").json()
    assert [t["code"] for t in teams] == ["T01"]


def test_agent_lands_on_own_profile(world: World) -> None:
    client = login(TestClient(create_app(world.settings)), "agent")
    response = client.get("/", follow_redirects=False)
    assert response.headers["location"] == f"/agents/{world.ids['agent_id']}/scorecard"


def test_agent_cannot_edit_another_agents_level_even_with_api(world: World) -> None:
    client = login(TestClient(create_app(world.settings)), "agent")
    response = client.post(
        f"/api/agents/{world.ids['agent_id']}/level",
        json={"level": "super", "effective_on": "2025-01-01", "reason": "me"},
    )
    assert response.status_code == 403
    with session_scope(world.settings) as session:
        assert _level(session, world.ids["agent_id"]) == "basic_fresh"


def _level(session: Session, agent_id: int) -> str:
    scope = org_service.AgentScope(everyone=True, team_ids=frozenset(), agent_id=None)
    return org_service.get_agent_or_raise(
        session=session, agent_id=agent_id, scope=scope
    ).current_level
