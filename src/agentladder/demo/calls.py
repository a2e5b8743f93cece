"""Demo calls: months of raw Asterisk `queue_log` files from a simulated inbound centre.

The files are what a real PBX would have written (`queue_log-YYYYMMDD`, rotated weekly as
logrotate does by default, each named after the first day it holds; epochs in UTC, days in the
centre's time zone) and are imported through the real queue_log adapter and the import ledger,
so every metric of the demo comes from the same code path as a customer's data.

The simulation, day by day and for all queues at once:

* agents work rostered shifts (early, day, middle, late) five days a week, most with the
  weekend off; they log in (AGENTLOGIN, ADDMEMBER per queue), take two short breaks (PAUSE per
  queue), a lunch (PAUSEALL), two blocks of ticket work (工单处理, PAUSE) and now and then a
  training, and log off (REMOVEMEMBER, AGENTLOGOFF) after their last call;
* callers arrive as a Poisson process per queue and hour: the rate is what the agents ready
  in that hour can carry at the target occupancy (the roster follows the forecast) times an
  intraday curve (the forecast is never exact), so weekdays are busier than weekends and
  peaks queue up;
* a caller goes to the queue's agent idle longest; an agent in several queues serves the
  heavier queue first; the phone may ring unanswered (RINGNOANSWER: the caller goes back to
  the head of the queue); callers hang up when their patience runs out (ABANDON, or
  RINGCANCELED then ABANDON while a phone rings), leave on the queue timeout
  (EXITWITHTIMEOUT), or are sent out when the last agent leaves (EXITEMPTY);
* talk time is lognormal: its median shrinks and its spread narrows with the agent's latent
  skill on the day (plus a personal style that has nothing to do with skill); so does the
  after-call work (ACW: notes and tickets after hanging up, 10-35 s a call by skill) before
  the agent is rung again, which the queue_log does not show and the second site's daily
  reports total; low skill rings longer, transfers more (BLINDTRANSFER / ATTENDEDTRANSFER),
  cuts more calls short and leaves more callers to call back within days, which is what
  first-contact resolution measures; callers who abandoned often try again within minutes.

Everything is drawn from one `random.Random`, so the same seed writes byte-identical files.

A `DayObserver` can watch the simulation: after each day it is handed what happened (every
answered call with the agent's skill on the day, every agent's shift, who was on leave and who
had a rest day), which is how the demo's other evidence (surveys, complaints, tickets, rosters,
daily reports) comes from the very calls the queue_log records. `simulate_site` runs a site
whose ACD writes no queue_log at all: only the observer sees its calls.
"""

from __future__ import annotations

import heapq
import math
import random
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, NamedTuple, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.ingest import service as ingest_service

FILE_PREFIX = "queue_log-"
# How the PBX rotates its queue_log: logrotate's default is weekly (with `dateext` the file is
# queue_log-YYYYMMDD). Each file costs the import a fixed ~0.1 s, so daily files would add
# ~15 s to the demo; "day" and "month" are there too.
ROTATION = "week"
OPEN_HOUR, CLOSE_HOUR = 8, 22
# Intraday demand relative to the agents rostered and ready in the hour (the roster follows
# the forecast, the forecast is never exact): above 1 the hour queues up.
PEAK = (0.9, 1.05, 1.15, 1.1, 0.85, 0.95, 1.1, 1.05, 1.0, 0.95, 0.9, 0.95, 0.9, 0.8)
# Shifts (local hours, start and end) and how many agents work each.
SHIFTS = ((8.0, 16.5), (9.0, 17.5), (10.5, 19.0), (13.5, 22.0))
SHIFT_WEIGHTS = (3, 3, 2, 2)
# Agent occupancy the arrival rate aims at; lower means fewer calls and idler agents.
OCCUPANCY = 0.75
# Staffing slack of small pools: demand per ready agent is scaled by n / (n + POOL_SLACK).
POOL_SLACK = 2.0
WEEKEND_OFF_SHARE = 0.55
LEAVE_RATE = 0.03  # a rostered day not worked (sick, annual leave)
TRAINING_DAYS = 10  # days between hire and the first call
RING_TIMEOUT_S = 15.0
# After-call work: lognormal around the queue's median (`QueueSpec.acw_median_s`) for an
# agent of skill 0, shorter and steadier for skilled agents. Not in the queue_log: the agent is
# just not rung until done (the daily reports of the second site total it).
ACW_SKILL = 0.25  # log-seconds less per unit of skill: skill +2 takes ~40% less than skill 0
ACW_SIGMA = 0.55  # spread at skill 0
ACW_MAX_S = 900.0
# Callers: share who call from a withheld number; share of new calls from a known customer.
WITHHELD_SHARE = 0.015
KNOWN_CALLER_SHARE = 0.10
KNOWN_CALLERS_KEPT = 200_000
ABANDON_RETRY = 0.45
# Days after a call that a repeat contact comes, with weights (0: later the same day).
REPEAT_DAYS = ((0, 30), (1, 25), (2, 15), (3, 10), (4, 6), (5, 4), (6, 3), (8, 4), (12, 3))
_MOBILE = "130 131 132 133 135 136 137 138 139 150 151 152 155 156 157 158 159 166 176 177 178"
MOBILE_PREFIXES = tuple(f"{_MOBILE} 180 181 182 183 185 186 187 188 189 191 199".split())
AREA_CODES = ("010", "021", "020", "0755", "0571", "025", "028", "027")
TRANSFER_EXTENSIONS = ("8100", "8200", "8300")


