"""The XLSX/CSV bank: each type as Chinese centres write it, problems named by row and column,
and the round trip sheet -> bank -> sheet on real files."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from sqlalchemy.orm import Session

from agentladder.imports import pipeline
from agentladder.imports.template import rows_workbook
from agentladder.training.questions import importing
from agentladder.training.questions.schemas import Question
from agentladder.training.questions.sheet import question_row, row_question, sheet_can_carry

HEADER = [
    "题型",
    "题干",
    "选项A",
    "选项B",
    "选项C",
    "选项D",
    "答案",
    "分值",
    "解析",
    "难度",
    "分类",
    "标签",
]


def workbook(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def imported(session: Session, data: bytes, name: str = "bank.xlsx", **kwargs: object):  # type: ignore[no-untyped-def]
    return importing.import_questions(session=session, data=data, file_name=name, **kwargs)  # type: ignore[arg-type]


def test_every_type_as_centres_write_it(session: Session) -> None:
    data = workbook(
        [
            [
                "单选题",
                "300M 套餐的月费是？",
                "99元",
                "129元",
                "199元",
                "",
                "B",
                2,
                "见资费表",
                "易",
                "产品知识/宽带",
                "宽带,资费",
            ],
            [
                "多选",
                "实名登记可用的证件？",
                "身份证",
                "学生证",
                "护照",
                "驾驶证",
                "AC",
                4,
                "",
                "中",
                "业务规范",
                "",
            ],
            [
                "判断",
                "宽带安装后七天内可无理由退订。",
                "",
                "",
                "",
                "",
                "对",
                1,
                "",
                "易",
                "业务规范",
                "",
            ],
            ["填空", "客服热线是 _____。", "", "", "", "", "95000|95 000", 1, "", "", "", ""],
            ["数值", "铃响几秒内接听？", "", "", "", "", "6±1", 1, "", "", "", ""],
            [
                "匹配",
                "把业务和渠道连起来。",
                "宽带报装 -> 营业厅",
                "话费查询 -> 短信",
                " -> 邮寄",
                "",
                "",
                3,
                "",
                "",
                "",
                "",
            ],
            [
                "排序",
                "投诉处理步骤",
                "确认问题",
                "倾听致歉",
                "给出方案",
                "",
                "BAC",
                3,
                "",
                "难",
                "",
                "",
            ],
            ["问答", "写出安抚话术。", "", "", "", "", "致歉、共情、给出时限", 5, "", "难", "", ""],
            ["说明", "以下题目基于安心宽带资费表。", "", "", "", "", "", "", "", "", "", ""],
        ]
    )
    result, report = imported(session, data)
    assert result.applied, result.preview.issues
    assert report.imported == 9
    assert report.by_type == {
        "description": 1,
        "essay": 1,
        "matching": 1,
        "multiple_choice": 1,
        "numerical": 1,
        "ordering": 1,
        "short_answer": 1,
        "single_choice": 1,
        "true_false": 1,
    }
    assert report.categories == 3  # 产品知识/宽带, 业务规范 and the default category
    questions = {q.type: q for _id, q in importing.bank.bank_questions(session=session)}
    single = questions["single_choice"]
    assert [c.fraction for c in single.choices] == [0, 1, 0]
    assert single.default_mark == 2
    assert single.difficulty == "easy"
    assert single.category == ("产品知识", "宽带")
    assert single.tags == ("宽带", "资费")
    assert single.explanation == "见资费表"
    multiple = questions["multiple_choice"]
    assert [c.fraction for c in multiple.choices] == [0.5, -0.5, 0.5, -0.5]
    assert questions["true_false"].correct_answer is True
    assert [c.text for c in questions["short_answer"].choices] == ["95000", "95 000"]
    numeric = questions["numerical"].numeric_answers[0]
    assert (numeric.value, numeric.tolerance) == (6, 1)
    assert [(p.prompt, p.answer) for p in questions["matching"].pairs] == [
        ("宽带报装", "营业厅"),
        ("话费查询", "短信"),
        ("", "邮寄"),
    ]
    assert questions["ordering"].order == ("倾听致歉", "确认问题", "给出方案")
    assert questions["essay"].grader_info == "致歉、共情、给出时限"
    assert questions["description"].default_mark == 0


def test_english_headers_and_csv(session: Session) -> None:
    csv = (
        b"type,question,option a,option b,answer,mark,difficulty,category\n"
        b"single choice,Which plan is 300M?,Basic,Plus,B,1,medium,Products\n"
    )
    result, report = imported(session, csv, "bank.csv")
    assert result.applied
    assert report.by_type == {"single_choice": 1}


def test_problems_name_row_and_column_and_store_nothing(session: Session) -> None:
    data = workbook(
        [
            ["单选", "好题", "甲", "乙", "", "", "A", 1, "", "", "", ""],
            ["单选", "答案缺选项", "甲", "乙", "", "", "D", 1, "", "", "", ""],
            ["题型不明", "怎么办", "", "", "", "", "", "", "", "", "", ""],
            ["判断", "判断题", "", "", "", "", "也许", 1, "", "", "", ""],
            ["数值", "数值题", "", "", "", "", "大约六", 1, "", "", "", ""],
            ["多选", "难度错", "甲", "乙", "", "", "AB", 1, "", "很难", "", ""],
        ]
    )
    result, report = imported(session, data)
    assert not result.applied
    assert report.imported == 0
    found = {(issue.row, issue.column) for issue in result.preview.errors}
    assert found == {(3, "答案"), (4, "题型"), (5, "答案"), (6, "答案"), (7, "难度")}
    assert importing.bank.bank_questions(session=session) == []


def test_reimport_is_unchanged_and_an_edit_updates(session: Session) -> None:
    row = ["单选", "300M 套餐的月费是？", "99元", "129元", "", "", "B", 2, "", "", "产品", ""]
    imported(session, workbook([row]))
    again, _ = imported(session, workbook([row]))
    assert [r.action for r in again.preview.rows] == ["unchanged"]
    edited, _ = imported(session, workbook([[*row[:6], "A", *row[7:]]]))
    assert [r.action for r in edited.preview.rows] == ["update"]
    [(_id, question)] = importing.bank.bank_questions(session=session)
    assert [c.fraction for c in question.choices] == [1, 0]


def test_template_imports_as_it_is(session: Session) -> None:
    data = importing.template_workbook()
    headers = [cell.value for cell in load_workbook(io.BytesIO(data)).worksheets[0][1]]
    assert headers[:3] == ["题型", "题干", "选项A"]
    result, report = imported(session, data, "questions-template.xlsx", dry_run=True)
    assert not result.preview.errors
    assert report.imported == 8


texts = (
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(lambda text: bool(text) and "->" not in text and "→" not in text)
)


@st.composite
def sheet_questions(draw: st.DrawFn) -> Question:
    kind = draw(
        st.sampled_from(
            [
                "single_choice",
                "multiple_choice",
                "true_false",
                "short_answer",
                "numerical",
                "matching",
                "ordering",
                "essay",
                "description",
            ]
        )
    )
    fields: dict[str, object] = {
        "type": kind,
        "name": draw(texts),
        "text": draw(texts),
        "category": tuple(
            draw(st.lists(texts.filter(lambda t: ">" not in t and "/" not in t), max_size=2))
        ),
        "tags": tuple(
            sorted(
                set(
                    draw(
                        st.lists(
                            texts.filter(lambda t: not set(t) & set(",，;；、|\n")), max_size=2
                        )
                    )
                )
            )
        ),
        "difficulty": draw(st.sampled_from([None, "easy", "medium", "hard"])),
        "default_mark": 0.0
        if kind == "description"
        else draw(st.sampled_from([0.5, 1.0, 2.0, 5.0])),
        "explanation": draw(st.sampled_from(["", "因为套餐表如此"])),
    }
    options = draw(st.lists(texts, min_size=2, max_size=8, unique=True))
    if kind == "single_choice":
        right = draw(st.integers(0, len(options) - 1))
        fields["choices"] = [
            {"text": t, "fraction": 1.0 if i == right else 0.0} for i, t in enumerate(options)
        ]
    elif kind == "multiple_choice":
        right = draw(st.lists(st.integers(0, len(options) - 1), min_size=1, unique=True))
        share = round(1 / len(right), 5)
        fields["choices"] = [
            {"text": t, "fraction": share if i in right else -share} for i, t in enumerate(options)
        ]
        if share * len(right) < 0.999:
            fields["choices"][right[0]]["fraction"] = round(1 - share * (len(right) - 1), 5)  # type: ignore[index]
    elif kind == "true_false":
        fields["correct_answer"] = draw(st.booleans())
    elif kind == "short_answer":
        fields["choices"] = [{"text": t, "fraction": 1.0} for t in options if "|" not in t] or [
            {"text": "95000", "fraction": 1.0}
        ]
    elif kind == "numerical":
        fields["numeric_answers"] = [
            {
                "value": draw(st.integers(-(10**9), 10**9)),
                "tolerance": draw(st.sampled_from([0, 0.5, 2])),
            }
        ]
    elif kind == "matching":
        fields["pairs"] = [{"prompt": t, "answer": t + "答"} for t in options[:4]]
    elif kind == "ordering":
        fields["order"] = options
    elif kind == "essay":
        fields["grader_info"] = draw(st.sampled_from(["", "致歉、共情"]))
    return Question.model_validate(fields)


def _rounded(question: Question) -> dict[str, object]:
    content = question.model_dump(mode="json")
    for choice in content["choices"]:
        choice["fraction"] = round(choice["fraction"], 6)
    return content


@settings(max_examples=80, deadline=None)
@given(st.lists(sheet_questions(), min_size=1, max_size=6))
def test_round_trip_sheet(questions: list[Question]) -> None:
    """A sheet written from questions reads back to the same questions."""
    assert all(sheet_can_carry(question) for question in questions)
    data = rows_workbook(importing.QUESTION_SHEET_IMPORTER, [question_row(q) for q in questions])
    read = pipeline.read_file(importing.QUESTION_SHEET_IMPORTER, data, "bank.xlsx")
    assert not read.problems.has_errors, read.problems.issues
    assert [_rounded(row_question(row)) for row in read.rows] == [_rounded(q) for q in questions]


@pytest.mark.parametrize("answer", ["对", "正确", "√", "T", "true"])
def test_true_false_spellings(session: Session, answer: str) -> None:
    result, _ = imported(
        session, workbook([["判断", "题", "", "", "", "", answer, 1, "", "", "", ""]]), dry_run=True
    )
    assert not result.preview.errors
