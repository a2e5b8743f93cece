"""The demo's QA: evaluators with a latent harshness score the sampled calls from the agents'
latent skill; the ladder then scores QA from those evaluations, adjusted for the evaluators."""

from __future__ import annotations

import random
import statistics
import wave
from datetime import date

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.demo import quality as demo_quality
from agentladder.demo import service as demo_service
from agentladder.ladder.decisions import service as decisions_service
from agentladder.periods import parse_period
from agentladder.quality import service as quality_service
from agentladder.quality.models import QaCalibrationSession, QaDispute, QaEvaluation
from agentladder.quality.scoring import score_call

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
