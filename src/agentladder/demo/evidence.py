"""Demo evidence beyond the queue_log: the exports a centre's other systems give, drawn from
the very calls the simulation (`demo.calls`) answered and from the agents' latent skill.

A centre has more than its ACD: an IVR satisfaction survey, a complaints and praise register,
a ticket (工单) system, a roster (排班表), a CRM for sales leads, and, on a site whose ACD
keeps no call-level log, only the per-agent daily report (坐席日报). `EvidenceBuilder` watches
the simulation day by day (it is a `demo.calls.DayObserver`) and draws, from each answered
call and the agent's skill that day:

* a survey when the agent hung up first (the caller is then put through to the IVR survey, as
  Chinese centres do; a caller who hangs up first hears none), answered by about 60% of those
  (the others are exported as 未评价); the score follows the agent's skill, whether the problem
  was really solved (the caller will call again when it was not), a call cut short and the
  wait, plus what skill does not explain: the agent's manner, the line (complaint callers
  rate lower) and the caller's mood;
* now and then a complaint (likelier for weaker agents, after a cut-off call, an unsolved
  problem, a transfer or a long wait; some judged invalid on review, more often about strong
  agents) or praise (likelier for stronger agents);
* a ticket on a share of calls that depends on the queue (most in the complaints queue), more
  often when the problem was not solved; judged valid more often for stronger agents;
* a sales lead on some calls of the sales queue, qualified and converted more often for
  stronger agents;
* the roster: every agent's shift on every day (rest days as 休, leave as 事假/病假/年假/调休
  on the shift they were rostered for), agreeing with who logged in;
* for the agents of the daily-report site: one row per agent and worked day with login, talk,
  hold, after-call work, ready and not-ready time and the call counts (sales agents there also
  dial out in part of their idle time).

The files are written month by month as each system exports them (CSV in UTF-8 with BOM or
GB18030, XLSX) and imported through the real adapters with the shipped mappings, as
`agentladder import <adapter> FILE --mapping ingest/mappings/<name>_zh.yaml` would. The
builder's own random source is separate from the simulation's, so the queue_log files do not
change when the evidence does, and the same seed writes byte-identical files.
"""

from __future__ import annotations

import csv
import io
import math
import random
import re
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple, Protocol, TypeVar
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.demo.calls import SHIFT_WEIGHTS, SHIFTS, AgentDay, AnsweredCall, DayFacts
from agentladder.ingest import service as ingest_service
from agentladder.ingest.service import load_mapping, shipped_mapping

# --- how the evidence behaves -----------------------------------------------------------------

