"""The XLSX (or CSV) bank as Chinese centres keep it: a row a question with 题型, 题干,
选项A..选项H, 答案 ("AC"), 分值, 解析, 难度, 分类, 标签 (English headers too).

How 答案 reads per type: single choice one letter; multiple choice the right letters, each
worth an equal share and each wrong option the same share off (never below zero in total),
unless 选项得分 gives every option's percent; true/false 对/错 (正确/错误, √/×, T/F); short
answer the accepted answers separated by |; numerical `42`, `42±0.5`, `42:0.5` or `41..43`;
ordering the letters in the right order (empty: the options as listed); matching options
written `prompt -> answer` (an empty prompt adds a distractor); essay the marking guide.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import ValidationError

from agentladder.i18n import N_
from agentladder.imports.spec import CellError, Column, ParsedRow, list_cell
from agentladder.training.questions.schemas import (
    DIFFICULTIES,
    Choice,
    Difficulty,
    MatchPair,
    NumericAnswer,
    Question,
    QuestionType,
    parse_category_path,
)
from agentladder.validation import validation_problems

OPTION_LETTERS = "ABCDEFGH"

TYPE_NAMES: dict[str, QuestionType] = {
    **dict.fromkeys(
        ("单选", "单选题", "单项选择", "单项选择题", "single", "single choice"), "single_choice"
    ),
    **dict.fromkeys(
        ("多选", "多选题", "多项选择", "多项选择题", "不定项", "multiple", "multiple choice"),
        "multiple_choice",
    ),
    **dict.fromkeys(("判断", "判断题", "是非题", "true/false", "true false"), "true_false"),
    **dict.fromkeys(("填空", "填空题", "简答填空", "short answer"), "short_answer"),
    **dict.fromkeys(("数值", "数值题", "计算", "计算题", "numerical", "numeric"), "numerical"),
    **dict.fromkeys(("匹配", "匹配题", "连线", "连线题", "matching"), "matching"),
    **dict.fromkeys(("排序", "排序题", "ordering"), "ordering"),
    **dict.fromkeys(("问答", "问答题", "简答", "简答题", "论述", "论述题", "essay"), "essay"),
    **dict.fromkeys(("说明", "描述", "材料", "description"), "description"),
}
# The name a row of each type is written with (the first Chinese name above).
SHEET_TYPE: dict[QuestionType, str] = {
    "single_choice": "单选",
    "multiple_choice": "多选",
    "true_false": "判断",
    "short_answer": "填空",
    "numerical": "数值",
    "matching": "匹配",
    "ordering": "排序",
    "essay": "问答",
    "description": "说明",
}
DIFFICULTY_NAMES: dict[str, Difficulty] = {
    **dict.fromkeys(("易", "简单", "容易", "低", "1", "easy"), "easy"),
    **dict.fromkeys(("中", "中等", "一般", "适中", "2", "medium"), "medium"),
    **dict.fromkeys(("难", "困难", "较难", "高", "3", "hard"), "hard"),
}
SHEET_DIFFICULTY: dict[Difficulty, str] = {"easy": "易", "medium": "中", "hard": "难"}
_TRUE = {"对", "正确", "是", "√", "✓", "t", "true", "y", "yes"}
_FALSE = {"错", "错误", "否", "×", "✗", "x", "f", "false", "n", "no"}
_NUMBER = r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
_NUMERIC_FORMS = (
    (re.compile(rf"^({_NUMBER})\s*(?:±|\+-|:)\s*({_NUMBER})$"), "tolerance"),
    (re.compile(rf"^({_NUMBER})\s*\.\.\s*({_NUMBER})$"), "range"),
    (re.compile(rf"^({_NUMBER})$"), "exact"),
)
_PAIR = re.compile(r"\s*(?:->|→|=>)\s*")


def _type_cell(text: str) -> QuestionType:
    kind = TYPE_NAMES.get(text.strip().lower())
    if kind is None:
        raise CellError(
            N_("unknown question type (单选, 多选, 判断, 填空, 数值, 匹配, 排序, 问答, 说明)")
        )
    return kind


def _difficulty_cell(text: str) -> Difficulty:
    difficulty = DIFFICULTY_NAMES.get(text.strip().lower())
    if difficulty is None:
        raise CellError(N_("the difficulty is 易, 中 or 难 (easy, medium, hard)"))
    return difficulty


def _mark_cell(text: str) -> float:
    try:
        value = float(text.replace(",", "."))
    except ValueError as exc:
        raise CellError(N_("the mark is not a number")) from exc
    if value < 0:
        raise CellError(N_("the mark cannot be negative"))
    return value


def _percents_cell(text: str) -> list[float]:
    try:
        values = [float(part) for part in list_cell(text.replace("%", ""))]
    except ValueError as exc:
        raise CellError(N_("write each option's percent, separated by commas (100,0,-50)")) from exc
    if any(not -100 <= value <= 100 for value in values):
        raise CellError(N_("an option's percent is between -100 and 100"))
    return values


# One msgid per letter: a column's label is translated as it is, with no parameters.
_OPTION_LABELS = {
    "A": N_("Option A"),
    "B": N_("Option B"),
    "C": N_("Option C"),
    "D": N_("Option D"),
    "E": N_("Option E"),
    "F": N_("Option F"),
    "G": N_("Option G"),
    "H": N_("Option H"),
}


def _option_column(letter: str) -> Column:
    return Column(
        f"option_{letter.lower()}",
        _OPTION_LABELS[letter],
        zh=(f"选项{letter}", f"选项 {letter}", letter),
        en=(f"option {letter.lower()}", f"option_{letter.lower()}"),
        example={"A": "安心宽带 100M", "B": "安心宽带 300M", "C": "安心宽带 1000M"}.get(letter, ""),
    )


COLUMNS: tuple[Column, ...] = (
    Column(
        "type",
        N_("Type"),
        zh=("题型", "类型", "题目类型"),
        en=("type", "question type"),
        example="单选",
        help=N_("单选, 多选, 判断, 填空, 数值, 匹配, 排序, 问答 or 说明 (English names too)"),
        required=True,
        if_empty=N_("the question type is empty"),
        parse=_type_cell,
    ),
    Column(
        "text",
        N_("Question"),
        zh=("题干", "题目", "试题内容"),
        en=("question", "question text", "text", "stem"),
        example="下列哪个套餐的下行速率是 300M？",
        required=True,
        if_empty=N_("the question text is empty"),
    ),
    *(_option_column(letter) for letter in OPTION_LETTERS),
    Column(
        "answer",
        N_("Answer"),
        zh=("答案", "正确答案", "参考答案"),
        en=("answer", "correct answer", "key"),
        example="B",
        help=N_(
            "the right letters (AC), 对/错, accepted answers separated by |, a number "
            "(42, 42±0.5, 41..43), the order (CAB), or an essay's marking guide"
        ),
    ),
    Column(
        "mark",
        N_("Mark"),
        zh=("分值", "分数"),
        en=("mark", "marks", "points", "score"),
        example="2",
        help=N_("the question's mark in an exam (default 1)"),
        parse=_mark_cell,
    ),
    Column(
        "explanation",
        N_("Answer explanation"),
        zh=("解析", "答案解析"),
        en=("explanation", "analysis"),
        example="300M 套餐即安心宽带 300M。",
    ),
    Column(
        "difficulty",
        N_("Difficulty"),
        zh=("难度",),
        en=("difficulty", "level"),
        example="易",
        help=N_("易, 中 or 难 (easy, medium, hard)"),
        parse=_difficulty_cell,
    ),
    Column(
        "category",
        N_("Category"),
        zh=("分类", "题库分类", "知识点"),
        en=("category",),
        example="产品知识/宽带",
        help=N_("the category path, names separated by /"),
    ),
    Column(
        "tags",
        N_("Tags"),
        zh=("标签",),
        en=("tags", "tag"),
        example="宽带, 资费",
        parse=list_cell,
    ),
    Column(
        "name",
        N_("Name"),
        zh=("题目名称", "名称", "标题"),
        en=("name", "title"),
        example="",
        help=N_("the question's name in the bank (default: the start of its text)"),
    ),
    Column(
        "feedback",
        N_("Feedback"),
        zh=("反馈", "总体反馈"),
        en=("feedback", "general feedback"),
        example="",
    ),
    Column(
        "option_percents",
        N_("Option percents"),
        zh=("选项得分", "选项分值比例"),
        en=("option percents", "option fractions"),
        example="",
        help=N_("each option's share of the mark in percent (100,0,-50): partial credit"),
        parse=_percents_cell,
    ),
    Column(
        "idnumber",
        N_("ID number"),
        zh=("试题编号", "编号"),
        en=("idnumber", "id number"),
        example="",
    ),
)


def default_name(text: str) -> str:
    """A question's name from its text when the file gives none: its first 40 characters."""
    flat = re.sub(r"<[^>]*>", "", " ".join(text.split()))
    return (flat[:40] or "?").strip()


