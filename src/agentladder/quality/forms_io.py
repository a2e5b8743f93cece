"""QA forms in and out of files: YAML (the FormSpec as `default_form.yaml` is written) and XLSX
(one row per item, so a QA lead edits a form in Excel), both imported through the one import
pipeline: every row checked, the form validated as a FormSpec, errors naming the file's row (a
YAML file's line) and column, nothing written unless the whole file is right. A changed form is
saved with `service.save_form` (a new version when the stored one has evaluations)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.errors import InvalidInput, NotFound
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
    whole_number_cell,
)
from agentladder.imports.template import rows_workbook
from agentladder.org.accounts import service as accounts_service
from agentladder.quality import service as quality_service
from agentladder.quality.models import QaForm, QaFormVersion
from agentladder.quality.schemas import FormItem, FormSpec
from agentladder.tabular import Table, TableFileError
from agentladder.validation import ValidationProblem, validation_problems

if TYPE_CHECKING:
    from agentladder.org.models import User

FormFormat = Literal["yaml", "xlsx"]
YAML_SUFFIXES = (".yaml", ".yml")

# --- reading cells -----------------------------------------------------------------------------

_YES = {"yes", "y", "true", "1", "是", "允许", "可以", "√", "✓"}
_NO = {"no", "n", "false", "0", "否", "不允许", "不可以", "×", "✗"}
KIND_WORDS: dict[str, str] = {
    "yes_no": "yes_no",
    "yesno": "yes_no",
    "yes/no": "yes_no",
    "是否": "yes_no",
    "是/否": "yes_no",
    "scale": "scale",
    "量表": "scale",
    "评分": "scale",
    "打分": "scale",
}
FATAL_WORDS: dict[str, str] = {
    "customer": "customer",
    "客户": "customer",
    "客户关键": "customer",
    "business": "business",
    "业务": "business",
    "业务关键": "business",
    "compliance": "compliance",
    "合规": "compliance",
    "合规关键": "compliance",
}
# The fatal classes as pages name them.
FATAL_CLASS_NAMES: dict[str, str] = {
    "customer": N_("Customer-critical"),
    "business": N_("Business-critical"),
    "compliance": N_("Compliance-critical"),
}
# Scale labels in one cell: separated by | or new lines (a label may hold commas and slashes).
_LABEL_SEPARATORS = re.compile(r"\s*[|\n]\s*")


def _fold(text: str) -> str:
    return re.sub(r"\s+", "", text).casefold()


def yes_no_cell(text: str) -> bool:
    """yes/no, true/false, 1/0, 是/否 (any case)."""
    folded = _fold(text)
    if folded in _YES:
        return True
    if folded in _NO:
        return False
    raise CellError(N_("write yes or no"))


def _number_cell(text: str) -> float:
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        raise CellError(N_("not a number")) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise CellError(N_("not a number"))
    return value


def _kind_cell(text: str) -> str:
    kind = KIND_WORDS.get(_fold(text))
    if kind is None:
        raise CellError(N_("write yes_no or scale"))
    return kind


def _fatal_cell(text: str) -> str:
    fatal = FATAL_WORDS.get(_fold(text))
    if fatal is None:
        raise CellError(N_("write customer, business or compliance (empty: not fatal)"))
    return fatal


def _labels_cell(text: str) -> list[str]:
    return [label for label in _LABEL_SEPARATORS.split(text) if label]


# --- the columns -------------------------------------------------------------------------------

COLUMNS: tuple[Column, ...] = (
    Column(
        "form",
        label=N_("Form"),
        zh=("评分表代码", "评分表", "表单代码"),
        en=("form", "form code"),
        example="default",
        help=N_("The form's code: lower-case letters, digits and _ (the same on every row)."),
        required=True,
        if_empty=N_("the form code is empty"),
    ),
    Column(
        "form_zh",
        label=N_("Form title (Chinese)"),
        zh=("评分表名称",),
        en=("form title zh", "form zh"),
        example="默认质检评分表",
        help=N_("The form's Chinese title (on one row or repeated on every row)."),
    ),
    Column(
        "form_en",
        label=N_("Form title (English)"),
        zh=("评分表英文名称",),
        en=("form title en", "form en", "form title"),
        example="Default QA form",
        help=N_("The form's English title (on one row or repeated on every row)."),
    ),
    Column(
        "section",
        label=N_("Section"),
        zh=("分组代码", "分组"),
        en=("section", "section code"),
        example="courtesy",
        help=N_("The section's code; the rows of a section may be anywhere in the sheet."),
        required=True,
        if_empty=N_("the section code is empty"),
    ),
    Column(
        "section_zh",
        label=N_("Section title (Chinese)"),
        zh=("分组名称",),
        en=("section title zh", "section zh"),
        example="服务态度与礼仪",
        help=N_("The section's Chinese title (on one of its rows or repeated)."),
    ),
    Column(
        "section_en",
        label=N_("Section title (English)"),
        zh=("分组英文名称",),
        en=("section title en", "section en", "section title"),
        example="Courtesy and manner",
        help=N_("The section's English title (on one of its rows or repeated)."),
    ),
    Column(
        "section_weight",
        label=N_("Section weight"),
        zh=("分组权重",),
        en=("section weight",),
        example="25",
        help=N_("The section's weight; the sections' weights sum to 100."),
        parse=_number_cell,
    ),
    Column(
        "item",
        label=N_("Item"),
        zh=("质检项代码", "质检项"),
        en=("item", "item code"),
        example="basic_courtesy",
        help=N_("The item's code, unique in the form: answers and evaluations name it."),
        required=True,
        if_empty=N_("the item code is empty"),
    ),
    Column(
        "item_zh",
        label=N_("Item (Chinese)"),
        zh=("质检项名称",),
        en=("item title zh", "item zh"),
        example="基本礼貌使用",
        help=N_("What the item asks, in Chinese."),
    ),
    Column(
        "item_en",
        label=N_("Item (English)"),
        zh=("质检项英文名称",),
        en=("item title en", "item en", "item title"),
        example="Basic courtesy used",
        help=N_("What the item asks, in English."),
    ),
    Column(
        "kind",
        label=N_("Type"),
        zh=("类型", "评分方式"),
        en=("type", "kind"),
        example="yes_no",
        help=N_("yes_no (是否) or scale (量表: 0 to the scale maximum); empty: yes_no."),
        parse=_kind_cell,
    ),
    Column(
        "scale_max",
        label=N_("Scale maximum"),
        zh=("量表满分", "满分档"),
        en=("scale max", "scale maximum"),
        example="",
        help=N_("A scale item's top answer (1 to 10); empty for yes/no items."),
        parse=whole_number_cell(N_("write a whole number from 1 to 10")),
    ),
    Column(
        "scale_labels",
        label=N_("Scale labels"),
        zh=("量表标签", "档位说明"),
        en=("scale labels",),
        example="",
        help=N_("One label per point from 0 to the maximum, separated by |."),
        parse=_labels_cell,
    ),
    Column(
        "weight",
        label=N_("Weight"),
        zh=("权重", "项目权重"),
        en=("weight", "item weight"),
        example="1",
        help=N_("The item's weight within its section (above 0)."),
        parse=_number_cell,
    ),
    Column(
        "allows_na",
        label=N_("Allows N/A"),
        zh=("可不适用", "允许不适用"),
        en=("allows n/a", "allows na", "n/a allowed"),
        example="yes",
        help=N_("yes: the item may be answered not applicable (empty: yes)."),
        parse=yes_no_cell,
    ),
    Column(
        "fatal",
        label=N_("Fatal class"),
        zh=("致命错误类别", "致命错误"),
        en=("fatal", "fatal class"),
        example="",
        help=N_(
            "Empty, or the harm a failed fatal item does: customer, business or compliance "
            "(客户/业务/合规); a failed fatal item scores the call 0."
        ),
        parse=_fatal_cell,
    ),
)
_COLUMN_NAMES = [column.name for column in COLUMNS]
# A FormSpec field -> the column holding it, at the form, section and item level.
_FORM_FIELDS = {"code": "form", "zh": "form_zh", "en": "form_en", "sections": "section"}
_SECTION_FIELDS = {
    "code": "section",
    "zh": "section_zh",
    "en": "section_en",
    "weight": "section_weight",
    "items": "item",
}
_ITEM_FIELDS = {
    "code": "item",
    "zh": "item_zh",
    "en": "item_en",
    "weight": "weight",
    "kind": "kind",
    "scale_max": "scale_max",
    "scale_labels": "scale_labels",
    "allows_na": "allows_na",
    "fatal": "fatal",
}
# Whole-form and whole-item refusals: the column they concern.
_MESSAGE_COLUMNS = {
    "section weights sum to {total}, not 100": "section_weight",
    "item codes appear twice: {codes}": "item",
    "section codes appear twice": "section",
    "a scale item needs its scale maximum": "scale_max",
    "a yes/no item has no scale maximum": "scale_max",
    "scale labels: one label per point, 0 to {maximum}": "scale_labels",
    "a fatal item is yes/no: it is failed or it is not": "fatal",
}


class FormRowPlan(RowPlan):
    """One item of an imported form and what importing it does to the stored form."""

    form: str
    section: str
    item: str
    weight: float | None = None
    fatal: str | None = None


# --- a file's rows as forms ----------------------------------------------------------------------


@dataclass
class _Section:
    rows: list[ParsedRow] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Form:
    rows: list[ParsedRow] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, _Section] = field(default_factory=dict)


def _take(
    problems: Problems,
    row: ParsedRow,
    column: str,
    fields: dict[str, Any],
    key: str,
    first_rows: dict[str, int],
) -> None:
    """Keep a form's or section's field from the first row that gives it; a later row giving
    another value is an error naming that first row."""
    value = row.value(column)
    if value is None:
        return
    if key not in fields:
        fields[key] = value
        first_rows[key] = row.number
    elif fields[key] != value:
        problems.add(
            row.number,
            column,
            N_("differs from row {row}"),
            row.text(column),
            row=first_rows[key],
        )


def _gather(rows: list[ParsedRow], problems: Problems) -> dict[str, _Form]:
    forms: dict[str, _Form] = {}
    first_rows: dict[tuple[str, ...], dict[str, int]] = {}
    for row in rows:
        code, section_code, item = row.value("form"), row.value("section"), row.value("item")
        if code is None or section_code is None or item is None:
            continue
        if not problems.first_row(
            (code, item), row, "item", N_("the item appears again: first in row {row}")
        ):
            continue
        form = forms.setdefault(code, _Form())
        form.rows.append(row)
        seen = first_rows.setdefault((code,), {})
        for column, key in (("form_zh", "zh"), ("form_en", "en")):
            _take(problems, row, column, form.fields, key, seen)
        section = form.sections.setdefault(section_code, _Section())
        section.rows.append(row)
        seen = first_rows.setdefault((code, section_code), {})
        for column, key in (
            ("section_zh", "zh"),
            ("section_en", "en"),
            ("section_weight", "weight"),
        ):
            _take(problems, row, column, section.fields, key, seen)
    return forms


def _item_document(row: ParsedRow) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, column in _ITEM_FIELDS.items():
        value = row.value(column)
        if value is not None and value != []:
            document[key] = value
    if "kind" not in document:
        document["kind"] = "scale" if "scale_max" in document else "yes_no"
    return document


def _document(code: str, form: _Form) -> dict[str, Any]:
    return {
        "code": code,
        **form.fields,
        "sections": [
            {
                "code": section_code,
                **section.fields,
                "items": [_item_document(row) for row in section.rows],
            }
            for section_code, section in form.sections.items()
        ],
    }


def _place(form: _Form, problem: ValidationProblem) -> tuple[int, str]:
    """The row and column a FormSpec problem concerns: an item's row, a section's first row or
    the form's first row; a refusal of a whole form or item names the column it is about."""
    loc = problem.loc
    by_message = _MESSAGE_COLUMNS.get(problem.message)
    if len(loc) < 2 or loc[0] != "sections" or not isinstance(loc[1], int):
        column = _FORM_FIELDS.get(str(loc[0])) if loc else None
        return form.rows[0].number, column or by_message or "form"
    section = list(form.sections.values())[loc[1]]
    if len(loc) >= 4 and loc[2] == "items" and isinstance(loc[3], int):
        column = _ITEM_FIELDS.get(str(loc[4])) if len(loc) >= 5 else None
        return section.rows[loc[3]].number, column or by_message or "item"
    column = _SECTION_FIELDS.get(str(loc[2])) if len(loc) >= 3 else None
    return section.rows[0].number, column or by_message or "section"


