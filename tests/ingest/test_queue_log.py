"""Asterisk queue_log: the PBXware corpus export, hand-built flat files of every stock event,
realtime table exports, and property tests of the parser."""

from __future__ import annotations

import random
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from agentladder.config import Settings
from agentladder.errors import InvalidInput
from agentladder.ingest import datasets, queue_log
from agentladder.ingest import service as ingest_service
from agentladder.ingest.adapters import AdapterInput, ParsedFile
from tests.conftest import corpus_path

SETTINGS = Settings(secret_key="queue-log-tests", database_url="sqlite://")


def parse(text: str | bytes, name: str = "queue_log") -> ParsedFile:
    data = text.encode() if isinstance(text, str) else text
    return queue_log.parse(AdapterInput(data, name, SETTINGS))


def query(parsed: ParsedFile, sql: str) -> list[tuple[Any, ...]]:
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    connection.register("calls", parsed.datasets["interactions"])
    connection.register("states", parsed.datasets["agent_states"])
    return connection.sql(sql).fetchall()


def accounted(parsed: ParsedFile) -> bool:
    return parsed.rows_read == parsed.rows_accepted + len(parsed.rejected) + parsed.rows_ignored


# --- the PBXware corpus ------------------------------------------------------------------


@pytest.fixture(scope="module")
def pbxware() -> ParsedFile:
    return parse(corpus_path("queue_log", "pbxware", "queue_log.csv").read_bytes(), "queue_log.csv")


def test_pbxware_queue_figures(pbxware: ParsedFile) -> None:
    assert pbxware.notes["layout"] == "pbxware"
    assert (pbxware.rows_read, len(pbxware.rejected)) == (1000, 0)
    assert accounted(pbxware)
    [(entered, connected, abandoned, timed_out)] = query(
        pbxware,
        """SELECT count(*), count(answer_at), count(*) FILTER (WHERE outcome = 'abandoned'),
                  count(*) FILTER (WHERE outcome = 'timeout')
           FROM calls WHERE row_kind = 'call' AND direction = 'inbound' AND queue = 'IT'""",
    )
    assert (entered, connected, abandoned, timed_out) == (108, 93, 12, 1)
    [(ring_no_answer,)] = query(
        pbxware, "SELECT count(*) FROM calls WHERE outcome = 'ring_no_answer'"
    )
    assert ring_no_answer == 360


def test_pbxware_per_agent_completed_calls_and_talk(pbxware: ParsedFile) -> None:
    # Completed = ended by COMPLETEAGENT/COMPLETECALLER (Agent/1128 also transferred two calls).
    rows = query(
        pbxware,
        """SELECT agent_identity, count(*), sum(talk_s)::INT FROM calls
           WHERE row_kind = 'call' AND direction = 'inbound' AND outcome = 'answered'
             AND NOT transferred GROUP BY 1 ORDER BY 1""",
    )
    assert rows == [
        ("Agent/1109", 16, 5524),
        ("Agent/1126", 13, 3887),
        ("Agent/1127", 17, 3842),
        ("Agent/1128", 11, 2042),
        ("Agent/1141", 22, 5358),
        ("Agent/1144", 10, 3192),
    ]


def test_pbxware_wait_and_talk_match_the_raw_events(pbxware: ParsedFile) -> None:
    """Wait and talk derived from the events' timestamps equal PBXware's htime/ttime, except
    four calls whose talk differs by one second: PBXware measures talk to the sub-second while
    the file's timestamps are whole seconds (the answer and the hang-up fall on either side of
    a second boundary)."""
    differing = query(
        pbxware,
        """SELECT callid, wait_s - (epoch(answer_at) - epoch(event_at)),
                  talk_s - (epoch(end_at) - epoch(answer_at))
           FROM calls WHERE row_kind = 'call' AND direction = 'inbound' AND outcome = 'answered'
             AND (wait_s <> epoch(answer_at) - epoch(event_at)
                  OR talk_s <> epoch(end_at) - epoch(answer_at))
           ORDER BY callid""",
    )
    assert differing == [
        ("1543607369.532", 0.0, -1.0),
        ("1543618399.120", 0.0, -1.0),
        ("1543860293.3232", 0.0, -1.0),
        ("1543881269.5175", 0.0, -1.0),
    ]


