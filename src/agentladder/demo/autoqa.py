"""The demo's automatic QA: transcripts of a share of the simulated calls, generated from the
agent's latent skill on the call's day (see `demo.transcripts`), written as one JSON Lines
file a month and imported, stored and judged, through the product's transcript import.

Which calls: the centre began transcribing `TRANSCRIBED_MONTHS` months before today; of
those months, every call the QA samples drew (their evaluators see the rules' verdicts beside
the form) and `RANDOM_SHARE` of the other answered calls. Calls shorter than `MIN_TALK_S` get
none (an agent cutting a caller off: a greeting and a goodbye alone outlast them); nor do the
second site's, which never reach the product's call data.

The transcripts agree with the ACD data: the call ids are the queue_log's, and the ring, the
queue wait and who hung up first are the simulation's, which the queue_log recorded (so an
apology is said when the call data says one is owed). Calls from the English queue are in
English, the others in Chinese; the agent greets with the company name the shipped rule set
knows (安信电器 / Anxin Appliances), their employee number and their name.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.demo.calls import DayFacts
from agentladder.demo.transcripts import Language, SyntheticCallData, synthetic_transcript
from agentladder.errors import InvalidInput
from agentladder.quality import service as quality_service

# A transcript costs the demo about 7 ms on 2 idle CPUs: 2 to generate, the rest to import and
# judge (the demo's calls last four to nine minutes, 60-130 turns). Two months of the QA
# samples (about 1,600 calls for 120 agents) and one other call in a thousand (about 150) keep
# the step near twelve seconds; the samples of all six months would take half a minute more,
# which `agentladder demo` (under three minutes with its install) cannot spare.
TRANSCRIBED_MONTHS = 2
RANDOM_SHARE = 0.001
MIN_TALK_S = 30
ENGLISH_GROUP = "english"  # the skill group whose callers speak English


class KeptCall(NamedTuple):
    """What a transcript needs of one answered call of the simulation (epoch seconds, UTC)."""

    callid: str
    agent: str  # the agent's number (Agent/<number>)
    group: str
    connect_at: float
    talk_s: int
    wait_s: int
    ring_s: float
    ended_by: str  # caller | agent | transfer


class AnsweredCalls:
    """Keeps the answered calls of a simulation from `since` (epoch seconds) on, by call id (a
    `demo.calls.DayObserver`); a call answered twice keeps its first answer, as the product's
    call data does."""

    def __init__(self, since: float) -> None:
        self.since = since
        self.calls: dict[str, KeptCall] = {}

    def observe_day(self, facts: DayFacts) -> None:
        """Keep the day's answered calls long enough to transcribe."""
        for call in facts.calls:
            if (
                call.connect_at >= self.since
                and call.talk_s >= MIN_TALK_S
                and call.callid not in self.calls
            ):
                self.calls[call.callid] = KeptCall(
                    call.callid,
                    call.agent,
                    call.group,
                    call.connect_at,
                    call.talk_s,
                    call.wait_s,
                    call.ring_s,
                    call.ended_by,
                )


@dataclass(frozen=True)
class TranscriptAgent:
    """An agent as their transcripts show them, and their latent skill on a day (standard
    normal scale)."""

    employee_no: str
    name: str
    skill: Callable[[date], float]


@dataclass
class TranscriptsDemo:
    """What the transcripts step did, for the summary."""

    files: list[str] = field(default_factory=list)
    transcripts: int = 0
    sampled: int = 0  # of them, calls a QA sample drew
    english: int = 0
    by_month: dict[str, int] = field(default_factory=dict)


def etiquette_skill(skill: float) -> float:
    """Latent skill (standard normal scale) as the transcript generator's 0-1 skill: the
    share of agents below it."""
    return 0.5 * (1.0 + math.erf(skill / math.sqrt(2.0)))


_HANGUP: dict[str, Literal["agent", "customer"] | None] = {
    "caller": "customer",
    "agent": "agent",
    "transfer": None,
}


def chosen_calls(
    answered: Mapping[str, KeptCall],
    sampled: Collection[str],
    rng: np.random.Generator,
    share: float = RANDOM_SHARE,
) -> list[KeptCall]:
    """The calls to transcribe, in the simulation's order: the sampled ones and `share` of
    the others."""
    wanted = set(sampled)
    draws = rng.random(len(answered))
    return [
        call
        for call, draw in zip(answered.values(), draws, strict=True)
        if call.callid in wanted or draw < share
    ]


def transcript_line(
    call: KeptCall, agent: TranscriptAgent, zone: ZoneInfo, rng: np.random.Generator
) -> tuple[str, Language, str]:
    """One call's transcript as a JSON Lines line, its language and its local month."""
    at = datetime.fromtimestamp(call.connect_at, UTC).astimezone(zone)
    language: Language = "en" if call.group == ENGLISH_GROUP else "zh"
    generated = synthetic_transcript(
        rng,
        call_id=call.callid,
        agent_no=agent.employee_no,
        agent_name=agent.name,
        skill=etiquette_skill(agent.skill(at.date())),
        duration_s=float(call.talk_s),
        language=language,
        recorded=SyntheticCallData(
            ring_s=round(call.ring_s, 1),
            queue_wait_s=float(call.wait_s),
            hangup_by=_HANGUP[call.ended_by],
        ),
    )
    document = generated.transcript.model_dump(mode="json", exclude_none=True)
    return json.dumps(document, ensure_ascii=False), language, f"{at:%Y-%m}"


def write_and_import(
    *,
    session: Session,
    settings: Settings,
    folder: Path,
    answered: Mapping[str, KeptCall],
    sampled: Collection[str],
    agents: Mapping[str, TranscriptAgent],
    rng: np.random.Generator,
    share: float = RANDOM_SHARE,
) -> TranscriptsDemo:
    """Generate the chosen calls' transcripts (see `chosen_calls`), write a JSON Lines file a
    month into `folder` and import each, as `agentladder quality transcripts import` would."""
    folder.mkdir(parents=True, exist_ok=True)
    result = TranscriptsDemo()
    lines: dict[str, list[str]] = defaultdict(list)
    languages: Counter[str] = Counter()
    sampled_ids = set(sampled)
    for call in chosen_calls(answered, sampled_ids, rng, share):
        agent = agents.get(call.agent)
        if agent is None:
            continue
        line, language, month = transcript_line(call, agent, settings.tz, rng)
        lines[month].append(line)
        languages[language] += 1
        result.sampled += call.callid in sampled_ids
    for month, month_lines in sorted(lines.items()):
        path = folder / f"transcripts-{month}.jsonl"
        data = ("\n".join(month_lines) + "\n").encode("utf-8")
        path.write_bytes(data)
        imported = quality_service.import_transcripts(
            session=session, settings=settings, data=data, file_name=path.name
        )
        # The demo's own transcripts are all good: a rejected line is a bug of the generator.
        if not imported.applied or imported.preview.errors:
            raise InvalidInput(
                "the demo's transcript file {file} was refused: {errors}",
                file=path.name,
                errors="; ".join(issue.text() for issue in imported.preview.errors[:3]),
            )
        result.files.append(str(path))
        result.by_month[month] = len(month_lines)
    result.transcripts = sum(result.by_month.values())
    result.english = languages["en"]
    return result
