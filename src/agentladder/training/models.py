"""Training tables: the question bank (categories, questions and their versions), exams and
their attempts, course records, certification programmes and the certifications agents hold."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from agentladder.db import Base, UtcDateTime, utcnow
from agentladder.imports.models import FileImport

QUESTION_STATUSES = ("active", "retired")
EXAM_STATUSES = ("draft", "published", "closed")
EXAM_LAYOUTS = ("one_per_page", "all_on_one_page")
# Which attempt counts for an agent's result, as Moodle's quiz grading methods.
GRADING_METHODS = ("highest", "last", "first", "average")
# What an agent sees after submitting: nothing but that it is in, the score, or the review.
REVIEW_OPTIONS = ("none", "score", "answers")
ATTEMPT_STATES = ("in_progress", "needs_grading", "finished")


class CertificationType(Base):
    """A kind of certification the centre added to the built-in ones (see
    `training.certifications.service.BUILTIN_TYPES`); the ladder's gates name types by code."""

    __tablename__ = "certification_types"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    zh: Mapped[str] = mapped_column(String(120))
    en: Mapped[str] = mapped_column(String(120))
    # How long a certificate stays valid when its source gives no expiry; null: no expiry.
    validity_months: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Certification(Base):
    """A certificate an agent holds: which type, issued and expiring when, from where."""

    __tablename__ = "certifications"
    __table_args__ = (
        UniqueConstraint("agent_id", "cert_type", "issued_on"),
        CheckConstraint("expires_on IS NULL OR expires_on >= issued_on", name="expiry"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    cert_type: Mapped[str] = mapped_column(String(40))  # a built-in or added type's code
    issued_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(200))  # import:<file> | exam:<id> | manual
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    recorded_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # Printed on the certificate; the public verification page looks a certificate up by it.
    verification_code: Mapped[str | None] = mapped_column(String(20), unique=True)
    programme_id: Mapped[int | None] = mapped_column(
        ForeignKey("certification_programmes.id", ondelete="SET NULL")
    )
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    revoked_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class CertificationProgramme(Base):
    """Passing these exams (all of them, each with its counted attempt) awards this type."""

    __tablename__ = "certification_programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    cert_type: Mapped[str] = mapped_column(String(40))
    exam_codes_json: Mapped[str] = mapped_column(Text, default="[]")
    # How long an awarded certificate is valid; null: the type's validity.
    validity_months: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class QuestionCategory(Base):
    """A folder of the question bank; `path_json` (the names from the top) is unique."""

    __tablename__ = "question_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    # CASCADE: emptying the table (a demo reset, a restore) deletes a tree in any row order;
    # the bank itself never deletes a category that files questions (they RESTRICT it).
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("question_categories.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    path_json: Mapped[str] = mapped_column(String(2000), unique=True)
    idnumber: Mapped[str | None] = mapped_column(String(100))
    info: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Question(Base):
    """A question of the bank; what it says lives in its versions (the highest is current).
    A question once attempted is retired, never deleted."""

    __tablename__ = "questions"
    __table_args__ = (CheckConstraint("status IN ('active', 'retired')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(
        ForeignKey(QuestionCategory.id, ondelete="RESTRICT"), index=True
    )
    idnumber: Mapped[str | None] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(10), default="active")
    latest_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    retired_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class QuestionVersion(Base):
    """One version of a question as `training.questions.schemas.Question` JSON; an attempt
    points at the version it showed, so editing never changes what was answered."""

    __tablename__ = "question_versions"
    __table_args__ = (UniqueConstraint("question_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey(Question.id, ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(255))
    difficulty: Mapped[str | None] = mapped_column(String(10))
    default_mark: Mapped[float] = mapped_column(Float)
    content_json: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(200))  # editor | import:<file> | demo
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class QuestionTag(Base):
    """A tag of a question's current version (for the bank's filters and exam draws)."""

    __tablename__ = "question_tags"

    question_id: Mapped[int] = mapped_column(
        ForeignKey(Question.id, ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


class Exam(Base):
    """An exam: its blueprint (sections drawing questions), its rules and who must take it."""

    __tablename__ = "exams"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'published', 'closed')", name="status"),
        CheckConstraint(
            "grading_method IN ('highest', 'last', 'first', 'average')", name="grading_method"
        ),
        CheckConstraint("closes_at IS NULL OR opens_at IS NULL OR closes_at > opens_at", "window"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="draft")
    layout: Mapped[str] = mapped_column(String(20), default="one_per_page")
    shuffle_questions: Mapped[bool] = mapped_column(Boolean, default=True)
    shuffle_options: Mapped[bool] = mapped_column(Boolean, default=True)
    time_limit_s: Mapped[int | None] = mapped_column(Integer)
    max_attempts: Mapped[int | None] = mapped_column(Integer)  # null: as many as wanted
    grading_method: Mapped[str] = mapped_column(String(10), default="highest")
    pass_percent: Mapped[float] = mapped_column(Float, default=60)
    review: Mapped[str] = mapped_column(String(10), default="score")
    opens_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # training.exams.schemas.Blueprint and Audience as JSON
    blueprint_json: Mapped[str] = mapped_column(Text, default="{}")
    audience_json: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class ExamAttempt(Base):
    """One sitting of an exam by an agent, online or imported from another system; the
    deadline is the server's, whatever the browser's clock says."""

    __tablename__ = "exam_attempts"
    __table_args__ = (
        UniqueConstraint("exam_id", "agent_id", "number"),
        CheckConstraint("state IN ('in_progress', 'needs_grading', 'finished')", name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    exam_id: Mapped[int] = mapped_column(ForeignKey(Exam.id, ondelete="CASCADE"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1 for the agent's first attempt
    state: Mapped[str] = mapped_column(String(16), default="in_progress")
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    deadline_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    marks: Mapped[float | None] = mapped_column(Float)
    max_marks: Mapped[float] = mapped_column(Float, default=0)
    percent: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(200), default="online")  # online | import:<file>
    file_import_id: Mapped[int | None] = mapped_column(
        ForeignKey(FileImport.id, ondelete="SET NULL"), index=True
    )


class AttemptSlot(Base):
    """A question as one attempt showed it (version, option order, mark) and the answer last
    saved; `response_seq` only grows, so a late duplicate save never overwrites a newer one."""

    __tablename__ = "exam_attempt_slots"
    __table_args__ = (UniqueConstraint("attempt_id", "slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey(ExamAttempt.id, ondelete="CASCADE"), index=True
    )
    slot: Mapped[int] = mapped_column(Integer)  # 1-based position in the attempt
    question_version_id: Mapped[int | None] = mapped_column(
        ForeignKey(QuestionVersion.id, ondelete="RESTRICT"), index=True
    )
    max_mark: Mapped[float] = mapped_column(Float)
    option_order_json: Mapped[str] = mapped_column(Text, default="[]")
    response_json: Mapped[str | None] = mapped_column(Text)
    response_seq: Mapped[int] = mapped_column(Integer, default=0)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    fraction: Mapped[float | None] = mapped_column(Float)
    mark: Mapped[float | None] = mapped_column(Float)
    graded_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    graded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    grader_comment: Mapped[str] = mapped_column(Text, default="")


class CourseRecord(Base):
    """A course an agent completed and its hours, entered or imported."""

    __tablename__ = "training_course_records"
    __table_args__ = (
        UniqueConstraint("agent_id", "course", "completed_on"),
        CheckConstraint("hours >= 0", name="hours"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    course: Mapped[str] = mapped_column(String(200))
    completed_on: Mapped[date] = mapped_column(Date, index=True)
    hours: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(200))
    file_import_id: Mapped[int | None] = mapped_column(
        ForeignKey(FileImport.id, ondelete="SET NULL"), index=True
    )
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
