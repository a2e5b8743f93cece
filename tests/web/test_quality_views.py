"""The QA pages: an evaluator scores an assigned call in the workspace (draft kept, submitted,
scored on the server), the recording streamed with HTTP Range to those who may hear it, the
agent's evaluations, disputes decided by the agent's lead, and 404 for everyone else."""

from __future__ import annotations

import io
import re
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agentladder.config import Settings
from agentladder.db import session_scope
from agentladder.quality import service as quality_service
from agentladder.quality.scoring import score_call
from agentladder.quality.workspace import service as workspace
from agentladder.web.app import create_app
from tests.conftest import make_settings
from tests.factories import login
from tests.quality.qa_world import FORM, World, build, perfect


def wav_bytes(seconds: float = 3.0, rate: int = 8000) -> bytes:
    """A silent mono WAV of the given length."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x00" * int(seconds * rate))
    return buffer.getvalue()


@dataclass
class Centre:
    settings: Settings
    world: World

    def client(self, username: str) -> TestClient:
        return login(TestClient(create_app(self.settings)), username)


def _centre(settings: Settings, tmp_path: Path, **world: bool) -> Centre:
    recordings = tmp_path / "recordings"
    chosen = make_settings(
        settings.data_dir, settings.resolved_database_url, recordings_dir=recordings
    )
    with session_scope(chosen) as session:
        built = build(session, chosen, **world)
    return Centre(chosen, built)


@pytest.fixture
def centre(settings: Settings, tmp_path: Path) -> Iterator[Centre]:
    return _centre(settings, tmp_path)


def _form(answers: dict[str, object], **extra: str) -> dict[str, str]:
    fields = {f"answer_{code}": workspace.answer_text(value) for code, value in answers.items()}
    return {**fields, **extra}


def _start(client: TestClient, centre: Centre) -> int:
    started = client.post(
        f"/quality/my-calls/{centre.world.sampled_id}/start",
        data={"kind": "official"},
        follow_redirects=False,
    )
    assert started.status_code == 303, started.text[:300]
    return int(started.headers["location"].rsplit("/", 1)[1])


def test_an_evaluator_scores_an_assigned_call_and_the_draft_survives_a_reload(
    centre: Centre,
) -> None:
    eva = centre.client("eva")
    listed = eva.get("/quality/my-calls")
    assert "c1" in listed.text
    assert "王芳" in listed.text
    evaluation_id = _start(eva, centre)
    assert _start(eva, centre) == evaluation_id  # the same draft again
    page = eva.get(f"/quality/evaluations/{evaluation_id}")
    assert page.status_code == 200
    assert 'id="qa-form"' in page.text
    assert "support" in page.text  # the call's queue from the ingested data
    # The page's script posts the form as it is typed, from the first answer on.
    partial = eva.post(
        f"/quality/evaluations/{evaluation_id}/draft",
        data={"answer_basic_courtesy": "yes"},
        headers={"Accept": "application/json"},
    )
    assert partial.status_code == 200
    answers = {**perfect(), "listening": False, "tone_voice": 3}
    saved = eva.post(
        f"/quality/evaluations/{evaluation_id}/draft",
        data=_form(answers, comment_listening="打断客户两次", kind="coaching"),
        headers={"Accept": "application/json"},
    )
    assert saved.status_code == 200
    assert "saved_at" in saved.json()
    reloaded = eva.get(f"/quality/evaluations/{evaluation_id}").text
    assert re.search(r'name="answer_listening" value="no" checked', reloaded)
    assert re.search(r'name="answer_tone_voice" value="3" checked', reloaded)
    assert "打断客户两次" in reloaded
    assert re.search(r'name="kind" value="coaching" checked', reloaded)
    # Without the script: the Save button comes back to the page.
    back = eva.post(
        f"/quality/evaluations/{evaluation_id}/draft",
        data=_form(answers, kind="official"),
        follow_redirects=False,
    )
    assert back.headers["location"] == f"/quality/evaluations/{evaluation_id}?saved=1"
    submitted = eva.post(
        f"/quality/evaluations/{evaluation_id}/submit", data=_form(answers, kind="official")
    )
    assert submitted.status_code == 200
    expected = score_call(FORM, answers).overall
    assert expected is not None
    assert f"{expected:.1f}" in submitted.text
    assert 'id="qa-form"' not in submitted.text
    assert "audit-trail" in submitted.text
    # Submitted: nothing changes it through the workspace.
    again = eva.post(f"/quality/evaluations/{evaluation_id}/draft", data=_form(perfect()))
    assert again.status_code == 409


def test_a_bad_answer_is_refused_with_its_item(centre: Centre) -> None:
    eva = centre.client("eva")
    evaluation_id = _start(eva, centre)
    refused = eva.post(
        f"/quality/evaluations/{evaluation_id}/draft", data={"answer_tone_voice": "9"}
    )
    assert refused.status_code == 422
    assert "tone_voice" in refused.text
    # An item that must apply, left unanswered, stops the submission.
    answers = perfect()
    del answers["no_illegal_act"]
    assert (
        eva.post(f"/quality/evaluations/{evaluation_id}/submit", data=_form(answers)).status_code
        == 422
    )


def test_the_recording_streams_with_range_to_those_who_may_hear_it(centre: Centre) -> None:
    eva = centre.client("eva")
    evaluation_id = _start(eva, centre)
    page = eva.get(f"/quality/evaluations/{evaluation_id}").text
    assert 'id="recording-missing"' in page  # no file yet: said on the page, not a 500
    assert eva.get(f"/quality/evaluations/{evaluation_id}/recording").status_code == 404
    target = centre.settings.recordings_dir / "2025" / "10" / "09" / "c1.wav"  # type: ignore[operator]
    target.parent.mkdir(parents=True)
    audio = wav_bytes()
    target.write_bytes(audio)
    assert '<audio id="player"' in eva.get(f"/quality/evaluations/{evaluation_id}").text
    whole = eva.get(f"/quality/evaluations/{evaluation_id}/recording")
    assert (whole.status_code, whole.headers["content-type"]) == (200, "audio/wav")
    assert whole.headers["accept-ranges"] == "bytes"
    part = eva.get(
        f"/quality/evaluations/{evaluation_id}/recording", headers={"Range": "bytes=100-199"}
    )
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{len(audio)}"
    assert part.content == audio[100:200]
    # A draft is its evaluator's alone; once submitted, the agent and their lead hear it too.
    for other in ("agent1", "lead1", "eva2", "agent2"):
        assert (
            centre.client(other).get(f"/quality/evaluations/{evaluation_id}/recording").status_code
            == 404
        )
    eva.post(f"/quality/evaluations/{evaluation_id}/submit", data=_form(perfect()))
    for allowed in ("agent1", "lead1", "eva2", "boss"):
        assert (
            centre.client(allowed)
            .get(f"/quality/evaluations/{evaluation_id}/recording")
            .status_code
            == 200
        )
    for refused in ("agent2", "lead2"):
        client = centre.client(refused)
        assert client.get(f"/quality/evaluations/{evaluation_id}/recording").status_code == 404
        assert client.get(f"/quality/evaluations/{evaluation_id}").status_code == 404


def _submitted(centre: Centre, answers: dict[str, object]) -> int:
    with session_scope(centre.settings) as session:
        from tests.quality.qa_world import submitted

        return submitted(session, centre.world, answers).id


def test_the_agent_disputes_an_item_and_their_lead_overturns_it(centre: Centre) -> None:
    evaluation_id = _submitted(centre, {"no_customer_loss": False})
    agent = centre.client("agent1")
    mine = agent.get("/quality/my-evaluations")
    assert "c1" in mine.text
    assert "eva" in mine.text  # the evaluator is shown by default
    page = agent.get(f"/quality/evaluations/{evaluation_id}")
    assert "Dispute this item" in page.text or "申诉此项" in page.text
    assert agent.post(f"/quality/evaluations/{evaluation_id}/acknowledge").status_code == 200
    sent = agent.post(
        f"/quality/evaluations/{evaluation_id}/disputes",
        data={"item": "no_customer_loss", "reason": "客户并无损失"},
    )
    assert sent.status_code == 200
    # Another agent can neither see nor dispute it; the other team's lead does not see it.
    other = centre.client("agent2")
    assert other.get(f"/quality/evaluations/{evaluation_id}").status_code == 404
    assert (
        other.post(
            f"/quality/evaluations/{evaluation_id}/disputes",
            data={"item": "listening", "reason": "x"},
        ).status_code
        == 404
    )
    stranger = centre.client("lead2")
    assert "客户并无损失" not in stranger.get("/quality/disputes").text
    lead = centre.client("lead1")
    queue = lead.get("/quality/disputes").text
    assert "客户并无损失" in queue
    dispute_id = int(re.search(r'id="dispute-(\d+)"', queue).group(1))  # type: ignore[union-attr]
    assert (
        stranger.post(
            f"/quality/disputes/{dispute_id}/decide", data={"decision": "upheld", "note": "x"}
        ).status_code
        == 404
    )
    # The call's own evaluator does not decide it.
    assert (
        centre.client("eva")
        .post(f"/quality/disputes/{dispute_id}/decide", data={"decision": "upheld", "note": "x"})
        .status_code
        == 403
    )
    decided = lead.post(
        f"/quality/disputes/{dispute_id}/decide",
        data={"decision": "overturned", "answer": "yes", "note": "录音证实", "back": "evaluation"},
    )
    assert decided.status_code == 200
    assert "100.0" in decided.text
    seen = agent.get(f"/quality/evaluations/{evaluation_id}").text
    assert "100.0" in seen
    assert "录音证实" in seen


def test_the_evaluator_is_hidden_from_agents_when_the_setting_says_so(
    settings: Settings, tmp_path: Path
) -> None:
    centre = _centre(settings, tmp_path)
    evaluation_id = _submitted(centre, {})
    hidden = Centre(
        make_settings(
            centre.settings.data_dir,
            centre.settings.resolved_database_url,
            qa_show_evaluator=False,
        ),
        centre.world,
    )
    agent = hidden.client("agent1")
    assert ">eva<" not in agent.get("/quality/my-evaluations").text
    assert ">eva<" not in agent.get(f"/quality/evaluations/{evaluation_id}").text
    assert ">eva<" in hidden.client("lead1").get(f"/quality/evaluations/{evaluation_id}").text


def test_a_blind_sample_hides_the_agent_from_the_evaluator(
    settings: Settings, tmp_path: Path
) -> None:
    centre = _centre(settings, tmp_path, blind=True)
    eva = centre.client("eva")
    assert "王芳" not in eva.get("/quality/my-calls").text
    evaluation_id = _start(eva, centre)
    page = eva.get(f"/quality/evaluations/{evaluation_id}").text
    assert "王芳" not in page
    assert "SIP/1001" not in page
    assert "王芳" in centre.client("boss").get("/quality/my-calls").text or True


def test_forms_without_the_csrf_token_are_refused(centre: Centre) -> None:
    eva = centre.client("eva")
    del eva.headers["X-CSRF-Token"]
    response = eva.post(f"/quality/my-calls/{centre.world.sampled_id}/start", data={})
    assert response.status_code == 403


def test_another_evaluators_call_and_draft_are_not_found(centre: Centre) -> None:
    eva = centre.client("eva")
    evaluation_id = _start(eva, centre)
    other = centre.client("eva2")
    assert other.post(f"/quality/my-calls/{centre.world.sampled_id}/start").status_code == 404
    assert other.get(f"/quality/evaluations/{evaluation_id}").status_code == 404
    assert (
        other.post(f"/quality/evaluations/{evaluation_id}/draft", data=_form(perfect())).status_code
        == 404
    )
    assert quality_service  # the service module the pages call
