"""Files attached to an item: pictures an item's text shows, documents it refers to. Stored in
the data directory under a random name (the uploaded name is only shown and offered as the
download's name, never used as a path), limited in size and kind, served only to users who may
read the item."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.errors import Conflict, InvalidInput, NotFound, TooLarge
from agentladder.i18n import N_
from agentladder.knowledge.items import service as items_service
from agentladder.knowledge.models import KbAttachment

if TYPE_CHECKING:
    from agentladder.org.models import User

DIRECTORY = "knowledge-attachments"
MAX_BYTES = 10 * 1024 * 1024
MAX_PER_ITEM = 20
# Kinds by extension, with the signature the file must start with (None: text, no signature).
KINDS: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    ".webp": ("image/webp", (b"RIFF",)),
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
    ".xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (b"PK\x03\x04",),
    ),
    ".txt": ("text/plain; charset=utf-8", None),
    ".csv": ("text/csv; charset=utf-8", None),
}
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


@dataclass(frozen=True)
class StoredAttachment:
    """An attachment's file and how to serve it."""

    path: Path
    name: str
    media_type: str
    size_bytes: int

    @property
    def inline(self) -> bool:
        """Pictures are shown in the page; everything else is downloaded."""
        return self.media_type in IMAGE_TYPES


def _directory(data_dir: Path) -> Path:
    return data_dir / DIRECTORY


def clean_name(name: str) -> str:
    """The uploaded name without any folder part or control characters (for display only)."""
    base = PurePosixPath(name.replace("\\", "/")).name
    text = "".join(char for char in base if char.isprintable() and char not in '<>:"|?*').strip()
    if not text or text in (".", ".."):
        raise InvalidInput(N_("the file needs a name"))
    return text[:200]


def add_attachment(
    *, session: Session, data_dir: Path, item_id: int, by: User, name: str, data: bytes
) -> KbAttachment:
    """Attach a file to an item the user may edit (a name already attached is a Conflict)."""
    item = items_service.get_item_row(session=session, item_id=item_id, by=by)
    if not items_service.may_edit(item, by):
        raise NotFound(N_("knowledge item not found"))
    shown = clean_name(name)
    kind = KINDS.get(PurePosixPath(shown.lower()).suffix)
    if kind is None:
        raise InvalidInput(
            N_("a file of this kind is not attached; allowed: {kinds}"),
            kinds=", ".join(sorted(KINDS)),
        )
    if len(data) > MAX_BYTES:
        raise TooLarge(N_("an attachment is at most {megabytes} MB"), megabytes=MAX_BYTES // 2**20)
    if not data:
        raise InvalidInput(N_("the file is empty"))
    media_type, signatures = kind
    if signatures is not None and not data.startswith(signatures):
        raise InvalidInput(N_("the file's content is not what its name says"))
    if signatures is None:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(N_("a text attachment is saved as UTF-8")) from exc
    existing = session.scalars(select(KbAttachment.name).where(KbAttachment.item_id == item.id))
    names = set(existing)
    if shown in names:
        raise Conflict(N_("the item has a file named {name} already"), name=shown)
    if len(names) >= MAX_PER_ITEM:
        raise Conflict(N_("an item has at most {count} attachments"), count=MAX_PER_ITEM)
    stored_name = secrets.token_hex(16) + PurePosixPath(shown.lower()).suffix
    directory = _directory(data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / stored_name).write_bytes(data)
    attachment = KbAttachment(
        item_id=item.id,
        name=shown,
        stored_name=stored_name,
        media_type=media_type,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by_user_id=by.id,
    )
    session.add(attachment)
    session.flush()
    return attachment


def attachments(*, session: Session, item_id: int, by: User) -> list[KbAttachment]:
    """The item's attachments, when the user may read the item."""
    items_service.get_item_row(session=session, item_id=item_id, by=by)
    return list(
        session.scalars(
            select(KbAttachment).where(KbAttachment.item_id == item_id).order_by(KbAttachment.name)
        )
    )


def get_attachment(
    *, session: Session, data_dir: Path, item_id: int, attachment_id: int, by: User
) -> StoredAttachment:
    """An attachment's file, when the user may read its item (404 otherwise)."""
    items_service.get_item_row(session=session, item_id=item_id, by=by)
    row = session.get(KbAttachment, attachment_id)
    if row is None or row.item_id != item_id:
        raise NotFound(N_("attachment not found"))
    path = _directory(data_dir) / row.stored_name
    if not path.is_file():
        raise NotFound(N_("attachment not found"))
    return StoredAttachment(path, row.name, row.media_type, row.size_bytes)


def attachment_urls(item_id: int, rows: list[KbAttachment]) -> dict[str, str]:
    """Where each attachment of an item is served, by its name (the text refers to names)."""
    return {row.name: f"/knowledge/items/{item_id}/attachments/{row.id}" for row in rows}
