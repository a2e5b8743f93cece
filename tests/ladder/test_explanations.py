"""Explanations read right in both languages: counts take their plural in English, and the
sentences decisions were stored with before a wording changed still read in Chinese."""

from __future__ import annotations

import pytest

from agentladder.ladder.decisions.schemas import reason_text


@pytest.mark.parametrize(
    ("count", "english"), [(1, "1 more handled call"), (3, "3 more handled calls")]
)
def test_a_count_takes_its_plural_in_english(count: int, english: str) -> None:
    reason = {
        "message": "{count} more handled call",
        "plural": "{count} more handled calls",
        "params": {"count": count},
    }
    assert reason_text(reason, "en") == english
    assert reason_text(reason, "zh_Hans") == f"还需接听 {count} 通电话"


@pytest.mark.parametrize(
    ("message", "params"),
    [
        ("{count} more handled calls", {"count": 3}),
        ("{count} more QA evaluations", {"count": 2}),
        ("{count} more qualifying periods in a row", {"count": 1}),
        ("{months} more months of tenure", {"months": 2}),
        (
            "Quota of {level} full ({capacity} places): ranked {rank} of {candidates}.",
            {"level": "super", "capacity": 6, "rank": 7, "candidates": 9},
        ),
    ],
)
def test_sentences_stored_before_still_read_in_chinese(
    message: str, params: dict[str, object]
) -> None:
    chinese = reason_text({"message": message, "params": params}, "zh_Hans")
    assert chinese != reason_text({"message": message, "params": params}, "en")
    assert not any("a" <= ch <= "z" for ch in chinese.replace("super", ""))


def test_an_evaluators_effect_counts_one_evaluation_in_the_singular() -> None:
    from agentladder.ladder.documents import service as documents_service

    metric = {
        "metric": "qa_score",
        "adjustment": {
            "used": True,
            "raw": 89.9,
            "adjusted": 92.8,
            "evaluators": [
                {"evaluator": "qa2", "effect": 0.2, "evaluations": 1},
                {"evaluator": "qa3", "effect": 3.1, "evaluations": 2},
            ],
        },
    }
    note = documents_service._adjustment_note(metric, "en")
    assert "qa2 +0.2 (1 evaluation)" in note
    assert "qa3 +3.1 (2 evaluations)" in note
    assert "qa2 +0.2（1 次评估）" in documents_service._adjustment_note(metric, "zh_Hans")
