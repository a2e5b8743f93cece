"""The demo's ladder: what the centre's QA tool (for the site whose calls never reach the
product) and exam system would export about each agent, and the certificates it holds, drawn
from latent skill and imported the way a centre brings results from other tools today; then
monthly ladder cycles under the demo's policy (the shipped default with the automatic QA
score beside the QA score, see `demo_policy_text`), a manager approving each month's moves
except the last month's, which wait in the approval queue for whoever opens the UI. Knowledge
contributions are not imported: the demo's library (`demo.library`) earns them, and the
knowledge provider hands them to the ladder.
"""

from __future__ import annotations

import csv
import io
import math
import random
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.config import Language
from agentladder.demo.models import DemoAgentTruth
from agentladder.errors import InvalidInput
from agentladder.external import service as external
from agentladder.ladder.decisions import service as decisions_service
from agentladder.ladder.policy import service as policy_service
from agentladder.ladder.policy.service import default_policy_text
from agentladder.org import service as org_service
from agentladder.org.accounts import service as accounts_service
from agentladder.org.models import User
from agentladder.periods import Period
from agentladder.quality import service as quality_service
from agentladder.training.certifications import service as certifications_service

QA_BASE, QA_PER_SKILL = 84.0, 5.0  # mean QA score at skill 0, and per standard deviation
EXAM_BASE, EXAM_PER_SKILL = 76.0, 8.0
FATAL_RATE = 0.004  # per evaluation at skill 0 (about 3 % of agent-months); falls with skill
# Certificates and the skill from which an agent earns them (product knowledge: everyone).
CERTIFICATE_SKILL = {
    "product_knowledge": -10.0,
    "service_skill": -0.4,
    "sales_skill": 0.3,
    "comprehensive": 1.1,
}
LAPSE_SHARE = 0.08  # certificates not renewed in time

# The demo's policy: the shipped default's lines, each followed by what the demo adds. The
# quality component gives the automatic QA score 15 of QA's 70 (QA evaluations sample six
# calls an agent a month; the rules judge every transcribed call, but only its etiquette),
# scored from 60 (the weakest agents' calls) to 95, pooled over three months like the QA
# score, with the spread of one call's score (about 12 points in the demo) for its
# confidence bound. The shipped default leaves it out: a centre without transcripts would
# carry a metric with no data.
_POLICY_EDITS: tuple[tuple[str, str], ...] = (
    (
        "metrics: {qa_score: 70, csat_rate: 20, complaint_rate: 10}",
        "metrics: {qa_score: 55, autoqa_score: 15, csat_rate: 20, complaint_rate: 10}",
    ),
    (
        "  qa_score:        {linear: {best: 95, worst: 70}}\n",
        "  qa_score:        {linear: {best: 95, worst: 70}}\n"
        "  autoqa_score:    {linear: {best: 95, worst: 60}}\n",
    ),
    (
        "    qa_score:      {periods: 3, decay: 1}\n",
        "    qa_score:      {periods: 3, decay: 1}\n    autoqa_score:  {periods: 3, decay: 1}\n",
    ),
)
_POLICY_SPREAD = re.compile(r"^(    qa_score: 8\.5\b.*\n)", re.MULTILINE)
_POLICY_NAME = re.compile(r"^name: .*$", re.MULTILINE)
DEMO_POLICY_NAMES = {
    "zh_Hans": "默认晋级政策（含自动质检）",
    "en": "Default ladder with automatic QA",
}


@dataclass
class LadderDemo:
    """What the ladder steps did, for the summary."""

    evidence_files: int
    evidence_rows: int
    certificate_rows: int
    periods: list[str]
    last_counts: dict[str, int]
    approved: int


def _skill(truth: DemoAgentTruth, hire_date: date, on: date) -> float:
    months = (on.year - hire_date.year) * 12 + on.month - hire_date.month
    return min(truth.ceiling, truth.skill_at_hire + truth.learning_per_month * max(0, months))


def _agents(session: Session) -> list[tuple[org_service.LevelStanding, DemoAgentTruth]]:
    truths = {t.agent_id: t for t in session.scalars(select(DemoAgentTruth))}
    people = org_service.standings_on(session=session, on=date.max - timedelta(days=1))
    return [(p, truths[p.agent_id]) for p in people if p.agent_id in truths]


