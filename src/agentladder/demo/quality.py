"""The demo's QA: evaluators with a latent harshness score the calls the product samples each
month, answering the default form from the agent's latent skill on the call's day; some
coaching evaluations, disputes (some overturned), calibration sessions, and short synthetic
recordings so the workspace's player works offline.

Nothing here is read by the product: it only ever sees the evaluations, as if people had made
them in the workspace.
"""

from __future__ import annotations

import json
import math
import random
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.formatting import local_date
from agentladder.org import service as org_service
from agentladder.org.accounts import service as accounts_service
from agentladder.org.models import User
from agentladder.org.schemas import UserCreate
from agentladder.periods import Period
from agentladder.quality import service as quality_service
from agentladder.quality.calibration import service as calibration_service
from agentladder.quality.disputes import service as disputes_service
from agentladder.quality.models import QaEvaluation
from agentladder.quality.sampling import service as sampling_service
from agentladder.quality.schemas import Answer, FormSpec

# Mean overall QA score at skill 0 and per standard deviation of skill (as the imported
# evidence of earlier demos had it), and the call-to-call spread of one agent's calls.
QA_BASE, QA_PER_SKILL, QA_CALL_SD = 84.0, 5.0, 6.0
# How harsh (-) or lenient (+) the demo's evaluators are, in points: SD 5 between them.
HARSHNESS_SD = 5.0
FATAL_RATE = 0.006  # per call at skill 0; falls with skill
NOT_APPLICABLE_RATE = 0.08  # items that may be N/A are, this often
EVALUATORS: tuple[tuple[str, str], ...] = (
    ("qa", "质检员·孙婷"),
    ("qa2", "质检员·李静"),
    ("qa3", "质检员·陈刚"),
    ("qa4", "质检员·何敏"),
)
RECORDING_SAMPLE_RATE_HZ = 8000  # telephone audio
RECORDING_SECONDS = 12


@dataclass(frozen=True)
class DemoEvaluator:
    """A demo QA evaluator and the latent harshness their answers carry."""

    username: str
    display_name: str
    harshness: float


def evaluators(rng: random.Random) -> list[DemoEvaluator]:
    """The demo's evaluators, each with a harshness drawn once from the seed."""
    return [
        DemoEvaluator(username, name, round(rng.gauss(0.0, HARSHNESS_SD), 1))
        for username, name in EVALUATORS
    ]


def draw_answers(
    form: FormSpec, *, skill: float, harshness: float, rng: random.Random
) -> dict[str, Answer]:
    """One call's answers on the form: the share of points passed follows the agent's skill
    and the evaluator's harshness, with call-to-call noise; fatal errors are rare and rarer
    for skilled agents."""
    target = QA_BASE + QA_PER_SKILL * skill + harshness + rng.gauss(0.0, QA_CALL_SD)
    share = min(0.995, max(0.2, target / 100.0))
    fatal_chance = FATAL_RATE * math.exp(-0.9 * skill)
    answers: dict[str, Answer] = {}
    for item in form.items():
        if item.fatal is not None:
            answers[item.code] = rng.random() >= fatal_chance
        elif item.allows_na and rng.random() < NOT_APPLICABLE_RATE:
            answers[item.code] = None
        elif item.kind == "scale":
            top = item.scale_max or 1
            answers[item.code] = max(0, min(top, round(top * share + rng.gauss(0.0, 0.6))))
        else:
            answers[item.code] = rng.random() < share
    return answers


