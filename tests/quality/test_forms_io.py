"""QA forms in and out of YAML and XLSX files, through the import pipeline."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from agentladder.cli import app
from agentladder.config import Settings
from agentladder.imports import service as imports_service
from agentladder.imports.schemas import ImportResult
from agentladder.quality import forms_io
from agentladder.quality import service as quality_service
from agentladder.quality.models import QaForm, QaFormVersion
from agentladder.quality.schemas import FormItem, FormSection, FormSpec
from agentladder.tabular import TableFileError
from tests.factories import make_agent, make_user

FORM = quality_service.default_form()


def _errors(result: ImportResult[forms_io.FormRowPlan]) -> list[tuple[int | None, str | None, str]]:
    return [(issue.row, issue.column, issue.text("en")) for issue in result.preview.errors]


def _edited_workbook(spec: FormSpec, edits: dict[tuple[int, str], object]) -> bytes:
    """The form's XLSX with some cells changed: (row, Chinese header) -> new value."""
    workbook = load_workbook(io.BytesIO(forms_io.form_workbook(spec)))
    sheet = workbook.worksheets[0]
    headers = {cell.value: cell.column for cell in sheet[1]}
    for (row, header), value in edits.items():
        sheet.cell(row=row, column=headers[header], value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _stored(session: Session, code: str = "default") -> FormSpec:
    version = quality_service.current_form_version(session=session, code=code)
    assert version is not None
    return quality_service.form_spec(version)


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


# --- round trips -------------------------------------------------------------------------------


def test_the_default_form_exported_as_yaml_imports_back_as_it_was(session: Session) -> None:
    data = forms_io.export_form(session=session, code="default", fmt="yaml")
    assert data.decode().count("\n  - code:") == len(FORM.sections)
    assert FormSpec.model_validate(yaml.safe_load(data)) == FORM
    result = forms_io.import_forms(session=session, data=data, file_name="default.yaml")
    assert result.applied
    assert result.preview.count("create") == len(FORM.items())
    assert _stored(session) == FORM
    # Rows are numbered by the file's lines: each item's row is the line of its `- code:`.
    lines = data.decode().splitlines()
    for row in result.preview.rows:
        assert lines[row.row - 1].strip() == f"- code: {row.item}"
    again = forms_io.import_forms(session=session, data=data, file_name="default.yaml")
    assert again.preview.count("unchanged") == len(FORM.items())
    assert again.preview.previous_import is not None
    assert again.preview.previous_import.import_id == result.import_id
    assert _count(session, QaFormVersion) == 1


def test_the_default_form_exported_as_xlsx_imports_back_and_the_template_is_the_default(
    session: Session,
) -> None:
    data = forms_io.export_form(session=session, code="default", fmt="xlsx")
    template = load_workbook(io.BytesIO(forms_io.forms_template())).worksheets[0]
    exported = load_workbook(io.BytesIO(data)).worksheets[0]
    assert list(template.values) == list(exported.values)
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert [cell.value for cell in sheet[1]][:4] == [
        "评分表代码",
        "评分表名称",
        "评分表英文名称",
        "分组代码",
    ]
    assert sheet.max_row == len(FORM.items()) + 1
    result = forms_io.import_forms(session=session, data=data, file_name="form.xlsx")
    assert result.applied, _errors(result)
    assert _stored(session) == FORM
    records = imports_service.list_imports(session=session, kind="qa_forms")
    assert [(r.status, r.created) for r in records] == [("applied", len(FORM.items()))]


_CODE = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
_TITLE = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp", "Zs")),
    min_size=1,
    max_size=12,
)


