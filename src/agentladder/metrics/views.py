"""KPI pages and API: the team table, the queue table, an agent's KPI page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from agentladder.errors import InvalidInput
from agentladder.metrics import service as metrics_service
from agentladder.metrics.catalog import BY_ID
from agentladder.org import service as org_service
from agentladder.reports import service as reports_service
from agentladder.web.auth import (
    AgentsViewUser,
    MetricsViewUser,
    SelfUser,
    SessionDep,
    request_language,
)
from agentladder.web.params import OptionalPeriod, RowId
from agentladder.web.responses import API_ERRORS, error_responses
from agentladder.web.templating import render

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["metrics"], responses=API_ERRORS)


@pages.get("/kpis")
def kpis_home(user: MetricsViewUser) -> Response:
    """The KPI section starts at the agents table."""
    return RedirectResponse("/kpis/agents", status_code=303)


@pages.get("/kpis/agents")
def agents_table_page(
    request: Request,
    session: SessionDep,
    user: MetricsViewUser,
    period: OptionalPeriod = None,
    team: str | None = None,
    sort: str = "subject",
    desc: bool = False,
    export: str | None = None,
) -> Response:
    """Every agent's KPIs in a period, sortable and exportable (CSV, XLSX)."""
    chosen = metrics_service.default_period(session=session, period=period)
    scope = org_service.agent_scope(user)
    rows = (
        metrics_service.sort_agent_rows(
            metrics_service.agent_table(session=session, period=chosen, scope=scope, team=team),
            sort,
            desc,
        )
        if chosen
        else []
    )
    language = request_language(request)
    kpis = [BY_ID[metric_id] for metric_id in metrics_service.AGENT_METRIC_IDS]
    if export:
        header = ["employee_no", "name", "team", *(kpi.name(language) for kpi in kpis)]
        table = [[r.subject, r.name, r.team, *(r.metrics[k.id] for k in kpis)] for r in rows]
        body = reports_service.export_table(table, header, export, f"KPIs {chosen}")
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
            "rows": rows,
            "kpis": kpis,
            "sort": sort,
            "desc": desc,
        },
    )


@pages.get("/kpis/queues")
def queues_page(
    request: Request, session: SessionDep, user: MetricsViewUser, period: OptionalPeriod = None
) -> Response:
    """Every queue's KPIs in a period."""
    chosen = metrics_service.default_period(session=session, period=period)
    return render(
        request,
        "metrics/queues.html",
        {
            "period": chosen.label if chosen else None,
            "periods": metrics_service.available_periods(session=session),
            "rows": metrics_service.queue_table(session=session, period=chosen) if chosen else [],
            "kpis": [BY_ID[metric_id] for metric_id in metrics_service.QUEUE_METRIC_IDS],
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
    return render(
        request,
        "metrics/agent.html",
        {
            "agent": org_service.agent_read(agent),
            "kind": kind,
            "periods": periods,
            "trends": trends,
            "kpis": [BY_ID[metric_id] for metric_id in metrics_service.AGENT_METRIC_IDS],
        },
    )


@api.get("/metrics/catalog")
def api_catalog(user: SelfUser) -> list[dict[str, Any]]:
    """Every metric: id, names, unit, direction, scope, definition, sources."""
    return metrics_service.catalog_rows()


@api.get("/metrics")
def api_metrics(
    session: SessionDep, user: MetricsViewUser, period: OptionalPeriod = None
) -> dict[str, Any]:
    """A period's metrics (default: the latest month) for the agents in the caller's scope, and
    the queues."""
    chosen = metrics_service.default_period(session=session, period=period)
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
