"""QA forms as data: sections of weighted items, each yes/no or a 0..N scale, some of them fatal
(a failure zeroes the call) with the class of harm they guard against."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agentladder.i18n import N_
from agentladder.validation import CatalogValueError

FatalClass = Literal["customer", "business", "compliance"]
ItemKind = Literal["yes_no", "scale"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FormItem(_Strict):
    """One question: yes/no (pass = 1) or a 0..`scale_max` scale (score = answer / max)."""

    code: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")
    zh: str = Field(min_length=1, max_length=200)
    en: str = Field(min_length=1, max_length=200)
    weight: float = Field(gt=0)
    kind: ItemKind = "yes_no"
    scale_max: int | None = Field(default=None, ge=1, le=10)
    # Labels of the scale's points, 0..scale_max, in both languages ("差/poor" ...).
    scale_labels: list[str] = Field(default_factory=list)
    allows_na: bool = True
    fatal: FatalClass | None = None

    @model_validator(mode="after")
    def _scale(self) -> FormItem:
        if self.kind == "scale" and self.scale_max is None:
            raise CatalogValueError(N_("a scale item needs its scale maximum"))
        if self.kind == "yes_no" and self.scale_max is not None:
            raise CatalogValueError(N_("a yes/no item has no scale maximum"))
        if self.scale_labels and len(self.scale_labels) != (self.scale_max or 0) + 1:
            raise CatalogValueError(
                N_("scale labels: one label per point, 0 to {maximum}"), maximum=self.scale_max
            )
        if self.fatal is not None and self.kind != "yes_no":
            raise CatalogValueError(N_("a fatal item is yes/no: it is failed or it is not"))
        return self


class FormSection(_Strict):
    """A weighted group of items; its score is the weighted mean of its applicable items."""

    code: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")
    zh: str = Field(min_length=1, max_length=200)
    en: str = Field(min_length=1, max_length=200)
    weight: float = Field(gt=0)
    items: list[FormItem] = Field(min_length=1)


class FormSpec(_Strict):
    """A QA form: its sections' weights sum to 100; item codes are unique across the form."""

    code: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")
    zh: str = Field(min_length=1, max_length=200)
    en: str = Field(min_length=1, max_length=200)
    sections: list[FormSection] = Field(min_length=1)

    @model_validator(mode="after")
    def _weights_and_codes(self) -> FormSpec:
        total = sum(section.weight for section in self.sections)
        if abs(total - 100) > 1e-6:
            raise CatalogValueError(
                N_("section weights sum to {total}, not 100"), total=f"{total:g}"
            )
        codes = [item.code for section in self.sections for item in section.items]
        repeated = sorted({code for code in codes if codes.count(code) > 1})
        if repeated:
            raise CatalogValueError(
                N_("item codes appear twice: {codes}"), codes=", ".join(repeated)
            )
        sections = [section.code for section in self.sections]
        if len(set(sections)) != len(sections):
            raise CatalogValueError(N_("section codes appear twice"))
        return self

    def items(self) -> list[FormItem]:
        """Every item, section by section."""
        return [item for section in self.sections for item in section.items]


# An answer: True/False for yes/no, 0..scale_max for a scale, None for not applicable.
Answer = bool | int | None


class ScoredCall(_Strict):
    """An evaluation's scores: overall 0..100 (0 when a fatal item failed), per section 0..1,
    the compliance score (None when no compliance item applied), and the fatal failures."""

    overall: float | None
    sections: dict[str, float]
    compliance: float | None
    fatal: bool
    fatal_items: list[str]
    applicable_items: int
    nonfatal_passed: int
    nonfatal_applicable: int
