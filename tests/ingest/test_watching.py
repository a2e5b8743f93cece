"""Following a queue_log as it grows: batches, rotation by rename and by copytruncate, restarts
and crashes; what is stored equals one read of the whole log."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.ingest import queue_log, watching
from agentladder.ingest import service as ingest_service
from agentladder.ingest.adapters import AdapterInput
from agentladder.ingest.models import ImportBatch, WatchedLog
from tests.ingest.test_queue_log import _live_log, _rows


def _text(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def _one_read(settings: Settings, lines: list[str]) -> dict[str, set[tuple[Any, ...]]]:
    """The rows one import of the whole log stores."""
    parsed = queue_log.parse(AdapterInput(_text(lines).encode(), "queue_log", settings))
    return {name: _rows([table]) for name, table in parsed.datasets.items()}


def _stored(settings: Settings) -> dict[str, set[tuple[Any, ...]]]:
    with session_scope(settings) as session:
        return {
            name: _rows(
                [ingest_service.read_dataset(session=session, settings=settings, dataset=name)]
            )
            for name in ("interactions", "agent_states")
        }


def _read(settings: Settings, path: Path, max_lines: int = watching.MAX_LINES) -> Any:
    with session_scope(settings) as session:
        return watching.read_new_lines(
            session=session, settings=settings, path=path, max_lines=max_lines
        )


def _state(settings: Settings, path: Path) -> WatchedLog:
    with session_scope(settings) as session:
        state = session.scalar(select(WatchedLog).where(WatchedLog.path == str(path)))
        assert state is not None
        session.expunge(state)
        return state


@pytest.fixture
def log_lines() -> list[str]:
    return _live_log(random.Random(7), 40)


def test_a_log_read_while_it_grows_stores_what_one_read_does(
    settings: Settings, tmp_path: Path, log_lines: list[str]
) -> None:
    log = tmp_path / "queue_log"
    log.write_text("")
    assert _read(settings, log).report is None  # nothing written yet
    written, carried = 0, []
    for end in (7, 30, 31, 90, len(log_lines)):
        with log.open("a") as handle:
            handle.write(_text(log_lines[written:end]))
        written = end
        carried.append(_read(settings, log).carried_lines)
    # The first lines are logins and members still in progress; at the end all is over.
    assert carried[0] == 7
    assert carried[-1] == 0
    # A last line still being written is left for the next read.
    with log.open("a") as handle:
        handle.write("1760009999|late|support|NONE|ENTERQ")
    assert _read(settings, log).report is None

    assert _stored(settings) == _one_read(settings, log_lines)
    state = _state(settings, log)
    assert (state.lines_read, state.batches, state.carry) == (len(log_lines), 5, b"")
    assert state.offset_bytes == len(_text(log_lines).encode())


def test_a_watcher_behind_catches_up_in_batches_of_the_size_asked(
    settings: Settings, tmp_path: Path, log_lines: list[str]
) -> None:
    log = tmp_path / "queue_log"
    log.write_text(_text(log_lines))
    reads = [_read(settings, log, max_lines=25)]
    while not reads[-1].caught_up:
        reads.append(_read(settings, log, max_lines=25))
    assert [read.lines for read in reads] == [25] * (len(log_lines) // 25) + [len(log_lines) % 25]
    assert _stored(settings) == _one_read(settings, log_lines)


@pytest.mark.parametrize("how", ["rename", "copytruncate"])
def test_a_call_across_a_rotation_is_one_call(
    settings: Settings, tmp_path: Path, log_lines: list[str], how: str
) -> None:
    log, rotated = tmp_path / "queue_log", tmp_path / "queue_log.1"
    # Read up to line 50; lines 50-60 are written before the rotation and read after it.
    log.write_text(_text(log_lines[:50]))
    _read(settings, log)
    with log.open("a") as handle:
        handle.write(_text(log_lines[50:60]))
    if how == "rename":
        log.rename(rotated)
    else:
        rotated.write_bytes(log.read_bytes())
        log.write_bytes(b"")
    log.write_text(_text(log_lines[60:]))

    read = _read(settings, log)

    assert read.rotated_from == "queue_log.1"
    assert read.lines == len(log_lines) - 50
    assert _stored(settings) == _one_read(settings, log_lines)
    state = _state(settings, log)
    assert (state.rotations, state.missed_rotations) == (1, 0)


def test_two_rotations_since_the_last_read_lose_nothing(
    settings: Settings, tmp_path: Path, log_lines: list[str]
) -> None:
    log = tmp_path / "queue_log"
    first, second, third = tmp_path / "queue_log.2", tmp_path / "queue_log.1", log
    log.write_text(_text(log_lines[:40]))
    _read(settings, log)
    with log.open("a") as handle:
        handle.write(_text(log_lines[40:50]))
    log.rename(second)  # the first rotation, by rename
    log.write_text(_text(log_lines[50:100]))
    second.rename(first)  # the second, by copytruncate: .1 becomes .2 first
    second.write_bytes(log.read_bytes())
    log.write_bytes(b"")
    os.utime(first, (1_000_000_000, 1_000_000_000))  # written long before the copy
    third.write_text(_text(log_lines[100:]))

    read = _read(settings, log)

    assert read.rotated_from == "queue_log.2"
    assert read.lines == len(log_lines) - 40
    assert _stored(settings) == _one_read(settings, log_lines)


def test_a_rotated_file_that_is_gone_is_counted_and_the_new_one_read(
    settings: Settings, tmp_path: Path, log_lines: list[str]
) -> None:
    log = tmp_path / "queue_log"
    log.write_text(_text(log_lines[:50]))
    _read(settings, log)
    log.unlink()
    log.write_text(_text(log_lines[50:]))

    read = _read(settings, log)

    assert read.missed_rotation
    assert read.rotated_from is None
    assert read.lines == len(log_lines) - 50
    assert _state(settings, log).missed_rotations == 1


def test_a_read_that_was_not_committed_is_read_again_and_stored_once(
    settings: Settings, tmp_path: Path, log_lines: list[str]
) -> None:
    log = tmp_path / "queue_log"
    log.write_text(_text(log_lines[:60]))
    _read(settings, log)
    with log.open("a") as handle:
        handle.write(_text(log_lines[60:]))

    # Killed after the batch's files were written, before its transaction committed.
    def killed_before_the_commit() -> None:
        with session_scope(settings) as session:
            watching.read_new_lines(session=session, settings=settings, path=log)
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        killed_before_the_commit()

    _read(settings, log)

    assert _stored(settings) == _one_read(settings, log_lines)
    with session_scope(settings) as session:
        assert len(session.scalars(select(ImportBatch)).all()) == 2