def test_pbxware_open_calls_are_reported_not_completed(pbxware: ParsedFile) -> None:
    # Two callers were connected and two were still waiting when the export ends.
    assert pbxware.notes["open calls (not counted as completed)"] == {"end_of_file": 4}
    rows = query(
        pbxware, "SELECT callid, answer_at IS NOT NULL FROM calls WHERE outcome = 'open' ORDER BY 1"
    )
    assert rows == [
        ("1543942189.2194", True),
        ("1543942358.2226", True),
        ("1543942788.2389", False),
        ("1543942842.2438", False),
    ]


def test_pbxware_outbound_and_sessions(pbxware: ParsedFile) -> None:
    [(dialled, answered)] = query(
        pbxware,
        """SELECT count(*), count(*) FILTER (WHERE outcome = 'answered')
           FROM calls WHERE direction = 'outbound'""",
    )
    assert (dialled, answered) == (110, 73)
    logins = query(pbxware, "SELECT count(*) FROM states WHERE state = 'login'")
    assert logins == [(14,)]
    assert pbxware.identities["Agent/1141"] > 0


# --- flat files: every stock event -------------------------------------------------------

FLAT = """\
1700000000|NONE|NONE|NONE|QUEUESTART|
1700000001|NONE|support|SIP/1001|ADDMEMBER|
1700000002|NONE|sales|SIP/1001|ADDMEMBER|
1700000010|c1.1|support|NONE|ENTERQUEUE||13800138000|1
1700000015|c1.1|support|SIP/1002|RINGNOANSWER|5000
1700000020|c1.1|support|SIP/1001|CONNECT|10|c1.2|4
1700000140|c1.1|support|SIP/1001|COMPLETECALLER|10|120|1
1700000200|c2.1|support|NONE|ENTERQUEUE||13900000000|1
1700000230|c2.1|support|NONE|EXITWITHTIMEOUT|1|1|30
1700000231|c2.1|sales|NONE|ENTERQUEUE||13900000000|1
1700000235|c2.1|sales|SIP/1001|CONNECT|4|c2.2
1700000300|c2.1|sales|SIP/1001|ATTENDEDTRANSFER|LINK|SIP/1001-0001|SIP/2000-0002|4|65|1
1700000400|NONE|NONE|SIP/1001|PAUSEALL|lunch
1700000400|NONE|support|SIP/1001|PAUSE|lunch
1700000400|NONE|sales|SIP/1001|PAUSE|lunch
1700000500|NONE|NONE|SIP/1001|PAUSEALL|lunch
1700002200|NONE|NONE|SIP/1001|UNPAUSEALL|
1700002200|NONE|support|SIP/1001|UNPAUSE|
1700002200|NONE|sales|SIP/1001|UNPAUSE|
1700003000|c3.1|support|NONE|ENTERQUEUE||13800138000|1
1700003005|c3.1|support|NONE|ABANDON|1|1|5
1700003100|c4.1|support|NONE|ENTERQUEUE||anonymous|1
1700003110|c4.1|support|SIP/1001|CONNECT|10|c4.2|3
1700003200|c4.1|support|SIP/1001|BLINDTRANSFER|8000|from-internal|10|90|1
1700003300|c5.1|support|NONE|ENTERQUEUE||13700000000|1
1700003301|c5.1|support|SIP/1001|CONNECT|1|c5.2
1700003400|c5.1|support|SIP/1001|MYVENDORVERB|x
1700003401|c6.1|support|NONE|ENTERQUEUE||13600000000|1
1700003500|NONE|NONE|NONE|QUEUESTART|
this is not a queue_log line

1700003600|c7.1|support|NONE|ENTERQUEUE||13500000000|1
"""


@pytest.fixture(scope="module")
def flat() -> ParsedFile:
    return parse(FLAT)


