"""Library items out to CSV, XLSX and Markdown files: what is published (at its published
revision), in files that import again into an empty library as the same items; and paths made
from category names and slugs never leave the folder."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from agentladder.cli import app
from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.errors import InvalidInput
from agentladder.imports.models import FileImport
from agentladder.knowledge.items import service as items_service
from agentladder.knowledge.items.exporting import (
    ExportedItem,
    export_items,
    published_items,
    safe_part,
)
from agentladder.knowledge.items.folders import import_markdown_folder
from agentladder.knowledge.items.importing import (
    ITEM_COLUMNS,
    import_items,
)
from agentladder.knowledge.markdown import read_item_file
from agentladder.knowledge.models import KbCategory, KbItem
from agentladder.knowledge.schemas import ItemDraft
from tests.factories import make_agent
from tests.knowledge.kb_world import build, case, published
from tests.knowledge.library import LIBRARY

DEMO_ITEMS = LIBRARY / "items"
runner = CliRunner()

# Items whose text is hard to carry: YAML-looking titles, a case's text outside its sections,
# `---` lines in a body, labels with spaces, a cell that Excel would compute, no slug.
TRICKY = {
    "tricky/yes.md": """---
slug: tricky-yes
type: article
title: "yes"
title_en: "a: b # not a comment"
category: 杂项/引号 "和" 冒号
tags: [两个 字, '#号', '引号"里']
products: ["- dash"]
author: "100001"
---

=SUM(A1:A2) 不是公式。

---

第二部分，一个 `---` 分隔线之后。
""",
    "tricky/case.md": """---
type: case
title: 案例：前言与备注
category: 宽带/故障
queues: [普通话热线]
---

先说明背景。

## 情境 Situation

客户来电。

### 细节

子标题属于情境。

## 解决方案 Solution

派单。

## 备注 Notes

另外的说明。
""",
}


def _load(session: Session, settings: Settings, tmp_path: Path, demo: Path) -> list[ExportedItem]:
    """A folder of the demo library and the tricky items, imported; what is published."""
    make_agent(session, employee_no="100001", name="王芳")
    session.commit()
    tricky = tmp_path / "tricky"
    for name, text in TRICKY.items():
        (tricky / name).parent.mkdir(parents=True, exist_ok=True)
        (tricky / name).write_text(text, encoding="utf-8")
    for folder in (demo, tricky):
        with session_scope(settings) as scoped:
            result = import_markdown_folder(session=scoped, folder=folder, by=None)
            assert result.applied, result.errors[:3]
    return _published(settings)


@pytest.fixture
def library(session: Session, settings: Settings, tmp_path: Path) -> list[ExportedItem]:
    """The whole demo library and the tricky items."""
    return _load(session, settings, tmp_path, DEMO_ITEMS)


@pytest.fixture
def appliances(session: Session, settings: Settings, tmp_path: Path) -> list[ExportedItem]:
    """The demo library's appliance items and the tricky items."""
    return _load(session, settings, tmp_path, DEMO_ITEMS / "appliances")


def _published(settings: Settings) -> list[ExportedItem]:
    with session_scope(settings) as session:
        return published_items(session=session)


def _same_items(items: list[ExportedItem]) -> list[tuple[object, ...]]:
    """The items without their ids (an empty library numbers them afresh)."""
    return sorted(
        (
            (item.slug or "", item.type, item.text.title, item.category, item.author_no, item.text)
            for item in items
        ),
        key=lambda values: values[:3],
    )


def _empty_library(settings: Settings) -> None:
    with session_scope(settings) as session:
        session.execute(delete(KbItem))
        session.execute(delete(KbCategory))
        session.execute(delete(FileImport))
    assert _published(settings) == []


def _reimport(settings: Settings, out: Path) -> None:
    with session_scope(settings) as session:
        if out.is_dir():
            folder = import_markdown_folder(session=session, folder=out, by=None)
            assert folder.applied, folder.errors[:3]
        else:
            table = import_items(session=session, data=out.read_bytes(), file_name=out.name)
            assert table.applied, table.preview.errors[:3]


