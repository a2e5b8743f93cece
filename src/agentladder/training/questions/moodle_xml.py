"""Moodle XML question files (Moodle's `qformat_xml`), read into `Question`s and written back.

The rules this file implements, as Moodle's own importer applies them:
- `<question type="category">` is not a question: its path files every question after it.
  A path is split on single "/" ("//" is a slash inside a name); its context token
  (`$course$`, `$system$`...) and the "top" after it are dropped.
- Every text is trimmed of spaces, tabs and line breaks at both ends, as Moodle trims it.
- `fraction="..."` is a percent: 100 is the whole mark, -33.33333 a third of it taken off.
- `<single>`, `<shuffleanswers>`: "false", "0" or empty is false, anything else true.
- A text without a `format` attribute is HTML, as Moodle assumes.
- `<file name= path= encoding="base64">` anywhere in a question is an embedded picture; the
  text points at it as `@@PLUGINFILE@@/name`.
- Types the bank cannot represent come back skipped with the reason, never dropped.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree
from pydantic import ValidationError

from agentladder.i18n import N_
from agentladder.training.questions.schemas import (
    Question,
    QuestionType,
    TextFormat,
)


class MoodleXmlError(ValueError):
    """The file as a whole cannot be read: an English msgid, its params and the line."""

    def __init__(self, message: str, *, line: int | None = None, **params: Any) -> None:
        super().__init__(message.format(**params) if params else message)
        self.message = message
        self.line = line
        self.params: dict[str, Any] = params


@dataclass(frozen=True)
class XmlCategory:
    """A `<question type="category">`: the path it sets, its idnumber and description."""

    line: int
    path: tuple[str, ...]
    idnumber: str | None
    info: str


@dataclass(frozen=True)
class XmlItem:
    """One `<question>` of the file: read, skipped (a type we cannot represent) or in error."""

    line: int  # the <question> element's line
    category: tuple[str, ...]  # the path of the last category before it
    question: Question | None
    moodle_type: str  # type="..." as written
    name: str  # the name as written, "" if none
    skipped: str | None = None  # an English msgid: why its type is not read
    error: str | None = None  # an English msgid: what is wrong with a question we can read
    params: dict[str, object] = field(default_factory=dict)  # the placeholders of either


class _Malformed(Exception):
    """A question of a supported type that cannot be read (msgid and params)."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


# Types Moodle knows that the bank has no shape for; each is reported with its reason.
_UNSUPPORTED: dict[str, str] = {
    "calculated": N_("calculated questions are not supported"),
    "calculatedsimple": N_("calculated questions are not supported"),
    "calculatedmulti": N_("calculated questions are not supported"),
    "multianswer": N_("embedded-answer (cloze) questions are not supported"),
    "cloze": N_("embedded-answer (cloze) questions are not supported"),
    "randomsamatch": N_("random short-answer matching questions are not supported"),
    "ddwtos": N_("drag-and-drop questions are not supported"),
    "ddimageortext": N_("drag-and-drop questions are not supported"),
    "ddmarker": N_("drag-and-drop questions are not supported"),
    "gapselect": N_("select-missing-words questions are not supported"),
    "coderunner": N_("CodeRunner questions are not supported"),
    # A slot that draws a question from a category when a quiz starts, not a question.
    "random": N_("random questions are not supported: they are drawn when a quiz starts"),
}
_UNKNOWN_TYPE = N_("questions of type {type} are not supported")

_FORMATS_IN: dict[str, TextFormat] = {
    "html": "html",
    "moodle_auto_format": "moodle",
    "plain_text": "plain",
    "markdown": "markdown",
    # Moodle converted its wiki format to Markdown long ago.
    "wiki_like": "markdown",
}
_FORMATS_OUT: dict[TextFormat, str] = {
    "html": "html",
    "moodle": "moodle_auto_format",
    "plain": "plain_text",
    "markdown": "markdown",
}
# PHP's trim(): what Moodle strips; a full-width space at the edge of a Chinese text stays.
_TRIM = " \t\n\r\0\x0b"
_CONTEXT_TOKEN = re.compile(r"^\$[a-z0-9]+\$$")
_PATH_SEPARATOR = re.compile(r"(?<!/)/(?!/)")
# XML 1.0 cannot carry these characters at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


# Reading ----------------------------------------------------------------------------------