def test_flat_calls_overflow_transfers_and_open(flat: ParsedFile) -> None:
    rows = query(
        flat,
        """SELECT callid, queue, agent_identity, outcome, wait_s, ring_s, talk_s, transferred
           FROM calls WHERE row_kind = 'call' ORDER BY event_at""",
    )
    assert rows == [
        ("c1.1", "support", "SIP/1001", "answered", 10.0, 4.0, 120.0, False),
        ("c2.1", "support", None, "timeout", 30.0, None, None, False),
        # The same callid overflowing to another queue is a second call; old CONNECT has no ring.
        ("c2.1", "sales", "SIP/1001", "answered", 4.0, None, 65.0, True),
        ("c3.1", "support", None, "abandoned", 5.0, None, None, False),
        ("c4.1", "support", "SIP/1001", "answered", 10.0, 3.0, 90.0, True),
        ("c5.1", "support", "SIP/1001", "open", 1.0, None, None, False),
        ("c6.1", "support", None, "open", None, None, None, False),
        ("c7.1", "support", None, "open", None, None, None, False),
    ]
    assert flat.notes["open calls (not counted as completed)"] == {
        "queuestart": 2,
        "end_of_file": 1,
    }
    legs = query(flat, "SELECT agent_identity, outcome, ring_s FROM calls WHERE row_kind = 'leg'")
    assert legs == [("SIP/1002", "ring_no_answer", 5.0)]


def test_flat_caller_numbers_are_hashed_consistently(flat: ParsedFile) -> None:
    rows = query(
        flat, "SELECT callid, caller_hash FROM calls WHERE row_kind = 'call' ORDER BY event_at"
    )
    hashes = dict(rows)
    assert hashes["c1.1"] == hashes["c3.1"] is not None  # the same caller twice
    assert hashes["c4.1"] is None  # anonymous
    assert "13800138000" not in str(flat.datasets["interactions"].to_pylist())


def test_flat_pauseall_counts_once_and_states_close_at_queuestart(flat: ParsedFile) -> None:
    pauses = query(
        flat,
        """SELECT reason, epoch(end_at) - epoch(event_at), closed_by FROM states
           WHERE state = 'pause'""",
    )
    # PAUSEALL + two per-queue PAUSE lines + a repeated PAUSEALL: one interval of 1800 s.
    assert pauses == [("lunch", 1800.0, "event")]
    members = query(
        flat,
        "SELECT queue, closed_by FROM states WHERE state = 'member' ORDER BY queue",
    )
    assert members == [("sales", "queuestart"), ("support", "queuestart")]


def test_flat_accounting_unknown_verbs_and_rejects(flat: ParsedFile) -> None:
    assert accounted(flat)
    assert [(r.line_no, r.reason[:20]) for r in flat.rejected] == [(30, "fewer than 5 fields ")]
    assert flat.notes["unknown verbs (ignored)"] == {"MYVENDORVERB": 1}
    assert flat.rows_read == 32  # 33 physical lines, the trailing newline ends the last


# --- the fast reader and the exact one ----------------------------------------------------

REGULAR = "".join(
    line + "\n"
    for line in FLAT.splitlines()
    if line and line.split("|")[0].isdigit() and "MYVENDORVERB" not in line
)


def rows_by_key(parsed: ParsedFile, dataset: str) -> list[dict[str, Any]]:
    return sorted(parsed.datasets[dataset].to_pylist(), key=lambda row: row["key"])


def parse_both_readers(text: str, tmp_path: Any) -> ParsedFile:
    """Parse a regular flat file, check that it takes the fast reader and that the exact
    reader (forced by one blank line) stores the same rows; return the fast reader's result."""
    fast_file, exact_file = tmp_path / "fast", tmp_path / "exact"
    fast_file.write_text(text)
    exact_file.write_text(text.replace("\n", "\n\n", 1))
    assert queue_log._load_flat_fast(duckdb.connect(), fast_file, queue_log._line_count(fast_file))
    assert not queue_log._load_flat_fast(
        duckdb.connect(), exact_file, queue_log._line_count(exact_file)
    )
    fast, exact = parse(fast_file.read_text()), parse(exact_file.read_text())
    # The same calls, legs and states whichever reader read them.
    for dataset in ("interactions", "agent_states"):
        assert rows_by_key(fast, dataset) == rows_by_key(exact, dataset)
    # The one blank line is ignored, and said to be.
    assert exact.notes.pop(queue_log.BLANK_NOTE) == 1
    assert fast.notes == exact.notes
    assert (fast.rows_read + 1, fast.rows_ignored + 1) == (exact.rows_read, exact.rows_ignored)
    assert accounted(fast)
    assert accounted(exact)
    return fast


