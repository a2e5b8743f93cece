"""The backup archive: a zip file whose manifest.json lists every other file with its size and
SHA-256. A zip, not a tar: a restore reads the manifest (and refuses a newer schema) without
decompressing the rest, and the manifest can be written last, once every checksum is known.
"""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO

from pydantic import ValidationError

from agentladder.errors import InvalidInput
from agentladder.operations.schemas import FORMAT_VERSION, ArchivedFile, BackupManifest

MANIFEST = "manifest.json"
CHUNK_BYTES = 1 << 20
# Called with (bytes done, bytes in all) while files are checked.
ByteProgress = Callable[[int, int], None]


def add_file(archive: zipfile.ZipFile, source: Path, name: str) -> ArchivedFile:
    """Copy a file into the archive, hashing exactly the bytes written."""
    digest = hashlib.sha256()
    size = 0
    # The file's permissions travel with it (the secret key is readable by its owner only).
    info = zipfile.ZipInfo.from_file(source, name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with source.open("rb") as src, archive.open(info, "w", force_zip64=True) as dest:
        while chunk := src.read(CHUNK_BYTES):
            digest.update(chunk)
            dest.write(chunk)
            size += len(chunk)
    return ArchivedFile(path=name, size_bytes=size, sha256=digest.hexdigest())


def write_manifest(archive: zipfile.ZipFile, manifest: BackupManifest) -> None:
    """Write the manifest (last: it lists the files' checksums)."""
    archive.writestr(MANIFEST, manifest.model_dump_json(indent=2))


@contextmanager
def open_archive(path: Path) -> Iterator[zipfile.ZipFile]:
    """The archive opened for reading, or a clear refusal of a file that is not one."""
    if not path.is_file():
        raise InvalidInput("there is no backup file at {path}", path=str(path))
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidInput(
            "{path} is not an agentladder backup (not a zip archive)", path=str(path)
        ) from exc
    with archive:
        yield archive


def read_manifest(archive: zipfile.ZipFile, path: Path) -> BackupManifest:
    """The archive's manifest, checked for a format this version reads."""
    try:
        raw = archive.read(MANIFEST)
    except KeyError as exc:
        raise InvalidInput(
            "{path} is not an agentladder backup (it has no manifest.json)", path=str(path)
        ) from exc
    except (zipfile.BadZipFile, zlib.error, OSError) as exc:
        raise InvalidInput(
            "{path}: the file {member} is damaged", path=str(path), member=MANIFEST
        ) from exc
    try:
        manifest = BackupManifest.model_validate_json(raw)
    except ValidationError as exc:
        raise InvalidInput(
            "{path}: manifest.json is not a backup manifest ({details})",
            path=str(path),
            details=_first_error(exc),
        ) from exc
    if manifest.format_version > FORMAT_VERSION:
        raise InvalidInput(
            "{path} was written in backup format {found}, newer than this version reads "
            "({known}): upgrade agentladder to restore it",
            path=str(path),
            found=manifest.format_version,
            known=FORMAT_VERSION,
        )
    for entry in manifest.files:
        _check_member_name(entry.path, path)
    return manifest


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else str(error["msg"])


def _check_member_name(name: str, path: Path) -> None:
    """Refuse names that would land outside the folder they are unpacked into."""
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or "\\" in name or not pure.parts:
        raise InvalidInput(
            "{path}: the archive names a file outside its folders: {member}",
            path=str(path),
            member=name,
        )


def verify(
    archive: zipfile.ZipFile,
    manifest: BackupManifest,
    path: Path,
    progress: ByteProgress | None = None,
) -> None:
    """Check that the archive holds exactly the manifest's files with their checksums; refuse
    naming the first file that differs."""
    listed = {entry.path for entry in manifest.files}
    present = {info.filename for info in archive.infolist() if not info.is_dir()} - {MANIFEST}
    for name in sorted(present - listed):
        raise InvalidInput(
            "{path}: the file {member} is not in the manifest", path=str(path), member=name
        )
    total = sum(entry.size_bytes for entry in manifest.files)
    done = 0
    for entry in manifest.files:
        if entry.path not in present:
            raise InvalidInput(
                "{path}: the file {member} listed in the manifest is missing",
                path=str(path),
                member=entry.path,
            )
        digest = hashlib.sha256()
        size = 0
        try:
            with archive.open(entry.path) as file:
                while chunk := file.read(CHUNK_BYTES):
                    digest.update(chunk)
                    size += len(chunk)
                    if progress is not None:
                        progress(done + size, total)
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            raise InvalidInput(
                "{path}: the file {member} is damaged", path=str(path), member=entry.path
            ) from exc
        if size != entry.size_bytes or digest.hexdigest() != entry.sha256:
            raise InvalidInput(
                "{path}: the file {member} does not match its checksum in the manifest",
                path=str(path),
                member=entry.path,
            )
        done += entry.size_bytes


def extract(archive: zipfile.ZipFile, name: str, target: Path) -> None:
    """Unpack one (verified) member to a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with archive.open(name) as src, target.open("wb") as dest:
        while chunk := src.read(CHUNK_BYTES):
            dest.write(chunk)
    mode = (archive.getinfo(name).external_attr >> 16) & 0o777
    if mode:
        target.chmod(mode)


def member(archive: zipfile.ZipFile, name: str) -> IO[bytes]:
    """A (verified) member opened for reading."""
    return archive.open(name)
