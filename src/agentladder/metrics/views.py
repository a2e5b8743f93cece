"""KPI pages and API: the team table, the queue table, an agent's KPI page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from agentladder.config import Language
from agentladder.errors import InvalidInput
from agentladder.i18n import translate
from agentladder.metrics import figures
from agentladder.metrics import service as metrics_service
from agentladder.metrics.catalog import (
    AGENT_KPI_GROUPS,
    BY_ID,
    CATALOG,
    DEFAULT_AGENT_KPI_COLUMNS,
)
from agentladder.org import service as org_service
from agentladder.reports import service as reports_service
from agentladder.web.auth import (
    AgentsViewUser,
    MetricsViewUser,
    SelfUser,
    SessionDep,
    SettingsDep,
    request_language,
)
from agentladder.web.datatable import Column, ColumnGroup, DataTable, chosen_sort, paginate
from agentladder.web.params import OptionalPeriod, PageNumber, RowId, SortKey
from agentladder.web.responses import API_ERRORS, error_responses
from agentladder.web.templating import render

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["metrics"], responses=API_ERRORS)


@pages.get("/kpis")
def kpis_home(user: MetricsViewUser) -> Response:
    """The KPI section starts at the agents table."""
    return RedirectResponse("/kpis/agents", status_code=303)


def _kpi_table(
    *,
    language: Language,
    rows: list[metrics_service.AgentMetrics],
    sort: str | None,
    desc: bool,
    page: int,
    query: dict[str, str],
) -> DataTable:
    """The KPI table: who the agent is, then the KPIs under their groups."""
    columns = [
        Column("subject", translate(language, "Employee no."), fixed=True),
        Column("name", translate(language, "Name")),
        Column("team", translate(language, "Team")),
    ]
    for group in AGENT_KPI_GROUPS:
        columns += [
            Column(
                kpi.id,
                kpi.name(language),
                group=group.id,
                numeric=True,
                shown=kpi.id in DEFAULT_AGENT_KPI_COLUMNS,
                title=kpi.description(language),
            )
            for kpi in (BY_ID[metric_id] for metric_id in group.metric_ids)
        ]
    chosen = chosen_sort(sort, columns, "subject")
    return DataTable(
        table_id="kpi-table",
        path="/kpis/agents",
        columns=columns,
        groups=[ColumnGroup(group.id, group.name(language)) for group in AGENT_KPI_GROUPS],
        sort=chosen,
        desc=desc,
        query=query,
        page=paginate(metrics_service.sort_agent_rows(rows, chosen, desc), page),
    )


@pages.get("/kpis/agents")
def agents_table_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: MetricsViewUser,
    period: OptionalPeriod = None,
    team: str | None = None,
    sort: SortKey = None,
    desc: bool = False,
    page: PageNumber = 1,
    export: str | None = None,
) -> Response:
    """Every agent's KPIs in a period (default: the latest complete month), grouped, sortable,
    paged and exportable (CSV, XLSX: every row of the filter, in the table's order)."""
    chosen = metrics_service.default_period(session=session, today=settings.today(), period=period)
    scope = org_service.agent_scope(user)
    rows = (
        metrics_service.agent_table(session=session, period=chosen, scope=scope, team=team)
        if chosen
        else []
    )
    language = request_language(request)
    table = _kpi_table(
        language=language,
        rows=rows,
        sort=sort,
        desc=desc,
        page=page,
        query={"period": chosen.label if chosen else "", "team": team or ""},
    )
    if export:
        kpis = [BY_ID[column.key] for column in table.columns if column.key in BY_ID]
        ordered = metrics_service.sort_agent_rows(rows, table.sort, desc)
        header = ["employee_no", "name", "team", *(kpi.name(language) for kpi in kpis)]
        cells = [[r.subject, r.name, r.team, *(r.metrics[k.id] for k in kpis)] for r in ordered]
        body = reports_service.export_table(cells, header, export, f"KPIs {chosen}")
        return Response(
            body,
            media_type=reports_service.MEDIA_TYPES[export],
            headers={"Content-Disposition": f'attachment; filename="kpis-{chosen}.{export}"'},
        )
    return render(
        request,
        "metrics/agents.html",
        {
            "period": chosen.label if chosen else None,
            "periods": metrics_service.available_periods(session=session),
            "teams": org_service.list_teams(session=session, scope=scope),
            "team": team or "",
            "table": table,
            "units": {kpi.id: kpi.unit for kpi in CATALOG},
        },
    )


@pages.get("/kpis/queues")
def queues_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: MetricsViewUser,
    period: OptionalPeriod = None,
) -> Response:
    """Every queue's KPIs in a period."""
    chosen = metrics_service.default_period(session=session, today=settings.today(), period=period)
    return render(
        request,
        "metrics/queues.html",
        {
            "period": chosen.label if chosen else None,
            "periods": metrics_service.available_periods(session=session),
            "rows": metrics_service.queue_table(session=session, period=chosen) if chosen else [],
            "kpis": [BY_ID[metric_id] for metric_id in metrics_service.QUEUE_METRIC_IDS],
            "queue_names": org_service.skill_group_names(session=session),
        },
    )


