"""Computing and reading metrics per period. Other domains (the ladder, reports) read metric
values only through this module."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.ingest import service as ingest_service
from agentladder.metrics import engine as metrics_engine
from agentladder.metrics.catalog import BY_ID, CATALOG, Kpi, MetricConfig
from agentladder.metrics.models import MetricValue
from agentladder.metrics.periods import Period, parse_period
from agentladder.org import service as org_service

__all__ = ["CATALOG", "ComputeReport", "Kpi", "compute_period", "metric_config", "period_values"]


def metric_config(settings: Settings) -> MetricConfig:
    """The definitions' thresholds from the settings."""
    return MetricConfig(
        service_level_s=settings.service_level_s,
        short_abandon_s=settings.short_abandon_s,
        short_call_s=settings.short_call_s,
        fcr_window_days=settings.fcr_window_days,
    )


@dataclass
class ComputeReport:
    """What a computation stored."""

    period: Period
    engine: str
    agents: int
    queues: int
    values: int
    seconds: float


def compute_period(
    *, session: Session, settings: Settings, period: str, engine: str = "duckdb", spark: Any = None
) -> ComputeReport:
    """Compute every metric for one period and replace what was stored for it (idempotent)."""
    started = time.perf_counter()
    chosen = parse_period(period)
    start, end = chosen.bounds_utc(settings.tz)
    resolve = org_service.identity_resolver(session=session)
    employee_numbers = {
        agent.id: agent.employee_no for agent in org_service.all_agents(session=session)
    }
    identities: dict[str, str] = {}
    for identity in ingest_service.seen_identities(session=session):
        agent_id = resolve(identity)
        if agent_id is not None:
            identities[identity] = employee_numbers[agent_id]
    files = ingest_service.dataset_files(session=session, settings=settings)
    rows = metrics_engine.compute(
        metrics_engine.connect(engine, spark),
        files,
        start,
        end,
        identities,
        metric_config(settings),
    )
    agent_ids = {number: agent_id for agent_id, number in employee_numbers.items()}
    session.execute(
        delete(MetricValue).where(
            MetricValue.period_kind == chosen.kind, MetricValue.period == chosen.label
        )
    )
    session.add_all(
        MetricValue(
            period_kind=chosen.kind,
            period=chosen.label,
            scope=row.scope,
            subject=row.subject,
            agent_id=agent_ids.get(row.subject) if row.scope == "agent" else None,
            metric_id=row.metric_id,
            value=row.value,
            numerator=row.numerator,
            denominator=row.denominator,
            sample_size=row.sample_size,
            engine=engine,
        )
        for row in rows
    )
    session.flush()
    return ComputeReport(
        period=chosen,
        engine=engine,
        agents=len({r.subject for r in rows if r.scope == "agent"}),
        queues=len({r.subject for r in rows if r.scope == "queue"}),
        values=len(rows),
        seconds=time.perf_counter() - started,
    )


def period_values(*, session: Session, period: str, subject: str | None = None) -> dict[str, Any]:
    """A period's stored values as one object: agents (metrics and samples) and queues; a
    metric without data is null."""
    chosen = parse_period(period)
    query = select(MetricValue).where(
        MetricValue.period_kind == chosen.kind, MetricValue.period == chosen.label
    )
    if subject is not None:
        query = query.where(MetricValue.subject == subject)
    agents: dict[str, dict[str, dict[str, Any]]] = {}
    queues: dict[str, dict[str, Any]] = {}
    for value in session.scalars(query.order_by(MetricValue.subject, MetricValue.metric_id)):
        if value.scope == "agent":
            entry = agents.setdefault(value.subject, {"metrics": {}, "samples": {}})
            entry["metrics"][value.metric_id] = value.value
            entry["samples"][value.metric_id] = value.sample_size
        else:
            queues.setdefault(value.subject, {})[value.metric_id] = value.value
    agent_ids = [kpi.id for kpi in CATALOG if kpi.scope in {"agent", "both"}]
    queue_ids = [kpi.id for kpi in CATALOG if kpi.scope in {"queue", "both"}]
    return {
        "period": chosen.label,
        "agents": [
            {
                "agent": name,
                "metrics": {k: entry["metrics"].get(k) for k in agent_ids},
                "samples": {k: entry["samples"].get(k, 0) for k in agent_ids},
            }
            for name, entry in sorted(agents.items())
        ],
        "queues": [
            {"queue": name, "metrics": {k: metrics.get(k) for k in queue_ids}}
            for name, metrics in sorted(queues.items())
        ],
    }


def get_kpi(kpi_id: str) -> Kpi:
    """A metric of the catalog."""
    return BY_ID[kpi_id]
