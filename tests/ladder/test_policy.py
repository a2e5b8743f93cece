"""The policy file: the shipped default validates, every kind of mistake is refused with the
key it concerns, and the hash ignores comments and layout."""

from __future__ import annotations

import re

import pytest

from agentladder.errors import InvalidInput
from agentladder.ladder.policy import service as policy_service
from agentladder.ladder.policy.schemas import PolicyError
from agentladder.ladder.policy.service import default_policy_text, parse_policy, policy_hash
from agentladder.metrics import service as metrics_service
from agentladder.periods import parse_period
from agentladder.training.certifications import service as certifications_service
from tests.ladder.builders import policy_text

KNOWN = {"known_metrics": set(metrics_service.metric_definitions())}


def _parse(text: str):  # type: ignore[no-untyped-def]
    return parse_policy(
        text, known_certifications=set(certifications_service.BUILTIN_TYPES), **KNOWN
    )


def _problems(text: str) -> list[tuple[str, str]]:
    with pytest.raises(PolicyError) as caught:
        _parse(text)
    return caught.value.problems


def test_the_shipped_default_is_the_documented_example() -> None:
    policy = _parse(default_policy_text())
    assert policy.name == "Default ladder"
    assert policy.components["quality"].metrics == {
        "qa_score": 70,
        "csat_rate": 20,
        "complaint_rate": 10,
    }
    assert policy.promotion.entry["super"].quota == 0.05


def test_the_chinese_default_is_the_same_policy_with_chinese_name_and_comments() -> None:
    english, chinese = default_policy_text("en"), default_policy_text("zh_Hans")
    assert _parse(chinese).name == "默认晋级政策"
    same = _parse(chinese).model_copy(update={"name": "Default ladder"})
    assert same == _parse(english)

    def comments(text: str) -> list[str]:
        return [line.split("#", 1)[1] for line in text.splitlines() if "#" in line]

    assert len(comments(chinese)) == len(comments(english))
    # Every comment is translated: no comment of the Chinese file lacks Chinese characters.
    assert all(re.search("[\u4e00-\u9fff]", comment) for comment in comments(chinese))


def test_component_weights_summing_to_99_are_refused_naming_the_components() -> None:
    text = default_policy_text().replace("quality:   {weight: 35", "quality:   {weight: 34")
    assert _problems(text) == [
        (
            "components",
            "weights sum to 99, not 100 (service 40, quality 34, training 15, knowledge 10)",
        )
    ]


def test_metric_weights_of_a_component_summing_to_99_name_that_component() -> None:
    text = default_policy_text().replace("qa_score: 70", "qa_score: 69")
    assert _problems(text) == [
        ("components.quality.metrics", "weights of quality sum to 99, not 100")
    ]


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (("fcr_rate: 25", "fcr_rte: 25"), "components.service.metrics.fcr_rte"),
        (("approval: manager", "approval: boss"), "promotion.approval"),
        (("max_step: 1", "max_step: 2"), "promotion.max_step"),
        (
            ("certifications: [sales_skill]", "certifications: [sales]"),
            "promotion.entry.skilled.certifications",
        ),
        (("  min_surveys: 30", "  min_surveys: 30\n  min_exams: 2"), "evidence.min_exams"),
        (("{id: potential,", "{id: potencial,"), "levels"),
        (
            ("    super:           {min_score: 90", "    superb:          {min_score: 90"),
            "promotion.entry.superb",
        ),
        (
            (
                "fcr_rate:        {linear: {best: 0.85, worst: 0.55}}",
                "fcr_rate:        {linear: {best: 0.85, worst: 0.85}}",
            ),
            "scoring.fcr_rate.linear",
        ),
    ],
)
def test_mistakes_are_refused_with_their_key(change: tuple[str, str], key: str) -> None:
    old, new = change
    text = default_policy_text()
    assert old in text
    assert key in [k for k, _ in _problems(text.replace(old, new))]


def test_bands_must_be_ordered() -> None:
    text = default_policy_text().replace("[[0.98, 100], [0.95, 85]", "[[0.95, 85], [0.98, 100]")
    [(key, message)] = _problems(text)
    assert key == "scoring.attendance_rate"
    assert "descending" in message


