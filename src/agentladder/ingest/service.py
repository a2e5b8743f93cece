"""Importing files through the ledger: hash, parse, de-duplicate, store, account for every row.

The adapters, PyArrow and the Parquet store load when a file is imported or a dataset read,
not when the ledger is listed.

A file is stored completely or not at all. The same file twice is a no-op; records that an
overlapping earlier file already stored are counted as duplicates and not stored again.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agentladder.config import Language, Settings
from agentladder.errors import InvalidInput, NotFound
from agentladder.i18n import N_, translate
from agentladder.ingest.adapters import AdapterInfo, AdapterInput, ParsedFile, Rejected
from agentladder.ingest.models import ImportBatch, RejectedRow, SeenIdentity
from agentladder.org import service as org_service

if TYPE_CHECKING:
    import pyarrow as pa

    from agentladder.ingest.datasets import StagedRows
    from agentladder.ingest.detection import Detection
    from agentladder.org.models import User

ADAPTERS: dict[str, AdapterInfo] = {
    info.name: info
    for info in (
        AdapterInfo(
            "calls-table",
            "agentladder.ingest.calls_table:parse",
            True,
            N_("per-call table (CSV/XLSX) with a mapping"),
        ),
        AdapterInfo(
            "queue_log",
            "agentladder.ingest.queue_log:parse",
            False,
            N_("Asterisk queue log: flat file, realtime/QueueMetrics table export, PBXware export"),
            reads_path=True,
        ),
        AdapterInfo(
            "asterisk-cdr",
            "agentladder.ingest.cdr:parse_asterisk",
            False,
            N_("Asterisk CDR: cdr_csv Master.csv, or a cdr table export with a header (PBXware)"),
        ),
        AdapterInfo(
            "freeswitch-cdr",
            "agentladder.ingest.cdr:parse_freeswitch",
            False,
            N_("FreeSWITCH mod_cdr_csv; a mapping for templates other than the stock default"),
        ),
        AdapterInfo(
            "daily-stats",
            "agentladder.ingest.daily_stats:parse",
            True,
            N_("per-agent daily statistics report (CSV/XLSX) with a mapping"),
        ),
        AdapterInfo(
            "surveys",
            "agentladder.ingest.contact_records:parse_surveys",
            True,
            N_("satisfaction surveys (CSAT, NPS) with a mapping"),
        ),
        AdapterInfo(
            "feedback",
            "agentladder.ingest.contact_records:parse_feedback",
            True,
            N_("complaints and praise with a mapping"),
        ),
        AdapterInfo(
            "tickets",
            "agentladder.ingest.contact_records:parse_tickets",
            True,
            N_("tickets (工单) with a mapping"),
        ),
        AdapterInfo(
            "leads",
            "agentladder.ingest.contact_records:parse_leads",
            True,
            N_("sales leads with a mapping"),
        ),
        AdapterInfo(
            "schedules",
            "agentladder.ingest.contact_records:parse_schedules",
            True,
            N_("rosters: shifts and absences, with a mapping"),
        ),
    )
}


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do)."""

    adapter: str
    file_name: str
    file_sha256: str
    dry_run: bool
    already_imported: bool
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rows_ignored: int = 0
    rows_duplicate: int = 0
    stored: dict[str, int] = field(default_factory=dict)
    first_event_at: datetime | None = None
    last_event_at: datetime | None = None
    rejected: list[Rejected] = field(default_factory=list)
    unmapped_identities: list[tuple[str, int]] = field(default_factory=list)
    notes: dict[str, object] = field(default_factory=dict)
    batch_id: int | None = None
    # The dataset `rows_duplicate` counts records of (interactions when the file has calls).
    main_dataset: str = ""
    # Of a growing log: the lines of what was in progress at its end (see `ParsedFile.carry`).
    carry: bytes = b""

    @property
    def accounting(self) -> RowAccounting:
        """The row counts as they add up, with the reasons for ignored rows."""
        return row_accounting(
            rows_read=self.rows_read,
            rows_accepted=self.rows_accepted,
            rows_rejected=self.rows_rejected,
            rows_ignored=self.rows_ignored,
            rows_duplicate=self.rows_duplicate,
            notes=self.notes,
        )