# Callers put through to the IVR survey (the agent hung up first) who press a key.
SURVEY_RESPONSE_RATE = 0.62
# Respondents who skip the second question (问题是否解决).
SURVEY_SKIP_RESOLVED = 0.05
SURVEY_WORDS = ("非常不满意", "不满意", "一般", "满意", "非常满意")  # scores 1..5
UNANSWERED = "未评价"
# Ordered logit on the caller's satisfaction: score = 1 + the cut points below it.
SURVEY_CUTS = (-2.6, -1.7, -0.7, 0.7)
# How callers of a line rate whoever answers: complaint callers are harder to please.
LINE_MOOD = {"complaints": -0.6, "billing": -0.2, "vip": 0.2}
# Spread of the agents' rapport (a warm voice, a manner) that pleases callers whatever the
# skill, so that satisfaction is evidence of skill, not a copy of it.
RAPPORT_SD = 0.35
# Complaints and praise per answered call for an agent of skill 0, before the call's factors.
COMPLAINT_RATE = 0.001
PRAISE_RATE = 0.0005
# Share of answered calls that create a ticket, by skill group.
TICKET_SHARE = {
    "general": 0.08,
    "billing": 0.18,
    "complaints": 0.45,
    "sales": 0.12,
    "vip": 0.22,
    "english": 0.08,
}
TICKET_CATEGORIES = {
    "general": ("业务咨询", "故障报修", "信息变更", "建议"),
    "billing": ("账务核查", "退费申请", "发票申请", "套餐变更"),
    "complaints": ("投诉处理", "服务投诉", "业务投诉", "争议处理"),
    "sales": ("业务办理", "套餐升级", "宽带预约"),
    "vip": ("VIP专属服务", "业务办理", "故障报修", "账务核查"),
    "english": ("业务咨询", "国际漫游", "故障报修"),
}
TICKET_REVIEW_FAULTS = ("重复建单", "信息不全", "分类错误", "无需建单")
# Why a rostered agent was absent (LEAVE_RATE of the simulation), with weights.
ABSENCE_REASONS = ("病假", "事假", "年假", "调休")
ABSENCE_WEIGHTS = (35, 30, 25, 10)
SHIFT_NAMES = ("早班", "白班", "中班", "晚班")  # SHIFTS, in order
REST = "休"
# Campaigns of the sales queue, by calendar month.
CAMPAIGNS = (
    "新春融合套餐",
    "开年流量包",
    "春季宽带提速",
    "5G套餐升级",
    "五一出游流量包",
    "618宽带特惠",
    "暑期流量包",
    "暑期亲情套餐",
    "开学季融合套餐",
    "国庆出游流量包",
    "双11宽带续约",
    "年末合约续约",
)
# Outbound dialling on the daily-report site: sales agents dial in this share of idle time.
OUTBOUND_IDLE_SHARE = 0.35
OUTBOUND_DIAL_S = 28.0  # dialling and ringing, per attempt
# How long after the call a complaint or praise reaches the register, in days, with weights.
FEEDBACK_DELAY_DAYS = (0, 1, 2, 3, 5, 7)
FEEDBACK_DELAY_WEIGHTS = (55, 20, 10, 7, 5, 3)
COMPLAINT_SUMMARIES = {
    "cut_short": ("通话中被坐席挂断", "坐席未听完诉求即结束通话"),
    "transfer": ("多次转接无人处理", "转接后问题仍未解决"),
    "unsolved": ("问题未解决，多次来电", "坐席承诺回电未回电", "业务解释不清"),
    "attitude": ("服务态度生硬", "坐席语气不耐烦", "等待时间过长"),
}
PRAISE_SUMMARIES = (
    "服务热情耐心",
    "业务熟练，一次解决问题",
    "主动帮助客户办理",
    "感谢坐席耐心解答",
)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# --- what happened (drawn during the simulation), formatted when the files are written ------


class _Timed(Protocol):
    """An event with an epoch `at` that sorts by it."""

    @property
    def at(self) -> float: ...

    def __lt__(self, other: Any, /) -> bool: ...


E = TypeVar("E", bound=_Timed)


class SurveyEvent(NamedTuple):
    """An IVR survey the caller was put through to, answered or not."""

    at: float
    callid: str
    agent: str
    group: str
    score: int | None  # None: put through to the survey, no key pressed (未评价)
    resolved: bool | None


class FeedbackEvent(NamedTuple):
    """A complaint or praise about an agent, as the register records it."""

    at: float
    callid: str
    agent: str
    kind: str  # 投诉 | 表扬
    severity: str
    valid: bool
    summary: str


class TicketEvent(NamedTuple):
    """A ticket (工单) an agent created during a call's wrap-up."""

    at: float
    callid: str
    agent: str
    group: str
    category: str
    valid: bool
    review: str


class LeadEvent(NamedTuple):
    """A sales lead an agent created from an inbound or outbound call."""

    at: float
    callid: str
    agent: str
    source: str  # 呼入 | 外呼
    qualified: bool
    converted: bool


class RosterEvent(NamedTuple):
    """An agent's line of the roster on one day: shift, rest day or leave."""

    day: date
    agent: str
    shift: int | None  # index into SHIFTS; None: rest day
    absence: str


class DailyEvent(NamedTuple):
    """One agent-day of the daily-report site, as its ACD totals it."""

    day: date
    agent: str
    login_s: float
    talk_s: float  # without hold
    hold_s: float
    acw_s: float
    ready_s: float
    pause_s: float
    offered: int
    answered: int
    missed: int
    transferred: int
    asa_s: float
    outbound_calls: int
    outbound_connected: int


@dataclass(frozen=True)
class Person:
    """An agent as the other systems name them."""

    employee_no: str
    name: str
    team_code: str
    team_name: str
    groups: tuple[str, ...]


