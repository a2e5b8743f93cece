"""The metrics engine: the catalog's Ibis expressions over the Parquet store, on DuckDB
(default, in process) or PySpark. The same expressions run on both."""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from agentladder.ingest import service as ingest_service
from agentladder.metrics.catalog import (
    CATALOG,
    FRAME_SCOPES,
    Kpi,
    MetricConfig,
    frame_members,
)


@dataclass(frozen=True)
class MetricRow:
    """One computed metric for one subject (agent or queue) in one period."""

    scope: str
    subject: str
    metric_id: str
    numerator: float | None
    denominator: float | None
    sample_size: int

    @property
    def value(self) -> float | None:
        """numerator / denominator (null when the denominator is 0), or the count itself."""
        if self.denominator is None:
            return self.numerator
        if not self.denominator or self.numerator is None:
            return None
        return self.numerator / self.denominator


@dataclass
class Backend:
    """An Ibis connection and, for Spark, the session (Ibis's Spark reader takes one path)."""

    name: str
    con: Any
    spark: Any = None

    def read_parquet(self, files: list[Path], dataset: str) -> ir.Table:
        """A dataset's Parquet files as one table."""
        paths = [str(f) for f in files]
        # Files written before a dataset gained a column (interactions.ended_by) lack it; the
        # engine reads only the columns its KPIs need, so they still read (union_by_name would
        # cost a quarter more on every compute).
        if self.spark is None:
            return self.con.read_parquet(paths)
        view = f"al_{dataset}_{uuid.uuid4().hex[:8]}"
        self.spark.read.parquet(*paths).createOrReplaceTempView(view)
        return self.con.table(view)


T = TypeVar("T")


