"""Organisation tables: teams, skill groups, agents, level history, ACD aliases, users."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agentladder.db import Base, UtcDateTime, utcnow
from agentladder.org.schemas import ROLES

AGENT_STATUSES = ("active", "left")
LEVEL_SOURCES = ("roster", "demo", "ladder", "manual")
# Where a user's password is checked: our own argon2 hash, or the sign-in directory (LDAP).
AUTH_SOURCES = ("local", "ldap")

agent_skill_groups = Table(
    "agent_skill_groups",
    Base.metadata,
    Column("agent_id", ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
    Column("skill_group_id", ForeignKey("skill_groups.id", ondelete="CASCADE"), primary_key=True),
)


team_leads = Table(
    "team_leads",
    Base.metadata,
    Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class Team(Base):
    """A team (班组) of agents and the users who lead it (班长, 组长)."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    leads: Mapped[list[User]] = relationship(
        secondary=team_leads, back_populates="led_teams", order_by="User.username"
    )
    agents: Mapped[list[Agent]] = relationship(back_populates="team")


class SkillGroup(Base):
    """A skill group (技能组): the queues an agent is qualified to serve."""

    __tablename__ = "skill_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))


class Agent(Base):
    """A person who answers calls; the subject of every score and level decision."""

    __tablename__ = "agents"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'left')", name="status"),
        CheckConstraint("status = 'left' OR left_on IS NULL", name="left_on_only_when_left"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_no: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120), index=True)
    hire_date: Mapped[date] = mapped_column(Date)
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    # The group whose cohort the ladder compares the agent with; always one of skill_groups
    # (the service keeps it so). NULL: not chosen, the ladder falls back (org.service.cohort_of).
    primary_skill_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("skill_groups.id", ondelete="SET NULL"), index=True
    )
    current_level: Mapped[str] = mapped_column(String(40), index=True)
    level_since: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="active", index=True)
    left_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    team: Mapped[Team | None] = relationship(back_populates="agents")
    skill_groups: Mapped[list[SkillGroup]] = relationship(
        secondary=agent_skill_groups, order_by=SkillGroup.code
    )
    primary_skill_group: Mapped[SkillGroup | None] = relationship()
    level_history: Mapped[list[LevelHistory]] = relationship(
        back_populates="agent",
        order_by="(LevelHistory.effective_on, LevelHistory.id)",
        cascade="all, delete-orphan",
    )
    aliases: Mapped[list[AgentAlias]] = relationship(
        back_populates="agent", order_by="AgentAlias.identity", cascade="all, delete-orphan"
    )


class LevelHistory(Base):
    """One level change of an agent, effective on a date, with where it came from."""

    __tablename__ = "level_history"
    __table_args__ = (
        CheckConstraint("source IN ('roster', 'demo', 'ladder', 'manual')", name="source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    from_level: Mapped[str | None] = mapped_column(String(40))
    to_level: Mapped[str] = mapped_column(String(40))
    effective_on: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    recorded_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    agent: Mapped[Agent] = relationship(back_populates="level_history")


class AgentAlias(Base):
    """How an agent appears in a source system (Agent/1001, SIP/1001, a work number...)."""

    __tablename__ = "agent_aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    identity: Mapped[str] = mapped_column(String(200))
    # The normalized identity is unique: one identity can only ever mean one person.
    identity_key: Mapped[str] = mapped_column(String(200), unique=True)
    source: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    agent: Mapped[Agent] = relationship(back_populates="aliases")


class User(Base):
    """Someone who logs in; may also be an agent."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("auth_source IN ('local', 'ldap')", name="auth_source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    # "ldap": the directory checks the password and decides the roles at every login.
    auth_source: Mapped[str] = mapped_column(String(10), default="local", server_default="local")
    language: Mapped[str | None] = mapped_column(String(10))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    agent: Mapped[Agent | None] = relationship(foreign_keys=[agent_id])
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", order_by="UserRole.role"
    )
    led_teams: Mapped[list[Team]] = relationship(
        secondary=team_leads, back_populates="leads", order_by=Team.code
    )

    @property
    def roles(self) -> frozenset[str]:
        """The roles this user holds."""
        return frozenset(row.role for row in self.role_rows)


class UserRole(Base):
    """A role held by a user; a user may hold several."""

    __tablename__ = "user_roles"
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'manager', 'team_lead', 'qa', 'trainer', 'agent')", name="role"
        ),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class UserSession(Base):
    """A logged-in browser or API client; only the hash of its token is stored."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    client_ip: Mapped[str] = mapped_column(String(64), default="")

    user: Mapped[User] = relationship()


class ApiToken(Base):
    """A personal access token for scripts: acts as its user with the user's roles; only the
    hash of the secret is stored, its first characters identify it in lists."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    user: Mapped[User] = relationship()


class LoginAttempt(Base):
    """A login try, kept to throttle guessing per username and per address."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), index=True)
    client_ip: Mapped[str] = mapped_column(String(64), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    succeeded: Mapped[bool] = mapped_column(Boolean)


__all__ = [
    "AGENT_STATUSES",
    "AUTH_SOURCES",
    "LEVEL_SOURCES",
    "ROLES",
    "Agent",
    "AgentAlias",
    "ApiToken",
    "LevelHistory",
    "LoginAttempt",
    "SkillGroup",
    "Team",
    "User",
    "UserRole",
    "UserSession",
]