def write_recording(path: Path, rng: random.Random) -> None:
    """A short telephone-quality WAV: two voices taking turns as tones of their own pitch
    with pauses, so a player has something to play and seek through."""
    import numpy as np  # only the demo's recordings need it, and only when they are made

    path.parent.mkdir(parents=True, exist_ok=True)
    rate = RECORDING_SAMPLE_RATE_HZ
    parts = []
    second, speaker = 0.0, 0
    while second < RECORDING_SECONDS:
        turn = min(RECORDING_SECONDS - second, rng.uniform(1.0, 2.5))
        pitch = (220.0, 330.0)[speaker] * rng.uniform(0.95, 1.05)
        t = np.arange(int(turn * rate)) / rate
        envelope = np.minimum(1.0, np.minimum(t * 20, (turn - t) * 20))  # no clicks at the edges
        parts.append(0.3 * envelope * np.sin(2 * np.pi * pitch * t))
        pause = rng.uniform(0.2, 0.6)
        parts.append(np.zeros(int(pause * rate)))
        second += turn + pause
        speaker = 1 - speaker
    samples = (np.concatenate(parts) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(rate)
        audio.writeframes(samples.tobytes())


# --- the step ---------------------------------------------------------------------------

SAMPLED_PER_AGENT = 6  # the default policy's minimum QA evaluations
OPEN_SHARE_LAST_MONTH = 0.15  # of the last month's sample, left for the evaluators to do
COACHING_SHARE = 0.1  # agents a month given a coaching evaluation too
DISPUTE_SHARE = 0.05  # of the last two months' evaluations with a lost point, disputed
OVERTURN_SHARE = 0.4  # of the decided disputes, overturned
OPEN_DISPUTES = 2  # the newest disputes wait for their team lead
CALIBRATION_CALLS = 6
CALIBRATION_DEPARTURE = 0.08  # items on which even a calibrated evaluator departs from the anchor
RECORDINGS = 40  # the last month's sampled calls that get a synthetic recording


@dataclass
class QualityDemo:
    """What the QA step did, for the summary."""

    evaluators: dict[str, float]  # username: latent harshness (points)
    samples: int
    official: int
    coaching: int
    open_assignments: int
    disputes: int
    overturned: int
    calibration_sessions: list[str]
    recordings: int
    sampled_calls: list[str] = field(default_factory=list)  # every sample's, by call id


def run_quality_demo(
    *,
    session: Session,
    settings: Settings,
    periods: list[Period],
    skill_on: Callable[[int, date], float | None],
    rng: random.Random,
    password: str,
    password_hash: str,
) -> QualityDemo:
    """QA evaluators score each month's sample of the ingested calls; `skill_on(agent_id,
    day)` is the agent's latent skill that day (None: not an agent of the demo)."""
    people = evaluators(rng)
    users = _evaluator_users(session, settings, people, password, password_hash)
    harshness = {users[p.username].id: p.harshness for p in people}
    form = quality_service.default_form()
    version = quality_service.save_form(session=session, spec=form)
    lead_qa = users[people[0].username]
    result = QualityDemo(
        evaluators={p.username: p.harshness for p in people},
        samples=0,
        official=0,
        coaching=0,
        open_assignments=0,
        disputes=0,
        overturned=0,
        calibration_sessions=[],
        recordings=0,
    )
    by_id = {user.id: user for user in users.values()}
    last_calls: list[tuple[str, datetime, str]] = []
    evaluated: list[QaEvaluation] = []
    for index, period in enumerate(periods):
        sample = sampling_service.draw_sample(
            session=session,
            settings=settings,
            period=period,
            seed=rng.getrandbits(31),
            per_agent=SAMPLED_PER_AGENT,
            by=lead_qa,
        )
        result.samples += 1
        result.sampled_calls += [sampled.call_id for sampled in sample.calls]
        last = index == len(periods) - 1
        finished: dict[int, quality_service.FinishedEvaluation] = {}
        for sampled in list(sample.calls):
            evaluator = by_id.get(sampled.evaluator_user_id or 0)
            skill = skill_on(sampled.agent_id, local_date(sampled.call_at, settings.tz))
            if evaluator is None or skill is None:
                continue
            if last:
                last_calls.append((sampled.call_id, sampled.call_at, sampled.queue))
                if rng.random() < OPEN_SHARE_LAST_MONTH:
                    result.open_assignments += 1
                    continue
            finished[sampled.id] = quality_service.FinishedEvaluation(
                agent_id=sampled.agent_id,
                evaluator=evaluator,
                call_id=sampled.call_id,
                call_at=sampled.call_at,
                answers=draw_answers(form, skill=skill, harshness=harshness[evaluator.id], rng=rng),
            )
        stored = quality_service.record_evaluations(
            session=session, form_version_id=version.id, evaluations=list(finished.values())
        )
        sampling_service.attach_evaluations(
            session=session, evaluations=dict(zip(finished, stored, strict=True))
        )
        result.official += len(stored)
        if index >= len(periods) - 2:
            evaluated += stored
        result.coaching += _coaching(session, settings, period, form, lead_qa, skill_on, rng)
    disputes, overturned = _disputes(session, settings, evaluated, list(users.values()), rng)
    result.disputes, result.overturned = disputes, overturned
    result.calibration_sessions = _calibration(
        session, settings, periods, form, people, users, rng, skill_on
    )
    for call_id, call_at, queue in last_calls[:RECORDINGS]:
        relative = settings.recording_path_template.format(
            date=call_at.astimezone(settings.tz), uniqueid=call_id, agent="", queue=queue
        )
        write_recording(settings.recordings_root / relative, rng)
        result.recordings += 1
    return result


def _user(session: Session, username: str) -> User:
    user = accounts_service.get_user_by_username(session=session, username=username)
    assert user is not None, username  # the demo made it
    return user


def _evaluator_users(
    session: Session,
    settings: Settings,
    people: list[DemoEvaluator],
    password: str,
    password_hash: str,
) -> dict[str, User]:
    existing = {user.username for user in accounts_service.list_users(session=session)}
    for person in people:
        if person.username not in existing:
            accounts_service.create_user(
                session=session,
                settings=settings,
                user_in=UserCreate(
                    username=person.username,
                    password=password,
                    display_name=person.display_name,
                    roles=["qa"],
                ),
                password_hash=password_hash,
            )
    return {person.username: _user(session, person.username) for person in people}


def _coaching(
    session: Session,
    settings: Settings,
    period: Period,
    form: FormSpec,
    coach: User,
    skill_on: Callable[[int, date], float | None],
    rng: random.Random,
) -> int:
    """A coaching evaluation (never counted) of one evaluated call for some agents."""
    version = quality_service.current_form_version(session=session, code=form.code)
    assert version is not None
    made = 0
    evaluations = quality_service.period_evaluations(
        session=session, period=period, zone=settings.tz
    )
    for row in evaluations:
        if rng.random() >= COACHING_SHARE / SAMPLED_PER_AGENT:
            continue
        skill = skill_on(row.agent_id, local_date(row.call_at, settings.tz))
        if skill is None:
            continue
        evaluation = quality_service.start_evaluation(
            session=session,
            form_version_id=version.id,
            agent_id=row.agent_id,
            evaluator=coach,
            call_id=row.call_id,
            call_at=row.call_at,
            kind="coaching",
        )
        answers = draw_answers(form, skill=skill, harshness=0.0, rng=rng)
        quality_service.save_draft(
            session=session, evaluation_id=evaluation.id, answers=answers, by=coach
        )
        quality_service.submit_evaluation(session=session, evaluation_id=evaluation.id, by=coach)
        made += 1
    return made


DISPUTE_REASONS = (
    "通话中已按流程核实客户身份，请复听录音第二分钟。",
    "客户问题已在本次通话中解决，没有再次来电。",
    "当时系统故障，操作延迟并非本人原因。",
    "已向客户说明处理时限，请复核该项评分。",
)


def _deciders(session: Session) -> dict[int, list[User]]:
    """The team leads of each agent, by agent id (a lead may lead several teams)."""
    leads = [
        _user(session, listed.username)
        for listed in accounts_service.list_users(session=session)
        if "team_lead" in listed.roles
    ]
    found: dict[int, list[User]] = {}
    for agent in org_service.all_agents(session=session):
        found[agent.id] = [
            lead for lead in leads if disputes_service.leads_agent(session, lead, agent.id)
        ]
    return found


def _decider(
    session: Session,
    evaluation: QaEvaluation,
    qa_users: list[User],
    leads: dict[int, list[User]] | None = None,
) -> User:
    """Who decides a dispute in the demo: the lead of the agent's team, unless that is the
    agent themself (leads are senior agents), else a QA evaluator other than the call's."""
    for lead in (leads if leads is not None else _deciders(session)).get(evaluation.agent_id, []):
        if lead.agent_id != evaluation.agent_id:
            return lead
    return next(user for user in qa_users if user.id != evaluation.evaluator_user_id)


def _disputes(
    session: Session,
    settings: Settings,
    evaluations: list[QaEvaluation],
    qa_users: list[User],
    rng: random.Random,
) -> tuple[int, int]:
    """Agents dispute an item they lost on some recent evaluations; their leads uphold most
    and overturn some; the newest wait."""
    users = accounts_service.list_users(session=session)
    by_agent = {user.agent_id: user.username for user in users if user.agent_id is not None}
    raised: list[tuple[int, QaEvaluation, Answer]] = []
    for evaluation in evaluations:
        agent_username = by_agent.get(evaluation.agent_id)
        if agent_username is None or rng.random() >= DISPUTE_SHARE:
            continue
        answers = json.loads(evaluation.answers_json)
        spec = quality_service.form_spec(evaluation.form_version)
        lost = [
            item
            for item in spec.items()
            if item.fatal is None
            and answers.get(item.code) is not None
            and answers[item.code] != (item.scale_max if item.kind == "scale" else True)
        ]
        if not lost:
            continue
        item = rng.choice(lost)
        dispute = disputes_service.raise_dispute(
            session=session,
            settings=settings,
            evaluation_id=evaluation.id,
            item=item.code,
            reason=rng.choice(DISPUTE_REASONS),
            by=_user(session, agent_username),
        )
        full: Answer = item.scale_max if item.kind == "scale" else True
        raised.append((dispute.id, evaluation, full))
    overturned = 0
    decided = raised[:-OPEN_DISPUTES] if len(raised) > OPEN_DISPUTES else []
    leads = _deciders(session) if decided else {}
    for dispute_id, evaluation, full in decided:
        overturn = rng.random() < OVERTURN_SHARE
        disputes_service.decide_dispute(
            session=session,
            dispute_id=dispute_id,
            decision="overturned" if overturn else "upheld",
            note="复听录音后改判。" if overturn else "复听录音，原评分成立。",
            new_answer=full if overturn else None,
            by=_decider(session, evaluation, qa_users, leads),
        )
        overturned += int(overturn)
    return len(raised), overturned


def _calibration(
    session: Session,
    settings: Settings,
    periods: list[Period],
    form: FormSpec,
    people: list[DemoEvaluator],
    users: dict[str, User],
    rng: random.Random,
    skill_on: Callable[[int, date], float | None],
) -> list[str]:
    """Two calibration sessions (three months apart when the demo has them): a few of the
    month's evaluated calls scored blind by every evaluator, with the senior evaluator's
    agreed answers as the anchor."""
    months = [periods[-1]] if len(periods) < 3 else [periods[-3], periods[-1]]
    numbers = {a.id: a.employee_no for a in org_service.all_agents(session=session)}
    codes = []
    for period in months:
        evaluated = quality_service.period_evaluations(
            session=session, period=period, zone=settings.tz
        )
        chosen = rng.sample(evaluated, min(CALIBRATION_CALLS, len(evaluated)))
        if not chosen:
            continue
        code = f"CAL-{period.label}"
        calls = [
            calibration_service.CalibrationCall(e.call_id, numbers[e.agent_id], e.call_at)
            for e in chosen
        ]
        calibration_service.create_session(
            session=session,
            code=code,
            title=f"{period.label} 质检校准会",
            held_on=max(e.call_at for e in chosen),
            calls=calls,
            by=users[people[0].username],
        )
        for evaluation in chosen:
            skill = (
                skill_on(evaluation.agent_id, local_date(evaluation.call_at, settings.tz)) or 0.0
            )
            # What the call deserves; each evaluator departs from it on some items, the
            # harsher or more lenient the more often.
            agreed = draw_answers(form, skill=skill, harshness=0.0, rng=rng)
            for person in people:
                own = draw_answers(form, skill=skill, harshness=person.harshness, rng=rng)
                departs = CALIBRATION_DEPARTURE + abs(person.harshness) / 50
                calibration_service.add_evaluation(
                    session=session,
                    code=code,
                    call_id=evaluation.call_id,
                    evaluator=users[person.username],
                    answers={
                        code_: own[code_] if rng.random() < departs else answer
                        for code_, answer in agreed.items()
                    },
                    submit=True,
                )
            calibration_service.record_anchor(
                session=session,
                code=code,
                call_id=evaluation.call_id,
                answers=agreed,
                by=users[people[0].username],
            )
        codes.append(code)
    return codes
