"""Uploads waiting between their preview and their apply, one folder per importer."""

from __future__ import annotations

import hashlib
import re
import time
import uuid
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


class UploadWriter:
    """An upload written to the stash chunk by chunk as it arrives, so that a file of
    gigabytes is never held in memory; past the size limit it is refused (413) and what was
    written goes."""

    def __init__(
        self, *, data_dir: Path, kind: str, max_bytes: int, retention_s: float = RETENTION_S
    ) -> None:
        purge_uploads(data_dir=data_dir, older_than_s=retention_s)
        self.folder = _folder(data_dir, kind)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.size_bytes = 0
        self._partial = self.folder / f"incoming-{uuid.uuid4().hex}"
        self._digest = hashlib.sha256()
        self._handle = self._partial.open("wb")

    def write(self, chunk: bytes) -> None:
        """Append a chunk; TooLarge (and nothing left on disk) once the file passes the limit."""
        self.size_bytes += len(chunk)
        try:
            check_size(self.size_bytes, self.max_bytes)
        except TooLarge:
            self.discard()
            raise
        self._digest.update(chunk)
        self._handle.write(chunk)

    def finish(self, file_name: str) -> str:
        """Keep the file under its token (its SHA-256, as `stash_upload` does)."""
        self._handle.close()
        token = self._digest.hexdigest()
        self._partial.replace(self.folder / token)
        (self.folder / f"{token}.name").write_text(Path(file_name).name or "upload", "utf-8")
        return token

    def discard(self) -> None:
        """Forget the upload (refused, or the request failed)."""
        self._handle.close()
        self._partial.unlink(missing_ok=True)


def upload_path(*, data_dir: Path, kind: str, token: str) -> Path:
    """Where a stashed upload is, or the error saying to upload it again."""
    path = _folder(data_dir, kind) / token
    if not _TOKEN.match(token) or not path.exists():
        raise TableFileError("the uploaded file is no longer available; upload it again")
    return path


def discard_upload(*, data_dir: Path, kind: str, token: str) -> None:
    """Delete a stashed upload once it has been used."""
    if _TOKEN.match(token):
        for path in (_folder(data_dir, kind) / token, _folder(data_dir, kind) / f"{token}.name"):
            path.unlink(missing_ok=True)
