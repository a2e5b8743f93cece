"""Columns several importers share: the agent a row is about, and the agent's name as the file
spells it (checked against the stored name: a difference is only a warning)."""

from __future__ import annotations

from collections.abc import Callable

from agentladder.i18n import N_
from agentladder.imports.spec import Column, ParsedRow, Problems
from agentladder.tabular import fold_header

AGENT_COLUMN: Column = Column(
    "agent",
    label=N_("Employee no."),
    zh=("工号", "员工号", "员工编号", "座席工号", "坐席工号", "座席", "坐席"),
    en=(
        "agent",
        "employee_no",
        "employee no",
        "employee number",
        "employee id",
        "agent id",
        "staff id",
        "work number",
    ),
    example="100001",
    help=N_("The agent's employee number or any of their ACD identities."),
    required=True,
    if_empty=N_("employee number is empty"),
)
NAME_COLUMN: Column = Column(
    "name",
    label=N_("Name"),
    zh=("姓名", "座席姓名", "坐席姓名"),
    en=("name", "agent name"),
    example="王芳",
    help=N_("The agent's name, checked against the agent's (a difference is a warning)."),
)


def name_differs(problems: Problems, row: ParsedRow, agent_name: str) -> None:
    """Warn when the file's name for the agent is not the agent's name."""
    name = row.text("name")
    if name and fold_header(name) != fold_header(agent_name):
        problems.add(
            row.number,
            "name",
            N_("the name differs from the agent's name ({name})"),
            name,
            severity="warning",
            name=agent_name,
        )


def row_agent(
    problems: Problems, row: ParsedRow, resolve: Callable[[str], int | None]
) -> int | None:
    """The agent the row's agent column names, or None (an unknown identity is a problem)."""
    identity = row.text("agent")
    agent_id = resolve(identity) if identity else None
    if identity and agent_id is None:
        problems.add(
            row.number, "agent", N_("no agent has this employee number or ACD identity"), identity
        )
    return agent_id
