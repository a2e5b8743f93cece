"""Evaluator-bias correction against a simulated centre whose true skill is known.

The centre (issue 14): 600 agents in 16 teams, 8 evaluators whose harshness is drawn with SD 5
points, 6 official evaluations per agent per month over the default 3-month window. Assignment
is NOT balanced: evaluator k scores teams 2k and 2k+1 (85 % of that team's evaluations; the rest
go to any evaluator). True skill = team mean (SD 3) + individual (SD 5); one evaluation's score
= 80 + skill + the evaluator's harshness + call-to-call noise (SD 8), clipped to 0..100.

Figures, each the mean over `--repeats` independently drawn centres:

* Spearman(raw mean, true skill) and Spearman(adjusted score, true skill);
* mean absolute rank error (|rank by the estimate - rank by true skill|, in places out of 600)
  of each, and how much lower the adjusted one is (target: at least 30 %).

The baseline (raw per-agent means) runs in the same process on the same rows. Timing: the fit of
2,000 agents x 12 months x 8 evaluations (192,000 rows, variance components estimated), best of
`--timing-runs`, against computing the raw means of the same rows (target: under 10 s on 2 cores).

Usage: `python benchmarks/quality_bias.py [--repeats 5] [--seed 42] [--timing-runs 3]`; writes
`benchmarks/results/quality_bias.json`.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from agentladder.quality.bias import fit_evaluator_effects

RESULTS = Path(__file__).parent / "results" / "quality_bias.json"
TEAMS = 16
EVALUATORS = 8
OWN_EVALUATOR_SHARE = 0.85
HARSHNESS_SD = 5.0
NOISE_SD = 8.0
MIN_EVALUATIONS = 30


def simulate_centre(
    agents: int, months: int, per_month: int, seed: int
) -> tuple[list[tuple[int, int, float]], np.ndarray]:
    """Rows (agent, evaluator, score) and every agent's true skill."""
    rng = np.random.default_rng(seed)
    team = np.arange(agents) % TEAMS
    skill = rng.normal(0, 3, TEAMS)[team] + rng.normal(0, 5, agents)
    harshness = rng.normal(0, HARSHNESS_SD, EVALUATORS)
    evaluations = months * per_month
    agent_of_row = np.repeat(np.arange(agents), evaluations)
    own = team[agent_of_row] // (TEAMS // EVALUATORS)
    anyone = rng.integers(0, EVALUATORS, len(agent_of_row))
    evaluator_of_row = np.where(rng.random(len(agent_of_row)) < OWN_EVALUATOR_SHARE, own, anyone)
    scores = np.clip(
        80
        + skill[agent_of_row]
        + harshness[evaluator_of_row]
        + rng.normal(0, NOISE_SD, len(agent_of_row)),
        0,
        100,
    )
    rows = list(zip(agent_of_row.tolist(), evaluator_of_row.tolist(), scores.tolist(), strict=True))
    return rows, skill


def ranks(values: np.ndarray) -> np.ndarray:
    """0-based ranks (continuous values: ties do not occur)."""
    order = np.argsort(values, kind="stable")
    result = np.empty(len(values))
    result[order] = np.arange(len(values))
    return result


def spearman(estimate: np.ndarray, truth: np.ndarray) -> float:
    """Spearman's rank correlation."""
    return float(np.corrcoef(ranks(estimate), ranks(truth))[0, 1])


def raw_means(rows: list[tuple[int, int, float]], agents: int) -> np.ndarray:
    """The baseline: each agent's plain mean score."""
    agent_of_row = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    scores = np.fromiter((row[2] for row in rows), dtype=np.float64, count=len(rows))
    return np.bincount(agent_of_row, weights=scores, minlength=agents) / np.bincount(
        agent_of_row, minlength=agents
    )


def accuracy(repeats: int, seed: int) -> dict[str, object]:
    """Rank agreement of raw and adjusted scores with true skill over `repeats` centres."""
    agents = 600
    per_centre: list[dict[str, float]] = []
    for repeat in range(repeats):
        rows, skill = simulate_centre(agents, months=3, per_month=6, seed=seed + repeat)
        raw = raw_means(rows, agents)
        fit = fit_evaluator_effects(rows, min_evaluations=MIN_EVALUATIONS)
        adjusted = np.array([fit.adjusted_scores[agent] for agent in range(agents)])
        truth_ranks = ranks(skill)
        per_centre.append(
            {
                "seed": seed + repeat,
                "spearman_raw": spearman(raw, skill),
                "spearman_adjusted": spearman(adjusted, skill),
                "rank_error_raw": float(np.mean(np.abs(ranks(raw) - truth_ranks))),
                "rank_error_adjusted": float(np.mean(np.abs(ranks(adjusted) - truth_ranks))),
                "agent_prior_weight": fit.agent_prior_weight,
                "evaluator_prior_weight": fit.evaluator_prior_weight,
            }
        )
    means = {
        key: float(np.mean([float(centre[key]) for centre in per_centre]))
        for key in ("spearman_raw", "spearman_adjusted", "rank_error_raw", "rank_error_adjusted")
    }
    summary: dict[str, object] = dict(means)
    summary["rank_error_reduction"] = 1 - means["rank_error_adjusted"] / means["rank_error_raw"]
    summary["centres"] = per_centre
    return summary


def timing(runs: int, seed: int) -> dict[str, object]:
    """Best-of-`runs` wall time of the large fit and of the raw means of the same rows."""
    agents = 2000
    rows, _ = simulate_centre(agents, months=12, per_month=8, seed=seed)
    fit_times, raw_times = [], []
    for _ in range(runs):
        started = time.perf_counter()
        raw_means(rows, agents)
        raw_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        fit_evaluator_effects(rows, min_evaluations=MIN_EVALUATIONS)
        fit_times.append(time.perf_counter() - started)
    return {"rows": len(rows), "fit_s": min(fit_times), "raw_means_s": min(raw_times)}


def main() -> None:
    """Run, print, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--timing-runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    quality = accuracy(args.repeats, args.seed)
    speed = timing(args.timing_runs, args.seed)
    report = {"accuracy": quality, "timing": speed}
    print(f"600 agents, 8 evaluators (harshness SD 5), 18 evaluations each, {args.repeats} centres")
    print(f"{'':24}{'raw mean':>12}{'adjusted':>12}")
    print(
        f"{'Spearman vs true skill':24}{quality['spearman_raw']:>12.3f}"
        f"{quality['spearman_adjusted']:>12.3f}"
    )
    print(
        f"{'mean abs. rank error':24}{quality['rank_error_raw']:>12.1f}"
        f"{quality['rank_error_adjusted']:>12.1f}"
    )
    reduction = quality["rank_error_reduction"]
    print(f"rank error reduction: {reduction:.1%} (target >= 30 %)")
    print(
        f"fit of {speed['rows']:,} rows: {speed['fit_s']:.2f} s (target < 10 s); "
        f"raw means of the same rows: {speed['raw_means_s']:.3f} s"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()
