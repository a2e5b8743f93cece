"""The normalized datasets (Arrow schemas) and their Parquet store, partitioned by month.

Files live at `<data_dir>/events/<dataset>/month=YYYY-MM/batch-<token>.parquet`, a large
batch's month in parts `batch-<token>.<part>.parquet` written side by side. An adapter that
assembles its rows in DuckDB writes them as Parquet itself (`Stage`), and the importer moves
those files into place as `batch-<token>.s<part>.parquet`. Only files of batches recorded in
the ledger are ever read, so a crash between writing a file and committing its ledger row
leaves nothing that counts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import re
import shutil
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from agentladder.config import CACHE_DIR, Settings

if TYPE_CHECKING:
    import duckdb

UTC_TS = pa.timestamp("us", tz="UTC")

INTERACTIONS = pa.schema(
    [
        ("key", pa.string()),  # natural key: source call id + queue + enter time (+ leg)
        ("callid", pa.string()),
        ("queue", pa.string()),
        ("row_kind", pa.string()),  # call (offered to a queue) | leg (offered to an agent)
        ("direction", pa.string()),  # inbound | outbound
        ("agent_identity", pa.string()),
        ("event_at", UTC_TS),  # when the interaction began (enter time)
        ("answer_at", UTC_TS),
        ("end_at", UTC_TS),
        ("wait_s", pa.float64()),
        ("ring_s", pa.float64()),
        ("talk_s", pa.float64()),
        ("hold_s", pa.float64()),
        ("acw_s", pa.float64()),
        ("outcome", pa.string()),
        ("transferred", pa.bool_()),
        ("topic", pa.string()),
        ("caller_hash", pa.string()),
        # Who hung up an answered call: agent | customer (queue_log COMPLETEAGENT /
        # COMPLETECALLER); null where the source does not say. Files written before it was
        # kept read it as null.
        ("ended_by", pa.string()),
    ]
)

SURVEYS = pa.schema(
    [
        ("key", pa.string()),
        ("callid", pa.string()),
        ("agent_identity", pa.string()),
        ("event_at", UTC_TS),
        ("score", pa.float64()),
        ("scale_max", pa.float64()),
        ("resolved", pa.bool_()),
    ]
)

AGENT_STATES = pa.schema(
    [
        ("key", pa.string()),
        ("agent_identity", pa.string()),
        ("state", pa.string()),  # login | member | pause
        ("queue", pa.string()),  # null: all queues
        ("reason", pa.string()),  # pause reason
        ("event_at", UTC_TS),  # start
        ("end_at", UTC_TS),
        ("closed_by", pa.string()),  # event | queuestart | end_of_file
    ]
)

# Per-agent daily statistics as ACD reports give them (one row per agent, day and queue).
DAILY_STATS = pa.schema(
    [
        ("key", pa.string()),  # day + agent + queue
        ("agent_identity", pa.string()),
        ("event_at", UTC_TS),  # the day: local midnight in UTC
        ("queue", pa.string()),  # null: the report is not split by queue
        ("login_s", pa.float64()),
        ("talk_s", pa.float64()),  # total talk time of the day
        ("hold_s", pa.float64()),
        ("acw_s", pa.float64()),  # after-call work, total
        ("ready_s", pa.float64()),  # ready / idle (示闲)
        ("pause_s", pa.float64()),  # not ready (示忙)
        ("ring_s", pa.float64()),  # total ringing time
        ("asa_s", pa.float64()),  # average speed of answer, as the report gives it
        ("offered", pa.int64()),
        ("answered", pa.int64()),
        ("missed", pa.int64()),  # offered to the agent, not answered (ring no answer)
        ("transferred", pa.int64()),
        ("outbound_calls", pa.int64()),
        ("outbound_connected", pa.int64()),
        ("outbound_talk_s", pa.float64()),
    ]
)

# Customer complaints and praise about an agent.
FEEDBACK = pa.schema(
    [
        ("key", pa.string()),  # the reference, else kind + agent + time
        ("reference", pa.string()),
        ("callid", pa.string()),
        ("agent_identity", pa.string()),
        ("event_at", UTC_TS),
        ("kind", pa.string()),  # complaint | praise
        ("severity", pa.string()),  # as the source grades it
        ("valid", pa.bool_()),  # false: judged invalid on review; null: not reviewed
    ]
)

# Tickets (工单) an agent created.
TICKETS = pa.schema(
    [
        ("key", pa.string()),  # the ticket id
        ("agent_identity", pa.string()),
        ("event_at", UTC_TS),  # created
        ("valid", pa.bool_()),
        ("category", pa.string()),
    ]
)

# Sales leads (销售线索) an agent created.
LEADS = pa.schema(
    [
        ("key", pa.string()),  # the lead id
        ("agent_identity", pa.string()),
        ("event_at", UTC_TS),  # created
        ("qualified", pa.bool_()),
        ("converted", pa.bool_()),
        ("campaign", pa.string()),
    ]
)

# Rostered shifts and absences (排班), for attendance.
SCHEDULES = pa.schema(
    [
        ("key", pa.string()),  # agent + day + shift start
        ("agent_identity", pa.string()),
        ("day", pa.date32()),  # the roster day (local)
        ("event_at", UTC_TS),  # shift start; a day without times: local midnight
        ("end_at", UTC_TS),  # shift end (the next day when it ends before it starts)
        ("shift", pa.string()),  # the shift's name (早班, 晚班 ...)
        ("planned", pa.bool_()),
        ("absence", pa.string()),  # absence reason (事假, 病假, 年假 ...); null: to be worked
    ]
)

# Not stored: the rest of calls whose ENTERQUEUE is in an earlier file (a rotated queue_log),
# per (callid, queue) a `call` part with its outcome and one `leg` part per ring.
CONTINUATIONS = pa.schema(
    [
        ("callid", pa.string()),
        ("queue", pa.string()),
        ("part", pa.string()),  # call | leg
        ("leg_suffix", pa.string()),  # a leg's key after its call's key
        ("first_at", UTC_TS),  # the first event of the part in this file
        ("events", pa.int64()),  # source events it uses
        ("agent_identity", pa.string()),
        ("event_at", UTC_TS),  # a leg's ring time
        ("answer_at", UTC_TS),
        ("end_at", UTC_TS),
        ("wait_s", pa.float64()),
        ("ring_s", pa.float64()),
        ("talk_s", pa.float64()),
        ("outcome", pa.string()),
        ("transferred", pa.bool_()),
        ("ended_by", pa.string()),
    ]
)

SCHEMAS: dict[str, pa.Schema] = {
    "interactions": INTERACTIONS,
    "surveys": SURVEYS,
    "agent_states": AGENT_STATES,
    "daily_stats": DAILY_STATS,
    "feedback": FEEDBACK,
    "tickets": TICKETS,
    "leads": LEADS,
    "schedules": SCHEDULES,
}


def caller_salt(settings: Settings) -> str:
    """The installation's salt for caller hashes (derived from the secret key, never stored)."""
    return hashlib.sha256(("caller-salt:" + settings.resolved_secret_key()).encode()).hexdigest()


