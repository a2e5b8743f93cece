"""GIFT: the peer grammar's corpus and Moodle's own fixtures read as Moodle reads them,
Chinese questions, errors that name their line, and export then import giving the same
questions back."""

from __future__ import annotations

import json
import re
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from agentladder.training.questions.gift import (
    GiftError,
    GiftItem,
    export_gift,
    gift_can_export,
    parse_gift,
    parse_gift_question,
)
from agentladder.training.questions.moodle_xml import join_category_path
from agentladder.training.questions.schemas import (
    Choice,
    MatchPair,
    NumericAnswer,
    Question,
    QuestionType,
    TextFormat,
)
from tests.conftest import CORPUS, corpus_path

GIFT_CORPUS = ("question_bank", "gift")
PEG_DIR = CORPUS.joinpath(*GIFT_CORPUS, "peg_grammar_tests", "tests", "questions")
PEG_FILES = sorted(path.stem for path in PEG_DIR.glob("*.gift"))
TRIM = " \t\n\r\0\x0b"  # PHP's trim(), which Moodle and the parser apply to every text


def read_gift(*parts: str) -> list[GiftItem]:
    return parse_gift(corpus_path(*GIFT_CORPUS, *parts).read_text(encoding="utf-8"))


def questions_of(items: list[GiftItem]) -> list[Question]:
    assert [(item.line, item.error) for item in items if item.error] == []
    return [item.question for item in items if item.question is not None]


# The peer grammar's corpus ----------------------------------------------------------------

PEER_TYPES: dict[QuestionType, str] = {
    "single_choice": "MC",
    "multiple_choice": "MC",
    "true_false": "TF",
    "short_answer": "Short",
    "numerical": "Numerical",
    "matching": "Matching",
    "essay": "Essay",
    "description": "Description",
}


def peer_shape(items: list[GiftItem]) -> list[dict[str, Any]]:
    """Our items in the JSON shape of GIFT-grammar-PEG.js's expectations."""
    shapes: list[dict[str, Any]] = []
    category: tuple[str, ...] = ()
    for item in items:
        if item.category != category:
            shapes.append({"type": "Category", "title": join_category_path(item.category)})
            category = item.category
        if item.question is not None:
            shapes.append(peer_question(item.question, item.source))
    return shapes


def peer_question(question: Question, source: str) -> dict[str, Any]:
    written = "\n".join(
        line for line in source.split("\n") if not line.strip().startswith("//")
    ).strip()
    text_format = question.text_format
    shape: dict[str, Any] = {
        "id": question.idnumber,
        "tags": list(question.tags) or None,
        "type": PEER_TYPES[question.type],
        # The grammar has a title only where the file names the question.
        "title": question.name if written.startswith("::") else None,
        "stem": {"format": text_format, "text": question.text},
        "hasEmbeddedAnswers": bool(re.search(r"(?<!\\)\{", written)) and not written.endswith("}"),
    }
    if question.type == "description":
        return shape
    shape["globalFeedback"] = peer_text(question.general_feedback, text_format)
    if question.type in ("single_choice", "multiple_choice", "short_answer"):
        shape["choices"] = [peer_choice(question, choice) for choice in question.choices]
    elif question.type == "true_false":
        shape["isTrue"] = question.correct_answer
        shape["trueFeedback"] = peer_text(question.true_feedback, text_format)
        shape["falseFeedback"] = peer_text(question.false_feedback, text_format)
    elif question.type == "numerical":
        shape["choices"] = peer_numbers(question)
    elif question.type == "matching":
        shape["matchPairs"] = [
            {"subquestion": {"format": text_format, "text": pair.prompt}, "subanswer": pair.answer}
            for pair in question.pairs
        ]
    return shape


def peer_text(text: str, text_format: TextFormat) -> dict[str, str] | None:
    return {"format": text_format, "text": text} if text else None


def percent(fraction: float) -> float:
    return float(Decimal(repr(fraction)) * 100)


def peer_choice(question: Question, choice: Choice) -> dict[str, Any]:
    # The grammar's isCorrect is the sign (= or ~) and weight the %n% as written.
    fraction = choice.fraction
    if question.type == "single_choice":
        correct, weight = fraction == 1, None if fraction in (0, 1) else percent(fraction)
    elif question.type == "multiple_choice":
        correct, weight = False, None if fraction == 0 else percent(fraction)
    else:
        correct, weight = True, None if fraction == 1 else percent(fraction)
    return {
        "isCorrect": correct,
        "weight": weight,
        "text": {"format": choice.text_format, "text": choice.text},
        "feedback": peer_text(choice.feedback, question.text_format),
    }


def peer_range(answer: NumericAnswer) -> dict[str, Any]:
    return {"type": "range", "number": answer.value, "range": answer.tolerance}


