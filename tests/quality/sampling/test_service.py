"""QA sampling: the period's answered calls from real Parquet data (a queue_log, surveys and
complaints through the ingest service), the seeded stratified draw with its targeted rules,
and the assignment to evaluators."""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from hypothesis import assume, given
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from agentladder.cli import app
from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.errors import InvalidInput
from agentladder.ingest import service as ingest_service
from agentladder.ingest.service import load_mapping, shipped_mapping
from agentladder.ladder.policy import service as policy_service
from agentladder.org import service as org_service
from agentladder.periods import parse_period
from agentladder.quality import service as quality_service
from agentladder.quality.models import SAMPLE_REASONS, QaSample, QaSampledCall
from agentladder.quality.sampling import drawing
from agentladder.quality.sampling import service as sampling
from agentladder.quality.sampling.drawing import CallFacts, Evaluator, SamplingRules
from tests.conftest import make_settings
from tests.factories import login, make_agent, make_team, make_user

PERIOD = parse_period("2025-10")
UTC_ZONE = ZoneInfo("UTC")
START = datetime(2025, 10, 1, tzinfo=UTC)
AGENTS = {"SIP/1001": "A0001", "SIP/1002": "A0002", "SIP/1003": "A0003"}
QUEUES = ("support", "sales")


@dataclass(frozen=True)
class Call:
    """One call of the generated queue_log."""

    callid: str
    queue: str
    agent: str | None  # None: abandoned
    at: datetime
    wait: int
    talk: int
    caller: str
    transfer: bool = False


def _calls() -> list[Call]:
    """Four weeks of calls for three agents in two queues; some abandoned, some transferred;
    caller 13900000001 calls again two days after call r1 (a repeat caller)."""
    rng = random.Random(7)
    calls = []
    for number in range(240):
        at = START + timedelta(hours=3 * number, minutes=rng.randrange(60))
        agent = list(AGENTS)[number % 3] if number % 17 else None
        calls.append(
            Call(
                callid=f"c{number}",
                queue=QUEUES[number % 2],
                agent=agent,
                at=at,
                wait=rng.randrange(5, 60),
                talk=rng.randrange(40, 400),
                caller=f"1380000{number:04d}",
                transfer=number % 23 == 5,
            )
        )
    calls.append(
        Call("r1", "support", "SIP/1001", START + timedelta(days=3), 10, 120, "13900000001")
    )
    calls.append(
        Call("r2", "support", "SIP/1002", START + timedelta(days=5), 10, 100, "13900000001")
    )
    calls.append(
        Call("s1", "sales", "SIP/1003", START + timedelta(days=9, hours=1), 5, 2, "13900000002")
    )
    calls.append(
        Call("l1", "sales", "SIP/1003", START + timedelta(days=9, hours=2), 5, 5000, "13900000003")
    )
    # A call of October's last day answered in the first days of the next month does not count.
    calls.append(
        Call("n1", "support", "SIP/1001", START + timedelta(days=32), 5, 60, "13900000009")
    )
    return calls


def queue_log(calls: list[Call]) -> str:
    """The calls as Asterisk queue_log lines."""
    lines = []
    for call in calls:
        start = int(call.at.timestamp())
        lines.append(f"{start}|{call.callid}|{call.queue}|NONE|ENTERQUEUE||{call.caller}|1")
        if call.agent is None:
            lines.append(
                f"{start + call.wait}|{call.callid}|{call.queue}|NONE|ABANDON|1|1|{call.wait}"
            )
            continue
        lines.append(
            f"{start + call.wait}|{call.callid}|{call.queue}|{call.agent}|CONNECT|{call.wait}|x|2"
        )
        end = start + call.wait + call.talk
        if call.transfer:
            lines.append(
                f"{end}|{call.callid}|{call.queue}|{call.agent}|BLINDTRANSFER|8000|from-internal"
                f"|{call.wait}|{call.talk}|1"
            )
        else:
            lines.append(
                f"{end}|{call.callid}|{call.queue}|{call.agent}|COMPLETECALLER|{call.wait}|{call.talk}|1"
            )
    return "\n".join(lines) + "\n"


