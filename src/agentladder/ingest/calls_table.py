"""Per-call tables (CSV/XLSX) as CRMs and ACDs export them, read through a column mapping.

Each row is one call offered to one agent: it becomes an `interactions` row, and its
satisfaction score (when present) a `surveys` row.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

from agentladder.errors import InvalidInput
from agentladder.ingest.adapters import AdapterInput, ParsedFile, Rejected
from agentladder.ingest.datasets import INTERACTIONS, SURVEYS, caller_hash
from agentladder.tabular import read_table

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


def _flag(text: str) -> bool | None:
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


def _columns(mapping: dict[str, Any], header: list[str]) -> dict[str, int]:
    wanted: dict[str, str] = mapping["columns"]
    unknown = sorted(set(wanted) - set(FIELDS))
    if unknown:
        raise InvalidInput("the mapping names unknown fields: {fields}", fields=", ".join(unknown))
    positions = {title.strip(): index for index, title in enumerate(header)}
    columns: dict[str, int] = {}
    for name, title in wanted.items():
        if title not in positions:
            raise InvalidInput(
                "column {column} (for {field}) is not in the file's header",
                column=title,
                field=name,
            )
        columns[name] = positions[title]
    missing = [name for name in REQUIRED if name not in columns]
    if "datetime" not in columns and not {"date", "time"} <= set(columns):
        missing.append("datetime (or date and time)")
    if missing:
        raise InvalidInput("the mapping lacks {fields}", fields=", ".join(missing))
    return columns


def parse(source: AdapterInput) -> ParsedFile:
    """Read a per-call table through its mapping."""
    if source.mapping is None:
        raise InvalidInput("the calls-table adapter needs --mapping")
    table = read_table(source.data, source.file_name, source.encoding)
    columns = _columns(source.mapping, table.header)
    zone = ZoneInfo(source.mapping.get("timezone") or source.settings.timezone)
    scale = float(source.mapping.get("satisfaction_scale", 5))
    calls: list[dict[str, Any]] = []
    surveys: list[dict[str, Any]] = []
    rejected: list[Rejected] = []
    identities: Counter[str] = Counter()
    ignored = 0
    for line_no, cells in table.rows:
        if not any(cells):
            ignored += 1
            continue

        def cell(name: str, cells: list[str] = cells) -> str:
            index = columns.get(name)
            return cells[index].strip() if index is not None and index < len(cells) else ""

        field = "call_id"
        try:
            call_id, agent = cell("call_id"), cell("agent")
            if not call_id:
                raise ValueError("empty")
            field = "agent"
            if not agent:
                raise ValueError("empty")
            field = "datetime" if "datetime" in columns else "date"
            started = _when(cell("date"), cell("time"), cell("datetime"), zone)
            field = "answered"
            answered = _flag(cell("answered")) if cell("answered") else True
            field = "wait_s"
            wait = duration_s(cell("wait_s")) if cell("wait_s") else None
            field = "talk"
            talk = duration_s(cell("talk")) if cell("talk") else None
            field = "hold"
            hold = duration_s(cell("hold")) if cell("hold") else None
            field = "acw"
            acw = duration_s(cell("acw")) if cell("acw") else None
            field = "resolved"
            resolved = _flag(cell("resolved")) if cell("resolved") else None
            field = "satisfaction"
            score = float(cell("satisfaction")) if cell("satisfaction") else None
            if score is not None and not 0 <= score <= scale:
                raise ValueError(f"outside 0..{scale:g}")
        except ValueError as exc:
            rejected.append(
                Rejected(line_no, field, f"cannot read {field}: {exc}", ",".join(cells))
            )
            continue
        queue = cell("queue") or cell("topic")
        identities[agent] += 1
        key = f"{call_id}|{queue}|{started.isoformat()}"
        calls.append(
            {
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
                "topic": cell("topic") or None,
                "caller_hash": caller_hash(cell("caller"), source.settings),
            }
        )
        if score is not None:
            surveys.append(
                {
                    "key": key,
                    "callid": call_id,
                    "agent_identity": agent,
                    "event_at": started,
                    "score": score,
                    "scale_max": scale,
                    "resolved": resolved,
                }
            )
    return ParsedFile(
        datasets={
            "interactions": pa.Table.from_pylist(calls, schema=INTERACTIONS),
            "surveys": pa.Table.from_pylist(surveys, schema=SURVEYS),
        },
        rows_read=len(table.rows),
        rows_accepted=len(calls),
        rows_ignored=ignored,
        rejected=rejected,
        identities=identities,
        notes={"encoding": table.encoding},
    )
