"""The demo centre: a realistic synthetic call centre built from a seed.

The build is a list of steps (`DEMO_STEPS`), each taking the shared `DemoContext`; later
subsystems (calls, QA, exams, knowledge) add their own steps that read the agents' latent
true skill from `DemoAgentTruth` to generate evidence. The product never reads that table.

The calls step writes months of raw Asterisk queue_log files (see `demo.calls`) and imports
them through the real adapter. One team (the last, when there are several) sits on a second
site whose ACD keeps no queue_log: its calls are simulated all the same but only reach the
product through that site's daily reports. While the calls run, `demo.evidence` draws what the
centre's other systems record about them (surveys, complaints and praise, tickets, the roster,
sales leads, the second site's daily reports); one step per system writes its monthly exports
and imports them through the real adapter with the shipped mapping. The metrics step then
computes, from what was imported, every month and quarter the calls touch, every ISO week they
cover whole, and every day (see `metric_periods`).
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import random
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.demo import autoqa as demo_autoqa
from agentladder.demo import calls as demo_calls
from agentladder.demo import evidence as demo_evidence
from agentladder.demo import ladder_cycles as demo_ladder
from agentladder.demo import library as demo_library
from agentladder.demo import quality as demo_quality
from agentladder.demo import training as demo_training
from agentladder.demo.models import DemoAgentTruth, DemoRun
from agentladder.demo.names import chinese_name
from agentladder.errors import Conflict, InvalidInput
from agentladder.ingest import service as ingest_service
from agentladder.metrics import service as metrics_service
from agentladder.org import service as org_service
from agentladder.org.accounts import service as accounts_service
from agentladder.org.roster import service as roster_service
from agentladder.org.schemas import (
    LEVELS,
    AgentFilter,
    SkillGroupCreate,
    TeamCreate,
    TeamUpdate,
    UserCreate,
)
from agentladder.periods import Period, period_of, periods_between
from agentladder.quality import service as quality_service
from agentladder.quality.autoqa import service as autoqa_service
from agentladder.tables import metadata

DEMO_PASSWORD = "agentladder-demo"  # noqa: S105 - printed by the demo, set only by the demo
AGENTS_PER_TEAM = 15
MONTHS_PER_LEVEL = 3  # nobody in the demo climbs faster than one level a quarter
# Share of agents per level, bottom to top: a pyramid.
LEVEL_SHARES = (0.20, 0.17, 0.15, 0.13, 0.11, 0.09, 0.07, 0.05, 0.03)
SKILL_GROUPS: tuple[tuple[str, str], ...] = (
    ("general", "普通话热线"),
    ("billing", "账务咨询"),
    ("complaints", "投诉处理"),
    ("sales", "销售外呼"),
    ("vip", "VIP专席"),
    ("english", "英语热线"),
)
STAFF_USERS: tuple[tuple[str, str, str], ...] = (
    ("admin", "系统管理员", "admin"),
    ("manager", "运营经理·周丽", "manager"),
    ("qa", "质检员·孙婷", "qa"),
    ("trainer", "培训师·马超", "trainer"),
)
_CHINESE_NUMERALS = "一二三四五六七八九十"
CALL_MONTHS = 6  # full calendar months of calls before today
# The period kinds the metrics step computes (see `metric_periods`).
PERIOD_KINDS: tuple[str, ...] = ("day", "week", "month", "quarter")
# A second PBX's uniqueids carry its system name, so its call ids never collide with the first.
DAILY_REPORT_SITE_CALLID_PREFIX = "site2-"


@dataclass
class DemoContext:
    """What every step shares: the session, the settings, one seeded random source, the facts
    built so far, and the lines of the summary."""

    session: Session
    settings: Settings
    rng: random.Random
    agents_wanted: int
    today: date
    password: str
    password_hash: str
    call_months: int = CALL_MONTHS
    period_kinds: tuple[str, ...] = PERIOD_KINDS
    agent_ids: list[int] = field(default_factory=list)
    summary: dict[str, object] = field(default_factory=dict)
    # What the centre's other systems recorded about the simulated calls (the calls step).
    evidence: demo_evidence.EvidenceBuilder | None = None
    # The queue_log site's answered calls (the calls step) and the calls the QA samples drew
    # (the quality step), for the transcripts step.
    answered: demo_autoqa.AnsweredCalls | None = None
    sampled_calls: list[str] = field(default_factory=list)


DemoStep = Callable[[DemoContext], None]


@dataclass
class DemoSummary:
    """What the demo built, for printing."""

    created: bool
    seed: int
    agents: int
    teams: list[tuple[str, str, int, list[str]]]
    pyramid: dict[str, int]
    users: list[tuple[str, str]]
    password: str | None
    roster_file: str | None
    facts: dict[str, object]


def _team_name(index: int) -> str:
    number = index + 1
    if number <= 10:
        return f"客服{_CHINESE_NUMERALS[number - 1]}组"
    return f"客服{number}组"


def _months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, 28))


def step_organisation(ctx: DemoContext) -> None:
    """Teams, skill groups, and the agents with their latent skill, imported through the roster
    importer from a GB18030 CSV as Chinese Excel writes it."""
    rng, session = ctx.rng, ctx.session
    team_count = max(1, math.ceil(ctx.agents_wanted / AGENTS_PER_TEAM))
    teams = [
        org_service.create_team(
            session=session, team_in=TeamCreate(code=f"T{i + 1:02d}", name=_team_name(i))
        )
        for i in range(team_count)
    ]
    for code, name in SKILL_GROUPS:
        org_service.create_skill_group(
            session=session, group_in=SkillGroupCreate(code=code, name=name)
        )

    earliest = _add_months(ctx.today, -36)
    rows = []
    truths = []
    for index in range(ctx.agents_wanted):
        hire = earliest + timedelta(days=rng.randrange((ctx.today - earliest).days - 20))
        specialised = rng.sample([c for c, _ in SKILL_GROUPS[1:]], k=rng.choice((0, 1, 1, 2)))
        groups = ["general", *specialised]
        rows.append(
            {
                "工号": f"{100001 + index}",
                "姓名": chinese_name(rng),
                "入职日期": hire.strftime("%Y/%m/%d"),
                "班组": teams[index % team_count].code,
                "技能组": "、".join(groups),
                # The specialised group is the agent's cohort on the ladder; a sample comes
                # in random order, so its first is a random pick among several.
                "主技能组": specialised[0] if specialised else "general",
                "分机": f"Agent/{8001 + index}; SIP/{8001 + index}",
            }
        )
        skill = rng.gauss(0.0, 1.0)
        learning = rng.lognormvariate(math.log(0.035), 0.5)
        archetype = rng.choices(
            ("steady", "fast_learner", "plateaued", "struggling", "star"),
            weights=(45, 20, 20, 10, 5),
        )[0]
        if archetype == "fast_learner":
            learning *= 2.0
        elif archetype == "plateaued":
            learning *= 0.3
        elif archetype == "struggling":
            skill -= 0.8
        elif archetype == "star":
            skill += 1.0
        truths.append(
            (skill, learning, skill + rng.uniform(0.8, 2.5), rng.betavariate(2, 5), archetype)
        )

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    data = buffer.getvalue().encode("gb18030")
    roster_path = ctx.settings.ensure_data_dir() / "demo" / "roster.csv"
    roster_path.parent.mkdir(parents=True, exist_ok=True)
    roster_path.write_bytes(data)
    result = roster_service.apply_roster(
        session=session, data=data, file_name="roster.csv", today=ctx.today
    )
    if not result.applied:
        raise RuntimeError(f"the demo roster did not import: {result.preview.errors[:3]}")
    ctx.summary["roster_file"] = str(roster_path)

    for row, (skill, learning, ceiling, volatility, archetype) in zip(rows, truths, strict=True):
        agent = org_service.get_agent_by_employee_no(session=session, employee_no=row["工号"])
        assert agent is not None
        ctx.agent_ids.append(agent.id)
        session.add(
            DemoAgentTruth(
                agent_id=agent.id,
                skill_at_hire=skill,
                learning_per_month=learning,
                ceiling=ceiling,
                volatility=volatility,
                archetype=archetype,
            )
        )
    session.flush()


def true_skill(truth: DemoAgentTruth, hire_date: date, on: date) -> float:
    """An agent's latent skill on a date: grows with experience up to the ceiling."""
    months = max(0, _months_between(hire_date, on))
    return min(truth.ceiling, truth.skill_at_hire + truth.learning_per_month * months)


