"""What an import reports, the same for every importer: problems, planned rows, the result."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from agentladder.config import Language
from agentladder.i18n import N_, translate

RowAction = Literal["create", "update", "unchanged"]
ACTION_NAMES: dict[str, str] = {
    "create": N_("New"),
    "update": N_("Changed"),
    "unchanged": N_("Unchanged"),
}


class ImportIssue(BaseModel):
    """A problem with one cell, row or the whole file (row 1 is the header, None the file);
    an error rejects the file, a warning does not."""

    row: int | None
    column: str | None
    message: str  # an English msgid; `params` fill its placeholders
    value: str | None = None
    severity: Literal["error", "warning"] = "error"
    params: dict[str, object] = Field(default_factory=dict)

    def text(self, language: Language = "en") -> str:
        """The reason in the reader's language."""
        return translate(language, self.message, **self.params)


class RowPlan(BaseModel):
    """What importing one row does; each importer adds the fields it shows."""

    row: int
    action: RowAction
    changes: dict[str, tuple[str, str]] = Field(default_factory=dict)  # field -> (old, new)


RowT = TypeVar("RowT", bound=RowPlan)


class PreviousImport(BaseModel):
    """The same file (same SHA-256) applied before."""

    import_id: int
    imported_at: datetime


class ImportPreview(BaseModel, Generic[RowT]):
    """What importing a file would do, row by row, and every problem found."""

    kind: str = ""
    file_name: str
    file_sha256: str
    encoding: str
    columns: dict[str, str]  # field -> the file's header for it
    rows_read: int
    header_row: int | None = 1  # None: a file without a header row
    rows: list[RowT]
    issues: list[ImportIssue]
    previous_import: PreviousImport | None = None

    @property
    def errors(self) -> list[ImportIssue]:
        """The problems that reject the file."""
        return [issue for issue in self.issues if issue.severity == "error"]

    @property
    def file_errors(self) -> list[ImportIssue]:
        """The errors about the whole file or its header, not about one of its rows."""
        return [issue for issue in self.errors if issue.row in (None, self.header_row)]

    @property
    def warnings(self) -> list[ImportIssue]:
        """The problems that do not stop the import."""
        return [issue for issue in self.issues if issue.severity == "warning"]

    def count(self, action: str) -> int:
        """How many rows the import would create, update or leave unchanged."""
        return sum(1 for row in self.rows if row.action == action)


class ImportResult(BaseModel, Generic[RowT]):
    """What an import did: applied (all rows) or not (a dry run, or a file with errors)."""

    applied: bool
    dry_run: bool = False
    preview: ImportPreview[RowT]
    import_id: int | None = None  # the ledger row of an applied or refused file


class ImportRecord(BaseModel):
    """One ledger row: a file applied or refused, with its counts and rejected rows."""

    id: int
    kind: str
    file_name: str
    file_sha256: str
    encoding: str
    status: Literal["applied", "refused"]
    rows_read: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    issues: list[ImportIssue]
    imported_at: datetime
    imported_by_user_id: int | None
