"""Fairness of the ladder, both ways, measured against the demo's latent true skill.

The product never sees true skill; this benchmark does. It builds a population with the demo
generator itself (`demo.service.step_organisation` and `step_levels` in a throw-away SQLite
database: the same hire dates, skill groups, latent truths and starting pyramid as
`agentladder demo`), draws twelve months of evidence per agent from true skill (after twelve
months of history) with the sampling noise a real centre has, and runs, side by side on the
same evidence:

* the product: the shipped default policy through the product's own
  `decisions.gathering.evaluate` (`score_agents` with the earlier periods' facts as
  `PeriodInputs.earlier`, `rules.decide`, `rules.apply_quotas`), month by month, carrying
  levels and streaks as a backtest does, every decision applied (as if the manager approved
  every pending one);
* policy variants (`variant_patches`: patches of the default policy's YAML document, parsed
  and validated by the product): with `qa.adjust_for_evaluator` off always, the others with
  `--variants`. Entry scores are never changed (the issue: fix the mechanism, not the
  thresholds);
* the naive rule, for reference: composite = plain average of the metric points of the raw
  values, no minimum, no gates; promote one level when it reaches the next level's entry
  score, demote one level when it is below the current level's; every period. And the same
  rule on the product's composite;
* perfect measurement: the same rule on each agent's expected composite (own stable traits
  in, noise out): the ceiling of any rule on the composite.

Two evidence generators (`GENERATORS`), each run on every seed:

* `today`: handled calls 400-900 (3 % of months short: 10-30 % of the usual calls); FCR,
  transfers, ticket validity, sales leads and complaints as binomial/Poisson counts over those
  calls; ring time and AHT as means over the calls; attendance over 21 shifts; 4-10 QA
  evaluations, each the agent's level + evaluator and call noise (SD 8.5 points; a
  compliance-critical fatal error, rarer for skilled agents, scores it 0 and counts in
  qa_fatal_errors); 20-80 surveys; an exam in half of the months; knowledge points and
  adoptions as Poisson counts; certificates valid once true skill reaches a threshold near the
  band that requires them, 12 % lapsing for 1-3 months. A good or bad month moves every metric
  together (more for erratic agents: the demo's volatility), and every agent has stable
  per-metric traits unrelated to skill (SD 4 points). Exactly the first measurement's draws.
* `harsh`: 3-5 QA evaluations a month, each by an evaluator of the agent's centre (centres of
  about 500 agents by team, 8 evaluators each, an evaluator scoring 85 % of its own teams'
  evaluations as in benchmarks/quality_bias.py) whose lasting harshness is drawn with SD 5
  points on top of the same per-evaluation noise; 10 % of agent-months with 40-199 calls
  (surveys fall with the calls). Its `qa_score_adjusted` facts are built as the quality
  provider builds them (`quality.service.period_scores`): the evaluators' effects fitted by
  the product's `quality.bias.fit_evaluator_effects` over the provider's scoring window (the
  period and the two months before, evaluators under its minimum of evaluations at 0), each
  evaluation less its evaluator's effect, and the explanation's detail from
  `PeriodQaScores.adjustment_of`; so the policy's `qa.adjust_for_evaluator` takes effect.

Intended skill bands come from the demo's placement (`step_levels`): it ranks agents by true
skill (plus N(0, 0.35) noise) and fills the pyramid top down with `LEVEL_SHARES`, so level k's
band is [Q(c_k), Q(c_k+1)) with c the cumulative shares from the bottom (0, .20, .37, .52,
.65, .76, .85, .92, .97, 1) and Q the quantile of true skill when the simulation starts.
Bands stay fixed for the twelve months (skill is on an absolute scale). The generator is
calibrated so that an agent whose true skill sits on a band's lower edge has a noise-free
composite (true rates, the policy's weights and standards, no shrinkage) equal to that
level's entry score.

Figures (`TARGETS`, the issue's targets), per seed and generator, then mean and worst:

* at month 12, the share of agents whose level is their band's (>= 60 %, and not below the
  share at the start), and the share below their band (<= 25 %);
* the months from when an agent's true skill enters the next level's band to its promotion
  (`promotion_waits`: an episode opens in the first month whose mid-month true skill is at or
  above the lower edge of the band of the level above the one held, month 0 when it already
  was at the start; it closes with the promotion, the wait counting both the opening month and
  the promotion's month: 2 at the least with two consecutive periods). An episode still open
  at the end, or closed by a demotion, is censored: not promoted yet, longer than the months
  left; the median counts censored episodes as longer than every observed wait, so a median
  that falls on one is "censored" (more than the months left) and misses the target (<= 3).
  The share censored is reported beside it;
* kept from the first measurement: among agents whose true skill does not change over the
  twelve months, the share of agent-periods with a level change (< 5 %); the share of
  promotions into a level whose band the agent's true skill is below ("above band", < 5 %);
  Spearman(level, true skill) at month 12 (>= 0.9).

Every (seed, generator) is one job on a process pool (`--processes`, default 2). Usage:
`python benchmarks/ladder_fairness.py [--seeds 42,7,11,23,101] [--generators today,harsh]
[--variants [all|NAME,...]]`; writes `benchmarks/results/ladder_fairness.json`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sqlalchemy import select

from agentladder.config import Settings
from agentladder.db import get_engine, session_scope, upgrade_schema
from agentladder.demo import service as demo
from agentladder.demo.models import DemoAgentTruth
from agentladder.ladder.decisions import rules
from agentladder.ladder.decisions.gathering import PeriodInputs, evaluate
from agentladder.ladder.decisions.scoring import Member, PeriodScores, score_agents
from agentladder.ladder.policy import service as policy_service
from agentladder.ladder.policy.schemas import LadderPolicy, SufficiencySpec
from agentladder.metrics import service as metrics_service
from agentladder.metrics.schemas import Fact
from agentladder.org import service as org_service
from agentladder.periods import Period, parse_period
from agentladder.quality import service as quality_service
from agentladder.quality.bias import fit_evaluator_effects

RESULTS = Path(__file__).parent / "results" / "ladder_fairness.json"
TARGET_STABILITY = 0.05
TARGET_UNDERQUALIFIED = 0.05
START = date(2025, 1, 1)  # the demo's "today": the pyramid is placed then; months follow
HISTORY_MONTHS = 12  # evidence before the first decision (gate windows, pooled history)
SOURCE = "benchmark"

# Evidence plan per agent-month (the figures).
CALLS_PER_MONTH = (400, 900)  # an agent's usual handled calls; the month varies around it
SHORT_MONTH_SHARE = 0.03  # leave, long training: a month with a fraction of the calls
QA_EVALUATIONS = (4, 10)  # inclusive
SURVEYS = (20, 80)  # inclusive
SHIFTS_PER_MONTH = 21
EXAM_SHARE = 0.5  # months with an exam
TICKET_SHARE = 0.2  # calls that open a ticket
EVALUATOR_SD = 6.0  # QA points: evaluator disagreement on the same call
CALL_SD = 6.0  # QA points: one call differs from the agent's usual
PERSISTENT_SD = 4.0  # points: stable per-agent, per-metric traits unrelated to skill
AHT_CALL_SD = 200.0  # seconds, per call
CERT_LAPSE_SHARE = 0.12  # certificates not renewed in time: a lapse of 1-3 months
STABLE_SHARE = 1 / 3

# Metrics scored linearly by the default policy: (best, worst) from the policy file; the
# generator puts an agent of performance P (0..100 points) at worst + P/100 * (best - worst),
# so a noise-free value earns exactly P points.
LINEAR = ("avg_ring_s", "fcr_rate", "transfer_rate", "qa_score", "csat_rate", "complaint_rate")
LINEAR += ("exam_score", "ticket_validity_rate")
PERSISTENT = (*LINEAR, "attendance_rate")


# --- the population, from the demo generator ----------------------------------------------


@dataclass
class Agent:
    """One agent as the simulation carries them."""

    agent_id: int
    hire: date
    member: Member
    truth: DemoAgentTruth
    level: int  # index into the policy's levels
    level_since: date
    promoted: bool  # the current level was entered by a promotion
    frozen: float | None = None  # true skill held constant from START (the stable third)

    def skill(self, on: date) -> float:
        """True skill on a date (`demo.service.true_skill`, or the frozen value)."""
        if self.frozen is not None and on >= START:
            return self.frozen
        return demo.true_skill(self.truth, self.hire, on)


def build_population(agents: int, seed: int) -> list[Agent]:
    """The demo's organisation and pyramid for `agents` agents, built by the demo's own steps
    in a temporary SQLite database and read back through `org_service.standings_on`."""
    with tempfile.TemporaryDirectory(prefix="ladder-fairness-") as name:
        folder = Path(name)
        settings = Settings(
            data_dir=folder, database_url=f"sqlite:///{folder / 'demo.db'}", secret_key="bench"
        )
        upgrade_schema(settings)
        with session_scope(settings) as session:
            ctx = demo.DemoContext(
                session=session,
                settings=settings,
                rng=random.Random(seed),
                agents_wanted=agents,
                today=START,
                password="unused",  # step_users is not run: no account gets it
                password_hash="unused",
                call_months=0,
            )
            demo.step_organisation(ctx)
            demo.step_levels(ctx)
            truths = {t.agent_id: t for t in session.scalars(select(DemoAgentTruth))}
            session.expunge_all()  # the truths outlive the session as plain objects
            standings = org_service.standings_on(session=session, on=START)
        get_engine(settings.resolved_database_url).dispose()
    level_ids = [level.id for level in demo.LEVELS]
    population = [
        Agent(
            agent_id=s.agent_id,
            hire=s.hire_date,
            member=Member(s.agent_id, s.team_code, s.skill_group),
            truth=truths[s.agent_id],
            level=level_ids.index(s.level),
            level_since=s.level_since,
            promoted=s.entered_by_promotion,
        )
        for s in standings
    ]
    # A third of the agents stop learning when the simulation starts (volatility stays, in
    # the evidence only), so the stability figure has a population whose skill is constant.
    chooser = random.Random(seed + 1)
    for agent in population:
        if chooser.random() < STABLE_SHARE:
            agent.frozen = agent.skill(START - timedelta(days=1))
    return population


# --- bands and calibration ---------------------------------------------------------------


def band_edges(skills: np.ndarray) -> list[float]:
    """Lower edge of each level's intended band (level 0: -inf), from the demo's shares."""
    cumulative = np.cumsum(demo.LEVEL_SHARES)[:-1]  # share below levels 1..8
    return [float("-inf"), *(float(np.quantile(skills, c)) for c in cumulative)]


def band_of(skill: float, edges: list[float]) -> int:
    """The level whose intended band holds this skill."""
    return max(k for k, edge in enumerate(edges) if skill >= edge)


@dataclass
class Curve:
    """Performance points as a function of skill: piecewise linear through (edge, points)
    knots at the band edges, extended linearly beyond the first and last."""

    x: list[float]
    y: list[float]

    def __call__(self, skill: np.ndarray) -> np.ndarray:
        x, y = np.array(self.x), np.array(self.y)
        out = np.interp(skill, x, y)
        low, high = skill < x[0], skill > x[-1]
        out[low] = y[0] + (skill[low] - x[0]) * (y[1] - y[0]) / (x[1] - x[0])
        out[high] = y[-1] + (skill[high] - x[-1]) * (y[-1] - y[-2]) / (x[-1] - x[-2])
        return out


@dataclass
class Traits:
    """Per-agent constants of the generator (drawn once)."""

    calls: np.ndarray  # usual handled calls a month
    persistent: dict[str, np.ndarray]  # points offset per linear/band metric
    aht_offset: np.ndarray  # seconds
    kb_offset: np.ndarray  # log-rate offset
    group_aht: np.ndarray  # seconds, by primary skill group
    group_sales: np.ndarray  # multiplier, by primary skill group
    cert_threshold: dict[str, np.ndarray]
    cert_lapse: dict[str, list[set[int]]]  # evaluation months without a valid certificate
    volatility: np.ndarray


GROUP_AHT = {"billing": 40.0, "complaints": 120.0, "english": 30.0, "vip": 20.0, "sales": 10.0}
GROUP_SALES = {"sales": 2.0, "vip": 1.3}
CERT_LEVEL = {"product_knowledge": 3, "service_skill": 4, "sales_skill": 6, "comprehensive": 8}


def draw_traits(population: list[Agent], edges: list[float], rng: np.random.Generator) -> Traits:
    """Everything about an agent the generator keeps from month to month."""
    n = len(population)
    groups = [a.member.skill_group or "general" for a in population]
    lapse: dict[str, list[set[int]]] = {}
    for cert in CERT_LEVEL:
        lapses = []
        for _ in range(n):
            months: set[int] = set()
            if rng.random() < CERT_LAPSE_SHARE:
                first = int(rng.integers(0, 12))
                months = set(range(first, first + int(rng.integers(1, 4))))
            lapses.append(months)
        lapse[cert] = lapses
    return Traits(
        calls=rng.uniform(*CALLS_PER_MONTH, n),
        persistent={m: rng.normal(0, PERSISTENT_SD, n) for m in PERSISTENT},
        aht_offset=rng.normal(0, 25, n),
        kb_offset=rng.normal(0, 0.4, n),
        group_aht=np.array([GROUP_AHT.get(g, 0.0) for g in groups]),
        group_sales=np.array([GROUP_SALES.get(g, 1.0) for g in groups]),
        cert_threshold={
            cert: edges[level] - 0.25 + rng.normal(0, 0.2, n) for cert, level in CERT_LEVEL.items()
        },
        cert_lapse=lapse,
        volatility=np.array([a.truth.volatility for a in population]),
    )


def _linear_value(metric: str, policy: LadderPolicy, points: np.ndarray) -> np.ndarray:
    spec = policy.scoring[metric].linear
    assert spec is not None
    return spec.worst + points / 100.0 * (spec.best - spec.worst)


def _attendance_p(points: np.ndarray) -> np.ndarray:
    # 0.85 at 0 points, 1.0 at 100: the policy's bands (0.90/0.95/0.98) sit at 33/67/87.
    return np.clip(0.85 + 0.15 * points / 100.0, 0.5, 0.998)


def _aht_true(skill: np.ndarray, traits: Traits) -> np.ndarray:
    return 420.0 - 35.0 * skill + traits.group_aht + traits.aht_offset


def _sales_p(skill: np.ndarray, traits: Traits) -> np.ndarray:
    return np.clip(0.025 * np.exp(0.35 * skill) * traits.group_sales, 0.001, 0.3)


def _kb_rate(skill: np.ndarray, traits: Traits) -> np.ndarray:
    return np.exp(0.6 + 0.7 * skill + traits.kb_offset)


def true_facts(
    population: list[Agent],
    skills: np.ndarray,
    curve: Curve,
    policy: LadderPolicy,
    t: Traits,
    with_traits: bool = False,
) -> dict[int, dict[str, Fact]]:
    """Noise-free facts: the rates an agent of this skill has in expectation, as if measured
    on an infinite sample (monthly swings left out; the agent's persistent traits too, unless
    `with_traits`: then they are the agent's own expected rates)."""
    points = curve(skills)

    def own(metric: str) -> np.ndarray:
        return points + t.persistent[metric] if with_traits else points

    values: dict[str, np.ndarray] = {m: _linear_value(m, policy, own(m)) for m in LINEAR}
    values["attendance_rate"] = _attendance_p(own("attendance_rate"))
    values["aht_s"] = _aht_true(skills, t) - (0 if with_traits else t.aht_offset)
    values["sales_lead_rate"] = _sales_p(skills, t)
    values["kb_contribution_points"] = _kb_rate(skills, t) * (
        1 if with_traits else np.exp(-t.kb_offset)
    )
    big = 10**6
    return {
        a.agent_id: {m: Fact(a.agent_id, m, float(v[i]), big, SOURCE) for m, v in values.items()}
        for i, a in enumerate(population)
    }


def _local_mean(skills: np.ndarray, values: np.ndarray, at: float, k: int = 200) -> float:
    """A local linear fit of values on skill over the k nearest agents, read at `at`."""
    nearest = np.argsort(np.abs(skills - at))[:k]
    slope, intercept = np.polyfit(skills[nearest], values[nearest], 1)
    return float(slope * at + intercept)


def calibrate(
    population: list[Agent],
    skills: np.ndarray,
    edges: list[float],
    policy: LadderPolicy,
    unshrunk: LadderPolicy,
    traits: Traits,
    iterations: int = 8,
) -> tuple[Curve, list[float]]:
    """Knot values such that the noise-free composite at each band's lower edge equals the
    level's entry score; returns the curve and the residuals (composite - entry)."""
    entries = [policy.promotion.entry[level].min_score for level in policy.level_ids()[1:]]
    curve = Curve(list(edges[1:]), [float(e) for e in entries])
    members = {a.agent_id: a.member for a in population}
    residuals: list[float] = []
    for _ in range(iterations):
        cards = score_agents(
            unshrunk, members, true_facts(population, skills, curve, policy, traits)
        )
        composite = np.array([cards[a.agent_id].composite for a in population], dtype=float)
        fitted = [_local_mean(skills, composite, edge) for edge in curve.x]
        residuals = [f - e for f, e in zip(fitted, entries, strict=True)]
        curve = Curve(curve.x, [y - r for y, r in zip(curve.y, residuals, strict=True)])
    return curve, residuals


# --- evidence --------------------------------------------------------------------------


@dataclass(frozen=True)
class Generator:
    """An evidence plan: how much evidence a centre collects per agent-month and how noisy it
    is. `today` is the plan the first measurement used; `harsh` is the issue's thinner one."""

    name: str
    qa_evaluations: tuple[int, int]  # inclusive
    short_month_share: float  # months with few calls (leave, training)
    # Calls in a short month: None = 10-30 % of the agent's usual; else uniform in this range.
    short_month_calls: tuple[int, int] | None
    evaluator_sd: float  # SD of the evaluators' lasting harshness (0: no evaluator pool)
    surveys_follow_calls: bool  # a short month has proportionally fewer surveys


GENERATORS = {
    "today": Generator("today", (4, 10), 0.03, None, 0.0, False),
    "harsh": Generator("harsh", (3, 5), 0.10, (40, 199), 5.0, True),
}
# The harsh generator's QA organisation (as benchmarks/quality_bias.py): centres of about
# 500 agents (by team), 8 evaluators each; an evaluator scores 85 % of its own teams'
# evaluations, the rest go to anyone in the centre.
CENTRE_AGENTS = 500
EVALUATORS_PER_CENTRE = 8
OWN_EVALUATOR_SHARE = 0.85


@dataclass(frozen=True)
class EvaluatorPool:
    """Who evaluates whom, and how harsh each evaluator is (points added to every score)."""

    own: np.ndarray  # per agent: the evaluator of the agent's team
    centre: np.ndarray  # per agent
    effect: np.ndarray  # per evaluator
    names: list[str]


def evaluator_pool(population: list[Agent], sd: float, seed: int) -> EvaluatorPool:
    """Centres of teams, 8 evaluators each, harshness N(0, sd); teams share the centre's
    evaluators round-robin, so each evaluator mostly scores a few teams."""
    rng = np.random.default_rng((seed, 15))  # its own stream: today's draws stay as they were
    team_codes = sorted({a.member.team or "-" for a in population})
    centres = max(1, round(len(population) / CENTRE_AGENTS))
    per_centre = -(-len(team_codes) // centres)
    team_index = {code: i for i, code in enumerate(team_codes)}
    teams = np.array([team_index[a.member.team or "-"] for a in population])
    centre = teams // per_centre
    own = centre * EVALUATORS_PER_CENTRE + (teams % per_centre) % EVALUATORS_PER_CENTRE
    evaluators = centres * EVALUATORS_PER_CENTRE
    names = [f"qa{c + 1}-{k + 1}" for c in range(centres) for k in range(EVALUATORS_PER_CENTRE)]
    return EvaluatorPool(own, centre, rng.normal(0, sd, evaluators), names)


@dataclass(frozen=True)
class Evaluations:
    """One month's official QA evaluations as the quality subsystem stores them."""

    agent_id: np.ndarray
    evaluator: np.ndarray
    score: np.ndarray  # overall; a fatal evaluation scores 0
    fatal: np.ndarray


def month_start(index: int) -> date:
    """First day of evaluation month `index` (0 = START's month; negative: history)."""
    months = START.year * 12 + START.month - 1 + index
    return date(months // 12, months % 12 + 1, 1)


def month_evidence(
    population: list[Agent],
    index: int,
    curve: Curve,
    policy: LadderPolicy,
    traits: Traits,
    rng: np.random.Generator,
    generator: Generator,
    pool: EvaluatorPool | None,
) -> tuple[dict[int, dict[str, Fact]], np.ndarray, Evaluations | None]:
    """One month of facts for every agent employed when the month starts, true skills, and
    (with an evaluator pool) the month's evaluations. The `today` generator draws exactly
    what the first measurement drew."""
    first = month_start(index)
    mid = first + timedelta(days=14)
    skills = np.array([a.skill(mid) for a in population])
    employed = np.array([a.hire < first for a in population])
    n_agents = len(population)
    # A good or bad month moves every metric together; erratic agents swing more.
    shock = rng.normal(0, 2.0 + 6.0 * traits.volatility)
    base = curve(skills) + shock
    points = {m: base + traits.persistent[m] for m in PERSISTENT}

    calls = traits.calls * rng.uniform(0.85, 1.1, n_agents)
    short = rng.random(n_agents) < generator.short_month_share
    if generator.short_month_calls is None:
        calls = np.where(short, calls * rng.uniform(0.1, 0.3, n_agents), calls)
    else:
        calls = np.where(short, rng.uniform(*generator.short_month_calls, n_agents), calls)
    handled = np.maximum(1, np.round(calls)).astype(int)

    def rate(metric: str, trials: np.ndarray) -> np.ndarray:
        p = np.clip(_linear_value(metric, policy, points[metric]), 0.0005, 0.9995)
        return rng.binomial(trials, p) / np.maximum(trials, 1)

    fcr = rate("fcr_rate", handled)
    transfer = rate("transfer_rate", handled)
    tickets = np.maximum(1, rng.binomial(handled, TICKET_SHARE))
    validity = rate("ticket_validity_rate", tickets)
    surveys = rng.integers(SURVEYS[0], SURVEYS[1] + 1, n_agents)
    if generator.surveys_follow_calls:
        surveys = np.maximum(1, np.round(surveys * np.minimum(1.0, calls / traits.calls)))
        surveys = surveys.astype(int)
    csat = rate("csat_rate", surveys)
    complaint_p = np.clip(_linear_value("complaint_rate", policy, points["complaint_rate"]), 0, 1)
    complaints = rng.poisson(np.maximum(complaint_p, 0.0002) * handled) / handled
    ring = np.maximum(
        0.5,
        _linear_value("avg_ring_s", policy, points["avg_ring_s"])
        + rng.normal(0, 3.0 / np.sqrt(handled)),
    )
    absent = rng.binomial(SHIFTS_PER_MONTH, 1 - _attendance_p(points["attendance_rate"]))
    attendance = 1 - absent / SHIFTS_PER_MONTH
    aht = (
        _aht_true(skills, traits)
        - 1.5 * shock
        + rng.normal(0, 1, n_agents) * AHT_CALL_SD / np.sqrt(handled)
    )
    sales = rng.binomial(handled, _sales_p(skills, traits)) / handled

    # QA: each evaluation the agent's level + evaluator and call noise (+ the evaluator's
    # lasting harshness, with a pool); a compliance-critical fatal error scores the
    # evaluation 0 (reference definitions, section 2).
    low, high = generator.qa_evaluations
    evaluations = rng.integers(low, high + 1, n_agents)
    qa_true = _linear_value("qa_score", policy, points["qa_score"])
    scores = qa_true[:, None] + rng.normal(0, np.hypot(EVALUATOR_SD, CALL_SD), (n_agents, high))
    evaluator = None
    if pool is not None:
        anyone = pool.centre[:, None] * EVALUATORS_PER_CENTRE + rng.integers(
            0, EVALUATORS_PER_CENTRE, (n_agents, high)
        )
        by_own = rng.random((n_agents, high)) < OWN_EVALUATOR_SHARE
        evaluator = np.where(by_own, pool.own[:, None], anyone)
        scores = scores + pool.effect[evaluator]
    fatal_p = np.clip(0.006 * np.exp(-1.0 * skills), 0, 0.05)
    fatal = rng.random((n_agents, high)) < fatal_p[:, None]
    used = np.arange(high)[None, :] < evaluations[:, None]
    scores = np.where(fatal, 0.0, np.clip(scores, 0, 100))
    qa = (scores * used).sum(axis=1) / evaluations
    fatal_count = (fatal & used).sum(axis=1)

    exam_taken = rng.random(n_agents) < EXAM_SHARE
    exam = np.clip(
        _linear_value("exam_score", policy, points["exam_score"]) + rng.normal(0, 7, n_agents),
        0,
        100,
    )
    kb_points = rng.poisson(_kb_rate(skills, traits))
    kb_adopted = rng.poisson(0.1 * np.exp(0.7 * skills))

    facts: dict[int, dict[str, Fact]] = {}
    for i, agent in enumerate(population):
        if not employed[i]:
            continue
        aid, n = agent.agent_id, int(handled[i])
        rows = [
            ("handled_calls", n, n),
            ("avg_ring_s", ring[i], n),
            ("aht_s", aht[i], n),
            ("fcr_rate", fcr[i], n),
            ("transfer_rate", transfer[i], n),
            ("attendance_rate", attendance[i], SHIFTS_PER_MONTH),
            ("ticket_validity_rate", validity[i], int(tickets[i])),
            ("sales_lead_rate", sales[i], n),
            ("qa_score", qa[i], int(evaluations[i])),
            ("qa_fatal_errors", fatal_count[i], int(evaluations[i])),
            ("csat_rate", csat[i], int(surveys[i])),
            ("complaint_rate", complaints[i], n),
            ("kb_contribution_points", kb_points[i], 1),
            ("kb_adopted", kb_adopted[i], 1),
        ]
        if exam_taken[i]:
            rows.append(("exam_score", exam[i], 1))
        facts[aid] = {m: Fact(aid, m, float(v), int(s), SOURCE) for m, v, s in rows}
    stored = None
    if evaluator is not None:
        keep = used & employed[:, None]
        ids = np.array([a.agent_id for a in population])
        stored = Evaluations(
            np.broadcast_to(ids[:, None], keep.shape)[keep],
            evaluator[keep],
            scores[keep],
            fatal[keep],
        )
    return facts, skills, stored


def add_adjusted_qa(
    facts: dict[int, dict[str, Fact]],
    window: list[Evaluations],
    pool: EvaluatorPool,
    label: str,
) -> dict[str, float]:
    """`qa_score_adjusted` facts for the month (the last of `window`), as the quality
    provider builds them (`quality.service.period_scores`): the evaluators' effects fitted by
    `fit_evaluator_effects` over the scoring window's evaluations, each of the month's
    evaluations less its evaluator's effect, and the explanation's detail from
    `PeriodQaScores.adjustment_of`. Returns the fitted effects by evaluator name."""
    agent_ids = np.concatenate([w.agent_id for w in window])
    evaluators = np.concatenate([w.evaluator for w in window])
    scores = np.concatenate([w.score for w in window])
    fit = fit_evaluator_effects(
        list(zip(agent_ids.tolist(), evaluators.tolist(), scores.tolist(), strict=True)),
        min_evaluations=quality_service.MIN_EVALUATOR_EVALUATIONS,
    )
    effects, counts = fit.evaluator_effects, fit.evaluator_evaluations
    month = window[-1]
    in_month: dict[int, list[tuple[int, float, bool]]] = {}
    for agent_id, evaluator, score, fatal in zip(
        month.agent_id.tolist(),
        month.evaluator.tolist(),
        month.score.tolist(),
        month.fatal.tolist(),
        strict=True,
    ):
        in_month.setdefault(agent_id, []).append((evaluator, score, fatal))
    agents = [
        quality_service.AgentQaScore(
            agent=str(agent_id),
            agent_id=agent_id,
            qa_score=sum(score for _, score, _ in scored) / len(scored),
            qa_score_adjusted=sum(score - effects.get(e, 0.0) for e, score, _ in scored)
            / len(scored),
            evaluations=len(scored),
            fatal_errors=sum(1 for _, _, fatal in scored if fatal),
            evaluations_by=tuple(sorted(Counter(pool.names[e] for e, _, _ in scored).items())),
        )
        for agent_id, scored in in_month.items()
    ]
    period_scores = quality_service.PeriodQaScores(
        period=label,
        agents=agents,
        evaluators=[
            quality_service.EvaluatorEffect(pool.names[e], effect, counts[e])
            for e, effect in effects.items()
        ],
    )
    for agent in agents:
        facts[agent.agent_id]["qa_score_adjusted"] = Fact(
            agent.agent_id,
            "qa_score_adjusted",
            agent.qa_score_adjusted,
            agent.evaluations,
            SOURCE,
            detail=period_scores.adjustment_of(agent),
        )
    return {pool.names[e]: effect for e, effect in effects.items()}


def certifications(
    population: list[Agent], index: int, traits: Traits, peak: np.ndarray
) -> list[frozenset[str]]:
    """Certificates valid at the end of evaluation month `index`: earned once true skill
    (the best so far) reaches the certificate's threshold, minus lapses not yet renewed."""
    held = []
    for i in range(len(population)):
        held.append(
            frozenset(
                cert
                for cert in CERT_LEVEL
                if peak[i] >= traits.cert_threshold[cert][i]
                and index not in traits.cert_lapse[cert][i]
            )
        )
    return held


# --- policies and variants -----------------------------------------------------------

CERTIFICATIONS = {"product_knowledge", "service_skill", "sales_skill", "comprehensive"}
# Metrics with an evidence minimum, and the survey/QA metrics: the ones a window pools.
WINDOWED = ("handled_calls", "qa_score", "csat_rate")
REPLACE = "!"  # a patch key ending in it replaces the section instead of merging into it


def _merged(document: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    merged = dict(document)
    for key, value in patch.items():
        if key.endswith(REPLACE):
            merged[key[: -len(REPLACE)]] = value
        elif value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


def _stacked(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    # One patch on another: deletions (None) and replacements ("!") stay for the document.
    stacked = dict(first)
    for key, value in second.items():
        if isinstance(value, dict) and isinstance(stacked.get(key), dict):
            stacked[key] = _stacked(stacked[key], value)
        else:
            stacked[key] = value
    return stacked


def _combined(*patches: dict[str, Any]) -> dict[str, Any]:
    combined: dict[str, Any] = {}
    for patch in patches:
        combined = _stacked(combined, patch)
    return combined


def policy_of(patch: dict[str, Any]) -> LadderPolicy:
    """The shipped default policy with a patch of its YAML document, validated as the product
    validates a policy (the built-in certification types; no database needed)."""
    document = yaml.safe_load(policy_service.default_policy_text())
    return policy_service.parse_policy(
        yaml.safe_dump(_merged(document, patch), allow_unicode=True, sort_keys=False),
        known_metrics=policy_service.known_metrics(),
        known_certifications=CERTIFICATIONS,
    )


def _promotion(**settings: float) -> dict[str, Any]:
    return {"promotion": settings}


def _window(decay: float) -> dict[str, Any]:
    return {"evidence": {"window": {m: {"periods": 3, "decay": decay} for m in WINDOWED}}}


def _window_all(decay: float) -> dict[str, Any]:
    """A window on every component of the default policy, and on the handled calls."""
    components = yaml.safe_load(policy_service.default_policy_text())["components"]
    window = {"periods": 3, "decay": decay}
    return {
        "components": {name: {"window": window} for name in components},
        "evidence": {"window": {"handled_calls": window}},
    }


RESET = {"evidence": {"on_insufficient": "reset"}}  # before issue 15: a thin month resets
SHRINK_OWN = {
    "evidence": {
        "shrink!": {
            "qa_score": {"prior_weight": 5, "toward": "own_history", "periods": 12},
            "csat_rate": {"prior_weight": 20, "toward": "own_history", "periods": 12},
        }
    }
}
NO_SHRINK = {"evidence": {"shrink": None}}
NO_WINDOWS = {
    "evidence": {
        "window": None,
        "shrink!": {
            "qa_score": {"prior_weight": 5, "cohort": "skill_group"},
            "csat_rate": {"prior_weight": 20, "cohort": "skill_group"},
        },
    }
}
QA_UNADJUSTED = {"qa": {"adjust_for_evaluator": False}}
# The promotion settings are tried on this combination of the mechanisms (the shipped
# default); the stricter candidate is one of them (benchmarks/LADDER.md, section 1, says why).
GRID_BASE = "window_d1+shrink_own"
STRICTER = f"{GRID_BASE}+c0.975b2p2"


def variant_patches() -> dict[str, dict[str, Any]]:
    """Every variant the benchmark knows, by name: a patch of the default policy's YAML.
    Entry scores are never touched (the issue: fix the mechanism, not the thresholds)."""
    variants: dict[str, dict[str, Any]] = {"default": {}, "qa_unadjusted": QA_UNADJUSTED}
    # The default before issue 15's mechanisms (no windows, cohort shrinkage; with the streaks
    # paused, then also reset as before), and each setting of the promotion rule alone.
    variants["no_windows"] = NO_WINDOWS
    variants["before_issue_15"] = _combined(NO_WINDOWS, RESET)
    variants["reset"] = RESET
    for confidence in (0.9, 0.8, 0.0):
        variants[f"confidence_{confidence:g}"] = _promotion(confidence=confidence)
    for confidence in (0.95, 0.9, 0.8, 0.0):
        variants[f"confidence_{confidence:g}_band_0"] = _promotion(confidence=confidence, band=0)
    variants["periods_1"] = _promotion(consecutive_periods=1)
    # The mechanisms: evidence windows and the shrinkage target.
    windows = {"window_d0.5": _window(0.5), "window_d1": _window(1.0)}
    variants.update(windows)
    variants["shrink_own"] = SHRINK_OWN
    variants["no_shrink"] = NO_SHRINK
    for window, patch in windows.items():
        variants[f"{window}+shrink_own"] = _combined(patch, SHRINK_OWN)
        variants[f"{window}+no_shrink"] = _combined(patch, NO_SHRINK)
    # Every component pooled (its metrics' month-to-month swing averages out too).
    for decay in (0.5, 1.0):
        variants[f"window_all_d{decay:g}+shrink_own"] = _combined(_window_all(decay), SHRINK_OWN)
    # The promotion settings on the new mechanism.
    for confidence in (0.95, 0.9, 0.8, 0.0):
        for band in (2, 0):
            for periods in (2, 1):
                if (confidence, band, periods) == (0.95, 2, 2):
                    continue  # the base itself
                variants[f"{GRID_BASE}+c{confidence:g}b{band}p{periods}"] = _combined(
                    variants[GRID_BASE],
                    _promotion(confidence=confidence, band=band, consecutive_periods=periods),
                )
    # Stricter than the base, for the promotions above band (tried after the grid).
    for confidence, band in ((0.975, 2), (0.95, 3)):
        variants[f"{GRID_BASE}+c{confidence:g}b{band}p2"] = _combined(
            variants[GRID_BASE], _promotion(confidence=confidence, band=band)
        )
    variants[f"{STRICTER}+qa_unadjusted"] = _combined(variants[STRICTER], QA_UNADJUSTED)
    return variants


# The ceiling of any rule on the composite: the naive step on each agent's expected composite
# (own stable traits in, sampling and month-to-month noise out), one level a month, no gates,
# no streaks. What it misses, no measurement can reach.
PERFECT = "perfect_measurement"
# Always run: the shipped default and the stricter candidate, each with and without the
# evaluator adjustment.
DEFAULT_VARIANTS = ("default", "qa_unadjusted", STRICTER, f"{STRICTER}+qa_unadjusted")


# --- the rules -------------------------------------------------------------------------


@dataclass
class Track:
    """One rule's state and what it did."""

    name: str
    level: dict[int, int]
    since: dict[int, date] = field(default_factory=dict)
    promoted: dict[int, bool] = field(default_factory=dict)
    qualify: dict[int, int] = field(default_factory=dict)
    floor: dict[int, int] = field(default_factory=dict)
    # (month, agent_id, from_level, to_level, true skill, expected composite)
    moves: list[tuple[int, int, int, int, float, float]] = field(default_factory=list)
    composites: list[dict[int, float]] = field(default_factory=list)
    decisions: Counter[str] = field(default_factory=Counter)
    insufficient: Counter[str] = field(default_factory=Counter)  # failed evidence minimums


def naive_step(track: Track, composites: dict[int, float | None], entry: list[float]) -> dict:
    """Promote when the composite reaches the next level's entry score, demote when it is
    below the current one's; one level at a time, every period, nothing else."""
    moves = {}
    for agent_id, composite in composites.items():
        level = track.level[agent_id]
        if composite is None:
            continue
        if level + 1 < len(entry) and composite >= entry[level + 1]:
            moves[agent_id] = level + 1
        elif level > 0 and composite < entry[level]:
            moves[agent_id] = level - 1
    return moves


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation (average ranks for ties)."""

    def ranks(x: np.ndarray) -> np.ndarray:
        order = np.argsort(x, kind="mergesort")
        r = np.empty(len(x))
        r[order] = np.arange(len(x), dtype=float)
        # Average ranks over ties.
        _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
        sums = np.bincount(inverse, weights=r)
        return (sums / counts)[inverse]

    return float(np.corrcoef(ranks(a), ranks(b))[0, 1])


def windows_of(
    history: list[dict[int, dict[str, Fact]]], agent_id: int, windows: dict[str, int]
) -> dict[str, tuple[rules.MonthValue, ...]]:
    """The windowed metrics' months for one agent, newest first, the period's own month
    included (as `gathering._windows_of` reads them; a month without a fact is (None, 0))."""
    found = {}
    for metric_id, months in windows.items():
        values: list[rules.MonthValue] = []
        for month in reversed(history[-months:]):
            fact = month.get(agent_id, {}).get(metric_id)
            values.append((fact.value, fact.sample_size) if fact is not None else (None, 0))
        found[metric_id] = tuple(values)
    return found


def earlier_for(
    policy: LadderPolicy, history: list[tuple[str, dict[int, dict[str, Fact]]]]
) -> list[tuple[str, dict[int, dict[str, Fact]]]]:
    """The earlier periods' facts a policy's scoring reads (`PeriodInputs.earlier`, newest
    first): as `gathering.read_period` reads them, only the metrics the policy pools or
    shrinks toward own history, with their evaluator-adjusted twins, as far back as it looks
    (and as far as the simulated history goes)."""
    depth = policy.history_periods()
    if not depth:
        return []
    definitions = metrics_service.metric_definitions()
    metrics = set(depth) | {
        twin
        for metric in depth
        if (definition := definitions.get(metric)) and (twin := definition.adjusted_variant)
    }
    earlier = []
    for label, by_agent in reversed(history[-1 - max(depth.values()) : -1]):
        earlier.append(
            (
                label,
                {
                    aid: {m: f for m, f in facts.items() if m in metrics}
                    for aid, facts in by_agent.items()
                },
            )
        )
    return earlier


def policy_step(
    track: Track,
    policy: LadderPolicy,
    period: Period,
    index: int,
    population: list[Agent],
    history: list[tuple[str, dict[int, dict[str, Fact]]]],
    certs: list[frozenset[str]],
    skills: np.ndarray,
    expected: np.ndarray,
) -> dict[int, PeriodScores]:
    """One period of a policy through the product's `gathering.evaluate` (score_agents,
    decide, apply_quotas), with levels and streaks carried as a backtest carries them: a
    streak counts only at the level it was earned at; a move takes effect the day after the
    period. `history` is every month's facts so far, oldest first, the period's the last."""
    level_ids = policy.level_ids()
    windows = policy_service.window_months(policy)
    months = [facts for _, facts in history]
    standings = {}
    for i, a in enumerate(population):
        standings[a.agent_id] = rules.Standing(
            agent_id=a.agent_id,
            hire_date=a.hire,
            level=level_ids[track.level[a.agent_id]],
            level_since=track.since[a.agent_id],
            entered_by_promotion=track.promoted[a.agent_id],
            certifications=certs[i],
            qualify_streak=track.qualify[a.agent_id],
            floor_streak=track.floor[a.agent_id],
            windows=windows_of(months, a.agent_id, windows),
        )
    members = {a.agent_id: a.member for a in population}
    inputs = PeriodInputs(
        period=period,
        members=members,
        people={},
        facts=history[-1][1],
        standings=standings,
        earlier=earlier_for(policy, history),
    )
    cards, outcomes = evaluate(policy, inputs)
    track.composites.append(
        {aid: c.composite for aid, c in cards.items() if c.composite is not None}
    )
    index_of = {a.agent_id: i for i, a in enumerate(population)}
    for aid, outcome in outcomes.items():
        track.decisions[outcome.decision] += 1
        if outcome.decision == rules.INSUFFICIENT:
            for gate in outcome.gates:
                if gate.gate.startswith("min_") and not gate.passed:
                    track.insufficient[gate.gate] += 1
        to = level_ids.index(outcome.to_level)
        if to != track.level[aid]:
            i = index_of[aid]
            track.moves.append((index, aid, track.level[aid], to, skills[i], expected[i]))
            track.level[aid] = to
            track.since[aid] = period.end_day
            track.promoted[aid] = outcome.decision == rules.PROMOTE
            track.qualify[aid], track.floor[aid] = 0, 0
        else:
            track.qualify[aid] = outcome.qualify_streak
            track.floor[aid] = outcome.floor_streak
    return cards


# --- figures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A figure of the issue with its target."""

    key: str
    label: str
    text: str  # the target as printed
    higher_is_better: bool
    threshold: float
    strict: bool = False  # < or > instead of <= or >=
    percent: bool = True

    def met(self, value: float | None) -> bool:
        """Whether a value meets the target (None: not measured, or censored beyond it)."""
        if value is None:
            return False
        if self.higher_is_better:
            return value > self.threshold if self.strict else value >= self.threshold
        return value < self.threshold if self.strict else value <= self.threshold

    def worst(self, values: list[float | None]) -> float | None:
        """The worst of several values (None, censored, is the worst of all)."""
        if any(v is None for v in values):
            return None
        numbers = [float(v) for v in values if v is not None]
        return min(numbers) if self.higher_is_better else max(numbers)


TARGETS = (
    Target("final_in_band_share", "month 12: agents in their band", ">= 60 %", True, 0.60),
    Target("final_in_band_gain", "  same, minus the share at the start", ">= 0 pp", True, 0.0),
    Target("final_below_band_share", "month 12: agents below their band", "<= 25 %", False, 0.25),
    Target(
        "wait_median_months",
        "months, next band entered -> promoted (median)",
        "<= 3",
        False,
        3.0,
        percent=False,
    ),
    Target(
        "stable_change_share",
        "level changes, stable-skill agent-periods",
        "< 5 %",
        False,
        0.05,
        strict=True,
    ),
    Target(
        "promotions_below_band_share",
        "promotions above the skill's band",
        "< 5 %",
        False,
        0.05,
        strict=True,
    ),
    Target(
        "final_spearman_level_true_skill",
        "month 12: Spearman(level, true skill)",
        ">= 0.9",
        True,
        0.9,
        percent=False,
    ),
)
WAIT_TARGET_MONTHS = 3


def promotion_waits(
    track: Track,
    start_levels: dict[int, int],
    skill_by_month: list[np.ndarray],
    population: list[Agent],
    edges: list[float],
    top: int,
) -> dict[str, Any]:
    """Months from when an agent's true skill enters the band of the level above the one it
    holds to the promotion into it. An episode opens in the first month whose true skill
    (mid-month) is at or above the next level's lower edge while the agent holds the level
    (month 0 when it already was at the start: those waited before the start too); it closes
    when the month's decision promotes (wait = months from the opening month to that
    decision, both counted: entering in January and promoted by February's decision is 2
    months, the least that two consecutive periods allow). An episode still open at
    the end, or closed by a demotion, is censored: "not promoted yet", longer than the
    months left; the median counts it as longer than every observed wait, so a median that
    falls on one is reported as None ("more than the months left")."""
    months = len(skill_by_month)
    moves_by_month: dict[tuple[int, int], int] = {(m[0], m[1]): m[3] for m in track.moves}
    waits: list[float] = []
    censored = 0
    open_at_start = 0
    for i, agent in enumerate(population):
        aid = agent.agent_id
        level = start_levels[aid]
        opened: int | None = None
        for month in range(months):
            if opened is None and level < top and skill_by_month[month][i] >= edges[level + 1]:
                opened = month
                open_at_start += month == 0
            to = moves_by_month.get((month, aid))
            if to is None:
                continue
            if opened is not None:
                if to > level:
                    waits.append(month - opened + 1)
                else:
                    waits.append(float("inf"))
                    censored += 1
                opened = None
            level = to
        if opened is not None:
            waits.append(float("inf"))
            censored += 1
    if not waits:
        return {"wait_episodes": 0}
    ordered = np.sort(np.array(waits))
    median = float(np.median(ordered))
    promoted = ordered[np.isfinite(ordered)]
    return {
        "wait_median_months": None if not np.isfinite(median) else median,
        "wait_episodes": len(waits),
        "wait_censored_share": round(censored / len(waits), 4),
        "wait_open_at_start_share": round(open_at_start / len(waits), 4),
        "wait_within_target_share": round(float(np.mean(ordered <= WAIT_TARGET_MONTHS)), 4),
        "wait_median_months_promoted_only": (float(np.median(promoted)) if len(promoted) else None),
    }


def track_figures(
    track: Track,
    population: list[Agent],
    skill_by_month: list[np.ndarray],
    edges: list[float],
    entry: list[float],
    start_levels: dict[int, int],
    level_ids: list[str],
) -> dict[str, Any]:
    """Every figure of one rule over the run."""
    months = len(skill_by_month)
    index_of = {a.agent_id: i for i, a in enumerate(population)}
    first_skill, last_skill = skill_by_month[0], skill_by_month[-1]
    stable = np.abs(last_skill - first_skill) < 1e-12
    stable_ids = {a.agent_id for i, a in enumerate(population) if stable[i]}
    correlations = []
    for index, composites in enumerate(track.composites):
        ids = list(composites)
        c = np.array([composites[aid] for aid in ids])
        s = np.array([skill_by_month[index][index_of[aid]] for aid in ids])
        correlations.append(spearman(c, s))
    # How far an unchanged agent's composite moves from month to month (the noise the band
    # and the consecutive periods have to absorb).
    swings = [
        float(np.std([c[aid] for c in track.composites if aid in c], ddof=1))
        for aid in stable_ids
        if sum(1 for c in track.composites if aid in c) >= 3
    ]
    changes = Counter(aid for _, aid, *_ in track.moves)
    promotions = [m for m in track.moves if m[3] > m[2]]
    demotions = [m for m in track.moves if m[3] < m[2]]
    below = [m for m in promotions if m[4] < edges[m[3]]]
    wrong_demotions = [m for m in demotions if m[4] >= edges[m[2]]]
    stable_changes = sum(changes[aid] for aid in stable_ids)
    by_level = Counter(level_ids[m[3]] for m in below)
    into_level = Counter(level_ids[m[3]] for m in promotions)
    final = np.array([track.level[a.agent_id] for a in population])
    intended = np.array([band_of(last_skill[i], edges) for i in range(len(population))])
    start = np.array([start_levels[a.agent_id] for a in population])
    start_intended = np.array([band_of(first_skill[i], edges) for i in range(len(population))])
    decided = sum(track.decisions.values())
    figures: dict[str, Any] = {
        "final_in_band_share": round(float(np.mean(final == intended)), 4),
        "final_in_band_gain": round(
            float(np.mean(final == intended) - np.mean(start == start_intended)), 4
        ),
        "final_below_band_share": round(float(np.mean(final < intended)), 4),
        "final_above_band_share": round(float(np.mean(final > intended)), 4),
        **promotion_waits(
            track, start_levels, skill_by_month, population, edges, len(level_ids) - 1
        ),
        "stable_change_share": round(stable_changes / (len(stable_ids) * months), 4),
        "promotions_below_band_share": round(len(below) / max(1, len(promotions)), 4),
        "final_spearman_level_true_skill": round(spearman(final, last_skill), 4),
        "spearman_composite_true_skill": (
            round(float(np.mean(correlations)), 4) if correlations else None
        ),
        "stable_composite_month_sd_median": round(float(np.median(swings)), 2) if swings else None,
        "promotions": len(promotions),
        "demotions": len(demotions),
        "promotions_below_band": len(below),
        "promotions_below_band_by_level": {
            level: f"{by_level[level]}/{into_level[level]}" for level in into_level
        },
        # Why: the agent's expected composite (own stable traits in, noise out) against the
        # entry score of the level entered.
        "promotions_below_band_expected_at_or_above_entry": sum(
            1 for m in below if m[5] >= entry[m[3]]
        ),
        "demotions_within_or_above_band_share": round(
            len(wrong_demotions) / max(1, len(demotions)), 4
        ),
        "decisions": dict(track.decisions),
    }
    if decided and track.since:  # a policy's track (the naive rules have no evidence test)
        figures["insufficient_share"] = round(track.decisions[rules.INSUFFICIENT] / decided, 4)
        figures["failed_minimums"] = dict(track.insufficient)
    return figures


def run_job(
    seed: int, generator_name: str, agents: int, months: int, variant_names: list[str]
) -> dict[str, Any]:
    """One seed under one evidence generator: every policy variant asked for, the naive rules
    beside them, on the same evidence; returns the figures."""
    started = time.perf_counter()
    generator = GENERATORS[generator_name]
    population = build_population(agents, seed)
    built = time.perf_counter() - started
    rng = np.random.default_rng(seed)
    patches = variant_patches()
    policy = policy_of({})
    policies: dict[str, LadderPolicy] = {}
    skipped: dict[str, str] = {}
    for name in variant_names:
        try:
            policies[name] = policy_of(patches[name])
        except policy_service.PolicyError as error:
            # A variant whose keys this tree's ladder code does not know yet.
            skipped[name] = str(error)
    # No shrinkage, no windows, no minimums: the noise-free composite of calibration.
    unshrunk = policy.model_copy(update={"evidence": SufficiencySpec()})
    level_ids = policy.level_ids()
    entry = [0.0] + [policy.promotion.entry[level].min_score for level in level_ids[1:]]

    start_skills = np.array([a.skill(START) for a in population])
    edges = band_edges(start_skills)
    traits = draw_traits(population, edges, rng)
    curve, residuals = calibrate(population, start_skills, edges, policy, unshrunk, traits)
    pool = (
        evaluator_pool(population, generator.evaluator_sd, seed) if generator.evaluator_sd else None
    )
    members = {a.agent_id: a.member for a in population}
    index_of = {a.agent_id: i for i, a in enumerate(population)}

    # Every month's facts, oldest first (the gates' longest window is 12 months; `earlier`
    # goes back as far as a policy's windows and own-history shrinkage look).
    history: list[tuple[str, dict[int, dict[str, Fact]]]] = []
    kept = max(
        [HISTORY_MONTHS]
        + [max(p.history_periods().values(), default=0) for p in policies.values()]
        + [max(policy_service.window_months(p).values(), default=0) for p in policies.values()]
    )
    qa_window: list[Evaluations] = []  # the quality provider's scoring window
    effects_by_month: list[dict[str, float]] = []

    def next_month(index: int) -> tuple[dict[int, dict[str, Fact]], np.ndarray]:
        facts, skills, evaluations = month_evidence(
            population, index, curve, policy, traits, rng, generator, pool
        )
        label = month_start(index).strftime("%Y-%m")
        if pool is not None and evaluations is not None:
            qa_window.append(evaluations)
            del qa_window[: -quality_service.SCORING_WINDOW_MONTHS]
            effects_by_month.append(add_adjusted_qa(facts, qa_window, pool, label))
        history.append((label, facts))
        del history[: -(kept + 1)]
        return facts, skills

    # History months: evidence only, for the gates' windows, `earlier` and the QA fit.
    peak = np.full(len(population), -np.inf)
    for index in range(-HISTORY_MONTHS, 0):
        _, skills = next_month(index)
        peak = np.maximum(peak, skills)

    start_levels = {a.agent_id: a.level for a in population}
    names = [*policies, "naive", "naive_on_product_composite", PERFECT]
    tracks = {name: Track(name, dict(start_levels)) for name in names}
    for name in policies:
        track = tracks[name]
        track.since = {a.agent_id: a.level_since for a in population}
        track.promoted = {a.agent_id: a.promoted for a in population}
        track.qualify = dict.fromkeys(start_levels, 0)
        track.floor = dict.fromkeys(start_levels, 0)
    skill_by_month: list[np.ndarray] = []
    timing = {"evidence_s": 0.0, "policies_s": 0.0, "naive_s": 0.0}

    for index in range(months):
        t0 = time.perf_counter()
        facts, skills = next_month(index)
        peak = np.maximum(peak, skills)
        skill_by_month.append(skills)
        # The composite each agent earns in expectation (own traits included, noise out):
        # tells a promotion the noise made from one the agent's real performance earned.
        expected_cards = score_agents(
            unshrunk,
            members,
            true_facts(population, skills, curve, policy, traits, with_traits=True),
        )
        expected = np.array([expected_cards[a.agent_id].composite for a in population])
        certs = certifications(population, index, traits, peak)
        period: Period = parse_period(month_start(index).strftime("%Y-%m"))
        t1 = time.perf_counter()

        cards = {}
        for name, variant in policies.items():
            cards[name] = policy_step(
                tracks[name],
                variant,
                period,
                index,
                population,
                history,
                certs,
                skills,
                expected,
            )
        t2 = time.perf_counter()

        # The naive rule: plain average of the raw metrics' points.
        raw_cards = score_agents(unshrunk, members, facts)
        naive_composites: dict[int, float | None] = {}
        for aid, card in raw_cards.items():
            points = [m.points for c in card.components for m in c.metrics if m.used]
            naive_composites[aid] = float(np.mean(points)) if points else None
        on_product: dict[int, float | None] = (
            {aid: c.composite for aid, c in cards["default"].items()} if "default" in cards else {}
        )
        for track, composites in (
            (tracks["naive"], naive_composites),
            (tracks["naive_on_product_composite"], on_product),
            # Perfect measurement: each agent's expected composite, own traits in, noise out.
            (tracks[PERFECT], {a.agent_id: float(expected[i]) for i, a in enumerate(population)}),
        ):
            track.composites.append({k: v for k, v in composites.items() if v is not None})
            moves = naive_step(track, composites, entry)
            for aid, to in moves.items():
                i = index_of[aid]
                track.moves.append((index, aid, track.level[aid], to, skills[i], expected[i]))
                track.decisions["promote" if to > track.level[aid] else "demote"] += 1
                track.level[aid] = to
            track.decisions["hold"] += len(population) - len(moves)
        timing["evidence_s"] += t1 - t0
        timing["policies_s"] += t2 - t1
        timing["naive_s"] += time.perf_counter() - t2

    if not on_product:
        del tracks["naive_on_product_composite"]
    first_skill = skill_by_month[0]
    start_levels_arr = np.array([start_levels[a.agent_id] for a in population])
    start_intended = np.array([band_of(first_skill[i], edges) for i in range(len(population))])
    stable = np.abs(skill_by_month[-1] - first_skill) < 1e-12
    results = {
        name: track_figures(
            track, population, skill_by_month, edges, entry, start_levels, level_ids
        )
        for name, track in tracks.items()
    }
    evaluator_effects: dict[str, Any] = {}
    if pool is not None:
        fitted = effects_by_month[-1]
        true_effects = dict(zip(pool.names, pool.effect.tolist(), strict=True))
        centred = np.array(list(true_effects.values())) - np.mean(list(true_effects.values()))
        evaluator_effects = {
            "true_sd": round(float(np.std(pool.effect)), 2),
            "fitted_vs_true_correlation": round(
                float(np.corrcoef([fitted.get(n, 0.0) for n in pool.names], centred)[0, 1]),
                3,
            ),
        }
    return {
        "seed": seed,
        "generator": generator_name,
        "agents": len(population),
        "months": months,
        "skipped_variants": skipped,
        "bands": {
            "lower_edges": {
                level: (None if k == 0 else round(edges[k], 3)) for k, level in enumerate(level_ids)
            },
            "calibration_residual_points": dict(
                zip(level_ids[1:], [round(r, 3) for r in residuals], strict=True)
            ),
        },
        "population": {
            "stable_agents": int(stable.sum()),
            "start_in_band_share": round(float(np.mean(start_levels_arr == start_intended)), 4),
            "start_below_band_share": round(float(np.mean(start_levels_arr < start_intended)), 4),
            "start_above_band_share": round(float(np.mean(start_levels_arr > start_intended)), 4),
        },
        "evaluator_effects": evaluator_effects,
        "results": results,
        "timing_s": {
            "build_population": round(built, 2),
            **{k: round(v, 2) for k, v in timing.items()},
            "total": round(time.perf_counter() - started, 2),
        },
    }


# --- the report ------------------------------------------------------------------------

SEEDS = (42, 7, 11, 23, 101)


def summarise(jobs: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per variant and generator, every target figure over the seeds: per seed, mean, worst,
    and whether the mean and the worst meet the target."""
    summary: dict[str, dict[str, dict[str, Any]]] = {}
    variants = sorted({v for job in jobs for v in job["results"]}, key=_variant_order)
    for variant in variants:
        summary[variant] = {}
        for generator in GENERATORS:
            runs = [
                job for job in jobs if job["generator"] == generator and variant in job["results"]
            ]
            if not runs:
                continue
            figures: dict[str, Any] = {}
            for target in TARGETS:
                values = [job["results"][variant].get(target.key) for job in runs]
                mean = (
                    None
                    if any(v is None for v in values)
                    else round(float(np.mean([float(v) for v in values if v is not None])), 4)
                )
                worst = target.worst(values)
                figures[target.key] = {
                    "per_seed": dict(zip([job["seed"] for job in runs], values, strict=True)),
                    "mean": mean,
                    "worst": worst,
                    "mean_met": target.met(mean),
                    "worst_met": target.met(worst),
                }
            for key in ("wait_censored_share", "promotions", "insufficient_share"):
                values = [job["results"][variant].get(key) for job in runs]
                if all(v is not None for v in values):
                    figures[key] = {"mean": round(float(np.mean(values)), 4)}
            summary[variant][generator] = figures
    return summary


def _variant_order(name: str) -> tuple[int, str]:
    known = list(variant_patches())
    return (known.index(name), name) if name in known else (len(known), name)


def _cell(target: Target, value: float | None, met: bool) -> str:
    mark = "✓" if met else "✗"
    if value is None:
        return f"censored {mark}"
    if target.key == "final_in_band_gain":
        return f"{value * 100:+.1f} pp {mark}"
    if target.percent:
        return f"{value * 100:.1f} % {mark}"
    return f"{value:.3g} {mark}"


def print_main_table(
    summary: dict[str, Any], variant: str, title: str, generators: list[str] | None = None
) -> None:
    """Rows: the figures with their targets; columns: generator x (mean, worst)."""
    generators = [g for g in summary[variant] if generators is None or g in generators]
    print(f"\n{title}")
    header = f"{'figure':<48}{'target':>9}"
    for generator in generators:
        header += f"{generator + ', mean':>16}{generator + ', worst':>16}"
    print(header)
    for target in TARGETS:
        line = f"{target.label:<48}{target.text:>9}"
        for generator in generators:
            figure = summary[variant][generator][target.key]
            line += f"{_cell(target, figure['mean'], figure['mean_met']):>16}"
            line += f"{_cell(target, figure['worst'], figure['worst_met']):>16}"
        print(line)


def print_per_seed(jobs: list[dict[str, Any]], variant: str) -> None:
    """One line per generator and seed: every target figure."""
    short = ("in band", "gain", "below", "wait", "stable", "above", "Spearman")
    print(f"\nper seed ({variant}):")
    print(f"{'generator':<10}{'seed':>6}" + "".join(f"{s:>12}" for s in short))
    for job in sorted(
        jobs,
        key=lambda j: (j["generator"], SEEDS.index(j["seed"]) if j["seed"] in SEEDS else j["seed"]),
    ):
        if variant not in job["results"]:
            continue
        result = job["results"][variant]
        cells = [
            _cell(target, result.get(target.key), target.met(result.get(target.key)))
            for target in TARGETS
        ]
        print(f"{job['generator']:<10}{job['seed']:>6}" + "".join(f"{c:>12}" for c in cells))


def print_variants(summary: dict[str, Any]) -> None:
    """One line per variant: each target's worst over seeds and both generators, and how many
    targets that worst meets."""
    short = ("in band", "gain", "below", "wait", "stable", "above", "Spearman")
    print("\nvariants: worst over 5 seeds and both generators (same evidence, same run)")
    print(f"{'variant':<44}" + "".join(f"{s:>11}" for s in short) + f"{'met':>5}")
    for variant, by_generator in summary.items():
        if variant.startswith("naive") or variant == PERFECT:
            continue
        cells, met = [], 0
        for target in TARGETS:
            worst = target.worst([g[target.key]["worst"] for g in by_generator.values()])
            met += target.met(worst)
            cells.append(_cell(target, worst, target.met(worst)))
        print(f"{variant:<44}" + "".join(f"{c:>11}" for c in cells) + f"{met:>3}/{len(TARGETS)}")


def print_context(jobs: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    """What the figures need beside them."""
    for generator in GENERATORS:
        runs = [job for job in jobs if job["generator"] == generator]
        if not runs:
            continue
        start = np.mean([job["population"]["start_in_band_share"] for job in runs])
        below = np.mean([job["population"]["start_below_band_share"] for job in runs])
        default = [job["results"]["default"] for job in runs if "default" in job["results"]]
        line = f"{generator}: at the start {start:.1%} in band, {below:.1%} below"
        if default:
            insufficient = np.mean([r.get("insufficient_share", 0) for r in default])
            censored = np.mean([r["wait_censored_share"] for r in default])
            at_start = np.mean([r["wait_open_at_start_share"] for r in default])
            promotions = np.mean([r["promotions"] for r in default])
            line += (
                f"; default policy: insufficient evidence in {insufficient:.1%} of "
                f"agent-periods, {promotions:.0f} promotions, wait episodes censored "
                f"{censored:.1%} (open at the start {at_start:.1%})"
            )
        fits = [job["evaluator_effects"] for job in runs if job["evaluator_effects"]]
        if fits:
            line += (
                "; fitted evaluator effects vs true harshness: r = "
                f"{np.mean([f['fitted_vs_true_correlation'] for f in fits]):.3f}"
            )
        print(line)
    skipped = {name for job in jobs for name in job["skipped_variants"]}
    if skipped:
        print(f"variants skipped (keys this tree's ladder code does not know): {sorted(skipped)}")


def main() -> None:
    """Run every (seed, generator) job on a process pool, print, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seeds", default=",".join(str(s) for s in SEEDS))
    parser.add_argument("--generators", default=",".join(GENERATORS))
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--variants",
        nargs="?",
        const="all",
        default="",
        help="also run policy variants: 'all', or names separated by commas (see "
        "variant_patches); the default policy with and without the evaluator adjustment "
        "always runs",
    )
    args = parser.parse_args()
    known = variant_patches()
    wanted = [name for name in args.variants.split(",") if name] if args.variants != "all" else []
    unknown = [name for name in wanted if name not in known]
    if unknown:
        parser.error(f"unknown variants: {unknown}; known: {list(known)}")
    names = list(known) if args.variants == "all" else [*DEFAULT_VARIANTS, *wanted]
    names = list(dict.fromkeys(names))
    seeds = [int(s) for s in args.seeds.split(",")]
    generators = args.generators.split(",")
    jobs = [(seed, g, args.agents, args.months, names) for g in generators for seed in seeds]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(args.processes) as workers:
        done = workers.starmap(run_job, jobs, chunksize=1)
    wall = time.perf_counter() - started
    summary = summarise(done)
    for variant, title in (
        ("default", "shipped default policy"),
        (STRICTER, f"candidate, safer and slower ({STRICTER})"),
        (PERFECT, "perfect measurement (expected composite, one level a month: the ceiling)"),
    ):
        print_main_table(summary, variant, f"{title}: mean and worst over seeds {seeds}")
        print_per_seed(done, variant)
    for variant in ("default", STRICTER):
        unadjusted = "qa_unadjusted" if variant == "default" else f"{variant}+qa_unadjusted"
        if "harsh" in summary[variant] and unadjusted in summary:
            print(f"\n{variant}, harsh generator: qa.adjust_for_evaluator on vs off")
            print_main_table(summary, variant, "on:", ["harsh"])
            print_main_table(summary, unadjusted, "off:", ["harsh"])
    if len(names) > len(DEFAULT_VARIANTS):
        print_variants(summary)
    print()
    print_context(done, summary)
    cpu = sum(job["timing_s"]["total"] for job in done)
    print(
        f"\nwall time {wall:.0f} s on {args.processes} processes ({len(jobs)} jobs, "
        f"{cpu:.0f} s of job time; {len(names)} policy variants each)"
    )
    report = {
        "config": {
            "agents": args.agents,
            "months": args.months,
            "seeds": seeds,
            "generators": {g: GENERATORS[g].__dict__ for g in generators},
            "start": START.isoformat(),
            "history_months": HISTORY_MONTHS,
            "variants": {name: known[name] for name in names},
            "approval": "every pending decision treated as approved (as a backtest does)",
        },
        "targets": {t.key: t.text for t in TARGETS},
        "summary": summary,
        "jobs": done,
        "wall_time_s": round(wall, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
