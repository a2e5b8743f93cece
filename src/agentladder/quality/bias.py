"""Evaluator-bias correction for QA scores: score = overall mean + agent effect + evaluator effect
+ noise, with both effects shrunk towards 0 (crossed random effects, fitted as the equivalent
ridge-penalised least squares). docs/quality.md explains the model, the fit and the minimum."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

from agentladder.errors import InvalidInput

AgentKey = TypeVar("AgentKey", bound=Hashable)
EvaluatorKey = TypeVar("EvaluatorKey", bound=Hashable)

FloatArray = npt.NDArray[np.float64]

# Variance components are re-estimated until the prior weights move less than this (relative).
_PRIOR_WEIGHT_TOLERANCE = 1e-4
_MAX_VARIANCE_ITERATIONS = 500
# Keeps an estimated variance that collapses towards 0 from dividing by zero; the prior weight it
# implies (thousands of evaluations) already means "no effect".
_MIN_VARIANCE_SHARE = 1e-6


@dataclass(frozen=True)
class BiasFit(Generic[AgentKey, EvaluatorKey]):
    """One window's fit. `adjusted_scores` is the agent's own mean with their evaluators' effects
    taken out (unshrunk: the ladder's scoring shrinks by evidence itself)."""

    overall_mean: float
    agent_effects: dict[AgentKey, float]
    evaluator_effects: dict[EvaluatorKey, float]
    raw_means: dict[AgentKey, float]
    adjusted_scores: dict[AgentKey, float]
    agent_evaluations: dict[AgentKey, int]
    evaluator_evaluations: dict[EvaluatorKey, int]
    agent_prior_weight: float
    evaluator_prior_weight: float
    residual_sd: float
    evaluations: int


@dataclass(frozen=True)
class _Solution:
    overall_mean: float
    agent_effects: FloatArray
    evaluator_effects: FloatArray
    # Diagonals of the inverse of the penalised normal equations, for the variance update.
    agent_inverse_trace: float
    evaluator_inverse_trace: float


def fit_evaluator_effects(
    rows: Sequence[tuple[AgentKey, EvaluatorKey, float]],
    *,
    min_evaluations: int = 30,
    agent_prior_weight: float | None = None,
    evaluator_prior_weight: float | None = None,
) -> BiasFit[AgentKey, EvaluatorKey]:
    """Fit overall mean, agent and evaluator effects to (agent, evaluator, score) rows.

    A prior weight is noise variance / effect variance, i.e. how many evaluations' worth of pull
    towards 0 an effect gets; None estimates it from the data (REML by EM)."""
    if not rows:
        raise InvalidInput("no evaluations to fit")
    if min_evaluations < 1:
        raise InvalidInput("the minimum number of evaluations is at least 1")
    for weight in (agent_prior_weight, evaluator_prior_weight):
        if weight is not None and not (weight > 0 and np.isfinite(weight)):
            raise InvalidInput("a prior weight is a positive number")

    agent_index: dict[AgentKey, int] = {}
    evaluator_index: dict[EvaluatorKey, int] = {}
    agent_of_row = np.empty(len(rows), dtype=np.int64)
    evaluator_of_row = np.empty(len(rows), dtype=np.int64)
    scores = np.empty(len(rows), dtype=np.float64)
    for row_number, (agent, evaluator, score) in enumerate(rows):
        agent_of_row[row_number] = agent_index.setdefault(agent, len(agent_index))
        evaluator_of_row[row_number] = evaluator_index.setdefault(evaluator, len(evaluator_index))
        scores[row_number] = score
    if not np.all(np.isfinite(scores)):
        raise InvalidInput("every score is a finite number")

    agent_counts = np.bincount(agent_of_row, minlength=len(agent_index)).astype(np.float64)
    agent_sums = np.bincount(agent_of_row, weights=scores, minlength=len(agent_index)).astype(
        np.float64
    )
    evaluator_counts = np.bincount(evaluator_of_row, minlength=len(evaluator_index))
    # Evaluators under the minimum keep their rows (they still inform the mean and the agents)
    # but get no effect column, i.e. an effect of exactly 0.
    fitted = np.flatnonzero(evaluator_counts >= min_evaluations)
    column_of_evaluator = np.full(len(evaluator_index), -1, dtype=np.int64)
    column_of_evaluator[fitted] = np.arange(len(fitted))
    column_of_row = column_of_evaluator[evaluator_of_row]
    in_fitted = column_of_row >= 0
    # Agent x (intercept, fitted evaluators) counts and the evaluators' score sums: with these
    # sufficient statistics every iteration costs O(agents x evaluators), not O(rows).
    cross_counts = np.zeros((len(agent_index), len(fitted) + 1))
    cross_counts[:, 0] = agent_counts
    np.add.at(cross_counts, (agent_of_row[in_fitted], column_of_row[in_fitted] + 1), 1.0)
    evaluator_sums = np.bincount(
        column_of_row[in_fitted], weights=scores[in_fitted], minlength=len(fitted)
    ).astype(np.float64)
    sum_of_squares = float(scores @ scores)
    total_sum = float(scores.sum())

    def solve(agent_weight: float, evaluator_weight: float) -> _Solution:
        return _solve(
            cross_counts,
            agent_sums,
            evaluator_sums,
            total_sum,
            agent_weight=agent_weight,
            evaluator_weight=evaluator_weight,
        )

    agent_weight = agent_prior_weight
    evaluator_weight = evaluator_prior_weight
    if agent_weight is None or evaluator_weight is None:
        agent_weight, evaluator_weight = _estimate_prior_weights(
            solve,
            sum_of_squares=sum_of_squares,
            total_sum=total_sum,
            agent_sums=agent_sums,
            evaluator_sums=evaluator_sums,
            evaluations=len(rows),
            fixed_agent_weight=agent_prior_weight,
            fixed_evaluator_weight=evaluator_prior_weight,
        )
    solution = solve(agent_weight, evaluator_weight)

    evaluator_effects = np.zeros(len(evaluator_index))
    evaluator_effects[fitted] = solution.evaluator_effects
    effect_sums = np.bincount(
        agent_of_row, weights=evaluator_effects[evaluator_of_row], minlength=len(agent_index)
    )
    raw_means = agent_sums / agent_counts
    adjusted = raw_means - effect_sums / agent_counts
    residual_variance = _residual_variance(
        solution, sum_of_squares, total_sum, agent_sums, evaluator_sums, len(rows)
    )
    agents = list(agent_index)
    evaluators = list(evaluator_index)
    return BiasFit(
        overall_mean=solution.overall_mean,
        agent_effects=dict(zip(agents, solution.agent_effects.tolist(), strict=True)),
        evaluator_effects=dict(zip(evaluators, evaluator_effects.tolist(), strict=True)),
        raw_means=dict(zip(agents, raw_means.tolist(), strict=True)),
        adjusted_scores=dict(zip(agents, adjusted.tolist(), strict=True)),
        agent_evaluations=dict(zip(agents, agent_counts.astype(int).tolist(), strict=True)),
        evaluator_evaluations=dict(zip(evaluators, evaluator_counts.tolist(), strict=True)),
        agent_prior_weight=agent_weight,
        evaluator_prior_weight=evaluator_weight,
        residual_sd=float(np.sqrt(residual_variance)),
        evaluations=len(rows),
    )


def _solve(
    cross_counts: FloatArray,
    agent_sums: FloatArray,
    evaluator_sums: FloatArray,
    total_sum: float,
    *,
    agent_weight: float,
    evaluator_weight: float,
) -> _Solution:
    """Exact penalised least squares: the agent block of the normal equations is diagonal, so it
    is eliminated and only the (1 + evaluators)-square Schur complement is solved densely."""
    agent_counts = cross_counts[:, 0]
    agent_inverse = 1.0 / (agent_counts + agent_weight)
    column_counts = cross_counts.sum(axis=0)
    # Rows' Gram matrix for (intercept, evaluators): the intercept meets every row, an evaluator
    # column only its own rows.
    gram = np.diag(column_counts)
    gram[0, :] = column_counts
    gram[:, 0] = column_counts
    penalty = np.full(len(column_counts), evaluator_weight)
    penalty[0] = 0.0
    weighted = cross_counts * agent_inverse[:, None]
    schur = gram + np.diag(penalty) - cross_counts.T @ weighted
    right = np.concatenate(([total_sum], evaluator_sums)) - weighted.T @ agent_sums
    schur_inverse = np.linalg.inv(schur)
    fixed_and_evaluators = schur_inverse @ right
    agent_effects = agent_inverse * (agent_sums - cross_counts @ fixed_and_evaluators)
    # diag of the inverse's agent block: 1/d_i + (c_i/d_i)' S^-1 (c_i/d_i).
    agent_inverse_diagonal = agent_inverse + np.einsum(
        "ij,jk,ik->i", weighted, schur_inverse, weighted
    )
    return _Solution(
        overall_mean=float(fixed_and_evaluators[0]),
        agent_effects=agent_effects,
        evaluator_effects=fixed_and_evaluators[1:],
        agent_inverse_trace=float(agent_inverse_diagonal.sum()),
        evaluator_inverse_trace=float(np.trace(schur_inverse[1:, 1:])),
    )


_Solver = Callable[[float, float], _Solution]


def _residual_variance(
    solution: _Solution,
    sum_of_squares: float,
    total_sum: float,
    agent_sums: FloatArray,
    evaluator_sums: FloatArray,
    evaluations: int,
) -> float:
    # Henderson's y'(y - fitted) / (n - rank of the fixed part), from sufficient statistics.
    explained = (
        solution.overall_mean * total_sum
        + float(solution.agent_effects @ agent_sums)
        + float(solution.evaluator_effects @ evaluator_sums)
    )
    return max(sum_of_squares - explained, 0.0) / max(evaluations - 1, 1)


def _estimate_prior_weights(
    solve: _Solver,
    *,
    sum_of_squares: float,
    total_sum: float,
    agent_sums: FloatArray,
    evaluator_sums: FloatArray,
    evaluations: int,
    fixed_agent_weight: float | None,
    fixed_evaluator_weight: float | None,
) -> tuple[float, float]:
    """REML variance components by EM (Henderson's iteration), as prior weights."""
    agents = len(agent_sums)
    evaluators = len(evaluator_sums)
    agent_weight = fixed_agent_weight if fixed_agent_weight is not None else 1.0
    evaluator_weight = fixed_evaluator_weight if fixed_evaluator_weight is not None else 1.0
    for _ in range(_MAX_VARIANCE_ITERATIONS):
        solution = solve(agent_weight, evaluator_weight)
        noise = _residual_variance(
            solution, sum_of_squares, total_sum, agent_sums, evaluator_sums, evaluations
        )
        if noise <= 0:
            break
        floor = noise * _MIN_VARIANCE_SHARE
        new_agent_weight = agent_weight
        if fixed_agent_weight is None:
            agent_variance = (
                float(solution.agent_effects @ solution.agent_effects)
                + noise * solution.agent_inverse_trace
            ) / agents
            new_agent_weight = noise / max(agent_variance, floor)
        new_evaluator_weight = evaluator_weight
        if fixed_evaluator_weight is None and evaluators:
            evaluator_variance = (
                float(solution.evaluator_effects @ solution.evaluator_effects)
                + noise * solution.evaluator_inverse_trace
            ) / evaluators
            new_evaluator_weight = noise / max(evaluator_variance, floor)
        converged = abs(new_agent_weight - agent_weight) <= _PRIOR_WEIGHT_TOLERANCE * (
            agent_weight
        ) and abs(new_evaluator_weight - evaluator_weight) <= (
            _PRIOR_WEIGHT_TOLERANCE * evaluator_weight
        )
        agent_weight, evaluator_weight = new_agent_weight, new_evaluator_weight
        if converged:
            break
    return agent_weight, evaluator_weight