def started_quietly(start: Callable[[], T], log_file: Path) -> T:
    """Run `start` (which launches a child process, Spark's JVM) with the process's stderr sent
    to `log_file`: the child keeps writing its WARN lines and banners there, not to the
    terminal; this process's stderr is restored before returning."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    log = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.dup2(log, 2)
        return start()
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(log)


def connect(engine: str, spark: Any = None, spark_log: Path | None = None) -> Backend:
    """An Ibis backend: `duckdb` in process, or `spark` on the given (or a local) session; a
    local Spark writes its own log to `spark_log` (default: the temp directory)."""
    if engine == "duckdb":
        con = ibis.duckdb.connect()
        con.raw_sql("SET TimeZone = 'UTC'")
        return Backend("duckdb", con)
    if engine == "spark":
        from pyspark.sql import SparkSession

        builder = (
            SparkSession.builder.master("local[2]")
            .appName("agentladder")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            # The terminal shows the product's progress, not Spark's stage bars.
            .config("spark.ui.showConsoleProgress", "false")
        )
        session = spark or started_quietly(
            builder.getOrCreate,
            spark_log or Path(tempfile.gettempdir()) / "agentladder-spark.log",
        )
        session.sparkContext.setLogLevel("ERROR")
        return Backend("spark", ibis.pyspark.connect(session), session)
    raise ValueError(f"unknown engine {engine}")


def _dataset(backend: Backend, files: list[Path], name: str) -> ir.Table:
    if not files:
        return ibis.memtable(ingest_service.dataset_schema(name).empty_table())
    return backend.read_parquet(files, name)


def settled_interactions(interactions: ir.Table) -> ir.Table:
    """Interactions without the open copies of calls a later file completed (same key)."""
    # A row without an outcome counts as settled, whether or not anything was superseded.
    is_open = (interactions.outcome == "open").fill_null(False)
    # The superseded keys are found once, up front: they are few (none after a single file),
    # and the frames then never match millions of settled keys against the open ones again.
    open_keys = interactions.filter(is_open).select("key")
    superseded = (
        interactions.filter(~is_open).select("key").semi_join(open_keys, "key").distinct()
    ).to_pyarrow()
    if superseded.num_rows == 0:
        return interactions
    dropped = ibis.memtable(superseded.rename_columns(["superseded_key"]))
    open_copies = interactions.filter(is_open)
    kept = open_copies.anti_join(dropped, open_copies.key == dropped.superseded_key)
    return interactions.filter(~is_open).union(kept)


def frames(
    con: Backend,
    files: dict[str, list[Path]],
    start: datetime,
    end: datetime,
    identities: dict[str, str],
    config: MetricConfig,
) -> dict[str, ir.Table]:
    """The period's frames, each with a `subject`: the agent (employee number, or the source
    identity while unmapped) or the queue."""
    mapping = ibis.memtable(
        pa.table(
            {"identity": list(identities), "employee_no": list(identities.values())},
            schema=pa.schema([("identity", pa.string()), ("employee_no", pa.string())]),
        )
    )
    interactions = settled_interactions(
        _dataset(con, files.get("interactions", []), "interactions")
    )
    # Repeat contacts look past the period's end (a call on the 31st repeated on the 2nd), and
    # no further than the window: calls before the period or beyond its end plus the window
    # cannot change a period call's flag, so the window never runs over the whole history.
    inbound_all = interactions.filter(
        (interactions.row_kind == "call")
        & (interactions.direction == "inbound")
        & (interactions.event_at >= start)
        & (interactions.event_at <= end + timedelta(days=config.fcr_window_days))
    )
    by_caller = ibis.window(group_by="caller_hash", order_by=["event_at", "key"])
    next_at = inbound_all.event_at.lead().over(by_caller)
    inbound_all = inbound_all.mutate(
        repeated=ibis.ifelse(
            inbound_all.caller_hash.isnull(),
            ibis.null(bool),
            next_at.notnull()
            & (next_at <= inbound_all.event_at + ibis.interval(days=config.fcr_window_days)),
        )
    )

    def in_period(table: ir.Table) -> ir.Table:
        return table.filter((table.event_at >= start) & (table.event_at < end))

    def agent_subject(table: ir.Table) -> ir.Table:
        joined = table.left_join(mapping, table.agent_identity == mapping.identity)
        return joined.mutate(subject=joined.employee_no.fill_null(joined.agent_identity)).filter(
            lambda t: t.subject.notnull()
        )

    states = agent_subject(_dataset(con, files.get("agent_states", []), "agent_states"))
    states = states.filter((states.event_at < end) & (states.end_at > start))
    after_call_work = (
        states.reason.strip().lower().isin(config.acw_pause_reasons).fill_null(False)
        if config.acw_pause_reasons
        else ibis.literal(False)
    )
    states = states.mutate(
        group=ibis.ifelse(
            states.state == "pause", ibis.ifelse(after_call_work, "acw", "pause"), "online"
        ),
        clipped_start=ibis.greatest(states.event_at, ibis.literal(start)),
        clipped_end=ibis.least(states.end_at, ibis.literal(end)),
    )
    calls = in_period(inbound_all)
    offers = in_period(interactions.filter(interactions.direction == "inbound"))
    # Frames are built only over datasets that hold files: a centre without surveys, tickets
    # or rosters does not pay for compiling and running their queries (on Spark, a job each).
    prepared: dict[str, ir.Table] = {}
    if files.get("interactions"):
        prepared["calls"] = _with_state_acw(
            agent_subject(calls),
            states,
            bool(files.get("agent_states")) and bool(config.acw_pause_reasons),
        )
        prepared["offers"] = agent_subject(offers)
        prepared["outbound"] = agent_subject(
            in_period(interactions.filter(interactions.direction == "outbound"))
        )
        prepared["queue_calls"] = calls.filter(calls.queue.notnull()).mutate(subject=calls.queue)
    if files.get("surveys"):
        prepared["surveys"] = agent_subject(in_period(_dataset(con, files["surveys"], "surveys")))
    if files.get("agent_states"):
        prepared["states"] = _islands(states)
    if files.get("schedules"):
        prepared["schedules"] = _with_logins(
            agent_subject(in_period(_dataset(con, files["schedules"], "schedules"))), states
        )
    for name in ("feedback", "tickets", "leads"):
        if files.get(name):
            prepared[name] = agent_subject(in_period(_dataset(con, files[name], name)))
    if files.get("daily_stats"):
        daily = agent_subject(in_period(_dataset(con, files["daily_stats"], "daily_stats")))
        days = _calendar(start, end, config.timezone)
        agent_interactions = agent_subject(in_period(interactions))
        prepared["daily_calls"] = _days_without(daily, agent_interactions, days, "event_at")
        prepared["daily_states"] = _days_without(daily, states, days, "end_at")
    return prepared


def _with_state_acw(calls: ir.Table, states: ir.Table, may_have_acw: bool) -> ir.Table:
    """Each call with `state_acw_s`: its agent's after-call-work pauses in the period
    (overlaps counted once), null for agents without any."""
    acw_states = states.filter(states.group == "acw")
    # Most centres log no such pauses; one cheap look spares every call a join (a tenth of a
    # small centre's KPI run).
    if not may_have_acw or acw_states.limit(1).count().execute() == 0:
        return calls.mutate(state_acw_s=ibis.null("float64"))
    acw = _islands(acw_states)
    totals = acw.group_by("subject").aggregate(state_acw_s=acw.duration_s.sum())
    totals = totals.rename(acw_subject="subject")
    joined = calls.left_join(totals, calls.subject == totals.acw_subject)
    return joined.drop("acw_subject")


def _calendar(start: datetime, end: datetime, timezone: str) -> ir.Table:
    """The period's local days as [day_start, day_end) in UTC."""
    zone = ZoneInfo(timezone)
    day = start.astimezone(zone).date()
    starts, ends = [], []
    while True:
        begins = datetime.combine(day, datetime.min.time(), zone)
        if begins >= end:
            break
        starts.append(begins)
        ends.append(datetime.combine(day + timedelta(days=1), datetime.min.time(), zone))
        day += timedelta(days=1)
    stamp = pa.timestamp("us", tz="UTC")
    return ibis.memtable(
        pa.table(
            {"day_start": pa.array(starts, stamp), "day_end": pa.array(ends, stamp)},
        )
    )


