"""Uploads have a size limit, and do not stay in the data directory forever."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.imports import stash
from agentladder.web.app import create_app
from tests.factories import csrf_token, login, make_user


def _client(settings: Settings, session: Session) -> TestClient:
    make_user(session, settings, "boss", ["manager"])
    session.commit()
    small = settings.model_copy(update={"upload_max_mb": 1})
    return login(TestClient(create_app(small)), "boss")


def test_a_file_past_the_limit_is_refused_on_the_page_and_the_api(
    settings: Settings, session: Session
) -> None:
    boss = _client(settings, session)
    big = ("工号,姓名,入职日期,班组\n" + "100001,王芳,2024-03-01,T01\n" * 80_000).encode()
    assert len(big) > 2**20
    page = boss.post(
        "/roster/import",
        data={"csrf_token": csrf_token(boss, "/roster/import")},
        files={"file": ("big.csv", io.BytesIO(big), "text/csv")},
    )
    assert page.status_code == 413
    assert "1 MB" in page.text
    api = boss.post("/api/roster/import", files={"file": ("big.csv", io.BytesIO(big))})
    assert api.status_code == 413
    assert not list((settings.data_dir / "uploads").glob("*/*"))


def test_old_uploads_go_when_a_new_one_comes(tmp_path: Path) -> None:
    old = stash.stash_upload(data_dir=tmp_path, kind="roster", data=b"old", file_name="a.csv")
    two_days_ago = time.time() - 48 * 3600
    for path in (tmp_path / "uploads" / "roster").glob(f"{old}*"):
        os.utime(path, (two_days_ago, two_days_ago))
    new = stash.stash_upload(
        data_dir=tmp_path, kind="certifications", data=b"new", file_name="b.csv"
    )
    left = sorted(path.name for path in (tmp_path / "uploads").glob("*/*"))
    assert left == sorted([new, f"{new}.name"])
