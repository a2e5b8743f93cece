"""The month's queue_log KPIs computed without agentladder: hand-written DuckDB SQL and plain
pandas, over the Parquet files the import wrote. The benchmark times these against
`compute_period` and checks that all three give the same numbers.

Both follow the definitions in `agentladder.metrics.catalog` (docs/metrics.md): an open copy
of a call is dropped when a settled row has its key; repeat contacts look at every inbound
call, also after the period; login and pause time are the union of the intervals per agent
clipped to the period. Metrics without a source in a queue_log (surveys, tickets ...) are
left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

# (numerator-or-value, sample size) per (scope, subject, metric id); the value is what
# agentladder stores as MetricValue.value.
Results = dict[tuple[str, str, str], tuple[float | None, int]]

AGENT_METRICS = (
    "handled_calls",
    "offered_to_agent",
    "ring_no_answer",
    "avg_ring_s",
    "avg_talk_s",
    "total_talk_s",
    "avg_hold_s",
    "avg_acw_s",
    "aht_s",
    "transfer_rate",
    "fcr_contact_rate",
    "fcr_rate",
    "short_call_rate",
    "total_handle_s",
    "login_s",
    "pause_s",
    "occupancy",
    "idle_busy_ratio",
    "asa_s",
)
QUEUE_METRICS = (
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "timed_out",
    "asa_s",
    "service_level",
    "abandon_rate",
)


@dataclass(frozen=True)
class Thresholds:
    """The definitions' settings (agentladder's defaults unless the centre changed them)."""

    service_level_s: float = 20.0
    short_abandon_s: float = 5.0
    short_call_s: float = 10.0
    fcr_window_days: int = 7


def _ratio(num: float | None, den: float | None) -> float | None:
    return None if num is None or not den else num / den


def _derive(results: Results) -> None:
    """The agent metrics made of other metrics (as `metrics.engine._derived` does)."""
    subjects = {subject for scope, subject, _ in results if scope == "agent"}
    for subject in subjects:

        def value(metric: str, who: str = subject) -> float | None:
            return results.get(("agent", who, metric), (None, 0))[0]

        def sample(metric: str, who: str = subject) -> int:
            return results.get(("agent", who, metric), (None, 0))[1]

        results[("agent", subject, "fcr_rate")] = results.get(
            ("agent", subject, "fcr_contact_rate"), (None, 0)
        )
        handle, login, pause = value("total_handle_s"), value("login_s"), value("pause_s")
        available = None if login is None else login - (pause or 0.0)
        if handle is None or available is None:
            results[("agent", subject, "occupancy")] = (None, 0)
            results[("agent", subject, "idle_busy_ratio")] = (None, 0)
            continue
        results[("agent", subject, "occupancy")] = (
            _ratio(handle, available),
            sample("total_handle_s"),
        )
        results[("agent", subject, "idle_busy_ratio")] = (
            _ratio(available - handle, handle),
            sample("total_handle_s"),
        )


def _store_calls(results: Results, row: dict[str, Any]) -> None:
    s = row["subject"]
    handled = int(row["handled"] or 0)
    results[("agent", s, "handled_calls")] = (float(handled), handled)
    for metric, total, count in (
        ("avg_ring_s", "ring_sum", "ring_n"),
        ("avg_talk_s", "talk_sum", "talk_n"),
        ("avg_hold_s", "hold_sum", "hold_n"),
        ("avg_acw_s", "acw_sum", "acw_n"),
        ("aht_s", "handle_sum", "handled"),
        ("asa_s", "wait_sum", "wait_n"),
        ("transfer_rate", "transfer_hits", "transfer_n"),
        ("fcr_contact_rate", "fcr_hits", "fcr_n"),
        ("short_call_rate", "short_hits", "talk_n"),
    ):
        n = int(row[count] or 0)
        results[("agent", s, metric)] = (_ratio(row[total], n), n)
    results[("agent", s, "total_talk_s")] = (float(row["talk_sum"] or 0.0), int(row["talk_n"]))
    results[("agent", s, "total_handle_s")] = (float(row["handle_sum"] or 0.0), handled)


def _store_offers(results: Results, row: dict[str, Any]) -> None:
    s = row["subject"]
    results[("agent", s, "offered_to_agent")] = (float(row["offered"]), int(row["offered"]))
    results[("agent", s, "ring_no_answer")] = (float(row["rna"]), int(row["rna"]))


def _store_queue(results: Results, row: dict[str, Any]) -> None:
    q = row["subject"]
    for metric in ("offered", "answered", "abandoned", "short_abandoned", "timed_out"):
        results[("queue", q, metric)] = (float(row[metric]), int(row[metric]))
    results[("queue", q, "asa_s")] = (_ratio(row["wait_sum"], row["wait_n"]), int(row["wait_n"]))
    base = row["answered_n"] + row["abandoned"] - row["short_abandoned"]
    results[("queue", q, "service_level")] = (_ratio(row["sl_hits"], base), int(row["sl_n"]))
    results[("queue", q, "abandon_rate")] = (
        _ratio(row["long_abandoned"], row["offered"]),
        int(row["offered"]),
    )


def _store_states(results: Results, row: dict[str, Any]) -> None:
    s = row["subject"]
    results[("agent", s, "login_s")] = (float(row["login_s"] or 0.0), int(row["login_n"]))
    results[("agent", s, "pause_s")] = (float(row["pause_s"] or 0.0), int(row["pause_n"]))


# --- DuckDB SQL -----------------------------------------------------------------------------


def _files_sql(files: list[Path]) -> str:
    return "[" + ", ".join(f"'{f}'" for f in files) + "]"


def sql_statements(
    interactions: list[Path],
    states: list[Path],
    start: datetime,
    end: datetime,
    limits: Thresholds,
) -> dict[str, str]:
    """The hand-written SQL, by step: views, a temp table of the period's calls, and one
    aggregate per frame (agents' calls, agents' offers, queues, agents' states)."""
    lo, hi = f"TIMESTAMPTZ '{start.isoformat()}'", f"TIMESTAMPTZ '{end.isoformat()}'"
    window = f"INTERVAL {int(limits.fcr_window_days)} DAY"
    # `live`: every interaction row except open copies of calls a settled row supersedes;
    # the open keys are few, so the semi join builds its hash table on them, not on the
    # millions of settled keys.
    live = f"""
        CREATE OR REPLACE TEMP VIEW ix AS SELECT * FROM read_parquet({_files_sql(interactions)});
        CREATE OR REPLACE TEMP VIEW live AS
        SELECT * FROM ix WHERE outcome <> 'open'
        UNION ALL
        SELECT * FROM ix WHERE outcome = 'open' AND key NOT IN (
          SELECT key FROM ix WHERE outcome <> 'open'
            AND key IN (SELECT key FROM ix WHERE outcome = 'open'))
    """
    calls = f"""
        CREATE OR REPLACE TEMP TABLE calls AS
        SELECT c.*, coalesce(m.employee_no, c.agent_identity) AS subject
        FROM (
          SELECT queue, agent_identity, event_at, answer_at, wait_s, ring_s, talk_s, hold_s,
                 acw_s, outcome, transferred,
                 CASE WHEN caller_hash IS NULL THEN NULL ELSE coalesce(
                   lead(event_at) OVER (PARTITION BY caller_hash ORDER BY event_at, key)
                     <= event_at + {window}, false) END AS repeated
          FROM live WHERE row_kind = 'call' AND direction = 'inbound'
        ) c LEFT JOIN mapping m ON c.agent_identity = m.identity
        WHERE c.event_at >= {lo} AND c.event_at < {hi}
    """
    agents = f"""
        SELECT subject,
          count(*) FILTER (ans) AS handled,
          sum(ring_s) FILTER (ans) AS ring_sum, count(ring_s) FILTER (ans) AS ring_n,
          sum(talk_s) FILTER (ans) AS talk_sum, count(talk_s) FILTER (ans) AS talk_n,
          sum(hold_s) FILTER (ans) AS hold_sum, count(hold_s) FILTER (ans) AS hold_n,
          sum(acw_s) FILTER (ans) AS acw_sum, count(acw_s) FILTER (ans) AS acw_n,
          sum(coalesce(talk_s, 0) + coalesce(hold_s, 0) + coalesce(acw_s, 0)) FILTER (ans)
            AS handle_sum,
          sum(wait_s) FILTER (ans) AS wait_sum, count(wait_s) FILTER (ans) AS wait_n,
          count(*) FILTER (ans AND transferred) AS transfer_hits,
          count(transferred) FILTER (ans) AS transfer_n,
          count(*) FILTER (ans AND NOT repeated) AS fcr_hits,
          count(repeated) FILTER (ans) AS fcr_n,
          count(*) FILTER (ans AND talk_s < {limits.short_call_s}) AS short_hits
        FROM (SELECT *, outcome = 'answered' AS ans FROM calls WHERE subject IS NOT NULL)
        GROUP BY subject
    """
    queues = f"""
        SELECT queue AS subject,
          count(outcome) AS offered,
          count(*) FILTER (answer_at IS NOT NULL OR outcome = 'answered') AS answered,
          count(*) FILTER (outcome = 'abandoned') AS abandoned,
          count(*) FILTER (outcome = 'abandoned' AND wait_s <= {limits.short_abandon_s})
            AS short_abandoned,
          count(*) FILTER (outcome = 'timeout') AS timed_out,
          sum(wait_s) FILTER (outcome = 'answered') AS wait_sum,
          count(wait_s) FILTER (outcome = 'answered') AS wait_n,
          count(*) FILTER (outcome = 'answered' AND wait_s <= {limits.service_level_s})
            AS sl_hits,
          count(*) FILTER (outcome = 'answered') AS answered_n,
          count(*) FILTER (outcome IN ('answered', 'abandoned')) AS sl_n,
          count(*) FILTER (outcome = 'abandoned'
                           AND NOT coalesce(wait_s <= {limits.short_abandon_s}, false))
            AS long_abandoned
        FROM calls WHERE queue IS NOT NULL GROUP BY queue
    """
    offers = f"""
        SELECT coalesce(m.employee_no, o.agent_identity) AS subject, count(o.outcome) AS offered,
               count(*) FILTER (o.outcome = 'ring_no_answer') AS rna
        FROM live o LEFT JOIN mapping m ON o.agent_identity = m.identity
        WHERE o.direction = 'inbound' AND o.event_at >= {lo} AND o.event_at < {hi}
          AND coalesce(m.employee_no, o.agent_identity) IS NOT NULL
        GROUP BY 1
    """
    state_rows = f"""
        WITH st AS (
          SELECT coalesce(m.employee_no, s.agent_identity) AS subject,
                 CASE WHEN s.state = 'pause' THEN 'pause' ELSE 'online' END AS grp,
                 greatest(s.event_at, {lo}) AS cs, least(s.end_at, {hi}) AS ce, s.key
          FROM read_parquet({_files_sql(states)}) s
          LEFT JOIN mapping m ON s.agent_identity = m.identity
          WHERE s.event_at < {hi} AND s.end_at > {lo}
            AND coalesce(m.employee_no, s.agent_identity) IS NOT NULL
        ),
        marked AS (
          SELECT *, max(ce) OVER (PARTITION BY subject, grp ORDER BY cs, ce, key
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end
          FROM st
        ),
        numbered AS (
          SELECT *, sum(CASE WHEN prev_end IS NULL OR cs > prev_end THEN 1 ELSE 0 END)
                      OVER (PARTITION BY subject, grp ORDER BY cs, ce, key
                            ROWS UNBOUNDED PRECEDING) AS island
          FROM marked
        ),
        islands AS (
          SELECT subject, grp, epoch(max(ce)) - epoch(min(cs)) AS seconds
          FROM numbered GROUP BY subject, grp, island
        )
        SELECT subject,
               sum(seconds) FILTER (grp = 'online') AS login_s,
               count(seconds) FILTER (grp = 'online') AS login_n,
               sum(seconds) FILTER (grp = 'pause') AS pause_s,
               count(seconds) FILTER (grp = 'pause') AS pause_n
        FROM islands GROUP BY subject
    """
    return {
        "live": live,
        "calls": calls,
        "agents": agents,
        "queues": queues,
        "offers": offers,
        "states": state_rows,
    }


def duckdb_kpis(
    *,
    interactions: list[Path],
    states: list[Path],
    mapping: dict[str, str],
    start: datetime,
    end: datetime,
    limits: Thresholds,
) -> Results:
    """The KPIs with hand-written DuckDB SQL (one in-memory connection, default threads)."""
    import duckdb
    import pyarrow as pa

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register(
        "mapping",
        pa.table(
            {"identity": list(mapping), "employee_no": list(mapping.values())},
            schema=pa.schema([("identity", pa.string()), ("employee_no", pa.string())]),
        ),
    )
    steps = sql_statements(interactions, states, start, end, limits)
    con.execute(steps["live"])
    con.execute(steps["calls"])
    results: Results = {}
    for name, store in (
        ("agents", _store_calls),
        ("queues", _store_queue),
        ("offers", _store_offers),
        ("states", _store_states),
    ):
        cursor = con.execute(steps[name])
        columns = [d[0] for d in cursor.description]
        for record in cursor.fetchall():
            store(results, dict(zip(columns, record, strict=True)))
    con.close()
    _derive(results)
    return results


# --- pandas ---------------------------------------------------------------------------------


def pandas_kpis(
    *,
    interactions: list[Path],
    states: list[Path],
    mapping: dict[str, str],
    start: datetime,
    end: datetime,
    limits: Thresholds,
) -> Results:
    """The KPIs in plain pandas: read the Parquet files, filter, sort, group by."""
    import numpy as np
    import pandas as pd

    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    columns = [
        "key", "queue", "row_kind", "direction", "agent_identity", "event_at", "answer_at",
        "wait_s", "ring_s", "talk_s", "hold_s", "acw_s", "outcome", "transferred", "caller_hash",
    ]  # fmt: skip
    ix = pd.concat([pd.read_parquet(f, columns=columns) for f in interactions], ignore_index=True)
    ix = ix[ix["outcome"].notna()]
    is_open = ix["outcome"] == "open"
    if is_open.any():  # drop open copies that a settled row with the same key supersedes
        open_keys = ix.loc[is_open, "key"]
        superseded = ix.loc[~is_open & ix["key"].isin(open_keys), "key"]
        ix = ix[~(is_open & ix["key"].isin(superseded))]
    results: Results = {}

    def subject_of(frame: pd.DataFrame) -> pd.Series:
        return frame["agent_identity"].map(mapping).fillna(frame["agent_identity"])

    # Repeat contacts: the caller's next inbound call (any time) within the window.
    calls = ix[(ix["row_kind"] == "call") & (ix["direction"] == "inbound")]
    calls = calls.sort_values(["caller_hash", "event_at", "key"], na_position="last")
    same = calls["caller_hash"].shift(-1).eq(calls["caller_hash"]) & calls["caller_hash"].notna()
    next_at = calls["event_at"].shift(-1).where(same)
    window = pd.Timedelta(days=limits.fcr_window_days)
    repeated = np.where(
        calls["caller_hash"].isna(),
        np.nan,
        (next_at.notna() & (next_at <= calls["event_at"] + window)).astype(float),
    )
    calls = calls.assign(repeated=repeated)
    calls = calls[(calls["event_at"] >= lo) & (calls["event_at"] < hi)]
    calls = calls.assign(subject=subject_of(calls))

    mine = calls[calls["subject"].notna()]
    ans = mine["outcome"] == "answered"
    handle = mine["talk_s"].fillna(0) + mine["hold_s"].fillna(0) + mine["acw_s"].fillna(0)
    per_agent = pd.DataFrame(
        {
            "subject": mine["subject"],
            "handled": ans,
            "ring_sum": mine["ring_s"].where(ans),
            "ring_n": ans & mine["ring_s"].notna(),
            "talk_sum": mine["talk_s"].where(ans),
            "talk_n": ans & mine["talk_s"].notna(),
            "hold_sum": mine["hold_s"].where(ans),
            "hold_n": ans & mine["hold_s"].notna(),
            "acw_sum": mine["acw_s"].where(ans),
            "acw_n": ans & mine["acw_s"].notna(),
            "handle_sum": handle.where(ans),
            "wait_sum": mine["wait_s"].where(ans),
            "wait_n": ans & mine["wait_s"].notna(),
            "transfer_hits": ans & mine["transferred"].fillna(False).astype(bool),
            "transfer_n": ans & mine["transferred"].notna(),
            "fcr_hits": ans & (mine["repeated"] == 0.0),
            "fcr_n": ans & mine["repeated"].notna(),
            "short_hits": ans & (mine["talk_s"] < limits.short_call_s),
        }
    )
    for row in per_agent.groupby("subject").sum().reset_index().to_dict("records"):
        _store_calls(results, row)

    queued = calls[calls["queue"].notna()]
    outcome, wait = queued["outcome"], queued["wait_s"]
    answered = outcome == "answered"
    abandoned = outcome == "abandoned"
    per_queue = pd.DataFrame(
        {
            "subject": queued["queue"],
            "offered": outcome.notna(),
            "answered": queued["answer_at"].notna() | answered,
            "abandoned": abandoned,
            "short_abandoned": abandoned & (wait <= limits.short_abandon_s),
            "timed_out": outcome == "timeout",
            "wait_sum": wait.where(answered),
            "wait_n": answered & wait.notna(),
            "sl_hits": answered & (wait <= limits.service_level_s),
            "answered_n": answered,
            "sl_n": answered | abandoned,
            "long_abandoned": abandoned & ~(wait <= limits.short_abandon_s),
        }
    )
    for row in per_queue.groupby("subject").sum().reset_index().to_dict("records"):
        _store_queue(results, row)

    offers = ix[(ix["direction"] == "inbound") & (ix["event_at"] >= lo) & (ix["event_at"] < hi)]
    offers = offers.assign(subject=subject_of(offers))
    offers = offers[offers["subject"].notna()]
    per_offer = pd.DataFrame(
        {
            "subject": offers["subject"],
            "offered": offers["outcome"].notna(),
            "rna": offers["outcome"] == "ring_no_answer",
        }
    )
    for row in per_offer.groupby("subject").sum().reset_index().to_dict("records"):
        _store_offers(results, row)

    st = pd.concat([pd.read_parquet(f) for f in states], ignore_index=True)
    st = st.assign(subject=subject_of(st))
    st = st[st["subject"].notna() & (st["event_at"] < hi) & (st["end_at"] > lo)]
    st = pd.DataFrame(
        {
            "subject": st["subject"],
            "grp": np.where(st["state"] == "pause", "pause", "online"),
            "cs": st["event_at"].clip(lower=lo),
            "ce": st["end_at"].clip(upper=hi),
            "key": st["key"],
        }
    ).sort_values(["subject", "grp", "cs", "ce", "key"])
    group = st.groupby(["subject", "grp"], sort=False)["ce"]
    prev_end = group.cummax().groupby([st["subject"], st["grp"]], sort=False).shift()
    island = (prev_end.isna() | (st["cs"] > prev_end)).cumsum()
    islands = st.groupby(island, sort=False).agg(
        subject=("subject", "first"), grp=("grp", "first"), cs=("cs", "min"), ce=("ce", "max")
    )
    islands["seconds"] = (islands["ce"] - islands["cs"]).dt.total_seconds()
    online = islands["grp"] == "online"
    per_state = pd.DataFrame(
        {
            "subject": islands["subject"],
            "login_s": islands["seconds"].where(online, 0.0),
            "login_n": online,
            "pause_s": islands["seconds"].where(~online, 0.0),
            "pause_n": ~online,
        }
    )
    for row in per_state.groupby("subject").sum().reset_index().to_dict("records"):
        _store_states(results, row)
    _derive(results)
    return results


# --- what agentladder stored ----------------------------------------------------------------


def stored_results(values: dict[str, Any]) -> Results:
    """`metrics.service.period_values` (MetricValue rows) in the same shape; queue samples are
    not part of that view and are left out of the comparison (None)."""
    results: Results = {}
    for entry in values["agents"]:
        for metric in AGENT_METRICS:
            results[("agent", entry["agent"], metric)] = (
                entry["metrics"].get(metric),
                entry["samples"].get(metric, 0),
            )
    for entry in values["queues"]:
        for metric in QUEUE_METRICS:
            results[("queue", entry["queue"], metric)] = (entry["metrics"].get(metric), -1)
    return results


def compare(expected: Results, actual: Results, rel: float = 1e-9) -> tuple[int, list[str]]:
    """How many (scope, subject, metric) were compared, and every one where the values or
    sample sizes differ; a subject or metric missing on one side counts as (None, 0)."""
    problems = []
    keys = {
        k
        for k in set(expected) | set(actual)
        if k[2] in (AGENT_METRICS if k[0] == "agent" else QUEUE_METRICS)
    }
    for key in sorted(keys, key=lambda k: (k[0], k[1], k[2])):
        want, want_n = expected.get(key, (None, 0))
        got, got_n = actual.get(key, (None, 0))
        same_value = (want is None and got is None) or (
            want is not None
            and got is not None
            and abs(want - got) <= rel * max(abs(want), abs(got), 1.0)
        )
        same_n = want_n == -1 or got_n == -1 or want_n == got_n
        if not (same_value and same_n):
            problems.append(f"{key}: agentladder {want!r} (n={want_n}) vs {got!r} (n={got_n})")
    return len(keys), problems
