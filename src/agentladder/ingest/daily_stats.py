"""Per-agent daily statistics reports (坐席日报) as ACDs export them, read through a mapping.

Many centres have nothing finer: one row per agent and day (and, in some reports, queue)
with login, talk, hold, after-call work, ready and not-ready time and the call counts.
Only the day and the agent are required; durations may be h:mm:ss, m:ss, seconds or
Chinese units (1小时2分3秒).
"""

from __future__ import annotations

import math
import re
from typing import Any

from agentladder.ingest.adapters import AdapterInput, ParsedFile
from agentladder.ingest.calls_table import duration_s
from agentladder.ingest.datasets import DAILY_STATS
from agentladder.ingest.mapped import (
    Layout,
    MappedSheet,
    Row,
    at_local,
    count,
    local_day,
)

# Durations: mapping field -> dataset column (seconds). Counts keep their names.
DURATIONS = {
    "login": "login_s",
    "talk": "talk_s",
    "hold": "hold_s",
    "acw": "acw_s",
    "ready": "ready_s",
    "pause": "pause_s",
    "ring": "ring_s",
    "asa": "asa_s",
    "outbound_talk": "outbound_talk_s",
}
COUNTS = ("offered", "answered", "missed", "transferred", "outbound_calls", "outbound_connected")
LAYOUT = Layout("daily-stats", ("date", "agent", "queue", *DURATIONS, *COUNTS), ("date", "agent"))

_UNITS = re.compile(
    r"^(?:(\d+(?:\.\d+)?)(?:小时|时|h))?(?:(\d+(?:\.\d+)?)(?:分钟|分|min|m))?"
    r"(?:(\d+(?:\.\d+)?)(?:秒钟|秒|sec|s))?$"
)
_DAYS = re.compile(r"^(\d+) days?, (.+)$")


def duration(text: str) -> float:
    """Seconds from h:mm:ss, m:ss or seconds (calls_table.duration_s), Chinese or English
    units (1小时2分3秒, 3分10秒, 190秒, 2h5m) or a spreadsheet's `1 day, 2:00:00`."""
    value = text.strip()
    days = _DAYS.match(value)
    if days:
        return int(days.group(1)) * 86400 + duration(days.group(2))
    units = _UNITS.match(value.replace(" ", ""))
    if units and any(units.groups()):
        hours, minutes, seconds = (float(part or 0) for part in units.groups())
        return hours * 3600 + minutes * 60 + seconds
    seconds = duration_s(value)
    if not math.isfinite(seconds):
        raise ValueError(text)
    return seconds


def parse(source: AdapterInput) -> ParsedFile:
    """Read a daily statistics report through its mapping."""
    sheet = MappedSheet.open(source, LAYOUT)
    zone = sheet.zone

    def build(row: Row) -> dict[str, Any]:
        day = row.check("date", lambda: local_day(row.need("date")))
        agent = row.need("agent")
        queue = row.text("queue")
        record: dict[str, Any] = {
            "key": f"{day.isoformat()}|{agent}|{queue}",
            "agent_identity": agent,
            "event_at": row.check("date", lambda: at_local(day, zone)),
            "queue": queue or None,
        }
        record |= {column: row.read(name, duration) for name, column in DURATIONS.items()}
        record |= {name: row.read(name, count) for name in COUNTS}
        return record

    return sheet.parse_into("daily_stats", DAILY_STATS, build)
