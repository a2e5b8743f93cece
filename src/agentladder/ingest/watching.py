"""Following a queue_log while Asterisk writes it (`agentladder ingest watch`).

Each read takes the whole lines written since the last one (at most `max_lines`), puts before
them the lines of what was still in progress at the last read (a call not ended yet, an agent
still paused: `ParsedFile.carry`), and imports the lot as one batch of the ledger, through the
same adapter as a file. Where the file was read to, and the carried lines, are stored in the
same transaction as the batch: a watcher killed at any moment resumes after the last batch it
committed, and never stores a line twice.

Rotation. When the file at the path is no longer the one being read (logrotate renamed it and
Asterisk opened a new one), the rest of the old one is read first, from where it now lies
among the rotated files (the same inode), then the new one from its start. When the file was
cut short in place (copytruncate), the rest is read from its copy (the rotated file whose first
line is the same). Both go into one batch with the carried lines, so a call that spans the
rotation is one call. If the log rotated more than once since the last read, the rotated files
written after that one are read too, oldest first (by modification time). A rotated file that
cannot be found is counted in `missed_rotations`.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.ingest import service as ingest_service
from agentladder.ingest.models import WatchedLog

# Lines per batch: a watcher that starts behind (a day's log already written) catches up in
# batches of this size, one after the other.
MAX_LINES = 10_000
INTERVAL_S = 30.0
_CHUNK_BYTES = 1 << 20
# Rotated copies that are compressed are not read (logrotate compresses them a rotation later,
# with `delaycompress`, or the rest was read before).
_COMPRESSED = (".gz", ".bz2", ".xz", ".zst", ".lz4")


@dataclass
class WatchRead:
    """What one read of a watched log did."""

    lines: int  # new lines read (the carried ones not counted again)
    report: ingest_service.ImportReport | None  # None: nothing new
    rotated_from: str | None  # the rotated file whose rest was read first
    missed_rotation: bool  # the file rotated away and its copy was not found
    caught_up: bool  # False: more whole lines were waiting than one batch takes
    carried_lines: int = 0  # lines of what is in progress, read again with the next lines


def _first_line_sha256(path: Path) -> str | None:
    """The hash of the file's first whole line; None while it has none."""
    with path.open("rb") as handle:
        line = handle.readline(_CHUNK_BYTES)
    return hashlib.sha256(line).hexdigest() if line.endswith(b"\n") else None


def _whole_lines(
    path: Path, offset: int, max_lines: int | None, last_line_ends: bool = False
) -> tuple[bytes, int]:
    """The whole lines after `offset` (at most `max_lines`) and how many bytes of the file they
    took. With `last_line_ends`, a last line without its newline counts as whole (the writer
    is done with a rotated file)."""
    kept: list[bytes] = []
    count = 0
    with path.open("rb") as handle:
        handle.seek(offset)
        pending = b""
        while max_lines is None or count < max_lines:
            chunk = handle.read(_CHUNK_BYTES)
            if not chunk:
                break
            pending += chunk
            end = len(pending)
            if max_lines is not None and pending.count(b"\n") > max_lines - count:
                end = _after_nth_newline(pending, max_lines - count)
            cut = pending.rfind(b"\n", 0, end) + 1
            kept.append(pending[:cut])
            count += pending.count(b"\n", 0, cut)
            pending = pending[cut:]
        if last_line_ends and pending and (max_lines is None or count < max_lines):
            kept.append(pending)
    data = b"".join(kept)
    taken = len(data)
    if data and not data.endswith(b"\n"):
        data += b"\n"
    return data, taken


def _after_nth_newline(data: bytes, n: int) -> int:
    at = -1
    for _ in range(n):
        at = data.index(b"\n", at + 1)
    return at + 1


def _is_same_file(state: WatchedLog, path: Path, current: os.stat_result | None) -> bool:
    if current is None or (current.st_dev, current.st_ino) != (state.device, state.inode):
        return False
    if current.st_size < state.offset_bytes:
        return False  # cut short in place (copytruncate)
    return state.head_sha256 is None or _first_line_sha256(path) == state.head_sha256


def _rotated_files(path: Path) -> list[Path]:
    """The log's rotated files that can be read (`queue_log.1`, `queue_log-20261208`...)."""
    return sorted(
        candidate
        for candidate in path.parent.glob(f"{path.name}?*")
        if candidate.is_file() and not candidate.name.endswith(_COMPRESSED)
    )


