"""The other per-contact records centres export as tables, each read through a column mapping:
satisfaction surveys, complaints and praise, tickets, sales leads and rosters.

Each adapter is a `Layout` (its fields, what a mapping must name) and a row builder; the
shared reading, checking and accounting is agentladder.ingest.mapped.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Any

from agentladder.errors import InvalidInput
from agentladder.ingest.adapters import AdapterInput, ParsedFile
from agentladder.ingest.calls_table import _flag
from agentladder.ingest.datasets import FEEDBACK, LEADS, SCHEDULES, SURVEYS, TICKETS
from agentladder.ingest.mapped import (
    Layout,
    MappedSheet,
    OneOf,
    Row,
    RowError,
    SkipRow,
    at_local,
    local_day,
    time_of_day,
    when,
)

WHEN_FIELDS = ("datetime", "date", "time")
WHEN = OneOf("datetime (or date)", (("datetime",), ("date",)))

# Verdicts a review or a sales system writes, beyond calls_table's yes/no words.
TRUE_WORDS = {"有效", "成立", "属实", "合格", "成交", "已成交", "转化", "已转化", "计划内"}
TRUE_WORDS |= {"valid", "qualified", "converted", "won", "planned"}
FALSE_WORDS = {"无效", "不成立", "不属实", "不合格", "未成交", "未转化", "计划外", "临时"}
FALSE_WORDS |= {"invalid", "unqualified", "not converted", "lost", "unplanned"}


def flag(text: str) -> bool:
    """A yes/no cell: calls_table's words (是/否, Y/N ...) and verdicts (有效/无效, 成交 ...)."""
    folded = text.strip().casefold()
    if folded in TRUE_WORDS:
        return True
    if folded in FALSE_WORDS:
        return False
    return _flag(text)


# --- surveys (CSAT 1-5, NPS 0-10) ---------------------------------------------------------

SURVEY_LAYOUT = Layout(
    "surveys",
    ("survey_id", "call_id", "agent", *WHEN_FIELDS, "score", "resolved"),
    ("agent", WHEN, "score"),
)


def parse_surveys(source: AdapterInput) -> ParsedFile:
    """Satisfaction surveys: one scored answer per row; a row without a score (未评价) is
    ignored. `scale_max` in the mapping is the scale's top (5: CSAT, 10: NPS)."""
    sheet = MappedSheet.open(source, SURVEY_LAYOUT)
    zone = sheet.zone
    scale = sheet.mapping.get("scale_max", 5)
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not 0 < scale < math.inf:
        raise InvalidInput("scale_max in the mapping must be a positive number")

    def score_of(text: str) -> float:
        score = float(text)
        if not 0 <= score <= scale:
            raise ValueError(f"outside 0..{scale:g}")
        return score

    def build(row: Row) -> dict[str, Any] | None:
        score = row.read("score", score_of)
        if score is None:
            raise SkipRow("surveys without a score, not rated (ignored)")
        agent = row.need("agent")
        at = when(row, zone)
        call_id = row.text("call_id")
        return {
            "key": row.text("survey_id") or f"{call_id}|{agent}|{at.isoformat()}",
            "callid": call_id or None,
            "agent_identity": agent,
            "event_at": at,
            "score": score,
            "scale_max": float(scale),
            "resolved": row.read("resolved", flag),
        }

    return sheet.parse_into("surveys", SURVEYS, build)


# --- complaints and praise ----------------------------------------------------------------

FEEDBACK_LAYOUT = Layout(
    "feedback",
    ("reference", "call_id", "agent", *WHEN_FIELDS, "kind", "severity", "valid"),
    ("agent", WHEN, "kind"),
)
# Their word -> ours; a mapping's `values: {kind: ...}` comes first.
KINDS = {
    "complaint": "complaint",
    "praise": "praise",
    "投诉": "complaint",
    "客户投诉": "complaint",
    "表扬": "praise",
    "赞许": "praise",
    "赞扬": "praise",
    "感谢": "praise",
}


def kind_of(text: str) -> str:
    """complaint or praise."""
    kind = KINDS.get(text.strip().casefold())
    if kind is None:
        raise ValueError(f"{text} is neither complaint nor praise (map it under values: kind:)")
    return kind


def parse_feedback(source: AdapterInput) -> ParsedFile:
    """Complaints and praise (客户投诉/表扬): who, when, which, how grave, upheld or not."""
    sheet = MappedSheet.open(source, FEEDBACK_LAYOUT)
    zone = sheet.zone

    def build(row: Row) -> dict[str, Any]:
        agent = row.need("agent")
        at = when(row, zone)
        kind = row.check("kind", lambda: kind_of(row.need("kind")))
        reference = row.text("reference")
        return {
            "key": reference or f"{kind}|{agent}|{at.isoformat()}",
            "reference": reference or None,
            "callid": row.text("call_id") or None,
            "agent_identity": agent,
            "event_at": at,
            "kind": kind,
            "severity": row.text("severity") or None,
            "valid": row.read("valid", flag),
        }

    return sheet.parse_into("feedback", FEEDBACK, build)


# --- tickets and leads ----------------------------------------------------------------------

