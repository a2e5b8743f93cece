"""Asterisk `queue_log` (flat pipe file, realtime/QueueMetrics table exports, PBXware exports).

Every layout is first turned into one canonical event relation in DuckDB
(line_no, at, callid, queue, agent, verb, d: list of data fields), then calls, agent legs and
agent state intervals are assembled from it in SQL, so that tens of millions of lines import in
seconds. Semantics (see the queue_log format notes):

* a call is keyed on (callid, queue, enter time): a caller who overflows to another queue with
  the same callid is a second call;
* ordering inside a call follows the file, not the timestamp (several events share a second);
* a call without its closing event is `open` (reported, never counted as completed); it is
  closed by QUEUESTART (Asterisk restarted) or by the end of the file;
* PAUSEALL is written once plus once per queue: pause time is the union of the intervals, so
  nothing is counted twice; a repeated start does not restart an interval;
* unknown verbs are counted and listed, never fatal.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb

from agentladder.errors import InvalidInput
from agentladder.ingest.adapters import AdapterInput, ParsedFile, Rejected
from agentladder.ingest.datasets import AGENT_STATES, CONTINUATIONS, INTERACTIONS, caller_salt

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
ORPHANS_NOTE = "call events before their ENTERQUEUE (ignored)"
# Known verbs that carry nothing the KPIs use.
QUIET_VERBS = ("CONFIGRELOAD", "PENALTY", "RINGINUSE", "INFO", "DID", "QUEUESTART")
ACCEPTED_VERBS = (*CALL_VERBS, *STATE_VERBS, *OUTBOUND_VERBS, "QUEUESTART")

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
TABLE_COLUMNS = ("time", "callid", "queuename", "agent", "event")


def _sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _header(data: bytes) -> list[str]:
    first = data[:4096].split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")
    row = next(csv.reader(io.StringIO(first)), [])
    return [cell.strip().strip('"').lower() for cell in row]


def detect_layout(data: bytes) -> str:
    """flat (pipe file), pbxware (PBXware CSV export) or table (realtime `time,data1..5`)."""
    header = _header(data)
    if tuple(header[: len(PBXWARE_COLUMNS)]) == PBXWARE_COLUMNS:
        return "pbxware"
    if set(TABLE_COLUMNS) <= set(header) and ("data1" in header or "data" in header):
        return "table"
    return "flat"


# Control characters that never occur in a queue_log; one of them serves as a delimiter that
# splits nothing, so that each physical line is read as one value.
_NEVER_SEEN = ("\x1f", "\x1e", "\x1d", "\x1c", "\x07")


def _load_flat(db: duckdb.DuckDBPyConnection, path: Path, data: bytes) -> None:
    delimiter = next((c for c in _NEVER_SEEN if c.encode() not in data), None)
    if delimiter is None:
        raise InvalidInput("the file holds every control character; it is not a queue_log")
    # One VARCHAR per physical line (empty lines are kept as NULL), so line numbers are exact.
    db.execute(
        f"""
        CREATE TABLE raw AS
        SELECT row_number() OVER () AS line_no, line
        FROM read_csv('{path}', columns = {{'line': 'VARCHAR'}}, delim = '{delimiter}',
                      quote = '', escape = '', header = false, auto_detect = false,
                      strict_mode = false, null_padding = true)
        """
    )
    db.execute(
        """
        CREATE TABLE parts AS
        SELECT line_no, line, string_split(line, '|') AS f FROM raw
        WHERE line IS NOT NULL AND trim(line) <> ''
        """
    )
    db.execute(
        """
        CREATE TABLE ev AS
        SELECT line_no, to_timestamp(TRY_CAST(f[1] AS DOUBLE)) AS ts, f[2] AS callid,
               f[3] AS queue, f[4] AS agent, upper(trim(f[5])) AS verb,
               list_slice(f, 6, len(f)) AS d, line AS raw
        FROM parts
        WHERE len(f) >= 5 AND regexp_full_match(trim(f[1]), '[0-9]{9,11}(\\.[0-9]+)?')
        """
    )
    db.execute(
        """
        CREATE TABLE bad AS
        SELECT line_no, line AS raw,
               CASE WHEN len(f) < 5 THEN 'fewer than 5 fields (epoch|callid|queue|agent|EVENT)'
                    ELSE 'the first field is not a Unix time: ' || f[1] END AS reason
        FROM parts
        WHERE NOT (len(f) >= 5 AND regexp_full_match(trim(f[1]), '[0-9]{9,11}(\\.[0-9]+)?'))
        """
    )
    db.execute(
        "CREATE TABLE blank AS SELECT count(*) AS n FROM raw WHERE line IS NULL OR trim(line) = ''"
    )


def _load_pbxware(db: duckdb.DuckDBPyConnection, path: Path) -> None:
    db.execute(
        f"""
        CREATE TABLE src AS
        SELECT row_number() OVER () + 1 AS line_no, *
        FROM read_csv('{path}', header = true, all_varchar = true, auto_detect = true)
        """
    )
    # PBXware moves fields: rebuild the stock data fields per verb (see the format notes).
    db.execute(
        f"""
        CREATE TABLE ev AS
        SELECT line_no, to_timestamp(TRY_CAST(date_time AS DOUBLE)) AS ts, callid,
               queue_name AS queue, "type" AS agent, upper(trim(event)) AS verb,
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
               END AS d,
               concat_ws(',', uid, date_time, callid, queue_name, "type", event, param1, param2,
                         param3, entpos, expos, htime, ttime) AS raw,
               htime, ttime
        FROM src
        WHERE TRY_CAST(date_time AS DOUBLE) IS NOT NULL AND event IS NOT NULL
        """
    )
    db.execute(
        """
        CREATE TABLE bad AS
        SELECT line_no, concat_ws(',', uid, date_time, callid, queue_name, "type", event) AS raw,
               'date_time is not a Unix time or event is empty' AS reason
        FROM src WHERE TRY_CAST(date_time AS DOUBLE) IS NULL OR event IS NULL
        """
    )
    db.execute("CREATE TABLE blank AS SELECT 0 AS n")


def _load_table(db: duckdb.DuckDBPyConnection, path: Path, timezone: str) -> None:
    db.execute(
        f"""
        CREATE TABLE src AS
        SELECT row_number() OVER () + 1 AS line_no, *
        FROM read_csv('{path}', header = true, all_varchar = true, auto_detect = true)
        """
    )
    columns = {row[0].lower() for row in db.execute("DESCRIBE src").fetchall()}
    if "data1" in columns:
        fields = ", ".join(
            f"coalesce(data{i}, '')" if f"data{i}" in columns else "''" for i in range(1, 6)
        )
        data = f"[{fields}]"
    else:
        data = "string_split(coalesce(data, ''), '|')"
    # A DATETIME without a zone is read in the centre's time zone (the database's local time).
    db.execute(
        f"""
        CREATE TABLE ev AS
        SELECT line_no, timezone('{timezone}', TRY_CAST("time" AS TIMESTAMP)) AS ts, callid,
               queuename AS queue, agent, upper(trim(event)) AS verb, {data} AS d,
               concat_ws(',', "time", callid, queuename, agent, event) AS raw
        FROM src WHERE TRY_CAST("time" AS TIMESTAMP) IS NOT NULL AND event IS NOT NULL
        """
    )
    db.execute(
        """
        CREATE TABLE bad AS
        SELECT line_no, concat_ws(',', "time", callid, queuename, agent, event) AS raw,
               'time is not a date and time, or event is empty' AS reason
        FROM src WHERE TRY_CAST("time" AS TIMESTAMP) IS NULL OR event IS NULL
        """
    )
    db.execute("CREATE TABLE blank AS SELECT 0 AS n")


def _num(expression: str) -> str:
    return f"TRY_CAST(NULLIF(trim({expression}), '') AS DOUBLE)"


# Per (callid, queue, seg): seg 0 holds the events before the file's first ENTERQUEUE of that
# call, the rest of a call whose ENTERQUEUE is in the previous (rotated) file.
ASSEMBLE_CALLS = f"""
CREATE TABLE seg AS
SELECT *, sum(CASE WHEN verb = 'ENTERQUEUE' THEN 1 ELSE 0 END)
          OVER (PARTITION BY callid, queue ORDER BY line_no ROWS UNBOUNDED PRECEDING) AS seg
