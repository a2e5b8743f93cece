"""Quality pages: the QA dashboard (scores by team, agent, item and month, the item failure
heatmap, evaluators' workload and effects) and its exports."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from agentladder.db import utcnow
from agentladder.errors import InvalidInput, NotFound
from agentladder.org import service as org_service
from agentladder.quality.dashboard import service as dashboard_service
from agentladder.reports import service as reports_service
from agentladder.web.auth import QaDashboardUser, SessionDep, SettingsDep, request_language
from agentladder.web.params import OptionalPeriod, OptionalRowIdQuery
from agentladder.web.responses import API_ERRORS
from agentladder.web.templating import render as render_page

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["quality"], responses=API_ERRORS)


def _dashboard(
    session: SessionDep,
    settings: SettingsDep,
    user: QaDashboardUser,
    period: OptionalPeriod,
    team: int | None,
) -> tuple[dashboard_service.QaDashboard, str | None]:
    scope = org_service.agent_scope(user)
    code = name = None
    if team is not None:
        if not scope.everyone and team not in scope.team_ids:
            raise NotFound("team not found")
        chosen = org_service.get_team_or_raise(session=session, team_id=team)
        code, name = chosen.code, chosen.name
    board = dashboard_service.qa_dashboard(
        session=session,
        period=period
        or dashboard_service.default_period(
            session=session, zone=settings.tz, today=settings.today()
        ),
        zone=settings.tz,
        scope=scope,
        team_code=code,
    )
    return board, name


@pages.get("/quality")
def dashboard_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: QaDashboardUser,
    period: OptionalPeriod = None,
    team: OptionalRowIdQuery = None,
) -> Response:
    """The QA dashboard for a month (default: the latest evaluated) and the viewer's teams."""
    board, _ = _dashboard(session, settings, user, period, team)
    return render_page(
        request,
        "quality/dashboard.html",
        {
            "board": board,
            "charts": dashboard_service.DashboardCharts.of(board, request_language(request)),
            "teams": org_service.list_teams(session=session, scope=org_service.agent_scope(user)),
            "team": team,
        },
    )


@pages.get("/quality/export")
def dashboard_export(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: QaDashboardUser,
    format: str = "xlsx",
    period: OptionalPeriod = None,
    team: OptionalRowIdQuery = None,
) -> Response:
    """The QA dashboard as XLSX, PDF or HTML."""
    if format not in reports_service.REPORT_FORMATS:
        raise InvalidInput("unknown report format {fmt}: xlsx, pdf or html", fmt=format)
    board, team_name = _dashboard(session, settings, user, period, team)
    language = request_language(request)
    document = dashboard_service.qa_document(
        board,
        language=language,
        team_label=team_name or dashboard_service.all_teams_label(language),
        generated_at=utcnow(),
    )
    return Response(
        reports_service.render_document(document, format),
        media_type=reports_service.REPORT_MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="qa-{board.period}.{format}"'},
    )
