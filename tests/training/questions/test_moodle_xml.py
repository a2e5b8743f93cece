"""Moodle XML: a real export read question by question, files refused whole, malformed
questions reported by line, and export -> read giving back the same questions."""

from __future__ import annotations

import base64
import mimetypes
import re
import time
from collections import Counter
from functools import cache
from urllib.parse import quote, unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentladder.training.questions.moodle_xml import (
    MoodleXmlError,
    XmlCategory,
    XmlItem,
    export_moodle_xml,
    read_moodle_xml,
)
from agentladder.training.questions.schemas import Question
from tests.conftest import corpus_path

PNG = b"\x89PNG\r\n\x1a\n"


@cache
def _read_corpus(name: str) -> tuple[list[XmlCategory], list[XmlItem]]:
    return read_moodle_xml(corpus_path("question_bank", "moodle_xml", name).read_bytes())


def _ds() -> tuple[list[XmlCategory], list[XmlItem]]:
    return _read_corpus("DS-20200731.xml")


def _quiz(body: str) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n{body}</quiz>\n'.encode()


# The real export ----------------------------------------------------------------------------


def test_real_export_counts_per_moodle_type_and_per_bank_type() -> None:
    categories, items = _ds()
    assert Counter(item.moodle_type for item in items) == {
        "multichoice": 196,
        "shortanswer": 40,
        "numerical": 36,
        "essay": 35,
        "matching": 10,
        "truefalse": 1,
        "calculated": 1,
    }
    # Of the 196 multichoice, 159 say <single>true</single> and 37 <single>false</single>
    # (counted in the file with grep).
    assert Counter(item.question.type for item in items if item.question) == {
        "single_choice": 159,
        "multiple_choice": 37,
        "short_answer": 40,
        "numerical": 36,
        "essay": 35,
        "matching": 10,
        "true_false": 1,
    }
    # The README's "52 categories" are the 52 <question type="category"> pseudo-questions
    # (371 <question> elements = 319 questions + 52 categories); the file has no other
    # category element, and the 52 paths are all different.
    assert len(categories) == 52
    assert len({category.path for category in categories}) == 52
    assert len(items) == 319
    assert [item for item in items if item.error] == []


def test_real_export_calculated_question_is_skipped_by_name() -> None:
    _categories, items = _ds()
    skipped = [item for item in items if item.question is None]
    assert len(skipped) == 1
    (calculated,) = skipped
    assert calculated.moodle_type == "calculated"
    assert calculated.name == "2log bepalen binsearch N elementen"
    assert calculated.skipped == "calculated questions are not supported"
    assert calculated.line == 80
    assert calculated.category == (
        "Datastructures Questions",
        "Toets 2 Week 4-7",
        "Week 4 Analysis Big O, simple sort",
        "OpenAantalStappenBinSearch",
    )


def test_real_export_images_are_decoded_and_referenced() -> None:
    _categories, items = _ds()
    with_images = [item.question for item in items if item.question and item.question.images]
    assert len(with_images) == 23
    images = [image for question in with_images for image in question.images]
    assert len(images) == 60  # every <file> of the export, all under <questiontext>
    for image in images:
        assert base64.b64decode(image.data_base64, validate=True).startswith(PNG)
        assert image.media_type == "image/png"  # ".PNG" as well as ".png"
    # Each text shows one picture, named URL-encoded as Moodle's editor writes it
    # ("Graph%20DFS%20opgave%201.png"); the other 37 files are copies Moodle kept from
    # earlier edits of the question, read all the same.
    for question in with_images:
        references = re.findall(r"@@PLUGINFILE@@/([^\"]+)", question.text)
        assert len(references) == 1
        assert unquote(references[0]) in {image.name for image in question.images}
    referenced = sum(
        f"@@PLUGINFILE@@/{quote(i.name)}" in q.text for q in with_images for i in q.images
    )
    assert referenced == 23
    assert {image.name.rsplit(".", 1)[1] for image in images} == {"png", "PNG"}