def caller_digits(number: str | None) -> str:
    """The dialable part of a caller number: digits and a leading plus."""
    return "".join(ch for ch in number or "" if ch.isdigit() or ch == "+")


def caller_hash(number: str | None, settings: Settings) -> str | None:
    """A salted hash of a caller number (the number itself is never stored). SQL adapters
    compute the same value as `left(sha256(salt || digits), 32)`."""
    digits = caller_digits(number)
    if not digits:
        return None
    return hashlib.sha256((caller_salt(settings) + digits).encode()).hexdigest()[:32]


# A run of 7 or more digits, with its + if any, that is not a Unix time: 10 digits from 1
# (2001) to 3 (2065), or 13 digits from 1 (milliseconds). Mobile numbers (11 digits) and
# landlines with their area code (0...) never look like one.
_PHONE_NUMBER = re.compile(r"(?<!\d)(?!(?:[1-3]\d{9}|1\d{12})(?!\d))\+?\d{7,}(?!\d)")


def hide_phone_numbers(text: str) -> str:
    """`text` with every digit run that may be a phone number replaced by `*`s, for the raw
    lines kept with rejected rows: caller numbers are stored only as hashes."""
    return _PHONE_NUMBER.sub(lambda match: "*" * len(match.group()), text)


def dataset_dir(settings: Settings, dataset: str) -> Path:
    """Where a dataset's Parquet files live."""
    return settings.data_dir / "events" / dataset