def peer_numbers(question: Question) -> dict[str, Any] | list[dict[str, Any]]:
    answers = question.numeric_answers
    if len(answers) == 1 and answers[0].fraction == 1 and not answers[0].feedback:
        only = answers[0]
        return {"type": "simple", "number": only.value} if not only.tolerance else peer_range(only)
    return [
        {
            "isCorrect": answer.value is not None,
            "weight": None
            if answer.value is None or answer.fraction == 1
            else percent(answer.fraction),
            "text": peer_range(answer)
            if answer.value is not None
            else {"format": question.text_format, "text": "*"},
            "feedback": peer_text(answer.feedback, question.text_format),
        }
        for answer in answers
    ]


def as_value_and_tolerance(expected: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The grammar keeps `{#min..max}` as written; Question keeps the middle and the
    half-width, the mapping Moodle applies to a range."""
    for question in expected:
        numbers = question.get("choices")
        if isinstance(numbers, dict) and numbers["type"] == "high-low":
            high, low = Decimal(str(numbers["numberHigh"])), Decimal(str(numbers["numberLow"]))
            question["choices"] = {
                "type": "range",
                "number": float((high + low) / 2),
                "range": float((high - low) / 2),
            }
    return expected


TF_MOODLE = (
    "Moodle: in {TRUE#fb1#fb2} fb1 is what a wrong answer reads and fb2 what a right one reads;"
    " for a TRUE question the wrong answer is False. The grammar maps fb1 to True whatever the key."
)
LINE_BREAK = (
    "Moodle's readquestion joins a question's lines with a line break and trims only the ends of"
    " each text; the grammar folds a line break and the indentation after it into one space"
    " (in moodle-format texts only)."
)
FULL_MARK = (
    "%100% and no weight are the same share (fraction 1) in Question, so the adapter cannot tell"
    " them apart and writes no weight."
)
NO_FORMAT = (
    "Question keeps no format for a feedback, a general feedback or a matching prompt"
    " (schemas.py); the adapter gives the question's format, the default Moodle applies."
)

# Where the grammar's expectation is not Moodle's reading, or Question cannot hold it: the
# value we assert instead, and why. (file, question index, path) -> (our value, reason)
OUR_READING: dict[tuple[str, int, tuple[str | int, ...]], tuple[object, str]] = {
    ("TFTwoFeedback", 1, ("trueFeedback",)): (None, TF_MOODLE),
    ("TFTwoFeedback", 1, ("falseFeedback",)): (
        {"format": "moodle", "text": "feedback for true"},
        TF_MOODLE,
    ),
    ("TFTwoFeedback", 2, ("trueFeedback",)): (
        {"format": "moodle", "text": "feedback for false"},
        TF_MOODLE,
    ),
    ("TFTwoFeedback", 2, ("falseFeedback",)): (None, TF_MOODLE),
    ("escapeAll", 0, ("choices", 6, "feedback", "text")): (
        "Correct! \\ (backslash) is not a control character. BUT,\n"
        "             it is used to escape the control characters.",
        LINE_BREAK,
    ),
    ("giftFormatPhpExamples", 5, ("stem", "text")): (
        "Match the following countries with their corresponding\ncapitals.",
        LINE_BREAK,
    ),
    ("giftFormatPhpExamples", 9, ("choices", 1, "feedback", "text")): (
        "He was born in 1822.\n                  You get 50% credit for being close.",
        LINE_BREAK,
    ),
    ("multiLineFeedback1", 0, ("choices", 1, "feedback", "text")): (
        "feedback comment on this wrong answer\non multiple lines",
        LINE_BREAK,
    ),
    ("multiLineFeedback1", 0, ("globalFeedback", "text")): (
        "Global feedback split\non multiple lines",
        LINE_BREAK,
    ),
    ("options1", 1, ("stem", "text")): (
        "Japanese characters originally\ncame from what country?",
        LINE_BREAK,
    ),
    ("options1", 2, ("stem", "text")): (
        "The American holiday of Thanksgiving is\ncelebrated on the _____ Thursday of November.",
        LINE_BREAK,
    ),
    ("options1", 13, ("choices", 5, "feedback", "text")): (
        "Correct! \\ (backslash) is not a control character. BUT,\n"
        "              it is used to escape the control characters. So, to specify\n"
        "              a literal backslash, you must escape it with a backslash\n"
        "              (as shown in this example).",
        LINE_BREAK,
    ),
    ("symbolsAll", 0, ("stem", "text")): (
        "Here's a question that has symbols inside, \nsuch as `-=[];',./~!@#$%^&*()_+{}|:\"<>?",
        LINE_BREAK,
    ),
    ("numerical1", 9, ("choices", 1, "weight")): (None, FULL_MARK),
    ("shortFirstEmbeddedUnderline", 0, ("choices", 0, "weight")): (None, FULL_MARK),
    ("shortFirstEmbeddedUnderline", 1, ("choices", 0, "weight")): (None, FULL_MARK),
    ("shortFirstEmbeddedUnderlineHTML", 0, ("choices", 0, "weight")): (None, FULL_MARK),
    ("shortFirstEmbeddedUnderlineHTML", 1, ("choices", 0, "weight")): (None, FULL_MARK),
    ("totara_moodle_match", 0, ("matchPairs", 1, "subquestion", "format")): ("html", NO_FORMAT),
    ("totara_moodle_match", 0, ("matchPairs", 2, "subquestion", "format")): ("html", NO_FORMAT),
    ("totara_moodle_match", 0, ("matchPairs", 3, "subquestion", "format")): ("html", NO_FORMAT),
    ("totara_moodle_multichoice", 0, ("choices", 1, "feedback", "format")): ("moodle", NO_FORMAT),
    ("totara_moodle_multichoice_multi", 0, ("choices", 1, "feedback", "format")): (
        "moodle",
        NO_FORMAT,
    ),
    ("totara_moodle_shortanswer_general_feedback", 0, ("globalFeedback", "format")): (
        "moodle",
        NO_FORMAT,
    ),
}


def peer_expectation(name: str) -> list[dict[str, Any]]:
    path = corpus_path(*GIFT_CORPUS, "peg_grammar_tests", "tests", "questions", f"{name}.json")
    expected: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return as_value_and_tolerance(expected)


def at(shape: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        shape = shape[step]
    return shape


def test_the_peer_corpus_is_all_there() -> None:
    corpus_path(*GIFT_CORPUS, "peg_grammar_tests", "tests", "questions")
    assert len(PEG_FILES) == 51


@pytest.mark.parametrize("name", PEG_FILES)
def test_peer_grammar_file_reads_as_its_expectation(name: str) -> None:
    items = read_gift("peg_grammar_tests", "tests", "questions", f"{name}.gift")
    expected = peer_expectation(name)
    for (file, index, path), (ours, _reason) in OUR_READING.items():
        if file == name:
            *holder, last = path
            at(expected[index], tuple(holder))[last] = ours
    if all(shape["type"] == "Category" for shape in expected):
        # A file of categories only: nothing to import, said as such.
        assert [item.error for item in items] == ["the file has no questions"]
    else:
        assert [(item.line, item.error) for item in items if item.error] == []
    assert peer_shape(items) == expected


@pytest.mark.parametrize(("file", "index", "path"), sorted(OUR_READING))
def test_each_listed_difference_is_one(file: str, index: int, path: tuple[str | int, ...]) -> None:
    """Keeps the list honest: each entry differs from what the grammar expects."""
    assert at(peer_expectation(file)[index], path) != OUR_READING[file, index, path][0]


# Moodle's own examples and fixtures ------------------------------------------------------


def test_moodle_examples_file() -> None:
    questions = questions_of(read_gift("moodle_core", "examples.txt"))
    # Counted by hand from the file: 43 questions.
    assert Counter(question.type for question in questions) == {
        "single_choice": 16,
        "multiple_choice": 2,
        "true_false": 5,
        "short_answer": 9,
        "numerical": 8,
        "matching": 3,
    }
    control = next(q for q in questions if q.name == "GIFT Control Characters")
    assert [choice.text for choice in control.choices] == ["~", "=", "#", "{", "}", "\\"]
    assert control.choices[-1].fraction == 1
    # {#3.1415:0.0005} and {#3.141..3.142} are the same answer.
    pi = [q.numeric_answers for q in questions if q.text.startswith("What is the value of pi")]
    assert pi == [(NumericAnswer(value=3.1415, tolerance=0.0005),)] * 2
    assert questions[-1].numeric_answers == (
        NumericAnswer(value=1822, tolerance=0, feedback="Correct! 100% credit"),
        NumericAnswer(
            value=1822,
            tolerance=2,
            fraction=0.5,
            feedback="He was born in 1822.\n                  You get 50% credit for being close.",
        ),
    )


def test_moodle_test_fixture_file() -> None:
    items = read_gift("moodle_core", "questions.gift.txt")
    questions = questions_of(items)
    assert [item.line for item in items] == [1, 4, 13, 21, 30, 33, 40, 45, 48]
    assert [question.type for question in questions] == [
        "essay",
        "matching",
        "single_choice",
        "multiple_choice",
        "numerical",
        "short_answer",
        "true_false",
        "true_false",
        "true_false",
    ]
    essay, matching, single, multiple, numerical, short, tf_feedback, tf_t, tf_true = questions
    assert (essay.name, essay.text) == ("Q8", "How are you?")
    assert matching.text_format == "html"
    assert matching.pairs[-1] == MatchPair(prompt="", answer="Chat")
    assert single.choices[1] == Choice(text="red", fraction=0, feedback="wrong, it's yellow")
    assert single.choices[2].text_format == "plain"
    assert [choice.fraction for choice in multiple.choices] == [0.5, -1, 0.5, -1]
    # The fixture keeps the `";` that closed the PHP string it was copied from; Moodle reads
    # text after the block as a missing-word question, and so do we.
    assert numerical.text == 'What is a number from 1 to 5? _____ ";'
    assert numerical.numeric_answers == (
        NumericAnswer(value=3, tolerance=2),
        NumericAnswer(value=None, fraction=0, feedback="Completely wrong"),
    )
    assert short.choices[-1] == Choice(text="*", fraction=0, feedback="Completely wrong")
    assert tf_feedback.text == '42 is the Absolute Answer to everything. _____ ";'
    assert (tf_feedback.correct_answer, tf_feedback.true_feedback, tf_feedback.false_feedback) == (
        False,
        "42 is the Ultimate Answer.",  # shown to a wrong answer: True
        "You gave the right answer.",
    )
    assert tf_feedback.general_feedback == (
        "This is, of course, a Hitchiker's Guide to the Galaxy reference."
    )
    assert tf_t.correct_answer is tf_true.correct_answer is True
    assert tf_t.name == tf_true.name == "2-08 TSL"


def test_moodle_fixture_in_a_category() -> None:
    items = read_gift("moodle_core", "questions_in_category.gift.txt")
    questions = questions_of(items)
    assert [question.type for question in questions] == [
        "matching",
        "single_choice",
        "short_answer",
        "true_false",
    ]
    assert {item.category for item in items} == {("Default for New Features",)}
    greeting = questions[1]
    assert greeting.text.startswith(
        '<a href="http://demo.moodle.net/file.php/5/media/bonjour.mp3">Listen to this greeting:</a>'
    )
    assert questions[2].choices == (Choice(text="Moodler", fraction=1, text_format="html"),)


# Chinese questions ------------------------------------------------------------------------

CHINESE = """\
$CATEGORY: $course$/top/客服培训/服务规范

// [id:CN-001] [tag:单选] [tag:服务规范]
::单选题：开场白::客户来电时，座席的第一句话应该是什么？{
    =“您好，很高兴为您服务！”#正确：先问候，再自报工号。
    ~“喂，什么事？”#不礼貌。
    ~直接询问客户的身份证号。
}

::多选题::以下哪些属于文明用语？（多选）{
    ~%50%请稍等，我马上为您查询。
    ~%50%感谢您的耐心等待！
    ~%-100%你到底听懂没有？
}

::判断题::座席可以在通话中随意挂断客户的电话。{FALSE#错误：不能随意挂断。#回答正确！}

::填空题::我们的客服热线是{=95588 =%50%九五五八八#请写数字。}，全天二十四小时服务。

::数值题::一次通话的标准处理时长是多少秒？（允许误差±30秒）{#３００：３０}

::匹配题::请将术语与含义配对。{
    =ACD -> 自动呼叫分配
    =IVR -> 交互式语音应答
    =AHT -> 平均处理时长
    = -> 首次解决率
}

客户说“我要投诉”时，座席应该怎么做？请简述处理步骤。{}

以下是本章的说明：请认真阅读每一道题，然后作答。
"""


def test_chinese_questions() -> None:
    items = parse_gift(CHINESE)
    single, multiple, true_false, blank, number, matching, essay, description = questions_of(items)
    assert {item.category for item in items} == {("客服培训", "服务规范")}
    assert single == Question(
        type="single_choice",
        name="单选题：开场白",
        text="客户来电时，座席的第一句话应该是什么？",
        category=("客服培训", "服务规范"),
        idnumber="CN-001",
        tags=("单选", "服务规范"),
        choices=(
            Choice(
                text="“您好，很高兴为您服务！”", fraction=1, feedback="正确：先问候，再自报工号。"
            ),
            Choice(text="“喂，什么事？”", fraction=0, feedback="不礼貌。"),
            Choice(text="直接询问客户的身份证号。", fraction=0),
        ),
    )
    assert multiple.type == "multiple_choice"
    assert [c.fraction for c in multiple.choices] == [0.5, 0.5, -1]
    assert multiple.choices[2].text == "你到底听懂没有？"
    assert (true_false.correct_answer, true_false.true_feedback, true_false.false_feedback) == (
        False,
        "错误：不能随意挂断。",
        "回答正确！",
    )
    assert blank.type == "short_answer"
    assert blank.text == "我们的客服热线是 _____ ，全天二十四小时服务。"
    assert blank.choices == (
        Choice(text="95588", fraction=1),
        Choice(text="九五五八八", fraction=0.5, feedback="请写数字。"),
    )
    # Digits and colon typed full-width by a Chinese input method are read as numbers.
    assert number.numeric_answers == (NumericAnswer(value=300, tolerance=30),)
    assert matching.pairs == (
        MatchPair(prompt="ACD", answer="自动呼叫分配"),
        MatchPair(prompt="IVR", answer="交互式语音应答"),
        MatchPair(prompt="AHT", answer="平均处理时长"),
        MatchPair(prompt="", answer="首次解决率"),
    )
    assert (essay.type, essay.name) == (
        "essay",
        "客户说“我要投诉”时，座席应该怎么做？请简述处理步骤。",
    )
    assert (description.type, description.default_mark) == ("description", 0)
    assert description.text == "以下是本章的说明：请认真阅读每一道题，然后作答。"


def test_chinese_questions_export_and_read_back() -> None:
    questions = questions_of(parse_gift(CHINESE))
    assert questions_of(parse_gift(export_gift(questions))) == questions


# Names ------------------------------------------------------------------------------------


def test_default_name_is_the_start_of_the_text_as_moodle_makes_it() -> None:
    long_english = parse_gift_question(
        "The American holiday of Thanksgiving is celebrated on the {~second =fourth} Thursday"
        " of November."
    )
    # 80 characters at most, "..." included, cut after the last space.
    assert long_english.name == (
        "The American holiday of Thanksgiving is celebrated on the _____ Thursday of ..."
    )
    long_chinese = parse_gift_question("请" * 100 + "{}")
    assert long_chinese.name == "请" * 77 + "..."  # CJK text is cut anywhere
    html = parse_gift_question("[html]<p>Listen&nbsp;to <b>this</b>\ngreeting</p>{}")
    assert html.name == "Listen\xa0to this greeting"
    assert parse_gift_question("{T}").name == "Question name"  # Moodle's fallback
    assert parse_gift_question("::  ::Named by its text{}").name == "Named by its text"


def test_title_with_escaped_colon_and_no_closing_colons() -> None:
    assert parse_gift_question("::Unit 1\\: intro::Text{}").name == "Unit 1: intro"
    # No closing "::": Moodle drops the opening one and names the question from its text.
    unclosed = parse_gift_question("::Just text{}")
    assert (unclosed.name, unclosed.text) == ("Just text", "Just text")


# True/false feedback ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "true_feedback", "false_feedback"),
    [
        ("{TRUE#shown after False#shown after True}", "shown after True", "shown after False"),
        ("{FALSE#shown after True#shown after False}", "shown after True", "shown after False"),
        ("{T#shown after False}", "", "shown after False"),
        ("{F##shown after False}", "", "shown after False"),
    ],
)
def test_true_false_feedback_is_read_as_moodle_reads_it(
    written: str, true_feedback: str, false_feedback: str
) -> None:
    question = parse_gift_question(f"Statement.{written}")
    assert (question.true_feedback, question.false_feedback) == (true_feedback, false_feedback)


# Errors -----------------------------------------------------------------------------------

BAD_AND_GOOD = """\
::Q1::Unclosed {=a ~b

::Q2::Fine {T}

::Q3::Weights {~%150%a =b}

// a comment line opens this one
::Q4::Number {#abc}

::Q5::Stray } brace {T}

::Q6::Still fine {F}
"""


def test_bad_questions_name_their_line_and_the_next_ones_are_read() -> None:
    items = parse_gift(BAD_AND_GOOD)
    assert [(item.line, item.error, item.params) for item in items] == [
        (1, "the answer block is not closed", {}),
        (3, None, {}),
        (5, "the weight {weight}% is not between -100% and 100%", {"weight": "150"}),
        (7, "{value} is not a number", {"value": "abc"}),
        (
            10,
            "a {character} outside the answer block: write \\{character} for the character",
            {"character": "}"},
        ),
        (12, None, {}),
    ]
    assert [item.question.name for item in items if item.question] == ["Q2", "Q6"]
    assert items[0].source == "::Q1::Unclosed {=a ~b"
    assert items[0].question is None


@pytest.mark.parametrize("text", ["", "\n\n  \n", "// only a comment\n// and another\n"])
def test_a_file_without_questions_says_so(text: str) -> None:
    assert parse_gift(text) == [GiftItem(1, (), None, error="the file has no questions")]


@pytest.mark.parametrize(
    ("written", "message", "params"),
    [
        (
            "Q {~%-150%a =b}",
            "the weight {weight}% is not between -100% and 100%",
            {"weight": "-150"},
        ),
        ("Q {=%101%a}", "the weight {weight}% is not between -100% and 100%", {"weight": "101"}),
        ("Q {#1..x}", "{value} is not a number", {"value": "x"}),
        ("Q {#1e999}", "{value} is not a number", {"value": "1e999"}),
        ("Q {#5:-1}", "the tolerance {value} is negative", {"value": "-1"}),
        ("Q {=a {b}}", "the answer block is not closed", {}),
        (
            "Q {T} and {F}",
            "a {character} outside the answer block: write \\{character} for the character",
            {"character": "{"},
        ),
        (
            "Q {=a -> b =c}",
            "the matching pair {pair} has no -> between its prompt and its answer",
            {"pair": "c"},
        ),
        (
            "Q {~a ~b}",
            "the right options of a multiple-choice question must add up to the whole mark",
            {},
        ),
        ("Q {~a}", "a choice question needs at least two options", {}),
        ("Q {=a -> b}", "a matching question needs two prompts at least", {}),
        ("Q {#~#any}", "a numerical question needs an accepted number", {}),
        (
            "Q \ufdd0{}",
            "the text contains the reserved character {character}",
            {"character": "U+FDD0"},
        ),
    ],
)
def test_errors(written: str, message: str, params: dict[str, object]) -> None:
    with pytest.raises(GiftError) as raised:
        parse_gift_question(written)
    assert (raised.value.message, raised.value.params) == (message, params)
    [item] = parse_gift(written)
    assert (item.line, item.question, item.error, item.params) == (1, None, message, params)


def test_other_validation_problems_name_the_field() -> None:
    [item] = parse_gift(f"// [id:{'x' * 101}]\nQ {{T}}")
    assert item.error == "the question's {field} is not valid: {detail}"
    assert item.params["field"] == "idnumber"


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("", "the question is empty"),
        ("// [id:1] a comment only", "the question is empty"),
        ("$CATEGORY: $course$/top/x", "a $CATEGORY line is not a question"),
        ("First {T}\n\nSecond {F}", "a question cannot contain an empty line"),
    ],
)
def test_parse_gift_question_refuses_what_is_not_a_question(block: str, message: str) -> None:
    with pytest.raises(GiftError) as raised:
        parse_gift_question(block)
    assert raised.value.message == message


# File level -------------------------------------------------------------------------------


def test_bom_crlf_categories_and_comments() -> None:
    text = (
        "\ufeff// [id:A1]\r\n::A::First?{T}\r\n\r\n"
        "// question: 0  name: switch category\r\n$CATEGORY: $course$/top/x//y/z\r\n\r\n"
        "::B::Second?{F}\r\n// a comment after the question\r\n\r\n"
        "$CATEGORY: $system$/Other\r\n::C::Third, right under the category line{T}\r\n"
    )
    items = parse_gift(text)
    assert [(item.line, item.category) for item in items] == [
        (1, ()),
        (7, ("x/y", "z")),
        (11, ("Other",)),
    ]
    assert [item.question.idnumber for item in items if item.question] == ["A1", None, None]
    assert items[1].source == "::B::Second?{F}\n// a comment after the question"


def test_escapes_and_backslashes() -> None:
    question = parse_gift_question(
        "::a\\:b::x \\~ \\= \\# \\{ \\} \\: \\\\ \\\\n \\n end \\q{=\\~ok\\\\#fb \\# too}"
    )
    assert question.name == "a:b"
    assert question.text == "x ~ = # { } : \\ \\n \n end \\q"
    assert question.choices == (Choice(text="~ok\\", fraction=1, feedback="fb # too"),)


def test_weights_keep_their_value_and_formats_their_place() -> None:
    question = parse_gift_question(
        "[markdown]Pick {=%33.33333%[html]<b>a</b># [plain]why ~%-12.5%b ~c =d}"
    )
    assert question.text_format == "markdown"
    assert question.choices == (
        Choice(text="<b>a</b>", fraction=0.3333333, feedback="why", text_format="html"),
        Choice(text="b", fraction=-0.125, text_format="markdown"),
        Choice(text="c", fraction=0, text_format="markdown"),
        Choice(text="d", fraction=1, text_format="markdown"),
    )
    assert question.text == "Pick"


# Export -----------------------------------------------------------------------------------


def test_export_writes_categories_ids_tags_and_escapes() -> None:
    first = Question(
        type="single_choice",
        name="Q: 1",
        text="2 + 2 = ?",
        category=("客服", "a/b"),
        idnumber="X]1",
        tags=("t1", "t 2"),
        choices=(
            Choice(text="4", fraction=1, feedback="对"),
            Choice(text="%5", fraction=0),
            Choice(text="[html]3", fraction=0.5),
        ),
        general_feedback="2 + 2 = 4",
    )
    second = Question(
        type="numerical",
        name="N",
        text="Any number",
        category=("客服", "a/b"),
        text_format="html",
        numeric_answers=(
            NumericAnswer(value=-1.5, tolerance=0.25, feedback="[html]close"),
            NumericAnswer(value=None, fraction=0, feedback="no"),
        ),
    )
    third = Question(
        type="true_false", name="T", text="Yes?", correct_answer=True, true_feedback="ok"
    )
    assert export_gift([first, second, third]) == (
        "$CATEGORY: $course$/top/客服/a//b\n\n"
        "// [id:X\\]1]\n"
        "// [tag:t1] [tag:t 2]\n"
        "::Q\\: 1::2 + 2 \\= ?{\n"
        "\t=4#对\n"
        "\t~%0%%5\n"
        "\t~%50%[moodle][html]3\n"
        "\t####2 + 2 \\= 4\n"
        "}\n\n"
        "::N::[html]Any number{#\n"
        "\t=-1.5:0.25#[html][html]close\n"
        "\t~#no\n"
        "}\n\n"
        "$CATEGORY: $course$/top\n\n"
        "::T::Yes?{TRUE##ok}\n\n"
    )


def test_single_choice_export_keeps_an_equals_and_a_tilde() -> None:
    all_right = Question(
        type="single_choice",
        name="Q",
        text="Both",
        choices=(Choice(text="a", fraction=1), Choice(text="b", fraction=1)),
    )
    none_full = Question(
        type="single_choice",
        name="R",
        text="Half",
        choices=(Choice(text="a", fraction=0), Choice(text="b", fraction=0.5)),
    )
    written = export_gift([all_right, none_full])
    assert "\t=a\n\t~%100%b\n" in written
    assert "\t=%0%a\n\t~%50%b\n" in written
    assert questions_of(parse_gift(written)) == [all_right, none_full]


def test_ordering_and_arrows_cannot_be_exported() -> None:
    ordering = Question(type="ordering", name="O", text="Order", order=("a", "b"))
    assert not gift_can_export(ordering)
    with pytest.raises(GiftError) as raised:
        export_gift([ordering])
    assert (raised.value.message, raised.value.params) == (
        "GIFT cannot carry {type} questions",
        {"type": "ordering"},
    )
    arrow = Question(
        type="short_answer", name="S", text="Way", choices=(Choice(text="a -> b", fraction=1),)
    )
    tagged = Question(type="essay", name="E", text="Write", tags=("line\nbreak",))
    assert not gift_can_export(arrow)
    assert not gift_can_export(tagged)
    with pytest.raises(GiftError):
        export_gift([arrow])


# Round trip -------------------------------------------------------------------------------

TRICKY = st.sampled_from(
    [
        "~", "=", "#", "{", "}", ":", "\\", "\\n", "\n", "\t", " ", "::", "####", "->", "%50%",
        "%", "[html]", "[plain]", "[markdown]", "[moodle]", "_____", "//", "T", "TRUE", "*",
        "..", "[", "]", "$CATEGORY:", "客服", "您好，请问有什么可以帮您？", "（全角）：！",
        "“引号”", "\u3000", "\u2028",
    ]
)  # fmt: skip
# Noncharacters are the parser's placeholders (refused in input); Cc holds CR and NUL.
CHARACTERS = st.characters(exclude_categories=("Cs", "Cc", "Cn"))
FORMATS: st.SearchStrategy[TextFormat] = st.sampled_from(["moodle", "html", "plain", "markdown"])
FRACTIONS = st.one_of(
    st.sampled_from([0.0, 1.0, 0.5, -1.0, 0.3333333, -0.5, 0.1]),
    st.floats(min_value=-1, max_value=1),
)
NUMBERS = st.floats(allow_nan=False, allow_infinity=False)
LABELS = st.text(st.sampled_from("abcXYZ019-_. ]客服规范"), max_size=8).map(
    lambda label: label.strip(TRIM) or "客服"
)
# Moodle pads a category name that starts or ends with "/" with a space and trims names when
# it reads them: such names do not come back the same.
SEGMENTS = st.one_of(
    st.sampled_from(["客服", "a/b", "Unit 1: Topic", "top", "$course$", "x // y"]),
    st.text(st.sampled_from("ab/: 客"), max_size=6),
).map(lambda name: name.strip(TRIM + "/").strip(TRIM) or "客服")


def texts(min_size: int = 0) -> st.SearchStrategy[str]:
    pieces = st.lists(st.one_of(TRICKY, st.text(CHARACTERS, max_size=4)), max_size=6)
    return pieces.map(lambda parts: "".join(parts).strip(TRIM)).filter(
        lambda text: len(text) >= min_size
    )


def no_arrow(min_size: int = 0) -> st.SearchStrategy[str]:
    return texts(min_size).filter(lambda text: "->" not in text)


@st.composite
def choices(draw: st.DrawFn, *, count: tuple[int, int], arrows: bool = True) -> list[Choice]:
    text = texts() if arrows else no_arrow()
    return [
        Choice(
            text=draw(text),
            fraction=draw(FRACTIONS),
            feedback=draw(text),
            text_format=draw(FORMATS),
        )
        for _ in range(draw(st.integers(*count)))
    ]


@st.composite
def exportable_questions(draw: st.DrawFn) -> Question:
    kind: QuestionType = draw(
        st.sampled_from(list(PEER_TYPES))  # every type but ordering
    )
    fields: dict[str, Any] = {
        "type": kind,
        "name": draw(texts()) or "名称",
        "text": draw(texts()),
        "text_format": draw(FORMATS),
        "category": tuple(draw(st.lists(SEGMENTS, max_size=3))),
        "idnumber": draw(st.none() | LABELS),
        "tags": tuple(draw(st.lists(LABELS, max_size=3))),
        "general_feedback": "" if kind == "description" else draw(texts()),
        # What GIFT cannot carry, drawn anyway: the comparison resets it.
        "difficulty": draw(st.sampled_from([None, "easy", "hard"])),
        "explanation": draw(texts()),
        "default_mark": draw(st.sampled_from([0, 1, 2.5])),
        "shuffle_choices": draw(st.booleans()),
        "case_sensitive": draw(st.booleans()),
        "width_sensitive": draw(st.booleans()),
    }
    if kind in ("single_choice", "multiple_choice"):
        drawn = draw(choices(count=(2, 5)))
        best = 1.0 if kind == "multiple_choice" else draw(st.floats(min_value=0.01, max_value=1))
        fields["choices"] = (drawn[0].model_copy(update={"fraction": best}), *drawn[1:])
    elif kind == "short_answer":
        drawn = draw(choices(count=(1, 4), arrows=False))
        best = draw(st.floats(min_value=0.01, max_value=1))
        fields["choices"] = (drawn[0].model_copy(update={"fraction": best}), *drawn[1:])
    elif kind == "true_false":
        fields |= {
            "correct_answer": draw(st.booleans()),
            "true_feedback": draw(texts()),
            "false_feedback": draw(texts()),
        }
    elif kind == "numerical":
        first = NumericAnswer(
            value=draw(NUMBERS),
            tolerance=draw(st.floats(min_value=0, max_value=1e6)),
            fraction=draw(st.floats(min_value=0.01, max_value=1)),
            feedback=draw(texts()),
        )
        others = draw(
            st.lists(
                st.builds(
                    NumericAnswer,
                    value=st.none() | NUMBERS,
                    tolerance=st.just(0.0) | st.floats(min_value=0, max_value=10),
                    fraction=FRACTIONS,
                    feedback=texts(),
                ),
                max_size=3,
            )
        )
        # A catch-all has no tolerance in GIFT.
        others = [a.model_copy(update={"tolerance": 0.0}) if a.value is None else a for a in others]
        fields["numeric_answers"] = (first, *others)
    elif kind == "matching":
        prompts = [draw(no_arrow(min_size=1)), draw(no_arrow(min_size=1))]
        prompts += draw(st.lists(no_arrow(), max_size=3))
        fields["pairs"] = tuple(MatchPair(prompt=p, answer=draw(texts())) for p in prompts)
    elif kind == "essay":
        fields |= {"response_template": draw(texts()), "grader_info": draw(texts())}
    return Question(**fields)


NOT_IN_GIFT = {
    "difficulty": None,
    "explanation": "",
    "default_mark": 1.0,
    "shuffle_choices": True,
    "case_sensitive": False,
    "width_sensitive": False,
    "response_template": "",
    "grader_info": "",
    "images": (),
}


def carried(question: Question) -> dict[str, Any]:
    return question.model_copy(update=NOT_IN_GIFT).model_dump()


@settings(max_examples=200, deadline=None)
@given(st.lists(exportable_questions(), min_size=1, max_size=3))
def test_export_then_import_gives_the_same_questions(questions: list[Question]) -> None:
    assume(all(gift_can_export(question) for question in questions))
    items = parse_gift(export_gift(questions))
    assert [(item.error, item.params) for item in items] == [(None, {})] * len(questions)
    assert [carried(item.question) for item in items if item.question] == [
        carried(question) for question in questions
    ]
