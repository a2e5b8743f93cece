"""Grading a response, Moodle's way: a table per type, then properties that hold for any
question (the fraction's range, the right response's mark, order-free multiple choice, garbage
rejected without an exception)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentladder.training.questions.grading import (
    Grade,
    check_response,
    fold_width,
    grade_response,
    match_answers,
    parse_number,
    random_guess_score,
    right_response,
)
from agentladder.training.questions.schemas import (
    Choice,
    MatchPair,
    NumericAnswer,
    Question,
)


def make_question(type_: str, **fields: Any) -> Question:
    """A question of a type, with what the table needs filled in."""
    return Question.model_validate({"type": type_, "name": "q", "text": "?", **fields})


def choices(*specs: tuple[str, float] | tuple[str, float, str]) -> list[Choice]:
    return [Choice(text=s[0], fraction=s[1], feedback=s[2] if len(s) > 2 else "") for s in specs]


SINGLE = make_question(
    "single_choice",
    choices=choices(("A", 1, "right"), ("B", 0, "no"), ("C", -0.5, "penalty"), ("D", 0.5)),
)
MULTI = make_question(
    "multiple_choice",
    choices=choices(("A", 0.5, "a"), ("B", 0.5, "b"), ("C", -1, "c"), ("D", -0.25)),
)
THIRDS = make_question(
    "multiple_choice",
    choices=choices(("A", 1 / 3), ("B", 1 / 3), ("C", 1 / 3), ("D", -1)),
)
TRUE_FALSE = make_question(
    "true_false", correct_answer=False, true_feedback="alas", false_feedback="yes"
)
SHORT = make_question(
    "short_answer",
    choices=choices(
        ("ABC123", 1, "exact"),
        ("客户 满意", 1, "spaces"),
        ("退*款", 0.8, "wildcard"),
        ("price \\* 2", 1, "literal star"),
        ("please * thanks", 0.5),
        ("*", 0, "anything else"),
    ),
)
SHORT_STRICT = make_question(
    "short_answer",
    case_sensitive=True,
    width_sensitive=True,
    choices=choices(("ABC", 1)),
)
NUMERIC = make_question(
    "numerical",
    numeric_answers=[
        NumericAnswer(value=None, fraction=0.1, feedback="catch-all"),
        NumericAnswer(value=1.5, tolerance=0.1, fraction=1, feedback="right"),
        NumericAnswer(value=1.5, tolerance=1, fraction=0.5, feedback="close"),
        NumericAnswer(value=-3, fraction=-0.5, feedback="sign"),
    ],
)
NUMERIC_NO_CATCH_ALL = make_question("numerical", numeric_answers=[NumericAnswer(value=100)])
MATCHING = make_question(
    "matching",
    pairs=[
        MatchPair(prompt="ACW", answer="after-call work"),
        MatchPair(prompt="AHT", answer="average handle time"),
        MatchPair(prompt="wrap-up", answer="after-call work"),
        MatchPair(prompt="", answer="average speed of answer"),
    ],
)
# match_answers(MATCHING) == ("after-call work", "average handle time", "average speed of answer")
ORDERING = make_question("ordering", order=["greet", "verify", "solve", "close"])
ESSAY = make_question("essay")
DESCRIPTION = make_question("description")

TABLE: list[tuple[str, Question, object, Grade]] = [
    # single choice: the option's fraction, negative included
    ("single right", SINGLE, 0, Grade(1.0, "right", ("right",))),
    ("single wrong", SINGLE, 1, Grade(0.0, "wrong", ("no",))),
    ("single negative", SINGLE, 2, Grade(-0.5, "wrong", ("penalty",))),
    ("single partial, no feedback", SINGLE, 3, Grade(0.5, "partial", ())),
    ("single blank", SINGLE, None, Grade(0.0, "unanswered", ())),
    # multiple choice: sum clamped to [0, 1], feedback of each chosen option in option order
    ("multi all right", MULTI, [1, 0], Grade(1.0, "right", ("a", "b"))),
    ("multi half", MULTI, [0], Grade(0.5, "partial", ("a",))),
    ("multi clamped at 0", MULTI, [0, 2], Grade(0.0, "wrong", ("a", "c"))),
    ("multi with penalty", MULTI, [3, 0, 1], Grade(0.75, "partial", ("a", "b"))),
    ("multi all", MULTI, [0, 1, 2, 3], Grade(0.0, "wrong", ("a", "b", "c"))),
    ("multi thirds add to right", THIRDS, [2, 0, 1], Grade(1.0, "right", ())),
    ("multi blank", MULTI, [], Grade(0.0, "unanswered", ())),
    ("multi null", MULTI, None, Grade(0.0, "unanswered", ())),
    # true/false
    ("tf right", TRUE_FALSE, False, Grade(1.0, "right", ("yes",))),
    ("tf wrong", TRUE_FALSE, True, Grade(0.0, "wrong", ("alas",))),
    ("tf blank", TRUE_FALSE, None, Grade(0.0, "unanswered", ())),
    # short answer
    ("short exact", SHORT, "ABC123", Grade(1.0, "right", ("exact",))),
    ("short case", SHORT, "abc123", Grade(1.0, "right", ("exact",))),
    ("short full width", SHORT, "ＡＢＣ１２３", Grade(1.0, "right", ("exact",))),
    ("short full width lower", SHORT, "ａｂｃ１２３", Grade(1.0, "right", ("exact",))),
    ("short spaces", SHORT, "  客户\u3000\t 满意 ", Grade(1.0, "right", ("spaces",))),
    ("short inner space matters", SHORT, "客户满意", Grade(0.0, "wrong", ("anything else",))),
    ("short wildcard empty", SHORT, "退款", Grade(0.8, "partial", ("wildcard",))),
    ("short wildcard text", SHORT, "退还货款", Grade(0.8, "partial", ("wildcard",))),
    ("short literal star", SHORT, "PRICE * 2", Grade(1.0, "right", ("literal star",))),
    ("short full-width star", SHORT, "price ＊ 2", Grade(1.0, "right", ("literal star",))),
    (
        "short escaped star is not a wildcard",
        SHORT,
        "price x 2",
        Grade(0.0, "wrong", ("anything else",)),
    ),
    ("short spaced wildcard, nothing", SHORT, "please thanks", Grade(0.5, "partial", ())),
    ("short spaced wildcard, words", SHORT, "Please wait,  thanks", Grade(0.5, "partial", ())),
    ("short catch-all", SHORT, "no idea", Grade(0.0, "wrong", ("anything else",))),
    ("short blank", SHORT, "   ", Grade(0.0, "unanswered", ())),
    ("short null", SHORT, None, Grade(0.0, "unanswered", ())),
    ("strict exact", SHORT_STRICT, "ABC", Grade(1.0, "right", ())),
    ("strict case", SHORT_STRICT, "abc", Grade(0.0, "wrong", ())),
    ("strict width", SHORT_STRICT, "ＡＢＣ", Grade(0.0, "wrong", ())),
    # numerical: first answer in order within tolerance, then the catch-all
    ("num exact", NUMERIC, "1.5", Grade(1.0, "right", ("right",))),
    ("num tolerance edge", NUMERIC, "1.6", Grade(1.0, "right", ("right",))),
    ("num second answer", NUMERIC, "2", Grade(0.5, "partial", ("close",))),
    ("num comma decimal", NUMERIC, "1,5", Grade(1.0, "right", ("right",))),
    ("num full width", NUMERIC, "１．５", Grade(1.0, "right", ("right",))),
    ("num full-width comma", NUMERIC, "１，５", Grade(1.0, "right", ("right",))),
    ("num negative fraction", NUMERIC, "−3", Grade(-0.5, "wrong", ("sign",))),
    ("num exponent", NUMERIC, "15e-1", Grade(1.0, "right", ("right",))),
    ("num catch-all", NUMERIC, "42", Grade(0.1, "partial", ("catch-all",))),
    ("num no catch-all", NUMERIC_NO_CATCH_ALL, "42", Grade(0.0, "wrong", ())),
    ("num blank", NUMERIC, " ", Grade(0.0, "unanswered", ())),
    # matching: share of prompts right; a repeated answer text is one answer
    ("match all", MATCHING, {"0": 0, "1": 1, "2": 0}, Grade(1.0, "right", ())),
    ("match two of three", MATCHING, {"0": 0, "1": 2, "2": 0}, Grade(2 / 3, "partial", ())),
    ("match partly answered", MATCHING, {"1": 1, "2": None}, Grade(1 / 3, "partial", ())),
    ("match none", MATCHING, {"0": 1, "1": 0, "2": 2}, Grade(0.0, "wrong", ())),
    ("match blank", MATCHING, {}, Grade(0.0, "unanswered", ())),
    ("match nulls", MATCHING, {"0": None}, Grade(0.0, "unanswered", ())),
    # ordering: absolute position
    ("order right", ORDERING, [0, 1, 2, 3], Grade(1.0, "right", ())),
    ("order two swapped", ORDERING, [0, 2, 1, 3], Grade(0.5, "partial", ())),
    ("order shifted", ORDERING, [3, 0, 1, 2], Grade(0.0, "wrong", ())),
    ("order blank", ORDERING, [], Grade(0.0, "unanswered", ())),
    # essay and description
    ("essay", ESSAY, "我会先道歉，然后……", Grade(None, "needs_grading", ())),
    ("essay blank", ESSAY, "", Grade(0.0, "unanswered", ())),
    ("description", DESCRIPTION, None, Grade(None, "no_mark", ())),
]


@pytest.mark.parametrize(
    ("question", "response", "expected"),
    [row[1:] for row in TABLE],
    ids=[row[0] for row in TABLE],
)
def test_grade_response(question: Question, response: object, expected: Grade) -> None:
    assert check_response(question, response) is None
    grade = grade_response(question, response)
    assert grade.state == expected.state
    assert grade.feedback == expected.feedback
    if expected.fraction is None:
        assert grade.fraction is None
    else:
        assert grade.fraction == pytest.approx(expected.fraction)


def test_matching_answers_are_each_text_once_in_pair_order() -> None:
    assert match_answers(MATCHING) == (
        "after-call work",
        "average handle time",
        "average speed of answer",
    )


def test_a_short_answer_earns_its_best_match_not_its_first() -> None:
    accepted = choices(("*", 0, "other"), ("*款", 0.5, "close"), ("退款", 1, "yes"))
    question = make_question("short_answer", choices=accepted)
    assert grade_response(question, "退款") == Grade(1.0, "right", ("yes",))
    assert grade_response(question, "付款") == Grade(0.5, "partial", ("close",))
    assert grade_response(question, "refund") == Grade(0.0, "wrong", ("other",))


def test_ordering_items_with_the_same_text_are_interchangeable() -> None:
    question = make_question("ordering", order=["check", "check", "close"])
    assert grade_response(question, [1, 0, 2]).fraction == 1.0


MALFORMED: list[tuple[str, Question, object, str]] = [
    ("single out of range", SINGLE, 4, "the chosen option does not exist"),
    ("single negative index", SINGLE, -1, "the chosen option does not exist"),
    ("single bool", SINGLE, True, "a single-choice response is the index of one option"),
    ("single text", SINGLE, "0", "a single-choice response is the index of one option"),
    ("single blank text", SINGLE, "", "a single-choice response is the index of one option"),
    ("multi int", MULTI, 0, "a multiple-choice response is a list of option indices"),
    ("multi floats", MULTI, [0.0], "a multiple-choice response is a list of option indices"),
    ("multi out of range", MULTI, [0, 9], "the chosen option does not exist"),
    ("multi twice", MULTI, [1, 1], "an option is chosen twice"),
    ("tf int", TRUE_FALSE, 1, "a true/false response is true or false"),
    ("tf text", TRUE_FALSE, "true", "a true/false response is true or false"),
    ("short number", SHORT, 123, "the response must be text"),
    ("num number", NUMERIC, 1.5, "the response must be text"),
    ("num words", NUMERIC, "one and a half", "write a number, such as 12 or 1.5"),
    ("num inf", NUMERIC, "1e999", "write a number, such as 12 or 1.5"),
    ("num nan", NUMERIC, "nan", "write a number, such as 12 or 1.5"),
    ("num thousands", NUMERIC, "1,234.5", "write the number without thousands separators"),
    ("num thousands groups", NUMERIC, "1,234,567", "write the number without thousands separators"),
    (
        "num ambiguous comma",
        NUMERIC,
        "1,500",
        "a comma followed by three digits is ambiguous: write 1500 or 1.5",
    ),
    ("match list", MATCHING, [0, 1], "a matching response maps prompts to answers"),
    ("match distractor key", MATCHING, {"3": 2}, "the prompt does not exist"),
    ("match int key", MATCHING, {0: 0}, "the prompt does not exist"),
    ("match answer out of range", MATCHING, {"0": 3}, "the chosen answer does not exist"),
    ("order missing item", ORDERING, [0, 1, 2], "an ordering response lists every item once"),
    ("order repeat", ORDERING, [0, 1, 1, 2], "an ordering response lists every item once"),
    ("order bools", ORDERING, [False, True, 2, 3], "an ordering response lists every item once"),
    ("essay list", ESSAY, ["text"], "the response must be text"),
    ("description text", DESCRIPTION, "hello", "a description takes no response"),
]


@pytest.mark.parametrize(
    ("question", "response", "problem"),
    [row[1:] for row in MALFORMED],
    ids=[row[0] for row in MALFORMED],
)
def test_check_response_names_the_problem(
    question: Question, response: object, problem: str
) -> None:
    assert check_response(question, response) == problem
    with pytest.raises(ValueError, match="^" + problem.replace(".", r"\.") + "$"):
        grade_response(question, response)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12", 12.0),
        ("+0.5", 0.5),
        ("-.5", -0.5),
        ("5.", 5.0),
        ("1,25", 1.25),
        ("1,2345", 1.2345),
        ("－１２", -12.0),
        ("１２３", 123.0),
        ("2E3", 2000.0),
        ("  7 ", 7.0),
    ],
)
def test_parse_number(text: str, value: float) -> None:
    assert parse_number(text) == value


def test_fold_width_touches_only_width_forms() -> None:
    assert fold_width("ＡＢＣ１２３，！") == "ABC123,!"
    assert fold_width("ｶﾀｶﾅ") == "カタカナ"
    assert (
        fold_width("①²ﬁ 中文。") == "①²ﬁ 中文。"
    )  # NFKC would change these; width folding does not


@pytest.mark.parametrize(
    ("question", "score"),
    [
        (SINGLE, (1 + 0 - 0.5 + 0.5) / 4),
        (MULTI, None),
        (TRUE_FALSE, 0.5),
        (SHORT, 0.0),  # the `*` answer's fraction
        (make_question("short_answer", choices=choices(("a", 1), (" * ", 0.2))), 0.2),
        (SHORT_STRICT, 0.0),
        (NUMERIC, 0.1),  # the catch-all's fraction
        (NUMERIC_NO_CATCH_ALL, 0.0),
        (MATCHING, 1 / 3),
        (ORDERING, 0.0),
        (ESSAY, 0.0),
        (DESCRIPTION, None),
    ],
    ids=lambda value: value.type if isinstance(value, Question) else str(value),
)
def test_random_guess_score(question: Question, score: float | None) -> None:
    assert random_guess_score(question) == (None if score is None else pytest.approx(score))


# Properties ---------------------------------------------------------------------------------

fractions = st.sampled_from([-1.0, -0.5, -1 / 3, -0.25, 0.0, 0.1, 0.25, 1 / 3, 0.5, 0.8, 1.0])
texts = st.text(
    alphabet=st.sampled_from(list("abcAB 12*\\ ＡｂＣ１２　客户满意，,.")),
    min_size=1,
    max_size=12,
).filter(lambda text: text.strip() and text.strip() != "\\")


@st.composite
def single_choice(draw: st.DrawFn) -> Question:
    options = draw(st.lists(fractions, min_size=2, max_size=6).filter(lambda fs: max(fs) > 0))
    return make_question(
        "single_choice", choices=[Choice(text=str(f), fraction=f) for f in options]
    )


@st.composite
def multiple_choice(draw: st.DrawFn) -> Question:
    size = draw(st.integers(2, 6))
    right = draw(st.integers(1, size))
    shares = [1 / right] * right
    wrong = draw(
        st.lists(
            st.sampled_from([0.0, -0.5, -1.0, -1 / 3]), min_size=size - right, max_size=size - right
        )
    )
    options = draw(st.permutations(shares + wrong))
    return make_question("multiple_choice", choices=[Choice(text="x", fraction=f) for f in options])


@st.composite
def short_answer(draw: st.DrawFn) -> Question:
    answers = draw(st.lists(st.tuples(texts, fractions), min_size=1, max_size=4))
    answers.append((draw(texts), draw(fractions.filter(lambda f: f > 0))))
    return make_question(
        "short_answer",
        case_sensitive=draw(st.booleans()),
        width_sensitive=draw(st.booleans()),
        choices=[Choice(text=text, fraction=f) for text, f in draw(st.permutations(answers))],
    )


@st.composite
def numerical(draw: st.DrawFn) -> Question:
    # Separate intervals (centres 10 apart, tolerance < 5): the first-in-order rule then never
    # lets one answer shadow another, so the best answer's value earns the best fraction.
    count = draw(st.integers(1, 4))
    answers = [
        NumericAnswer(
            value=10.0 * i + draw(st.floats(-1, 1)),
            tolerance=draw(st.floats(0, 4.9)),
            fraction=draw(fractions),
        )
        for i in range(count)
    ]
    answers.append(NumericAnswer(value=-100.0, fraction=draw(fractions.filter(lambda f: f > 0))))
    if draw(st.booleans()):
        answers.append(NumericAnswer(value=None, fraction=draw(fractions)))
    return make_question("numerical", numeric_answers=draw(st.permutations(answers)))


@st.composite
def matching(draw: st.DrawFn) -> Question:
    words = st.sampled_from(["ACW", "AHT", "ASA", "FCR", "SL", "CSAT"])
    pairs = draw(st.lists(st.tuples(words, words), min_size=2, max_size=6))
    distractors = draw(st.lists(words, max_size=2))
    return make_question(
        "matching",
        pairs=[MatchPair(prompt=p, answer=a) for p, a in pairs]
        + [MatchPair(prompt="", answer=a) for a in distractors],
    )


@st.composite
def ordering(draw: st.DrawFn) -> Question:
    items = draw(st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=2, max_size=6))
    return make_question("ordering", order=items)


questions = st.one_of(
    single_choice(),
    multiple_choice(),
    st.builds(lambda answer: make_question("true_false", correct_answer=answer), st.booleans()),
    short_answer(),
    numerical(),
    matching(),
    ordering(),
)


@st.composite
def question_and_response(draw: st.DrawFn) -> tuple[Question, object]:
    """A question and a well-formed response to it, blank ones included."""
    question = draw(questions)
    kind = question.type
    if kind == "single_choice":
        response: object = draw(st.none() | st.integers(0, len(question.choices) - 1))
    elif kind == "multiple_choice":
        response = draw(st.lists(st.integers(0, len(question.choices) - 1), unique=True))
    elif kind == "true_false":
        response = draw(st.none() | st.booleans())
    elif kind == "short_answer":
        response = draw(st.none() | texts | st.just(right_response(question)))
    elif kind == "numerical":
        response = draw(st.floats(-150, 150).map(repr) | st.just(right_response(question)))
    elif kind == "matching":
        prompts = [str(i) for i, pair in enumerate(question.pairs) if pair.prompt]
        answers = st.none() | st.integers(0, len(match_answers(question)) - 1)
        response = draw(st.fixed_dictionaries({}, optional=dict.fromkeys(prompts, answers)))
    else:
        response = draw(st.permutations(range(len(question.order))).map(list))
    return question, response


def lowest_fraction(question: Question) -> float:
    marks = [c.fraction for c in question.choices] + [a.fraction for a in question.numeric_answers]
    return min([0.0, *marks])


@given(question_and_response())
def test_the_fraction_stays_within_the_marks_range(case: tuple[Question, object]) -> None:
    question, response = case
    assert check_response(question, response) is None
    grade = grade_response(question, response)
    assert grade.fraction is not None
    assert lowest_fraction(question) <= grade.fraction <= 1
    assert grade.state in ("right", "partial", "wrong", "unanswered")


@given(questions)
def test_the_right_response_earns_the_best_mark(question: Question) -> None:
    grade = grade_response(question, right_response(question))
    assert grade.fraction == pytest.approx(question.max_fraction)


@given(multiple_choice(), st.data())
def test_the_order_of_a_multiple_choice_response_does_not_matter(
    question: Question, data: st.DataObject
) -> None:
    size = len(question.choices)
    response = data.draw(st.lists(st.integers(0, size - 1), unique=True))
    shuffled = data.draw(st.permutations(response))
    assert grade_response(question, list(shuffled)) == grade_response(question, response)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(st.one_of(questions, st.just(ESSAY), st.just(DESCRIPTION)), json_values)
def test_check_response_rejects_garbage_without_raising(question: Question, response: Any) -> None:
    problem = check_response(question, response)
    if problem is None:
        grade = grade_response(question, response)  # whatever passes the check can be graded
        assert grade.state in (
            "right",
            "partial",
            "wrong",
            "unanswered",
            "needs_grading",
            "no_mark",
        )
    else:
        assert isinstance(problem, str)
        with pytest.raises(ValueError):
            grade_response(question, response)