@st.composite
def _forms(draw: st.DrawFn) -> FormSpec:
    codes = draw(st.lists(_CODE, min_size=2, max_size=8, unique=True))
    sections_count = draw(st.integers(1, min(3, len(codes) - 1)))
    weights = [100 / sections_count] * sections_count
    weights[-1] = 100 - sum(weights[:-1])
    sections = []
    item_codes = codes[sections_count:] or codes[:1]
    for index in range(sections_count):
        items = []
        for code in item_codes[index::sections_count] or []:
            scale = draw(st.booleans())
            maximum = draw(st.integers(1, 5))
            items.append(
                FormItem(
                    code=f"i_{code}",
                    zh=draw(_TITLE),
                    en=draw(_TITLE),
                    weight=draw(st.sampled_from([0.5, 1.0, 2.0, 3.0])),
                    kind="scale" if scale else "yes_no",
                    scale_max=maximum if scale else None,
                    scale_labels=[f"p{n}" for n in range(maximum + 1)]
                    if scale and draw(st.booleans())
                    else [],
                    allows_na=draw(st.booleans()),
                    fatal=None
                    if scale
                    else draw(st.sampled_from([None, "customer", "compliance"])),
                )
            )
        if not items:
            items = [FormItem(code=f"x{index}", zh="项", en="item", weight=1)]
        sections.append(
            FormSection(
                code=f"s_{codes[index]}",
                zh="分组",
                en="Section",
                weight=weights[index],
                items=items,
            )
        )
    return FormSpec(code=codes[0], zh=draw(_TITLE), en=draw(_TITLE), sections=sections)


@hypothesis_settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(form=_forms())
def test_any_form_reads_back_from_its_yaml_and_its_sheet(form: FormSpec) -> None:
    assert FormSpec.model_validate(yaml.safe_load(forms_io.form_yaml(form))) == form
    table = forms_io.yaml_table(forms_io.form_yaml(form).encode())
    assert len(table.rows) == len(form.items())
    sheet = load_workbook(io.BytesIO(forms_io.form_workbook(form))).worksheets[0]
    assert sheet.max_row == len(form.items()) + 1


# --- editing a stored form ---------------------------------------------------------------------


def test_a_changed_form_with_evaluations_becomes_a_new_version(
    session: Session, settings: Settings
) -> None:
    first = quality_service.save_form(session=session, spec=FORM)
    agent = make_agent(session)
    evaluator = make_user(session, settings, "qa1", ["qa"])
    evaluation = quality_service.start_evaluation(
        session=session,
        form_version_id=first.id,
        agent_id=agent.id,
        evaluator=evaluator,
        call_id="c1",
        call_at=datetime(2026, 10, 8, 2, 0, tzinfo=UTC),
    )
    # Row 2 is the first item (basic_courtesy): weight 1 -> 3; row 3 gets another title.
    data = _edited_workbook(FORM, {(2, "权重"): 3, (3, "质检项英文名称"): "Phone manner"})
    dry = forms_io.import_forms(session=session, data=data, file_name="f.xlsx", dry_run=True)
    assert not dry.applied
    assert [(r.row, r.action, r.changes) for r in dry.preview.rows if r.action != "unchanged"] == [
        (2, "update", {"weight": ("1", "3")}),
        (
            3,
            "update",
            {"item_en": ("Telephone etiquette: greeting, hold, closing", "Phone manner")},
        ),
    ]
    assert _count(session, QaFormVersion) == 1
    lead = make_user(session, settings, "qalead", ["qa"])
    result = forms_io.import_forms(session=session, data=data, file_name="f.xlsx", imported_by=lead)
    assert result.applied
    current = quality_service.current_form_version(session=session, code="default")
    assert current is not None
    assert (current.version, current.created_by_user_id) == (2, lead.id)
    assert _stored(session).items()[0].weight == 3
    assert evaluation.form_version_id == first.id
    assert quality_service.form_spec(first) == FORM
    # An item left out of the file is a warning, not an error.
    spec = _stored(session)
    fewer = spec.model_copy(
        update={
            "sections": [
                spec.sections[0].model_copy(update={"items": spec.sections[0].items[1:]}),
                *spec.sections[1:],
            ]
        }
    )
    dropped = forms_io.import_forms(
        session=session, data=forms_io.form_workbook(fewer), file_name="g.xlsx", dry_run=True
    )
    assert [w.text("en") for w in dropped.preview.warnings] == [
        "form default no longer has the items basic_courtesy"
    ]


# --- refusals ----------------------------------------------------------------------------------


