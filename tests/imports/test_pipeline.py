"""The import pipeline on real files and a real database, with a small importer of teams:
CSV/TSV/XLSX, GBK, Chinese and English headers, typed cells, all-or-nothing, ledger, stash."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.i18n import N_
from agentladder.imports import pipeline
from agentladder.imports.models import FileImport
from agentladder.imports.schemas import ImportResult, RowPlan
from agentladder.imports.spec import (
    CellError,
    Column,
    Importer,
    ImportRun,
    ParsedRow,
    Planned,
    Problems,
    date_cell,
    list_cell,
    whole_number_cell,
)
from agentladder.imports.stash import load_upload, stash_upload
from agentladder.imports.template import rows_workbook, template_workbook
from agentladder.org.models import Team
from agentladder.tabular import TableFileError


class TeamRow(RowPlan):
    code: str
    name: str


def _check(
    session: Session, rows: list[ParsedRow], problems: Problems, run: ImportRun[bool]
) -> list[Planned[TeamRow]]:
    known = set(session.scalars(select(Team.code)))
    planned = []
    for row in rows:
        code = row.value("code")
        if code is not None:
            problems.first_row(code, row, "code", N_("employee number also appears in row {row}"))
        if problems.failed(row.number):
            continue
        action = "unchanged" if code in known else "create"
        planned.append(
            Planned(TeamRow(row=row.number, action=action, code=code, name=row.text("name")))
        )
    return planned


def _apply(session: Session, planned: list[Planned[TeamRow]], run: ImportRun[bool]) -> None:
    """Adds the new teams; with the option set, fails after the first (a crash half-way)."""
    for item in planned:
        if item.plan.action == "create":
            session.add(Team(code=item.plan.code, name=item.plan.name))
            session.flush()
            if run.options:
                raise RuntimeError("the disk is full")


def _code(text: str) -> str:
    if not text.isalnum():
        raise CellError(N_("not a team code"))
    return text


TEAMS: Importer[bool, TeamRow] = Importer(
    kind="teams",
    title=N_("Teams"),
    columns=(
        Column("code", N_("Code"), zh=("班组编码", "编码"), en=("team code", "code"), example="T01",
               required=True, if_empty=N_("team is empty"), parse=_code),
        Column("name", N_("Name"), zh=("班组名称",), en=("team name",), example="客服一组",
               required=True, if_empty=N_("name is empty")),
        Column("opened", N_("Hired"), zh=("成立日期",), en=("opened on",), example="2024-03-01",
               parse=date_cell),
        Column("seats", N_("Value"), zh=("座席数",), en=("seats",), example="12",
               parse=whole_number_cell(N_("sample size must be a whole number of 0 or more"))),
        Column("skills", N_("Skill groups"), zh=("技能组",), en=("skills",), example="general, vip",
               parse=list_cell),
    ),
    check=_check,
    apply=_apply,
)  # fmt: skip

CSV = (
    "班组编码,班组名称,成立日期,座席数,技能组\n"
    "T01,客服一组,2024-03-01,12,general、vip\nT02,客服二组,2024/3/2,8,\n"
)


def _run(
    settings: Settings, data: bytes, name: str = "teams.csv", **kwargs: object
) -> ImportResult[TeamRow]:
    with session_scope(settings) as session:
        return pipeline.run_import(
            TEAMS,
            session=session,
            data=data,
            file_name=name,
            options=False,
            **kwargs,  # type: ignore[arg-type]
        )


def _count(settings: Settings, model: type) -> int:
    with session_scope(settings) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "encoding"),
    [
        (CSV.encode(), "teams.csv", "utf-8"),
        (CSV.replace(",", "\t").encode(), "teams.tsv", "utf-8"),
        (CSV.encode("gbk"), "teams.csv", "gb18030"),
        (
            _xlsx([["Team code", "Team name", "Opened on", "Seats", "Skills"],
                   ["T01", "客服一组", date(2024, 3, 1), 12, "general、vip"],
                   ["T02", "客服二组", "2024/3/2", 8, None]]),
            "teams.xlsx",
            "xlsx",
        ),
    ],
)  # fmt: skip
def test_csv_tsv_gbk_and_xlsx_read_the_same(
    settings: Settings, data: bytes, name: str, encoding: str
) -> None:
    with session_scope(settings) as session:
        read = pipeline.read_file(TEAMS, data, name)
    assert read.encoding == encoding
    assert [(r.number, r.values) for r in read.rows] == [
        (2, {"code": "T01", "name": "客服一组", "opened": date(2024, 3, 1), "seats": 12,
             "skills": ["general", "vip"]}),
        (3, {"code": "T02", "name": "客服二组", "opened": date(2024, 3, 2), "seats": 8,
             "skills": None}),
    ]  # fmt: skip
    assert read.problems.issues == []
    del session


def test_typed_cell_errors_name_row_column_and_reason(settings: Settings) -> None:
    text = (
        "班组编码,班组名称,成立日期,座席数\nT-1,一组,2024-02-30,x\n,二组,2024-01-01,3\nT3,三组,,\n"
    )
    result = _run(settings, text.encode())
    assert not result.applied
    assert [(i.row, i.column, i.value, i.text("en")) for i in result.preview.errors] == [
        (2, "班组编码", "T-1", "not a team code"),
        (2, "成立日期", "2024-02-30", "not a date (write 2024-03-01)"),
        (2, "座席数", "x", "sample size must be a whole number of 0 or more"),
        (3, "班组编码", None, "team is empty"),
    ]
    assert result.preview.errors[1].text("zh_Hans") != result.preview.errors[1].message
    assert _count(settings, Team) == 0


def test_missing_and_unknown_headers_and_duplicate_rows(settings: Settings) -> None:
    missing = _run(settings, "编码,备注\nT1,x\n".encode())
    assert [(i.row, i.column, i.message, i.severity) for i in missing.preview.issues] == [
        (1, "备注", "column not recognised; it is ignored", "warning"),
        (1, "班组名称", "required column is missing", "error"),
    ]
    twice = _run(settings, b"code,team name\nT1,a\nT1,b\n")
    assert [(i.row, i.column, i.params) for i in twice.preview.errors] == [(3, "code", {"row": 2})]


def test_refused_file_is_in_the_ledger_with_its_rejected_rows_and_stores_nothing(
    settings: Settings,
) -> None:
    result = _run(settings, b"code,team name\nT1,a\nT 2,b\n")
    assert (result.applied, result.import_id is not None) == (False, True)
    assert _count(settings, Team) == 0
    with session_scope(settings) as session:
        [entry] = session.scalars(select(FileImport)).all()
        assert (entry.kind, entry.status, entry.rows_read, entry.rejected) == (
            "teams",
            "refused",
            2,
            1,
        )
        assert [(i["row"], i["column"], i["value"]) for i in entry.issues] == [(3, "code", "T 2")]


def test_dry_run_writes_nothing_and_the_same_file_twice_is_recognised(settings: Settings) -> None:
    dry = _run(settings, CSV.encode(), dry_run=True)
    assert (dry.applied, dry.dry_run, dry.preview.count("create")) == (False, True, 2)
    assert (_count(settings, Team), _count(settings, FileImport)) == (0, 0)
    first = _run(settings, CSV.encode())
    assert first.applied
    assert first.preview.previous_import is None
    again = _run(settings, CSV.encode())
    assert again.preview.count("unchanged") == 2
    assert again.preview.previous_import is not None
    assert again.preview.previous_import.import_id == first.import_id
    assert _count(settings, Team) == 2


def test_an_apply_that_fails_half_way_leaves_nothing(settings: Settings) -> None:
    with session_scope(settings) as session, pytest.raises(RuntimeError):
        pipeline.run_import(
            TEAMS, session=session, data=CSV.encode(), file_name="t.csv", options=True
        )
        # Even a caller that carries on and commits keeps nothing of the failed apply.
    assert (_count(settings, Team), _count(settings, FileImport)) == (0, 0)


def test_unreadable_files_raise(settings: Settings) -> None:
    with pytest.raises(TableFileError):
        _run(settings, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, name="old.xls")
    empty = _run(settings, b"code,team name\n\n")
    assert [i.message for i in empty.preview.errors] == ["the file has no data rows"]


def test_stash_round_trip(tmp_path: Path) -> None:
    token = stash_upload(data_dir=tmp_path, kind="teams", data=b"a,b\n", file_name="/x/名单.csv")
    assert load_upload(data_dir=tmp_path, kind="teams", token=token) == (b"a,b\n", "名单.csv")
    with pytest.raises(TableFileError):
        load_upload(data_dir=tmp_path, kind="roster", token=token)  # another importer's stash
    with pytest.raises(TableFileError):
        load_upload(data_dir=tmp_path, kind="teams", token="../../etc/passwd")
    with pytest.raises(ValueError):
        stash_upload(data_dir=tmp_path, kind="../up", data=b"", file_name="x")


def test_template_lists_every_header_and_its_example_row_imports(settings: Settings) -> None:
    data = template_workbook(TEAMS)
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    texts = {
        str(c)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for c in row
        if c
    }
    for column in TEAMS.columns:
        assert set(column.zh) | set(column.en) <= {part for t in texts for part in t.split(" / ")}
    first = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert len(first) == 2  # the headers and one example row
    result = _run(settings, data, name="teams-template.xlsx", dry_run=True)
    assert result.preview.issues == []
    assert [(r.code, r.action) for r in result.preview.rows] == [("T01", "create")]


def test_exported_text_starting_with_equals_stays_text() -> None:
    """A cell "=1+1" or "=HYPERLINK(...)" is written as text: Excel neither computes it nor
    runs it, and it reads back as written (a formula read back was lost before)."""
    texts = ["=1+1", '=HYPERLINK("http://x","y")', "100001"]
    data = rows_workbook(TEAMS, [[text, "名称"] for text in texts])
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert [sheet.cell(row=n, column=1).data_type for n in (2, 3, 4)] == ["s", "s", "s"]
    read = pipeline.read_file(TEAMS, data, "teams.xlsx")
    assert [row.text("code") for row in read.rows] == texts


def test_columns_help_names_every_header() -> None:
    text = TEAMS.columns_help()
    assert text.splitlines()[0].startswith("* 班组编码 | team code (also: 编码, code)")
    assert all(s in text for column in TEAMS.columns for s in column.spellings)


_DECORATIONS = st.sampled_from(["", " ", "*", "（", ")", "_", "：", " - "])


@given(
    column=st.sampled_from(TEAMS.columns),
    spelling=st.data(),
    before=_DECORATIONS,
    after=_DECORATIONS,
    upper=st.booleans(),
)
def test_any_spelling_of_a_header_maps_to_its_field(
    column: Column, spelling: st.DataObject, before: str, after: str, upper: bool
) -> None:
    header = spelling.draw(st.sampled_from(column.spellings))
    header = before + (header.upper() if upper else header) + after
    others = [c.zh[0] for c in TEAMS.columns if c.name != column.name]
    data = (",".join([header, *others]) + "\n" + ",".join(["x"] * 5) + "\n").encode()
    read = pipeline.read_file(TEAMS, data, "t.csv")
    assert read.headers[column.name] == header.strip()


@given(st.integers(min_value=0, max_value=10**12), st.booleans())
def test_whole_numbers_read_back_with_or_without_thousands(number: int, grouped: bool) -> None:
    parse = whole_number_cell(N_("sample size must be a whole number of 0 or more"))
    assert parse(f"{number:,}" if grouped else str(number)) == number


@given(st.text(max_size=12))
def test_whole_number_cell_accepts_only_whole_numbers(text: str) -> None:
    parse = whole_number_cell(N_("sample size must be a whole number of 0 or more"))
    try:
        value = parse(text)
    except CellError:
        return
    assert isinstance(value, int)
    assert value >= 0


@given(
    st.lists(st.text(alphabet="abcXYZ0189/", min_size=1, max_size=6), max_size=5),
    st.sampled_from([",", "，", "、", ";", "|"]),
)
def test_list_cells_split_on_every_separator(parts: list[str], separator: str) -> None:
    assert list_cell(separator.join(parts)) == parts