def _days_without(daily: ir.Table, detailed: ir.Table, days: ir.Table, until: str) -> ir.Table:
    """Daily-report rows for agent-days that have no detailed (event-level) data, so that a
    day is never counted from both. `until` names the detailed rows' end (their start for
    point events)."""
    covered = (
        detailed.join(
            days, (detailed.event_at < days.day_end) & (detailed[until] >= days.day_start)
        )
        .select(covered_subject=detailed.subject, covered_day=days.day_start)
        .distinct()
    )
    return daily.anti_join(
        covered,
        (daily.subject == covered.covered_subject) & (daily.event_at == covered.covered_day),
    )


def _with_logins(schedules: ir.Table, states: ir.Table) -> ir.Table:
    """Each rostered shift with `logged_in`: whether the agent was logged in (or a queue
    member) during it; null for agents without any login data in the period."""
    shift_end = ibis.coalesce(schedules.end_at, schedules.event_at + ibis.interval(days=1))
    online = states.filter(states.state != "pause").select(
        online_subject=states.subject, online_start=states.event_at, online_end=states.end_at
    )
    worked = (
        schedules.join(
            online,
            (schedules.subject == online.online_subject)
            & (online.online_start < shift_end)
            & (online.online_end > schedules.event_at),
        )
        .select(worked_key=schedules.key)
        .distinct()
    )
    tracked = states.select(tracked_subject=states.subject).distinct()
    marked = schedules.left_join(worked, schedules.key == worked.worked_key).left_join(
        tracked, schedules.subject == tracked.tracked_subject
    )
    return marked.mutate(
        logged_in=ibis.ifelse(
            marked.tracked_subject.isnull(), ibis.null(bool), marked.worked_key.notnull()
        )
    )


def _islands(states: ir.Table) -> ir.Table:
    """Merge overlapping intervals per agent and group (online, pause, acw) so nothing is
    counted twice (PAUSEALL and its per-queue PAUSE lines; membership of several queues)."""
    keys = ["subject", "group"]
    # The key breaks ties: identical intervals (AGENTLOGIN and ADDMEMBER in one second) must
    # sort the same way in both windows, or two days' sessions merge into one island.
    order = ["clipped_start", "clipped_end", "key"]
    before = ibis.window(group_by=keys, order_by=order, rows=(None, -1))
    upto = ibis.window(group_by=keys, order_by=order, rows=(None, 0))
    marked = states.mutate(previous_end=states.clipped_end.max().over(before))
    marked = marked.mutate(
        starts_island=ibis.ifelse(
            marked.previous_end.isnull() | (marked.clipped_start > marked.previous_end), 1, 0
        )
    )
    marked = marked.mutate(island=marked.starts_island.sum().over(upto))
    islands = marked.group_by([*keys, "island"]).aggregate(
        island_start=marked.clipped_start.min(), island_end=marked.clipped_end.max()
    )
    return islands.mutate(
        duration_s=(islands.island_end.epoch_seconds() - islands.island_start.epoch_seconds()).cast(
            "float64"
        )
    )


