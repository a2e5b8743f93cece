"""The one permission matrix: which roles may do what. Routes declare one permission each."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from agentladder.i18n import N_
from agentladder.org.models import ROLES


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
