"""Call detail records: Asterisk `Master.csv` (cdr_csv, or a database export of the cdr table
with a header, such as PBXware's) and FreeSWITCH mod_cdr_csv files.

Each CDR row is one `interactions` row (row_kind `call`). How a row is read:

* Columns. Asterisk: the stock cdr_csv order (accountcode, src, dst, dcontext, clid, channel,
  dstchannel, lastapp, lastdata, start, answer, end, duration, billsec, disposition, amaflags,
  uniqueid, userfield, then peeraccount, linkedid, sequence with `newcdrcolumns`). FreeSWITCH:
  the module's built-in `default` template. A header row (a first line naming four known
  columns, or every header title the mapping names) is detected and its names are used
  instead (`calldate` is the start time). A mapping may give `columns` as a list of names in
  file order (paste a cdr_csv.conf.xml template: the `${...}` are removed), or as
  `field: column` (a 1-based column number, or a header title): with a header, on top of its
  names; without, the only columns read. Rows may have more or fewer columns than that: only
  the columns a row needs must be there (the counts are reported when they vary).
* Times have no zone in these files: they are read in the mapping's `timezone`, else the
  centre's. FreeSWITCH `*_epoch`/`*_uepoch` columns are Unix times. Without answer/end columns
  (PBXware), answer = start + duration - billsec and end = start + duration.
* Direction: `outbound` when the context (dcontext) is one of the mapping's
  `outbound_contexts` (default: DEFAULT_OUTBOUND_CONTEXTS), else `inbound`. PBXs name their
  contexts freely, so set it for yours (FreeSWITCH's stock dialplan transfers inbound calls
  from `public` into `default`, so `default` alone says nothing there).
* Agent: an `agent` (or FreeSWITCH `cc_agent`) column when filled; else, inbound, the answering
  side: Asterisk `dstchannel`, FreeSWITCH `destination_number`; outbound, the placing side:
  Asterisk `channel` (`src` when empty), FreeSWITCH `accountcode` (the stock directory sets it
  to the user's extension; the caller-id number is not used, it may be the customer's).
  Asterisk channels are kept without their per-call suffix (PJSIP/1001-0000002a is
  PJSIP/1001, Local/1001@from-queue-00000012;1 is Local/1001@from-queue); the alias key of
  both is 1001.
* Outcome: Asterisk `answered` when the disposition is ANSWERED; NO ANSWER, BUSY, FAILED and
  CONGESTION are `unanswered`, anything else rejects the row (it usually means shifted
  columns). FreeSWITCH `answered` when there is an answer time or billsec > 0, whatever the
  hangup cause (calls talked for minutes end with RECOVERY_ON_TIMER_EXPIRE too).
* Answered calls: talk_s = billsec; inbound wait_s = answer - start (ring/queue time),
  outbound ring_s = answer - start (as the queue_log adapter records outbound calls).
* caller_hash: the customer's number, salted and hashed: src/caller_id_number inbound,
  dst/destination_number outbound.
* queue: Asterisk rows whose last application is Queue: its first argument; FreeSWITCH
  `cc_queue`.
* key: uniqueid (uuid) + start time (UTC), and for Asterisk the dstchannel as well: the legs of
  one call (trunk failover, forked CDRs) share uniqueid and start.
* Never-answered calls of zero seconds (rejected at once, busy, not registered, scanners
  probing for open routes) carry nothing about anybody's work: they are counted as ignored
  and reported, unless the mapping says `keep_zero_second: true`.
* FreeSWITCH's `sql` template writes `INSERT INTO cdr VALUES ("...", ...);` lines: the values
  inside the parentheses are read like any other line.
* Every line is accounted for: blank lines are ignored, a line that cannot be read is rejected
  with its line number, field and reason; nothing in a row is fatal.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyarrow as pa

from agentladder.config import Settings
from agentladder.errors import InvalidInput
from agentladder.ingest.adapters import AdapterInput, ParsedFile, Rejected
from agentladder.ingest.datasets import INTERACTIONS, caller_hash
from agentladder.tabular import decode_csv_bytes

ASTERISK_COLUMNS = (
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
    "uniqueid",
    "userfield",
    # cdr.conf [csv] newcdrcolumns=yes
    "peeraccount",
    "linkedid",
    "sequence",
)
# mod_cdr_csv's built-in template, used when cdr_csv.conf.xml names none.
FREESWITCH_DEFAULT_TEMPLATE = (
    "caller_id_name",
    "caller_id_number",
    "destination_number",
    "context",
    "start_stamp",
    "answer_stamp",
    "end_stamp",
    "duration",
    "billsec",
    "hangup_cause",
    "uuid",
    "bleg_uuid",
    "accountcode",
)
DEFAULT_OUTBOUND_CONTEXTS = ("outbound", "outgoing", "from-internal", "macro-dialout-trunk")
DISPOSITIONS = {
    "ANSWERED": True,
    "NOANSWER": False,
    "BUSY": False,
    "FAILED": False,
    "CONGESTION": False,
}
NULLS = {"NULL", "\\N"}  # how database exports write an empty value
HEADER_MIN_KNOWN = 4
# Asterisk makes each channel name unique per call ("-0000002a", ";1" for Local channels);
# the suffix says nothing about who answered, so identities are kept without it.
_CHANNEL_SUFFIX = re.compile(r"(?:-[0-9a-f]{8})?(?:;[12])?$", re.IGNORECASE)
_TEMPLATE_VARIABLE = re.compile(r"^\$\{([^}]+)\}$")
_SQL_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+\S+\s+VALUES\s*\((.*)\)\s*;?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Dialect:
    """One CDR source: its stock columns, and which of its columns play which role."""

    stock_columns: tuple[str, ...]
    header_aliases: Mapping[str, str]
    roles: Mapping[str, tuple[str, ...]]  # role -> its column names, preferred first
    required: tuple[tuple[str, ...], ...]  # each: one of these roles
    dstchannel_in_key: bool


ASTERISK = Dialect(
    stock_columns=ASTERISK_COLUMNS,
    header_aliases={"calldate": "start"},
    roles={
        "call_id": ("uniqueid",),
        "start": ("start",),
        "answer": ("answer",),
        "end": ("end",),
        "duration": ("duration",),
        "billsec": ("billsec",),
        "status": ("disposition",),
        "caller": ("src",),
        "callee": ("dst",),
        "context": ("dcontext",),
        "channel": ("channel",),
        "dstchannel": ("dstchannel",),
        "app": ("lastapp",),
        "appdata": ("lastdata",),
        "agent": ("agent",),
        "queue": ("queue",),
    },
    required=(("call_id",), ("start",), ("status",)),
    dstchannel_in_key=True,
)

FREESWITCH = Dialect(
    stock_columns=FREESWITCH_DEFAULT_TEMPLATE,
    header_aliases={},
    roles={
        "call_id": ("uuid",),
        "start": ("start_stamp", "start_epoch", "start_uepoch"),
        "answer": ("answer_stamp", "answer_epoch", "answer_uepoch"),
        "end": ("end_stamp", "end_epoch", "end_uepoch"),
        "duration": ("duration",),
        "billsec": ("billsec",),
        "caller": ("caller_id_number", "ani"),
        "callee": ("destination_number",),
        "context": ("context",),
        "agent": ("cc_agent", "agent"),
        "queue": ("cc_queue",),
        "accountcode": ("accountcode",),
    },
    required=(("call_id",), ("start",), ("billsec", "answer")),
    dstchannel_in_key=False,
)


class _BadRow(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class _Options:
    zone: ZoneInfo
    outbound_contexts: frozenset[str]
    keep_zero_second: bool


def _options(mapping: Mapping[str, Any], settings: Settings) -> _Options:
    name = mapping.get("timezone") or settings.timezone
    try:
        zone = ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("unknown time zone {zone} in the mapping", zone=str(name)) from None
    contexts = mapping.get("outbound_contexts")
    if contexts is None:
        contexts = DEFAULT_OUTBOUND_CONTEXTS
    elif isinstance(contexts, str):
        contexts = [contexts]
    if not isinstance(contexts, list | tuple) or not all(
        isinstance(c, str | int) and not isinstance(c, bool) for c in contexts
    ):
        raise InvalidInput("outbound_contexts in the mapping must be a list of context names")
    return _Options(
        zone=zone,
        outbound_contexts=frozenset(str(c).strip().casefold() for c in contexts),
        keep_zero_second=mapping.get("keep_zero_second") is True,
    )


# --- lines and columns ---------------------------------------------------------------------


def _cells(line: str) -> list[str]:
    """One physical line as cells (a quote left open ends with the line, never spills over)."""
    insert = _SQL_INSERT.match(line)  # FreeSWITCH's "sql" template writes INSERT statements
    if insert:
        line = insert.group(1)
    return next(csv.reader((line,), skipinitialspace=True), [])


def _column_name(text: object) -> str:
    name = str(text).strip()
    variable = _TEMPLATE_VARIABLE.match(name)
    return (variable.group(1) if variable else name).strip().casefold()


def _looks_like_header(dialect: Dialect, mapping: Mapping[str, Any], cells: Sequence[str]) -> bool:
    """Whether the first line names columns: four known ones, or every header title the
    mapping names (a list mapping's names count as known)."""
    names = {_column_name(cell) for cell in cells}
    known = set(dialect.stock_columns) | set(dialect.header_aliases)
    known |= {name for names in dialect.roles.values() for name in names}
    columns = mapping.get("columns")
    if isinstance(columns, list):
        known |= {_column_name(c) for c in columns}
    if isinstance(columns, dict):
        titles = {_column_name(t) for t in columns.values() if isinstance(t, str) and t.strip()}
        if titles and titles <= names:
            return True
    return len(names & known) >= HEADER_MIN_KNOWN


def _bad_columns() -> InvalidInput:
    return InvalidInput(
        "the mapping's columns must be a list of column names in file order, "
        "or field: column number (or header title)"
    )


def _positions(
    dialect: Dialect, mapping: Mapping[str, Any], header: list[str] | None
) -> dict[str, int]:
    """Column name -> position (0-based), from the mapping, the header or the stock order."""
    columns = mapping.get("columns")
    if isinstance(columns, list):
        if not columns or not all(isinstance(c, str) and c.strip() for c in columns):
            raise _bad_columns()
        names = [_column_name(c) for c in columns]
    elif header is not None:
        names = [dialect.header_aliases.get(name, name) for name in map(_column_name, header)]
    elif columns is None:
        names = list(dialect.stock_columns)
    else:  # field: column for a file without a header: only the fields it names
        names = []
    positions: dict[str, int] = {}
    for index, name in enumerate(names):
        positions.setdefault(name, index)
    if isinstance(columns, dict):
        titles = {_column_name(title): index for index, title in enumerate(header or [])}
        for field, column in columns.items():
            name = _column_name(field)
            if isinstance(column, int) and not isinstance(column, bool) and column >= 1:
                positions[name] = column - 1
            elif isinstance(column, str) and column.strip():
                if _column_name(column) not in titles:
                    raise InvalidInput(
                        "column {column} (for {field}) is not in the file's header",
                        column=column,
                        field=str(field),
                    )
                positions[name] = titles[_column_name(column)]
            else:
                raise _bad_columns()
    elif columns is not None and not isinstance(columns, list):
        raise _bad_columns()
    return positions


@dataclass(frozen=True)
class _Role:
    name: str  # the column's name (how a rejection names the field)
    index: int
    unit: float | None = None  # Unix times: seconds per unit (None: a local date and time)


def _roles(dialect: Dialect, positions: Mapping[str, int]) -> dict[str, _Role]:
    roles: dict[str, _Role] = {}
    for role, candidates in dialect.roles.items():
        for name in candidates:
            if name in positions:
                unit = (
                    1e-6 if name.endswith("_uepoch") else 1.0 if name.endswith("_epoch") else None
                )
                roles[role] = _Role(name, positions[name], unit)
                break
    missing = [
        " or ".join(name for role in need for name in dialect.roles[role])
        for need in dialect.required
        if not any(role in roles for role in need)
    ]
    if missing:
        raise InvalidInput(
            "the file has no column for {fields}; name the columns in the mapping",
            fields=", ".join(missing),
        )
    return roles


# --- values --------------------------------------------------------------------------------


def _moment(text: str, role: _Role, zone: ZoneInfo) -> datetime | None:
    if role.unit is not None:
        number = float(text)
        if number == 0:  # FreeSWITCH: never answered
            return None
        if not 0 < number * role.unit < 7.3e9:  # 1970..2200
            raise ValueError(text)
        return datetime.fromtimestamp(number * role.unit, UTC)
    parsed = datetime.fromisoformat(text.replace("/", "-"))
    if not 1970 <= parsed.year <= 2200:
        raise ValueError(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def _seconds(text: str) -> float:
    number = float(text)
    if not 0 <= number < 1e9:
        raise ValueError(f"{text} is not a number of seconds")
    return number


def _queue(app: str, data: str) -> str | None:
    if app.casefold() != "queue" or not data:
        return None
    return re.split(r"[,|]", data, maxsplit=1)[0].strip() or None


# --- the rows ------------------------------------------------------------------------------


@dataclass
class _Reader:
    dialect: Dialect
    roles: dict[str, _Role]
    options: _Options
    settings: Settings

    def __post_init__(self) -> None:
        self.hashes: dict[str, str | None] = {}
        self.indexes = tuple((role, found.index) for role, found in self.roles.items())

    def values(self, cells: list[str]) -> dict[str, str]:
        """The row's non-empty values by role (a database export's NULL is empty)."""
        width = len(cells)
        values = {}
        for role, index in self.indexes:
            if index < width:
                value = cells[index].strip()
                if value and value not in NULLS:
                    values[role] = value
        return values

    def need(self, cells: list[str], values: dict[str, str], role: str) -> str:
        value = values.get(role)
        if value is None:
            found = self.roles[role]
            if found.index >= len(cells):
                raise _BadRow(
                    found.name,
                    f"the row has {len(cells)} columns; {found.name} is column {found.index + 1}",
                )
            raise _BadRow(found.name, f"{found.name} is empty")
        return value

    def moment(self, values: dict[str, str], role: str) -> datetime | None:
        value = values.get(role)
        if value is None:
            return None
        try:
            return _moment(value, self.roles[role], self.options.zone)
        except (ValueError, OverflowError, OSError):
            name = self.roles[role].name
            raise _BadRow(name, f"cannot read {name}: {value!r} is not a date and time") from None

    def seconds(self, values: dict[str, str], role: str) -> float | None:
        value = values.get(role)
        if value is None:
            return None
        try:
            return _seconds(value)
        except ValueError:
            name = self.roles[role].name
            raise _BadRow(
                name, f"cannot read {name}: {value!r} is not a number of seconds"
            ) from None

    def hashed(self, number: str | None) -> str | None:
        if number is None:
            return None
        if number not in self.hashes:
            self.hashes[number] = caller_hash(number, self.settings)
        return self.hashes[number]

    def answered(
        self,
        cells: list[str],
        values: dict[str, str],
        answer: datetime | None,
        billsec: float | None,
    ) -> bool:
        if self.dialect is ASTERISK:
            status = self.need(cells, values, "status")
            verdict = DISPOSITIONS.get(status.upper().replace(" ", "").replace("_", ""))
            if verdict is None:
                raise _BadRow(
                    self.roles["status"].name,
                    f"unknown disposition {status!r} "
                    "(expected ANSWERED, NO ANSWER, BUSY, FAILED or CONGESTION)",
                )
            return verdict
        return answer is not None or bool(billsec)

    def agent(self, values: dict[str, str], outbound: bool) -> str | None:
        if "agent" in values:
            return values["agent"]
        if self.dialect is FREESWITCH:
            return values.get("accountcode" if outbound else "callee")
        channel = values.get("channel" if outbound else "dstchannel")
        if channel:
            return _CHANNEL_SUFFIX.sub("", channel) or channel
        return values.get("caller") if outbound else None

    def row(self, cells: list[str]) -> tuple[Any, ...] | None:
        """The interactions row (as a tuple in schema order), or None for a zero-second call
        that was never answered."""
        values = self.values(cells)
        call_id = self.need(cells, values, "call_id")
        self.need(cells, values, "start")
        start = self.moment(values, "start")
        if start is None:  # a FreeSWITCH epoch of 0
            raise _BadRow(self.roles["start"].name, f"{self.roles['start'].name} is empty")
        answer = self.moment(values, "answer")
        end = self.moment(values, "end")
        duration = self.seconds(values, "duration")
        billsec = self.seconds(values, "billsec")
        answered = self.answered(cells, values, answer, billsec)
        if end is None and duration is not None:
            end = start + timedelta(seconds=duration)
        if duration is None and end is not None:
            duration = (end - start).total_seconds()
        if answered and answer is None and duration is not None and billsec is not None:
            answer = start + timedelta(seconds=max(duration - billsec, 0))
        for role, moment in (("answer", answer), ("end", end)):
            if moment is not None and moment < start:
                name = self.roles[role].name if role in self.roles else role
                raise _BadRow(name, f"{name} is before the start")
        if not answered and duration == 0 and not self.options.keep_zero_second:
            return None
        if answered and billsec is None and answer is not None and end is not None:
            billsec = (end - answer).total_seconds()
        outbound = values.get("context", "").casefold() in self.options.outbound_contexts
        until_answer = (answer - start).total_seconds() if answered and answer else None
        stamp = start.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")
        key = f"{call_id}|{stamp}"
        if self.dialect.dstchannel_in_key:
            key += "|" + values.get("dstchannel", "")
        queue = values.get("queue")
        if queue is None and "app" in values:
            queue = _queue(values["app"], values.get("appdata", ""))
        return (
            key,
            call_id,
            queue,
            "call",
            "outbound" if outbound else "inbound",
            self.agent(values, outbound),
            start,
            answer if answered else None,
            end,
            None if outbound else until_answer,  # wait_s
            until_answer if outbound else None,  # ring_s
            billsec if answered else None,  # talk_s
            None,  # hold_s
            None,  # acw_s
            "answered" if answered else "unanswered",
            None,  # transferred
            None,  # topic
            self.hashed(values.get("callee" if outbound else "caller")),
            None,  # ended_by: a CDR's disposition does not say who hung up
        )


def _lines(text: str) -> list[str]:
    """The physical lines, numbered as an editor does (a final newline ends the last one)."""
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


_AGENT = INTERACTIONS.names.index("agent_identity")


def _table(rows: Iterable[tuple[Any, ...]]) -> pa.Table:
    columns = list(zip(*rows, strict=True)) or [() for _ in INTERACTIONS.names]
    arrays = [
        pa.array(list(values), type=column.type)
        for values, column in zip(columns, INTERACTIONS, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=INTERACTIONS)


def parse_cdr(source: AdapterInput, dialect: Dialect) -> ParsedFile:
    """Read a CDR file of this dialect: every line accepted, rejected or ignored."""
    mapping: Mapping[str, Any] = source.mapping or {}
    options = _options(mapping, source.settings)
    text, encoding = decode_csv_bytes(source.data, source.encoding)
    lines = _lines(text)
    header: list[str] | None = None
    header_line = next((n for n, line in enumerate(lines, start=1) if line.strip()), 0)
    if header_line:
        try:
            cells = _cells(lines[header_line - 1])
        except csv.Error:
            cells = []
        if _looks_like_header(dialect, mapping, cells):
            header = cells
    if header is None:
        header_line = 0
    positions = _positions(dialect, mapping, header)
    secret = source.settings.resolved_secret_key()
    reader = _Reader(
        dialect,
        _roles(dialect, positions),
        options,
        source.settings.model_copy(update={"secret_key": secret}),
    )
    rows: list[tuple[Any, ...]] = []
    rejected: list[Rejected] = []
    identities: Counter[str] = Counter()
    widths: Counter[int] = Counter()
    blank = zero_second = 0
    for number, line in enumerate(lines, start=1):
        if number == header_line:
            continue
        if not line.strip():
            blank += 1
            continue
        try:
            cells = _cells(line)
            widths[len(cells)] += 1
            built = reader.row(cells)
        except csv.Error as exc:
            rejected.append(Rejected(number, "line", f"not a CSV line: {exc}", line))
            continue
        except _BadRow as exc:
            rejected.append(Rejected(number, exc.field, exc.reason, line))
            continue
        if built is None:
            zero_second += 1
            continue
        rows.append(built)
        if built[_AGENT]:
            identities[built[_AGENT]] += 1
    columns = mapping.get("columns")
    layout = "stock" if columns is None else "mapping"
    if header is not None and not isinstance(columns, list):
        layout = "header"
    notes: dict[str, Any] = {"encoding": encoding, "columns": layout}
    if len(widths) > 1:
        notes["rows by number of columns"] = dict(sorted(widths.items()))
    if zero_second:
        notes["zero-second calls never answered (ignored)"] = zero_second
    if blank:
        notes["blank lines (ignored)"] = blank
    return ParsedFile(
        datasets={"interactions": _table(rows)},
        rows_read=len(lines) - (1 if header_line else 0),
        rows_accepted=len(rows),
        rows_ignored=blank + zero_second,
        rejected=rejected,
        identities=identities,
        notes=notes,
    )


def parse_asterisk(source: AdapterInput) -> ParsedFile:
    """Asterisk cdr_csv Master.csv, or a cdr table export with a header (PBXware)."""
    return parse_cdr(source, ASTERISK)


def parse_freeswitch(source: AdapterInput) -> ParsedFile:
    """FreeSWITCH mod_cdr_csv (Master.csv and the per-account files)."""
    return parse_cdr(source, FREESWITCH)
