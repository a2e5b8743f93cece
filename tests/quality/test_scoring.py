"""QA form scoring as docs/reference-definitions section 2 defines it, its worked example as
written, and the properties the definition implies."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from agentladder.errors import InvalidInput
from agentladder.quality.schemas import FormItem, FormSection, FormSpec
from agentladder.quality.scoring import score_call


def _item(code: str, weight: float = 1, **kwargs: object) -> FormItem:
    return FormItem(code=code, zh=code, en=code, weight=weight, **kwargs)  # type: ignore[arg-type]


def _section(code: str, weight: float, *items: FormItem) -> FormSection:
    return FormSection(code=code, zh=code, en=code, weight=weight, items=list(items))


# The reference example: Compliance 30 % {pass, N/A}, Resolution 40 % {w2 = 1, w1 = 0.5, N/A},
# Soft skills 30 % {1, 0}.
EXAMPLE = FormSpec(
    code="example",
    zh="示例",
    en="Example",
    sections=[
        _section(
            "compliance",
            30,
            _item("disclosure", fatal="compliance"),
            _item("recording_notice", fatal="compliance"),
        ),
        _section(
            "resolution",
            40,
            _item("solved", 2),
            _item("explained", 1, kind="scale", scale_max=2),
            _item("follow_up", 1),
        ),
        _section("soft_skills", 30, _item("greeting"), _item("empathy")),
    ],
)
EXAMPLE_ANSWERS = {
    "disclosure": True,
    "recording_notice": None,
    "solved": True,
    "explained": 1,
    "follow_up": None,
    "greeting": True,
    "empathy": False,
}


def test_the_reference_example_scores_as_written() -> None:
    scored = score_call(EXAMPLE, EXAMPLE_ANSWERS)
    assert scored.sections == pytest.approx(
        {"compliance": 1.0, "resolution": 2.5 / 3, "soft_skills": 0.5}
    )
    assert scored.overall == pytest.approx(78.33, abs=0.005)
    assert not scored.fatal
    assert scored.compliance == 100


def test_a_failed_fatal_item_zeroes_the_overall_and_shows_in_the_compliance_score() -> None:
    scored = score_call(EXAMPLE, {**EXAMPLE_ANSWERS, "disclosure": False})
    assert scored.overall == 0
    assert scored.fatal
    assert scored.fatal_items == ["disclosure"]
    assert scored.compliance == 0
    assert scored.sections["soft_skills"] == 0.5  # the sections still show where it went wrong


def test_a_section_without_applicable_items_drops_and_the_others_renormalise() -> None:
    answers = {**EXAMPLE_ANSWERS, "disclosure": None}
    scored = score_call(EXAMPLE, answers)
    assert "compliance" not in scored.sections
    assert scored.compliance is None
    assert scored.overall == pytest.approx(100 * (40 * 2.5 / 3 + 30 * 0.5) / 70)


def test_nothing_applicable_has_no_score() -> None:
    assert score_call(EXAMPLE, {}).overall is None


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"greeting": 1}, "item {item} is answered yes or no"),
        ({"explained": 3}, "item {item} takes 0 to {maximum}"),
        ({"explained": True}, "item {item} takes 0 to {maximum}"),
        ({"no_such": True}, "the form has no item {items}"),
    ],
)
def test_answers_that_do_not_fit_the_item_are_refused(answers: dict, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        score_call(EXAMPLE, answers)
    assert caught.value.message == message


def test_forms_validate_their_weights_codes_and_scales() -> None:
    with pytest.raises(ValidationError, match="sum to 90"):
        FormSpec(code="f", zh="f", en="f", sections=[_section("a", 90, _item("x"))])
    with pytest.raises(ValidationError, match="appear twice: x"):
        FormSpec(
            code="f",
            zh="f",
            en="f",
            sections=[_section("a", 50, _item("x")), _section("b", 50, _item("x"))],
        )
    with pytest.raises(ValidationError, match="needs its scale maximum"):
        _item("x", kind="scale")
    with pytest.raises(ValidationError, match="fatal item is yes/no"):
        _item("x", kind="scale", scale_max=4, fatal="customer")
    with pytest.raises(ValidationError, match="one label per point"):
        _item("x", kind="scale", scale_max=2, scale_labels=["差", "好"])


ANSWER = st.one_of(st.none(), st.booleans())
ANSWERS = st.fixed_dictionaries(
    dict.fromkeys(("disclosure", "recording_notice", "solved", "follow_up"), ANSWER)
    | {"greeting": ANSWER, "empathy": ANSWER, "explained": st.one_of(st.none(), st.integers(0, 2))}
)


@given(ANSWERS)
def test_scores_stay_within_0_and_100_and_fatal_means_0(answers: dict) -> None:
    scored = score_call(EXAMPLE, answers)
    if scored.overall is not None:
        assert 0 <= scored.overall <= 100
    assert all(0 <= value <= 1 for value in scored.sections.values())
    assert scored.fatal == (answers["disclosure"] is False or answers["recording_notice"] is False)
    if scored.fatal:
        assert scored.overall == 0


@given(ANSWERS, st.floats(0.1, 10))
def test_scaling_a_sections_item_weights_changes_nothing(answers: dict, factor: float) -> None:
    scaled = FormSpec(
        code="example",
        zh="示例",
        en="Example",
        sections=[
            section.model_copy(
                update={
                    "items": [
                        item.model_copy(update={"weight": item.weight * factor})
                        for item in section.items
                    ]
                }
            )
            for section in EXAMPLE.sections
        ],
    )
    first, second = score_call(EXAMPLE, answers), score_call(scaled, answers)
    if first.overall is None:
        assert second.overall is None
    else:
        assert second.overall == pytest.approx(first.overall)


@given(ANSWERS)
def test_an_unanswered_item_is_the_same_as_not_applicable(answers: dict) -> None:
    given_answers = {code: answer for code, answer in answers.items() if answer is not None}
    assert score_call(EXAMPLE, given_answers) == score_call(EXAMPLE, answers)