def read_moodle_xml(data: bytes) -> tuple[list[XmlCategory], list[XmlItem]]:
    """Every category and question of a Moodle XML file in order; raises MoodleXmlError when
    the file is not XML or its root is not <quiz>."""
    root = _parse(data)
    categories: list[XmlCategory] = []
    items: list[XmlItem] = []
    current: tuple[str, ...] = ()
    for element in root:
        if element.tag != "question":  # comments, processing instructions, stray elements
            continue
        if element.get("type") == "category":
            category = _read_category(element)
            categories.append(category)
            current = category.path
        else:
            items.append(_read_item(element, current))
    return categories, items


def _parse(data: bytes) -> etree._Element:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, remove_blank_text=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise MoodleXmlError(
            N_("the file is not well-formed XML: {detail}"), line=exc.lineno, detail=exc.msg
        ) from exc
    docinfo = root.getroottree().docinfo
    # Moodle never writes a DOCTYPE; one that declares entities is how an XML bomb starts.
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise MoodleXmlError(N_("the file declares a document type; Moodle XML has none"), line=1)
    if root.tag != "quiz":
        raise MoodleXmlError(
            N_("the root element is <{root}>, not the <quiz> of a Moodle XML file"),
            line=root.sourceline,
            root=str(root.tag),
        )
    return root


def _read_category(element: etree._Element) -> XmlCategory:
    holder = element.find("category")
    path = ""
    if holder is not None:
        # Moodle 1.x wrote the path straight inside <category>, later ones inside <text>.
        path = _text(holder) if holder.find("text") is not None else _trim(holder.text)
    return XmlCategory(
        line=element.sourceline or 0,
        path=split_category_path(path),
        idnumber=_trim(element.findtext("idnumber")) or None,
        info=_text(element.find("info")),
    )


def split_category_path(path: str) -> tuple[str, ...]:
    """A Moodle category path as names under the bank's top ("a//b" is the name "a/b")."""
    names = [_trim(raw.replace("//", "/")) for raw in _PATH_SEPARATOR.split(path) if _trim(raw)]
    if names and _CONTEXT_TOKEN.match(names[0]):
        names = names[1:]
    if names and names[0] == "top":
        names = names[1:]
    return tuple(names)


def _read_item(element: etree._Element, category: tuple[str, ...]) -> XmlItem:
    kind = element.get("type", "")
    name = _text(element.find("name"))
    line = element.sourceline or 0
    reader = _READERS.get(kind)
    if reader is None:
        reason = _UNSUPPORTED.get(kind)
        params: dict[str, object] = {} if reason else {"type": kind}
        return XmlItem(
            line, category, None, kind, name, skipped=reason or _UNKNOWN_TYPE, params=params
        )
    try:
        question = _build(element, category, name, reader)
    except _Malformed as exc:
        return XmlItem(line, category, None, kind, name, error=exc.message, params=exc.params)
    return XmlItem(line, category, question, kind, name)


_Reader = Callable[[etree._Element, TextFormat], dict[str, Any]]


def _build(
    element: etree._Element, category: tuple[str, ...], name: str, reader: _Reader
) -> Question:
    if not name:
        raise _Malformed(N_("the question has no name"))
    questiontext = element.find("questiontext")
    text_format = _format(questiontext)
    idnumber = _trim(element.findtext("idnumber"))
    fields: dict[str, Any] = {
        "name": name,
        "text": _text(questiontext),
        "text_format": text_format,
        "category": category,
        "idnumber": idnumber or None,
        "tags": _tags(element),
        "default_mark": float(_number(element.findtext("defaultgrade"), default=Decimal(1))),
        "general_feedback": _text(element.find("generalfeedback")),
        "images": _images(element),
    }
    fields.update(reader(element, text_format))
    try:
        return Question(**fields)
    except ValidationError as exc:
        raise _validation_problem(exc) from exc


def _validation_problem(exc: ValidationError) -> _Malformed:
    error = exc.errors()[0]
    cause = error.get("ctx", {}).get("error")
    if error["type"] == "value_error" and isinstance(cause, ValueError):
        return _Malformed(str(cause))  # a msgid from shape_problem
    where = ".".join(str(part) for part in error["loc"])
    return _Malformed(
        N_("the question's {field} is not valid: {detail}"), field=where, detail=error["msg"]
    )


def _read_multichoice(element: etree._Element, text_format: TextFormat) -> dict[str, Any]:
    single = _flag(element.findtext("single"), default=True)
    return {
        "type": "single_choice" if single else "multiple_choice",
        "choices": tuple(_choice(answer, text_format) for answer in element.findall("answer")),
        "shuffle_choices": _flag(element.findtext("shuffleanswers"), default=False),
    }