def test_a_regular_file_takes_the_fast_reader_and_a_blank_line_the_exact_one(
    tmp_path: Any,
) -> None:
    parse_both_readers(REGULAR, tmp_path)


def test_too_many_fields_take_the_exact_reader_and_keep_the_talk_time(tmp_path: Any) -> None:
    # A bridged channel name with '|' in it pushes the fields of an ATTENDEDTRANSFER along.
    line = "1700000300|c2.1|sales|SIP/1001|ATTENDEDTRANSFER|LINK|" + "|".join("x" * 12) + "|4|65|1"
    text = REGULAR.replace(
        "1700000300|c2.1|sales|SIP/1001|ATTENDEDTRANSFER|LINK|SIP/1001-0001|SIP/2000-0002|4|65|1",
        line,
    )
    path = tmp_path / "long"
    path.write_text(text)
    assert not queue_log._load_flat_fast(duckdb.connect(), path, queue_log._line_count(path))
    rows = query(
        parse(text),
        "SELECT talk_s, transferred FROM calls WHERE callid = 'c2.1' AND queue = 'sales'",
    )
    assert rows == [(65.0, True)]


@pytest.mark.parametrize(
    "odd",
    [
        "NAN",
        "nan|c9|support|NONE|ENTERQUEUE||1|1",
        "1e300|c9|support|NONE|ENTERQUEUE||1|1",
        "inf|c9|support|NONE|ENTERQUEUE||1|1",
        "|c9|support|NONE|ENTERQUEUE||1|1",
    ],
)
def test_a_first_field_that_is_no_unix_time_is_rejected_not_fatal(odd: str) -> None:
    # Found by the property test: NaN, infinities and huge numbers cast to DOUBLE but are no
    # time; an empty first field casts to nothing. Each line is rejected, the rest is read.
    parsed = parse(REGULAR + odd + "\n")
    assert accounted(parsed)
    assert [r.line_no for r in parsed.rejected] == [len(REGULAR.splitlines()) + 1]
    assert rows_by_key(parsed, "interactions") == rows_by_key(parse(REGULAR), "interactions")


def test_a_file_is_read_from_its_path_whatever_its_name(tmp_path: Any) -> None:
    path = tmp_path / "o'brien's queue_log"
    path.write_text(REGULAR)
    from_path = queue_log.parse(AdapterInput(b"", path.name, SETTINGS, path=path))
    assert rows_by_key(from_path, "interactions") == rows_by_key(parse(REGULAR), "interactions")
    exact = tmp_path / "it's exact"
    exact.write_text(REGULAR + "\n\n")
    assert queue_log.parse(AdapterInput(b"", exact.name, SETTINGS, path=exact)).rows_ignored == 2


def test_a_file_repeated_whole_stores_each_call_once() -> None:
    once, twice = parse(REGULAR), parse(REGULAR + REGULAR)
    assert rows_by_key(twice, "interactions") == rows_by_key(once, "interactions")
    assert accounted(twice)


def test_a_call_with_two_connects_or_two_endings_keeps_the_first_of_each() -> None:
    # The second CONNECT and the second closing event sort first by name and by agent: the
    # call must still take the first of each in the file, not the smallest.
    parsed = parse(
        "1760000000|d1|support|NONE|ENTERQUEUE||13800138001|1\n"
        "1760000005|d1|support|SIP/2002|CONNECT|5|d1.1|2\n"
        "1760000008|d1|support|SIP/1001|CONNECT|8|d1.2|1\n"
        "1760000100|d1|support|SIP/2002|TRANSFER|8001|default|5|92|1\n"
        "1760000101|d1|support|SIP/1001|COMPLETECALLER|8|93|1\n"
        "1760000200|d2|support|NONE|ENTERQUEUE||13800138002|1\n"
        "1760000203|d2|support|SIP/1001|CONNECT|3|d2.1|1\n"
        "1760000263|d2|support|SIP/1001|COMPLETEAGENT|3|60|1\n"
    )
    rows = query(
        parsed,
        "SELECT callid, agent_identity, epoch(answer_at), epoch(end_at), wait_s, talk_s, "
        "transferred FROM calls WHERE row_kind = 'call' ORDER BY callid",
    )
    assert rows == [
        ("d1", "SIP/2002", 1760000005, 1760000100, 5, 92, True),
        ("d2", "SIP/1001", 1760000203, 1760000263, 3, 60, False),
    ]
    assert accounted(parsed)