SURVEYS = (
    "评价编号,通话流水号,工号,评价时间,满意度,问题是否解决\n"
    "S1,c1,SIP/1002,2025-10-01 05:00:00,非常不满意,否\n"
    "S2,c2,SIP/1003,2025-10-01 08:00:00,非常满意,是\n"
)
FEEDBACK = (
    "工单编号,通话流水号,被投诉/表扬工号,受理时间,类型,投诉等级,是否有效\n"
    "F1,c4,SIP/1002,2025-10-02 10:00:00,投诉,一般,有效\n"
    "F2,c5,SIP/1003,2025-10-02 11:00:00,投诉,一般,无效\n"
)


@pytest.fixture
def utc_settings(settings: Settings) -> Settings:
    return make_settings(settings.data_dir, settings.resolved_database_url, timezone="UTC")


def _import(settings: Settings, adapter: str, data: bytes, mapping: str | None = None) -> None:
    with session_scope(settings) as session:
        ingest_service.import_file(
            session=session,
            settings=settings,
            adapter=adapter,
            data=data,
            file_name=f"{adapter}.csv",
            mapping=load_mapping(shipped_mapping(mapping)) if mapping else None,
        )


@pytest.fixture
def centre(utc_settings: Settings) -> Settings:
    """Teams T01 (A0001, A0002) and T02 (A0003), their calls, surveys and complaints, and
    three QA evaluators: qa1 leads T01, qa2 is agent A0003 (T02), qa3 has no team."""
    with session_scope(utc_settings) as session:
        t1 = make_team(session, "T01", "客服一组")
        make_team(session, "T02", "客服二组")
        agents = {}
        for identity, number in AGENTS.items():
            agent = make_agent(
                session, employee_no=number, team_code="T02" if number == "A0003" else "T01"
            )
            org_service.add_alias(session=session, agent=agent, identity=identity)
            agents[number] = agent
        make_user(session, utc_settings, "qa1", ["qa", "team_lead"], lead_team_id=t1)
        make_user(session, utc_settings, "qa2", ["qa"], agent=agents["A0003"])
        make_user(session, utc_settings, "qa3", ["qa"])
        make_user(session, utc_settings, "lead", ["team_lead"])
    _import(utc_settings, "queue_log", queue_log(_calls()).encode())
    _import(utc_settings, "surveys", SURVEYS.encode("gb18030"), "surveys_zh")
    _import(utc_settings, "feedback", FEEDBACK.encode("gb18030"), "feedback_zh")
    return utc_settings


def _period_calls(settings: Settings) -> dict[str, CallFacts]:
    with session_scope(settings) as session:
        calls = sampling.period_calls(session=session, settings=settings, period=PERIOD)
    return {call.call_id: call for call in calls}


def _draw(settings: Settings, **options: object) -> list[tuple[str, str, str | None]]:
    with session_scope(settings) as session:
        sample = sampling.draw_sample(
            session=session,
            settings=settings,
            period=PERIOD,
            **options,  # type: ignore[arg-type]
        )
        summary = sampling.sample_summary(session=session, sample_id=sample.id)
        return [(c.call_id, c.reason, c.evaluator) for c in summary.calls]


def _forget_samples(settings: Settings) -> None:
    with session_scope(settings) as session:
        session.execute(delete(QaSample))


# --- the calls -------------------------------------------------------------------------------


def test_period_calls_are_the_answered_calls_with_their_facts(centre: Settings) -> None:
    calls = _period_calls(centre)
    answered = [
        c for c in _calls() if c.agent is not None and c.at < datetime(2025, 11, 1, tzinfo=UTC)
    ]
    assert set(calls) == {c.callid for c in answered}
    assert "n1" not in calls
    assert "c0" not in calls
    r1 = calls["r1"]
    assert (r1.queue, r1.talk_s, r1.wait_s) == ("support", 120, 10)
    assert r1.repeat_caller
    assert not calls["r2"].repeat_caller
    assert calls["c1"].survey_share == pytest.approx(0.2)
    assert calls["c2"].survey_share == pytest.approx(1.0)
    assert calls["c4"].complaint
    assert not calls["c5"].complaint
    assert calls["c5"].transferred
    assert not calls["c6"].transferred
    with session_scope(centre) as session:
        ids = {a.employee_no: a.id for a in org_service.all_agents(session=session)}
    assert calls["s1"].agent_id == ids["A0003"]


