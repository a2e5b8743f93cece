"""Asterisk queue_log: QueueUpdate's OUTCALL, members added paused, QueueMetrics' own table
layout, and the rarer stock caller and agent events, on both flat-file readers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from agentladder.ingest import queue_log
from tests.ingest.test_queue_log import accounted, parse, parse_both_readers, query, rows_by_key

# --- OUTCALL (QueueUpdate) ------------------------------------------------------------------

# QueueUpdate(queue, uniqueid, agent, status, talktime, params): status is the Dial's
# DIALSTATUS, talk time its ANSWEREDTIME, params free text (the documented example passes
# DIALEDTIME|DIALEDNUMBER). The line is written at the call's end (the `h` extension).
OUTCALLS = """\
1760000100|o1.1|sales|SIP/1001|OUTCALL|ANSWER|95|120|13800138000
1760000200|o2.1|sales|SIP/1001|OUTCALL|answered|30
1760000300|o3.1|sales|SIP/1002|OUTCALL|NOANSWER|0|25|13900000000
1760000400|o4.1|NONE|SIP/1002|OUTCALL|BUSY||
1760000500|o5.1|sales|SIP/1002|OUTCALL|CANCEL|0
1760000600|o6.1|sales|SIP/1002|OUTCALL|CHANUNAVAIL|
1760000700|o7.1|sales|NONE|OUTCALL|ANSWER|10
"""


def test_outcall_is_an_outbound_call_of_its_agent(tmp_path: Path) -> None:
    parsed = parse_both_readers(OUTCALLS, tmp_path)
    rows = query(
        parsed,
        """SELECT callid, queue, agent_identity, row_kind, epoch(event_at), epoch(answer_at),
                  epoch(end_at), ring_s, talk_s, outcome, caller_hash
           FROM calls WHERE direction = 'outbound' ORDER BY callid""",
    )
    assert rows == [
        # Answered: talk from data2, answered that long before the line was written.
        ("o1.1", "sales", "SIP/1001", "call", 1760000005, 1760000005, 1760000100, None, 95.0,
         "answered", None),
        ("o2.1", "sales", "SIP/1001", "call", 1760000170, 1760000170, 1760000200, None, 30.0,
         "answered", None),
        ("o3.1", "sales", "SIP/1002", "call", 1760000300, None, 1760000300, None, None,
         "no_answer", None),
        ("o4.1", None, "SIP/1002", "call", 1760000400, None, 1760000400, None, None, "busy",
         None),
        ("o5.1", "sales", "SIP/1002", "call", 1760000500, None, 1760000500, None, None,
         "canceled", None),
        ("o6.1", "sales", "SIP/1002", "call", 1760000600, None, 1760000600, None, None,
         "unavailable", None),
    ]  # fmt: skip
    assert query(parsed, "SELECT count(*) FROM calls WHERE direction = 'inbound'") == [(0,)]
    assert "unknown verbs (ignored)" not in parsed.notes
    # o7.1 names no agent: read, credited to nobody.
    assert (parsed.rows_read, parsed.rows_accepted, parsed.rows_ignored) == (7, 7, 0)
    assert parsed.identities == {"SIP/1001": 2, "SIP/1002": 4}


def test_outcall_repeated_is_stored_once() -> None:
    once, twice = parse(OUTCALLS), parse(OUTCALLS + OUTCALLS)
    assert rows_by_key(twice, "interactions") == rows_by_key(once, "interactions")
    assert accounted(twice)


def test_outcall_and_pbxware_outbound_calls_live_side_by_side() -> None:
    # An OUTDIAL/OUTANSWER pair (PBXware's verbs, also seen in flat files) keeps its row.
    text = (
        "1760000000|p1.1|NONE|SIP/1001|OUTDIAL|13800138000\n"
        "1760000060|p1.1|NONE|SIP/1001|OUTANSWER|13800138000|COMPLETEAGENT|4|56\n" + OUTCALLS
    )
    rows = query(
        parse(text),
        "SELECT callid, outcome, talk_s, ring_s, caller_hash IS NOT NULL FROM calls "
        "WHERE callid IN ('p1.1', 'o1.1') ORDER BY callid",
    )
    assert rows == [("o1.1", "answered", 95.0, None, False), ("p1.1", "answered", 56.0, 4.0, True)]


# --- ADDMEMBER ... PAUSED -------------------------------------------------------------------

PAUSED_MEMBERS = """\
1760000000|NONE|support|SIP/1001|ADDMEMBER|PAUSED
1760000000|NONE|sales|SIP/1001|ADDMEMBER|PAUSED
1760000600|NONE|support|SIP/1001|UNPAUSE|
1760000600|NONE|sales|SIP/1001|UNPAUSE|
1760001000|NONE|support|SIP/1002|ADDMEMBER|PAUSED
1760001300|NONE|support|SIP/1002|REMOVEMEMBER|
1760002000|NONE|support|SIP/1003|ADDMEMBER|paused
1760002100|NONE|NONE|SIP/1003|PAUSEALL|lunch
1760002100|NONE|support|SIP/1003|PAUSE|lunch
1760002500|NONE|NONE|SIP/1003|UNPAUSEALL|
1760002500|NONE|support|SIP/1003|UNPAUSE|
1760003000|NONE|support|SIP/1004|ADDMEMBER|
1760003000|NONE|support|SIP/1005|ADDMEMBER|PAUSED
1760003500|NONE|NONE|NONE|QUEUESTART|
1760004000|NONE|support|SIP/1006|ADDMEMBER|PAUSED
1760004200|NONE|support|SIP/1004|REMOVEMEMBER|
"""


def test_a_member_added_paused_starts_a_pause(tmp_path: Path) -> None:
    parsed = parse_both_readers(PAUSED_MEMBERS, tmp_path)
    pauses = query(
        parsed,
        """SELECT agent_identity, queue, reason, epoch(event_at), epoch(end_at), closed_by
           FROM states WHERE state = 'pause' ORDER BY agent_identity""",
    )
    assert pauses == [
        # Added paused to two queues: one pause, closed by the first UNPAUSE.
        ("SIP/1001", None, None, 1760000000, 1760000600, "event"),
        # Removed while paused (Asterisk writes no UNPAUSE then).
        ("SIP/1002", None, None, 1760001000, 1760001300, "event"),
        # A PAUSEALL (and its PAUSE line) while paused neither restarts nor doubles the pause.
        ("SIP/1003", None, None, 1760002000, 1760002500, "event"),
        ("SIP/1005", None, None, 1760003000, 1760003500, "queuestart"),
        ("SIP/1006", None, None, 1760004000, 1760004200, "end_of_file"),
    ]
    members = query(
        parsed,
        """SELECT agent_identity, queue, epoch(event_at), epoch(end_at), closed_by FROM states
           WHERE state = 'member' ORDER BY agent_identity, queue""",
    )
    assert members == [
        ("SIP/1001", "sales", 1760000000, 1760003500, "queuestart"),
        ("SIP/1001", "support", 1760000000, 1760003500, "queuestart"),
        ("SIP/1002", "support", 1760001000, 1760001300, "event"),
        ("SIP/1003", "support", 1760002000, 1760003500, "queuestart"),
        ("SIP/1004", "support", 1760003000, 1760003500, "queuestart"),
        ("SIP/1005", "support", 1760003000, 1760003500, "queuestart"),
        ("SIP/1006", "support", 1760004000, 1760004200, "end_of_file"),
    ]


# --- QueueMetrics' own table layout ---------------------------------------------------------

QM_COLUMNS = [
    "partition",
    "time_id",
    "call_id",
    "queue",
    "agent",
    "verb",
    "data1",
    "data2",
    "data3",
    "data4",
    "data5",
    "serverid",
    "unique_row_count",
]
QM_ROWS = [
    ["P001", "1760000000", "q1.1", "support", "NONE", "ENTERQUEUE", "", "13800138000", "1"],
    ["P001", "1760000012", "q1.1", "support", "PJSIP/301", "CONNECT", "12", "q1.2", "3"],
    ["P001", "1760000192", "q1.1", "support", "PJSIP/301", "COMPLETEAGENT", "12", "180", "1"],
    ["P001", "1760000300", "o1.1", "support", "PJSIP/301", "OUTCALL", "ANSWER", "60", "70"],
    ["P001", "1760000400", "NONE", "support", "PJSIP/301", "ADDMEMBER", "PAUSED"],
    ["P001", "1760000500", "NONE", "support", "PJSIP/301", "UNPAUSE", ""],
    ["P001", "not a time", "q2.1", "support", "NONE", "ENTERQUEUE", "", "", ""],
]


def qm_export(columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for n, row in enumerate(QM_ROWS, start=1):
        full = row + [""] * (11 - len(row)) + ["1", str(n)]
        by_name = dict(zip(QM_COLUMNS, full, strict=True))
        writer.writerow(by_name[c] for c in columns)
    return out.getvalue()


@pytest.mark.parametrize(
    "columns",
    [
        QM_COLUMNS,
        # Any order; QueueMetrics' extra columns anywhere.
        [
            *("unique_row_count", "verb", "agent", "serverid", "queue", "call_id", "time_id"),
            *("data5", "data4", "data3", "data2", "data1", "partition"),
        ],
    ],
)
def test_queuemetrics_table_layout(columns: list[str]) -> None:
    text = qm_export(columns)
    assert queue_log.detect_layout(text.encode()) == "table"
    parsed = parse(text, "queue_log.csv")
    assert parsed.notes["layout"] == "table"
    assert [(r.line_no, r.field) for r in parsed.rejected] == [(8, "line")]
    assert accounted(parsed)
    assert "unknown verbs (ignored)" not in parsed.notes
    rows = query(
        parsed,
        """SELECT callid, direction, agent_identity, epoch(event_at), epoch(end_at), wait_s,
                  ring_s, talk_s, outcome
           FROM calls ORDER BY event_at""",
    )
    # time_id is epoch seconds (UTC), whatever the centre's time zone (Asia/Shanghai here).
    assert rows == [
        ("q1.1", "inbound", "PJSIP/301", 1760000000, 1760000192, 12.0, 3.0, 180.0, "answered"),
        ("o1.1", "outbound", "PJSIP/301", 1760000240, 1760000300, None, None, 60.0, "answered"),
    ]
    pauses = query(
        parsed, "SELECT epoch(event_at), epoch(end_at) FROM states WHERE state = 'pause'"
    )
    assert pauses == [(1760000400, 1760000500)]


def test_a_header_with_only_some_queuemetrics_columns_is_not_a_table() -> None:
    # Without a time column (time or time_id) it is no queue_log table.
    header = b"partition,call_id,queue,agent,verb,data1,data2\n"
    assert queue_log.detect_layout(header) == "flat"


# --- the rarer stock events ----------------------------------------------------------------

RARE = """\
1760000000|NONE|NONE|Agent/1001|AGENTLOGIN|PJSIP/1001-00000001
1760000001|NONE|NONE|Agent/1002|AGENTLOGIN|PJSIP/1002-00000002
1760000100|e1.1|support|NONE|ENTERQUEUE||13800138001|1
1760000105|e1.1|support|Agent/1002|RINGCANCELED|4500
1760000105|e1.1|support|NONE|EXITEMPTY|1|1|5
1760000200|k1.1|support|NONE|ENTERQUEUE||13800138002|1
1760000212|k1.1|support|NONE|EXITWITHKEY|5|1|1|12
1760000300|w1.1|support|NONE|ENTERQUEUE||13800138003|2
1760000320|w1.1|support|Agent/1001|RINGCANCELED|15000
1760000320|w1.1|support|NONE|WITHDRAW|1|2|20|callback requested
1760000400|d1.1|support|NONE|ENTERQUEUE||13800138004|1
1760000404|d1.1|support|Agent/1001|AGENTDUMP|
1760000410|d1.1|support|Agent/1002|CONNECT|10|d1.2|2
1760000470|d1.1|support|Agent/1002|COMPLETECALLER|10|60|1
1760000500|s1.1|support|NONE|ENTERQUEUE||13800138005|1
1760000503|s1.1|support|Agent/1001|SYSCOMPAT|
1760000530|s1.1|support|NONE|ABANDON|1|1|30
1760003600|NONE|NONE|Agent/1001|AGENTLOGOFF|PJSIP/1001-00000001|3600
"""


def test_rare_stock_events(tmp_path: Path) -> None:
    parsed = parse_both_readers(RARE, tmp_path)
    calls = query(
        parsed,
        """SELECT callid, agent_identity, epoch(end_at), wait_s, ring_s, talk_s, outcome
           FROM calls WHERE row_kind = 'call' ORDER BY event_at""",
    )
    assert calls == [
        # The caller's wait is the exit event's (EXITWITHKEY: data4, the others: data3).
        ("e1.1", None, 1760000105, 5.0, None, None, "exit_empty"),
        ("k1.1", None, 1760000212, 12.0, None, None, "exit_key"),
        ("w1.1", None, 1760000320, 20.0, None, None, "withdrawn"),
        # AGENTDUMP (Agent/1001 hung up during the announcement) is neither an answer nor a
        # ring leg: the caller stayed in the queue and Agent/1002 took the call.
        ("d1.1", "Agent/1002", 1760000470, 10.0, 2.0, 60.0, "answered"),
        # SYSCOMPAT (the channels could not be bridged) leaves the caller waiting too.
        ("s1.1", None, 1760000530, 30.0, None, None, "abandoned"),
    ]
    legs = query(
        parsed,
        """SELECT callid, agent_identity, epoch(event_at), ring_s, outcome
           FROM calls WHERE row_kind = 'leg' ORDER BY event_at""",
    )
    # RINGCANCELED: ring time in milliseconds, a leg offered to the agent and not answered.
    assert legs == [
        ("e1.1", "Agent/1002", 1760000105, 4.5, "ring_canceled"),
        ("w1.1", "Agent/1001", 1760000320, 15.0, "ring_canceled"),
    ]
    logins = query(
        parsed,
        """SELECT agent_identity, queue, epoch(event_at), epoch(end_at), closed_by
           FROM states WHERE state = 'login' ORDER BY agent_identity""",
    )
    assert logins == [
        ("Agent/1001", None, 1760000000, 1760003600, "event"),
        ("Agent/1002", None, 1760000001, 1760003600, "end_of_file"),
    ]
    assert "unknown verbs (ignored)" not in parsed.notes
    assert "open calls (not counted as completed)" not in parsed.notes
    assert (parsed.rows_read, parsed.rows_accepted, parsed.rows_ignored) == (18, 18, 0)
