"""The call an evaluation scores, as the ACD data has it: who took it, in which queue, when, how
long it waited and talked, whether it was transferred, how it ended, the caller (hashed) and the
survey the caller answered about it; and its transcript when speech recognition left one.

Read from the ingested Parquet datasets (`interactions`, `surveys`) through the ingest service;
nothing here is stored."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.errors import InvalidInput
from agentladder.ingest import service as ingest_service
from agentladder.org import service as org_service
from agentladder.quality.autoqa.schemas import mask_personal_numbers
from agentladder.quality.recordings import CallRecordingFacts, recording_path

SPEAKERS = ("agent", "customer", "system")


@dataclass(frozen=True)
class CallSurvey:
    """The caller's survey answer about the call."""

    score: float | None
    scale_max: float | None
    resolved: bool | None


@dataclass(frozen=True)
class CallFacts:
    """One ingested call, as the QA workspace shows it (None: the data does not say)."""

    call_id: str
    agent_identity: str | None
    agent_id: int | None
    queue: str | None
    started_at: datetime | None  # UTC: when the call entered the queue
    answered_at: datetime | None
    wait_s: float | None
    talk_s: float | None
    hold_s: float | None
    transferred: bool | None
    outcome: str | None  # answered, abandoned, ... as the ingest stored it
    caller_hash: str | None
    direction: str | None
    survey: CallSurvey | None = None
    legs: int = 0  # how many agent legs the call had (rings, transfers)
    ring_s: float | None = None  # how long it rang at the agent who answered
    ended_by: str | None = None  # agent | customer: who hung up (when the source says)


def _rows(
    session: Session, settings: Settings, dataset: str, call_ids: Collection[str]
) -> list[dict[str, Any]]:
    # Imported here: pyarrow loads only when a call is read (tests/test_startup.py).
    import pyarrow.parquet as pq

    files = ingest_service.dataset_files(session=session, settings=settings).get(dataset, [])
    if not files or not call_ids:
        return []
    table = pq.ParquetDataset(
        [str(path) for path in files],
        schema=ingest_service.dataset_schema(dataset),
        filters=[("callid", "in", sorted(call_ids))],
    ).read()
    return list(table.to_pylist())


def call_facts(
    *, session: Session, settings: Settings, call_id: str, agent_id: int | None = None
) -> CallFacts | None:
    """The ingested call with this id (its answered row; the one `agent_id` answered when it
    was transferred between agents), or None when the ACD data does not have it."""
    return calls_by_id(
        session=session, settings=settings, call_ids=[call_id], agent_ids={call_id: agent_id}
    ).get(call_id)


def calls_by_id(
    *,
    session: Session,
    settings: Settings,
    call_ids: Collection[str],
    agent_ids: Mapping[str, int | None] | None = None,
) -> dict[str, CallFacts]:
    """The ingested calls with these ids, read at once (see `call_facts`; `agent_ids`: the
    agent whose leg to prefer, by call id); calls the ACD data does not have are left out."""
    by_call: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in _rows(session, settings, "interactions", call_ids):
        by_call[row["callid"]].append(row)
    if not by_call:
        return {}
    surveys: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in _rows(session, settings, "surveys", list(by_call)):
        surveys[row["callid"]].append(row)
    resolve = org_service.identity_resolver(session=session)
    preferred = agent_ids or {}
    return {
        call_id: _call_facts(call_id, rows, surveys[call_id], resolve, preferred.get(call_id))
        for call_id, rows in by_call.items()
    }