def test_real_export_answers_marks_and_feedback() -> None:
    categories, items = _ds()
    assert categories[0].path == ("Datastructures Questions",)
    assert categories[0].info.startswith("<p>The root category")
    questions = [item.question for item in items if item.question]
    (true_false,) = [q for q in questions if q.type == "true_false"]
    assert true_false.name == "Verklaring van authenticiteit"
    assert true_false.correct_answer is True
    assert (
        true_false.false_feedback
        == "Het resultaat van deze toets zal niet worden ingevoerd in SIS!"
    )
    assert true_false.true_feedback == ""
    assert true_false.text_format == "html"
    assert "&nbsp;Deze vraag" in true_false.text  # an HTML entity inside CDATA stays HTML
    multiple = [q for q in questions if q.type == "multiple_choice"]
    thirds = [
        q for q in multiple if any(c.fraction == pytest.approx(1 / 3, abs=1e-6) for c in q.choices)
    ]
    assert thirds
    # "33.33333" reads as exactly 0.3333333, what Moodle stores, not 0.33333329999999997.
    assert all(
        c.fraction in (0.3333333, -0.3333333, 0, -0.5, -0.25, 0.5, -1, 1)
        for q in thirds
        for c in q.choices
    )
    assert all(q.max_fraction == pytest.approx(1, abs=1e-6) for q in multiple)
    matching = [q for q in questions if q.type == "matching"]
    big_o = next(q for q in matching if q.name == "Big O typeringen matchen")
    assert [pair.prompt for pair in big_o.pairs][-2:] == ["", ""]  # two distractors
    assert big_o.pairs[0].prompt == "<p>O( 1 )</p>"
    short = [q for q in questions if q.type == "short_answer"]
    assert not any(q.case_sensitive for q in short)  # every <usecase> is 0
    numerical = [q for q in questions if q.type == "numerical"]
    assert all(len(q.numeric_answers) == 1 for q in numerical)
    assert {q.default_mark for q in questions} == {1.0, 2.0}


def test_nested_categories_paths_idnumbers_and_questions() -> None:
    categories, items = _read_corpus("nested_categories_with_questions.xml")
    assert [(c.path, c.idnumber, c.info, c.line) for c in categories] == [
        (("Iota",), None, "This is Iota category for test", 4),
        (("Iota", "Kappa"), None, "This is Kappa category for test", 44),
        (("Iota", "Kappa", "Lambda"), None, "This is Lambda category for test", 112),
        (("Iota", "Mu"), None, "This is Mu category for test", 152),
    ]
    assert [(item.line, item.category, item.moodle_type, item.name) for item in items] == [
        (15, ("Iota",), "truefalse", "Iota Question"),
        (55, ("Iota", "Kappa"), "essay", "Kappa Essay Question"),
        (83, ("Iota", "Kappa"), "truefalse", "Kappa Question"),
        (123, ("Iota", "Kappa", "Lambda"), "truefalse", "Lambda Question"),
        (163, ("Iota", "Mu"), "truefalse", "Mu Question"),
    ]
    questions = [item.question for item in items]
    assert all(q is not None for q in questions)
    essay = questions[1]
    assert essay is not None
    assert essay.type == "essay"
    assert essay.text == "Testing Kappa Essay Question"
    assert essay.text_format == "moodle"
    assert (essay.response_template, essay.grader_info) == ("", "")
    for index in (0, 2, 3, 4):
        true_false = questions[index]
        assert true_false is not None
        assert true_false.type == "true_false"
        assert true_false.correct_answer is True
        assert true_false.category == items[index].category
        assert true_false.idnumber is None  # <idnumber></idnumber>


# Categories, texts, types --------------------------------------------------------------------


def test_category_paths_idnumbers_and_escaped_slashes() -> None:
    categories, items = read_moodle_xml(
        _quiz(
            """<question type="category"><category><text>$system$/top/A//B/C</text></category>
  <info format="html"><text>about &lt;C&gt;</text></info><idnumber>cat-1</idnumber></question>
<question type="description"><name><text>Intro</text></name>
  <questiontext><text>Read this</text></questiontext><defaultgrade>1</defaultgrade></question>
<question type="category"><category>$course$/Default for X</category></question>
<question type="category"><category><text>top</text></category></question>
"""
        )
    )
    assert [(c.path, c.idnumber, c.info) for c in categories] == [
        (("A/B", "C"), "cat-1", "about <C>"),
        (("Default for X",), None, ""),
        ((), None, ""),
    ]
    (intro,) = items
    assert intro.question is not None
    assert intro.question.category == ("A/B", "C")
    assert intro.question.text_format == "html"  # no format attribute: Moodle assumes HTML
    assert intro.question.default_mark == 0  # Moodle gives a description no mark


