"""The metrics engine: the catalog's Ibis expressions over the Parquet store, on DuckDB
(default, in process) or PySpark. The same expressions run on both."""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.datatypes as dt
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

    def table_of(self, rows: pa.Table, name: str) -> ir.Table:
        """Rows held in memory as a table: on DuckDB registered under a name of its own, so
        that compiled SQL can name it; on Spark an Ibis memtable."""
        if self.spark is not None:
            return ibis.memtable(rows)
        view = f"al_{name}_{uuid.uuid4().hex[:8]}"
        self.con.con.register(view, rows)
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
        return backend.table_of(ingest_service.dataset_schema(name).empty_table(), name)
    return backend.read_parquet(files, name)


def settled_interactions(
    interactions: ir.Table, table_of: Callable[[pa.Table], ir.Table] = ibis.memtable
) -> ir.Table:
    """Interactions without the open copies of calls a later file completed (same key);
    `table_of` makes a table of the superseded keys found."""
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
    dropped = table_of(superseded.rename_columns(["superseded_key"]))
    open_copies = interactions.filter(is_open)
    kept = open_copies.anti_join(dropped, open_copies.key == dropped.superseded_key)
    return interactions.filter(~is_open).union(kept)


# The period's bounds reach the compiled DuckDB queries as session variables, so the queries
# are compiled once and run for any period.
PERIOD_START = "agentladder_period_start"
PERIOD_END = "agentladder_period_end"


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
    identity mapping, and the facts about the data that decide a frame's shape."""

    backend: Backend
    files: dict[str, list[Path]]
    datasets: dict[str, ir.Table]
    mapping: ir.Table
    interactions: ir.Table
    states: ir.Table
    # Whether any after-call-work pause is logged at all: most centres log none, and then no
    # call pays for a join.
    has_acw: bool
    # The daily-report rows' local days (daily-statistics files only).
    days: ir.Table | None


def sources(
    con: Backend, files: dict[str, list[Path]], identities: dict[str, str], config: MetricConfig
) -> Sources:
    """Read the stored datasets and look once at what does not change from period to period."""
    mapping = con.table_of(
        pa.table(
            {"identity": list(identities), "employee_no": list(identities.values())},
            schema=pa.schema([("identity", pa.string()), ("employee_no", pa.string())]),
        ),
        "identities",
    )
    datasets = {name: _dataset(con, paths, name) for name, paths in files.items() if paths}
    interactions = settled_interactions(
        datasets["interactions"]
        if "interactions" in datasets
        else _dataset(con, [], "interactions"),
        lambda rows: con.table_of(rows, "superseded"),
    )
    states = _agent_subject(
        datasets["agent_states"]
        if "agent_states" in datasets
        else _dataset(con, [], "agent_states"),
        mapping,
    )
    after_call_work = (
        states.reason.strip().lower().isin(config.acw_pause_reasons).fill_null(False)
        if config.acw_pause_reasons
        else ibis.literal(False)
    )
    states = states.mutate(
        group=ibis.ifelse(
            states.state == "pause", ibis.ifelse(after_call_work, "acw", "pause"), "online"
        )
    )
    has_acw = (
        "agent_states" in datasets
        and bool(config.acw_pause_reasons)
        and states.filter(states.group == "acw").limit(1).count().execute() > 0
    )
    days = None
    if "daily_stats" in datasets:
        daily = datasets["daily_stats"]
        [span] = (
            daily.aggregate(first=daily.event_at.min(), last=daily.event_at.max())
            .to_pyarrow()
            .to_pylist()
        )
        days = con.table_of(_calendar(span["first"], span["last"], config.timezone), "days")
    return Sources(con, files, datasets, mapping, interactions, states, has_acw, days)


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