IGNORED_SUFFIX = "(ignored)"
OTHER_IGNORED = "other rows without a call or record"
# The notes adapters keep about a file, as people read them; the stored keys stay English.
NOTE_NAMES = {
    "layout": N_("Layout"),
    "encoding": N_("Encoding"),
    "open calls (not counted as completed)": N_("open calls (not counted as completed)"),
    "calls completed from an earlier file": N_("calls completed from an earlier file"),
    "rows by number of columns": N_("rows by number of columns"),
    "unknown verbs": N_("unknown verbs"),
    "zero-second calls never answered": N_("zero-second calls never answered"),
    "blank lines": N_("blank lines"),
    "blank rows": N_("blank rows"),
    "total lines": N_("total lines"),
    "rows with nothing to store": N_("rows with nothing to store"),
    "call events before their ENTERQUEUE": N_("call events before their ENTERQUEUE"),
    "in progress at the end, read again with the next lines": N_(
        "in progress at the end, read again with the next lines"
    ),
    "queue and configuration events without a call": N_(
        "queue and configuration events without a call"
    ),
    "surveys without a score, not rated": N_("surveys without a score, not rated"),
    "days off, nothing rostered": N_("days off, nothing rostered"),
    OTHER_IGNORED: N_("other rows without a call or record"),
    # values and inner keys: the queue_log layouts, how an open call ended
    "flat": N_("flat file"),
    "table": N_("table export"),
    "pbxware": N_("PBXware export"),
    "end_of_file": N_("end of the file"),
    "queuestart": N_("Asterisk restarted"),
}


def note_name(key: str, language: Language) -> str:
    """A note's name (or a reason for ignored rows) in the reader's language."""
    base = key.removesuffix(IGNORED_SUFFIX).strip()
    return translate(language, NOTE_NAMES[base]) if base in NOTE_NAMES else key


@dataclass(frozen=True)
class RowAccounting:
    """What became of every row read: rows_read = accepted + rejected + ignored, the ignored
    ones by reason; `rows_duplicate` counts records the accepted rows made that an earlier
    file had stored already (records, not rows: a queue_log's call is several rows)."""

    rows_read: int
    rows_accepted: int
    rows_rejected: int
    rows_ignored: int
    rows_duplicate: int
    ignored_by_reason: dict[str, int]

    @property
    def adds_up(self) -> bool:
        """Whether read = accepted + rejected + ignored, and the reasons cover the ignored."""
        return self.rows_read == self.rows_accepted + self.rows_rejected + self.rows_ignored and (
            sum(self.ignored_by_reason.values()) == self.rows_ignored
        )


def _note_count(value: object) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, dict):
        return sum(_note_count(v) for v in value.values())
    return 0


def row_accounting(
    *,
    rows_read: int,
    rows_accepted: int,
    rows_rejected: int,
    rows_ignored: int,
    rows_duplicate: int,
    notes: dict[str, object],
) -> RowAccounting:
    """The counts of an import and its notes as a `RowAccounting`: each note whose name ends in
    "(ignored)" is a reason; rows no note explains are counted under one more reason."""
    reasons = {
        key.removesuffix(IGNORED_SUFFIX).strip(): _note_count(value)
        for key, value in notes.items()
        if key.endswith(IGNORED_SUFFIX) and _note_count(value)
    }
    unexplained = rows_ignored - sum(reasons.values())
    if unexplained > 0:
        reasons[OTHER_IGNORED] = unexplained
    return RowAccounting(
        rows_read, rows_accepted, rows_rejected, rows_ignored, rows_duplicate, reasons
    )


