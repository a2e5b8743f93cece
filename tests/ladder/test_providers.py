"""A subsystem plugs into the ladder through its provider alone: a provider registered only in
this test declares new metrics (one counted over a window); the policy weighs one, gates on
the other, asks a minimum sample and a trigger of them, and the ladder scores, gates and
explains them without a line of ladder code knowing they exist."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence

import pytest
from sqlalchemy.orm import Session

from agentladder.errors import InvalidInput
from agentladder.ladder import labels
from agentladder.ladder.decisions import service as decisions_service
from agentladder.ladder.decisions.service import RunReport
from agentladder.ladder.policy import service as policy_service
from agentladder.ladder.policy.schemas import PolicyError
from agentladder.metrics import service as metrics_service
from agentladder.metrics.schemas import Fact, MetricDefinition, ProviderBase
from agentladder.periods import Period, parse_period
from tests.factories import make_agent
from tests.ladder.builders import HIRED, decision_of, gate_of, give, policy_text

COACHING_SCORE = MetricDefinition(
    "coaching_score", "辅导评分", "Coaching score", "score", "up", "coaching", sample="sessions"
)
COACHING_SESSIONS = MetricDefinition(
    "coaching_sessions",
    "辅导次数",
    "Coaching sessions",
    "count",
    "up",
    "coaching",
    sample="sessions",
    window_months=3,
)
MISSED_SHIFTS = MetricDefinition(
    "missed_shifts", "缺勤班次", "Missed shifts", "count", "down", "coaching"
)


class CoachingProvider(ProviderBase):
    """Facts from a dict: {(period label, agent id, metric): (value, sample size)}."""

    name = "coaching"

    def __init__(self) -> None:
        self.results: dict[tuple[str, int, str], tuple[float, int]] = {}

    def metrics(self) -> Sequence[MetricDefinition]:
        return [COACHING_SCORE, COACHING_SESSIONS, MISSED_SHIFTS]

    def facts(
        self, *, session: Session, periods: Sequence[Period], metrics: Collection[str] | None
    ) -> Iterable[tuple[str, Fact]]:
        labels_asked = {period.label for period in periods}
        for (label, agent_id, metric), (value, sample) in self.results.items():
            if label in labels_asked and (metrics is None or metric in metrics):
                yield label, Fact(agent_id, metric, value, sample, self.name)


@pytest.fixture
def coaching() -> Iterator[CoachingProvider]:
    provider = CoachingProvider()
    metrics_service.register_provider(provider)
    try:
        yield provider
    finally:
        metrics_service.unregister_provider(provider.name)


def coaching_policy() -> str:
    """The builders' policy with coaching weighed, gated, minimum-sampled and triggering."""
    text = policy_text(
        consecutive=1,
        entry={
            "basic_sophomore": (
                "{min_score: 55, gates: [{metric: coaching_sessions, min: 4, window_months: 3}]}"
            )
        },
    )
    text = text.replace(
        "  quality: {weight: 50, metrics: {qa_score: 100}}",
        "  quality: {weight: 30, metrics: {qa_score: 100}}\n"
        "  coaching: {weight: 20, metrics: {coaching_score: 100}}",
    )
    text = text.replace(
        "  qa_score: {linear: {best: 100, worst: 0}}",
        "  qa_score: {linear: {best: 100, worst: 0}}\n"
        "  coaching_score: {linear: {best: 100, worst: 0}}",
    )
    text = text.replace(
        "  min_qa_evaluations: 6\n", "  min_qa_evaluations: 6\n  min_samples: {coaching_score: 2}\n"
    )
    return text.replace(
        "  margin: 10\n",
        "  margin: 10\n  triggers: [{metric: missed_shifts, above: 1, action: review}]\n",
    )


def _run(session: Session, period: str) -> RunReport:
    policy = policy_service.load_policy_text(session=session, text=coaching_policy())
    return decisions_service.run_period(
        session=session, period=parse_period(period), policy=policy, dry_run=True
    )


