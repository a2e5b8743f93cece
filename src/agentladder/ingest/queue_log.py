"""Asterisk `queue_log` (flat pipe file, realtime/QueueMetrics table exports, PBXware exports).

Every layout is first turned into one canonical event relation in DuckDB (line_no, ts,
callid, queue, agent, verb and the few data fields the assembly uses), then calls, agent legs
and agent state intervals are assembled from it in SQL, within a bounded memory that spills to
disk. A regular flat file is split into fields by DuckDB's CSV reader; a file with blank or
malformed lines is read line by line, so that every line keeps its number. The file is read
from disk, never held in memory whole. Semantics (see the queue_log format notes):

* a call is keyed on (callid, queue, enter time): a caller who overflows to another queue with
  the same callid is a second call; a call the file repeats is stored once, its settled copy
  before an open one;
* ordering inside a call follows the file, not the timestamp (several events share a second);
* a call without its closing event is `open` (reported, never counted as completed); it is
  closed by QUEUESTART (Asterisk restarted) or by the end of the file;
* PAUSEALL is written once plus once per queue: pause time is the union of the intervals, so
  nothing is counted twice; a repeated start does not restart an interval. A member added
  paused (ADDMEMBER|PAUSED) starts a pause too, and REMOVEMEMBER ends one (Asterisk writes no
  UNPAUSE for a member removed while paused);
* OUTCALL, which QueueUpdate writes when an agent's outbound call ends, is an outbound call of
  that agent, as PBXware's OUTDIAL/OUTANSWER... are;
* unknown verbs are counted and listed, never fatal.
"""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from agentladder.errors import InvalidInput
from agentladder.ingest.adapters import AdapterInput, ParsedFile, Rejected
from agentladder.ingest.datasets import (
    AGENT_STATES,
    CONTINUATIONS,
    INTERACTIONS,
    Stage,
    caller_salt,
)

CALLER_END_VERBS = ("ABANDON", "EXITWITHTIMEOUT", "EXITEMPTY", "EXITWITHKEY", "WITHDRAW")
AGENT_END_VERBS = (
    "COMPLETEAGENT",
    "COMPLETECALLER",
    "TRANSFER",
    "BLINDTRANSFER",
    "ATTENDEDTRANSFER",
)
CALL_VERBS = (
    "ENTERQUEUE",
    "CONNECT",
    "RINGNOANSWER",
    "RINGCANCELED",
    "AGENTDUMP",
    "SYSCOMPAT",
    *CALLER_END_VERBS,
    *AGENT_END_VERBS,
)
STATE_VERBS = (
    "ADDMEMBER",
    "REMOVEMEMBER",
    "PAUSE",
    "UNPAUSE",
    "PAUSEALL",
    "UNPAUSEALL",
    "AGENTLOGIN",
    "AGENTLOGOFF",
    "AGENTCALLBACKLOGIN",
    "AGENTCALLBACKLOGOFF",
)
OUTBOUND_VERBS = (
    "OUTDIAL",
    "OUTANSWER",
    "OUTCANCEL",
    "OUTCHANUNAVAIL",
    "OUTCONGESTION",
    "OUTTRANSFER",
)
# QueueUpdate(queue, uniqueid, agent, status, talktime, params), at the end of an outbound
# call: OUTCALL|DIALSTATUS|answered seconds|free-form params.
OUTCALL = "OUTCALL"
OUTCALL_ANSWERED = ("ANSWER", "ANSWERED")
ORPHANS_NOTE = "call events before their ENTERQUEUE (ignored)"
CARRIED_NOTE = "in progress at the end, read again with the next lines (ignored)"
QUIET_NOTE = "queue and configuration events without a call (ignored)"
BLANK_NOTE = "blank lines (ignored)"
# Known verbs that carry nothing the KPIs use.
QUIET_VERBS = ("CONFIGRELOAD", "PENALTY", "RINGINUSE", "INFO", "DID", "QUEUESTART")
ACCEPTED_VERBS = (*CALL_VERBS, *STATE_VERBS, *OUTBOUND_VERBS, OUTCALL, "QUEUESTART")

PBXWARE_COLUMNS = (
    "uid",
    "date_time",
    "callid",
    "queue_name",
    "type",
    "event",
    "param1",
    "param2",
    "param3",
    "entpos",
    "expos",
    "htime",
    "ttime",
    "time",
)
# Realtime table exports name their columns as Asterisk does (time, callid, queuename, agent,
# event) or as QueueMetrics' own table does (time_id, call_id, queue, agent, verb), in any
# order, with extra columns (partition, serverid, unique_row_count...). The first name found
# of each tuple is read; `time` is a DATETIME in the centre's zone, `time_id` Unix seconds.
TABLE_COLUMNS = {
    "time": ("time_id", "time"),
    "callid": ("callid", "call_id"),
    "queue": ("queuename", "queue"),
    "agent": ("agent",),
    "event": ("event", "verb"),
}
# What the DuckDB working set of one file may use before it spills to disk.
MEMORY_LIMIT = "3GB"
# ... and while its results become Arrow tables, which take about as much again.
COLLECT_MEMORY_LIMIT = "1GB"


def _sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _header(data: bytes) -> list[str]:
    first = data[:4096].split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")
    row = next(csv.reader(io.StringIO(first)), [])
    return [cell.strip().strip('"').lower() for cell in row]


def _table_columns(columns: list[str]) -> dict[str, str] | None:
    """Which of `columns` (header names) hold a table export's fields, or None when one is
    missing."""
    lowered = {column.strip().lower(): column for column in columns}
    found = {
        field: next((lowered[name] for name in names if name in lowered), None)
        for field, names in TABLE_COLUMNS.items()
    }
    if any(column is None for column in found.values()):
        return None
    if "data1" not in lowered and "data" not in lowered:
        return None
    return {field: column for field, column in found.items() if column is not None}


def detect_layout(data: bytes) -> str:
    """flat (pipe file), pbxware (PBXware CSV export) or table (realtime `time,data1..5` or
    QueueMetrics' `time_id,call_id,queue,agent,verb,data1..5`)."""
    header = _header(data)
    if tuple(header[: len(PBXWARE_COLUMNS)]) == PBXWARE_COLUMNS:
        return "pbxware"
    if _table_columns(header) is not None:
        return "table"
    return "flat"


