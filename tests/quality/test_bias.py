"""Evaluator-bias correction on simulated centres where the planted effects are known."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentladder.errors import InvalidInput
from agentladder.quality.bias import BiasFit, fit_evaluator_effects

Row = tuple[int, int, float]


def _centre(
    *,
    agents: int,
    evaluators: int,
    per_agent: int,
    seed: int,
    harshness: list[float] | None = None,
    own_share: float = 0.8,
    noise_sd: float = 6.0,
) -> tuple[list[Row], np.ndarray, np.ndarray]:
    """Each agent is mostly scored by one evaluator (`own_share`), otherwise by a random one."""
    rng = np.random.default_rng(seed)
    skill = rng.normal(0, 6, agents)
    harsh = np.array(harshness) if harshness is not None else rng.normal(0, 5, evaluators)
    rows: list[Row] = []
    for agent in range(agents):
        own = agent % evaluators
        for _ in range(per_agent):
            evaluator = own if rng.random() < own_share else int(rng.integers(evaluators))
            score = 75 + skill[agent] + harsh[evaluator] + rng.normal(0, noise_sd)
            rows.append((agent, evaluator, float(score)))
    return rows, skill, harsh


def test_recovers_planted_evaluator_effects() -> None:
    rows, _, harsh = _centre(agents=400, evaluators=8, per_agent=15, seed=3)
    fit = fit_evaluator_effects(rows, min_evaluations=20)
    centred = harsh - harsh.mean()
    estimated = np.array([fit.evaluator_effects[e] for e in range(8)])
    assert np.max(np.abs(estimated - estimated.mean() - centred)) < 1.0
    assert fit.overall_mean == pytest.approx(75 + harsh.mean(), abs=1.5)
    assert fit.residual_sd == pytest.approx(6.0, rel=0.1)


def test_adjusted_scores_track_skill_better_than_raw_means() -> None:
    rows, skill, _ = _centre(agents=400, evaluators=8, per_agent=15, seed=5, own_share=0.9)
    fit = fit_evaluator_effects(rows, min_evaluations=20)
    raw = np.array([fit.raw_means[a] for a in range(400)])
    adjusted = np.array([fit.adjusted_scores[a] for a in range(400)])
    assert np.corrcoef(adjusted, skill)[0, 1] > np.corrcoef(raw, skill)[0, 1] + 0.05
    assert fit.agent_evaluations[0] == 15
    assert sum(fit.evaluator_evaluations.values()) == len(rows) == fit.evaluations


def test_an_effect_seen_in_few_evaluations_is_shrunk() -> None:
    rows, skill, _ = _centre(
        agents=200, evaluators=4, per_agent=10, seed=7, harshness=[0, 0, 0, 0], noise_sd=1
    )
    # A fifth evaluator, 8 points harsher, who scored only 3 calls: pulled most of the way to 0
    # (3 evaluations against a prior worth 16 keep about 3/19 of the deviation).
    rows += [(agent, 4, 75 + skill[agent] - 8) for agent in (1, 2, 3)]
    fit = fit_evaluator_effects(rows, min_evaluations=3, evaluator_prior_weight=16.0)
    assert -8 * 3 / 19 * 1.2 < fit.evaluator_effects[4] < -8 * 3 / 19 * 0.8
    # With much evidence the same prior barely shrinks.
    many = fit_evaluator_effects(
        rows + [(agent, 4, 75 + skill[agent] - 8) for agent in range(200) for _ in range(3)],
        min_evaluations=3,
        evaluator_prior_weight=16.0,
    )
    others = np.mean([many.evaluator_effects[e] for e in range(4)])
    assert many.evaluator_effects[4] - others < -7.5


def test_an_evaluator_under_the_minimum_gets_no_effect() -> None:
    rows, _, _ = _centre(agents=100, evaluators=4, per_agent=10, seed=11)
    rows += [(0, 99, 20.0), (1, 99, 25.0)]
    fit = fit_evaluator_effects(rows, min_evaluations=3)
    assert fit.evaluator_effects[99] == 0.0
    assert fit.evaluator_evaluations[99] == 2
    assert fit.adjusted_scores[0] == pytest.approx(
        fit.raw_means[0]
        - sum(fit.evaluator_effects[e] for a, e, _ in rows if a == 0) / fit.agent_evaluations[0]
    )
    assert all(fit.evaluator_effects[evaluator] != 0.0 for evaluator in range(4))


def test_a_balanced_design_leaves_the_raw_means_nearly_unchanged() -> None:
    rng = np.random.default_rng(13)
    harsh = [-6.0, -2.0, 2.0, 6.0]
    rows = [
        (agent, evaluator, 70 + agent % 7 + harsh[evaluator] + rng.normal(0, 5))
        for agent in range(150)
        for evaluator in range(4)
        for _ in range(3)
    ]
    fit = fit_evaluator_effects(rows, min_evaluations=10)
    # Every agent meets every evaluator equally often: their effects cancel in each agent's mean.
    shifts = [fit.adjusted_scores[a] - fit.raw_means[a] for a in range(150)]
    assert max(shifts) - min(shifts) < 1e-9
    assert abs(shifts[0]) < 0.5


def test_fixed_prior_weights_are_used_as_given() -> None:
    rows, _, _ = _centre(agents=50, evaluators=3, per_agent=6, seed=17)
    fit = fit_evaluator_effects(
        rows, min_evaluations=5, agent_prior_weight=2.5, evaluator_prior_weight=4.0
    )
    assert (fit.agent_prior_weight, fit.evaluator_prior_weight) == (2.5, 4.0)
    # The penalised normal equations hold: each agent's residuals sum to prior weight x effect.
    for agent in (0, 7, 31):
        residual = sum(
            score - fit.overall_mean - fit.agent_effects[a] - fit.evaluator_effects[e]
            for a, e, score in rows
            if a == agent
        )
        assert residual == pytest.approx(2.5 * fit.agent_effects[agent], abs=1e-8)


@pytest.mark.parametrize(
    ("rows", "options"),
    [
        ([], {}),
        ([(1, 1, 80.0)], {"min_evaluations": 0}),
        ([(1, 1, 80.0)], {"agent_prior_weight": 0.0}),
        ([(1, 1, float("nan"))], {}),
    ],
)
def test_rejects_input_it_cannot_fit(rows: list[Row], options: dict[str, float]) -> None:
    with pytest.raises(InvalidInput):
        fit_evaluator_effects(rows, **options)  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None)
@given(
    shift=st.floats(min_value=-15, max_value=15),
    evaluator=st.integers(min_value=0, max_value=5),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_shifting_one_evaluator_moves_only_that_effect(
    shift: float, evaluator: int, seed: int
) -> None:
    # Well connected: every agent meets most evaluators.
    rows, _, _ = _centre(agents=120, evaluators=6, per_agent=24, seed=seed, own_share=0.2)
    options = {"min_evaluations": 10, "agent_prior_weight": 1.5, "evaluator_prior_weight": 0.05}
    before = fit_evaluator_effects(rows, **options)  # type: ignore[arg-type]
    shifted = [(a, e, s + shift if e == evaluator else s) for a, e, s in rows]
    after = fit_evaluator_effects(shifted, **options)  # type: ignore[arg-type]

    # Effects are relative to the overall mean, which takes the evaluator's share of the shift;
    # against the other evaluators the effect moves by the whole shift.
    def contrast(fit: BiasFit[int, int]) -> float:
        effects = fit.evaluator_effects
        return effects[evaluator] - np.mean([v for e, v in effects.items() if e != evaluator])

    assert contrast(after) - contrast(before) == pytest.approx(shift, abs=0.05 * abs(shift) + 0.01)
    # Agents' adjusted scores all move by the same common amount: differences between agents,
    # and so their ranks, stay.
    changes = [after.adjusted_scores[a] - before.adjusted_scores[a] for a in range(120)]
    assert max(changes) - min(changes) < 0.1 * abs(shift) + 0.01
