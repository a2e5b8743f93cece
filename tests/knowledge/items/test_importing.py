"""Library items imported from CSV/XLSX (the shared pipeline) and from a folder of Markdown
item files: headers in Chinese or English, any encoding, every problem named by row and column
(a file's by path, line and field), all or nothing, published without points, the same file
again changes nothing; and the command line."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from agentladder.cli import app
from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.errors import InvalidInput
from agentladder.imports import service as imports_service
from agentladder.imports.schemas import ImportResult
from agentladder.imports.spec import CellError
from agentladder.knowledge.items import importing
from agentladder.knowledge.items import service as items_service
from agentladder.knowledge.items.folders import FolderImportResult, import_markdown_folder
from agentladder.knowledge.items.importing import (
    TYPE_NAMES,
    ItemRowPlan,
    import_items,
    join_labels,
    parse_item_type,
    split_labels,
)
from agentladder.knowledge.models import KbCategory, KbItem, KbPoint, KbRevision
from agentladder.knowledge.schemas import ItemDraft, ItemRead
from tests.factories import make_agent
from tests.knowledge.library import LIBRARY

DEMO_ITEMS = LIBRARY / "items"
runner = CliRunner()

HEADERS = ["标题", "英文标题", "类型", "分类", "标签", "产品", "队列"]
HEADERS += ["情境", "解决方案", "结果", "正文", "作者工号", "编号"]
ROWS: list[dict[str, str]] = [
    {
        "标题": "光猫红灯闪烁",
        "英文标题": "Modem LOS light",
        "类型": "案例",
        "分类": "宽带/故障",
        "标签": "光猫，断网；宽带",
        "产品": "安心宽带",
        "队列": "普通话热线",
        "情境": "客户称光猫红灯闪烁。",
        "解决方案": "派单上门维修。",
        "结果": "次日修复。",
        "作者工号": "100001",
        "编号": "bb-case-x1",
    },
    {
        "标题": "宽带怎么报装",
        "类型": "问答",
        "分类": "宽带>业务办理",
        "标签": "报装、宽带|新装",
        "正文": "**问：** 怎么报装？ **答：** 拨打热线。",
    },
    {
        "标题": "投诉受理流程",
        "类型": "SOP",
        "分类": "服务/投诉",
        "正文": "1. 记录诉求\n2. 建单",
        "作者工号": "100002",
    },
    {"标题": "开场白", "类型": "脚本", "分类": "服务", "正文": "坐席：您好。", "编号": "sv-x1"},
]
ENGLISH = [
    ["Title", "TYPE", "Category", "tags", "situation", "solution", "RESULT", "body", "Author"],
    [
        "Modem LOS light",
        "case",
        "broadband/faults",
        "modem, outage",
        "LOS light blinks.",
        "Go.",
        "",
        "",
        "",
    ],
    [
        "How to order broadband",
        "FAQ",
        "broadband/orders",
        "order",
        "",
        "",
        "",
        "Call us.",
        "100001",
    ],
]


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


CHINESE = _csv([HEADERS, *([row.get(name, "") for name in HEADERS] for row in ROWS)])


@pytest.fixture
def agents(session: Session) -> dict[str, int]:
    wang = make_agent(session, employee_no="100001", name="王芳")
    li = make_agent(session, employee_no="100002", name="李强")
    session.commit()
    return {"100001": wang.id, "100002": li.id}


def _import(
    settings: Settings, data: bytes, name: str = "知识库.csv", **kwargs: object
) -> ImportResult[ItemRowPlan]:
    with session_scope(settings) as session:
        return import_items(
            session=session,
            data=data,
            file_name=name,
            **kwargs,  # type: ignore[arg-type]
        )


def _folder(settings: Settings, folder: Path, dry_run: bool = False) -> FolderImportResult:
    with session_scope(settings) as session:
        return import_markdown_folder(session=session, folder=folder, dry_run=dry_run, by=None)


def _counts(settings: Settings) -> tuple[int, int, int, int]:
    """Items, revisions, points and ledger entries stored."""
    with session_scope(settings) as session:
        return (
            session.scalar(select(func.count()).select_from(KbItem)) or 0,
            session.scalar(select(func.count()).select_from(KbRevision)) or 0,
            session.scalar(select(func.count()).select_from(KbPoint)) or 0,
            len(imports_service.list_imports(session=session, kind=importing.KIND, limit=100)),
        )


def _by_slug_or_title(settings: Settings) -> dict[str, ItemRead]:
    with session_scope(settings) as session:
        ids = session.scalars(select(KbItem.id).order_by(KbItem.id)).all()
        read = [items_service.get_item(session=session, item_id=i, by=None) for i in ids]
    return {item.slug or item.text.title: item for item in read}


def test_a_csv_with_chinese_headers_is_published_without_points(
    settings: Settings, agents: dict[str, int]
) -> None:
    result = _import(settings, CHINESE.encode("utf-8"))
    assert result.applied
    assert result.preview.errors == []
    assert [(row.row, row.action, row.type) for row in result.preview.rows] == [
        (2, "create", "case"),
        (3, "create", "article"),
        (4, "create", "sop"),
        (5, "create", "script"),
    ]
    stored = _by_slug_or_title(settings)
    case = stored["bb-case-x1"]
    assert (case.status, case.type, case.category) == ("published", "case", "宽带/故障")
    assert (case.published_revision, case.current_revision) == (1, 1)
    assert case.first_published_at is not None
    assert case.author_agent_id == agents["100001"]
    assert case.text.tags == ["光猫", "断网", "宽带"]
    assert (case.text.situation, case.text.solution, case.text.result) == (
        "客户称光猫红灯闪烁。",
        "派单上门维修。",
        "次日修复。",
    )
    article = stored["宽带怎么报装"]
    assert (article.type, article.category, article.slug) == ("article", "宽带/业务办理", None)
    assert article.text.tags == ["报装", "宽带", "新装"]
    assert stored["投诉受理流程"].text.body == "1. 记录诉求\n2. 建单"
    assert stored["投诉受理流程"].author_agent_id == agents["100002"]
    assert stored["sv-x1"].type == "script"
    items, revisions, points, ledger_rows = _counts(settings)
    assert (items, revisions, points, ledger_rows) == (4, 4, 0, 1)
    with session_scope(settings) as session:
        [entry] = imports_service.list_imports(session=session, kind=importing.KIND)
        assert (entry.status, entry.created, entry.file_name) == ("applied", 4, "知识库.csv")
        linked = set(session.scalars(select(KbItem.file_import_id)))
        assert linked == {entry.id}


def test_english_headers_any_case_and_an_xlsx_and_gb18030(
    settings: Settings, agents: dict[str, int]
) -> None:
    english = _import(settings, _csv(ENGLISH).encode("utf-8"), "kb.csv")
    assert english.applied, english.preview.issues
    assert english.preview.encoding == "utf-8"
    assert english.preview.columns["title"] == "Title"
    stored = _by_slug_or_title(settings)
    assert stored["Modem LOS light"].text.tags == ["modem", "outage"]
    assert stored["How to order broadband"].author_agent_id == agents["100001"]

    gb = _import(settings, CHINESE.encode("gb18030"), "gb.csv")
    assert gb.applied, gb.preview.issues
    assert gb.preview.encoding == "gb18030"
    assert gb.preview.count("create") == 4

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["标题", "类型", "正文", "标签", "编号"])
    sheet.append(["发票怎么开", "问答", "登录网上营业厅开具。", "发票|账单", "bill-x1"])
    sheet.append(
        ["宽带怎么报装", "问答", "**问：** 怎么报装？ **答：** 拨打热线或在线办理。", "", ""]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    xlsx = _import(settings, buffer.getvalue(), "知识.xlsx")
    assert xlsx.applied, xlsx.preview.issues
    assert xlsx.preview.encoding == "xlsx"
    # The second row names an item of the CSV by its title and type: it changes its text.
    assert [(row.action, row.slug) for row in xlsx.preview.rows] == [
        ("create", "bill-x1"),
        ("update", None),
    ]
    # Its category column is missing: the category stays; its tags cell is empty: no tags.
    assert set(xlsx.preview.rows[1].changes) == {"body", "tags"}
    stored = _by_slug_or_title(settings)
    assert stored["bill-x1"].text.tags == ["发票", "账单"]
    assert stored["宽带怎么报装"].current_revision == 2
    assert stored["宽带怎么报装"].published_revision == 2
    assert (stored["宽带怎么报装"].category, stored["宽带怎么报装"].text.tags) == (
        "宽带/业务办理",
        [],
    )


def test_bad_rows_are_rejected_with_their_row_and_column_and_nothing_is_stored(
    settings: Settings, agents: dict[str, int]
) -> None:
    bad = (
        "标题,类型,情境,解决方案,正文,作者工号,编号\n"
        "好的一行,问答,,,正文,100001,ok-1\n"
        "未知作者,问答,,,正文,999999,\n"
        "没有方案的案例,案例,客户来电。,,,,\n"
        "未知类型,百科,,,正文,,\n"
        ",问答,,,正文,,\n"
        "坏编号,问答,,,正文,,../etc\n"
        "文章没有正文,问答,,,,,\n"
        "好的一行 again,问答,,,正文,,ok-1\n"
    )
    result = _import(settings, bad.encode("utf-8"), "bad.csv")
    assert not result.applied
    found = {(issue.row, issue.column, issue.severity) for issue in result.preview.issues}
    assert found == {
        (3, "作者工号", "error"),
        (4, "解决方案", "error"),
        (5, "类型", "error"),
        (6, "标题", "error"),
        (7, "编号", "error"),
        (8, "正文", "error"),
        (9, "编号", "error"),
    }
    reasons = {issue.row: issue.text("en") for issue in result.preview.issues}
    assert reasons[3] == "no agent has this employee number or ACD identity"
    assert reasons[4] == "a case needs its situation and its solution"
    assert reasons[5].startswith("unknown item type")
    assert reasons[9] == "the same item is also in row 2"
    assert next(i.value for i in result.preview.issues if i.row == 3) == "999999"
    assert _counts(settings)[:3] == (0, 0, 0)
    with session_scope(settings) as session:
        [entry] = imports_service.list_imports(session=session, kind=importing.KIND)
        assert (entry.status, entry.rejected, entry.rows_read) == ("refused", 7, 8)
        assert session.scalar(select(func.count()).select_from(KbCategory)) == 0


def test_a_dry_run_stores_nothing_and_the_same_file_again_changes_nothing(
    settings: Settings, agents: dict[str, int]
) -> None:
    data = CHINESE.encode("utf-8")
    dry = _import(settings, data, dry_run=True)
    assert dry.dry_run
    assert not dry.applied
    assert dry.preview.count("create") == 4
    assert _counts(settings) == (0, 0, 0, 0)

    _import(settings, data)
    before = _by_slug_or_title(settings)
    again = _import(settings, data)
    assert again.applied
    assert again.preview.count("unchanged") == 4
    assert again.preview.previous_import is not None
    after = _by_slug_or_title(settings)
    assert {k: (v.current_revision, v.updated_at) for k, v in after.items()} == {
        k: (v.current_revision, v.updated_at) for k, v in before.items()
    }
    assert _counts(settings)[:3] == (4, 4, 0)

    changed = data.decode().replace("派单上门维修。", "先远程重启光猫，仍不行再派单。").encode()
    result = _import(settings, changed)
    assert [row.action for row in result.preview.rows] == [
        "update",
        "unchanged",
        "unchanged",
        "unchanged",
    ]
    assert result.preview.rows[0].changes["solution"] == (
        "派单上门维修。",
        "先远程重启光猫，仍不行再派单。",
    )
    case = _by_slug_or_title(settings)["bb-case-x1"]
    assert (case.current_revision, case.published_revision) == (2, 2)
    assert case.text.solution == "先远程重启光猫，仍不行再派单。"
    assert _counts(settings)[2] == 0  # an imported edit earns nothing either
    with session_scope(settings) as session:
        newest = imports_service.list_imports(session=session, kind=importing.KIND)[0]
        owner = session.scalar(select(KbItem.file_import_id).where(KbItem.slug == "bb-case-x1"))
        assert owner == newest.id


def test_a_slug_names_an_item_known_by_its_title_and_keeps_an_in_app_edit_history(
    session: Session, settings: Settings, agents: dict[str, int]
) -> None:
    draft = ItemDraft(type="article", title="宽带怎么报装", body="旧的回答。", category="宽带")
    item = items_service.create_item(session=session, draft=draft, by=None, author_agent_id=None)
    session.commit()
    data = "标题,类型,分类,正文,编号\n宽带怎么报装,问答,宽带,新的回答。,bb-order\n"
    result = _import(settings, data.encode())
    assert result.applied, result.preview.issues
    [row] = result.preview.rows
    assert (row.action, row.item_id) == ("update", item.id)
    assert row.changes["slug"] == ("", "bb-order")
    assert row.changes["status"] == ("draft", "published")
    stored = _by_slug_or_title(settings)["bb-order"]
    assert (stored.id, stored.status, stored.current_revision) == (item.id, "published", 2)
    assert _counts(settings)[2] == 0


def test_an_archived_item_is_not_brought_back(settings: Settings, agents: dict[str, int]) -> None:
    _import(settings, CHINESE.encode())
    with session_scope(settings) as session:
        session.execute(update(KbItem).where(KbItem.slug == "sv-x1").values(status="archived"))
    again = _import(settings, CHINESE.encode())
    assert not again.applied
    assert [(i.row, i.column) for i in again.preview.errors] == [(5, "编号")]


# --- a folder of Markdown files ------------------------------------------------------------------


def test_the_demo_library_folder_imports_every_item_published_and_again_unchanged(
    settings: Settings,
) -> None:
    files = sorted(DEMO_ITEMS.rglob("*.md"))
    assert len(files) == 348
    result = _folder(settings, DEMO_ITEMS)
    assert result.applied, result.errors[:3]
    assert (result.files_read, result.count("create"), len(result.errors)) == (348, 348, 0)
    assert result.files[0].file == files[0].relative_to(DEMO_ITEMS).as_posix()
    with session_scope(settings) as session:
        statuses = session.execute(
            select(KbItem.status, KbItem.type, func.count()).group_by(KbItem.status, KbItem.type)
        ).all()
        assert {(status, kind) for status, kind, _ in statuses} == {
            ("published", kind) for kind in ("article", "case", "sop", "script")
        }
        assert sum(count for _, _, count in statuses) == 348
        assert session.scalar(select(func.count()).select_from(KbPoint)) == 0
        [entry] = imports_service.list_imports(session=session, kind=importing.KIND)
        assert (entry.status, entry.rows_read, entry.created) == ("applied", 348, 348)
        assert set(session.scalars(select(KbItem.file_import_id))) == {entry.id}
        case_id = session.scalar(select(KbItem.id).where(KbItem.slug == "ap-case-001"))
        assert case_id is not None
        case = items_service.get_item(session=session, item_id=case_id, by=None)
    assert case.category == "家电服务/故障报修"
    assert case.text.situation.startswith("城区客户来电称家中安信空调")
    assert case.text.result.endswith("the follow-up call found the customer satisfied.")
    assert case.text.body == ""
    again = _folder(settings, DEMO_ITEMS)
    assert again.applied
    assert again.count("unchanged") == 348
    assert again.previous_import is not None
    assert _counts(settings)[:3] == (348, 348, 0)


GOOD_FILE = """---
slug: kb-good
type: case
title: 光猫红灯
category: 宽带/故障
tags: [光猫, 断网]
author: "100001"
---

