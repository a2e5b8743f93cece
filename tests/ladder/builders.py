"""A small policy whose composite is easy to reason about, and evidence builders."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from agentladder.external.models import ExternalEvidence
from agentladder.ladder.decisions import service as decisions_service
from agentladder.ladder.decisions.schemas import DecisionView
from agentladder.ladder.decisions.service import RunReport
from agentladder.ladder.policy import service as policy_service
from agentladder.org.models import Agent
from agentladder.periods import parse_period

ENTRY_SCORES = {
    "basic_sophomore": 55,
    "basic_junior": 60,
    "basic_senior": 65,
    "potential": 70,
    "developing": 75,
    "skilled": 80,
    "expert": 85,
    "super": 90,
}


def policy_text(
    *,
    consecutive: int = 2,
    band: float = 2,
    protect: int = 1,
    approval: str = "auto",
    demote_after: int = 2,
    entry: dict[str, str] | None = None,
    weights: tuple[int, int] = (50, 50),
    confidence: float = 0,
    qa_spread: float | None = None,
    on_insufficient: str = "pause",
    evidence: str = "",
) -> str:
    """Composite = (fcr_rate x 100 + qa_score) / 2 with both present; 100 calls and 6 QA
    evaluations at least. `entry` replaces a level's entry line (YAML flow mapping);
    `evidence` adds lines to the evidence section (indented by two spaces)."""
    lines = []
    for level, score in ENTRY_SCORES.items():
        spec = (entry or {}).get(level, f"{{min_score: {score}}}")
        lines.append(f"    {level}: {spec}")
    entries = "\n".join(lines)
    return f"""\
name: Test ladder
period: month
levels:
  - {{id: basic_fresh,      tier: basic,   zh: 初级座席·新手,   en: Basic Fresh}}
  - {{id: basic_sophomore,  tier: basic,   zh: 初级座席·二级,   en: Basic Sophomore}}
  - {{id: basic_junior,     tier: basic,   zh: 初级座席·三级,   en: Basic Junior}}
  - {{id: basic_senior,     tier: basic,   zh: 初级座席·四级,   en: Basic Senior}}
  - {{id: potential,        tier: primary, zh: 中级座席·潜力,   en: Potential Agent}}
  - {{id: developing,       tier: primary, zh: 中级座席·发展,   en: Developing Agent}}
  - {{id: skilled,          tier: primary, zh: 中级座席·熟练,   en: Skilled Agent}}
  - {{id: expert,           tier: senior,  zh: 高级座席·专家,   en: Expert Agent}}
  - {{id: super,            tier: senior,  zh: 高级座席·超级,   en: Super Agent}}
components:
  service: {{weight: {weights[0]}, metrics: {{fcr_rate: 100}}}}
  quality: {{weight: {weights[1]}, metrics: {{qa_score: 100}}}}
scoring:
  fcr_rate: {{linear: {{best: 1.0, worst: 0.0}}}}
  qa_score: {{linear: {{best: 100, worst: 0}}}}
evidence:
  min_handled_calls: 100
  min_qa_evaluations: 6
  spread: {{{f"qa_score: {qa_spread}" if qa_spread else ""}}}
  on_insufficient: {on_insufficient}
{evidence}
promotion:
  consecutive_periods: {consecutive}
  band: {band}
  confidence: {confidence}
  protect_periods: {protect}
  approval: {approval}
  entry:
{entries}
demotion:
  consecutive_periods: {demote_after}
  margin: 10
"""


def give(
    session: Session,
    agent: Agent,
    period: str,
    *,
    score: float | None = None,
    calls: int = 120,
    qa_evaluations: int = 6,
    fatal: int | None = None,
) -> None:
    """Evidence for a period: `score` sets fcr_rate and qa_score so the composite is `score`."""
    facts: list[tuple[str, float, int]] = [("handled_calls", calls, calls)]
    if score is not None:
        facts += [("fcr_rate", score / 100, calls), ("qa_score", score, qa_evaluations)]
    if fatal is not None:
        facts.append(("qa_fatal_errors", fatal, qa_evaluations))
    for metric, value, sample in facts:
        session.add(
            ExternalEvidence(
                agent_id=agent.id,
                period=period,
                metric_id=metric,
                value=value,
                sample_size=sample,
                source="test",
            )
        )
    session.flush()


HIRED = date(2024, 1, 10)


def run(session: Session, period: str, text: str, dry_run: bool = False) -> RunReport:
    """Decide a period under a policy text."""
    policy = policy_service.load_policy_text(session=session, text=text)
    return decisions_service.run_period(
        session=session, period=parse_period(period), policy=policy, dry_run=dry_run
    )


def decision_of(report: RunReport, agent: Agent) -> DecisionView:
    """One agent's decision in a run."""
    [view] = [v for v in report.decisions if v.agent_id == agent.id]
    return view


def gate_of(view: DecisionView, name: str) -> dict[str, object]:
    """One gate of a decision, by name."""
    [gate] = [g for g in view.detail["gates"] if g["gate"] == name]
    return gate
