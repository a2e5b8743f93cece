"""Organisation routes: pages (`pages`) and REST (`api`, mounted under /api). Thin: parse,
authorize (by the dependency each route declares), call the service, render."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from agentladder.config import Language
from agentladder.i18n import N_, translate
from agentladder.ladder.insights import service as insights_service
from agentladder.org import service as org_service
from agentladder.org.accounts import service as accounts_service
from agentladder.org.levels import service as levels_service
from agentladder.org.roster import service as roster_service
from agentladder.org.schemas import (
    LEVELS,
    AgentDetail,
    AgentFilter,
    AgentPage,
    AgentUpdate,
    AliasCreate,
    AliasRead,
    LevelChange,
    Permission,
    RosterResult,
    SkillGroupCreate,
    SkillGroupRead,
    TeamCreate,
    TeamRead,
    TeamUpdate,
    UserCreate,
    UserRead,
    UserUpdate,
    allows,
)
from agentladder.reports import service as reports_service
from agentladder.web.auth import (
    AgentsEditUser,
    AgentsListUser,
    AgentsViewUser,
    RosterImportUser,
    SelfUser,
    SessionDep,
    SettingsDep,
    TeamsManageUser,
    TeamsViewUser,
    UsersManageUser,
    request_language,
)
from agentladder.web.datatable import Column, DataTable, chosen_sort, paginate
from agentladder.web.importing import ImportOption, PageUpload, add_import_routes, read_upload
from agentladder.web.params import PageNumber, RowId, SortKey
from agentladder.web.responses import API_ERRORS, error_responses
from agentladder.web.templating import render

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["organisation"], responses=API_ERRORS)


def _import_roster(session: Session, upload: PageUpload) -> RosterResult:
    return roster_service.apply_roster(
        session=session,
        **upload.file,
        today=upload.settings.today(),
        imported_by=upload.user,
        create_teams=upload.options.get("create_teams", False),
    )


add_import_routes(
    pages,
    importer=roster_service.ROSTER_IMPORTER,
    permission=Permission.ROSTER_IMPORT,
    base_url="/roster/import",
    template="org/roster.html",
    run=_import_roster,
    options=[ImportOption("create_teams", N_("Create the teams it names that do not exist yet"))],
)


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _filters(
    q: str | None,
    team: str | None,
    level: str | None,
    skill_group: str | None,
    status: str,
    page: int,
) -> AgentFilter:
    return AgentFilter.model_validate(
        {
            "q": q or None,
            "team": team or None,
            "level": level or None,
            "skill_group": skill_group or None,
            "status": status if status in {"active", "left", "all"} else "active",
            "page": page,
        }
    )


# --- pages ---------------------------------------------------------------------------------


def _agent_list_table(
    language: Language,
    rows: list[insights_service.AgentListRow],
    sort: str,
    desc: bool,
    page: int,
    query: dict[str, str],
) -> DataTable:
    """The agent list: who, where, level, the latest composite score and its trend."""
    columns = [
        Column("employee_no", translate(language, "Employee no."), fixed=True),
        Column("name", translate(language, "Name")),
        Column("team", translate(language, "Team")),
        Column("skill_groups", translate(language, "Skill groups"), sortable=False),
        Column("level", translate(language, "Level")),
        Column("composite", translate(language, "Composite score"), numeric=True),
        Column("change", translate(language, "Trend"), numeric=True),
        Column("since", translate(language, "Since")),
        Column("hired", translate(language, "Hired")),
    ]
    chosen = chosen_sort(sort, columns, "employee_no")
    return DataTable(
        table_id="agent-table",
        path="/agents",
        columns=columns,
        sort=chosen,
        desc=desc,
        query=query,
        page=paginate(rows, page),
    )


def _agent_export(
    rows: list[insights_service.AgentListRow], fmt: str, language: Language
) -> Response:
    """The filtered list, every page, in the list's order; cells neutralised by export_table."""
    header = [
        "employee_no",
        "name",
        "team",
        "skill_groups",
        "primary_skill_group",
        "level",
        "level_since",
        "hire_date",
        "status",
        "composite_period",
        "composite",
        "composite_change",
    ]
    cells = [
        [
            r.agent.employee_no,
            r.agent.name,
            r.agent.team_code or "",
            ", ".join(r.agent.skill_groups),
            r.agent.primary_skill_group or "",
            levels_service.get_level(r.agent.current_level).label(language),
            r.agent.level_since,
            r.agent.hire_date,
            r.agent.status,
            r.trend.period if r.trend else "",
            None if r.composite is None else round(r.composite, 2),
            None if r.change is None else round(r.change, 2),
        ]
        for r in rows
    ]
    body = reports_service.export_table(cells, header, fmt, "agents")
    return Response(
        body,
        media_type=reports_service.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="agents.{fmt}"'},
    )


