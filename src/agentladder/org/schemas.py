"""Pydantic shapes of the organisation, in and out."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agentladder.imports.schemas import ImportIssue, ImportPreview, ImportResult, RowPlan

Role = Literal["admin", "manager", "team_lead", "qa", "trainer", "agent"]
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
    level: str | None = None

    @field_validator("employee_no", "name")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()


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
    current_level: str
    level_since: date
    status: str
    left_on: date | None


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


RosterIssue = ImportIssue  # a problem with one cell, row or the whole file


class RosterRowPlan(RowPlan):
    """What importing one roster row does to the agent with this employee number."""

    employee_no: str
    name: str


RosterPreview = ImportPreview[RosterRowPlan]
RosterResult = ImportResult[RosterRowPlan]
