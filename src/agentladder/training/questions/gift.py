"""GIFT, Moodle's question text format, read into `Question`s and written back.

The rules this file implements, as Moodle's importer (`question/format/gift/format.php`,
`readquestion`) applies them:
- Questions are separated by blank lines. A line that starts with `//` is a comment wherever
  it is; `[id:X]` and `[tag:Y]` in a question's comments are its idnumber and tags.
- `$CATEGORY: path` files the questions after it (the path read as in Moodle XML).
- The escapes `\\~ \\= \\# \\{ \\} \\: \\\\ \\n` are read first; any other backslash is a backslash.
- `::name::` at the start names the question. Without it the name is the start of the text:
  tags stripped, at most 80 characters, cut after a space, a full stop or a CJK character and
  ended with "...", as Moodle's `create_default_question_name`.
- `[html]`, `[moodle]`, `[plain]` or `[markdown]` at the start of a text is its format; an
  answer's or feedback's format defaults to the question's.
- The first `{...}` is the answer block. With text after it (even Moodle's stray `";`) the
  question is a missing-word one: " _____ " stands where the block was. No block: a
  description; `{}`: an essay; `####text` at the end of the block: the general feedback.
  Another unescaped brace is an error (Moodle would keep it as text of a broken question).
- The block's type, in Moodle's order: `#` numerical; any `~` choice (single choice when an
  `=` is there too); `=` with `->` matching; `T`, `TRUE`, `F`, `FALSE` (capitals, as
  Moodle) true/false; else short answer. `%n%` after `=` or `~` is a weight in percent, -100..100.
- True/false `{TRUE#fb1#fb2}`: fb1 is what a wrong answer reads, fb2 what a right one reads.
- Lines are kept as written (a `<pre>` block or a Markdown list keeps its indentation, as in
  Moodle's own test); each text is trimmed at both ends as PHP's trim() trims it.

GIFT has no place for a question's difficulty, explanation, mark, shuffling, case or width
sensitivity, essay template and marking guide, pictures, a description's general feedback
or the format of a feedback or matching prompt: export leaves them out, import gives the
defaults. Ordering questions have no GIFT form at all.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from markupsafe import Markup
from pydantic import ValidationError

from agentladder.i18n import N_
from agentladder.training.questions.moodle_xml import join_category_path, split_category_path
from agentladder.training.questions.schemas import (
    ANY_RESPONSE,
    Choice,
    MatchPair,
    NumericAnswer,
    Question,
    QuestionType,
    TextFormat,
)


class GiftError(ValueError):
    """Text GIFT cannot read, or a question it cannot write: an English msgid and its params."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message.format(**params) if params else message)
        self.message = message
        self.params: dict[str, object] = params


@dataclass(frozen=True)
class GiftItem:
    """One question of a GIFT file: read, or the reason it could not be."""

    line: int  # 1-based line where the question (or its comment/id line) starts
    category: tuple[str, ...]  # the $CATEGORY path in force, () if none
    question: Question | None
    error: str | None = None  # an English msgid
    params: dict[str, object] = field(default_factory=dict)  # the msgid's placeholders
    source: str = ""  # the question's raw text


# PHP's trim(): what Moodle strips; a full-width space at the edge of a Chinese text stays.
_TRIM = " \t\n\r\0\x0b"
_CATEGORY = "$CATEGORY:"
_BLANK = "_____"
# Moodle's fallback when a question has neither a name nor any text to make one from.
_NAMELESS = "Question name"
_DEFAULT_NAME_LENGTH = 80
_NAME_MAX_LENGTH = 255
_ELLIPSIS = "..."

# While a question is cut up, each escaped control character stands in as a Unicode
# noncharacter (reserved for a program's internal use), as Moodle's `escapedchar_pre` puts
# "&&058;" in place of "\:"; `_reveal` puts the characters back.
_HIDDEN = {
    "~": "\ufdd0",
    "=": "\ufdd1",
    "#": "\ufdd2",
    "{": "\ufdd3",
    "}": "\ufdd4",
    ":": "\ufdd5",
    "n": "\ufdd6",
}
_REVEAL = str.maketrans({hidden: "\n" if char == "n" else char for char, hidden in _HIDDEN.items()})
_RESERVED = re.compile("[\ufdd0-\ufdd6]")
_ESCAPED = re.compile(r"\\([\\~=#{}:n])")
_ESCAPES = str.maketrans(
    {
        "\\": "\\\\",
        "~": "\\~",
        "=": "\\=",
        "#": "\\#",
        "{": "\\{",
        "}": "\\}",
        ":": "\\:",
        "\n": "\\n",
        "\r": "",  # as Moodle's export: a line feed carries the line break
    }
)

