"""`agentladder org agents create/update`: skill groups and the primary skill group."""

from __future__ import annotations

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from agentladder.cli import app
from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.org import service as org_service
from tests.factories import make_skill_group, make_team


def _groups_and_primary(settings: Settings, employee_no: str) -> tuple[list[str], str | None]:
    with session_scope(settings) as session:
        agent = org_service.get_agent_by_employee_no(session=session, employee_no=employee_no)
        assert agent is not None
        read = org_service.agent_read(agent)
        return read.skill_groups, read.primary_skill_group


def test_agents_create_and_update_set_the_primary_skill_group(
    cli_env: Settings, session: Session
) -> None:
    make_team(session, "T01", "客服一组")
    for code in ("general", "sales", "vip"):
        make_skill_group(session, code, code)
    session.commit()
    runner = CliRunner()
    created = runner.invoke(
        app,
        [
            "org", "agents", "create", "100001", "王芳", "--hire-date", "2024-03-01",
            "--team", "T01", "--skill-groups", "general", "--primary-skill-group", "sales",
        ],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "primary: sales" in created.output
    assert _groups_and_primary(cli_env, "100001") == (["general", "sales"], "sales")

    update = ["org", "agents", "update", "100001"]
    changed = runner.invoke(app, [*update, "--primary-skill-group", "vip"])
    assert changed.exit_code == 0, changed.output
    assert _groups_and_primary(cli_env, "100001") == (["general", "sales", "vip"], "vip")
    cleared = runner.invoke(app, [*update, "--primary-skill-group", ""])
    assert cleared.exit_code == 0, cleared.output
    assert _groups_and_primary(cli_env, "100001") == (["general", "sales", "vip"], None)
    regrouped = runner.invoke(app, [*update, "--skill-groups", "vip"])
    assert regrouped.exit_code == 0, regrouped.output
    assert _groups_and_primary(cli_env, "100001") == (["vip"], "vip")

    unknown = runner.invoke(app, [*update, "--primary-skill-group", "nosuch"])
    assert unknown.exit_code == 1
    assert "unknown skill group nosuch" in unknown.output
    assert _groups_and_primary(cli_env, "100001") == (["vip"], "vip")
    nobody = runner.invoke(app, ["org", "agents", "update", "999", "--skill-groups", "vip"])
    assert nobody.exit_code == 1

    listed = runner.invoke(app, ["org", "agents", "list", "--format", "csv"])
    assert listed.exit_code == 0, listed.output
    header, row = listed.output.strip().splitlines()[:2]
    assert "primary_skill_group" in header.split(",")
    assert row.split(",")[header.split(",").index("primary_skill_group")] == "vip"
