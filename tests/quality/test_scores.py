"""`agentladder quality scores`: raw and evaluator-adjusted QA per agent, in the JSON shape the
issue names, with the evaluators' effects."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from agentladder.cli import app
from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.periods import parse_period
from agentladder.quality import service as quality_service
from tests.factories import make_agent, make_user

FORM = quality_service.default_form()
runner = CliRunner()


def _answers(tone: int) -> dict[str, bool | int]:
    answers: dict[str, bool | int] = {
        item.code: (item.scale_max if item.kind == "scale" else True)  # type: ignore[misc]
        for item in FORM.items()
    }
    return {**answers, "tone_voice": tone, "speaking_skills": tone}


def _centre(session: Session, settings: Settings) -> None:
    """Four agents of equal skill; the harsh evaluator scores two of them two points lower."""
    version = quality_service.save_form(session=session, spec=FORM)
    harsh = make_user(session, settings, "harsh", ["qa"])
    lenient = make_user(session, settings, "lenient", ["qa"])
    agents = [make_agent(session, employee_no=f"10000{n}") for n in range(1, 5)]
    for n, agent in enumerate(agents):
        for day in range(1, 17):
            # Mostly the harsh evaluator for the first two agents, the lenient for the others.
            evaluator = harsh if (n < 2) == (day % 8 != 0) else lenient
            tone = 2 if evaluator is harsh else 4
            evaluation = quality_service.start_evaluation(
                session=session,
                form_version_id=version.id,
                agent_id=agent.id,
                evaluator=evaluator,
                call_id=f"{agent.id}-{day}",
                call_at=datetime(2026, 10, day, 3, tzinfo=UTC),
            )
            quality_service.save_draft(
                session=session, evaluation_id=evaluation.id, answers=_answers(tone), by=evaluator
            )
            quality_service.submit_evaluation(
                session=session, evaluation_id=evaluation.id, by=evaluator
            )


def test_harsh_evaluators_are_taken_out_of_the_adjusted_score(
    session: Session, settings: Settings
) -> None:
    _centre(session, settings)
    result = quality_service.period_scores(
        session=session, period=parse_period("2026-10"), zone=settings.tz, min_evaluations=10
    )
    effects = {e.evaluator: e.effect for e in result.evaluators}
    assert effects["harsh"] < 0 < effects["lenient"]
    by_agent = {a.agent: a for a in result.agents}
    raw_gap = by_agent["100003"].qa_score - by_agent["100001"].qa_score
    adjusted_gap = by_agent["100003"].qa_score_adjusted - by_agent["100001"].qa_score_adjusted
    assert raw_gap > 3  # the harsh evaluator made equal agents look apart
    assert abs(adjusted_gap) < raw_gap / 3
    assert all(a.evaluations == 16 and a.fatal_errors == 0 for a in result.agents)


def test_the_json_has_the_documented_shape(cli_env: Settings) -> None:
    with session_scope(cli_env) as session:
        _centre(session, cli_env)
    shown = runner.invoke(app, ["quality", "scores", "--period", "2026-10", "--format", "json"])
    assert shown.exit_code == 0, shown.output
    document = json.loads(shown.stdout)
    assert document["period"] == "2026-10"
    assert [a["agent"] for a in document["agents"]] == ["100001", "100002", "100003", "100004"]
    assert set(document["agents"][0]) == {
        "agent",
        "qa_score",
        "qa_score_adjusted",
        "evaluations",
        "fatal_errors",
    }
    # 32 evaluations each: both evaluators reach the default minimum of 30.
    assert {e["evaluator"] for e in document["evaluators"]} == {"harsh", "lenient"}
    assert set(document["evaluators"][0]) == {"evaluator", "effect", "evaluations"}
    empty = runner.invoke(app, ["quality", "scores", "--period", "2026-09", "--format", "json"])
    assert json.loads(empty.stdout) == {"period": "2026-09", "agents": [], "evaluators": []}


def test_the_default_form_shows_without_a_database() -> None:
    shown = runner.invoke(app, ["quality", "forms", "show", "--format", "json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["code"] == "default"


def test_the_ladder_reads_the_adjusted_score_as_a_fact(
    session: Session, settings: Settings
) -> None:
    from agentladder.ladder.decisions.facts import gather_facts

    _centre(session, settings)
    facts = gather_facts(session=session, periods=[parse_period("2026-10")])["2026-10"]
    adjusted = [f["qa_score_adjusted"] for f in facts.values()]
    assert len(adjusted) == 4
    assert all(fact.source == "quality" and fact.sample_size == 16 for fact in adjusted)
    raw = sorted(f["qa_score"].value for f in facts.values())
    spread = max(f.value for f in adjusted) - min(f.value for f in adjusted)
    assert spread < raw[-1] - raw[0]  # the harsh evaluator's pull is taken out
