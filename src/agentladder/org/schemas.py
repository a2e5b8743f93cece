"""Pydantic shapes of the organisation, in and out, and its vocabulary: the nine levels and
their tiers, the roles, and the one permission matrix (routes declare one permission each)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agentladder.config import Language
from agentladder.i18n import N_
from agentladder.imports.schemas import ImportIssue, ImportPreview, ImportResult, RowPlan

Role = Literal["admin", "manager", "team_lead", "qa", "trainer", "agent"]
ROLES: tuple[Role, ...] = ("admin", "manager", "team_lead", "qa", "trainer", "agent")
Code = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class TeamCreate(BaseModel):
    code: str = Code
    name: str = Field(min_length=1, max_length=120)


class TeamUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    lead_usernames: list[str] | None = None


class TeamRead(_Read):
    id: int
    code: str
    name: str
    lead_usernames: list[str]
    active_agents: int


class SkillGroupCreate(BaseModel):
    code: str = Code
    name: str = Field(min_length=1, max_length=120)


class SkillGroupRead(_Read):
    id: int
    code: str
    name: str


class AgentCreate(BaseModel):
    employee_no: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=120)
    hire_date: date
    team_code: str | None = None
    skill_group_codes: list[str] = Field(default_factory=list)
    # Joins the groups when they lack it; None: the only group, if there is exactly one.
    primary_skill_group_code: str | None = None
    level: str | None = None

    @field_validator("employee_no", "name")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()


class AgentUpdate(BaseModel):
    """A change to an agent's skill groups; a field left out keeps its value, an explicit
    None primary clears it (an agent with one group keeps that one as primary)."""

    model_config = ConfigDict(extra="forbid")

    skill_group_codes: list[str] | None = None  # replaces the agent's groups
    primary_skill_group_code: str | None = None  # added to the groups when missing


class LevelHistoryRead(_Read):
    from_level: str | None
    to_level: str
    effective_on: date
    source: str
    reason: str
    recorded_at: datetime


class AliasRead(_Read):
    id: int
    identity: str
    source: str


class AgentRead(BaseModel):
    id: int
    employee_no: str
    name: str
    hire_date: date
    team_code: str | None
    team_name: str | None
    skill_groups: list[str]
    # The same groups by their names, as people read them (codes are for files and scripts).
    skill_group_names: list[str] = []
    # The group the ladder compares the agent with (docs/org.md); always one of skill_groups.
    primary_skill_group: str | None = None
    primary_skill_group_name: str | None = None
    current_level: str
    level_since: date
    status: str
    left_on: date | None

    @property
    def other_skill_group_names(self) -> list[str]:
        """The names of the agent's groups besides the primary one, by code."""
        return [
            name
            for code, name in zip(self.skill_groups, self.skill_group_names, strict=False)
            if code != self.primary_skill_group
        ]


class AgentDetail(AgentRead):
    level_history: list[LevelHistoryRead]
    aliases: list[AliasRead]


class AgentPage(BaseModel):
    total: int
    page: int
    per_page: int
    agents: list[AgentRead]


class AgentFilter(BaseModel):
    q: str | None = None
    team: str | None = None
    level: str | None = None
    skill_group: str | None = None
    status: Literal["active", "left", "all"] = "active"
    page: int = Field(default=1, ge=1)
    per_page: int = Field(default=50, ge=1, le=500)


class LevelChange(BaseModel):
    level: str
    effective_on: date
    reason: str = Field(min_length=1, max_length=2000)


class AliasCreate(BaseModel):
    identity: str = Field(min_length=1, max_length=200)
    source: str = Field(default="", max_length=40)


class UserCreate(BaseModel):
    username: str = Field(min_length=2, max_length=80, pattern=r"^[A-Za-z0-9_.@\-]+$")
    password: str = Field(min_length=10, max_length=200)
    display_name: str = Field(default="", max_length=120)
    roles: list[Role] = Field(min_length=1)
    employee_no: str | None = None
    language: Literal["zh_Hans", "en"] | None = None


class UserUpdate(BaseModel):
    display_name: str | None = Field(default=None, max_length=120)
    roles: list[Role] | None = Field(default=None, min_length=1)
    employee_no: str | None = None
    is_active: bool | None = None
    password: str | None = Field(default=None, min_length=10, max_length=200)


