"""What the mapping-driven table adapters share: the columns a mapping names, the fields it
must name, reading each row field by field so a rejection names its line and field, and the
value readers (dates, clock times, counts) Chinese and English exports need.

An adapter declares a `Layout` (its fields and which are required), opens the file with
`MappedSheet.open`, and hands `MappedSheet.parse` (or `parse_into`, for one dataset) a row
builder that turns one `Row` into its records, or raises `SkipRow` (with why) for a row with
nothing to store.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyarrow as pa

from agentladder.config import Settings
from agentladder.errors import InvalidInput
from agentladder.ingest.adapters import AdapterInput, ParsedFile, Rejected
from agentladder.tabular import Table, read_table

T = TypeVar("T")
Record = dict[str, Any]

# A report's total line says one of these in its first cell or a required field's cell.
TOTALS = {"合计", "总计", "小计", "汇总", "总数", "total", "totals", "grand total", "subtotal"}


@dataclass(frozen=True)
class OneOf:
    """A requirement met by mapping any one of several groups of fields."""

    label: str  # how the "lacks" error names it, e.g. "datetime (or date)"
    options: tuple[tuple[str, ...], ...]

    def met_by(self, mapped: set[str]) -> bool:
        return any(set(option) <= mapped for option in self.options)


@dataclass(frozen=True)
class Layout:
    """An adapter's fields (the left side of `columns:`) and what a mapping must name."""

    adapter: str
    fields: tuple[str, ...]
    required: tuple[str | OneOf, ...]
    skip_totals: bool = True  # ignore a report's total lines (合计/总计 ...)


class SkipRow(Exception):
    """A row with nothing to store (a survey nobody answered, a day off); the row is ignored
    and `reason` (ending in "(ignored)") counts it in the import's notes."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


BLANK_ROWS_NOTE = "blank rows (ignored)"
TOTAL_LINES_NOTE = "total lines (ignored)"
NOTHING_TO_STORE_NOTE = "rows with nothing to store (ignored)"


class RowError(Exception):
    """A field of a row cannot be read; the row is rejected."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"cannot read {field}: {detail}")
        self.field = field


def mapping_of(source: AdapterInput, adapter: str) -> dict[str, Any]:
    """The adapter's mapping, or the error telling the user to give one."""
    if source.mapping is None:
        raise InvalidInput("the {adapter} adapter needs --mapping", adapter=adapter)
    return source.mapping


def resolve_columns(
    layout: Layout, mapping: Mapping[str, Any], header: list[str]
) -> dict[str, int]:
    """Field -> column position, checking the mapping against the layout and the header."""
    wanted: dict[str, Any] = mapping["columns"]
    unknown = sorted(set(wanted) - set(layout.fields))
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
    mapped = set(columns)
    missing = [
        need if isinstance(need, str) else need.label
        for need in layout.required
        if (need not in mapped if isinstance(need, str) else not need.met_by(mapped))
    ]
    if missing:
        raise InvalidInput("the mapping lacks {fields}", fields=", ".join(missing))
    return columns