def test_targeted_rules_give_each_call_its_first_reason(centre: Settings) -> None:
    calls = list(_period_calls(centre).values())
    rules = SamplingRules()
    thresholds = drawing.talk_thresholds(calls, rules)
    by_id = {c.call_id: c for c in calls}

    def reason(call_id: str, chosen: SamplingRules = rules) -> str | None:
        return drawing.targeted_reason(by_id[call_id], chosen, thresholds)

    assert reason("c4") == "complaint"
    assert reason("c1") == "low_survey"
    assert reason("c2") is None
    assert reason("r1") == "repeat_caller"
    assert reason("c5") == "transfer"  # its complaint was judged invalid
    assert reason("s1") == "short_talk"  # 2 s: below the 5th percentile of sales
    assert reason("l1") == "long_talk"
    assert drawing.targeted_reason(by_id["c5"], SamplingRules(transfer=False), thresholds) is None
    seconds = SamplingRules(short_talk_s=130)
    assert (
        drawing.targeted_reason(
            by_id["r1"],
            seconds.model_copy(update={"repeat_caller": False}),
            drawing.talk_thresholds(calls, seconds),
        )
        == "short_talk"
    )


def test_a_draw_stores_calls_reasons_seed_and_rules(centre: Settings) -> None:
    drawn = _draw(centre, seed=11, per_agent=4, rules=SamplingRules(max_targeted=3))
    with session_scope(centre) as session:
        [sample] = session.scalars(select(QaSample)).all()
        assert sample.seed == 11
        rules = json.loads(sample.rules_json)
        assert rules["per_agent"] == 4
        assert rules["max_targeted"] == 3
        stored = session.scalars(select(QaSampledCall)).all()
        per_agent = Counter(c.agent_id for c in stored)
    assert len(drawn) == len(stored)
    assert set(per_agent.values()) == {7}  # 4 random + 3 targeted for each of the 3 agents
    reasons = Counter(reason for _, reason, _ in drawn)
    assert reasons["random"] == 12
    assert set(reasons) <= set(SAMPLE_REASONS)
    assert {"complaint", "low_survey", "repeat_caller"} <= set(reasons)
    assert ("c4", "complaint") in {(c, r) for c, r, _ in drawn}
    # qa2 is agent A0003: never given A0003's calls, even without --not-own-team.
    calls = _period_calls(centre)
    with session_scope(centre) as session:
        a3 = org_service.get_agent_by_employee_no(session=session, employee_no="A0003")
        assert a3 is not None
        a3_id = a3.id
    assert [c for c, _, e in drawn if e == "qa2" and calls[c].agent_id == a3_id] == []
    assert {e for c, _, e in drawn if calls[c].agent_id == a3_id} == {"qa1", "qa3"}


def test_the_same_seed_and_data_draw_the_same_sample(centre: Settings) -> None:
    first = _draw(centre, seed=2024, per_agent=5)
    _forget_samples(centre)
    assert _draw(centre, seed=2024, per_agent=5) == first
    _forget_samples(centre)
    assert _draw(centre, seed=2025, per_agent=5) != first


def test_without_a_seed_one_is_chosen_and_stored(centre: Settings) -> None:
    _draw(centre, per_agent=2)
    with session_scope(centre) as session:
        [sample] = session.scalars(select(QaSample)).all()
        seed = sample.seed
    _forget_samples(centre)
    again = _draw(centre, per_agent=2, seed=seed)
    _forget_samples(centre)
    assert _draw(centre, per_agent=2, seed=seed) == again


