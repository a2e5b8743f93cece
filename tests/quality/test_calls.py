"""The call an evaluation scores, read from the ingested data, its recording and transcript."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.errors import InvalidInput, NotFound
from agentladder.quality import calls
from tests.conftest import make_settings
from tests.quality.qa_world import CALL_AT, build


def test_the_call_facts_come_from_the_ingested_call_and_its_survey(
    session: Session, settings: Settings
) -> None:
    world = build(session, settings)
    facts = calls.call_facts(session=session, settings=settings, call_id="c1")
    assert facts is not None
    assert (facts.agent_identity, facts.agent_id, facts.queue) == (
        "SIP/1001",
        world.agent_ids["A1"],
        "support",
    )
    assert (facts.started_at, facts.wait_s, facts.talk_s) == (CALL_AT, 10.0, 90.0)
    assert (facts.transferred, facts.outcome, facts.direction) == (False, "answered", "inbound")
    assert facts.caller_hash
    assert len(facts.caller_hash) == 32
    assert facts.survey is not None
    assert facts.survey.resolved is True
    other = calls.call_facts(session=session, settings=settings, call_id="c2")
    assert other is not None
    assert (other.agent_id, other.talk_s, other.survey) == (world.agent_ids["A2"], 5.0, None)
    assert calls.call_facts(session=session, settings=settings, call_id="nope") is None


def test_no_ingested_data_is_no_facts(session: Session, settings: Settings) -> None:
    assert calls.call_facts(session=session, settings=settings, call_id="c1") is None


def _with_recordings(settings: Settings, root: Path) -> Settings:
    return make_settings(
        settings.data_dir,
        settings.resolved_database_url,
        recordings_dir=root,
        recording_path_template="{date:%Y/%m/%d}/{uniqueid}.wav",
    )


def test_the_recording_is_found_by_the_template_in_the_centres_zone(
    settings: Settings, tmp_path: Path
) -> None:
    chosen = _with_recordings(settings, tmp_path)
    with pytest.raises(NotFound):
        calls.call_recording(settings=settings, call_id="c1", started_at=CALL_AT)  # not set up
    with pytest.raises(NotFound):
        calls.call_recording(settings=chosen, call_id="c1", started_at=CALL_AT)
    # 08:53 UTC is 16:53 in Shanghai, the same day.
    target = tmp_path / "2025" / "10" / "09" / "c1.wav"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"RIFF")
    assert calls.call_recording(settings=chosen, call_id="c1", started_at=CALL_AT) == target
    with pytest.raises(InvalidInput):
        calls.call_recording(settings=chosen, call_id="../../etc/passwd", started_at=CALL_AT)


def test_a_transcript_beside_the_recordings_is_read_sorted_and_masked(
    settings: Settings, tmp_path: Path
) -> None:
    chosen = _with_recordings(settings, tmp_path)
    assert calls.call_transcript(settings=chosen, call_id="c1") is None
    (tmp_path / "c1.json").write_text(
        json.dumps(
            {
                "call_id": "c1",
                "hangup_by": "customer",
                "turns": [
                    {
                        "speaker": "customer",
                        "start_s": 4.6,
                        "end_s": 9,
                        "text": "我的号码13800000001",
                    },
                    {"speaker": "agent", "start_s": 0, "end_s": 4.1, "text": "您好"},
                    {"speaker": "robot", "start_s": 10, "text": "请稍候"},
                ],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    transcript = calls.call_transcript(settings=chosen, call_id="c1")
    assert transcript is not None
    assert transcript.hangup_by == "customer"
    assert [t.speaker for t in transcript.turns] == ["agent", "customer", "system"]
    assert transcript.turns[1].text == "我的号码" + "*" * 11
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidInput):
        calls.call_transcript(settings=chosen, call_id="bad")


_TRANSCRIPT = json.dumps({"turns": [{"speaker": "agent", "start_s": 0, "text": "您好"}]})
_ROOT = Path(tempfile.mkdtemp(prefix="qawork-transcripts-"))
(_ROOT / "rec").mkdir()
(_ROOT / "rec" / "ok.json").write_text(_TRANSCRIPT, encoding="utf-8")
(_ROOT / "outside.json").write_text(_TRANSCRIPT, encoding="utf-8")
(_ROOT / "rec" / "link.json").symlink_to(_ROOT / "outside.json")
_ESCAPES = ["../outside", "..\\outside", str(_ROOT / "outside"), "link", "./../outside", ".."]


@given(st.one_of(st.text(min_size=1, max_size=30), st.sampled_from([*_ESCAPES, "ok"])))
def test_a_transcript_is_never_read_outside_the_recordings_folder(call_id: str) -> None:
    settings = make_settings(_ROOT, "sqlite://", recordings_dir=_ROOT / "rec")
    found = calls.call_transcript(settings=settings, call_id=call_id)
    assert (found is not None) == (call_id == "ok")
