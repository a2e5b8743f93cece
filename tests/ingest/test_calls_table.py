"""Per-call tables through the ledger, on the real Call-Center-Dataset.csv."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.ingest import service as ingest_service
from agentladder.ingest.datasets import dataset_dir
from agentladder.ingest.models import ImportBatch, RejectedRow
from agentladder.ingest.service import load_mapping, shipped_mapping
from agentladder.org import service as org_service
from tests.conftest import corpus_path
from tests.factories import make_agent

# Offered, answered, ASA (s) and mean satisfaction per agent, computed independently.
EXPECTED = {
    "Becky": (631, 517, 65.33, 3.37),
    "Dan": (633, 523, 67.28, 3.45),
    "Diane": (633, 501, 66.27, 3.41),
    "Greg": (624, 502, 68.44, 3.40),
    "Jim": (666, 536, 66.34, 3.39),
    "Joe": (593, 484, 70.99, 3.33),
    "Martha": (638, 514, 69.49, 3.47),
    "Stewart": (582, 477, 66.18, 3.40),
}


def _import(settings: Settings, data: bytes, name: str = "calls.csv", dry_run: bool = False):  # type: ignore[no-untyped-def]
    with session_scope(settings) as session:
        return ingest_service.import_file(
            session=session,
            settings=settings,
            adapter="calls-table",
            data=data,
            file_name=name,
            mapping=load_mapping(shipped_mapping("call_center_dataset")),
            dry_run=dry_run,
        )


@pytest.fixture
def corpus() -> bytes:
    return corpus_path("calls_table", "Call-Center-Dataset.csv").read_bytes()


def _per_agent(settings: Settings) -> dict[str, tuple[int, int, float, float]]:
    with session_scope(settings) as session:
        calls = ingest_service.read_dataset(
            session=session, settings=settings, dataset="interactions"
        )
        surveys = ingest_service.read_dataset(session=session, settings=settings, dataset="surveys")
    connection = duckdb.connect()
    connection.register("calls", calls)
    connection.register("surveys", surveys)
    rows = connection.sql(
        """
        SELECT c.agent_identity, count(*), count(*) FILTER (WHERE outcome = 'answered'),
               round(avg(wait_s) FILTER (WHERE outcome = 'answered'), 2),
               round((SELECT avg(score) FROM surveys s
                      WHERE s.agent_identity = c.agent_identity), 2)
        FROM calls c GROUP BY 1
        """
    ).fetchall()
    return {agent: (offered, answered, asa, sat) for agent, offered, answered, asa, sat in rows}


def test_corpus_per_agent_figures(settings: Settings, corpus: bytes) -> None:
    report = _import(settings, corpus)
    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (5000, 5000, 0)
    assert report.stored == {"interactions": 5000, "surveys": 4054}
    assert report.notes["encoding"] == "utf-8"  # the BOM is read, not part of the first header
    assert _per_agent(settings) == EXPECTED


def test_same_file_twice_is_a_no_op_and_overlaps_do_not_double_count(
    settings: Settings, corpus: bytes
) -> None:
    _import(settings, corpus)
    again = _import(settings, corpus)
    assert again.already_imported
    lines = corpus.decode("utf-8-sig").splitlines(keepends=True)
    overlap = "".join(
        lines[:1]
        + lines[4000:]
        + ["ID9999,Becky,2021-04-01,9:00:00,Streaming,Y,Y,30,0:01:00,5\r\n"]
    )
    report = _import(settings, overlap.encode(), "april.csv")
    assert report.rows_duplicate == 1001  # data lines 4001..5001
    assert report.stored["interactions"] == 1
    assert _per_agent(settings)["Becky"][:2] == (632, 518)
    with session_scope(settings) as session:
        assert session.scalar(select(func.count()).select_from(ImportBatch)) == 2


def test_dry_run_writes_nothing(settings: Settings, corpus: bytes) -> None:
    report = _import(settings, corpus, dry_run=True)
    assert report.stored["interactions"] == 5000
    assert not dataset_dir(settings, "interactions").exists()
    with session_scope(settings) as session:
        assert session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_bad_rows_are_kept_with_line_field_and_reason(settings: Settings, corpus: bytes) -> None:
    lines = corpus.decode("utf-8-sig").splitlines(keepends=True)
    lines[2] = lines[2].replace("9:12:58", "25:99:00")  # line 3
    lines[10] = lines[10].replace(",3\r\n", ",9\r\n")  # line 11: satisfaction 9 of 5
    lines[20] = ",,,,,,,,,\r\n"  # line 21: empty row
    report = _import(settings, "".join(lines).encode())
    assert [(r.line_no, r.field) for r in report.rejected] == [(3, "date"), (11, "satisfaction")]
    assert report.rows_ignored == 1
    assert report.rows_read == report.rows_accepted + report.rows_rejected + report.rows_ignored
    with session_scope(settings) as session:
        stored = session.scalars(select(RejectedRow).order_by(RejectedRow.line_no)).all()
        assert [(r.line_no, r.field) for r in stored] == [(3, "date"), (11, "satisfaction")]
        assert "25:99:00" in stored[0].raw


def test_a_failure_while_storing_leaves_nothing(settings: Settings, corpus: bytes) -> None:
    # A file where the surveys folder should be: writing surveys fails after interactions.
    blocker = dataset_dir(settings, "surveys")
    blocker.parent.mkdir(parents=True)
    blocker.write_text("not a folder")
    with pytest.raises(OSError):
        _import(settings, corpus)
    assert list(dataset_dir(settings, "interactions").glob("**/*.parquet")) == []
    with session_scope(settings) as session:
        assert session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_unmapped_identities_are_listed_until_mapped(
    settings: Settings, session: Session, corpus: bytes
) -> None:
    becky = make_agent(session, employee_no="200001", name="Rebecca Li")
    session.commit()
    report = _import(settings, corpus)
    assert ("Becky", 631) in report.unmapped_identities
    with session_scope(settings) as check:
        assert ("Becky", 631) in ingest_service.unmapped_identities(session=check)
    with session_scope(settings) as work:
        agent = org_service.get_agent_by_employee_no(session=work, employee_no=becky.employee_no)
        assert agent is not None
        org_service.add_alias(session=work, agent=agent, identity="Becky", source="crm")
    with session_scope(settings) as check:
        names = [identity for identity, _ in ingest_service.unmapped_identities(session=check)]
        assert "Becky" not in names
        assert len(names) == 7


def test_chinese_gbk_export_with_own_mapping(settings: Settings, tmp_path: Path) -> None:
    text = (
        "通话编号,坐席,日期,时间,是否接通,应答时长,通话时长,满意度\n"
        "C1,王芳,2026/10/08,09:00:01,是,12,0:03:10,5\n"
        "C2,王芳,2026/10/08,09:05:00,否,,,\n"
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns: {call_id: 通话编号, agent: 坐席, date: 日期, time: 时间, answered: 是否接通,"
        " wait_s: 应答时长, talk: 通话时长, satisfaction: 满意度}\n",
        encoding="utf-8",
    )
    with session_scope(settings) as session:
        report = ingest_service.import_file(
            session=session,
            settings=settings,
            adapter="calls-table",
            data=text.encode("gbk"),
            file_name="通话.csv",
            mapping=load_mapping(mapping),
        )
    assert (report.rows_accepted, report.stored["surveys"]) == (2, 1)
    with session_scope(settings) as session:
        calls = ingest_service.read_dataset(
            session=session, settings=settings, dataset="interactions"
        )
    rows = sorted(
        calls.select(["callid", "outcome", "talk_s"]).to_pylist(), key=lambda r: r["callid"]
    )
    assert rows == [
        {"callid": "C1", "outcome": "answered", "talk_s": 190.0},
        {"callid": "C2", "outcome": "unanswered", "talk_s": None},
    ]
    # Times are read in the centre's zone (Asia/Shanghai) and stored in UTC.
    first = min(calls["event_at"].to_pylist())
    assert (first.hour, first.minute) == (1, 0)
