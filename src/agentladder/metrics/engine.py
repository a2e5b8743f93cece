"""The metrics engine: the catalog's Ibis expressions over the Parquet store. PySpark runs
them as they are; for DuckDB (the default, in process) they are compiled to SQL once and kept
(`metrics.compiled`), so that the same expressions give both engines' figures."""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa

from agentladder.ingest import service as ingest_service
from agentladder.metrics.catalog import CATALOG, Kpi, MetricConfig, frame_members
from agentladder.metrics.rows import (
    PERIOD_END,
    PERIOD_START,
    MetricRow,
    calendar_days,
    identity_table,
    metric_rows,
)


@dataclass
class Backend:
    """An Ibis connection to a Spark session (Ibis's Spark reader takes one path, so files are
    read through the session)."""

    con: Any
    spark: Any

    def read_parquet(self, files: list[Path], dataset: str) -> ir.Table:
        """A dataset's Parquet files as one table."""
        # Files written before a dataset gained a column (interactions.ended_by) lack it; the
        # engine reads only the columns its KPIs need, so they still read.
        view = f"al_{dataset}_{uuid.uuid4().hex[:8]}"
        self.spark.read.parquet(*[str(f) for f in files]).createOrReplaceTempView(view)
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


def spark_backend(spark: Any = None, spark_log: Path | None = None) -> Backend:
    """Ibis on the given (or a local) Spark session; a local Spark writes its own log to
    `spark_log` (default: the temp directory). DuckDB runs compiled queries instead
    (`metrics.compiled`)."""
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
    return Backend(ibis.pyspark.connect(session), session)


def superseded_keys(interactions: ir.Table) -> ir.Table:
    """The keys (`superseded_key`) of open copies of calls that a later file completed."""
    # A row without an outcome counts as settled, whether or not anything was superseded.
    is_open = (interactions.outcome == "open").fill_null(False)
    open_keys = interactions.filter(is_open).select("key")
    completed = interactions.filter(~is_open).select("key").semi_join(open_keys, "key")
    return completed.distinct().rename(superseded_key="key")


def without_superseded(interactions: ir.Table, superseded: ir.Table | None) -> ir.Table:
    """Interactions without the open copies whose keys `superseded` holds (none: all)."""
    if superseded is None:
        return interactions
    is_open = (interactions.outcome == "open").fill_null(False)
    open_copies = interactions.filter(is_open)
    kept = open_copies.anti_join(superseded, open_copies.key == superseded.superseded_key)
    return interactions.filter(~is_open).union(kept)


def settled_interactions(interactions: ir.Table) -> ir.Table:
    """Interactions without the open copies of calls a later file completed (same key)."""
    # The superseded keys are found once, up front: they are few (none after a single file),
    # and the frames then never match millions of settled keys against the open ones again.
    found = superseded_keys(interactions).to_pyarrow()
    return without_superseded(interactions, ibis.memtable(found) if found.num_rows else None)


@ibis.udf.scalar.builtin(name="getvariable")  # type: ignore[untyped-decorator]
def _session_variable(variable: str) -> dt.Timestamp(timezone="UTC"):  # type: ignore[valid-type]
    """DuckDB's value of a session variable (`SET VARIABLE`)."""


@dataclass(frozen=True)
class Bounds:
    """A period's [start, end) as the frames' expressions read them: literals, or the
    session variables a compiled query reads."""

    start: ir.TimestampValue
    end: ir.TimestampValue

    @classmethod
    def of(cls, start: datetime, end: datetime) -> Bounds:
        """Fixed bounds, written into the queries."""
        return cls(ibis.literal(start, "timestamp('UTC')"), ibis.literal(end, "timestamp('UTC')"))

    @classmethod
    def variables(cls) -> Bounds:
        """Bounds read when a compiled query runs."""
        return cls(_session_variable(PERIOD_START), _session_variable(PERIOD_END))


@dataclass
class Sources:
    """What the frames are built from, whatever the period: the datasets that hold files, the
    identity mapping, and what the probes found in the data."""

    datasets: dict[str, ir.Table]
    mapping: ir.Table
    interactions: ir.Table  # settled: without superseded open copies
    states: ir.Table  # each with its subject and group (online, pause, acw)
    # Whether any after-call-work pause is logged at all: most centres log none, and then no
    # call pays for a join.
    has_acw: bool
    # The daily-report rows' local days (daily-statistics files only).
    days: ir.Table | None


# A table in memory that a source is made of, given a name (`superseded`, `days`).
TableOf = Callable[[pa.Table, str], ir.Table]


