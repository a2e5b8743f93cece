"""`agentladder org ...` and `agentladder users ...`: the organisation from the command line."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError
from sqlalchemy.orm import Session

from agentladder.cli_imports import ImportFlag, add_import_commands
from agentladder.cli_output import FormatOption, OutputFormat, console, emit, fail
from agentladder.config import get_settings
from agentladder.db import session_scope
from agentladder.errors import DomainError, NotFound
from agentladder.org import service as org_service
from agentladder.org.accounts import service as accounts_service
from agentladder.org.models import User
from agentladder.org.roster import service as roster_service
from agentladder.org.schemas import (
    AgentCreate,
    AgentFilter,
    AgentRead,
    AgentUpdate,
    ApiTokenCreate,
    RosterResult,
    SkillGroupCreate,
    TeamCreate,
    TeamUpdate,
    UserCreate,
    UserUpdate,
)

org_app = typer.Typer(
    help="Teams, skill groups, agents, aliases and roster import.", no_args_is_help=True
)
users_app = typer.Typer(help="Users and roles.", no_args_is_help=True)
teams_app = typer.Typer(help="Teams (班组).", no_args_is_help=True)
groups_app = typer.Typer(help="Skill groups (技能组).", no_args_is_help=True)
alias_app = typer.Typer(help="ACD identity aliases.", no_args_is_help=True)
roster_app = typer.Typer(
    help="Roster import from CSV or XLSX, and its template.", no_args_is_help=True
)
agents_app = typer.Typer(help="Agents.", no_args_is_help=True)
org_app.add_typer(teams_app, name="teams")
org_app.add_typer(groups_app, name="skill-groups")
org_app.add_typer(alias_app, name="alias")
org_app.add_typer(roster_app, name="roster")
org_app.add_typer(agents_app, name="agents")
EVERYONE = org_service.AgentScope(everyone=True, team_ids=frozenset(), agent_id=None)


# --- teams and skill groups ----------------------------------------------------------------


@teams_app.command("list")
def teams_list(fmt: FormatOption = OutputFormat.table) -> None:
    """List teams with their leads and active agents."""
    with session_scope() as session:
        rows = [team.model_dump() for team in org_service.list_teams(session=session)]
    emit(rows, ["code", "name", "lead_usernames", "active_agents"], fmt, "Teams")


@teams_app.command("create")
def teams_create(code: str, name: str) -> None:
    """Create a team."""
    try:
        with session_scope() as session:
            team = org_service.create_team(
                session=session, team_in=TeamCreate(code=code, name=name)
            )
    except DomainError as exc:
        raise fail(exc) from exc
    console.print(f"team {team.code} created")


@teams_app.command("set-leads")
def teams_set_leads(code: str, usernames: Annotated[list[str], typer.Argument()]) -> None:
    """Set who leads a team (users holding the team_lead role)."""
    try:
        with session_scope() as session:
            team = org_service.get_team_by_code(session=session, code=code)
            if team is None:
                raise NotFound("team not found")
            org_service.update_team(
                session=session, team_id=team.id, team_in=TeamUpdate(lead_usernames=usernames)
            )
    except DomainError as exc:
        raise fail(exc) from exc
    console.print(f"team {code} is led by {', '.join(usernames)}")


@groups_app.command("list")
def groups_list(fmt: FormatOption = OutputFormat.table) -> None:
    """List skill groups."""
    with session_scope() as session:
        rows = [group.model_dump() for group in org_service.list_skill_groups(session=session)]
    emit(rows, ["code", "name"], fmt, "Skill groups")


@groups_app.command("create")
def groups_create(code: str, name: str) -> None:
    """Create a skill group."""
    try:
        with session_scope() as session:
            org_service.create_skill_group(
                session=session, group_in=SkillGroupCreate(code=code, name=name)
            )
    except DomainError as exc:
        raise fail(exc) from exc
    console.print(f"skill group {code} created")


# --- agents and aliases --------------------------------------------------------------------


@agents_app.command("list")
def agents_list(
    q: Annotated[str | None, typer.Option(help="Name or employee number contains.")] = None,
    team: Annotated[str | None, typer.Option(help="Team code.")] = None,
    level: Annotated[str | None, typer.Option(help="Level id.")] = None,
    skill_group: Annotated[str | None, typer.Option(help="Skill group code.")] = None,
    status: Annotated[str, typer.Option(help="active, left or all.")] = "active",
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List agents."""
    filters = AgentFilter.model_validate(
        {
            "q": q,
            "team": team,
            "level": level,
            "skill_group": skill_group,
            "status": status,
            "per_page": 500,
        }
    )
    rows: list[dict[str, object]] = []
    with session_scope() as session:
        while True:
            page = org_service.list_agents(session=session, scope=EVERYONE, filters=filters)
            rows += [agent.model_dump() for agent in page.agents]
            if len(rows) >= page.total or not page.agents:
                break
            filters = filters.model_copy(update={"page": filters.page + 1})
    emit(
        rows,
        [
            "employee_no",
            "name",
            "team_code",
            "skill_groups",
            "primary_skill_group",
            "current_level",
            "level_since",
            "hire_date",
            "status",
        ],
        fmt,
        f"Agents ({len(rows)})",
    )