def month_dir(settings: Settings, dataset: str, month: str) -> Path:
    """Where a dataset's files of one month (YYYY-MM) live."""
    return dataset_dir(settings, dataset) / f"month={month}"


def month_spans(table: pa.Table, settings: Settings) -> list[tuple[str, datetime, datetime]]:
    """The centre-local months (YYYY-MM) the rows' event times fall in, each with its start and
    end in UTC: found from the earliest and latest row, so no row is formatted."""
    if table.num_rows == 0:
        return []
    low, high = pc.min_max(table["event_at"]).values()
    if not low.is_valid:
        return []
    return months_between(low.as_py(), high.as_py(), settings.timezone)


def months_between(
    first: datetime, last: datetime, timezone: str
) -> list[tuple[str, datetime, datetime]]:
    """The months (YYYY-MM) of a zone from the one of `first` to the one of `last`, each with
    its start and end in UTC."""
    zone = ZoneInfo(timezone)
    first, last = first.astimezone(zone), last.astimezone(zone)
    spans = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        following = (year + month // 12, month % 12 + 1)
        start = datetime(year, month, 1, tzinfo=zone).astimezone(UTC)
        end = datetime(*following, 1, tzinfo=zone).astimezone(UTC)
        spans.append((f"{year:04d}-{month:02d}", start, end))
        year, month = following
    return spans


def batch_token(batch_id: int, file_sha256: str) -> str:
    """What names a batch's files: its id and the start of its file's hash, so that a file left
    by a rolled-back batch (SQLite reuses ids) or another database never passes for this one."""
    return f"{batch_id}-{file_sha256[:16]}"


def _token_of(path: Path) -> str:
    # batch-<token>.parquet or batch-<token>.<part>.parquet; a token holds no dot.
    return path.name.removeprefix("batch-").split(".", 1)[0]


def _files_of(folders: Iterable[Path], batches: Iterable[str]) -> list[Path]:
    wanted = set(batches)
    return sorted(
        path
        for folder in folders
        for path in folder.glob("batch-*.parquet")
        if _token_of(path) in wanted
    )


def batch_files(settings: Settings, dataset: str, batches: Iterable[str]) -> list[Path]:
    """The Parquet files of the given (applied) batches."""
    root = dataset_dir(settings, dataset)
    if not root.exists():
        return []
    return _files_of(root.glob("month=*"), batches)


# How far around a new file's own time span its rows' keys are looked for among the stored
# ones. A key names its row's own time (a call's ENTERQUEUE, a state's start), so a row stored
# before has the same time; the margin covers exports whose times were corrected since.
KEY_SEARCH_MARGIN = timedelta(days=1)


def existing_keys(
    settings: Settings,
    dataset: str,
    months: Iterable[str],
    batches: Iterable[str],
    between: tuple[datetime, datetime] | None = None,
) -> tuple[pa.Array, pa.Array]:
    """Keys already stored for these months by applied batches (overlapping files): settled
    ones, and calls stored while still open (a later file that completes such a call is stored
    too, and readers prefer the settled row; see `settled_interactions`). With `between`, only
    the rows within it (and `KEY_SEARCH_MARGIN` around it): adding a day to a stored month
    compares the day's keys with the keys of days around it, not the month's."""
    folders = (month_dir(settings, dataset, month) for month in months)
    files = [str(path) for path in _files_of(folders, batches)]
    none = pa.array([], pa.string())
    if not files:
        return none, none
    filters = None
    if between is not None:
        low, high = between[0] - KEY_SEARCH_MARGIN, between[1] + KEY_SEARCH_MARGIN
        filters = [("event_at", ">=", low), ("event_at", "<=", high)]
    if dataset != "interactions":
        schema = pa.schema([("key", pa.string()), ("event_at", UTC_TS)])
        keys = pq.ParquetDataset(files, schema=schema, filters=filters).read(["key"])
        return keys.column("key").combine_chunks(), none
    stored = pq.ParquetDataset(files, schema=INTERACTIONS, filters=filters).read(["key", "outcome"])
    is_open = pc.fill_null(pc.equal(stored["outcome"], "open"), False)
    settled = stored.filter(pc.invert(is_open)).column("key").combine_chunks()
    return settled, stored.filter(is_open).column("key").combine_chunks()


# A month with more rows than this is written in parts (at most MAX_PARTS) side by side, one
# thread per core: the Parquet encoder is single-threaded (a 5-million-call month took 12 s to
# write as one file).
PART_ROWS = 1 << 20
MAX_PARTS = 8


def _parts(table: pa.Table, part_rows: int) -> list[pa.Table]:
    count = min(MAX_PARTS, max(1, -(-table.num_rows // part_rows)))
    size = -(-table.num_rows // count)
    return [table.slice(offset, size) for offset in range(0, table.num_rows, size)]


def write_batch(
    settings: Settings, dataset: str, table: pa.Table, token: str, part_rows: int = PART_ROWS
) -> list[Path]:
    """Write a batch's rows, one file per month (in parts when large); returns the files
    written. On failure nothing of this call is left behind."""
    spans = month_spans(table, settings)
    pending: list[tuple[pa.Table, Path]] = []
    for month, start, end in spans:
        if len(spans) == 1:
            rows = table
        else:
            at = table["event_at"]
            rows = table.filter(pc.and_(pc.greater_equal(at, start), pc.less(at, end)))
            if rows.num_rows == 0:
                continue
        folder = month_dir(settings, dataset, month)
        folder.mkdir(parents=True, exist_ok=True)
        parts = _parts(rows, part_rows)
        for number, part in enumerate(parts):
            name = (
                f"batch-{token}.parquet" if len(parts) == 1 else f"batch-{token}.{number}.parquet"
            )
            pending.append((part, folder / name))
    finals = [final for _, final in pending]
    temporaries = [final.with_name(final.name + ".tmp") for final in finals]

    def write(part: pa.Table, temporary: Path) -> None:
        pq.write_table(part, temporary, compression="zstd")

    try:
        # pyarrow releases the GIL while it encodes: the parts are written in parallel.
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            list(pool.map(write, [part for part, _ in pending], temporaries))
        for temporary, final in zip(temporaries, finals, strict=True):
            temporary.replace(final)
    except BaseException:
        for path in (*temporaries, *finals):
            # Whatever cannot be removed, the rest still is (the error raised is the write's).
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
        raise
    return finals


def scan(settings: Settings, dataset: str, batches: Iterable[str]) -> pa.Table:
    """Every stored row of a dataset from the given (applied) batches."""
    files = batch_files(settings, dataset, batches)
    if not files:
        return SCHEMAS[dataset].empty_table()
    return pq.ParquetDataset([str(f) for f in files], schema=SCHEMAS[dataset]).read()


# Where adapters stage the Parquet they write themselves: beside the store (a rename moves a
# file into place) and in the cache, which backups leave out and anyone may empty.
STAGING = Path(CACHE_DIR) / "import-staging"
# A stage this old belongs to an import that was killed (an import takes minutes at most).
STALE_STAGE = timedelta(days=1)
_DUCKDB_TYPES = {
    pa.string(): "VARCHAR",
    UTC_TS: "TIMESTAMPTZ",
    pa.float64(): "DOUBLE",
    pa.bool_(): "BOOLEAN",
    pa.int64(): "BIGINT",
    pa.date32(): "DATE",
}


def staging_root(settings: Settings) -> Path:
    """The folder imports stage their files in, cleared of what killed imports left."""
    root = settings.data_dir / STAGING
    root.mkdir(parents=True, exist_ok=True)
    oldest = datetime.now(UTC).timestamp() - STALE_STAGE.total_seconds()
    for folder in root.iterdir():
        with contextlib.suppress(OSError):
            if folder.stat().st_mtime < oldest:
                shutil.rmtree(folder, ignore_errors=True)
    return root


@dataclasses.dataclass(frozen=True)
class StagedRows:
    """A dataset's rows written as Parquet by its adapter, one file per centre-local month."""

    dataset: str
    files: dict[str, Path]  # month (YYYY-MM) -> file
    rows: int
    first_at: datetime | None
    last_at: datetime | None

    def months(self) -> list[str]:
        """The months the rows fall in."""
        return sorted(self.files)

    def read(self, columns: list[str] | None = None) -> pa.Table:
        """The rows (or some of their columns) as one table."""
        schema = SCHEMAS[self.dataset]
        if not self.files:
            return schema.empty_table().select(columns or schema.names)
        paths = [str(path) for path in self.files.values()]
        return pq.ParquetDataset(paths, schema=schema).read(columns)


@dataclasses.dataclass(frozen=True)
class Stage:
    """Where an adapter writes a large dataset as Parquet itself, straight from DuckDB, instead
    of handing it back as Arrow: no copy of the rows in Python, and DuckDB's parallel writer."""

    folder: Path
    timezone: str  # the centre's zone, whose months partition the store

    def write(self, db: duckdb.DuckDBPyConnection, dataset: str, query: str) -> StagedRows:
        """Write the rows of `query` (the dataset's columns, by name), one file per month."""
        schema = SCHEMAS[dataset]
        columns = ", ".join(
            f'CAST("{field.name}" AS {_DUCKDB_TYPES[field.type]}) AS "{field.name}"'
            for field in schema
        )
        # The query is the adapter's own SQL text; paths enter SQL as quoted literals.
        rows = f"SELECT {columns} FROM ({query})"  # noqa: S608
        first_at, last_at = db.execute(
            f"SELECT min(event_at), max(event_at) FROM ({rows})"  # noqa: S608
        ).fetchone() or (None, None)
        if first_at is None or last_at is None:
            return StagedRows(dataset, {}, 0, None, None)
        spans = months_between(first_at, last_at, self.timezone)
        if len(spans) > 1:
            # DuckDB's partitioned write is twice as slow as its plain one: a file that spans
            # months (rare for a large one) is assembled once, then written month by month.
            db.execute(f"CREATE TEMP TABLE staged_rows AS {rows}")
            rows = "SELECT * FROM staged_rows"
        folder = self.folder / dataset
        folder.mkdir(parents=True, exist_ok=True)
        files: dict[str, Path] = {}
        count = 0
        for month, start, end in spans:
            path = folder / f"month={month}.parquet"
            where = ""
            if len(spans) > 1:
                where = (
                    f" WHERE event_at >= '{start.isoformat()}' AND event_at < '{end.isoformat()}'"
                )
            target = str(path).replace("'", "''")
            written = db.execute(
                f"COPY ({rows}{where}) TO '{target}' (FORMAT parquet, COMPRESSION zstd)"
            ).fetchone()
            if written and written[0]:
                files[month] = path
                count += int(written[0])
            else:
                path.unlink(missing_ok=True)
        if len(spans) > 1:
            db.execute("DROP TABLE staged_rows")
        return StagedRows(dataset, files, count, first_at, last_at)


def store_staged(settings: Settings, dataset: str, staged: StagedRows, token: str) -> list[Path]:
    """Move a batch's staged files into the store; returns the files now in place. On failure
    nothing of this call is left in the store."""
    moved: list[Path] = []
    try:
        for number, (month, path) in enumerate(sorted(staged.files.items())):
            folder = month_dir(settings, dataset, month)
            folder.mkdir(parents=True, exist_ok=True)
            final = folder / f"batch-{token}.s{number}.parquet"
            path.replace(final)
            moved.append(final)
    except BaseException:
        for path in moved:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
        raise
    return moved