# Control characters that never occur in a queue_log; one of them serves as a delimiter that
# splits nothing, so that each physical line is read as one value.
_NEVER_SEEN = ("\x1f", "\x1e", "\x1d", "\x1c", "\x07")
# The fast reader splits a line into this many fields. A line with more (an ATTENDEDTRANSFER
# whose bridged channel names hold '|') sends the file to the exact reader.
_SPLIT_FIELDS = 16
# A Unix time between 1973 and 5138: what the first field of a queue_log line must be.
_EPOCH_OK = "BETWEEN 1e8 AND 1e11"
OUTBOUND_RESULTS = ("OUTANSWER", "OUTCANCEL", "OUTCHANUNAVAIL", "OUTCONGESTION")


def _epoch_ts(expression: str) -> str:
    # Guarded: to_timestamp fails on NaN, infinities and epochs beyond its range.
    return f"to_timestamp(CASE WHEN {expression} {_EPOCH_OK} THEN {expression} END)"


def _num(expression: str) -> str:
    return f"TRY_CAST(NULLIF(trim({expression}), '') AS DOUBLE)"


def _event_values(field: Callable[[int], str], before_last: str) -> str:
    """The data fields the assembly reads, picked by verb as each event is read, so that no
    event keeps its field list: `n1` (wait, talk or ring), `n2` (ring or talk) and `txt`
    (caller, pause reason, dialled number, ADDMEMBER's PAUSED or OUTCALL's status).
    `field(i)` is the i-th data field; `before_last` the one before the last (an
    ATTENDEDTRANSFER's talk time)."""
    return f"""
      CASE
        WHEN verb IN ('CONNECT', 'RINGNOANSWER', 'RINGCANCELED') THEN {_num(field(1))}
        WHEN verb IN ('COMPLETEAGENT', 'COMPLETECALLER') THEN {_num(field(2))}
        WHEN verb IN {
        _sql_list(("ABANDON", "EXITWITHTIMEOUT", "EXITEMPTY", "WITHDRAW", *OUTBOUND_RESULTS))
    } THEN {_num(field(3))}
        WHEN verb IN ('TRANSFER', 'BLINDTRANSFER', 'EXITWITHKEY') THEN {_num(field(4))}
        WHEN verb = 'ATTENDEDTRANSFER' THEN {_num(before_last)}
        WHEN verb = '{OUTCALL}' THEN {_num(field(2))}
      END AS n1,
      CASE
        WHEN verb = 'CONNECT' THEN {_num(field(3))}
        WHEN verb IN {_sql_list(OUTBOUND_RESULTS)} THEN {_num(field(4))}
      END AS n2,
      CASE
        WHEN verb = 'ENTERQUEUE' THEN {field(2)}
        WHEN verb IN ('PAUSE', 'PAUSEALL', 'OUTDIAL', 'ADDMEMBER', '{OUTCALL}') THEN {field(1)}
      END AS txt"""


def _create_events(
    db: duckdb.DuckDBPyConnection,
    events: str,
    field: Callable[[int], str],
    before_last: str,
) -> None:
    """`ev`: one row per event (line_no, ts, callid, queue, agent, verb, n1, n2, txt) from a
    query with line_no, ts, callid, queue, agent, verb and the fields `field` reads."""
    db.execute(
        f"""
        CREATE TABLE ev AS
        SELECT line_no, ts, callid, queue, agent, verb, {_event_values(field, before_last)}
        FROM ({events})
        """
    )


def _sql_path(path: Path) -> str:
    # The file is the user's own now (not a temporary copy): quote its name as a SQL string.
    return "'" + str(path).replace("'", "''") + "'"


def _line_count(path: Path) -> int:
    """Physical lines (a last line without its newline counts)."""
    lines, last = 0, b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 24):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last != b"\n")


def _free_delimiter(path: Path) -> str | None:
    """A control character the file never holds (only the exact reader needs one: looking for
    five of them costs a regular file a fifth of a second per gigabyte for nothing)."""
    seen: set[str] = set()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 24):
            seen.update(c for c in _NEVER_SEEN if c not in seen and c.encode() in chunk)
    return next((c for c in _NEVER_SEEN if c not in seen), None)


def _load_flat_fast(db: duckdb.DuckDBPyConnection, path: Path, lines: int) -> bool:
    """Read a regular flat file with DuckDB's own field splitting (several times faster than
    splitting lines in SQL). False, with nothing left behind, when the file has what only the
    exact reader accounts for line by line: blank or malformed lines, or too many fields."""
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(1, _SPLIT_FIELDS + 1))
    # The fast reader skips empty lines, which would shift every later line number; a file
    # with one goes to the exact reader (the row count below is checked against the lines).
    db.execute(
        f"""
        CREATE TABLE fast AS
        SELECT {_epoch_ts("epoch")} AS ts, coalesce(c2, '') AS callid, coalesce(c3, '') AS queue,
               coalesce(c4, '') AS agent, verb,
               {_event_values(lambda i: f"c{5 + i}", _before_last_column())},
               coalesce(epoch {_EPOCH_OK} AND c5 IS NOT NULL AND c{_SPLIT_FIELDS} IS NULL, false)
                 AS regular
        FROM (
          SELECT *, TRY_CAST(c1 AS DOUBLE) AS epoch, upper(trim(c5)) AS verb
          FROM read_csv({_sql_path(path)}, columns = {{{columns}}}, delim = '|', quote = '',
                        escape = '', header = false, auto_detect = false,
                        strict_mode = false, null_padding = true)
        )
        """
    )
    rows, regular = db.execute("SELECT count(*), bool_and(regular) FROM fast").fetchone() or (0, 0)
    if rows != lines or not regular:
        db.execute("DROP TABLE fast")
        return False
    # The table keeps the file's order (DuckDB preserves insertion order): rowid is the line.
    db.execute(
        "CREATE VIEW ev AS SELECT rowid + 1 AS line_no, ts, callid, queue, agent, verb, n1, n2, "
        "txt FROM fast"
    )
    db.execute("CREATE TABLE bad (line_no BIGINT, raw VARCHAR, reason VARCHAR)")
    db.execute("CREATE TABLE blank AS SELECT 0 AS n")
    return True