@dataclass(frozen=True)
class QueueSpec:
    """One ACD queue: the skill group it serves and how its calls behave."""

    group: str
    name: str
    talk_median_s: float
    acw_median_s: float  # after-call work of an agent of skill 0
    patience_s: float  # mean of the callers' (exponential) patience
    timeout_s: float  # the queue's timeout: the caller leaves to voicemail
    weight: int  # Asterisk queue weight: agents in several queues serve the heaviest first
    # Demand per ready agent-hour relative to the other queues.
    load: float


# `general` is reserved in queues.conf, so queues carry a prefix.
QUEUES: tuple[QueueSpec, ...] = (
    QueueSpec("general", "kf-general", 240, 16, 110, 300, 1, 1.25),
    QueueSpec("billing", "kf-billing", 330, 20, 130, 300, 2, 0.8),
    QueueSpec("complaints", "kf-complaints", 520, 32, 160, 420, 5, 0.8),
    QueueSpec("sales", "kf-sales", 400, 24, 90, 180, 2, 0.7),  # the order is keyed in after
    QueueSpec("vip", "kf-vip", 370, 22, 150, 300, 10, 0.6),
    QueueSpec("english", "kf-english", 380, 18, 120, 300, 3, 0.7),
)
QUEUE_INDEX = {spec.group: index for index, spec in enumerate(QUEUES)}


@dataclass(frozen=True)
class CallAgent:
    """An agent as the simulation sees them: phone number, skills, and latent skill."""

    number: str  # logs in as Agent/<number> from the phone SIP/<number>
    groups: tuple[str, ...]
    start_day: date  # first day on the phones
    skill: Callable[[date], float]  # latent skill on a day (standard normal scale)
    volatility: float  # 0 steady .. 1 erratic from day to day


class AnsweredCall(NamedTuple):
    """One call an agent answered, as the simulation knows it (epochs in seconds, UTC)."""

    callid: str  # the queue_log callid (the channel's uniqueid)
    agent: str  # the agent's number (Agent/<number>)
    group: str  # the skill group of the queue it came through
    enter_at: float  # entered the queue
    connect_at: float  # answered
    talk_s: int
    wait_s: int  # in the queue before answering
    ring_s: float
    wrap_up_s: float  # after-call work before the agent is rung again
    ended_by: str  # caller | agent (hung up first: the caller hears the survey) | transfer
    cut_short: bool  # the agent cut the caller off within seconds
    repeat_booked: bool  # the caller's problem is not solved: they will call again
    skill: float  # the agent's latent skill on the day, with the day's noise


class AgentDay(NamedTuple):
    """One agent's worked day: shift, logged-in span and what the phone did."""

    agent: str
    shift: int  # index into SHIFTS
    login_at: float
    logoff_at: float
    paused_s: float  # breaks, lunch, ticket work, training
    offered: int  # times the phone rang (answered, not answered, cancelled while ringing)
    missed: int  # rang and not answered
    ring_s: float  # total ringing time
    skill: float


@dataclass
class DayFacts:
    """What happened on one local day, for a `DayObserver`."""

    day: date
    calls: list[AnsweredCall]
    worked: list[AgentDay]
    on_leave: list[str]  # agent numbers rostered but absent (sick, annual leave ...)
    resting: list[str]  # agent numbers on their weekly rest day


class DayObserver(Protocol):
    """Watches the simulation day by day (see `DayFacts`)."""

    def observe_day(self, facts: DayFacts) -> None:
        """Take one simulated day."""


@dataclass(frozen=True)
class Observers:
    """Several observers of one simulation, each handed every day in turn."""

    members: tuple[DayObserver, ...]

    def observe_day(self, facts: DayFacts) -> None:
        """Hand the day to each observer."""
        for member in self.members:
            member.observe_day(facts)


@dataclass
class CallsReport:
    """What the generator wrote."""

    folder: Path
    files: list[Path] = field(default_factory=list)
    lines: int = 0
    offered: int = 0
    handled: int = 0
    abandoned: int = 0
    timed_out: int = 0
    exit_empty: int = 0
    transferred: int = 0
    offered_by_month: Counter[str] = field(default_factory=Counter)
    handled_by_month: Counter[str] = field(default_factory=Counter)
    # (agent number, month) -> handled calls
    handled_by_agent_month: Counter[tuple[str, str]] = field(default_factory=Counter)
    agent_days: int = 0


