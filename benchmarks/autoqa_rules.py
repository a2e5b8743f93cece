"""Automatic QA rules: agreement with the hand-labelled calls, and judging speed.

Quality, on the labelled set (tests/data/autoqa, 152 calls; the rules were tuned on the `tune`
split only, `validation` is held out). Per rule, the rule's verdicts against the labels:

* fail precision = calls the rule fails that are labelled fail / calls the rule fails;
* fail recall = calls labelled fail that the rule fails / calls labelled fail;
* the same two for `pass`; `na` is a third class (a pass or fail on a call labelled na counts
  against both);
* agreement = calls whose verdict equals the label / all calls of the split.

Targets (issue 16): fail precision >= 0.90 and fail recall >= 0.85 per rule on `validation`.

Speed: `judge_call` on synthetic 3-8 minute transcripts (agentladder.demo.transcripts, skill
uniform in [0, 1], one in five in English), transcripts a second, in this process and with 2
worker processes (target >= 200/s on 2 cores). The baseline, in the same process on the same
transcripts: the cheapest check of the same phrase lists, `phrase in text` on each raw turn
(no normal form, no approximate matching, no timing rules). Generating the transcripts is not
timed.

Usage: `python benchmarks/autoqa_rules.py [--calls 2000] [--seed 42] [--runs 3]`; writes
`benchmarks/results/autoqa_rules.json`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from agentladder.demo.transcripts import synthetic_transcript
from agentladder.quality.autoqa.rules import (
    RULE_IDS,
    CallFacts,
    Phrases,
    RuleSet,
    default_rule_set,
    judge_call,
)
from agentladder.quality.autoqa.schemas import Transcript

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "autoqa"
RESULTS = Path(__file__).parent / "results" / "autoqa_rules.json"
TARGET_PRECISION, TARGET_RECALL, TARGET_PER_S = 0.90, 0.85, 200.0
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
WORKERS = 2


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def agreement(split: str, rules: RuleSet) -> dict[str, dict[str, object]]:
    """Per rule: fail and pass precision and recall, agreement, and the confusion counts."""
    transcripts = (DATA / "transcripts.jsonl").read_text(encoding="utf-8").splitlines()
    labels = (DATA / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    pairs: dict[str, Counter[tuple[str, str]]] = {rule: Counter() for rule in RULE_IDS}
    for line, label_line in zip(transcripts, labels, strict=True):
        label = json.loads(label_line)
        if label["split"] != split:
            continue
        transcript = Transcript.model_validate_json(line)
        agent = transcript.agent or ""
        call = label["call"]
        facts = CallFacts(
            ring_s=call["ring_s"],
            queue_wait_s=call["queue_wait_s"],
            hangup_by=call["hangup_by"],
            agent_names=(agent, AGENT_NAMES[agent]) if agent else (),
        )
        for verdict in judge_call(transcript, facts, rules).verdicts:
            pairs[verdict.rule][(label["labels"][verdict.rule], verdict.verdict)] += 1
    report: dict[str, dict[str, object]] = {}
    for rule, counts in pairs.items():
        figures: dict[str, object] = {}
        for verdict in ("fail", "pass"):
            hits = counts[(verdict, verdict)]
            judged = sum(n for (_, got), n in counts.items() if got == verdict)
            labelled = sum(n for (want, _), n in counts.items() if want == verdict)
            figures[f"{verdict}_precision"] = _ratio(hits, judged)
            figures[f"{verdict}_recall"] = _ratio(hits, labelled)
            figures[f"{verdict}_labelled"] = labelled
        total = sum(counts.values())
        figures["agreement"] = _ratio(sum(n for (w, g), n in counts.items() if w == g), total)
        figures["calls"] = total
        figures["confusion"] = {f"{w}->{g}": n for (w, g), n in sorted(counts.items())}
        precision, recall = figures["fail_precision"], figures["fail_recall"]
        figures["met"] = (
            isinstance(precision, float)
            and isinstance(recall, float)
            and precision >= TARGET_PRECISION
            and recall >= TARGET_RECALL
        )
        report[rule] = figures
    return report


# --- speed --------------------------------------------------------------------------------


def generate(calls: int, seed: int) -> list[tuple[Transcript, CallFacts]]:
    """`calls` synthetic 3-8 minute transcripts with their call data."""
    rng = np.random.default_rng(seed)
    generated = []
    for index in range(calls):
        agent_no = str(3000 + int(rng.integers(100)))
        language = "en" if index % 5 == 0 else "zh"
        call = synthetic_transcript(
            rng,
            call_id=f"bench-{index}",
            agent_no=agent_no,
            agent_name="Wang Fang" if language == "en" else "王芳",
            skill=float(rng.uniform()),
            duration_s=float(rng.uniform(180, 480)),
            language=language,
        )
        data = call.call
        facts = CallFacts(data.ring_s, data.queue_wait_s, data.hangup_by, (agent_no,))
        generated.append((call.transcript, facts))
    return generated


# The workers are forked after the calls are generated and find them here, so that only
# index ranges cross between processes (pickling 2,000 transcripts cost more than judging).
_CALLS: list[tuple[Transcript, CallFacts]] = []
_WORKER_RULES: RuleSet | None = None


def _worker_start() -> None:
    global _WORKER_RULES
    _WORKER_RULES = default_rule_set()


def _judge_range(bounds: tuple[int, int]) -> int:
    assert _WORKER_RULES is not None
    for transcript, facts in _CALLS[bounds[0] : bounds[1]]:
        judge_call(transcript, facts, _WORKER_RULES)
    return bounds[1] - bounds[0]


def _all_phrases(rules: RuleSet) -> list[str]:
    """Every phrase list of the rule set, both languages."""
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, Phrases):
            found.extend(value.zh + value.en)
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))

    walk(rules)
    return found


def baseline_pass(calls: list[tuple[Transcript, CallFacts]], phrases: list[str]) -> int:
    """The baseline: `phrase in text` for every phrase on every raw turn."""
    found = 0
    for transcript, _ in calls:
        for turn in transcript.turns:
            text = turn.text.lower()
            found += sum(phrase in text for phrase in phrases)
    return found


def speed(calls_n: int, seed: int, runs: int) -> dict[str, object]:
    """Best-of-`runs` transcripts a second: judged in one process, with 2 workers, and the
    baseline."""
    calls = generate(calls_n, seed)
    rules = default_rule_set()
    phrases = _all_phrases(rules)
    minutes = [transcript.duration_s / 60 for transcript, _ in calls]
    turns = [len(transcript.turns) for transcript, _ in calls]
    single, base, pooled = [], [], []
    for _ in range(runs):
        started = time.perf_counter()
        for transcript, facts in calls:
            judge_call(transcript, facts, rules)
        single.append(time.perf_counter() - started)
        started = time.perf_counter()
        baseline_pass(calls, phrases)
        base.append(time.perf_counter() - started)
    _CALLS[:] = calls
    chunks = [(i, min(i + 50, len(calls))) for i in range(0, len(calls), 50)]
    context = multiprocessing.get_context("fork")
    with context.Pool(WORKERS, initializer=_worker_start) as pool:
        pool.map(_judge_range, chunks[:WORKERS])  # warm: imports and rules loaded
        for _ in range(runs):
            started = time.perf_counter()
            judged = sum(pool.map(_judge_range, chunks))
            pooled.append(time.perf_counter() - started)
            assert judged == len(calls)
    return {
        "calls": len(calls),
        "minutes_mean": float(np.mean(minutes)),
        "minutes_range": [float(min(minutes)), float(max(minutes))],
        "turns_mean": float(np.mean(turns)),
        "phrases": len(phrases),
        "single_s": min(single),
        "single_per_s": len(calls) / min(single),
        "workers": WORKERS,
        "pooled_s": min(pooled),
        "pooled_per_s": len(calls) / min(pooled),
        "baseline_s": min(base),
        "baseline_per_s": len(calls) / min(base),
    }


def _fmt(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float) else "-"


def print_agreement(split: str, report: dict[str, dict[str, object]]) -> None:
    """One table: a line per rule."""
    print(f"\n{split} split ({next(iter(report.values()))['calls']} calls)")
    print(
        f"{'rule':25}{'fail P':>8}{'fail R':>8}{'pass P':>8}{'pass R':>8}"
        f"{'agree':>8}{'fails':>7}  target"
    )
    for rule, figures in report.items():
        print(
            f"{rule:25}{_fmt(figures['fail_precision']):>8}{_fmt(figures['fail_recall']):>8}"
            f"{_fmt(figures['pass_precision']):>8}{_fmt(figures['pass_recall']):>8}"
            f"{_fmt(figures['agreement']):>8}{figures['fail_labelled']:>7}  "
            f"{'met' if figures['met'] else 'MISSED'}"
        )


def main() -> None:
    """Run, print, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    rules = default_rule_set()
    quality = {split: agreement(split, rules) for split in ("validation", "tune")}
    print(f"rule set {rules.name!r} {rules.content_hash[:12]}")
    print(f"targets per rule: fail precision >= {TARGET_PRECISION}, recall >= {TARGET_RECALL}")
    for split, report in quality.items():
        print_agreement(split, report)
    timing = speed(args.calls, args.seed, args.runs)
    print(
        f"\nspeed: {timing['calls']} synthetic calls, {timing['minutes_mean']:.1f} min mean "
        f"({timing['minutes_range'][0]:.1f}-{timing['minutes_range'][1]:.1f}), "  # type: ignore[index]
        f"{timing['turns_mean']:.0f} turns mean, best of {args.runs}"
    )
    print(f"  judge_call, 1 process:   {timing['single_per_s']:8.0f} calls/s")
    met = "met" if timing["pooled_per_s"] >= TARGET_PER_S else "MISSED"  # type: ignore[operator]
    print(
        f"  judge_call, {WORKERS} processes: {timing['pooled_per_s']:8.0f} calls/s "
        f"(target >= {TARGET_PER_S:.0f}/s: {met})"
    )
    print(
        f"  baseline (`in` over {timing['phrases']} phrases, raw text): "
        f"{timing['baseline_per_s']:8.0f} calls/s"
    )
    report = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "rule_set_hash": rules.content_hash,
        "agreement": quality,
        "speed": timing,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()
