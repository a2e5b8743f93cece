"""The library's Markdown files: front matter, body and a case's three sections, and files
that are not items named with their line."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentladder.knowledge.markdown import ItemFileError, read_item_file
from tests.knowledge.library import LIBRARY

CASE = """---
slug: bb-case-001
type: case
title: 宽带突然断网
tags: [宽带, 断网]
---

## 情境 Situation

客户来电称宽带断网。

## 解决方案 Solution

建立故障报修工单。

### 备注

二级标题以下的小标题属于本节。

## 结果 Result

次日修复。
"""


def test_a_case_has_its_front_matter_and_three_sections() -> None:
    read = read_item_file(CASE)
    assert read.meta == {
        "slug": "bb-case-001",
        "type": "case",
        "title": "宽带突然断网",
        "tags": ["宽带", "断网"],
    }
    assert read.sections == {
        "situation": "客户来电称宽带断网。",
        "solution": "建立故障报修工单。\n\n### 备注\n\n二级标题以下的小标题属于本节。",
        "result": "次日修复。",
    }
    assert read.body.startswith("## 情境 Situation")


def test_an_article_has_no_sections_and_a_bom_is_ignored() -> None:
    read = read_item_file("\ufeff---\ntitle: 怎么开发票\ntype: article\n---\n**问：** 怎么开？\n")
    assert read.meta["title"] == "怎么开发票"
    assert (read.body, read.sections) == ("**问：** 怎么开？", {})


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("title: no front matter\n", 1),
        ("---\n- a list\n---\nbody", 2),
        ("---\ntitle: ok\ntags: [unclosed\n---\nbody", 3),
    ],
)
def test_a_file_that_is_not_an_item_is_named_with_its_line(text: str, line: int) -> None:
    with pytest.raises(ItemFileError) as raised:
        read_item_file(text)
    assert raised.value.line == line


def test_every_demo_item_reads_and_every_case_has_its_sections() -> None:
    files = sorted(LIBRARY.glob("items/*/*.md"))
    assert len(files) >= 300
    for path in files:
        read = read_item_file(path.read_text(encoding="utf-8"))
        assert read.meta["slug"] == path.stem
        if read.meta["type"] == "case":
            assert set(read.sections) == {"situation", "solution", "result"}, path.name


@given(st.text(max_size=200))
def test_any_text_is_an_item_or_an_error_with_a_line(text: str) -> None:
    line = None
    try:
        read = read_item_file(text)
    except ItemFileError as error:
        line = error.line
    else:
        assert isinstance(read.meta, dict)
    assert line is None or line >= 1
