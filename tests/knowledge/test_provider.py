"""The knowledge provider: points, adoptions, helpful votes and the contribution rate per agent
and period, 0 for employed agents who contributed nothing, silent while the library is empty;
and the facts reach the ladder's gates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.external import service as external_service
from agentladder.knowledge.items import service as items
from agentladder.knowledge.provider import PROVIDER
from agentladder.ladder.decisions.facts import gather_facts
from agentladder.metrics import service as metrics_service
from agentladder.metrics.models import MetricValue
from agentladder.periods import parse_period
from tests.knowledge.kb_world import build, case, published
from tests.ladder.builders import decision_of, gate_of, give, policy_text, run

OCTOBER = parse_period("2026-10")
IN_OCTOBER = datetime(2026, 10, 14, 2, 0, tzinfo=UTC)
IN_SEPTEMBER = datetime(2026, 9, 20, 2, 0, tzinfo=UTC)


def test_the_knowledge_metrics_are_declared_by_the_knowledge_provider() -> None:
    declared = metrics_service.metric_definitions()
    for metric in (
        "kb_contribution_points",
        "kb_adopted",
        "kb_contribution_rate",
        "kb_helpful_votes",
    ):
        assert declared[metric].subsystem == "knowledge"
    assert declared["kb_contribution_points"].unit == "points"
    assert declared["kb_adopted"].window_months == 12


def test_a_periods_contributions_become_facts(session: Session, settings: Settings) -> None:
    world = build(session, settings)
    item = published(session, world, author="a1", at=IN_OCTOBER, grade=5)
    published(session, world, author="a2", at=IN_SEPTEMBER, draft=case(title="九月的案例"))
    items.adopt(session=session, item_id=item.id, by=world.users["trainer"], at=IN_OCTOBER)
    items.vote(session=session, item_id=item.id, by=world.users["b1"], at=IN_OCTOBER)
    session.add(
        MetricValue(
            period_kind="month",
            period="2026-10",
            scope="agent",
            subject=world.agents["a1"].employee_no,
            agent_id=world.agents["a1"].id,
            metric_id="handled_calls",
            value=400,
            sample_size=400,
            engine="duckdb",
        )
    )
    session.flush()
    facts = {
        (fact.agent_id, fact.metric_id): fact
        for label, fact in PROVIDER.facts(session=session, periods=[OCTOBER], metrics=None)
        if label == "2026-10"
    }
    a1, a2, b1 = (world.agents[name].id for name in ("a1", "a2", "b1"))
    assert facts[(a1, "kb_contribution_points")].value == 10 + 5 + 20 + 1
    assert facts[(a1, "kb_contribution_points")].sample_size == 4
    assert facts[(a1, "kb_adopted")].value == 1
    assert facts[(a1, "kb_helpful_votes")].value == 1
    assert facts[(a1, "kb_contribution_rate")].value == pytest.approx(1000 / 400)
    # September's case is September's: nothing of it in October, but a2 was employed: zeros.
    assert facts[(a2, "kb_contribution_points")].value == 0
    assert facts[(b1, "kb_adopted")].value == 0
    assert (a2, "kb_contribution_rate") not in facts  # no handled calls stored for a2


def test_an_empty_library_says_nothing_and_imported_results_stand(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings)
    assert list(PROVIDER.facts(session=session, periods=[OCTOBER], metrics=None)) == []
    external_service.import_evidence(
        session=session,
        data=(
            "agent,period,metric,value,sample size\n"
            f"{world.agents['a1'].employee_no},2026-10,kb_adopted,3,5\n"
        ).encode(),
        file_name="kb.csv",
    )
    facts = gather_facts(session=session, periods=[OCTOBER])["2026-10"]
    assert facts[world.agents["a1"].id]["kb_adopted"].value == 3


def test_adoptions_reach_the_ladders_gate(session: Session, settings: Settings) -> None:
    world = build(session, settings)
    item = published(session, world, author="a1", at=IN_OCTOBER)
    items.adopt(session=session, item_id=item.id, by=world.users["trainer"], at=IN_OCTOBER)
    for name in ("a1", "a2"):
        give(session, world.agents[name], "2026-10", score=90)
    text = policy_text(
        consecutive=1, entry={"basic_sophomore": "{min_score: 55, min_kb_adopted: 1}"}
    )
    report = run(session, "2026-10", text, dry_run=True)
    adopted = decision_of(report, world.agents["a1"])
    not_adopted = decision_of(report, world.agents["a2"])
    assert adopted.decision == "promote"
    assert not_adopted.decision != "promote"
    assert gate_of(not_adopted, "kb_adopted")["passed"] is False
