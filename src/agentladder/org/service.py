"""Organisation services: teams, skill groups, agents, levels, aliases, who may see whom.

Other domains use the organisation only through this module (accounts and roster import are
re-exported at the bottom).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, false, func, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from agentladder.errors import Conflict, InvalidInput, NotFound
from agentladder.i18n import N_
from agentladder.org.cohorts import cohort_code, settled_primary
from agentladder.org.identity import MAX_IDENTITY_CHARS, identity_fits, identity_key
from agentladder.org.levels import service as levels_service
from agentladder.org.models import (
    Agent,
    AgentAlias,
    LevelHistory,
    SkillGroup,
    Team,
    User,
    agent_skill_groups,
)
from agentladder.org.schemas import (
    ALL_AGENTS_ROLES,
    LEVELS,
    AgentCreate,
    AgentDetail,
    AgentFilter,
    AgentPage,
    AgentRead,
    AgentUpdate,
    AliasRead,
    LevelHistoryRead,
    SkillGroupCreate,
    SkillGroupRead,
    TeamCreate,
    TeamRead,
    TeamUpdate,
)

LEVEL_SOURCE_NAMES = {
    "roster": N_("Roster import"),
    "demo": N_("Demo"),
    "ladder": N_("Ladder decision"),
    "manual": N_("Manual change"),
}

# --- who may see which agents -------------------------------------------------------------


@dataclass(frozen=True)
class AgentScope:
    """The agents a user may see: all of them, those of some teams, and/or themselves."""

    everyone: bool
    team_ids: frozenset[int]
    agent_id: int | None

    def allows(self, agent: Agent) -> bool:
        """Whether this agent is inside the scope."""
        return (
            self.everyone
            or (agent.team_id is not None and agent.team_id in self.team_ids)
            or (self.agent_id is not None and agent.id == self.agent_id)
        )

    @classmethod
    def everyone_scope(cls) -> AgentScope:
        """The scope of services acting for the system (runs, imports): every agent."""
        return cls(everyone=True, team_ids=frozenset(), agent_id=None)

    def restrict(self, query: Select[Agent]) -> Select[Agent]:
        """Narrow an agent query to the scope."""
        if self.everyone:
            return query
        conditions: list[ColumnElement[bool]] = []
        if self.team_ids:
            conditions.append(Agent.team_id.in_(self.team_ids))
        if self.agent_id is not None:
            conditions.append(Agent.id == self.agent_id)
        return query.where(or_(*conditions)) if conditions else query.where(false())


def agent_scope(user: User) -> AgentScope:
    """What the user may see, from their roles, led teams and own agent record."""
    roles = user.roles
    return AgentScope(
        everyone=not roles.isdisjoint(ALL_AGENTS_ROLES),
        team_ids=frozenset(team.id for team in user.led_teams)
        if "team_lead" in roles
        else frozenset(),
        agent_id=user.agent_id,
    )


# --- teams and skill groups ----------------------------------------------------------------


def _team_read(session: Session, team: Team) -> TeamRead:
    active = session.scalar(
        select(func.count()).where(Agent.team_id == team.id, Agent.status == "active")
    )
    return TeamRead(
        id=team.id,
        code=team.code,
        name=team.name,
        lead_usernames=[lead.username for lead in team.leads],
        active_agents=active or 0,
    )


def list_teams(*, session: Session, scope: AgentScope | None = None) -> list[TeamRead]:
    """Teams ordered by code; a team lead's scope shows only the teams they lead."""
    query = select(Team).options(selectinload(Team.leads)).order_by(Team.code)
    if scope is not None and not scope.everyone:
        query = query.where(Team.id.in_(scope.team_ids))
    return [_team_read(session, team) for team in session.scalars(query)]


def get_team_by_code(*, session: Session, code: str) -> Team | None:
    """The team with this code (case-insensitive), if any."""
    return session.scalar(select(Team).where(func.lower(Team.code) == code.strip().lower()))