class EvidenceBuilder:
    """Draws every kind of evidence from the simulated days (a `demo.calls.DayObserver`)."""

    def __init__(
        self,
        *,
        people: Mapping[str, Person],
        group_names: Mapping[str, str],
        daily_report_agents: Collection[str],
        timezone: str,
        last_day: date,
        rng: random.Random,
    ) -> None:
        self.people = dict(people)  # by agent number
        self.group_names = dict(group_names)  # skill group code -> its name (技能组)
        self.daily_report_agents = frozenset(daily_report_agents)
        self.zone = ZoneInfo(timezone)
        # Nothing is registered after the last simulated day: the exports are taken then.
        self.until = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), self.zone)
        self.rng = rng
        self.rapport = {number: rng.gauss(0.0, RAPPORT_SD) for number in sorted(self.people)}
        self.surveys: list[SurveyEvent] = []
        self.feedback: list[FeedbackEvent] = []
        self.tickets: list[TicketEvent] = []
        self.leads: list[LeadEvent] = []
        self.roster: list[RosterEvent] = []
        self.daily: list[DailyEvent] = []
        # (employee number, month) -> planned shifts and absences, as the roster says.
        self.planned_shifts: Counter[tuple[str, str]] = Counter()
        self.absences: Counter[tuple[str, str]] = Counter()

    def local(self, at: float) -> datetime:
        """An epoch as the centre's wall-clock time to the second (naive, as exports write
        it)."""
        return datetime.fromtimestamp(int(at), self.zone).replace(tzinfo=None)

    # --- the simulation hands over each day ---------------------------------------------------

    def observe_day(self, facts: DayFacts) -> None:
        """Draw the day's surveys, feedback, tickets, leads, roster and daily-report rows."""
        daily_calls: dict[str, list[AnsweredCall]] = defaultdict(list)
        for call in facts.calls:
            self._survey(call)
            self._feedback(call)
            self._ticket(call)
            if call.group == "sales" and not call.cut_short:
                at = call.connect_at + call.talk_s + 0.5 * call.wrap_up_s
                self._lead(at, call.callid, call.agent, call.skill, "呼入")
            if call.agent in self.daily_report_agents:
                daily_calls[call.agent].append(call)
        month = f"{facts.day:%Y-%m}"
        for worked in facts.worked:
            self._rostered(facts.day, month, worked.agent, worked.shift, "")
            if worked.agent in self.daily_report_agents:
                self._daily_row(facts.day, worked, daily_calls.get(worked.agent, []))
        for agent in facts.on_leave:
            shift = self.rng.choices(range(len(SHIFTS)), weights=SHIFT_WEIGHTS)[0]
            reason = self.rng.choices(ABSENCE_REASONS, ABSENCE_WEIGHTS)[0]
            self._rostered(facts.day, month, agent, shift, reason)
        for agent in facts.resting:
            self.roster.append(RosterEvent(facts.day, agent, None, ""))

    def _rostered(self, day: date, month: str, agent: str, shift: int, absence: str) -> None:
        self.roster.append(RosterEvent(day, agent, shift, absence))
        key = (self.people[agent].employee_no, month)
        self.planned_shifts[key] += 1
        if absence:
            self.absences[key] += 1

    def _survey(self, call: AnsweredCall) -> None:
        if call.ended_by != "agent":
            return  # the caller hung up first (or was transferred): no survey heard
        rng = self.rng
        at = call.connect_at + call.talk_s + rng.uniform(6.0, 40.0)
        if rng.random() >= SURVEY_RESPONSE_RATE:
            self.surveys.append(SurveyEvent(at, call.callid, call.agent, call.group, None, None))
            return
        # Callers mostly know whether their problem was solved: the ones who will call again.
        resolved = rng.random() < (0.25 if call.repeat_booked else 0.94)
        mood = math.log(1.0 / max(rng.random(), 1e-12) - 1.0)  # logistic noise
        satisfaction = (
            0.9
            + 0.85 * call.skill
            + self.rapport[call.agent]
            + LINE_MOOD.get(call.group, 0.0)
            + (1.0 if resolved else -0.8)
            - (2.5 if call.cut_short else 0.0)
            - 0.01 * max(0, call.wait_s - 20)
            + mood
        )
        score = 1 + sum(satisfaction > cut for cut in SURVEY_CUTS)
        said = None if rng.random() < SURVEY_SKIP_RESOLVED else resolved
        self.surveys.append(SurveyEvent(at, call.callid, call.agent, call.group, score, said))

    def _feedback(self, call: AnsweredCall) -> None:
        rng = self.rng
        transferred = call.ended_by == "transfer"
        complaint = COMPLAINT_RATE * math.exp(-0.8 * call.skill)
        complaint *= 4.0 if call.cut_short else 1.0
        complaint *= 1.8 if call.repeat_booked else 1.0
        complaint *= 1.5 if transferred else 1.0
        complaint *= 1.0 + max(0, call.wait_s - 60) / 120
        roll = rng.random()
        if roll < complaint:
            if call.cut_short:
                cause = "cut_short"
            elif transferred:
                cause = "transfer"
            elif call.repeat_booked:
                cause = "unsolved"
            else:
                cause = "attitude"
            grave = rng.random()
            serious = 0.4 if cause == "cut_short" else 0.2
            severity = "重大" if grave < 0.04 else "严重" if grave < serious else "一般"
            # Complaints about strong agents are more often found groundless on review.
            valid = rng.random() >= 0.12 + 0.2 * _sigmoid(1.5 * call.skill)
            summary = rng.choice(COMPLAINT_SUMMARIES[cause])
            self._register(
                call,
                FeedbackEvent(0.0, call.callid, call.agent, "投诉", severity, valid, summary),
            )
        elif roll < complaint + PRAISE_RATE * math.exp(0.8 * call.skill) * (
            0.3 if call.repeat_booked else 1.0
        ):
            kind = "表扬信" if rng.random() < 0.1 else "表扬"
            summary = rng.choice(PRAISE_SUMMARIES)
            self._register(
                call, FeedbackEvent(0.0, call.callid, call.agent, kind, "", True, summary)
            )

    def _register(self, call: AnsweredCall, event: FeedbackEvent) -> None:
        """File a complaint or praise when it reaches the register (hours or days later)."""
        rng = self.rng
        delay = rng.choices(FEEDBACK_DELAY_DAYS, FEEDBACK_DELAY_WEIGHTS)[0]
        ended = call.connect_at + call.talk_s
        if delay == 0:
            at = ended + rng.uniform(300.0, 4 * 3600.0)
        else:
            day = datetime.fromtimestamp(ended, self.zone).date() + timedelta(days=delay)
            opening = datetime.combine(day, datetime.min.time(), self.zone).timestamp()
            at = opening + rng.uniform(8.5, 21.5) * 3600
        if at < self.until.timestamp():
            self.feedback.append(event._replace(at=at))

    def _ticket(self, call: AnsweredCall) -> None:
        rng = self.rng
        share = TICKET_SHARE.get(call.group, 0.08) * (1.5 if call.repeat_booked else 1.0)
        if call.cut_short or rng.random() >= share:
            return
        valid = rng.random() < _sigmoid(2.0 + 1.0 * call.skill)
        review = "" if valid else rng.choice(TICKET_REVIEW_FAULTS)
        category = rng.choice(TICKET_CATEGORIES.get(call.group, TICKET_CATEGORIES["general"]))
        # Created during the call's wrap-up.
        at = call.connect_at + call.talk_s + rng.uniform(0.5, 0.9) * call.wrap_up_s
        self.tickets.append(
            TicketEvent(at, call.callid, call.agent, call.group, category, valid, review)
        )

    def _lead(self, at: float, callid: str, agent: str, skill: float, source: str) -> None:
        rng = self.rng
        # Callers to the sales line came to buy; people on the campaign list did not.
        chance = (0.22 if source == "呼入" else 0.16) * _sigmoid(0.8 * skill + 0.3)
        if rng.random() >= chance:
            return
        qualified = rng.random() < _sigmoid(0.6 + 0.8 * skill)
        converted = qualified and rng.random() < _sigmoid(-1.0 + 0.7 * skill)
        self.leads.append(LeadEvent(at, callid, agent, source, qualified, converted))

    def _daily_row(self, day: date, worked: AgentDay, calls: Sequence[AnsweredCall]) -> None:
        rng = self.rng
        talk = hold = acw = wait = 0.0
        transferred = 0
        for call in calls:
            # The ACD splits hold out of talk: weaker agents put callers on hold more and longer.
            call_hold = 0.0
            if rng.random() < 0.10 + 0.15 * _sigmoid(-call.skill):
                typical = math.log(35.0) - 0.1 * call.skill
                call_hold = min(0.4 * call.talk_s, rng.lognormvariate(typical, 0.5))
            talk += call.talk_s - call_hold
            hold += call_hold
            acw += call.wrap_up_s
            wait += call.wait_s
            transferred += call.ended_by == "transfer"
        login = worked.logoff_at - worked.login_at
        idle = max(0.0, login - worked.paused_s - talk - hold - acw - worked.ring_s)
        dialled = connected = 0
        person = self.people[worked.agent]
        if "sales" in person.groups:
            # Preview dialling of the campaign list in part of the idle time.
            budget = OUTBOUND_IDLE_SHARE * idle
            spent = 0.0
            # Who picks up depends on the day's list, not on the agent (what they buy does).
            reach = rng.uniform(0.28, 0.42)
            while spent + OUTBOUND_DIAL_S < budget:
                dialled += 1
                spent += OUTBOUND_DIAL_S
                if rng.random() < reach:
                    connected += 1
                    spent += rng.lognormvariate(math.log(110.0), 0.6)
                    at = rng.uniform(worked.login_at + 1800.0, worked.logoff_at - 600.0)
                    self._lead(at, "", worked.agent, worked.skill, "外呼")
            idle = max(0.0, idle - spent)
        self.daily.append(
            DailyEvent(
                day,
                worked.agent,
                login,
                talk,
                hold,
                acw,
                idle,
                worked.paused_s,
                worked.offered,
                len(calls),
                worked.missed,
                transferred,
                wait / len(calls) if calls else 0.0,
                dialled,
                connected,
            )
        )


