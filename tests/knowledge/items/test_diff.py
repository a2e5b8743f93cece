"""Two revisions side by side: only the parts that differ, changed lines paired, and long runs
of unchanged lines folded into one gap row."""

from __future__ import annotations

from agentladder.knowledge.items.diff import CONTEXT_LINES, side_by_side
from agentladder.knowledge.schemas import ItemText


def test_unchanged_lines_far_from_a_change_fold_into_gaps() -> None:
    lines = [f"第{n}步" for n in range(1, 21)]
    before = ItemText(title="流程", body="\n".join(lines))
    after = ItemText(title="流程", body="\n".join([*lines[:10], "第11步（改）", *lines[11:]]))
    [part] = side_by_side(before, after)
    assert part.part == "body"
    kinds = [row.kind for row in part.rows]
    assert kinds == ["gap", "same", "same", "changed", "same", "same", "gap"]
    assert [row.skipped for row in part.rows if row.kind == "gap"] == [
        10 - CONTEXT_LINES,
        9 - CONTEXT_LINES,
    ]
    changed = next(row for row in part.rows if row.kind == "changed")
    assert (changed.left, changed.right) == ("第11步", "第11步（改）")


def test_the_same_text_has_no_parts_and_labels_differ_as_lists() -> None:
    text = ItemText(title="流程", body="一\n二", tags=["甲"])
    assert side_by_side(text, text) == []
    [tags] = side_by_side(text, text.model_copy(update={"tags": ["甲", "乙"]}))
    assert [(row.left, row.right, row.kind) for row in tags.rows] == [("甲", "甲, 乙", "changed")]