FROM ev WHERE verb IN {_sql_list(CALL_VERBS)} AND queue IS NOT NULL AND queue <> 'NONE';

CREATE TABLE conn AS
SELECT callid, queue, seg, arg_min(agent, line_no) AS agent, min(line_no) AS connect_line,
       arg_min(ts, line_no) AS answer_at, arg_min({_num("d[1]")}, line_no) AS wait_s,
       arg_min({_num("d[3]")}, line_no) AS ring_s
FROM seg WHERE verb = 'CONNECT' GROUP BY ALL;

CREATE TABLE fin AS
SELECT callid, queue, seg, arg_min(verb, line_no) AS end_verb, min(line_no) AS end_line,
       arg_min(ts, line_no) AS end_at, arg_min(d, line_no) AS end_d,
       arg_min(agent, line_no) AS end_agent
FROM seg WHERE verb IN {_sql_list((*CALLER_END_VERBS, *AGENT_END_VERBS))} GROUP BY ALL;

CREATE TABLE outcomes AS
SELECT callid, queue, seg,
       coalesce(c.agent, CASE WHEN f.end_verb IN {_sql_list(AGENT_END_VERBS)} THEN f.end_agent END)
         AS agent,
       c.answer_at, c.ring_s, f.end_verb, f.end_at,
       CASE
         WHEN f.end_verb IN ('COMPLETEAGENT', 'COMPLETECALLER') THEN {_num("f.end_d[2]")}
         WHEN f.end_verb IN ('TRANSFER', 'BLINDTRANSFER') THEN {_num("f.end_d[4]")}
         WHEN f.end_verb = 'ATTENDEDTRANSFER' THEN {_num("f.end_d[len(f.end_d) - 1]")}
       END AS talk_s,
       CASE
         WHEN c.wait_s IS NOT NULL THEN c.wait_s
         WHEN f.end_verb IN ('ABANDON', 'EXITWITHTIMEOUT', 'EXITEMPTY', 'WITHDRAW')
           THEN {_num("f.end_d[3]")}
         WHEN f.end_verb = 'EXITWITHKEY' THEN {_num("f.end_d[4]")}
       END AS wait_s,
       CASE
         WHEN f.end_verb IN {_sql_list(AGENT_END_VERBS)} THEN 'answered'
         WHEN f.end_verb = 'ABANDON' THEN 'abandoned'
         WHEN f.end_verb = 'EXITWITHTIMEOUT' THEN 'timeout'
         WHEN f.end_verb = 'EXITEMPTY' THEN 'exit_empty'
         WHEN f.end_verb = 'EXITWITHKEY' THEN 'exit_key'
         WHEN f.end_verb = 'WITHDRAW' THEN 'withdrawn'
         ELSE 'open'
       END AS outcome,
       coalesce(f.end_verb IN ('TRANSFER', 'BLINDTRANSFER', 'ATTENDEDTRANSFER'), false)
         AS transferred