TICKET_LAYOUT = Layout(
    "tickets",
    ("ticket_id", "agent", *WHEN_FIELDS, "valid", "category"),
    ("ticket_id", "agent", WHEN),
)


def parse_tickets(source: AdapterInput) -> ParsedFile:
    """Tickets (工单) an agent created: when, judged valid or not (有效/无效), category."""
    sheet = MappedSheet.open(source, TICKET_LAYOUT)
    zone = sheet.zone

    def build(row: Row) -> dict[str, Any]:
        ticket_id, agent = row.need("ticket_id"), row.need("agent")
        return {
            "key": ticket_id,
            "agent_identity": agent,
            "event_at": when(row, zone),
            "valid": row.read("valid", flag),
            "category": row.text("category") or None,
        }

    return sheet.parse_into("tickets", TICKETS, build)


LEAD_LAYOUT = Layout(
    "leads",
    ("lead_id", "agent", *WHEN_FIELDS, "qualified", "converted", "campaign"),
    ("lead_id", "agent", WHEN),
)


def parse_leads(source: AdapterInput) -> ParsedFile:
    """Sales leads (销售线索) an agent created: when, qualified, converted, campaign."""
    sheet = MappedSheet.open(source, LEAD_LAYOUT)
    zone = sheet.zone

    def build(row: Row) -> dict[str, Any]:
        lead_id, agent = row.need("lead_id"), row.need("agent")
        return {
            "key": lead_id,
            "agent_identity": agent,
            "event_at": when(row, zone),
            "qualified": row.read("qualified", flag),
            "converted": row.read("converted", flag),
            "campaign": row.text("campaign") or None,
        }

    return sheet.parse_into("leads", LEADS, build)


# --- rosters --------------------------------------------------------------------------------

SCHEDULE_LAYOUT = Layout(
    "schedules",
    ("agent", "date", "start", "end", "hours", "shift", "planned", "absence"),
    ("agent", "date"),
)
DAY = timedelta(days=1)
# A shift cell that says "no shift today".
REST = {"休", "休息", "公休", "轮休", "rest", "off", "day off", "-"}
_NEXT_DAY = re.compile(r"^(?:次日|\+1\s*)")
_HOURS = re.compile(r"^(.+?)\s*(?:-|~|～|—|–|至|到)\s*(.+)$")


def clock(text: str) -> timedelta:
    """A shift's clock time; 次日07:00 or +1 07:00 is the next day's."""
    rest = _NEXT_DAY.sub("", text.strip())
    return time_of_day(rest) + (DAY if rest != text.strip() else timedelta(0))


def hours_of(text: str) -> tuple[timedelta, timedelta]:
    """A shift's start and end from one cell: 08:00-17:00, 22:00~次日06:00, 9:00至18:00."""
    match = _HOURS.match(text.strip())
    if not match:
        raise ValueError(f"{text} is not start-end")
    return clock(match.group(1)), clock(match.group(2))


def _maybe_hours(shift: str) -> tuple[timedelta | None, timedelta | None]:
    try:
        return hours_of(shift)
    except ValueError:
        return None, None  # a shift's name (早班, A-1 ...), not its hours


def parse_schedules(source: AdapterInput) -> ParsedFile:
    """Rosters (排班): each agent's shift on a day (an end before the start is the next
    day's), planned or not, and absences (事假, 病假, 年假 ...). A day whose shift says
    rest (休) and has no absence is ignored."""
    sheet = MappedSheet.open(source, SCHEDULE_LAYOUT)
    zone = sheet.zone

    def build(row: Row) -> dict[str, Any] | None:
        agent = row.need("agent")
        day = row.check("date", lambda: local_day(row.need("date")))
        shift, absence = row.text("shift"), row.text("absence")
        start: timedelta | None
        end: timedelta | None
        if row.text("hours"):
            start, end = row.check("hours", lambda: hours_of(row.text("hours")))
        else:
            start, end = row.read("start", clock), row.read("end", clock)
            if start is None and end is None and shift:
                start, end = _maybe_hours(shift)  # a 班次 cell like 08:00-17:00
        if (
            start is None
            and end is None
            and not absence
            and (not shift or shift.casefold() in REST)
        ):
            raise SkipRow("days off, nothing rostered (ignored)")
        if (start is None) != (end is None):
            raise RowError("start" if start is None else "end", "empty")
        if start is not None and end is not None:
            if start >= DAY:
                raise RowError("start", "a shift cannot start at 24:00 or later")
            if end == start:
                raise RowError("end", "the shift ends when it starts")
            if end < start:
                end += DAY
        begins = row.check("date", lambda: at_local(day, zone, start or timedelta(0)))
        ends = None if end is None else row.check("end", lambda: at_local(day, zone, end))
        started = "day" if start is None else str(start)
        return {
            "key": f"{agent}|{day.isoformat()}|{started}|{absence}",
            "agent_identity": agent,
            "day": day,
            "event_at": begins,
            "end_at": ends,
            "shift": shift or None,
            "planned": row.read_or("planned", flag, True),
            "absence": absence or None,
        }

    return sheet.parse_into("schedules", SCHEDULES, build)
