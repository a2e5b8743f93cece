"""Roster import on real files: Chinese and English headers, GBK/GB18030, XLSX, all-or-nothing."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from agentladder.cli import app
from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.imports.models import FileImport
from agentladder.org import service as org_service
from agentladder.org.models import Agent, AgentAlias, LevelHistory
from agentladder.org.roster import service as roster_service
from agentladder.org.roster.service import RosterFileError, parse_date
from tests.factories import make_skill_group, make_team

TODAY = date(2026, 11, 23)

GOOD = """工号,姓名,入职日期,班组,技能组,分机
100001,王芳,2024-03-01,T01,general,Agent/8001
100002,李强,2024/7/15,T01,general、billing,SIP/8002
100003,张伟,2025年1月6日,T02,billing,
100004,刘洋,2023.11.20,客服二组,,PJSIP/8004
"""

BAD = GOOD.replace("2024/7/15", "2024-13-45").replace("2025年1月6日,T02", "2025年1月6日,T99")


@pytest.fixture
def centre(session: Session) -> None:
    make_team(session, "T01", "客服一组")
    make_team(session, "T02", "客服二组")
    make_skill_group(session, "general", "普通话热线")
    make_skill_group(session, "billing", "账务咨询")
    session.commit()


def _apply(settings: Settings, data: bytes, name: str = "roster.csv", **kwargs: object):  # type: ignore[no-untyped-def]
    with session_scope(settings) as session:
        return roster_service.apply_roster(
            session=session, data=data, file_name=name, today=TODAY, **kwargs
        )


def _count(settings: Settings, model: type) -> int:
    with session_scope(settings) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_two_bad_rows_are_both_reported_and_nothing_is_stored(
    settings: Settings, centre: None
) -> None:
    result = _apply(settings, BAD.encode())
    assert not result.applied
    errors = [(e.row, e.column, e.value) for e in result.preview.errors]
    assert errors == [(3, "入职日期", "2024-13-45"), (4, "班组", "T99")]
    assert _count(settings, Agent) == 0
    assert _count(settings, AgentAlias) == 0
    # The refused file is in the ledger with its rejected rows; nothing was applied.
    with session_scope(settings) as session:
        [entry] = session.scalars(select(FileImport)).all()
        assert (entry.kind, entry.status, entry.rejected) == ("roster", "refused", 2)
        assert [(i["row"], i["column"]) for i in entry.issues] == [(3, "入职日期"), (4, "班组")]


def test_corrected_file_stores_all_and_reimport_changes_nothing(
    settings: Settings, centre: None
) -> None:
    first = _apply(settings, GOOD.encode())
    assert first.applied
    assert first.preview.count("create") == 4
    assert _count(settings, Agent) == 4
    with session_scope(settings) as session:
        li = org_service.get_agent_by_employee_no(session=session, employee_no="100002")
        assert li is not None
        assert li.hire_date == date(2024, 7, 15)
        assert li.team is not None
        assert li.team.code == "T01"
        assert [g.code for g in li.skill_groups] == ["billing", "general"]
        assert [a.identity for a in li.aliases] == ["SIP/8002"]
        liu = org_service.get_agent_by_employee_no(session=session, employee_no="100004")
        assert liu is not None
        assert liu.team is not None
        assert liu.team.code == "T02"
        assert liu.current_level == "basic_fresh"
        history = session.scalars(select(LevelHistory)).all()
        assert len(history) == 4

    second = _apply(settings, GOOD.encode())
    assert second.applied
    assert second.preview.count("unchanged") == 4
    assert second.preview.count("create") == second.preview.count("update") == 0
    assert _count(settings, Agent) == 4
    assert _count(settings, AgentAlias) == 3
    assert _count(settings, LevelHistory) == 4


def test_reimport_updates_instead_of_duplicating(settings: Settings, centre: None) -> None:
    _apply(settings, GOOD.encode())
    moved = GOOD.replace("100001,王芳,2024-03-01,T01", "100001,王芳芳,2024-03-01,T02")
    result = _apply(settings, moved.encode())
    assert result.applied
    [row] = [r for r in result.preview.rows if r.action == "update"]
    assert row.employee_no == "100001"
    assert row.changes == {"name": ("王芳", "王芳芳"), "team": ("T01", "T02")}
    assert _count(settings, Agent) == 4


def test_gbk_csv_with_chinese_headers_imports(settings: Settings, centre: None) -> None:
    data = GOOD.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    result = _apply(settings, data)
    assert result.applied, result.preview.errors
    assert result.preview.encoding == "gb18030"
    with session_scope(settings) as session:
        agent = org_service.get_agent_by_employee_no(session=session, employee_no="100003")
        assert agent is not None
        assert agent.name == "张伟"


def test_explicit_encoding_and_wrong_encoding(settings: Settings, centre: None) -> None:
    data = GOOD.encode("gb18030")
    assert _apply(settings, data, encoding="gbk").applied
    with session_scope(settings) as session, pytest.raises(RosterFileError) as caught:
        roster_service.preview_roster(
            session=session, data=data, file_name="r.csv", encoding="utf-8"
        )
    assert "utf-8" in str(caught.value)


def test_utf8_bom_tab_separated_english_headers(settings: Settings, centre: None) -> None:
    text = (
        "Employee No\tName\tHire Date\tTeam\tSkill Groups\tLevel\n"
        "200001\tAnna Li\t2022-05-01\tT01\tgeneral\tBasic Junior\n"
        "200002\tBo Chen\t2021-01-04\tt02\t\t中级座席·潜力\n"
    )
    result = _apply(settings, b"\xef\xbb\xbf" + text.encode())
    assert result.applied, result.preview.issues
    with session_scope(settings) as session:
        anna = org_service.get_agent_by_employee_no(session=session, employee_no="200001")
        bo = org_service.get_agent_by_employee_no(session=session, employee_no="200002")
        assert anna is not None
        assert anna.current_level == "basic_junior"
        assert bo is not None
        assert bo.current_level == "potential"


def test_xlsx_with_date_cells_and_numeric_employee_numbers(
    settings: Settings, centre: None
) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["工号", "姓名", "入职日期", "班组", "状态", "离职日期"])
    sheet.append([300001, "赵敏", datetime(2023, 4, 3), "T01", "在职", None])
    sheet.append([300002, "周杰", datetime(2022, 9, 1), "T02", "离职", datetime(2025, 6, 30)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = _apply(settings, buffer.getvalue(), name="名单.xlsx")
    assert result.applied, result.preview.issues
    assert result.preview.encoding == "xlsx"
    with session_scope(settings) as session:
        zhou = org_service.get_agent_by_employee_no(session=session, employee_no="300002")
        assert zhou is not None
        assert (zhou.status, zhou.left_on, zhou.hire_date) == (
            "left",
            date(2025, 6, 30),
            date(2022, 9, 1),
        )


def test_missing_required_column_names_it(settings: Settings, centre: None) -> None:
    result = _apply(settings, "工号,姓名,班组\n1,王芳,T01\n".encode())
    assert not result.applied
    assert [(e.row, e.column, e.message) for e in result.preview.errors] == [
        (1, "入职日期", "required column is missing")
    ]


def test_duplicate_employee_number_and_alias_in_file(settings: Settings, centre: None) -> None:
    text = (
        "工号,姓名,入职日期,班组,分机\n"
        "1,王芳,2024-01-01,T01,Agent/1\n"
        "1,李强,2024-01-01,T01,\n"
        "2,赵敏,2024-01-01,T01,SIP/1\n"
    )
    result = _apply(settings, text.encode())
    assert not result.applied
    assert [(e.row, e.column, e.params) for e in result.preview.errors] == [
        (3, "工号", {"row": 2}),
        (4, "分机", {"row": 2}),
    ]


def test_alias_owned_by_another_agent_is_refused(settings: Settings, centre: None) -> None:
    _apply(settings, GOOD.encode())
    text = "工号,姓名,入职日期,班组,分机\n100009,新人,2024-01-01,T01,Agent/8001\n"
    result = _apply(settings, text.encode())
    assert [(e.row, e.column, e.value) for e in result.preview.errors] == [
        (2, "分机", "Agent/8001")
    ]


def test_a_name_or_identity_too_long_to_store_is_a_row_error(
    settings: Settings, centre: None
) -> None:
    # Each once reached PostgreSQL and answered the API with a server error; "ß" doubles when
    # folded into the identity's lookup key.
    text = (
        "工号,姓名,入职日期,班组,分机\n"
        f"1,{'李' * 121},2024-01-01,T01,\n"
        f"2,王芳,2024-01-01,T01,{'A' * 201}\n"
        f"3,赵敏,2024-01-01,T01,{'ß' * 150}\n"
    )
    result = _apply(settings, text.encode())
    assert not result.applied
    assert [(e.row, e.column) for e in result.preview.errors] == [
        (2, "姓名"),
        (3, "分机"),
        (4, "分机"),
    ]
    assert _count(settings, Agent) == 0


def test_dry_run_preview_writes_nothing(settings: Settings, centre: None) -> None:
    with session_scope(settings) as session:
        preview = roster_service.preview_roster(
            session=session, data=GOOD.encode(), file_name="r.csv"
        )
    assert preview.count("create") == 4
    assert preview.columns["hire_date"] == "入职日期"
    assert _count(settings, Agent) == 0


def test_unknown_columns_are_warnings_and_old_xls_is_refused(
    settings: Settings, centre: None
) -> None:
    text = GOOD.replace("分机", "备注")
    result = _apply(settings, text.encode())
    assert result.applied
    assert [(w.column, w.severity) for w in result.preview.issues] == [("备注", "warning")]
    with session_scope(settings) as session, pytest.raises(RosterFileError):
        roster_service.preview_roster(
            session=session,
            data=b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100,
            file_name="a.xls",
        )


def test_roster_level_change_on_existing_agent_keeps_history(
    settings: Settings, centre: None
) -> None:
    _apply(settings, GOOD.encode())
    text = "工号,姓名,入职日期,班组,级别\n100001,王芳,2024-03-01,T01,basic_senior\n"
    assert _apply(settings, text.encode()).applied
    with session_scope(settings) as session:
        agent = org_service.get_agent_by_employee_no(session=session, employee_no="100001")
        assert agent is not None
        assert [(h.from_level, h.to_level, h.effective_on) for h in agent.level_history] == [
            (None, "basic_fresh", date(2024, 3, 1)),
            ("basic_fresh", "basic_senior", TODAY),
        ]


@given(st.dates(min_value=date(1970, 1, 1), max_value=date(2100, 12, 31)))
def test_parse_date_reads_every_common_spelling(day: date) -> None:
    spellings = [
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}.{day.month:02d}.{day.day:02d}",
        f"{day.year}年{day.month}月{day.day}日",
        day.strftime("%Y%m%d"),
        f"{day.isoformat()} 00:00:00",
    ]
    assert {parse_date(text) for text in spellings} == {day}


@given(st.text(max_size=12))
def test_parse_date_never_returns_garbage(text: str) -> None:
    try:
        parsed = parse_date(text)
    except ValueError:
        return
    assert isinstance(parsed, date)


NEW_TEAMS = GOOD + "100005,陈静,2025-02-03,T09,,\n100006,赵敏,2025-02-03,t09,,\n"


def test_unknown_teams_are_refused_by_row_and_code_unless_created(
    settings: Settings, centre: None
) -> None:
    refused = _apply(settings, NEW_TEAMS.encode())
    assert [(e.row, e.value, e.message) for e in refused.preview.errors] == [
        (6, "T09", "unknown team code"),
        (7, "t09", "unknown team code"),
    ]
    assert _count(settings, Agent) == 0
    # The preview lists each team it would create once; nothing is written.
    preview = _apply(settings, NEW_TEAMS.encode(), dry_run=True, create_teams=True)
    assert preview.preview.errors == []
    assert [(w.row, w.value) for w in preview.preview.warnings] == [(6, "T09")]
    with session_scope(settings) as session:
        assert org_service.get_team_by_code(session=session, code="T09") is None
    applied = _apply(settings, NEW_TEAMS.encode(), create_teams=True)
    assert applied.applied
    with session_scope(settings) as session:
        team = org_service.get_team_by_code(session=session, code="T09")
        assert team is not None
        assert team.name == "T09"
        members = session.scalars(select(Agent).where(Agent.team_id == team.id)).all()
        assert sorted(a.employee_no for a in members) == ["100005", "100006"]
    # Imported again, the team exists: nothing new, no warning.
    again = _apply(settings, NEW_TEAMS.encode(), create_teams=True)
    assert again.preview.warnings == []
    assert again.preview.count("unchanged") == 6


def test_roster_cli_suggests_and_takes_create_teams(
    cli_env: Settings, centre: None, tmp_path: Path
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(NEW_TEAMS, encoding="utf-8")
    runner = CliRunner()
    refused = runner.invoke(app, ["org", "roster", "import", str(roster)])
    assert refused.exit_code == 1
    assert "T09" in refused.output
    assert "--create-teams" in refused.output
    created = runner.invoke(app, ["org", "roster", "import", str(roster), "--create-teams"])
    assert created.exit_code == 0, created.output
    with session_scope(cli_env) as session:
        assert org_service.get_team_by_code(session=session, code="T09") is not None


def _groups_and_primary(settings: Settings, employee_no: str) -> tuple[list[str], str | None]:
    with session_scope(settings) as session:
        agent = org_service.get_agent_by_employee_no(session=session, employee_no=employee_no)
        assert agent is not None
        read = org_service.agent_read(agent)
        return read.skill_groups, read.primary_skill_group


@pytest.mark.parametrize(
    "header", ["主技能组", "主要技能组", "primary skill group", "primary_skill_group"]
)
def test_primary_skill_group_column_in_chinese_and_english(
    settings: Settings, centre: None, header: str
) -> None:
    text = (
        f"工号,姓名,入职日期,班组,技能组,{header}\n"
        "100001,王芳,2024-03-01,T01,general、billing,billing\n"
        "100002,李强,2024-03-01,T01,general、billing,\n"
        "100003,张伟,2024-03-01,T01,billing,\n"
    )
    result = _apply(settings, text.encode())
    assert result.applied, result.preview.errors
    assert _groups_and_primary(settings, "100001") == (["billing", "general"], "billing")
    # Several groups and an empty cell: no primary (the ladder then takes the first by code).
    assert _groups_and_primary(settings, "100002") == (["billing", "general"], None)
    # One group: it is the primary.
    assert _groups_and_primary(settings, "100003") == (["billing"], "billing")


def test_primary_skill_group_missing_from_the_groups_is_added(
    settings: Settings, centre: None
) -> None:
    text = "工号,姓名,入职日期,班组,技能组,主技能组\n100001,王芳,2024-03-01,T01,general,账务咨询\n"
    result = _apply(settings, text.encode())
    assert result.applied, result.preview.errors
    [row] = result.preview.rows
    assert row.action == "create"
    assert _groups_and_primary(settings, "100001") == (["billing", "general"], "billing")


def test_unknown_primary_skill_group_is_refused_by_row_and_column(
    settings: Settings, centre: None
) -> None:
    text = (
        "工号,姓名,入职日期,班组,技能组,主技能组\n"
        "100001,王芳,2024-03-01,T01,general,general\n"
        "100002,李强,2024-03-01,T01,general,vip\n"
    )
    result = _apply(settings, text.encode())
    assert not result.applied
    assert [(e.row, e.column, e.value, e.message) for e in result.preview.errors] == [
        (3, "主技能组", "vip", "unknown skill group")
    ]
    assert _count(settings, Agent) == 0


def test_primary_skill_group_changes_show_in_the_preview(settings: Settings, centre: None) -> None:
    _apply(settings, GOOD.encode())
    assert _groups_and_primary(settings, "100002") == (["billing", "general"], None)
    # Only the primary column: the agent keeps their groups and gets a primary among them.
    only_primary = "工号,姓名,入职日期,班组,主技能组\n100002,李强,2024-07-15,T01,billing\n"
    preview = roster_service.preview_roster
    with session_scope(settings) as session:
        planned = preview(session=session, data=only_primary.encode(), file_name="p.csv")
    [row] = planned.rows
    assert (row.action, row.changes) == ("update", {"primary_skill_group": ("", "billing")})
    assert _apply(settings, only_primary.encode()).applied
    assert _groups_and_primary(settings, "100002") == (["billing", "general"], "billing")
    # English header; another of the agent's groups.
    general = "工号,姓名,入职日期,班组,primary skill group\n100002,李强,2024-07-15,T01,general\n"
    again = _apply(settings, general.encode())
    assert again.preview.rows[0].changes == {"primary_skill_group": ("billing", "general")}
    # Groups replaced without the primary: the only group left becomes the primary.
    dropped = "工号,姓名,入职日期,班组,技能组\n100002,李强,2024-07-15,T01,billing\n"
    third = _apply(settings, dropped.encode())
    assert third.preview.rows[0].changes == {
        "skill_groups": ("billing, general", "billing"),
        "primary_skill_group": ("general", "billing"),
    }
    assert _groups_and_primary(settings, "100002") == (["billing"], "billing")


def test_roster_template_has_the_primary_skill_group_column_and_imports(
    settings: Settings, centre: None
) -> None:
    from openpyxl import load_workbook

    from agentladder.imports.template import template_workbook

    data = template_workbook(roster_service.ROSTER_IMPORTER)
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    assert headers[headers.index("技能组") + 1] == "主技能组"
    result = _apply(settings, data, name="roster.xlsx")
    assert result.applied, result.preview.errors
    assert _groups_and_primary(settings, "100001") == (["general"], "general")