def _read_truefalse(element: etree._Element, text_format: TextFormat) -> dict[str, Any]:
    fields: dict[str, Any] = {"type": "true_false"}
    for index, answer in enumerate(element.findall("answer")):
        said = _text(answer)
        if said not in ("true", "false"):
            # Old exports wrote the answers in the reader's language, true first.
            said = "true" if index == 0 else "false"
        right = _fraction(answer) == 1
        if said == "true":
            fields["true_feedback"] = _text(answer.find("feedback"))
            if right:
                fields["correct_answer"] = True
        else:
            fields["false_feedback"] = _text(answer.find("feedback"))
            if right:
                fields["correct_answer"] = False
    return fields


def _read_shortanswer(element: etree._Element, text_format: TextFormat) -> dict[str, Any]:
    return {
        "type": "short_answer",
        "choices": tuple(_choice(answer, text_format) for answer in element.findall("answer")),
        "case_sensitive": _flag(element.findtext("usecase"), default=False),
    }


def _read_numerical(element: etree._Element, text_format: TextFormat) -> dict[str, Any]:
    answers = []
    for answer in element.findall("answer"):
        said = _text(answer)
        answers.append(
            {
                "value": None if said in ("", "*") else float(_number(said)),
                "tolerance": float(_number(answer.findtext("tolerance"), default=Decimal(0))),
                "fraction": _fraction(answer),
                "feedback": _text(answer.find("feedback")),
            }
        )
    return {"type": "numerical", "numeric_answers": tuple(answers)}


def _read_matching(element: etree._Element, text_format: TextFormat) -> dict[str, Any]:
    pairs = [
        {"prompt": _text(sub), "answer": _text(sub.find("answer"))}
        for sub in element.findall("subquestion")
    ]
    return {
        "type": "matching",
        "pairs": tuple(pairs),
        "shuffle_choices": _flag(element.findtext("shuffleanswers"), default=True),
    }


def _read_ordering(element: etree._Element, text_format: TextFormat) -> dict[str, Any]:
    # qtype_ordering writes the items in the right order; its fraction is only a sort key.
    return {"type": "ordering", "order": tuple(_text(a) for a in element.findall("answer"))}


def _read_essay(element: etree._Element, text_format: TextFormat) -> dict[str, Any]:
    return {
        "type": "essay",
        "response_template": _text(element.find("responsetemplate")),
        "grader_info": _text(element.find("graderinfo")),
    }


def _read_description(element: etree._Element, text_format: TextFormat) -> dict[str, Any]:
    # Moodle sets a description's mark to 0 whatever the file says.
    return {"type": "description", "default_mark": 0}


_READERS: dict[str, _Reader] = {
    "multichoice": _read_multichoice,
    "truefalse": _read_truefalse,
    "shortanswer": _read_shortanswer,
    "numerical": _read_numerical,
    "matching": _read_matching,
    "match": _read_matching,
    "ordering": _read_ordering,
    "essay": _read_essay,
    "description": _read_description,
}


def _choice(answer: etree._Element, default_format: TextFormat) -> dict[str, Any]:
    return {
        "text": _text(answer),
        "fraction": _fraction(answer),
        "feedback": _text(answer.find("feedback")),
        "text_format": _format(answer, default_format),
    }


def _text(holder: etree._Element | None) -> str:
    """The trimmed `<text>` of an element ("" when either is missing)."""
    if holder is None:
        return ""
    text = holder.find("text")
    if text is None:
        return ""
    # HTML written unescaped inside <text> parses as elements: keep it as the markup it was.
    inner = (text.text or "") + "".join(etree.tostring(child, encoding="unicode") for child in text)
    return _trim(inner)


def _trim(value: str | None) -> str:
    return (value or "").strip(_TRIM)


def _format(holder: etree._Element | None, default: TextFormat = "html") -> TextFormat:
    written = _trim(holder.get("format") if holder is not None else None)
    if not written:
        return default
    return _FORMATS_IN.get(written, "html")  # Moodle reads an unknown format as HTML


def _flag(value: str | None, *, default: bool) -> bool:
    if value is None:
        return default
    return _trim(value) not in ("", "0", "false")


def _number(value: str | None, *, default: Decimal | None = None) -> Decimal:
    written = _trim(value)
    if not written and default is not None:
        return default
    try:
        number = Decimal(written)
    except InvalidOperation:
        raise _Malformed(N_("{value} is not a number"), value=written) from None
    if not number.is_finite():
        raise _Malformed(N_("{value} is not a number"), value=written)
    return number