先说明背景。

## 情境 Situation

客户称光猫红灯。

## 解决方案 Solution

派单。

## 备注 Notes

另外的说明。
"""


def _write(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_a_folder_with_a_bad_file_stores_nothing_and_names_file_line_and_field(
    settings: Settings, agents: dict[str, int], tmp_path: Path
) -> None:
    folder = tmp_path / "kb"
    _write(folder, "a/good.md", GOOD_FILE)
    _write(folder, "a/no-front-matter.md", "# 只是一篇笔记\n")
    _write(folder, "b/bad-type.md", "---\ntitle: 说明\ntype: 百科\n---\n正文\n")
    _write(folder, "b/unknown-author.md", "---\ntitle: 说明\nauthor: 999\n---\n\n正文\n")
    _write(
        folder,
        "c/case-without-solution.md",
        "---\ntitle: 案例\ntype: case\nowner: x\n---\n\n## 情境 Situation\n\n客户来电。\n",
    )
    _write(folder, "c/broken-yaml.md", "---\ntitle: ok\ntags: [unclosed\n---\nbody")
    _write(folder, "c/same-slug.md", GOOD_FILE.replace("title: 光猫红灯", "title: 另一个"))
    _write(folder, ".hidden/ignored.md", "not an item")
    result = _folder(settings, folder)
    assert not result.applied
    found = {(i.file, i.line, i.field, i.severity) for i in result.issues}
    assert found == {
        ("a/no-front-matter.md", 1, None, "error"),
        ("b/bad-type.md", 3, "type", "error"),
        ("b/unknown-author.md", 3, "author", "error"),
        ("c/broken-yaml.md", 3, None, "error"),
        ("c/case-without-solution.md", 4, "owner", "warning"),
        ("c/case-without-solution.md", 7, "solution", "error"),
        ("c/same-slug.md", 2, "slug", "error"),
    }
    same = next(i for i in result.issues if i.file == "c/same-slug.md")
    assert same.text("en") == "the same item is also in a/good.md"
    assert (result.files_read, result.rejected) == (7, 6)
    assert _counts(settings)[:3] == (0, 0, 0)
    with session_scope(settings) as session:
        [entry] = imports_service.list_imports(session=session, kind=importing.KIND)
        assert (entry.status, entry.rows_read, entry.rejected) == ("refused", 7, 6)
        assert any(issue.column == "b/bad-type.md:3 type" for issue in entry.issues)


def test_a_good_folder_keeps_a_cases_other_text_and_a_dry_run_stores_nothing(
    settings: Settings, agents: dict[str, int], tmp_path: Path
) -> None:
    folder = tmp_path / "kb"
    _write(folder, "good.md", GOOD_FILE)
    dry = _folder(settings, folder, dry_run=True)
    assert dry.dry_run
    assert not dry.applied
    assert dry.count("create") == 1
    assert _counts(settings) == (0, 0, 0, 0)
    assert _folder(settings, folder).applied
    item = _by_slug_or_title(settings)["kb-good"]
    assert (item.text.situation, item.text.solution, item.text.result) == (
        "客户称光猫红灯。",
        "派单。",
        "",
    )
    assert item.text.body == "先说明背景。\n\n## 备注 Notes\n\n另外的说明。"
    assert item.author_agent_id == agents["100001"]
    assert item.status == "published"


def test_an_empty_or_missing_folder_is_refused(settings: Settings, tmp_path: Path) -> None:
    result = _folder(settings, tmp_path)
    assert [issue.message for issue in result.errors] == ["the folder has no Markdown (.md) files"]
    with pytest.raises(InvalidInput):
        _folder(settings, tmp_path / "missing")


# --- cells ---------------------------------------------------------------------------------------

_SEPARATORS = ",，;；、|\n"
labels = st.lists(
    st.text(
        alphabet=st.characters(
            blacklist_characters=_SEPARATORS, blacklist_categories=("Cs", "Cc", "Zl", "Zp")
        ),
        max_size=12,
    )
    .map(lambda text: " ".join(text.split()))
    .filter(bool),
    max_size=8,
)


@given(labels)
def test_labels_split_back_to_what_was_joined(values: list[str]) -> None:
    assert split_labels(join_labels(values)) == list(dict.fromkeys(values))


@given(st.text(max_size=40))
def test_any_cell_splits_into_clean_labels(text: str) -> None:
    parts = split_labels(text)
    assert all(part and part == " ".join(part.split()) for part in parts)
    assert not any(separator in part for part in parts for separator in _SEPARATORS)
    assert len(parts) == len(set(parts))


@given(st.sampled_from(sorted(TYPE_NAMES)), st.sampled_from([str.upper, str.lower, str.title]))
def test_every_type_name_reads_in_any_case_and_spacing(
    name: str, case: Callable[[str], str]
) -> None:
    assert parse_item_type(f"  {case(name)} ") == TYPE_NAMES[name]


@given(st.text(max_size=10))
def test_any_other_type_is_a_cell_error(text: str) -> None:
    if " ".join(text.split()).casefold() in TYPE_NAMES:
        return
    with pytest.raises(CellError):
        parse_item_type(text)


# --- the command line ----------------------------------------------------------------------------


def _run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_the_cli_imports_files_and_folders(
    cli_env: Settings, agents: dict[str, int], tmp_path: Path
) -> None:
    csv_file = tmp_path / "知识库.csv"
    csv_file.write_bytes(CHINESE.encode("gb18030"))
    dry = _run("knowledge", "import", str(csv_file), "--dry-run")
    assert "4 new" in dry
    assert "nothing written" in dry
    assert "imported" in _run("knowledge", "import", str(csv_file))
    assert "4 unchanged" in _run("knowledge", "import", str(csv_file))

    bad = tmp_path / "bad.csv"
    bad.write_text("标题,类型,正文,作者工号\n说明,问答,正文,999999\n", encoding="utf-8")
    refused = _run("knowledge", "import", str(bad), code=1)
    assert "999999" in refused
    assert "nothing imported" in refused

    folder = tmp_path / "kb"
    _write(folder, "x/good.md", GOOD_FILE)
    assert "1 new" in _run("knowledge", "import", str(folder), "--dry-run")
    assert "imported" in _run("knowledge", "import", str(folder))
    _write(folder, "x/bad.md", "---\ntitle: 说明\ntype: 百科\n---\n正文\n")
    output = _run("knowledge", "import", str(folder), "--format", "csv", code=1)
    assert "x/bad.md,3,error,type,百科" in output
    assert _counts(cli_env)[0] == 5


def test_the_template_imports_as_it_is(cli_env: Settings, tmp_path: Path) -> None:
    template = tmp_path / "items.xlsx"
    _run("knowledge", "template", "--out", str(template))
    dry = _run("knowledge", "import", str(template), "--dry-run")
    assert "1 new" in dry
    assert "0 errors" in dry
    help_text = _run("knowledge", "import", "--help")
    for header in ("标题", "title", "情境", "situation", "作者工号", "编号", "slug"):
        assert header in help_text
