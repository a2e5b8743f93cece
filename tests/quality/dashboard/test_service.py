"""The QA dashboard: a period's official evaluations by team, agent and item within the
viewer's scope, the item failure heatmap, evaluators' workload, the trend, the exports, and the
QA section of an agent's scorecard."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.org import service as org_service
from agentladder.org.models import User
from agentladder.periods import parse_period
from agentladder.quality import service as quality_service
from agentladder.quality.dashboard import service as dashboard_service
from agentladder.quality.models import QaSample, QaSampledCall
from agentladder.reports import service as reports_service
from agentladder.web.app import create_app
from tests.factories import login, make_agent, make_team, make_user

FORM = quality_service.default_form()
ZONE = ZoneInfo("Asia/Shanghai")
OCTOBER = parse_period("2026-10")


def _answers(**changes: bool | int | None) -> dict[str, bool | int | None]:
    perfect: dict[str, bool | int | None] = {
        item.code: (item.scale_max if item.kind == "scale" else True)  # type: ignore[misc]
        for item in FORM.items()
    }
    return {**perfect, **changes}


@dataclass
class Centre:
    settings: Settings
    a1: int  # team T01
    a2: int  # team T02


def _evaluate(
    session: Session,
    version_id: int,
    agent_id: int,
    evaluator: User,
    answers: dict[str, bool | int | None],
    day: int,
    month: int = 10,
    kind: str = "official",
) -> int:
    evaluation = quality_service.start_evaluation(
        session=session,
        form_version_id=version_id,
        agent_id=agent_id,
        evaluator=evaluator,
        call_id=f"c-{agent_id}-{month}-{day}-{kind}",
        call_at=datetime(2026, month, day, 3, 0, tzinfo=UTC),
        kind=kind,
    )
    quality_service.save_draft(session=session, evaluation_id=evaluation.id, answers=answers)
    quality_service.submit_evaluation(session=session, evaluation_id=evaluation.id)
    return evaluation.id


@pytest.fixture
def centre(settings: Settings) -> Centre:
    with session_scope(settings) as session:
        t1 = make_team(session, "T01", "客服一组")
        make_team(session, "T02", "客服二组")
        a1 = make_agent(session, employee_no="A0001", name="王芳", team_code="T01")
        a2 = make_agent(session, employee_no="A0002", name="李强", team_code="T02")
        qa = make_user(session, settings, "qa1", ["qa"])
        make_user(session, settings, "lead", ["team_lead"], lead_team_id=t1)
        make_user(session, settings, "boss", ["manager"])
        make_user(session, settings, "agent", ["agent"], agent=a1)
        version = quality_service.save_form(session=session, spec=FORM).id
        # A1: one perfect call, one that missed calming (yes/no) and half the speaking scale.
        _evaluate(session, version, a1.id, qa, _answers(), 3)
        _evaluate(session, version, a1.id, qa, _answers(calming=False, speaking_skills=2), 10)
        # A2: a fatal error; calming not applicable.
        _evaluate(session, version, a2.id, qa, _answers(no_illegal_act=False, calming=None), 5)
        # Neither coaching nor September counts for October.
        _evaluate(session, version, a2.id, qa, _answers(calming=False), 6, kind="coaching")
        _evaluate(session, version, a1.id, qa, _answers(calming=False), 6, month=9)
        sample = QaSample(period_label="2026-10", seed=1)
        session.add(sample)
        session.flush()
        session.add(
            QaSampledCall(
                sample_id=sample.id,
                agent_id=a2.id,
                call_id="open-1",
                call_at=datetime(2026, 10, 20, tzinfo=UTC),
                evaluator_user_id=qa.id,
            )
        )
        return Centre(settings, a1.id, a2.id)


def test_the_period_is_read_by_team_agent_item_and_evaluator(
    centre: Centre, session: Session
) -> None:
    board = dashboard_service.qa_dashboard(
        session=session, period=OCTOBER, zone=ZONE, scope=org_service.AgentScope.everyone_scope()
    )
    assert board.overall.evaluations == 3
    assert board.overall.fatal_errors == 1
    assert board.overall.fatal_accuracy == pytest.approx(2 / 3)
    assert [(t.code, t.figures.evaluations) for t in board.teams] == [("T01", 2), ("T02", 1)]
    assert board.teams[1].figures.qa_score == 0  # the fatal error zeroes the call
    # The lowest score first.
    assert [a.employee_no for a in board.agents] == ["A0002", "A0001"]
    items = {item.code: item for item in board.items}
    # Calming: no on one of A1's two calls; not applicable on A2's.
    assert items["calming"].applicable == 2
    assert items["calming"].failure_rate == pytest.approx(0.5)
    assert items["calming"].by_team == {"T01": (2, pytest.approx(0.5))}
    # Speaking skills (a 0..4 scale): 2 of 4 missed once, in three calls.
    assert items["speaking_skills"].failure_rate == pytest.approx((0.5) / 3)
    assert items["no_illegal_act"].fatal
    assert items["no_illegal_act"].by_team["T02"] == (1, 1.0)
    [evaluator] = board.evaluators
    assert (evaluator.username, evaluator.evaluations, evaluator.open_assignments) == ("qa1", 3, 1)
    assert evaluator.effect is None  # too few evaluations to estimate
    assert [p.period for p in board.trend][-2:] == ["2026-09", "2026-10"]
    assert board.trend[-2].figures.evaluations == 1


def test_a_team_lead_sees_only_their_teams(centre: Centre, session: Session) -> None:
    lead = session.query(User).filter_by(username="lead").one()
    board = dashboard_service.qa_dashboard(
        session=session, period=OCTOBER, zone=ZONE, scope=org_service.agent_scope(lead)
    )
    assert [a.employee_no for a in board.agents] == ["A0001"]
    assert board.overall.evaluations == 2
    assert "no_illegal_act" not in {i.code for i in board.items if i.failure_rate}


def test_the_dashboard_exports_the_same_figures(centre: Centre, session: Session) -> None:
    board = dashboard_service.qa_dashboard(
        session=session, period=OCTOBER, zone=ZONE, scope=org_service.AgentScope.everyone_scope()
    )
    document = dashboard_service.qa_document(
        board, language="zh_Hans", team_label="全部", generated_at=datetime(2026, 11, 1, tzinfo=UTC)
    )
    book = load_workbook(io.BytesIO(reports_service.render_document(document, "xlsx")))
    assert len(book.sheetnames) == 6
    items = book.worksheets[4]
    rows = {row[0]: row for row in items.iter_rows(min_row=2, values_only=True)}
    assert rows["安抚客户情绪"][2] == pytest.approx(0.5)
    assert reports_service.render_document(document, "pdf").startswith(b"%PDF")


def test_an_agents_scorecard_lists_their_qa(centre: Centre, session: Session) -> None:
    card = dashboard_service.agent_qa_card(
        session=session, agent_id=centre.a1, period=OCTOBER, zone=ZONE
    )
    assert card.figures.evaluations == 2
    assert [e.kind for e in card.evaluations] == ["official", "official", "official"]
    assert card.weakest_items[0].code == "calming"


def test_the_pages_show_the_dashboard_within_scope(centre: Centre) -> None:
    boss = login(TestClient(create_app(centre.settings)), "boss")
    page = boss.get("/quality?period=2026-10")
    assert page.status_code == 200
    assert "李强" in page.text
    assert "王芳" in page.text
    assert "h5" in page.text or "h10" in page.text  # a hot heatmap cell
    lead = login(TestClient(create_app(centre.settings)), "lead")
    page = lead.get("/quality?period=2026-10")
    assert "王芳" in page.text
    assert "李强" not in page.text
    with session_scope(centre.settings) as session:
        other_team = org_service.get_team_by_code(session=session, code="T02")
        assert other_team is not None
        other_id = other_team.id
    assert lead.get(f"/quality?team={other_id}").status_code == 404
    export = boss.get("/quality/export?format=xlsx&period=2026-10")
    assert export.status_code == 200
    assert export.headers["content-disposition"].endswith('qa-2026-10.xlsx"')
    agent = login(TestClient(create_app(centre.settings)), "agent")
    assert agent.get("/quality").status_code == 403
    scorecard = agent.get(f"/agents/{centre.a1}/scorecard")
    assert 'id="qa"' in scorecard.text


def test_the_scorecard_falls_back_to_the_latest_evaluated_month(
    centre: Centre, session: Session
) -> None:
    card = dashboard_service.agent_qa_card(
        session=session, agent_id=centre.a1, period=parse_period("2026-11"), zone=ZONE
    )
    assert (card.period, card.figures.evaluations) == ("2026-10", 2)