def test_the_tricky_items_read_as_written(appliances: list[ExportedItem]) -> None:
    by_title = {item.text.title: item for item in appliances}
    yes = by_title["yes"]
    assert yes.text.title_en == "a: b # not a comment"
    assert yes.text.tags == ["两个 字", "#号", '引号"里']
    assert yes.text.body.startswith("=SUM(A1:A2)")
    assert "\n\n---\n\n" in yes.text.body
    assert yes.author_no == "100001"
    tricky_case = by_title["案例：前言与备注"]
    assert tricky_case.text.situation == "客户来电。\n\n### 细节\n\n子标题属于情境。"
    assert tricky_case.text.body == "先说明背景。\n\n## 备注 Notes\n\n另外的说明。"
    assert tricky_case.slug is None


@pytest.mark.parametrize("name", ["library.csv", "library.xlsx", "library"])
def test_an_export_imports_into_an_empty_library_as_the_same_items(
    settings: Settings, library: list[ExportedItem], tmp_path: Path, name: str
) -> None:
    out = tmp_path / "export" / name
    with session_scope(settings) as session:
        assert export_items(session=session, out=out) == len(library) == 350
    _empty_library(settings)
    _reimport(settings, out)
    assert _same_items(_published(settings)) == _same_items(library)
    again = tmp_path / "again" / name
    with session_scope(settings) as session:
        export_items(session=session, out=again)
    if out.is_dir():
        files = sorted(path.relative_to(out) for path in out.rglob("*.md"))
        assert len(files) == 350
        assert Path("家电服务/故障报修/ap-case-001.md") in files
        # Items without a slug are named by their id, which an empty library gives afresh.
        contents = sorted(path.read_text(encoding="utf-8") for path in out.rglob("*.md"))
        assert contents == sorted(p.read_text(encoding="utf-8") for p in again.rglob("*.md"))
    elif name.endswith(".csv"):
        assert again.read_bytes() == out.read_bytes()