def _csv(rows: list[list[object]], header: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    # GB18030, as exports from Chinese QA and exam systems usually are.
    return buffer.getvalue().encode("gb18030")


def evidence_rows(
    people: list[tuple[org_service.LevelStanding, DemoAgentTruth]],
    period: Period,
    rng: random.Random,
    evaluated: Collection[int] = (),
) -> list[list[object]]:
    """One month of QA, fatal-error and exam results per agent working that month; no QA for
    the agents `evaluated` in the product that month (the second site, whose calls never reach
    the product, keeps its QA tool's results). Knowledge contributions come from the library."""
    rows: list[list[object]] = []
    for person, truth in people:
        if person.hire_date > period.last_day:
            continue
        skill = _skill(truth, person.hire_date, period.last_day)
        noise = 1.0 + truth.volatility
        # Most agents get the 6+ evaluations the policy asks for; some months QA falls short.
        evaluations = max(1, min(12, round(rng.gauss(7.5, 1.6))))
        scores = [
            min(100.0, max(30.0, rng.gauss(QA_BASE + QA_PER_SKILL * skill, 4.5 * noise)))
            for _ in range(evaluations)
        ]
        fatal_p = FATAL_RATE * math.exp(-0.9 * skill)
        fatal = sum(1 for _ in range(evaluations) if rng.random() < fatal_p)
        exam = min(100.0, max(0.0, rng.gauss(EXAM_BASE + EXAM_PER_SKILL * skill, 6.0 * noise)))
        number = person.employee_no
        if person.agent_id not in evaluated:
            rows += [
                [
                    number,
                    period.label,
                    "qa_score",
                    round(sum(scores) / evaluations, 1),
                    evaluations,
                ],
                [number, period.label, "qa_fatal_errors", fatal, evaluations],
            ]
        rows.append([number, period.label, "exam_score", round(exam, 1), 1])
    return rows


def certificate_rows(
    people: list[tuple[org_service.LevelStanding, DemoAgentTruth]],
    today: date,
    rng: random.Random,
) -> list[list[object]]:
    """Certificates earned since hire once skill allowed, renewed yearly (a few lapse)."""
    rows: list[list[object]] = []
    for person, truth in people:
        for code, needed in CERTIFICATE_SKILL.items():
            earned = None
            day = person.hire_date + timedelta(days=30)
            while day <= today:
                if _skill(truth, person.hire_date, day) >= needed:
                    earned = day
                    break
                day += timedelta(days=30)
            if earned is None:
                continue
            issued = earned
            while issued <= today:
                expires = issued + timedelta(days=365)
                rows.append(
                    [
                        person.employee_no,
                        code,
                        issued.isoformat(),
                        expires.isoformat(),
                        "培训考试系统",
                    ]
                )
                if rng.random() < LAPSE_SHARE:
                    break  # not renewed: expired unless this one is still running
                issued = expires + timedelta(days=1)
    return rows


def demo_policy_text(language: Language = "zh_Hans") -> str:
    """The shipped default policy with `autoqa_score` in the quality component (see
    `_POLICY_EDITS`), its comments kept; refused when the default no longer reads as
    expected."""
    text = default_policy_text(language)
    unchanged = all(text.count(old) == 1 for old, _ in _POLICY_EDITS)
    for old, new in _POLICY_EDITS:
        text = text.replace(old, new)
    text, spreads = _POLICY_SPREAD.subn(r"\1    autoqa_score: 12\n", text)
    text, names = _POLICY_NAME.subn(f"name: {DEMO_POLICY_NAMES[language]}", text, count=1)
    if not unchanged or spreads != 1 or names != 1:
        raise RuntimeError("the default policy changed: the demo cannot add autoqa_score to it")
    return text


def _manager(session: Session) -> User | None:
    return accounts_service.get_user_by_username(session=session, username="manager")


def run_ladder_demo(
    *,
    session: Session,
    folder: Path,
    periods: list[Period],
    today: date,
    rng: random.Random,
    zone: ZoneInfo,
    language: Language = "zh_Hans",
) -> LadderDemo:
    """Write and import the evidence and certificate files, apply the demo's policy (see
    `demo_policy_text`), and run one ladder cycle per period."""
    folder.mkdir(parents=True, exist_ok=True)
    people = _agents(session)
    evidence_total = 0
    for period in periods:
        evaluated = {
            e.agent_id
            for e in quality_service.period_evaluations(session=session, period=period, zone=zone)
        }
        rows = evidence_rows(people, period, rng, evaluated)
        data = _csv(rows, ["工号", "周期", "指标", "值", "样本量"])
        path = folder / f"质检考试-{period.label}.csv"
        path.write_bytes(data)
        report = external.import_external_evidence(session=session, data=data, file_name=path.name)
        if report.rejected:
            raise InvalidInput("the demo's evidence file {file} was refused", file=path.name)
        evidence_total += report.rows_read
    certificates = certificate_rows(people, today, rng)
    data = _csv(certificates, ["工号", "认证类型", "发证日期", "有效期至", "来源"])
    path = folder / "认证记录.csv"
    path.write_bytes(data)
    imported = certifications_service.import_certifications(
        session=session, data=data, file_name=path.name
    )
    if not imported.applied:
        raise InvalidInput("the demo's certificate file was refused")

    policy_service.apply_policy(
        session=session, text=demo_policy_text(language), note="演示：默认晋级政策加自动质检得分"
    )
    manager = _manager(session)
    approved = 0
    last_counts: dict[str, int] = {}
    for index, period in enumerate(periods):
        run = decisions_service.run_period(session=session, period=period)
        last_counts = run.counts()
        if index == len(periods) - 1:
            break  # the last month's moves wait for a manager in the UI
        for view in run.decisions:
            if view.status == "pending" and view.decision_id is not None:
                decisions_service.review_decision(
                    session=session,
                    decision_id=view.decision_id,
                    approve=True,
                    by=manager,
                    reason="演示：经理审批",
                )
                approved += 1
    return LadderDemo(
        evidence_files=len(periods),
        evidence_rows=evidence_total,
        certificate_rows=len(certificates),
        periods=[p.label for p in periods],
        last_counts=last_counts,
        approved=approved,
    )
