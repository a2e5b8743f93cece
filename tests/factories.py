"""Small builders for test data, through the real services."""

from __future__ import annotations

import itertools
import re
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.org import service as org_service
from agentladder.org.accounts import service as accounts_service
from agentladder.org.models import Agent, User
from agentladder.org.schemas import (
    AgentCreate,
    SkillGroupCreate,
    TeamCreate,
    TeamUpdate,
    UserCreate,
)

PASSWORD = "correct-horse-battery"
_numbers = itertools.count(1)


def make_team(session: Session, code: str = "T01", name: str = "客服一组") -> int:
    return org_service.create_team(session=session, team_in=TeamCreate(code=code, name=name)).id


def make_skill_group(session: Session, code: str = "general", name: str = "普通话热线") -> int:
    return org_service.create_skill_group(
        session=session, group_in=SkillGroupCreate(code=code, name=name)
    ).id


def make_agent(session: Session, **overrides: object) -> Agent:
    values: dict[str, object] = {
        "employee_no": f"E{next(_numbers):05d}",
        "name": "张伟",
        "hire_date": date(2024, 3, 1),
        "team_code": None,
    }
    values.update(overrides)
    return org_service.create_agent(session=session, agent_in=AgentCreate.model_validate(values))


def make_user(
    session: Session,
    settings: Settings,
    username: str,
    roles: list[str],
    agent: Agent | None = None,
    lead_team_id: int | None = None,
) -> User:
    user = accounts_service.create_user(
        session=session,
        settings=settings,
        user_in=UserCreate.model_validate(
            {
                "username": username,
                "password": PASSWORD,
                "roles": roles,
                "employee_no": agent.employee_no if agent else None,
            }
        ),
    )
    if lead_team_id is not None:
        org_service.update_team(
            session=session, team_id=lead_team_id, team_in=TeamUpdate(lead_usernames=[username])
        )
    return user


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: TestClient, path: str = "/login") -> str:
    """The CSRF token a page hands this client."""
    response = client.get(path)
    match = _CSRF.search(response.text)
    assert match, f"no CSRF token on {path} ({response.status_code})"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> TestClient:
    """Log the client in through the login form; returns the client."""
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:500]
    client.headers["X-CSRF-Token"] = token
    return client
