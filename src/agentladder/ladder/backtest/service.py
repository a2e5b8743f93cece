"""Backtests: who would have moved differently, and why, under a proposed policy."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy.orm import Session

from agentladder.errors import InvalidInput
from agentladder.ladder.decisions import rules
from agentladder.ladder.decisions import service as decisions_service
from agentladder.ladder.decisions.collector import collector_paused
from agentladder.ladder.decisions.gathering import (
    FactCache,
    PeriodInputs,
    PeriodReading,
    evaluate,
    gather,
    read_period,
)
from agentladder.ladder.decisions.schemas import DecisionView, view_of
from agentladder.ladder.decisions.scoring import PeriodScores
from agentladder.ladder.policy import service as policy_service
from agentladder.ladder.policy.service import LoadedPolicy, window_months
from agentladder.org import service as org_service
from agentladder.periods import Period, periods_between

# --- backtests -------------------------------------------------------------------------


@dataclass
class BacktestChange:
    """An agent-period where two policies decide differently."""

    period: str
    agent_id: int
    employee_no: str
    name: str
    current: DecisionView
    proposed: DecisionView


@dataclass
class BacktestReport:
    """Two policies run side by side over past periods, nothing written."""

    periods: list[str]
    current_hash: str
    proposed_hash: str
    current_counts: dict[str, int]
    proposed_counts: dict[str, int]
    changes: list[BacktestChange]
    final_levels: dict[str, dict[str, int]]  # policy -> level -> agents at the end


@dataclass
class _Simulation:
    """One policy run over consecutive periods in memory: levels and streaks carried from one
    period to the next as if every decision had been applied; nothing is written."""

    policy: LoadedPolicy
    carried: dict[int, tuple[str, int, int]] = field(default_factory=dict)
    levels: dict[int, tuple[str, date, bool]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    final_levels: dict[str, int] = field(default_factory=dict)

    def step(
        self,
        session: Session,
        period: Period,
        people: list[org_service.LevelStanding],
        reading: PeriodReading,
    ) -> tuple[PeriodInputs, dict[int, PeriodScores], dict[int, rules.Outcome]]:
        """Decide one period for everyone, from the levels this simulation has reached."""
        people = [
            replace(
                p,
                level=self.levels[p.agent_id][0],
                level_since=self.levels[p.agent_id][1],
                entered_by_promotion=self.levels[p.agent_id][2],
            )
            if p.agent_id in self.levels
            else p
            for p in people
        ]
        inputs = gather(
            session=session,
            period=period,
            windows=window_months(self.policy.policy),
            history=self.policy.policy.history_periods(),
            previous=self.carried,
            people=people,
            reading=reading,
        )
        cards, outcomes = evaluate(self.policy.policy, inputs)
        self.carried, self.final_levels = {}, {}
        for agent_id, outcome in outcomes.items():
            self.counts[outcome.decision] = self.counts.get(outcome.decision, 0) + 1
            self.final_levels[outcome.to_level] = self.final_levels.get(outcome.to_level, 0) + 1
            self.carried[agent_id] = (
                outcome.from_level,
                outcome.qualify_streak,
                outcome.floor_streak,
            )
            if outcome.to_level != outcome.from_level:
                self.levels[agent_id] = (
                    outcome.to_level,
                    period.end_day,
                    outcome.decision == rules.PROMOTE,
                )
            elif agent_id not in self.levels:
                person = inputs.people[agent_id]
                self.levels[agent_id] = (
                    person.level,
                    person.level_since,
                    person.entered_by_promotion,
                )
        return inputs, cards, outcomes

    def view(
        self,
        inputs: PeriodInputs,
        cards: dict[int, PeriodScores],
        outcome: rules.Outcome,
        agent_id: int,
    ) -> DecisionView:
        """One decision of the step as everyone reads it."""
        return view_of(
            inputs.people[agent_id],
            inputs.period.label,
            outcome,
            cards[agent_id],
            self.policy.content_hash,
            decisions_service.status_for(self.policy.policy, outcome),
        )


@collector_paused()
def backtest(
    *,
    session: Session,
    proposed: LoadedPolicy,
    first: Period,
    last: Period,
    current: LoadedPolicy | None = None,
) -> BacktestReport:
    """Who would have moved differently, and why, had `proposed` been in force from `first`
    to `last` instead of the current policy (both simulated from the same start)."""
    in_force = current or policy_service.current_policy(session=session)
    start, end = first, last
    if start.first_day > end.first_day:
        raise InvalidInput(
            "the first period {first} comes after the last {last}",
            first=start.label,
            last=end.label,
        )
    policy_service.check_period_kind(proposed.policy, start, end)
    periods = periods_between(start.kind, start.first_day, end.last_day)
    ours, theirs = _Simulation(in_force), _Simulation(proposed)
    changes = []
    # Both policies period by period from the same reads; a decision is written out in full
    # only where the two differ (a year of a large centre is hundreds of thousands).
    # One reading serves both: the windowed metrics of either policy, as far back as either.
    windows = window_months(in_force.policy)
    for metric, months in window_months(proposed.policy).items():
        windows[metric] = max(windows.get(metric, 1), months)
    history = in_force.policy.history_periods()
    for metric, back in proposed.policy.history_periods().items():
        history[metric] = max(history.get(metric, 0), back)
    known = FactCache()  # each period read once for the whole walk
    for period in periods:
        people = org_service.standings_on(session=session, on=period.last_day)
        reading = read_period(
            session=session,
            period=period,
            agent_ids=[p.agent_id for p in people],
            windows=windows,
            history=history,
            known=known,
        )
        our_inputs, our_cards, our_outcomes = ours.step(session, period, people, reading)
        their_inputs, their_cards, their_outcomes = theirs.step(session, period, people, reading)
        for agent_id, outcome in our_outcomes.items():
            other = their_outcomes.get(agent_id)
            if other is None or (other.decision, other.to_level) == (
                outcome.decision,
                outcome.to_level,
            ):
                continue
            person = our_inputs.people[agent_id]
            changes.append(
                BacktestChange(
                    period.label,
                    agent_id,
                    person.employee_no,
                    person.name,
                    ours.view(our_inputs, our_cards, outcome, agent_id),
                    theirs.view(their_inputs, their_cards, other, agent_id),
                )
            )
    return BacktestReport(
        periods=[p.label for p in periods],
        current_hash=in_force.content_hash,
        proposed_hash=proposed.content_hash,
        current_counts=ours.counts,
        proposed_counts=theirs.counts,
        changes=changes,
        final_levels={"current": ours.final_levels, "proposed": theirs.final_levels},
    )