def batch_accounting(batch: ImportBatch) -> RowAccounting:
    """The row accounting of an import in the ledger."""
    return row_accounting(
        rows_read=batch.rows_read,
        rows_accepted=batch.rows_accepted,
        rows_rejected=batch.rows_rejected,
        rows_ignored=batch.rows_ignored,
        rows_duplicate=batch.rows_duplicate,
        notes=batch_notes(batch),
    )


def load_mapping(path: Path) -> dict[str, Any]:
    """A column-mapping file (YAML), or a clear error naming the file."""
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInput(
            "cannot read mapping {file}: {error}", file=str(path), error=str(exc)
        ) from exc
    # columns: {field: header} for tables, or [names in file order] for headerless CDR files.
    if not isinstance(loaded, dict) or not isinstance(loaded.get("columns"), dict | list):
        raise InvalidInput("mapping {file} needs a 'columns' section", file=str(path))
    return loaded


MAPPINGS_DIR = Path(__file__).parent / "mappings"


def shipped_mapping(name: str) -> Path:
    """A mapping file that ships with agentladder (ingest/mappings/<name>.yaml)."""
    return MAPPINGS_DIR / f"{name}.yaml"


# Names people type for an adapter besides its own: every command spells adapters with
# hyphens, while the ledger keeps the name queue_log was stored under.
ADAPTER_ALIASES = {"queue-log": "queue_log"}


def adapter_command_name(name: str) -> str:
    """An adapter's name as the commands spell it (queue-log)."""
    return name.replace("_", "-")


def get_adapter(name: str) -> AdapterInfo:
    """The adapter with this name (or alias), or a clear error listing the known ones."""
    try:
        return ADAPTERS[ADAPTER_ALIASES.get(name, name)]
    except KeyError:
        known = ", ".join(sorted(adapter_command_name(a) for a in ADAPTERS))
        raise InvalidInput(
            "unknown adapter {name}; known: {known}", name=name, known=known
        ) from None


def applied_batches(*, session: Session) -> list[str]:
    """The file tokens of every batch in the ledger (only their files are ever read)."""
    from agentladder.ingest import datasets

    rows = session.execute(
        select(ImportBatch.id, ImportBatch.file_sha256).order_by(ImportBatch.id)
    ).all()
    return [datasets.batch_token(batch_id, digest) for batch_id, digest in rows]


def _time_range(parsed: ParsedFile) -> tuple[datetime | None, datetime | None]:
    import pyarrow.compute as pc

    lows, highs = [], []
    for table in parsed.datasets.values():
        if table.num_rows:
            lows.append(pc.min(table["event_at"]).as_py())
            highs.append(pc.max(table["event_at"]).as_py())
    for staged in parsed.staged.values():
        if staged.first_at is not None and staged.last_at is not None:
            lows.append(staged.first_at)
            highs.append(staged.last_at)
    return (min(lows) if lows else None, max(highs) if highs else None)


def _new_rows(
    settings: Settings,
    dataset: str,
    table: pa.Table,
    batches: Iterable[str],
    unique_keys: bool = False,
) -> pa.Table:
    """The rows whose key is not stored yet, once per key (see `_kept_rows`)."""
    import pyarrow.compute as pc

    from agentladder.ingest import datasets

    if table.num_rows == 0:
        return table
    months = [month for month, _, _ in datasets.month_spans(table, settings)]
    span = pc.min_max(table["event_at"]).as_py()
    between = (span["min"], span["max"]) if span["min"] is not None else None
    keep = _kept_rows(settings, dataset, lambda: table, months, between, batches, unique_keys)
    # Nothing dropped (a first import, most of the time): the table as it is, not a copy.
    return table if keep is None else table.filter(keep)


