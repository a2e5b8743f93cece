"""Acknowledging, disputing, deciding and regrading a submitted evaluation: who may, within
which window, the score recomputed at once, every change in the audit trail, and the period's
evidence stale afterwards."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.errors import Conflict, Forbidden, InvalidInput, NotFound
from agentladder.metrics import service as metrics_service
from agentladder.periods import parse_period
from agentladder.quality import audit
from agentladder.quality import service as quality_service
from agentladder.quality.disputes import service as disputes
from agentladder.quality.models import QaAuditEntry, QaEvaluation
from agentladder.quality.provider import PROVIDER
from agentladder.quality.scoring import score_call
from tests.quality.qa_world import FORM, build, perfect, submitted


def _actions(session: Session, evaluation_id: int) -> list[str]:
    return [line.action for line in audit.trail(session=session, evaluation_id=evaluation_id)]


def test_submitting_writes_the_first_line_of_the_trail(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings, ingest=False)
    evaluation = submitted(session, world)
    [line] = audit.trail(session=session, evaluation_id=evaluation.id)
    assert (line.action, line.by) == ("submitted", "eva")


def test_only_the_evaluated_agent_acknowledges_and_only_once(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings, ingest=False)
    evaluation = submitted(session, world)
    for other in ("agent2", "lead1", "eva"):
        with pytest.raises(NotFound):
            disputes.acknowledge(
                session=session, evaluation_id=evaluation.id, by=world.users[other]
            )
    disputes.acknowledge(session=session, evaluation_id=evaluation.id, by=world.users["agent1"])
    first = evaluation.acknowledged_at
    assert first is not None
    disputes.acknowledge(session=session, evaluation_id=evaluation.id, by=world.users["agent1"])
    assert evaluation.acknowledged_at == first
    assert _actions(session, evaluation.id) == ["submitted", "acknowledged"]


def test_a_dispute_is_the_agents_own_within_the_window_once_per_item(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings, ingest=False)
    evaluation = submitted(session, world, {"basic_courtesy": False})
    agent = world.users["agent1"]

    def dispute(item: str = "basic_courtesy", reason: str = "我使用了礼貌用语", **kw: object):
        return disputes.raise_dispute(
            session=session,
            settings=settings,
            evaluation_id=evaluation.id,
            item=item,
            reason=reason,
            by=kw.get("by", agent),  # type: ignore[arg-type]
            now=kw.get("now"),  # type: ignore[arg-type]
        )

    with pytest.raises(NotFound):
        dispute(by=world.users["agent2"])
    with pytest.raises(InvalidInput):
        dispute(item="no_such_item")
    with pytest.raises(InvalidInput):
        dispute(reason="   ")
    assert evaluation.submitted_at is not None
    late = evaluation.submitted_at + timedelta(days=settings.qa_dispute_window_days, seconds=1)
    with pytest.raises(Conflict):
        dispute(now=late)
    made = dispute(now=late - timedelta(seconds=2))
    assert (made.status, json.loads(made.answer_before_json)) == ("open", False)
    with pytest.raises(Conflict):
        dispute()
    assert _actions(session, evaluation.id) == ["submitted", "disputed"]


def test_a_draft_cannot_be_disputed(session: Session, settings: Settings) -> None:
    world = build(session, settings, ingest=False)
    draft = quality_service.start_evaluation(
        session=session,
        form_version_id=quality_service.save_form(session=session, spec=FORM).id,
        agent_id=world.agent_ids["A1"],
        evaluator=world.users["eva"],
        call_id="c9",
        call_at=evaluation_time(),
    )
    with pytest.raises(NotFound):
        disputes.raise_dispute(
            session=session,
            settings=settings,
            evaluation_id=draft.id,
            item="basic_courtesy",
            reason="x",
            by=world.users["agent1"],
        )


def evaluation_time():  # type: ignore[no-untyped-def]
    from tests.quality.qa_world import CALL_AT

    return CALL_AT


def test_overturning_a_fatal_item_rescores_the_call_at_once(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings, ingest=False)
    evaluation = submitted(session, world, {"no_customer_loss": False})
    assert (evaluation.overall, evaluation.fatal) == (0.0, True)
    dispute = disputes.raise_dispute(
        session=session,
        settings=settings,
        evaluation_id=evaluation.id,
        item="no_customer_loss",
        reason="客户没有损失",
        by=world.users["agent1"],
    )

    def decide(user: str, decision: str = "overturned") -> None:
        disputes.decide_dispute(
            session=session,
            dispute_id=dispute.id,
            decision=decision,
            new_answer=True,
            note="录音证实无损失",
            by=world.users[user],
        )

    with pytest.raises(Forbidden):
        decide("eva")  # the call's own evaluator
    with pytest.raises(Forbidden):
        decide("agent1")
    for outsider in ("lead2", "mgr", "agent2"):
        with pytest.raises(NotFound):
            decide(outsider)
    with pytest.raises(InvalidInput):
        decide("lead1", "maybe")
    decide("lead1")
    assert evaluation.answers_json
    assert json.loads(evaluation.answers_json)["no_customer_loss"]
    assert evaluation.fatal is False
    assert evaluation.overall == pytest.approx(score_call(FORM, perfect()).overall)
    assert json.loads(evaluation.scores_json)["fatal_items"] == []
    assert (dispute.status, json.loads(dispute.answer_after_json or "null")) == ("overturned", True)
    with pytest.raises(Conflict):
        decide("boss")
    entry = session.scalars(select(QaAuditEntry).where(QaAuditEntry.action == "overturned")).one()
    changes = json.loads(entry.changes_json)
    assert changes["items"] == {"no_customer_loss": [False, True]}
    assert changes["scores"]["before"] == {"overall": 0.0, "compliance": 100.0, "fatal": True}
    assert changes["scores"]["after"]["overall"] == pytest.approx(100)
    assert entry.reason == "录音证实无损失"


def test_upholding_keeps_the_answer_and_an_overturn_needs_another_answer(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings, ingest=False)
    evaluation = submitted(session, world, {"tone_voice": 2, "listening": False})
    before = evaluation.overall
    tone, listening = (
        disputes.raise_dispute(
            session=session,
            settings=settings,
            evaluation_id=evaluation.id,
            item=item,
            reason="不同意",
            by=world.users["agent1"],
        )
        for item in ("tone_voice", "listening")
    )
    disputes.decide_dispute(
        session=session,
        dispute_id=tone.id,
        decision="upheld",
        note="语调确实平淡",
        by=world.users["boss"],
    )
    assert (tone.status, evaluation.overall) == ("upheld", before)
    with pytest.raises(InvalidInput):
        disputes.decide_dispute(
            session=session,
            dispute_id=listening.id,
            decision="overturned",
            new_answer=False,
            note="x",
            by=world.users["eva2"],
        )
    with pytest.raises(InvalidInput):  # a scale answer past its maximum
        disputes.decide_dispute(
            session=session,
            dispute_id=listening.id,
            decision="overturned",
            new_answer=7,
            note="x",
            by=world.users["eva2"],
        )
    assert listening.status == "open"
    assert _actions(session, evaluation.id) == ["submitted", "disputed", "disputed", "upheld"]
    queue = disputes.open_disputes(session=session, by=world.users["lead1"])
    assert [d.id for d in queue] == [listening.id]
    assert disputes.open_disputes(session=session, by=world.users["lead2"]) == []
    assert disputes.open_disputes(session=session, by=world.users["eva"]) == []  # their own call
    assert len(disputes.open_disputes(session=session, by=world.users["eva2"], status="all")) == 2


def test_a_regrade_is_qas_with_a_reason_and_waits_for_open_disputes(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings, ingest=False)
    evaluation = submitted(session, world, {"tone_voice": 2})
    disputes.raise_dispute(
        session=session,
        settings=settings,
        evaluation_id=evaluation.id,
        item="tone_voice",
        reason="不同意",
        by=world.users["agent1"],
    )

    def regrade(user: str, answers: dict[str, object], reason: str = "复核更正") -> QaEvaluation:
        return disputes.regrade(
            session=session,
            evaluation_id=evaluation.id,
            answers=answers,  # type: ignore[arg-type]
            reason=reason,
            by=world.users[user],
        )

    for outsider in ("lead1", "agent1", "mgr"):
        with pytest.raises(NotFound):
            regrade(outsider, {"procedure": False})
    with pytest.raises(Conflict):
        regrade("eva2", {"tone_voice": 4})
    with pytest.raises(InvalidInput):
        regrade("eva2", {"procedure": False}, reason="")
    with pytest.raises(InvalidInput):
        regrade("eva2", {"procedure": True})  # no change
    before = evaluation.overall
    regrade("eva2", {"procedure": False})
    assert evaluation.overall is not None
    assert before is not None
    assert evaluation.overall < before
    entry = audit.trail(session=session, evaluation_id=evaluation.id)[-1]
    assert (entry.action, entry.by, entry.items) == (
        "regraded",
        "eva2",
        {"procedure": [True, False]},
    )
    assert entry.scores is not None
    assert entry.scores["before"]["overall"] == before


def test_a_change_after_the_metrics_were_computed_makes_the_period_stale(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings)
    period = parse_period("2025-10")
    assert PROVIDER.stale_inputs(session=session, settings=settings, period=period) == []
    metrics_service.compute_period(session=session, settings=settings, period=period)
    evaluation = submitted(session, world, {"listening": False})
    [stale] = PROVIDER.stale_inputs(session=session, settings=settings, period=period)
    assert stale.params["count"] == 1
    assert stale.refresh_command == "agentladder cycle close --period 2025-10"
    metrics_service.compute_period(session=session, settings=settings, period=period)
    assert PROVIDER.stale_inputs(session=session, settings=settings, period=period) == []
    dispute = disputes.raise_dispute(
        session=session,
        settings=settings,
        evaluation_id=evaluation.id,
        item="listening",
        reason="我没有打断客户",
        by=world.users["agent1"],
    )
    assert PROVIDER.stale_inputs(session=session, settings=settings, period=period) == []
    disputes.decide_dispute(
        session=session,
        dispute_id=dispute.id,
        decision="overturned",
        new_answer=True,
        note="同意",
        by=world.users["lead1"],
    )
    assert len(PROVIDER.stale_inputs(session=session, settings=settings, period=period)) == 1
    # Another period is untouched.
    assert (
        PROVIDER.stale_inputs(session=session, settings=settings, period=parse_period("2025-11"))
        == []
    )


def test_a_draft_may_leave_items_that_must_apply_unanswered(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings, ingest=False)
    from agentladder.quality.workspace import service as workspace

    evaluation = workspace.start_from_assignment(
        session=session, sampled_id=world.sampled_id, by=world.users["eva"]
    )
    quality_service.save_draft(
        session=session,
        evaluation_id=evaluation.id,
        answers={"basic_courtesy": True},
        by=world.users["eva"],
    )
    with pytest.raises(InvalidInput):  # an explicit N/A where the item must apply
        quality_service.save_draft(
            session=session,
            evaluation_id=evaluation.id,
            answers={"tone_voice": None},
            by=world.users["eva"],
        )
    with pytest.raises(InvalidInput):  # submitting needs them
        quality_service.submit_evaluation(
            session=session, evaluation_id=evaluation.id, by=world.users["eva"]
        )
