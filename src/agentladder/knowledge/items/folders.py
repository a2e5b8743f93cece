"""Library items in from a folder of Markdown item files, the library's own format
(`knowledge.markdown`, one item a file): the rules of `knowledge.items.importing` (which item a
file is, what a revision is, published without points, all or nothing), a file's problems named
by its path, line and front matter field."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from agentladder.config import Language
from agentladder.db import utcnow
from agentladder.errors import InvalidInput
from agentladder.i18n import N_, translate
from agentladder.imports import service as ledger
from agentladder.imports.schemas import (
    ImportIssue,
    ImportPreview,
    PreviousImport,
)
from agentladder.imports.spec import (
    CellError,
)
from agentladder.knowledge.items.importing import (
    KIND,
    SECTION_HEADING,
    ItemFields,
    ItemInput,
    ItemRowPlan,
    item_input,
    link_to_import,
    parse_category,
    parse_item_type,
    parse_slug,
    plan_inputs,
    section_name,
    short_text,
    split_labels,
    store_planned,
)
from agentladder.knowledge.markdown import ItemFileError, read_item_file
from agentladder.knowledge.schemas import ItemType
from agentladder.org import service as org_service
from agentladder.tabular import TableFileError, decode_csv_bytes

if TYPE_CHECKING:
    from collections.abc import Callable

    from agentladder.org.models import User

FRONT_MATTER_KEYS = (
    "slug",
    "type",
    "title",
    "title_en",
    "category",
    "tags",
    "products",
    "queues",
    "author",
)
_KEY_LINE = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:")


class ItemFileIssue(BaseModel):
    """A problem with one Markdown file: its path in the folder, the line (None: the whole
    file), the front matter field or section; an error rejects the folder, a warning not."""

    file: str
    line: int | None
    field: str | None
    message: str  # an English msgid; `params` fill its placeholders
    value: str | None = None
    severity: Literal["error", "warning"] = "error"
    params: dict[str, object] = Field(default_factory=dict)

    def text(self, language: Language = "en") -> str:
        """The reason in the reader's language."""
        return translate(language, self.message, **self.params)


class ItemFilePlan(ItemRowPlan):
    """What importing one file does; `row` is the file's place in the folder's sorted list."""

    file: str


class FolderImportResult(BaseModel):
    """What a folder import did: applied (every file) or not (a dry run, or a rejected file)."""

    folder: str
    files_read: int
    files: list[ItemFilePlan]
    issues: list[ItemFileIssue]
    applied: bool
    dry_run: bool = False
    import_id: int | None = None  # the ledger entry of an applied or refused folder
    previous_import: PreviousImport | None = None  # the same files imported before

    @property
    def errors(self) -> list[ItemFileIssue]:
        """The problems that reject the folder."""
        return [issue for issue in self.issues if issue.severity == "error"]

    @property
    def warnings(self) -> list[ItemFileIssue]:
        """The problems that do not stop the import."""
        return [issue for issue in self.issues if issue.severity == "warning"]

    @property
    def rejected(self) -> int:
        """How many files have an error."""
        return len({issue.file for issue in self.errors})

    def count(self, action: str) -> int:
        """How many files the import creates, updates or leaves unchanged."""
        return sum(1 for plan in self.files if plan.action == action)


@dataclass
class _ReadFile:
    path: str  # relative to the folder, with /
    lines: dict[str, int]  # front matter key or section -> its line


