"""The demo's QA: evaluators with a latent harshness score the sampled calls from the agents'
latent skill; the ladder then scores QA from those evaluations, adjusted for the evaluators."""

from __future__ import annotations

import random
import statistics
import wave
from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.demo import quality as demo_quality
from agentladder.demo import service as demo_service
from agentladder.ladder.decisions import service as decisions_service
from agentladder.periods import parse_period
from agentladder.quality import service as quality_service
from agentladder.quality.disputes import service as disputes_service
from agentladder.quality.models import QaCalibrationSession, QaDispute, QaEvaluation
from agentladder.quality.scoring import score_call
from tests.factories import make_agent, make_team, make_user

TODAY = date(2026, 11, 23)
FORM = quality_service.default_form()


@hypothesis_settings(max_examples=25, deadline=None)
@given(st.floats(-2.5, 2.5), st.floats(-10, 10), st.integers(0, 2**32))
def test_answers_fit_the_form_and_follow_skill_and_harshness(
    skill: float, harshness: float, seed: int
) -> None:
    rng = random.Random(seed)
    scores = [
        score_call(FORM, demo_quality.draw_answers(FORM, skill=skill, harshness=harshness, rng=rng))
        for _ in range(40)
    ]
    overall = statistics.mean(s.overall or 0.0 for s in scores if not s.fatal)
    expected = demo_quality.QA_BASE + demo_quality.QA_PER_SKILL * skill + harshness
    assert abs(overall - min(99.5, expected)) < 8


def test_the_demo_evaluates_sampled_calls_and_the_ladder_scores_them(settings: Settings) -> None:
    with session_scope(settings) as session:
        summary = demo_service.build_demo(
            session=session,
            settings=settings,
            today=TODAY,
            agents=15,
            seed=5,
            call_months=2,
            period_kinds=("month",),
        )
    quality = summary.facts["quality"]
    assert isinstance(quality, dict)
    assert quality["samples"] == 2
    assert quality["official"] > 100
    assert quality["recordings"] > 0
    with session_scope(settings) as session:
        kinds = dict(
            session.execute(
                select(QaEvaluation.kind, func.count()).group_by(QaEvaluation.kind)
            ).all()
        )
        assert kinds["official"] == quality["official"]
        assert kinds["calibration"] > 0
        assert session.scalar(select(func.count()).select_from(QaCalibrationSession)) == 1
        assert session.scalar(select(func.count()).select_from(QaDispute)) == quality["disputes"]
        # The harshest evaluator's fitted effect is the most negative one.
        scores = quality_service.period_scores(
            session=session, period=parse_period("2026-10"), zone=settings.tz
        )
        harshness = quality["evaluators"]
        fitted = {e.evaluator: e.effect for e in scores.evaluators}
        assert min(fitted, key=fitted.__getitem__) == min(harshness, key=harshness.__getitem__)
        # The ladder's QA comes from the product's evaluations, adjusted for the evaluators.
        views = decisions_service.decision_views(session=session, period=parse_period("2026-10"))
        qa = [
            metric
            for view in views
            for component in view.detail["components"]
            for metric in component["metrics"]
            if metric["metric"] == "qa_score" and metric["raw"] is not None
        ]
        own = [m for m in qa if m["source"] == "quality"]
        assert own
        assert all(m["adjustment"]["used"] for m in own)
    recording = next((settings.data_dir / "recordings").rglob("*.wav"))
    with wave.open(str(recording)) as audio:
        assert audio.getframerate() == demo_quality.RECORDING_SAMPLE_RATE_HZ
        assert audio.getnframes() / audio.getframerate() >= demo_quality.RECORDING_SECONDS - 1


def test_a_leads_own_dispute_goes_to_another_qa_evaluator(
    session: Session, settings: Settings
) -> None:
    # Regression: the demo handed it to the operations manager, who may not decide disputes.
    team = make_team(session, "T01", "客服一组")
    lead_agent = make_agent(session, employee_no="L0001", team_code="T01")
    make_user(
        session, settings, "L0001", ["agent", "team_lead"], agent=lead_agent, lead_team_id=team
    )
    scorer = make_user(session, settings, "qa1", ["qa"])
    other = make_user(session, settings, "qa2", ["qa"])
    version = quality_service.save_form(session=session, spec=FORM)
    evaluation = quality_service.start_evaluation(
        session=session,
        form_version_id=version.id,
        agent_id=lead_agent.id,
        evaluator=scorer,
        call_id="c1",
        call_at=datetime(2026, 10, 1, tzinfo=UTC),
    )
    chosen = demo_quality._decider(session, evaluation, [scorer, other])
    assert chosen.username == "qa2"
    assert disputes_service.may_decide(session, evaluation, chosen)