SkillGroupsOption = Annotated[
    str | None,
    typer.Option(help="Skill group codes separated by commas; replaces the agent's groups."),
]
PrimarySkillGroupOption = Annotated[
    str | None,
    typer.Option(
        help="The skill group the ladder compares the agent with (docs/org.md); joins the "
        "groups when missing. An empty value clears it."
    ),
]


def _codes(text: str) -> list[str]:
    return [code.strip() for code in text.split(",") if code.strip()]


@agents_app.command("create")
def agents_create(
    employee_no: str,
    name: str,
    hire_date: Annotated[str, typer.Option(help="The hire date, 2024-03-01.")],
    team: Annotated[str | None, typer.Option(help="Team code.")] = None,
    skill_groups: SkillGroupsOption = None,
    primary_skill_group: PrimarySkillGroupOption = None,
    level: Annotated[str | None, typer.Option(help="Level id (default: the first).")] = None,
) -> None:
    """Create one agent (a whole roster: `org roster import`)."""
    try:
        agent_in = AgentCreate.model_validate(
            {
                "employee_no": employee_no,
                "name": name,
                "hire_date": hire_date,
                "team_code": team,
                "skill_group_codes": _codes(skill_groups or ""),
                "primary_skill_group_code": primary_skill_group or None,
                "level": level,
            }
        )
    except ValidationError as exc:
        raise typer.BadParameter(exc.errors()[0]["msg"]) from exc
    try:
        with session_scope() as session:
            agent = org_service.agent_read(
                org_service.create_agent(session=session, agent_in=agent_in)
            )
    except DomainError as exc:
        raise fail(exc) from exc
    console.print(f"agent {agent.employee_no} created; {_groups_line(agent)}")


def _groups_line(agent: AgentRead) -> str:
    """An agent's skill groups and primary group as the create and update commands print them."""
    groups = ", ".join(agent.skill_groups) or "-"
    return f"skill groups: {groups}; primary: {agent.primary_skill_group or '-'}"


@agents_app.command("update")
def agents_update(
    employee_no: str,
    skill_groups: SkillGroupsOption = None,
    primary_skill_group: PrimarySkillGroupOption = None,
) -> None:
    """Change an agent's skill groups and primary skill group; an option left out keeps its
    value."""
    changes: dict[str, object] = {}
    if skill_groups is not None:
        changes["skill_group_codes"] = _codes(skill_groups)
    if primary_skill_group is not None:
        changes["primary_skill_group_code"] = primary_skill_group.strip() or None
    try:
        with session_scope() as session:
            found = org_service.get_agent_by_employee_no(session=session, employee_no=employee_no)
            if found is None:
                raise NotFound("agent not found")
            agent = org_service.agent_read(
                org_service.update_agent(
                    session=session, agent=found, agent_in=AgentUpdate.model_validate(changes)
                )
            )
    except DomainError as exc:
        raise fail(exc) from exc
    console.print(f"agent {agent.employee_no}: {_groups_line(agent)}")


