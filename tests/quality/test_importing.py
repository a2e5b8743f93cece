"""Past evaluations imported through the pipeline: scored on their form version, stored
submitted with an audit entry, duplicates skipped, bad rows named, re-imports recognised."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from agentladder.cli import app
from agentladder.config import Settings
from agentladder.imports import service as imports_service
from agentladder.imports.spec import CellError
from agentladder.org import service as org_service
from agentladder.periods import period_of
from agentladder.quality import importing
from agentladder.quality import service as quality_service
from agentladder.quality.models import QaAuditEntry, QaCalibrationSession, QaEvaluation
from agentladder.quality.schemas import FormItem
from agentladder.quality.scoring import score_call
from tests.factories import make_agent, make_user

FIXTURE = Path(__file__).parent / "data" / "evaluations.csv"
FORM = quality_service.default_form()
ZONE = ZoneInfo("Asia/Shanghai")


def _centre(session: Session, settings: Settings) -> None:
    quality_service.save_form(session=session, spec=FORM)
    make_agent(session, employee_no="E90001", name="王芳")
    second = make_agent(session, employee_no="E90002", name="李娜")
    org_service.add_alias(session=session, agent=second, identity="8002")
    for username in ("qa1", "qa2"):
        make_user(session, settings, username, ["qa"])


def _import(session: Session, data: bytes, name: str = "history.csv", **options: object):  # type: ignore[no-untyped-def]
    return importing.import_evaluations(
        session=session, data=data, file_name=name, zone=ZONE, **options
    )


def _errors(result) -> list[tuple[int | None, str | None, str]]:  # type: ignore[no-untyped-def]
    return sorted(
        ((i.row, i.column, i.text("en")) for i in result.preview.errors), key=lambda e: e[0] or 0
    )


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    names = list(dict.fromkeys(name for row in rows for name in row))
    writer = csv.DictWriter(out, fieldnames=names)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _row(**cells: str) -> dict[str, str]:
    """A valid row of the default form (every item passed), with some cells changed."""
    row = {
        "call id": "c-1",
        "call time": "2026-09-01 09:30",
        "agent": "E90001",
        "evaluator": "qa1",
        "form": "default",
    }
    row |= {item.code: "4" if item.kind == "scale" else "yes" for item in FORM.items()}
    return row | cells


# --- the fixture file ----------------------------------------------------------------------------


def test_the_fixture_history_imports_scored_on_its_form_with_an_audit_entry(
    session: Session, settings: Settings
) -> None:
    _centre(session, settings)
    data = FIXTURE.read_bytes()
    dry = _import(session, data, "evaluations.csv", dry_run=True)
    assert dry.preview.errors == []
    assert _count(session, QaEvaluation) == 0
    result = _import(session, data, "evaluations.csv")
    assert result.applied
    assert (result.preview.rows_read, result.preview.count("create")) == (6, 6)
    evaluations = list(session.scalars(select(QaEvaluation).order_by(QaEvaluation.id)))
    assert [e.kind for e in evaluations] == [
        "official",
        "coaching",
        "official",
        "official",
        "calibration",
        "calibration",
    ]
    assert {e.status for e in evaluations} == {"submitted"}
    # Each points at its file's row in the import ledger.
    session.expire_all()
    assert {e.file_import_id for e in evaluations} == {result.import_id}
    assert result.import_id is not None
    for evaluation in evaluations:
        expected = score_call(FORM, json.loads(evaluation.answers_json))
        assert evaluation.overall == pytest.approx(expected.overall)
        assert evaluation.fatal == expected.fatal
        assert evaluation.scores_json == expected.model_dump_json()
    fatal = evaluations[2]
    assert (fatal.overall, fatal.fatal) == (0, True)
    assert json.loads(fatal.comments_json) == {
        "no_customer_loss": "多收了月费 overcharged the monthly fee"
    }
    assert json.loads(evaluations[1].comments_json) == {"calming": "客户情绪未安抚"}
    # Not applicable and a scale's middle answer, read as the item takes them.
    answers = json.loads(evaluations[3].answers_json)
    assert (answers["calming"], answers["adaptability"], answers["listening"]) == (
        None,
        None,
        False,
    )
    # Local call times are the centre's; an offset wins; evaluated: the call time when empty.
    assert evaluations[0].call_at == datetime(2026, 9, 1, 1, 30, tzinfo=UTC)
    assert evaluations[0].submitted_at == evaluations[0].call_at
    assert evaluations[1].submitted_at == datetime(2026, 9, 3, 8, 0, tzinfo=UTC)
    assert evaluations[3].call_at == datetime(2026, 9, 4, 0, 0, tzinfo=UTC)
    assert evaluations[3].agent_id == org_service.resolve_identity(session=session, identity="8002")
    # The calibration session is created by its code; the anchor is marked.
    calibration = session.scalar(select(QaCalibrationSession))
    assert calibration is not None
    assert calibration.code == "CAL-2026-09"
    assert calibration.form_version_id == evaluations[0].form_version_id
    assert [(e.calibration_session_id, e.is_anchor) for e in evaluations[4:]] == [
        (calibration.id, False),
        (calibration.id, True),
    ]
    audits = list(session.scalars(select(QaAuditEntry).order_by(QaAuditEntry.id)))
    assert [(a.evaluation_id, a.action) for a in audits] == [
        (e.id, "imported") for e in evaluations
    ]
    assert json.loads(audits[0].changes_json) == {
        "file": "evaluations.csv",
        "sha256": result.preview.file_sha256,
        "row": 2,
    }


def test_a_second_import_of_the_same_file_is_recognised_and_skips_every_row(
    session: Session, settings: Settings
) -> None:
    _centre(session, settings)
    first = _import(session, FIXTURE.read_bytes())
    again = _import(session, FIXTURE.read_bytes())
    assert again.applied
    assert again.preview.previous_import is not None
    assert again.preview.previous_import.import_id == first.import_id
    assert (again.preview.count("create"), again.preview.count("unchanged")) == (0, 6)
    assert _count(session, QaEvaluation) == 6
    assert _count(session, QaCalibrationSession) == 1
    # An overlapping file: the stored evaluation is skipped, the new one stored.
    overlap = _csv(
        [
            _row(**{"call id": "1790000001.11"}),  # qa1, default v1: stored already
            _row(**{"call id": "1790000001.11", "evaluator": "qa2"}),
        ]
    )
    result = _import(session, overlap, "more.csv")
    assert (result.preview.count("create"), result.preview.count("unchanged")) == (1, 1)
    assert _count(session, QaEvaluation) == 7
    ledger = imports_service.list_imports(session=session, kind="qa_evaluations")
    assert [(r.created, r.unchanged) for r in ledger] == [(1, 1), (0, 6), (6, 0)]


def test_imported_official_evaluations_make_the_periods_qa_scores(
    session: Session, settings: Settings
) -> None:
    _centre(session, settings)
    _import(session, FIXTURE.read_bytes())
    scores = quality_service.period_scores(
        session=session, period=period_of("month", date(2026, 9, 1)), zone=ZONE
    )
    # Coaching and calibration evaluations never count.
    assert {(a.agent, a.evaluations, a.fatal_errors) for a in scores.agents} == {
        ("E90001", 2, 1),
        ("E90002", 1, 0),
    }


def test_an_xlsx_history_imports_like_a_csv(session: Session, settings: Settings) -> None:
    _centre(session, settings)
    rows = list(csv.reader(io.StringIO(FIXTURE.read_text(encoding="utf-8"))))
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = _import(session, buffer.getvalue(), "history.xlsx", dry_run=True)
    assert result.preview.errors == []
    assert result.preview.count("create") == 6


# --- refusals ------------------------------------------------------------------------------------


def test_bad_rows_are_rejected_with_row_column_and_reason_and_nothing_is_written(
    session: Session, settings: Settings
) -> None:
    _centre(session, settings)
    data = _csv(
        [
            _row(agent="E99999"),
            _row(evaluator="nobody"),
            _row(basic_courtesy="maybe"),
            _row(tone_voice="7"),
            _row(no_illegal_act=""),
            _row(form="other"),
            _row(version="9"),
            _row(kind="calibration"),
            _row(**{"call time": "yesterday"}),
            _row(),
            _row(),  # the same call, evaluator and form version as the row above
            _row(**{"call id": "c-2", "kind": "coaching"}),
        ]
    )
    result = _import(session, data)
    assert not result.applied
    assert _errors(result) == [
        (2, "agent", "no agent has this employee number or ACD identity"),
        (3, "evaluator", "no user has this user name"),
        (4, "basic_courtesy", "write yes, no or na"),
        (5, "tone_voice", "write a whole number from 0 to 4, or na"),
        (6, "no_illegal_act", "item no_illegal_act cannot be not applicable"),
        (7, "form", "no form other is stored: import it first (quality forms import)"),
        (8, "version", "form default has no version 9"),
        (9, "session", "a calibration evaluation needs its calibration session"),
        (10, "call time", "not a date and time (write 2024-03-01 10:15)"),
        (12, "call id", "the same call, evaluator and form version also appear in row 11"),
    ]
    assert _count(session, QaEvaluation) == 0
    assert _count(session, QaAuditEntry) == 0
    ledger = imports_service.list_imports(session=session, kind="qa_evaluations")
    assert [(r.status, r.rejected) for r in ledger] == [("refused", 10)]


def test_each_row_is_read_on_its_own_form_version(session: Session, settings: Settings) -> None:
    _centre(session, settings)
    agent = org_service.get_agent_by_employee_no(session=session, employee_no="E90001")
    assert agent is not None
    first = quality_service.current_form_version(session=session, code="default")
    assert first is not None
    # An evaluation on version 1, then the form without `recording_review`: version 2.
    _import(session, _csv([_row(**{"call id": "old"})]))
    process = FORM.sections[3]
    shorter = FORM.model_copy(
        update={
            "sections": [
                *FORM.sections[:3],
                process.model_copy(update={"items": process.items[:-1]}),
                *FORM.sections[4:],
            ]
        }
    )
    second = quality_service.save_form(session=session, spec=shorter)
    assert second.version == 2
    result = _import(
        session,
        _csv(
            [
                _row(**{"call id": "a", "version": "1"}),
                _row(**{"call id": "b", "version": "2", "recording_review": "no"}),
                _row(**{"call id": "c", "recording_review": ""}),  # latest: no such item, empty
            ]
        ),
    )
    assert _errors(result) == [
        (3, "recording_review", "form default version 2 has no item recording_review")
    ]
    fixed = _import(
        session,
        _csv(
            [
                _row(**{"call id": "a", "version": "1"}),
                _row(**{"call id": "c", "recording_review": ""}),
            ]
        ),
    )
    assert fixed.applied
    assert [(r.call_id, r.version) for r in fixed.preview.rows] == [("a", 1), ("c", 2)]


def test_an_anchor_twice_for_one_call_and_an_anchor_outside_calibration_are_refused(
    session: Session, settings: Settings
) -> None:
    _centre(session, settings)
    data = _csv(
        [
            _row(**{"call id": "k", "calibration session": "S1", "anchor": "yes"}),
            _row(
                **{"call id": "k", "calibration session": "S1", "anchor": "yes", "evaluator": "qa2"}
            ),
            _row(**{"call id": "m", "anchor": "yes"}),
        ]
    )
    result = _import(session, data)
    assert _errors(result) == [
        (3, "anchor", "the session's anchor evaluation of this call is also in row 2"),
        (4, "anchor", "only a calibration evaluation is an anchor"),
    ]


# --- the answer parser ---------------------------------------------------------------------------

YES_NO = FormItem(code="y", zh="是否", en="yes/no", weight=1)


def _scale(maximum: int) -> FormItem:
    return FormItem(code="s", zh="量表", en="scale", weight=1, kind="scale", scale_max=maximum)


def _spelled(word: str, draw_case: st.DataObject) -> str:
    cased = "".join(
        c.upper() if draw_case.draw(st.booleans()) else c for c in word
    )  # any case, spaces around
    return (
        draw_case.draw(st.sampled_from(["", " ", "  "]))
        + cased
        + draw_case.draw(st.sampled_from(["", " ", "\t"]))
    )


@given(st.data())
def test_every_yes_no_and_na_spelling_reads_as_its_answer(data: st.DataObject) -> None:
    word = data.draw(st.sampled_from(sorted(importing.YES_WORDS)))
    assert importing.parse_answer(YES_NO, _spelled(word, data)) is True
    word = data.draw(st.sampled_from(sorted(importing.NO_WORDS)))
    assert importing.parse_answer(YES_NO, _spelled(word, data)) is False
    word = data.draw(st.sampled_from(sorted(importing.NA_WORDS)))
    assert importing.parse_answer(YES_NO, _spelled(word, data)) is None
    assert importing.parse_answer(_scale(3), _spelled(word, data)) is None


@given(maximum=st.integers(1, 10), data=st.data())
def test_a_scale_takes_whole_numbers_up_to_its_maximum(maximum: int, data: st.DataObject) -> None:
    value = data.draw(st.integers(0, maximum))
    text = data.draw(st.sampled_from([str(value), f"{value}.0", f" {value} ", f"+{value}"]))
    assert importing.parse_answer(_scale(maximum), text) == value
    beyond = data.draw(st.integers(maximum + 1, 1000))
    with pytest.raises(CellError):
        importing.parse_answer(_scale(maximum), str(beyond))
    with pytest.raises(CellError):
        importing.parse_answer(_scale(maximum), f"-{value + 1}")
    with pytest.raises(CellError):
        importing.parse_answer(_scale(maximum), f"{value}.5")


@given(text=st.text(max_size=12), maximum=st.integers(1, 10))
def test_any_text_is_an_answer_the_item_takes_or_a_cell_error(text: str, maximum: int) -> None:
    for item in (YES_NO, _scale(maximum)):
        refusal = None
        try:
            answer = importing.parse_answer(item, text)
        except CellError as error:
            refusal = error.message
        if refusal is not None:
            assert refusal in {
                "write yes, no or na",
                "write a whole number from 0 to {maximum}, or na",
            }
            continue
        # Whatever reads scores: score_call takes it (N/A allowed on these items).
        score_call(
            FORM.model_copy(
                update={
                    "sections": [
                        FORM.sections[0].model_copy(update={"items": [item], "weight": 100})
                    ]
                }
            ),
            {item.code: answer},
        )


@given(text=st.text(max_size=25))
def test_a_call_time_is_a_datetime_or_a_cell_error(text: str) -> None:
    try:
        value = importing.datetime_cell(text)
    except CellError:
        return
    assert isinstance(value, datetime)


# --- the command ---------------------------------------------------------------------------------


def test_the_evaluations_import_command(cli_env: Settings, tmp_path: Path) -> None:
    from agentladder.db import session_scope

    with session_scope(cli_env) as session:
        _centre(session, cli_env)
    runner = CliRunner()
    dry = runner.invoke(app, ["quality", "evaluations", "import", str(FIXTURE), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "6 imported" in dry.output
    assert "dry run: nothing written" in dry.output
    done = runner.invoke(app, ["quality", "evaluations", "import", str(FIXTURE)])
    assert done.exit_code == 0, done.output
    again = runner.invoke(app, ["quality", "evaluations", "import", str(FIXTURE)])
    assert again.exit_code == 0, again.output
    assert "6 already stored (skipped)" in " ".join(again.output.split())
    assert "this file was imported before" in again.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv([_row(agent="E99999")]))
    refused = runner.invoke(app, ["quality", "evaluations", "import", str(bad)])
    assert refused.exit_code == 1
    assert "nothing imported" in refused.output