def step_levels(ctx: DemoContext) -> None:
    """Place agents on the pyramid by current true skill (plus noise) within what their tenure
    allows, with a believable history of one-level promotions since hire."""
    session, rng = ctx.session, ctx.rng
    agents = [
        org_service.get_agent_or_raise(session=session, agent_id=agent_id, scope=_EVERYONE)
        for agent_id in ctx.agent_ids
    ]
    truths = {t.agent_id: t for t in session.scalars(select(DemoAgentTruth))}
    ranked = sorted(
        agents,
        key=lambda a: true_skill(truths[a.id], a.hire_date, ctx.today) + rng.gauss(0, 0.35),
        reverse=True,
    )
    quotas = [round(share * len(agents)) for share in reversed(LEVEL_SHARES)]
    targets: dict[int, int] = {}
    position = 0
    top = len(LEVELS) - 1
    for offset, quota in enumerate(quotas):
        for agent in ranked[position : position + quota]:
            targets[agent.id] = top - offset
        position += quota
    for agent in ranked[position:]:
        targets[agent.id] = 0
    for agent in agents:
        tenure = _months_between(agent.hire_date, ctx.today)
        target = min(targets[agent.id], tenure // MONTHS_PER_LEVEL)
        if target == 0:
            continue
        # Spread the promotions over the tenure, at month starts, oldest first.
        span = max(1, tenure - 1)
        months = sorted(rng.sample(range(1, span + 1), k=min(target, span)))
        while len(months) < target:
            months.append(months[-1])
        for step, month in enumerate(months, start=1):
            effective = _add_months(agent.hire_date, month).replace(day=1)
            effective = max(effective, agent.level_since)
            org_service.change_level(
                session=session,
                agent=agent,
                to_level=LEVELS[step].id,
                effective_on=min(effective, ctx.today),
                source="demo",
                reason="demo history",
            )


_EVERYONE = org_service.AgentScope(everyone=True, team_ids=frozenset(), agent_id=None)


def step_users(ctx: DemoContext) -> None:
    """Staff accounts, one team lead per team (a senior agent of that team), and an account per
    agent (username = employee number), all with the demo password."""
    session, settings = ctx.session, ctx.settings
    for username, display_name, role in STAFF_USERS:
        accounts_service.create_user(
            session=session,
            settings=settings,
            user_in=UserCreate(
                username=username, password=ctx.password, display_name=display_name, roles=[role]
            ),
            password_hash=ctx.password_hash,
        )
    leads: dict[int, int] = {}
    agents = [org_service.agent_read(agent) for agent in org_service.all_agents(session=session)]
    rank = {level.id: index for index, level in enumerate(LEVELS)}
    for team in org_service.list_teams(session=session):
        members = [a for a in agents if a.team_code == team.code]
        if members:
            lead = max(members, key=lambda a: (rank[a.current_level], -a.hire_date.toordinal()))
            leads[lead.id] = team.id
    for agent in agents:
        roles = ["agent", "team_lead"] if agent.id in leads else ["agent"]
        accounts_service.create_user(
            session=session,
            settings=settings,
            user_in=UserCreate(
                username=agent.employee_no,
                password=ctx.password,
                display_name=agent.name,
                roles=roles,
                employee_no=agent.employee_no,
            ),
            password_hash=ctx.password_hash,
        )
        if agent.id in leads:
            org_service.update_team(
                session=session,
                team_id=leads[agent.id],
                team_in=TeamUpdate(lead_usernames=[agent.employee_no]),
            )


def _call_agents(session: Session) -> list[demo_calls.CallAgent]:
    """The active agents as the call simulation sees them, by employee number."""
    truths = {t.agent_id: t for t in session.scalars(select(DemoAgentTruth))}
    members = []
    for agent in org_service.all_agents(session=session):
        truth = truths.get(agent.id)
        number = next(
            (a.identity.split("/", 1)[1] for a in agent.aliases if a.identity.startswith("Agent/")),
            None,
        )
        if truth is None or number is None or agent.status != "active":
            continue
        members.append(
            demo_calls.CallAgent(
                number=number,
                groups=tuple(group.code for group in agent.skill_groups),
                start_day=agent.hire_date + timedelta(days=demo_calls.TRAINING_DAYS),
                skill=partial(true_skill, truth, agent.hire_date),
                volatility=truth.volatility,
            )
        )
    return members


def _people(session: Session) -> dict[str, demo_evidence.Person]:
    """The agents as the centre's other systems name them, by their phone number."""
    people = {}
    for agent in org_service.all_agents(session=session):
        for alias in agent.aliases:
            if alias.identity.startswith("Agent/"):
                people[alias.identity.split("/", 1)[1]] = demo_evidence.Person(
                    employee_no=agent.employee_no,
                    name=agent.name,
                    team_code=agent.team.code if agent.team else "",
                    team_name=agent.team.name if agent.team else "",
                    groups=tuple(group.code for group in agent.skill_groups),
                )
    return people


def daily_report_team(people: Iterable[demo_evidence.Person]) -> str | None:
    """The team on the second site (only daily reports): the last team, when there are two
    or more, so that the rest of the centre stays on the queue_log."""
    teams = sorted({person.team_code for person in people if person.team_code})
    return teams[-1] if len(teams) >= 2 else None


def queue_log_folder(settings: Settings) -> Path:
    """Where the demo writes its queue_log files."""
    return settings.data_dir / "demo" / "queue_log"


def step_calls(ctx: DemoContext) -> None:
    """Months of raw Asterisk queue_log files (see `demo.calls`), imported through the
    queue_log adapter and the import ledger as `agentladder import` would; the daily-report
    team's calls on their own site, which keeps no queue_log; and, as the calls run, what the
    centre's other systems record about all of them (see `demo.evidence`), for the evidence
    steps to export and import."""
    if ctx.call_months <= 0:
        return
    first, last = demo_calls.call_months(ctx.today, ctx.call_months)
    folder = queue_log_folder(ctx.settings)
    queue_log_rng = random.Random(ctx.rng.getrandbits(64))
    second_site_rng = random.Random(ctx.rng.getrandbits(64))
    people = _people(ctx.session)
    second_team = daily_report_team(people.values())
    agents = _call_agents(ctx.session)
    second_site = [a for a in agents if people[a.number].team_code == second_team]
    second_numbers = {agent.number for agent in second_site}
    evidence = demo_evidence.EvidenceBuilder(
        people=people,
        group_names=dict(SKILL_GROUPS),
        daily_report_agents=second_numbers,
        timezone=ctx.settings.timezone,
        last_day=last,
        rng=random.Random(ctx.rng.getrandbits(64)),
    )
    transcribed = period_of("month", last).back(demo_autoqa.TRANSCRIBED_MONTHS)[-1]
    answered = demo_autoqa.AnsweredCalls(
        since=transcribed.bounds_utc(ctx.settings.tz)[0].timestamp()
    )
    calls, imported = demo_calls.generate_and_import(
        session=ctx.session,
        settings=ctx.settings,
        folder=folder,
        agents=[agent for agent in agents if agent.number not in second_numbers],
        first=first,
        last=last,
        rng=queue_log_rng,
        observer=demo_calls.Observers((evidence, answered)),
    )
    if second_site:
        site = demo_calls.simulate_site(
            agents=second_site,
            first=first,
            last=last,
            timezone=ctx.settings.timezone,
            rng=second_site_rng,
            observer=evidence,
            callid_prefix=DAILY_REPORT_SITE_CALLID_PREFIX,
        )
        ctx.summary.update(
            {
                "daily_report_team": second_team,
                "daily_report_agents": sorted(people[a.number].employee_no for a in second_site),
                "daily_report_calls_offered": site.offered,
                "daily_report_calls_handled": site.handled,
            }
        )
    ctx.evidence = evidence
    ctx.answered = answered
    # The truth the roster must reproduce: shifts rostered and days the agents stayed away.
    ctx.summary["rostered_shifts"] = sum(evidence.planned_shifts.values())
    ctx.summary["rostered_absences"] = sum(evidence.absences.values())
    per_agent_month = sorted(calls.handled_by_agent_month.values())
    ctx.summary.update(
        {
            "queue_log_dir": str(folder),
            "queue_log_files": imported.files,
            "queue_log_first_day": first.isoformat(),
            "queue_log_last_day": last.isoformat(),
            "queue_log_lines": imported.rows_read,
            "queue_log_rows_rejected": imported.rows_rejected,
            "queue_log_rows_ignored": imported.rows_ignored,
            "queue_log_unmapped": sorted(imported.unmapped),
            "calls_offered": calls.offered,
            "calls_handled": calls.handled,
            "calls_abandoned": calls.abandoned,
            "calls_by_month": dict(sorted(calls.offered_by_month.items())),
            "handled_by_month": dict(sorted(calls.handled_by_month.items())),
            "handled_per_agent_day": round(calls.handled / max(1, calls.agent_days), 1),
            "handled_per_agent_month": (
                (per_agent_month[0], statistics.median_low(per_agent_month), per_agent_month[-1])
                if per_agent_month
                else None
            ),
        }
    )


def step_evidence(ctx: DemoContext, *, adapter: str) -> None:
    """One of the centre's other systems: its monthly exports of the simulated calls written
    next to the queue_log and imported through its adapter with the shipped mapping."""
    if ctx.evidence is None:
        return
    export = demo_evidence.EXPORTS_BY_ADAPTER[adapter]
    files = demo_evidence.write_export(builder=ctx.evidence, settings=ctx.settings, export=export)
    imported = demo_evidence.import_export(
        session=ctx.session, settings=ctx.settings, export=export, files=files
    )
    facts = ctx.summary.setdefault("evidence", {})
    assert isinstance(facts, dict)
    facts[adapter] = imported.facts()
    ctx.summary["evidence_dir"] = str(imported.folder.parent)


def metric_periods(
    first: date, last: date, kinds: Iterable[str] = PERIOD_KINDS
) -> dict[str, list[Period]]:
    """The periods of each kind the demo computes for calls from `first` to `last`: every month
    and quarter they touch (the first and last quarters may be partial), the ISO weeks they
    cover whole (a week with a day or two of calls would look like a collapse on the trend),
    and every day."""
    periods: dict[str, list[Period]] = {}
    for kind in kinds:
        if kind == "week":
            periods[kind] = [
                week
                for week in periods_between(kind, first, last)
                if week.first_day >= first and week.last_day <= last
            ]
        else:
            periods[kind] = periods_between(kind, first, last)
    return periods


def check_period_kinds(kinds: Iterable[str]) -> tuple[str, ...]:
    """The period kinds the demo is asked to compute, refused unless they are known ones and
    include months, which the ladder runs on."""
    chosen = tuple(kinds)
    if set(chosen) - set(PERIOD_KINDS) or "month" not in chosen:
        raise InvalidInput("period kinds are day, week, month and quarter, and month is needed")
    return chosen


def step_metrics(ctx: DemoContext) -> None:
    """The calls' months, quarters, ISO weeks and days computed by the metrics engine (see
    `metric_periods`)."""
    if ctx.call_months <= 0:
        return
    first, last = demo_calls.call_months(ctx.today, ctx.call_months)
    computed: dict[str, list[str]] = {}
    values: dict[str, int] = {}
    for kind, periods in metric_periods(first, last, ctx.period_kinds).items():
        reports = [
            metrics_service.compute_period(
                session=ctx.session, settings=ctx.settings, period=period
            )
            for period in periods
        ]
        computed[kind] = [report.period.label for report in reports]
        values[kind] = sum(report.values for report in reports)
    ctx.summary["periods_computed"] = computed
    ctx.summary["metric_values_by_kind"] = values
    ctx.summary["months_computed"] = computed.get("month", [])


def _skill_lookup(ctx: DemoContext) -> Callable[[int, date], float | None]:
    """Each agent's latent skill on a day (None for an agent the demo did not make), which the
    QA, training and knowledge steps draw their behaviour from."""
    truths = {t.agent_id: t for t in ctx.session.scalars(select(DemoAgentTruth))}
    hired = {a.id: a.hire_date for a in org_service.all_agents(session=ctx.session)}

    def skill_on(agent_id: int, day: date) -> float | None:
        truth = truths.get(agent_id)
        return None if truth is None else true_skill(truth, hired[agent_id], day)

    return skill_on


def step_quality(ctx: DemoContext) -> None:
    """QA evaluators with a latent harshness score each month's sample of the ingested calls
    from the agents' latent skill; coaching, disputes, calibration, synthetic recordings."""
    if ctx.call_months <= 0:
        return
    first, last = demo_calls.call_months(ctx.today, ctx.call_months)
    skill_on = _skill_lookup(ctx)
    result = demo_quality.run_quality_demo(
        session=ctx.session,
        settings=ctx.settings,
        periods=periods_between("month", first, last),
        skill_on=skill_on,
        rng=random.Random(ctx.rng.getrandbits(64)),
        password=ctx.password,
        password_hash=ctx.password_hash,
    )
    ctx.summary["quality"] = {
        "evaluators": result.evaluators,
        "samples": result.samples,
        "official": result.official,
        "coaching": result.coaching,
        "open_assignments": result.open_assignments,
        "disputes": result.disputes,
        "overturned": result.overturned,
        "calibration_sessions": result.calibration_sessions,
        "recordings": result.recordings,
    }
    ctx.sampled_calls = result.sampled_calls


def transcripts_folder(settings: Settings) -> Path:
    """Where the demo writes its transcript files."""
    return settings.data_dir / "demo" / "transcripts"


def step_transcripts(ctx: DemoContext) -> None:
    """Transcripts of every call the QA samples drew and a share of the other answered calls,
    from the agents' latent skill on the call's day, imported and judged (see
    `demo.autoqa`)."""
    if ctx.answered is None:
        return
    people = _people(ctx.session)
    agents = {
        agent.number: demo_autoqa.TranscriptAgent(
            employee_no=people[agent.number].employee_no,
            name=people[agent.number].name,
            skill=agent.skill,
        )
        for agent in _call_agents(ctx.session)
        if agent.number in people
    }
    result = demo_autoqa.write_and_import(
        session=ctx.session,
        settings=ctx.settings,
        folder=transcripts_folder(ctx.settings),
        answered=ctx.answered.calls,
        sampled=ctx.sampled_calls,
        agents=agents,
        rng=np.random.default_rng(ctx.rng.getrandbits(64)),
    )
    _first, last = demo_calls.call_months(ctx.today, ctx.call_months)
    start, end = period_of("month", last).bounds_utc(ctx.settings.tz)
    scores = sorted(
        figures.score
        for figures in autoqa_service.agent_figures(session=ctx.session, start=start, end=end)
        if figures.score is not None
    )
    ctx.summary["transcripts"] = {
        "files": len(result.files),
        "folder": str(transcripts_folder(ctx.settings)),
        "transcripts": result.transcripts,
        "sampled": result.sampled,
        "english": result.english,
        "by_month": result.by_month,
        # The last month's agents' autoqa_score: lowest, median, highest.
        "autoqa_score_by_agent": (
            (scores[0], statistics.median(scores), scores[-1]) if scores else None
        ),
    }


def step_training(ctx: DemoContext) -> None:
    """The bilingual question bank, one certification exam per area published over the months
    of calls, and the agents' attempts answered from their latent skill (see
    `demo.training`); the certificates come from passing."""
    if ctx.call_months <= 0:
        return
    first, _last = demo_calls.call_months(ctx.today, ctx.call_months)
    skill_on = _skill_lookup(ctx)
    trainer = accounts_service.get_user_by_username(
        session=ctx.session, username=demo_training.TRAINER_USERNAME
    )
    result = demo_training.run_training_demo(
        session=ctx.session,
        first=first,
        today=ctx.today,
        zone=ctx.settings.tz,
        skill_on=skill_on,
        rng=random.Random(ctx.rng.getrandbits(64)),
        trainer_id=trainer.id if trainer else None,
    )
    ctx.summary["training"] = {
        "questions": result.questions,
        "questions_by_area": result.questions_by_area,
        "exams": result.exams,
        "attempts": result.attempts,
        "passed": result.passed,
        "failed": result.failed,
        "awaiting_grading": result.awaiting_grading,
        "essays_graded": result.essays_graded,
        "certificates": result.certificates,
        "expiring": result.expiring,
        "expired": result.expired,
    }


def _used_calls(ctx: DemoContext, first: date, last: date) -> list[demo_library.UsedCall]:
    """The calls the library's items may be used on: the queue_log site's answered calls the
    calls step kept (their agents link items to them), and the QA-evaluated calls of every
    month (the evaluator links one)."""
    numbers = {
        alias.identity.split("/", 1)[1]: agent.id
        for agent in org_service.all_agents(session=ctx.session)
        for alias in agent.aliases
        if alias.identity.startswith("Agent/")
    }
    calls = [
        demo_library.UsedCall(
            call.callid, numbers[call.agent], datetime.fromtimestamp(call.connect_at, UTC), "agent"
        )
        for call in (ctx.answered.calls.values() if ctx.answered else ())
        if call.agent in numbers
    ]
    for period in periods_between("month", first, last):
        calls += [
            demo_library.UsedCall(
                evaluation.call_id,
                evaluation.agent_id,
                evaluation.call_at,
                "qa",
                evaluation.evaluator_user_id,
            )
            for evaluation in quality_service.period_evaluations(
                session=ctx.session, period=period, zone=ctx.settings.tz
            )
        ]
    return calls


def step_knowledge(ctx: DemoContext) -> None:
    """The company's knowledge library written over the months of calls by agents (better ones
    more) and staff, reviewed, adopted, voted for, used on calls and searched (see
    `demo.library`); its contribution points reach the ladder through the knowledge
    provider."""
    if ctx.call_months <= 0:
        return
    first, last = demo_calls.call_months(ctx.today, ctx.call_months)
    skill_on = _skill_lookup(ctx)
    result = demo_library.run_library_demo(
        session=ctx.session,
        first=first,
        last=last,
        zone=ctx.settings.tz,
        skill_on=skill_on,
        rng=random.Random(ctx.rng.getrandbits(64)),
        calls=_used_calls(ctx, first, last),
    )
    ctx.summary["knowledge"] = {
        "items_by_type": result.items_by_type,
        "items_by_status": result.items_by_status,
        "agent_authors": result.agent_authors,
        "agent_items": result.agent_items,
        "staff_items": result.staff_items,
        "returned": result.returned,
        "adopted": result.adopted,
        "sops_from_cases": result.sops_from_cases,
        "votes": result.votes,
        "votes_withdrawn": result.votes_withdrawn,
        "comments": result.comments,
        "usages": result.usages,
        "views": result.views,
        "waiting_review": result.waiting_review,
        "revisions": result.revisions,
        "points": result.points,
        "ledger_entries": result.ledger_entries,
        "searches": result.searches,
        "searches_without_results": result.searches_without_results,
    }


def step_ladder(ctx: DemoContext) -> None:
    """QA results of the site whose calls never reach the product, exam results and
    certificates imported as from other tools, then one ladder cycle per month under the
    default policy with autoqa_score added (the last month's moves await approval); knowledge
    contributions come from the library (`step_knowledge`)."""
    if ctx.call_months <= 0:
        return
    first, last = demo_calls.call_months(ctx.today, ctx.call_months)
    result = demo_ladder.run_ladder_demo(
        session=ctx.session,
        folder=ctx.settings.data_dir / "demo" / "ladder",
        periods=periods_between("month", first, last),
        today=ctx.today,
        rng=random.Random(ctx.rng.getrandbits(64)),
        zone=ctx.settings.tz,
        language=ctx.settings.default_language,
    )
    ctx.summary["ladder"] = {
        "evidence_files": result.evidence_files,
        "evidence_rows": result.evidence_rows,
        "certificate_rows": result.certificate_rows,
        "periods": result.periods,
        "last_counts": result.last_counts,
        "approved": result.approved,
    }


DEMO_STEPS: list[tuple[str, DemoStep]] = [
    ("organisation", step_organisation),
    ("levels", step_levels),
    ("users", step_users),
    ("calls", step_calls),
    *(
        (export.folder, partial(step_evidence, adapter=export.adapter))
        for export in demo_evidence.EXPORTS
    ),
    ("quality", step_quality),
    ("transcripts", step_transcripts),
    ("training", step_training),
    ("knowledge", step_knowledge),
    ("metrics", step_metrics),
    ("ladder", step_ladder),
]


def _delete_everything(session: Session) -> None:
    for table in reversed(metadata.sorted_tables):
        session.execute(delete(table))
    session.flush()


def _set_aside_imported_files(session: Session, settings: Settings) -> list[tuple[Path, Path]]:
    """Move the Parquet files of the demo's imports out of the store before a reset: the new
    build may reuse batch ids, and a stale file under a reused id would count as stored."""
    moved = []
    for paths in ingest_service.dataset_files(session=session, settings=settings).values():
        for path in paths:
            aside = path.with_name(path.name + ".demo-reset")
            path.replace(aside)
            moved.append((path, aside))
    return moved


def _is_demo_database(session: Session) -> bool | None:
    """True for a demo database, False for real data, None for an empty one."""
    if session.scalar(select(func.count()).select_from(DemoRun)):
        return True
    agents = org_service.list_agents(
        session=session, scope=_EVERYONE, filters=AgentFilter(per_page=1, status="all")
    ).total
    users = len(accounts_service.list_users(session=session))
    return None if agents == 0 and users == 0 else False


def build_demo(
    *,
    session: Session,
    settings: Settings,
    agents: int = 120,
    seed: int = 42,
    reset: bool = False,
    password: str = DEMO_PASSWORD,
    today: date | None = None,
    call_months: int = CALL_MONTHS,
    period_kinds: Iterable[str] = PERIOD_KINDS,
    on_step: Callable[[int, int, str], None] | None = None,
) -> DemoSummary:
    """Build the demo centre (or report the one already built); `reset` starts it over.
    `on_step(number, of, name)` is told each step as it begins (the CLI shows it).

    `call_months` full months of queue_log files are generated and imported, and their
    metrics computed (0: none) for the `period_kinds` (see `metric_periods`). Refuses to touch
    a database that holds real (non-demo) agents or users.
    """
    kinds = check_period_kinds(period_kinds)
    state = _is_demo_database(session)
    if state is False:
        raise Conflict(
            "this database holds real agents or users; the demo only runs on an empty or demo "
            "database (set AGENTLADDER_DATA_DIR or AGENTLADDER_DATABASE_URL elsewhere)"
        )
    if state is True and not reset:
        run = session.scalars(select(DemoRun).order_by(DemoRun.id.desc())).first()
        assert run is not None
        return _summary(
            session, created=False, seed=run.seed, password=password, roster_file=None, facts={}
        )
    moved: list[tuple[Path, Path]] = []
    if state is True:
        moved = _set_aside_imported_files(session, settings)
        _delete_everything(session)
    # Demo accounts share one salted hash: hashing every account separately costs a tenth of
    # a second each, and the demo password is printed anyway.
    ctx = DemoContext(
        session=session,
        settings=settings,
        rng=random.Random(seed),
        agents_wanted=agents,
        today=today or settings.today(),
        password=password,
        password_hash=accounts_service.hash_password(password, settings),
        call_months=call_months,
        period_kinds=kinds,
    )
    try:
        for number, (name, step) in enumerate(DEMO_STEPS, start=1):
            if on_step is not None:
                on_step(number, len(DEMO_STEPS), name)
            step(ctx)
    except BaseException:
        # The session rolls back: the files of this build's imports go, the old demo's return.
        with contextlib.suppress(Exception):
            for paths in ingest_service.dataset_files(session=session, settings=settings).values():
                for path in paths:
                    path.unlink(missing_ok=True)
        for original, aside in moved:
            aside.replace(original)
        raise
    for _original, aside in moved:
        aside.unlink(missing_ok=True)
    session.add(DemoRun(seed=seed, agents=agents, steps=",".join(n for n, _ in DEMO_STEPS)))
    session.flush()
    return _summary(
        session,
        created=True,
        seed=seed,
        password=password,
        roster_file=str(ctx.summary.get("roster_file")),
        facts=ctx.summary,
    )


def _summary(
    session: Session,
    *,
    created: bool,
    seed: int,
    password: str | None,
    roster_file: str | None,
    facts: dict[str, object],
) -> DemoSummary:
    teams = org_service.list_teams(session=session)
    pyramid = org_service.level_counts(session=session, scope=_EVERYONE)
    users = [(u.username, ", ".join(u.roles)) for u in accounts_service.list_users(session=session)]
    return DemoSummary(
        created=created,
        seed=seed,
        agents=sum(pyramid.values()),
        teams=[(t.code, t.name, t.active_agents, t.lead_usernames) for t in teams],
        pyramid=pyramid,
        users=users,
        password=password,
        roster_file=roster_file,
        facts=facts,
    )
