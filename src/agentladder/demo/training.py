"""The demo's training: the bilingual question bank (`demo.question_bank`) stored in the bank,
one certification exam per area published over the months of calls, and the agents taking
them through the exam service as an agent's browser would, answering from their latent skill;
a trainer marks the essays, and passing awards the certificate through the programmes.

How an agent answers: each question is right with the chance an item-response model gives
(p = c + (1 - c) / (1 + exp(-a (skill - b)))): `skill` is the agent's latent skill on the day
plus the day's form (and what studying the review adds before a re-take), `b` the question's
difficulty (by its level and area, with a fixed spread per question), `a` the discrimination,
`c` what guessing earns (half for true/false, one option's share for a single choice). A wrong
answer to a multi-part question is partly right (one right option missed, two items swapped),
so partial credit shows. Agents who fail re-take a week or more later while attempts are left;
some required agents have not sat an exam yet.

Nothing here is read by the product: it only ever sees the bank, the exams, the attempts and
the certificates, as if people had made them in the workspace.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from agentladder.demo import question_bank
from agentladder.demo.question_bank import bi
from agentladder.org import service as org_service
from agentladder.org.schemas import LEVELS, AgentRead
from agentladder.training.certifications import service as certifications_service
from agentladder.training.certifications.schemas import CertificationFilter
from agentladder.training.exams import service as exams_service
from agentladder.training.exams.schemas import (
    AttemptResult,
    Audience,
    Blueprint,
    ExamSettings,
    SaveAnswer,
    Section,
    ShownSlot,
)
from agentladder.training.models import ExamAttempt
from agentladder.training.programmes import service as programmes
from agentladder.training.questions import service as bank_service
from agentladder.training.questions.schemas import (
    QUESTION_TYPES,
    Difficulty,
    Question,
    QuestionType,
)

# The item-response model (see the module docstring).
DIFFICULTY_B: dict[str, float] = {"easy": -2.0, "medium": -1.0, "hard": 0.2}
DIFFICULTY_SPREAD = 0.3  # SD of one question's difficulty around its level's
DISCRIMINATION = 1.3
# How much harder each area's questions are than their level says: the comprehensive exam is
# sat by the primary and senior agents only, and asks more of them.
AREA_OFFSET: dict[str, float] = {
    question_bank.PRODUCT: 0.0,
    question_bank.SERVICE: -0.1,
    question_bank.SALES: 0.2,
    question_bank.COMPREHENSIVE: 0.9,
}
RETAKE_STUDY = 0.35  # skill gained for the exam by studying the review before each re-take
FORM_SD = 0.3  # an agent's form on the day of an exam, in skill units
# Agents sit their first exam once trained: this many days after hire at the earliest.
FIRST_EXAM_AFTER_HIRE_DAYS = 20
NOT_TAKEN_SHARE = 0.06  # required agents who have not sat the exam yet
RETAKE_AFTER_DAYS = (7, 21)  # a failed attempt is re-taken this many days later
ESSAY_GRADED_AFTER_DAYS = (1, 4)  # the trainer marks an essay this many days after submission
# Essay marks as a share of the slot's mark: from the agent's skill, with the trainer's spread.
ESSAY_BASE, ESSAY_PER_SKILL, ESSAY_SD = 0.62, 0.15, 0.1
WORKDAY_START, WORKDAY_MINUTES = time(9, 0), 8 * 60  # when attempts start (local time)
EXAM_OPEN_AFTER_TODAY_DAYS = 45  # the exams still run after the demo's today
TRAINER_USERNAME = "trainer"
OBJECTIVE: tuple[QuestionType, ...] = tuple(
    kind for kind in QUESTION_TYPES if kind not in ("essay", "description")
)
# Wrong answers an agent types to short-answer questions.
WRONG_SHORT = ("好的", "请讲", "稍后回复", "OK", "马上")


@dataclass(frozen=True)
class Draw:
    """A section of an exam: `count` questions of a difficulty, `mark` each."""

    difficulty: Difficulty
    count: int
    mark: float


@dataclass(frozen=True)
class DemoExam:
    """One certification exam: its area, sections (difficulty, questions, mark each), an essay
    of `essay_mark` (0: none), and the programme that awards the certificate."""

    area_code: str  # PK, SS, SA, CA: the exam's code is this and the year
    area: str
    cert_type: str
    title: tuple[str, str]
    sections: tuple[Draw, ...]
    essay_mark: float
    pass_percent: float
    time_limit_min: int
    max_attempts: int
    audience: Audience
    opens_after_months: int  # after the first month of calls

    def code(self, year: int) -> str:
        """The exam's code for a year's round."""
        return f"{self.area_code}-{year}"


_PRIMARY_AND_UP = tuple(level.id for level in LEVELS if level.tier in ("primary", "senior"))
_EVERY_LEVEL = tuple(level.id for level in LEVELS)
EXAMS: tuple[DemoExam, ...] = (
    DemoExam(
        "PK",
        question_bank.PRODUCT,
        "product_knowledge",
        ("产品知识认证考试", "Product knowledge certification"),
        (Draw("easy", 5, 6), Draw("medium", 6, 7), Draw("hard", 4, 7)),
        0,
        70,
        30,
        3,
        Audience(levels=_EVERY_LEVEL),
        0,
    ),
    DemoExam(
        "SS",
        question_bank.SERVICE,
        "service_skill",
        ("服务技能认证考试", "Service skill certification"),
        (Draw("easy", 5, 6), Draw("medium", 5, 8), Draw("hard", 3, 10)),
        0,
        70,
        40,
        3,
        Audience(levels=_EVERY_LEVEL),
        0,
    ),
    DemoExam(
        "SA",
        question_bank.SALES,
        "sales_skill",
        ("销售技能认证考试", "Sales skill certification"),
        (Draw("easy", 4, 6), Draw("medium", 5, 7), Draw("hard", 2, 12)),
        17,
        70,
        40,
        3,
        Audience(skill_groups=("sales",)),
        1,
    ),
    DemoExam(
        "CA",
        question_bank.COMPREHENSIVE,
        "comprehensive",
        ("综合能力认证考试", "Comprehensive ability certification"),
        (Draw("easy", 3, 6), Draw("medium", 5, 7), Draw("hard", 2, 12)),
        23,
        75,
        45,
        2,
        Audience(levels=_PRIMARY_AND_UP),
        2,
    ),
)


@dataclass
class TrainingDemo:
    """What the training step did, for the summary."""

    questions: int
    questions_by_area: dict[str, int]
    exams: list[str]
    attempts: int = 0
    passed: int = 0
    failed: int = 0
    awaiting_grading: int = 0
    essays_graded: int = 0
    certificates: dict[str, int] = field(default_factory=dict)
    expiring: int = 0
    expired: int = 0


@dataclass(frozen=True)
class _Item:
    """A stored question version as the simulated agents know it."""

    question: Question
    difficulty_b: float


@dataclass(order=True)
class _Sitting:
    """An agent due to sit an exam at a moment (the queue's order: time, then arrival)."""

    at: datetime
    order: int
    agent_id: int = field(compare=False)
    exam: DemoExam = field(compare=False)
    number: int = field(compare=False)  # 1 for the first attempt


def _local(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    start = datetime.combine(day, WORKDAY_START, tzinfo=zone) + timedelta(minutes=minutes)
    return start.astimezone(UTC)


def _month_start(day: date, months: int) -> date:
    index = day.month - 1 + months
    return date(day.year + index // 12, index % 12 + 1, 1)


def store_bank(
    *, session: Session, rng: random.Random, user_id: int | None
) -> tuple[dict[int, _Item], Counter[str]]:
    """The demo's questions stored through the bank service: the model's view of each stored
    version (by version id), and how many questions each area holds."""
    items: dict[int, _Item] = {}
    by_area: Counter[str] = Counter()
    for question in question_bank.demo_questions():
        stored = bank_service.store_question(
            session=session, question=question, source="demo", user_id=user_id
        )
        level = DIFFICULTY_B[question.difficulty or "medium"] + AREA_OFFSET[question.category[0]]
        items[stored.version_id] = _Item(question, level + rng.gauss(0.0, DIFFICULTY_SPREAD))
        by_area[question.category[0]] += 1
    return items, by_area


def _exam_settings(exam: DemoExam, year: int, opens: datetime, closes: datetime) -> ExamSettings:
    sections = [
        Section(
            title=bi(*_SECTION_TITLES[draw.difficulty]),
            category=(exam.area,),
            difficulty=draw.difficulty,
            types=OBJECTIVE,
            count=draw.count,
            mark=draw.mark,
        )
        for draw in exam.sections
    ]
    if exam.essay_mark:
        sections.append(
            Section(
                title=bi("论述题", "Essay"),
                category=(exam.area,),
                types=("essay",),
                count=1,
                mark=exam.essay_mark,
            )
        )
    zh, en = exam.title
    return ExamSettings(
        code=exam.code(year),
        title=bi(f"{year}年{zh}", f"{en} {year}"),
        description=(
            f"通过后获得{question_bank.CERT_NAMES[exam.cert_type][0]}，有效期"
            f"{question_bank.VALIDITY_MONTHS[exam.cert_type]}个月。\n"
            f"Passing awards the {question_bank.CERT_NAMES[exam.cert_type][1]} certificate, "
            f"valid for {question_bank.VALIDITY_MONTHS[exam.cert_type]} months."
        ),
        time_limit_min=exam.time_limit_min,
        max_attempts=exam.max_attempts,
        grading_method="highest",
        pass_percent=exam.pass_percent,
        review="answers",
        opens_at=opens,
        closes_at=closes,
        blueprint=Blueprint(sections=tuple(sections)),
        audience=exam.audience,
    )


_SECTION_TITLES: dict[str, tuple[str, str]] = {
    "easy": ("基础题", "Basic"),
    "medium": ("提高题", "Intermediate"),
    "hard": ("挑战题", "Advanced"),
}


def publish_exams(
    *, session: Session, first: date, today: date, zone: ZoneInfo, user_id: int | None
) -> dict[str, datetime]:
    """Each area's exam saved, published and linked to its certificate by a programme; when
    each opens, by exam code."""
    year = first.year
    closes = datetime.combine(
        today + timedelta(days=EXAM_OPEN_AFTER_TODAY_DAYS), time(0), tzinfo=zone
    )
    opens_at: dict[str, datetime] = {}
    for exam in EXAMS:
        opens = datetime.combine(_month_start(first, exam.opens_after_months), time(0), tzinfo=zone)
        settings_in = _exam_settings(exam, year, opens.astimezone(UTC), closes.astimezone(UTC))
        exams_service.save_exam(session=session, settings_in=settings_in, user_id=user_id)
        exams_service.set_exam_status(session=session, code=settings_in.code, status="published")
        programmes.save_programme(
            session=session,
            programme_in=programmes.ProgrammeIn(
                code=f"CERT-{settings_in.code}",
                cert_type=exam.cert_type,
                exam_codes=(settings_in.code,),
                validity_months=question_bank.VALIDITY_MONTHS[exam.cert_type],
            ),
            user_id=user_id,
        )
        opens_at[settings_in.code] = opens.astimezone(UTC)
    return opens_at


def right_chance(item: _Item, skill: float) -> float:
    """The chance an agent of this skill (on the day) answers the question right."""
    question = item.question
    guess = 0.0
    if question.type == "true_false":
        guess = 0.5
    elif question.type == "single_choice":
        guess = 1 / len(question.choices)
    return guess + (1 - guess) / (1 + math.exp(-DISCRIMINATION * (skill - item.difficulty_b)))


def shown_response(
    slot: ShownSlot, question: Question, right: bool, skill: float, rng: random.Random
) -> object:
    """The answer as the attempt page posts it (options by the position shown): the right one,
    or a wrong one (partly right where the type gives partial credit)."""
    kind = question.type
    if kind in ("single_choice", "multiple_choice"):
        at = {choice.text: choice.position for choice in slot.choices}
        good = [i for i, choice in enumerate(question.choices) if choice.fraction > 0]
        bad = [i for i, choice in enumerate(question.choices) if choice.fraction <= 0]
        if kind == "single_choice":
            best = max(good, key=lambda i: question.choices[i].fraction)
            return at[question.choices[best if right else rng.choice(bad)].text]
        chosen = list(good)
        if not right:
            if len(chosen) > 1:
                chosen.remove(rng.choice(chosen))
            if bad and (len(good) == 1 or rng.random() < 0.5):
                chosen.append(rng.choice(bad))
        return sorted(at[question.choices[i].text] for i in chosen)
    if kind == "true_false":
        return question.correct_answer if right else not question.correct_answer
    if kind == "short_answer":
        return question.choices[0].text if right else rng.choice(WRONG_SHORT)
    if kind == "numerical":
        value = next(a.value for a in question.numeric_answers if a.value is not None)
        if not right:
            value = value * rng.choice((0.5, 0.8, 1.25, 1.5)) + rng.choice((1, 2, 5))
        return f"{value:g}"
    if kind == "matching":
        at = {answer.text: answer.position for answer in slot.answers}
        keys = [str(i) for i, pair in enumerate(question.pairs) if pair.prompt]
        picked = {key: at[question.pairs[int(key)].answer] for key in keys}
        if not right:
            first, second = rng.sample(keys, 2)
            picked[first], picked[second] = picked[second], picked[first]
        return picked
    if kind == "ordering":
        at = {answer.text: answer.position for answer in slot.answers}
        placed = [at[text] for text in question.order]
        if not right:
            swap = rng.randrange(len(placed) - 1)
            placed[swap], placed[swap + 1] = placed[swap + 1], placed[swap]
        return placed
    if kind == "essay":
        strong, fair, weak = question_bank.ESSAY_ANSWERS.get(question.idnumber or "", ("", "", ""))
        return strong if skill > 0.8 else fair if skill > -0.3 else weak or "（略）"
    return None


class _Sitter:
    """Takes attempts through the exam service for the simulated agents."""

    def __init__(
        self,
        session: Session,
        items: dict[int, _Item],
        skill_on: Callable[[int, date], float | None],
        rng: random.Random,
        zone: ZoneInfo,
        trainer_id: int | None,
        today_start: datetime,
    ) -> None:
        self.session = session
        self.items = items
        self.skill_on = skill_on
        self.rng = rng
        self.zone = zone
        self.trainer_id = trainer_id
        self.today_start = today_start

    def sit(self, sitting: _Sitting, code: str, result: TrainingDemo) -> AttemptResult | None:
        """One attempt, answered and submitted; its essay marked when the trainer has had the
        time. None when the agent has no latent skill (not one of the demo's)."""
        session, rng = self.session, self.rng
        day = sitting.at.astimezone(self.zone).date()
        skill = self.skill_on(sitting.agent_id, day)
        if skill is None:
            return None
        skill += RETAKE_STUDY * (sitting.number - 1) + rng.gauss(0.0, FORM_SD)
        attempt_id = exams_service.start_attempt(
            session=session, exam_code=code, agent_id=sitting.agent_id, now=sitting.at, rng=rng
        )
        # Held while the agent answers: the service looks the attempt up on every save, and a
        # row nobody holds leaves the session's identity map (a query per answer otherwise).
        held = session.get(ExamAttempt, attempt_id)
        view = exams_service.attempt_view(
            session=session, attempt_id=attempt_id, agent_id=sitting.agent_id, now=sitting.at
        )
        clock = sitting.at
        for slot in view.slots:
            assert slot.version_id is not None
            item = self.items[slot.version_id]
            clock += timedelta(
                seconds=rng.uniform(300, 600)
                if item.question.type == "essay"
                else rng.uniform(15, 70)
            )
            right = rng.random() < right_chance(item, skill)
            exams_service.save_answer(
                session=session,
                attempt_id=attempt_id,
                agent_id=sitting.agent_id,
                answer=SaveAnswer(
                    slot=slot.slot,
                    response=shown_response(slot, item.question, right, skill, rng),
                    seq=1,
                ),
                now=clock,
            )
        submitted = exams_service.submit_attempt(
            session=session,
            attempt_id=attempt_id,
            agent_id=sitting.agent_id,
            now=clock + timedelta(seconds=rng.uniform(5, 60)),
        )
        del held
        result.attempts += 1
        if submitted.state == "needs_grading":
            submitted = self._grade(submitted, view.slots, skill)
            result.essays_graded += submitted.state == "finished"
        if submitted.state == "needs_grading":
            result.awaiting_grading += 1
        elif submitted.passed:
            result.passed += 1
        else:
            result.failed += 1
        return submitted

    def _grade(
        self, submitted: AttemptResult, slots: list[ShownSlot], skill: float
    ) -> AttemptResult:
        """The trainer's marks for the attempt's essays, a day or more after submission; an
        attempt submitted too recently waits in the grading queue."""
        assert submitted.submitted_at is not None
        when = submitted.submitted_at + timedelta(
            days=self.rng.randint(*ESSAY_GRADED_AFTER_DAYS), hours=self.rng.uniform(0, 6)
        )
        if when >= self.today_start:
            return submitted
        for slot in slots:
            if slot.version_id is None or self.items[slot.version_id].question.type != "essay":
                continue
            share = ESSAY_BASE + ESSAY_PER_SKILL * skill + self.rng.gauss(0.0, ESSAY_SD)
            mark = round(min(1.0, max(0.1, share)) * slot.max_mark * 2) / 2
            submitted = exams_service.grade_essay(
                session=self.session,
                attempt_id=submitted.id,
                slot=slot.slot,
                mark=mark,
                comment=_essay_comment(mark / slot.max_mark),
                user_id=self.trainer_id,
                now=when,
            )
        return submitted


def _essay_comment(share: float) -> str:
    if share >= 0.85:
        return "要点完整，表达规范。 / Complete and well put."
    if share >= 0.6:
        return "要点基本覆盖，可补充时限与回访。 / Most points; add times and a follow-up."
    return "要点缺失较多，请复习相关规范。 / Key points missing: review the standards."


def _schedule(
    agents: list[AgentRead],
    opens_at: dict[str, datetime],
    year: int,
    today: date,
    zone: ZoneInfo,
    rng: random.Random,
) -> list[_Sitting]:
    """Each required agent's first attempt at each exam, at a random working moment between
    the later of the exam's opening and the end of their training, and the demo's today."""
    queue: list[_Sitting] = []
    for exam in EXAMS:
        code = exam.code(year)
        opens = opens_at[code].astimezone(zone).date()
        for agent in agents:
            if not exams_service.is_required(exam.audience, agent):
                continue
            if rng.random() < NOT_TAKEN_SHARE:
                continue
            earliest = max(opens, agent.hire_date + timedelta(days=FIRST_EXAM_AFTER_HIRE_DAYS))
            if earliest >= today:
                continue
            day = earliest + timedelta(days=rng.randrange((today - earliest).days))
            at = _local(day, rng.randrange(WORKDAY_MINUTES), zone)
            queue.append(_Sitting(at, len(queue), agent.id, exam, 1))
    heapq.heapify(queue)
    return queue


def _count_certificates(session: Session, today: date, result: TrainingDemo) -> None:
    scope = org_service.AgentScope(everyone=True, team_ids=frozenset(), agent_id=None)

    def total(**filters: object) -> int:
        page = certifications_service.list_certifications(
            session=session,
            scope=scope,
            filters=CertificationFilter.model_validate({"per_page": 1, **filters}),
            today=today,
        )
        return page.total

    result.certificates = {exam.cert_type: total(cert_type=exam.cert_type) for exam in EXAMS}
    result.expiring = total(status="expiring")
    result.expired = total(status="expired")


def run_training_demo(
    *,
    session: Session,
    first: date,
    today: date,
    zone: ZoneInfo,
    skill_on: Callable[[int, date], float | None],
    rng: random.Random,
    trainer_id: int | None,
) -> TrainingDemo:
    """The bank stored, the exams published from `first` (the first day of the months of
    calls), and the agents' attempts until `today`; `skill_on(agent_id, day)` is the agent's
    latent skill that day (None: not an agent of the demo)."""
    items, by_area = store_bank(session=session, rng=rng, user_id=trainer_id)
    opens_at = publish_exams(
        session=session, first=first, today=today, zone=zone, user_id=trainer_id
    )
    result = TrainingDemo(
        questions=len(items), questions_by_area=dict(by_area), exams=list(opens_at)
    )
    agents = [
        org_service.agent_read(agent)
        for agent in org_service.all_agents(session=session)
        if agent.status == "active"
    ]
    today_start = datetime.combine(today, time(0), tzinfo=zone).astimezone(UTC)
    sitter = _Sitter(session, items, skill_on, rng, zone, trainer_id, today_start)
    queue = _schedule(agents, opens_at, first.year, today, zone, rng)
    arrivals = len(queue)
    while queue:
        sitting = heapq.heappop(queue)
        submitted = sitter.sit(sitting, sitting.exam.code(first.year), result)
        if submitted is None or submitted.passed is not False:
            continue
        if sitting.number >= sitting.exam.max_attempts:
            continue
        day = sitting.at.astimezone(zone).date() + timedelta(days=rng.randint(*RETAKE_AFTER_DAYS))
        if day >= today:
            continue
        at = _local(day, rng.randrange(WORKDAY_MINUTES), zone)
        heapq.heappush(
            queue, _Sitting(at, arrivals, sitting.agent_id, sitting.exam, sitting.number + 1)
        )
        arrivals += 1
    _count_certificates(session, today, result)
    return result