def test_a_markdown_export_reads_like_the_demo_files(
    settings: Settings, appliances: list[ExportedItem], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    with session_scope(settings) as session:
        export_items(session=session, out=out)
    source = (DEMO_ITEMS / "appliances" / "ap-case-001.md").read_text(encoding="utf-8")
    exported = (out / "家电服务" / "故障报修" / "ap-case-001.md").read_text(encoding="utf-8")
    assert read_item_file(exported) == read_item_file(source)
    assert exported.startswith("---\nslug: ap-case-001\ntype: case\n")
    assert "\n## 情境 Situation\n" in exported
    [tricky_case] = (out / "宽带" / "故障").glob("item-*.md")
    assert "slug:" not in tricky_case.read_text(encoding="utf-8")


def test_a_table_export_has_the_importers_chinese_headers(
    settings: Settings, appliances: list[ExportedItem], tmp_path: Path
) -> None:
    headers = [column.zh[0] for column in ITEM_COLUMNS]
    with session_scope(settings) as session:
        export_items(session=session, out=tmp_path / "kb.csv")
        export_items(session=session, out=tmp_path / "kb.xlsx")
    data = (tmp_path / "kb.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads the Chinese as UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == headers
    assert len(rows) == len(appliances) + 1
    sheet = load_workbook(tmp_path / "kb.xlsx").worksheets[0]
    assert [cell.value for cell in sheet[1]] == headers
    formula = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == "yes")
    assert formula[10].data_type == "s"  # =SUM(...) stays text


def test_only_published_items_at_their_published_revision(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    world = build(session, settings)
    item = published(session, world, author="a1")
    items_service.edit_item(
        session=session, item_id=item.id, draft=case(result="新的结果。"), by=world.users["a1"]
    )
    items_service.create_item(session=session, draft=case(title="草稿"), by=world.users["a2"])
    session.commit()
    with session_scope(settings) as scoped:
        assert export_items(session=scoped, out=tmp_path / "kb.csv") == 1
        [exported] = published_items(session=scoped)
    assert exported.text.result == "客户重新插好光纤后恢复上网，无需上门。"
    assert exported.author_no == world.agents["a1"].employee_no


def _publish(session: Session, title: str, category: str, slug: str | None) -> None:
    draft = ItemDraft(type="article", title=title, body="正文。", category=category)
    item = items_service.create_item(session=session, draft=draft, by=None, slug=slug)
    items_service.publish_imported(session=session, item=item, at=item.created_at)


def test_names_from_categories_and_slugs_never_leave_the_folder(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    _publish(session, "上级目录", "../../etc", "../../../evil")
    _publish(session, "绝对路径", "/root/.ssh", "/etc/passwd")
    _publish(session, "反斜杠", "..\\..\\windows", "..\\..\\boot.ini")
    _publish(session, "设备名", "CON", "nul")
    _publish(session, "隐藏", "...", ".hidden")
    _publish(session, "同名一", "a", "Same")
    _publish(session, "同名二", "a", "same")
    _publish(session, "长名", "长" * 120, "x" * 120)
    session.commit()
    inside = tmp_path / "box"
    out = inside / "out"
    with session_scope(settings) as scoped:
        assert export_items(session=scoped, out=out) == 8
    written = [path for path in inside.rglob("*") if path.is_file()]
    assert len(written) == 8
    root = out.resolve()
    for path in written:
        assert path.resolve().is_relative_to(root)
        assert all(part not in ("", ".", "..") for part in path.relative_to(out).parts)
        assert not any(part.startswith(".") for part in path.relative_to(out).parts)
        assert all(len(part.encode()) <= 210 for part in path.relative_to(out).parts)
    names = {path.relative_to(out).as_posix() for path in written}
    assert "_/_/etc/_.._.._evil.md" in names
    assert "root/ssh/_etc_passwd.md" in names
    assert "_CON/_nul.md" in names
    assert {"a/Same.md", f"a/same-{_id(settings, 'same')}.md"} <= names
    # Every file still says its item's real category and slug.
    evil = read_item_file((out / "_/_/etc/_.._.._evil.md").read_text(encoding="utf-8"))
    assert (evil.meta["slug"], evil.meta["category"]) == ("../../../evil", "../../etc")


def _id(settings: Settings, slug: str) -> int:
    with session_scope(settings) as session:
        return next(item.id for item in published_items(session=session) if item.slug == slug)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_a_link_inside_the_folder_does_not_carry_files_out(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    _publish(session, "链接", "linked", "x")
    session.commit()
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / "linked").symlink_to(elsewhere, target_is_directory=True)
    with session_scope(settings) as scoped, pytest.raises(InvalidInput):
        export_items(session=scoped, out=out)
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "cleaned"),
    [
        ("..", "_"),
        ("a/b\\c", "a_b_c"),
        (" .git ", "git"),
        ("COM1.txt", "_COM1.txt"),
        ("名字", "名字"),
        ("a\x00b", "a_b"),
    ],
)
def test_a_name_is_one_safe_path_part(name: str, cleaned: str) -> None:
    assert safe_part(name, "_") == cleaned


def test_the_cli_exports_a_table_or_a_folder(
    cli_env: Settings, tmp_path: Path, session: Session
) -> None:
    _publish(session, "发票怎么开", "账单", "bill-1")
    session.commit()
    folder = tmp_path / "kb"
    result = runner.invoke(app, ["knowledge", "export", "--out", str(folder)])
    assert result.exit_code == 0, result.output
    assert "1 published items written" in result.output
    assert (folder / "账单" / "bill-1.md").exists()
    result = runner.invoke(app, ["knowledge", "export", "--out", str(tmp_path / "kb.xlsx")])
    assert result.exit_code == 0, result.output
    missing = runner.invoke(app, ["knowledge", "export"])
    assert missing.exit_code == 2
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    refused = runner.invoke(app, ["knowledge", "export", "--out", str(not_a_folder)])
    assert refused.exit_code == 1
