"""Pydantic shapes of certifications, in and out, and of a certificate import's report."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field, field_validator

CertificationStatus = Literal["valid", "expiring", "expired", "pending"]


class CertificationTypeCreate(BaseModel):
    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")
    zh: str = Field(min_length=1, max_length=120)
    en: str = Field(min_length=1, max_length=120)
    # How long a certificate stays valid when its source gives no expiry; None: no expiry.
    validity_months: int | None = Field(default=None, ge=1, le=600)

    @field_validator("code", "zh", "en", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value


class CertificationTypeRead(BaseModel):
    code: str
    zh: str
    en: str
    validity_months: int | None
    builtin: bool

    def name(self, language: str) -> str:
        """The type's name in the reader's language."""
        return self.zh if language == "zh_Hans" else self.en


class CertificationCreate(BaseModel):
    agent_id: int
    cert_type: str = Field(min_length=1, max_length=40)
    issued_on: date
    expires_on: date | None = None  # None: the type's validity decides, unless no_expiry
    no_expiry: bool = False
    source: str = Field(default="manual", min_length=1, max_length=200)


class CertificationRead(BaseModel):
    id: int
    agent_id: int
    employee_no: str
    agent_name: str
    team_code: str | None
    cert_type: str
    type_zh: str
    type_en: str
    issued_on: date
    expires_on: date | None
    source: str
    status: CertificationStatus  # on the day the list was made

    def type_name(self, language: str) -> str:
        """The certification type's name in the reader's language."""
        return self.type_zh if language == "zh_Hans" else self.type_en


class CertificationFilter(BaseModel):
    q: str | None = None  # agent name or employee number contains
    agent_id: int | None = None
    team: str | None = None
    cert_type: str | None = None
    status: Literal["all", "valid", "expiring", "expired"] = "all"
    page: int = Field(default=1, ge=1)
    per_page: int = Field(default=100, ge=1, le=1000)


class CertificationPage(BaseModel):
    total: int
    page: int
    per_page: int
    today: date
    certifications: list[CertificationRead]


class ImportIssue(BaseModel):
    """A problem with one cell, row or the whole file; row 1 is the header."""

    row: int | None
    column: str | None
    message: str  # an English msgid; `params` fill its placeholders
    value: str | None = None
    severity: Literal["error", "warning"] = "error"
    params: dict[str, object] = Field(default_factory=dict)


class CertificationRowPlan(BaseModel):
    row: int
    agent_id: int
    employee_no: str
    name: str
    cert_type: str
    issued_on: date
    expires_on: date | None
    source: str
    action: Literal["create", "update", "unchanged"]
    changes: dict[str, tuple[str, str]] = Field(default_factory=dict)


class CertificationPreview(BaseModel):
    file_name: str
    file_sha256: str
    encoding: str
    columns: dict[str, str]
    rows_read: int
    rows: list[CertificationRowPlan]
    issues: list[ImportIssue]

    @property
    def errors(self) -> list[ImportIssue]:
        return [issue for issue in self.issues if issue.severity == "error"]

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)


class CertificationImportResult(BaseModel):
    applied: bool
    dry_run: bool = False
    preview: CertificationPreview
