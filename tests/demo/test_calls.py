"""The call simulation itself (`demo.calls`), watched through its `DayObserver`."""

from __future__ import annotations

import random
import statistics
from collections import defaultdict
from datetime import date

from agentladder.demo import calls as demo_calls

SKILLS = (-2.0, -1.0, 0.0, 1.0, 2.0)


class _Calls:
    """Keeps every answered call."""

    def __init__(self) -> None:
        self.calls: list[demo_calls.AnsweredCall] = []

    def observe_day(self, facts: demo_calls.DayFacts) -> None:
        self.calls += facts.calls


def test_after_call_work_follows_skill_like_talk_time() -> None:
    # Four agents at each of five fixed skills, all on the general line, one fortnight.
    agents = [
        demo_calls.CallAgent(
            number=f"{8001 + index}",
            groups=("general",),
            start_day=date(2026, 1, 1),
            skill=lambda _day, skill=skill: skill,
            volatility=0.2,
        )
        for index, skill in enumerate(SKILLS * 4)
    ]
    skill_of = {agent.number: skill for agent, skill in zip(agents, SKILLS * 4, strict=True)}
    seen = _Calls()
    demo_calls.simulate_site(
        agents=agents,
        first=date(2026, 10, 5),
        last=date(2026, 10, 18),
        timezone="Asia/Shanghai",
        rng=random.Random(3),
        observer=seen,
        callid_prefix="t-",
    )
    acw: defaultdict[float, list[float]] = defaultdict(list)
    talk: defaultdict[float, list[float]] = defaultdict(list)
    for call in seen.calls:
        acw[skill_of[call.agent]].append(call.wrap_up_s)
        talk[skill_of[call.agent]].append(call.talk_s)
    assert all(len(acw[skill]) >= 300 for skill in SKILLS)
    mean_acw = [statistics.fmean(acw[skill]) for skill in SKILLS]
    mean_talk = [statistics.fmean(talk[skill]) for skill in SKILLS]
    # Skilled agents wrap up faster, step by step, as they talk shorter.
    assert mean_acw == sorted(mean_acw, reverse=True)
    assert mean_talk == sorted(mean_talk, reverse=True)
    assert mean_acw[-1] < 0.6 * mean_acw[0]
    # And the spread is a lognormal's: a long tail above the median, never negative.
    weakest = acw[SKILLS[0]]
    assert min(weakest) > 0
    assert statistics.fmean(weakest) > statistics.median(weakest)
    # What call centres see: 10 to 40 seconds of after-call work a call on average (two
    # standard deviations of skill either side a little less or a little more).
    overall = statistics.fmean(call.wrap_up_s for call in seen.calls)
    assert 12 <= overall <= 30
    assert mean_acw[-1] >= 7
    assert mean_acw[0] <= 45