@alias_app.command("add")
def alias_add(
    employee_no: str,
    identity: str,
    source: Annotated[
        str, typer.Option(help="Where the identity comes from (asterisk, crm...).")
    ] = "",
) -> None:
    """Map a source identity (Agent/1001, SIP/1001, a name...) to an agent."""
    try:
        with session_scope() as session:
            agent = org_service.get_agent_by_employee_no(session=session, employee_no=employee_no)
            if agent is None:
                raise NotFound("agent not found")
            org_service.add_alias(session=session, agent=agent, identity=identity, source=source)
    except DomainError as exc:
        raise fail(exc) from exc
    console.print(f"{identity} -> {employee_no}")


@alias_app.command("resolve")
def alias_resolve(identities: list[str]) -> None:
    """Show which agent each source identity resolves to."""
    with session_scope() as session:
        resolve = org_service.identity_resolver(session=session)
        found = {identity: resolve(identity) for identity in identities}
        agents = {
            a.id: a
            for a in org_service.agents_by_ids(
                session=session, agent_ids=[i for i in found.values() if i is not None]
            )
        }
    for identity, agent_id in found.items():
        agent = agents.get(agent_id) if agent_id is not None else None
        console.print(
            f"{identity} -> {f'{agent.employee_no} {agent.name}' if agent else 'unmapped'}"
        )


# --- roster --------------------------------------------------------------------------------


def _run_roster(
    *,
    session: Session,
    data: bytes,
    file_name: str,
    encoding: str | None,
    dry_run: bool,
    create_teams: bool = False,
) -> RosterResult:
    return roster_service.apply_roster(
        session=session,
        data=data,
        file_name=file_name,
        encoding=encoding,
        dry_run=dry_run,
        today=get_settings().today(),
        create_teams=create_teams,
    )


add_import_commands(
    roster_app,
    roster_service.ROSTER_IMPORTER,
    summary="Import agents from a CSV or XLSX roster; importing the same people again updates "
    "them.",
    run=_run_roster,
    row_fields=[("employee_no", "employee no"), ("name", "name")],
    flag=ImportFlag(
        option="--create-teams",
        keyword="create_teams",
        help="Create the teams the roster names that do not exist yet (code and name as "
        "written); --dry-run lists them.",
        suggested_by=roster_service.UNKNOWN_TEAM,
    ),
)


# --- users ---------------------------------------------------------------------------------


def _ask_password(password: str | None) -> str:
    if password:
        return password
    return str(typer.prompt("password (10+ characters)", hide_input=True, confirmation_prompt=True))


@users_app.command("create-admin")
def users_create_admin(
    username: Annotated[str, typer.Argument()] = "admin",
    password: Annotated[str | None, typer.Option(help="Omit to be asked (not echoed).")] = None,
    generate: Annotated[
        bool, typer.Option("--generate", help="Generate a password and print it once.")
    ] = False,
) -> None:
    """Create an administrator account."""
    secret = accounts_service.generate_password() if generate else _ask_password(password)
    try:
        with session_scope() as session:
            accounts_service.create_user(
                session=session,
                settings=get_settings(),
                user_in=UserCreate(username=username, password=secret, roles=["admin"]),
            )
    except DomainError as exc:
        raise fail(exc) from exc
    console.print(f"admin {username} created")
    if generate:
        console.print(f"password: [bold]{secret}[/bold]  (shown once; change it after logging in)")


@users_app.command("create")
def users_create(
    username: str,
    roles: Annotated[
        list[str],
        typer.Option(
            "--role", help="admin, manager, team_lead, qa, trainer or agent; repeat for several."
        ),
    ],
    employee_no: Annotated[
        str | None, typer.Option(help="Link to this agent (required for the agent role).")
    ] = None,
    password: Annotated[str | None, typer.Option(help="Omit to be asked (not echoed).")] = None,
) -> None:
    """Create a user with one or more roles."""
    secret = _ask_password(password)
    try:
        with session_scope() as session:
            accounts_service.create_user(
                session=session,
                settings=get_settings(),
                user_in=UserCreate.model_validate(
                    {
                        "username": username,
                        "password": secret,
                        "roles": roles,
                        "employee_no": employee_no,
                    }
                ),
            )
    except DomainError as exc:
        raise fail(exc) from exc
    console.print(f"user {username} created")