def test_cdata_and_escaped_text_read_the_same() -> None:
    question = """<question type="essay"><name><text>{name}</text></name>
  <questiontext format="html"><text>{text}</text></questiontext></question>
"""
    html = '<p>a &amp; b < c "中文"</p>'
    escaped = "&lt;p&gt;a &amp;amp; b &lt; c &quot;&#20013;文&quot;&lt;/p&gt;"
    _categories, items = read_moodle_xml(
        _quiz(
            question.format(name="one", text=f"<![CDATA[{html}]]>")
            + question.format(name="two", text=escaped)
            + question.format(name="three", text=f"\n  <![CDATA[{html}]]>\n  ")
        )
    )
    assert [item.question.text for item in items if item.question] == [html, html, html]


def test_unsupported_types_are_skipped_never_dropped() -> None:
    body = "".join(
        f'<question type="{kind}"><name><text>{kind} q</text></name>'
        "<questiontext><text>x</text></questiontext></question>\n"
        for kind in ("ddwtos", "multianswer", "random", "coderunner", "wordle")
    )
    _categories, items = read_moodle_xml(_quiz(body))
    assert [(item.moodle_type, item.name, item.question) for item in items] == [
        ("ddwtos", "ddwtos q", None),
        ("multianswer", "multianswer q", None),
        ("random", "random q", None),
        ("coderunner", "coderunner q", None),
        ("wordle", "wordle q", None),
    ]
    assert all(item.skipped and item.error is None for item in items)
    assert items[2].skipped != items[3].skipped  # random has its own reason
    assert items[4].skipped == "questions of type {type} are not supported"
    assert items[4].params == {"type": "wordle"}


def test_truefalse_numerical_catch_all_and_ordering() -> None:
    _categories, items = read_moodle_xml(
        _quiz(
            """<question type="truefalse"><name><text>TF</text></name>
  <questiontext format="plain_text"><text>Sky is green</text></questiontext>
  <answer fraction="0"><text>true</text><feedback><text>No.</text></feedback></answer>
  <answer fraction="100"><text>false</text><feedback><text>Right.</text></feedback></answer>
</question>
<question type="numerical"><name><text>N</text></name><questiontext><text>2+2</text></questiontext>
  <answer fraction="100"><text>4</text><tolerance>0.5</tolerance></answer>
  <answer fraction="0"><text>*</text><tolerance></tolerance>
    <feedback><text>Count again</text></feedback></answer>
</question>
<question type="ordering"><name><text>O</text></name><questiontext><text>Order</text></questiontext>
  <answer fraction="1"><text>greet</text></answer><answer fraction="2"><text>verify</text></answer>
  <answer fraction="3"><text>solve</text></answer>
</question>
"""
        )
    )
    tf, numerical, ordering = (item.question for item in items)
    assert tf is not None
    assert (tf.correct_answer, tf.true_feedback, tf.false_feedback) == (False, "No.", "Right.")
    assert tf.text_format == "plain"
    assert numerical is not None
    assert [(a.value, a.tolerance, a.fraction, a.feedback) for a in numerical.numeric_answers] == [
        (4.0, 0.5, 1.0, ""),
        (None, 0.0, 0.0, "Count again"),
    ]
    assert ordering is not None
    assert ordering.order == ("greet", "verify", "solve")


# Files refused whole --------------------------------------------------------------------------


def test_not_xml_is_refused_with_its_line() -> None:
    with pytest.raises(MoodleXmlError) as caught:
        read_moodle_xml(b"<quiz>\n<question type='essay'>\n</quiz>")
    assert caught.value.line == 3
    assert caught.value.message == "the file is not well-formed XML: {detail}"
    with pytest.raises(MoodleXmlError):
        read_moodle_xml(b"")
    with pytest.raises(MoodleXmlError):
        read_moodle_xml("名称,类型\n题目,单选\n".encode())