_FORMAT_MARK = re.compile(r"\[(moodle|html|plain|markdown)\]")
_FORMATS: dict[str, TextFormat] = {
    "moodle": "moodle",
    "html": "html",
    "plain": "plain",
    "markdown": "markdown",
}
_WEIGHT = re.compile(r"%(-?[0-9]+(?:\.[0-9]*)?)%")
# PHP's is_numeric, the test Moodle applies to a numerical answer.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}
# Moodle 3.6+: "]" inside an id or tag is written "\]".
_ID = re.compile(r"\[id:((?:\\\]|[^\]\x00-\x1f\x7f])+)\]")
_TAG = re.compile(r"\[tag:((?:\\\]|[^\]\x00-\x1f\x7f])+)\]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# Reading ----------------------------------------------------------------------------------


def parse_gift(text: str) -> list[GiftItem]:
    """Every question of a GIFT file (BOM stripped, CRLF accepted), in file order;
    $CATEGORY lines switch category; never raises for bad questions (they come back with
    `error`)."""
    items: list[GiftItem] = []
    category: tuple[str, ...] = ()
    for block in _blocks(text.removeprefix("\ufeff")):
        first = next((i for i, (_, line) in enumerate(block) if not _is_comment(line)), None)
        if first is None:  # comments only
            continue
        opening = block[first][1].strip(_TRIM)
        if opening.startswith(_CATEGORY):
            category = split_category_path(opening.removeprefix(_CATEGORY))
            # Lenient where Moodle is not: a question right under the line is still read.
            block = block[first + 1 :]
            if all(_is_comment(line) for _, line in block):
                continue
        items.append(_read_item(block, category))
    if not items:
        return [GiftItem(1, category, None, error=N_("the file has no questions"))]
    return items


def _blocks(text: str) -> Iterator[list[tuple[int, str]]]:
    """The file's runs of non-blank lines, each line with its 1-based number."""
    block: list[tuple[int, str]] = []
    for number, line in enumerate(_lines(text), start=1):
        if line.strip(_TRIM):
            block.append((number, line))
        elif block:
            yield block
            block = []
    if block:
        yield block


def _lines(text: str) -> list[str]:
    # Only line feeds and carriage returns end a line: str.splitlines would also cut at
    # characters such as U+2028 that a question text may hold.
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _is_comment(line: str) -> bool:
    return line.strip(_TRIM).startswith("//")


def _read_item(block: list[tuple[int, str]], category: tuple[str, ...]) -> GiftItem:
    source = "\n".join(line for _, line in block)
    line = block[0][0]
    try:
        question = parse_gift_question(source, category=category)
    except GiftError as exc:
        return GiftItem(line, category, None, exc.message, exc.params, source)
    return GiftItem(line, category, question, source=source)


def parse_gift_question(block: str, *, category: tuple[str, ...] = ()) -> Question:
    """One question's text (comments and // [id:..] [tag:..] lines included); raises
    GiftError(message, **params) for text that is not a question."""
    lines = _lines(block.strip(_TRIM))
    comments = [line for line in lines if _is_comment(line)]
    text = "\n".join(line for line in lines if not _is_comment(line)).strip(_TRIM)
    if not text:
        raise GiftError(N_("the question is empty"))
    if not all(line.strip(_TRIM) for line in lines):
        raise GiftError(N_("a question cannot contain an empty line"))
    if text.startswith(_CATEGORY):
        raise GiftError(N_("a $CATEGORY line is not a question"))
    reserved = _RESERVED.search(text)
    if reserved:
        raise GiftError(
            N_("the text contains the reserved character {character}"),
            character=f"U+{ord(reserved[0]):04X}",
        )
    idnumber, tags = _id_and_tags(comments)
    try:
        fields = _read_question(_hide_escapes(text))
        return Question(**fields, category=category, idnumber=idnumber, tags=tags)
    except ValidationError as exc:
        raise _validation_problem(exc) from None


def _id_and_tags(comments: list[str]) -> tuple[str | None, tuple[str, ...]]:
    comment = "\n".join(comments)
    found = _ID.search(comment)
    idnumber = found[1].strip(_TRIM).replace("\\]", "]") if found else ""
    tags = (tag[1].strip(_TRIM).replace("\\]", "]") for tag in _TAG.finditer(comment))
    return idnumber or None, tuple(tag for tag in tags if tag)


def _hide_escapes(text: str) -> str:
    return _ESCAPED.sub(lambda m: "\\" if m[1] == "\\" else _HIDDEN[m[1]], text)


def _reveal(text: str) -> str:
    """The hidden text as written, trimmed (Moodle trims after `escapedchar_post`)."""
    return text.translate(_REVEAL).strip(_TRIM)


def _split_format(text: str, default: TextFormat) -> tuple[str, TextFormat]:
    """A text and its format: a leading [format] marker, or the default (Moodle's
    `parse_text_with_format`)."""
    text = text.strip(_TRIM)
    marker = _FORMAT_MARK.match(text)
    if marker is None:
        return _reveal(text), default
    return _reveal(text[marker.end() :]), _FORMATS[marker[1]]


@dataclass(frozen=True)
class _Cut:
    """A question's hidden-escape text cut at its answer block."""

    name: str | None  # None: no ::name::
    stem: str  # the text without the block, " _____ " where the block was in the middle
    answers: str | None  # inside the block, trimmed; None without a block


def _cut(text: str) -> _Cut:
    name = None
    if text.startswith("::"):
        title, closed, rest = text[2:].partition("::")
        if closed:
            name = _reveal(title) or None
            text = rest.strip(_TRIM)
        else:
            text = text[2:]
    opening, closing = text.find("{"), text.find("}")
    if opening < 0 and closing < 0:
        return _Cut(name, text, None)
    if opening < 0 or 0 <= closing < opening:
        raise _stray("}")
    if closing < 0 or "{" in text[opening + 1 : closing]:
        raise GiftError(N_("the answer block is not closed"))
    before, answers, after = text[:opening], text[opening + 1 : closing], text[closing + 1 :]
    for character in "{}":
        if character in after:
            raise _stray(character)
    if after.strip(_TRIM):
        stem = f"{before.rstrip(_TRIM)} {_BLANK} {after.lstrip(_TRIM)}"
    else:
        stem = before
    return _Cut(name, stem, answers.strip(_TRIM))


def _stray(character: str) -> GiftError:
    return GiftError(
        N_("a {character} outside the answer block: write \\{character} for the character"),
        character=character,
    )


def _read_question(text: str) -> dict[str, Any]:
    cut = _cut(text)
    stem, text_format = _split_format(cut.stem, "moodle")
    fields: dict[str, Any] = {
        "name": _clean_name(cut.name) if cut.name else _default_name(stem),
        "text": stem,
        "text_format": text_format,
    }
    if cut.answers is None:
        # Moodle sets a description's mark to 0.
        return fields | {"type": "description", "default_mark": 0}
    answers, general_feedback = _split_general_feedback(cut.answers)
    fields["general_feedback"] = _split_format(general_feedback, text_format)[0]
    return fields | _read_answers(answers, text_format)


def _split_general_feedback(answers: str) -> tuple[str, str]:
    # The last "####" (Moodle's strrpos): a feedback may hold "#" escaped, never four bare.
    before, separator, after = answers.rpartition("####")
    if not separator:
        return answers, ""
    return before.strip(_TRIM), after


def _read_answers(answers: str, text_format: TextFormat) -> dict[str, Any]:
    if not answers:
        return {"type": "essay"}
    if answers.startswith("#"):
        return _read_numerical(answers[1:], text_format)
    if "~" in answers:
        return _read_choices(answers, text_format)
    if "=" in answers and "->" in answers:
        return _read_matching(answers, text_format)
    if answers.partition("#")[0].strip(_TRIM) in _TRUE_FALSE:
        return _read_true_false(answers, text_format)
    return _read_short_answer(answers, text_format)


def _pieces(answers: str, separator: str) -> list[str]:
    """The block cut at each separator, trimmed; an empty first piece (text before the first
    separator) dropped, as Moodle's `explode` and `array_shift`."""
    pieces = [piece.strip(_TRIM) for piece in answers.split(separator)]
    return pieces[1:] if not pieces[0] else pieces


def _take_weight(answer: str, default: float) -> tuple[float, str]:
    """The answer's share of the mark from a leading `%n%` (or the default), and the rest."""
    found = _WEIGHT.match(answer)
    if found is None:
        return default, answer
    percent = Decimal(found[1])
    if not -100 <= percent <= 100:
        raise GiftError(N_("the weight {weight}% is not between -100% and 100%"), weight=found[1])
    # Decimal keeps percent / 100 exact: "33.33333" is 0.3333333, as Moodle stores it.
    return float(percent / 100), answer[found.end() :]


def _choice(answer: str, fraction: float, text_format: TextFormat) -> Choice:
    said, _, feedback = answer.partition("#")
    text, said_format = _split_format(said, text_format)
    return Choice(
        text=text,
        fraction=fraction,
        feedback=_split_format(feedback, text_format)[0],
        text_format=said_format,
    )


def _read_choices(answers: str, text_format: TextFormat) -> dict[str, Any]:
    choices = []
    for piece in _pieces(answers.replace("=", "~="), "~"):
        if piece.startswith("="):
            fraction, rest = _take_weight(piece[1:].lstrip(_TRIM), 1.0)
        else:
            fraction, rest = _take_weight(piece, 0.0)
        choices.append(_choice(rest, fraction, text_format))
    kind: QuestionType = "single_choice" if "=" in answers else "multiple_choice"
    return {"type": kind, "choices": tuple(choices)}


def _read_short_answer(answers: str, text_format: TextFormat) -> dict[str, Any]:
    choices = []
    for piece in _pieces(answers, "="):
        fraction, rest = _take_weight(piece, 1.0)
        choices.append(_choice(rest, fraction, text_format))
    return {"type": "short_answer", "choices": tuple(choices)}


def _read_true_false(answers: str, text_format: TextFormat) -> dict[str, Any]:
    said, *feedbacks = answers.split("#", 2)
    wrong, right = (_split_format(text, text_format)[0] for text in [*feedbacks, "", ""][:2])
    correct = _TRUE_FALSE[said.strip(_TRIM)]
    return {
        "type": "true_false",
        "correct_answer": correct,
        "true_feedback": right if correct else wrong,
        "false_feedback": wrong if correct else right,
    }


def _read_matching(answers: str, text_format: TextFormat) -> dict[str, Any]:
    pairs = []
    for piece in _pieces(answers, "="):
        prompt, arrow, answer = piece.partition("->")
        if not arrow:
            raise GiftError(
                N_("the matching pair {pair} has no -> between its prompt and its answer"),
                pair=_reveal(piece),
            )
        # A prompt may carry a format marker; the bank keeps prompts without one.
        pairs.append(
            MatchPair(prompt=_split_format(prompt, text_format)[0], answer=_reveal(answer))
        )
    return {"type": "matching", "pairs": tuple(pairs)}


def _read_numerical(answers: str, text_format: TextFormat) -> dict[str, Any]:
    # Moodle: everything from the first "~" is the feedback for any other number.
    answers, tilde, other = answers.partition("~")
    numbers = []
    for piece in _pieces(answers, "="):
        fraction, rest = _take_weight(piece, 1.0)
        said, _, feedback = rest.partition("#")
        numbers.append(
            _numeric_answer(_reveal(said), fraction, _split_format(feedback, text_format)[0])
        )
    if tilde:
        feedback = _split_format(other.partition("#")[2], text_format)[0]
        numbers.append(NumericAnswer(value=None, fraction=0, feedback=feedback))
    return {"type": "numerical", "numeric_answers": tuple(numbers)}


def _numeric_answer(said: str, fraction: float, feedback: str) -> NumericAnswer:
    # Full-width digits, points, minus signs and colons come from a Chinese input method.
    written = unicodedata.normalize("NFKC", said)
    if written == ANY_RESPONSE:
        return NumericAnswer(value=None, fraction=fraction, feedback=feedback)
    low, dots, high = written.partition("..")
    value_text, colon, tolerance_text = written.partition(":")
    if dots and low.strip(_TRIM):  # min..max
        low_number, high_number = sorted((_number(low), _number(high)))
        value, tolerance = (low_number + high_number) / 2, (high_number - low_number) / 2
    elif colon and value_text.strip(_TRIM):  # value:tolerance
        value, tolerance = _number(value_text), _number(tolerance_text)
    else:
        value, tolerance = _number(written), Decimal(0)
    if tolerance < 0:
        raise GiftError(N_("the tolerance {value} is negative"), value=tolerance_text.strip(_TRIM))
    return NumericAnswer(
        value=float(value), tolerance=float(tolerance), fraction=fraction, feedback=feedback
    )


def _number(text: str) -> Decimal:
    written = text.strip(_TRIM)
    if not _NUMBER.fullmatch(written) or not math.isfinite(float(written)):
        raise GiftError(N_("{value} is not a number"), value=written)
    return Decimal(written)


def _clean_name(name: str) -> str:
    # Moodle shortens a name that does not fit its 255 characters.
    return _shorten(name, _NAME_MAX_LENGTH) if len(name) > _NAME_MAX_LENGTH else name


def _default_name(text: str) -> str:
    """The name Moodle makes from a text: tags stripped, the first 80 characters or so."""
    # Only striptags() is used (it also folds white space and reads entities): the name is
    # plain text, never rendered as markup.
    plain = Markup(text).striptags()  # noqa: S704
    return _shorten(plain, _DEFAULT_NAME_LENGTH).strip(_TRIM) or _NAMELESS


def _shorten(text: str, length: int) -> str:
    """Moodle's `shorten_text`: at most `length` characters, "..." included, cut after the
    last space or full stop, or anywhere in CJK text (one of its characters takes three
    bytes of UTF-8 or more)."""
    if len(text) <= length:
        return text
    room = length - len(_ELLIPSIS)
    cut = room
    for position in range(room, 0, -1):
        character = text[position]
        if character in ". " or len(character.encode()) > 2:
            cut = min(position + 1, room)
            break
    return text[:cut] + _ELLIPSIS


def _validation_problem(exc: ValidationError) -> GiftError:
    error = exc.errors()[0]
    cause = error.get("ctx", {}).get("error")
    if error["type"] == "value_error" and isinstance(cause, ValueError):
        return GiftError(str(cause))  # a msgid from shape_problem
    where = ".".join(str(part) for part in error["loc"])
    return GiftError(
        N_("the question's {field} is not valid: {detail}"), field=where, detail=error["msg"]
    )


# Writing ----------------------------------------------------------------------------------


def export_gift(questions: Iterable[Question]) -> str:
    """GIFT text of the questions, with $CATEGORY lines when the category changes, // [id:]
    and [tag:] lines, escapes; a question GIFT cannot carry (an ordering one) raises
    GiftError naming it; callers filter with `gift_can_export(question)`."""
    parts: list[str] = []
    current: tuple[str, ...] = ()
    for question in questions:
        problem = _export_problem(question)
        if problem is not None:
            raise problem
        if question.category != current:
            parts.append(f"{_CATEGORY} {join_category_path(question.category)}")
            current = question.category
        parts.append(_write_question(question))
    return "".join(f"{part}\n\n" for part in parts)


def gift_can_export(question: Question) -> bool:
    """Whether `export_gift` can write the question so that it reads back the same."""
    return _export_problem(question) is None


def _export_problem(question: Question) -> GiftError | None:
    if question.type not in _WRITERS:
        return GiftError(N_("GIFT cannot carry {type} questions"), type=question.type)
    labels = (*question.category, question.idnumber or "", *question.tags)
    if any(_CONTROL.search(label) for label in labels):
        return GiftError(
            N_("GIFT cannot carry a line break or control character in a category, id or tag")
        )
    # "->" is not escapable: in a short answer it turns the block into a matching one, in a
    # matching prompt it ends the prompt early.
    arrows = (
        question.type == "short_answer"
        and any("->" in choice.text or "->" in choice.feedback for choice in question.choices)
    ) or (question.type == "matching" and any("->" in pair.prompt for pair in question.pairs))
    if arrows:
        return GiftError(N_("GIFT cannot carry -> in a short answer or a matching prompt"))
    return None


def _write_question(question: Question) -> str:
    lines = []
    if question.idnumber:
        lines.append(f"// [id:{_bracketed(question.idnumber)}]")
    if question.tags:
        lines.append("// " + " ".join(f"[tag:{_bracketed(tag)}]" for tag in question.tags))
    text = _marked(question.text, question.text_format, "moodle")
    lines.append(f"::{_escape(question.name)}::{text}{_WRITERS[question.type](question)}")
    return "\n".join(lines)


def _bracketed(label: str) -> str:
    return label.replace("]", "\\]")


def _escape(text: str) -> str:
    return text.translate(_ESCAPES)


def _marked(text: str, text_format: TextFormat, default: TextFormat) -> str:
    """The text escaped, behind its [format] marker when the format is not the default or
    the text itself starts like a marker (which the marker then protects)."""
    needs_marker = text_format != default or _FORMAT_MARK.match(text.lstrip(_TRIM))
    return (f"[{text_format}]" if needs_marker else "") + _escape(text)


def _unformatted(text: str, question_format: TextFormat) -> str:
    """A text the bank keeps no format for (a feedback, a prompt) escaped; a marker only to
    protect a leading one, in the question's format that Moodle gives it by default."""
    return _marked(text, question_format, question_format)


def _feedback(text: str, question_format: TextFormat) -> str:
    return f"#{_unformatted(text, question_format)}" if text else ""


def _block(question: Question, rows: list[str], *, head: str = "") -> str:
    """A block with one answer a line, as Moodle writes it, the general feedback last."""
    lines = [*rows, _general_feedback(question)]
    return "{" + head + "\n" + "".join(f"\t{line}\n" for line in lines if line) + "}"


def _general_feedback(question: Question) -> str:
    if not question.general_feedback:
        return ""
    return f"####{_unformatted(question.general_feedback, question.text_format)}"


def _weighted(sign: str, fraction: float, default: float, text: str) -> str:
    """`=` or `~` and the weight, written when it is not the sign's default or when the text
    starts with "%" (which would read as a weight)."""
    if fraction == default and not text.startswith("%"):
        return sign + text
    return f"{sign}%{_decimal(fraction, scale=100)}%{text}"


def _write_choices(question: Question) -> str:
    rows = []
    for choice, sign in zip(question.choices, _choice_signs(question), strict=True):
        text = _marked(choice.text, choice.text_format, question.text_format)
        default = 1.0 if sign == "=" else 0.0
        rows.append(
            _weighted(sign, choice.fraction, default, text)
            + _feedback(choice.feedback, question.text_format)
        )
    return _block(question, rows)


def _choice_signs(question: Question) -> list[str]:
    """A short answer is all `=`; a multiple-choice block has no `=`; a single-choice one
    needs an `=` and a `~`."""
    if question.type == "short_answer":
        return ["="] * len(question.choices)
    if question.type == "multiple_choice":
        return ["~"] * len(question.choices)
    signs = ["=" if choice.fraction == 1 else "~" for choice in question.choices]
    if "=" not in signs:
        signs[0] = "="  # no full-mark option: the first one, with its weight
    elif "~" not in signs:
        signs[1:] = ["~"] * (len(signs) - 1)  # all full-mark: the others as ~%100%
    return signs


def _write_true_false(question: Question) -> str:
    if question.correct_answer:
        said, right, wrong = "TRUE", question.true_feedback, question.false_feedback
    else:
        said, right, wrong = "FALSE", question.false_feedback, question.true_feedback
    # Moodle's order: the wrong answer's feedback first, kept empty when only the right one's
    # is there.
    feedbacks = ""
    if wrong or right:
        feedbacks += "#" + _unformatted(wrong, question.text_format)
    if right:
        feedbacks += "#" + _unformatted(right, question.text_format)
    return "{" + said + feedbacks + _general_feedback(question) + "}"


def _write_numerical(question: Question) -> str:
    rows = []
    last = len(question.numeric_answers) - 1
    for index, answer in enumerate(question.numeric_answers):
        if answer.value is None and index == last and answer.fraction == 0:
            # Moodle's form for "any other number"
            rows.append("~#" + _unformatted(answer.feedback, question.text_format))
            continue
        if answer.value is None:
            said = ANY_RESPONSE
        else:
            said = _decimal(answer.value)
            if answer.tolerance:
                said += f":{_decimal(answer.tolerance)}"
        rows.append(
            _weighted("=", answer.fraction, 1.0, said)
            + _feedback(answer.feedback, question.text_format)
        )
    return _block(question, rows, head="#")


def _write_matching(question: Question) -> str:
    rows = [
        f"={_unformatted(pair.prompt, question.text_format)} -> {_escape(pair.answer)}"
        for pair in question.pairs
    ]
    return _block(question, rows)


def _write_essay(question: Question) -> str:
    return "{" + _general_feedback(question) + "}"


def _write_description(question: Question) -> str:
    return ""  # no block; GIFT has no place for a description's general feedback


_WRITERS: dict[QuestionType, Callable[[Question], str]] = {
    "single_choice": _write_choices,
    "multiple_choice": _write_choices,
    "true_false": _write_true_false,
    "short_answer": _write_choices,
    "numerical": _write_numerical,
    "matching": _write_matching,
    "essay": _write_essay,
    "description": _write_description,
}


def _decimal(value: float, *, scale: int = 1) -> str:
    """The number in plain decimals; read back and divided by `scale` it is the same float."""
    return format((Decimal(repr(value)) * scale).normalize(), "f")
