"""A call transcript as `../shared/docs/transcript-format.md` defines it, validated: the turns
in time order, each with its speaker and its seconds from the moment the agent answered."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agentladder.i18n import N_
from agentladder.quality.autoqa.text import CHINESE_DIGITS

# Each rule's name as people read it: (zh, en).
RULE_NAMES: dict[str, tuple[str, str]] = {
    "greeting": ("自报家门", "Greeting"),
    "answer_speed": ("及时接听", "Answer speed"),
    "late_apology": ("久等致歉", "Apology when late"),
    "hold_etiquette": ("保留礼仪", "Hold etiquette"),
    "polite_phrases": ("礼貌用语", "Polite phrases"),
    "forbidden_phrases": ("无服务禁语", "No forbidden phrases"),
    "closing_question": ("结束前询问", "Closing question"),
    "thanks_goodbye": ("致谢道别", "Thanks and goodbye"),
    "customer_hangs_up_first": ("客户先挂机", "Customer hangs up first"),
    "silence": ("静音时长", "Silence"),
    "talk_over": ("抢话", "Talk-over"),
    "speaking_rate": ("语速", "Speaking rate"),
}

Speaker = Literal["agent", "customer", "system"]

# A run of 7 or more digits (Arabic, full-width or read out in Chinese), spaces and hyphens
# allowed between them: a phone, ID or card number. Masked before a transcript is stored.
_DIGIT = r"[0-9０-９" + "".join(CHINESE_DIGITS) + "]"
_PERSONAL_NUMBER = re.compile(rf"{_DIGIT}(?:[ \-]?{_DIGIT}){{6,}}")
MASK = "*"


def mask_personal_numbers(text: str) -> str:
    """The text with every run of 7+ digits masked digit by digit (separators kept)."""
    return _PERSONAL_NUMBER.sub(
        lambda found: re.sub(_DIGIT, MASK, found.group(0)),
        text,
    )


class Turn(BaseModel):
    """One speaker's stretch of speech."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    speaker: Speaker
    start_s: float = Field(ge=0)
    end_s: float = Field(ge=0)
    text: str = ""

    @model_validator(mode="after")
    def _ends_after_start(self) -> Turn:
        if self.end_s < self.start_s:
            raise ValueError(N_("end_s is before start_s"))
        return self


class Transcript(BaseModel):
    """One call's transcript."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    call_id: str = Field(min_length=1, max_length=64)
    agent: str | None = Field(default=None, max_length=64)
    started_at: datetime | None = None
    language: Literal["zh", "en"] = "zh"
    hangup_by: Literal["agent", "customer"] | None = None
    turns: list[Turn] = Field(min_length=1)

    @field_validator("call_id", "agent", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        # Call ids and identities come as numbers from some exports (1700000000.42, 1001).
        return str(value).strip() if isinstance(value, int | float) else value

    @field_validator("started_at")
    @classmethod
    def _with_offset(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError(N_("started_at needs a UTC offset (+08:00)"))
        return value

    @model_validator(mode="after")
    def _in_time_order(self) -> Transcript:
        starts = [turn.start_s for turn in self.turns]
        if starts != sorted(starts):
            raise ValueError(N_("turns are not in time order"))
        return self

    def masked(self) -> Transcript:
        """The transcript as it may be stored: personal numbers masked in every turn."""
        return self.model_copy(
            update={
                "turns": [
                    turn.model_copy(update={"text": mask_personal_numbers(turn.text)})
                    for turn in self.turns
                ]
            }
        )

    @property
    def duration_s(self) -> float:
        """From the answer to the end of the last turn."""
        return max(turn.end_s for turn in self.turns)


# --- the REST API's shapes (the JSON of `quality autoqa show`) -------------------------------


class EvidenceOut(BaseModel):
    """A turn quoted (its index and start), or a figure measured (turn and start_s null)."""

    turn: int | None
    start_s: float | None
    text: str


class RuleVerdictOut(BaseModel):
    """One rule's verdict on a call and what it rests on."""

    rule: str
    verdict: Literal["pass", "fail", "na"]
    evidence: list[EvidenceOut]


class CallVerdictsOut(BaseModel):
    """Every rule's verdict on a call; `agent` is the employee number (null: none known),
    `score` null when no rule applied or the call is not judged yet."""

    call: str
    agent: str | None
    score: float | None
    rules: list[RuleVerdictOut]


class PeriodVerdictsOut(BaseModel):
    """The calls of a period with a transcript, in time order."""

    period: str
    calls: list[CallVerdictsOut]


class RuleSetDraft(BaseModel):
    """A rule set as the editor or a script sends it (YAML)."""

    text: str = Field(max_length=200_000)


class RuleSetOut(BaseModel):
    """The rule set in force: its YAML, name and content hash; `applied_at` null for the
    shipped one; `stale`: transcripts not yet judged under it."""

    name: str
    hash: str
    yaml: str
    applied_at: datetime | None
    stale: int


class RuleProblemOut(BaseModel):
    """One problem of a draft: the dotted key it concerns ("" for the whole) and what is
    wrong, in the caller's language."""

    key: str
    message: str


class RuleSetCheckOut(BaseModel):
    """A draft checked: its problems, or its name and hash and whether it is the rule set in
    force; the diff against that rule set, line by line."""

    valid: bool
    problems: list[RuleProblemOut]
    name: str | None = None
    hash: str | None = None
    unchanged: bool = False
    diff: list[str]