def test_a_sheet_with_errors_names_row_and_column_and_saves_nothing(session: Session) -> None:
    tone = next(i for i, item in enumerate(FORM.items()) if item.code == "tone_voice") + 2
    data = _edited_workbook(
        FORM,
        {
            (2, "权重"): "heavy",  # not a number
            (3, "分组权重"): 30,  # differs from row 2 (25)
            (tone, "量表标签"): "差 | 好",  # 2 labels for 0..4
            (4, "致命错误类别"): "fatal",
            (5, "质检项代码"): "Bad Code",
        },
    )
    result = forms_io.import_forms(session=session, data=data, file_name="bad.xlsx")
    assert not result.applied
    assert sorted(_errors(result), key=lambda e: e[0] or 0) == [
        (2, "权重", "not a number"),
        (3, "分组权重", "differs from row 2"),
        (4, "致命错误类别", "write customer, business or compliance (empty: not fatal)"),
        (5, "质检项代码", "only lower-case letters, digits and _, starting with a letter"),
        (tone, "量表标签", "scale labels: one label per point, 0 to 4"),
    ]
    assert _count(session, QaForm) == 0
    records = imports_service.list_imports(session=session, kind="qa_forms")
    assert [(r.status, r.rejected) for r in records] == [("refused", 5)]


def test_section_weights_that_do_not_sum_to_100_name_the_column(session: Session) -> None:
    rows = list(range(2, len(FORM.items()) + 2))
    courtesy = [
        r
        for r, item in zip(rows, FORM.items(), strict=True)
        if item.code in {i.code for i in FORM.sections[0].items}
    ]
    data = _edited_workbook(FORM, {(row, "分组权重"): 35 for row in courtesy})
    result = forms_io.import_forms(session=session, data=data, file_name="w.xlsx")
    assert _errors(result) == [(2, "分组权重", "section weights sum to 110, not 100")]
    translated = result.preview.errors[0].text("zh_Hans")
    assert "110" in translated
    assert "section" not in translated


def test_a_yaml_form_names_the_line_of_a_bad_item(session: Session) -> None:
    listening = (
        "      - code: listening\n        zh: 聆听态度\n        en: Listens without interrupting\n"
    )
    text = forms_io.form_yaml(FORM).replace(
        listening + "        weight: 1", listening + "        weight: -1"
    )
    line = text.splitlines().index("      - code: listening") + 1
    result = forms_io.import_forms(session=session, data=text.encode(), file_name="f.yml")
    assert _errors(result) == [(line, "weight", "must be above 0")]
    assert _count(session, QaForm) == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("code: f\nsections: [\n", "not valid YAML on line 3"),
        (
            "code: f\nzh: 表\nen: F\nsections:\n  - code: a\n    colour: red\n",
            "line 6: unknown key colour",
        ),
        ("code: f\nsections: 3\n", "line 2: a list is expected here"),
        ("code: f\nzh: 表\n", "line 1: a form needs its sections"),
    ],
)
def test_a_file_that_is_not_a_form_is_refused_with_its_line(text: str, message: str) -> None:
    with pytest.raises(TableFileError) as caught:
        forms_io.yaml_table(text.encode())
    assert message in str(caught.value)


def test_an_unknown_form_or_version_is_not_found(session: Session) -> None:
    from agentladder.errors import NotFound

    with pytest.raises(NotFound):
        forms_io.export_form(session=session, code="nope", fmt="yaml")
    with pytest.raises(NotFound):
        forms_io.export_form(session=session, code="default", fmt="yaml", version=3)


# --- the commands ------------------------------------------------------------------------------


def test_forms_export_import_and_template_commands(cli_env: Settings, tmp_path: Path) -> None:
    runner = CliRunner()
    exported = runner.invoke(app, ["quality", "forms", "export"])
    assert exported.exit_code == 0, exported.output
    assert FormSpec.model_validate(yaml.safe_load(exported.stdout)) == FORM
    sheet = tmp_path / "form.xlsx"
    written = runner.invoke(
        app, ["quality", "forms", "export", "--format", "xlsx", "--output", str(sheet)]
    )
    assert written.exit_code == 0, written.output
    dry = runner.invoke(app, ["quality", "forms", "import", str(sheet), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "dry run: nothing written" in dry.output
    done = runner.invoke(app, ["quality", "forms", "import", str(sheet)])
    assert done.exit_code == 0, done.output
    assert "imported" in done.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("code: f\nzh: 表\nen: F\nsections:\n  - code: a\n    colour: red\n")
    refused = runner.invoke(app, ["quality", "forms", "import", str(bad)])
    assert refused.exit_code == 1
    assert "line 6" in refused.output
    template = tmp_path / "t.xlsx"
    made = runner.invoke(app, ["quality", "forms", "template", "--out", str(template)])
    assert made.exit_code == 0, made.output
    assert template.read_bytes()[:2] == b"PK"