def test_wrong_root_is_refused() -> None:
    with pytest.raises(MoodleXmlError) as caught:
        read_moodle_xml(b'<?xml version="1.0"?>\n\n<questestinterop><item/></questestinterop>')
    assert caught.value.params == {"root": "questestinterop"}
    assert caught.value.line == 3


def test_billion_laughs_is_refused_without_expanding() -> None:
    entities = "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY lol0 "lol">{entities}]>'
        '<quiz><question type="essay"><name><text>&lol9;</text></name></question></quiz>'
    ).encode()
    started = time.monotonic()
    with pytest.raises(MoodleXmlError) as caught:
        read_moodle_xml(bomb)
    assert time.monotonic() - started < 2  # 10**9 "lol"s were never built
    # libxml2 may stop it first (its amplification limit), else the DOCTYPE check does.
    assert caught.value.message in (
        "the file is not well-formed XML: {detail}",
        "the file declares a document type; Moodle XML has none",
    )


def test_any_entity_declaration_is_refused() -> None:
    small = (
        b'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY who "world">]>'
        b'<quiz><question type="essay"><name><text>&who;</text></name></question></quiz>'
    )
    with pytest.raises(MoodleXmlError) as caught:
        read_moodle_xml(small)
    assert caught.value.message == "the file declares a document type; Moodle XML has none"


def test_external_entity_is_refused() -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<quiz><question type="essay"><name><text>&x;</text></name></question></quiz>'
    )
    with pytest.raises(MoodleXmlError):
        read_moodle_xml(xxe)


# Malformed questions, reported by line ----------------------------------------------------------


def test_malformed_questions_are_reported_and_the_rest_read() -> None:
    _categories, items = read_moodle_xml(
        _quiz(
            """<question type="multichoice">
  <name><text>No answers</text></name>
  <questiontext><text>Pick one</text></questiontext>
  <single>true</single>
</question>
<question type="shortanswer"><name><text>Fine</text></name>
  <questiontext><text>Say hi</text></questiontext>
  <answer fraction="100"><text>hi</text></answer></question>
<question type="numerical"><name><text>Bad number</text></name>
  <questiontext><text>?</text></questiontext>
  <answer fraction="100"><text>four</text></answer></question>
<question type="essay"><questiontext><text>No name</text></questiontext></question>
<question type="description"><name><text>Bad image</text></name>
  <questiontext><text>x</text><file name="a.png" path="/" encoding="base64">@@@</file>
  </questiontext></question>
<question type="multichoice"><name><text>Too much</text></name>
  <questiontext><text>x</text></questiontext>
  <answer fraction="150"><text>a</text></answer><answer fraction="0"><text>b</text></answer>
</question>
"""
        )
    )
    assert [(item.line, item.name, item.error, item.params) for item in items] == [
        (3, "No answers", "a choice question needs at least two options", {}),
        (8, "Fine", None, {}),
        (11, "Bad number", "{value} is not a number", {"value": "four"}),
        (14, "", "the question has no name", {}),
        (15, "Bad image", "the embedded file {name} is not valid base64", {"name": "a.png"}),
        (
            18,
            "Too much",
            "the question's {field} is not valid: {detail}",
            {"field": "choices.0.fraction", "detail": "Input should be less than or equal to 1"},
        ),
    ]
    assert items[1].question is not None
    assert items[1].question.choices[0].text == "hi"
    assert all(item.question is None for item in items if item.error)


# Export --------------------------------------------------------------------------------------


def test_export_writes_a_category_before_each_change() -> None:
    def question(name: str, category: tuple[str, ...]) -> Question:
        return Question(type="description", name=name, text="t", category=category, default_mark=0)

    data = export_moodle_xml(
        [
            question("a", ()),
            question("b", ("客服", "a/b")),
            question("c", ("客服", "a/b")),
            question("d", ()),
        ]
    )
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<quiz>")
    assert data.count(b'type="category"') == 2
    assert "<text>$course$/top/客服/a//b</text>".encode() in data
    assert b"<text>$course$/top</text>" in data
    categories, items = read_moodle_xml(data)
    assert [c.path for c in categories] == [("客服", "a/b"), ()]
    assert [(item.name, item.category) for item in items] == [
        ("a", ()),
        ("b", ("客服", "a/b")),
        ("c", ("客服", "a/b")),
        ("d", ()),
    ]


