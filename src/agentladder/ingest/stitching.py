"""Completing calls that a rotated log split in two.

Asterisk rotates `queue_log` while calls are in progress: the ENTERQUEUE of a call is in one
file, its CONNECT or COMPLETE in the next. The earlier file stores the call as `open`; when the
next file is imported, its leading events of that call (the adapter's continuations) are joined
to the stored open call, and the completed call is stored under the same key, which readers
prefer to the open copy. Files must therefore be imported oldest first (the CLI sorts them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from agentladder.config import Settings
from agentladder.ingest import datasets

# A continuation further than this from the open call's enter time is another call that reused
# the call id (some PBXs restart their counters), never the rest of the stored one.
MAX_CALL_SPAN = timedelta(days=1)


@dataclass
class Stitched:
    """The completed calls and their legs, and what they used of the file."""

    rows: pa.Table
    calls: int
    events: int


def _months_around(settings: Settings, moments: Iterable[datetime]) -> set[str]:
    months = set()
    for moment in moments:
        local = moment.astimezone(settings.tz)
        months.add(f"{local:%Y-%m}")
        months.add(f"{(local - MAX_CALL_SPAN):%Y-%m}")
    return months


def _stored_open_calls(
    settings: Settings, callids: set[str], months: set[str], batches: Iterable[str]
) -> list[dict[str, Any]]:
    files = [
        path
        for path in datasets.batch_files(settings, "interactions", batches)
        if path.parent.name.removeprefix("month=") in months
    ]
    if not files:
        return []
    stored = pq.ParquetDataset(
        [str(path) for path in files],
        schema=datasets.INTERACTIONS,
        filters=[("outcome", "=", "open"), ("row_kind", "=", "call")],
    ).read()
    wanted = pc.is_in(stored["callid"], value_set=pa.array(sorted(callids), pa.string()))
    return list(stored.filter(wanted).to_pylist())


def stitch_continuations(
    settings: Settings, continuations: pa.Table | None, batches: Iterable[str]
) -> Stitched:
    """Rows that complete open calls stored by earlier files, from a file's continuations."""
    empty = Stitched(datasets.INTERACTIONS.empty_table(), 0, 0)
    batches = list(batches)
    # Nothing stored yet, or no leading events: nothing to complete.
    if continuations is None or continuations.num_rows == 0 or not batches:
        return empty
    leading = continuations.filter(pc.equal(continuations["part"], "call"))
    open_calls = _stored_open_calls(
        settings,
        set(pc.unique(leading["callid"]).to_pylist()),
        _months_around(settings, pc.unique(leading["first_at"]).to_pylist()),
        batches,
    )
    # Usually nothing stored is open: the file's leading events are not looked at one by one.
    if not open_calls:
        return empty
    parts = continuations.to_pylist()
    calls = [part for part in parts if part["part"] == "call"]
    by_call: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in open_calls:
        by_call.setdefault((row["callid"], row["queue"]), []).append(row)

    rows: list[dict[str, Any]] = []
    events = 0
    matched: dict[tuple[str, str], dict[str, Any]] = {}
    for part in calls:
        candidates = [
            row
            for row in by_call.get((part["callid"], part["queue"]), [])
            if row["event_at"] <= part["first_at"] <= row["event_at"] + MAX_CALL_SPAN
        ]
        # Still open after this file too: nothing completes, the events stay ignored.
        if not candidates or part["outcome"] == "open":
            continue
        stored = max(candidates, key=lambda row: (row["event_at"], row["key"]))
        completed = dict(stored)
        # What the earlier file saw first (CONNECT: agent, answer, wait, ring) stays; the end
        # of the call comes from this file.
        for name in ("agent_identity", "answer_at", "wait_s", "ring_s"):
            if completed[name] is None:
                completed[name] = part[name]
        for name in ("end_at", "talk_s", "outcome", "transferred", "ended_by"):
            completed[name] = part[name]
        rows.append(completed)
        matched[(part["callid"], part["queue"])] = stored
        events += part["events"]
    for part in parts:
        call = matched.get((part["callid"], part["queue"]))
        if part["part"] != "leg" or call is None:
            continue
        rows.append(
            {
                **dict.fromkeys(datasets.INTERACTIONS.names),
                "key": call["key"] + part["leg_suffix"],
                "callid": part["callid"],
                "queue": part["queue"],
                "row_kind": "leg",
                "direction": "inbound",
                "agent_identity": part["agent_identity"],
                "event_at": part["event_at"],
                "end_at": part["end_at"],
                "ring_s": part["ring_s"],
                "outcome": part["outcome"],
                "caller_hash": call["caller_hash"],
            }
        )
    if not rows:
        return empty
    table = pa.Table.from_pylist(rows, schema=datasets.INTERACTIONS)
    return Stitched(table, len(matched), events)
