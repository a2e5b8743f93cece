"""Question banks in and out: GIFT, Moodle XML and the XLSX template, each imported through
the shared pipeline (preview, every problem named by line and field, all questions or none).

A question of a type the bank lacks (Moodle's calculated, cloze, drag-and-drop ...) is listed
by name and type with the reason and skipped; it never refuses the file and is never stored
half. A question that matches one in the bank (same idnumber, else the only one of that name
in that category) updates it: unchanged content does nothing, a new version is made only when
the old one has been attempted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from agentladder.errors import InvalidInput
from agentladder.i18n import N_
from agentladder.imports import pipeline
from agentladder.imports.schemas import ImportResult, RowPlan
from agentladder.imports.spec import (
    CellError,
    Column,
    Importer,
    ImportRun,
    ParsedRow,
    Planned,
    Problems,
)
from agentladder.imports.template import rows_workbook
from agentladder.tabular import Table, decode_csv_bytes
from agentladder.training.questions import gift, moodle_xml, sheet
from agentladder.training.questions import service as bank
from agentladder.training.questions.schemas import (
    BankFormat,
    Question,
    QuestionImportReport,
    SkippedQuestion,
    clean_path,
)

KIND = "questions"
_WORDS = {"create": "new", "update": "changed", "unchanged": "unchanged", "errors": "errors"}
FORMAT_SUFFIXES: dict[str, BankFormat] = {
    ".gift": "gift",
    ".txt": "gift",
    ".xml": "moodle-xml",
    ".xlsx": "xlsx",
    ".csv": "xlsx",
}


@dataclass(frozen=True)
class BankItem:
    """A question of a GIFT or Moodle XML file as its reader gave it."""

    line: int
    category: tuple[str, ...]
    question: Question | None
    type_name: str  # the type as the file names it
    name: str
    skipped: str | None = None  # msgid: why a type the bank lacks is left out
    error: str | None = None  # msgid: why a question of a known type cannot be read
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class QuestionImportOptions:
    """The category the file's questions go under, the file's items (for a GIFT or Moodle XML
    file), and what the check found, for the report."""

    bank_format: BankFormat = "xlsx"
    category: tuple[str, ...] = ()
    items: list[BankItem] = field(default_factory=list)
    file_categories: set[tuple[str, ...]] = field(default_factory=set)
    skipped: list[SkippedQuestion] = field(default_factory=list)


class QuestionRowPlan(RowPlan):
    """A question of the file: what importing it does."""

    name: str
    type: str
    category: str  # the path, names joined by " / "
    stored_id: int | None  # the bank's question it updates


def _readable(question: Question) -> str:
    return " / ".join(question.category)


# What each format cannot write: a question it updates keeps the bank's values of these, so
# importing a GIFT export never resets the marks, explanations or images it leaves out.
NOT_CARRIED: dict[BankFormat, frozenset[str]] = {
    "gift": frozenset(
        {
            "difficulty",
            "explanation",
            "default_mark",
            "shuffle_choices",
            "case_sensitive",
            "width_sensitive",
            "response_template",
            "grader_info",
            "images",
        }
    ),
    "moodle-xml": frozenset({"difficulty", "explanation", "width_sensitive"}),
    "xlsx": frozenset(
        {
            "text_format",
            "shuffle_choices",
            "case_sensitive",
            "width_sensitive",
            "true_feedback",
            "false_feedback",
            "response_template",
            "images",
        }
    ),
}


def carried_over(stored: Question, imported: Question, bank_format: BankFormat) -> Question:
    """The imported question with what its format cannot carry taken from the stored one (a
    sheet's options keep their stored feedback when their texts and marks are the same)."""
    kept = {name: getattr(stored, name) for name in NOT_CARRIED[bank_format]}
    if bank_format == "xlsx":
        if [(c.text, round(c.fraction, 6)) for c in stored.choices] == [
            (c.text, round(c.fraction, 6)) for c in imported.choices
        ]:
            kept["choices"] = stored.choices
        first = [a for a in stored.numeric_answers if a.value is not None][:1]
        if [(a.value, a.tolerance) for a in first] == [
            (a.value, a.tolerance) for a in imported.numeric_answers
        ]:
            kept["numeric_answers"] = stored.numeric_answers
    return imported.model_copy(update=kept)


def _plan(
    session: Session,
    found: list[tuple[ParsedRow, Question]],
    problems: Problems,
    run: ImportRun[QuestionImportOptions],
    column: str,
) -> list[Planned[QuestionRowPlan]]:
    questions = [
        question
        if question.category
        else question.model_copy(update={"category": (bank.DEFAULT_CATEGORY,)})
        for _row, question in found
    ]
    matches = bank.matching_questions(session=session, questions=questions)
    claimed: dict[int, int] = {}
    planned = []
    for position, ((row, _read), question) in enumerate(zip(found, questions, strict=True)):
        match = matches.get(position)
        stored_id: int | None = None
        action = "create"
        if match is not None:
            stored_id, stored = match
            first = claimed.setdefault(stored_id, row.number)
            if first != row.number:
                problems.add(
                    row.number,
                    column,
                    N_("this question updates the same bank question as row {row}"),
                    question.name,
                    row=first,
                )
                continue
            question = carried_over(stored, question, run.options.bank_format)
            unchanged = (
                question.content_hash() == stored.content_hash()
                and question.category == stored.category
            )
            action = "unchanged" if unchanged else "update"
        run.options.file_categories.add(question.category)
        planned.append(
            Planned(
                QuestionRowPlan(
                    row=row.number,
                    action=action,
                    name=question.name,
                    type=question.type,
                    category=_readable(question),
                    stored_id=stored_id,
                ),
                question,
            )
        )
    return planned


def _check_document(
    session: Session,
    rows: list[ParsedRow],
    problems: Problems,
    run: ImportRun[QuestionImportOptions],
) -> list[Planned[QuestionRowPlan]]:
    found: list[tuple[ParsedRow, Question]] = []
    for row in rows:
        item = run.options.items[int(row.text("question"))]
        if item.skipped is not None:
            problems.add(
                row.number,
                "question",
                item.skipped,
                f"{item.name} ({item.type_name})",
                severity="warning",
                # The import page lists skipped questions by name and type.
                **{**item.params, "skipped_name": item.name, "skipped_type": item.type_name},
            )
            run.options.skipped.append(
                SkippedQuestion(
                    name=item.name, type=item.type_name, reason=item.skipped, line=item.line
                )
            )
            continue
        if item.question is None:
            problems.add(
                row.number,
                "question",
                item.error or N_("the question cannot be read"),
                item.name or None,
                **item.params,
            )
            continue
        question = item.question.model_copy(
            update={"category": (*run.options.category, *item.question.category)}
        )
        found.append((row, question))
    return _plan(session, found, problems, run, "question")


def _check_sheet(
    session: Session,
    rows: list[ParsedRow],
    problems: Problems,
    run: ImportRun[QuestionImportOptions],
) -> list[Planned[QuestionRowPlan]]:
    found: list[tuple[ParsedRow, Question]] = []
    for row in rows:
        if problems.failed(row.number):
            continue
        try:
            found.append((row, sheet.row_question(row, run.options.category)))
        except CellError as error:
            value = row.text("answer") if error.value is None else error.value
            problems.add(row.number, "answer", error.message, value, **error.params)
    return _plan(session, found, problems, run, "text")


def _apply(
    session: Session,
    planned: list[Planned[QuestionRowPlan]],
    run: ImportRun[QuestionImportOptions],
) -> None:
    for item in planned:
        if item.plan.action == "unchanged":
            continue
        bank.store_question(
            session=session,
            question=item.record,
            source=f"import:{run.file_name}"[:200],
            user_id=run.user_id,
            question_id=item.plan.stored_id,
        )


DOCUMENT_COLUMNS = (
    Column(
        "question",
        N_("Question"),
        # GIFT and Moodle XML files have no header: the pages name the column by the format
        # (the table `_items_table` makes is headed by it).
        zh=("题目", "GIFT", "Moodle XML"),
        en=("question",),
        example="",
        required=True,
    ),
)

QUESTION_SHEET_IMPORTER: Importer[QuestionImportOptions, QuestionRowPlan] = Importer(
    kind=KIND,
    title=N_("Question bank"),
    columns=sheet.COLUMNS,
    check=_check_sheet,
    apply=_apply,
    words=_WORDS,
)
QUESTION_DOCUMENT_IMPORTER: Importer[QuestionImportOptions, QuestionRowPlan] = Importer(
    kind=KIND,
    title=N_("Question bank"),
    columns=DOCUMENT_COLUMNS,
    check=_check_document,
    apply=_apply,
    words=_WORDS,
)


def detect_format(data: bytes, file_name: str) -> BankFormat:
    """The bank format of a file: by its suffix, else XML by its first tag, else GIFT."""
    suffix = Path(file_name).suffix.lower()
    if suffix in FORMAT_SUFFIXES:
        return FORMAT_SUFFIXES[suffix]
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:5]
    if head.startswith(b"<?xml") or head.startswith(b"<quiz"):
        return "moodle-xml"
    if data.startswith(b"PK"):
        return "xlsx"
    return "gift"