def test_export_embeds_images_under_the_question_text() -> None:
    data = base64.b64encode(PNG + b"rest").decode()
    question = Question(
        type="essay",
        name="看图",
        text='<p><img src="@@PLUGINFILE@@/pics/图.png"></p> ]]> &',
        text_format="html",
        images=({"name": "pics/图.png", "media_type": "image/png", "data_base64": data},),
    )
    xml = export_moodle_xml([question])
    assert f'<file name="图.png" path="/pics/" encoding="base64">{data}</file>'.encode() in xml
    _categories, (item,) = read_moodle_xml(xml)
    assert item.question == question


# Round trip ----------------------------------------------------------------------------------

# Moodle trims texts on import, so the generated ones are trimmed the same way (PHP's trim).
_TRIM = " \t\n\r\0\x0b"
_CHARS = st.characters(
    codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="\ufffe\uffff"
) | st.sampled_from(["\t", "\n", "\r", "<", ">", "&", '"', "'", "/", "中", "文", "题"])
_PIECES = st.sampled_from(
    [
        "]]>",
        "<![CDATA[",
        "&amp;",
        "&#20013;",
        "<p>",
        "</p>",
        "@@PLUGINFILE@@/a.png",
        "座席",
        "中文题目",
        "客服\r\n",
        " ",
    ]
)
_ANY_TEXT = st.lists(st.text(_CHARS, max_size=8) | _PIECES, max_size=5).map(
    lambda parts: "".join(parts).strip(_TRIM)
)
_TEXT = _ANY_TEXT.filter(bool)
_FORMATS = st.sampled_from(["moodle", "html", "plain", "markdown"])
_FRACTION = st.floats(min_value=-1, max_value=1, allow_nan=False)
_NUMBER = st.floats(allow_nan=False, allow_infinity=False)
_EXTENSIONS = [".png", ".jpg", ".gif", ".svg", ".PNG"]


@st.composite
def _images(draw: st.DrawFn) -> tuple[dict[str, str], ...]:
    stems = draw(
        st.lists(
            st.text(st.sampled_from("abc图片_- 1"), min_size=1, max_size=6).map(
                lambda stem: stem.strip(_TRIM)
            ),
            max_size=3,
            unique=True,
        ).map(lambda stems: [stem for stem in stems if stem])
    )
    images = []
    for stem in stems:
        name = (
            draw(st.sampled_from(["", "sub/", "a/b/"])) + stem + draw(st.sampled_from(_EXTENSIONS))
        )
        media_type = mimetypes.guess_type(name, strict=False)[0]
        assert media_type is not None
        data = base64.b64encode(draw(st.binary(max_size=40))).decode()
        images.append({"name": name, "media_type": media_type, "data_base64": data})
    return tuple(images)


def _category_name(name: str) -> bool:
    return bool(name) and not name.startswith("/") and not name.endswith("/")


@st.composite
def _questions(draw: st.DrawFn) -> Question:
    kind = draw(st.sampled_from(list(_TYPE_FIELDS)))
    fields: dict[str, object] = {
        "type": kind,
        "name": draw(_TEXT.map(lambda name: name[:255].strip(_TRIM)).filter(bool)),
        "text": draw(_ANY_TEXT),
        "text_format": draw(_FORMATS),
        "category": tuple(draw(st.lists(_TEXT.filter(_category_name), max_size=3))),
        "idnumber": draw(st.none() | _TEXT.map(lambda s: s[:100].strip(_TRIM)).filter(bool)),
        "tags": tuple(draw(st.lists(_TEXT, max_size=3, unique=True))),
        "default_mark": 0 if kind == "description" else draw(st.floats(0, 1e6)),
        "general_feedback": draw(_ANY_TEXT),
        "images": draw(_images()),
    }
    fields.update(draw(_TYPE_FIELDS[kind]))
    return Question(**fields)


