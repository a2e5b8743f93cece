"""Automatic QA in the QA workspace: the answers a call's verdicts suggest, pre-filled when an
evaluation starts (or when its draft is opened after the transcript was judged), whether the
evaluator changed each recorded at submission, the transcript with the rules' evidence marked,
and a blind sample's evaluator never reading the agent's name in it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.db import session_scope, utcnow
from agentladder.formatting import format_figure
from agentladder.i18n import translate
from agentladder.quality import service as quality_service
from agentladder.quality.autoqa import importing
from agentladder.quality.autoqa import rulesets as autoqa_rulesets
from agentladder.quality.autoqa import service as autoqa_service
from agentladder.quality.autoqa.rules import (
    DEFAULT_RULES_PATH,
    RULE_IDS,
    CallFacts,
    default_rule_set,
    judge_call,
)
from agentladder.quality.autoqa.schemas import Transcript
from agentladder.quality.models import QaEvaluation
from agentladder.quality.schemas import FormSpec
from agentladder.quality.workspace import service as workspace
from agentladder.quality.workspace.transcript import TurnText, transcript_view
from agentladder.web.app import create_app
from tests.conftest import make_settings
from tests.factories import login
from tests.quality.qa_world import FORM, World, build, perfect

RULES = default_rule_set()
GREETING = "您好，安信电器王芳为您服务，工号1001。"
BRUSH_OFF = "这个我不知道，不归我管。"


def c1_transcript(**changes: Any) -> dict[str, Any]:
    """Call c1 as speech recognition heard it: greets, brushes the customer off, closes well."""
    call: dict[str, Any] = {
        "call_id": "c1",
        "hangup_by": "customer",
        "turns": [
            {"speaker": "agent", "start_s": 0.0, "end_s": 5.0, "text": GREETING},
            {
                "speaker": "customer",
                "start_s": 5.5,
                "end_s": 12.0,
                "text": "你好，我的手机号是13800138000，空调不制冷了。",
            },
            {"speaker": "agent", "start_s": 12.5, "end_s": 16.0, "text": BRUSH_OFF},
            {"speaker": "customer", "start_s": 16.5, "end_s": 18.0, "text": "那我找谁？"},
            {
                "speaker": "agent",
                "start_s": 18.5,
                "end_s": 25.0,
                "text": "请问还有什么可以帮您？感谢您的来电，再见。",
            },
        ],
    }
    call.update(changes)
    return call


def import_c1(session: Session, settings: Settings, **changes: Any) -> None:
    data = json.dumps(c1_transcript(**changes), ensure_ascii=False).encode()
    result = importing.import_transcripts(
        session=session, settings=settings, data=data, file_name="c1.jsonl"
    )
    assert result.applied, result.preview.errors


def _verdicts(**outcomes: str) -> list[dict[str, Any]]:
    return [
        {"rule": rule, "verdict": outcomes.get(rule, "na"), "evidence": []} for rule in RULE_IDS
    ]


# --- the suggestions ------------------------------------------------------------------------


def test_a_failed_rule_suggests_no_all_passed_yes_and_none_applicable_nothing() -> None:
    verdicts = _verdicts(
        greeting="pass",
        answer_speed="pass",
        closing_question="fail",
        thanks_goodbye="fail",
        polite_phrases="pass",
        forbidden_phrases="fail",
        talk_over="pass",
        speaking_rate="fail",
    )
    suggested = autoqa_service.suggested_answers(RULES, verdicts, form=FORM)
    assert suggested["phone_etiquette"] == {
        "answer": False,
        "rules": ["closing_question", "thanks_goodbye"],  # the failed ones decide
        "rule_set": RULES.content_hash,
    }
    assert suggested["basic_courtesy"] == {
        "answer": True,
        "rules": ["polite_phrases"],
        "rule_set": RULES.content_hash,
    }
    assert suggested["service_attitude"]["answer"] is False
    assert suggested["listening"]["answer"] is True
    # late_apology was not applicable: no suggestion on calming; tone_voice is a scale.
    assert set(suggested) == {"phone_etiquette", "basic_courtesy", "service_attitude", "listening"}


def test_every_applicable_mapped_rule_passing_suggests_yes_with_all_of_them() -> None:
    verdicts = _verdicts(greeting="pass", hold_etiquette="pass", customer_hangs_up_first="pass")
    suggested = autoqa_service.suggested_answers(RULES, verdicts, form=FORM)
    assert suggested["phone_etiquette"]["answer"] is True
    assert suggested["phone_etiquette"]["rules"] == [
        "greeting",
        "hold_etiquette",
        "customer_hangs_up_first",
    ]
    assert autoqa_service.suggested_answers(RULES, _verdicts(), form=FORM) == {}


def test_only_items_of_the_form_being_filled_are_suggested() -> None:
    small = FormSpec.model_validate(
        {
            "code": "small",
            "zh": "小表",
            "en": "Small",
            "sections": [
                {
                    "code": "s",
                    "zh": "一",
                    "en": "One",
                    "weight": 100,
                    "items": [
                        {"code": "listening", "zh": "聆听", "en": "Listening", "weight": 1},
                        {
                            "code": "service_attitude",
                            "zh": "态度",
                            "en": "Attitude",
                            "weight": 1,
                            "kind": "scale",
                            "scale_max": 4,
                        },
                    ],
                }
            ],
        }
    )
    verdicts = _verdicts(forbidden_phrases="fail", talk_over="fail", greeting="pass")
    assert set(autoqa_service.suggested_answers(RULES, verdicts, form=small)) == {"listening"}


def test_every_figure_a_rule_measures_reads_in_chinese() -> None:
    transcript = Transcript.model_validate(
        {
            "call_id": "x",
            "turns": [
                {"speaker": "agent", "start_s": 0, "end_s": 8, "text": "您好安信电器3021号，请讲"},
                {"speaker": "customer", "start_s": 7, "end_s": 12, "text": "你好"},
                {"speaker": "agent", "start_s": 30, "end_s": 40, "text": "谢谢，再见"},
            ],
        }
    )
    judged = judge_call(transcript, CallFacts(ring_s=9, queue_wait_s=5, hangup_by="agent"), RULES)
    figures = [e.figure for v in judged.verdicts for e in v.evidence if e.turn is None]
    assert len(figures) >= 6  # answer speed, polite phrases, hang-up, silence, overlap, rate
    for figure in figures:
        assert figure is not None
        message, params = figure
        chinese = format_figure(message, params, "zh_Hans")
        assert chinese != format_figure(message, params, "en"), message
        assert translate("zh_Hans", message, **dict.fromkeys(params, "")) != message


# --- the marked transcript ------------------------------------------------------------------


def test_quotes_are_marked_where_they_stand_and_a_quote_not_found_marks_nothing() -> None:
    turns = [
        TurnText("agent", 0, "您好，不知道，真的不知道<b>"),
        TurnText("customer", 3, "好"),
    ]
    view = transcript_view(
        turns,
        hangup_by=None,
        verdicts=[
            {
                "rule": "forbidden_phrases",
                "verdict": "fail",
                "evidence": [
                    {"turn": 0, "start_s": 0, "text": "不知道"},
                    {"turn": 0, "start_s": 0, "text": "不知道"},
                ],
            },
            {
                "rule": "greeting",
                "verdict": "pass",
                "evidence": [{"turn": 0, "start_s": 0, "text": "您好，不知道"}],
            },
            {
                "rule": "polite_phrases",
                "verdict": "pass",
                "evidence": [
                    {
                        "turn": None,
                        "start_s": None,
                        "text": "Polite phrases: 4",
                        "figure": {"message": "Polite phrases: {count}", "params": {"count": 4}},
                    },
                    {"turn": 1, "start_s": 3, "text": "not in the turn"},
                ],
            },
        ],
        judged=True,
    )
    spans = [(s.text, s.rules, s.failed) for s in view.turns[0].spans]
    assert spans == [
        ("您好，", ["greeting"], False),
        ("不知道", ["forbidden_phrases", "greeting"], True),
        ("，真的", [], False),
        ("不知道", ["forbidden_phrases"], True),  # the same quote again: the next occurrence
        ("<b>", [], False),
    ]
    assert [(s.text, s.hits) for s in view.turns[1].spans] == [("好", ())]
    figure = view.rules[2].evidence[0]
    assert (figure.message, figure.params) == ("Polite phrases: {count}", {"count": 4})


# --- in the workspace -----------------------------------------------------------------------


def _start(session: Session, world: World) -> QaEvaluation:
    return workspace.start_from_assignment(
        session=session, sampled_id=world.sampled_id, by=world.users["eva"]
    )


def test_an_evaluation_started_on_a_judged_call_is_prefilled_with_its_suggestions(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings)
    import_c1(session, settings)
    evaluation = _start(session, world)
    suggestions = json.loads(evaluation.suggestions_json)
    answers = json.loads(evaluation.answers_json)
    assert suggestions["service_attitude"]["answer"] is False
    assert suggestions["service_attitude"]["rules"] == ["forbidden_phrases"]
    assert suggestions["phone_etiquette"]["answer"] is True
    assert "calming" not in suggestions  # the caller did not wait: late_apology is na
    assert "tone_voice" not in suggestions  # a scale
    assert answers == {code: s["answer"] for code, s in suggestions.items()}
    assert all("changed" not in s for s in suggestions.values())
    rule_set = autoqa_rulesets.current_rule_set(session=session).rules.content_hash
    assert {s["rule_set"] for s in suggestions.values()} == {rule_set}


def test_without_a_stored_transcript_nothing_is_suggested(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings)
    evaluation = _start(session, world)
    assert json.loads(evaluation.suggestions_json) == {}
    assert json.loads(evaluation.answers_json) == {}
    page = workspace.evaluation_page(
        session=session,
        settings=settings,
        evaluation_id=evaluation.id,
        user=world.users["eva"],
        now=utcnow(),
    )
    assert page.transcript is None
    assert all(row.suggestion is None for row in page.items)


def test_a_draft_opened_after_the_transcript_was_judged_gets_suggestions_only_where_unanswered(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings)
    eva = world.users["eva"]
    evaluation = _start(session, world)
    quality_service.save_draft(
        session=session, evaluation_id=evaluation.id, answers={"service_attitude": True}, by=eva
    )
    import_c1(session, settings)
    page = workspace.evaluation_page(
        session=session, settings=settings, evaluation_id=evaluation.id, user=eva, now=utcnow()
    )
    answers = json.loads(evaluation.answers_json)
    assert answers["service_attitude"] is True  # the evaluator's answer stands
    assert "service_attitude" not in json.loads(evaluation.suggestions_json)
    assert answers["phone_etiquette"] is True
    rows = {row.item.code: row for row in page.items}
    assert rows["phone_etiquette"].suggestion is not None
    assert rows["phone_etiquette"].answer_text == "yes"
    assert rows["service_attitude"].suggestion is None
    # The evaluator sets a suggested item to not applicable: opening the page again keeps it.
    quality_service.save_draft(
        session=session,
        evaluation_id=evaluation.id,
        answers={**answers, "phone_etiquette": None},
        by=eva,
    )
    workspace.evaluation_page(
        session=session, settings=settings, evaluation_id=evaluation.id, user=eva, now=utcnow()
    )
    assert json.loads(evaluation.answers_json)["phone_etiquette"] is None


def test_submission_records_which_suggestions_the_evaluator_changed(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings)
    eva = world.users["eva"]
    import_c1(session, settings)
    evaluation = _start(session, world)
    suggested = json.loads(evaluation.suggestions_json)
    answers = {**perfect(), **{code: s["answer"] for code, s in suggested.items()}}
    answers["service_attitude"] = True  # the brush-off was a joke the customer shared
    quality_service.save_draft(
        session=session, evaluation_id=evaluation.id, answers=answers, by=eva
    )
    quality_service.submit_evaluation(session=session, evaluation_id=evaluation.id, by=eva)
    recorded = json.loads(evaluation.suggestions_json)
    assert recorded["service_attitude"]["changed"] is True
    assert recorded["phone_etiquette"]["changed"] is False
    assert {code for code, s in recorded.items() if s["changed"]} == {"service_attitude"}
    page = workspace.evaluation_page(
        session=session, settings=settings, evaluation_id=evaluation.id, user=eva, now=utcnow()
    )
    rows = {row.item.code: row for row in page.items}
    attitude = rows["service_attitude"].suggestion
    assert attitude is not None
    assert (attitude.answer, attitude.changed) == (False, True)
    [decided] = attitude.rules
    assert (decided.rule, decided.verdict) == ("forbidden_phrases", "fail")
    # Each hit quoted, overlapping ones too.
    assert [e.text for e in decided.evidence] == ["我不知道", "不知道", "不归我管"]


def test_the_page_marks_the_evidence_in_the_stored_transcript_masked(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings)
    import_c1(session, settings)
    evaluation = _start(session, world)
    page = workspace.evaluation_page(
        session=session,
        settings=settings,
        evaluation_id=evaluation.id,
        user=world.users["eva"],
        now=utcnow(),
    )
    transcript = page.transcript
    assert transcript is not None
    assert transcript.stored
    assert transcript.judged
    assert [line.rule for line in transcript.rules] == list(RULE_IDS)
    brush_off = transcript.turns[2]
    assert [(span.text, span.failed) for span in brush_off.spans] == [
        ("这个", False),
        ("我", True),  # 我不知道 and 不知道 overlap
        ("不知道", True),
        ("，", False),
        ("不归我管", True),
        ("。", False),
    ]
    assert "".join(span.text for span in brush_off.spans) == BRUSH_OFF
    customer = "".join(span.text for span in transcript.turns[1].spans)
    assert "13800138000" not in customer
    assert "*" * 11 in customer
    greeting = transcript.turns[0].spans
    assert [s.rules for s in greeting if s.hits] == [["greeting"]]
    assert transcript.rule("answer_speed") is not None
    [ring] = transcript.rule("answer_speed").evidence  # type: ignore[union-attr]
    assert ring.message == "Rang {ring_s} (limit {limit_s})"


def test_a_blind_samples_evaluator_never_reads_the_agents_name_in_the_transcript(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings, blind=True)
    import_c1(session, settings)
    evaluation = _start(session, world)
    eva = world.users["eva"]
    page = workspace.evaluation_page(
        session=session, settings=settings, evaluation_id=evaluation.id, user=eva, now=utcnow()
    )
    assert page.agent_name is None
    assert page.transcript is not None
    greeting = "".join(span.text for span in page.transcript.turns[0].spans)
    assert "王芳" not in greeting
    assert "1001" not in greeting
    assert greeting.startswith("您好，安信电器**为您服务")
    quotes = [e.text for line in page.transcript.rules for e in line.evidence]
    assert not any("王芳" in quote for quote in quotes)
    # The suggestions are made all the same.
    assert json.loads(evaluation.suggestions_json)["service_attitude"]["answer"] is False
    # Once submitted, QA (not blind) reads the transcript as it is.
    quality_service.save_draft(
        session=session, evaluation_id=evaluation.id, answers=perfect(), by=eva
    )
    quality_service.submit_evaluation(session=session, evaluation_id=evaluation.id, by=eva)
    seen = workspace.evaluation_page(
        session=session,
        settings=settings,
        evaluation_id=evaluation.id,
        user=world.users["boss"],
        now=utcnow(),
    )
    assert seen.transcript is not None
    assert "王芳" in "".join(span.text for span in seen.transcript.turns[0].spans)


def test_a_calibration_evaluation_is_not_prefilled(session: Session, settings: Settings) -> None:
    world = build(session, settings)
    import_c1(session, settings)
    version = quality_service.save_form(session=session, spec=FORM)
    evaluation = quality_service.start_evaluation(
        session=session,
        form_version_id=version.id,
        agent_id=world.agent_ids["A1"],
        evaluator=world.users["eva2"],
        call_id="c1",
        call_at=utcnow(),
        kind="calibration",
    )
    assert workspace.prefill_suggestions(session=session, evaluation=evaluation) == {}
    assert json.loads(evaluation.answers_json) == {}


def test_the_page_escapes_the_turns_and_marks_the_quotes_in_html(
    settings: Settings, tmp_path: Path
) -> None:
    chosen = make_settings(
        settings.data_dir, settings.resolved_database_url, recordings_dir=tmp_path / "none"
    )
    with session_scope(chosen) as db:
        world = build(db, chosen)
        call = c1_transcript()
        call["turns"][2]["text"] = "<b>这个</b>我不知道，不归我管。"
        data = json.dumps(call, ensure_ascii=False).encode()
        importing.import_transcripts(session=db, settings=chosen, data=data, file_name="c1.jsonl")
    client = login(TestClient(create_app(chosen)), "eva")
    started = client.post(f"/quality/my-calls/{world.sampled_id}/start", data={"kind": "official"})
    assert started.status_code == 200
    html = started.text
    assert "<b>这个</b>" not in html
    assert "&lt;b&gt;这个&lt;/b&gt;" in html
    assert re.search(
        r'<li class="speaker-agent" id="turn-2">.*?<mark class="hit-fail" '
        r'data-rules="forbidden_phrases" title="无服务禁语">我</mark>',
        html,
    )
    assert 'id="autoqa-verdicts"' in html
    assert 'id="rule-forbidden_phrases" class="verdict-fail"' in html
    assert '<a href="#turn-2" class="turn-link">' in html
    item = html[html.index('id="item-service_attitude"') :]
    assert item.index("自动质检建议：否") < item.index('id="item-', 5)
    assert 'name="answer_service_attitude" value="no" checked' in html
    assert "振铃 0:03（上限 0:06）" in html


def test_verdicts_judged_under_an_earlier_rule_set_suggest_under_that_one_and_say_so(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings)
    import_c1(session, settings)
    text = DEFAULT_RULES_PATH.read_text("utf-8")
    autoqa_rulesets.apply_rule_set(session=session, text=text.replace("\nname: ", "\nname: v2 ", 1))
    judged = autoqa_service.judged_call(session=session, call_id="c1")
    assert judged is not None
    assert judged.current is False  # not judged again yet
    assert judged.rules is not None
    assert judged.rules.content_hash == RULES.content_hash  # the shipped set judged it
    evaluation = _start(session, world)
    suggested = json.loads(evaluation.suggestions_json)
    assert {s["rule_set"] for s in suggested.values()} == {RULES.content_hash}
    page = workspace.evaluation_page(
        session=session,
        settings=settings,
        evaluation_id=evaluation.id,
        user=world.users["eva"],
        now=utcnow(),
    )
    assert page.transcript is not None
    assert page.transcript.current is False