def _options(row: ParsedRow) -> list[tuple[str, str]]:
    found = [(letter, row.text(f"option_{letter.lower()}")) for letter in OPTION_LETTERS]
    while found and not found[-1][1]:
        found.pop()
    return found


def _letters(answer: str) -> list[str]:
    return [char for char in answer.upper() if char in OPTION_LETTERS]


def _choices(row: ParsedRow, kind: QuestionType) -> list[Choice]:
    options = _options(row)
    if any(not text for _letter, text in options):
        letter = next(letter for letter, text in options if not text)
        raise CellError(N_("option {letter} is empty but a later one is filled"), letter=letter)
    percents: list[float] | None = row.value("option_percents")
    if percents is not None:
        if len(percents) != len(options):
            raise CellError(
                N_("{count} percents for {options} options"),
                count=len(percents),
                options=len(options),
            )
        return [
            Choice(text=text, fraction=percent / 100)
            for (_letter, text), percent in zip(options, percents, strict=True)
        ]
    letters = _letters(row.text("answer"))
    present = {letter for letter, _text in options}
    if not letters:
        raise CellError(N_("write the right option's letter in the answer"))
    if missing := [letter for letter in letters if letter not in present]:
        raise CellError(N_("the answer names option {letter}, which is empty"), letter=missing[0])
    if kind == "single_choice":
        if len(set(letters)) != 1:
            raise CellError(N_("a single-choice question has one right option"))
        return [
            Choice(text=text, fraction=1.0 if letter in letters else 0.0)
            for letter, text in options
        ]
    share = 1 / len(set(letters))
    return [
        Choice(text=text, fraction=share if letter in letters else -share)
        for letter, text in options
    ]


