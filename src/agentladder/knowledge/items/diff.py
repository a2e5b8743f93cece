"""Two revisions side by side: each part of the text (title, tags, a case's sections, the body)
line by line, with what changed marked, for the revisions page."""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

from agentladder.i18n import N_
from agentladder.knowledge.schemas import ItemText

RowKind = Literal["same", "changed", "removed", "added", "gap"]
# Unchanged lines kept around a change; longer runs of them collapse into one gap row.
CONTEXT_LINES = 2
# The parts compared, in reading order, with their names.
PARTS: tuple[tuple[str, str], ...] = (
    ("title", N_("Title")),
    ("title_en", N_("English title")),
    ("tags", N_("Tags")),
    ("products", N_("Products")),
    ("situation", N_("Situation")),
    ("solution", N_("Solution")),
    ("result", N_("Result")),
    ("body", N_("Text")),
)


@dataclass(frozen=True)
class DiffRow:
    """One line of the left revision beside one of the right (either may be absent)."""

    left: str | None
    right: str | None
    kind: RowKind
    skipped: int = 0  # a gap: the unchanged lines it stands for


@dataclass(frozen=True)
class PartDiff:
    """A part of the text that differs, and its rows."""

    part: str
    label: str
    rows: list[DiffRow]


def _lines(text: ItemText, part: str) -> list[str]:
    value = getattr(text, part)
    if isinstance(value, list):
        return [", ".join(value)] if value else []
    return str(value).splitlines()


def side_by_side(left: ItemText, right: ItemText) -> list[PartDiff]:
    """The parts that differ between two texts, each line by line (unchanged parts left out)."""
    found = []
    for part, label in PARTS:
        old, new = _lines(left, part), _lines(right, part)
        if old == new:
            continue
        rows: list[DiffRow] = []
        for tag, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
            if tag == "equal":
                rows += [DiffRow(line, line, "same") for line in old[i1:i2]]
            elif tag == "delete":
                rows += [DiffRow(line, None, "removed") for line in old[i1:i2]]
            elif tag == "insert":
                rows += [DiffRow(None, line, "added") for line in new[j1:j2]]
            else:
                width = max(i2 - i1, j2 - j1)
                lefts = old[i1:i2] + [None] * (width - (i2 - i1))
                rights = new[j1:j2] + [None] * (width - (j2 - j1))
                rows += [DiffRow(a, b, "changed") for a, b in zip(lefts, rights, strict=True)]
        found.append(PartDiff(part, label, _collapsed(rows)))
    return found


def _collapsed(rows: list[DiffRow]) -> list[DiffRow]:
    """The rows with unchanged lines far from any change folded into gap rows."""
    changed = [at for at, row in enumerate(rows) if row.kind != "same"]
    near = {
        at for change in changed for at in range(change - CONTEXT_LINES, change + CONTEXT_LINES + 1)
    }
    kept: list[DiffRow] = []
    skipped = 0
    for at, row in enumerate(rows):
        if row.kind == "same" and at not in near:
            skipped += 1
            continue
        if skipped:
            kept.append(DiffRow(None, None, "gap", skipped))
            skipped = 0
        kept.append(row)
    if skipped:
        kept.append(DiffRow(None, None, "gap", skipped))
    return kept