def probe_queries(
    datasets: dict[str, ir.Table], mapping: ir.Table, config: MetricConfig
) -> dict[str, ir.Table]:
    """The queries that look once at the stored data, whatever the period, for what decides
    the frames' shape: superseded open copies, after-call-work pauses, the daily reports' span."""
    probes = {}
    if "interactions" in datasets:
        probes["superseded"] = superseded_keys(datasets["interactions"])
    if "agent_states" in datasets and config.acw_pause_reasons:
        states = _grouped_states(_agent_subject(datasets["agent_states"], mapping), config)
        probes["acw"] = states.filter(states.group == "acw").select("subject").limit(1)
    if "daily_stats" in datasets:
        daily = datasets["daily_stats"]
        probes["days"] = daily.aggregate(first=daily.event_at.min(), last=daily.event_at.max())
    return probes


def assemble_sources(
    datasets: dict[str, ir.Table],
    mapping: ir.Table,
    config: MetricConfig,
    answers: dict[str, pa.Table],
    table_of: TableOf,
    absent: Callable[[str], ir.Table] | None = None,
) -> Sources:
    """The sources, from the datasets and the probes' answers; `absent` gives the table of a
    dataset without files (default: an empty one in memory)."""
    empty = absent or _empty
    superseded = answers.get("superseded")
    interactions = without_superseded(
        datasets["interactions"] if "interactions" in datasets else empty("interactions"),
        table_of(superseded, "superseded")
        if superseded is not None and superseded.num_rows
        else None,
    )
    states = _grouped_states(
        _agent_subject(
            datasets["agent_states"] if "agent_states" in datasets else empty("agent_states"),
            mapping,
        ),
        config,
    )
    days = None
    span = answers["days"].to_pylist()[0] if "days" in answers else None
    if span and span["first"] is not None:
        days = table_of(calendar_days(span["first"], span["last"], config.timezone), "days")
    has_acw = "acw" in answers and answers["acw"].num_rows > 0
    return Sources(datasets, mapping, interactions, states, has_acw, days)


def sources(
    con: Backend, files: dict[str, list[Path]], identities: dict[str, str], config: MetricConfig
) -> Sources:
    """Read the stored datasets and probe them once."""
    mapping = ibis.memtable(identity_table(identities))
    datasets = {name: con.read_parquet(paths, name) for name, paths in files.items() if paths}
    answers = {
        name: con.con.to_pyarrow(query)
        for name, query in probe_queries(datasets, mapping, config).items()
    }
    return assemble_sources(datasets, mapping, config, answers, lambda rows, _: ibis.memtable(rows))


def _empty(dataset: str) -> ir.Table:
    return ibis.memtable(ingest_service.dataset_schema(dataset).empty_table())


def _grouped_states(states: ir.Table, config: MetricConfig) -> ir.Table:
    """States with their `group`: online, pause, or acw for the centre's after-call-work
    pause reasons."""
    after_call_work = (
        states.reason.strip().lower().isin(config.acw_pause_reasons).fill_null(False)
        if config.acw_pause_reasons
        else ibis.literal(False)
    )
    return states.mutate(
        group=ibis.ifelse(
            states.state == "pause", ibis.ifelse(after_call_work, "acw", "pause"), "online"
        )
    )


def _agent_subject(table: ir.Table, mapping: ir.Table) -> ir.Table:
    joined = table.left_join(mapping, table.agent_identity == mapping.identity)
    return joined.mutate(subject=joined.employee_no.fill_null(joined.agent_identity)).filter(
        lambda t: t.subject.notnull()
    )


