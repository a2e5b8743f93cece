"""Pydantic shapes of certifications, in and out, and of a certificate import's report."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from agentladder.imports import schemas as imports_schemas
from agentladder.imports.schemas import ImportPreview, ImportResult, RowPlan

CertificationStatus = Literal["valid", "expiring", "expired", "pending", "revoked"]
# What the public verification page says of a certificate: nothing finer than this.
VerificationStatus = Literal["valid", "expired", "revoked"]


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
    revoked_at: datetime | None = None
    revoked_reason: str = ""
    programme_code: str | None = None  # the programme whose exams awarded it

    def type_name(self, language: str) -> str:
        """The certification type's name in the reader's language."""
        return self.type_zh if language == "zh_Hans" else self.type_en


class CertificationFilter(BaseModel):
    q: str | None = None  # agent name or employee number contains
    agent_id: int | None = None
    team: str | None = None
    cert_type: str | None = None
    status: Literal["all", "valid", "expiring", "expired", "revoked"] = "all"
    page: int = Field(default=1, ge=1)
    per_page: int = Field(default=100, ge=1, le=1000)


class CertificationPage(BaseModel):
    total: int
    page: int
    per_page: int
    today: date
    certifications: list[CertificationRead]


class RevocationIn(BaseModel):
    reason: str = Field(min_length=1, max_length=1000)


class ExamToRetake(BaseModel):
    """An exam of the programme that renews a certificate."""

    code: str
    title: str


class ExpiryReminder(BaseModel):
    """A certificate the agent holds that expires soon and is not renewed yet, and the exams
    that renew it."""

    certification_id: int
    cert_type: str
    type_zh: str
    type_en: str
    expires_on: date
    days_left: int
    exams: list[ExamToRetake]

    def type_name(self, language: str) -> str:
        """The certification type's name in the reader's language."""
        return self.type_zh if language == "zh_Hans" else self.type_en


class ExpiringRow(BaseModel):
    """A certificate expiring within the report's window, with the exams that renew it."""

    certification: CertificationRead
    days_left: int
    exams: list[ExamToRetake]


class TypeCount(BaseModel):
    cert_type: str
    type_zh: str
    type_en: str
    count: int

    def type_name(self, language: str) -> str:
        """The certification type's name in the reader's language."""
        return self.type_zh if language == "zh_Hans" else self.type_en


class ExpiringReport(BaseModel):
    """What expires from `today` through `until` (not revoked, not renewed yet)."""

    today: date
    days: int
    until: date
    counts: list[TypeCount]  # per type, every type with at least one
    rows: list[ExpiringRow]  # soonest first


class Verification(BaseModel):
    """All the public verification page tells of a certificate."""

    name: str
    type_zh: str
    type_en: str
    issued_on: date
    expires_on: date | None
    status: VerificationStatus

    def type_name(self, language: str) -> str:
        """The certification type's name in the reader's language."""
        return self.type_zh if language == "zh_Hans" else self.type_en


class CertificateDocument(BaseModel):
    """What a printed certificate says."""

    certification_id: int
    agent_name: str
    employee_no: str
    type_zh: str
    type_en: str
    issued_on: date
    expires_on: date | None
    verification_code: str
    revoked_on: date | None

    def type_name(self, language: str) -> str:
        """The certification type's name in the reader's language."""
        return self.type_zh if language == "zh_Hans" else self.type_en


ImportIssue = imports_schemas.ImportIssue  # a problem with one cell, row or the whole file


class CertificationRowPlan(RowPlan):
    """What importing one row does to the certificate (agent, type, issue date)."""

    agent_id: int
    employee_no: str
    name: str
    cert_type: str
    issued_on: date
    expires_on: date | None
    source: str


CertificationPreview = ImportPreview[CertificationRowPlan]
CertificationImportResult = ImportResult[CertificationRowPlan]