def _validate(code: str, form: _Form, problems: Problems) -> FormSpec | None:
    try:
        return FormSpec.model_validate(_document(code, form))
    except ValidationError as exc:
        # A cell already reported unreadable reads as missing here: reported once.
        reported = {(issue.row, issue.column) for issue in problems.issues}
        cells = {row.number: row for row in form.rows}
        for problem in validation_problems(exc):
            number, column = _place(form, problem)
            if (number, problems.headers.get(column, column)) not in reported:
                value = cells[number].text(column) or None
                problems.add(number, column, problem.message, value, **problem.params)
        return None


def _item_changes(old: FormItem, new: FormItem) -> dict[str, tuple[str, str]]:
    changes = {}
    for key, column in _ITEM_FIELDS.items():
        before, after = getattr(old, key), getattr(new, key)
        if before != after:
            changes[column] = (_shown(before), _shown(after))
    return changes


def _shown(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return " | ".join(str(part) for part in value)
    return str(value)


def _plans(session: Session, spec: FormSpec, form: _Form, problems: Problems) -> list[Planned[Any]]:
    stored = quality_service.current_form_version(session=session, code=spec.code)
    old = quality_service.form_spec(stored) if stored is not None else None
    old_items = {item.code: item for item in old.items()} if old else {}
    old_sections = {section.code: section for section in old.sections} if old else {}
    planned: list[Planned[Any]] = []
    for section in spec.sections:
        previous = old_sections.get(section.code)
        section_changes = {}
        for key in ("zh", "en", "weight"):
            before = getattr(previous, key) if previous else None
            if previous is not None and before != getattr(section, key):
                section_changes[_SECTION_FIELDS[key]] = (
                    _shown(before),
                    _shown(getattr(section, key)),
                )
        rows = form.sections[section.code].rows
        for item, row in zip(section.items, rows, strict=True):
            before_item = old_items.get(item.code)
            changes = {
                **section_changes,
                **(_item_changes(before_item, item) if before_item else {}),
            }
            action = "create" if before_item is None else "update" if changes else "unchanged"
            if old is not None and row is form.rows[0]:
                for key, column in (("zh", "form_zh"), ("en", "form_en")):
                    if getattr(old, key) != getattr(spec, key):
                        changes[column] = (getattr(old, key), getattr(spec, key))
                        action = "update" if action == "unchanged" else action
            plan = FormRowPlan(
                row=row.number,
                action=action,
                changes=changes,
                form=spec.code,
                section=section.code,
                item=item.code,
                weight=item.weight,
                fatal=item.fatal,
            )
            planned.append(Planned(plan, spec))
    removed = sorted(set(old_items) - {item.code for item in spec.items()})
    if removed:
        problems.add(
            None,
            None,
            N_("form {form} no longer has the items {items}"),
            None,
            severity="warning",
            form=spec.code,
            items=", ".join(removed),
        )
    return planned


def _check(
    session: Session, rows: list[ParsedRow], problems: Problems, run: ImportRun[None]
) -> list[Planned[FormRowPlan]]:
    planned: list[Planned[FormRowPlan]] = []
    for code, form in _gather(rows, problems).items():
        # Validated even with unreadable cells, so that one pass reports every problem.
        spec = _validate(code, form, problems)
        if spec is not None and not any(problems.failed(row.number) for row in form.rows):
            planned.extend(_plans(session, spec, form, problems))
    return planned


def _apply(session: Session, planned: list[Planned[FormRowPlan]], run: ImportRun[None]) -> None:
    by = (
        accounts_service.get_user_or_raise(session=session, user_id=run.user_id)
        if run.user_id
        else None
    )
    saved: set[str] = set()
    for item in planned:
        spec: FormSpec = item.record
        if spec.code not in saved:
            saved.add(spec.code)
            quality_service.save_form(session=session, spec=spec, by=by)


FORMS_IMPORTER: Importer[None, FormRowPlan] = Importer(
    kind="qa_forms",
    title=N_("QA forms"),
    columns=COLUMNS,
    check=_check,
    apply=_apply,
)


# --- YAML as rows --------------------------------------------------------------------------------


def _yaml_problem(node: yaml.Node | None, message: str, **params: object) -> TableFileError:
    line = node.start_mark.line + 1 if node is not None else 1
    return TableFileError(message, line=line, **params)


def _mapping(node: yaml.Node) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        raise _yaml_problem(node, N_("line {line}: a mapping (key: value) is expected here"))
    result: dict[str, yaml.Node] = {}
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            raise _yaml_problem(key, N_("line {line}: a key must be text"))
        result[key.value] = value
    return result


def _sequence(node: yaml.Node) -> list[yaml.Node]:
    if not isinstance(node, yaml.SequenceNode):
        raise _yaml_problem(node, N_("line {line}: a list is expected here"))
    return list(node.value)


def _text(node: yaml.Node | None) -> str:
    if node is None:
        return ""
    if isinstance(node, yaml.SequenceNode):
        return " | ".join(_text(part) for part in node.value)
    if isinstance(node, yaml.ScalarNode):
        if node.tag.endswith(":null") or (node.value in ("~", "null") and not node.style):
            return ""
        return str(node.value)
    raise _yaml_problem(node, N_("line {line}: a value or a list of values is expected here"))


def _yaml_rows(node: yaml.Node) -> Iterator[tuple[int, dict[str, str]]]:
    top = _mapping(node)
    _unknown(top, {"code", "zh", "en", "sections"})
    form = {"form": _text(top.get("code")), "form_zh": _text(top.get("zh"))}
    form["form_en"] = _text(top.get("en"))
    if "sections" not in top:
        raise _yaml_problem(node, N_("line {line}: a form needs its sections"))
    for section_node in _sequence(top["sections"]):
        section = _mapping(section_node)
        _unknown(section, {"code", "zh", "en", "weight", "items"})
        cells = {
            **form,
            "section": _text(section.get("code")),
            "section_zh": _text(section.get("zh")),
            "section_en": _text(section.get("en")),
            "section_weight": _text(section.get("weight")),
        }
        if "items" not in section:
            raise _yaml_problem(section_node, N_("line {line}: a section needs its items"))
        for item_node in _sequence(section["items"]):
            item = _mapping(item_node)
            _unknown(item, set(_ITEM_FIELDS))
            yield (
                item_node.start_mark.line + 1,
                {
                    **cells,
                    **{column: _text(item.get(key)) for key, column in _ITEM_FIELDS.items()},
                },
            )


def _unknown(mapping: dict[str, yaml.Node], known: set[str]) -> None:
    for key, value in mapping.items():
        if key not in known:
            raise _yaml_problem(
                value, N_("line {line}: unknown key {key}: not allowed here"), key=key
            )


def yaml_table(data: bytes) -> Table:
    """A YAML form as the table the importer reads: one row per item, numbered by its line;
    a file that is not a form's YAML raises TableFileError naming the line."""
    try:
        text = data.decode("utf-8-sig")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except UnicodeDecodeError as exc:
        raise TableFileError(N_("the YAML file is not UTF-8 text")) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise TableFileError(
            N_("not valid YAML on line {line}: {detail}"),
            line=mark.line + 1 if mark is not None else 1,
            detail=str(getattr(exc, "problem", exc)),
        ) from exc
    if node is None:
        raise TableFileError(N_("the file has no data rows"))
    header = [column.en[0] for column in COLUMNS]
    rows = [
        (line, [cells.get(name, "") for name in _COLUMN_NAMES]) for line, cells in _yaml_rows(node)
    ]
    return Table(encoding="utf-8", header=header, rows=rows)


# --- import and export ---------------------------------------------------------------------------


def import_forms(
    *,
    session: Session,
    data: bytes,
    file_name: str,
    encoding: str | None = None,
    dry_run: bool = False,
    imported_by: User | None = None,
) -> ImportResult[FormRowPlan]:
    """Import QA forms from a YAML file (one form, as `default_form.yaml`) or an XLSX/CSV sheet
    (one row per item, any number of forms): every form validated whole, nothing saved when
    any row has an error (`dry_run`: only report). Each changed form is saved with save_form."""
    table = yaml_table(data) if Path(file_name).suffix.lower() in YAML_SUFFIXES else None
    return pipeline.run_import(
        FORMS_IMPORTER,
        session=session,
        data=data,
        file_name=file_name,
        encoding=encoding,
        dry_run=dry_run,
        options=None,
        user_id=imported_by.id if imported_by else None,
        table=table,
    )


def stored_form(*, session: Session, code: str, version: int | None = None) -> FormSpec:
    """A stored form's spec (its latest version, or the one asked for); the default form
    as shipped while none named `default` is stored."""
    query = select(QaFormVersion).join(QaForm).where(QaForm.code == code)
    if version is not None:
        query = query.where(QaFormVersion.version == version)
    found = session.scalar(query.order_by(QaFormVersion.version.desc()).limit(1))
    if found is not None:
        return quality_service.form_spec(found)
    if code == quality_service.default_form().code and version is None:
        return quality_service.default_form()
    if version is not None:
        raise NotFound("form {form} has no version {version}", form=code, version=version)
    raise NotFound("no form {form}", form=code)


@dataclass(frozen=True)
class StoredForm:
    """A form as the forms page lists it: its latest version (0: the shipped default, not
    stored yet) and how many items it asks."""

    code: str
    zh: str
    en: str
    version: int
    items: int


def stored_forms(*, session: Session) -> list[StoredForm]:
    """Every stored form at its latest version, by code; the shipped default while no form
    named `default` is stored."""
    latest: dict[str, QaFormVersion] = {}
    for version in session.scalars(select(QaFormVersion).order_by(QaFormVersion.version)):
        latest[version.form.code] = version
    forms = []
    for code, version in sorted(latest.items()):
        spec = quality_service.form_spec(version)
        forms.append(StoredForm(code, spec.zh, spec.en, version.version, len(spec.items())))
    default = quality_service.default_form()
    if default.code not in latest:
        forms.insert(0, StoredForm(default.code, default.zh, default.en, 0, len(default.items())))
    return forms


def form_yaml(spec: FormSpec) -> str:
    """A form as YAML, written as `default_form.yaml` is (defaults left out); imports back."""
    document = spec.model_dump(exclude_defaults=True)
    for section in document["sections"]:
        section["weight"] = _whole(section["weight"])
        for item in section["items"]:
            item["weight"] = _whole(item["weight"])
            if item.get("kind") == "yes_no":
                del item["kind"]
    heading = f"# {spec.zh} / {spec.en}\n# agentladder quality forms import FILE.yaml\n"
    return heading + yaml.dump(
        document, Dumper=_IndentedDumper, allow_unicode=True, sort_keys=False, width=100
    )


class _IndentedDumper(yaml.SafeDumper):
    """Lists indented under their key, as default_form.yaml is written."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _whole(value: float) -> float | int:
    return int(value) if value.is_integer() else value


def form_rows(spec: FormSpec) -> list[list[object]]:
    """A form as the sheet's rows, one per item, in the importer's column order."""
    rows: list[list[object]] = []
    for section in spec.sections:
        for item in section.items:
            cells: dict[str, object] = {
                "form": spec.code,
                "form_zh": spec.zh,
                "form_en": spec.en,
                "section": section.code,
                "section_zh": section.zh,
                "section_en": section.en,
                "section_weight": _whole(section.weight),
                "item": item.code,
                "item_zh": item.zh,
                "item_en": item.en,
                "kind": item.kind,
                "scale_max": item.scale_max,
                "scale_labels": " | ".join(item.scale_labels),
                "weight": _whole(item.weight),
                "allows_na": "yes" if item.allows_na else "no",
                "fatal": item.fatal or "",
            }
            rows.append([cells[name] for name in _COLUMN_NAMES])
    return rows


def form_workbook(spec: FormSpec) -> bytes:
    """A form as XLSX: one row per item and a sheet explaining the columns; imports back."""
    return rows_workbook(FORMS_IMPORTER, form_rows(spec))


def export_form(
    *, session: Session, code: str, fmt: FormFormat, version: int | None = None
) -> bytes:
    """A stored form (or the shipped default) as YAML or XLSX bytes."""
    if fmt not in ("yaml", "xlsx"):
        raise InvalidInput("unknown format {format}: yaml or xlsx", format=fmt)
    spec = stored_form(session=session, code=code, version=version)
    return form_yaml(spec).encode() if fmt == "yaml" else form_workbook(spec)


def forms_template() -> bytes:
    """The XLSX template: the shipped default form, ready to edit and import."""
    return form_workbook(quality_service.default_form())


def form_file_name(code: str, fmt: FormFormat) -> str:
    """The download name of an exported form."""
    return f"qa-form-{code}.{fmt}"