# --- realtime / QueueMetrics table exports -----------------------------------------------


def test_realtime_table_export_with_data_columns() -> None:
    text = (
        "time,callid,queuename,agent,event,data1,data2,data3,data4,data5\n"
        "2026-10-08 09:00:00,r1,support,NONE,ENTERQUEUE,,13800138000,1,,\n"
        "2026-10-08 09:00:12,r1,support,PJSIP/301,CONNECT,12,r1.2,3,,\n"
        "2026-10-08 09:03:12,r1,support,PJSIP/301,COMPLETEAGENT,12,180,1,,\n"
        "not a time,r2,support,NONE,ENTERQUEUE,,,,,\n"
    )
    parsed = parse(text, "queue_log_table.csv")
    assert parsed.notes["layout"] == "table"
    assert [(r.line_no, r.field) for r in parsed.rejected] == [(5, "line")]
    rows = query(parsed, "SELECT hour(event_at), talk_s FROM calls WHERE row_kind = 'call'")
    # A DATETIME column is read in the centre's time zone (Asia/Shanghai, UTC+8).
    assert rows == [(1, 180.0)]


def test_table_export_with_single_data_column() -> None:
    text = (
        "time,callid,queuename,agent,event,data\n"
        "2026-10-08 09:00:00,r1,support,NONE,ENTERQUEUE,|13800138000|1\n"
        "2026-10-08 09:00:05,r1,support,NONE,ABANDON,1|1|5\n"
    )
    parsed = parse(text, "queue_log_table.csv")
    assert query(parsed, "SELECT outcome, wait_s FROM calls") == [("abandoned", 5.0)]


# --- properties ----------------------------------------------------------------------------


def _calls(rng: random.Random, count: int) -> list[list[str]]:
    calls = []
    t = 1_700_000_000
    for n in range(count):
        t += rng.randint(1, 300)
        callid, queue, agent = (
            f"{t}.{n}",
            rng.choice(["support", "sales"]),
            f"SIP/{rng.randint(100, 105)}",
        )
        lines = [f"{t}|{callid}|{queue}|NONE|ENTERQUEUE||1380013{n:04d}|1"]
        wait = rng.randint(0, 60)
        if rng.random() < 0.2:
            lines.append(f"{t + wait}|{callid}|{queue}|NONE|ABANDON|1|1|{wait}")
        else:
            lines.append(f"{t + wait}|{callid}|{queue}|{agent}|CONNECT|{wait}|x|2")
            talk = rng.randint(5, 600)
            lines.append(
                f"{t + wait + talk}|{callid}|{queue}|{agent}|COMPLETEAGENT|{wait}|{talk}|1"
            )
        calls.append(lines)
    return calls


@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    count=st.integers(1, 25),
    cut=st.floats(0.0, 1.0),
    garbage=st.lists(st.text(max_size=40), max_size=5),
)
def test_any_shuffle_truncation_or_garbage(
    seed: int, count: int, cut: float, garbage: list[str]
) -> None:
    rng = random.Random(seed)
    calls = _calls(rng, count)
    rng.shuffle(calls)
    lines = [line for call in calls for line in call]
    lines = lines[: int(len(lines) * cut) + 1]
    for junk in garbage:
        lines.insert(rng.randint(0, len(lines)), junk.replace("\n", " ").replace("\r", " "))
    parsed = parse("\n".join(lines) + "\n")
    assert accounted(parsed)
    table = parsed.datasets["interactions"]
    assert isinstance(table, pa.Table)
    # Every ENTERQUEUE that survived the cut is a call; none is lost or doubled.
    enters = sum(
        1
        for line in lines
        if line.count("|") >= 4 and "|ENTERQUEUE|" in line and line.split("|")[0].isdigit()
    )
    assert table.num_rows == enters
    completed = query(
        parsed, "SELECT count(*) FROM calls WHERE outcome IN ('answered', 'abandoned')"
    )
    closes = sum(
        1
        for line in lines
        if ("|COMPLETEAGENT|" in line or "|ABANDON|" in line) and line.split("|")[0].isdigit()
    )
    assert completed[0][0] <= closes