def get_team_or_raise(*, session: Session, team_id: int) -> Team:
    """The team or NotFound."""
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound("team not found")
    return team


def create_team(*, session: Session, team_in: TeamCreate) -> TeamRead:
    """Create a team; codes are unique regardless of case."""
    if get_team_by_code(session=session, code=team_in.code):
        raise Conflict("a team with code {code} exists", code=team_in.code)
    team = Team(code=team_in.code, name=team_in.name.strip())
    session.add(team)
    session.flush()
    return _team_read(session, team)


def update_team(*, session: Session, team_id: int, team_in: TeamUpdate) -> TeamRead:
    """Rename a team or set who leads it (each lead must hold the team_lead role)."""
    team = get_team_or_raise(session=session, team_id=team_id)
    if team_in.name is not None:
        team.name = team_in.name.strip()
    if team_in.lead_usernames is not None:
        leads = []
        for username in dict.fromkeys(u.strip() for u in team_in.lead_usernames if u.strip()):
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                raise InvalidInput("unknown user {username}", username=username)
            if "team_lead" not in user.roles:
                raise InvalidInput("{username} does not hold the team_lead role", username=username)
            leads.append(user)
        team.leads = leads
    session.flush()
    return _team_read(session, team)


def list_skill_groups(*, session: Session) -> list[SkillGroupRead]:
    """Skill groups ordered by code."""
    return [
        SkillGroupRead.model_validate(group)
        for group in session.scalars(select(SkillGroup).order_by(SkillGroup.code))
    ]


def skill_group_names(*, session: Session) -> dict[str, str]:
    """Each skill group's name by its code (a queue of the same code is that group's)."""
    return {group.code: group.name or group.code for group in session.scalars(select(SkillGroup))}


def get_skill_group_by_code(*, session: Session, code: str) -> SkillGroup | None:
    """The skill group with this code (case-insensitive), if any."""
    return session.scalar(
        select(SkillGroup).where(func.lower(SkillGroup.code) == code.strip().lower())
    )


def create_skill_group(*, session: Session, group_in: SkillGroupCreate) -> SkillGroupRead:
    """Create a skill group."""
    if get_skill_group_by_code(session=session, code=group_in.code):
        raise Conflict("a skill group with code {code} exists", code=group_in.code)
    group = SkillGroup(code=group_in.code, name=group_in.name.strip())
    session.add(group)
    session.flush()
    return SkillGroupRead.model_validate(group)


# --- agents --------------------------------------------------------------------------------


def agent_read(agent: Agent) -> AgentRead:
    """The public shape of an agent."""
    primary = agent.primary_skill_group
    return AgentRead(
        id=agent.id,
        employee_no=agent.employee_no,
        name=agent.name,
        hire_date=agent.hire_date,
        team_code=agent.team.code if agent.team else None,
        team_name=agent.team.name if agent.team else None,
        skill_groups=[group.code for group in agent.skill_groups],
        skill_group_names=[group.name or group.code for group in agent.skill_groups],
        primary_skill_group=primary.code if primary else None,
        primary_skill_group_name=(primary.name or primary.code) if primary else None,
        current_level=agent.current_level,
        level_since=agent.level_since,
        status=agent.status,
        left_on=agent.left_on,
    )


def _agent_query() -> Select[Agent]:
    return select(Agent).options(
        selectinload(Agent.team),
        selectinload(Agent.skill_groups),
        selectinload(Agent.primary_skill_group),
    )


