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
