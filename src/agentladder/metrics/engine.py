"""The metrics engine: the catalog's Ibis expressions over the Parquet store, on DuckDB
(default, in process) or PySpark. The same expressions run on both."""

from __future__ import annotations

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


def connect(engine: str, spark: Any = None) -> Any:
    """An Ibis backend: `duckdb` in process, or `spark` on the given (or a local) session."""
    if engine == "duckdb":
        con = ibis.duckdb.connect()
        con.raw_sql("SET TimeZone = 'UTC'")
        return con
    if engine == "spark":
        from pyspark.sql import SparkSession

        session = spark or (
            SparkSession.builder.master("local[2]")
            .appName("agentladder")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .getOrCreate()
        )
        return ibis.pyspark.connect(session)
    raise ValueError(f"unknown engine {engine}")


def _dataset(con: Any, files: list[Path], name: str) -> ir.Table:
    if not files:
        return ibis.memtable(SCHEMAS[name].empty_table())
    return con.read_parquet([str(f) for f in files])


def frames(
    con: Any,
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
    interactions = _dataset(con, files.get("interactions", []), "interactions")
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
    }


def compute(
    con: Any,
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
            numerator, denominator, sample = kpi.measure(table, config)
            aggregates[f"{kpi.id}__num"] = numerator.cast("float64")
            if denominator is not None:
                aggregates[f"{kpi.id}__den"] = denominator.cast("float64")
            aggregates[f"{kpi.id}__n"] = sample.cast("int64")
        result = table.group_by("subject").aggregate(**aggregates).to_pyarrow().to_pylist()
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
    return rows