def _filtered_agents(scope: AgentScope, filters: AgentFilter) -> Select[Agent]:
    query = scope.restrict(_agent_query())
    if filters.status != "all":
        query = query.where(Agent.status == filters.status)
    if filters.q and filters.q.strip():
        # What was typed, literally: % and _ are characters, not wildcards; full-width digits
        # and letters from a Chinese input method read as the ASCII ones they stand for.
        wanted = unicodedata.normalize("NFKC", filters.q).strip()
        query = query.where(
            or_(
                Agent.name.icontains(wanted, autoescape=True),
                Agent.employee_no.icontains(wanted, autoescape=True),
            )
        )
    if filters.team:
        query = query.join(Team, Agent.team_id == Team.id).where(
            func.lower(Team.code) == filters.team.lower()
        )
    if filters.level:
        query = query.where(Agent.current_level == filters.level)
    if filters.skill_group:
        query = query.where(
            Agent.id.in_(
                select(agent_skill_groups.c.agent_id)
                .join(SkillGroup, SkillGroup.id == agent_skill_groups.c.skill_group_id)
                .where(func.lower(SkillGroup.code) == filters.skill_group.lower())
            )
        )
    return query


def filtered_agents(
    *, session: Session, scope: AgentScope, filters: AgentFilter
) -> list[AgentRead]:
    """Every agent the scope allows and the filters keep (the page number ignored), by
    employee number: what a list exports, or sorts by something only other domains know."""
    query = _filtered_agents(scope, filters).order_by(Agent.employee_no)
    return [agent_read(agent) for agent in session.scalars(query)]


def list_agents(*, session: Session, scope: AgentScope, filters: AgentFilter) -> AgentPage:
    """Agents the scope allows, filtered and paged, ordered by employee number."""
    query = _filtered_agents(scope, filters)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = session.scalars(
        query.order_by(Agent.employee_no)
        .offset((filters.page - 1) * filters.per_page)
        .limit(filters.per_page)
    )
    return AgentPage(
        total=total,
        page=filters.page,
        per_page=filters.per_page,
        agents=[agent_read(agent) for agent in rows],
    )


def get_agent_or_raise(*, session: Session, agent_id: int, scope: AgentScope) -> Agent:
    """The agent if it exists and the scope allows it; NotFound otherwise (existence is private)."""
    agent = session.get(Agent, agent_id)
    if agent is None or not scope.allows(agent):
        raise NotFound("agent not found")
    return agent


def get_agent_by_employee_no(*, session: Session, employee_no: str) -> Agent | None:
    """The agent with this employee number, if any."""
    return session.scalar(select(Agent).where(Agent.employee_no == employee_no.strip()))


def agent_detail(agent: Agent) -> AgentDetail:
    """An agent with level history and aliases."""
    return AgentDetail(
        **agent_read(agent).model_dump(),
        level_history=[LevelHistoryRead.model_validate(row) for row in agent.level_history],
        aliases=[AliasRead.model_validate(alias) for alias in agent.aliases],
    )


def create_agent(*, session: Session, agent_in: AgentCreate, source: str = "manual") -> Agent:
    """Create an agent at the given (or first) level, recording the start in the level history."""
    if get_agent_by_employee_no(session=session, employee_no=agent_in.employee_no):
        raise Conflict("an agent with employee number {no} exists", no=agent_in.employee_no)
    team = None
    if agent_in.team_code:
        team = get_team_by_code(session=session, code=agent_in.team_code)
        if team is None:
            raise InvalidInput("unknown team {code}", code=agent_in.team_code)
    groups = _skill_groups_named(session, agent_in.skill_group_codes)
    primary = (
        _skill_groups_named(session, [agent_in.primary_skill_group_code])[0]
        if agent_in.primary_skill_group_code
        else None
    )
    level = (
        levels_service.parse_level(agent_in.level)
        if agent_in.level
        else levels_service.first_level()
    )
    agent = Agent(
        employee_no=agent_in.employee_no,
        name=agent_in.name,
        hire_date=agent_in.hire_date,
        team=team,
        current_level=level.id,
        level_since=agent_in.hire_date,
        status="active",
    )
    _set_membership(agent, groups, primary)
    agent.level_history.append(
        LevelHistory(
            from_level=None,
            to_level=level.id,
            effective_on=agent_in.hire_date,
            source=source,
            reason="",
        )
    )
    session.add(agent)
    session.flush()
    return agent