def _rotated_after(path: Path, copy: Path) -> list[Path]:
    """Rotated files written after `copy`, oldest first: the log rotated more than once since
    the last read (a watcher stopped over a weekend), and these are the files in between."""
    since = copy.stat().st_mtime
    later = [
        candidate
        for candidate in _rotated_files(path)
        if candidate != copy and candidate.stat().st_mtime > since
    ]
    return sorted(later, key=lambda candidate: candidate.stat().st_mtime)


def _rotated_copy(path: Path, state: WatchedLog) -> Path | None:
    """Where the file that was being read lies now: renamed (same inode), or copied before the
    original was cut short (same first line, at least as long as what was read)."""
    siblings = _rotated_files(path)
    for candidate in siblings:
        found = candidate.stat()
        if (found.st_dev, found.st_ino) == (state.device, state.inode):
            return candidate
    if state.head_sha256 is None:
        return None
    for candidate in siblings:
        if (
            candidate.stat().st_size >= state.offset_bytes
            and _first_line_sha256(candidate) == state.head_sha256
        ):
            return candidate
    return None


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except FileNotFoundError:
        return None


def watched_log(*, session: Session, path: Path, adapter: str = "queue_log") -> WatchedLog:
    """The watch state of a log (a new one starts at the beginning of the file), locked for
    this transaction where the database can (a second watcher of the log waits for it)."""
    state = session.scalar(select(WatchedLog).where(WatchedLog.path == str(path)).with_for_update())
    if state is None:
        state = WatchedLog(
            path=str(path),
            adapter=adapter,
            offset_bytes=0,
            carry=b"",
            lines_read=0,
            batches=0,
            rotations=0,
            missed_rotations=0,
        )
        session.add(state)
    return state


def read_new_lines(
    *, session: Session, settings: Settings, path: Path, max_lines: int = MAX_LINES
) -> WatchRead:
    """Import the lines written to a log since the last read (and the rest of a file rotated
    away since), as one batch; the caller commits, with the new position."""
    state = watched_log(session=session, path=path)
    read = WatchRead(0, None, None, False, True)
    pieces = [state.carry]
    current = _stat(path)
    if state.inode is not None and not _is_same_file(state, path, current):
        copy = _rotated_copy(path, state)
        if copy is None:
            read.missed_rotation = True
            state.missed_rotations += 1
        else:
            rest, _ = _whole_lines(copy, state.offset_bytes, None, last_line_ends=True)
            pieces.append(rest)
            read.rotated_from = copy.name
            for later in _rotated_after(path, copy):
                whole, _ = _whole_lines(later, 0, None, last_line_ends=True)
                pieces.append(whole)
            read.lines += sum(piece.count(b"\n") for piece in pieces[1:])
        state.rotations += 1
        state.device = state.inode = None
        state.head_sha256 = None
        state.offset_bytes = 0
    start = state.offset_bytes
    if current is not None:
        if state.inode is None:
            state.device, state.inode = current.st_dev, current.st_ino
        new, taken = _whole_lines(path, start, max_lines)
        pieces.append(new)
        lines = new.count(b"\n")
        read.lines += lines
        read.caught_up = lines < max_lines
        state.offset_bytes = start + taken
        if state.head_sha256 is None:
            state.head_sha256 = _first_line_sha256(path)
    if read.lines == 0:
        return read
    data = b"".join(pieces)
    report = ingest_service.import_file(
        session=session,
        settings=settings,
        adapter=state.adapter,
        data=data,
        file_name=f"{path.name}@{start}-{state.offset_bytes}",
        growing=True,
    )
    # The same bytes imported before (by hand, say): they are stored; read them again with
    # the next lines, so that what is in progress among them is carried on.
    state.carry = data if report.already_imported else report.carry
    read.carried_lines = state.carry.count(b"\n")
    state.lines_read += read.lines
    state.batches += 1
    state.last_batch_id = report.batch_id
    state.updated_at = datetime.now(UTC)
    read.report = report
    return read


def watch(
    *,
    settings: Settings,
    path: Path,
    interval_s: float = INTERVAL_S,
    max_lines: int = MAX_LINES,
    stop: threading.Event | None = None,
    on_read: Callable[[WatchRead], None] | None = None,
    until_caught_up: bool = False,
) -> None:
    """Follow a log until `stop` is set (or, with `until_caught_up`, until every whole line
    written is read): a batch every `interval_s` seconds, or one after the other while whole
    batches are waiting."""
    from agentladder.db import session_scope

    stop = stop or threading.Event()
    while not stop.is_set():
        with session_scope(settings) as session:
            read = read_new_lines(
                session=session, settings=settings, path=path, max_lines=max_lines
            )
        if on_read is not None:
            on_read(read)
        if read.caught_up:
            if until_caught_up:
                return
            stop.wait(interval_s)
