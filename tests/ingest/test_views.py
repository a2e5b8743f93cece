"""The imports page: ACD/CTI files uploaded through the real form and the API, imported in the
background, ending on their ledger entry; size limit, permissions, the ledger's pages."""

from __future__ import annotations

import io
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.ingest import service as ingest_service
from agentladder.ingest.models import ImportBatch, ImportJob
from agentladder.web.app import create_app
from tests.conftest import corpus_path
from tests.factories import csrf_token, login, make_agent, make_user

# file -> adapter detected, (read, accepted, rejected, ignored), stored rows by dataset
CORPUS = {
    ("queue_log", "pbxware", "queue_log.csv"): (
        "queue_log",
        (1000, 989, 0, 11),
        {"interactions": 578},
    ),
    ("cdr", "pbxware", "cdr.csv"): ("asterisk-cdr", (1000, 847, 0, 153), {"interactions": 847}),
    ("cdr", "freeswitch", "Master.csv"): ("freeswitch-cdr", (82, 12, 0, 70), {"interactions": 12}),
    ("calls_table", "Call-Center-Dataset.csv"): (
        "calls-table",
        (5000, 5000, 0, 0),
        {"interactions": 5000, "surveys": 4054},
    ),
}


def _client(settings: Settings, session: Session, role: str = "manager") -> TestClient:
    make_user(session, settings, role, [role])
    session.commit()
    return login(TestClient(create_app(settings)), role)


def _upload(client: TestClient, name: str, data: bytes, **fields: str) -> object:
    return client.post(
        "/imports/upload",
        data={"csrf_token": csrf_token(client, "/imports"), **fields},
        files={"file": (name, io.BytesIO(data), "text/csv")},
        follow_redirects=False,
    )


@pytest.mark.parametrize("parts", sorted(CORPUS))
def test_each_corpus_file_through_the_form_ends_on_its_ledger_entry(
    settings: Settings, session: Session, parts: tuple[str, ...]
) -> None:
    adapter, (read, accepted, rejected, ignored), stored = CORPUS[parts]
    client = _client(settings, session)
    path = corpus_path(*parts)
    sent = _upload(client, path.name, path.read_bytes())
    assert sent.status_code == 303  # type: ignore[attr-defined]
    job_url = sent.headers["location"]  # type: ignore[attr-defined]
    assert re.fullmatch(r"/imports/jobs/\d+", job_url)
    # The background import ran before the client got its answer: the job page sends the
    # browser on to the ledger entry.
    job_page = client.get(job_url, follow_redirects=False)
    assert job_page.status_code == 303
    entry_url = job_page.headers["location"]
    entry = client.get(entry_url)
    assert entry.status_code == 200
    batch = session.query(ImportBatch).one()
    assert (batch.adapter, batch.file_name) == (adapter, path.name)
    assert (batch.rows_read, batch.rows_accepted, batch.rows_rejected, batch.rows_ignored) == (
        read,
        accepted,
        rejected,
        ignored,
    )
    assert entry_url == f"/imports/{batch.id}?job={session.query(ImportJob).one().id}"
    # The sum as the page shows it (Chinese by default), numbers grouped.
    assert (
        f"读取 {read:,} 行 = 接受 {accepted:,} + 拒绝 {rejected:,} + 忽略 {ignored:,}" in entry.text
    )
    assert "自动识别" in entry.text  # the page says the adapter was detected, and why
    for dataset, rows in stored.items():
        table = ingest_service.read_dataset(session=session, settings=settings, dataset=dataset)
        assert table.num_rows == rows
    # The upload does not stay on disk once imported.
    assert not [p for p in (settings.data_dir / "uploads").glob("*/*") if p.is_file()]


def test_a_file_no_adapter_reads_fails_its_job_and_stores_nothing(
    settings: Settings, session: Session
) -> None:
    client = _client(settings, session)
    path = corpus_path("queue_log", "pbxware", "queues.csv")
    job_url = _upload(client, path.name, path.read_bytes()).headers["location"]  # type: ignore[attr-defined]
    page = client.get(job_url, follow_redirects=False)
    assert page.status_code == 200
    assert "queues.csv" in page.text
    assert 'role="alert"' in page.text
    assert 'http-equiv="refresh"' not in page.text  # finished: no more reloading
    job = client.get("/api" + job_url.removeprefix("")).json()
    assert (job["status"], job["finished"], job["batch_id"]) == ("failed", True, None)
    assert job["problem"]["params"] == {"file": "queues.csv"}
    assert session.query(ImportBatch).count() == 0


def test_the_adapter_and_mapping_chosen_by_hand_and_the_same_file_twice(
    settings: Settings, session: Session
) -> None:
    client = _client(settings, session)
    path = corpus_path("calls_table", "Call-Center-Dataset.csv")
    fields = {"adapter": "calls-table", "mapping": "call_center_dataset", "timezone": "UTC"}
    first = client.get(_upload(client, path.name, path.read_bytes(), **fields).headers["location"])  # type: ignore[attr-defined]
    assert first.status_code == 200
    batch = session.query(ImportBatch).one()
    # Read in UTC, not the centre's zone: 2021-01-01 09:12:58 UTC.
    assert batch.first_event_at is not None
    assert batch.first_event_at.isoformat().startswith("2021-01-01T09:12:58")
    again = client.get(_upload(client, path.name, path.read_bytes(), **fields).headers["location"])  # type: ignore[attr-defined]
    assert "导入过" in again.text  # "imported before: this is its ledger entry"
    assert session.query(ImportBatch).count() == 1