def _fraction(answer: etree._Element) -> float:
    # Decimal keeps percent / 100 exact: "33.33333" is 0.3333333, as Moodle stores it.
    return float(_number(answer.get("fraction"), default=Decimal(0)) / 100)


def _tags(element: etree._Element) -> tuple[str, ...]:
    tags = [
        _text(tag) for holder in ("tags", "coursetags") for tag in element.findall(f"{holder}/tag")
    ]
    return tuple(tag for tag in tags if tag)


def _images(element: etree._Element) -> tuple[dict[str, str], ...]:
    images: list[dict[str, str]] = []
    for file in element.iter("file"):
        name = _trim(file.get("name"))
        folder = _trim(file.get("path")).strip("/")
        full_name = f"{folder}/{name}" if folder else name
        if file.get("encoding", "base64") != "base64":
            raise _Malformed(N_("the embedded file {name} is not in base64"), name=full_name)
        data = re.sub(r"\s+", "", file.text or "")
        try:
            base64.b64decode(data, validate=True)
        except binascii.Error:
            raise _Malformed(
                N_("the embedded file {name} is not valid base64"), name=full_name
            ) from None
        image = {"name": full_name, "media_type": _media_type(name), "data_base64": data}
        # Moodle stores a picture once per text that shows it; the bank needs it once.
        if image not in images:
            images.append(image)
    return tuple(images)


def _media_type(name: str) -> str:
    guessed, _encoding = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"


# Writing ----------------------------------------------------------------------------------


def export_moodle_xml(questions: Iterable[Question]) -> bytes:
    """A Moodle XML file (UTF-8) of the questions, a category before each change of category
    and pictures embedded in base64."""
    root = etree.Element("quiz")
    current: tuple[str, ...] = ()
    for question in questions:
        if question.category != current:
            _write_category(root, question.category)
            current = question.category
        _write_question(root, question)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def join_category_path(names: Iterable[str]) -> str:
    """A category path as Moodle writes it, under the course's top ("/" in a name doubled)."""
    return "/".join(["$course$", "top", *(name.replace("/", "//") for name in names)])


def _write_category(root: etree._Element, path: tuple[str, ...]) -> None:
    element = etree.SubElement(root, "question", type="category")
    _add_text(etree.SubElement(element, "category"), join_category_path(path))
    _add_text(etree.SubElement(element, "info", format="html"), "")
    etree.SubElement(element, "idnumber")


def _write_question(root: etree._Element, question: Question) -> None:
    element = etree.SubElement(root, "question", type=_MOODLE_TYPES[question.type])
    _add_text(etree.SubElement(element, "name"), question.name)
    text_format = _FORMATS_OUT[question.text_format]
    questiontext = etree.SubElement(element, "questiontext", format=text_format)
    _add_text(questiontext, question.text)
    for image in question.images:
        folder, _slash, name = image.name.rpartition("/")
        file = etree.SubElement(
            questiontext, "file", name=name, path=f"/{folder}/" if folder else "/"
        )
        file.set("encoding", "base64")
        file.text = image.data_base64
    _add_text(
        etree.SubElement(element, "generalfeedback", format=text_format), question.general_feedback
    )
    _add_value(element, "defaultgrade", _decimal_text(question.default_mark))
    _add_value(element, "penalty", "1" if question.type == "true_false" else "0.3333333")
    _add_value(element, "hidden", "0")
    _add_value(element, "idnumber", _clean(question.idnumber or ""))
    _WRITERS[question.type](element, question, text_format)
    if question.tags:
        tags = etree.SubElement(element, "tags")
        for tag in question.tags:
            _add_text(etree.SubElement(tags, "tag"), tag)


_MOODLE_TYPES: dict[QuestionType, str] = {
    "single_choice": "multichoice",
    "multiple_choice": "multichoice",
    "true_false": "truefalse",
    "short_answer": "shortanswer",
    "numerical": "numerical",
    "matching": "matching",
    "ordering": "ordering",
    "essay": "essay",
    "description": "description",
}


def _write_choices(element: etree._Element, question: Question, text_format: str) -> None:
    if question.type == "short_answer":
        _add_value(element, "usecase", "1" if question.case_sensitive else "0")
    else:
        _add_value(element, "single", "true" if question.type == "single_choice" else "false")
        _add_value(element, "shuffleanswers", "true" if question.shuffle_choices else "false")
        _add_value(element, "answernumbering", "abc")
        _write_combined_feedback(element, text_format)
    for choice in question.choices:
        _write_answer(
            element,
            text=choice.text,
            fraction=choice.fraction,
            text_format=_FORMATS_OUT[choice.text_format],
            feedback=choice.feedback,
            feedback_format=text_format,
        )


