"""The QA forms and past-evaluations import pages: upload, preview, apply, template, export."""

from __future__ import annotations

import io
import re

import pytest
import yaml
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.quality import forms_io
from agentladder.quality import service as quality_service
from agentladder.quality.models import QaEvaluation, QaFormVersion
from agentladder.quality.schemas import FormSpec
from agentladder.web.app import create_app
from tests.factories import login, make_agent, make_user

FORM = quality_service.default_form()


@pytest.fixture
def client(settings: Settings) -> TestClient:
    with session_scope(settings) as session:
        make_agent(session, employee_no="A0001", name="王芳")
        make_user(session, settings, "qa1", ["qa"])
    return login(TestClient(create_app(settings)), "qa1")


def _count(settings: Settings, model: type) -> int:
    with session_scope(settings) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _apply_url(page: str, base: str) -> str:
    found = re.search(rf'action="({re.escape(base)}/[0-9a-f]{{64}}/apply)"', page)
    assert found, page[:2000]
    return found.group(1)


def test_a_form_is_exported_edited_in_a_sheet_previewed_and_imported(
    client: TestClient, settings: Settings
) -> None:
    page = client.get("/quality/forms/import")
    assert page.status_code == 200
    assert 'accept=".yaml,.yml,.xlsx,.csv"' in page.text
    assert "/quality/forms/export?form=default&amp;format=xlsx" in page.text
    template = client.get("/quality/forms/import/template")
    assert template.headers["content-type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(template.content)).worksheets[0].values)
    assert len(rows) == len(FORM.items()) + 1
    exported = client.get("/quality/forms/export", params={"format": "yaml"})
    assert exported.status_code == 200
    assert FormSpec.model_validate(yaml.safe_load(exported.content)) == FORM
    sheet = client.get("/quality/forms/export", params={"format": "xlsx"}).content
    preview = client.post(
        "/quality/forms/import",
        files={"file": ("form.xlsx", sheet, "application/octet-stream")},
    )
    assert preview.status_code == 200
    assert "<code>no_serious_wrong_answer</code>" in preview.text
    assert _count(settings, QaFormVersion) == 0
    applied = client.post(_apply_url(preview.text, "/quality/forms/import"), data={})
    assert applied.status_code == 200
    assert _count(settings, QaFormVersion) == 1
    listed = client.get("/quality/forms/import").text
    assert "<td>1</td>" in listed  # the stored version, no longer "as shipped"


def test_a_yaml_form_with_a_bad_weight_is_refused_on_the_page(
    client: TestClient, settings: Settings
) -> None:
    text = forms_io.form_yaml(FORM).replace("    weight: 25\n", "    weight: 35\n", 1)
    response = client.post(
        "/quality/forms/import", files={"file": ("form.yaml", text.encode(), "application/yaml")}
    )
    assert response.status_code == 422
    assert "110" in response.text
    assert "/apply" not in response.text
    assert _count(settings, QaFormVersion) == 0
    missing = client.get("/quality/forms/export", params={"form": "nope"})
    assert missing.status_code == 404


def test_past_evaluations_are_previewed_and_imported_on_the_page(
    client: TestClient, settings: Settings
) -> None:
    with session_scope(settings) as session:
        quality_service.save_form(session=session, spec=FORM)
    template = client.get("/quality/evaluations/import/template")
    headers = next(load_workbook(io.BytesIO(template.content)).worksheets[0].values)
    assert {"通话编号", "工号", "质检员", "basic_courtesy", "备注:basic_courtesy"} <= set(headers)
    codes = [item.code for item in FORM.items()]
    answers = [str(item.scale_max) if item.scale_max else "yes" for item in FORM.items()]
    body = (
        "通话编号,通话时间,工号,质检员,质检类型," + ",".join(codes) + "\n"
        "c-1,2026-09-01 09:30,A0001,qa1,coaching," + ",".join(answers) + "\n"
    ).encode()
    preview = client.post(
        "/quality/evaluations/import", files={"file": ("qa.csv", body, "text/csv")}
    )
    assert preview.status_code == 200
    assert "c-1" in preview.text
    assert "100.0" in preview.text
    applied = client.post(_apply_url(preview.text, "/quality/evaluations/import"), data={})
    assert applied.status_code == 200
    assert _count(settings, QaEvaluation) == 1


def test_agents_and_team_leads_have_no_qa_import_pages(settings: Settings) -> None:
    with session_scope(settings) as session:
        agent = make_agent(session, employee_no="A0009")
        make_user(session, settings, "agent1", ["agent"], agent=agent)
    client = login(TestClient(create_app(settings)), "agent1")
    assert client.get("/quality/forms/import").status_code == 403
    assert client.get("/quality/forms/export").status_code == 403
    assert client.get("/quality/evaluations/import").status_code == 403


def test_transcripts_are_previewed_and_the_readable_calls_imported_with_the_rest_rejected(
    client: TestClient, settings: Settings
) -> None:
    from agentladder.quality.models import CallTranscript

    page = client.get("/quality/transcripts/import")
    assert page.status_code == 200
    assert 'accept=".jsonl,.ndjson,.json,.csv,.tsv,.txt,.xlsx"' in page.text
    good = (
        '{"call_id": "t1", "agent": "A0001", "started_at": "2026-10-09T09:00:00+08:00", '
        '"turns": [{"speaker": "agent", "start_s": 0, "end_s": 3, "text": "您好，安信电器"}]}'
    )
    data = (good + "\n{broken\n").encode()
    preview = client.post(
        "/quality/transcripts/import",
        files={"file": ("t.jsonl", data, "application/jsonl")},
    )
    assert preview.status_code == 200
    assert "该行不是 JSON" in preview.text
    assert "其余行照常导入" in preview.text
    assert _count(settings, CallTranscript) == 0
    applied = client.post(_apply_url(preview.text, "/quality/transcripts/import"), data={})
    assert applied.status_code == 200
    assert "其余行已导入" in applied.text
    assert _count(settings, CallTranscript) == 1
    ledger = client.get("/quality/transcripts/import").text
    assert "t.jsonl" in ledger