@pages.get("/agents")
def agents_page(
    request: Request,
    session: SessionDep,
    user: AgentsListUser,
    q: str | None = None,
    team: str | None = None,
    level: str | None = None,
    skill_group: str | None = None,
    status: str = "active",
    sort: SortKey = None,
    desc: bool = False,
    page: PageNumber = 1,
    export: str | None = None,
) -> Response:
    """Agent list with search and filters, inside the user's scope: level, latest composite
    score and its trend, sortable, paged, exportable (CSV, XLSX) with the same filters."""
    scope = org_service.agent_scope(user)
    filters = _filters(q, team, level, skill_group, status, 1)
    language = request_language(request)
    agents = org_service.filtered_agents(session=session, scope=scope, filters=filters)
    query = {
        "q": filters.q or "",
        "team": filters.team or "",
        "level": filters.level or "",
        "skill_group": filters.skill_group or "",
        "status": filters.status,
    }
    chosen = sort if sort in insights_service.AGENT_LIST_SORTS else "employee_no"
    rows = insights_service.agent_list(session=session, agents=agents, sort=chosen, desc=desc)
    if export:
        return _agent_export(rows, export, language)
    return render(
        request,
        "org/agents.html",
        {
            "table": _agent_list_table(language, rows, chosen, desc, page, query),
            "composite_period": insights_service.latest_period(session=session),
            "filters": filters,
            "teams": org_service.list_teams(session=session, scope=scope),
            "skill_groups": org_service.list_skill_groups(session=session),
            "pyramid": org_service.level_counts(session=session, scope=scope),
        },
    )


@pages.get("/agents/{agent_id}")
def agent_page(
    request: Request, session: SessionDep, user: AgentsViewUser, agent_id: RowId
) -> Response:
    """An agent's profile with level history; others' profiles are hidden from agents."""
    agent = org_service.get_agent_or_raise(
        session=session, agent_id=agent_id, scope=org_service.agent_scope(user)
    )
    return render(
        request,
        "org/agent.html",
        {
            "agent": org_service.agent_detail(agent),
            "can_edit": allows(user.roles, Permission.AGENTS_EDIT),
            "level_sources": org_service.LEVEL_SOURCE_NAMES,
            "skill_groups": org_service.list_skill_groups(session=session),
        },
    )


