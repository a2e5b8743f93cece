"""Transcripts stored and judged: the import (JSON Lines, CSV, XLSX; rejected lines kept with
their reason, personal numbers masked), the rule set versions, re-judging when the rules
change, the JSON of `quality autoqa show`, and autoqa figures as the ladder's evidence."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.errors import NotFound
from agentladder.imports import service as ledger
from agentladder.ladder.decisions.facts import gather_facts
from agentladder.periods import parse_period
from agentladder.quality.autoqa import importing, rulesets, service
from agentladder.quality.autoqa.rules import DEFAULT_RULES_PATH, RULE_IDS
from agentladder.quality.models import CallTranscript
from agentladder.quality.provider import PROVIDER
from tests.factories import make_agent
from tests.quality.qa_world import build

LABELLED = Path(__file__).parents[2] / "data" / "autoqa" / "transcripts.jsonl"
OCTOBER = parse_period("2026-10")


def _call(call_id: str, agent: str | None = "100001", **changes: object) -> dict[str, object]:
    """A short, well-behaved zh call (answered on 8 October 2026)."""
    call: dict[str, object] = {
        "call_id": call_id,
        "agent": agent,
        "started_at": "2026-10-08T09:15:02+08:00",
        "hangup_by": "customer",
        "turns": [
            {
                "speaker": "agent",
                "start_s": 0.0,
                "end_s": 5.0,
                "text": "您好，安信电器3021号客服，很高兴为您服务。",
            },
            {
                "speaker": "customer",
                "start_s": 5.5,
                "end_s": 12.0,
                "text": "你好，我的手机号是13800138000，空调不制冷了。",
            },
            {
                "speaker": "agent",
                "start_s": 12.5,
                "end_s": 22.0,
                "text": "好的，请您稍等，我帮您登记一下维修，谢谢您。不好意思给您添麻烦了。",
            },
            {"speaker": "customer", "start_s": 22.5, "end_s": 25.0, "text": "好的谢谢"},
            {
                "speaker": "agent",
                "start_s": 25.5,
                "end_s": 32.0,
                "text": "请问还有什么可以帮您？感谢您的来电，再见。",
            },
        ],
    }
    call.update(changes)
    return call


def _lines(*items: object) -> bytes:
    return "\n".join(
        i if isinstance(i, str) else json.dumps(i, ensure_ascii=False) for i in items
    ).encode()


def _import(session: Session, settings: Settings, data: bytes, name: str = "t.jsonl", **kw: object):  # type: ignore[no-untyped-def]
    return importing.import_transcripts(
        session=session, settings=settings, data=data, file_name=name, **kw
    )  # type: ignore[arg-type]


def test_the_labelled_set_imports_and_every_call_is_judged_in_the_shape_scripts_read(
    session: Session, settings: Settings
) -> None:
    result = _import(session, settings, LABELLED.read_bytes(), "transcripts.jsonl")
    assert result.applied
    assert result.preview.count("create") == 152
    # Its agents are not in this roster: stored, counting for nobody, with a warning each.
    assert not result.preview.errors
    assert {issue.message for issue in result.preview.warnings} == {
        "agent {agent} is not in the roster: the call counts for nobody"
    }
    shown = service.call_verdicts(session=session, call_id="autoqa-001")
    assert list(shown) == ["call", "agent", "score", "rules"]
    assert (shown["call"], shown["agent"]) == ("autoqa-001", None)
    assert [rule["rule"] for rule in shown["rules"]] == list(RULE_IDS)
    for rule in shown["rules"]:
        assert rule["verdict"] in {"pass", "fail", "na"}
        for evidence in rule["evidence"]:
            assert list(evidence) == ["turn", "start_s", "text"]
    greeting = shown["rules"][0]
    assert greeting["verdict"] == "pass"
    assert greeting["evidence"][0]["turn"] == 0
    assert "安信电器" in greeting["evidence"][0]["text"]
    assert 0 <= shown["score"] <= 100
    period = service.period_verdicts(session=session, settings=settings, period=OCTOBER)
    assert period["period"] == "2026-10"
    assert len(period["calls"]) == sum(
        1 for line in LABELLED.read_text("utf-8").splitlines() if '"2026-10' in line
    )
    with pytest.raises(NotFound):
        service.call_verdicts(session=session, call_id="no-such-call")


def test_bad_lines_are_rejected_with_their_line_and_reason_and_the_others_stored_masked(
    session: Session, settings: Settings
) -> None:
    agent = make_agent(session, employee_no="100001")
    no_time = _call("c-no-time", started_at=None)
    data = _lines(
        _call("c-1"),
        "{not json",
        {"call_id": "c-3", "turns": []},
        _call("c-1"),
        no_time,
        _call("c-6", agent="999999"),
    )
    result = _import(session, settings, data)
    assert result.applied
    rejected = {(issue.row, issue.column) for issue in result.preview.errors}
    # A JSON Lines file has no header: the column is named by the format.
    assert rejected == {(2, "JSON"), (3, "JSON"), (4, "JSON"), (5, "JSON")}
    reasons = {issue.row: issue.text() for issue in result.preview.errors}
    assert reasons[2].startswith("the line is not JSON")
    assert reasons[3] == "too few items"
    assert {issue.row: issue.value for issue in result.preview.errors}[3] == "turns"
    assert reasons[4] == "the same call is already in row 1"
    assert "not in the ACD data" in reasons[5]
    [warning] = result.preview.warnings
    assert (warning.row, warning.value) == (6, "999999")
    stored = {row.call_id: row for row in session.scalars(select(CallTranscript))}
    assert set(stored) == {"c-1", "c-6"}
    assert stored["c-1"].agent_id == agent.id
    assert stored["c-6"].agent_id is None
    # Personal numbers never reach the database.
    assert "13800138000" not in stored["c-1"].turns_json
    assert "***********" in stored["c-1"].turns_json
    [record] = ledger.list_imports(session=session, kind="transcripts")
    assert (record.status, record.created, record.rejected) == ("applied", 2, 4)


def test_a_file_with_no_readable_call_stores_nothing_and_a_dry_run_writes_nothing(
    session: Session, settings: Settings
) -> None:
    refused = _import(session, settings, _lines("{broken", "[1, 2]"))
    assert not refused.applied
    dry = _import(session, settings, _lines(_call("c-1")), dry_run=True)
    assert dry.dry_run
    assert dry.preview.count("create") == 1
    assert session.scalars(select(CallTranscript)).first() is None


def test_the_same_call_again_is_unchanged_and_a_changed_one_is_replaced_and_judged_again(
    session: Session, settings: Settings
) -> None:
    make_agent(session, employee_no="100001")
    _import(session, settings, _lines(_call("c-1")))
    first = service.call_verdicts(session=session, call_id="c-1")
    assert first["agent"] == "100001"
    again = _import(session, settings, _lines(_call("c-1")))
    assert again.preview.count("unchanged") == 1
    rude = _call("c-1")
    rude["turns"][2]["text"] = "这个我不知道，不归我管。"  # type: ignore[index]
    changed = _import(session, settings, _lines(rude))
    assert changed.preview.count("update") == 1
    verdicts = {
        r["rule"]: r for r in service.call_verdicts(session=session, call_id="c-1")["rules"]
    }
    assert verdicts["forbidden_phrases"]["verdict"] == "fail"
    assert verdicts["forbidden_phrases"]["evidence"][0]["turn"] == 2


def test_turn_rows_in_csv_and_xlsx_make_one_transcript_per_call_in_time_order(
    session: Session, settings: Settings
) -> None:
    header = "通话编号,说话人,开始秒,结束秒,文本,座席工号,开始时间\n"
    rows = [
        "x-1,客户,5.5,9,你好，空调不制冷了,100001,2026-10-08T09:15:02+08:00",
        "x-1,座席,0,5,您好安信电器3021号客服很高兴为您服务,,",
        "x-2,座席,0,4,您好,100001,2026-10-08T10:00:00+08:00",
        "x-2,路人,4,6,嗯,,",
    ]
    make_agent(session, employee_no="100001")
    result = _import(session, settings, (header + "\n".join(rows)).encode("gb18030"), "t.csv")
    assert result.applied
    errors = {issue.row: issue.text() for issue in result.preview.errors}
    assert errors[5].startswith("the speaker is agent, customer or system")
    assert errors[4] == "not stored: row 5 of the same call is rejected"
    [row] = session.scalars(select(CallTranscript)).all()
    turns = json.loads(row.turns_json)
    assert [turn["speaker"] for turn in turns] == ["agent", "customer"]
    assert row.call_at == datetime(2026, 10, 8, 1, 15, 2, tzinfo=UTC)

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["call_id", "speaker", "start_s", "end_s", "text", "agent", "started_at"])
    sheet.append(
        ["y-1", "agent", 0, 3.5, "hello this is anxin 3021", "100001", "2026-10-09T09:00:00+08:00"]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    from_sheet = _import(session, settings, buffer.getvalue(), "t.xlsx")
    assert from_sheet.applied
    assert from_sheet.preview.count("create") == 1


def test_the_call_data_gives_the_agent_time_and_ring_of_a_transcript(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings)  # call c1: SIP/1001 (A0001), rang 3 s, waited 10 s
    # Neither says who hung up: the call data does (c1 COMPLETECALLER, c2 COMPLETEAGENT).
    _import(
        session,
        settings,
        _lines(
            _call("c1", agent=None, started_at=None, hangup_by=None),
            _call("c2", agent=None, started_at=None, hangup_by=None),
        ),
    )
    hangups = {
        call_id: {
            r["rule"]: r["verdict"]
            for r in service.call_verdicts(session=session, call_id=call_id)["rules"]
        }["customer_hangs_up_first"]
        for call_id in ("c1", "c2")
    }
    assert hangups == {"c1": "pass", "c2": "fail"}
    row = session.scalars(select(CallTranscript).where(CallTranscript.call_id == "c1")).one()
    assert row.agent_id == world.agent_ids["A1"]
    assert row.call_at.year == 2025
    verdicts = {r["rule"]: r for r in service.call_verdicts(session=session, call_id="c1")["rules"]}
    assert verdicts["answer_speed"]["verdict"] == "pass"
    assert verdicts["answer_speed"]["evidence"][0]["turn"] is None
    assert "3" in verdicts["answer_speed"]["evidence"][0]["text"]


def test_a_rule_set_problem_is_named_by_its_key() -> None:
    text = DEFAULT_RULES_PATH.read_text("utf-8").replace("max_rings: 2", "max_rings: 0")
    rules, problems = rulesets.check_rule_set_text(text)
    assert rules is None
    assert [problem.key for problem in problems] == ["rules.answer_speed.max_rings"]
    rules, problems = rulesets.check_rule_set_text("name: [unclosed")
    assert rules is None
    assert problems[0].params["line"] == 1


def test_a_new_rule_set_makes_the_periods_verdicts_stale_until_they_are_judged_again(
    session: Session, settings: Settings
) -> None:
    make_agent(session, employee_no="100001")
    _import(session, settings, _lines(_call("c-1"), _call("c-2")))
    assert PROVIDER.stale_inputs(session=session, settings=settings, period=OCTOBER) == []
    assert service.run_autoqa(session=session, settings=settings, period=OCTOBER).judged == 0
    # One ring is the limit now: the 8 s ring the call data does not have changes nothing, but
    # the score's weights do, and the rule set's hash with them.
    stricter = DEFAULT_RULES_PATH.read_text("utf-8").replace("minimum: 3", "minimum: 9")
    version = rulesets.apply_rule_set(session=session, text=stricter)
    assert rulesets.current_rule_set(session=session).version == version
    [stale] = PROVIDER.stale_inputs(session=session, settings=settings, period=OCTOBER)
    assert stale.params["count"] == 2
    assert stale.refresh_command == "agentladder quality autoqa run --period 2026-10"
    run = service.run_autoqa(session=session, settings=settings, period=OCTOBER)
    assert (run.transcripts, run.judged, run.unchanged) == (2, 2, 0)
    verdicts = {
        r["rule"]: r["verdict"]
        for r in service.call_verdicts(session=session, call_id="c-1")["rules"]
    }
    assert verdicts["polite_phrases"] == "fail"
    assert PROVIDER.stale_inputs(session=session, settings=settings, period=OCTOBER) == []


def test_autoqa_figures_are_quality_facts_over_all_calls_with_transcripts(
    session: Session, settings: Settings
) -> None:
    good = make_agent(session, employee_no="100001")
    rude = make_agent(session, employee_no="100002")
    calls = [_call(f"g-{i}", agent="100001") for i in range(3)]
    for i in range(2):
        call = _call(f"r-{i}", agent="100002", hangup_by="agent")
        call["turns"][2]["text"] = "我也没办法，这是规定。"  # type: ignore[index]
        calls.append(call)
    _import(session, settings, _lines(*calls))
    facts = gather_facts(session=session, periods=[OCTOBER])["2026-10"]
    assert facts[good.id]["autoqa_score"].sample_size == 3
    assert facts[rude.id]["autoqa_score"].value < facts[good.id]["autoqa_score"].value
    assert facts[good.id]["autoqa_forbidden_phrases_rate"].value == 1
    assert facts[rude.id]["autoqa_forbidden_phrases_rate"].value == 0
    assert facts[rude.id]["autoqa_customer_hangs_up_first_rate"].value == 0
    assert facts[rude.id]["autoqa_answer_speed_rate"].value is None  # no call data: never applied
    assert facts[rude.id]["autoqa_answer_speed_rate"].sample_size == 0


def test_the_ladder_scores_autoqa_score_as_a_quality_metric(
    session: Session, settings: Settings
) -> None:
    from tests.ladder.builders import decision_of, give, policy_text, run

    good = make_agent(session, employee_no="100001")
    rude = make_agent(session, employee_no="100002")
    calls = []
    for i in range(6):
        calls.append(_call(f"g-{i}", agent="100001"))
        call = _call(f"r-{i}", agent="100002", hangup_by="agent")
        call["turns"][4]["text"] = "行了就这样吧。"  # type: ignore[index]
        calls.append(call)
    _import(session, settings, _lines(*calls))
    for agent in (good, rude):
        give(session, agent, "2026-10", score=80)
    text = (
        policy_text()
        .replace(
            "quality: {weight: 50, metrics: {qa_score: 100}}",
            "quality: {weight: 50, metrics: {qa_score: 50, autoqa_score: 50}}",
        )
        .replace(
            "  qa_score: {linear: {best: 100, worst: 0}}",
            "  qa_score: {linear: {best: 100, worst: 0}}\n"
            "  autoqa_score: {linear: {best: 100, worst: 0}}",
        )
    )
    report = run(session, "2026-10", text, dry_run=True)

    def autoqa(agent: object) -> dict[str, object]:
        view = decision_of(report, agent)  # type: ignore[arg-type]
        [metric] = [
            m
            for c in view.detail["components"]
            for m in c["metrics"]
            if m["metric"] == "autoqa_score"
        ]
        return metric  # type: ignore[no-any-return]

    assert autoqa(good)["raw"] == pytest.approx(100)
    assert autoqa(rude)["raw"] < 90
    assert decision_of(report, good).composite > decision_of(report, rude).composite
