"""External evidence import: CSV/XLSX from other tools, all-or-nothing, re-import replaces."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.external import service as external
from agentladder.external.models import ExternalEvidence
from agentladder.external.service import EvidenceImportReport, ExternalFact
from agentladder.org import service as org_service
from agentladder.tabular import TableFileError
from tests.factories import make_agent, make_team

GOOD = """工号,姓名,周期,指标,值,样本量
100001,王芳,2026-10,qa_score,88.5,12
100001,王芳,2026-10,qa_fatal_errors,0,12
Agent/8002,李强,2026年10月,exam_score,92,1
100002,李强,2026-Q4,kb_adopted,3,3
100001,王芳,2026/10,转接率,4.5%,310
"""


@pytest.fixture
def agents(session: Session) -> dict[str, int]:
    make_team(session, "T01", "客服一组")
    wang = make_agent(session, employee_no="100001", name="王芳", team_code="T01")
    li = make_agent(session, employee_no="100002", name="李强", team_code="T01")
    org_service.add_alias(session=session, agent=li, identity="Agent/8002")
    session.commit()
    return {"wang": wang.id, "li": li.id}


def _import(
    settings: Settings, data: bytes, name: str = "质检结果.csv", **kwargs: object
) -> EvidenceImportReport:
    with session_scope(settings) as session:
        return external.import_external_evidence(
            session=session,
            data=data,
            file_name=name,
            **kwargs,  # type: ignore[arg-type]
        )


def _facts(settings: Settings, period: str) -> list[ExternalFact]:
    with session_scope(settings) as session:
        return external.external_facts(session=session, period=period)


def _count(settings: Settings) -> int:
    with session_scope(settings) as session:
        return session.scalar(select(func.count()).select_from(ExternalEvidence)) or 0


def test_gbk_csv_with_chinese_headers(settings: Settings, agents: dict[str, int]) -> None:
    data = GOOD.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    report = _import(settings, data)
    assert report.applied, report.rejected
    assert (report.encoding, report.rows_read, report.stored) == ("gb18030", 5, 5)
    assert (report.replaced, report.unchanged, report.rejected) == (0, 0, [])
    assert report.source == "质检结果.csv"
    wang, li = agents["wang"], agents["li"]
    assert _facts(settings, "2026-10") == [
        (wang, "qa_fatal_errors", 0.0, 12, "质检结果.csv"),
        (wang, "qa_score", 88.5, 12, "质检结果.csv"),
        (wang, "transfer_rate", 0.045, 310, "质检结果.csv"),
        (li, "exam_score", 92.0, 1, "质检结果.csv"),
    ]
    assert _facts(settings, "2026-q4") == [(li, "kb_adopted", 3.0, 3, "质检结果.csv")]
    assert _facts(settings, "2026-11") == []


def test_xlsx_with_english_headers_and_month_cells(
    settings: Settings, agents: dict[str, int]
) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Agent", "Period", "Metric", "Value", "Sample size"])
    # Excel turns a typed 2026-10 into a date on the month's first day.
    sheet.append([100001, datetime(2026, 10, 1), "exam_score", 75, 2])
    sheet.append([100002, "2026Q3", "KB_CONTRIBUTION_POINTS", 14.0, 5])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = _import(settings, buffer.getvalue(), name="exams.xlsx", source="Exam system")
    assert report.applied, report.rejected
    assert report.columns == {
        "agent": "Agent",
        "period": "Period",
        "metric": "Metric",
        "value": "Value",
        "sample_size": "Sample size",
    }
    assert _facts(settings, "2026-10") == [(agents["wang"], "exam_score", 75.0, 2, "Exam system")]
    assert _facts(settings, "2026-Q3") == [
        (agents["li"], "kb_contribution_points", 14.0, 5, "Exam system")
    ]


def test_rejected_rows_are_named_and_nothing_is_stored(
    settings: Settings, agents: dict[str, int]
) -> None:
    text = (
        "工号,周期,指标,值,样本量\n"
        "100001,2026-10,qa_score,88,10\n"  # good
        "999999,2026-10,qa_score,88,10\n"  # nobody
        "100001,2026-10-08,exam_score,80,1\n"  # a day, not a month
        "100001,2026-10,charm,5,1\n"  # unknown metric
        "100001,2026-11,qa_score,abc,10\n"  # not a number
        "100001,2026-12,qa_score,120,10\n"  # above 100
        "100002,2026-10,qa_score,70,-1\n"  # negative sample
        "100002,2026-10,transfer_rate,45,100\n"  # a rate is a fraction
        "100002,2026-10,exam_score,80,2.5\n"  # not whole
        "100001,2026-10,QA_SCORE,90,11\n"  # row 2 again
        "100002,2026-10,offered,5,5\n"  # a queue KPI, not an agent's
    )
    report = _import(settings, text.encode())
    assert not report.applied
    assert [(r.row, r.column, r.value) for r in report.rejected] == [
        (3, "工号", "999999"),
        (4, "周期", "2026-10-08"),
        (5, "指标", "charm"),
        (6, "值", "abc"),
        (7, "值", "120"),
        (8, "样本量", "-1"),
        (9, "值", "45"),
        (10, "样本量", "2.5"),
        (11, "工号", "100001"),
        (12, "指标", "offered"),
    ]
    assert report.rejected[4].params == {"metric": "qa_score", "low": "0", "high": "100"}
    assert report.rejected[8].params == {"row": 2}
    assert report.rejected[4].text("zh_Hans") == "qa_score 必须介于 0 与 100 之间"
    assert _count(settings) == 0


def test_missing_columns_empty_file_and_unreadable_file(
    settings: Settings, agents: dict[str, int]
) -> None:
    report = _import(settings, "工号,周期,指标,值,备注\n100001,2026-10,qa_score,80,x\n".encode())
    assert [(r.row, r.column, r.message) for r in report.rejected] == [
        (1, "样本量", "required column is missing")
    ]
    assert [(w.column, w.message) for w in report.warnings] == [
        ("备注", "column not recognised; it is ignored")
    ]
    empty = _import(settings, "工号,周期,指标,值,样本量\n\n".encode())
    assert [r.message for r in empty.rejected] == ["the file has no data rows"]
    with pytest.raises(TableFileError):
        _import(settings, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, name="old.xls")
    assert _count(settings) == 0


def test_dry_run_counts_and_writes_nothing(settings: Settings, agents: dict[str, int]) -> None:
    report = _import(settings, GOOD.encode(), dry_run=True)
    assert (report.dry_run, report.applied, report.stored) == (True, False, 5)
    assert _count(settings) == 0
    assert "dry run: nothing written" in external.report_summary(report)


def test_reimport_is_unchanged_then_replaces(settings: Settings, agents: dict[str, int]) -> None:
    _import(settings, GOOD.encode())
    again = _import(settings, GOOD.encode())
    assert (again.applied, again.stored, again.replaced, again.unchanged) == (True, 0, 0, 5)
    corrected = "工号,周期,指标,值,样本量\n100001,2026-10,qa_score,90,14\n"
    report = _import(settings, corrected.encode(), name="qa-fix.csv")
    assert (report.stored, report.replaced, report.unchanged) == (0, 1, 0)
    assert (agents["wang"], "qa_score", 90.0, 14, "qa-fix.csv") in _facts(settings, "2026-10")
    assert _count(settings) == 5


def test_facts_between_periods(settings: Settings, agents: dict[str, int]) -> None:
    _import(settings, GOOD.encode())
    with session_scope(settings) as session:
        window = external.external_facts_between(
            session=session, periods=["2026-09", "2026-10", "2026-Q4"]
        )
    assert list(window) == ["2026-09", "2026-10", "2026-Q4"]
    assert window["2026-09"] == []
    assert len(window["2026-10"]) == 4
    assert window["2026-Q4"] == [(agents["li"], "kb_adopted", 3.0, 3, "质检结果.csv")]


def test_name_that_differs_is_a_warning(settings: Settings, agents: dict[str, int]) -> None:
    text = "工号,姓名,周期,指标,值,样本量\n100001,王小芳,2026-10,qa_score,80,9\n"
    report = _import(settings, text.encode())
    assert report.applied
    assert [(w.row, w.params) for w in report.warnings] == [(2, {"name": "王芳"})]


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("2026-10", "2026-10"),
        ("2026/1", "2026-01"),
        ("2026年10月", "2026-10"),
        ("202610", "2026-10"),
        ("2026-10-01", "2026-10"),
        ("2026-q4", "2026-Q4"),
        ("2026Q4", "2026-Q4"),
        ("2026 Q2", "2026-Q2"),
        ("2026年第四季度", "2026-Q4"),
        ("2026年3季度", "2026-Q3"),
    ],
)
def test_period_spellings(text: str, label: str) -> None:
    assert external.normalize_period(text) == label


@pytest.mark.parametrize("text", ["2026-W41", "2026-10-08", "2026-13", "Oct 2026", ""])
def test_periods_the_ladder_does_not_use(text: str) -> None:
    with pytest.raises(ValueError):
        external.normalize_period(text)


def test_accepted_metrics_are_ladder_metrics_and_agent_kpis() -> None:
    accepted = external.accepted_metrics()
    assert {"qa_score", "qa_fatal_errors", "exam_score", "kb_contribution_points"} <= set(accepted)
    assert {"handled_calls", "transfer_rate", "asa_s"} <= set(accepted)
    assert "service_level" not in accepted


def test_every_score_metric_keeps_its_bounds(settings: Settings, agents: dict[str, int]) -> None:
    # The exam score is declared by training, not by the external import: its 0-100 still holds.
    report = _import(
        settings, "工号,周期,指标,值,样本量\n100002,2026-10,exam_score,150,1\n".encode()
    )
    assert not report.applied
    assert [(r.row, r.column, r.value) for r in report.rejected] == [(2, "值", "150")]
    assert report.rejected[0].params == {"metric": "exam_score", "low": "0", "high": "100"}