def _new_staged_rows(
    settings: Settings, staged: StagedRows, batches: Iterable[str], unique_keys: bool
) -> StagedRows | pa.Table:
    """The staged rows whose key is not stored yet: the files as written when every row is new
    (a first import, most of the time), else the new rows as a table."""
    if staged.rows == 0:
        return staged
    columns = ["key", "outcome"] if staged.dataset == "interactions" else ["key"]
    between = None
    if staged.first_at is not None and staged.last_at is not None:
        between = (staged.first_at, staged.last_at)
    keep = _kept_rows(
        settings,
        staged.dataset,
        lambda: staged.read(columns),
        staged.months(),
        between,
        batches,
        unique_keys,
    )
    return staged if keep is None else staged.read().filter(keep)


def _kept_rows(
    settings: Settings,
    dataset: str,
    keys_of: Callable[[], pa.Table],
    months: list[str],
    between: tuple[datetime, datetime] | None,
    batches: Iterable[str],
    unique_keys: bool,
) -> pa.Array | pa.ChunkedArray | None:
    """Which rows to store (None: all). A settled row supersedes a stored or repeated open
    copy; an open row is new only if its call was never stored (two files that both end with
    the same open call store it once). `keys_of` gives the rows' key (and outcome), read only
    when something may be dropped."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from agentladder.ingest import datasets

    settled, still_open = datasets.existing_keys(settings, dataset, months, batches, between)
    if unique_keys and not len(settled) and not len(still_open):
        return None
    table = keys_of()
    keys = table["key"]
    is_open = (
        pc.fill_null(pc.equal(table["outcome"], "open"), False)
        if dataset == "interactions"
        else None
    )
    keep = None
    if len(settled) or len(still_open):
        stored = pc.is_in(keys, value_set=settled)
        if is_open is not None and len(still_open):
            stored = pc.or_(stored, pc.and_(is_open, pc.is_in(keys, value_set=still_open)))
        keep = pc.invert(stored)
    if not unique_keys:
        counts = table.select(["key"]).group_by("key").aggregate([("key", "count")])
        repeated = counts.filter(pc.greater(counts["key_count"], 1))["key"]
        if len(repeated):
            if keep is None:
                keep = pa.chunked_array([pa.repeat(True, table.num_rows)])
            keep = _once_per_key(keys, is_open, keep, repeated.combine_chunks())
    if keep is None or pc.all(keep).as_py():
        return None
    return keep


def _once_per_key(
    keys: pa.ChunkedArray,
    is_open: pa.ChunkedArray | None,
    keep: pa.ChunkedArray,
    repeated: pa.Array,
) -> pa.Array:
    """Of the rows whose key the file repeats, keep the first settled one, or the first open
    one when none is settled."""
    import pyarrow as pa
    import pyarrow.compute as pc

    flags = keep.to_numpy(zero_copy_only=False).copy()
    rows = pc.indices_nonzero(pc.is_in(keys, value_set=repeated)).to_pylist()
    row_keys = keys.take(rows).to_pylist()
    row_open = is_open.take(rows).to_pylist() if is_open is not None else [False] * len(rows)
    chosen: dict[str, tuple[int, bool]] = {}
    for row, key, row_is_open in zip(rows, row_keys, row_open, strict=True):
        if not flags[row]:
            continue
        flags[row] = False
        best = chosen.get(key)
        if best is None or (best[1] and not row_is_open):
            chosen[key] = (row, row_is_open)
    for row, _ in chosen.values():
        flags[row] = True
    return pa.array(flags)


def _complete_open_calls(settings: Settings, parsed: ParsedFile, batches: list[str]) -> None:
    """Join a rotated file's leading events to the open calls the previous file stored."""
    import pyarrow as pa

    from agentladder.ingest import queue_log, stitching

    stitched = stitching.stitch_continuations(settings, parsed.continuations, batches)
    if not stitched.calls:
        return
    # The file's own calls may be staged as Parquet: then the stitched ones are its table.
    own = parsed.datasets.get("interactions")
    parsed.datasets["interactions"] = (
        stitched.rows if own is None else pa.concat_tables([own, stitched.rows])
    )
    parsed.rows_accepted += stitched.events
    parsed.rows_ignored -= stitched.events
    parsed.notes["calls completed from an earlier file"] = stitched.calls
    orphans = parsed.notes.pop(queue_log.ORPHANS_NOTE, 0) - stitched.events
    if orphans:
        parsed.notes[queue_log.ORPHANS_NOTE] = orphans


