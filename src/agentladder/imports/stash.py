"""Uploads waiting between their preview and their apply, one folder per importer."""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

from agentladder.errors import TooLarge
from agentladder.tabular import TableFileError

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # when the caller gives no limit of its own
RETENTION_S = 24 * 3600
_TOKEN = re.compile(r"^[0-9a-f]{64}$")
_KIND = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


def _folder(data_dir: Path, kind: str) -> Path:
    if not _KIND.match(kind):
        raise ValueError(f"not an importer kind: {kind!r}")
    return data_dir / "uploads" / kind


def check_size(size: int, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
    """TooLarge (413) for a file beyond the limit."""
    if size > max_bytes:
        raise TooLarge("the file is larger than {mb} MB", mb=max_bytes // 2**20)


def purge_uploads(*, data_dir: Path, older_than_s: float = RETENTION_S) -> int:
    """Delete stashed uploads (applied, refused or abandoned) older than the retention; how
    many files went."""
    folder = data_dir / "uploads"
    if not folder.exists():
        return 0
    cutoff = time.time() - older_than_s
    removed = 0
    for path in folder.glob("*/*"):
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def stash_upload(
    *,
    data_dir: Path,
    kind: str,
    data: bytes,
    file_name: str,
    max_bytes: int = MAX_UPLOAD_BYTES,
    retention_s: float = RETENTION_S,
) -> str:
    """Keep an uploaded file until it is applied (the token is the file's SHA-256); files
    stashed longer ago than the retention go first."""
    check_size(len(data), max_bytes)
    purge_uploads(data_dir=data_dir, older_than_s=retention_s)
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
