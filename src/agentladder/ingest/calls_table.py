"""Per-call tables (CSV/XLSX) as CRMs and ACDs export them, read through a column mapping.

Each row is one call offered to one agent: it becomes an `interactions` row, and its
satisfaction score (when present) a `surveys` row.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from agentladder.errors import InvalidInput
from agentladder.ingest.adapters import AdapterInput, ParsedFile
from agentladder.ingest.datasets import INTERACTIONS, SURVEYS, caller_hash
from agentladder.ingest.mapped import Layout, MappedSheet, OneOf, Row

FIELDS = (
    "call_id",
    "agent",
    "date",
    "time",
    "datetime",
    "topic",
    "queue",
    "answered",
    "resolved",
    "wait_s",
    "talk",
    "hold",
    "acw",
    "satisfaction",
    "caller",
)
REQUIRED = ("call_id", "agent")
YES = {"y", "yes", "1", "true", "t", "是", "已接", "接通", "已解决", "解决"}
NO = {"n", "no", "0", "false", "f", "否", "未接", "未接通", "未解决"}
_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")


def _flag(text: str) -> bool:
    folded = text.strip().casefold()
    if folded in YES:
        return True
    if folded in NO:
        return False
    raise ValueError(text)


def duration_s(text: str) -> float:
    """Seconds from `h:mm:ss`, `m:ss` or a plain number of seconds."""
    value = text.strip()
    match = _CLOCK.match(value)
    if match:
        hours, minutes, seconds = match.groups()
        return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    number = float(value)
    if number < 0 or number != number:
        raise ValueError(text)
    return number


def _when(day: str, clock: str, stamp: str, zone: ZoneInfo) -> datetime:
    if stamp:
        parsed = datetime.fromisoformat(stamp.replace("/", "-"))
    else:
        match = _DATE.match(day.strip())
        if not match:
            raise ValueError(day)
        year, month, dd = (int(part) for part in match.groups())
        parsed = datetime.combine(date(year, month, dd), time.fromisoformat(clock.strip().zfill(8)))
    return parsed.replace(tzinfo=zone) if parsed.tzinfo is None else parsed


LAYOUT = Layout(
    "calls-table",
    FIELDS,
    (*REQUIRED, OneOf("datetime (or date and time)", (("datetime",), ("date", "time")))),
    skip_totals=False,
)


def parse(source: AdapterInput) -> ParsedFile:
    """Read a per-call table through its mapping."""
    if source.mapping is None:
        raise InvalidInput("the calls-table adapter needs --mapping")
    sheet = MappedSheet.open(source, LAYOUT)
    zone = ZoneInfo(source.mapping.get("timezone") or source.settings.timezone)
    scale = float(source.mapping.get("satisfaction_scale", 5))

    def satisfaction(text: str) -> float:
        score = float(text)
        if not 0 <= score <= scale:
            raise ValueError(f"outside 0..{scale:g}")
        return score

    def build(row: Row) -> dict[str, dict[str, Any]]:
        call_id, agent = row.need("call_id"), row.need("agent")
        started = row.check(
            "datetime" if row.mapped("datetime") else "date",
            lambda: _when(row.text("date"), row.text("time"), row.text("datetime"), zone),
        )
        answered = row.read_or("answered", _flag, True)
        wait = row.read("wait_s", duration_s)
        talk = row.read("talk", duration_s)
        hold = row.read("hold", duration_s)
        acw = row.read("acw", duration_s)
        resolved = row.read("resolved", _flag)
        score = row.read("satisfaction", satisfaction)
        queue = row.text("queue") or row.text("topic")
        key = f"{call_id}|{queue}|{started.isoformat()}"
        records = {
            "interactions": {
                "key": key,
                "callid": call_id,
                "queue": queue or None,
                "row_kind": "call",
                "direction": "inbound",
                "agent_identity": agent,
                "event_at": started,
                "answer_at": None,
                "end_at": None,
                "wait_s": wait if answered else None,
                "ring_s": None,
                "talk_s": talk if answered else None,
                "hold_s": hold,
                "acw_s": acw,
                "outcome": "answered" if answered else "unanswered",
                "transferred": None,
                "topic": row.text("topic") or None,
                "caller_hash": caller_hash(row.text("caller"), source.settings),
            }
        }
        if score is not None:
            records["surveys"] = {
                "key": key,
                "callid": call_id,
                "agent_identity": agent,
                "event_at": started,
                "score": score,
                "scale_max": scale,
                "resolved": resolved,
            }
        return records

    return sheet.parse(build, {"interactions": INTERACTIONS, "surveys": SURVEYS})