@pages.get("/agents/{agent_id}/kpis")
def agent_kpis_page(
    request: Request,
    session: SessionDep,
    user: AgentsViewUser,
    agent_id: RowId,
    kind: str = "month",
) -> Response:
    """One agent's KPIs: each with its definition, value, sample size and trend."""
    if kind not in {"day", "week", "month", "quarter"}:
        raise InvalidInput("unknown period kind {kind}", kind=kind)
    agent = org_service.get_agent_or_raise(
        session=session, agent_id=agent_id, scope=org_service.agent_scope(user)
    )
    periods, trends = metrics_service.agent_trends(
        session=session, agent_id=agent.id, period_kind=kind
    )
    kpis = [BY_ID[metric_id] for metric_id in metrics_service.AGENT_METRIC_IDS]
    language = request_language(request)
    return render(
        request,
        "metrics/agent.html",
        {
            "agent": org_service.agent_read(agent),
            "kind": kind,
            "periods": periods,
            "trends": trends,
            "kpis": kpis,
            "trend_charts": {
                kpi.id: figures.kpi_trend(kpi.name(language), kpi.unit, trends[kpi.id], language)
                for kpi in kpis
            },
        },
    )


@api.get("/metrics/catalog")
def api_catalog(user: SelfUser) -> list[dict[str, Any]]:
    """Every metric: id, names, unit, direction, scope, definition, sources."""
    return metrics_service.catalog_rows()


@api.get("/metrics")
def api_metrics(
    session: SessionDep, settings: SettingsDep, user: MetricsViewUser, period: OptionalPeriod = None
) -> dict[str, Any]:
    """A period's metrics (default: the latest complete month) for the agents in the caller's
    scope, and the queues."""
    chosen = metrics_service.default_period(session=session, today=settings.today(), period=period)
    if chosen is None:
        return {"period": None, "agents": [], "queues": []}
    rows = metrics_service.agent_table(
        session=session, period=chosen, scope=org_service.agent_scope(user)
    )
    return {
        "period": chosen.label,
        "agents": [{"agent": r.subject, "metrics": r.metrics, "samples": r.samples} for r in rows],
        "queues": metrics_service.queue_table(session=session, period=chosen),
    }


@api.get("/agents/{agent_id}/metrics", responses=error_responses(404))
def api_agent_metrics(
    session: SessionDep, user: AgentsViewUser, agent_id: RowId, kind: str = "month"
) -> dict[str, Any]:
    """One agent's metrics over recent periods (404 outside the caller's scope)."""
    agent = org_service.get_agent_or_raise(
        session=session, agent_id=agent_id, scope=org_service.agent_scope(user)
    )
    periods, trends = metrics_service.agent_trends(
        session=session, agent_id=agent.id, period_kind=kind
    )
    return {
        "agent": agent.employee_no,
        "periods": periods,
        "metrics": {
            metric_id: [
                {"period": p.period, "value": p.value, "sample": p.sample_size} for p in points
            ]
            for metric_id, points in trends.items()
        },
    }