def test_gb18030_caller_names_and_control_characters_do_not_break_reading() -> None:
    text = (
        "1700000010|g1|support|NONE|ENTERQUEUE||13800138000|1|张三\n"
        "1700000020|g1|support|SIP/1001|CONNECT|10|x|2\n"
        "\x1f\x1e garbage\n"
        "1700000080|g1|support|SIP/1001|COMPLETEAGENT|10|60|1\n"
    )
    parsed = parse(text.encode("gb18030"))
    assert accounted(parsed)
    assert [r.line_no for r in parsed.rejected] == [3]
    assert query(parsed, "SELECT outcome, talk_s FROM calls") == [("answered", 60.0)]


def test_overlapping_queue_logs_through_the_ledger(settings: Settings) -> None:
    from agentladder.db import session_scope
    from agentladder.ingest import service as ingest_service

    lines = FLAT.splitlines(keepends=True)
    first, whole = "".join(lines[:12]), FLAT

    def run(text: str) -> ingest_service.ImportReport:
        with session_scope(settings) as session:
            return ingest_service.import_file(
                session=session,
                settings=settings,
                adapter="queue_log",
                data=text.encode(),
                file_name="queue_log",
            )

    early = run(first)
    later = run(whole)
    assert early.stored["interactions"] == 4  # c1 (+ its ring leg), c2 in support and in sales
    assert later.rows_duplicate == 4
    with session_scope(settings) as session:
        calls = ingest_service.read_dataset(
            session=session, settings=settings, dataset="interactions"
        )
    keys = calls["key"].to_pylist()
    assert len(keys) == len(set(keys)) == 9
    assert run(whole).already_imported


def test_who_hung_up_an_answered_call_is_kept() -> None:
    parsed = parse(
        "1760000000|a|q|NONE|ENTERQUEUE||1|1\n"
        "1760000010|a|q|SIP/1|CONNECT|10|a.1|3\n"
        "1760000100|a|q|SIP/1|COMPLETEAGENT|10|90|1\n"
        "1760000200|b|q|NONE|ENTERQUEUE||2|1\n"
        "1760000210|b|q|SIP/1|CONNECT|10|b.1|3\n"
        "1760000300|b|q|SIP/1|COMPLETECALLER|10|90|1\n"
        "1760000400|c|q|NONE|ENTERQUEUE||3|1\n"
        "1760000410|c|q|NONE|ABANDON|1|1|10\n"
    )
    rows = query(parsed, "SELECT callid, ended_by FROM calls WHERE row_kind = 'call' ORDER BY 1")
    assert rows == [("a", "agent"), ("b", "customer"), ("c", None)]


# --- rows written by DuckDB itself (the importer's stage) ---------------------------------


def _staged_parse(path: Any, folder: Any, timezone: str = "Asia/Shanghai") -> ParsedFile:
    stage = datasets.Stage(folder, timezone)
    return queue_log.parse(AdapterInput(b"", path.name, SETTINGS, path=path, stage=stage))


def test_staged_calls_are_the_rows_the_arrow_path_gives(tmp_path: Any) -> None:
    path = corpus_path("queue_log", "pbxware", "queue_log.csv")
    in_memory = queue_log.parse(AdapterInput(b"", path.name, SETTINGS, path=path))
    staged = _staged_parse(path, tmp_path)

    assert "interactions" not in staged.datasets
    written = staged.staged["interactions"]
    assert written.rows == in_memory.datasets["interactions"].num_rows > 0
    assert written.read().schema == datasets.INTERACTIONS
    assert written.read().sort_by("key").equals(in_memory.datasets["interactions"].sort_by("key"))
    event_at = in_memory.datasets["interactions"]["event_at"]
    assert (written.first_at, written.last_at) == (
        min(event_at.to_pylist()),
        max(event_at.to_pylist()),
    )
    assert staged.rows_of("interactions") == written.rows
    assert staged.datasets["agent_states"].equals(in_memory.datasets["agent_states"])


