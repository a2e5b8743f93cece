"""The import ledger: record a file applied or refused, find the same file imported before."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.imports.models import FileImport
from agentladder.imports.schemas import ImportPreview, ImportRecord, PreviousImport, RowPlan


def record_import(
    *, session: Session, preview: ImportPreview[RowPlan], applied: bool, user_id: int | None
) -> int:
    """Add the ledger row of a file applied (or refused: its rejected rows are kept)."""
    errors = preview.errors
    entry = FileImport(
        kind=preview.kind,
        file_name=preview.file_name[:255],
        file_sha256=preview.file_sha256,
        encoding=preview.encoding[:20],
        status="applied" if applied else "refused",
        rows_read=preview.rows_read,
        created=preview.count("create"),
        updated=preview.count("update"),
        unchanged=preview.count("unchanged"),
        rejected=len(
            {issue.row for issue in errors if issue.row not in (None, preview.header_row)}
        ),
        issues=[issue.model_dump(mode="json") for issue in preview.issues],
        imported_by_user_id=user_id,
    )
    session.add(entry)
    session.flush()
    return entry.id


def previous_import(*, session: Session, kind: str, file_sha256: str) -> PreviousImport | None:
    """The newest applied import of the same file, if any."""
    entry = session.scalars(
        select(FileImport)
        .where(
            FileImport.kind == kind,
            FileImport.file_sha256 == file_sha256,
            FileImport.status == "applied",
        )
        .order_by(FileImport.id.desc())
        .limit(1)
    ).first()
    if entry is None:
        return None
    return PreviousImport(import_id=entry.id, imported_at=entry.imported_at)


def list_imports(*, session: Session, kind: str, limit: int = 20) -> list[ImportRecord]:
    """The most recent files of one importer, newest first."""
    entries = session.scalars(
        select(FileImport)
        .where(FileImport.kind == kind)
        .order_by(FileImport.id.desc())
        .limit(limit)
    )
    return [ImportRecord.model_validate(entry, from_attributes=True) for entry in entries]
