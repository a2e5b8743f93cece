"""Roster import (CSV or XLSX, Chinese or English headers): preview, then apply all or nothing.

The roster is one importer of the import pipeline (`agentladder.imports`): its columns, its
checks against the stored teams, skill groups and agents, and its apply. Re-importing updates
agents by employee number instead of duplicating them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.errors import InvalidInput
from agentladder.i18n import N_
from agentladder.imports import pipeline
from agentladder.imports.spec import (
    CellError,
    Column,
    Importer,
    ImportRun,
    ParsedRow,
    Planned,
    Problems,
    date_cell,
    list_cell,
    parse_date,
    text_cell,
)
from agentladder.org.cohorts import settled_primary
from agentladder.org.identity import identity_fits, identity_key
from agentladder.org.levels import service as levels_service
from agentladder.org.models import Agent, AgentAlias, LevelHistory, SkillGroup, Team, User
from agentladder.org.schemas import RosterPreview, RosterResult, RosterRowPlan
from agentladder.tabular import TableFileError, cell_text

RosterFileError = TableFileError  # the roster's name for an unreadable file
_ACTIVE = {"active", "在职", "在岗", "正常", "1", "yes", "y", "true"}
_LEFT = {"left", "离职", "已离职", "inactive", "0", "no", "n", "false"}


def _status_cell(text: str) -> str:
    folded = text.casefold()
    if folded in _ACTIVE:
        return "active"
    if folded in _LEFT:
        return "left"
    raise CellError(N_("status must be active or left (在职/离职)"))


def _level_cell(text: str) -> str:
    try:
        return levels_service.parse_level(text).id
    except InvalidInput as exc:
        raise CellError(N_("unknown level")) from exc


COLUMNS = (
    Column(
        "employee_no",
        label=N_("Employee no."),
        zh=("工号", "员工号", "员工编号", "座席工号", "坐席工号", "工作号"),
        en=(
            "employee no",
            "employee_no",
            "employee number",
            "employee id",
            "emp no",
            "staff id",
            "staff no",
            "work number",
        ),
        example="100001",
        help=N_("The agent's employee number; a known number updates that agent."),
        required=True,
        if_empty=N_("employee number is empty"),
        parse=text_cell(40, N_("employee number is longer than 40 characters")),
    ),
    Column(
        "name",
        label=N_("Name"),
        zh=("姓名", "员工姓名", "座席姓名", "坐席姓名", "名字"),
        en=("name", "full name", "agent name"),
        example="王芳",
        help=N_("The agent's name."),
        required=True,
        if_empty=N_("name is empty"),
        parse=text_cell(120, N_("name is longer than 120 characters")),
    ),
    Column(
        "hire_date",
        label=N_("Hired"),
        zh=("入职日期", "入职时间"),
        en=("hire date", "hire_date", "hired on", "start date", "date hired", "join date"),
        example="2024-03-01",
        help=N_("The hire date: 2024-03-01, 2024/3/1 or 2024年3月1日."),
        required=True,
        if_empty=N_("not a date (write 2024-03-01)"),
        parse=date_cell,
    ),
    Column(
        "team",
        label=N_("Team"),
        zh=("班组", "班组编码", "班组代码", "团队", "小组"),
        en=("team", "team code", "team_code"),
        example="T01",
        help=N_("The team's code or name."),
        required=True,
        if_empty=N_("team is empty"),
    ),
    Column(
        "skill_groups",
        label=N_("Skill groups"),
        zh=("技能组", "技能"),
        en=("skill groups", "skill_groups", "skill group", "skills"),
        example="general",
        help=N_("Skill group codes or names, separated by commas; replaces the agent's."),
        parse=list_cell,
    ),
    Column(
        "primary_skill_group",
        label=N_("Primary skill group"),
        zh=("主技能组", "主要技能组"),
        en=("primary skill group", "primary_skill_group", "primary group"),
        example="general",
        help=N_(
            "The skill group the ladder compares the agent with (code or name); joins the "
            "agent's skill groups when missing. Empty: the only group, if there is one."
        ),
    ),
    Column(
        "level",
        label=N_("Level"),
        zh=("级别", "等级", "座席级别", "坐席级别"),
        en=("level",),
        example="basic_fresh",
        help=N_("The agent's level (id, Chinese or English name); new agents start at the first."),
        parse=_level_cell,
    ),
    Column(
        "status",
        label=N_("Status"),
        zh=("状态", "在职状态"),
        en=("status",),
        example="在职",
        help=N_("active or left (在职/离职)."),
        parse=_status_cell,
    ),
    Column(
        "left_on",
        label=N_("Left on"),
        zh=("离职日期", "离职时间"),
        en=("left on", "left_on", "leave date", "termination date"),
        example="",
        help=N_("The leaving date of an agent who left."),
        parse=date_cell,
    ),
    Column(
        "aliases",
        label=N_("ACD identities"),
        zh=("分机", "分机号", "acd工号", "acd账号", "坐席号", "座席号", "别名"),
        en=("aliases", "acd id", "acd ids", "extension", "acd identities"),
        example="Agent/8001",
        help=N_("ACD identities of the agent (Agent/8001, SIP/8001), separated by commas."),
        parse=list_cell,
    ),
)
__all__ = ["COLUMNS", "ROSTER_IMPORTER", "RosterFileError", "parse_date"]


@dataclass(frozen=True)
class RosterOptions:
    """What applying a roster needs besides the file: the day a level change takes effect, and
    whether a team the file names that does not exist yet is created (its code and name are the
    file's text) rather than refused."""

    today: date
    create_teams: bool = False


# A team the roster creates: its code is what the file says, so it must fit a code.
TEAM_CODE_MAX_LENGTH = 40
UNKNOWN_TEAM = N_("unknown team code")


@dataclass
class _RowRecord:
    employee_no: str
    name: str
    hire_date: date
    team_id: int | None  # None: a team this import creates (`new_team`)
    skill_group_ids: list[int]
    primary_skill_group_id: int | None
    level: str | None
    status: str | None
    left_on: date | None
    aliases: list[str]
    new_team: str | None = None


class _Lookups:
    """Teams, skill groups, agents and aliases loaded once for the whole file."""

    def __init__(self, session: Session, present: set[str]) -> None:
        self.teams: dict[str, Team] = {}
        for team in session.scalars(select(Team)):
            self.teams[team.code.casefold()] = team
            self.teams.setdefault(team.name.strip().casefold(), team)
        self.groups: dict[str, SkillGroup] = {}
        for group in session.scalars(select(SkillGroup)):
            self.groups[group.code.casefold()] = group
            self.groups.setdefault(group.name.strip().casefold(), group)
        self.agents = {agent.employee_no: agent for agent in session.scalars(select(Agent))}
        self.team_by_id = {team.id: team for team in self.teams.values()}
        self.group_by_id = {group.id: group for group in self.groups.values()}
        self.present = present  # the canonical fields the file has columns for
        self.new_teams: dict[str, str] = {}  # casefolded text -> the text of its first row
        self.alias_owner: dict[str, int] = dict(
            session.execute(select(AgentAlias.identity_key, AgentAlias.agent_id)).all()
        )


def _check_team(
    row: ParsedRow, lookups: _Lookups, problems: Problems, create: bool
) -> tuple[Team | None, str | None]:
    """The row's team, or the text of a team the import creates (reported once, as a warning,
    so that the preview lists it)."""
    text = row.text("team")
    team = lookups.teams.get(text.casefold()) if text else None
    if team is not None or not text:
        return team, None
    if not create:
        problems.add(row.number, "team", UNKNOWN_TEAM, text)
    elif len(text) > TEAM_CODE_MAX_LENGTH:
        problems.add(
            row.number,
            "team",
            N_("a new team's code is at most {length} characters"),
            text,
            length=TEAM_CODE_MAX_LENGTH,
        )
    elif text.casefold() not in lookups.new_teams:
        lookups.new_teams[text.casefold()] = text
        problems.add(
            row.number, "team", N_("new team: the import creates it"), text, severity="warning"
        )
    return None, lookups.new_teams.get(text.casefold())


def _check_row(
    row: ParsedRow, lookups: _Lookups, problems: Problems, create_teams: bool
) -> _RowRecord | None:
    number = row.number
    employee_no: str | None = row.value("employee_no")
    if employee_no is not None:
        problems.first_row(
            employee_no, row, "employee_no", N_("employee number also appears in row {row}")
        )
    team, new_team = _check_team(row, lookups, problems, create_teams)
    group_ids: list[int] = []
    for code in row.value("skill_groups") or []:
        group = lookups.groups.get(code.casefold())
        if group is None:
            problems.add(number, "skill_groups", N_("unknown skill group"), code)
        else:
            group_ids.append(group.id)
    primary_id = None
    if primary_text := row.text("primary_skill_group"):
        primary = lookups.groups.get(primary_text.casefold())
        if primary is None:
            problems.add(number, "primary_skill_group", N_("unknown skill group"), primary_text)
        else:
            primary_id = primary.id
    hire_date: date | None = row.value("hire_date")
    status: str | None = row.value("status")
    left_on: date | None = row.value("left_on")
    if left_on is not None:
        if status == "active":
            problems.add(
                number,
                "left_on",
                N_("a leaving date is given but the status is active"),
                row.text("left_on"),
            )
        status = "left"
        if hire_date and left_on < hire_date:
            problems.add(
                number, "left_on", N_("leaving date is before the hire date"), row.text("left_on")
            )
    aliases: list[str] = []
    existing = lookups.agents.get(employee_no or "")
    for identity in row.value("aliases") or []:
        key = identity_key(identity)
        owner = lookups.alias_owner.get(key)
        if not identity_fits(identity):
            problems.add(
                number,
                "aliases",
                N_("an identity is longer than 200 characters"),
                identity[:40] + "…",
            )
        elif owner is not None and (existing is None or owner != existing.id):
            problems.add(
                number, "aliases", N_("identity already belongs to another agent"), identity
            )
        elif problems.first_row(
            key, row, "aliases", N_("identity also appears in row {row}"), identity
        ):
            aliases.append(identity)
    if problems.failed(number) or employee_no is None or hire_date is None:
        return None
    if team is None and new_team is None:
        return None
    return _RowRecord(
        employee_no=employee_no,
        name=row.text("name"),
        hire_date=hire_date,
        team_id=team.id if team else None,
        new_team=new_team,
        skill_group_ids=sorted(set(group_ids)),
        primary_skill_group_id=primary_id,
        level=row.value("level"),
        status=status,
        left_on=left_on,
        aliases=aliases,
    )


@dataclass(frozen=True)
class _Membership:
    """An agent's skill groups (by code) and primary group after the row is applied."""

    groups: list[SkillGroup]
    primary: SkillGroup | None


def _membership(agent: Agent | None, record: _RowRecord, lookups: _Lookups) -> _Membership:
    """The groups the row gives (the agent's own when the file has no skill group column),
    with the primary the row names added (org/cohorts.py); without a primary column the agent
    keeps its primary while it stays among the groups, else the only group is re-picked."""
    if "skill_groups" in lookups.present or agent is None:
        groups = [lookups.group_by_id[group_id] for group_id in record.skill_group_ids]
    else:
        groups = list(agent.skill_groups)
    if "primary_skill_group" in lookups.present:
        primary = (
            None
            if record.primary_skill_group_id is None
            else lookups.group_by_id[record.primary_skill_group_id]
        )
        if primary is not None and primary.id not in {group.id for group in groups}:
            groups.append(primary)
    else:
        # Kept only while the agent stays in it; settled_primary re-picks otherwise.
        primary = agent.primary_skill_group if agent is not None else None
    groups.sort(key=lambda group: group.code)
    return _Membership(groups, settled_primary(groups, primary))


def _changes(agent: Agent, record: _RowRecord, lookups: _Lookups) -> dict[str, tuple[str, str]]:
    changes: dict[str, tuple[str, str]] = {}

    def compare(field_name: str, old: object, new: object) -> None:
        if old != new:
            changes[field_name] = (cell_text(old), cell_text(new))

    compare("name", agent.name, record.name)
    compare("hire_date", agent.hire_date, record.hire_date)
    team_code = (
        record.new_team if record.team_id is None else lookups.team_by_id[record.team_id].code
    )
    compare("team", agent.team.code if agent.team else "", team_code or "")
    membership = _membership(agent, record, lookups)
    old_groups = ", ".join(sorted(g.code for g in agent.skill_groups))
    compare("skill_groups", old_groups, ", ".join(g.code for g in membership.groups))
    old_primary = agent.primary_skill_group
    compare(
        "primary_skill_group",
        old_primary.code if old_primary else "",
        membership.primary.code if membership.primary else "",
    )
    if record.level is not None:
        compare("level", agent.current_level, record.level)
    if record.status is not None:
        compare("status", agent.status, record.status)
        compare("left_on", agent.left_on, record.left_on)
    known = {alias.identity_key for alias in agent.aliases}
    added = [identity for identity in record.aliases if identity_key(identity) not in known]
    if added:
        changes["aliases"] = ("", ", ".join(added))
    return changes


def _check(
    session: Session, rows: list[ParsedRow], problems: Problems, run: ImportRun[RosterOptions]
) -> list[Planned[RosterRowPlan]]:
    lookups = _Lookups(session, present=set(problems.headers))
    planned: list[Planned[RosterRowPlan]] = []
    for row in rows:
        record = _check_row(row, lookups, problems, run.options.create_teams)
        if record is None:
            continue
        agent = lookups.agents.get(record.employee_no)
        changes = _changes(agent, record, lookups) if agent is not None else {}
        action = "create" if agent is None else "update" if changes else "unchanged"
        plan = RosterRowPlan(
            row=row.number,
            employee_no=record.employee_no,
            name=record.name,
            action=action,
            changes=changes,
        )
        planned.append(Planned(plan, (record, lookups)))
    return planned


def _apply(
    session: Session, planned: list[Planned[RosterRowPlan]], run: ImportRun[RosterOptions]
) -> None:
    today = run.options.today
    created: dict[str, Team] = {}
    for item in planned:
        record, lookups = item.record
        if record.new_team is not None:
            if record.new_team not in created:
                created[record.new_team] = Team(code=record.new_team, name=record.new_team)
                session.add(created[record.new_team])
                session.flush()
            record.team_id = created[record.new_team].id
        agent = lookups.agents.get(record.employee_no)
        membership = _membership(agent, record, lookups)
        if agent is None:
            level = record.level or levels_service.first_level().id
            agent = Agent(
                employee_no=record.employee_no,
                name=record.name,
                hire_date=record.hire_date,
                team_id=record.team_id,
                current_level=level,
                level_since=record.hire_date,
                status=record.status or "active",
                left_on=record.left_on,
                skill_groups=membership.groups,
                primary_skill_group=membership.primary,
            )
            agent.level_history.append(
                LevelHistory(
                    from_level=None,
                    to_level=level,
                    effective_on=record.hire_date,
                    source="roster",
                    reason=f"roster {run.file_name}",
                    recorded_by_user_id=run.user_id,
                )
            )
            session.add(agent)
        else:
            agent.name = record.name
            agent.hire_date = record.hire_date
            agent.team_id = record.team_id
            agent.skill_groups = membership.groups
            agent.primary_skill_group = membership.primary
            if record.status is not None:
                agent.status = record.status
                agent.left_on = record.left_on
            if record.level is not None and record.level != agent.current_level:
                since = max(today, agent.level_since)
                agent.level_history.append(
                    LevelHistory(
                        from_level=agent.current_level,
                        to_level=record.level,
                        effective_on=since,
                        source="roster",
                        reason=f"roster {run.file_name}",
                        recorded_by_user_id=run.user_id,
                    )
                )
                agent.current_level = record.level
                agent.level_since = since
        known = {alias.identity_key for alias in agent.aliases}
        for identity in record.aliases:
            key = identity_key(identity)
            if key not in known:
                agent.aliases.append(
                    AgentAlias(identity=identity, identity_key=key, source="roster")
                )
                known.add(key)


ROSTER_IMPORTER: Importer[RosterOptions, RosterRowPlan] = Importer(
    kind="roster", title=N_("Roster"), columns=COLUMNS, check=_check, apply=_apply
)


def preview_roster(
    *,
    session: Session,
    data: bytes,
    file_name: str,
    encoding: str | None = None,
    create_teams: bool = False,
) -> RosterPreview:
    """What importing the file would do, row by row, and every problem found; writes nothing."""
    today = date.today()  # unused by a dry run: a level takes effect only when applied
    return apply_roster(
        session=session,
        data=data,
        file_name=file_name,
        encoding=encoding,
        today=today,
        dry_run=True,
        create_teams=create_teams,
    ).preview


def apply_roster(
    *,
    session: Session,
    data: bytes,
    file_name: str,
    today: date,
    encoding: str | None = None,
    dry_run: bool = False,
    imported_by: User | None = None,
    create_teams: bool = False,
) -> RosterResult:
    """Import the file if it has no errors (all rows or none; `dry_run`: only preview it); a
    level the file changes takes effect `today`; `create_teams`: create the teams the file
    names that do not exist (each listed as a warning), else refuse such rows."""
    return pipeline.run_import(
        ROSTER_IMPORTER,
        session=session,
        data=data,
        file_name=file_name,
        encoding=encoding,
        dry_run=dry_run,
        options=RosterOptions(today=today, create_teams=create_teams),
        user_id=imported_by.id if imported_by else None,
    )