def value_tables(layout: Layout, mapping: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """The mapping's `values:` section: per field, their cell text -> ours (null: empty)."""
    section = mapping.get("values") or {}
    if not isinstance(section, dict) or not all(
        name in layout.fields and isinstance(table, dict) for name, table in section.items()
    ):
        raise InvalidInput(
            "the mapping's values section must give, for fields of this adapter, "
            "a table from the file's values to ours"
        )
    return {
        str(name): {
            str(theirs).strip().casefold(): "" if ours is None else _yaml_text(ours)
            for theirs, ours in table.items()
        }
        for name, table in section.items()
    }


def _yaml_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


class Row:
    """One source row, read field by field through the mapping."""

    def __init__(
        self,
        line_no: int,
        cells: list[str],
        columns: Mapping[str, int],
        values: Mapping[str, Mapping[str, str]],
    ) -> None:
        self.line_no = line_no
        self.cells = cells
        self._columns = columns
        self._values = values

    def mapped(self, name: str) -> bool:
        """Whether the mapping names a column for this field."""
        return name in self._columns

    def text(self, name: str) -> str:
        """The field's cell, stripped and translated through `values:` ("" when absent)."""
        index = self._columns.get(name)
        raw = self.cells[index].strip() if index is not None and index < len(self.cells) else ""
        table = self._values.get(name)
        if table and raw:
            return table.get(raw.casefold(), raw)
        return raw

    def need(self, name: str) -> str:
        """The field's text, which must not be empty."""
        value = self.text(name)
        if not value:
            raise RowError(name, "empty")
        return value

    def check(self, name: str, compute: Callable[[], T]) -> T:
        """`compute()`, with a failure rejecting the row under this field's name."""
        try:
            return compute()
        except (ValueError, OverflowError) as exc:
            raise RowError(name, str(exc)) from None

    def read(self, name: str, parse: Callable[[str], T]) -> T | None:
        """The field parsed, or None when its cell is empty (or the field is not mapped)."""
        value = self.text(name)
        return self.check(name, lambda: parse(value)) if value else None

    def read_or(self, name: str, parse: Callable[[str], T], default: T) -> T:
        """The field parsed, or `default` when its cell is empty."""
        value = self.read(name, parse)
        return default if value is None else value


Build = Callable[[Row], dict[str, Record] | None]


@dataclass
class MappedSheet:
    """A table file opened through its mapping: columns resolved, value tables read."""

    layout: Layout
    mapping: dict[str, Any]
    settings: Settings
    table: Table
    columns: dict[str, int]
    values: dict[str, dict[str, str]]

    @classmethod
    def open(cls, source: AdapterInput, layout: Layout) -> MappedSheet:
        """Read the file and check its mapping against the layout and the header."""
        mapping = mapping_of(source, layout.adapter)
        table = read_table(source.data, source.file_name, source.encoding)
        columns = resolve_columns(layout, mapping, table.header)
        return cls(layout, mapping, source.settings, table, columns, value_tables(layout, mapping))

    @cached_property
    def zone(self) -> ZoneInfo:
        """The zone of the file's local times: the mapping's `timezone`, else the centre's."""
        name = self.mapping.get("timezone") or self.settings.timezone
        try:
            return ZoneInfo(str(name))
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput("unknown time zone {zone} in the mapping", zone=str(name)) from None

    def parse(self, build: Build, schemas: Mapping[str, pa.Schema]) -> ParsedFile:
        """Every row through `build`: accepted (records), ignored (None, empty, a total line)
        or rejected (a RowError, with line, field and reason). The first dataset of `schemas`
        is the main one; its records' `agent_identity` are the identities seen."""
        main = next(iter(schemas))
        records: dict[str, list[Record]] = {name: [] for name in schemas}
        rejected: list[Rejected] = []
        identities: Counter[str] = Counter()
        accepted = 0
        ignored: Counter[str] = Counter()
        for line_no, cells in self.table.rows:
            if not any(cells):
                ignored[BLANK_ROWS_NOTE] += 1
                continue
            if self.layout.skip_totals and self._is_total(cells):
                ignored[TOTAL_LINES_NOTE] += 1
                continue
            try:
                built = build(Row(line_no, cells, self.columns, self.values))
            except RowError as exc:
                rejected.append(Rejected(line_no, exc.field, str(exc), ",".join(cells)))
                continue
            except SkipRow as skip:
                ignored[skip.reason] += 1
                continue
            if built is None:
                ignored[NOTHING_TO_STORE_NOTE] += 1
                continue
            accepted += 1
            for name, record in built.items():
                records[name].append(record)
            identity = built[main].get("agent_identity")
            if identity:
                identities[identity] += 1
        return ParsedFile(
            datasets={
                name: pa.Table.from_pylist(rows, schema=schemas[name])
                for name, rows in records.items()
            },
            rows_read=len(self.table.rows),
            rows_accepted=accepted,
            rows_ignored=ignored.total(),
            rejected=rejected,
            identities=identities,
            notes={"encoding": self.table.encoding, **dict(sorted(ignored.items()))},
        )

    def parse_into(
        self, dataset: str, schema: pa.Schema, build: Callable[[Row], Record | None]
    ) -> ParsedFile:
        """`parse` for an adapter whose rows each give (at most) one record of one dataset."""

        def one(row: Row) -> dict[str, Record] | None:
            record = build(row)
            return None if record is None else {dataset: record}

        return self.parse(one, {dataset: schema})

    def _is_total(self, cells: list[str]) -> bool:
        """A report's total line: its first cell, or a required field's, says 合计/Total."""
        first = next((cell for cell in cells if cell.strip()), "")
        keys = [cells[i] for i in self._key_columns if i < len(cells)]
        return any(text.strip().casefold().rstrip(":：") in TOTALS for text in [first, *keys])

    @cached_property
    def _key_columns(self) -> list[int]:
        names = [
            name
            for need in self.layout.required
            for option in ([(need,)] if isinstance(need, str) else need.options)
            for name in option
        ]
        return [self.columns[name] for name in names if name in self.columns]


# --- value readers ------------------------------------------------------------------------

_DAY = re.compile(
    r"^(\d{4})(?:[-/.](\d{1,2})[-/.](\d{1,2})|年(\d{1,2})月(\d{1,2})日?|(\d{2})(\d{2}))$"
)
_CLOCK = re.compile(r"^(\d{1,2})[:：](\d{2})(?:[:：](\d{2})(?:\.(\d{1,6}))?)?$")


def local_day(text: str) -> date:
    """A date: 2026-10-08, 2026/10/8, 2026.10.08, 20261008 or 2026年10月8日, optionally
    followed by a midnight time (how spreadsheets print a plain date)."""
    day, _, rest = text.strip().replace("T", " ").partition(" ")
    if rest.strip() and time_of_day(rest.strip()) != timedelta(0):
        raise ValueError(f"{text} has a time of day")
    match = _DAY.match(day)
    if not match:
        raise ValueError(text)
    year, *parts = match.groups()
    month, dd = next((a, b) for a, b in zip(parts[::2], parts[1::2], strict=True) if a)
    return date(int(year), int(month), int(dd))


def time_of_day(text: str) -> timedelta:
    """A clock time as the time since midnight: 9:00, 09:00:05, 09:00:05.250, 24:00."""
    match = _CLOCK.match(text.strip())
    if not match:
        raise ValueError(text)
    hours, minutes, seconds, fraction = match.groups()
    since = timedelta(
        hours=int(hours),
        minutes=int(minutes),
        seconds=int(seconds or 0),
        microseconds=int((fraction or "0").ljust(6, "0")),
    )
    if int(minutes) > 59 or int(seconds or 0) > 59 or since > timedelta(hours=24):
        raise ValueError(text)
    return since


def at_local(day: date, zone: ZoneInfo, since_midnight: timedelta = timedelta(0)) -> datetime:
    """The UTC moment of a local date and time of day (a date alone: local midnight)."""
    local = datetime(day.year, day.month, day.day) + since_midnight
    return local.replace(tzinfo=zone).astimezone(UTC)


def moment(stamp: str, zone: ZoneInfo) -> datetime:
    """A date and time in one cell (local unless it carries an offset), as UTC."""
    text = stamp.strip().replace("T", " ")
    day, _, clock = text.partition(" ")
    clock = clock.strip()
    try:
        return at_local(local_day(day), zone, time_of_day(clock) if clock else timedelta(0))
    except ValueError:
        parsed = datetime.fromisoformat(text.replace("/", "-"))  # with an offset, say
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).astimezone(UTC)


def when(row: Row, zone: ZoneInfo) -> datetime:
    """The row's moment from `datetime`, or from `date` (+ `time`; no time: local midnight)."""
    if row.mapped("datetime"):
        return row.check("datetime", lambda: moment(row.need("datetime"), zone))
    day = row.check("date", lambda: local_day(row.need("date")))
    since = row.read_or("time", time_of_day, timedelta(0))
    return row.check("date", lambda: at_local(day, zone, since))


def count(text: str) -> int:
    """A non-negative whole number (1,234 and 12.0 allowed)."""
    number = float(text.strip().replace(",", ""))
    if not number.is_integer() or not 0 <= number < 1e12:
        raise ValueError(f"{text} is not a count")
    return int(number)