def test_form_options_are_checked_before_the_upload_is_kept(
    settings: Settings, session: Session
) -> None:
    client = _client(settings, session)
    refused = _upload(client, "x.csv", b"a,b\n", adapter="nope")
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert "nope" in refused.text  # type: ignore[attr-defined]
    bad_zone = _upload(client, "x.csv", b"a,b\n", timezone="Mars/Base")
    assert bad_zone.status_code == 422  # type: ignore[attr-defined]
    assert "Mars/Base" in bad_zone.text  # type: ignore[attr-defined]
    assert session.query(ImportJob).count() == 0
    assert not [p for p in (settings.data_dir / "uploads").glob("*/*") if p.is_file()]


def test_an_oversized_upload_is_refused_and_nothing_is_left(
    settings: Settings, session: Session
) -> None:
    make_user(session, settings, "boss", ["manager"])
    session.commit()
    small = settings.model_copy(update={"upload_max_mb": 1})
    client = login(TestClient(create_app(small)), "boss")
    big = b"1760000000|c1|support|NONE|ENTERQUEUE||138|1\n" * 30_000
    assert len(big) > 2**20
    page = _upload(client, "queue_log", big)
    assert page.status_code == 413  # type: ignore[attr-defined]
    assert "1 MB" in page.text  # type: ignore[attr-defined]
    api = client.post("/api/imports", files={"file": ("queue_log", io.BytesIO(big))})
    assert api.status_code == 413
    assert not [p for p in (settings.data_dir / "uploads").glob("*/*") if p.is_file()]
    assert session.query(ImportJob).count() == 0


def test_the_api_upload_returns_the_job_then_its_ledger_entry(
    settings: Settings, session: Session
) -> None:
    client = _client(settings, session)
    path = corpus_path("cdr", "freeswitch", "2001.csv")
    sent = client.post(
        "/api/imports",
        files={"file": (path.name, io.BytesIO(path.read_bytes()))},
        data={"adapter": "auto"},
    )
    assert sent.status_code == 202
    assert sent.json()["file_name"] == "2001.csv"
    job = client.get(sent.headers["location"]).json()
    assert (job["status"], job["adapter"]) == ("done", "freeswitch-cdr")
    assert job["detection"]["reason"] == "the lines are FreeSWITCH mod_cdr_csv records"
    assert job["batch"]["read"] == 12
    assert job["batch"]["ignored_by_reason"] == {"zero-second calls never answered": 3}
    assert job["links"]["ledger_entry"] == f"/imports/{job['batch_id']}"


def test_rejected_rows_download_as_csv(settings: Settings, session: Session) -> None:
    client = _client(settings, session)
    data = b"1760000000|c1|support|NONE|ENTERQUEUE||138|1\n=cmd|not a line\n"
    client.get(_upload(client, "queue_log", data, adapter="queue_log").headers["location"])  # type: ignore[attr-defined]
    batch = session.query(ImportBatch).one()
    assert batch.rows_rejected == 1
    csv_text = client.get(f"/imports/{batch.id}/rejected.csv").content.decode("utf-8-sig")
    header, row = csv_text.splitlines()[:2]
    assert header == "line,field,reason,raw"
    assert row.startswith("2,line,")
    assert "'=cmd" in row  # a spreadsheet will not run it


def test_an_agent_cannot_upload(settings: Settings, session: Session) -> None:
    agent = make_agent(session, employee_no="A0001")
    make_user(session, settings, "agent", ["agent"], agent=agent)
    session.commit()
    client = login(TestClient(create_app(settings)), "agent")
    data = b"1760000000|c1|support|NONE|ENTERQUEUE||138|1\n"
    page = client.post(
        "/imports/upload",
        files={"file": ("queue_log", io.BytesIO(data))},
        follow_redirects=False,
    )
    assert page.status_code == 403
    assert client.post("/api/imports", files={"file": ("q", io.BytesIO(data))}).status_code == 403
    assert session.query(ImportJob).count() == 0


def test_the_ledger_pages_and_its_bounds(settings: Settings, session: Session) -> None:
    client = _client(settings, session)
    for number in range(1, 121):
        session.add(
            ImportBatch(
                adapter="queue_log",
                file_name=f"file-{number:03d}.log",
                file_sha256=f"{number:064x}",
                rows_read=number,
                rows_accepted=number,
                rows_rejected=0,
                rows_ignored=0,
            )
        )
    session.commit()
    first = client.get("/imports")
    assert "file-120.log" in first.text
    assert "file-071.log" in first.text
    assert "file-070.log" not in first.text
    third = client.get("/imports?page=3")
    assert "file-020.log" in third.text
    assert "file-001.log" in third.text
    assert "file-021.log" not in third.text
    assert 'aria-current="page">3<' in third.text
    # Past the last page: the last page; out of bounds: refused.
    assert "file-001.log" in client.get("/imports?page=999").text
    assert client.get("/imports?page=0").status_code == 422
    assert client.get("/imports?page=99999999999").status_code == 422
    api = client.get("/api/imports", params={"page": 2}).json()
    assert [row["file_name"] for row in api][:1] == ["file-070.log"]
    assert len(api) == 50
    assert client.get("/api/imports", params={"page": 9}).json() == []