@pages.post("/agents/{agent_id}/skill-groups")
def agent_skill_groups_form(
    session: SessionDep,
    user: AgentsEditUser,
    agent_id: RowId,
    skill_groups: Annotated[list[str] | None, Form()] = None,
    primary_skill_group: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Set the agent's skill groups (the boxes ticked) and primary group (none: cleared)."""
    agent = org_service.get_agent_or_raise(
        session=session, agent_id=agent_id, scope=org_service.agent_scope(user)
    )
    org_service.update_agent(
        session=session,
        agent=agent,
        agent_in=AgentUpdate(
            skill_group_codes=skill_groups or [],
            primary_skill_group_code=primary_skill_group.strip() or None,
        ),
    )
    return _redirect(f"/agents/{agent_id}")


@pages.post("/agents/{agent_id}/level")
def agent_level_form(
    session: SessionDep,
    user: AgentsEditUser,
    agent_id: RowId,
    level: Annotated[str, Form()],
    effective_on: Annotated[str, Form()],
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
) -> Response:
    """A manual level change (kept in the history with its reason and author)."""
    change = LevelChange.model_validate(
        {"level": level, "effective_on": effective_on, "reason": reason}
    )
    agent = org_service.get_agent_or_raise(
        session=session, agent_id=agent_id, scope=org_service.agent_scope(user)
    )
    org_service.change_level(
        session=session,
        agent=agent,
        to_level=change.level,
        effective_on=change.effective_on,
        source="manual",
        reason=change.reason,
        recorded_by=user,
    )
    return _redirect(f"/agents/{agent_id}")


@pages.post("/agents/{agent_id}/aliases")
def agent_alias_form(
    session: SessionDep,
    user: AgentsEditUser,
    agent_id: RowId,
    identity: Annotated[str, Form(min_length=1, max_length=200)],
    source: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Map one more source identity to this agent."""
    agent = org_service.get_agent_or_raise(
        session=session, agent_id=agent_id, scope=org_service.agent_scope(user)
    )
    org_service.add_alias(session=session, agent=agent, identity=identity, source=source)
    return _redirect(f"/agents/{agent_id}")


@pages.post("/agents/{agent_id}/aliases/{alias_id}/delete")
def agent_alias_delete_form(
    session: SessionDep, user: AgentsEditUser, agent_id: RowId, alias_id: RowId
) -> Response:
    """Remove an alias."""
    agent = org_service.get_agent_or_raise(
        session=session, agent_id=agent_id, scope=org_service.agent_scope(user)
    )
    org_service.remove_alias(session=session, agent=agent, alias_id=alias_id)
    return _redirect(f"/agents/{agent_id}")


@pages.get("/teams")
def teams_page(request: Request, session: SessionDep, user: TeamsViewUser) -> Response:
    """Teams with their leads and sizes, and the skill groups."""
    return render(
        request,
        "org/teams.html",
        {
            "teams": org_service.list_teams(session=session, scope=org_service.agent_scope(user)),
            "skill_groups": org_service.list_skill_groups(session=session),
            "can_manage": allows(user.roles, Permission.TEAMS_MANAGE),
        },
    )


@pages.post("/teams")
def team_create_form(
    session: SessionDep,
    user: TeamsManageUser,
    code: Annotated[str, Form()],
    name: Annotated[str, Form()],
) -> Response:
    """Create a team."""
    org_service.create_team(session=session, team_in=TeamCreate(code=code, name=name))
    return _redirect("/teams")


@pages.post("/teams/{team_id}")
def team_update_form(
    session: SessionDep,
    user: TeamsManageUser,
    team_id: RowId,
    name: Annotated[str, Form()],
    leads: Annotated[str, Form()] = "",
) -> Response:
    """Rename a team or change its leads (comma-separated usernames)."""
    org_service.update_team(
        session=session,
        team_id=team_id,
        team_in=TeamUpdate(name=name, lead_usernames=list(leads.replace("，", ",").split(","))),
    )
    return _redirect("/teams")


@pages.post("/skill-groups")
def skill_group_create_form(
    session: SessionDep,
    user: TeamsManageUser,
    code: Annotated[str, Form()],
    name: Annotated[str, Form()],
) -> Response:
    """Create a skill group."""
    org_service.create_skill_group(session=session, group_in=SkillGroupCreate(code=code, name=name))
    return _redirect("/teams")


@pages.get("/users")
def users_page(request: Request, session: SessionDep, user: UsersManageUser) -> Response:
    """Every user with roles; the form to add one."""
    return render(
        request, "org/users.html", {"users": accounts_service.list_users(session=session)}
    )


@pages.post("/users")
def user_create_form(
    session: SessionDep,
    settings: SettingsDep,
    user: UsersManageUser,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    roles: Annotated[list[str], Form()],
    display_name: Annotated[str, Form()] = "",
    employee_no: Annotated[str, Form()] = "",
) -> Response:
    """Create a user."""
    created = accounts_service.create_user(
        session=session,
        settings=settings,
        user_in=UserCreate.model_validate(
            {
                "username": username,
                "password": password,
                "roles": roles,
                "display_name": display_name,
                "employee_no": employee_no or None,
            }
        ),
    )
    return _redirect(f"/users/{created.id}")


@pages.get("/users/{user_id}")
def user_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: UsersManageUser,
    user_id: RowId,
) -> Response:
    """One user's roles, link, status and password reset."""
    target = accounts_service.get_user_or_raise(session=session, user_id=user_id)
    account = accounts_service.user_read(target)
    return render(
        request,
        "org/user.html",
        {
            "account": account,
            # The directory keeps a directory account's password while sign-in goes through it.
            "password_settable": account.auth_source == "local" or not settings.ldap_enabled,
        },
    )


@pages.post("/users/{user_id}")
def user_update_form(
    session: SessionDep,
    settings: SettingsDep,
    user: UsersManageUser,
    user_id: RowId,
    roles: Annotated[list[str], Form()],
    display_name: Annotated[str, Form()] = "",
    employee_no: Annotated[str, Form()] = "",
    is_active: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    """Save a user's roles, link, status and (optionally) a new password."""
    accounts_service.update_user(
        session=session,
        settings=settings,
        user_id=user_id,
        acting=user,
        user_in=UserUpdate.model_validate(
            {
                "display_name": display_name,
                "roles": roles,
                "employee_no": employee_no,
                "is_active": bool(is_active),
                "password": password or None,
            }
        ),
    )
    return _redirect(f"/users/{user_id}")


# --- REST ----------------------------------------------------------------------------------


@api.get("/levels")
def api_levels(user: SelfUser) -> list[dict[str, str]]:
    """The nine levels, bottom to top."""
    return [
        {"id": level.id, "tier": level.tier, "zh": level.zh, "en": level.en} for level in LEVELS
    ]


@api.get("/agents", response_model=AgentPage)
def api_agents(
    session: SessionDep,
    user: AgentsListUser,
    q: str | None = None,
    team: str | None = None,
    level: str | None = None,
    skill_group: str | None = None,
    status: str = "active",
    page: PageNumber = 1,
) -> AgentPage:
    """Agents in the caller's scope, filtered and paged."""
    return org_service.list_agents(
        session=session,
        scope=org_service.agent_scope(user),
        filters=_filters(q, team, level, skill_group, status, page),
    )


@api.get("/agents/{agent_id}", response_model=AgentDetail, responses=error_responses(404))
def api_agent(session: SessionDep, user: AgentsViewUser, agent_id: RowId) -> AgentDetail:
    """One agent with level history and aliases (404 outside the caller's scope)."""
    agent = org_service.get_agent_or_raise(
        session=session, agent_id=agent_id, scope=org_service.agent_scope(user)
    )
    return org_service.agent_detail(agent)


@api.post(
    "/agents/{agent_id}/level", response_model=AgentDetail, responses=error_responses(400, 404)
)
def api_agent_level(
    session: SessionDep, user: AgentsEditUser, agent_id: RowId, change: LevelChange
) -> AgentDetail:
    """Change an agent's level by hand, with a reason."""
    agent = org_service.get_agent_or_raise(
        session=session, agent_id=agent_id, scope=org_service.agent_scope(user)
    )
    org_service.change_level(
        session=session,
        agent=agent,
        to_level=change.level,
        effective_on=change.effective_on,
        source="manual",
        reason=change.reason,
        recorded_by=user,
    )
    return org_service.agent_detail(agent)


@api.patch("/agents/{agent_id}", response_model=AgentDetail, responses=error_responses(400, 404))
def api_agent_update(
    session: SessionDep, user: AgentsEditUser, agent_id: RowId, agent_in: AgentUpdate
) -> AgentDetail:
    """Change an agent's skill groups or primary skill group (a field left out is kept)."""
    agent = org_service.get_agent_or_raise(
        session=session, agent_id=agent_id, scope=org_service.agent_scope(user)
    )
    return org_service.agent_detail(
        org_service.update_agent(session=session, agent=agent, agent_in=agent_in)
    )


@api.post(
    "/agents/{agent_id}/aliases",
    response_model=AliasRead,
    status_code=201,
    responses=error_responses(400, 404, 409),
)
def api_agent_alias(
    session: SessionDep, user: AgentsEditUser, agent_id: RowId, alias_in: AliasCreate
) -> AliasRead:
    """Map a source identity to the agent."""
    agent = org_service.get_agent_or_raise(
        session=session, agent_id=agent_id, scope=org_service.agent_scope(user)
    )
    alias = org_service.add_alias(
        session=session, agent=agent, identity=alias_in.identity, source=alias_in.source
    )
    return AliasRead.model_validate(alias)


@api.get("/teams", response_model=list[TeamRead])
def api_teams(session: SessionDep, user: TeamsViewUser) -> list[TeamRead]:
    """Teams (a team lead sees the teams they lead)."""
    return org_service.list_teams(session=session, scope=org_service.agent_scope(user))


@api.post("/teams", response_model=TeamRead, status_code=201, responses=error_responses(400, 409))
def api_team_create(session: SessionDep, user: TeamsManageUser, team_in: TeamCreate) -> TeamRead:
    """Create a team."""
    return org_service.create_team(session=session, team_in=team_in)


@api.patch("/teams/{team_id}", response_model=TeamRead, responses=error_responses(400, 404))
def api_team_update(
    session: SessionDep, user: TeamsManageUser, team_id: RowId, team_in: TeamUpdate
) -> TeamRead:
    """Rename a team or set its leads."""
    return org_service.update_team(session=session, team_id=team_id, team_in=team_in)


@api.get("/skill-groups", response_model=list[SkillGroupRead])
def api_skill_groups(session: SessionDep, user: TeamsViewUser) -> list[SkillGroupRead]:
    """Skill groups."""
    return org_service.list_skill_groups(session=session)


@api.post(
    "/skill-groups",
    response_model=SkillGroupRead,
    status_code=201,
    responses=error_responses(400, 409),
)
def api_skill_group_create(
    session: SessionDep, user: TeamsManageUser, group_in: SkillGroupCreate
) -> SkillGroupRead:
    """Create a skill group."""
    return org_service.create_skill_group(session=session, group_in=group_in)


@api.post("/roster/import", response_model=RosterResult, responses=error_responses(400, 413))
async def api_roster_import(
    session: SessionDep,
    settings: SettingsDep,
    user: RosterImportUser,
    file: Annotated[UploadFile, File()],
    dry_run: bool = False,
    encoding: str | None = None,
    create_teams: bool = False,
) -> RosterResult:
    """Import a roster file (`dry_run`: only preview it); a file with errors changes nothing;
    `create_teams`: create the teams it names that do not exist yet (listed as warnings)."""
    return roster_service.apply_roster(
        session=session,
        data=await read_upload(file, settings),
        file_name=file.filename or "roster.csv",
        encoding=encoding,
        dry_run=dry_run,
        today=settings.today(),
        imported_by=user,
        create_teams=create_teams,
    )


@api.get("/users", response_model=list[UserRead])
def api_users(session: SessionDep, user: UsersManageUser) -> list[UserRead]:
    """Every user."""
    return accounts_service.list_users(session=session)


@api.post("/users", response_model=UserRead, status_code=201, responses=error_responses(400, 409))
def api_user_create(
    session: SessionDep, settings: SettingsDep, user: UsersManageUser, user_in: UserCreate
) -> UserRead:
    """Create a user."""
    return accounts_service.user_read(
        accounts_service.create_user(session=session, settings=settings, user_in=user_in)
    )


@api.patch("/users/{user_id}", response_model=UserRead, responses=error_responses(400, 404, 409))
def api_user_update(
    session: SessionDep,
    settings: SettingsDep,
    user: UsersManageUser,
    user_id: RowId,
    user_in: UserUpdate,
) -> UserRead:
    """Change a user's roles, link, status or password."""
    return accounts_service.user_read(
        accounts_service.update_user(
            session=session, settings=settings, user_id=user_id, user_in=user_in, acting=user
        )
    )
