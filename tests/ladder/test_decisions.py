"""Every rule of the policy semantics, built as a situation in a real database and run through
the ladder service: the decision, its gates and its explanation."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.errors import Conflict, InvalidInput
from agentladder.ladder.appeals import service as appeals_service
from agentladder.ladder.decisions import service as decisions_service
from agentladder.org import service as org_service
from agentladder.org.models import LevelHistory
from agentladder.periods import parse_period
from agentladder.training.models import Certification
from tests.factories import make_agent, make_user
from tests.ladder.builders import HIRED, decision_of, gate_of, give, policy_text, run


def test_qualifying_one_period_only_holds(session: Session) -> None:
    agent = make_agent(session, hire_date=HIRED)
    give(session, agent, "2026-09", score=80)
    view = decision_of(run(session, "2026-09", policy_text()), agent)
    assert (view.decision, view.to_level) == ("hold", "basic_fresh")
    assert "Qualified for Basic Sophomore (1 of 2 periods in a row)." in view.explanation("en")
    assert "初级座席·二级" in " ".join(view.explanation("zh_Hans"))
    assert view.gaps("en") == ["1 more qualifying period in a row"]  # one, not "periods"
    assert view.gaps("zh_Hans") == ["还需连续 1 个周期达标"]


def test_two_periods_in_a_row_promote_one_level_even_when_qualifying_for_two(
    session: Session,
) -> None:
    agent = make_agent(session, hire_date=HIRED)
    for period in ("2026-09", "2026-10"):
        give(session, agent, period, score=95)  # enough for basic_junior and beyond
    run(session, "2026-09", policy_text())
    view = decision_of(run(session, "2026-10", policy_text()), agent)
    assert (view.decision, view.from_level, view.to_level) == (
        "promote",
        "basic_fresh",
        "basic_sophomore",
    )
    assert view.status == "applied"  # the test policy approves automatically
    assert "promoted one level to Basic Sophomore" in view.explanation("en")[-1]
    session.refresh(agent)
    assert (agent.current_level, agent.level_since) == ("basic_sophomore", date(2026, 11, 1))


def test_a_fatal_error_in_the_window_blocks_promotion(session: Session) -> None:
    text = policy_text(entry={"basic_sophomore": "{min_score: 55, no_fatal_months: 3}"})
    agent = make_agent(session, hire_date=HIRED)
    give(session, agent, "2026-08", score=90, fatal=1)
    for period in ("2026-09", "2026-10"):
        give(session, agent, period, score=90, fatal=0)
        view = decision_of(run(session, period, text), agent)
    assert view.decision == "hold"
    assert gate_of(view, "fatal_errors") == {
        "gate": "fatal_errors",
        "level": "basic_sophomore",
        "required": 0,
        "actual": 1,
        "passed": False,
    }
    assert "Not qualified for Basic Sophomore: Fatal errors in the window." in view.explanation(
        "en"
    )
    # Three months after the error, the window is clean and the streak starts.
    give(session, agent, "2026-11", score=90, fatal=0)
    assert gate_of(decision_of(run(session, "2026-11", text), agent), "fatal_errors")["passed"]


def test_an_expired_certification_blocks_promotion(session: Session) -> None:
    text = policy_text(
        consecutive=1,
        entry={"basic_sophomore": "{min_score: 55, certifications: [product_knowledge]}"},
    )
    agent = make_agent(session, hire_date=HIRED)
    session.add(
        Certification(
            agent_id=agent.id,
            cert_type="product_knowledge",
            issued_on=date(2025, 9, 1),
            expires_on=date(2026, 9, 29),
            source="test",
        )
    )
    give(session, agent, "2026-09", score=90)
    view = decision_of(run(session, "2026-09", text), agent)
    assert view.decision == "hold"
    gate = gate_of(view, "certification")
    assert (gate["required"], gate["passed"]) == ("product_knowledge", False)
    assert "certification: Product knowledge" in view.gaps("en")
    assert "认证：产品知识认证" in view.gaps("zh_Hans")
    # Valid on the period's last day: the same evidence promotes.
    give(session, agent, "2026-08", score=90)
    assert decision_of(run(session, "2026-08", text), agent).decision == "promote"


def test_with_a_confidence_thin_evidence_qualifies_only_on_its_lower_bound(
    session: Session,
) -> None:
    thin, ample = make_agent(session, hire_date=HIRED), make_agent(session, hire_date=HIRED)
    # Both score 58 against an entry of 55 + band 2; only the second has evidence enough for
    # the lower bound to clear 57 too.
    give(session, thin, "2026-09", score=58, calls=120, qa_evaluations=6)
    give(session, ample, "2026-09", score=58, calls=20_000, qa_evaluations=400)
    text = policy_text(confidence=0.95, qa_spread=10)
    report = run(session, "2026-09", text)
    thin_view, ample_view = decision_of(report, thin), decision_of(report, ample)
    # fcr 0.58 of 120 calls: SE 4.5 points; QA spread 10 over 6: 4.1; half weight each: 3.0.
    gate = gate_of(thin_view, "score_lower_bound")
    assert gate["required"] == 57
    assert not gate["passed"]
    assert gate["actual"] == pytest.approx(58 - 1.645 * 3.04, abs=0.05)
    assert thin_view.detail["composite_se"] == pytest.approx(3.04, abs=0.01)
    assert "Its standard error from the sample sizes is 3.0 points." in thin_view.explanation("en")
    assert thin_view.gaps("en")[0] == (
        "+4.0 points on the composite's lower bound 57.0 (margin 5.0)"
    )
    assert "综合分置信下限" in " ".join(thin_view.gaps("zh_Hans"))
    assert gate_of(ample_view, "score_lower_bound")["passed"]
    assert "Qualified for Basic Sophomore (1 of 2 periods in a row)." in ample_view.explanation(
        "en"
    )
    # Without a confidence the same evidence qualifies on the composite alone.
    plain = decision_of(run(session, "2026-09", policy_text()), thin)
    assert gate_of(plain, "score")["passed"]


def test_five_qa_evaluations_where_six_are_required_is_insufficient_evidence(
    session: Session,
) -> None:
    agent = make_agent(session, hire_date=HIRED)
    give(session, agent, "2026-09", score=99, qa_evaluations=5)
    view = decision_of(run(session, "2026-09", policy_text(consecutive=1)), agent)
    assert (view.decision, view.to_level) == ("insufficient_evidence", "basic_fresh")
    assert gate_of(view, "min_qa_evaluations") == {
        "gate": "min_qa_evaluations",
        "level": "",
        "required": 6,
        "actual": 5,
        "passed": False,
    }
    assert "Not enough evidence this period: the level is held (streaks paused)." in (
        view.explanation("en")
    )
    assert "1 more QA evaluation" in view.gaps("en")
    reset = decision_of(
        run(session, "2026-09", policy_text(consecutive=1, on_insufficient="reset")), agent
    )
    assert "Not enough evidence this period: the level is held." in reset.explanation("en")


@pytest.mark.parametrize(("on_insufficient", "promoted"), [("pause", True), ("reset", False)])
def test_a_thin_month_pauses_the_qualifying_streak_unless_the_policy_resets_it(
    session: Session, on_insufficient: str, promoted: bool
) -> None:
    agent = make_agent(session, hire_date=HIRED)
    text = policy_text(on_insufficient=on_insufficient)
    give(session, agent, "2026-08", score=80)
    give(session, agent, "2026-09", score=80, qa_evaluations=5)  # one short of the minimum
    give(session, agent, "2026-10", score=80)
    assert decision_of(run(session, "2026-08", text), agent).qualify_streak == 1
    thin = decision_of(run(session, "2026-09", text), agent)
    assert thin.decision == "insufficient_evidence"
    assert thin.qualify_streak == (1 if promoted else 0)
    if promoted:
        assert (
            "Not enough evidence this period: the level is held and the streaks are paused "
            "(1 qualifying, 0 below the floor, kept for the next period)." in thin.explanation("en")
        )
        assert "连续" in " ".join(thin.explanation("zh_Hans"))
    view = decision_of(run(session, "2026-10", text), agent)
    assert view.decision == ("promote" if promoted else "hold")


def test_a_thin_month_pauses_the_floor_streak_too(session: Session) -> None:
    agent = make_agent(session, hire_date=HIRED, level="basic_junior")  # entry 60, floor 50
    text = policy_text()
    give(session, agent, "2026-08", score=40)
    give(session, agent, "2026-09", score=40, calls=50)  # too few calls
    give(session, agent, "2026-10", score=40)
    for period in ("2026-08", "2026-09"):
        run(session, period, text)
    view = decision_of(run(session, "2026-10", text), agent)
    assert (view.decision, view.to_level) == ("demote", "basic_sophomore")


def test_pooled_evidence_meets_the_minimum_and_the_explanation_lists_the_periods(
    session: Session,
) -> None:
    agent = make_agent(session, hire_date=HIRED)
    window = "  window: {qa_score: {periods: 2, decay: 0.5}}"
    # Four evaluations this month and five last month are nine: the minimum of six is met.
    give(session, agent, "2026-08", score=80, qa_evaluations=5)
    give(session, agent, "2026-09", score=70, qa_evaluations=4)
    view = decision_of(run(session, "2026-09", policy_text(evidence=window)), agent)
    assert view.decision != "insufficient_evidence"
    assert gate_of(view, "min_qa_evaluations")["actual"] == 9
    [qa] = [m for c in view.detail["components"] for m in c["metrics"] if m["metric"] == "qa_score"]
    # (4 x 70 x 1 + 5 x 80 x 0.5) / (4 + 2.5); effective sample 6.5^2 / (4 + 0.25 x 5).
    assert qa["raw"] == pytest.approx(480 / 6.5)
    assert qa["sample_size"] == 9
    assert qa["pooled"] == {
        "periods": [
            {"period": "2026-09", "value": 70.0, "sample": 4, "weight": 1.0},
            {"period": "2026-08", "value": 80.0, "sample": 5, "weight": 0.5},
        ],
        "sample": 9,
        "effective_sample": 8.0,
    }
    assert "QA score pooled over 2026-09 ×1, 2026-08 ×0.5: 9 observations." in (
        view.explanation("en")
    )
    assert "2026-08 ×0.5" in " ".join(view.explanation("zh_Hans"))
    # Without the window the same month is thin.
    alone = decision_of(run(session, "2026-09", policy_text()), agent)
    assert alone.decision == "insufficient_evidence"


def test_below_the_floor_twice_demotes_but_not_in_the_protected_period(
    session: Session,
) -> None:
    steady = make_agent(session, hire_date=HIRED, level="basic_junior")
    promoted = make_agent(session, hire_date=HIRED, level="basic_sophomore")
    org_service.change_level(
        session=session,
        agent=promoted,
        to_level="basic_junior",
        effective_on=date(2026, 10, 1),
        source="ladder",
        reason="promoted for 2026-09",
    )
    text = policy_text(demote_after=2)
    for period in ("2026-09", "2026-10", "2026-11"):
        for agent in (steady, promoted):
            give(session, agent, period, score=40)  # junior's floor: 60 - 10 = 50
    first = run(session, "2026-09", text)
    assert decision_of(first, steady).decision == "hold"
    second = run(session, "2026-10", text)
    assert (decision_of(second, steady).decision, decision_of(second, steady).to_level) == (
        "demote",
        "basic_sophomore",
    )
    assert "Below the floor for 2 periods in a row: demoted one level." in decision_of(
        second, steady
    ).explanation("en")
    # The agent promoted into basic_junior on 1 October is protected in October...
    protected = decision_of(second, promoted)
    assert protected.decision == "hold"
    assert "Protected after a recent promotion: no demotion this period." not in (
        protected.explanation("en")
    )  # only one period below the floor at that level so far
    strict = policy_text(demote_after=1)
    protected = decision_of(run(session, "2026-10", strict, dry_run=True), promoted)
    assert protected.decision == "hold"
    assert "Protected after a recent promotion: no demotion this period." in (
        protected.explanation("en")
    )
    # ...and not in November.
    assert decision_of(run(session, "2026-11", strict, dry_run=True), promoted).decision == "demote"


def test_quota_with_a_tie_goes_to_longer_tenure_at_the_level(session: Session) -> None:
    text = policy_text(consecutive=1, entry={"basic_sophomore": "{min_score: 55, quota: 0.5}"})
    best = make_agent(session, hire_date=date(2024, 6, 1), name="甲")
    newer = make_agent(session, hire_date=date(2024, 6, 1), name="乙")
    older = make_agent(session, hire_date=date(2023, 6, 1), name="丙")
    weak = make_agent(session, hire_date=date(2023, 6, 1), name="丁")
    give(session, best, "2026-09", score=90)
    give(session, newer, "2026-09", score=80)
    give(session, older, "2026-09", score=80)
    give(session, weak, "2026-09", score=30)
    report = run(session, "2026-09", text)
    # Four active agents, quota 50 %: two places. 甲 first; 乙 and 丙 tie on 80, and 丙 has
    # held the current level longer.
    assert {
        decision_of(report, a).name: decision_of(report, a).decision
        for a in (best, newer, older, weak)
    } == {
        "甲": "promote",
        "乙": "hold",
        "丙": "promote",
        "丁": "hold",
    }
    held = decision_of(report, newer)
    assert gate_of(held, "quota") == {
        "gate": "quota",
        "level": "basic_sophomore",
        "required": 2,
        "actual": 3,
        "passed": False,
    }
    explained = held.explanation("en")
    assert (
        "Not promoted: the quota of Basic Sophomore is full (2 places, 0 held); ranked 3 of 3 "
        "qualified by composite."
    ) in explained
    assert not any("promoted one level" in sentence for sentence in explained)
    # 乙 and 丙 tie on 80: the explanation names the tie-break that decided.
    assert (
        "Same composite as the last admitted, who has held the level longer (since 2023-06-01)."
    ) in explained
    assert "a place under the quota of Basic Sophomore" in held.gaps("en")
    # Still qualified next period, the agent's streak reads as complete, not "2 of 1".
    give(session, newer, "2026-10", score=80)
    give(session, best, "2026-10", score=90)
    give(session, older, "2026-10", score=80)
    give(session, weak, "2026-10", score=30)
    later = decision_of(run(session, "2026-10", text), newer)
    assert "Qualified for Basic Sophomore (1 of 1 periods in a row)." in later.explanation("en")


def test_rerunning_a_period_is_idempotent(session: Session) -> None:
    agents = [make_agent(session, hire_date=HIRED) for _ in range(3)]
    for period in ("2026-09", "2026-10"):
        for n, agent in enumerate(agents):
            give(session, agent, period, score=50 + 20 * n)
    text = policy_text()
    run(session, "2026-09", text)
    first = run(session, "2026-10", text)
    history = session.scalars(select(LevelHistory.id)).all()
    again = run(session, "2026-10", text)
    assert (again.stored, again.applied) == (0, 0)
    assert again.unchanged + again.kept == len(agents)
    assert [v.as_json() for v in again.decisions] == [v.as_json() for v in first.decisions]
    assert session.scalars(select(LevelHistory.id)).all() == history
    # September again: October's promotion is effective from November, so nothing changes.
    assert run(session, "2026-09", text).stored == 0


def test_manager_approval_override_and_appeal_keep_history(
    session: Session, settings: Settings
) -> None:
    agent = make_agent(session, hire_date=HIRED)
    manager = make_user(session, settings, "boss", ["manager"])
    user = make_user(session, settings, "agent1", ["agent"], agent=agent)
    give(session, agent, "2026-09", score=90)
    text = policy_text(consecutive=1, approval="manager")
    view = decision_of(run(session, "2026-09", text), agent)
    assert (view.decision, view.status) == ("promote", "pending")
    assert agent.current_level == "basic_fresh"  # waits for the manager
    assert view.decision_id is not None
    with pytest.raises(InvalidInput):
        decisions_service.review_decision(
            session=session, decision_id=view.decision_id, approve=False, by=manager
        )
    decisions_service.override_decision(
        session=session,
        decision_id=view.decision_id,
        decision="hold",
        reason="两个月内有重大投诉待查",
        by=manager,
    )
    appeal = appeals_service.create_appeal(
        session=session,
        decision_id=view.decision_id,
        agent_id=agent.id,
        text="投诉已核实无责",
        by=user,
    )
    with pytest.raises(Conflict):
        appeals_service.create_appeal(
            session=session, decision_id=view.decision_id, agent_id=agent.id, text="再次", by=user
        )
    appeals_service.resolve_appeal(
        session=session, appeal_id=appeal.id, upheld=True, response="核实无责", by=manager
    )
    decisions_service.override_decision(
        session=session,
        decision_id=view.decision_id,
        decision="promote",
        reason="申诉成立",
        by=manager,
    )
    stored = decisions_service.decision_for(
        session=session, agent_id=agent.id, period=parse_period("2026-09")
    )
    # The automatic decision is kept beside both overrides and the appeal.
    assert (stored.decision, stored.to_level) == ("promote", "basic_sophomore")
    assert [o["decision"] for o in stored.overrides] == ["hold", "promote"]
    assert [(a["status"], a["response"]) for a in stored.appeals] == [("upheld", "核实无责")]
    assert stored.effective_level == "basic_sophomore"
    session.refresh(agent)
    assert agent.current_level == "basic_sophomore"
    assert [(h.to_level, h.source) for h in agent.level_history][1:] == [
        ("basic_sophomore", "ladder")
    ]
    # A rerun keeps what the manager decided.
    assert run(session, "2026-09", text).kept == 1


def test_an_expired_certificate_of_the_current_level_names_what_to_renew(
    session: Session,
) -> None:
    text = policy_text(
        consecutive=1,
        entry={"basic_sophomore": "{min_score: 55, certifications: [product_knowledge]}"},
    )
    agent = make_agent(session, hire_date=HIRED, level="basic_sophomore")
    session.add(
        Certification(
            agent_id=agent.id,
            cert_type="product_knowledge",
            issued_on=date(2025, 1, 1),
            expires_on=date(2026, 8, 31),
            source="test",
        )
    )
    give(session, agent, "2026-09", score=70)  # enough for basic_junior
    view = decision_of(run(session, "2026-09", text), agent)
    assert view.decision == "hold"
    assert gate_of(view, "current_certifications")["passed"] is False
    # The type by its name, not its code ("认证：product_knowledge" read badly in Chinese).
    assert "renew the certification of the current level: Product knowledge" in view.gaps("en")
    assert "product_knowledge" not in " ".join(view.gaps("zh_Hans") + view.explanation("zh_Hans"))