def test_random_calls_cover_each_queue_and_week(centre: Settings) -> None:
    drawn = _draw(centre, seed=3, per_agent=10, rules=SamplingRules(max_targeted=0))
    calls = _period_calls(centre)
    per_agent: dict[int, set[tuple[str, int]]] = {}
    for call_id, reason, _ in drawn:
        assert reason == "random"
        call = calls[call_id]
        per_agent.setdefault(call.agent_id, set()).add((call.queue, call.event_at.isocalendar()[1]))
    for agent_id, strata in per_agent.items():
        available = {
            (c.queue, c.event_at.isocalendar()[1]) for c in calls.values() if c.agent_id == agent_id
        }
        assert len(available) <= 10
        assert strata == available  # at least one call of every stratum the agent worked


def test_calls_already_sampled_or_evaluated_are_not_drawn_again(centre: Settings) -> None:
    first = {call_id for call_id, _, _ in _draw(centre, seed=1, per_agent=3)}
    second = {call_id for call_id, _, _ in _draw(centre, seed=1, per_agent=3)}
    assert first
    assert second
    assert not first & second
    with session_scope(centre) as session:
        version = quality_service.save_form(session=session, spec=quality_service.default_form())
        call = _period_calls(centre)["c4"]
        _forget_samples_in(session)
        quality_service.start_evaluation(
            session=session,
            form_version_id=version.id,
            agent_id=call.agent_id,
            evaluator=None,
            call_id="c4",
            call_at=call.event_at,
        )
    third = _draw(centre, seed=1, per_agent=3)
    assert "c4" not in {call_id for call_id, _, _ in third}
    with session_scope(centre) as session:
        assert session.scalars(select(QaSample.form_version_id)).all() == [version.id]


def _forget_samples_in(session: Session) -> None:
    session.execute(delete(QaSample))


def test_a_period_without_calls_is_refused(centre: Settings) -> None:
    with session_scope(centre) as session, pytest.raises(InvalidInput, match="no answered calls"):
        sampling.draw_sample(session=session, settings=centre, period=parse_period("2025-08"))
    with session_scope(centre) as session, pytest.raises(InvalidInput):
        sampling.draw_sample(session=session, settings=centre, period=PERIOD, per_agent=101)


# --- assignment ------------------------------------------------------------------------------


def test_assignment_balances_open_work_and_keeps_off_own_teams(centre: Settings) -> None:
    drawn = _draw(centre, seed=5, per_agent=6, exclude_own_team=True)
    calls = _period_calls(centre)
    with session_scope(centre) as session:
        numbers = {a.id: a.employee_no for a in org_service.all_agents(session=session)}
    for call_id, _, evaluator in drawn:
        number = numbers[calls[call_id].agent_id]
        # qa1 leads T01 (A0001, A0002); qa2 is an agent of T02 (A0003).
        assert evaluator != ("qa1" if number in ("A0001", "A0002") else "qa2")
        assert evaluator is not None
    load = Counter(evaluator for _, _, evaluator in drawn)
    # T01's 16 calls go to qa2 and qa3, T02's 8 to qa1 and qa3: as even as the teams allow.
    assert sum(load.values()) == 24
    assert max(load.values()) - min(load.values()) <= 4
    with session_scope(centre) as session:
        open_work = {
            e.username: e.open_assignments for e in sampling.qa_evaluators(session=session)
        }
    assert open_work == dict(load)
    # A second draw tops up the least loaded evaluators first.
    second = Counter(
        e for _, _, e in _draw(centre, seed=6, per_agent=1, rules=SamplingRules(max_targeted=0))
    )
    assert sum(second.values()) == 3