def test_staged_calls_are_split_by_the_centres_month(tmp_path: Any) -> None:
    # 2026-10-31 15:30 UTC is 23:30 in Shanghai (October), 16:30 UTC is 00:30 (November).
    log = tmp_path / "queue_log"
    log.write_text(
        "1793460600|a|q|NONE|ENTERQUEUE||1|1\n"
        "1793460610|a|q|SIP/1|CONNECT|10|a.1|3\n"
        "1793460700|a|q|SIP/1|COMPLETEAGENT|10|90|1\n"
        "1793464200|b|q|NONE|ENTERQUEUE||2|1\n"
        "1793464230|b|q|NONE|ABANDON|1|1|30\n"
    )
    written = _staged_parse(log, tmp_path / "stage").staged["interactions"]

    assert written.months() == ["2026-10", "2026-11"]
    by_month = {
        month: pq.read_table(path, columns=["callid"])["callid"].to_pylist()
        for month, path in written.files.items()
    }
    assert by_month == {"2026-10": ["a"], "2026-11": ["b"]}
    assert written.rows == 2
    # In UTC both calls fall in October: the month is the centre's, as the store's layout is.
    assert _staged_parse(log, tmp_path / "utc", "UTC").staged["interactions"].months() == [
        "2026-10"
    ]


def test_an_import_moves_its_staged_files_into_the_store_and_leaves_no_stage(
    settings: Settings,
) -> None:
    from agentladder.db import session_scope
    from agentladder.ingest import service as ingest_service

    with session_scope(settings) as session:
        dry, report = (
            ingest_service.import_file(
                session=session,
                settings=settings,
                adapter="queue_log",
                data=FLAT.encode(),
                file_name="queue_log",
                dry_run=dry_run,
            )
            for dry_run in (True, False)
        )
    assert dry.stored == report.stored
    assert report.stored["interactions"] == 9
    stored = sorted(
        path.name for path in (settings.data_dir / "events" / "interactions").rglob("*.parquet")
    )
    token = datasets.batch_token(report.batch_id or 0, report.file_sha256)
    assert stored == [f"batch-{token}.s0.parquet"]
    assert not any((settings.data_dir / datasets.STAGING).iterdir())


def test_a_file_holding_every_control_character_needs_the_exact_reader_and_is_refused() -> None:
    # A blank line sends the file to the exact reader, which splits on a character the file
    # never holds; this one holds every candidate.
    text = (
        "1700000010|g1|support|NONE|ENTERQUEUE||1|1\n\n"
        "1700000020|g1|support|NONE|INFO|\x1f\x1e\x1d\x1c\x07\n"
    )
    with pytest.raises(InvalidInput, match="control character"):
        parse(text)
    # The same characters in a regular file are read (the fast reader needs no delimiter).
    assert accounted(parse(text.replace("\n\n", "\n")))


# --- a log still being written: what is in progress is carried to the next read ----------


def _live_log(rng: random.Random, calls: int) -> list[str]:
    """A morning of a small queue, in time order: agents log in, are added, pause, come back,
    leave; callers ring agents who do not answer, are answered, transferred, or hang up."""
    events: list[tuple[int, str]] = []
    agents = [f"SIP/{n}" for n in range(201, 205)]
    for n, agent in enumerate(agents):
        events += [(1000 + n, f"NONE|NONE|{agent}|AGENTLOGIN|"),
                   (1001 + n, f"NONE|support|{agent}|ADDMEMBER|")]  # fmt: skip
        pause = rng.randint(1200, 4000)
        events += [(pause, f"NONE|NONE|{agent}|PAUSEALL|break"),
                   (pause, f"NONE|support|{agent}|PAUSE|break"),
                   (pause + rng.randint(60, 900), f"NONE|NONE|{agent}|UNPAUSEALL|")]  # fmt: skip
        events += [(6000 + n, f"NONE|support|{agent}|REMOVEMEMBER|"),
                   (6001 + n, f"NONE|NONE|{agent}|AGENTLOGOFF|")]  # fmt: skip
    t = 1100
    for n in range(calls):
        t += rng.randint(5, 120)
        call = f"live.{n}"
        events.append((t, f"{call}|support|NONE|ENTERQUEUE||1380013{n:04d}|1"))
        at = t + rng.randint(1, 20)
        for _ in range(rng.randint(0, 2)):
            events.append((at, f"{call}|support|{rng.choice(agents)}|RINGNOANSWER|15000"))
            at += rng.randint(1, 20)
        agent, wait = rng.choice(agents), at - t
        ending = rng.random()
        if ending < 0.2:
            events.append((at, f"{call}|support|NONE|ABANDON|1|1|{wait}"))
            continue
        talk = rng.randint(10, 400)
        events.append((at, f"{call}|support|{agent}|CONNECT|{wait}|{call}.x|3"))
        verb = "BLINDTRANSFER|8000|ctx" if ending < 0.3 else "COMPLETEAGENT"
        events.append((at + talk, f"{call}|support|{agent}|{verb}|{wait}|{talk}|1"))
    events.sort(key=lambda event: event[0])  # stable: same-second events keep their order
    return [f"{1_760_000_000 + at}|{text}" for at, text in events]