def _gift_items(data: bytes, encoding: str | None) -> tuple[str, list[BankItem]]:
    text, used = decode_csv_bytes(data, encoding)
    items = [
        BankItem(
            line=item.line,
            category=item.category,
            question=item.question,
            type_name=item.question.type if item.question else "",
            name=item.question.name if item.question else item.source.strip()[:60],
            error=item.error,
            params=dict(item.params),
        )
        for item in gift.parse_gift(text)
    ]
    return used, items


def _xml_items(data: bytes) -> tuple[list[BankItem], set[tuple[str, ...]]]:
    try:
        categories, read = moodle_xml.read_moodle_xml(data)
    except moodle_xml.MoodleXmlError as exc:
        raise InvalidInput(exc.message, **exc.params) from exc
    items = [
        BankItem(
            line=item.line,
            category=item.category,
            question=item.question,
            type_name=item.moodle_type,
            name=item.name,
            skipped=item.skipped,
            error=item.error,
            params=dict(item.params),
        )
        for item in read
    ]
    return items, {category.path for category in categories}


def import_questions(
    *,
    session: Session,
    data: bytes,
    file_name: str,
    bank_format: BankFormat | None = None,
    category: Sequence[str] = (),
    encoding: str | None = None,
    dry_run: bool = False,
    user_id: int | None = None,
) -> tuple[ImportResult[QuestionRowPlan], QuestionImportReport]:
    """Import a GIFT, Moodle XML or XLSX/CSV bank (`bank_format` None: by the file), its
    questions filed under `category` and their own categories; the result for the pages and
    the report for `--output json`."""
    chosen = bank_format or detect_format(data, file_name)
    options = QuestionImportOptions(bank_format=chosen, category=clean_path(category))
    table: Table | None = None
    importer = QUESTION_DOCUMENT_IMPORTER
    declared: set[tuple[str, ...]] = set()
    if chosen == "gift":
        used, options.items = _gift_items(data, encoding)
        table = _items_table(options.items, "GIFT", used)
    elif chosen == "moodle-xml":
        options.items, declared = _xml_items(data)
        table = _items_table(options.items, "Moodle XML", "utf-8")
    else:
        importer = QUESTION_SHEET_IMPORTER
    result = pipeline.run_import(
        importer,
        session=session,
        data=data,
        file_name=file_name,
        options=options,
        encoding=encoding,
        dry_run=dry_run,
        user_id=user_id,
        table=table,
    )
    return result, _report(importer, result, options, declared)


