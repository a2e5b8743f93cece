"""Synthetic transcripts: the same generator state gives the same call, the call is a valid
transcript of about the asked length, and a better agent passes the etiquette rules more often."""

from __future__ import annotations

import numpy as np
import pytest

from agentladder.demo.transcripts import (
    Language,
    SyntheticCall,
    SyntheticCallData,
    synthetic_transcript,
)
from agentladder.quality.autoqa.rules import CallFacts, default_rule_set, judge_call

RULES = default_rule_set()


def _call(
    seed: int, *, skill: float = 0.5, duration_s: float = 240, language: Language = "zh"
) -> SyntheticCall:
    return synthetic_transcript(
        np.random.default_rng(seed),
        call_id=f"c{seed}",
        agent_no="3021",
        agent_name="王芳",
        skill=skill,
        duration_s=duration_s,
        language=language,
    )


def test_the_same_generator_state_gives_the_same_call() -> None:
    assert _call(7) == _call(7)
    assert _call(7).transcript != _call(8).transcript


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("duration_s", [60, 180, 480])
def test_a_call_is_a_valid_transcript_of_about_the_asked_length(
    language: Language, duration_s: float
) -> None:
    for seed in range(5):
        generated = _call(seed, duration_s=duration_s, language=language)
        transcript = generated.transcript
        assert transcript.language == language
        assert transcript.agent == "3021"
        assert transcript.hangup_by == generated.call.hangup_by
        assert transcript.turns[0].speaker == "agent"
        assert {turn.speaker for turn in transcript.turns} >= {"agent", "customer"}
        # Holds and the closing add to the asked length; a hold lasts up to 90 s.
        assert 0.6 * duration_s <= transcript.duration_s <= duration_s + 150
        assert generated.call.ring_s >= 0
        assert generated.call.queue_wait_s >= 0


def test_skill_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError):
        _call(1, skill=1.5)


def _pass_rates(skill: float, calls: int = 150) -> dict[str, float]:
    passed: dict[str, int] = {}
    judged: dict[str, int] = {}
    rng = np.random.default_rng(11)
    for index in range(calls):
        generated = synthetic_transcript(
            rng,
            call_id=f"c{index}",
            agent_no="3021",
            agent_name="王芳",
            skill=skill,
            duration_s=float(rng.uniform(60, 240)),
            language="en" if index % 5 == 0 else "zh",
        )
        data = generated.call
        facts = CallFacts(data.ring_s, data.queue_wait_s, data.hangup_by, ("3021", "王芳"))
        for verdict in judge_call(generated.transcript, facts, RULES).verdicts:
            if verdict.verdict != "na":
                judged[verdict.rule] = judged.get(verdict.rule, 0) + 1
                passed[verdict.rule] = passed.get(verdict.rule, 0) + (verdict.verdict == "pass")
    return {rule: passed[rule] / judged[rule] for rule in judged}


def test_a_better_agent_passes_the_etiquette_rules_more_often() -> None:
    weak, strong = _pass_rates(0.1), _pass_rates(0.9)
    for rule in (
        "greeting",
        "late_apology",
        "hold_etiquette",
        "closing_question",
        "thanks_goodbye",
        "forbidden_phrases",
        "customer_hangs_up_first",
        "speaking_rate",
    ):
        assert strong[rule] > weak[rule] + 0.05, rule


def test_a_call_the_acd_recorded_keeps_its_ring_wait_and_hangup() -> None:
    rng = np.random.default_rng(3)
    apologised = 0
    for index in range(40):
        waited = SyntheticCallData(ring_s=2.0, queue_wait_s=95.0, hangup_by=None)
        generated = synthetic_transcript(
            rng,
            call_id=f"w{index}",
            agent_no="3021",
            agent_name="王芳",
            skill=0.95,
            duration_s=120,
            recorded=waited,
        )
        assert generated.call == waited
        assert generated.transcript.hangup_by is None
        facts = CallFacts(waited.ring_s, waited.queue_wait_s, None, ("3021", "王芳"))
        verdicts = {
            v.rule: v.verdict for v in judge_call(generated.transcript, facts, RULES).verdicts
        }
        assert verdicts["customer_hangs_up_first"] == "na"
        apologised += verdicts["late_apology"] == "pass"
    # The wait the ACD recorded is one an apology is owed for, and a skilled agent makes it.
    assert apologised >= 30