def _true_false(answer: str) -> bool:
    folded = answer.strip().lower()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise CellError(N_("a true/false answer is 对 or 错 (T or F)"))


def _numeric(answer: str) -> list[NumericAnswer]:
    text = answer.strip().replace("，", ",")
    for pattern, form in _NUMERIC_FORMS:
        match = pattern.match(text)
        if match is None:
            continue
        first = float(match.group(1))
        if form == "exact":
            return [NumericAnswer(value=first)]
        second = float(match.group(2))
        if form == "tolerance":
            return [NumericAnswer(value=first, tolerance=abs(second))]
        low, high = sorted((first, second))
        return [NumericAnswer(value=(low + high) / 2, tolerance=(high - low) / 2)]
    raise CellError(N_("the answer is a number: 42, 42±0.5 or 41..43"))


def _pairs(row: ParsedRow) -> list[MatchPair]:
    pairs = []
    for letter, text in _options(row):
        if not text:
            continue
        parts = _PAIR.split(text, maxsplit=1)
        if len(parts) != 2 or not parts[1]:
            raise CellError(N_("option {letter} is written as: prompt -> answer"), letter=letter)
        pairs.append(MatchPair(prompt=parts[0].strip(), answer=parts[1].strip()))
    return pairs


def _order(row: ParsedRow) -> list[str]:
    options = dict(_options(row))
    letters = _letters(row.text("answer"))
    if not letters:
        return [text for text in options.values() if text]
    if sorted(letters) != sorted(letter for letter, text in options.items() if text):
        raise CellError(N_("the answer must name every option once, in the right order"))
    return [options[letter] for letter in letters]


