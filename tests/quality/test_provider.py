"""The quality provider: the product's own official evaluations as the ladder's QA evidence,
winning over results imported under the same metric names where both exist."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.external import service as external_service
from agentladder.ladder.decisions.facts import gather_facts
from agentladder.metrics import service as metrics_service
from agentladder.periods import parse_period
from agentladder.quality import service as quality_service
from tests.factories import make_agent, make_user

FORM = quality_service.default_form()


def _answers(**changes: bool | int) -> dict[str, bool | int]:
    perfect: dict[str, bool | int] = {
        item.code: (item.scale_max if item.kind == "scale" else True)  # type: ignore[misc]
        for item in FORM.items()
    }
    return {**perfect, **changes}


def _evaluate(
    session: Session,
    version_id: int,
    agent_id: int,
    evaluator: object,
    answers: dict[str, bool | int],
    *,
    day: int = 8,
    kind: str = "official",
    submit: bool = True,
) -> None:
    evaluation = quality_service.start_evaluation(
        session=session,
        form_version_id=version_id,
        agent_id=agent_id,
        evaluator=evaluator,  # type: ignore[arg-type]
        call_id=f"call-{agent_id}-{day}-{kind}",
        call_at=datetime(2026, 10, day, 3, 0, tzinfo=UTC),
        kind=kind,
    )
    quality_service.save_draft(
        session=session,
        evaluation_id=evaluation.id,
        answers=answers,
        by=evaluator,  # type: ignore[arg-type]
    )
    if submit:
        quality_service.submit_evaluation(
            session=session,
            evaluation_id=evaluation.id,
            by=evaluator,  # type: ignore[arg-type]
        )


def test_the_quality_metrics_are_declared_by_the_quality_provider() -> None:
    definitions = metrics_service.metric_definitions()
    for metric in ("qa_score", "qa_evaluations", "qa_fatal_errors", "fatal_accuracy"):
        assert definitions[metric].subsystem == "quality"
    assert {"nonfatal_accuracy", "compliance_score"} <= set(definitions)


def test_official_submitted_evaluations_become_the_agents_qa_facts(
    session: Session, settings: Settings
) -> None:
    own = make_agent(session, employee_no="100001")
    imported_only = make_agent(session, employee_no="100002")
    evaluator = make_user(session, settings, "qa1", ["qa"])
    version = quality_service.save_form(session=session, spec=FORM)
    _evaluate(session, version.id, own.id, evaluator, _answers(), day=8)
    _evaluate(session, version.id, own.id, evaluator, _answers(no_customer_loss=False), day=15)
    # Neither a coaching evaluation nor a draft counts.
    _evaluate(session, version.id, own.id, evaluator, _answers(calming=False), kind="coaching")
    _evaluate(session, version.id, own.id, evaluator, _answers(), day=20, submit=False)
    external_service.import_evidence(
        session=session,
        data=b"agent,period,metric,value,sample size\n"
        b"100001,2026-10,qa_score,61,9\n100002,2026-10,qa_score,77,8\n",
        file_name="qa.csv",
    )
    facts = gather_facts(session=session, periods=[parse_period("2026-10")])["2026-10"]
    mine = facts[own.id]
    assert mine["qa_score"].value == pytest.approx(50)  # 100 and a fatal 0; not the imported 61
    assert (mine["qa_score"].sample_size, mine["qa_score"].source) == (2, "quality")
    assert mine["qa_evaluations"].value == 2
    assert mine["qa_fatal_errors"].value == 1
    assert mine["fatal_accuracy"].value == pytest.approx(0.5)
    assert mine["compliance_score"].value == 100
    assert mine["nonfatal_accuracy"].value == 1
    # An agent the product has not evaluated keeps the imported result.
    assert facts[imported_only.id]["qa_score"].value == 77
    assert facts[imported_only.id]["qa_score"].source != "quality"


def test_a_policy_that_adjusts_for_evaluators_scores_qa_without_the_harsh_evaluators_effect(
    session: Session, settings: Settings
) -> None:
    from tests.ladder.builders import decision_of, give, policy_text, run

    harsh = make_user(session, settings, "harsh", ["qa"])
    lenient = make_user(session, settings, "lenient", ["qa"])
    version = quality_service.save_form(session=session, spec=FORM)
    missed = _answers(understanding=False, product_knowledge=False, resolution_quality=False)
    agents = [make_agent(session) for _ in range(8)]
    for agent in agents:
        give(session, agent, "2026-10", score=80)
    counter = iter(range(10_000))

    def evaluate(agent_id: int, evaluator: object, month: int) -> None:
        evaluation = quality_service.start_evaluation(
            session=session,
            form_version_id=version.id,
            agent_id=agent_id,
            evaluator=evaluator,  # type: ignore[arg-type]
            call_id=f"call-{next(counter)}",
            call_at=datetime(2026, month, 10, 3, 0, tzinfo=UTC),
        )
        answers = missed if evaluator is harsh else _answers()
        quality_service.save_draft(session=session, evaluation_id=evaluation.id, answers=answers)
        quality_service.submit_evaluation(session=session, evaluation_id=evaluation.id)

    # August and September: both evaluators score every agent, so their harshness shows.
    for month in (8, 9):
        for agent in agents:
            for evaluator in (harsh, lenient, harsh, lenient):
                evaluate(agent.id, evaluator, month)
    # October: one agent drew only the harsh evaluator, another only the lenient one.
    drew_harsh, drew_lenient = agents[0], agents[1]
    for _ in range(6):
        evaluate(drew_harsh.id, harsh, 10)
        evaluate(drew_lenient.id, lenient, 10)

    raw = run(session, "2026-10", policy_text(), dry_run=True)
    adjusted = run(
        session, "2026-10", policy_text() + "qa:\n  adjust_for_evaluator: true\n", dry_run=True
    )

    def qa_metric(report: object, agent: object) -> dict[str, object]:
        view = decision_of(report, agent)  # type: ignore[arg-type]
        [metric] = [
            m for c in view.detail["components"] for m in c["metrics"] if m["metric"] == "qa_score"
        ]
        return metric  # type: ignore[no-any-return]

    raw_gap = qa_metric(raw, drew_lenient)["raw"] - qa_metric(raw, drew_harsh)["raw"]  # type: ignore[operator]
    adjusted_gap = (
        qa_metric(adjusted, drew_lenient)["raw"] - qa_metric(adjusted, drew_harsh)["raw"]  # type: ignore[operator]
    )
    assert raw_gap > 10
    assert abs(adjusted_gap) < raw_gap / 3
    shown = qa_metric(adjusted, drew_harsh)["adjustment"]
    assert shown["used"] is True
    assert shown["raw"] == pytest.approx(qa_metric(raw, drew_harsh)["raw"], abs=0.01)  # type: ignore[index]
    [effect] = shown["evaluators"]  # type: ignore[index]
    assert (effect["evaluator"], effect["evaluations"]) == ("harsh", 6)
    assert effect["effect"] < -3
    assert qa_metric(raw, drew_harsh)["adjustment"]["used"] is False  # type: ignore[index]
