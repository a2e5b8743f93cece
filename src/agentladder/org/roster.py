"""Roster import (CSV or XLSX, Chinese or English headers): preview, then apply all or nothing.

The file is read and every row validated before anything is written; a file with any error
changes nothing. Re-importing updates agents by employee number instead of duplicating them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from agentladder.errors import InvalidInput
from agentladder.i18n import N_
from agentladder.org.identity import identity_key
from agentladder.org.levels import service as levels_service
from agentladder.org.models import Agent, AgentAlias, LevelHistory, RosterImport, SkillGroup, User
from agentladder.org.schemas import RosterIssue, RosterPreview, RosterResult, RosterRowPlan
from agentladder.tabular import TableFileError, cell_text, map_headers, read_table

# Canonical field -> header spellings seen in Chinese and English exports (compared folded).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "employee_no": (
        "工号",
        "员工号",
        "员工编号",
        "座席工号",
        "坐席工号",
        "employee_no",
        "employee no",
        "employee number",
        "employee id",
        "emp no",
        "staff id",
        "staff no",
        "work number",
        "工作号",
    ),
    "name": ("姓名", "员工姓名", "座席姓名", "坐席姓名", "名字", "name", "full name", "agent name"),
    "hire_date": (
        "入职日期",
        "入职时间",
        "hire_date",
        "hire date",
        "hired on",
        "start date",
        "date hired",
        "join date",
    ),
    "team": ("班组", "班组编码", "班组代码", "团队", "小组", "team", "team code", "team_code"),
    "skill_groups": ("技能组", "技能", "skill_groups", "skill groups", "skill group", "skills"),
    "level": ("级别", "等级", "座席级别", "坐席级别", "level"),
    "status": ("状态", "在职状态", "status"),
    "left_on": ("离职日期", "离职时间", "left_on", "left on", "leave date", "termination date"),
    "aliases": (
        "分机",
        "分机号",
        "acd工号",
        "acd账号",
        "坐席号",
        "座席号",
        "别名",
        "aliases",
        "acd id",
        "acd ids",
        "extension",
        "acd identities",
    ),
}
REQUIRED = ("employee_no", "name", "hire_date", "team")
_LIST_SEPARATORS = re.compile(r"[,，;；、|\n]+")
_ACTIVE = {"active", "在职", "在岗", "正常", "1", "yes", "y", "true"}
_LEFT = {"left", "离职", "已离职", "inactive", "0", "no", "n", "false"}
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


@dataclass
class _Plan:
    preview: RosterPreview
    lookups: _Lookups
    records: list[_RowRecord] = field(default_factory=list)


@dataclass
class _RowRecord:
    row: int
    employee_no: str
    name: str
    hire_date: date
    team_id: int
    skill_group_ids: list[int]
    level: str | None
    status: str | None
    left_on: date | None
    aliases: list[str]


RosterFileError = TableFileError  # the roster's name for an unreadable file

# --- validating ----------------------------------------------------------------------------


def parse_date(text: str) -> date:
    """A date as rosters write it: 2024-03-01, 2024/3/1, 2024.3.1, 2024年3月1日, 20240301."""
    value = text.strip()
    for pattern in _DATE_PATTERNS:
        match = pattern.match(value)
        if match:
            year, month, day = (int(part) for part in match.groups())
            return date(year, month, day)
    raise ValueError(value)


def _split_list(text: str) -> list[str]:
    return [part.strip() for part in _LIST_SEPARATORS.split(text) if part.strip()]


class _Lookups:
    """Teams, skill groups, agents and aliases loaded once for the whole file."""

    def __init__(self, session: Session, present: set[str]) -> None:
        from sqlalchemy import select

        from agentladder.org.models import Team

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
        self.alias_owner: dict[str, int] = dict(
            session.execute(select(AgentAlias.identity_key, AgentAlias.agent_id)).all()
        )


def _map_columns(header: list[str], issues: list[RosterIssue]) -> dict[str, int]:
    columns, problems = map_headers(header, HEADER_ALIASES, REQUIRED)
    issues += [
        RosterIssue(
            row=1, column=problem.column, severity=problem.severity, message=problem.message
        )
        for problem in problems
    ]
    return columns


def _validate_row(
    number: int,
    cells: list[str],
    header: list[str],
    columns: dict[str, int],
    lookups: _Lookups,
    seen_numbers: dict[str, int],
    seen_aliases: dict[str, tuple[int, str]],
    issues: list[RosterIssue],
) -> _RowRecord | None:
    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    def problem(name: str, message: str, value: str | None = None, **params: object) -> None:
        issues.append(
            RosterIssue(
                row=number,
                column=header[columns[name]],
                message=message,
                value=value,
                params=params,
            )
        )

    errors_before = len(issues)
    employee_no = cell("employee_no")
    if not employee_no:
        problem("employee_no", N_("employee number is empty"))
    elif len(employee_no) > 40:
        problem("employee_no", N_("employee number is longer than 40 characters"), employee_no)
    elif employee_no in seen_numbers:
        problem(
            "employee_no",
            N_("employee number also appears in row {row}"),
            employee_no,
            row=seen_numbers[employee_no],
        )
    else:
        seen_numbers[employee_no] = number
    name = cell("name")
    if not name:
        problem("name", N_("name is empty"))
    hire_date: date | None = None
    raw_hire = cell("hire_date")
    try:
        hire_date = parse_date(raw_hire)
    except ValueError:
        problem("hire_date", N_("not a date (write 2024-03-01)"), raw_hire)
    team_text = cell("team")
    team = lookups.teams.get(team_text.casefold()) if team_text else None
    if team is None:
        problem("team", N_("unknown team code") if team_text else N_("team is empty"), team_text)
    group_ids: list[int] = []
    if "skill_groups" in columns:
        for code in _split_list(cell("skill_groups")):
            group = lookups.groups.get(code.casefold())
            if group is None:
                problem("skill_groups", N_("unknown skill group"), code)
            else:
                group_ids.append(group.id)
    level: str | None = None
    if "level" in columns and cell("level"):
        try:
            level = levels_service.parse_level(cell("level")).id
        except InvalidInput:
            problem("level", N_("unknown level"), cell("level"))
    status: str | None = None
    if "status" in columns and cell("status"):
        folded = cell("status").casefold()
        status = "active" if folded in _ACTIVE else "left" if folded in _LEFT else None
        if status is None:
            problem("status", N_("status must be active or left (在职/离职)"), cell("status"))
    left_on: date | None = None
    if "left_on" in columns and cell("left_on"):
        try:
            left_on = parse_date(cell("left_on"))
        except ValueError:
            problem("left_on", N_("not a date (write 2024-03-01)"), cell("left_on"))
        else:
            if status == "active":
                problem(
                    "left_on",
                    N_("a leaving date is given but the status is active"),
                    cell("left_on"),
                )
            status = "left"
            if hire_date and left_on < hire_date:
                problem("left_on", N_("leaving date is before the hire date"), cell("left_on"))
    aliases: list[str] = []
    if "aliases" in columns:
        existing = lookups.agents.get(employee_no)
        for identity in _split_list(cell("aliases")):
            key = identity_key(identity)
            owner = lookups.alias_owner.get(key)
            if owner is not None and (existing is None or owner != existing.id):
                problem("aliases", N_("identity already belongs to another agent"), identity)
            elif key in seen_aliases and seen_aliases[key][1] != employee_no:
                problem(
                    "aliases",
                    N_("identity also appears in row {row}"),
                    identity,
                    row=seen_aliases[key][0],
                )
            else:
                seen_aliases[key] = (number, employee_no)
                aliases.append(identity)
    if len(issues) > errors_before or hire_date is None or team is None:
        return None
    return _RowRecord(
        number,
        employee_no,
        name,
        hire_date,
        team.id,
        sorted(set(group_ids)),
        level,
        status,
        left_on,
        aliases,
    )


def _changes(agent: Agent, record: _RowRecord, lookups: _Lookups) -> dict[str, tuple[str, str]]:
    changes: dict[str, tuple[str, str]] = {}

    def compare(field_name: str, old: object, new: object) -> None:
        if old != new:
            changes[field_name] = (cell_text(old), cell_text(new))

    compare("name", agent.name, record.name)
    compare("hire_date", agent.hire_date, record.hire_date)
    compare("team", agent.team.code if agent.team else "", lookups.team_by_id[record.team_id].code)
    if "skill_groups" in lookups.present:
        old_groups = ", ".join(sorted(g.code for g in agent.skill_groups))
        new_groups = ", ".join(sorted(lookups.group_by_id[i].code for i in record.skill_group_ids))
        compare("skill_groups", old_groups, new_groups)
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


def _plan(session: Session, data: bytes, file_name: str, encoding: str | None) -> _Plan:
    table = read_table(data, file_name, encoding)
    issues: list[RosterIssue] = []
    rows: list[RosterRowPlan] = []
    records: list[_RowRecord] = []
    columns = _map_columns(table.header, issues)
    lookups = _Lookups(session, present=set(columns))
    data_rows = [(number, cells) for number, cells in table.rows if any(cells)]
    if not any(issue.severity == "error" for issue in issues):
        seen_numbers: dict[str, int] = {}
        seen_aliases: dict[str, tuple[int, str]] = {}
        for number, cells in data_rows:
            record = _validate_row(
                number, cells, table.header, columns, lookups, seen_numbers, seen_aliases, issues
            )
            if record is None:
                continue
            records.append(record)
            agent = lookups.agents.get(record.employee_no)
            changes = _changes(agent, record, lookups) if agent is not None else {}
            action = "create" if agent is None else "update" if changes else "unchanged"
            rows.append(
                RosterRowPlan(
                    row=number,
                    employee_no=record.employee_no,
                    name=record.name,
                    action=action,
                    changes=changes,
                )
            )
        if not data_rows:
            issues.append(
                RosterIssue(row=None, column=None, message=N_("the file has no data rows"))
            )
    preview = RosterPreview(
        file_name=Path(file_name).name,
        file_sha256=hashlib.sha256(data).hexdigest(),
        encoding=table.encoding,
        columns={name: table.header[index] for name, index in columns.items()},
        rows_read=len(data_rows),
        rows=rows,
        issues=issues,
    )
    return _Plan(preview=preview, lookups=lookups, records=records)


def preview_roster(
    *, session: Session, data: bytes, file_name: str, encoding: str | None = None
) -> RosterPreview:
    """What importing the file would do, row by row, and every problem found; writes nothing."""
    return _plan(session, data, file_name, encoding).preview


def apply_roster(
    *,
    session: Session,
    data: bytes,
    file_name: str,
    today: date,
    encoding: str | None = None,
    imported_by: User | None = None,
) -> RosterResult:
    """Import the file if it has no errors (all rows or none); return what was done."""
    plan = _plan(session, data, file_name, encoding)
    preview = plan.preview
    if preview.errors:
        return RosterResult(applied=False, preview=preview)
    lookups = plan.lookups
    for record in plan.records:
        agent = lookups.agents.get(record.employee_no)
        groups = [lookups.group_by_id[group_id] for group_id in record.skill_group_ids]
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
                skill_groups=groups,
            )
            agent.level_history.append(
                LevelHistory(
                    from_level=None,
                    to_level=level,
                    effective_on=record.hire_date,
                    source="roster",
                    reason=f"roster {preview.file_name}",
                    recorded_by_user_id=imported_by.id if imported_by else None,
                )
            )
            session.add(agent)
        else:
            agent.name = record.name
            agent.hire_date = record.hire_date
            agent.team_id = record.team_id
            if "skill_groups" in preview.columns:
                agent.skill_groups = groups
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
                        reason=f"roster {preview.file_name}",
                        recorded_by_user_id=imported_by.id if imported_by else None,
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
    entry = RosterImport(
        file_name=preview.file_name,
        file_sha256=preview.file_sha256,
        encoding=preview.encoding,
        rows_read=preview.rows_read,
        created=preview.count("create"),
        updated=preview.count("update"),
        unchanged=preview.count("unchanged"),
        imported_by_user_id=imported_by.id if imported_by else None,
    )
    session.add(entry)
    session.flush()
    return RosterResult(applied=True, preview=preview, import_id=entry.id)


# --- uploads waiting between preview and apply -------------------------------------------

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
_TOKEN = re.compile(r"^[0-9a-f]{64}$")


def stash_upload(*, data_dir: Path, data: bytes, file_name: str) -> str:
    """Keep an uploaded roster until it is applied; the token is the file's SHA-256."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise TableFileError("the file is larger than {mb} MB", mb=MAX_UPLOAD_BYTES // 2**20)
    token = hashlib.sha256(data).hexdigest()
    folder = data_dir / "uploads" / "roster"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / token).write_bytes(data)
    (folder / f"{token}.name").write_text(Path(file_name).name or "roster", encoding="utf-8")
    return token


def load_upload(*, data_dir: Path, token: str) -> tuple[bytes, str]:
    """The stashed file and its original name."""
    folder = data_dir / "uploads" / "roster"
    if not _TOKEN.match(token) or not (folder / token).exists():
        raise TableFileError("the uploaded file is no longer available; upload it again")
    return (folder / token).read_bytes(), (folder / f"{token}.name").read_text(encoding="utf-8")


def list_roster_imports(*, session: Session, limit: int = 20) -> list[RosterImport]:
    """The most recent applied roster files."""
    from sqlalchemy import select

    return list(session.scalars(select(RosterImport).order_by(RosterImport.id.desc()).limit(limit)))