def _calendar(first: datetime, last: datetime, timezone: str) -> pa.Table:
    """The local days from the one holding `first` to the one holding `last`, as
    [day_start, day_end) in UTC."""
    zone = ZoneInfo(timezone)
    day = first.astimezone(zone).date()
    last_day = last.astimezone(zone).date()
    starts, ends = [], []
    while day <= last_day:
        starts.append(datetime.combine(day, datetime.min.time(), zone))
        ends.append(datetime.combine(day + timedelta(days=1), datetime.min.time(), zone))
        day += timedelta(days=1)
    stamp = pa.timestamp("us", tz="UTC")
    return pa.table({"day_start": pa.array(starts, stamp), "day_end": pa.array(ends, stamp)})


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
    """The catalog's queries over one set of stored files, ready for any period. On DuckDB each
    frame's query is compiled to SQL once, reading the period from session variables: another
    period costs only running them (compiling took 0.3-0.5 s a period)."""

    source: Sources
    config: MetricConfig
    kpis: tuple[Kpi, ...]
    # Each frame's SQL, and the Arrow schema Ibis gives its result (DuckDB sums integers
    # into 128-bit ones, which Ibis casts back).
    compiled: dict[str, tuple[str, pa.Schema]] = field(default_factory=dict)
    # One period at a time on the connection: its session variables are the period's.
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, start: datetime, end: datetime) -> list[MetricRow]:
        """Every metric of the catalog for every subject with data in [start, end)."""
        backend = self.source.backend
        if backend.spark is not None:
            queries = _frame_queries(
                frames(self.source, Bounds.of(start, end), self.config), self.kpis, self.config
            )
            results = {name: backend.con.to_pyarrow(query) for name, query in queries.items()}
        else:
            with self.lock:
                if not self.compiled:
                    queries = _frame_queries(
                        frames(self.source, Bounds.variables(), self.config),
                        self.kpis,
                        self.config,
                    )
                    self.compiled = {
                        name: (str(backend.con.compile(q)), q.schema().to_pyarrow())
                        for name, q in queries.items()
                    }
                connection = backend.con.con
                # Our own datetimes, written as ISO text: no outside text reaches the SQL.
                connection.execute(
                    f"SET VARIABLE {PERIOD_START} = TIMESTAMPTZ '{start.isoformat()}'"
                )
                connection.execute(f"SET VARIABLE {PERIOD_END} = TIMESTAMPTZ '{end.isoformat()}'")
                results = {
                    name: connection.sql(sql).to_arrow_table().cast(schema)
                    for name, (sql, schema) in self.compiled.items()
                }
        rows: list[MetricRow] = []
        for frame_name, result in results.items():
            members = frame_members(self.kpis, frame_name)
            for record in result.to_pylist():
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
        return measured + _derived(measured, self.kpis, self.config)


def _frame_queries(
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


def plan_kpis(
    con: Backend,
    files: dict[str, list[Path]],
    identities: dict[str, str],
    config: MetricConfig,
    kpis: tuple[Kpi, ...] = CATALOG,
) -> KpiPlan:
    """The catalog's queries over the stored files, to run for one period or many."""
    return KpiPlan(sources(con, files, identities, config), config, kpis)


# The last DuckDB plan, with what it was made of: the demo and a period close compute many
# periods over the same files.
_last_plan: tuple[Hashable, KpiPlan] | None = None
_last_plan_lock = threading.Lock()


def duckdb_plan(
    files: dict[str, list[Path]], identities: dict[str, str], config: MetricConfig
) -> KpiPlan:
    """The DuckDB plan for these files, identities and thresholds: the last one again when
    nothing changed (each file's size and modification time included), else a new one."""
    global _last_plan
    key = (
        tuple(
            (
                name,
                tuple((str(path), path.stat().st_mtime_ns, path.stat().st_size) for path in paths),
            )
            for name, paths in sorted(files.items())
        ),
        tuple(sorted(identities.items())),
        config,
    )
    with _last_plan_lock:
        if _last_plan is None or _last_plan[0] != key:
            _last_plan = (key, plan_kpis(connect("duckdb"), files, identities, config))
        return _last_plan[1]


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
    return plan_kpis(con, files, identities, config, kpis).run(start, end)


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