def _items_table(items: list[BankItem], header: str, encoding: str) -> Table:
    # Each question is a row numbered by its first line; its cell points at the item read.
    rows = [(item.line, [str(index)]) for index, item in enumerate(items)]
    return Table(encoding=encoding, header=[header], rows=rows, header_row=None)


def _report(
    importer: Importer[QuestionImportOptions, QuestionRowPlan],
    result: ImportResult[QuestionRowPlan],
    options: QuestionImportOptions,
    declared: set[tuple[str, ...]],
) -> QuestionImportReport:
    # A refused file imports nothing; a dry run reports what importing it would do.
    stores = result.applied or (result.dry_run and pipeline.importable(importer, result.preview))
    rows = result.preview.rows if stores else []
    prefix = options.category
    categories = {(*prefix, *path) for path in declared} | options.file_categories
    return QuestionImportReport(
        file=result.preview.file_name,
        imported=len(rows),
        by_type=dict(sorted(Counter(row.type for row in rows).items())),
        skipped=options.skipped,
        categories=len({path for path in categories if path}),
    )


def export_questions(
    *, session: Session, bank_format: BankFormat, category: Sequence[str] = ()
) -> tuple[bytes, list[SkippedQuestion]]:
    """The bank (or one category and below) in a format, and the questions the format cannot
    carry (left out, named)."""
    stored = [question for _id, question in bank.bank_questions(session=session, category=category)]
    if bank_format == "gift":
        carried = [q for q in stored if gift.gift_can_export(q)]
        data = gift.export_gift(carried).encode()
    elif bank_format == "moodle-xml":
        carried = stored
        data = moodle_xml.export_moodle_xml(carried)
    else:
        carried = [q for q in stored if sheet.sheet_can_carry(q)]
        data = rows_workbook(QUESTION_SHEET_IMPORTER, [sheet.question_row(q) for q in carried])
    left_out = [
        SkippedQuestion(
            name=question.name,
            type=question.type,
            reason=N_("the format cannot carry this question"),
        )
        for question in stored
        if question not in carried
    ]
    return data, left_out