def test_without_the_team_rule_work_is_even() -> None:
    calls = [
        CallFacts(f"x{n}", n % 3, "q", START + timedelta(hours=n), 1, 60, False, None)
        for n in range(30)
    ]
    drawn = [drawing.DrawnCall(c, "random") for c in calls]
    evaluators = [Evaluator(1, "a", frozenset(), 0), Evaluator(2, "b", frozenset(), 4)]
    assigned = drawing.assign(drawn, evaluators=evaluators, agent_teams={}, seed=1)
    load = Counter(a.evaluator_user_id for a in assigned)
    assert abs(load[1] - (load[2] + 4)) <= 1
    nobody = drawing.assign(
        drawn[:1],
        evaluators=[Evaluator(1, "a", frozenset({"T1"}), 0)],
        agent_teams={0: "T1"},
        seed=1,
        exclude_own_team=True,
    )
    assert nobody[0].evaluator_user_id is None
    # An evaluator who is also an agent never scores their own calls, whatever the options.
    own = drawing.assign(
        drawn[:1],
        evaluators=[Evaluator(1, "a", frozenset(), 0, agent_id=0)],
        agent_teams={},
        seed=1,
    )
    assert own[0].evaluator_user_id is None


# --- the target from the policy --------------------------------------------------------------


def test_the_target_comes_from_the_policys_minimum_qa_evaluations(session: Session) -> None:
    loaded = policy_service.current_policy(session=session)
    assert sampling.target_from_policy(policy_service.sample_minimums(loaded.policy)) == 6
    assert sampling.target_from_policy([]) == sampling.DEFAULT_PER_AGENT


# --- properties of the pure draw -------------------------------------------------------------


@given(
    sizes=st.dictionaries(st.integers(0, 30), st.integers(1, 40), min_size=1, max_size=12),
    extra=st.integers(0, 60),
)
def test_allocation_gives_each_stratum_one_then_shares_by_size(
    sizes: dict[int, int], extra: int
) -> None:
    total = sum(sizes.values())
    target = len(sizes) + extra
    assume(target < total)
    counts = drawing.allocate(sizes, target)
    assert sum(counts.values()) == target
    assert all(1 <= counts[key] <= sizes[key] for key in sizes)
    if all(counts[key] < sizes[key] for key in sizes):
        # Nothing full: the calls beyond the first of each are shared by size (rounded).
        rest = target - len(sizes)
        for key, size in sizes.items():
            assert abs(counts[key] - 1 - rest * size / total) < 1


call_strategy = st.builds(
    lambda n, agent, queue, hours, talk, transfer, survey: CallFacts(
        f"c{n}",
        agent,
        queue,
        START + timedelta(hours=hours),
        5.0,
        talk,
        transfer,
        None,
        survey_share=survey,
    ),
    st.integers(0, 10_000),
    st.integers(1, 4),
    st.sampled_from(["a", "b", "c"]),
    st.integers(0, 24 * 30),
    st.one_of(st.none(), st.floats(0, 2000)),
    st.booleans(),
    st.one_of(st.none(), st.floats(0, 1)),
)


@given(
    calls=st.lists(call_strategy, min_size=1, max_size=80, unique_by=lambda c: c.call_id),
    seed=st.integers(0, 2**31 - 1),
    per_agent=st.integers(0, 12),
    max_targeted=st.integers(0, 4),
)
def test_a_draw_is_a_function_of_its_seed_and_calls(
    calls: list[CallFacts], seed: int, per_agent: int, max_targeted: int
) -> None:
    rules = SamplingRules(max_targeted=max_targeted)
    keys = {agent: f"E{agent}" for agent in range(1, 5)}

    def plan(order: list[CallFacts]) -> list[tuple[str, str]]:
        drawn = drawing.plan_draw(
            order, seed=seed, per_agent=per_agent, rules=rules, agent_keys=keys, zone=UTC_ZONE
        )
        return [(d.call.call_id, d.reason) for d in drawn]

    first = plan(calls)
    assert plan(list(reversed(calls))) == first  # the order calls are read in does not matter
    agent_of = {c.call_id: c.agent_id for c in calls}
    ids = [call_id for call_id, _ in first]
    assert len(ids) == len(set(ids))
    thresholds = drawing.talk_thresholds(calls, rules)
    for agent in {c.agent_id for c in calls}:
        own = [c for c in calls if c.agent_id == agent]
        targeted = sum(1 for c in own if drawing.targeted_reason(c, rules, thresholds))
        picked = min(max_targeted, targeted)
        drawn = [r for i, r in first if agent_of[i] == agent]
        assert len(drawn) == picked + min(per_agent, len(own) - picked)
        assert sum(1 for r in drawn if r != "random") == picked
    # With the same talk-time thresholds, one agent's calls never change another's draw.
    others = [c for c in calls if c.agent_id != 1]
    alone = drawing.plan_draw(
        others,
        seed=seed,
        per_agent=per_agent,
        rules=rules,
        agent_keys=keys,
        zone=UTC_ZONE,
        all_calls=calls,
    )
    assert [(d.call.call_id, d.reason) for d in alone] == [
        (i, r) for i, r in first if agent_of[i] != 1
    ]


