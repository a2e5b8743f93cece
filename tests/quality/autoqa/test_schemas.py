"""The transcript format: what is accepted, what is refused and why, and personal numbers
masked before storing."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from agentladder.quality.autoqa.schemas import Transcript, mask_personal_numbers

LINE = {
    "call_id": 1700000000.42,
    "agent": 1001,
    "started_at": "2026-10-08T09:15:02+08:00",
    "hangup_by": "customer",
    "turns": [
        {"speaker": "agent", "start_s": 0.0, "end_s": 4.1, "text": "您好，安信电器3021号客服"},
        {"speaker": "customer", "start_s": 4.6, "end_s": 9.0, "text": "我的电话是13812345678"},
    ],
}


def test_the_documented_example_reads() -> None:
    transcript = Transcript.model_validate_json(json.dumps(LINE, ensure_ascii=False))
    assert (transcript.call_id, transcript.agent, transcript.language) == (
        "1700000000.42",
        "1001",
        "zh",
    )
    assert transcript.duration_s == 9.0
    assert transcript.masked().turns[1].text == "我的电话是***********"
    assert transcript.turns[1].text.endswith("5678")  # the parsed one is left as it came


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"turns": []}, "turns"),
        ({"language": "fr"}, "language"),
        ({"started_at": "2026-10-08T09:15:02"}, "started_at"),
        ({"turns": [{"speaker": "robot", "start_s": 0, "end_s": 1, "text": ""}]}, "turns"),
        ({"turns": [{"speaker": "agent", "start_s": 5, "end_s": 1, "text": ""}]}, "turns"),
    ],
)
def test_bad_calls_are_refused_naming_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Transcript.model_validate({**LINE, **change})
    assert caught.value.errors()[0]["loc"][0] == field


def test_turns_out_of_time_order_are_refused() -> None:
    turns = list(reversed(LINE["turns"]))  # type: ignore[call-overload]
    with pytest.raises(ValidationError, match="turns are not in time order"):
        Transcript.model_validate({**LINE, "turns": turns})


def test_numbers_read_out_in_chinese_and_split_by_spaces_are_masked_too() -> None:
    assert mask_personal_numbers("一三八一二三四五六七八") == "*" * 11
    assert mask_personal_numbers("卡号 6222 0212 3456 7890") == "卡号 **** **** **** ****"
    assert mask_personal_numbers("工号3021，订单123456") == "工号3021，订单123456"  # under 7


@given(st.text(max_size=80))
def test_masking_never_leaves_seven_digits_in_a_row_and_keeps_the_length(text: str) -> None:
    masked = mask_personal_numbers(text)
    assert len(masked) == len(text)
    run = 0
    for char in masked:
        run = run + 1 if char.isdigit() and char.isascii() else 0
        assert run < 7