def import_file(
    *,
    session: Session,
    settings: Settings,
    adapter: str,
    data: bytes | None = None,
    path: Path | None = None,
    file_name: str | None = None,
    mapping: dict[str, object] | None = None,
    encoding: str | None = None,
    timezone: str | None = None,
    dry_run: bool = False,
    imported_by: User | None = None,
    imported_by_id: int | None = None,
    progress: Callable[[str], None] | None = None,
    growing: bool = False,
) -> ImportReport:
    """Import one file (its bytes, or its path) through an adapter; with `dry_run`, report
    everything and write nothing. `timezone`: the zone of the file's local times, when not the
    centre's (or the mapping's). `progress` hears each step ("reading", "storing") as it
    starts. `growing`: the lines are the latest of a log still being written; what is in
    progress at their end comes back in `ImportReport.carry` instead of being stored."""
    from agentladder.ingest import datasets

    info = get_adapter(adapter)
    source_settings = settings
    if timezone:
        check_timezone(timezone)
        source_settings = settings.model_copy(update={"timezone": timezone})
        if mapping is not None:
            mapping = {**mapping, "timezone": timezone}
    adapter = info.name  # the name the ledger keeps, whichever way it was spelled
    if path is not None:
        with path.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        file_name = file_name or path.name
        # Adapters that read the file themselves never hold all of it in memory.
        data = b"" if info.reads_path else path.read_bytes()
    elif data is not None:
        digest = hashlib.sha256(data).hexdigest()
    else:
        raise ValueError("import_file needs data or path")
    report = ImportReport(
        adapter, Path(file_name or "upload").name, digest, dry_run, already_imported=False
    )
    previous = session.scalar(
        select(ImportBatch).where(ImportBatch.adapter == adapter, ImportBatch.file_sha256 == digest)
    )
    if previous is not None:
        report.already_imported = True
        report.batch_id = previous.id
        return report
    if info.needs_mapping and mapping is None:
        raise InvalidInput("the {adapter} adapter needs --mapping", adapter=adapter)
    # Whatever happens below, the adapter's staged files go with this folder.
    with tempfile.TemporaryDirectory(dir=datasets.staging_root(settings)) as folder:
        stage = datasets.Stage(Path(folder), settings.timezone)
        return _import_parsed(
            session=session,
            settings=settings,
            info=info,
            report=report,
            source=AdapterInput(
                data, report.file_name, source_settings, mapping, encoding, path, stage, growing
            ),
            dry_run=dry_run,
            imported_by_id=imported_by.id if imported_by else imported_by_id,
            progress=progress,
        )


