"""Scoring standards, shrinkage and composites: worked examples and properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentladder.ladder.decisions.scoring import (
    Fact,
    Member,
    band_points,
    linear_points,
    percentile_points,
    pool,
    score_agents,
    shrunk_value,
    value_se,
    wilson_interval,
)
from agentladder.ladder.policy.schemas import WindowSpec
from agentladder.ladder.policy.service import parse_policy
from agentladder.metrics import service as metrics_service
from agentladder.training.certifications import service as certifications_service
from tests.ladder.builders import policy_text

finite = st.floats(-1e6, 1e6, allow_nan=False)


def test_linear_both_directions() -> None:
    assert linear_points(0.85, best=0.85, worst=0.55) == 100
    assert linear_points(0.70, best=0.85, worst=0.55) == pytest.approx(50)
    assert linear_points(9, best=3, worst=15) == pytest.approx(50)  # lower is better
    assert linear_points(1, best=3, worst=15) == 100
    assert linear_points(20, best=3, worst=15) == 0


def test_bands_of_the_default_policy() -> None:
    bands = [(0.98, 100), (0.95, 85), (0.90, 60), (0.0, 0)]
    assert [band_points(v, bands) for v in (1.0, 0.98, 0.97, 0.93, 0.5)] == [100, 100, 85, 60, 0]
    assert band_points(4, [(3, 100), (10, 50)], lower_is_better=True) == 50


def test_bayesian_average_reference_values() -> None:
    # Reference definitions, section 4: C = 85, m = 5.
    assert shrunk_value(100, 1, 85, 5) == pytest.approx(87.5)
    assert shrunk_value(92, 8, 85, 5) == pytest.approx(89.3, abs=0.05)
    assert shrunk_value(88, 20, 85, 5) == pytest.approx(87.4)


@given(finite, finite, finite)
def test_linear_points_stay_within_0_and_100(value: float, best: float, worst: float) -> None:
    if best != worst:
        assert 0 <= linear_points(value, best, worst) <= 100


@given(st.lists(finite, min_size=1, max_size=30), st.booleans())
def test_percentile_is_monotone_and_bounded(values: list[float], lower: bool) -> None:
    ordered = sorted(values)
    points = [percentile_points(v, ordered, lower) for v in ordered]
    assert all(0 <= p <= 100 for p in points)
    assert points == sorted(points, reverse=lower)


@given(finite, st.integers(0, 10_000), finite, st.floats(0.1, 100))
def test_shrinkage_lies_between_value_and_mean(
    value: float, n: int, mean: float, weight: float
) -> None:
    shrunk = shrunk_value(value, n, mean, weight)
    assert min(value, mean) - 1e-6 <= shrunk <= max(value, mean) + 1e-6


def _policy(**kwargs: object):  # type: ignore[no-untyped-def]
    return parse_policy(
        policy_text(**kwargs),  # type: ignore[arg-type]
        known_metrics=set(metrics_service.metric_definitions()),
        known_certifications=set(certifications_service.BUILTIN_TYPES),
    )


@given(st.floats(0, 1), st.floats(0, 100), st.booleans())
def test_a_component_without_data_is_left_out_of_the_composite(
    fcr: float, qa: float, qa_known: bool
) -> None:
    policy = _policy(weights=(40, 60))
    facts = {1: {"fcr_rate": Fact(1, "fcr_rate", fcr, 100, "t")}}
    if qa_known:
        facts[1]["qa_score"] = Fact(1, "qa_score", qa, 6, "t")
    [card] = score_agents(policy, {1: Member(1, None, None)}, facts).values()
    expected = (40 * fcr * 100 + 60 * qa) / 100 if qa_known else fcr * 100
    assert card.composite == pytest.approx(expected)
    assert card.components[1].score is None or qa_known


def test_default_policy_pools_qa_shrinks_it_toward_own_history_and_ranks_within_the_group() -> None:
    from agentladder.ladder.policy.service import default_policy_text

    policy = parse_policy(
        default_policy_text(),
        known_metrics=set(metrics_service.metric_definitions()),
        known_certifications=set(certifications_service.BUILTIN_TYPES),
    )
    members = {i: Member(i, "T01", "general" if i < 4 else "vip") for i in range(1, 6)}
    facts = {
        1: {"qa_score": Fact(1, "qa_score", 100, 1, "t"), "aht_s": Fact(1, "aht_s", 300, 90, "t")},
        2: {"qa_score": Fact(2, "qa_score", 80, 9, "t"), "aht_s": Fact(2, "aht_s", 200, 90, "t")},
        3: {"qa_score": Fact(3, "qa_score", 85, 10, "t"), "aht_s": Fact(3, "aht_s", 250, 90, "t")},
        4: {"aht_s": Fact(4, "aht_s", 100, 90, "t")},  # another skill group: ranked alone
        5: {},
    }
    # Agent 1: two earlier months in the window, and older months behind it (its history).
    earlier = [
        ("2026-08", {1: {"qa_score": Fact(1, "qa_score", 90, 4, "t")}}),
        ("2026-07", {}),
        ("2026-06", {1: {"qa_score": Fact(1, "qa_score", 70, 6, "t")}}),
        ("2026-05", {1: {"qa_score": Fact(1, "qa_score", 76, 4, "t")}}),
    ]
    cards = score_agents(policy, members, facts, earlier, "2026-09")
    qa = cards[1].metric("qa_score")
    assert qa is not None
    pooled = (100 * 1 + 90 * 4) / 5  # 2026-09 and 2026-08 (2026-07 had none)
    history = (70 * 6 + 76 * 4) / 10  # behind the three-month window
    assert (qa.raw, qa.sample_size) == (pytest.approx(pooled), 5)
    assert qa.shrunk == pytest.approx((5 * pooled + 5 * history) / 10)
    # Without a history of its own, a value stands: the others' scores do not pull it.
    assert cards[2].metric("qa_score").shrunk == 80  # type: ignore[union-attr]
    assert [cards[i].metric("aht_s").points for i in (1, 2, 3)] == [0, 100, 50]  # type: ignore[union-attr]
    assert cards[4].metric("aht_s").points == 50  # type: ignore[union-attr]
    assert cards[5].composite is None


def test_standard_errors_from_sample_sizes() -> None:
    policy = parse_policy(
        policy_text(qa_spread=8),
        known_metrics=set(metrics_service.metric_definitions()),
        known_certifications=set(certifications_service.BUILTIN_TYPES),
    )
    # Rates: binomial, with one success and one failure added (0 of 100 is not certain).
    assert value_se(policy, "fcr_rate", 0.5, 100) == pytest.approx(0.05)
    assert value_se(policy, "fcr_rate", 0.0, 100) == pytest.approx(0.0099, abs=1e-4)
    # Averages: the policy's spread of one observation over the square root of n.
    assert value_se(policy, "qa_score", 90, 16) == pytest.approx(2.0)
    assert value_se(policy, "exam_score", 90, 4) is None  # no spread given: counted exact
    assert value_se(policy, "fcr_rate", 0.5, 0) is None


def test_composite_standard_error_and_lower_bound() -> None:
    policy = parse_policy(
        policy_text(qa_spread=8),
        known_metrics=set(metrics_service.metric_definitions()),
        known_certifications=set(certifications_service.BUILTIN_TYPES),
    )
    facts = {
        1: {
            "fcr_rate": Fact(1, "fcr_rate", 0.5, 100, "t"),
            "qa_score": Fact(1, "qa_score", 60, 16, "t"),
        }
    }
    card = score_agents(policy, {1: Member(1, None, None)}, facts)[1]
    assert card.composite == pytest.approx(55)
    # fcr: 0.05 x 100 points = 5; QA: 8 / 4 = 2 points; each half of the composite.
    assert card.composite_se == pytest.approx((2.5**2 + 1.0**2) ** 0.5)
    assert card.lower_bound(0) == card.composite
    assert card.lower_bound(0.95) == pytest.approx(55 - 1.6449 * card.composite_se, abs=1e-3)


@pytest.mark.parametrize(
    ("successes", "trials", "low"),
    # The worked lower bounds of the small-sample fairness reference (z = 1.96).
    [
        (9, 10, 0.596),
        (18, 20, 0.699),
        (85, 100, 0.767),
        (170, 200, 0.794),
        (0, 5, 0.0),
        (5, 5, 0.566),
    ],
)
def test_wilson_lower_bounds_match_the_reference(successes: int, trials: int, low: float) -> None:
    assert wilson_interval(successes, trials)[0] == pytest.approx(low, abs=0.0005)


def test_wilson_interval_edges() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert wilson_interval(0, 27)[0] == 0.0  # exactly: a period rate of 0 lies inside
    assert wilson_interval(27, 27)[1] == 1.0
    low, high = wilson_interval(3, 15)
    assert low < 3 / 15 < high


@given(st.integers(min_value=0, max_value=500), st.integers(min_value=1, max_value=500))
def test_wilson_interval_holds_the_observed_rate(successes: int, trials: int) -> None:
    successes = min(successes, trials)
    low, high = wilson_interval(successes, trials)
    assert 0.0 <= low <= successes / trials <= high <= 1.0


@pytest.mark.parametrize("adjust", [True, False])
def test_the_policy_scores_qa_raw_or_adjusted_and_the_card_keeps_both(adjust: bool) -> None:
    text = policy_text() + f"qa:\n  adjust_for_evaluator: {str(adjust).lower()}\n"
    policy = parse_policy(
        text,
        known_metrics=set(metrics_service.metric_definitions()),
        known_certifications=set(),
    )
    assert policy.qa.adjust_for_evaluator is adjust
    effects = {"evaluators": [{"evaluator": "harsh", "effect": -6.0, "evaluations": 6}]}
    facts = {
        1: {
            "fcr_rate": Fact(1, "fcr_rate", 0.8, 100, "t"),
            "qa_score": Fact(1, "qa_score", 74.0, 6, "quality"),
            "qa_score_adjusted": Fact(
                1, "qa_score_adjusted", 80.0, 6, "quality", detail={"raw": 74.0, **effects}
            ),
        },
        # Imported QA only: nothing to adjust, scored as given either way.
        2: {"qa_score": Fact(2, "qa_score", 74.0, 6, "import")},
    }
    cards = score_agents(policy, {1: Member(1, None, None), 2: Member(2, None, None)}, facts)
    qa = cards[1].metric("qa_score")
    assert qa is not None
    assert qa.raw == (80.0 if adjust else 74.0)
    assert qa.adjustment == {"raw": 74.0, **effects, "used": adjust}
    assert cards[1].value("qa_score") == (80.0 if adjust else 74.0)  # what the gates read
    plain = cards[2].metric("qa_score")
    assert plain is not None
    assert (plain.raw, plain.adjustment) == (74.0, None)


def test_policies_without_the_qa_section_score_qa_as_given() -> None:
    policy = parse_policy(
        policy_text(),
        known_metrics=set(metrics_service.metric_definitions()),
        known_certifications=set(),
    )
    assert policy.qa.adjust_for_evaluator is False


def _qa(agent_id: int, value: float, n: int) -> dict[str, Fact]:
    return {"qa_score": Fact(agent_id, "qa_score", value, n, "t")}


def test_pooled_evidence_adds_samples_and_its_standard_error_uses_the_effective_sample() -> None:
    policy = _policy(qa_spread=10, evidence="  window: {qa_score: {periods: 3, decay: 0.5}}")
    earlier = [("2026-08", {1: _qa(1, 80, 5)}), ("2026-07", {}), ("2026-06", {1: _qa(1, 0, 9)})]
    [card] = score_agents(policy, {1: Member(1, None, None)}, {1: _qa(1, 70, 4)}, earlier).values()
    qa = card.metric("qa_score")
    assert qa is not None
    # 2026-07 had nothing; 2026-06 is outside the three periods.
    assert qa.raw == pytest.approx((4 * 70 + 0.5 * 5 * 80) / (4 + 0.5 * 5))
    assert (qa.sample_size, card.sample("qa_score")) == (9, 9)
    effective = (4 + 2.5) ** 2 / (4 + 0.25 * 5)
    assert qa.points_se == pytest.approx(10 / math.sqrt(effective))  # a point per QA point
    assert [p["period"] for p in card.pooled["qa_score"]["periods"]] == ["", "2026-08"]


def test_a_metric_with_data_only_in_earlier_periods_is_pooled_from_them() -> None:
    policy = _policy(evidence="  window: {qa_score: {periods: 2}}")
    cards = score_agents(
        policy, {1: Member(1, None, None)}, {}, [("2026-08", {1: _qa(1, 80, 5)})], "2026-09"
    )
    assert cards[1].value("qa_score") == 80
    assert cards[1].pooled["qa_score"]["periods"][0]["period"] == "2026-08"


def test_own_history_shrinkage_pulls_toward_the_agents_own_earlier_mean() -> None:
    shrink = "  shrink: {qa_score: {prior_weight: 5, toward: own_history, periods: 3}}"
    policy = _policy(evidence=shrink)
    members = {1: Member(1, None, "general"), 2: Member(2, None, "general")}
    earlier = [
        ("2026-08", {1: _qa(1, 80, 5)}),
        ("2026-07", {1: _qa(1, 70, 5)}),
        ("2026-06", {1: _qa(1, 60, 10)}),
        ("2026-05", {1: _qa(1, 0, 50)}),  # beyond the three periods of history
    ]
    cards = score_agents(policy, members, {**{1: _qa(1, 90, 5)}, 2: _qa(2, 50, 5)}, earlier)
    target = (80 * 5 + 70 * 5 + 60 * 10) / 20
    assert cards[1].metric("qa_score").shrunk == pytest.approx((5 * 90 + 5 * target) / 10)  # type: ignore[union-attr]
    # No history of its own: the value stands; the other agent's scores do not pull it.
    assert cards[2].metric("qa_score").shrunk == 50  # type: ignore[union-attr]
    # With a window, the history starts behind it.
    windowed = _policy(evidence=shrink + "\n  window: {qa_score: {periods: 2}}")
    pooled = score_agents(windowed, members, {1: _qa(1, 90, 5)}, earlier)[1].metric("qa_score")
    history = (70 * 5 + 60 * 10 + 0 * 50) / 65
    assert pooled.shrunk == pytest.approx((10 * 85 + 5 * history) / 15)  # type: ignore[union-attr]


@given(
    st.lists(
        st.tuples(st.floats(0, 100), st.integers(1, 50)),
        min_size=1,
        max_size=6,
    ),
    st.sampled_from([1.0, 0.5, 0.8]),
)
def test_pooling_stays_within_the_periods_and_adds_their_samples(
    periods: list[tuple[float, int]], decay: float
) -> None:
    window = WindowSpec(periods=len(periods), decay=decay)
    facts = [(f"p{i}", Fact(1, "qa_score", v, n, "t")) for i, (v, n) in enumerate(periods)]
    pooled = pool(window, facts)
    assert pooled is not None
    values = [v for v, _ in periods]
    assert min(values) - 1e-9 <= pooled.fact.value <= max(values) + 1e-9  # type: ignore[operator]
    assert pooled.fact.sample_size == sum(n for _, n in periods)
    assert pooled.effective_sample <= pooled.fact.sample_size + 1e-9
    if decay == 1.0:
        assert pooled.effective_sample == pytest.approx(pooled.fact.sample_size)
        mean = sum(v * n for v, n in periods) / sum(n for _, n in periods)
        assert pooled.fact.value == pytest.approx(mean)