def _skill_groups_named(session: Session, codes: Iterable[str]) -> list[SkillGroup]:
    """The skill groups of these codes (case-insensitive, each once); InvalidInput names the
    first unknown code."""
    groups: dict[int, SkillGroup] = {}
    for code in codes:
        group = get_skill_group_by_code(session=session, code=code)
        if group is None:
            raise InvalidInput("unknown skill group {code}", code=code)
        groups[group.id] = group
    return list(groups.values())


def _set_membership(agent: Agent, groups: list[SkillGroup], primary: SkillGroup | None) -> None:
    """Store an agent's groups and primary group by the rules of org/cohorts.py: the primary
    joins the groups; without one, the only group is the primary."""
    if primary is not None and primary.id not in {group.id for group in groups}:
        groups = [*groups, primary]
    agent.skill_groups = sorted(groups, key=lambda group: group.code)
    agent.primary_skill_group = settled_primary(agent.skill_groups, primary)


def update_agent(*, session: Session, agent: Agent, agent_in: AgentUpdate) -> Agent:
    """Change an agent's skill groups and/or primary group (see AgentUpdate); removing the
    primary from the groups re-picks it (the only group left, or none)."""
    groups = (
        list(agent.skill_groups)
        if agent_in.skill_group_codes is None
        else _skill_groups_named(session, agent_in.skill_group_codes)
    )
    primary = agent.primary_skill_group
    if "primary_skill_group_code" in agent_in.model_fields_set:
        code = agent_in.primary_skill_group_code
        primary = _skill_groups_named(session, [code])[0] if code else None
    elif primary is not None and primary.id not in {group.id for group in groups}:
        primary = None  # left the groups: re-picked, it does not bring itself back
    _set_membership(agent, groups, primary)
    session.flush()
    return agent


def change_level(
    *,
    session: Session,
    agent: Agent,
    to_level: str,
    effective_on: date,
    source: str,
    reason: str,
    recorded_by: User | None = None,
) -> LevelHistory | None:
    """Move an agent to a level from a date, keeping history; None when already there."""
    level = levels_service.get_level(to_level)
    if agent.current_level == level.id:
        return None
    if effective_on < agent.level_since:
        raise InvalidInput(
            "a level change cannot take effect before the current level began ({since})",
            since=agent.level_since.isoformat(),
        )
    entry = LevelHistory(
        from_level=agent.current_level,
        to_level=level.id,
        effective_on=effective_on,
        source=source,
        reason=reason,
        recorded_by_user_id=recorded_by.id if recorded_by else None,
    )
    agent.level_history.append(entry)
    agent.current_level = level.id
    agent.level_since = effective_on
    session.flush()
    return entry


def set_agent_left(*, session: Session, agent: Agent, left_on: date | None) -> None:
    """Mark an agent as left on a date, or active again when the date is None."""
    agent.status = "left" if left_on else "active"
    agent.left_on = left_on
    session.flush()


def level_counts(*, session: Session, scope: AgentScope) -> dict[str, int]:
    """Active agents per level inside the scope (the pyramid)."""
    query = scope.restrict(select(Agent)).where(Agent.status == "active").subquery()
    rows = session.execute(
        select(query.c.current_level, func.count()).group_by(query.c.current_level)
    )
    counts = dict.fromkeys((level.id for level in LEVELS), 0)
    for level, count in rows:
        counts[level] = count
    return counts


# --- ACD identity aliases ------------------------------------------------------------------


def add_alias(*, session: Session, agent: Agent, identity: str, source: str = "") -> AgentAlias:
    """Map a source identity to an agent; an identity can only ever belong to one agent."""
    key = identity_key(identity)
    if not key:
        raise InvalidInput("an empty identity cannot be an alias")
    if not identity_fits(identity):
        raise InvalidInput("an identity is at most {limit} characters", limit=MAX_IDENTITY_CHARS)
    existing = session.scalar(select(AgentAlias).where(AgentAlias.identity_key == key))
    if existing is not None:
        if existing.agent_id == agent.id:
            return existing
        raise Conflict(
            "identity {identity} already belongs to agent {no}",
            identity=identity,
            no=existing.agent.employee_no,
        )
    alias = AgentAlias(agent=agent, identity=identity.strip(), identity_key=key, source=source)
    session.add(alias)
    session.flush()
    return alias