def _import_parsed(
    *,
    session: Session,
    settings: Settings,
    info: AdapterInfo,
    report: ImportReport,
    source: AdapterInput,
    dry_run: bool,
    imported_by_id: int | None,
    progress: Callable[[str], None] | None,
) -> ImportReport:
    """Parse a file and store its new rows under a new batch (see `import_file`)."""
    import pyarrow as pa

    from agentladder.ingest import datasets

    if progress is not None:
        progress("reading")
    parsed = info.parse(source)
    batches = applied_batches(session=session)
    _complete_open_calls(settings, parsed, batches)
    fresh = {
        name: _new_rows(settings, name, table, batches, name in parsed.unique_keys)
        for name, table in parsed.datasets.items()
    }
    fresh_staged: dict[str, datasets.StagedRows] = {}
    for name, staged in parsed.staged.items():
        kept = _new_staged_rows(settings, staged, batches, name in parsed.unique_keys)
        if isinstance(kept, datasets.StagedRows):
            fresh_staged[name] = kept
        else:  # some rows were stored before: the new ones are written as a table
            fresh[name] = kept if name not in fresh else pa.concat_tables([fresh[name], kept])
    names = [*parsed.staged, *(name for name in parsed.datasets if name not in parsed.staged)]
    main = "interactions" if "interactions" in names else names[0]
    report.main_dataset = main
    report.rows_read = parsed.rows_read
    report.rows_rejected = len(parsed.rejected)
    report.rows_ignored = parsed.rows_ignored
    report.rows_accepted = parsed.rows_accepted
    report.stored = {
        name: (fresh[name].num_rows if name in fresh else 0)
        + (fresh_staged[name].rows if name in fresh_staged else 0)
        for name in names
    }
    report.rows_duplicate = parsed.rows_of(main) - report.stored[main]
    report.first_event_at, report.last_event_at = _time_range(parsed)
    report.rejected = parsed.rejected
    report.notes = parsed.notes
    report.carry = parsed.carry
    resolve = org_service.identity_resolver(session=session)
    report.unmapped_identities = sorted(
        (identity, rows)
        for identity, rows in parsed.identities.items()
        if resolve(identity) is None
    )
    if dry_run:
        return report

    if progress is not None:
        progress("storing")
    batch = ImportBatch(
        adapter=report.adapter,
        file_name=report.file_name,
        file_sha256=report.file_sha256,
        rows_read=report.rows_read,
        rows_accepted=report.rows_accepted,
        rows_rejected=report.rows_rejected,
        rows_ignored=report.rows_ignored,
        rows_duplicate=report.rows_duplicate,
        first_event_at=report.first_event_at,
        last_event_at=report.last_event_at,
        details=json.dumps(parsed.notes, default=str),
        imported_by_user_id=imported_by_id,
        rejected=[
            RejectedRow(
                line_no=r.line_no,
                field=r.field,
                reason=datasets.hide_phone_numbers(r.reason),
                raw=datasets.hide_phone_numbers(r.raw[:2000]),
            )
            for r in parsed.rejected
        ],
        identities=[
            SeenIdentity(identity=identity[:200], rows=rows)
            for identity, rows in parsed.identities.items()
        ],
    )
    session.add(batch)
    session.flush()
    written: list[Path] = []
    token = datasets.batch_token(batch.id, report.file_sha256)
    try:
        for name, table in fresh.items():
            if table.num_rows:
                written += datasets.write_batch(settings, name, table, token)
        for name, staged in fresh_staged.items():
            written += datasets.store_staged(settings, name, staged, token)
        session.flush()
    except BaseException:
        # Nothing half-written: the ledger row rolls back with the session, the files go here.
        for path in written:
            path.unlink(missing_ok=True)
        raise
    report.batch_id = batch.id
    return report


def import_order(adapter: str, files: list[Path]) -> list[Path]:
    """Rotated queue_logs oldest first (by their first event), so that calls a rotation split
    are completed; other files (or a mix) in the order given."""
    from agentladder.ingest import queue_log

    if adapter != AUTO_ADAPTER and get_adapter(adapter).name != "queue_log":
        return files
    starts = {}
    for path in files:
        with path.open("rb") as handle:
            starts[path] = queue_log.first_event_epoch(handle.read(65536))
    if any(start is None for start in starts.values()):
        return files
    return sorted(files, key=lambda path: starts[path] or 0.0)


BATCHES_PER_PAGE = 50


@dataclass(frozen=True)
class BatchPage:
    """One page of the ledger, newest first."""

    batches: list[ImportBatch]
    page: int
    pages: int
    total: int


def list_batches(*, session: Session, limit: int = BATCHES_PER_PAGE) -> list[ImportBatch]:
    """The most recent imports."""
    return list(session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc()).limit(limit)))