FROM conn c FULL JOIN fin f USING (callid, queue, seg);

CREATE TABLE calls AS
WITH enter AS (
  SELECT callid, queue, seg, line_no AS enter_line, ts AS enter_at, d[2] AS caller
  FROM seg WHERE verb = 'ENTERQUEUE'
),
restart AS (SELECT line_no FROM ev WHERE verb = 'QUEUESTART')
SELECT e.callid, e.queue, e.seg, e.enter_line, e.enter_at, e.caller, o.agent, o.answer_at,
       o.ring_s, o.end_verb, o.end_at, o.talk_s, o.wait_s, coalesce(o.outcome, 'open') AS outcome,
       coalesce(o.transferred, false) AS transferred,
       CASE WHEN o.end_verb IS NULL THEN
         CASE WHEN EXISTS (SELECT 1 FROM restart r WHERE r.line_no > e.enter_line)
              THEN 'queuestart' ELSE 'end_of_file' END
       END AS open_until
FROM enter e LEFT JOIN outcomes o USING (callid, queue, seg);

CREATE TABLE continued AS
SELECT callid, queue, min(line_no) AS line_no, min(ts) AS first_at, count(*) AS events
FROM seg WHERE seg = 0 GROUP BY ALL;
"""

ASSEMBLE_LEGS = """
CREATE TABLE legs AS
SELECT s.callid, s.queue, s.seg, s.line_no, s.agent, s.ts, c.enter_at, c.caller,
       CASE s.verb WHEN 'RINGNOANSWER' THEN 'ring_no_answer' ELSE 'ring_canceled' END AS outcome,
       TRY_CAST(NULLIF(trim(s.d[1]), '') AS DOUBLE) / 1000.0 AS ring_s,
       -- Named by agent, time and rank rather than line number: an overlapping file that starts
       -- elsewhere gives the same leg the same key.
       '|leg|' || coalesce(s.agent, '') || '|' || strftime(s.ts, '%Y-%m-%dT%H:%M:%S.%f') || '|'
         || row_number() OVER (PARTITION BY s.callid, s.queue, s.seg, s.agent, s.ts
                               ORDER BY s.line_no) AS leg_suffix