def remove_alias(*, session: Session, agent: Agent, alias_id: int) -> None:
    """Forget one alias of an agent."""
    alias = session.get(AgentAlias, alias_id)
    if alias is None or alias.agent_id != agent.id:
        raise NotFound("alias not found")
    session.delete(alias)
    session.flush()


def identity_resolver(*, session: Session) -> Callable[[str], int | None]:
    """A fast resolver from source identities to agent ids, loaded once for a whole import.

    Aliases win; then the employee number itself; then a display name that names one agent.
    """
    by_key: dict[str, int] = dict(
        session.execute(select(AgentAlias.identity_key, AgentAlias.agent_id)).all()
    )
    by_employee_no: dict[str, int] = {}
    by_name: dict[str, int | None] = {}
    for agent_id, employee_no, name in session.execute(
        select(Agent.id, Agent.employee_no, Agent.name)
    ):
        by_employee_no[identity_key(employee_no)] = agent_id
        name_key = identity_key(name)
        by_name[name_key] = None if name_key in by_name else agent_id

    def resolve(identity: str) -> int | None:
        key = identity_key(identity)
        return by_key.get(key) or by_employee_no.get(key) or by_name.get(key)

    return resolve


def resolve_identity(*, session: Session, identity: str) -> int | None:
    """The agent id behind one source identity, or None when nobody is mapped to it."""
    return identity_resolver(session=session)(identity)


@dataclass(frozen=True)
class AliasChange:
    """An identity mapped to an agent, and when (freshness checks compare it with metrics)."""

    identity: str
    identity_key: str
    employee_no: str
    created_at: datetime


def aliases_created_after(
    *, session: Session, after: datetime, among: Iterable[str] | None = None
) -> list[AliasChange]:
    """Aliases added after a moment (UTC), oldest first; only of the identities named in
    `among` (as files spell them), when given."""
    keys = None if among is None else {identity_key(identity) for identity in among}
    rows = session.execute(
        select(
            AgentAlias.identity, AgentAlias.identity_key, Agent.employee_no, AgentAlias.created_at
        )
        .join(Agent, Agent.id == AgentAlias.agent_id)
        .where(AgentAlias.created_at > after)
        .order_by(AgentAlias.created_at, AgentAlias.id)
    )
    changes = [AliasChange(*row) for row in rows]
    return [c for c in changes if keys is None or c.identity_key in keys]


def all_agents(*, session: Session) -> list[Agent]:
    """Every agent, active or not, by employee number."""
    return list(session.scalars(select(Agent).order_by(Agent.employee_no)))


def agent_ids_in_scope(
    *, session: Session, scope: AgentScope, agent_ids: Iterable[int]
) -> set[int]:
    """The given agents the scope lets the user see."""
    ids = list(set(agent_ids))
    if scope.everyone or not ids:
        return set(ids)
    return {
        agent.id
        for agent in session.scalars(scope.restrict(select(Agent)).where(Agent.id.in_(ids)))
    }


def agents_by_ids(*, session: Session, agent_ids: Iterable[int]) -> list[AgentRead]:
    """Several agents at once, in id order."""
    return [
        agent_read(agent)
        for agent in session.scalars(
            _agent_query().where(Agent.id.in_(list(agent_ids))).order_by(Agent.id)
        )
    ]


@dataclass(frozen=True)
class LevelStanding:
    """An agent employed on a date, with the level held that day and how it was reached."""

    agent_id: int
    employee_no: str
    name: str
    team_id: int | None
    team_code: str | None
    skill_group: str | None  # the cohort: the primary group, else the first by code
    hire_date: date
    level: str
    level_since: date
    entered_by_promotion: bool