@users_app.command("set-password")
def users_set_password(
    username: str,
    password: Annotated[str | None, typer.Option(help="Omit to be asked (not echoed).")] = None,
) -> None:
    """Set a user's password (ends their sessions)."""
    secret = _ask_password(password)
    try:
        with session_scope() as session:
            user = accounts_service.get_user_by_username(session=session, username=username)
            if user is None:
                raise NotFound("user not found")
            accounts_service.update_user(
                session=session,
                settings=get_settings(),
                user_id=user.id,
                user_in=UserUpdate(password=secret),
                acting=user,
            )
    except DomainError as exc:
        raise fail(exc) from exc
    console.print(f"password of {username} changed")


@users_app.command("list")
def users_list(fmt: FormatOption = OutputFormat.table) -> None:
    """List users and their roles."""
    with session_scope() as session:
        rows = [user.model_dump() for user in accounts_service.list_users(session=session)]
    emit(
        rows,
        ["username", "display_name", "roles", "employee_no", "led_teams", "is_active"],
        fmt,
        "Users",
    )


@users_app.command("ldap-test")
def users_ldap_test(
    username: Annotated[str, typer.Argument(help="A username or an employee number.")],
    ask_password: Annotated[
        bool, typer.Option("--ask-password", help="Also try a password (asked, not echoed).")
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Look a person up in the sign-in directory: entry, groups, roles; changes nothing."""
    password = str(typer.prompt("password", hide_input=True)) if ask_password else None
    try:
        check = accounts_service.check_directory(
            settings=get_settings(), username=username, password=password
        )
    except DomainError as exc:
        if exc.__cause__ is not None:
            console.print(f"[red]cause:[/red] {exc.__cause__}")
        raise fail(exc) from exc
    emit(
        [check.model_dump()],
        [
            "typed",
            "found",
            "dn",
            "username",
            "employee_no",
            "display_name",
            "groups",
            "roles",
            "password_accepted",
        ],
        fmt,
        "Directory",
    )
    if not check.found or check.password_accepted is False:
        raise typer.Exit(code=1)


tokens_app = typer.Typer(
    help="Personal access tokens for scripts (Authorization: Bearer ...).", no_args_is_help=True
)
users_app.add_typer(tokens_app, name="token")


def _user_named(session: Session, username: str) -> User:
    user = accounts_service.get_user_by_username(session=session, username=username)
    if user is None:
        raise NotFound("user not found")
    return user


@tokens_app.command("create")
def tokens_create(
    username: str,
    name: Annotated[str, typer.Option(help="What uses the token (a script, a server).")],
    expires_in_days: Annotated[
        int | None, typer.Option(min=1, max=3650, help="Days until it expires; none by default.")
    ] = None,
) -> None:
    """Create a token acting as USERNAME with that user's roles; the secret is printed once."""
    try:
        token_in = ApiTokenCreate(name=name, expires_in_days=expires_in_days)
    except ValidationError as exc:
        raise typer.BadParameter(exc.errors()[0]["msg"], param_hint="--name") from exc
    try:
        with session_scope() as session:
            created = accounts_service.create_api_token(
                session=session, user=_user_named(session, username), token_in=token_in
            )
    except DomainError as exc:
        raise fail(exc) from exc
    console.print(f"token #{created.id} for {username} ({created.name}); shown only now:")
    console.print(created.token, markup=False, highlight=False, soft_wrap=True)


@tokens_app.command("list")
def tokens_list(username: str, fmt: FormatOption = OutputFormat.table) -> None:
    """A user's tokens: name, first characters, created, expiry, last use, revoked."""
    try:
        with session_scope() as session:
            tokens = accounts_service.list_api_tokens(
                session=session, user=_user_named(session, username)
            )
    except DomainError as exc:
        raise fail(exc) from exc
    emit(
        [token.model_dump() for token in tokens],
        ["id", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"],
        fmt,
        f"Tokens of {username}",
    )


@tokens_app.command("revoke")
def tokens_revoke(token_id: Annotated[int, typer.Argument(min=1, max=2**31 - 1)]) -> None:
    """Revoke a token by its number (from `users token list`)."""
    try:
        with session_scope() as session:
            revoked = accounts_service.revoke_api_token(
                session=session, acting=None, token_id=token_id
            )
    except DomainError as exc:
        raise fail(exc) from exc
    console.print(f"token #{revoked.id} ({revoked.name}) revoked")
