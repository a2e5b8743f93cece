"""The training provider: the product's own exams and course records as evidence for the
ladder, and the certifications valid on a period's last day (the policy's certification gates
read them; passing a programme's exams awards them, see `training.programmes.service`).

Per agent and period (the period's days in the centre's time zone):

* `exam_score`: for every exam whose counted attempts were submitted in the period, the
  result they count for under the exam's grading method (highest, last, first or average of
  the period's attempts), averaged over the exams **required of the agent** (the exam's
  audience names the agent's team, skill group, level on the period's last day, or employee
  number). Exams the agent took but that are not required of them (an open exam without an
  audience, one for another group) are left out: voluntary practice neither lifts nor lowers
  the score. A required exam not taken in the period gives no zero: exams run on their own
  windows, and a policy that wants them taken gates on `exams_passed` or on the sample.
  Sample: the attempts behind the counted results.
* `exams_passed`: the exams, required or not, whose counted result in the period passes.
  Sample: the exams with a counted result.
* `training_hours`: the hours of the course records completed in the period. Sample: the
  course records.

Results imported from other tools under the same names (`agentladder ladder evidence import`)
keep working for agents the product has no result for; where both exist the product's win.

The exam and course services load only when facts are gathered or a close runs: the ladder
reads the declarations and certification names to explain any decision.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from agentladder.closing import CloseContext, CloseStep, StepFigures, register_close_step
from agentladder.config import get_settings
from agentladder.db import utcnow
from agentladder.freshness import StaleInput, utc_text
from agentladder.i18n import N_
from agentladder.imports.models import FileImport
from agentladder.metrics import service as metrics_service
from agentladder.metrics.schemas import Fact, MetricDefinition, ProviderBase
from agentladder.org import service as org_service
from agentladder.org.schemas import AgentRead
from agentladder.training.certifications import service as certifications_service
from agentladder.training.exams.schemas import Audience
from agentladder.training.models import AttemptSlot, ExamAttempt

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agentladder.config import Settings
    from agentladder.periods import Period
    from agentladder.training.exams.service import CountedResult

SOURCE = "training"

EXAM_SCORE = MetricDefinition(
    "exam_score",
    "考试成绩",
    "Exam score",
    "score",
    "up",
    SOURCE,
    sample="attempts",
    bounds=(0, 100),
)
EXAMS_PASSED = MetricDefinition(
    "exams_passed",
    "通过考试数",
    "Exams passed",
    "count",
    "up",
    SOURCE,
    sample="exams",
    bounds=(0, None),
)
# Hours add up over a window: a gate reads "40 hours in 12 months" as the months' sum.
TRAINING_HOURS = MetricDefinition(
    "training_hours",
    "培训学时",
    "Training hours",
    "hours",
    "up",
    SOURCE,
    sample="courses",
    bounds=(0, None),
)
EXAM_METRICS = frozenset({EXAM_SCORE.id, EXAMS_PASSED.id})


class TrainingProvider(ProviderBase):
    """Exam results, course hours and certificates from the training records."""

    name = SOURCE

    def metrics(self) -> Sequence[MetricDefinition]:
        """The exam score (0-100), exams passed and training hours."""
        return [EXAM_SCORE, EXAMS_PASSED, TRAINING_HOURS]

    def facts(
        self, *, session: Session, periods: Sequence[Period], metrics: Collection[str] | None
    ) -> Iterable[tuple[str, Fact]]:
        """Per agent and period: the metrics above (see the module's docstring)."""
        wanted = {d.id for d in self.metrics() if metrics is None or d.id in metrics}
        if not wanted:
            return
        zone = get_settings().tz
        for period in periods:
            if wanted & EXAM_METRICS:
                start, end = period.bounds_utc(zone)
                for fact in _exam_facts(session, period, start, end, wanted):
                    yield period.label, fact
            if TRAINING_HOURS.id in wanted:
                from agentladder.training.courses import service as courses_service

                for agent in courses_service.course_hours(
                    session=session, first_day=period.first_day, last_day=period.last_day
                ):
                    yield (
                        period.label,
                        Fact(agent.agent_id, TRAINING_HOURS.id, agent.hours, agent.courses, SOURCE),
                    )

    def certification_types(self, *, session: Session) -> Collection[str]:
        """The built-in certification types and those the centre added."""
        return certifications_service.known_certification_types(session=session)

    def certification_names(self, *, session: Session) -> Mapping[str, tuple[str, str]]:
        """The built-in and the centre's certification types by their names."""
        return {
            kind.code: (kind.zh, kind.en)
            for kind in certifications_service.list_certification_types(session=session)
        }

    def certifications(
        self, *, session: Session, agent_ids: Collection[int], period: Period
    ) -> dict[int, set[str]]:
        """Certificates valid on the period's last day."""
        return certifications_service.valid_certifications(
            session=session, agent_ids=list(agent_ids), on=period.last_day
        )

    def stale_inputs(
        self, *, session: Session, settings: Settings, period: Period
    ) -> list[StaleInput]:
        """Exam results and course records of the period that came after its evidence was
        gathered (its metrics computed): closing the period again reads them. Nothing when the
        period was never computed. Certificates are never stale: a ladder run reads them as
        they are on the period's last day."""
        computed = metrics_service.computed_at(session=session, period=period)
        if computed is None:
            return []
        from agentladder.training.courses import service as courses_service

        start, end = period.bounds_utc(settings.tz)
        found = [
            (
                N_(
                    "exam results of {period} submitted, graded or imported after its evidence "
                    "was gathered: {count} (the last at {changed})"
                ),
                *_exam_results_after(session, start, end, computed),
            ),
            (
                N_(
                    "course records of {period} entered or changed after its evidence was "
                    "gathered: {count} (the last at {changed})"
                ),
                *courses_service.courses_recorded_after(
                    session=session,
                    first_day=period.first_day,
                    last_day=period.last_day,
                    after=computed,
                ),
            ),
        ]
        return [
            StaleInput(
                what=what,
                params={"period": period.label, "count": count, "changed": utc_text(changed)},
                changed_at=changed,
                computed_at=computed,
                refresh_command=f"agentladder cycle close --period {period.label}",
                source=SOURCE,
            )
            for what, count, changed in found
            if count and changed is not None
        ]


def _exam_facts(
    session: Session, period: Period, start: datetime, end: datetime, wanted: Collection[str]
) -> Iterable[Fact]:
    from agentladder.training.exams import service as exams_service

    results = exams_service.counted_results(session=session, start=start, end=end)
    if not results:
        return
    audiences: dict[str, Audience] = {
        code: exams_service.get_exam(session=session, code=code).audience
        for code in sorted({result.exam_code for result in results})
    }
    agents = _agents_on(
        session,
        {result.agent_id for result in results},
        period,
        levels_asked=any(audience.levels for audience in audiences.values()),
    )
    by_agent: dict[int, list[CountedResult]] = defaultdict(list)
    for result in results:
        by_agent[result.agent_id].append(result)
    for agent_id, taken in by_agent.items():
        agent = agents.get(agent_id)
        required = [
            result
            for result in taken
            if agent is not None and _required(audiences[result.exam_code], agent)
        ]
        if EXAM_SCORE.id in wanted and required:
            yield Fact(
                agent_id,
                EXAM_SCORE.id,
                sum(result.percent for result in required) / len(required),
                sum(result.attempts for result in required),
                SOURCE,
            )
        if EXAMS_PASSED.id in wanted:
            passed = sum(1 for result in taken if result.passed)
            yield Fact(agent_id, EXAMS_PASSED.id, passed, len(taken), SOURCE)


def _required(audience: Audience, agent: AgentRead) -> bool:
    from agentladder.training.exams import service as exams_service

    # An empty audience requires nobody: anyone may take the exam, nobody is held to it.
    return not audience.empty and exams_service.is_required(audience, agent)


def _agents_on(
    session: Session, agent_ids: Collection[int], period: Period, *, levels_asked: bool
) -> dict[int, AgentRead]:
    """The agents with their team and skill groups, and, when an audience names levels, the
    level they held on the period's last day (a promotion decided at the period's close takes
    effect after it, so closing the period again reads the same audience)."""
    agents = {
        agent.id: agent for agent in org_service.agents_by_ids(session=session, agent_ids=agent_ids)
    }
    if levels_asked:
        for standing in org_service.standings_on(session=session, on=period.last_day):
            agent = agents.get(standing.agent_id)
            if agent is not None and agent.current_level != standing.level:
                agents[standing.agent_id] = agent.model_copy(
                    update={"current_level": standing.level}
                )
    return agents


def _exam_results_after(
    session: Session, start: datetime, end: datetime, after: datetime
) -> tuple[int, datetime | None]:
    """Finished attempts submitted in [start, end) whose result came after a moment: submitted,
    an essay graded (or regraded), or imported after it; how many and the last moment."""
    in_period = (
        ExamAttempt.state == "finished",
        ExamAttempt.submitted_at >= start,
        ExamAttempt.submitted_at < end,
    )
    moments: dict[int, datetime] = {}
    queries = (
        select(ExamAttempt.id, ExamAttempt.submitted_at).where(
            *in_period, ExamAttempt.submitted_at > after
        ),
        select(ExamAttempt.id, func.max(AttemptSlot.graded_at))
        .join(AttemptSlot, AttemptSlot.attempt_id == ExamAttempt.id)
        .where(*in_period, AttemptSlot.graded_at > after)
        .group_by(ExamAttempt.id),
        select(ExamAttempt.id, FileImport.imported_at)
        .join(FileImport, FileImport.id == ExamAttempt.file_import_id)
        .where(*in_period, FileImport.imported_at > after),
    )
    for query in queries:
        for attempt_id, moment in session.execute(query).all():
            if moment is not None and (attempt_id not in moments or moment > moments[attempt_id]):
                moments[attempt_id] = moment
    return len(moments), max(moments.values(), default=None)


def _close_exams(context: CloseContext) -> StepFigures:
    """Submit the attempts whose time ran out unseen, so that the ladder counts them."""
    from agentladder.training.exams import service as exams_service

    context.progress(0, 1)
    finished = exams_service.finish_overdue_attempts(session=context.session, now=utcnow())
    context.progress(1, 1)
    return {"finished": finished}


register_close_step(
    CloseStep("exam_attempts", "考试收卷", "Overdue exam attempts", run=_close_exams)
)

PROVIDER = TrainingProvider()
