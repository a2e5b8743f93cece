"""Calibration sessions and reliability: Krippendorff's alpha and ICC(2,1) against published
examples, blind evaluations and anchors, evaluator deviation and drift, alerts, and the JSON the
`quality reliability` command prints."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from agentladder.cli import app
from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.errors import Conflict, InvalidInput, NotFound
from agentladder.org.models import User
from agentladder.quality import service as quality_service
from agentladder.quality.calibration import service as calibration
from agentladder.quality.calibration.service import CalibrationCall, icc2_1, krippendorff_alpha
from agentladder.quality.models import QaEvaluation
from tests.factories import make_agent, make_user

FORM = quality_service.default_form()
ZONE = ZoneInfo("Asia/Shanghai")
runner = CliRunner()

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C: 4 coders x 12
# units with missing values; nominal alpha = 0.743.
_ = None
KRIPPENDORFF_EXAMPLE = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, _, _, _],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _, 3],
    [_, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _],
]
# Shrout & Fleiss (1979), table 2: 6 targets x 4 judges; ICC(2,1) = 0.29.
SHROUT_FLEISS = [
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
]


def test_alpha_matches_krippendorffs_worked_example() -> None:
    assert krippendorff_alpha(KRIPPENDORFF_EXAMPLE, "nominal") == pytest.approx(0.743, abs=5e-4)
    # The same paper gives interval alpha 0.849 for these data.
    assert krippendorff_alpha(KRIPPENDORFF_EXAMPLE, "interval") == pytest.approx(0.849, abs=5e-4)


def test_icc_2_1_matches_shrout_and_fleiss() -> None:
    assert icc2_1(SHROUT_FLEISS) == pytest.approx(0.29, abs=5e-3)
    assert icc2_1([[1.0, 1.0]]) is None  # one target: undefined
    assert icc2_1([[50.0, 50.0], [50.0, 50.0]]) is None  # no variance at all


def test_alpha_is_none_where_undefined() -> None:
    assert krippendorff_alpha([[1, 1, 1], [1, 1, 1]], "nominal", [0, 1]) is None  # no variation
    assert krippendorff_alpha([[1, _, _], [_, 0, _]], "nominal", [0, 1]) is None  # nothing paired
    assert krippendorff_alpha([[1, 0, 1, 0], [1, 0, 1, 0]], "nominal", [0, 1]) == 1


@hypothesis_settings(max_examples=40, deadline=None)
@given(
    st.lists(
        # Totals as forms give them: 0..100 to one decimal.
        st.lists(st.integers(0, 1000).map(lambda v: v / 10), min_size=3, max_size=3),
        min_size=2,
        max_size=8,
    )
)
def test_icc_is_at_most_one_and_one_when_raters_agree(rows: list[list[float]]) -> None:
    value = icc2_1(rows)
    assert value is None or value <= 1 + 1e-9
    agreeing = [[row[0]] * 3 for row in rows]
    same = icc2_1(agreeing)
    if len({row[0] for row in rows}) > 1:
        assert same == pytest.approx(1)


@hypothesis_settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.lists(st.one_of(st.none(), st.integers(0, 4)), min_size=5, max_size=5),
        min_size=2,
        max_size=4,
    )
)
def test_ordinal_alpha_is_at_most_one_and_one_for_identical_coders(
    rows: list[list[int | None]],
) -> None:
    value = krippendorff_alpha(rows, "ordinal", range(5))
    assert value is None or value <= 1 + 1e-9
    copy = [rows[0], rows[0]]
    same = krippendorff_alpha(copy, "ordinal", range(5))
    assert same is None or same == pytest.approx(1)


def _answers(**changes: bool | int | None) -> dict[str, bool | int | None]:
    answers: dict[str, bool | int | None] = {
        item.code: (item.scale_max if item.kind == "scale" else True) for item in FORM.items()
    }
    answers.update(changes)
    return answers


CALLS = ["c1", "c2", "c3", "c4"]
# What each evaluator answered per call: the two scale items vary, one yes/no item is split.
BLIND = {
    "qa_a": [
        _answers(tone_voice=4, speaking_skills=4),
        _answers(tone_voice=2, speaking_skills=2, calming=False),
        _answers(tone_voice=3, speaking_skills=3),
        _answers(tone_voice=1, speaking_skills=1, calming=False),
    ],
    "qa_b": [
        _answers(tone_voice=4, speaking_skills=3, calming=False),
        _answers(tone_voice=2, speaking_skills=2),
        _answers(tone_voice=3, speaking_skills=4, calming=False),
        _answers(tone_voice=1, speaking_skills=0),
    ],
    "qa_c": [
        _answers(tone_voice=3, speaking_skills=4),
        _answers(tone_voice=1, speaking_skills=2, calming=False),
        _answers(tone_voice=3, speaking_skills=3),
        _answers(tone_voice=0, speaking_skills=1, calming=False),
    ],
}
ANCHORS = [
    _answers(tone_voice=4, speaking_skills=4),
    _answers(tone_voice=2, speaking_skills=2, calming=False),
    _answers(tone_voice=3, speaking_skills=3),
    _answers(tone_voice=1, speaking_skills=1, calming=False),
]


def _session_with_blind_round(
    session: Session, settings: Settings, code: str = "CAL-1", held_on: datetime | None = None
) -> dict[str, User]:
    agent = make_agent(session)
    users = {name: make_user(session, settings, name, ["qa"]) for name in [*BLIND, "lead"]}
    calibration.create_session(
        session=session,
        code=code,
        title="November calibration",
        held_on=held_on or datetime(2026, 11, 3, 2, tzinfo=UTC),
        calls=[
            CalibrationCall(call, agent.employee_no, datetime(2026, 10, 20 + i, 2, tzinfo=UTC))
            for i, call in enumerate(CALLS)
        ],
    )
    for name, answers in BLIND.items():
        for call, call_answers in zip(CALLS, answers, strict=True):
            calibration.add_evaluation(
                session=session,
                code=code,
                call_id=call,
                evaluator=users[name],
                answers=call_answers,
                submit=True,
            )
    return users


def _anchor_all(
    session: Session, code: str, lead: User, anchors: list[dict[str, bool | int | None]]
) -> None:
    for call, answers in zip(CALLS, anchors, strict=True):
        calibration.record_anchor(
            session=session, code=code, call_id=call, answers=answers, by=lead
        )


def test_reliability_of_a_session(session: Session, settings: Settings) -> None:
    users = _session_with_blind_round(session, settings)
    _anchor_all(session, "CAL-1", users["lead"], ANCHORS)
    result = calibration.session_reliability(session=session, code="CAL-1")
    items = {i.item: i for i in result.items}
    assert items["tone_voice"].level == "ordinal"
    assert items["calming"].level == "nominal"
    assert items["tone_voice"].calls == 4
    # Computed by hand from BLIND with the krippendorff package's own example checked above.
    tone = [[4, 2, 3, 1], [4, 2, 3, 1], [3, 1, 3, 0]]
    assert items["tone_voice"].alpha == pytest.approx(krippendorff_alpha(tone, "ordinal", range(5)))
    calming = [[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0]]
    assert items["calming"].alpha == pytest.approx(krippendorff_alpha(calming, "nominal", [0, 1]))
    assert items["calming"].alpha is not None
    assert items["calming"].alpha < 0.667
    # Everyone said yes to basic courtesy: no variation, alpha undefined.
    assert items["basic_courtesy"].alpha is None
    assert result.icc2_1 is not None
    assert 0 < result.icc2_1 < 1
    assert result.alpha_interval is not None
    deviations = {e.evaluator: e for e in result.evaluators}
    assert deviations["qa_a"].mean_deviation == pytest.approx(0)  # scored as the anchors did
    assert deviations["qa_a"].n == 4
    assert deviations["qa_c"].mean_deviation is not None
    assert deviations["qa_c"].mean_deviation < 0  # harsher than the anchors
    assert "lead" not in deviations  # the anchor is the standard, not a coder


def test_blind_until_submitted_and_closed_once_anchored(
    session: Session, settings: Settings
) -> None:
    agent = make_agent(session)
    one, two, lead = (make_user(session, settings, n, ["qa"]) for n in ("one", "two", "boss"))
    calibration.create_session(
        session=session,
        code="CAL-B",
        calls=[CalibrationCall("x1", agent.employee_no, datetime(2026, 10, 1, tzinfo=UTC))],
    )
    mine = calibration.add_evaluation(session=session, code="CAL-B", call_id="x1", evaluator=one)
    calibration.add_evaluation(
        session=session, code="CAL-B", call_id="x1", evaluator=two, answers=_answers(), submit=True
    )
    # One's draft: they see only their own; two submitted and sees both.
    assert [
        e.id for e in calibration.visible_evaluations(session=session, code="CAL-B", viewer=one)
    ] == [mine.id]
    assert len(calibration.visible_evaluations(session=session, code="CAL-B", viewer=two)) == 2
    with pytest.raises(Conflict):
        calibration.add_evaluation(session=session, code="CAL-B", call_id="x1", evaluator=two)
    with pytest.raises(NotFound):
        calibration.add_evaluation(session=session, code="CAL-B", call_id="nope", evaluator=one)
    calibration.record_anchor(
        session=session, code="CAL-B", call_id="x1", answers=_answers(), by=lead
    )
    seen = calibration.visible_evaluations(session=session, code="CAL-B", viewer=one)
    assert len(seen) == 3  # closed: everything, the anchor too
    with pytest.raises(Conflict):
        calibration.add_evaluation(session=session, code="CAL-B", call_id="x1", evaluator=lead)
    summary = calibration.list_sessions(session=session)[0]
    assert summary.closed
    assert summary.calls == 1
    assert summary.anchored == 1


def test_an_experts_evaluation_becomes_the_anchor(session: Session, settings: Settings) -> None:
    users = _session_with_blind_round(session, settings, code="CAL-E")
    expert = make_user(session, settings, "expert", ["qa"])
    for call, answers in zip(CALLS, ANCHORS, strict=True):
        evaluation = calibration.add_evaluation(
            session=session,
            code="CAL-E",
            call_id=call,
            evaluator=expert,
            answers=answers,
            submit=True,
        )
        calibration.mark_anchor(session=session, code="CAL-E", evaluation_id=evaluation.id)
    result = calibration.session_reliability(session=session, code="CAL-E")
    names = [e.evaluator for e in result.evaluators]
    assert "expert" not in names
    assert names == ["qa_a", "qa_b", "qa_c"]
    assert {e.evaluator: e.n for e in result.evaluators}["qa_b"] == 4
    with pytest.raises(Conflict):  # the call's anchor is set
        calibration.record_anchor(
            session=session, code="CAL-E", call_id="c1", answers=_answers(), by=users["lead"]
        )


def test_calibration_never_counts_for_the_ladder(session: Session, settings: Settings) -> None:
    _session_with_blind_round(session, settings, code="CAL-L")
    from agentladder.periods import parse_period

    scores = quality_service.period_scores(
        session=session, period=parse_period("2026-10"), zone=ZONE
    )
    assert scores.agents == []


def test_drift_and_alerts(session: Session, settings: Settings) -> None:
    users = _session_with_blind_round(
        session, settings, code="CAL-OCT", held_on=datetime(2026, 10, 5, 2, tzinfo=UTC)
    )
    _anchor_all(session, "CAL-OCT", users["lead"], ANCHORS)
    # November: the same calls; the anchors now score every call perfectly, so an evaluator
    # who repeats October's answers moves well below them.
    agent = make_agent(session)
    calibration.create_session(
        session=session,
        code="CAL-NOV",
        held_on=datetime(2026, 11, 5, 2, tzinfo=UTC),
        calls=[
            CalibrationCall(call, agent.employee_no, datetime(2026, 11, 1, tzinfo=UTC))
            for call in CALLS
        ],
    )
    for name, answers in BLIND.items():
        for call, call_answers in zip(CALLS, answers, strict=True):
            calibration.add_evaluation(
                session=session,
                code="CAL-NOV",
                call_id=call,
                evaluator=users[name],
                answers=call_answers,
                submit=True,
            )
    _anchor_all(session, "CAL-NOV", users["lead"], [_answers()] * 4)
    drift = {d.evaluator: d for d in calibration.evaluator_drift(session=session, zone=ZONE)}
    months = drift["qa_a"].months
    assert [m.month for m in months] == ["2026-10", "2026-11"]
    assert months[0].drift is None
    assert months[1].drift == pytest.approx(months[1].mean_deviation - months[0].mean_deviation)
    assert months[1].drift is not None
    assert months[1].drift < -5
    alerts = calibration.reliability_alerts(session=session, zone=ZONE, drift_threshold=5)
    kinds = {(a.kind, a.item or a.evaluator) for a in alerts}
    assert ("low_alpha", "calming") in kinds
    assert all(a.session == "CAL-NOV" for a in alerts if a.kind == "low_alpha")
    assert ("drift", "qa_a") in kinds
    large = calibration.reliability_alerts(session=session, zone=ZONE, drift_threshold=1000)
    assert not [a for a in large if a.kind == "drift"]
    # A later session still open (no anchors) is provisional: the alerts stay on November's.
    calibration.create_session(
        session=session,
        code="CAL-DEC",
        held_on=datetime(2026, 12, 5, 2, tzinfo=UTC),
        calls=[CalibrationCall("d1", agent.employee_no, datetime(2026, 12, 1, tzinfo=UTC))],
    )
    for name, calming in (("qa_a", True), ("qa_b", False)):
        calibration.add_evaluation(
            session=session,
            code="CAL-DEC",
            call_id="d1",
            evaluator=users[name],
            answers=_answers(calming=calming),
            submit=True,
        )
    later = calibration.reliability_alerts(session=session, zone=ZONE, drift_threshold=5)
    assert {a.session for a in later if a.kind == "low_alpha"} == {"CAL-NOV"}


def test_reliability_json_has_the_documented_shape(cli_env: Settings) -> None:
    with session_scope(cli_env) as session:
        users = _session_with_blind_round(session, cli_env, code="CAL-J")
        _anchor_all(session, "CAL-J", users["lead"], ANCHORS)
    shown = runner.invoke(app, ["quality", "reliability", "--session", "CAL-J", "--format", "json"])
    assert shown.exit_code == 0, shown.output
    document = json.loads(shown.stdout)
    assert list(document) == ["session", "items", "total", "evaluators"]
    assert document["session"] == "CAL-J"
    assert len(document["items"]) == len(FORM.items())
    for item in document["items"]:
        assert list(item) == ["item", "alpha", "level", "calls"]
        assert item["level"] in {"nominal", "ordinal"}
        assert item["alpha"] is None or (
            isinstance(item["alpha"], float) and math.isfinite(item["alpha"])
        )
    assert {i["item"]: i["alpha"] for i in document["items"]}["basic_courtesy"] is None
    assert list(document["total"]) == ["icc2_1", "alpha_interval"]
    assert [e["evaluator"] for e in document["evaluators"]] == ["qa_a", "qa_b", "qa_c"]
    assert list(document["evaluators"][0]) == ["evaluator", "mean_deviation", "n"]
    table = runner.invoke(app, ["quality", "reliability", "--session", "CAL-J"])
    assert table.exit_code == 0
    assert "tone_voice" in table.stdout
    missing = runner.invoke(app, ["quality", "reliability", "--session", "NOPE"])
    assert missing.exit_code == 1
    assert "NOPE" in missing.output


def test_calibration_commands_create_and_list(cli_env: Settings) -> None:
    with session_scope(cli_env) as session:
        make_agent(session, employee_no="100001")
    created = runner.invoke(
        app,
        [
            "quality",
            "calibration",
            "create",
            "--code",
            "CAL-CLI",
            "--title",
            "Weekly",
            "--held-on",
            "2026-11-03",
            "--call",
            "u1,100001,2026-11-02 10:15",
            "--call",
            "u2,100001,2026-11-02 11:00",
        ],
    )
    assert created.exit_code == 0, created.output
    listed = runner.invoke(app, ["quality", "calibration", "list", "--format", "json"])
    rows = json.loads(listed.stdout)
    assert rows[0]["session"] == "CAL-CLI"
    assert rows[0]["calls"] == 2
    assert rows[0]["held_on"] == "2026-11-03"
    assert rows[0]["form"] == "default v1"
    with session_scope(cli_env) as session:
        expert = make_user(session, cli_env, "expert", ["qa"])
        scored = calibration.add_evaluation(
            session=session,
            code="CAL-CLI",
            call_id="u1",
            evaluator=expert,
            answers=_answers(),
            submit=True,
        )
    anchored = runner.invoke(
        app,
        [
            "quality",
            "calibration",
            "anchor",
            "--session",
            "CAL-CLI",
            "--evaluation",
            str(scored.id),
        ],
    )
    assert anchored.exit_code == 0, anchored.output
    listed = runner.invoke(app, ["quality", "calibration", "list", "--format", "json"])
    assert json.loads(listed.stdout)[0]["anchored"] == 1
    again = runner.invoke(app, ["quality", "calibration", "create", "--code", "CAL-CLI"])
    assert again.exit_code == 1
    bad = runner.invoke(
        app, ["quality", "calibration", "create", "--code", "X", "--call", "u1,100001"]
    )
    assert bad.exit_code == 2


def test_calibration_pages(settings: Settings) -> None:
    from fastapi.testclient import TestClient

    from agentladder.web.app import create_app
    from tests.factories import login

    with session_scope(settings) as session:
        users = _session_with_blind_round(session, settings, code="CAL-P")
        _anchor_all(session, "CAL-P", users["lead"], ANCHORS)
        agent = make_agent(session, employee_no="100009")
        make_user(session, settings, "agent9", ["agent"], agent=agent)
        [summary] = calibration.list_sessions(session=session)
    client = login(TestClient(create_app(settings)), "qa_b")
    client.cookies.set("al_lang", "en")
    listed = client.get("/quality/calibration")
    assert listed.status_code == 200
    assert "CAL-P" in listed.text
    assert "Calms an upset customer" in listed.text  # the low-alpha alert names the item
    detail = client.get(f"/quality/calibration/{summary.id}")
    assert detail.status_code == 200
    assert "Tone, voice and intonation" in detail.text
    assert "qa_c" in detail.text
    assert client.get("/quality/calibration/999999").status_code == 404
    refused = login(TestClient(create_app(settings)), "agent9")
    assert refused.get("/quality/calibration").status_code == 403


@hypothesis_settings(max_examples=60, deadline=None)
@given(
    st.text(st.characters(whitelist_categories=("L", "N"), whitelist_characters="._-"), min_size=1),
    st.from_regex(r"[A-Z0-9]{1,10}", fullmatch=True),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)),
)
def test_a_call_line_reads_back(call_id: str, agent: str, moment: datetime) -> None:
    moment = moment.replace(second=0, microsecond=0)
    line = f" {call_id} , {agent},{moment:%Y-%m-%d %H:%M} "
    [parsed] = calibration.parse_calls(f"\n{line}\n\n", ZONE)
    assert parsed.call_id == call_id
    assert parsed.agent == agent
    assert parsed.call_at == moment.replace(tzinfo=ZONE).astimezone(UTC)


@pytest.mark.parametrize("line", ["c1,100001", "c1,,2026-11-02 10:15", "c1,100001,yesterday"])
def test_a_wrong_call_line_is_named(line: str) -> None:
    with pytest.raises(InvalidInput, match="line 2"):
        calibration.parse_calls(f"c0,100001,2026-11-02 10:15\n{line}", ZONE)


def test_sessions_created_and_anchored_on_the_page(settings: Settings) -> None:
    from fastapi.testclient import TestClient

    from agentladder.web.app import create_app
    from tests.factories import login

    with session_scope(settings) as session:
        make_agent(session, employee_no="100001")
        qa, other = (make_user(session, settings, n, ["qa"]) for n in ("qa1", "qa2"))
    client = login(TestClient(create_app(settings)), "qa1")
    client.cookies.set("al_lang", "en")
    created = client.post(
        "/quality/calibration",
        data={
            "code": "CAL-WEB",
            "title": "网页",
            "held_on": "2026-11-03",
            "calls": "k1,100001,2026-11-02 10:15\nk2,100001,2026-11-02 11:00",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    bad = client.post("/quality/calibration", data={"code": "CAL-BAD", "calls": "k1,100001"})
    assert bad.status_code == 422
    assert "line 1" in bad.text
    with session_scope(settings) as session:
        [summary] = calibration.list_sessions(session=session)
        assert summary.calls == 2
        mine = calibration.add_evaluation(
            session=session,
            code="CAL-WEB",
            call_id="k1",
            evaluator=qa,
            answers=_answers(),
            submit=True,
        )
        theirs = calibration.add_evaluation(
            session=session,
            code="CAL-WEB",
            call_id="k2",
            evaluator=other,
            answers=_answers(),
            submit=True,
        )
        calibration.create_session(session=session, code="CAL-OTHER")
        other_id = calibration.get_session_or_raise(session=session, code="CAL-OTHER").id
    base = f"/quality/calibration/{summary.id}/evaluations"
    # Blind: qa1 has not scored k2, so qa2's evaluation of it is not theirs to anchor.
    assert client.post(f"{base}/{theirs.id}/anchor").status_code == 404
    # An evaluation of another session is not found there.
    wrong = f"/quality/calibration/{other_id}/evaluations/{mine.id}/anchor"
    assert client.post(wrong).status_code == 404
    page = client.get(f"/quality/calibration/{summary.id}")
    assert f"{base}/{mine.id}/anchor" in page.text
    assert client.post(f"{base}/{mine.id}/anchor", follow_redirects=False).status_code == 303
    with session_scope(settings) as session:
        [summary] = [s for s in calibration.list_sessions(session=session) if s.code == "CAL-WEB"]
        assert summary.anchored == 1


def test_evaluators_score_a_sessions_calls_blind_in_the_workspace(settings: Settings) -> None:
    from fastapi.testclient import TestClient

    from agentladder.web.app import create_app
    from tests.factories import login

    with session_scope(settings) as session:
        make_agent(session, employee_no="100001")
        for name in ("qa1", "qa2"):
            make_user(session, settings, name, ["qa"])
        created = calibration.create_session(
            session=session,
            code="CAL-BLIND",
            calls=[CalibrationCall("k1", "100001", datetime(2026, 11, 2, 2, 0, tzinfo=UTC))],
        )
        session_id = created.id
    first = login(TestClient(create_app(settings)), "qa1")
    second = login(TestClient(create_app(settings)), "qa2")
    page = first.get(f"/quality/calibration/{session_id}")
    assert f"/quality/calibration/{session_id}/score" in page.text
    started = first.post(
        f"/quality/calibration/{session_id}/score", data={"call_id": "k1"}, follow_redirects=False
    )
    assert started.status_code == 303
    evaluation_id = int(started.headers["location"].rsplit("/", 1)[1])
    # The same call again: the same evaluation, not a second one.
    again = first.post(
        f"/quality/calibration/{session_id}/score", data={"call_id": "k1"}, follow_redirects=False
    )
    assert again.headers["location"] == started.headers["location"]
    assert first.get(f"/quality/evaluations/{evaluation_id}").status_code == 200
    with session_scope(settings) as session:
        quality_service.save_draft(session=session, evaluation_id=evaluation_id, answers=_answers())
        quality_service.submit_evaluation(session=session, evaluation_id=evaluation_id)
        assert session.get(QaEvaluation, evaluation_id).kind == "calibration"  # type: ignore[union-attr]
    # Blind: qa2 sees qa1's evaluation only once they have scored the call themself.
    assert second.get(f"/quality/evaluations/{evaluation_id}").status_code == 404
    theirs = second.post(
        f"/quality/calibration/{session_id}/score", data={"call_id": "k1"}, follow_redirects=False
    )
    their_id = int(theirs.headers["location"].rsplit("/", 1)[1])
    with session_scope(settings) as session:
        quality_service.save_draft(session=session, evaluation_id=their_id, answers=_answers())
        quality_service.submit_evaluation(session=session, evaluation_id=their_id)
    assert second.get(f"/quality/evaluations/{evaluation_id}").status_code == 200