def page_batches(*, session: Session, page: int = 1, per_page: int = BATCHES_PER_PAGE) -> BatchPage:
    """A page of the ledger, newest first; a page past the last gives the last one."""
    total = session.scalar(select(func.count()).select_from(ImportBatch)) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    batches = session.scalars(
        select(ImportBatch)
        .order_by(ImportBatch.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return BatchPage(list(batches), page, pages, total)


def check_timezone(name: str) -> None:
    """InvalidInput unless `name` is a time zone (Asia/Shanghai, UTC...)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("unknown time zone {zone}", zone=name) from None


# Adapters and shipped mappings as people read them (their ids are what files and scripts use).
ADAPTER_TITLES = {
    "calls-table": N_("Per-call table"),
    "queue_log": N_("Asterisk queue log"),
    "asterisk-cdr": N_("Asterisk CDR"),
    "freeswitch-cdr": N_("FreeSWITCH CDR"),
    "daily-stats": N_("Daily statistics report"),
    "surveys": N_("Satisfaction surveys"),
    "feedback": N_("Complaints and praise"),
    "tickets": N_("Tickets"),
    "leads": N_("Sales leads"),
    "schedules": N_("Shift schedules"),
}
MAPPING_TITLES = {
    "asterisk_pbxware": N_("PBXware CDR table export"),
    "call_center_dataset": N_("Per-call table (Call-Center-Dataset.csv)"),
    "daily_stats_en": N_("Daily statistics, English headers"),
    "daily_stats_zh": N_("Daily statistics, Chinese headers (坐席日报)"),
    "feedback_zh": N_("Complaints and praise, Chinese headers"),
    "freeswitch_example": N_('FreeSWITCH CDR, the stock "example" template'),
    "leads_zh": N_("Sales leads, Chinese headers"),
    "schedules_zh": N_("Shift schedules, Chinese headers (排班表)"),
    "surveys_zh": N_("Satisfaction surveys, Chinese headers"),
    "tickets_zh": N_("Tickets, Chinese headers (工单)"),
}


def adapter_title(adapter: str, language: Language) -> str:
    """An adapter's name in the reader's language (queue-log and queue_log alike)."""
    key = "queue_log" if adapter in ("queue-log", "queue_log") else adapter
    return translate(language, ADAPTER_TITLES[key]) if key in ADAPTER_TITLES else adapter


def mapping_title(name: str, language: Language) -> str:
    """A shipped mapping's name in the reader's language; a centre's own mapping by its name."""
    return translate(language, MAPPING_TITLES[name]) if name in MAPPING_TITLES else name


def shipped_mapping_names() -> list[str]:
    """The mappings that ship with agentladder, by name."""
    return sorted(path.stem for path in MAPPINGS_DIR.glob("*.yaml"))


def load_shipped_mapping(name: str) -> dict[str, Any]:
    """A shipped mapping by name, or a clear error listing the known ones."""
    if name not in shipped_mapping_names():
        raise InvalidInput(
            "unknown mapping {name}; known: {known}",
            name=name,
            known=", ".join(shipped_mapping_names()),
        )
    return load_mapping(shipped_mapping(name))


def parse_mapping_text(text: str, *, file_name: str) -> dict[str, Any]:
    """A mapping given as YAML text (an uploaded file), checked like `load_mapping`."""
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(
            "cannot read mapping {file}: {error}", file=file_name, error=str(exc)
        ) from exc
    if not isinstance(loaded, dict) or not isinstance(loaded.get("columns"), dict | list):
        raise InvalidInput("mapping {file} needs a 'columns' section", file=file_name)
    return loaded


AUTO_ADAPTER = "auto"


@dataclass(frozen=True)
class AdapterChoice:
    """The adapter a file is read with, its mapping, and how it was chosen (None: by name)."""

    adapter: str
    mapping: dict[str, Any] | None
    detection: Detection | None


def choose_adapter(
    *,
    adapter: str,
    path: Path,
    mapping: dict[str, Any] | None = None,
    file_name: str | None = None,
) -> AdapterChoice:
    """The named adapter, or with "auto" the one the file's first lines (or the mapping's
    `adapter:`) call for, with the shipped mapping it needs when none is given."""
    from agentladder.ingest import detection

    if adapter != AUTO_ADAPTER:
        return AdapterChoice(get_adapter(adapter).name, mapping, None)
    with path.open("rb") as handle:
        head = handle.read(detection.HEAD_BYTES)
    found = detection.detect_adapter(
        head=head,
        file_name=file_name or path.name,
        mappings_dir=MAPPINGS_DIR,
        path=path,
        mapping=mapping,
    )
    if mapping is None and found.mapping_name is not None:
        mapping = load_mapping(shipped_mapping(found.mapping_name))
    return AdapterChoice(get_adapter(found.adapter).name, mapping, found)


def get_batch_or_raise(*, session: Session, batch_id: int) -> ImportBatch:
    """One import with its rejected rows."""
    batch = session.get(ImportBatch, batch_id)
    if batch is None:
        raise NotFound("import not found")
    return batch


def unmapped_identities(*, session: Session) -> list[tuple[str, int]]:
    """Source identities no agent is mapped to yet, with how many rows name them."""
    resolve = org_service.identity_resolver(session=session)
    totals: dict[str, int] = {}
    for identity, rows in session.execute(select(SeenIdentity.identity, SeenIdentity.rows)):
        totals[identity] = totals.get(identity, 0) + rows
    return sorted((i, n) for i, n in totals.items() if resolve(i) is None)


def seen_identities(*, session: Session) -> list[str]:
    """Every agent identity any imported file named."""
    return list(session.scalars(select(SeenIdentity.identity).distinct()))


def dataset_files(*, session: Session, settings: Settings) -> dict[str, list[Path]]:
    """The stored Parquet files of every dataset, from batches in the ledger."""
    from agentladder.ingest import datasets

    batches = applied_batches(session=session)
    return {name: datasets.batch_files(settings, name, batches) for name in datasets.SCHEMAS}


def dataset_schema(name: str) -> pa.Schema:
    """The Arrow schema of a stored dataset (an empty one reads as a table of it)."""
    from agentladder.ingest import datasets

    return datasets.SCHEMAS[name]


def read_dataset(*, session: Session, settings: Settings, dataset: str) -> pa.Table:
    """Every stored row of a dataset (from batches in the ledger)."""
    from agentladder.ingest import datasets

    return datasets.scan(settings, dataset, applied_batches(session=session))


def batch_notes(batch: ImportBatch) -> dict[str, object]:
    """What the adapter noted about a file (open calls, unknown verbs, encoding...)."""
    notes = json.loads(batch.details or "{}")
    return notes if isinstance(notes, dict) else {}


@dataclass(frozen=True)
class ImportTouch:
    """An import whose events fall (partly) within a time range: what freshness checks read."""

    batch_id: int
    adapter: str
    file_name: str
    imported_at: datetime
    first_event_at: datetime
    last_event_at: datetime


def imports_touching(*, session: Session, start: datetime, end: datetime) -> list[ImportTouch]:
    """The imports with events between start and end (UTC, both included), oldest import
    first; files without events are left out."""
    rows = session.execute(
        select(
            ImportBatch.id,
            ImportBatch.adapter,
            ImportBatch.file_name,
            ImportBatch.imported_at,
            ImportBatch.first_event_at,
            ImportBatch.last_event_at,
        )
        .where(ImportBatch.first_event_at <= end, ImportBatch.last_event_at >= start)
        .order_by(ImportBatch.imported_at, ImportBatch.id)
    )
    return [
        ImportTouch(batch_id, adapter, file_name, imported_at, first, last)
        for batch_id, adapter, file_name, imported_at, first, last in rows
        if first is not None and last is not None
    ]


def identities_in_batches(*, session: Session, batch_ids: Iterable[int]) -> set[str]:
    """The agent identities these imports named."""
    wanted = list(batch_ids)
    if not wanted:
        return set()
    return set(
        session.scalars(
            select(SeenIdentity.identity).where(SeenIdentity.batch_id.in_(wanted)).distinct()
        )
    )
