"""Fairness of the ladder, measured against the demo's latent true skill.

The product never sees true skill; this benchmark does. It builds a population with the demo
generator itself (`demo.service.step_organisation` and `step_levels` in a throw-away SQLite
database: the same hire dates, skill groups, latent truths and starting pyramid as
`agentladder demo`), draws twelve months of evidence per agent from true skill with the
sampling noise a real centre has, and runs, side by side on the same evidence:

* the product: the shipped default policy through the product's own `score_agents`,
  `rules.decide` and `rules.apply_quotas` (via `runs.evaluate`), month by month, carrying
  levels and streaks exactly as `runs.simulate` does, every decision applied (as if the
  manager approved every pending one);
* the naive rule: composite = plain (unweighted) average of the metric points of the raw
  values (the policy's scoring standards, no shrinkage), no evidence minimum, no gates;
  promote one level when the composite reaches the next level's entry score, demote one
  level when it is below the current level's entry score; every period, no streaks, no
  protection;
* the naive rule applied to the product's composite, so that the effect of the rules can
  be told apart from the effect of the scoring;
* with `--variants`, diagnostic variants of the default policy through the same product
  code on the same evidence: no shrinkage, no evidence minimums, and promotion band 5 or 8
  or 3 consecutive periods (settings a centre can change in the YAML).

Figures (targets from the ladder issue):

1. rank correlation (Spearman) between each rule's composite and true skill;
2. among agents whose true skill does not change over the twelve months, the share of
   agent-periods with a level change (target < 5 %);
3. the share of promotions into a level whose intended skill band the agent's true skill
   is below (target < 5 %).

Intended skill bands come from the demo's placement (`step_levels`): it ranks agents by
true skill (plus N(0, 0.35) noise) and fills the pyramid top down with `LEVEL_SHARES`, so a
level's intended band is the skill-quantile range its share occupies: level k spans
[Q(c_k), Q(c_k+1)) with c the cumulative shares from the bottom (0, .20, .37, .52, .65, .76,
.85, .92, .97, 1) and Q the quantile of the population's true skill when the simulation
starts. Bands stay fixed for the twelve months (skill is on an absolute scale).

The evidence generator is calibrated so that the policy is *right on average*: an agent
whose true skill sits exactly on the lower edge of a level's band has a noise-free composite
(true rates, the policy's weights and scoring standards, no shrinkage) equal to that level's
entry score. What remains is what the issue asks about: sampling noise, evaluator noise,
month-to-month swings, shrinkage, and the rules.

The evidence per agent-month (all drawn from true skill, see `month_evidence`): handled
calls 400-900 (3 % of months short: leave, training), FCR, transfers, ticket validity, sales
leads and complaints as binomial/Poisson counts over those calls; average ring time and AHT
as means over the calls; attendance over 21 shifts; 4-10 QA evaluations with evaluator and
call noise (a compliance-critical fatal error, rarer for skilled agents, scores the
evaluation 0 and counts in qa_fatal_errors); 20-80 surveys; an exam in half of the months;
knowledge points and adoptions as Poisson counts; certificates valid once true skill
reaches a threshold near the band that requires them, 12 % of them lapsing for 1-3 months.
A good or bad month moves every metric together (more for erratic agents: the demo's
volatility), and every agent has stable per-metric traits unrelated to skill.

Usage: `python benchmarks/ladder_fairness.py [--agents 2000] [--months 12] [--seed 42]
[--variants]`; writes `benchmarks/results/ladder_fairness.json`.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
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
from agentladder.metrics.schemas import Fact
from agentladder.org import service as org_service
from agentladder.periods import Period, parse_period

RESULTS = Path(__file__).parent / "results" / "ladder_fairness.json"
TARGET_STABILITY = 0.05
TARGET_UNDERQUALIFIED = 0.05
START = date(2025, 1, 1)  # the demo's "today": the pyramid is placed then; months follow
HISTORY_MONTHS = 12  # evidence before the first decision, for the fatal/KB gate windows
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
) -> tuple[dict[int, dict[str, Fact]], np.ndarray]:
    """One month of facts for every agent employed when the month starts, and true skills."""
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
    short = rng.random(n_agents) < SHORT_MONTH_SHARE
    calls = np.where(short, calls * rng.uniform(0.1, 0.3, n_agents), calls)
    handled = np.maximum(1, np.round(calls)).astype(int)

    def rate(metric: str, trials: np.ndarray) -> np.ndarray:
        p = np.clip(_linear_value(metric, policy, points[metric]), 0.0005, 0.9995)
        return rng.binomial(trials, p) / np.maximum(trials, 1)

    fcr = rate("fcr_rate", handled)
    transfer = rate("transfer_rate", handled)
    tickets = np.maximum(1, rng.binomial(handled, TICKET_SHARE))
    validity = rate("ticket_validity_rate", tickets)
    surveys = rng.integers(SURVEYS[0], SURVEYS[1] + 1, n_agents)
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

    # QA: 4-10 evaluations, each the agent's level + evaluator and call noise; a
    # compliance-critical fatal error scores the evaluation 0 (reference definitions, section 2).
    evaluations = rng.integers(QA_EVALUATIONS[0], QA_EVALUATIONS[1] + 1, n_agents)
    qa_true = _linear_value("qa_score", policy, points["qa_score"])
    scores = qa_true[:, None] + rng.normal(0, np.hypot(EVALUATOR_SD, CALL_SD), (n_agents, 10))
    fatal_p = np.clip(0.006 * np.exp(-1.0 * skills), 0, 0.05)
    fatal = rng.random((n_agents, 10)) < fatal_p[:, None]
    used = np.arange(10)[None, :] < evaluations[:, None]
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
    return facts, skills


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


def policy_step(
    track: Track,
    policy: LadderPolicy,
    period: Period,
    index: int,
    population: list[Agent],
    facts: dict[int, dict[str, Fact]],
    certs: list[frozenset[str]],
    history: list[dict[int, dict[str, Fact]]],
    windows: dict[str, int],
    skills: np.ndarray,
    expected: np.ndarray,
) -> dict[int, PeriodScores]:
    """One period of a policy through the product's `runs.evaluate` (score_agents, decide,
    apply_quotas), with levels and streaks carried as `runs.simulate` carries them: a streak
    counts only at the level it was earned at; a move takes effect the day after the period."""
    level_ids = policy.level_ids()
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
            windows=windows_of(history, a.agent_id, windows),
        )
    members = {a.agent_id: a.member for a in population}
    cards, outcomes = evaluate(policy, PeriodInputs(period, members, {}, facts, standings))
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


def simulate(agents: int, months: int, seed: int, variants: bool = False) -> dict[str, Any]:
    """The whole run; returns the figures."""
    started = time.perf_counter()
    population = build_population(agents, seed)
    built = time.perf_counter() - started
    rng = np.random.default_rng(seed)

    # The shipped default policy, validated as the product validates it (the built-in
    # certification types; no database needed).
    policy = policy_service.parse_policy(
        policy_service.default_policy_text(),
        known_metrics=policy_service.known_metrics(),
        known_certifications={"product_knowledge", "service_skill", "sales_skill", "comprehensive"},
    )
    unshrunk = policy.model_copy(update={"evidence": SufficiencySpec()})
    level_ids = policy.level_ids()
    entry = [0.0] + [policy.promotion.entry[level].min_score for level in level_ids[1:]]

    start_skills = np.array([a.skill(START) for a in population])
    edges = band_edges(start_skills)
    traits = draw_traits(population, edges, rng)
    curve, residuals = calibrate(population, start_skills, edges, policy, unshrunk, traits)
    members = {a.agent_id: a.member for a in population}
    index_of = {a.agent_id: i for i, a in enumerate(population)}

    # History months: evidence only, for the fatal-error and knowledge-adoption windows.
    history: list[dict[int, dict[str, Fact]]] = []  # every month's facts, oldest first
    windows = policy_service.window_months(policy)
    peak = np.full(len(population), -np.inf)
    for index in range(-HISTORY_MONTHS, 0):
        facts, skills = month_evidence(population, index, curve, policy, traits, rng)
        peak = np.maximum(peak, skills)
        history.append(facts)

    start_levels = {a.agent_id: a.level for a in population}
    # Diagnostic variants of the default policy, run through the same product code: they
    # say which part of the policy a figure comes from (they are not the figures).
    policies = {"product": policy}
    if variants:
        # The policy document's example as printed: qualifying on the composite itself.
        point = policy.model_copy(
            update={"promotion": policy.promotion.model_copy(update={"confidence": 0.0})}
        )
        policies["variant_composite_only"] = point
        policies["variant_lower_bound_90"] = policy.model_copy(
            update={"promotion": policy.promotion.model_copy(update={"confidence": 0.90})}
        )
        policies["variant_no_shrinkage"] = policy.model_copy(
            update={"evidence": policy.evidence.model_copy(update={"shrink": {}})}
        )
        policies["variant_no_evidence_minimums"] = policy.model_copy(
            update={
                "evidence": SufficiencySpec(
                    shrink=policy.evidence.shrink, spread=policy.evidence.spread
                )
            }
        )
        # Settings a centre can change in the YAML instead: a wider band, one more period
        # (on the composite itself, as in the document's example).
        for band, periods in ((5, 2), (5, 3), (8, 2)):
            promotion = point.promotion.model_copy(
                update={"band": float(band), "consecutive_periods": periods}
            )
            policies[f"variant_band_{band}_periods_{periods}"] = point.model_copy(
                update={"promotion": promotion}
            )
    names = [*policies, "naive", "naive_on_product_composite"]
    tracks = {name: Track(name, dict(start_levels)) for name in names}
    for name in policies:
        track = tracks[name]
        track.since = {a.agent_id: a.level_since for a in population}
        track.promoted = {a.agent_id: a.promoted for a in population}
        track.qualify = dict.fromkeys(start_levels, 0)
        track.floor = dict.fromkeys(start_levels, 0)
    product = tracks["product"]
    skill_by_month: list[np.ndarray] = []
    timing = {"evidence_s": 0.0, "product_s": 0.0, "naive_s": 0.0}

    for index in range(months):
        t0 = time.perf_counter()
        facts, skills = month_evidence(population, index, curve, policy, traits, rng)
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
        history.append(facts)
        period: Period = parse_period(month_start(index).strftime("%Y-%m"))
        t1 = time.perf_counter()

        # The product (and its diagnostic variants): the product's own evaluation.
        cards = {}
        for name, track in tracks.items():
            if name in policies:
                cards[name] = policy_step(
                    track,
                    policies[name],
                    period,
                    index,
                    population,
                    facts,
                    certs,
                    history,
                    windows,
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
        for track, composites in (
            (tracks["naive"], naive_composites),
            (
                tracks["naive_on_product_composite"],
                {aid: c.composite for aid, c in cards["product"].items()},
            ),
        ):
            track.composites.append({k: v for k, v in composites.items() if v is not None})
            moves = naive_step(track, composites, entry)
            for aid, to in moves.items():
                i = index_of[aid]
                track.moves.append((index, aid, track.level[aid], to, skills[i], expected[i]))
                track.decisions["promote" if to > track.level[aid] else "demote"] += 1
                track.level[aid] = to
            track.decisions["hold"] += len(population) - len(moves)
        t3 = time.perf_counter()
        timing["evidence_s"] += t1 - t0
        timing["product_s"] += t2 - t1
        timing["naive_s"] += t3 - t2

    # --- figures ---------------------------------------------------------------------
    first_skill, last_skill = skill_by_month[0], skill_by_month[-1]
    stable = np.abs(last_skill - first_skill) < 1e-12
    stable_ids = {a.agent_id for i, a in enumerate(population) if stable[i]}
    frozen_ids = {a.agent_id for a in population if a.frozen is not None}
    in_band_at_start = {
        a.agent_id for i, a in enumerate(population) if band_of(first_skill[i], edges) == a.level
    }
    stable_in_band = stable_ids & in_band_at_start

    def figures(track: Track) -> dict[str, Any]:
        correlations = []
        pooled_c, pooled_s = [], []
        for index, composites in enumerate(track.composites):
            ids = list(composites)
            c = np.array([composites[aid] for aid in ids])
            s = np.array([skill_by_month[index][index_of[aid]] for aid in ids])
            correlations.append(spearman(c, s))
            pooled_c.append(c)
            pooled_s.append(s)
        # How far an unchanged agent's composite moves from month to month (the noise the
        # band of 2 points and the consecutive periods have to absorb).
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
        stable_in_band_changes = sum(changes[aid] for aid in stable_in_band)
        pooled_skill = np.concatenate(pooled_s)
        pooled_composite = np.concatenate(pooled_c)
        edge_bias = {
            level_ids[k]: round(
                _local_mean(pooled_skill, pooled_composite, edges[k], k=600) - entry[k], 2
            )
            for k in range(1, len(level_ids))
        }
        by_level = Counter(level_ids[m[3]] for m in below)
        into_level = Counter(level_ids[m[3]] for m in promotions)
        final = np.array([track.level[a.agent_id] for a in population])
        intended = np.array([band_of(last_skill[i], edges) for i in range(len(population))])
        return {
            "spearman_composite_true_skill": round(float(np.mean(correlations)), 4),
            "spearman_by_month": [round(c, 4) for c in correlations],
            "spearman_pooled": round(
                spearman(np.concatenate(pooled_c), np.concatenate(pooled_s)), 4
            ),
            "stable_composite_month_sd_median": round(float(np.median(swings)), 2),
            "stable_change_share": round(stable_changes / (len(stable_ids) * months), 4),
            "stable_changes": stable_changes,
            "stable_agent_periods": len(stable_ids) * months,
            "stable_in_band_change_share": round(
                stable_in_band_changes / max(1, len(stable_in_band) * months), 4
            ),
            "stable_agents_with_any_change_share": round(
                sum(1 for aid in stable_ids if changes[aid]) / len(stable_ids), 4
            ),
            "promotions": len(promotions),
            "demotions": len(demotions),
            "promotions_below_band": len(below),
            "promotions_below_band_share": round(len(below) / max(1, len(promotions)), 4),
            "promotions_below_band_by_level": {
                level: f"{by_level[level]}/{into_level[level]}" for level in into_level
            },
            # Why: the agent's expected composite (own stable traits in, noise out) against the
            # entry score of the level entered.
            "promotions_below_band_expected_at_or_above_entry": sum(
                1 for m in below if m[5] >= entry[m[3]]
            ),
            "promotions_below_band_expected_within_3_below_entry": sum(
                1 for m in below if entry[m[3]] - 3 <= m[5] < entry[m[3]]
            ),
            "promotions_below_band_expected_more_than_3_below_entry": sum(
                1 for m in below if m[5] < entry[m[3]] - 3
            ),
            "promotions_below_band_median_skill_gap": (
                round(float(np.median([edges[m[3]] - m[4] for m in below])), 3) if below else None
            ),
            "composite_bias_at_band_edges": edge_bias,
            "demotions_within_or_above_band": len(wrong_demotions),
            "demotions_within_or_above_band_share": round(
                len(wrong_demotions) / max(1, len(demotions)), 4
            ),
            "level_changes_per_agent_year": round(len(track.moves) / len(population), 3),
            "final_in_band_share": round(float(np.mean(final == intended)), 4),
            "final_below_band_share": round(float(np.mean(final < intended)), 4),
            "final_above_band_share": round(float(np.mean(final > intended)), 4),
            "final_mean_abs_level_error": round(float(np.mean(np.abs(final - intended))), 3),
            "final_spearman_level_true_skill": round(spearman(final, last_skill), 4),
            "decisions": dict(track.decisions),
        }

    start_levels_arr = np.array([start_levels[a.agent_id] for a in population])
    start_intended = np.array([band_of(first_skill[i], edges) for i in range(len(population))])
    results = {name: figures(track) for name, track in tracks.items()}
    total_decisions = sum(product.decisions.values())
    return {
        "config": {
            "agents": len(population),
            "months": months,
            "seed": seed,
            "start": START.isoformat(),
            "history_months": HISTORY_MONTHS,
            "policy": "shipped default (src/agentladder/ladder/default_policy.yaml)",
            "approval": "every pending decision treated as approved (as runs.simulate does)",
            "calls_per_month": CALLS_PER_MONTH,
            "qa_evaluations": QA_EVALUATIONS,
            "surveys": SURVEYS,
            "stable_share_frozen": STABLE_SHARE,
        },
        "targets": {
            "stable_change_share": f"< {TARGET_STABILITY:.0%}",
            "promotions_below_band_share": f"< {TARGET_UNDERQUALIFIED:.0%}",
        },
        "bands": {
            "method": "level k spans [Q(c_k), Q(c_k+1)) of true skill at the start; c = "
            "cumulative demo.LEVEL_SHARES from the bottom",
            "lower_edges": {
                level: (None if k == 0 else round(edges[k], 3)) for k, level in enumerate(level_ids)
            },
            "calibration_knots": dict(
                zip(level_ids[1:], [round(y, 2) for y in curve.y], strict=True)
            ),
            "calibration_residual_points": dict(
                zip(level_ids[1:], [round(r, 3) for r in residuals], strict=True)
            ),
        },
        "population": {
            "stable_agents": len(stable_ids),
            "stable_frozen": len(stable_ids & frozen_ids),
            "stable_at_ceiling": len(stable_ids - frozen_ids),
            "stable_in_band_at_start": len(stable_in_band),
            "start_in_band_share": round(float(np.mean(start_levels_arr == start_intended)), 4),
            "start_below_band_share": round(float(np.mean(start_levels_arr < start_intended)), 4),
            "start_above_band_share": round(float(np.mean(start_levels_arr > start_intended)), 4),
            "start_pyramid": dict(Counter(level_ids[v] for v in start_levels.values())),
        },
        "product_insufficient_evidence": {
            "share_of_agent_periods": round(
                product.decisions[rules.INSUFFICIENT] / total_decisions, 4
            ),
            "failed_minimums": dict(product.insufficient),
        },
        "results": results,
        "timing_s": {
            "build_population": round(built, 2),
            **{k: round(v, 2) for k, v in timing.items()},
        },
    }


HEADERS = {
    "product": "default policy",
    "naive": "naive rule",
    "naive_on_product_composite": "naive, product score",
    "variant_composite_only": "composite, no bound",
    "variant_lower_bound_90": "lower bound 90 %",
    "variant_no_shrinkage": "default, no shrink",
    "variant_no_evidence_minimums": "default, no minimums",
    "variant_band_5_periods_2": "no bound, band 5",
    "variant_band_5_periods_3": "no bound, band 5, 3 p.",
    "variant_band_8_periods_2": "no bound, band 8",
}
MAIN_COLUMNS = ("product", "naive", "naive_on_product_composite")
ROWS = (
    ("Spearman(composite, true skill), mean of months", "spearman_composite_true_skill", "", 1),
    ("level-change share, stable-skill agent-periods", "stable_change_share", "< 5 %", 100),
    ("  same, stable agents placed in band at start", "stable_in_band_change_share", "", 100),
    ("promotions into a level above the skill's band", "promotions_below_band_share", "< 5 %", 100),
    ("composite month-to-month SD, stable agents", "stable_composite_month_sd_median", "", 1),
    ("promotions", "promotions", "", 1),
    ("demotions", "demotions", "", 1),
    (
        "demotions of agents at/above the level's band",
        "demotions_within_or_above_band_share",
        "",
        100,
    ),
    ("level changes per agent-year", "level_changes_per_agent_year", "", 1),
    ("end: agents in their intended band", "final_in_band_share", "", 100),
    ("end: agents below their intended band", "final_below_band_share", "", 100),
    ("end: agents above their intended band", "final_above_band_share", "", 100),
    ("end: Spearman(level, true skill)", "final_spearman_level_true_skill", "", 1),
)


def print_report(report: dict[str, Any]) -> None:
    """The side-by-side table, then the context every figure needs."""
    results = report["results"]
    variants = [name for name in HEADERS if name in results and name not in MAIN_COLUMNS]
    tables = [("the issue's comparison", list(MAIN_COLUMNS))]
    if variants:
        tables.append(("diagnostic variants (same run, same evidence)", ["product", *variants]))
    columns = [name for name in HEADERS if name in results]
    width, cell = 48, 22
    for title, shown in tables:
        print(f"\n{title}")
        print(
            f"{'figure':<{width}} {'target':>6} " + " ".join(f"{HEADERS[c]:>{cell}}" for c in shown)
        )
        for label, key, target, scale in ROWS:
            cells = []
            for name in shown:
                value = results[name][key]
                cells.append(f"{value * 100:.2f} %" if scale == 100 else f"{value:g}")
            print(f"{label:<{width}} {target:>6} " + " ".join(f"{c:>{cell}}" for c in cells))
    print("\ncomposite minus entry score at each band's lower edge (points, local fit):")
    # Only the rules whose composites differ (the other variants share the product's).
    for name in [c for c in ("product", "naive", "variant_no_shrinkage") if c in columns]:
        bias = results[name]["composite_bias_at_band_edges"]
        print(f"  {HEADERS[name]:<22} " + " ".join(f"{v:+.1f}" for v in bias.values()))
    product = results["product"]
    print(
        "default policy, promotions above band by level entered: "
        f"{product['promotions_below_band_by_level']}; their expected composite (own traits, "
        "no noise) vs the entry score: "
        f"{product['promotions_below_band_expected_at_or_above_entry']} at/above, "
        f"{product['promotions_below_band_expected_within_3_below_entry']} within 3 below, "
        f"{product['promotions_below_band_expected_more_than_3_below_entry']} further below"
    )
    pop = report["population"]
    print(
        f"stable-skill agents: {pop['stable_agents']} ({pop['stable_frozen']} frozen, "
        f"{pop['stable_at_ceiling']} at their ceiling); in their band at the start: "
        f"{pop['stable_in_band_at_start']}"
    )
    print(
        f"start placement (demo step_levels) vs intended band: {pop['start_in_band_share']:.1%} "
        f"in, {pop['start_below_band_share']:.1%} below, {pop['start_above_band_share']:.1%} above"
    )
    ins = report["product_insufficient_evidence"]
    print(
        f"default policy: insufficient evidence in {ins['share_of_agent_periods']:.1%} of "
        f"agent-periods; failed minimums {ins['failed_minimums']}"
    )
    print(f"band lower edges (true skill): {report['bands']['lower_edges']}")
    print(f"calibration residuals (points): {report['bands']['calibration_residual_points']}")


def main() -> None:
    """Run, print, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--variants",
        action="store_true",
        help="also run diagnostic variants of the default policy (no shrinkage, no evidence "
        "minimums, promotion band 5 or 8, 3 consecutive periods)",
    )
    args = parser.parse_args()
    report = simulate(args.agents, args.months, args.seed, args.variants)
    print_report(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()