def test_broken_yaml_names_the_line() -> None:
    [(key, _)] = _problems("name: x\nlevels: [\n")
    assert key.startswith("line ")


def test_hash_ignores_comments_and_layout_but_not_content() -> None:
    text = policy_text()
    assert policy_hash(_parse(text)) == policy_hash(_parse("# a comment\n" + text))
    assert policy_hash(_parse(text)) != policy_hash(_parse(policy_text(band=3)))


def test_a_spread_must_name_a_known_metric_and_be_positive() -> None:
    text = policy_text().replace("  spread: {}", "  spread: {qa_score: 0, no_such_metric: 5}")
    assert ("evidence.spread.no_such_metric", "unknown metric") in _problems(text)
    assert ("evidence.spread.qa_score", "must be above 0") in _problems(text)


def test_a_confidence_of_one_is_refused() -> None:
    assert [key for key, _ in _problems(policy_text(confidence=1))] == ["promotion.confidence"]


def test_a_period_of_the_wrong_kind_is_refused_in_words_of_the_readers_language() -> None:
    policy = _parse(default_policy_text())
    policy_service.check_period_kind(policy, parse_period("2026-10"))
    with pytest.raises(InvalidInput) as caught:
        policy_service.check_period_kind(policy, parse_period("2026-10"), parse_period("2026-Q4"))
    assert caught.value.translated("zh_Hans") == "政策按月考核；请给出一个月份，如 2026-10"
    assert "month" not in caught.value.translated("zh_Hans")


@pytest.mark.parametrize(
    ("change", "key", "english", "chinese"),
    [
        (
            ("  min_surveys: 30", "  min_surveys: 30\n  min_exams: 2"),
            "evidence.min_exams",
            "unknown key: not allowed here",  # pydantic said "Extra inputs are not permitted"
            "未知的键：此处不允许",
        ),
        (
            ("max_step: 1", "max_step: 2"),
            "promotion.max_step",
            "must be one of 1",
            "须为以下之一：1",
        ),
        (("confidence: 0.95", "confidence: 1.5"), "promotion.confidence", None, "须小于 1"),
        (("band: 2", "band: lots"), "promotion.band", "must be a number", "须为数字"),
        (
            ("qa_score: 70", "qa_score: 69"),
            "components.quality.metrics",
            "weights of quality sum to 99, not 100",
            "quality 内的权重合计为 99，而不是 100",
        ),
    ],
)
def test_problems_read_in_the_readers_language(
    change: tuple[str, str], key: str, english: str | None, chinese: str
) -> None:
    old, new = change
    assert old in default_policy_text()
    with pytest.raises(PolicyError) as caught:
        _parse(default_policy_text().replace(old, new))
    assert (key, chinese) in caught.value.texts("zh_Hans")
    if english is not None:
        assert (key, english) in caught.value.problems
    assert chinese in caught.value.translated("zh_Hans")


def test_evidence_windows_are_validated_and_resolved_per_metric() -> None:
    unknown = dict(_problems(policy_text(evidence="  window: {nope: {periods: 2}}")))
    assert unknown["evidence.window.nope"] == "unknown metric"
    empty = dict(_problems(policy_text(evidence="  window: {qa_score: {periods: 0}}")))
    assert "evidence.window.qa_score.periods" in empty
    assert "evidence.on_insufficient" in dict(_problems(policy_text(on_insufficient="forget")))
    text = policy_text(
        evidence="  window: {qa_score: {periods: 2}}\n"
        "  shrink: {qa_score: {prior_weight: 5, toward: own_history, periods: 6}}"
    ).replace(
        "quality: {weight: 50, metrics: {qa_score: 100}}",
        "quality: {weight: 50, metrics: {qa_score: 100}, window: {periods: 3, decay: 0.5}}",
    )
    policy = _parse(text)
    # The metric's own window wins over its component's.
    assert {m: (w.periods, w.decay) for m, w in policy.evidence_windows().items()} == {
        "qa_score": (2, 1.0)
    }
    # One earlier period for the window, six behind it for the agent's own history.
    assert policy.history_periods() == {"qa_score": 7}
    assert policy.evidence.on_insufficient == "pause"