def _write_truefalse(element: etree._Element, question: Question, text_format: str) -> None:
    for value, feedback in ((True, question.true_feedback), (False, question.false_feedback)):
        _write_answer(
            element,
            text="true" if value else "false",
            fraction=1.0 if question.correct_answer is value else 0.0,
            text_format="moodle_auto_format",
            feedback=feedback,
            feedback_format=text_format,
        )


def _write_numerical(element: etree._Element, question: Question, text_format: str) -> None:
    for answer in question.numeric_answers:
        written = _write_answer(
            element,
            text="*" if answer.value is None else _decimal_text(answer.value),
            fraction=answer.fraction,
            text_format="moodle_auto_format",
            feedback=answer.feedback,
            feedback_format=text_format,
        )
        _add_value(written, "tolerance", _decimal_text(answer.tolerance))


def _write_matching(element: etree._Element, question: Question, text_format: str) -> None:
    _add_value(element, "shuffleanswers", "true" if question.shuffle_choices else "false")
    _write_combined_feedback(element, text_format)
    for pair in question.pairs:
        sub = etree.SubElement(element, "subquestion", format=text_format)
        _add_text(sub, pair.prompt)
        _add_text(etree.SubElement(sub, "answer"), pair.answer)


def _write_ordering(element: etree._Element, question: Question, text_format: str) -> None:
    # Every item shown, marked by its absolute position: the plain reading of "put in order".
    _add_value(element, "layouttype", "VERTICAL")
    _add_value(element, "selecttype", "ALL")
    _add_value(element, "selectcount", "0")
    _add_value(element, "gradingtype", "ABSOLUTE_POSITION")
    _write_combined_feedback(element, text_format)
    for position, item in enumerate(question.order, start=1):
        answer = etree.SubElement(element, "answer", fraction=str(position), format=text_format)
        _add_text(answer, item)


def _write_essay(element: etree._Element, question: Question, text_format: str) -> None:
    _add_value(element, "responseformat", "editor")
    _add_value(element, "responserequired", "1")
    _add_value(element, "responsefieldlines", "15")
    _add_value(element, "attachments", "0")
    _add_value(element, "attachmentsrequired", "0")
    _add_text(etree.SubElement(element, "graderinfo", format=text_format), question.grader_info)
    _add_text(
        etree.SubElement(element, "responsetemplate", format=text_format),
        question.response_template,
    )


def _write_nothing(element: etree._Element, question: Question, text_format: str) -> None:
    return None


_WRITERS: dict[QuestionType, Callable[[etree._Element, Question, str], None]] = {
    "single_choice": _write_choices,
    "multiple_choice": _write_choices,
    "short_answer": _write_choices,
    "true_false": _write_truefalse,
    "numerical": _write_numerical,
    "matching": _write_matching,
    "ordering": _write_ordering,
    "essay": _write_essay,
    "description": _write_nothing,
}


def _write_answer(
    element: etree._Element,
    *,
    text: str,
    fraction: float,
    text_format: str,
    feedback: str,
    feedback_format: str,
) -> etree._Element:
    answer = etree.SubElement(
        element, "answer", fraction=_decimal_text(fraction, scale=100), format=text_format
    )
    _add_text(answer, text)
    _add_text(etree.SubElement(answer, "feedback", format=feedback_format), feedback)
    return answer


def _write_combined_feedback(element: etree._Element, text_format: str) -> None:
    for name in ("correctfeedback", "partiallycorrectfeedback", "incorrectfeedback"):
        _add_text(etree.SubElement(element, name, format=text_format), "")


def _add_text(holder: etree._Element, value: str) -> None:
    text = etree.SubElement(holder, "text")
    value = _clean(value)
    # CDATA keeps HTML readable, as Moodle writes it; it cannot hold "]]>" nor a bare CR
    # (a parser turns CR into LF), so those texts are escaped instead.
    if re.search("[<>&]", value) and "]]>" not in value and "\r" not in value:
        text.text = etree.CDATA(value)
    else:
        text.text = value


def _add_value(holder: etree._Element, tag: str, value: str) -> None:
    etree.SubElement(holder, tag).text = value


def _clean(value: str) -> str:
    # Such characters (pasted from word processors, mostly) would make the file unreadable.
    return _NOT_XML.sub("", value)


def _decimal_text(value: float, *, scale: int = 1) -> str:
    """The number in plain decimals; value * scale read back and divided by scale is exact."""
    number = (Decimal(repr(value)) * scale).normalize()
    return format(number, "f")
