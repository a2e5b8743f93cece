"""Computing and reading metrics per period. Other domains (the ladder, reports) read metric
values only through this module."""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from agentladder.config import CACHE_DIR, Settings
from agentladder.errors import InvalidInput
from agentladder.metrics.catalog import BY_ID, CATALOG, Kpi, MetricConfig
from agentladder.metrics.models import MetricValue
from agentladder.metrics.schemas import EvidenceProvider, MetricDefinition, PolicyKey
from agentladder.periods import Period, parse_period

if TYPE_CHECKING:
    from agentladder.metrics.rows import MetricRow
    from agentladder.org import service as org_service

__all__ = [
    "AGENT_METRIC_IDS",
    "BY_ID",
    "CATALOG",
    "QUEUE_METRIC_IDS",
    "AgentMetrics",
    "ComputeReport",
    "Kpi",
    "TrendPoint",
    "agent_facts",
    "agent_table",
    "agent_trends",
    "available_periods",
    "catalog_rows",
    "compute_period",
    "compute_rows",
    "computed_at",
    "default_period",
    "evidence_providers",
    "metric_config",
    "metric_definition",
    "metric_definitions",
    "period_values",
    "policy_keys",
    "queue_table",
    "register_provider",
    "registry_generation",
    "resolved_identities",
    "sort_agent_rows",
    "unregister_provider",
]


def catalog_rows() -> list[dict[str, Any]]:
    """Every metric as a plain record: id, names, unit, direction, scope, definition, sources."""
    return [
        {
            "id": k.id,
            "zh": k.zh,
            "en": k.en,
            "unit": k.unit,
            "direction": k.direction,
            "scope": k.scope,
            "definition": k.definition,
            "sources": list(k.sources),
        }
        for k in CATALOG
    ]


