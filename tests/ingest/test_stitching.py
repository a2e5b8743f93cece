"""Rotated queue_logs: a call whose ENTERQUEUE is in one file and its end in the next is
completed when the next file is imported; overlapping files never store a call twice."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.ingest import queue_log
from agentladder.ingest import service as ingest_service
from agentladder.ingest.adapters import AdapterInput
from agentladder.metrics.engine import settled_interactions
from tests.conftest import _empty_all_tables

# c1 is answered before the rotation and completed after it; c2 waits across the rotation,
# rings one agent without answer in the second file, then is answered; c3 is all in file one.
FIRST = """\
1760000000|c1|support|NONE|ENTERQUEUE||13800138001|1
1760000010|c1|support|SIP/1001|CONNECT|10|c1.2|3
1760000020|c3|support|NONE|ENTERQUEUE||13800138003|1
1760000025|c3|support|NONE|ABANDON|1|1|5
1760000030|c2|support|NONE|ENTERQUEUE||13800138002|1
1760000040|c2|support|SIP/1002|RINGNOANSWER|5000
"""
SECOND = """\
1760000050|c2|support|SIP/1003|RINGNOANSWER|4000
1760000060|c2|support|SIP/1001|CONNECT|30|c2.2|2
1760000100|c1|support|SIP/1001|COMPLETECALLER|10|90|1
1760000160|c2|support|SIP/1001|TRANSFER|8001|default|30|100|1
1760000200|c4|support|NONE|ENTERQUEUE||13800138004|1
"""


def _import(settings: Settings, text: str, name: str = "queue_log") -> ingest_service.ImportReport:
    with session_scope(settings) as session:
        return ingest_service.import_file(
            session=session,
            settings=settings,
            adapter="queue_log",
            data=text.encode(),
            file_name=name,
        )


def _settled(settings: Settings) -> list[dict[str, Any]]:
    with session_scope(settings) as session:
        stored = ingest_service.read_dataset(
            session=session, settings=settings, dataset="interactions"
        )
    rows = settled_interactions(ibis.memtable(stored)).to_pyarrow().to_pylist()
    return sorted(rows, key=lambda row: (row["event_at"], row["key"]))


def _calls(rows: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    return {
        row["callid"]: (
            row["agent_identity"],
            row["outcome"],
            row["wait_s"],
            row["ring_s"],
            row["talk_s"],
            row["transferred"],
            row["ended_by"],
        )
        for row in rows
        if row["row_kind"] == "call"
    }


def test_a_call_split_by_rotation_is_completed_by_the_next_file(settings: Settings) -> None:
    first = _import(settings, FIRST, "queue_log-20251009")
    second = _import(settings, SECOND, "queue_log")
    assert first.notes["open calls (not counted as completed)"] == {"end_of_file": 2}
    assert second.notes["calls completed from an earlier file"] == 2
    assert queue_log.ORPHANS_NOTE not in second.notes
    # Every line of the second file is used: 4 continuation events and c4's ENTERQUEUE.
    assert (second.rows_read, second.rows_accepted, second.rows_ignored) == (5, 5, 0)
    assert _calls(_settled(settings)) == {
        # Who hung up c1 comes from the second file's COMPLETECALLER.
        "c1": ("SIP/1001", "answered", 10.0, 3.0, 90.0, False, "customer"),
        "c2": ("SIP/1001", "answered", 30.0, 2.0, 100.0, True, None),
        "c3": (None, "abandoned", 5.0, None, None, False, None),
        "c4": (None, "open", None, None, None, False, None),
    }
    legs = [
        (row["callid"], row["agent_identity"], row["ring_s"], row["caller_hash"] is not None)
        for row in _settled(settings)
        if row["row_kind"] == "leg"
    ]
    assert legs == [("c2", "SIP/1002", 5.0, True), ("c2", "SIP/1003", 4.0, True)]


def test_the_split_file_gives_what_the_whole_file_gives(settings: Settings) -> None:
    _import(settings, FIRST)
    _import(settings, SECOND)
    split = _settled(settings)
    _empty_all_tables(settings.resolved_database_url)
    whole_settings = settings.model_copy(update={"data_dir": settings.data_dir / "whole"})
    _import(whole_settings, FIRST + SECOND)
    whole = _settled(whole_settings)
    assert [row["key"] for row in split] == [row["key"] for row in whole]
    assert _calls(split) == _calls(whole)


def test_continuation_without_a_stored_open_call_stays_ignored(settings: Settings) -> None:
    report = _import(settings, SECOND)
    assert report.notes[queue_log.ORPHANS_NOTE] == 4
    assert "calls completed from an earlier file" not in report.notes
    assert report.rows_read == report.rows_accepted + report.rows_ignored
    assert set(_calls(_settled(settings))) == {"c4"}


def test_a_reused_call_id_a_day_later_is_not_a_continuation(settings: Settings) -> None:
    _import(settings, FIRST)
    later = "\n".join(
        "|".join([str(int(line.split("|")[0]) + 2 * 86400), *line.split("|")[1:]])
        for line in SECOND.splitlines()
    )
    report = _import(settings, later + "\n")
    assert "calls completed from an earlier file" not in report.notes
    assert _calls(_settled(settings))["c1"][1] == "open"


def test_two_files_ending_with_the_same_open_call_store_it_once(settings: Settings) -> None:
    # Both files end while c2 is still waiting; before the fix each stored an open copy and
    # the queue counted c2 twice.
    _import(settings, FIRST)
    report = _import(settings, "1760000001|x9|support|NONE|INFO|\n" + FIRST)
    assert report.stored["interactions"] == 0
    with session_scope(settings) as session:
        stored = ingest_service.read_dataset(
            session=session, settings=settings, dataset="interactions"
        )
    keys = stored["key"].to_pylist()
    assert len(keys) == len(set(keys))


def test_overlapping_files_that_start_at_different_lines_store_each_leg_once(
    settings: Settings,
) -> None:
    # Leg keys were line numbers; a file starting elsewhere gave the same ring another key.
    whole = FIRST + SECOND
    _import(settings, whole)
    report = _import(settings, whole.split("\n", 2)[2])
    assert report.stored["interactions"] == 0
    legs = [row for row in _settled(settings) if row["row_kind"] == "leg"]
    assert len(legs) == 2


def test_cli_imports_rotated_files_oldest_first(cli_env: Settings, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from agentladder.cli import app

    older, newer = tmp_path / "queue_log.1", tmp_path / "queue_log"
    older.write_text(FIRST)
    newer.write_text(SECOND)
    result = CliRunner().invoke(app, ["import", "queue_log", str(newer), str(older)])
    assert result.exit_code == 0, result.output
    assert result.output.index("queue_log.1:") < result.output.index("queue_log:")
    assert "calls completed from an earlier file: 2" in result.output
    assert _calls(_settled(cli_env))["c1"][1] == "answered"


def _interleaved_calls(rng: random.Random, count: int) -> list[str]:
    events: list[tuple[int, int, str]] = []
    start = 1_760_000_000
    for n in range(count):
        start += rng.randint(1, 120)
        callid, agent = f"{start}.{n}", f"SIP/{rng.randint(100, 104)}"
        wait = rng.randint(0, 60)
        lines = [(start, f"{callid}|support|NONE|ENTERQUEUE||1380013{n:04d}|1")]
        if rng.random() < 0.3:
            lines.append((start + wait, f"{callid}|support|{agent}|RINGNOANSWER|3000"))
        if rng.random() < 0.2:
            lines.append((start + wait, f"{callid}|support|NONE|ABANDON|1|1|{wait}"))
        else:
            talk = rng.randint(5, 900)
            lines.append((start + wait, f"{callid}|support|{agent}|CONNECT|{wait}|x|2"))
            lines.append(
                (start + wait + talk, f"{callid}|support|{agent}|COMPLETEAGENT|{wait}|{talk}|1")
            )
        events += [(at, order, f"{at}|{text}") for order, (at, text) in enumerate(lines)]
    # The file is in time order; a call's own events keep their order within one second.
    return [line for _, _, line in sorted(events, key=lambda event: (event[0], event[1]))]


@hypothesis_settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(0, 10_000), count=st.integers(1, 20), cut=st.floats(0.0, 1.0))
def test_any_rotation_point_gives_the_whole_files_calls(
    settings: Settings, seed: int, count: int, cut: float
) -> None:
    lines = _interleaved_calls(random.Random(seed), count)
    at = int(len(lines) * cut)
    whole = queue_log.parse(AdapterInput(("\n".join(lines) + "\n").encode(), "q", settings))
    expected = _calls(
        settled_interactions(ibis.memtable(whole.datasets["interactions"])).to_pyarrow().to_pylist()
    )
    _empty_all_tables(settings.resolved_database_url)
    store = settings.model_copy(update={"data_dir": settings.data_dir / f"{seed}-{count}-{at}"})
    reports = [
        _import(store, "\n".join(part) + "\n", name)
        for name, part in (("old", lines[:at]), ("new", lines[at:]))
        if part
    ]
    for report in reports:
        assert report.rows_read == report.rows_accepted + report.rows_rejected + report.rows_ignored
    assert _calls(_settled(store)) == expected
    legs = sum(1 for line in lines if "|RINGNOANSWER|" in line)
    assert sum(1 for row in _settled(store) if row["row_kind"] == "leg") == legs
    assert isinstance(whole.datasets["interactions"], pa.Table)
