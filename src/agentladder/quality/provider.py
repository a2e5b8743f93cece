"""The quality provider: the product's own QA evaluations as evidence for the ladder. It
declares the quality metrics (results imported from other tools under the same names keep
working: the external provider's facts come first, and the product's own win where both exist).

The quality services load only when facts are gathered or a close runs: the ladder reads the
declarations to explain any decision, and `ladder explain` should not pay for the rest."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from agentladder.closing import CloseContext, CloseStep, StepFigures, register_close_step
from agentladder.config import get_settings
from agentladder.freshness import StaleInput, utc_text
from agentladder.i18n import N_, N_plural
from agentladder.metrics import service as metrics_service
from agentladder.metrics.schemas import Fact, MetricDefinition, PolicyKey, ProviderBase
from agentladder.quality.autoqa.schemas import RULE_NAMES
from agentladder.quality.models import QaEvaluation

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.orm import Session

    from agentladder.config import Settings
    from agentladder.periods import Period

# Gap sentences decisions stored before the plural forms hold: kept translated.
STORED_ONLY_SENTENCES = (N_("{count} more QA evaluations"),)

QA_EVALUATIONS_GAP = N_plural("{count} more QA evaluation", "{count} more QA evaluations")

QA_SCORE = MetricDefinition(
    "qa_score",
    "质检得分",
    "QA score",
    "score",
    "up",
    "quality",
    sample="evaluations",
    bounds=(0, 100),
    evaluator_scored=True,
    adjusted_variant="qa_score_adjusted",
    policy_keys=(
        PolicyKey(
            "evidence",
            "min_qa_evaluations",
            "min_samples",
            gate="min_qa_evaluations",
            label=N_("QA evaluations"),
            gap=QA_EVALUATIONS_GAP[0],
            gap_plural=QA_EVALUATIONS_GAP[1],
            default=0,
        ),
        PolicyKey(
            "entry",
            "min_qa_score",
            "min_value",
            gate="qa_score",
            label=N_("QA score"),
            gap=N_("QA score {needed} (now {actual})"),
        ),
    ),
)
QA_FATAL_ERRORS = MetricDefinition(
    "qa_fatal_errors",
    "致命错误",
    "Fatal errors",
    "count",
    "down",
    "quality",
    sample="evaluations",
    bounds=(0, None),
    policy_keys=(
        PolicyKey(
            "entry",
            "no_fatal_months",
            "no_events",
            gate="fatal_errors",
            label=N_("Fatal errors in the window"),
            gap=N_("no fatal errors in the gate's window (now {count})"),
        ),
        PolicyKey(
            "demotion",
            "on_fatal_compliance",
            "trigger",
            gate="fatal_errors",
            label=N_("Fatal errors"),
            default="review",
            review_reason=N_("A compliance-critical fatal error this period: a review is open."),
            demote_reason=N_("A compliance-critical fatal error this period: demoted one level."),
        ),
    ),
)
QA_EVALUATIONS = MetricDefinition(
    "qa_evaluations",
    "质检次数",
    "QA evaluations",
    "count",
    "up",
    "quality",
    sample="evaluations",
    bounds=(0, None),
)
FATAL_ACCURACY = MetricDefinition(
    "fatal_accuracy",
    "致命错误准确率",
    "Fatal accuracy",
    "rate",
    "up",
    "quality",
    sample="evaluations",
    bounds=(0, 1),
)
NONFATAL_ACCURACY = MetricDefinition(
    "nonfatal_accuracy",
    "非致命项通过率",
    "Non-fatal accuracy",
    "rate",
    "up",
    "quality",
    sample="items",
    bounds=(0, 1),
)
QA_SCORE_ADJUSTED = MetricDefinition(
    "qa_score_adjusted",
    "质检得分（校正评分人偏差）",
    "QA score, adjusted for evaluators",
    "score",
    "up",
    "quality",
    sample="evaluations",
    bounds=None,  # a harsh evaluator's effect taken out can lift a score past 100
)
COMPLIANCE_SCORE = MetricDefinition(
    "compliance_score",
    "合规得分",
    "Compliance score",
    "score",
    "up",
    "quality",
    sample="evaluations",
    bounds=(0, 100),
    evaluator_scored=True,
)
AUTOQA_SCORE = MetricDefinition(
    "autoqa_score",
    "自动质检得分",
    "Auto QA score",
    "score",
    "up",
    "quality",
    sample="calls",
    bounds=(0, 100),
)
# Each rule's pass rate over the calls it applied to.
AUTOQA_RULE_RATES = tuple(
    MetricDefinition(
        f"autoqa_{rule}_rate",
        f"自动质检：{zh}通过率",
        f"Auto QA: {en.lower()} pass rate",
        "rate",
        "up",
        "quality",
        sample="calls",
        bounds=(0, 1),
    )
    for rule, (zh, en) in RULE_NAMES.items()
)
SOURCE = "quality"


class QualityProvider(ProviderBase):
    """Official, submitted evaluations of the calls of each period (coaching ones never count)."""

    name = "quality"

    def metrics(self) -> Sequence[MetricDefinition]:
        """QA score, evaluations, fatal errors, fatal and non-fatal accuracy, compliance."""
        return [
            QA_SCORE,
            QA_SCORE_ADJUSTED,
            QA_EVALUATIONS,
            QA_FATAL_ERRORS,
            FATAL_ACCURACY,
            NONFATAL_ACCURACY,
            COMPLIANCE_SCORE,
            AUTOQA_SCORE,
            *AUTOQA_RULE_RATES,
        ]

    def facts(
        self, *, session: Session, periods: Sequence[Period], metrics: Collection[str] | None
    ) -> Iterable[tuple[str, Fact]]:
        """Per agent and period (the call's time in the centre's zone): the metrics above."""
        zone = get_settings().tz
        for period in periods:
            start, end = period.bounds_utc(zone)
            rows = session.execute(
                select(
                    QaEvaluation.agent_id,
                    QaEvaluation.overall,
                    QaEvaluation.fatal,
                    QaEvaluation.compliance,
                    QaEvaluation.scores_json,
                ).where(
                    QaEvaluation.status == "submitted",
                    QaEvaluation.kind == "official",
                    QaEvaluation.call_at >= start,
                    QaEvaluation.call_at < end,
                )
            ).all()
            by_agent: dict[int, list[tuple[float, bool, float | None, str]]] = defaultdict(list)
            for agent_id, overall, fatal, compliance, scores in rows:
                # A submitted evaluation always has its overall score.
                by_agent[agent_id].append((overall or 0.0, fatal, compliance, scores))
            for agent_id, evaluations in by_agent.items():
                for fact in _agent_facts(agent_id, evaluations):
                    if metrics is None or fact.metric_id in metrics:
                        yield period.label, fact
            yield from _autoqa_facts(session, period, start, end, metrics)
            if by_agent and (metrics is None or "qa_score_adjusted" in metrics):
                from agentladder.quality import service as quality_service

                adjusted = quality_service.period_scores(session=session, period=period, zone=zone)
                for agent in adjusted.agents:
                    yield (
                        period.label,
                        Fact(
                            agent.agent_id,
                            "qa_score_adjusted",
                            agent.qa_score_adjusted,
                            agent.evaluations,
                            SOURCE,
                            detail=adjusted.adjustment_of(agent),
                        ),
                    )

    def stale_inputs(
        self, *, session: Session, settings: Settings, period: Period
    ) -> list[StaleInput]:
        """Official evaluations changed after the period was gathered, and transcripts not
        judged under the rule set in force."""
        return [
            *self._stale_evaluations(session, settings, period),
            *_stale_autoqa(session, settings, period),
        ]

    def _stale_evaluations(
        self, session: Session, settings: Settings, period: Period
    ) -> list[StaleInput]:
        """Official evaluations of the period's calls submitted, overturned or regraded after
        the period's evidence was gathered (its metrics computed): closing the period again
        gathers it anew. Nothing when the period was never computed (the ladder reads the
        evaluations as they are)."""
        computed = metrics_service.computed_at(session=session, period=period)
        if computed is None:
            return []
        start, end = period.bounds_utc(settings.tz)
        count, newest = session.execute(
            select(func.count(), func.max(QaEvaluation.updated_at)).where(
                QaEvaluation.status == "submitted",
                QaEvaluation.kind == "official",
                QaEvaluation.call_at >= start,
                QaEvaluation.call_at < end,
                QaEvaluation.updated_at > computed,
            )
        ).one()
        if not count or newest is None:
            return []
        return [
            StaleInput(
                what=N_(
                    "QA evaluations of {period} submitted or changed after its evidence was "
                    "gathered: {count} (the last at {changed})"
                ),
                params={"period": period.label, "count": count, "changed": utc_text(newest)},
                changed_at=newest,
                computed_at=computed,
                refresh_command=f"agentladder cycle close --period {period.label}",
                source=SOURCE,
            )
        ]


def _autoqa_facts(
    session: Session,
    period: Period,
    start: datetime,
    end: datetime,
    metrics: Collection[str] | None,
) -> Iterable[tuple[str, Fact]]:
    wanted = [
        metric.id
        for metric in (AUTOQA_SCORE, *AUTOQA_RULE_RATES)
        if metrics is None or metric.id in metrics
    ]
    if not wanted:
        return
    from agentladder.quality.autoqa import service as autoqa_service

    for agent in autoqa_service.agent_figures(session=session, start=start, end=end):
        if "autoqa_score" in wanted:
            yield (
                period.label,
                Fact(agent.agent_id, "autoqa_score", agent.score, agent.calls, SOURCE),
            )
        for rule in RULE_NAMES:
            metric_id = f"autoqa_{rule}_rate"
            if metric_id in wanted:
                yield (
                    period.label,
                    Fact(
                        agent.agent_id,
                        metric_id,
                        agent.pass_rate(rule),
                        agent.applicable.get(rule, 0),
                        SOURCE,
                    ),
                )


def _agent_facts(
    agent_id: int, evaluations: list[tuple[float, bool, float | None, str]]
) -> list[Fact]:
    count = len(evaluations)
    fatal = sum(1 for _, failed, _, _ in evaluations if failed)
    compliance = [value for _, _, value, _ in evaluations if value is not None]
    passed = applicable = 0
    for _, _, _, scores in evaluations:
        scored = json.loads(scores or "{}")
        passed += int(scored.get("nonfatal_passed", 0))
        applicable += int(scored.get("nonfatal_applicable", 0))

    def fact(metric: str, value: float | None, sample: int) -> Fact:
        return Fact(agent_id, metric, value, sample, SOURCE)

    return [
        fact("qa_score", sum(o for o, _, _, _ in evaluations) / count, count),
        fact("qa_evaluations", count, count),
        fact("qa_fatal_errors", fatal, count),
        fact("fatal_accuracy", 1 - fatal / count, count),
        fact("nonfatal_accuracy", passed / applicable if applicable else None, applicable),
        fact(
            "compliance_score",
            sum(compliance) / len(compliance) if compliance else None,
            len(compliance),
        ),
    ]


def _stale_autoqa(session: Session, settings: Settings, period: Period) -> list[StaleInput]:
    """The period's transcripts stored or changed, or the rule set changed, since they were
    judged: autoqa_score would read verdicts the rules in force do not give."""
    from agentladder.quality.autoqa import service as autoqa_service

    count, changed = autoqa_service.stale_results(session=session, settings=settings, period=period)
    if not count or changed is None:
        return []
    return [
        StaleInput(
            what=N_(
                "call transcripts of {period} not judged under the automatic QA rules in "
                "force: {count} (changed at {changed})"
            ),
            params={"period": period.label, "count": count, "changed": utc_text(changed)},
            changed_at=changed,
            computed_at=metrics_service.computed_at(session=session, period=period),
            refresh_command=f"agentladder quality autoqa run --period {period.label}",
            source=SOURCE,
        )
    ]


def _close_autoqa(context: CloseContext) -> StepFigures:
    """Judge the period's transcripts that the rule set in force has not judged."""
    from agentladder.quality.autoqa import service as autoqa_service

    context.progress(0, 1)
    run = autoqa_service.run_autoqa(
        session=context.session, settings=context.settings, period=context.period
    )
    context.progress(1, 1)
    return {"transcripts": run.transcripts, "judged": run.judged}


register_close_step(CloseStep("autoqa", "自动质检", "Automatic QA", run=_close_autoqa))

PROVIDER = QualityProvider()