def metric_config(settings: Settings) -> MetricConfig:
    """The definitions' thresholds from the settings."""
    return MetricConfig(
        service_level_s=settings.service_level_s,
        short_abandon_s=settings.short_abandon_s,
        short_call_s=settings.short_call_s,
        fcr_window_days=settings.fcr_window_days,
        fcr_method=settings.fcr_method,
        timezone=settings.timezone,
        acw_pause_reasons=tuple(
            reason.strip().lower() for reason in settings.acw_pause_reasons if reason.strip()
        ),
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


# Where the KPI queries compiled to SQL are kept, under the data directory.
KPI_CACHE = Path(CACHE_DIR) / "kpi-queries"


def compute_period(
    *,
    session: Session,
    settings: Settings,
    period: Period,
    engine: str = "duckdb",
    spark: Any = None,
) -> ComputeReport:
    """Compute every metric for one period and replace what was stored for it (idempotent)."""
    # The ingest and org domains load here: reading stored values needs neither.
    from agentladder.ingest import service as ingest_service
    from agentladder.org import service as org_service

    started = time.perf_counter()
    chosen = period
    start, end = chosen.bounds_utc(settings.tz)
    employee_numbers = {
        agent.id: agent.employee_no for agent in org_service.all_agents(session=session)
    }
    identities = _resolved(session, employee_numbers)
    rows = compute_rows(
        files=ingest_service.dataset_files(session=session, settings=settings),
        start=start,
        end=end,
        identities=identities,
        config=metric_config(settings),
        engine=engine,
        spark=spark,
        data_dir=settings.data_dir,
    )
    agent_ids = {number: agent_id for agent_id, number in employee_numbers.items()}
    session.execute(
        delete(MetricValue).where(
            MetricValue.period_kind == chosen.kind, MetricValue.period == chosen.label
        )
    )
    # A Core executemany on the table, not the ORM's bulk path (which processes every row
    # itself, 4x slower): a month of a large centre is tens of thousands of values.
    if rows:
        session.execute(
            insert(cast(Table, MetricValue.__table__)),
            [
                {
                    "period_kind": chosen.kind,
                    "period": chosen.label,
                    "scope": row.scope,
                    "subject": row.subject,
                    "agent_id": agent_ids.get(row.subject) if row.scope == "agent" else None,
                    "metric_id": row.metric_id,
                    "value": row.value,
                    "numerator": row.numerator,
                    "denominator": row.denominator,
                    "sample_size": row.sample_size,
                    "engine": engine,
                }
                for row in rows
            ],
        )
    return ComputeReport(
        period=chosen,
        engine=engine,
        agents=len({r.subject for r in rows if r.scope == "agent"}),
        queues=len({r.subject for r in rows if r.scope == "queue"}),
        values=len(rows),
        seconds=time.perf_counter() - started,
    )


def resolved_identities(*, session: Session) -> dict[str, str]:
    """Every source identity seen in imported files that resolves to an agent, with the agent's
    employee number (the engine's subjects)."""
    from agentladder.org import service as org_service

    numbers = {agent.id: agent.employee_no for agent in org_service.all_agents(session=session)}
    return _resolved(session, numbers)


def _resolved(session: Session, employee_numbers: dict[int, str]) -> dict[str, str]:
    from agentladder.ingest import service as ingest_service
    from agentladder.org import service as org_service

    resolve = org_service.identity_resolver(session=session)
    identities: dict[str, str] = {}
    for identity in ingest_service.seen_identities(session=session):
        agent_id = resolve(identity)
        if agent_id is not None:
            identities[identity] = employee_numbers[agent_id]
    return identities


def compute_rows(
    *,
    files: dict[str, list[Path]],
    start: datetime,
    end: datetime,
    identities: dict[str, str],
    config: MetricConfig,
    engine: str = "duckdb",
    spark: Any = None,
    data_dir: Path | None = None,
) -> list[MetricRow]:
    """Every metric of the catalog for every subject with data in [start, end): on DuckDB by
    compiled queries (kept under `data_dir` when given), on Spark by Ibis."""
    if engine == "duckdb":
        from agentladder.metrics import compiled  # DuckDB loads here (Ibis only to compile)

        cache_dir = data_dir / KPI_CACHE if data_dir is not None else None
        return compiled.kpi_queries(files, identities, config, cache_dir).run(start, end)
    if engine != "spark":
        raise ValueError(f"unknown engine {engine}")
    from agentladder.metrics import engine as metrics_engine  # Ibis loads here

    spark_log = data_dir / "logs" / "spark.log" if data_dir is not None else None
    backend = metrics_engine.spark_backend(spark, spark_log)
    return metrics_engine.plan_kpis(backend, files, identities, config).run(start, end)


def period_values(
    *, session: Session, period: Period, subject: str | None = None
) -> dict[str, Any]:
    """A period's stored values as one object: agents (metrics and samples) and queues; a
    metric without data is null."""
    chosen = period
    # Columns, not entities: a month of a large centre is tens of thousands of values, and
    # `metrics show` answers from them alone.
    query = select(
        MetricValue.scope,
        MetricValue.subject,
        MetricValue.metric_id,
        MetricValue.value,
        MetricValue.sample_size,
    ).where(MetricValue.period_kind == chosen.kind, MetricValue.period == chosen.label)
    if subject is not None:
        query = query.where(MetricValue.subject == subject)
    agents: dict[str, dict[str, dict[str, Any]]] = {}
    queues: dict[str, dict[str, Any]] = {}
    for scope, name, metric_id, value, sample_size in session.execute(
        query.order_by(MetricValue.subject, MetricValue.metric_id)
    ):
        if scope == "agent":
            entry = agents.setdefault(name, {"metrics": {}, "samples": {}})
            entry["metrics"][metric_id] = value
            entry["samples"][metric_id] = sample_size
        else:
            queues.setdefault(name, {})[metric_id] = value
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


@dataclass
class AgentMetrics:
    """One agent's (or unmapped identity's) metrics in a period, for tables."""

    subject: str
    agent_id: int | None
    name: str
    team: str
    metrics: dict[str, float | None]
    samples: dict[str, int]


AGENT_METRIC_IDS = tuple(kpi.id for kpi in CATALOG if kpi.scope in {"agent", "both"})
QUEUE_METRIC_IDS = tuple(kpi.id for kpi in CATALOG if kpi.scope in {"queue", "both"})


@dataclass(frozen=True)
class AgentFact:
    """A stored agent metric as other domains read it."""

    period: str
    agent_id: int
    metric_id: str
    value: float | None
    sample_size: int


def agent_facts(
    *, session: Session, periods: list[str], metrics: Collection[str] | None = None
) -> list[AgentFact]:
    """The stored metrics (all, or the ones named) of mapped agents in these periods
    (unmapped identities excluded)."""
    if not periods:
        return []
    query = select(
        MetricValue.period,
        MetricValue.agent_id,
        MetricValue.metric_id,
        MetricValue.value,
        MetricValue.sample_size,
    ).where(
        MetricValue.scope == "agent",
        MetricValue.agent_id.is_not(None),
        MetricValue.period.in_(periods),
    )
    if metrics is not None:
        query = query.where(MetricValue.metric_id.in_(list(metrics)))
    rows = session.execute(query)
    return [
        AgentFact(period, agent_id, metric_id, value, sample_size)
        for period, agent_id, metric_id, value, sample_size in rows
        if agent_id is not None
    ]


def available_periods(*, session: Session) -> list[str]:
    """Periods that have stored values, newest first."""
    labels = session.scalars(select(MetricValue.period).distinct())
    return sorted(labels, reverse=True)


def agent_table(
    *,
    session: Session,
    period: Period,
    scope: org_service.AgentScope,
    team: str | None = None,
) -> list[AgentMetrics]:
    """Every agent in the viewer's scope with values in the period; identities not mapped to
    an agent yet are listed only to viewers who see every agent."""
    from agentladder.org import service as org_service

    chosen = period
    values = session.scalars(
        select(MetricValue).where(
            MetricValue.period_kind == chosen.kind,
            MetricValue.period == chosen.label,
            MetricValue.scope == "agent",
        )
    )
    agents = {agent.id: agent for agent in org_service.all_agents(session=session)}
    rows: dict[str, AgentMetrics] = {}
    for value in values:
        agent = agents.get(value.agent_id) if value.agent_id is not None else None
        if agent is None and not scope.everyone:
            continue
        if agent is not None and not scope.allows(agent):
            continue
        team_code = agent.team.code if agent is not None and agent.team else ""
        if team and team_code.lower() != team.lower():
            continue
        row = rows.setdefault(
            value.subject,
            AgentMetrics(
                subject=value.subject,
                agent_id=agent.id if agent else None,
                name=agent.name if agent else "",
                team=team_code,
                metrics=dict.fromkeys(AGENT_METRIC_IDS),
                samples=dict.fromkeys(AGENT_METRIC_IDS, 0),
            ),
        )
        row.metrics[value.metric_id] = value.value
        row.samples[value.metric_id] = value.sample_size
    return sorted(rows.values(), key=lambda r: r.subject)


def default_period(*, session: Session, today: date, period: Period | None = None) -> Period | None:
    """The period asked for, else the latest complete month with values (one that ended by
    today: the running month, and a running quarter, are partial), else the latest month,
    else the latest period."""
    if period is not None:
        return period
    stored = [parse_period(label) for label in available_periods(session=session)]
    months = [p for p in stored if p.kind == "month"]
    complete = [p for p in months if p.end_day <= today]
    choices = complete or months or stored
    return choices[0] if choices else None


def sort_agent_rows(rows: list[AgentMetrics], sort: str, desc: bool) -> list[AgentMetrics]:
    """Rows ordered by a metric (agents without a value last) or by number, name or team."""
    if sort in BY_ID:
        present = [r for r in rows if r.metrics.get(sort) is not None]
        missing = [r for r in rows if r.metrics.get(sort) is None]
        present.sort(key=lambda r: r.metrics[sort] or 0.0, reverse=desc)
        return present + missing
    fields: dict[str, Any] = {"name": lambda r: r.name, "team": lambda r: r.team}
    return sorted(rows, key=fields.get(sort, lambda r: r.subject), reverse=desc)


def queue_table(*, session: Session, period: Period) -> list[dict[str, Any]]:
    """Every queue's metrics in the period."""
    return period_values(session=session, period=period)["queues"]  # type: ignore[no-any-return]


@dataclass
class TrendPoint:
    """One period of one metric."""

    period: str
    value: float | None
    sample_size: int


def agent_trends(
    *, session: Session, agent_id: int, period_kind: str = "month", limit: int = 6
) -> tuple[list[str], dict[str, list[TrendPoint]]]:
    """An agent's metrics over the most recent periods of a kind (oldest first)."""
    stored = session.scalars(
        select(MetricValue).where(
            MetricValue.agent_id == agent_id,
            MetricValue.period_kind == period_kind,
            MetricValue.scope == "agent",
        )
    ).all()
    periods = sorted({value.period for value in stored})[-limit:]
    by_metric: dict[str, dict[str, MetricValue]] = {}
    for value in stored:
        by_metric.setdefault(value.metric_id, {})[value.period] = value
    trends = {
        metric_id: [
            TrendPoint(p, found.value, found.sample_size)
            if (found := by_metric.get(metric_id, {}).get(p))
            else TrendPoint(p, None, 0)
            for p in periods
        ]
        for metric_id in AGENT_METRIC_IDS
    }
    return periods, trends


# --- the registry: evidence providers and the metrics they declare ------------------------

# The product's own providers, each in its subsystem's provider.py (module:attribute); a
# centre's own come in through the `agentladder.providers` entry-point group.
BUILTIN_PROVIDERS = (
    "agentladder.metrics.provider:PROVIDER",
    "agentladder.external.provider:PROVIDER",
    # After external: the product's own exams and evaluations win over imported results.
    "agentladder.training.provider:PROVIDER",
    "agentladder.quality.provider:PROVIDER",
    "agentladder.knowledge.provider:PROVIDER",
)
PROVIDER_ENTRY_POINTS = "agentladder.providers"

_providers: list[EvidenceProvider] | None = None
_definitions: dict[str, MetricDefinition] | None = None
# Bumped whenever the providers change: caches of what the registry declares key on it.
_generation = 0


def _load(target: str) -> EvidenceProvider:
    module, attribute = target.split(":")
    provider: EvidenceProvider = getattr(import_module(module), attribute)
    return provider


def evidence_providers() -> tuple[EvidenceProvider, ...]:
    """Every registered provider, in the order the ladder reads them (a later provider's fact
    replaces an earlier one's for the same agent, period and metric)."""
    global _providers
    if _providers is None:
        loaded = [_load(target) for target in BUILTIN_PROVIDERS]
        loaded += [point.load() for point in entry_points(group=PROVIDER_ENTRY_POINTS)]
        _providers = []
        for provider in loaded:
            _add_provider(_providers, provider)
    return tuple(_providers)


def _add_provider(providers: list[EvidenceProvider], provider: EvidenceProvider) -> None:
    global _definitions, _generation
    declared = {d.id: p.name for p in providers for d in p.metrics()}
    for definition in provider.metrics():
        if definition.id in declared:
            raise InvalidInput(
                "metric {metric} is declared by {first} and {second}",
                metric=definition.id,
                first=declared[definition.id],
                second=provider.name,
            )
    providers.append(provider)
    _definitions = None
    _generation += 1


def register_provider(provider: EvidenceProvider) -> None:
    """Add a provider (a plugin's, or a test's) after the built-in ones."""
    providers = list(evidence_providers())
    _add_provider(providers, provider)
    global _providers
    _providers = providers


def unregister_provider(name: str) -> None:
    """Remove a provider by name (what `register_provider` added)."""
    global _providers, _definitions, _generation
    _providers = [p for p in evidence_providers() if p.name != name]
    _definitions = None
    _generation += 1


def registry_generation() -> int:
    """A number that changes whenever a provider is registered or removed (for caches)."""
    evidence_providers()
    return _generation


def metric_definitions() -> dict[str, MetricDefinition]:
    """Every metric an agent can be judged on, by id: the KPIs and every subsystem's."""
    global _definitions
    if _definitions is None:
        _definitions = {d.id: d for p in evidence_providers() for d in p.metrics()}
    return _definitions


def metric_definition(metric_id: str) -> MetricDefinition | None:
    """One metric's declaration, or None for an id no provider declares."""
    return metric_definitions().get(metric_id)


def policy_keys(section: str) -> dict[str, tuple[MetricDefinition, PolicyKey]]:
    """The policy shorthands of a section (entry, evidence, demotion) the metrics answer to."""
    return _policy_keys(registry_generation(), section)


@lru_cache(maxsize=16)
def _policy_keys(generation: int, section: str) -> dict[str, tuple[MetricDefinition, PolicyKey]]:
    # Keyed by the registry's generation: a registration makes a new key.
    return {
        key.key: (definition, key)
        for definition in metric_definitions().values()
        for key in definition.policy_keys
        if key.section == section
    }


def kpi_definitions(kpis: Sequence[Kpi], subsystem: str) -> list[MetricDefinition]:
    """The catalog's agent KPIs as registry declarations."""
    return [
        MetricDefinition(
            kpi.id,
            kpi.zh,
            kpi.en,
            kpi.unit,  # type: ignore[arg-type]
            kpi.direction,  # type: ignore[arg-type]
            subsystem,
            sample=KPI_SAMPLES.get(kpi.frame, ""),
            bounds=UNIT_BOUNDS.get(kpi.unit),
        )
        for kpi in kpis
        if kpi.scope in {"agent", "both"}
    ]


# What a KPI's value may be, by its unit (scores such as NPS or a 1-5 CSAT are not bounded).
UNIT_BOUNDS: dict[str, tuple[float, float | None]] = {
    "count": (0, None),
    "s": (0, None),
    "rate": (0, 1),
    "ratio": (0, None),
}

# The subsystem that declares the KPIs (the service statistics provider's name).
KPI_SUBSYSTEM = "service_statistics"

# What a KPI's sample size counts, by the frame it is measured on.
KPI_SAMPLES = {
    "calls": "calls",
    "daily_calls": "calls",
    "offers": "offered calls",
    "outbound": "outbound calls",
    "surveys": "survey answers",
    "states": "state changes",
    "daily_states": "agent-days",
    "feedback": "calls",
    "tickets": "tickets",
    "leads": "calls",
    "schedules": "scheduled shifts",
}


def computed_at(*, session: Session, period: Period) -> datetime | None:
    """When the oldest of a period's stored metric values was computed (UTC); None when none
    is: the moment other evidence of the period is compared with to tell whether it is stale."""
    from agentladder.metrics.freshness import oldest_computation

    return oldest_computation(session=session, period=period)