# --- command and pages -----------------------------------------------------------------------


def test_the_command_prints_the_documented_json(
    centre: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTLADDER_DATABASE_URL", centre.resolved_database_url)
    monkeypatch.setenv("AGENTLADDER_DATA_DIR", str(centre.data_dir))
    monkeypatch.setenv("AGENTLADDER_SECRET_KEY", "test-secret-key-not-for-production")
    monkeypatch.setenv("AGENTLADDER_TIMEZONE", "UTC")
    from agentladder.config import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app,
            [
                "quality",
                "sample",
                "--period",
                "2025-10",
                "--seed",
                "9",
                "--per-agent",
                "3",
                "--blind",
                "--not-own-team",
                "--format",
                "json",
            ],
        )
        assert result.exit_code == 0, result.output
        document = json.loads(result.output)
        assert document["period"] == "2025-10"
        assert document["seed"] == 9
        assert document["blind"] is True
        assert document["rules"]["exclude_own_team"] is True
        assert document["calls"] == len(document["sampled_calls"]) == 15
        assert sum(e["calls"] for e in document["evaluators"]) == 15
        assert sum(document["reasons"].values()) == 15
        assert set(document["sampled_calls"][0]) == {
            "call",
            "call_at",
            "queue",
            "agent",
            "reason",
            "evaluator",
        }
        table = CliRunner().invoke(app, ["quality", "sample", "--period", "2025-10"])
        assert table.exit_code == 0, table.output
        assert "qa3" in table.output
        assert "random" in table.output
        refused = CliRunner().invoke(app, ["quality", "sample", "--period", "2025-08"])
        assert refused.exit_code != 0
    finally:
        get_settings.cache_clear()


def test_the_pages_draw_list_show_and_filter(centre: Settings) -> None:
    from agentladder.web.app import create_app

    client = login(TestClient(create_app(centre)), "qa1")
    page = client.get("/quality/samples")
    assert page.status_code == 200
    assert 'id="draw-form"' in page.text
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    drawn = client.post(
        "/quality/samples",
        data={
            "csrf_token": token,
            "period": "2025-10",
            "seed": "4",
            "per_agent": "2",
            "max_targeted": "1",
            "blind": "1",
        },
        follow_redirects=False,
    )
    assert drawn.status_code == 303
    detail = client.get(drawn.headers["location"])
    assert detail.status_code == 200
    assert "A0001" not in detail.text  # blind: the evaluators see pseudonyms
    assert "#1" in detail.text
    evaluator = client.get(drawn.headers["location"] + "?evaluator=qa3")
    rows = evaluator.text.split('id="sampled-calls"')[1].count("<tr>")
    assert rows - 1 == Counter(e for _, _, e in _summary(centre))["qa3"]
    listed = client.get("/quality/samples")
    assert drawn.headers["location"] in listed.text
    assert client.get("/quality/samples/999").status_code == 404
    manager = login(TestClient(create_app(centre)), "lead")
    assert manager.get("/quality/samples").status_code == 403
    with session_scope(centre) as session:
        make_user(session, centre, "boss", ["manager"])
    boss = login(TestClient(create_app(centre)), "boss")
    assert "A0001" in boss.get(drawn.headers["location"]).text  # management sees the agents


def _summary(settings: Settings) -> list[tuple[str, str, str | None]]:
    with session_scope(settings) as session:
        [sample] = session.scalars(select(QaSample)).all()
        summary = sampling.sample_summary(session=session, sample_id=sample.id)
        return [(c.call_id, c.reason, c.evaluator) for c in summary.calls]