def test_a_provider_alone_adds_metrics_the_ladder_scores_gates_and_explains(
    session: Session, coaching: CoachingProvider
) -> None:
    agent = make_agent(session, hire_date=HIRED)
    give(session, agent, "2026-10", score=80)
    coaching.results[("2026-10", agent.id, "coaching_score")] = (90.0, 3)
    # Sessions over the window: 1 in August, 2 in September, 0 in October: 3 of the 4 needed.
    coaching.results[("2026-08", agent.id, "coaching_sessions")] = (1.0, 1)
    coaching.results[("2026-09", agent.id, "coaching_sessions")] = (2.0, 2)
    coaching.results[("2026-07", agent.id, "coaching_sessions")] = (5.0, 5)  # outside

    view = decision_of(_run(session, "2026-10"), agent)
    [component] = [c for c in view.detail["components"] if c["component"] == "coaching"]
    assert component["weight"] == 20
    assert component["metrics"][0]["metric"] == "coaching_score"
    assert component["metrics"][0]["points"] == 90.0
    assert component["metrics"][0]["source"] == "coaching"
    # fcr 80, qa 80, coaching 90 at weights 50/30/20.
    assert view.composite == pytest.approx(82.0)
    assert gate_of(view, "min_samples:coaching_score")["passed"] is True
    assert gate_of(view, "coaching_sessions") == {
        "gate": "coaching_sessions",
        "level": "basic_sophomore",
        "required": 4.0,
        "actual": 3,
        "passed": False,
    }
    assert view.decision == "hold"
    assert "Not qualified for Basic Sophomore: Coaching sessions." in view.explanation("en")
    assert "Coaching sessions 4 (now 3)" in view.gaps("en")
    assert labels.gate_name("coaching_sessions", "zh_Hans") == "辅导次数"
    assert labels.gate_name("min_samples:coaching_score", "en") == "Sample size of Coaching score"

    # A fourth session in the window: the gate passes and the agent is promoted.
    coaching.results[("2026-10", agent.id, "coaching_sessions")] = (1.0, 1)
    view = decision_of(_run(session, "2026-10"), agent)
    assert gate_of(view, "coaching_sessions")["passed"] is True
    assert view.decision == "promote"


def test_a_provider_metric_below_its_minimum_sample_holds_the_level(
    session: Session, coaching: CoachingProvider
) -> None:
    agent = make_agent(session, hire_date=HIRED)
    give(session, agent, "2026-10", score=80)
    coaching.results[("2026-10", agent.id, "coaching_score")] = (90.0, 1)
    view = decision_of(_run(session, "2026-10"), agent)
    assert view.decision == "insufficient_evidence"
    assert gate_of(view, "min_samples:coaching_score") == {
        "gate": "min_samples:coaching_score",
        "level": "",
        "required": 2,
        "actual": 1,
        "passed": False,
    }
    assert "1 more observation of Coaching score" in view.gaps("en")


def test_a_provider_metric_triggers_a_review(session: Session, coaching: CoachingProvider) -> None:
    agent = make_agent(session, hire_date=HIRED)
    give(session, agent, "2026-10", score=60)
    coaching.results[("2026-10", agent.id, "coaching_score")] = (60.0, 3)
    coaching.results[("2026-10", agent.id, "missed_shifts")] = (2.0, 2)
    view = decision_of(_run(session, "2026-10"), agent)
    assert view.detail["review"] is True
    assert "Missed shifts above 1 this period: a review is open." in view.explanation("en")


def test_an_unknown_metric_in_a_gate_is_refused_by_its_key(session: Session) -> None:
    text = policy_text(
        entry={"basic_sophomore": "{min_score: 55, gates: [{metric: coaching_sessions, min: 4}]}"}
    )
    with pytest.raises(PolicyError) as caught:
        policy_service.load_policy_text(session=session, text=text)
    assert caught.value.problems == [
        ("promotion.entry.basic_sophomore.gates.0.metric", "unknown metric")
    ]


def test_a_metric_is_declared_by_one_provider_only(coaching: CoachingProvider) -> None:
    class Copycat(CoachingProvider):
        name = "copycat"

    with pytest.raises(InvalidInput):
        metrics_service.register_provider(Copycat())
    assert "copycat" not in [p.name for p in metrics_service.evidence_providers()]
