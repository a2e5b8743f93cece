"""The demo's automatic QA: transcripts of the QA-sampled calls and a share of the others,
imported and judged through the product's import, following the agents' latent skill; the
demo's ladder weighs autoqa_score."""

from __future__ import annotations

import json
from datetime import date

import pytest
import yaml
from sqlalchemy import func, select

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.demo import autoqa as demo_autoqa
from agentladder.demo import ladder_cycles as demo_ladder
from agentladder.demo import service as demo_service
from agentladder.demo.models import DemoAgentTruth
from agentladder.imports.models import FileImport
from agentladder.ladder.decisions import service as decisions_service
from agentladder.ladder.policy import service as policy_service
from agentladder.org.models import Agent
from agentladder.periods import parse_period
from agentladder.quality.autoqa import service as autoqa_service
from agentladder.quality.models import AutoqaResult, CallTranscript, QaSampledCall
from tests.demo.stats import spearman

TODAY = date(2026, 11, 23)
MONTHS = ("2026-09", "2026-10")  # the demo's two months of calls, both transcribed


def test_the_demo_transcribes_judges_and_weighs_its_calls(settings: Settings) -> None:
    with session_scope(settings) as session:
        summary = demo_service.build_demo(
            session=session,
            settings=settings,
            today=TODAY,
            agents=15,
            seed=5,
            call_months=2,
            period_kinds=("month",),
        )
    facts = summary.facts["transcripts"]
    assert isinstance(facts, dict)
    assert set(facts["by_month"]) == set(MONTHS)
    with session_scope(settings) as session:
        stored = session.scalars(select(CallTranscript)).all()
        assert len(stored) == facts["transcripts"] > 150
        # Imported as files through the ledger, one a month, and every call judged.
        ledger = session.scalars(select(FileImport).where(FileImport.kind == "transcripts")).all()
        assert [(f.status, f.rejected) for f in ledger] == [("applied", 0), ("applied", 0)]
        assert all(t.file_import_id is not None for t in stored)
        assert session.scalar(select(func.count()).select_from(AutoqaResult)) == len(stored)

        # Linked to the call data: the call's agent, who greets with their own number.
        agents = {a.id: a for a in session.scalars(select(Agent))}
        assert all(t.agent_id in agents for t in stored)
        assert all(t.agent_identity == agents[t.agent_id].employee_no for t in stored)
        assert {t.language for t in stored} <= {"zh", "en"}
        assert sum(t.language == "zh" for t in stored) > len(stored) / 2

        # Every sampled call long enough to transcribe has its transcript.
        sampled = set(session.scalars(select(QaSampledCall.call_id)))
        transcribed = {t.call_id for t in stored}
        assert len(sampled & transcribed) == facts["sampled"] >= 0.9 * len(sampled)
        assert transcribed - sampled  # and some calls no sample drew

        # Better agents pass the etiquette rules more often.
        start = parse_period(MONTHS[0]).bounds_utc(settings.tz)[0]
        end = parse_period(MONTHS[-1]).bounds_utc(settings.tz)[1]
        figures = [
            f
            for f in autoqa_service.agent_figures(session=session, start=start, end=end)
            if f.score is not None and f.calls >= 8
        ]
        assert len(figures) >= 10
        truths = {t.agent_id: t for t in session.scalars(select(DemoAgentTruth))}
        skill = [
            demo_service.true_skill(
                truths[f.agent_id], agents[f.agent_id].hire_date, date(2026, 10, 1)
            )
            for f in figures
        ]
        assert spearman(skill, [f.score or 0.0 for f in figures]) > 0.5

        # The ladder runs the demo's policy and its decisions show autoqa_score.
        policy = policy_service.current_policy(session=session).policy
        assert "autoqa_score" in policy.components["quality"].metrics
        views = decisions_service.decision_views(session=session, period=parse_period(MONTHS[-1]))
        scored = [
            metric
            for view in views
            for component in view.detail["components"]
            if component["component"] == "quality"
            for metric in component["metrics"]
            if metric["metric"] == "autoqa_score" and metric["raw"] is not None
        ]
        assert len(scored) >= 10
    # The files are JSON Lines a person could import again.
    folder = demo_service.transcripts_folder(settings)
    lines = (folder / f"transcripts-{MONTHS[0]}.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == facts["by_month"][MONTHS[0]]
    # Most agents greet with the company name the shipped rule set knows.
    openings = [json.loads(line)["turns"][0]["text"] for line in lines]
    named = sum("安信电器" in text or "Anxin Appliances" in text for text in openings)
    assert named > len(openings) / 2


@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_the_demo_policy_is_the_default_with_autoqa_score(language: str) -> None:
    text = demo_ladder.demo_policy_text(language)  # type: ignore[arg-type]
    default = yaml.safe_load(policy_service.default_policy_text(language))  # type: ignore[arg-type]
    demo = yaml.safe_load(text)
    assert demo["components"]["quality"]["metrics"]["autoqa_score"] == 15
    assert sum(demo["components"]["quality"]["metrics"].values()) == sum(
        default["components"]["quality"]["metrics"].values()
    )
    assert demo["scoring"]["autoqa_score"] == {"linear": {"best": 95, "worst": 60}}
    assert demo["evidence"]["window"]["autoqa_score"] == {"periods": 3, "decay": 1}
    assert demo["evidence"]["spread"]["autoqa_score"] == 12
    # Nothing else changed, comments kept; the shipped default does not name it.
    for section in ("levels", "promotion", "demotion", "qa"):
        assert demo[section] == default[section]
    assert text.count("#") == policy_service.default_policy_text(language).count("#")  # type: ignore[arg-type]
    assert "autoqa_score" not in default["components"]["quality"]["metrics"]


def test_sampled_calls_are_all_chosen_and_others_at_the_share() -> None:
    import numpy as np

    calls = {
        f"c{i}": demo_autoqa.KeptCall(f"c{i}", "8001", "general", 0.0, 120, 5, 3.0, "caller")
        for i in range(20000)
    }
    sampled = {"c1", "c5", "c19999"}
    chosen = demo_autoqa.chosen_calls(calls, sampled, np.random.default_rng(1), share=0.01)
    ids = [call.callid for call in chosen]
    assert sampled <= set(ids)
    assert ids == sorted(ids, key=lambda c: int(c[1:]))  # in the simulation's order
    assert 150 < len(ids) - len(sampled) < 260


def test_etiquette_skill_maps_latent_skill_into_zero_to_one() -> None:
    assert demo_autoqa.etiquette_skill(0.0) == pytest.approx(0.5)
    assert 0 < demo_autoqa.etiquette_skill(-4.0) < 0.001
    assert 0.999 < demo_autoqa.etiquette_skill(4.0) < 1
    assert demo_autoqa.etiquette_skill(1.0) > demo_autoqa.etiquette_skill(0.5)