class _FileReports:
    """A folder's problems, by file, line and field; and the files read."""

    def __init__(self) -> None:
        self.files: dict[int, _ReadFile] = {}
        self.issues: list[ItemFileIssue] = []
        self._failed: set[int] = set()

    def add(
        self,
        position: int,
        line: int | None,
        name: str | None,
        message: str,
        value: str | None = None,
        severity: Literal["error", "warning"] = "error",
        **params: Any,
    ) -> None:
        self.issues.append(
            ItemFileIssue(
                file=self.files[position].path,
                line=line,
                field=name,
                message=message,
                value=value,
                severity=severity,
                params=params,
            )
        )
        if severity == "error":
            self._failed.add(position)

    def report(
        self, position: int, name: str, message: str, value: str | None = None, **params: Any
    ) -> None:
        lines = self.files[position].lines
        line = lines.get(name) or lines.get("body")
        self.add(position, line, name, message, value, **params)

    def duplicate(self, position: int, first: int, name: str, value: str) -> None:
        other = self.files[first].path
        self.report(position, name, N_("the same item is also in {file}"), value, file=other)

    def failed(self, position: int) -> bool:
        return position in self._failed


def _field_lines(text: str) -> dict[str, int]:
    """Where each front matter key, each case section and the body start (1-based lines)."""
    lines = text.removeprefix("\ufeff").splitlines()
    found: dict[str, int] = {}
    after = 1  # the line after the front matter
    for number, line in enumerate(lines[1:], start=2):
        if line.rstrip() == "---":
            after = number + 1
            break
        key = _KEY_LINE.match(line)
        if key:
            found.setdefault(key.group(1), number)
    below = list(enumerate(lines[after - 1 :], start=after))
    for number, line in below:
        heading = SECTION_HEADING.match(line)
        name = section_name(heading.group(1)) if heading else None
        if name is not None:
            found.setdefault(name, number)
    # The body's problems point at its first line of text.
    found["body"] = next((number for number, line in below if line.strip()), after)
    return found


def _meta_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        raise CellError(N_("must be text"))
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _meta_labels(value: object) -> list[str]:
    if isinstance(value, list):
        return list(dict.fromkeys(" ".join(_meta_text(part).split()) for part in value))
    return split_labels(_meta_text(value))


def _meta_fields(
    position: int, meta: Mapping[str, Any], body: str, reports: _FileReports
) -> ItemFields:
    """The values of a file's front matter (problems reported, their field left empty)."""
    for key in meta:
        if str(key) not in FRONT_MATTER_KEYS:
            line = reports.files[position].lines.get(str(key))
            message = N_("unknown field: it is ignored")
            reports.add(position, line, str(key), message, None, "warning")

    def read(name: str, parse: Callable[[object], Any], empty: Any) -> Any:
        if meta.get(name) is None:
            return empty
        try:
            return parse(meta[name])
        except CellError as error:
            shown = error.value if error.value is not None else short_text(str(meta[name]))
            reports.report(position, name, error.message, shown, **error.params)
            return empty

    def category(value: object) -> str:
        if isinstance(value, list):
            return parse_category("/".join(_meta_text(part) for part in value))
        return parse_category(_meta_text(value))

    def item_type(value: object) -> ItemType:
        text = _meta_text(value)
        return parse_item_type(text) if text else "article"

    def slug(value: object) -> str | None:
        text = _meta_text(value)
        return parse_slug(text) if text else None

    title = read("title", _meta_text, "")
    if not title:
        reports.report(position, "title", N_("the title is empty"))
    return ItemFields(
        # No type: an article (as in a table); a type that cannot be read: None (reported).
        type=read("type", item_type, None) if meta.get("type") is not None else "article",
        title=title,
        title_en=read("title_en", _meta_text, ""),
        category=read("category", category, ""),
        tags=read("tags", _meta_labels, []),
        products=read("products", _meta_labels, []),
        queues=read("queues", _meta_labels, []),
        situation="",
        solution="",
        result="",
        body=body,
        author=read("author", _meta_text, ""),
        slug=read("slug", slug, None),
    )


def _markdown_files(folder: Path) -> list[Path]:
    # Hidden files and folders (.git, editors' backups) are not items.
    return sorted(
        path
        for path in folder.rglob("*.md")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )


def _ledger_preview(
    folder: Path,
    digest: str,
    encodings: set[str],
    reports: _FileReports,
    plans: list[ItemFilePlan],
) -> ImportPreview[ItemRowPlan]:
    """The folder as one ledger entry: a "row" per file (its place in the sorted list), each
    problem located by the file's path, line and field."""
    positions = {read.path: position for position, read in reports.files.items()}
    issues = [
        ImportIssue(
            row=positions.get(issue.file),
            column=" ".join(
                part
                for part in (
                    f"{issue.file}:{issue.line}" if issue.line else issue.file,
                    issue.field or "",
                )
                if part
            ),
            message=issue.message,
            value=issue.value,
            severity=issue.severity,
            params=issue.params,
        )
        for issue in reports.issues
    ]
    return ImportPreview[ItemRowPlan](
        kind=KIND,
        file_name=f"{folder.resolve().name}/",
        file_sha256=digest,
        encoding=",".join(sorted(encodings)) or "utf-8",
        columns={},
        rows_read=len(reports.files),
        header_row=None,
        rows=list(plans),
        issues=issues,
    )


def import_markdown_folder(
    *, session: Session, folder: Path, dry_run: bool = False, by: User | None = None
) -> FolderImportResult:
    """Import every Markdown item file under `folder` (recursively, in path order): all of them,
    or none when any file has an error (`dry_run`: only report); published at once, without
    contribution points. The front matter's `author` is an employee number."""
    if not folder.is_dir():
        raise InvalidInput(N_("{folder} is not a folder"), folder=str(folder))
    reports = _FileReports()
    resolve = org_service.identity_resolver(session=session)
    digest = hashlib.sha256()
    encodings: set[str] = set()
    inputs: list[tuple[int, ItemInput]] = []
    for position, path in enumerate(_markdown_files(folder), start=1):
        relative = path.relative_to(folder).as_posix()
        data = path.read_bytes()
        digest.update(relative.encode() + b"\0" + hashlib.sha256(data).digest())
        reports.files[position] = _ReadFile(relative, {})
        try:
            text, encoding = decode_csv_bytes(data, None)
        except TableFileError as error:
            reports.add(position, None, None, error.message, None, **error.params)
            continue
        encodings.add(encoding)
        reports.files[position].lines = _field_lines(text)
        try:
            read = read_item_file(text)
        except ItemFileError as error:
            reports.add(position, error.line, None, str(error))
            continue
        fields = _meta_fields(position, read.meta, read.body, reports)
        entry = item_input(position, fields, reports, resolve, f"import: {relative}")
        if entry is not None:
            inputs.append((position, entry))
    planned = plan_inputs(session, inputs, reports)
    planned = [entry for entry in planned if not reports.failed(entry.plan.row)]
    plans = [
        ItemFilePlan(**entry.plan.model_dump(), file=reports.files[entry.plan.row].path)
        for entry in planned
    ]
    if not reports.files:
        reports.issues.append(
            ItemFileIssue(
                file="", line=None, field=None, message=N_("the folder has no Markdown (.md) files")
            )
        )
    result = FolderImportResult(
        folder=str(folder),
        files_read=len(reports.files),
        files=plans,
        issues=reports.issues,
        applied=False,
        dry_run=dry_run,
        previous_import=ledger.previous_import(
            session=session, kind=KIND, file_sha256=digest.hexdigest()
        ),
    )
    if dry_run:
        return result
    stored: list[int] = []
    if not result.errors:
        try:
            stored = store_planned(session, planned, utcnow())
        except BaseException:
            session.rollback()
            raise
    preview = _ledger_preview(folder, digest.hexdigest(), encodings, reports, plans)
    import_id = ledger.record_import(
        session=session,
        preview=preview,  # type: ignore[arg-type]
        applied=not result.errors,
        user_id=by.id if by is not None else None,
    )
    if stored:
        link_to_import(session, stored, import_id)
    return result.model_copy(update={"applied": not result.errors, "import_id": import_id})
