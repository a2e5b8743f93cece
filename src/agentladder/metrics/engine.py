"""The metrics engine: the catalog's Ibis expressions over the Parquet store, on DuckDB
(default, in process) or PySpark. The same expressions run on both."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from agentladder.ingest.datasets import SCHEMAS
from agentladder.metrics.catalog import CATALOG, FRAME_SCOPES, Kpi, MetricConfig, frame_members


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
        if self.spark is None:
            return self.con.read_parquet(paths)
        view = f"al_{dataset}_{uuid.uuid4().hex[:8]}"
        self.spark.read.parquet(*paths).createOrReplaceTempView(view)
        return self.con.table(view)


def connect(engine: str, spark: Any = None) -> Backend:
    """An Ibis backend: `duckdb` in process, or `spark` on the given (or a local) session."""
    if engine == "duckdb":
        con = ibis.duckdb.connect()
        con.raw_sql("SET TimeZone = 'UTC'")
        return Backend("duckdb", con)
    if engine == "spark":
        from pyspark.sql import SparkSession

        session = spark or (
            SparkSession.builder.master("local[2]")
            .appName("agentladder")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .getOrCreate()
        )
        return Backend("spark", ibis.pyspark.connect(session), session)
    raise ValueError(f"unknown engine {engine}")


def _dataset(backend: Backend, files: list[Path], name: str) -> ir.Table:
    if not files:
        return ibis.memtable(SCHEMAS[name].empty_table())
    return backend.read_parquet(files, name)


def settled_interactions(interactions: ir.Table) -> ir.Table:
    """Interactions without the open copies of calls a later file completed (same key)."""
    is_open = interactions.outcome == "open"
    settled = interactions.filter(~is_open)
    still_open = interactions.filter(is_open).anti_join(settled.select("key"), "key")
    return settled.union(still_open)


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
    # Repeat contacts look past the period's end (a call on the 31st repeated on the 2nd).
    inbound_all = interactions.filter(
        (interactions.row_kind == "call") & (interactions.direction == "inbound")
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
    states = states.mutate(
        group=ibis.ifelse(states.state == "pause", "pause", "online"),
        clipped_start=ibis.greatest(states.event_at, ibis.literal(start)),
        clipped_end=ibis.least(states.end_at, ibis.literal(end)),
    )
    calls = in_period(inbound_all)
    offers = in_period(interactions.filter(interactions.direction == "inbound"))
    surveys = in_period(_dataset(con, files.get("surveys", []), "surveys"))
    return {
        "calls": agent_subject(calls),
        "offers": agent_subject(offers),
        "outbound": agent_subject(
            in_period(interactions.filter(interactions.direction == "outbound"))
        ),
        "surveys": agent_subject(surveys),
        "queue_calls": calls.filter(calls.queue.notnull()).mutate(subject=calls.queue),
        "states": _islands(states),
        **{
            name: agent_subject(in_period(_dataset(con, files.get(name, []), name)))
            for name in ("feedback", "tickets", "leads", "schedules")
        },
    }


def _islands(states: ir.Table) -> ir.Table:
    """Merge overlapping intervals per agent and group (online, pause) so nothing is counted
    twice (PAUSEALL and its per-queue PAUSE lines; membership of several queues)."""
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
    return rows + _derived(rows, kpis)


def _derived(rows: list[MetricRow], kpis: tuple[Kpi, ...]) -> list[MetricRow]:
    values: dict[str, dict[str, float | None]] = {}
    for row in rows:
        if row.scope == "agent":
            values.setdefault(row.subject, {})[row.metric_id] = row.value
    derived = []
    for subject, known in values.items():
        for kpi in kpis:
            if kpi.derive is None:
                continue
            numerator, denominator, sample = kpi.derive(_Defaulting(known))
            derived.append(MetricRow("agent", subject, kpi.id, numerator, denominator, sample))
    return derived


class _Defaulting(dict[str, float | None]):
    """Metric values by id; a metric the subject has no row for reads as null."""

    def __missing__(self, key: str) -> None:
        return None