# --- the exports ------------------------------------------------------------------------------

Cell = str | int | date | datetime | None


@dataclass(frozen=True)
class Sheet:
    """One month of one export: its rows (unanswered surveys, rest days and the report's
    total line included, as the systems export them)."""

    month: str  # YYYY-MM
    rows: list[list[Cell]]


@dataclass(frozen=True)
class Export:
    """How one of the centre's systems exports its evidence: the adapter and the shipped
    mapping that read it, the file's name, format and header, and the rows per month."""

    adapter: str
    mapping: str  # ingest/mappings/<mapping>.yaml
    folder: str  # under <data_dir>/demo/
    stem: str  # the file is <stem>_<YYYYMM><suffix>
    suffix: str  # .csv or .xlsx
    encoding: str  # of a CSV: utf-8-sig (BOM) or gb18030, as Chinese exports are
    header: tuple[str, ...]
    sheets: Callable[[EvidenceBuilder], list[Sheet]]


@dataclass(frozen=True)
class WrittenFile:
    """A file the demo wrote, with the rows it holds."""

    path: Path
    rows: int


def _by_month(events: Iterable[Any], month_of: Callable[[Any], str]) -> dict[str, list[Any]]:
    months: dict[str, list[Any]] = defaultdict(list)
    for event in sorted(events):
        months[month_of(event)].append(event)
    return dict(sorted(months.items()))