def call_months(today: date, months: int) -> tuple[date, date]:
    """The first and last day of the `months` full calendar months before `today`."""
    last = today.replace(day=1) - timedelta(days=1)
    index = today.year * 12 + today.month - 1 - months
    return date(index // 12, index % 12 + 1, 1), last


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# Event kinds, in the order they run when they share a time.
_RETRY, _ARRIVE, _FREE, _UNPAUSE, _SHIFT, _PATIENCE = range(6)
# Agent states.
_OFF, _IDLE, _BUSY, _PAUSED = range(4)
# Shift actions.
_LOGIN, _BREAK, _LUNCH, _TRAINING, _TICKETS, _LOGOFF = range(6)
PAUSE_REASONS = {_BREAK: "小休", _LUNCH: "午餐", _TRAINING: "培训", _TICKETS: "工单处理"}


class _Agent:
    """An agent during one day."""

    __slots__ = (
        "acw_mu",
        "acw_sigma",
        "channel",
        "idx",
        "interface",
        "login_at",
        "logoff_at",
        "member",
        "missed",
        "month_key",
        "name",
        "offered",
        "p_repeat",
        "p_rna",
        "p_short",
        "p_transfer",
        "pause_all",
        "pause_from",
        "pause_token",
        "paused_s",
        "pending",
        "queues",
        "ring_mu",
        "ring_total_s",
        "shift",
        "skill",
        "state",
        "talk_mu",
        "talk_sigma",
        "version",
    )

    def __init__(self, idx: int, member: CallAgent, queues: list[int]) -> None:
        self.idx = idx
        self.member = member
        self.name = f"Agent/{member.number}"
        self.interface = f"SIP/{member.number}"
        self.queues = queues
        self.state = _OFF
        self.version = 0
        self.pending: list[tuple[int, float]] = []
        self.pause_token = 0
        self.pause_all = False
        self.login_at = 0.0
        self.channel = ""
        self.month_key = ("", "")
        self.talk_mu = [0.0] * len(QUEUES)
        self.talk_sigma = 0.6
        self.acw_mu = [0.0] * len(QUEUES)
        self.acw_sigma = ACW_SIGMA
        self.p_rna = 0.02
        self.p_short = 0.01
        self.p_transfer = 0.05
        self.p_repeat = 0.15
        self.ring_mu = 1.2
        # The day as an observer sees it (see AgentDay).
        self.skill = 0.0
        self.shift = 0
        self.logoff_at = 0.0
        self.pause_from = 0.0
        self.paused_s = 0.0
        self.offered = 0
        self.missed = 0
        self.ring_total_s = 0.0

    def set_skill(self, skill: float, style: tuple[float, float, float]) -> None:
        """Per-day behaviour from the day's skill and the agent's style (chatty or brisk,
        quick or slow to pick up, a fast or slow typist), which has nothing to do with skill."""
        talk_style, ring_style, acw_style = style
        self.talk_mu = [math.log(q.talk_median_s) - 0.2 * skill + talk_style for q in QUEUES]
        self.talk_sigma = min(0.9, max(0.35, 0.62 - 0.09 * skill))
        self.acw_mu = [math.log(q.acw_median_s) - ACW_SKILL * skill + acw_style for q in QUEUES]
        self.acw_sigma = min(0.8, max(0.3, ACW_SIGMA - 0.07 * skill))
        self.p_rna = 0.01 + 0.03 * self.member.volatility + 0.02 * _sigmoid(-1.5 * skill)
        self.p_short = 0.005 + 0.03 * _sigmoid(-1.5 * skill - 1.5)
        self.p_transfer = 0.02 + 0.10 * _sigmoid(-1.2 * skill - 0.5)
        self.p_repeat = 0.05 + 0.25 * _sigmoid(-1.2 * skill - 0.3)
        self.ring_mu = math.log(3.5) - 0.15 * skill + ring_style


class _Call:
    __slots__ = ("caller", "callid", "deadline", "enter", "origpos", "queue", "timeout", "waiting")

    def __init__(self, callid: str, queue: int, caller: str, enter: float) -> None:
        self.callid = callid
        self.queue = queue
        self.caller = caller
        self.enter = enter
        self.origpos = 1
        self.deadline = 0.0
        self.timeout = False  # the deadline is the queue timeout rather than the caller's
        self.waiting = False


class _Centre:
    """The simulated centre: state that carries from day to day (callers, repeat contacts)."""

    def __init__(
        self,
        agents: Sequence[CallAgent],
        tz: ZoneInfo,
        rng: random.Random,
        observer: DayObserver | None = None,
        callid_prefix: str = "",
    ) -> None:
        self.members = list(agents)
        self.tz = tz
        self.rng = rng
        self.observer = observer
        # Asterisk's `systemname`: a second PBX prefixes its uniqueids so they never collide.
        self.callid_prefix = callid_prefix
        self.report: CallsReport | None = None
        self.member_queues = [
            sorted(
                (QUEUE_INDEX[g] for g in member.groups if g in QUEUE_INDEX),
                key=lambda q: -QUEUES[q].weight,
            )
            for member in self.members
        ]
        self.known_callers: list[str] = []
        self.known_next = 0
        self.pending: dict[date, list[tuple[float, str, int]]] = {}
        self.uniqueid = rng.randrange(1000, 9000)
        self.channel_no = rng.randrange(0x1000, 0x8000)
        self.off_days: list[tuple[int, ...]] = []
        styles = [(rng.gauss(0.0, 0.08), rng.gauss(0.0, 0.15)) for _ in self.members]
        for _ in self.members:
            if rng.random() < WEEKEND_OFF_SHARE:
                self.off_days.append((5, 6))
            else:
                first = rng.randrange(5)
                self.off_days.append((first, (first + 1) % 7))
        # The ACW style is drawn last, so the draws above stay what they were before it.
        self.styles = [(talk, ring, rng.gauss(0.0, 0.1)) for talk, ring in styles]

    # --- callers -------------------------------------------------------------------------

    def _new_number(self) -> str:
        rng = self.rng
        if rng.random() < 0.85:
            return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        return rng.choice(AREA_CODES) + f"{rng.randrange(10**7, 10**8)}"

    def _caller(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < WITHHELD_SHARE:
            return rng.choice(("", "", "anonymous"))
        if roll < WITHHELD_SHARE + KNOWN_CALLER_SHARE and self.known_callers:
            return rng.choice(self.known_callers)
        number = self._new_number()
        if len(self.known_callers) < KNOWN_CALLERS_KEPT:
            self.known_callers.append(number)
        else:
            self.known_callers[self.known_next] = number
            self.known_next = (self.known_next + 1) % KNOWN_CALLERS_KEPT
        return number

    def _next_uniqueid(self, at: float) -> str:
        self.uniqueid += 1
        return f"{self.callid_prefix}{int(at)}.{self.uniqueid}"

    # --- one day -------------------------------------------------------------------------

    def simulate_day(self, day: date) -> list[str]:
        """The queue_log lines of one local day, in file order."""
        rng, tz = self.rng, self.tz
        report = self.report
        assert report is not None
        month = f"{day.year}-{day.month:02d}"
        midnight = datetime.combine(day, time(), tz).timestamp()

        def local(hours: float) -> float:
            whole = int(hours)
            minutes = round((hours - whole) * 60)
            return datetime.combine(day, time(whole, minutes), tz).timestamp()

        hour_start = [local(h) for h in range(OPEN_HOUR, CLOSE_HOUR)] + [local(CLOSE_HOUR)]
        close_at = hour_start[-1]
        out: list[tuple[float, int, str]] = []

        def emit(at: float, callid: str, queue: str, agent: str, verb: str, data: str) -> None:
            out.append((at, len(out), f"{int(at)}|{callid}|{queue}|{agent}|{verb}|{data}"))

        events: list[tuple[float, int, int, Any]] = []
        seq = 0

        def push(at: float, kind: int, payload: Any) -> None:
            nonlocal seq
            seq += 1
            heapq.heappush(events, (at, kind, seq, payload))

        # Nightly restart of Asterisk (maintenance window): QUEUESTART opens the file.
        emit(midnight + 3 * 3600 + rng.uniform(0, 600), "NONE", "NONE", "NONE", "QUEUESTART", "")

        # Roster and per-queue coverage (agent-hours ready per hour of the day).
        hours = CLOSE_HOUR - OPEN_HOUR
        coverage = [[0.0] * hours for _ in QUEUES]
        today: list[_Agent] = []
        on_leave: list[str] = []
        resting: list[str] = []
        weekday = day.weekday()
        for member, off, style, queues in zip(
            self.members, self.off_days, self.styles, self.member_queues, strict=True
        ):
            if day < member.start_day:
                continue
            if weekday in off:
                if queues:
                    resting.append(member.number)
                continue
            if rng.random() < LEAVE_RATE:
                if queues:
                    on_leave.append(member.number)
                continue
            if not queues:
                continue
            agent = _Agent(len(today), member, list(queues))
            today.append(agent)
            agent.month_key = (member.number, month)
            agent.skill = member.skill(day) + member.volatility * rng.gauss(0.0, 0.5)
            agent.set_skill(agent.skill, style)
            agent.shift = rng.choices(range(len(SHIFTS)), weights=SHIFT_WEIGHTS)[0]
            start, end = SHIFTS[agent.shift]
            share = 1.0 / len(queues)
            for ready_from, ready_to in self._schedule_shift(agent, local(start), local(end), push):
                for h in range(hours):
                    overlap = min(ready_to, hour_start[h + 1]) - max(ready_from, hour_start[h])
                    if overlap > 0:
                        for q in queues:
                            coverage[q][h] += overlap / 3600.0 * share
        report.agent_days += len(today)

        # Arrivals: Poisson per queue and hour; repeat contacts booked on earlier days.
        handle_s = [
            (
                q.talk_median_s * math.exp(0.62**2 / 2)
                + 4.0
                + q.acw_median_s * math.exp(ACW_SIGMA**2 / 2)
            )
            for q in QUEUES
        ]
        day_factor = rng.lognormvariate(0.0, 0.06)
        for q in range(len(QUEUES)):
            # 12% of the calls are repeat contacts and retries, booked separately.
            per_agent_hour = OCCUPANCY * QUEUES[q].load * 3600.0 / handle_s[q] * 0.88
            for h in range(hours):
                ready = coverage[q][h]
                # A pool of a few agents must run cooler than a big one to answer in time.
                slack = ready / (ready + POOL_SLACK)
                rate = ready * slack * per_agent_hour * PEAK[h] * day_factor / 3600.0
                if rate <= 0:
                    continue
                at, end_at = hour_start[h], hour_start[h + 1]
                while True:
                    at += rng.expovariate(rate)
                    if at >= end_at:
                        break
                    push(at, _ARRIVE, (q, None))
        for offset, caller, q in self.pending.pop(day, []):
            push(hour_start[0] + offset, _ARRIVE, (q, caller))

        waiting: list[deque[_Call]] = [deque() for _ in QUEUES]
        # Idle agents per queue, longest idle first (strategy leastrecent).
        available: list[list[tuple[float, int, int]]] = [[] for _ in QUEUES]
        members_in: list[int] = [0] * len(QUEUES)
        queue_names = [q.name for q in QUEUES]
        weights = [q.weight for q in QUEUES]
        heappush, heappop, random_ = heapq.heappush, heapq.heappop, rng.random
        observed = self.observer is not None
        answered: list[AnsweredCall] = []

        def take_agent(q: int) -> _Agent | None:
            pool = available[q]
            while pool:
                _, idx, version = heappop(pool)
                agent = today[idx]
                if agent.state == _IDLE and agent.version == version:
                    return agent
            return None

        def caller_leaves(call: _Call, at: float, verb: str, position: int) -> None:
            wait = int(at - call.enter)
            emit(
                at,
                call.callid,
                queue_names[call.queue],
                "NONE",
                verb,
                f"{position}|{call.origpos}|{wait}",
            )
            if verb == "ABANDON":
                report.abandoned += 1
                if call.caller[:1].isdigit() and wait > 5 and random_() < ABANDON_RETRY:
                    again = at + rng.uniform(60, 1200)
                    if again < close_at:
                        push(again, _ARRIVE, (call.queue, call.caller))
            elif verb == "EXITWITHTIMEOUT":
                report.timed_out += 1
            else:
                report.exit_empty += 1

        def cancel_ring(call: _Call, agent: _Agent, qname: str, at: float) -> None:
            # The caller hangs up while the agent's phone is still ringing.
            gone = max(call.deadline, at)
            agent.missed += 1
            agent.ring_total_s += gone - at
            emit(gone, call.callid, qname, agent.name, "RINGCANCELED", str(int((gone - at) * 1000)))
            caller_leaves(call, gone, "ABANDON", 1)
            push(gone + 1.0, _FREE, agent)

        def offer(call: _Call, agent: _Agent, at: float) -> None:
            agent.state = _BUSY
            agent.version += 1
            qname = queue_names[call.queue]
            agent.offered += 1
            if random_() < agent.p_rna:
                ring_end = at + RING_TIMEOUT_S + rng.uniform(0.0, 0.3)
                if call.deadline < ring_end:
                    cancel_ring(call, agent, qname, at)
                    return
                agent.missed += 1
                agent.ring_total_s += ring_end - at
                emit(
                    ring_end,
                    call.callid,
                    qname,
                    agent.name,
                    "RINGNOANSWER",
                    str(int((ring_end - at) * 1000)),
                )
                push(ring_end, _RETRY, call)
                push(ring_end + rng.uniform(2.0, 8.0), _FREE, agent)
                return
            ring = min(RING_TIMEOUT_S - 1.0, 0.8 + rng.lognormvariate(agent.ring_mu, 0.45))
            connect = at + ring
            if call.deadline < connect:
                cancel_ring(call, agent, qname, at)
                return
            hold = int(connect - call.enter)
            agent.ring_total_s += ring
            emit(
                connect,
                call.callid,
                qname,
                agent.name,
                "CONNECT",
                f"{hold}|{self._next_uniqueid(connect)}|{round(ring)}",
            )
            cut_short = random_() < agent.p_short
            if cut_short:
                talk = rng.uniform(2.0, 9.5)
            else:
                talk = min(3600.0, rng.lognormvariate(agent.talk_mu[call.queue], agent.talk_sigma))
            talk_s = max(1, round(talk))
            end = connect + talk_s
            repeat = agent.p_repeat
            ended_by = "transfer"
            if random_() < agent.p_transfer:
                report.transferred += 1
                repeat += 0.08
                if random_() < 0.6:
                    emit(
                        end,
                        call.callid,
                        qname,
                        agent.name,
                        "BLINDTRANSFER",
                        f"{rng.choice(TRANSFER_EXTENSIONS)}|from-internal|{hold}|{talk_s}|"
                        f"{call.origpos}",
                    )
                else:
                    bridge = uuid.UUID(int=rng.getrandbits(128), version=4)
                    emit(
                        end,
                        call.callid,
                        qname,
                        agent.name,
                        "ATTENDEDTRANSFER",
                        f"BRIDGE|{bridge}|{hold}|{talk_s}|{call.origpos}",
                    )
            else:
                verb = "COMPLETECALLER" if random_() < 0.7 else "COMPLETEAGENT"
                ended_by = "caller" if verb == "COMPLETECALLER" else "agent"
                emit(end, call.callid, qname, agent.name, verb, f"{hold}|{talk_s}|{call.origpos}")
            report.handled += 1
            report.handled_by_month[month] += 1
            report.handled_by_agent_month[agent.month_key] += 1
            wrap_up_s = min(
                ACW_MAX_S, rng.lognormvariate(agent.acw_mu[call.queue], agent.acw_sigma)
            )
            push(end + wrap_up_s, _FREE, agent)
            booked = call.caller[:1].isdigit() and random_() < repeat
            if booked:
                self._book_repeat(day, end, close_at, call, push)
            if observed:
                answered.append(
                    AnsweredCall(
                        call.callid,
                        agent.member.number,
                        QUEUES[call.queue].group,
                        call.enter,
                        connect,
                        talk_s,
                        hold,
                        ring,
                        wrap_up_s,
                        ended_by,
                        cut_short,
                        booked,
                        agent.skill,
                    )
                )

        def dispatch(call: _Call, at: float, front: bool) -> None:
            agent = take_agent(call.queue)
            if agent is not None:
                offer(call, agent, at)
                return
            if members_in[call.queue] == 0:
                caller_leaves(call, at, "EXITEMPTY", 1)
                return
            call.waiting = True
            if front:
                waiting[call.queue].appendleft(call)
            else:
                waiting[call.queue].append(call)
            push(call.deadline, _PATIENCE, call)

        def agent_ready(agent: _Agent, at: float) -> None:
            while agent.pending:
                action, length = agent.pending.pop(0)
                if action == _LOGOFF:
                    log_off(agent, at)
                    return
                if start_pause(agent, at, action, length):
                    return
            best: deque[_Call] | None = None
            best_key = (0, 0.0)
            for q in agent.queues:
                line = waiting[q]
                if line:
                    key = (-weights[q], line[0].enter)
                    if best is None or key < best_key:
                        best, best_key = line, key
            if best is not None:
                call = best.popleft()
                call.waiting = False
                offer(call, agent, at)
                return
            agent.state = _IDLE
            agent.version += 1
            for q in agent.queues:
                heappush(available[q], (at, agent.idx, agent.version))

        def start_pause(agent: _Agent, at: float, action: int, length: float) -> bool:
            if agent.state == _OFF:
                return False
            agent.state = _PAUSED
            agent.version += 1
            agent.pause_token += 1
            reason = PAUSE_REASONS[action]
            agent.pause_all = action == _LUNCH
            if agent.pause_all:
                emit(at, "NONE", "NONE", agent.name, "PAUSEALL", reason)
            for q in agent.queues:
                emit(at, "NONE", queue_names[q], agent.name, "PAUSE", reason)
            push(at + length, _UNPAUSE, (agent, agent.pause_token))
            agent.pause_from = at
            return True

        def end_pause(agent: _Agent, at: float) -> None:
            if agent.pause_all:
                emit(at, "NONE", "NONE", agent.name, "UNPAUSEALL", "")
            for q in agent.queues:
                emit(at, "NONE", queue_names[q], agent.name, "UNPAUSE", "")
            agent.pause_token += 1
            agent.state = _BUSY
            agent.paused_s += at - agent.pause_from

        def log_off(agent: _Agent, at: float) -> None:
            for step, q in enumerate(agent.queues):
                emit(at + step, "NONE", queue_names[q], agent.interface, "REMOVEMEMBER", "")
                members_in[q] -= 1
            emit(
                at + len(agent.queues),
                "NONE",
                "NONE",
                agent.name,
                "AGENTLOGOFF",
                f"{agent.channel}|{int(at + len(agent.queues) - agent.login_at)}",
            )
            agent.logoff_at = at + len(agent.queues)
            agent.state = _OFF
            agent.version += 1
            agent.pending.clear()
            for q in agent.queues:
                if members_in[q] == 0:
                    line = waiting[q]
                    while line:
                        call = line.popleft()
                        call.waiting = False
                        caller_leaves(call, at, "EXITEMPTY", 1)

        while events:
            at, kind, _, payload = heappop(events)
            if kind == _ARRIVE:
                q, known = payload
                caller = known if known is not None else self._caller()
                call = _Call(self._next_uniqueid(at - rng.uniform(4.0, 40.0)), q, caller, at)
                call.origpos = len(waiting[q]) + 1
                spec = QUEUES[q]
                patience = rng.expovariate(1.0 / spec.patience_s)
                call.timeout = patience >= spec.timeout_s
                call.deadline = at + min(patience, spec.timeout_s)
                report.offered += 1
                report.offered_by_month[month] += 1
                emit(
                    at,
                    call.callid,
                    queue_names[q],
                    "NONE",
                    "ENTERQUEUE",
                    f"|{caller}|{call.origpos}",
                )
                dispatch(call, at, front=False)
            elif kind == _FREE:
                if payload.state == _BUSY:
                    agent_ready(payload, at)
            elif kind == _RETRY:
                dispatch(payload, at, front=True)
            elif kind == _PATIENCE:
                call = payload
                if call.waiting:
                    line = waiting[call.queue]
                    position = line.index(call) + 1
                    line.remove(call)
                    call.waiting = False
                    verb = "EXITWITHTIMEOUT" if call.timeout else "ABANDON"
                    caller_leaves(call, at, verb, position)
            elif kind == _UNPAUSE:
                agent, token = payload
                if agent.state == _PAUSED and agent.pause_token == token:
                    end_pause(agent, at)
                    agent_ready(agent, at)
            else:
                agent, action, length = payload
                if action == _LOGIN:
                    self.channel_no += 1
                    agent.channel = f"{agent.interface}-{self.channel_no:08x}"
                    agent.login_at = at
                    emit(at, "NONE", "NONE", agent.name, "AGENTLOGIN", agent.channel)
                    # The login dialplan then adds the phone to each queue, a second apiece.
                    for step, q in enumerate(agent.queues, start=1):
                        emit(at + step, "NONE", queue_names[q], agent.interface, "ADDMEMBER", "")
                        members_in[q] += 1
                    agent.state = _BUSY
                    push(at + len(agent.queues) + 0.5, _FREE, agent)
                elif agent.state == _IDLE:
                    agent.version += 1
                    agent.state = _BUSY
                    agent.pending.append((action, length))
                    agent_ready(agent, at)
                elif agent.state == _PAUSED and action == _LOGOFF:
                    end_pause(agent, at)
                    log_off(agent, at)
                elif agent.state != _OFF:
                    # On a call (or paused): the break or the log-off waits until free.
                    agent.pending.append((action, length))

        if self.observer is not None:
            worked = [
                AgentDay(
                    agent.member.number,
                    agent.shift,
                    agent.login_at,
                    agent.logoff_at,
                    agent.paused_s,
                    agent.offered,
                    agent.missed,
                    agent.ring_total_s,
                    agent.skill,
                )
                for agent in today
            ]
            self.observer.observe_day(DayFacts(day, answered, worked, on_leave, resting))
        out.sort()
        return [line for _, _, line in out]

    def _schedule_shift(
        self,
        agent: _Agent,
        start: float,
        end: float,
        push: Callable[[float, int, Any], None],
    ) -> list[tuple[float, float]]:
        """Book the agent's day (log in, breaks, lunch, ticket work, log off) and return the
        planned intervals ready for calls."""
        rng = self.rng
        hour = 3600.0
        plan = [(start + rng.uniform(1.75, 2.1) * hour, _BREAK, rng.uniform(600, 900))]
        # Ticket follow-up (工单处理) away from the phones, a block in the morning and one in
        # the afternoon: the centre is blended, agents are on the phones two thirds of the day.
        if rng.random() < 0.9:
            plan.append((start + rng.uniform(2.4, 2.6) * hour, _TICKETS, rng.uniform(3000, 4800)))
        plan.append((start + rng.uniform(4.0, 4.4) * hour, _LUNCH, rng.uniform(1800, 2700)))
        if rng.random() < 0.9:
            plan.append((start + rng.uniform(5.2, 5.4) * hour, _TICKETS, rng.uniform(3000, 4800)))
        if rng.random() < 0.06:
            plan.append((start + rng.uniform(6.8, 7.0) * hour, _TRAINING, 3600.0))
        else:
            plan.append((start + rng.uniform(6.8, 7.0) * hour, _BREAK, rng.uniform(600, 900)))
        login = start - rng.uniform(60, 480)
        logoff = end + rng.uniform(0, 120)
        push(login, _SHIFT, (agent, _LOGIN, 0.0))
        ready = []
        since = login
        for at, action, length in plan:
            push(at, _SHIFT, (agent, action, length))
            ready.append((since, at))
            since = at + length
        ready.append((since, logoff))
        push(logoff, _SHIFT, (agent, _LOGOFF, 0.0))
        return ready

    def _book_repeat(
        self,
        day: date,
        end: float,
        close_at: float,
        call: _Call,
        push: Callable[[float, int, Any], None],
    ) -> None:
        rng = self.rng
        days = rng.choices([d for d, _ in REPEAT_DAYS], weights=[w for _, w in REPEAT_DAYS])[0]
        queue = call.queue if rng.random() < 0.8 else QUEUE_INDEX["general"]
        if days == 0:
            again = end + rng.uniform(600, 4 * 3600)
            if again < close_at - 300:
                push(again, _ARRIVE, (queue, call.caller))
                return
            days = 1
        offset = rng.uniform(0.5, CLOSE_HOUR - OPEN_HOUR - 1.5) * 3600
        self.pending.setdefault(day + timedelta(days=days), []).append((offset, call.caller, queue))


def _rotates_after(day: date, rotation: str) -> bool:
    following = day + timedelta(days=1)
    if rotation == "day":
        return True
    if rotation == "week":
        return following.weekday() == 0
    if rotation == "month":
        return following.day == 1
    raise ValueError(f"unknown rotation {rotation}")


def iter_queue_logs(
    *,
    folder: Path,
    agents: Sequence[CallAgent],
    first: date,
    last: date,
    timezone: str,
    rng: random.Random,
    report: CallsReport,
    rotation: str = ROTATION,
    observer: DayObserver | None = None,
) -> Iterator[Path]:
    """Simulate every local day from `first` to `last` and write the queue_log into `folder`
    (replacing the queue_log files already there), rotated per day, week (Monday 00:00) or
    month; each file is named after the first day it holds and yielded once complete. The
    observer, if any, is handed each day (see `DayFacts`)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in sorted(folder.glob(f"{FILE_PREFIX}*")):
        old.unlink()
    centre = _Centre(agents, ZoneInfo(timezone), rng, observer)
    centre.report = report
    day, opened = first, first
    lines: list[str] = []
    while day <= last:
        lines += centre.simulate_day(day)
        if day == last or _rotates_after(day, rotation):
            path = folder / f"{FILE_PREFIX}{opened:%Y%m%d}"
            path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
            report.files.append(path)
            report.lines += len(lines)
            lines = []
            opened = day + timedelta(days=1)
            yield path
        day += timedelta(days=1)


def write_queue_logs(
    *,
    folder: Path,
    agents: Sequence[CallAgent],
    first: date,
    last: date,
    timezone: str,
    rng: random.Random,
    rotation: str = ROTATION,
) -> CallsReport:
    """Write every queue_log file (see `iter_queue_logs`)."""
    report = CallsReport(folder=folder)
    for _ in iter_queue_logs(
        folder=folder,
        agents=agents,
        first=first,
        last=last,
        timezone=timezone,
        rng=rng,
        report=report,
        rotation=rotation,
    ):
        pass
    return report


def simulate_site(
    *,
    agents: Sequence[CallAgent],
    first: date,
    last: date,
    timezone: str,
    rng: random.Random,
    observer: DayObserver,
    callid_prefix: str,
) -> CallsReport:
    """Simulate a site whose ACD writes no queue_log: its own queues and callers, every day
    from `first` to `last` as `iter_queue_logs` does, seen only by the observer."""
    report = CallsReport(folder=Path())
    centre = _Centre(agents, ZoneInfo(timezone), rng, observer, callid_prefix)
    centre.report = report
    day = first
    while day <= last:
        centre.simulate_day(day)
        day += timedelta(days=1)
    return report


@dataclass
class ImportTotals:
    """What importing the generated files did, summed over the files."""

    files: int = 0
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rows_ignored: int = 0
    interactions: int = 0  # rows stored: calls and agent legs
    states: int = 0  # agent state intervals stored
    unmapped: set[str] = field(default_factory=set)

    def import_file(self, *, session: Session, settings: Settings, path: Path) -> None:
        """Import one file through the queue_log adapter and the ledger, and count it."""
        report = ingest_service.import_file(
            session=session,
            settings=settings,
            adapter="queue_log",
            path=path,
        )
        self.files += 1
        self.rows_read += report.rows_read
        self.rows_accepted += report.rows_accepted
        self.rows_rejected += report.rows_rejected
        self.rows_ignored += report.rows_ignored
        self.interactions += report.stored.get("interactions", 0)
        self.states += report.stored.get("agent_states", 0)
        self.unmapped.update(identity for identity, _ in report.unmapped_identities)


def import_queue_logs(
    *, session: Session, settings: Settings, files: Sequence[Path]
) -> ImportTotals:
    """Import the files in order, as `agentladder import queue-log <file>...` would."""
    totals = ImportTotals()
    for path in files:
        totals.import_file(session=session, settings=settings, path=path)
    return totals


def generate_and_import(
    *,
    session: Session,
    settings: Settings,
    folder: Path,
    agents: Sequence[CallAgent],
    first: date,
    last: date,
    rng: random.Random,
    observer: DayObserver | None = None,
) -> tuple[CallsReport, ImportTotals]:
    """Write the files (see `iter_queue_logs`) and import each one as soon as it is written.

    (Generating in a worker thread while importing saves nothing: DuckDB already keeps both
    cores busy during an import.)"""
    report = CallsReport(folder=folder)
    totals = ImportTotals()
    for path in iter_queue_logs(
        folder=folder,
        agents=agents,
        first=first,
        last=last,
        timezone=settings.timezone,
        rng=rng,
        report=report,
        observer=observer,
    ):
        totals.import_file(session=session, settings=settings, path=path)
    return report, totals