class ApiTokenCreate(BaseModel):
    """A new personal access token: a name that says what script uses it, an optional life."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=80)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)

    @field_validator("name")
    @classmethod
    def _name_is_text(cls, value: str) -> str:
        value = value.strip()
        if not value or any(ord(ch) < 32 for ch in value):
            raise ValueError("a name of visible characters")
        return value


class ApiTokenRead(_Read):
    """A token as lists show it: never the secret, only its first characters."""

    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiTokenCreated(ApiTokenRead):
    """The answer to creating a token: the only time its secret is shown."""

    token: str


class UserRead(BaseModel):
    id: int
    username: str
    display_name: str
    roles: list[Role]
    is_active: bool
    employee_no: str | None
    agent_id: int | None
    language: str | None
    led_teams: list[str]
    last_login_at: datetime | None
    # "ldap": the sign-in directory checks the password and sets the roles at each login.
    auth_source: Literal["local", "ldap"] = "local"


class DirectoryCheck(BaseModel):
    """What the sign-in directory says about a username (`agentladder users ldap-test`)."""

    typed: str
    found: bool
    dn: str | None = None
    username: str | None = None
    employee_no: str | None = None
    display_name: str | None = None
    groups: list[str] = []
    roles: list[Role] = []
    # None: no password was tried.
    password_accepted: bool | None = None


RosterIssue = ImportIssue  # a problem with one cell, row or the whole file


class RosterRowPlan(RowPlan):
    """What importing one roster row does to the agent with this employee number."""

    employee_no: str
    name: str


RosterPreview = ImportPreview[RosterRowPlan]
RosterResult = ImportResult[RosterRowPlan]


# --- the organisation's vocabulary: levels, roles, permissions -----------------------------
@dataclass(frozen=True)
class Level:
    """One rung of the ladder."""

    id: str
    tier: str
    zh: str
    en: str

    def label(self, language: Language) -> str:
        """The name shown to a reader of the given language."""
        return self.zh if language == "zh_Hans" else self.en


LEVELS: tuple[Level, ...] = (
    Level("basic_fresh", "basic", "初级座席·新手", "Basic Fresh"),
    Level("basic_sophomore", "basic", "初级座席·二级", "Basic Sophomore"),
    Level("basic_junior", "basic", "初级座席·三级", "Basic Junior"),
    Level("basic_senior", "basic", "初级座席·四级", "Basic Senior"),
    Level("potential", "primary", "中级座席·潜力", "Potential Agent"),
    Level("developing", "primary", "中级座席·发展", "Developing Agent"),
    Level("skilled", "primary", "中级座席·熟练", "Skilled Agent"),
    Level("expert", "senior", "高级座席·专家", "Expert Agent"),
    Level("super", "senior", "高级座席·超级", "Super Agent"),
)

TIER_NAMES = {
    "basic": N_("Basic Agent"),
    "primary": N_("Primary Agent"),
    "senior": N_("Senior Agent"),
}


class Permission(StrEnum):
    """Something a route lets a user do."""

    SELF = "self"  # own account: language, logout, own home page
    AGENTS_LIST = "agents.list"
    AGENTS_VIEW = "agents.view"  # object-scoped: all, own teams, or self
    AGENTS_EDIT = "agents.edit"
    TEAMS_VIEW = "teams.view"
    TEAMS_MANAGE = "teams.manage"
    ROSTER_IMPORT = "roster.import"
    USERS_MANAGE = "users.manage"
    IMPORTS_MANAGE = "imports.manage"
    METRICS_VIEW = "metrics.view"  # team and queue KPI tables; a team lead sees their teams
    CERTIFICATIONS_VIEW = "certifications.view"  # object-scoped like agents
    CERTIFICATIONS_MANAGE = "certifications.manage"  # record and import certificates
    EVIDENCE_IMPORT = "evidence.import"  # external QA, exam, knowledge results per period
    LADDER_VIEW = "ladder.view"  # scorecards and decisions; object-scoped like agents
    LADDER_TEAM = "ladder.team"  # team dashboards; a team lead sees their teams
    LADDER_REPORTS = "ladder.reports"  # promotion lists and fairness tables for management
    LADDER_RUN = "ladder.run"  # run a period, backtest
    LADDER_DECIDE = "ladder.decide"  # approve, reject, override, resolve appeals
    LADDER_POLICY = "ladder.policy"  # edit and apply the policy
    LADDER_APPEAL = "ladder.appeal"  # an agent appeals their own decision
    QA_DASHBOARD = "quality.dashboard"  # QA by team, agent, item, evaluator; leads: own teams
    QA_IMPORT = "quality.import"  # import and export QA forms, import past evaluations
    # Draw QA samples and see them: QA evaluators and management, not team leads (a lead who
    # knows which of the team's calls will be scored could steer them).
    QUALITY_SAMPLES = "quality.samples"
    QA_CALIBRATION = "qa.calibration"  # calibration sessions and evaluator reliability
    # Service quality monitoring: the evaluation workspace, the agent's evaluations, disputes.
    QA_EVALUATE = "quality.evaluate"  # score assigned calls; regrade submitted evaluations
    QA_VIEW = "quality.view"  # an evaluation and its recording; object-scoped (quality.workspace)
    QA_OWN = "quality.own"  # an agent's own evaluations: acknowledge, dispute items
    QA_REVIEW = "quality.review"  # decide disputes; a team lead those of their teams
    # Automatic QA verdicts on transcripts; object-scoped: an agent their own calls, a lead
    # their teams'.
    AUTOQA_VIEW = "quality.autoqa"
    # Training: trainers keep the bank, build exams, grade essays, read item statistics and
    # run certification programmes; agents take their own exams; results are object-scoped
    # (a team lead sees their teams').
    TRAINING_MANAGE = "training.manage"
    EXAMS_TAKE = "training.take"
    EXAM_RESULTS = "training.results"
    # The exams page: an agent's own exams, or the results of those who read them.
    EXAMS_PAGE = "training.exams"
    # The knowledge library: everyone reads published items and writes drafts of their own;
    # reviewers approve or return submissions; trainers, QA and managers adopt best practices;
    # the library's reports are for staff; its vocabulary, point rules and imports are kept by
    # trainers and management.
    KNOWLEDGE_READ = "knowledge.read"
    KNOWLEDGE_WRITE = "knowledge.write"
    KNOWLEDGE_REVIEW = "knowledge.review"
    KNOWLEDGE_ADOPT = "knowledge.adopt"
    KNOWLEDGE_REPORTS = "knowledge.reports"
    KNOWLEDGE_MANAGE = "knowledge.manage"


_EVERYONE = frozenset(ROLES)
_STAFF = frozenset({"admin", "manager", "team_lead", "qa", "trainer"})
_MANAGEMENT = frozenset({"admin", "manager"})

MATRIX: dict[Permission, frozenset[str]] = {
    Permission.SELF: _EVERYONE,
    Permission.AGENTS_LIST: _STAFF,
    Permission.AGENTS_VIEW: _EVERYONE,
    Permission.AGENTS_EDIT: _MANAGEMENT,
    Permission.TEAMS_VIEW: _STAFF,
    Permission.TEAMS_MANAGE: _MANAGEMENT,
    Permission.ROSTER_IMPORT: _MANAGEMENT,
    Permission.USERS_MANAGE: frozenset({"admin"}),
    Permission.IMPORTS_MANAGE: _MANAGEMENT,
    Permission.METRICS_VIEW: _STAFF,
    Permission.CERTIFICATIONS_VIEW: _EVERYONE,
    Permission.CERTIFICATIONS_MANAGE: frozenset({"admin", "manager", "trainer"}),
    Permission.EVIDENCE_IMPORT: frozenset({"admin", "manager", "qa", "trainer"}),
    Permission.LADDER_VIEW: _EVERYONE,
    Permission.LADDER_TEAM: frozenset({"admin", "manager", "team_lead"}),
    Permission.LADDER_REPORTS: _MANAGEMENT,
    Permission.LADDER_RUN: _MANAGEMENT,
    Permission.LADDER_DECIDE: _MANAGEMENT,
    Permission.LADDER_POLICY: _MANAGEMENT,
    Permission.LADDER_APPEAL: frozenset({"agent"}),
    Permission.QA_DASHBOARD: frozenset({"admin", "manager", "team_lead", "qa"}),
    Permission.QA_IMPORT: frozenset({"admin", "manager", "qa"}),
    Permission.QUALITY_SAMPLES: frozenset({"admin", "manager", "qa"}),
    Permission.QA_CALIBRATION: frozenset({"admin", "manager", "qa"}),
    Permission.QA_EVALUATE: frozenset({"admin", "qa"}),
    Permission.QA_VIEW: frozenset({"admin", "qa", "team_lead", "agent"}),
    Permission.QA_OWN: frozenset({"agent"}),
    Permission.QA_REVIEW: frozenset({"admin", "qa", "team_lead"}),
    Permission.AUTOQA_VIEW: frozenset({"admin", "manager", "team_lead", "qa", "agent"}),
    Permission.TRAINING_MANAGE: frozenset({"admin", "trainer"}),
    Permission.EXAMS_TAKE: frozenset({"agent"}),
    Permission.EXAM_RESULTS: frozenset({"admin", "manager", "team_lead", "trainer"}),
    Permission.EXAMS_PAGE: frozenset({"admin", "manager", "team_lead", "trainer", "agent"}),
    Permission.KNOWLEDGE_READ: _EVERYONE,
    Permission.KNOWLEDGE_WRITE: _EVERYONE,
    Permission.KNOWLEDGE_REVIEW: _STAFF,
    Permission.KNOWLEDGE_ADOPT: frozenset({"admin", "manager", "qa", "trainer"}),
    Permission.KNOWLEDGE_REPORTS: _STAFF,
    Permission.KNOWLEDGE_MANAGE: frozenset({"admin", "manager", "trainer"}),
}

# Roles that see every agent; team leads see their teams' agents, agents only themselves.
ALL_AGENTS_ROLES = frozenset({"admin", "manager", "qa", "trainer"})


def allows(roles: Iterable[str], permission: Permission) -> bool:
    """Whether any of the roles grants the permission."""
    return not MATRIX[permission].isdisjoint(roles)


ROLE_NAMES: dict[str, str] = {
    "admin": N_("Administrator"),
    "manager": N_("Operations manager"),
    "team_lead": N_("Team lead"),
    "qa": N_("QA evaluator"),
    "trainer": N_("Trainer"),
    "agent": N_("Agent"),
}