def standings_on(*, session: Session, on: date) -> list[LevelStanding]:
    """Every agent employed on a date (hired, not yet left), with the level that day from the
    level history (changes effective later do not count) and the cohort (org/cohorts.py: the
    primary skill group, else the first by code), by employee number."""
    # Columns, not entities: a run reads every agent of a large centre with its groups and
    # level history, and loading them as ORM objects cost a tenth of a 10,000-agent run.
    employed = (
        Agent.hire_date <= on,
        or_(Agent.left_on.is_(None), Agent.left_on > on),
        or_(Agent.status == "active", Agent.left_on.is_not(None)),
    )
    primary = aliased(SkillGroup)
    agents = session.execute(
        select(
            Agent.id,
            Agent.employee_no,
            Agent.name,
            Agent.team_id,
            Team.code,
            primary.code,
            Agent.hire_date,
            Agent.current_level,
            Agent.level_since,
        )
        .outerjoin(Team, Team.id == Agent.team_id)
        .outerjoin(primary, primary.id == Agent.primary_skill_group_id)
        .where(*employed)
        .order_by(Agent.employee_no)
    ).all()
    # Every group of the agents without a primary one (their cohort is the first by code).
    groups: dict[int, list[str]] = {}
    for agent_id, code in session.execute(
        select(agent_skill_groups.c.agent_id, SkillGroup.code)
        .join(SkillGroup, SkillGroup.id == agent_skill_groups.c.skill_group_id)
        .join(Agent, Agent.id == agent_skill_groups.c.agent_id)
        .where(*employed, Agent.primary_skill_group_id.is_(None))
    ):
        groups.setdefault(agent_id, []).append(code)
    # Each agent's level history in order (from level, to level, effective on).
    history: dict[int, list[tuple[str | None, str, date]]] = {}
    for agent_id, from_level, to_level, effective_on in session.execute(
        select(
            LevelHistory.agent_id,
            LevelHistory.from_level,
            LevelHistory.to_level,
            LevelHistory.effective_on,
        )
        .join(Agent, Agent.id == LevelHistory.agent_id)
        .where(*employed)
        .order_by(LevelHistory.agent_id, LevelHistory.effective_on, LevelHistory.id)
    ):
        history.setdefault(agent_id, []).append((from_level, to_level, effective_on))
    standings = []
    for (
        agent_id,
        employee_no,
        name,
        team_id,
        team_code,
        primary_code,
        hire_date,
        current_level,
        level_since,
    ) in agents:
        entries = history.get(agent_id, [])
        effective = [entry for entry in entries if entry[2] <= on]
        if effective:
            last_from, last_to, last_on = effective[-1]
            level, since = last_to, last_on
            promoted = last_from is not None and levels_service.level_rank(
                last_to
            ) > levels_service.level_rank(last_from)
        elif entries:
            level = entries[0][0] or current_level
            since, promoted = hire_date, False
        else:
            level, since, promoted = current_level, level_since, False
        standings.append(
            LevelStanding(
                agent_id,
                employee_no,
                name,
                team_id,
                team_code,
                cohort_code(groups.get(agent_id, []), primary_code),
                hire_date,
                level,
                since,
                promoted,
            )
        )
    return standings


__all__ = [
    "AgentRead",
    "AgentScope",
    "LevelStanding",
    "add_alias",
    "agent_detail",
    "agent_read",
    "agent_scope",
    "agents_by_ids",
    "all_agents",
    "change_level",
    "create_agent",
    "create_skill_group",
    "create_team",
    "filtered_agents",
    "get_agent_by_employee_no",
    "get_agent_or_raise",
    "get_skill_group_by_code",
    "get_team_by_code",
    "get_team_or_raise",
    "identity_resolver",
    "level_counts",
    "list_agents",
    "list_skill_groups",
    "list_teams",
    "remove_alias",
    "resolve_identity",
    "set_agent_left",
    "standings_on",
    "update_agent",
    "update_team",
]