def template_workbook() -> bytes:
    """The XLSX template with an example row of every type."""
    examples = _TEMPLATE_EXAMPLES
    return rows_workbook(QUESTION_SHEET_IMPORTER, [sheet.question_row(q) for q in examples])


def _example(**fields: object) -> Question:
    return Question.model_validate({"category": ("示例 Examples",), "difficulty": "easy", **fields})


_TEMPLATE_EXAMPLES: tuple[Question, ...] = (
    _example(
        type="single_choice",
        name="300M 套餐",
        text="下列哪个套餐的下行速率是 300M？",
        choices=(
            {"text": "安心宽带 100M", "fraction": 0},
            {"text": "安心宽带 300M", "fraction": 1},
            {"text": "安心宽带 1000M", "fraction": 0},
        ),
        explanation="300M 套餐即安心宽带 300M。",
        tags=("宽带", "资费"),
    ),
    _example(
        type="multiple_choice",
        name="实名登记证件",
        text="办理实名登记时可以使用哪些证件？",
        choices=(
            {"text": "居民身份证", "fraction": 0.5},
            {"text": "学生证", "fraction": -0.5},
            {"text": "护照", "fraction": 0.5},
        ),
        default_mark=2,
    ),
    _example(
        type="true_false",
        name="七天无理由",
        text="宽带安装后七天内可以无理由退订。",
        correct_answer=True,
    ),
    _example(
        type="short_answer",
        name="服务热线",
        text="公司的客服热线号码是 _____。",
        choices=({"text": "95000", "fraction": 1}, {"text": "95 000", "fraction": 1}),
    ),
    _example(
        type="numerical",
        name="首响时限",
        text="铃响几秒内必须接听？",
        numeric_answers=({"value": 6, "tolerance": 0},),
    ),
    _example(
        type="matching",
        name="业务与办理渠道",
        text="把业务和办理渠道连起来。",
        pairs=(
            {"prompt": "宽带报装", "answer": "营业厅或热线"},
            {"prompt": "话费查询", "answer": "短信"},
            {"prompt": "", "answer": "邮寄"},
        ),
    ),
    _example(
        type="ordering",
        name="投诉处理步骤",
        text="按顺序排列投诉处理的步骤。",
        order=("倾听并致歉", "确认问题", "给出方案", "回访确认"),
    ),
    _example(
        type="essay",
        name="安抚客户",
        text="客户因多次断网情绪激动，请写出你的安抚话术。",
        grader_info="致歉、共情、给出明确的处理时限。",
        default_mark=5,
        difficulty="hard",
    ),
)