def _choice(fraction: st.SearchStrategy[float]) -> st.SearchStrategy[dict[str, object]]:
    return st.fixed_dictionaries(
        {"text": _TEXT, "fraction": fraction, "feedback": _ANY_TEXT, "text_format": _FORMATS}
    )


@st.composite
def _multiple_choice(draw: st.DrawFn) -> dict[str, object]:
    right = draw(st.integers(1, 3))
    choices = [draw(_choice(st.just(1 / right))) for _ in range(right)]
    choices += draw(
        st.lists(_choice(st.floats(-1, 0)), min_size=2 - right if right < 2 else 0, max_size=3)
    )
    return {
        "choices": tuple(draw(st.permutations(choices))),
        "shuffle_choices": draw(st.booleans()),
    }


@st.composite
def _numerical(draw: st.DrawFn) -> dict[str, object]:
    answer = st.fixed_dictionaries(
        {
            "value": st.none() | _NUMBER,
            "tolerance": st.floats(min_value=0, allow_nan=False, allow_infinity=False),
            "fraction": _FRACTION,
            "feedback": _ANY_TEXT,
        }
    )
    right = draw(answer) | {"value": draw(_NUMBER), "fraction": draw(st.floats(0.001, 1))}
    others = draw(st.lists(answer, max_size=3))
    return {"numeric_answers": tuple(draw(st.permutations([right, *others])))}


_TYPE_FIELDS: dict[str, st.SearchStrategy[dict[str, object]]] = {
    "single_choice": st.tuples(
        _choice(st.floats(0.001, 1)), st.lists(_choice(_FRACTION), min_size=1, max_size=4)
    ).flatmap(
        lambda drawn: st.fixed_dictionaries(
            {
                "choices": st.permutations([drawn[0], *drawn[1]]).map(tuple),
                "shuffle_choices": st.booleans(),
            }
        )
    ),
    "multiple_choice": _multiple_choice(),
    "true_false": st.fixed_dictionaries(
        {"correct_answer": st.booleans(), "true_feedback": _ANY_TEXT, "false_feedback": _ANY_TEXT}
    ),
    "short_answer": st.fixed_dictionaries(
        {
            "choices": st.tuples(
                _choice(st.floats(0.001, 1)), st.lists(_choice(_FRACTION), max_size=3)
            ).map(lambda drawn: (drawn[0], *drawn[1])),
            "case_sensitive": st.booleans(),
        }
    ),
    "numerical": _numerical(),
    "matching": st.fixed_dictionaries(
        {
            "pairs": st.tuples(
                st.lists(
                    st.fixed_dictionaries({"prompt": _TEXT, "answer": _TEXT}),
                    min_size=2,
                    max_size=4,
                ),
                st.lists(
                    st.fixed_dictionaries({"prompt": st.just(""), "answer": _TEXT}), max_size=2
                ),
            ).map(lambda drawn: tuple(drawn[0] + drawn[1])),
            "shuffle_choices": st.booleans(),
        }
    ),
    "ordering": st.fixed_dictionaries(
        {"order": st.lists(_TEXT, min_size=2, max_size=5).map(tuple)}
    ),
    "essay": st.fixed_dictionaries({"response_template": _ANY_TEXT, "grader_info": _ANY_TEXT}),
    "description": st.fixed_dictionaries({}),
}


@settings(max_examples=150, deadline=None)
@given(st.lists(_questions(), min_size=1, max_size=5))
def test_export_then_read_gives_back_the_questions(questions: list[Question]) -> None:
    # difficulty, explanation and width_sensitive have no faithful place in Moodle XML:
    # the generator leaves them at their defaults.
    categories, items = read_moodle_xml(export_moodle_xml(questions))
    assert [(item.skipped, item.error) for item in items] == [(None, None)] * len(questions)
    assert [item.question.model_dump() for item in items if item.question] == [
        question.model_dump() for question in questions
    ]
    assert [item.name for item in items] == [question.name for question in questions]
    assert all(category.path in {q.category for q in questions} for category in categories)