def _rows(tables: list[pa.Table]) -> set[tuple[Any, ...]]:
    return {tuple(row.values()) for table in tables for row in table.to_pylist()}


@hypothesis_settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    calls=st.integers(0, 20),
    cuts=st.lists(st.floats(0.0, 1.0), max_size=4),
    flat=st.booleans(),
)
def test_reading_a_growing_log_in_pieces_stores_what_one_read_of_it_does(
    seed: int, calls: int, cuts: list[float], flat: bool
) -> None:
    lines = FLAT.splitlines() if flat else _live_log(random.Random(seed), calls)
    whole = parse("\n".join(lines) + "\n")
    ends = sorted({int(len(lines) * cut) for cut in cuts} | {len(lines)})
    calls_read, states_read, carry, start = [], [], b"", 0
    for end in ends:
        piece = carry + "".join(line + "\n" for line in lines[start:end]).encode()
        start = end
        if not piece:
            continue
        parsed = queue_log.parse(AdapterInput(piece, "queue_log", SETTINGS, growing=True))
        assert accounted(parsed)
        calls_read.append(parsed.datasets["interactions"])
        states_read.append(parsed.datasets["agent_states"])
        carry = parsed.carry
    if carry:  # the writer stopped: what is still open is stored as a single read stores it
        rest = parse(carry)
        calls_read.append(rest.datasets["interactions"])
        states_read.append(rest.datasets["agent_states"])
    # A row read twice (it came after the first line carried) is the same row both times.
    assert _rows(calls_read) == _rows([whole.datasets["interactions"]])
    assert _rows(states_read) == _rows([whole.datasets["agent_states"]])


def test_a_growing_log_carries_the_lines_of_what_is_in_progress() -> None:
    lines = [
        "1760000000|NONE|NONE|SIP/1|AGENTLOGIN|",
        "1760000010|a|q|NONE|ENTERQUEUE||1|1",
        "1760000011|b|q|NONE|ENTERQUEUE||2|1",
        "1760000012|b|q|SIP/2|RINGNOANSWER|1000",
        "1760000020|a|q|SIP/1|CONNECT|10|a.1|3",
        "1760000030|NONE|NONE|SIP/1|PAUSE|lunch",
        "1760000090|a|q|SIP/1|COMPLETEAGENT|10|60|1",
    ]
    parsed = queue_log.parse(
        AdapterInput(("\n".join(lines) + "\n").encode(), "queue_log", SETTINGS, growing=True)
    )
    # Call a is done; b still waits (with its ring); the login and the pause are not over.
    assert parsed.datasets["interactions"]["callid"].to_pylist() == ["a"]
    assert parsed.datasets["agent_states"].num_rows == 0
    assert parsed.carry.decode().splitlines() == [lines[0], lines[2], lines[3], lines[5]]
    assert parsed.notes[queue_log.CARRIED_NOTE] == 4
    accounting = ingest_service.row_accounting(
        rows_read=parsed.rows_read,
        rows_accepted=parsed.rows_accepted,
        rows_rejected=len(parsed.rejected),
        rows_ignored=parsed.rows_ignored,
        rows_duplicate=0,
        notes=parsed.notes,
    )
    assert accounting.adds_up
    assert accounting.ignored_by_reason == {
        "in progress at the end, read again with the next lines": 4
    }