def row_question(row: ParsedRow, category_prefix: Sequence[str] = ()) -> Question:
    """The question a sheet row writes; CellError names what is wrong (the answer column)."""
    kind: QuestionType = row.value("type")
    text = row.text("text")
    answer = row.text("answer")
    fields: dict[str, object] = {
        "type": kind,
        "name": row.text("name") or default_name(text),
        "text": text,
        "category": (*category_prefix, *parse_category_path(row.text("category"))),
        "idnumber": row.text("idnumber") or None,
        "tags": tuple(row.value("tags") or ()),
        "difficulty": row.value("difficulty"),
        "default_mark": 0.0 if kind == "description" else (row.value("mark") or 1.0),
        "general_feedback": row.text("feedback"),
        "explanation": row.text("explanation"),
    }
    if kind in ("single_choice", "multiple_choice"):
        fields["choices"] = tuple(_choices(row, kind))
    elif kind == "true_false":
        fields["correct_answer"] = _true_false(answer)
    elif kind == "short_answer":
        accepted = [part.strip() for part in answer.split("|") if part.strip()]
        if not accepted:
            raise CellError(N_("write the accepted answers, separated by |"))
        fields["choices"] = tuple(Choice(text=part, fraction=1.0) for part in accepted)
    elif kind == "numerical":
        fields["numeric_answers"] = tuple(_numeric(answer))
    elif kind == "matching":
        fields["pairs"] = tuple(_pairs(row))
    elif kind == "ordering":
        fields["order"] = tuple(_order(row))
    elif kind == "essay":
        fields["grader_info"] = answer
    try:
        return Question.model_validate(fields)
    except ValidationError as exc:
        problem = validation_problems(exc)[0]
        raise CellError(problem.message, value=problem.key, **problem.params) from exc


def _format_number(value: float) -> str:
    # 15 significant digits: 111728145 stays 111728145, and 0.1 stays 0.1.
    return f"{value:.15g}"


def question_row(question: Question) -> list[str]:
    """The question as a sheet row, a cell per column of COLUMNS, that reads back to the same
    question (per-answer feedback and images are not in the sheet)."""
    cells = {column.name: "" for column in COLUMNS}
    cells.update(
        type=SHEET_TYPE[question.type],
        text=question.text,
        mark="" if question.type == "description" else _format_number(question.default_mark),
        explanation=question.explanation,
        difficulty=SHEET_DIFFICULTY[question.difficulty] if question.difficulty else "",
        category="/".join(part.replace("/", "//") for part in question.category),
        tags=", ".join(question.tags),
        name=question.name,
        feedback=question.general_feedback,
        idnumber=question.idnumber or "",
    )
    if question.type in ("single_choice", "multiple_choice"):
        for letter, choice in zip(OPTION_LETTERS, question.choices, strict=False):
            cells[f"option_{letter.lower()}"] = choice.text
        cells["answer"] = "".join(
            letter
            for letter, choice in zip(OPTION_LETTERS, question.choices, strict=False)
            if choice.fraction > 0
        )
        cells["option_percents"] = ",".join(
            _format_number(round(choice.fraction * 100, 5)) for choice in question.choices
        )
    elif question.type == "true_false":
        cells["answer"] = "对" if question.correct_answer else "错"
    elif question.type == "short_answer":
        cells["answer"] = "|".join(choice.text for choice in question.choices)
    elif question.type == "numerical":
        accepted = next(a for a in question.numeric_answers if a.value is not None)
        assert accepted.value is not None
        cells["answer"] = (
            f"{_format_number(accepted.value)}±{_format_number(accepted.tolerance)}"
            if accepted.tolerance
            else _format_number(accepted.value)
        )
    elif question.type == "matching":
        for letter, pair in zip(OPTION_LETTERS, question.pairs, strict=False):
            cells[f"option_{letter.lower()}"] = f"{pair.prompt} -> {pair.answer}"
    elif question.type == "ordering":
        for letter, item in zip(OPTION_LETTERS, question.order, strict=False):
            cells[f"option_{letter.lower()}"] = item
    elif question.type == "essay":
        cells["answer"] = question.grader_info
    return [cells[column.name] for column in COLUMNS]


def sheet_can_carry(question: Question) -> bool:
    """Whether a sheet row holds the question: at most eight options, one accepted number,
    short answers all worth the whole mark, no per-answer feedback or images."""
    if question.images or any(choice.feedback for choice in question.choices):
        return False
    if len(question.choices) > len(OPTION_LETTERS) or len(question.pairs) > len(OPTION_LETTERS):
        return False
    if len(question.order) > len(OPTION_LETTERS):
        return False
    if question.type == "short_answer" and any(
        choice.fraction != 1 or "|" in choice.text for choice in question.choices
    ):
        return False
    if question.type == "numerical" and len(question.numeric_answers) != 1:
        return False
    return not (
        question.type == "true_false" and (question.true_feedback or question.false_feedback)
    )


__all__ = ["COLUMNS", "DIFFICULTIES", "question_row", "row_question", "sheet_can_carry"]
