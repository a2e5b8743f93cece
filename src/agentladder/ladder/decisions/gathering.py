"""What a period's decisions read (members, facts, standings) and how they are evaluated:
score, decide, apply quotas. The same for a run and for a backtest."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.ladder.decisions import facts as ladder_facts
from agentladder.ladder.decisions import rules
from agentladder.ladder.decisions.scoring import EarlierFacts, Member, PeriodScores, score_agents
from agentladder.ladder.models import LadderDecision
from agentladder.ladder.policy.schemas import LadderPolicy
from agentladder.metrics import service as metrics_service
from agentladder.metrics.schemas import Fact
from agentladder.org import service as org_service
from agentladder.periods import Period

# --- gathering ------------------------------------------------------------------------


@dataclass
class PeriodInputs:
    """Everything the rules need for one period."""

    period: Period
    members: dict[int, Member]
    people: dict[int, org_service.LevelStanding]
    facts: dict[int, dict[str, Fact]]
    standings: dict[int, rules.Standing]
    # Earlier periods' facts of the metrics scoring pools or shrinks toward their own
    # history, newest first.
    earlier: EarlierFacts = field(default_factory=list)


@dataclass(frozen=True)
class PeriodReading:
    """What a period's decisions read besides the roster: the windowed metrics' months, the
    period's facts and the certificates valid on its last day. A backtest reads it once for
    both policies (with the windows of both)."""

    months: list[Period]  # the look-back window, newest first
    window_facts: ladder_facts.PeriodFacts
    period_facts: dict[int, dict[str, Fact]]
    certifications: dict[int, set[str]]
    earlier: EarlierFacts = ()


def _with_twins(metrics: set[str]) -> set[str]:
    """The metrics and their evaluator-adjusted twins (scored in their place by policy)."""
    definitions = metrics_service.metric_definitions()
    twins = {
        twin
        for metric in metrics
        if (definition := definitions.get(metric)) and (twin := definition.adjusted_variant)
    }
    return metrics | twins


@dataclass
class FactCache:
    """Facts read so far, by period label, and which metrics were read for each period: a
    run reads each earlier period only for the metrics it needs there, and a backtest, which
    walks forward, reads each period once and keeps what the next periods need of it
    (`read_period(known=...)`)."""

    facts: ladder_facts.PeriodFacts = field(default_factory=dict)
    read: dict[str, set[str]] = field(default_factory=dict)

    def keep(self, label: str, facts: dict[int, dict[str, Fact]], metrics: set[str]) -> None:
        """Remember a period's facts of these metrics (read already, for another purpose)."""
        self.facts[label] = {
            agent_id: kept
            for agent_id, by_metric in facts.items()
            if (kept := {m: fact for m, fact in by_metric.items() if m in metrics})
        }
        self.read[label] = set(metrics)

    def ensure(self, session: Session, needed: dict[Period, set[str]]) -> None:
        """Read what is missing of `needed` (period -> metrics): one read per set of missing
        metrics, for all the periods that miss the same ones."""
        missing: dict[frozenset[str], list[Period]] = {}
        for period, metrics in needed.items():
            lacking = frozenset(metrics - self.read.get(period.label, set()))
            if lacking:
                missing.setdefault(lacking, []).append(period)
        for lacking, periods in missing.items():
            found = ladder_facts.gather_facts(session=session, periods=periods, metrics=lacking)
            for label, by_agent in found.items():
                cached = self.facts.setdefault(label, {})
                for agent_id, by_metric in by_agent.items():
                    cached.setdefault(agent_id, {}).update(by_metric)
                self.read.setdefault(label, set()).update(lacking)

    def forget_all_but(self, labels: set[str]) -> None:
        """Drop the periods not in `labels` (a backtest's walk has left them behind)."""
        for label in [label for label in self.facts if label not in labels]:
            del self.facts[label]
            self.read.pop(label, None)

    def of(self, label: str) -> dict[int, dict[str, Fact]]:
        """A period's facts as read (empty when nothing was)."""
        return self.facts.get(label, {})


def _earlier_periods(period: Period, history: dict[str, int]) -> list[Period]:
    """The periods before this one that scoring reads from (`history`), newest first."""
    return period.back(max(history.values()) + 1)[1:] if history else []


def _needed_before(
    period: Period, months: list[Period], windows: dict[str, int], history: dict[str, int]
) -> dict[Period, set[str]]:
    """Which metrics each period other than this one is read for: a windowed metric in its
    own months (and, on a quarter's last month, in the quarter: a month's count may have come
    in as its quarter's), a metric scoring reads from history only as far back as it does.
    Reading each metric only where it is used keeps a 10,000-agent run from reading (and
    building facts of) hundreds of thousands of rows nobody looks at."""
    needed: dict[Period, set[str]] = {}
    for metric, count in windows.items():
        for month in months[:count]:
            needed.setdefault(month, set()).add(metric)
            if month.closes_quarter():
                needed.setdefault(month.quarter(), set()).add(metric)
    earlier = _earlier_periods(period, history)
    for metric, back in history.items():
        for before in earlier[:back]:
            needed.setdefault(before, set()).update(_with_twins({metric}))
    needed.pop(period, None)  # the period's own facts are read whole
    return needed


