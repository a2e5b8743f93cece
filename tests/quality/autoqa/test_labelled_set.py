"""The rules against the hand-labelled calls (tests/data/autoqa): every rule agrees with the
labels at least at a floor per split, so that a change that breaks a rule fails here.

The floors are a little under what the tuned rules reach (benchmarks/autoqa_rules.py prints
the figures); the validation split was never used to tune.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentladder.quality.autoqa.rules import RULE_IDS, CallFacts, default_rule_set, judge_call
from agentladder.quality.autoqa.schemas import Transcript

DATA = Path(__file__).parents[2] / "data" / "autoqa"
# The agents of the labelled calls, as the call data names them.
AGENT_NAMES = {
    "3012": "陈静",
    "3021": "王芳",
    "3033": "张敏",
    "3047": "赵磊",
    "3055": "李强",
    "3068": "刘洋",
    "3076": "周婷",
    "3089": "吴昊",
}
# Least share of calls whose verdict matches the label, per split.
FLOOR = {"tune": 0.97, "validation": 0.95}


def _agreement(split: str) -> dict[str, float]:
    transcripts = (DATA / "transcripts.jsonl").read_text(encoding="utf-8").splitlines()
    labels = (DATA / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    rules = default_rule_set()
    agree = dict.fromkeys(RULE_IDS, 0)
    calls = 0
    for line, label_line in zip(transcripts, labels, strict=True):
        label = json.loads(label_line)
        if label["split"] != split:
            continue
        transcript = Transcript.model_validate_json(line)
        assert transcript.call_id == label["call_id"]
        call = label["call"]
        agent = transcript.agent or ""
        facts = CallFacts(
            ring_s=call["ring_s"],
            queue_wait_s=call["queue_wait_s"],
            hangup_by=call["hangup_by"],
            agent_names=(agent, AGENT_NAMES[agent]) if agent else (),
        )
        calls += 1
        for verdict in judge_call(transcript, facts, rules).verdicts:
            agree[verdict.rule] += verdict.verdict == label["labels"][verdict.rule]
    return {rule: agree[rule] / calls for rule in RULE_IDS}


@pytest.mark.parametrize("split", ["tune", "validation"])
def test_every_rule_agrees_with_the_labels_at_least_at_the_floor(split: str) -> None:
    below = {
        rule: round(share, 3) for rule, share in _agreement(split).items() if share < FLOOR[split]
    }
    assert below == {}
