"""Quality tables: forms and their versions, and the evaluations scored on them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agentladder.db import Base, UtcDateTime, utcnow
from agentladder.imports.models import FileImport

# Only official evaluations count; coaching ones and calibration ones never do.
EVALUATION_KINDS = ("official", "coaching", "calibration")
EVALUATION_STATUSES = ("draft", "submitted")
# Why a call is in a sample: drawn at random in its stratum, or picked by a targeted rule.
SAMPLE_REASONS = (
    "random",
    "complaint",
    "low_survey",
    "short_talk",
    "long_talk",
    "transfer",
    "repeat_caller",
)
DISPUTE_STATUSES = ("open", "upheld", "overturned")
# What the audit trail records about an evaluation.
AUDIT_ACTIONS = (
    "submitted",
    "imported",
    "acknowledged",
    "disputed",
    "upheld",
    "overturned",
    "regraded",
)


class QaForm(Base):
    """A QA form by its code; what it asks is in its versions."""

    __tablename__ = "qa_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    versions: Mapped[list[QaFormVersion]] = relationship(
        back_populates="form", order_by="QaFormVersion.version"
    )


class QaFormVersion(Base):
    """One version of a form: its spec as JSON. A version with evaluations never changes;
    editing the form then makes a new version."""

    __tablename__ = "qa_form_versions"
    __table_args__ = (UniqueConstraint("form_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("qa_forms.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    spec_json: Mapped[str] = mapped_column(Text)
    spec_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    form: Mapped[QaForm] = relationship(back_populates="versions")


class QaEvaluation(Base):
    """One call scored on one form version by one evaluator: a draft until submitted, then
    immutable (changed only through a dispute or a regrade)."""

    __tablename__ = "qa_evaluations"
    __table_args__ = (
        CheckConstraint(f"kind IN {EVALUATION_KINDS}", name="kind"),
        CheckConstraint(f"status IN {EVALUATION_STATUSES}", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    form_version_id: Mapped[int] = mapped_column(
        ForeignKey("qa_form_versions.id", ondelete="RESTRICT"), index=True
    )
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    evaluator_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    call_id: Mapped[str] = mapped_column(String(120))  # the ingested call's id
    call_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    kind: Mapped[str] = mapped_column(String(20), default="official")
    status: Mapped[str] = mapped_column(String(10), default="draft")
    # Answers and per-item comments by item code, as JSON; scores once submitted.
    answers_json: Mapped[str] = mapped_column(Text, default="{}")
    comments_json: Mapped[str] = mapped_column(Text, default="{}")
    # What automatic QA suggested for items mapped to its rules, by item code:
    # {"answer", "rules", "rule_set"}; on submission each also records "changed".
    suggestions_json: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    overall: Mapped[float | None] = mapped_column(Float)
    compliance: Mapped[float | None] = mapped_column(Float)
    fatal: Mapped[bool] = mapped_column(Boolean, default=False)
    scores_json: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # A calibration evaluation belongs to its session; the anchor is the expert or agreed one.
    calibration_session_id: Mapped[int | None] = mapped_column(
        ForeignKey("qa_calibration_sessions.id", ondelete="CASCADE"), index=True
    )
    is_anchor: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set for evaluations brought in from another tool's history: the file they came in.
    file_import_id: Mapped[int | None] = mapped_column(
        ForeignKey(FileImport.id, ondelete="SET NULL"), index=True
    )
    form_version: Mapped[QaFormVersion] = relationship()
    disputes: Mapped[list[QaDispute]] = relationship(
        back_populates="evaluation", order_by="QaDispute.id", cascade="all, delete-orphan"
    )


class QaSample(Base):
    """The calls drawn for evaluation in one period: kept with the seed and the rules that drew
    them, so the same draw can be made again and checked."""

    __tablename__ = "qa_samples"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_label: Mapped[str] = mapped_column(String(20), index=True)
    seed: Mapped[int] = mapped_column(Integer)
    rules_json: Mapped[str] = mapped_column(Text, default="{}")
    form_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("qa_form_versions.id", ondelete="SET NULL")
    )
    blind: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    calls: Mapped[list[QaSampledCall]] = relationship(
        back_populates="sample", order_by="QaSampledCall.id", cascade="all, delete-orphan"
    )


class QaSampledCall(Base):
    """One drawn call, why it was drawn, and the evaluator it is assigned to."""

    __tablename__ = "qa_sampled_calls"
    __table_args__ = (
        UniqueConstraint("sample_id", "call_id"),
        CheckConstraint(f"reason IN {SAMPLE_REASONS}", name="reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(
        ForeignKey("qa_samples.id", ondelete="CASCADE"), index=True
    )
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    call_id: Mapped[str] = mapped_column(String(120))
    call_at: Mapped[datetime] = mapped_column(UtcDateTime)
    queue: Mapped[str] = mapped_column(String(80), default="")
    reason: Mapped[str] = mapped_column(String(20), default="random")
    evaluator_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    evaluation_id: Mapped[int | None] = mapped_column(
        ForeignKey("qa_evaluations.id", ondelete="SET NULL"), index=True
    )
    sample: Mapped[QaSample] = relationship(back_populates="calls")


class QaDispute(Base):
    """An agent's objection to one item of a submitted evaluation, and the lead's decision:
    upheld (the answer stands) or overturned (the answer changes and the score is recomputed)."""

    __tablename__ = "qa_disputes"
    __table_args__ = (CheckConstraint(f"status IN {DISPUTE_STATUSES}", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("qa_evaluations.id", ondelete="CASCADE"), index=True
    )
    item_code: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    raised_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(12), default="open")
    # The item's answer before and (when overturned) after the decision, as JSON.
    answer_before_json: Mapped[str] = mapped_column(Text, default="null")
    answer_after_json: Mapped[str | None] = mapped_column(Text)
    decided_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    evaluation: Mapped[QaEvaluation] = relationship(back_populates="disputes")


class QaAuditEntry(Base):
    """Who did what to an evaluation, when, what changed and why; never edited or deleted."""

    __tablename__ = "qa_audit_entries"
    __table_args__ = (CheckConstraint(f"action IN {AUDIT_ACTIONS}", name="action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("qa_evaluations.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(20))
    # JSON: {item code: [before, after]} and the scores before and after, when they changed.
    changes_json: Mapped[str] = mapped_column(Text, default="{}")
    reason: Mapped[str] = mapped_column(Text, default="")


class QaCalibrationSession(Base):
    """A set of calls scored blind by several evaluators against an anchor evaluation."""

    __tablename__ = "qa_calibration_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    form_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("qa_form_versions.id", ondelete="SET NULL")
    )
    held_on: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


# --- automatic QA on transcripts -------------------------------------------------------------

AUTOQA_VERDICTS = ("pass", "fail", "na")


class AutoqaRuleSetVersion(Base):
    """One version of the automatic QA rule set, identified by its content hash; the latest
    applied one is in force (none applied: the shipped rule set)."""

    __tablename__ = "qa_autoqa_rule_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    yaml_text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    applied_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    applied_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class CallTranscript(Base):
    """A call's transcript as speech recognition left it, personal numbers masked; linked to
    the ingested call by its id, or standing alone with the agent and time it names."""

    __tablename__ = "qa_transcripts"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[str] = mapped_column(String(120), unique=True)
    # As the file named them: used when the call is not in the ACD data.
    agent_identity: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The agent and time the call data gives (else the file's): which period's evidence it is.
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), index=True
    )
    call_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    language: Mapped[str] = mapped_column(String(5), default="zh")
    hangup_by: Mapped[str | None] = mapped_column(String(10))
    turns_json: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    file_import_id: Mapped[int | None] = mapped_column(
        ForeignKey(FileImport.id, ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


def _verdict_column() -> Mapped[str]:
    return mapped_column(String(4), default="na")


class AutoqaResult(Base):
    """Every rule's verdict on one transcript under one rule set version, its evidence and the
    call's autoqa_score; judged again when the transcript or the rules change. One verdict
    column per rule so that pass rates are counted by the database."""

    __tablename__ = "qa_autoqa_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(
        ForeignKey("qa_transcripts.id", ondelete="CASCADE"), unique=True
    )
    rule_set_hash: Mapped[str] = mapped_column(String(64), index=True)
    transcript_hash: Mapped[str] = mapped_column(String(64))
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), index=True
    )
    call_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    score: Mapped[float | None] = mapped_column(Float)  # None: no rule applied
    # [{"rule", "verdict", "evidence": [{"turn", "start_s", "text"}]}] in rule order.
    verdicts_json: Mapped[str] = mapped_column(Text)
    judged_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    greeting: Mapped[str] = _verdict_column()
    answer_speed: Mapped[str] = _verdict_column()
    late_apology: Mapped[str] = _verdict_column()
    hold_etiquette: Mapped[str] = _verdict_column()
    polite_phrases: Mapped[str] = _verdict_column()
    forbidden_phrases: Mapped[str] = _verdict_column()
    closing_question: Mapped[str] = _verdict_column()
    thanks_goodbye: Mapped[str] = _verdict_column()
    customer_hangs_up_first: Mapped[str] = _verdict_column()
    silence: Mapped[str] = _verdict_column()
    talk_over: Mapped[str] = _verdict_column()
    speaking_rate: Mapped[str] = _verdict_column()