def read_period(
    *,
    session: Session,
    period: Period,
    agent_ids: list[int],
    windows: dict[str, int],
    history: dict[str, int] | None = None,
    known: FactCache | None = None,
) -> PeriodReading:
    """The period's facts from every provider, the months of the windowed metrics, and the
    earlier periods scoring pools (`history`: metric -> periods before this one, see
    `LadderPolicy.history_periods`). `known` keeps what was read for the next period (a
    backtest walks forward; each period is read once)."""
    history = history or {}
    months = period.months_back(max(windows.values(), default=1))
    period_facts = ladder_facts.gather_facts(session=session, periods=[period])[period.label]
    cache = known if known is not None else FactCache()
    # The period's own facts serve its windowed months and, in a backtest, the next periods.
    cache.keep(period.label, period_facts, _with_twins(set(windows) | set(history)))
    needed = _needed_before(period, months, windows, history)
    cache.ensure(session, needed)
    if known is not None:
        cache.forget_all_but({period.label} | {p.label for p in needed})
    window = {*months, *(m.quarter() for m in months if m.closes_quarter()), period}
    return PeriodReading(
        months=months,
        window_facts={p.label: cache.of(p.label) for p in window} if windows else {},
        period_facts=period_facts,
        certifications=ladder_facts.gather_certifications(
            session=session, agent_ids=agent_ids, period=period
        ),
        earlier=[(p.label, cache.of(p.label)) for p in _earlier_periods(period, history)],
    )


def _windows_of(
    reading: PeriodReading, agent_id: int, windows: dict[str, int]
) -> dict[str, tuple[rules.MonthValue, ...]]:
    """Each windowed metric's months for one agent, newest first: the month's own fact, else
    (on a quarter's last month) the quarter's."""
    found: dict[str, tuple[rules.MonthValue, ...]] = {}
    agent_facts = {
        label: by_agent.get(agent_id, {}) for label, by_agent in reading.window_facts.items()
    }
    for metric_id, months in windows.items():
        values = []
        for month in reading.months[:months]:
            fact = agent_facts.get(month.label, {}).get(metric_id)
            if fact is None and month.closes_quarter():
                fact = agent_facts.get(month.quarter().label, {}).get(metric_id)
            values.append((fact.value, fact.sample_size) if fact is not None else (None, 0))
        found[metric_id] = tuple(values)
    return found


def gather(
    *,
    session: Session,
    period: Period,
    windows: dict[str, int],
    history: dict[str, int] | None = None,
    previous: dict[int, tuple[str, int, int]] | None = None,
    people: list[org_service.LevelStanding] | None = None,
    reading: PeriodReading | None = None,
) -> PeriodInputs:
    """The period's members, facts and standings from the database. `windows` are the
    metrics the gates read over months, `history` those scoring reads from earlier periods
    (`LadderPolicy.history_periods`); `previous` gives the level and streaks carried in
    (default: the stored decisions of the period before; a streak counts only at the level it
    was earned at); `people` the agents and their levels (default: the level history on the
    period's last day); `reading` what was read already."""
    roster = (
        people
        if people is not None
        else org_service.standings_on(session=session, on=period.last_day)
    )
    if reading is None:
        reading = read_period(
            session=session,
            period=period,
            agent_ids=[p.agent_id for p in roster],
            windows=windows,
            history=history,
        )
    if previous is None:
        previous = stored_streaks(session=session, period=period.previous().label)
    members, standings = {}, {}
    for person in roster:
        members[person.agent_id] = Member(person.agent_id, person.team_code, person.skill_group)
        level, qualify, floor = previous.get(person.agent_id, (person.level, 0, 0))
        if level != person.level:
            qualify, floor = 0, 0
        standings[person.agent_id] = rules.Standing(
            agent_id=person.agent_id,
            hire_date=person.hire_date,
            level=person.level,
            level_since=person.level_since,
            entered_by_promotion=person.entered_by_promotion,
            certifications=frozenset(reading.certifications.get(person.agent_id, set())),
            qualify_streak=qualify,
            floor_streak=floor,
            windows=_windows_of(reading, person.agent_id, windows),
        )
    return PeriodInputs(
        period=period,
        members=members,
        people={p.agent_id: p for p in roster},
        facts={agent_id: reading.period_facts.get(agent_id, {}) for agent_id in members},
        standings=standings,
        earlier=reading.earlier,
    )


def stored_streaks(*, session: Session, period: str) -> dict[int, tuple[str, int, int]]:
    """The level and streaks the stored decisions of a period carry to the next one."""
    rows = session.execute(
        select(
            LadderDecision.agent_id,
            LadderDecision.from_level,
            LadderDecision.qualify_streak,
            LadderDecision.floor_streak,
            LadderDecision.status,
        ).where(LadderDecision.period == period)
    )
    # A rejected move starts the count again.
    return {
        agent_id: (level, 0, 0) if status == "rejected" else (level, qualify, floor)
        for agent_id, level, qualify, floor, status in rows
    }


# --- evaluating -----------------------------------------------------------------------


def _protected(policy: LadderPolicy, standing: rules.Standing, period: Period) -> bool:
    if not standing.entered_by_promotion or policy.promotion.protect_periods == 0:
        return False
    first = period.back(policy.promotion.protect_periods)[-1]
    return standing.level_since >= first.first_day


def evaluate(
    policy: LadderPolicy, inputs: PeriodInputs
) -> tuple[dict[int, PeriodScores], dict[int, rules.Outcome]]:
    """Score and decide every member for the period (quotas included)."""
    cards = score_agents(policy, inputs.members, inputs.facts, inputs.earlier, inputs.period.label)
    outcomes = {
        agent_id: rules.decide(
            policy,
            cards[agent_id],
            standing,
            inputs.period.last_day,
            _protected(policy, standing, inputs.period),
        )
        for agent_id, standing in inputs.standings.items()
    }
    seats = {
        agent_id: rules.QuotaSeat(
            agent_id, cards[agent_id].composite or 0.0, standing.level_since, standing.hire_date
        )
        for agent_id, standing in inputs.standings.items()
    }
    rules.apply_quotas(policy, outcomes, seats, len(inputs.standings))
    return cards, outcomes
