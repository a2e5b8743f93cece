"""The ladder reports as documents: what each section holds, from the ladder service's data,
and the errors for an unknown agent, team or period."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from agentladder.errors import InvalidInput, NotFound
from agentladder.ladder.documents import service as documents_service
from agentladder.org import service as org_service
from agentladder.periods import parse_period
from agentladder.reports.charts.schemas import BarChart
from agentladder.reports.schemas import Document, Section, Value
from tests.reports.situation import APPEAL_TEXT, SCRIPT_NAME, Centre

EVERYONE = org_service.AgentScope.everyone_scope()
TODAY = date(2026, 11, 15)


def _facts(section: Section) -> dict[str, object]:
    return {
        str(label): value.number if isinstance(value, Value) else value
        for label, value in section.rows
    }


def _column(section: Section, title: str) -> list[object]:
    index = [column.title for column in section.columns].index(title)
    return [row[index] for row in section.rows]


def _scorecard(
    session: Session, employee_no: str, period: str | None = None, language: str = "en"
) -> Document:
    return documents_service.scorecard_document(
        session=session,
        employee_no=employee_no,
        period=parse_period(period) if period else None,
        language=language,  # type: ignore[arg-type]
        scope=EVERYONE,
    )


def test_scorecard_progress_per_gate_toward_the_next_level(
    session: Session, centre: Centre
) -> None:
    document = _scorecard(session, "100004")  # basic_junior, composite 45 in 2026-10
    facts = _facts(document.section("summary"))
    assert facts["Decision"] == "Hold"
    assert facts["Composite score"] == pytest.approx(45.0)
    assert facts["Next level"] == "Basic Senior"
    progress = document.section("progress")
    gates = {str(row[0]): row for row in progress.rows}
    assert list(gates) == ["Handled calls", "QA evaluations", "Composite score"]
    score = gates["Composite score"]
    assert score[1] == "Basic Senior"
    assert (score[2], score[3]) == (Value(67, "int"), Value(45, "int"))
    assert score[4] == pytest.approx(45 / 67)
    assert score[5] == "No"
    # The chart shows the same gates; only the unmet one in the accent colour.
    assert isinstance(progress.figure, BarChart)
    assert [bar.highlight for bar in progress.figure.bars] == [False, False, True]
    assert progress.figure.bars[2].value == pytest.approx(45 / 67)
    assert progress.figure.bars[2].text == "45 / 67"
    assert "+22.0 points (composite 67.0)" in progress.notes


def test_scorecard_evidence_has_sample_sizes_and_the_history(
    session: Session, centre: Centre
) -> None:
    document = _scorecard(session, "100003")
    evidence = document.section("evidence")
    assert _column(evidence, "Component") == ["Service statistics", "Service quality"]
    assert _column(evidence, "Metric") == ["First-contact resolution", "QA score"]
    assert _column(evidence, "Sample size") == [120, 6]
    assert _column(evidence, "Points") == [40.0, 40.0]
    assert _column(evidence, "Value") == [Value(0.4, "percent"), Value(40.0, "score")]
    decisions = document.section("decisions")
    assert _column(decisions, "Period") == ["2026-10", "2026-09"]
    assert _column(decisions, "Decision") == ["Demote", "Hold"]
    assert "Below the floor for 2 periods in a row: demoted one level." in str(
        decisions.rows[0][-1]
    )
    trend = document.section("trend")
    assert [row[:2] for row in trend.rows] == [["2026-09", 40.0], ["2026-10", 40.0]]
    appeals = document.section("appeals")
    assert [row[1:5] for row in appeals.rows] == [["Appeal", "Open", "", APPEAL_TEXT]]
    # The demotion waits for approval: no progress until the next period.
    assert document.section("progress").rows == []
    assert "moves the agent to Basic Sophomore" in document.section("progress").empty


def test_scorecard_of_an_earlier_period_reads_that_period(session: Session, centre: Centre) -> None:
    document = _scorecard(session, "100001", period=parse_period("2026-09"))
    assert "2026-09" in document.subtitle
    assert _column(document.section("decisions"), "Period") == ["2026-09"]
    assert len(document.section("trend").rows) == 1
    progress = document.section("progress")
    assert isinstance(progress.figure, BarChart)
    assert [bar.highlight for bar in progress.figure.bars] == [False, False, False]
    assert progress.notes == ["1 more qualifying period in a row"]


def test_scorecard_in_chinese_names_levels_and_decisions(session: Session, centre: Centre) -> None:
    document = _scorecard(session, "100001", language="zh_Hans")
    assert "王芳" in document.title
    values = [str(value) for value in _facts(document.section("summary")).values()]
    assert values.count("初级座席·二级") == 2  # the level now and after the decision
    assert "初级座席·新手" in values  # the level in the period
    assert "晋级" in values
    assert _column(document.section("evidence"), "指标") == ["首次解决率", "质检得分"]


def test_team_dashboard_document(session: Session, centre: Centre) -> None:
    document = documents_service.team_document(
        session=session, language="en", scope=EVERYONE, today=TODAY
    )
    pyramid = document.section("pyramid")
    assert pyramid.rows[0][1] == "Super Agent"  # the top of the pyramid first
    counts = {row[1]: row[2] for row in pyramid.rows}
    # The approved promotion moved 王芳 up; the demotion still waits for approval.
    assert (counts["Basic Fresh"], counts["Basic Sophomore"], counts["Basic Junior"]) == (2, 1, 2)
    bins = {row[0]: row[1] for row in document.section("distribution").rows}
    assert (bins["40-50"], bins["80-90"], bins["90-100"]) == (2, 2, 1)
    assert _column(document.section("close_to_promotion"), "Employee no.") == ["100002"]
    assert _column(document.section("at_risk"), "Employee no.") == ["100004"]
    assert _column(document.section("pending"), "Employee no.") == ["100003"]
    assert len(document.section("decisions").rows) == 5
    facts = _facts(document.section("summary"))
    assert (facts["Agents"], facts["Promote"], facts["Insufficient evidence"]) == (5, 1, 1)

    team = documents_service.team_document(
        session=session, language="en", scope=EVERYONE, today=TODAY, team_code="T02"
    )
    assert "客服二组 (T02)" in team.title
    assert set(_column(team.section("decisions"), "Team")) == {"T02"}
    assert SCRIPT_NAME in _column(team.section("decisions"), "Name")


def test_promotion_list_and_fairness_table(session: Session, centre: Centre) -> None:
    document = documents_service.promotions_document(session=session, language="en")
    assert document.title.endswith("2026-10")
    moves = document.section("promotions")
    assert _column(moves, "Employee no.") == ["100001", "100003"]
    assert _column(moves, "Decision") == ["Promote", "Demote"]
    assert _column(moves, "Status") == ["Approved", "Waiting for approval"]
    assert f"Appeal (Open): {APPEAL_TEXT}" in str(moves.rows[1][-1])
    fairness = {(row[0], row[1]): row[2:] for row in document.section("fairness").rows}
    assert fairness["Team", "T01"] == [2, 1, 0.5, 0, 0.0, 0]
    assert fairness["Team", "T02"] == [3, 0, 0.0, 1, pytest.approx(1 / 3), 1]
    assert fairness["Skill group", "vip"] == [2, 0, 0.0, 1, 0.5, 0]
    assert fairness["Tenure (months)", "24+"] == [5, 1, 0.2, 1, 0.2, 1]
    assert ("Evaluator group", "test") in fairness
    facts = _facts(document.section("summary"))
    assert (facts["Agents decided"], facts["Promotions"], facts["Demotions"]) == (5, 1, 1)
    assert facts["Promotion rate"] == pytest.approx(0.2)


def test_unknown_agent_team_or_period_is_a_clear_error(session: Session, centre: Centre) -> None:
    with pytest.raises(NotFound, match="no agent has the employee number 999999"):
        _scorecard(session, "999999")
    with pytest.raises(
        NotFound, match=r"no ladder decision for 2026-05 \(decided: 2026-10, 2026-09\)"
    ):
        _scorecard(session, "100001", period=parse_period("2026-05"))
    with pytest.raises(NotFound, match="no team has the code T99"):
        documents_service.team_document(
            session=session, language="en", scope=EVERYONE, today=TODAY, team_code="T99"
        )
    with pytest.raises(NotFound, match="no ladder decisions for 2026-05"):
        documents_service.team_document(
            session=session,
            language="en",
            scope=EVERYONE,
            today=TODAY,
            period=parse_period("2026-05"),
        )
    with pytest.raises(NotFound, match="no ladder decisions for 2026-05"):
        documents_service.promotions_document(
            session=session, language="en", period=parse_period("2026-05")
        )
    with pytest.raises(InvalidInput, match="unknown period 2026-13"):
        documents_service.promotions_document(
            session=session, language="en", period=parse_period("2026-13")
        )
    with pytest.raises(InvalidInput, match="unknown period"):
        documents_service.team_document(
            session=session,
            language="en",
            scope=EVERYONE,
            today=TODAY,
            period=parse_period("last month"),
        )


def test_nothing_decided_yet(session: Session) -> None:
    with pytest.raises(NotFound, match="has not decided any period yet"):
        documents_service.promotions_document(session=session, language="en")
    with pytest.raises(NotFound, match="has not decided any period yet"):
        documents_service.team_document(session=session, language="en", scope=EVERYONE, today=TODAY)


def test_a_scope_hides_other_agents(session: Session, centre: Centre) -> None:
    own = org_service.AgentScope(everyone=False, team_ids=frozenset(), agent_id=centre.close.id)
    with pytest.raises(NotFound, match="agent not found"):
        documents_service.scorecard_document(
            session=session, employee_no="100001", language="en", scope=own
        )