def _stamped_by_month(
    builder: EvidenceBuilder, events: Iterable[E]
) -> dict[str, list[tuple[datetime, E]]]:
    """Events in time order with their wall-clock time, by the month they fall in."""
    months: dict[str, list[tuple[datetime, E]]] = defaultdict(list)
    for event in sorted(events):
        at = builder.local(event.at)
        months[f"{at.year}-{at.month:02d}"].append((at, event))
    return dict(sorted(months.items()))


def _numbered(prefix: str, width: int) -> Callable[[datetime], str]:
    """Reference numbers as the systems give them: prefix, date, sequence within the day."""
    counts: dict[tuple[int, int, int], int] = {}

    def next_id(at: datetime) -> str:
        day = (at.year, at.month, at.day)
        counts[day] = number = counts.get(day, 0) + 1
        return f"{prefix}{at.year}{at.month:02d}{at.day:02d}{number:0{width}d}"

    return next_id


def _clock(seconds: float) -> str:
    """h:mm:ss, as ACD reports print durations."""
    whole = round(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _yes_no(value: bool | None) -> str:
    return "" if value is None else "是" if value else "否"


def _survey_sheets(builder: EvidenceBuilder) -> list[Sheet]:
    sheets = []
    for month, events in _stamped_by_month(builder, builder.surveys).items():
        survey_id = _numbered("PJ", 6)
        rows: list[list[Cell]] = []
        for at, event in events:
            person = builder.people[event.agent]
            rows.append(
                [
                    survey_id(at),
                    event.callid,
                    person.employee_no,
                    person.name,
                    builder.group_names.get(event.group, event.group),
                    "IVR",
                    at.isoformat(" "),
                    UNANSWERED if event.score is None else SURVEY_WORDS[event.score - 1],
                    _yes_no(event.resolved),
                ]
            )
        sheets.append(Sheet(month, rows))
    return sheets


def _feedback_sheets(builder: EvidenceBuilder) -> list[Sheet]:
    sheets = []
    for month, events in _stamped_by_month(builder, builder.feedback).items():
        complaint_id, praise_id = _numbered("TS", 4), _numbered("BY", 4)
        rows: list[list[Cell]] = []
        for at, event in events:
            person = builder.people[event.agent]
            complaint = event.kind == "投诉"
            rows.append(
                [
                    complaint_id(at) if complaint else praise_id(at),
                    at,
                    event.kind,
                    person.employee_no,
                    person.name,
                    person.team_name,
                    event.callid,
                    event.severity,
                    event.summary,
                    "有效" if event.valid else "无效",
                    ("已核实" if event.valid else "经核实不成立") if complaint else "已登记",
                ]
            )
        sheets.append(Sheet(month, rows))
    return sheets


def _ticket_sheets(builder: EvidenceBuilder) -> list[Sheet]:
    sheets = []
    for month, events in _stamped_by_month(builder, builder.tickets).items():
        ticket_id = _numbered("GD", 6)
        rows: list[list[Cell]] = []
        for at, event in events:
            person = builder.people[event.agent]
            rows.append(
                [
                    ticket_id(at),
                    at.isoformat(" "),
                    person.employee_no,
                    person.name,
                    event.category,
                    builder.group_names.get(event.group, event.group),
                    event.callid,
                    "有效" if event.valid else "无效",
                    event.review,
                ]
            )
        sheets.append(Sheet(month, rows))
    return sheets


def _lead_sheets(builder: EvidenceBuilder) -> list[Sheet]:
    sheets = []
    for month, events in _stamped_by_month(builder, builder.leads).items():
        lead_id = _numbered("XS", 5)
        rows: list[list[Cell]] = []
        for at, event in events:
            person = builder.people[event.agent]
            rows.append(
                [
                    lead_id(at),
                    at,
                    person.employee_no,
                    person.name,
                    event.source,
                    CAMPAIGNS[at.month - 1],
                    event.callid,
                    "是" if event.qualified else "否",
                    "已成交" if event.converted else "未成交",
                ]
            )
        sheets.append(Sheet(month, rows))
    return sheets


def _roster_sheets(builder: EvidenceBuilder) -> list[Sheet]:
    sheets = []
    employee = {number: person.employee_no for number, person in builder.people.items()}
    events = sorted(builder.roster, key=lambda e: (e.day, employee[e.agent]))
    by_month = _by_month(events, lambda e: f"{e.day:%Y-%m}")
    for month, days in by_month.items():
        rows: list[list[Cell]] = []
        for event in sorted(days, key=lambda e: (employee[e.agent], e.day)):
            person = builder.people[event.agent]
            if event.shift is None:
                shift, start, end = REST, "", ""
            else:
                shift = SHIFT_NAMES[event.shift]
                start, end = (_hh_mm(hours) for hours in SHIFTS[event.shift])
            rows.append(
                [
                    person.employee_no,
                    person.name,
                    person.team_name,
                    f"{event.day:%Y-%m-%d}",
                    shift,
                    start,
                    end,
                    event.absence,
                ]
            )
        sheets.append(Sheet(month, rows))
    return sheets


def _hh_mm(hours: float) -> str:
    whole = int(hours)
    return f"{whole:02d}:{round((hours - whole) * 60):02d}"


def _daily_sheets(builder: EvidenceBuilder) -> list[Sheet]:
    sheets = []
    employee = {number: person.employee_no for number, person in builder.people.items()}
    for month, events in _by_month(builder.daily, lambda e: f"{e.day:%Y-%m}").items():
        rows: list[list[Cell]] = []
        for event in sorted(events, key=lambda e: (e.day, employee[e.agent])):
            person = builder.people[event.agent]
            rows.append(
                [
                    event.day,
                    person.employee_no,
                    person.name,
                    person.team_name,
                    *(
                        _clock(seconds)
                        for seconds in (
                            event.login_s,
                            event.talk_s,
                            event.hold_s,
                            event.acw_s,
                            event.ready_s,
                            event.pause_s,
                        )
                    ),
                    event.offered,
                    event.answered,
                    event.missed,
                    event.transferred,
                    _clock(event.asa_s),
                    event.outbound_calls,
                    event.outbound_connected,
                ]
            )
        # The report ends with its total line (合计), which the adapter skips.
        answered = sum(e.answered for e in events)
        waited = sum(e.asa_s * e.answered for e in events)
        rows.append(
            [
                "合计",
                "",
                "",
                "",
                *(
                    _clock(sum(getattr(e, name) for e in events))
                    for name in ("login_s", "talk_s", "hold_s", "acw_s", "ready_s", "pause_s")
                ),
                sum(e.offered for e in events),
                answered,
                sum(e.missed for e in events),
                sum(e.transferred for e in events),
                _clock(waited / answered if answered else 0.0),
                sum(e.outbound_calls for e in events),
                sum(e.outbound_connected for e in events),
            ]
        )
        sheets.append(Sheet(month, rows))
    return sheets


def _header(names: str) -> tuple[str, ...]:
    return tuple(names.split())


EXPORTS: tuple[Export, ...] = (
    Export(
        "surveys",
        "surveys_zh",
        "surveys",
        "满意度评价明细",
        ".csv",
        "utf-8-sig",
        _header("评价编号 通话流水号 工号 坐席姓名 技能组 评价渠道 评价时间 满意度 问题是否解决"),
        _survey_sheets,
    ),
    Export(
        "feedback",
        "feedback_zh",
        "feedback",
        "客户投诉表扬登记",
        ".xlsx",
        "",
        _header(
            "工单编号 受理时间 类型 被投诉/表扬工号 坐席姓名 班组 通话流水号"
            " 投诉等级 内容摘要 是否有效 处理结果"
        ),
        _feedback_sheets,
    ),
    Export(
        "tickets",
        "tickets_zh",
        "tickets",
        "工单明细",
        ".csv",
        "gb18030",
        _header("工单编号 创建时间 创建人工号 创建人 工单类型 技能组 通话流水号 是否有效 审核意见"),
        _ticket_sheets,
    ),
    Export(
        "schedules",
        "schedules_zh",
        "schedules",
        "排班表",
        ".csv",
        "utf-8-sig",
        ("工号", "姓名", "班组", "日期", "班次", "上班时间", "下班时间", "请假类型"),
        _roster_sheets,
    ),
    Export(
        "daily-stats",
        "daily_stats_zh",
        "daily_stats",
        "坐席日报",
        ".xlsx",
        "",
        # Like real reports it has more columns than the shipped mapping reads (未接来电量:
        # uncomment `missed` in the mapping to use it).
        _header(
            "日期 工号 姓名 班组 登录时长 通话时长 保持时长 话后处理时长 示闲时长 示忙时长"
            " 呼入量 接听量 未接来电量 转接量 平均应答时长 外呼量 外呼接通量"
        ),
        _daily_sheets,
    ),
    Export(
        "leads",
        "leads_zh",
        "leads",
        "销售线索",
        ".xlsx",
        "",
        _header(
            "线索编号 创建时间 坐席工号 坐席姓名 线索来源 营销活动 通话流水号 是否有效线索 是否成交"
        ),
        _lead_sheets,
    ),
)
EXPORTS_BY_ADAPTER = {export.adapter: export for export in EXPORTS}


def evidence_folder(settings: Settings, export: Export) -> Path:
    """Where the demo writes one kind of export: next to its queue_log folder."""
    return settings.data_dir / "demo" / export.folder


def _csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]], encoding: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # Excel's dialect: CRLF line ends, quotes where needed
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _xlsx_bytes(
    header: Sequence[str], rows: Iterable[Sequence[Cell]], title: str, saved_at: datetime
) -> bytes:
    """An XLSX workbook whose bytes depend on its content only: openpyxl stamps the save time
    into the document properties and the zip entries, so both are set to `saved_at`."""
    workbook = Workbook(write_only=True)
    workbook.properties.creator = "agentladder demo"
    workbook.properties.created = saved_at
    sheet = workbook.create_sheet(title)
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    saved = io.BytesIO()
    workbook.save(saved)
    stamp = saved_at.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    stable = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(saved.getvalue())) as source,
        zipfile.ZipFile(stable, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            content = source.read(entry.filename)
            if entry.filename == "docProps/core.xml":
                content = _MODIFIED.sub(rb"\g<1>" + stamp + rb"\g<2>", content)
            target.writestr(
                zipfile.ZipInfo(entry.filename, date_time=saved_at.timetuple()[:6]),
                content,
                compress_type=zipfile.ZIP_DEFLATED,
            )
    return stable.getvalue()


def write_export(
    *, builder: EvidenceBuilder, settings: Settings, export: Export
) -> list[WrittenFile]:
    """Write one system's monthly files (replacing the ones already there)."""
    folder = evidence_folder(settings, export)
    folder.mkdir(parents=True, exist_ok=True)
    for old in sorted(folder.glob(f"{export.stem}_*")):
        old.unlink()
    written = []
    for sheet in export.sheets(builder):
        year, month = (int(part) for part in sheet.month.split("-"))
        path = folder / f"{export.stem}_{year}{month:02d}{export.suffix}"
        if export.suffix == ".xlsx":
            # Exported the morning after the month ends.
            following = date(year + month // 12, month % 12 + 1, 1)
            saved_at = datetime.combine(following, datetime.min.time()) + timedelta(hours=1)
            data = _xlsx_bytes(export.header, sheet.rows, export.stem, saved_at)
        else:
            data = _csv_bytes(export.header, sheet.rows, export.encoding)
        path.write_bytes(data)
        written.append(WrittenFile(path, len(sheet.rows)))
    return written


@dataclass
class EvidenceImport:
    """What importing one system's files did, summed over the files."""

    adapter: str
    mapping: str
    folder: Path
    files: int = 0
    rows_written: int = 0
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rows_ignored: int = 0
    rows_duplicate: int = 0
    stored: int = 0
    unmapped: set[str] = field(default_factory=set)

    def facts(self) -> dict[str, object]:
        """The figures the demo summary shows."""
        return {
            "folder": str(self.folder),
            "mapping": self.mapping,
            "files": self.files,
            "rows_written": self.rows_written,
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted,
            "rows_ignored": self.rows_ignored,
            "rows_rejected": self.rows_rejected,
            "rows_duplicate": self.rows_duplicate,
            "stored": self.stored,
            "unmapped": sorted(self.unmapped),
        }


def import_export(
    *, session: Session, settings: Settings, export: Export, files: Sequence[WrittenFile]
) -> EvidenceImport:
    """Import the files through the export's adapter and shipped mapping, one by one, as
    `agentladder import <adapter> FILE --mapping <mapping>.yaml` would."""
    mapping = load_mapping(shipped_mapping(export.mapping))
    totals = EvidenceImport(export.adapter, export.mapping, evidence_folder(settings, export))
    for written in files:
        report = ingest_service.import_file(
            session=session,
            settings=settings,
            adapter=export.adapter,
            path=written.path,
            mapping=mapping,
        )
        totals.files += 1
        totals.rows_written += written.rows
        totals.rows_read += report.rows_read
        totals.rows_accepted += report.rows_accepted
        totals.rows_rejected += report.rows_rejected
        totals.rows_ignored += report.rows_ignored
        totals.rows_duplicate += report.rows_duplicate
        totals.stored += sum(report.stored.values())
        totals.unmapped.update(identity for identity, _ in report.unmapped_identities)
    return totals