FROM seg s LEFT JOIN calls c USING (callid, queue, seg)
WHERE s.verb IN ('RINGNOANSWER', 'RINGCANCELED');
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
    parts = []
    for kind, starts, ends, per_queue in kinds:
        queue = "queue" if per_queue else "'*'"
        parts.append(
            f"""
            SELECT '{kind}' AS kind, line_no, ts, agent, {queue} AS queue,
                   verb IN {_sql_list(starts)} AS is_start,
                   CASE WHEN verb IN {_sql_list(starts)} AND '{kind}' = 'pause' THEN d[1] END
                     AS reason
            FROM ev WHERE verb IN {_sql_list((*starts, *ends))}
              AND agent IS NOT NULL AND agent <> 'NONE'
            """
        )
    union = " UNION ALL ".join(parts)
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


OUTBOUND_SQL = """
CREATE TABLE outbound AS
WITH dial AS (
  SELECT callid, agent, min(line_no) AS line_no, arg_min(ts, line_no) AS ts,
         arg_min(d[1], line_no) AS number
  FROM ev WHERE verb = 'OUTDIAL' GROUP BY ALL
),
result AS (
  SELECT callid, agent, arg_min(verb, line_no) AS verb, arg_min(ts, line_no) AS end_at,
         arg_min(d, line_no) AS d
  FROM ev WHERE verb IN ('OUTANSWER', 'OUTCANCEL', 'OUTCHANUNAVAIL', 'OUTCONGESTION')
  GROUP BY ALL
)
SELECT dial.callid, dial.agent, dial.line_no, dial.ts, dial.number, result.verb, result.end_at,
       TRY_CAST(NULLIF(trim(result.d[3]), '') AS DOUBLE) AS ring_s,
       TRY_CAST(NULLIF(trim(result.d[4]), '') AS DOUBLE) AS talk_s
FROM dial LEFT JOIN result USING (callid, agent);
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


def _as_utf8(data: bytes) -> bytes:
    """The file as UTF-8: PBXs in China write caller names in GB18030 now and then."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace").encode("utf-8")
    return data


def parse(source: AdapterInput) -> ParsedFile:
    """Read a queue_log in any of its layouts."""
    layout = detect_layout(source.data)
    data = _as_utf8(source.data)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "queue_log"
        path.write_bytes(data)
        db = duckdb.connect()
        db.execute("SET TimeZone = 'UTC'")
        try:
            if layout == "flat":
                _load_flat(db, path, data)
            elif layout == "pbxware":
                _load_pbxware(db, path)
            else:
                _load_table(db, path, source.settings.timezone)
        except duckdb.Error as exc:
            raise InvalidInput(
                "cannot read {file} as a queue_log: {error}", file=source.file_name, error=str(exc)
            ) from exc
        db.execute(ASSEMBLE_CALLS)
        db.execute(ASSEMBLE_LEGS)
        db.execute(_states_sql())
        db.execute(OUTBOUND_SQL)
        return _collect(db, layout, caller_salt(source.settings))