def _call_facts(
    call_id: str,
    rows: list[dict[str, Any]],
    surveys: list[dict[str, Any]],
    resolve: Callable[[str], int | None],
    agent_id: int | None,
) -> CallFacts:
    calls = [row for row in rows if row["row_kind"] == "call"] or rows

    def mine(row: dict[str, Any]) -> bool:
        return agent_id is not None and resolve(row["agent_identity"] or "") == agent_id

    def rank(row: dict[str, Any]) -> tuple[int, int, datetime]:
        answered = row["outcome"] == "answered"
        return (0 if mine(row) else 1, 0 if answered else 1, row["event_at"])

    chosen = min(calls, key=rank)
    survey = None
    if surveys:
        first = min(surveys, key=lambda row: row["event_at"])
        survey = CallSurvey(first["score"], first["scale_max"], first["resolved"])
    identity = chosen["agent_identity"]
    # The ring the agent who answered heard: their leg's, when the call has legs.
    answered_legs = [
        row
        for row in rows
        if row["row_kind"] == "leg"
        and row["outcome"] == "answered"
        and row["agent_identity"] == identity
    ]
    ring_s = answered_legs[0]["ring_s"] if answered_legs else chosen["ring_s"]
    return CallFacts(
        call_id=call_id,
        agent_identity=identity,
        agent_id=resolve(identity) if identity else None,
        queue=chosen["queue"],
        started_at=chosen["event_at"],
        answered_at=chosen["answer_at"],
        wait_s=chosen["wait_s"],
        talk_s=chosen["talk_s"],
        hold_s=chosen["hold_s"],
        transferred=chosen["transferred"],
        outcome=chosen["outcome"],
        caller_hash=chosen["caller_hash"],
        direction=chosen["direction"],
        survey=survey,
        legs=sum(1 for row in rows if row["row_kind"] == "leg"),
        ring_s=ring_s,
        ended_by=chosen.get("ended_by"),
    )


def call_recording(
    *,
    settings: Settings,
    call_id: str,
    started_at: datetime,
    agent_identity: str | None = None,
    queue: str | None = None,
) -> Path:
    """The call's recording file; NotFound when the file is not there, InvalidInput for a path
    that would leave the recordings folder."""
    return recording_path(
        settings.recordings_root,
        settings.recording_path_template,
        CallRecordingFacts(
            uniqueid=call_id,
            started_at=started_at.astimezone(settings.tz),
            agent=agent_identity or "",
            queue=queue or "",
        ),
    )


@dataclass(frozen=True)
class TranscriptTurn:
    """One turn of a transcript: who spoke, from when to when (seconds from the answer)."""

    speaker: str
    start_s: float
    end_s: float | None
    text: str


@dataclass(frozen=True)
class Transcript:
    """A call's transcript (docs transcript-format, one JSON object per call)."""

    call_id: str
    hangup_by: str | None
    language: str
    turns: list[TranscriptTurn] = field(default_factory=list)


def call_transcript(*, settings: Settings, call_id: str) -> Transcript | None:
    """`<recordings dir>/<call id>.json` when speech recognition left one there, digits runs
    masked; None when there is none. InvalidInput for a file that is not a transcript."""
    name = PurePosixPath(call_id.replace("\\", "/"))
    if len(name.parts) != 1 or call_id in {".", ".."} or "\x00" in call_id:
        return None  # a call id that is not a plain file name never names a transcript
    base = settings.recordings_root.resolve()
    path = (base / f"{call_id}.json").resolve()
    if not path.is_relative_to(base) or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        turns = sorted(
            (
                TranscriptTurn(
                    speaker=str(turn["speaker"]) if turn["speaker"] in SPEAKERS else "system",
                    start_s=float(turn["start_s"]),
                    end_s=float(turn["end_s"]) if turn.get("end_s") is not None else None,
                    text=mask_personal_numbers(str(turn["text"])),
                )
                for turn in data["turns"]
            ),
            key=lambda turn: turn.start_s,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(
            "the transcript {file} cannot be read: {error}", file=path.name, error=str(exc)
        ) from exc
    hangup = data.get("hangup_by")
    return Transcript(
        call_id=call_id,
        hangup_by=hangup if hangup in {"agent", "customer"} else None,
        language=str(data.get("language") or "zh"),
        turns=turns,
    )
