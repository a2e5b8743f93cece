"""The Parquet store: a batch's month written in parts is read back whole, by its batch only,
and a write that fails leaves none of its files behind."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from agentladder.config import Settings
from agentladder.ingest import datasets


def _interactions(count: int, first: datetime) -> pa.Table:
    rows = [
        {
            **dict.fromkeys(datasets.INTERACTIONS.names),
            "key": f"c{i:03d}|support|{i}",
            "callid": f"c{i:03d}",
            "queue": "support",
            "row_kind": "call",
            "direction": "inbound",
            "event_at": first + timedelta(hours=i),
            "outcome": "open" if i % 4 == 0 else "answered",
        }
        for i in range(count)
    ]
    return pa.Table.from_pylist(rows, schema=datasets.INTERACTIONS)


def test_a_month_written_in_parts_reads_back_whole(settings: Settings) -> None:
    table = _interactions(10, datetime(2026, 10, 10, tzinfo=UTC))
    written = datasets.write_batch(settings, "interactions", table, "7-abc", part_rows=3)

    assert [path.name for path in written] == [f"batch-7-abc.{n}.parquet" for n in range(4)]
    assert datasets.batch_files(settings, "interactions", ["7-abc"]) == written
    stored = datasets.scan(settings, "interactions", ["7-abc"]).sort_by("key")
    assert stored.equals(table.sort_by("key"))
    settled, still_open = datasets.existing_keys(settings, "interactions", ["2026-10"], ["7-abc"])
    assert sorted(settled.to_pylist()) == sorted(
        key
        for key, outcome in zip(table["key"].to_pylist(), table["outcome"].to_pylist(), strict=True)
        if outcome != "open"
    )
    assert len(still_open) == 3


def test_the_keys_compared_are_those_around_the_new_rows_time(settings: Settings) -> None:
    # Calls an hour apart over four days: a file of the third day compares its keys with the
    # stored ones of that day and a day either side, not the month's.
    table = _interactions(96, datetime(2026, 10, 10, tzinfo=UTC))
    datasets.write_batch(settings, "interactions", table, "7-abc")
    day = (datetime(2026, 10, 12, tzinfo=UTC), datetime(2026, 10, 12, 23, tzinfo=UTC))
    settled, still_open = datasets.existing_keys(
        settings, "interactions", ["2026-10"], ["7-abc"], between=day
    )
    found = settled.to_pylist() + still_open.to_pylist()
    low, high = day[0] - datasets.KEY_SEARCH_MARGIN, day[1] + datasets.KEY_SEARCH_MARGIN
    assert sorted(found) == sorted(
        key
        for key, at in zip(table["key"].to_pylist(), table["event_at"].to_pylist(), strict=True)
        if low <= at <= high
    )
    assert len(found) == 72  # the 11th 00:00 to the 13th 23:00, of 96 hours


def test_parts_of_one_batch_never_pass_for_another(settings: Settings) -> None:
    datasets.write_batch(
        settings,
        "interactions",
        _interactions(6, datetime(2026, 10, 1, 8, tzinfo=UTC)),
        "7-abc",
        part_rows=2,
    )
    datasets.write_batch(
        settings, "interactions", _interactions(2, datetime(2026, 10, 2, tzinfo=UTC)), "17-abc"
    )

    assert datasets.scan(settings, "interactions", ["17-abc"]).num_rows == 2
    assert datasets.scan(settings, "interactions", ["7-abc"]).num_rows == 6
    assert datasets.batch_files(settings, "interactions", ["7-ab"]) == []


def test_each_month_of_a_batch_is_split_on_its_own(settings: Settings) -> None:
    # 20 hourly rows from 20:00 on 30 September (Asia/Shanghai is UTC+8): 4 in September
    # local time, 16 in October.
    table = _interactions(20, datetime(2026, 9, 30, 12, tzinfo=UTC))
    written = datasets.write_batch(settings, "interactions", table, "8-def", part_rows=5)

    by_month = sorted((path.parent.name, path.name) for path in written)
    assert by_month == [
        ("month=2026-09", "batch-8-def.parquet"),
        *(("month=2026-10", f"batch-8-def.{n}.parquet") for n in range(4)),
    ]
    assert datasets.scan(settings, "interactions", ["8-def"]).num_rows == 20


def test_a_failed_write_leaves_no_part_behind(settings: Settings) -> None:
    table = _interactions(10, datetime(2026, 10, 10, tzinfo=UTC))
    folder = datasets.dataset_dir(settings, "interactions") / "month=2026-10"
    # A directory where the third part's temporary file goes: that part cannot be written.
    (folder / "batch-9-fed.2.parquet.tmp").mkdir(parents=True)

    with pytest.raises(OSError):
        datasets.write_batch(settings, "interactions", table, "9-fed", part_rows=3)

    assert datasets.batch_files(settings, "interactions", ["9-fed"]) == []
    assert sorted(path.name for path in folder.iterdir()) == ["batch-9-fed.2.parquet.tmp"]


def _staged(settings: Settings, tmp_path: Path, table: pa.Table) -> datasets.StagedRows:
    import duckdb

    db = duckdb.connect()
    db.execute("SET TimeZone = 'UTC'")
    db.register("rows", table)
    return datasets.Stage(tmp_path / "stage", settings.timezone).write(
        db, "interactions", "SELECT * FROM rows"
    )


def test_staged_rows_move_into_the_store_by_month(settings: Settings, tmp_path: Path) -> None:
    # Hourly calls from 20:00 UTC on 30 September: in the centre's zone, two months.
    table = _interactions(30, datetime(2026, 9, 30, 10, tzinfo=UTC))
    staged = _staged(settings, tmp_path, table)
    assert staged.months() == ["2026-09", "2026-10"]
    assert staged.rows == 30

    moved = datasets.store_staged(settings, "interactions", staged, "5-abc")

    assert [path.parent.name for path in moved] == ["month=2026-09", "month=2026-10"]
    assert datasets.batch_files(settings, "interactions", ["5-abc"]) == moved
    assert (
        datasets.scan(settings, "interactions", ["5-abc"])
        .sort_by("key")
        .equals(table.sort_by("key"))
    )


def test_a_failed_move_leaves_no_staged_file_in_the_store(
    settings: Settings, tmp_path: Path
) -> None:
    staged = _staged(settings, tmp_path, _interactions(30, datetime(2026, 9, 30, 10, tzinfo=UTC)))
    staged.files["2026-10"].unlink()  # the second month's file cannot be moved

    with pytest.raises(OSError):
        datasets.store_staged(settings, "interactions", staged, "6-abc")

    assert datasets.batch_files(settings, "interactions", ["6-abc"]) == []


def test_what_a_killed_import_staged_is_cleared_by_the_next_one(settings: Settings) -> None:
    root = settings.data_dir / datasets.STAGING
    killed, running = root / "tmp-killed", root / "tmp-running"
    for folder in (killed, running):
        (folder / "interactions").mkdir(parents=True)
        (folder / "interactions" / "month=2026-10.parquet").write_bytes(b"PAR1")
    two_days_ago = datetime.now(UTC).timestamp() - 2 * 86_400
    os.utime(killed, (two_days_ago, two_days_ago))

    assert datasets.staging_root(settings) == root
    assert sorted(path.name for path in root.iterdir()) == ["tmp-running"]