def _scalar(db: duckdb.DuckDBPyConnection, query: str) -> int:
    rows = db.execute(query).fetchall()
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def _collect(db: duckdb.DuckDBPyConnection, layout: str, salt: str) -> ParsedFile:
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
    orphans = _scalar(db, "SELECT count(*) FROM seg WHERE seg = 0")
    blank = _scalar(db, "SELECT n FROM blank")
    interactions = (
        db.sql(
            f"""
        SELECT callid || '|' || queue || '|' || strftime(enter_at, '%Y-%m-%dT%H:%M:%S.%f')
                 AS "key",
               callid, queue, 'call' AS row_kind, 'inbound' AS direction,
               agent AS agent_identity, enter_at AS event_at, answer_at, end_at, wait_s, ring_s,
               talk_s, NULL::DOUBLE AS hold_s, NULL::DOUBLE AS acw_s, outcome, transferred,
               NULL::VARCHAR AS topic, {_caller_hash_sql("caller", salt)} AS caller_hash,
               enter_line AS line_no
        FROM calls
        UNION ALL
        SELECT callid || '|' || queue || '|' || strftime(enter_at, '%Y-%m-%dT%H:%M:%S.%f')
                 || leg_suffix,
               callid, queue, 'leg', 'inbound', agent, ts, NULL, ts, NULL, ring_s, NULL, NULL,
               NULL, outcome, NULL, NULL, {_caller_hash_sql("caller", salt)}, line_no
        FROM legs WHERE seg > 0
        UNION ALL
        SELECT callid || '|outbound|' || agent || '|' || strftime(ts, '%Y-%m-%dT%H:%M:%S.%f'),
               callid, NULL, 'call', 'outbound', agent, ts,
               CASE WHEN verb = 'OUTANSWER' THEN end_at END, end_at, NULL, ring_s,
               CASE WHEN verb = 'OUTANSWER' THEN talk_s END, NULL, NULL,
               CASE verb WHEN 'OUTANSWER' THEN 'answered' WHEN 'OUTCANCEL' THEN 'canceled'
                         WHEN 'OUTCHANUNAVAIL' THEN 'unavailable'
                         WHEN 'OUTCONGESTION' THEN 'congestion' ELSE 'open' END,
               NULL, NULL, {_caller_hash_sql("number", salt)}, line_no
        FROM outbound
        ORDER BY line_no
        """
        )
        .to_arrow_table()
        .drop_columns(["line_no"])
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
    continuations = db.sql(
        """
        SELECT k.callid, k.queue, 'call' AS part, NULL::VARCHAR AS leg_suffix, k.first_at,
               k.events, o.agent AS agent_identity, NULL::TIMESTAMPTZ AS event_at, o.answer_at,
               o.end_at, o.wait_s, o.ring_s, o.talk_s, coalesce(o.outcome, 'open') AS outcome,
               coalesce(o.transferred, false) AS transferred, k.line_no
        FROM continued k LEFT JOIN outcomes o ON o.callid = k.callid AND o.queue = k.queue
                                              AND o.seg = 0
        UNION ALL
        SELECT callid, queue, 'leg', leg_suffix, ts, 1, agent, ts, NULL, ts, NULL, ring_s, NULL,
               outcome, NULL, line_no
        FROM legs WHERE seg = 0
        ORDER BY line_no
        """
    ).to_arrow_table()
    identities = Counter(
        dict(
            db.execute(
                """SELECT agent, count(*) FROM (
                     SELECT agent FROM calls WHERE agent IS NOT NULL
                     UNION ALL SELECT agent FROM outcomes WHERE seg = 0 AND agent IS NOT NULL
                     UNION ALL SELECT agent FROM legs
                     UNION ALL SELECT agent FROM outbound
                     UNION ALL SELECT agent FROM states) GROUP BY agent"""
            ).fetchall()
        )
    )
    open_calls = dict(
        db.execute(
            "SELECT open_until, count(*) FROM calls WHERE outcome = 'open' GROUP BY 1"
        ).fetchall()
    )
    notes: dict[str, Any] = {"layout": layout}
    if open_calls:
        notes["open calls (not counted as completed)"] = open_calls
    if unknown:
        notes["unknown verbs (ignored)"] = dict(sorted(unknown.items()))
    if orphans:
        notes[ORPHANS_NOTE] = orphans
    ignored = sum(unknown.values()) + quiet + orphans + blank
    return ParsedFile(
        datasets={
            "interactions": interactions.cast(INTERACTIONS),
            "agent_states": states.cast(AGENT_STATES),
        },
        continuations=continuations.drop_columns(["line_no"]).cast(CONTINUATIONS),
        rows_read=events + len(rejected) + blank,
        rows_accepted=events - sum(unknown.values()) - quiet - orphans,
        rows_ignored=ignored,
        rejected=rejected,
        identities=identities,
        notes=notes,
    )
