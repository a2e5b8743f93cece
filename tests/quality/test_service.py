"""The shipped default form: valid, bilingual, and scored as the definition says."""

from __future__ import annotations

import re

import pytest

from agentladder.quality import service as quality_service
from agentladder.quality.scoring import score_call

FORM = quality_service.default_form()
# Some of the quality items the source design lists (质检项).
SOURCE_ITEMS = [
    "基本礼貌使用",
    "电话礼仪",
    "服务态度",
    "聆听态度",
    "引导客户及理解问题",
    "安抚客户情绪",
    "产品知识熟练度",
    "系统操作水平",
]


def _perfect() -> dict[str, bool | int]:
    return {
        item.code: (item.scale_max if item.kind == "scale" else True)  # type: ignore[misc]
        for item in FORM.items()
    }


def test_the_default_form_has_the_source_designs_items_in_both_languages() -> None:
    names = {item.zh for item in FORM.items()}
    for wanted in (
        "基本礼貌使用",
        "电话礼仪",
        "服务态度",
        "聆听态度",
        "引导客户及理解问题",
        "安抚客户情绪",
    ):
        assert wanted in names
    assert sum(section.weight for section in FORM.sections) == 100
    for thing in [FORM, *FORM.sections, *FORM.items()]:
        assert re.search("[\u4e00-\u9fff]", thing.zh), thing.code
        assert thing.en.isascii(), thing.code
    fatal = {item.code: item.fatal for item in FORM.items() if item.fatal}
    assert set(fatal.values()) == {"customer", "business", "compliance"}


def test_a_perfect_call_scores_100_and_each_fatal_error_zeroes_it() -> None:
    perfect = score_call(FORM, _perfect())
    assert perfect.overall == pytest.approx(100)
    assert perfect.compliance == 100
    for item in (item for item in FORM.items() if item.fatal):
        failed = score_call(FORM, {**_perfect(), item.code: False})
        assert failed.overall == 0
        assert failed.fatal_items == [item.code]
        assert failed.compliance == (0 if item.fatal == "compliance" else 100)


def test_a_middling_tone_counts_by_its_scale() -> None:
    scored = score_call(FORM, {**_perfect(), "tone_voice": 2})
    courtesy = FORM.sections[0]
    total = sum(item.weight for item in courtesy.items)
    assert scored.sections["courtesy"] == pytest.approx((total - 2 * 0.5) / total)