def _before_last_column() -> str:
    # The field before the last non-empty one of c6..c16 (the reader pads missing ones NULL).
    return (
        "coalesce("
        + ", ".join(
            f"CASE WHEN c{i} IS NOT NULL THEN c{i - 1} END" for i in range(_SPLIT_FIELDS, 6, -1)
        )
        + ")"
    )


def _load_flat_exact(db: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Read a flat file line by line, so that blank and malformed lines keep their numbers."""
    delimiter = _free_delimiter(path)
    if delimiter is None:
        raise InvalidInput("the file holds every control character; it is not a queue_log")
    # One VARCHAR per physical line (empty lines are kept as NULL), so line numbers are exact.
    db.execute(
        f"""
        CREATE TABLE parts AS
        SELECT line_no, line, string_split(line, '|') AS f
        FROM (
          SELECT row_number() OVER () AS line_no, line
          FROM read_csv({_sql_path(path)}, columns = {{'line': 'VARCHAR'}}, delim = '{delimiter}',
                        quote = '', escape = '', header = false, auto_detect = false,
                        strict_mode = false, null_padding = true)
        )
        """
    )
    good = f"coalesce(len(f) >= 5 AND TRY_CAST(f[1] AS DOUBLE) {_EPOCH_OK}, false)"
    _create_events(
        db,
        f"""
        SELECT line_no, {_epoch_ts("TRY_CAST(f[1] AS DOUBLE)")} AS ts, f[2] AS callid,
               f[3] AS queue, f[4] AS agent, upper(trim(f[5])) AS verb, f,
               string_split(rtrim(line, '|'), '|') AS kept
        FROM parts WHERE line IS NOT NULL AND trim(line) <> '' AND {good}
        """,
        lambda i: f"NULLIF(f[{5 + i}], '')",
        "NULLIF(kept[len(kept) - 1], '')",
    )
    db.execute(
        f"""
        CREATE TABLE bad AS
        SELECT line_no, line AS raw,
               CASE WHEN len(f) < 5 THEN 'fewer than 5 fields (epoch|callid|queue|agent|EVENT)'
                    ELSE 'the first field is not a Unix time: ' || f[1] END AS reason
        FROM parts WHERE line IS NOT NULL AND trim(line) <> '' AND NOT ({good})
        """
    )
    db.execute(
        "CREATE TABLE blank AS SELECT count(*) AS n FROM parts "
        "WHERE line IS NULL OR trim(line) = ''"
    )
    db.execute("DROP TABLE parts")


def _load_pbxware(db: duckdb.DuckDBPyConnection, path: Path) -> None:
    db.execute(
        f"""
        CREATE TABLE src AS
        SELECT row_number() OVER () + 1 AS line_no, *
        FROM read_csv({_sql_path(path)}, header = true, all_varchar = true, auto_detect = true)
        """
    )
    # PBXware moves fields: rebuild the stock data fields per verb (see the format notes).
    _create_events(
        db,
        f"""
        SELECT line_no, {_epoch_ts("TRY_CAST(date_time AS DOUBLE)")} AS ts,
               coalesce(callid, '') AS callid, coalesce(queue_name, '') AS queue,
               coalesce("type", '') AS agent, upper(trim(event)) AS verb,
               CASE
                 WHEN upper(event) = 'ENTERQUEUE' THEN ['', param1, entpos]
                 WHEN upper(event) = 'CONNECT' THEN [htime, param2, param3]
                 WHEN upper(event) IN ('COMPLETEAGENT', 'COMPLETECALLER')
                   THEN [htime, ttime, entpos]
                 WHEN upper(event) IN ('RINGNOANSWER', 'RINGCANCELED') THEN [htime]
                 WHEN upper(event) IN ('ABANDON', 'EXITWITHTIMEOUT', 'EXITEMPTY', 'WITHDRAW')
                   THEN [expos, entpos, htime]
                 WHEN upper(event) = 'EXITWITHKEY' THEN [param1, expos, entpos, htime]
                 WHEN upper(event) IN ('TRANSFER', 'BLINDTRANSFER')
                   THEN [param2, param3, htime, ttime, entpos]
                 WHEN upper(event) = 'ATTENDEDTRANSFER' THEN ['', '', htime, ttime, entpos]
                 WHEN upper(event) IN {_sql_list(OUTBOUND_VERBS)}
                   THEN [param1, param2, htime, ttime]
                 ELSE [coalesce(param1, ''), coalesce(param2, ''), coalesce(param3, '')]
               END AS d
        FROM src
        WHERE TRY_CAST(date_time AS DOUBLE) {_EPOCH_OK} AND event IS NOT NULL
        """,
        lambda i: f"d[{i}]",
        "d[len(d) - 1]",
    )
    db.execute(
        f"""
        CREATE TABLE bad AS
        SELECT line_no, concat_ws(',', uid, date_time, callid, queue_name, "type", event) AS raw,
               'date_time is not a Unix time or event is empty' AS reason
        FROM src WHERE NOT coalesce(TRY_CAST(date_time AS DOUBLE) {_EPOCH_OK}, false)
                    OR event IS NULL
        """
    )
    db.execute("CREATE TABLE blank AS SELECT 0 AS n")


def _quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _load_table(db: duckdb.DuckDBPyConnection, path: Path, timezone: str) -> None:
    db.execute(
        f"""
        CREATE TABLE src AS
        SELECT row_number() OVER () + 1 AS line_no, *
        FROM read_csv({_sql_path(path)}, header = true, all_varchar = true, auto_detect = true)
        """
    )
    names = [str(row[0]) for row in db.execute("DESCRIBE src").fetchall()]
    found = _table_columns(names)
    if found is None:
        raise InvalidInput("the table export has no time, callid, queue, agent or event column")
    col = {field: _quoted(column) for field, column in found.items()}
    lowered = {name.strip().lower(): _quoted(name) for name in names}
    if "data1" in lowered:
        fields = ", ".join(
            f"coalesce({lowered[f'data{i}']}, '')" if f"data{i}" in lowered else "''"
            for i in range(1, 6)
        )
        data = f"[{fields}]"
    else:
        data = f"string_split(coalesce({lowered['data']}, ''), '|')"
    if found["time"].strip().lower() == "time_id":
        # QueueMetrics keeps Unix seconds: UTC whatever the centre's zone.
        ts = _epoch_ts(f"TRY_CAST({col['time']} AS DOUBLE)")
        reason = "time_id is not a Unix time, or verb is empty"
    else:
        # A DATETIME without a zone is read in the centre's time zone (the database's local time).
        ts = f"timezone('{timezone}', TRY_CAST({col['time']} AS TIMESTAMP))"
        reason = "time is not a date and time, or event is empty"
    _create_events(
        db,
        f"""
        SELECT line_no, {ts} AS ts,
               coalesce({col["callid"]}, '') AS callid, coalesce({col["queue"]}, '') AS queue,
               coalesce({col["agent"]}, '') AS agent, upper(trim({col["event"]})) AS verb,
               {data} AS d
        FROM src WHERE {ts} IS NOT NULL AND {col["event"]} IS NOT NULL
        """,
        lambda i: f"d[{i}]",
        "d[len(d) - 1]",
    )
    raw = ", ".join(col[field] for field in ("time", "callid", "queue", "agent", "event"))
    db.execute(
        f"""
        CREATE TABLE bad AS
        SELECT line_no, concat_ws(',', {raw}) AS raw, '{reason}' AS reason
        FROM src WHERE {ts} IS NULL OR {col["event"]} IS NULL
        """
    )
    db.execute("CREATE TABLE blank AS SELECT 0 AS n")


CALL_EVENTS = f"verb IN {_sql_list(CALL_VERBS)} AND queue <> 'NONE'"
END_VERBS = (*CALLER_END_VERBS, *AGENT_END_VERBS)


_ENDS = f"verb IN {_sql_list(END_VERBS)}"


def _segment_aggregates() -> str:
    # arg_min skips NULL values; the closing event's number is taken as it is (arg_min_null).
    return f"""
      count(*) AS events, min(line_no) AS first_line, min(ts) AS first_at,
      count(*) FILTER (verb = 'ENTERQUEUE') AS enters,
      min(line_no) FILTER (verb = 'ENTERQUEUE') AS enter_line,
      arg_min(ts, line_no) FILTER (verb = 'ENTERQUEUE') AS enter_at,
      arg_min(txt, line_no) FILTER (verb = 'ENTERQUEUE') AS caller,
      arg_min(agent, line_no) FILTER (verb = 'CONNECT') AS connect_agent,
      arg_min(ts, line_no) FILTER (verb = 'CONNECT') AS answer_at,
      arg_min(n1, line_no) FILTER (verb = 'CONNECT') AS connect_wait_s,
      arg_min(n2, line_no) FILTER (verb = 'CONNECT') AS ring_s,
      arg_min(verb, line_no) FILTER ({_ENDS}) AS end_verb,
      arg_min(ts, line_no) FILTER ({_ENDS}) AS end_at,
      arg_min_null(n1, line_no) FILTER ({_ENDS}) AS end_n,
      arg_min(agent, line_no) FILTER ({_ENDS}) AS end_agent"""


def _single_event_aggregates() -> str:
    """The columns of `_segment_aggregates`, in its order, for a call with at most one
    ENTERQUEUE, CONNECT and closing event: then the first of each is the only one, and a plain
    `min` (a fifth cheaper over millions of calls) gives it. `connects` and `ends` say whether
    that holds; the calls where it does not take the segment path."""
    return f"""
      count(*) AS events, min(line_no) AS first_line, min(ts) AS first_at,
      count(*) FILTER (verb = 'ENTERQUEUE') AS enters,
      min(line_no) FILTER (verb = 'ENTERQUEUE') AS enter_line,
      min(ts) FILTER (verb = 'ENTERQUEUE') AS enter_at,
      min(txt) FILTER (verb = 'ENTERQUEUE') AS caller,
      min(agent) FILTER (verb = 'CONNECT') AS connect_agent,
      min(ts) FILTER (verb = 'CONNECT') AS answer_at,
      min(n1) FILTER (verb = 'CONNECT') AS connect_wait_s,
      min(n2) FILTER (verb = 'CONNECT') AS ring_s,
      min(verb) FILTER ({_ENDS}) AS end_verb,
      min(ts) FILTER ({_ENDS}) AS end_at,
      min(n1) FILTER ({_ENDS}) AS end_n,
      min(agent) FILTER ({_ENDS}) AS end_agent,
      count(*) FILTER (verb = 'CONNECT') AS connects,
      count(*) FILTER ({_ENDS}) AS ends"""


# A call is keyed on (callid, queue, enter time). Per (callid, queue, seg): seg 0 holds the
# events before the file's first ENTERQUEUE of that call (the rest of a call whose ENTERQUEUE
# is in the previous, rotated file), seg n those from its n-th ENTERQUEUE on. Almost every
# call is one ENTERQUEUE followed by one CONNECT and one closing event; only the others pay
# for the window.
ASSEMBLE_CALLS = f"""
CREATE TABLE whole AS
SELECT callid, queue, {_single_event_aggregates()}
FROM ev WHERE {CALL_EVENTS} GROUP BY callid, queue;

CREATE TABLE split_calls AS
SELECT callid, queue FROM whole
WHERE enters <> 1 OR first_line <> enter_line OR connects > 1 OR ends > 1;

"""

# The events of the calls that are not one ENTERQUEUE and what follows it, in segments.
SPLIT_SEGMENTS = f"""
CREATE TABLE seg AS
SELECT line_no, ts, callid, queue, agent, verb, n1, n2, txt,
       sum(CASE WHEN verb = 'ENTERQUEUE' THEN 1 ELSE 0 END)
         OVER (PARTITION BY callid, queue ORDER BY line_no ROWS UNBOUNDED PRECEDING) AS seg
FROM ev {{join}}
WHERE {CALL_EVENTS} AND {{wanted}};
"""

OUTCOMES = f"""
CREATE TABLE outcomes AS
WITH segments AS (
  SELECT callid, queue, 1 AS seg, false AS split, * EXCLUDE (callid, queue, connects, ends)
  FROM whole ANTI JOIN split_calls USING (callid, queue)
  UNION ALL
  SELECT callid, queue, seg, true, {_segment_aggregates()}
  FROM seg GROUP BY callid, queue, seg
)
SELECT callid, queue, seg, split, events, first_line, first_at, enter_line, enter_at,
       {{caller_hash}} AS caller_hash, answer_at,
       ring_s, end_verb, end_at,
       coalesce(connect_agent,
                CASE WHEN end_verb IN {_sql_list(AGENT_END_VERBS)} THEN end_agent END) AS agent,
       CASE WHEN end_verb IN {_sql_list((*AGENT_END_VERBS,))} THEN end_n END AS talk_s,
       coalesce(connect_wait_s,
                CASE WHEN end_verb IN {_sql_list((*CALLER_END_VERBS,))} THEN end_n END)
         AS wait_s,
       CASE
         WHEN end_verb IN {_sql_list(AGENT_END_VERBS)} THEN 'answered'
         WHEN end_verb = 'ABANDON' THEN 'abandoned'
         WHEN end_verb = 'EXITWITHTIMEOUT' THEN 'timeout'
         WHEN end_verb = 'EXITEMPTY' THEN 'exit_empty'
         WHEN end_verb = 'EXITWITHKEY' THEN 'exit_key'
         WHEN end_verb = 'WITHDRAW' THEN 'withdrawn'
         ELSE 'open'
       END AS outcome,
       coalesce(end_verb IN ('TRANSFER', 'BLINDTRANSFER', 'ATTENDEDTRANSFER'), false)
         AS transferred,
       CASE end_verb WHEN 'COMPLETEAGENT' THEN 'agent' WHEN 'COMPLETECALLER' THEN 'customer' END
         AS ended_by,
       CASE WHEN end_verb IS NULL THEN
         CASE WHEN (SELECT max(line_no) FROM ev WHERE verb = 'QUEUESTART') > enter_line
              THEN 'queuestart' ELSE 'end_of_file' END
       END AS open_until
FROM segments;
DROP TABLE whole;
"""


def _assemble_calls(db: duckdb.DuckDBPyConnection, salt: str) -> None:
    db.execute(ASSEMBLE_CALLS)
    split = _scalar(db, "SELECT count(*) FROM split_calls")
    # Most files split no call: then the window over the events is not run at all.
    join = "SEMI JOIN split_calls USING (callid, queue)" if split else ""
    db.execute(SPLIT_SEGMENTS.format(join=join, wanted="true" if split else "false"))
    # The caller is hashed here, once per call: its legs take the hash.
    db.execute(OUTCOMES.format(caller_hash=_caller_hash_sql("caller", salt)))


ASSEMBLE_LEGS = """
CREATE TABLE legs AS
WITH rings AS (
  SELECT r.line_no, r.callid, r.queue, r.agent, r.ts, r.verb, r.n1,
         coalesce(s.seg, 1) AS seg
  FROM ev r LEFT JOIN (SELECT line_no, seg FROM seg WHERE verb LIKE 'RING%') s USING (line_no)
  WHERE r.verb IN ('RINGNOANSWER', 'RINGCANCELED') AND r.queue <> 'NONE'
)
SELECT r.callid, r.queue, r.seg, o.split, r.line_no, r.agent, r.ts, o.enter_at, o.caller_hash,
       CASE r.verb WHEN 'RINGNOANSWER' THEN 'ring_no_answer' ELSE 'ring_canceled' END AS outcome,
       r.n1 / 1000.0 AS ring_s,
       -- Named by agent, time and rank rather than line number: an overlapping file that starts
       -- elsewhere gives the same leg the same key.
       '|leg|' || r.agent || '|' || strftime(r.ts, '%Y-%m-%dT%H:%M:%S.%f') || '|'
         || row_number() OVER (PARTITION BY r.callid, r.queue, r.seg, r.agent, r.ts
                               ORDER BY r.line_no) AS leg_suffix
FROM rings r LEFT JOIN outcomes o USING (callid, queue, seg);
"""


def _states_sql() -> str:
    # kind, start verbs, end verbs, per queue?
    kinds = [
        ("member", ("ADDMEMBER",), ("REMOVEMEMBER",), True),
        ("pause", ("PAUSE", "PAUSEALL"), ("UNPAUSE", "UNPAUSEALL"), False),
        (
            "login",
            ("AGENTLOGIN", "AGENTCALLBACKLOGIN"),
            ("AGENTLOGOFF", "AGENTCALLBACKLOGOFF"),
            False,
        ),
    ]
    kind_of = " ".join(
        f"WHEN verb IN {_sql_list((*starts, *ends))} THEN '{kind}'"
        for kind, starts, ends, _ in kinds
    )
    per_queue = tuple(v for _, starts, ends, queued in kinds if queued for v in (*starts, *ends))
    every = tuple(v for _, starts, ends, _ in kinds for v in (*starts, *ends))
    start_verbs = tuple(v for _, starts, _, _ in kinds for v in starts)
    pause_starts = next(starts for kind, starts, _, _ in kinds if kind == "pause")
    # One pass over the events for all three kinds. A member added paused (ADDMEMBER|PAUSED)
    # also starts a pause, and REMOVEMEMBER also ends one: Asterisk writes no UNPAUSE for a
    # member removed while paused. Like PAUSE lines, they fall into the agent's one interval
    # across queues, so an added-paused member who is then PAUSEALLed is counted once.
    added_paused = "verb = 'ADDMEMBER' AND upper(trim(coalesce(txt, ''))) = 'PAUSED'"
    union = f"""
        SELECT CASE {kind_of} END AS kind, line_no, ts, agent,
               CASE WHEN verb IN {_sql_list(per_queue)} THEN queue ELSE '*' END AS queue,
               verb IN {_sql_list(start_verbs)} AS is_start,
               CASE WHEN verb IN {_sql_list(pause_starts)} THEN txt END AS reason
        FROM ev WHERE verb IN {_sql_list(every)} AND agent <> '' AND agent <> 'NONE'
        UNION ALL
        SELECT 'pause', line_no, ts, agent, '*', verb = 'ADDMEMBER', NULL
        FROM ev WHERE (verb = 'REMOVEMEMBER' OR ({added_paused}))
                  AND agent <> '' AND agent <> 'NONE'
        """
    # Pause is tracked per agent across queues ('*'): PAUSEALL plus its per-queue PAUSE lines,
    # or pauses in several queues, make one interval; a repeated start does not restart it.
    return f"""
    CREATE TABLE state_ev AS {union};
    CREATE TABLE states AS
    WITH ordered AS (
      SELECT *, lag(is_start) OVER (PARTITION BY kind, agent, queue ORDER BY line_no) AS prev_start
      FROM state_ev
    ),
    starts AS (
      SELECT * FROM ordered WHERE is_start AND prev_start IS DISTINCT FROM true
    ),
    ends AS (SELECT kind, agent, queue, line_no, ts FROM state_ev WHERE NOT is_start),
    restarts AS (SELECT line_no, ts FROM ev WHERE verb = 'QUEUESTART'),
    last_event AS (SELECT max(ts) AS ts FROM ev)
    SELECT s.kind, s.agent, s.queue, s.line_no, s.ts AS start_at, s.reason,
           CASE
             WHEN e.line_no IS NOT NULL AND (r.line_no IS NULL OR e.line_no < r.line_no) THEN e.ts
             WHEN r.line_no IS NOT NULL THEN r.ts
             ELSE (SELECT ts FROM last_event)
           END AS end_at,
           CASE
             WHEN e.line_no IS NOT NULL AND (r.line_no IS NULL OR e.line_no < r.line_no)
               THEN 'event'
             WHEN r.line_no IS NOT NULL THEN 'queuestart'
             ELSE 'end_of_file'
           END AS closed_by
    FROM starts s
    ASOF LEFT JOIN ends e
      ON e.kind = s.kind AND e.agent = s.agent AND e.queue = s.queue AND e.line_no > s.line_no
    ASOF LEFT JOIN restarts r ON r.line_no > s.line_no;
    """


_TS_TEXT = "'%Y-%m-%dT%H:%M:%S.%f'"
# An OUTCALL's talk time longer than this is no talk time: the call is then placed at its end.
_OUTCALL_TALK_MAX_S = 86_400

# Outbound calls, one row each with the columns of an interaction: PBXware's OUTDIAL and the
# first result after it (OUTANSWER, OUTCANCEL...), and QueueUpdate's OUTCALL. OUTCALL is written
# when the call ends: an answered call began its talk time before (the dialling before that is
# known only from the free-form params, which are not read); a repeated line is one call, and
# a line without an agent credits nobody.
OUTBOUND_SQL = f"""
CREATE TABLE outbound AS
WITH dial AS (
  SELECT callid, agent, min(line_no) AS line_no, arg_min(ts, line_no) AS ts,
         arg_min(txt, line_no) AS number
  FROM ev WHERE verb = 'OUTDIAL' GROUP BY ALL
),
result AS (
  SELECT callid, agent, arg_min(verb, line_no) AS verb, arg_min(ts, line_no) AS end_at,
         arg_min_null(n1, line_no) AS ring_s, arg_min_null(n2, line_no) AS talk_s
  FROM ev WHERE verb IN {_sql_list(OUTBOUND_RESULTS)}
  GROUP BY ALL
),
outcall AS (
  SELECT callid, queue, agent, ts, upper(trim(coalesce(arg_min(txt, line_no), ''))) AS status,
         arg_min_null(n1, line_no) AS talk_s
  FROM ev WHERE verb = '{OUTCALL}' AND agent <> '' AND agent <> 'NONE'
  GROUP BY callid, queue, agent, ts
),
outcall_answered AS (
  SELECT *, status IN {_sql_list(OUTCALL_ANSWERED)} AS answered,
         CASE WHEN status IN {_sql_list(OUTCALL_ANSWERED)}
                   AND talk_s BETWEEN 0 AND {_OUTCALL_TALK_MAX_S}
              THEN ts - to_seconds(talk_s) ELSE ts END AS start_at
  FROM outcall
)
SELECT dial.callid || '|outbound|' || dial.agent || '|' || strftime(dial.ts, {_TS_TEXT})
         AS "key",
       dial.callid, NULL::VARCHAR AS queue, dial.agent, dial.ts AS event_at,
       CASE WHEN result.verb = 'OUTANSWER' THEN result.end_at END AS answer_at, result.end_at,
       result.ring_s, CASE WHEN result.verb = 'OUTANSWER' THEN result.talk_s END AS talk_s,
       CASE result.verb WHEN 'OUTANSWER' THEN 'answered' WHEN 'OUTCANCEL' THEN 'canceled'
                        WHEN 'OUTCHANUNAVAIL' THEN 'unavailable'
                        WHEN 'OUTCONGESTION' THEN 'congestion' ELSE 'open' END AS outcome,
       dial.number
FROM dial LEFT JOIN result USING (callid, agent)
UNION ALL
SELECT callid || '|outcall|' || queue || '|' || agent || '|' || strftime(ts, {_TS_TEXT}),
       callid, CASE WHEN queue NOT IN ('', 'NONE') THEN queue END, agent, start_at,
       CASE WHEN answered THEN start_at END, ts, NULL, CASE WHEN answered THEN talk_s END,
       CASE WHEN answered THEN 'answered'
            WHEN status = 'CANCEL' THEN 'canceled'
            WHEN status = 'CHANUNAVAIL' THEN 'unavailable'
            WHEN status = 'CONGESTION' THEN 'congestion'
            WHEN status = 'BUSY' THEN 'busy'
            WHEN status IN ('NOANSWER', 'NO ANSWER') THEN 'no_answer'
            ELSE 'unanswered' END,
       NULL
FROM outcall_answered;
"""


def _caller_hash_sql(column: str, salt: str) -> str:
    digits = f"regexp_replace(coalesce({column}, ''), '[^0-9+]', '', 'g')"
    return f"CASE WHEN {digits} = '' THEN NULL ELSE left(sha256('{salt}' || {digits}), 32) END"


def first_event_epoch(head: bytes) -> float | None:
    """The time of the first event in the start of a flat queue_log (None for other layouts)."""
    if detect_layout(head) != "flat":
        return None
    for line in head.splitlines():
        stamp = line.split(b"|", 1)[0].strip()
        try:
            return float(stamp)
        except ValueError:
            continue
    return None


def _is_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 24):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _gb18030_to_utf8(path: Path, target: Path) -> None:
    """PBXs in China write caller names in GB18030 now and then: the file as UTF-8."""
    decoder = codecs.getincrementaldecoder("gb18030")(errors="replace")
    with path.open("rb") as source, target.open("w", encoding="utf-8", newline="") as out:
        while chunk := source.read(1 << 24):
            out.write(decoder.decode(chunk))
        out.write(decoder.decode(b"", final=True))


def _load(db: duckdb.DuckDBPyConnection, layout: str, path: Path, timezone: str) -> None:
    if layout == "pbxware":
        _load_pbxware(db, path)
    elif layout == "table":
        _load_table(db, path, timezone)
    else:
        if not _load_flat_fast(db, path, _line_count(path)):
            _load_flat_exact(db, path)


def parse(source: AdapterInput) -> ParsedFile:
    """Read a queue_log in any of its layouts, from its file when it has one."""
    with tempfile.TemporaryDirectory() as folder:
        path = source.path
        if path is None:
            path = Path(folder) / "queue_log"
            path.write_bytes(source.data)
        with path.open("rb") as handle:
            layout = detect_layout(handle.read(4096))
        db = duckdb.connect()
        try:
            db.execute("SET TimeZone = 'UTC'")
            # A month of a large centre is tens of millions of events: bounded, spilling to disk.
            db.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
            db.execute(f"SET temp_directory = '{Path(folder) / 'spill'}'")
            _read_events(db, layout, path, source, Path(folder))
            salt = caller_salt(source.settings)
            _assemble_calls(db, salt)
            db.execute(ASSEMBLE_LEGS)
            db.execute(_states_sql())
            db.execute(OUTBOUND_SQL)
            carried = _hold_back_in_progress(db) if source.growing else []
            parsed = _collect(db, layout, salt, source.stage)
            if carried:
                parsed.carry = _lines_of(path, carried)
                parsed.rows_accepted -= len(carried)
                parsed.rows_ignored += len(carried)
                parsed.notes[CARRIED_NOTE] = len(carried)
            return parsed
        finally:
            db.close()


def _read_events(
    db: duckdb.DuckDBPyConnection, layout: str, path: Path, source: AdapterInput, folder: Path
) -> None:
    try:
        try:
            _load(db, layout, path, source.settings.timezone)
        except duckdb.InvalidInputException:
            if _is_utf8(path):
                raise
            utf8 = folder / "queue_log.utf8"
            _gb18030_to_utf8(path, utf8)
            for table in ("fast", "parts", "src"):
                db.execute(f"DROP TABLE IF EXISTS {table}")
            _load(db, layout, utf8, source.settings.timezone)
    except duckdb.Error as exc:
        raise InvalidInput(
            "cannot read {file} as a queue_log: {error}", file=source.file_name, error=str(exc)
        ) from exc


# A call still open this long after it entered the queue is stored open, not carried on (a
# PBX that never wrote its end); ingest.stitching completes it if its end comes after all.
MAX_CARRIED_CALL_HOURS = 24

# What is in progress at the end of a growing file: calls and dialled outbound calls without
# their end (unless Asterisk restarted; an OUTCALL line is written when its call is over), agent
# states not ended. Their rows are taken out; the lines they
# were built from are what the next read starts with (a state needs only its start line).
HOLD_BACK_IN_PROGRESS = f"""
CREATE TABLE carried_calls AS
SELECT callid, queue, seg, enter_line FROM outcomes
WHERE seg > 0 AND outcome = 'open' AND open_until = 'end_of_file'
  AND enter_at >= (SELECT max(ts) FROM ev) - INTERVAL {MAX_CARRIED_CALL_HOURS} HOUR;
CREATE TABLE carried_outbound AS
SELECT callid, agent FROM outbound WHERE outcome = 'open';
CREATE TABLE carried_lines AS
SELECT e.line_no FROM ev e JOIN carried_calls c USING (callid, queue)
WHERE e.line_no >= c.enter_line AND e.{CALL_EVENTS}
UNION
SELECT e.line_no FROM ev e JOIN carried_outbound o USING (callid, agent)
WHERE e.verb IN ('OUTDIAL', {", ".join(f"'{v}'" for v in OUTBOUND_RESULTS)})
UNION
SELECT line_no FROM states WHERE closed_by = 'end_of_file';
DELETE FROM outcomes USING carried_calls c
WHERE outcomes.callid = c.callid AND outcomes.queue = c.queue AND outcomes.seg = c.seg;
DELETE FROM legs USING carried_calls c
WHERE legs.callid = c.callid AND legs.queue = c.queue AND legs.seg = c.seg;
DELETE FROM outbound USING carried_outbound c
WHERE outbound.callid = c.callid AND outbound.agent = c.agent AND outbound.outcome = 'open';
DELETE FROM states WHERE closed_by = 'end_of_file';
"""


def _hold_back_in_progress(db: duckdb.DuckDBPyConnection) -> list[int]:
    """Take what is in progress at the end out of the assembled rows; its lines, in order."""
    db.execute(HOLD_BACK_IN_PROGRESS)
    rows = db.execute("SELECT line_no FROM carried_lines ORDER BY line_no").fetchall()
    return [int(line_no) for (line_no,) in rows]


def _lines_of(path: Path, numbers: list[int]) -> bytes:
    """The file's lines of these numbers (1-based, ascending), each with its newline."""
    wanted, found = set(numbers), []
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if number in wanted:
                found.append(line if line.endswith(b"\n") else line + b"\n")
    return b"".join(found)


_BATCH_ROWS = 1 << 20
_CALL_KEY = "callid || '|' || queue || '|' || strftime(enter_at, '%Y-%m-%dT%H:%M:%S.%f')"


def _interactions_sql(salt: str) -> str:
    """Calls, ring legs and outbound calls, one row per key: a call whose ENTERQUEUE the file
    repeats (its only way to share a key) keeps its settled copy, else its first."""
    return f"""
        WITH calls AS (
          SELECT * FROM outcomes WHERE seg > 0 AND NOT split
          UNION ALL
          SELECT * FROM outcomes WHERE seg > 0 AND split
          QUALIFY row_number() OVER (PARTITION BY callid, queue, enter_at
                                     ORDER BY outcome = 'open', enter_line) = 1
        ),
        rings AS (
          SELECT * FROM legs WHERE seg > 0 AND NOT split
          UNION ALL
          SELECT * FROM legs WHERE seg > 0 AND split
          QUALIFY row_number() OVER (PARTITION BY callid, queue, enter_at, leg_suffix
                                     ORDER BY line_no) = 1
        )
        SELECT {_CALL_KEY} AS "key",
               callid, queue, 'call' AS row_kind, 'inbound' AS direction,
               agent AS agent_identity, enter_at AS event_at, answer_at, end_at, wait_s, ring_s,
               talk_s, NULL::DOUBLE AS hold_s, NULL::DOUBLE AS acw_s, outcome, transferred,
               NULL::VARCHAR AS topic, caller_hash, ended_by
        FROM calls
        UNION ALL
        SELECT {_CALL_KEY} || leg_suffix,
               callid, queue, 'leg', 'inbound', agent, ts, NULL, ts, NULL, ring_s, NULL, NULL,
               NULL, outcome, NULL, NULL, caller_hash, NULL
        FROM rings
        UNION ALL
        SELECT "key", callid, queue, 'call', 'outbound', agent, event_at, answer_at, end_at, NULL,
               ring_s, talk_s, NULL, NULL, outcome, NULL, NULL, {_caller_hash_sql("number", salt)},
               NULL
        FROM outbound
        """


def _scalar(db: duckdb.DuckDBPyConnection, query: str) -> int:
    rows = db.execute(query).fetchall()
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def _collect(
    db: duckdb.DuckDBPyConnection, layout: str, salt: str, stage: Stage | None
) -> ParsedFile:
    rejected = [
        Rejected(int(line_no), "line", reason, raw or "")
        for line_no, raw, reason in db.execute(
            "SELECT line_no, raw, reason FROM bad ORDER BY line_no"
        ).fetchall()
    ]
    verbs = Counter(dict(db.execute("SELECT verb, count(*) FROM ev GROUP BY verb").fetchall()))
    events = sum(verbs.values())
    unknown = {v: n for v, n in verbs.items() if v not in ACCEPTED_VERBS and v not in QUIET_VERBS}
    quiet = sum(n for verb, n in verbs.items() if verb in QUIET_VERBS and verb != "QUEUESTART")
    orphans = _scalar(db, "SELECT sum(events) FROM outcomes WHERE seg = 0")
    blank = _scalar(db, "SELECT n FROM blank")
    # The events are no longer needed: their memory goes to the rows handed back.
    for name, kind in db.execute(
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_name IN ('ev', 'fast', 'seg', 'state_ev', 'src')"
    ).fetchall():
        db.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} {name}")
    continuations = db.sql(
        """
        SELECT callid, queue, 'call' AS part, NULL::VARCHAR AS leg_suffix, first_at, events,
               agent AS agent_identity, NULL::TIMESTAMPTZ AS event_at, answer_at, end_at, wait_s,
               ring_s, talk_s, outcome, transferred, ended_by, first_line AS line_no
        FROM outcomes WHERE seg = 0
        UNION ALL
        SELECT callid, queue, 'leg', leg_suffix, ts, 1, agent, ts, NULL, ts, NULL, ring_s, NULL,
               outcome, NULL, NULL, line_no
        FROM legs WHERE seg = 0
        ORDER BY line_no
        """
    ).to_arrow_table()
    identities = Counter(
        dict(
            db.execute(
                """SELECT agent, count(*) FROM (
                     SELECT agent FROM outcomes WHERE agent IS NOT NULL
                     UNION ALL SELECT agent FROM legs
                     UNION ALL SELECT agent FROM outbound
                     UNION ALL SELECT agent FROM states) GROUP BY agent"""
            ).fetchall()
        )
    )
    open_calls = dict(
        db.execute(
            "SELECT open_until, count(*) FROM outcomes WHERE seg > 0 AND outcome = 'open' "
            "GROUP BY 1"
        ).fetchall()
    )
    states = db.sql(
        """
        SELECT kind || '|' || agent || '|' || queue || '|'
                 || strftime(start_at, '%Y-%m-%dT%H:%M:%S.%f') AS "key",
               agent AS agent_identity, kind AS state,
               CASE WHEN queue = '*' THEN NULL ELSE queue END AS queue,
               NULLIF(reason, '') AS reason, start_at AS event_at, end_at, closed_by
        FROM states ORDER BY line_no
        """
    ).to_arrow_table()
    # Written in any order (keys identify rows), so that DuckDB buffers little.
    db.execute("SET preserve_insertion_order = false")
    datasets: dict[str, pa.Table] = {"agent_states": states.cast(AGENT_STATES)}
    staged = {}
    if stage is not None:
        staged["interactions"] = stage.write(db, "interactions", _interactions_sql(salt))
    else:
        # The rows pile up as Arrow: with DuckDB's they must stay within the import's memory.
        db.execute(f"SET memory_limit = '{COLLECT_MEMORY_LIMIT}'")
        reader = db.sql(_interactions_sql(salt)).to_arrow_reader(_BATCH_ROWS)
        interactions = pa.Table.from_batches(reader, schema=reader.schema)
        datasets["interactions"] = interactions.cast(INTERACTIONS)
    notes: dict[str, Any] = {"layout": layout}
    if open_calls:
        notes["open calls (not counted as completed)"] = open_calls
    if unknown:
        notes["unknown verbs (ignored)"] = dict(sorted(unknown.items()))
    if orphans:
        notes[ORPHANS_NOTE] = orphans
    # Every ignored row under a reason, so that a reader can add the counts up.
    if quiet:
        notes[QUIET_NOTE] = quiet
    if blank:
        notes[BLANK_NOTE] = blank
    ignored = sum(unknown.values()) + quiet + orphans + blank
    return ParsedFile(
        datasets=datasets,
        staged=staged,
        unique_keys={"interactions"},
        continuations=continuations.drop_columns(["line_no"]).cast(CONTINUATIONS),
        rows_read=events + len(rejected) + blank,
        rows_accepted=events - sum(unknown.values()) - quiet - orphans,
        rows_ignored=ignored,
        rejected=rejected,
        identities=identities,
        notes=notes,
    )
