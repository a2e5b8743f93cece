"""What the metrics engine's two paths share (Ibis for Spark and for compiling, DuckDB alone
for the product's runs): the session variables compiled queries read the period from, the
tables made in memory, and the results as rows (each frame's aggregates per subject, a metric
measured from events and from daily reports added up, the metrics made of other metrics)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa

from agentladder.metrics.catalog import FRAME_SCOPES, Kpi, MetricConfig, frame_members

# The period's bounds reach compiled queries as DuckDB session variables, so that one compiled
# query serves every period.
PERIOD_START = "agentladder_period_start"
PERIOD_END = "agentladder_period_end"


def identity_table(identities: dict[str, str]) -> pa.Table:
    """The source identities and the employee numbers they resolve to, as a table."""
    return pa.table(
        {"identity": list(identities), "employee_no": list(identities.values())},
        schema=pa.schema([("identity", pa.string()), ("employee_no", pa.string())]),
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


def metric_rows(
    results: dict[str, pa.Table], kpis: tuple[Kpi, ...], config: MetricConfig
) -> list[MetricRow]:
    """Rows from each frame's aggregate result (`<metric>__num`, `__den`, `__n` per subject),
    combined, with the derived metrics after them."""
    rows: list[MetricRow] = []
    for frame_name, result in results.items():
        members = frame_members(kpis, frame_name)
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


def calendar_days(first: datetime, last: datetime, timezone: str) -> pa.Table:
    """The local days from the one holding `first` to the one holding `last`, as
    [day_start, day_end) in UTC: the days daily-statistics rows are matched against."""
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