def frames(source: Sources, bounds: Bounds, config: MetricConfig) -> dict[str, ir.Table]:
    """The period's frames, each with a `subject`: the agent (employee number, or the source
    identity while unmapped) or the queue."""
    start, end = bounds.start, bounds.end
    interactions = source.interactions
    # Repeat contacts look past the period's end (a call on the 31st repeated on the 2nd), and
    # no further than the window: calls before the period or beyond its end plus the window
    # cannot change a period call's flag, so the window never runs over the whole history.
    inbound_all = interactions.filter(
        (interactions.row_kind == "call")
        & (interactions.direction == "inbound")
        & (interactions.event_at >= start)
        & (interactions.event_at <= end + ibis.interval(days=config.fcr_window_days))
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
        return _agent_subject(table, source.mapping)

    states = source.states.filter((source.states.event_at < end) & (source.states.end_at > start))
    states = states.mutate(
        clipped_start=ibis.greatest(states.event_at, start),
        clipped_end=ibis.least(states.end_at, end),
    )
    calls = in_period(inbound_all)
    offers = in_period(interactions.filter(interactions.direction == "inbound"))
    datasets = source.datasets
    # Frames are built only over datasets that hold files: a centre without surveys, tickets
    # or rosters does not pay for compiling and running their queries (on Spark, a job each).
    prepared: dict[str, ir.Table] = {}
    if "interactions" in datasets:
        prepared["calls"] = _with_state_acw(agent_subject(calls), states, source.has_acw)
        prepared["offers"] = agent_subject(offers)
        prepared["outbound"] = agent_subject(
            in_period(interactions.filter(interactions.direction == "outbound"))
        )
        prepared["queue_calls"] = calls.filter(calls.queue.notnull()).mutate(subject=calls.queue)
    if "surveys" in datasets:
        prepared["surveys"] = agent_subject(in_period(datasets["surveys"]))
    if "agent_states" in datasets:
        prepared["states"] = _islands(states)
    if "schedules" in datasets:
        prepared["schedules"] = _with_logins(
            agent_subject(in_period(datasets["schedules"])), states
        )
    for name in ("feedback", "tickets", "leads"):
        if name in datasets:
            prepared[name] = agent_subject(in_period(datasets[name]))
    if source.days is not None:
        daily = agent_subject(in_period(datasets["daily_stats"]))
        days = source.days.filter((source.days.day_start < end) & (source.days.day_end > start))
        agent_interactions = agent_subject(in_period(interactions))
        prepared["daily_calls"] = _days_without(daily, agent_interactions, days, "event_at")
        prepared["daily_states"] = _days_without(daily, states, days, "end_at")
    return prepared


def _with_state_acw(calls: ir.Table, states: ir.Table, has_acw: bool) -> ir.Table:
    """Each call with `state_acw_s`: its agent's after-call-work pauses in the period
    (overlaps counted once), null for agents without any."""
    if not has_acw:
        return calls.mutate(state_acw_s=ibis.null("float64"))
    acw = _islands(states.filter(states.group == "acw"))
    totals = acw.group_by("subject").aggregate(state_acw_s=acw.duration_s.sum())
    totals = totals.rename(acw_subject="subject")
    joined = calls.left_join(totals, calls.subject == totals.acw_subject)
    return joined.drop("acw_subject")


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


@dataclass
class KpiPlan:
    """The catalog's queries over one set of stored files on Spark, built with the period's
    bounds written into them (DuckDB compiles them once instead, see `metrics.compiled`)."""

    backend: Backend
    source: Sources
    config: MetricConfig
    kpis: tuple[Kpi, ...]

    def run(self, start: datetime, end: datetime) -> list[MetricRow]:
        """Every metric of the catalog for every subject with data in [start, end)."""
        prepared = frames(self.source, Bounds.of(start, end), self.config)
        queries = frame_queries(prepared, self.kpis, self.config)
        results = {name: self.backend.con.to_pyarrow(query) for name, query in queries.items()}
        return metric_rows(results, self.kpis, self.config)


def frame_queries(
    prepared: dict[str, ir.Table], kpis: tuple[Kpi, ...], config: MetricConfig
) -> dict[str, ir.Table]:
    """Each frame's one aggregate query: its metrics' numerators, denominators and samples
    per subject."""
    queries = {}
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
        queries[frame_name] = table.group_by("subject").aggregate(**aggregates)
    return queries


def compiled_queries(
    connection: Any,
    present: Collection[str],
    config: MetricConfig,
    kpis: tuple[Kpi, ...],
    answers: dict[str, pa.Table] | None,
) -> dict[str, tuple[str, pa.Schema]]:
    """SQL for a DuckDB connection whose views `al_<dataset>` (for the datasets `present`),
    `al_identities` and, as the answers call for them, `al_superseded` and `al_days` hold the
    data: the probes when `answers` is None, else every frame's query for the period in the
    session variables. Each with the Arrow schema Ibis gives its result (DuckDB sums integers
    into 128-bit ones, which Ibis casts back)."""
    con = ibis.duckdb.from_connection(connection)
    datasets = {name: con.table(f"al_{name}") for name in present}
    mapping = con.table("al_identities")
    if answers is None:
        queries = probe_queries(datasets, mapping, config)
    else:
        source = assemble_sources(
            datasets,
            mapping,
            config,
            answers,
            lambda _, name: con.table(f"al_{name}"),
            lambda name: con.table(f"al_{name}"),
        )
        queries = frame_queries(frames(source, Bounds.variables(), config), kpis, config)
    return {name: (str(con.compile(q)), q.schema().to_pyarrow()) for name, q in queries.items()}


def plan_kpis(
    con: Backend,
    files: dict[str, list[Path]],
    identities: dict[str, str],
    config: MetricConfig,
    kpis: tuple[Kpi, ...] = CATALOG,
) -> KpiPlan:
    """The catalog's queries over the stored files, to run for one period or many."""
    return KpiPlan(con, sources(con, files, identities, config), config, kpis)
