"""Importing call transcripts (`../shared/docs/transcript-format.md`): JSON Lines, one call a
line, or CSV/XLSX, one turn a row, through the shared import pipeline.

Each call stands alone: a line or a call's rows that cannot be read are rejected with their
reason and kept in the ledger, and the other calls are stored (personal numbers masked) and
judged at once under the rule set in force. A call imported again replaces the stored
transcript only when its content differs.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agentladder.config import Settings
from agentladder.db import utcnow
from agentladder.i18n import N_
from agentladder.imports import pipeline
from agentladder.imports.schemas import ImportResult, RowPlan
from agentladder.imports.spec import (
    CellError,
    Column,
    Importer,
    ImportRun,
    ParsedRow,
    Planned,
    Problems,
)
from agentladder.org import service as org_service
from agentladder.quality import calls
from agentladder.quality.autoqa import service as autoqa_service
from agentladder.quality.autoqa.schemas import Transcript
from agentladder.quality.models import CallTranscript
from agentladder.tabular import Table, decode_csv_bytes
from agentladder.validation import ValidationProblem, validation_problems

KIND = "transcripts"
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson", ".json")
_SPEAKERS = {
    "agent": "agent",
    "座席": "agent",
    "坐席": "agent",
    "客服": "agent",
    "customer": "customer",
    "客户": "customer",
    "system": "system",
    "系统": "system",
}


@dataclass
class TranscriptImportOptions:
    """The settings (the call data is read to link each transcript to its call) and, after
    the apply, the transcripts it stored."""

    settings: Settings
    stored_ids: list[int] = field(default_factory=list)


class TranscriptRowPlan(RowPlan):
    """One call of the file: what storing it does."""

    call_id: str
    agent: str | None  # the employee number the call counts for (None: nobody)
    language: str
    turns: int
    in_call_data: bool


@dataclass(frozen=True)
class _Ready:
    transcript: Transcript  # masked
    content_hash: str
    call_at: datetime
    agent_id: int | None
    existing: CallTranscript | None


def _first_problem(exc: ValidationError) -> ValidationProblem:
    """The first thing wrong with a transcript, in our words (its key is shown as the value)."""
    return validation_problems(exc)[0]


def _transcript_cell(text: str) -> Transcript:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CellError(
            N_("the line is not JSON (error at character {column})"),
            value=text[:80],
            column=exc.colno,
        ) from exc
    if not isinstance(document, dict):
        raise CellError(N_("the line is not a JSON object"), value=text[:80])
    try:
        return Transcript.model_validate(document)
    except ValidationError as exc:
        problem = _first_problem(exc)
        raise CellError(problem.message, value=problem.key, **problem.params) from exc


def _number_cell(text: str) -> float:
    try:
        value = float(text.replace(",", "."))
    except ValueError as exc:
        raise CellError(N_("not a number of seconds")) from exc
    if value < 0:
        raise CellError(N_("seconds cannot be negative"))
    return value


def _speaker_cell(text: str) -> str:
    speaker = _SPEAKERS.get(text.strip().lower())
    if speaker is None:
        raise CellError(N_("the speaker is agent, customer or system (座席, 客户, 系统)"))
    return speaker


LINE_COLUMNS = (
    Column(
        "transcript",
        N_("Transcript"),
        # A JSON Lines file has no header: the pages name the column by the format.
        zh=("JSON",),
        en=("json lines", "transcript"),
        example="",
        required=True,
        parse=_transcript_cell,
    ),
)
TURN_COLUMNS = (
    Column(
        "call_id",
        N_("Call id"),
        zh=("通话编号", "通话ID"),
        en=("call_id", "call id"),
        example="1700000000.42",
        help=N_("the call's id in the ACD data"),
        required=True,
        if_empty=N_("the call id is empty"),
    ),
    Column(
        "speaker",
        N_("Speaker"),
        zh=("说话人", "角色"),
        en=("speaker",),
        example="座席",
        help=N_("agent, customer or system (座席, 客户, 系统)"),
        required=True,
        if_empty=N_("the speaker is empty"),
        parse=_speaker_cell,
    ),
    Column(
        "start_s",
        N_("Start (s)"),
        zh=("开始秒", "开始时间秒"),
        en=("start_s", "start s", "start"),
        example="0.0",
        help=N_("seconds from the moment the agent answered"),
        required=True,
        if_empty=N_("the start is empty"),
        parse=_number_cell,
    ),
    Column(
        "end_s",
        N_("End (s)"),
        zh=("结束秒", "结束时间秒"),
        en=("end_s", "end s", "end"),
        example="4.1",
        required=True,
        if_empty=N_("the end is empty"),
        parse=_number_cell,
    ),
    Column(
        "text",
        N_("Text"),
        zh=("文本", "内容"),
        en=("text",),
        example="您好，安信电器3021号客服，很高兴为您服务。",
    ),
    Column(
        "agent",
        N_("Agent"),
        zh=("座席工号", "工号"),
        en=("agent",),
        example="3021",
        help=N_(
            "the agent's ACD identity or employee number, when the call is not in the ACD data"
        ),
    ),
    Column(
        "started_at",
        N_("Started at"),
        zh=("开始时间",),
        en=("started_at", "started at"),
        example="2026-10-08T09:15:02+08:00",
        help=N_("ISO 8601 with its UTC offset, when the call is not in the ACD data"),
    ),
    Column("language", N_("Language"), zh=("语言",), en=("language",), example="zh"),
    Column(
        "hangup_by",
        N_("Hung up by"),
        zh=("挂机方",),
        en=("hangup_by", "hangup by"),
        example="customer",
    ),
)


def _content_hash(transcript: Transcript) -> str:
    canonical = json.dumps(transcript.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _from_lines(rows: list[ParsedRow]) -> list[tuple[ParsedRow, list[int], Transcript]]:
    found = []
    for row in rows:
        transcript = row.value("transcript")
        if transcript is not None:
            found.append((row, [row.number], transcript))
    return found


_CALL_FIELDS = ("agent", "started_at", "language", "hangup_by")


def _from_turn_rows(
    rows: list[ParsedRow], problems: Problems
) -> list[tuple[ParsedRow, list[int], Transcript]]:
    by_call: dict[str, list[ParsedRow]] = defaultdict(list)
    for row in rows:
        if row.text("call_id"):
            by_call[row.text("call_id")].append(row)
    found = []
    for call_id, call_rows in by_call.items():
        numbers = [row.number for row in call_rows]
        failed = [number for number in numbers if problems.failed(number)]
        if failed:
            for row in call_rows:
                if not problems.failed(row.number):
                    problems.add(
                        row.number,
                        "call_id",
                        N_("not stored: row {row} of the same call is rejected"),
                        call_id,
                        row=failed[0],
                    )
            continue
        document: dict[str, Any] = {"call_id": call_id, "turns": []}
        for name in _CALL_FIELDS:
            values = {row.text(name) for row in call_rows if row.text(name)}
            if len(values) > 1:
                problems.add(
                    call_rows[0].number,
                    name,
                    N_("the rows of one call disagree on this field"),
                    " / ".join(sorted(values)),
                )
            elif values:
                document[name] = values.pop()
        ordered = sorted(call_rows, key=lambda row: (row.value("start_s"), row.number))
        document["turns"] = [
            {
                "speaker": row.value("speaker"),
                "start_s": row.value("start_s"),
                "end_s": row.value("end_s"),
                "text": row.text("text"),
            }
            for row in ordered
        ]
        if problems.failed(call_rows[0].number):
            continue
        try:
            transcript = Transcript.model_validate(document)
        except ValidationError as exc:
            problem = _first_problem(exc)
            problems.add(
                call_rows[0].number, "call_id", problem.message, problem.key, **problem.params
            )
            continue
        found.append((call_rows[0], numbers, transcript))
    return found


def _check(
    session: Session,
    rows: list[ParsedRow],
    problems: Problems,
    run: ImportRun[TranscriptImportOptions],
) -> list[Planned[TranscriptRowPlan]]:
    lines = "transcript" in problems.headers
    found = _from_lines(rows) if lines else _from_turn_rows(rows, problems)
    column = "transcript" if lines else "call_id"
    unique = [
        (row, numbers, transcript)
        for row, numbers, transcript in found
        if problems.first_row(
            transcript.call_id,
            row,
            column,
            N_("the same call is already in row {row}"),
            transcript.call_id,
        )
    ]
    call_data = calls.calls_by_id(
        session=session, settings=run.options.settings, call_ids=[t.call_id for _, _, t in unique]
    )
    stored = {
        row.call_id: row
        for row in session.scalars(
            select(CallTranscript).where(
                CallTranscript.call_id.in_([t.call_id for _, _, t in unique])
            )
        )
    }
    resolve = org_service.identity_resolver(session=session)
    agent_ids: set[int] = set()
    planned: list[Planned[TranscriptRowPlan]] = []
    for row, _numbers, transcript in unique:
        call = call_data.get(transcript.call_id)
        call_at = (call.started_at if call is not None else None) or transcript.started_at
        if call_at is None:
            problems.add(
                row.number,
                column,
                N_("call {call} is not in the ACD data and its transcript has no started_at"),
                transcript.call_id,
                call=transcript.call_id,
            )
            continue
        agent_id = call.agent_id if call is not None else None
        if agent_id is None and transcript.agent:
            agent_id = resolve(transcript.agent)
            if agent_id is None:
                problems.add(
                    row.number,
                    column,
                    N_("agent {agent} is not in the roster: the call counts for nobody"),
                    transcript.agent,
                    severity="warning",
                    agent=transcript.agent,
                )
        masked = transcript.masked()
        content_hash = _content_hash(masked)
        existing = stored.get(transcript.call_id)
        action = (
            "create"
            if existing is None
            else "unchanged"
            if existing.content_hash == content_hash
            else "update"
        )
        if agent_id is not None:
            agent_ids.add(agent_id)
        planned.append(
            Planned(
                TranscriptRowPlan(
                    row=row.number,
                    action=action,
                    call_id=transcript.call_id,
                    agent=None,
                    language=transcript.language,
                    turns=len(transcript.turns),
                    in_call_data=call is not None,
                ),
                _Ready(masked, content_hash, call_at, agent_id, existing),
            )
        )
    employee_numbers = {
        agent.id: agent.employee_no
        for agent in org_service.agents_by_ids(session=session, agent_ids=agent_ids)
    }
    for item in planned:
        item.plan.agent = employee_numbers.get(item.record.agent_id or -1)
    return planned


def _apply(
    session: Session,
    planned: list[Planned[TranscriptRowPlan]],
    run: ImportRun[TranscriptImportOptions],
) -> None:
    now = utcnow()
    changed: list[CallTranscript] = []
    for item in planned:
        ready: _Ready = item.record
        if item.plan.action == "unchanged":
            continue
        row = ready.existing or CallTranscript(call_id=ready.transcript.call_id, created_at=now)
        transcript = ready.transcript
        row.agent_identity = transcript.agent
        row.started_at = transcript.started_at
        row.agent_id = ready.agent_id
        row.call_at = ready.call_at
        row.language = transcript.language
        row.hangup_by = transcript.hangup_by
        row.turns_json = json.dumps(
            [turn.model_dump(mode="json") for turn in transcript.turns], ensure_ascii=False
        )
        row.content_hash = ready.content_hash
        row.updated_at = now
        if ready.existing is None:
            session.add(row)
        changed.append(row)
    session.flush()
    run.options.stored_ids.extend(row.id for row in changed)
    autoqa_service.judge_transcripts(
        session=session, settings=run.options.settings, transcripts=changed
    )


_WORDS = {"create": "new", "update": "changed", "unchanged": "unchanged", "errors": "rejected"}

TRANSCRIPT_LINES_IMPORTER: Importer[TranscriptImportOptions, TranscriptRowPlan] = Importer(
    kind=KIND,
    title=N_("Call transcripts"),
    columns=LINE_COLUMNS,
    check=_check,
    apply=_apply,
    words=_WORDS,
    stores_good_rows=True,
)
TRANSCRIPT_ROWS_IMPORTER: Importer[TranscriptImportOptions, TranscriptRowPlan] = Importer(
    kind=KIND,
    title=N_("Call transcripts"),
    columns=TURN_COLUMNS,
    check=_check,
    apply=_apply,
    words=_WORDS,
    stores_good_rows=True,
)


def _lines_table(data: bytes, encoding: str | None) -> Table:
    text, encoding = decode_csv_bytes(data, encoding)
    rows = [
        (number, [line]) for number, line in enumerate(text.splitlines(), start=1) if line.strip()
    ]
    return Table(encoding=encoding, header=["JSON"], rows=rows, header_row=None)


def _is_json_lines(data: bytes, file_name: str) -> bool:
    suffix = Path(file_name).suffix.lower()
    return suffix in JSON_LINES_SUFFIXES or (
        suffix not in (".csv", ".tsv", ".txt", ".xlsx") and data.lstrip()[:1] == b"{"
    )


def import_transcripts(
    *,
    session: Session,
    settings: Settings,
    data: bytes,
    file_name: str,
    encoding: str | None = None,
    dry_run: bool = False,
    user_id: int | None = None,
) -> ImportResult[TranscriptRowPlan]:
    """Import a JSON Lines, CSV or XLSX file of transcripts: the calls that can be read are
    stored and judged, the others rejected with their line and reason (`dry_run`: report)."""
    options = TranscriptImportOptions(settings=settings)
    lines = _is_json_lines(data, file_name)
    result = pipeline.run_import(
        TRANSCRIPT_LINES_IMPORTER if lines else TRANSCRIPT_ROWS_IMPORTER,
        session=session,
        data=data,
        file_name=file_name,
        options=options,
        dry_run=dry_run,
        user_id=user_id,
        encoding=encoding,
        table=_lines_table(data, encoding) if lines else None,
    )
    if result.applied and result.import_id is not None and options.stored_ids:
        # The ledger row is added after the rows are applied: point the transcripts at it.
        session.execute(
            update(CallTranscript)
            .where(CallTranscript.id.in_(options.stored_ids))
            .values(file_import_id=result.import_id)
        )
    return result