def compute(
    con: Backend,
    files: dict[str, list[Path]],
    start: datetime,
    end: datetime,
    identities: dict[str, str],
    config: MetricConfig,
    kpis: tuple[Kpi, ...] = CATALOG,
) -> list[MetricRow]:
    """Every metric of the catalog for every subject with data in [start, end)."""
    prepared = frames(con, files, start, end, identities, config)
    rows: list[MetricRow] = []
    for frame_name, table in prepared.items():
        members = frame_members(kpis, frame_name)
        if not members:
            continue
        aggregates: dict[str, ir.Scalar] = {}
        for kpi in members:
            if frame_name in ("daily_calls", "daily_states"):
                assert kpi.daily is not None
                numerator, denominator, sample = kpi.daily(table)
            else:
                assert kpi.measure is not None, f"{kpi.id} is measured on frame {kpi.frame}"
                numerator, denominator, sample = kpi.measure(table, config)
            aggregates[f"{kpi.id}__num"] = numerator.cast("float64")
            if denominator is not None:
                aggregates[f"{kpi.id}__den"] = denominator.cast("float64")
            aggregates[f"{kpi.id}__n"] = sample.cast("int64")
        result = con.con.to_pyarrow(table.group_by("subject").aggregate(**aggregates)).to_pylist()
        for record in result:
            for kpi in members:
                rows.append(
                    MetricRow(
                        scope=FRAME_SCOPES[frame_name],
                        subject=record["subject"],
                        metric_id=kpi.id,
                        numerator=record[f"{kpi.id}__num"],
                        denominator=record.get(f"{kpi.id}__den"),
                        sample_size=record[f"{kpi.id}__n"] or 0,
                    )
                )
    measured = _combined(rows)
    return measured + _derived(measured, kpis, config)


def _add(a: float | None, b: float | None) -> float | None:
    return None if a is None and b is None else (a or 0) + (b or 0)


def _combined(rows: list[MetricRow]) -> list[MetricRow]:
    """One row per subject and metric: a metric measured from events on some days and from
    daily reports on others adds its numerators, denominators and samples."""
    merged: dict[tuple[str, str, str], MetricRow] = {}
    for row in rows:
        key = (row.scope, row.subject, row.metric_id)
        known = merged.get(key)
        merged[key] = (
            row
            if known is None
            else MetricRow(
                row.scope,
                row.subject,
                row.metric_id,
                _add(known.numerator, row.numerator),
                _add(known.denominator, row.denominator),
                known.sample_size + row.sample_size,
            )
        )
    return list(merged.values())


@dataclass
class _SubjectFacts:
    """One agent's measured metrics, as the catalog's derived metrics read them."""

    rows: dict[str, MetricRow]
    sampled: set[str]

    def value(self, metric_id: str) -> float | None:
        row = self.rows.get(metric_id)
        return None if row is None else row.value

    def numerator(self, metric_id: str) -> float | None:
        row = self.rows.get(metric_id)
        return None if row is None else row.numerator

    def sample(self, metric_id: str) -> int:
        row = self.rows.get(metric_id)
        return 0 if row is None else row.sample_size

    def measured(self, metric_id: str) -> tuple[float | None, float | None, int]:
        row = self.rows.get(metric_id)
        return (None, None, 0) if row is None else (row.numerator, row.denominator, row.sample_size)

    def anyone_has(self, metric_id: str) -> bool:
        return metric_id in self.sampled


def _derived(rows: list[MetricRow], kpis: tuple[Kpi, ...], config: MetricConfig) -> list[MetricRow]:
    by_subject: dict[str, dict[str, MetricRow]] = {}
    sampled = set()
    for row in rows:
        if row.scope == "agent":
            by_subject.setdefault(row.subject, {})[row.metric_id] = row
            if row.sample_size:
                sampled.add(row.metric_id)
    derived = []
    for subject, known in by_subject.items():
        facts = _SubjectFacts(known, sampled)
        for kpi in kpis:
            if kpi.derive is None:
                continue
            numerator, denominator, sample = kpi.derive(facts, config)
            derived.append(MetricRow("agent", subject, kpi.id, numerator, denominator, sample))
    return derived
