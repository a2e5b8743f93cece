"""The library's file format: one Markdown file per item with YAML front matter (title, type,
category, tags, author ...). A case's body has three sections, each headed by its Chinese and
English name: `## 情境 Situation`, `## 解决方案 Solution`, `## 结果 Result`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

# A case's sections by the words their headings start with.
CASE_SECTIONS: dict[str, tuple[str, ...]] = {
    "situation": ("情境", "situation"),
    "solution": ("解决方案", "solution"),
    "result": ("结果", "result"),
}
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_HEADING = re.compile(r"^##[ \t]+(.+?)[ \t]*$", re.M)


class ItemFileError(ValueError):
    """A file that is not an item: `line` is where the problem is (1-based)."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class ItemFile:
    """An item file read: its front matter, its Markdown body, and a case's sections."""

    meta: dict[str, Any]
    body: str
    sections: dict[str, str] = field(default_factory=dict)


def _section_name(heading: str) -> str | None:
    words = heading.lower()
    for name, starts in CASE_SECTIONS.items():
        if any(words.startswith(start) for start in starts):
            return name
    return None


def case_sections(body: str) -> dict[str, str]:
    """The situation, solution and result sections of a body (those it has), text trimmed."""
    headings = list(_HEADING.finditer(body))
    found: dict[str, str] = {}
    for number, heading in enumerate(headings):
        name = _section_name(heading.group(1))
        if name is None or name in found:
            continue
        end = headings[number + 1].start() if number + 1 < len(headings) else len(body)
        found[name] = body[heading.end() : end].strip()
    return found


def read_item_file(text: str) -> ItemFile:
    """An item file's front matter, body and case sections; ItemFileError when the front
    matter is missing or is not a YAML mapping."""
    text = text.removeprefix("\ufeff")
    matched = _FRONT_MATTER.match(text)
    if matched is None:
        raise ItemFileError("the file does not start with front matter between --- lines", 1)
    try:
        meta = yaml.safe_load(matched.group(1))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = 2 + (mark.line if mark else 0)
        raise ItemFileError(f"the front matter is not YAML: {exc}", line) from exc
    if not isinstance(meta, dict):
        raise ItemFileError("the front matter is not a list of fields (key: value)", 2)
    body = text[matched.end() :].strip()
    return ItemFile(meta=meta, body=body, sections=case_sections(body))
