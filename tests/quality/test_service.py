"""The shipped default form: valid, bilingual, and scored as the definition says."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.errors import Conflict, InvalidInput, NotFound
from agentladder.org.models import User
from agentladder.quality import service as quality_service
from agentladder.quality.scoring import score_call
from tests.factories import make_agent, make_user

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


# --- stored forms and evaluations ---------------------------------------------------------


def _evaluation(session: Session, settings: Settings, version_id: int) -> tuple[int, User]:
    agent = make_agent(session)
    evaluator = make_user(session, settings, "qa1", ["qa"])
    evaluation = quality_service.start_evaluation(
        session=session,
        form_version_id=version_id,
        agent_id=agent.id,
        evaluator=evaluator,
        call_id="1700000000.42",
        call_at=datetime(2026, 10, 8, 2, 0, tzinfo=UTC),
    )
    return evaluation.id, evaluator


def test_editing_a_form_with_evaluations_makes_a_new_version(
    session: Session, settings: Settings
) -> None:
    first = quality_service.save_form(session=session, spec=FORM)
    assert quality_service.save_form(session=session, spec=FORM).id == first.id  # unchanged
    # No evaluation yet: an edit replaces the version.
    heavier = FORM.model_copy(update={"zh": "默认质检评分表（修订）"})
    assert quality_service.save_form(session=session, spec=heavier).id == first.id
    assert first.version == 1
    evaluation_id, evaluator = _evaluation(session, settings, first.id)
    quality_service.save_draft(
        session=session, evaluation_id=evaluation_id, answers=_perfect(), by=evaluator
    )
    quality_service.submit_evaluation(session=session, evaluation_id=evaluation_id, by=evaluator)
    second = quality_service.save_form(session=session, spec=FORM)
    assert (second.version, second.form_id) == (2, first.form_id)
    assert quality_service.form_spec(first).zh == "默认质检评分表（修订）"  # kept as scored
    current = quality_service.current_form_version(session=session, code="default")
    assert current is not None
    assert current.id == second.id


def test_a_draft_is_checked_kept_and_scored_on_the_server_when_submitted(
    session: Session, settings: Settings
) -> None:
    version = quality_service.save_form(session=session, spec=FORM)
    evaluation_id, evaluator = _evaluation(session, settings, version.id)
    with pytest.raises(InvalidInput):
        quality_service.save_draft(
            session=session, evaluation_id=evaluation_id, answers={"tone_voice": 9}, by=evaluator
        )
    answers = {**_perfect(), "no_customer_loss": False}
    quality_service.save_draft(
        session=session,
        evaluation_id=evaluation_id,
        answers=answers,
        comments={"no_customer_loss": "多收了月费"},
        by=evaluator,
    )
    someone_else = make_user(session, settings, "qa2", ["qa"])
    with pytest.raises(NotFound):  # another evaluator's draft
        quality_service.submit_evaluation(
            session=session, evaluation_id=evaluation_id, by=someone_else
        )
    submitted = quality_service.submit_evaluation(
        session=session, evaluation_id=evaluation_id, by=evaluator
    )
    assert (submitted.status, submitted.overall, submitted.fatal) == ("submitted", 0, True)
    assert submitted.compliance == 100
    with pytest.raises(Conflict):  # immutable once submitted
        quality_service.save_draft(
            session=session, evaluation_id=evaluation_id, answers=_perfect(), by=evaluator
        )
