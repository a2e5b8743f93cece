"""Uploads waiting between their preview and their apply, one folder per importer."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from agentladder.tabular import TableFileError

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
_TOKEN = re.compile(r"^[0-9a-f]{64}$")
_KIND = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


def _folder(data_dir: Path, kind: str) -> Path:
    if not _KIND.match(kind):
        raise ValueError(f"not an importer kind: {kind!r}")
    return data_dir / "uploads" / kind


def stash_upload(*, data_dir: Path, kind: str, data: bytes, file_name: str) -> str:
    """Keep an uploaded file until it is applied; the token is the file's SHA-256."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise TableFileError("the file is larger than {mb} MB", mb=MAX_UPLOAD_BYTES // 2**20)
    token = hashlib.sha256(data).hexdigest()
    folder = _folder(data_dir, kind)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / token).write_bytes(data)
    (folder / f"{token}.name").write_text(Path(file_name).name or kind, encoding="utf-8")
    return token


def load_upload(*, data_dir: Path, kind: str, token: str) -> tuple[bytes, str]:
    """The stashed file and its original name."""
    folder = _folder(data_dir, kind)
    if not _TOKEN.match(token) or not (folder / token).exists():
        raise TableFileError("the uploaded file is no longer available; upload it again")
    return (folder / token).read_bytes(), (folder / f"{token}.name").read_text(encoding="utf-8")
