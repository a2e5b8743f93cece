"""Past evaluations from another tool's history, through the one import pipeline: one row per
evaluation (call, agent, evaluator, form and version, kind, per-item answers and comments, and
optionally the calibration session it belongs to), each scored with `scoring.score_call` on the
form version it names and stored submitted, with an `imported` entry in its audit trail.

Evaluations already stored (the same call, evaluator and form version) are skipped and counted;
a row with an error rejects the file (nothing written) and is reported with its row, column and
reason; the ledger recognises a file imported before.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agentladder.db import in_chunks, utcnow
from agentladder.errors import InvalidInput
from agentladder.i18n import N_
from agentladder.imports import pipeline
from agentladder.imports.columns import AGENT_COLUMN, NAME_COLUMN, name_differs, row_agent
from agentladder.imports.schemas import ImportResult, RowPlan
from agentladder.imports.spec import (
    CellError,
    Column,
    Importer,
    ImportRun,
    ParsedRow,
    Planned,
    Problems,
    whole_number_cell,
)
from agentladder.org import service as org_service
from agentladder.org.accounts import service as accounts_service
from agentladder.quality import service as quality_service
from agentladder.quality.models import (
    QaAuditEntry,
    QaCalibrationSession,
    QaEvaluation,
    QaForm,
    QaFormVersion,
)
from agentladder.quality.schemas import Answer, FormItem, FormSpec
from agentladder.quality.scoring import score_call
from agentladder.tabular import fold_header

if TYPE_CHECKING:
    from agentladder.org.models import User

KIND = "qa_evaluations"
DEFAULT_FORM_CODE = "default"
ITEM_PREFIX = "item:"
COMMENT_PREFIX = "comment:"

# --- the answer of one item ----------------------------------------------------------------------

YES_WORDS = frozenset(
    {"yes", "y", "true", "1", "pass", "passed", "ok", "是", "通过", "合格", "达标", "√", "✓", "✔"}
)
NO_WORDS = frozenset(
    {
        "no",
        "n",
        "false",
        "0",
        "fail",
        "failed",
        "否",
        "不通过",
        "不合格",
        "未达标",
        "×",
        "✗",
        "✘",
        "x",
    }
)
NA_WORDS = frozenset({"na", "n/a", "n.a.", "-", "—", "/", "不适用", "无"})
_SCALE = re.compile(r"^\+?(\d+)(?:\.0+)?$")


def parse_answer(item: FormItem, text: str) -> Answer:
    """A cell as the item's answer: yes/no items take yes/no (是/否, pass/fail, 1/0, ✓/✗),
    scale items a whole number 0..max; both take na (不适用, -) and an empty cell for not
    applicable (None). Anything else raises CellError naming what the item takes."""
    folded = re.sub(r"\s+", "", text).casefold()
    if not folded or folded in NA_WORDS:
        return None
    if item.kind == "yes_no":
        if folded in YES_WORDS:
            return True
        if folded in NO_WORDS:
            return False
        raise CellError(N_("write yes, no or na"))
    match = _SCALE.match(folded)
    maximum = item.scale_max or 0
    if match is None or int(match.group(1)) > maximum:
        raise CellError(N_("write a whole number from 0 to {maximum}, or na"), maximum=maximum)
    return int(match.group(1))


# --- other cells ---------------------------------------------------------------------------------

_DATETIME = re.compile(
    r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
    r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def datetime_cell(text: str) -> datetime:
    """A call time: 2024-03-01 10:15[:30], 2024/3/1 10:15, ISO with an offset (or Z); without an
    offset it is read later in the centre's time zone (naive here)."""
    match = _DATETIME.match(text.strip())
    if match is None:
        raise CellError(N_("not a date and time (write 2024-03-01 10:15)"))
    year, month, day, hour, minute, second, offset = match.groups()
    zone = None
    if offset:
        if offset == "Z":
            zone = UTC
        else:
            sign = -1 if offset[0] == "-" else 1
            digits = offset[1:].replace(":", "")
            zone = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=zone,
        )
    except ValueError:
        raise CellError(N_("not a date and time (write 2024-03-01 10:15)")) from None


# The kinds of evaluation as pages name them.
KIND_NAMES: dict[str, str] = {
    "official": N_("Official"),
    "coaching": N_("Coaching"),
    "calibration": N_("Calibration"),
}
_KIND_WORDS = {
    "official": "official",
    "正式": "official",
    "coaching": "coaching",
    "辅导": "coaching",
    "calibration": "calibration",
    "校准": "calibration",
}


def _kind_cell(text: str) -> str:
    kind = _KIND_WORDS.get(text.strip().casefold())
    if kind is None:
        raise CellError(N_("write official, coaching or calibration"))
    return kind


def _yes_no_cell(text: str) -> bool:
    folded = re.sub(r"\s+", "", text).casefold()
    if folded in YES_WORDS:
        return True
    if folded in NO_WORDS:
        return False
    raise CellError(N_("write yes or no"))


FIXED_COLUMNS: tuple[Column, ...] = (
    Column(
        "call_id",
        label=N_("Call"),
        zh=("通话编号", "通话ID", "录音编号"),
        en=("call id", "call", "uniqueid"),
        example="1700000000.42",
        help=N_("The call's id as the ACD stores it (the ingested call's id)."),
        required=True,
        if_empty=N_("the call id is empty"),
    ),
    Column(
        "call_at",
        label=N_("Call time"),
        zh=("通话时间", "来电时间"),
        en=("call time", "call at", "time"),
        example="2026-10-08 10:15",
        help=N_("When the call was taken, in the centre's time zone unless it has an offset."),
        required=True,
        if_empty=N_("the call time is empty"),
        parse=datetime_cell,
    ),
    Column(
        "evaluated_at",
        label=N_("Evaluated"),
        zh=("评分时间", "质检时间"),
        en=("evaluated at", "submitted at", "evaluation time"),
        example="2026-10-09 16:00",
        help=N_(
            "When the evaluation was made (empty: the call time); dispute windows run from it."
        ),
        parse=datetime_cell,
    ),
    AGENT_COLUMN,
    NAME_COLUMN,
    Column(
        "evaluator",
        label=N_("Evaluator"),
        zh=("质检员", "评分人", "质检员账号"),
        en=("evaluator", "evaluator username", "username"),
        example="qa1",
        help=N_("The evaluator's user name in agentladder."),
        required=True,
        if_empty=N_("the evaluator is empty"),
    ),
    Column(
        "form",
        label=N_("Form"),
        zh=("评分表代码", "评分表"),
        en=("form", "form code"),
        example="default",
        help=N_("The form's code (empty: default)."),
    ),
    Column(
        "version",
        label=N_("Form version"),
        zh=("评分表版本", "版本"),
        en=("form version", "version"),
        example="1",
        help=N_("The form version the call was scored on (empty: the latest)."),
        parse=whole_number_cell(N_("write a whole number (the form's version)")),
    ),
    Column(
        "kind",
        label=N_("Kind"),
        zh=("质检类型", "类型"),
        en=("kind", "type"),
        example="official",
        help=N_(
            "official (正式: counts for the ladder), coaching (辅导) or calibration (校准); "
            "empty: official."
        ),
        parse=_kind_cell,
    ),
    Column(
        "session",
        label=N_("Calibration session"),
        zh=("校准会话", "校准场次"),
        en=("calibration session", "session"),
        example="",
        help=N_(
            "A calibration session's code: the row is a calibration evaluation of that session "
            "(created when it does not exist)."
        ),
    ),
    Column(
        "anchor",
        label=N_("Anchor"),
        zh=("基准评分", "基准"),
        en=("anchor",),
        example="",
        help=N_("yes: the session's anchor (expert or agreed) evaluation of the call."),
        parse=_yes_no_cell,
    ),
)


def _stored_items(session: Session) -> dict[str, FormItem]:
    """Every item code of every stored form version, and of the shipped default form."""
    items = {item.code: item for item in quality_service.default_form().items()}
    for spec_json in session.scalars(select(QaFormVersion.spec_json)):
        for item in FormSpec.model_validate_json(spec_json).items():
            items.setdefault(item.code, item)
    return items


def _item_columns(items: Iterable[FormItem]) -> list[Column]:
    taken = {fold_header(spelling) for column in FIXED_COLUMNS for spelling in column.spellings}
    columns: list[Column] = []
    for item in items:
        code = item.code
        if fold_header(code) in taken or fold_header(COMMENT_PREFIX + code) in taken:
            continue  # an item code spelled like a fixed column: read as that column
        columns.append(
            Column(
                ITEM_PREFIX + code,
                label=N_("Answer"),
                zh=(code,),
                en=(code,),
                example=str(item.scale_max) if item.kind == "scale" else "yes",
                help=N_("The item's answer: yes, no or na; 0 to the maximum for a scale."),
            )
        )
        columns.append(
            Column(
                COMMENT_PREFIX + code,
                label=N_("Comment"),
                zh=(f"备注:{code}", f"评语:{code}"),
                en=(COMMENT_PREFIX + code,),
                example="",
                help=N_("The evaluator's comment on the item."),
            )
        )
    return columns


# --- checking rows -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvaluationImportOptions:
    """The centre's time zone (call times without an offset) and the file's SHA-256 (kept in
    each evaluation's audit entry)."""

    zone: ZoneInfo
    file_sha256: str
    # The evaluations the apply stored, so they can point at the file's ledger row after.
    stored_ids: list[int] = field(default_factory=list)


class EvaluationRowPlan(RowPlan):
    """One imported evaluation: its call, agent, evaluator, form version, kind and score."""

    call_id: str
    employee_no: str
    evaluator: str
    form: str
    version: int
    kind: str
    session: str | None = None
    anchor: bool = False
    overall: float | None = None
    fatal: bool = False


@dataclass
class _Record:
    agent_id: int
    evaluator_id: int
    version_id: int
    call_at: datetime
    evaluated_at: datetime
    answers: dict[str, Answer]
    comments: dict[str, str]
    overall: float
    scores_json: str
    compliance: float | None


class _Lookups:
    """The stored forms, users and sessions a file names, each looked up once."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.versions: dict[tuple[str, int | None], QaFormVersion | None] = {}
        self.specs: dict[int, FormSpec] = {}
        self.users: dict[str, User | None] = {}
        self.sessions: dict[str, QaCalibrationSession | None] = {}

    def version(self, code: str, number: int | None) -> QaFormVersion | None:
        key = (code, number)
        if key not in self.versions:
            query = select(QaFormVersion).join(QaForm).where(QaForm.code == code)
            if number is not None:
                query = query.where(QaFormVersion.version == number)
            self.versions[key] = self.session.scalar(
                query.order_by(QaFormVersion.version.desc()).limit(1)
            )
        return self.versions[key]

    def spec(self, version: QaFormVersion) -> FormSpec:
        if version.id not in self.specs:
            self.specs[version.id] = quality_service.form_spec(version)
        return self.specs[version.id]

    def user(self, username: str) -> User | None:
        if username not in self.users:
            self.users[username] = accounts_service.get_user_by_username(
                session=self.session, username=username
            )
        return self.users[username]

    def calibration(self, code: str) -> QaCalibrationSession | None:
        if code not in self.sessions:
            self.sessions[code] = self.session.scalar(
                select(QaCalibrationSession).where(QaCalibrationSession.code == code)
            )
        return self.sessions[code]


def _form_version(
    row: ParsedRow, problems: Problems, lookups: _Lookups
) -> tuple[QaFormVersion, FormSpec] | None:
    code = row.text("form") or DEFAULT_FORM_CODE
    number = row.value("version")
    if row.text("version") and number is None:
        return None  # unreadable, reported
    version = lookups.version(code, number)
    if version is not None:
        return version, lookups.spec(version)
    if lookups.version(code, None) is None:
        problems.add(
            row.number,
            "form",
            N_("no form {form} is stored: import it first (quality forms import)"),
            code,
            form=code,
        )
    else:
        problems.add(
            row.number,
            "version",
            N_("form {form} has no version {version}"),
            row.text("version"),
            form=code,
            version=number,
        )
    return None


def _answers(
    row: ParsedRow, problems: Problems, spec: FormSpec, version: int
) -> tuple[dict[str, Answer], dict[str, str]]:
    items = {item.code: item for item in spec.items()}
    answers: dict[str, Answer] = {}
    comments: dict[str, str] = {}
    for name, text in row.cells.items():
        if not text:
            continue
        for prefix in (ITEM_PREFIX, COMMENT_PREFIX):
            if not name.startswith(prefix):
                continue
            code = name.removeprefix(prefix)
            item = items.get(code)
            if item is None:
                problems.add(
                    row.number,
                    name,
                    N_("form {form} version {version} has no item {item}"),
                    text,
                    form=spec.code,
                    version=version,
                    item=code,
                )
            elif prefix == COMMENT_PREFIX:
                comments[code] = text
            else:
                try:
                    answers[code] = parse_answer(item, text)
                except CellError as error:
                    problems.add(row.number, name, error.message, text, **error.params)
        # Item columns of items a row's form does not have, left empty: nothing to read.
    return answers, comments


def _kind(row: ParsedRow, problems: Problems) -> str | None:
    kind = row.value("kind")
    if row.text("kind") and kind is None:
        return None
    calibration = row.text("session")
    if calibration:
        if kind not in (None, "calibration"):
            problems.add(
                row.number,
                "kind",
                N_("a row with a calibration session is a calibration evaluation"),
                row.text("kind"),
                severity="warning",
            )
        return "calibration"
    if kind == "calibration":
        problems.add(
            row.number, "session", N_("a calibration evaluation needs its calibration session")
        )
        return None
    if row.value("anchor"):
        problems.add(
            row.number,
            "anchor",
            N_("only a calibration evaluation is an anchor"),
            row.text("anchor"),
        )
        return None
    return kind or "official"


def _calibration_fits(
    row: ParsedRow, problems: Problems, lookups: _Lookups, version: QaFormVersion, stored: bool
) -> bool:
    """Whether the row fits its calibration session: the session's form version, and one
    anchor per call (`stored`: the evaluation is stored already, its anchor is itself)."""
    code = row.text("session")
    if not code:
        return True
    if len(code) > 40:
        problems.add(row.number, "session", N_("too long: at most {limit} characters"), limit=40)
        return False
    stored_session = lookups.calibration(code)
    if stored_session is not None and stored_session.form_version_id not in (None, version.id):
        problems.add(
            row.number,
            "session",
            N_("calibration session {session} is scored on another form version"),
            code,
            session=code,
        )
        return False
    if row.value("anchor") and stored_session is not None and not stored:
        anchored = lookups.session.scalar(
            select(QaEvaluation.id).where(
                QaEvaluation.calibration_session_id == stored_session.id,
                QaEvaluation.call_id == row.text("call_id"),
                QaEvaluation.is_anchor.is_(True),
            )
        )
        if anchored is not None:
            problems.add(
                row.number,
                "anchor",
                N_("calibration session {session} already has an anchor for this call"),
                row.text("anchor"),
                session=code,
            )
            return False
    return True


def _stored_keys(session: Session, call_ids: list[str]) -> set[tuple[str, int | None, int]]:
    keys: set[tuple[str, int | None, int]] = set()
    for chunk in in_chunks(call_ids):
        rows = session.execute(
            select(
                QaEvaluation.call_id, QaEvaluation.evaluator_user_id, QaEvaluation.form_version_id
            ).where(
                QaEvaluation.call_id.in_(chunk),
                QaEvaluation.status == "submitted",
            )
        ).all()
        keys.update((call_id, user_id, version_id) for call_id, user_id, version_id in rows)
    return keys


def _utc(value: datetime, zone: ZoneInfo) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def _check(
    session: Session,
    rows: list[ParsedRow],
    problems: Problems,
    run: ImportRun[EvaluationImportOptions],
) -> list[Planned[EvaluationRowPlan]]:
    lookups = _Lookups(session)
    resolve = org_service.identity_resolver(session=session)
    stored = _stored_keys(session, sorted({row.text("call_id") for row in rows}))
    checked: list[tuple[ParsedRow, EvaluationRowPlan, _Record]] = []
    for row in rows:
        agent_id = row_agent(problems, row, resolve)
        username = row.text("evaluator")
        evaluator = lookups.user(username) if username else None
        if username and evaluator is None:
            problems.add(row.number, "evaluator", N_("no user has this user name"), username)
        if len(row.text("call_id")) > 120:
            problems.add(
                row.number, "call_id", N_("too long: at most {limit} characters"), limit=120
            )
        kind = _kind(row, problems)
        found = _form_version(row, problems, lookups)
        if found is None:
            continue
        version, spec = found
        answers, comments = _answers(row, problems, spec, version.version)
        if problems.failed(row.number):
            continue
        try:
            scored = score_call(spec, answers)
        except InvalidInput as error:
            item = str(error.params.get("item", ""))
            problems.add(
                row.number,
                ITEM_PREFIX + item if item else None,
                error.message,
                row.text(ITEM_PREFIX + item) if item else None,
                **error.params,
            )
            continue
        if scored.overall is None:
            problems.add(row.number, None, N_("no item of the form was answered"))
            continue
        if agent_id is None or evaluator is None or kind is None or row.value("call_at") is None:
            continue
        if row.text("evaluated_at") and row.value("evaluated_at") is None:
            continue  # unreadable, reported
        key = (row.text("call_id"), evaluator.id, version.id)
        if not _calibration_fits(row, problems, lookups, version, key in stored):
            continue
        if not problems.first_row(
            key,
            row,
            "call_id",
            N_("the same call, evaluator and form version also appear in row {row}"),
        ):
            continue
        if row.value("anchor"):
            problems.first_row(
                (row.text("session"), row.text("call_id")),
                row,
                "anchor",
                N_("the session's anchor evaluation of this call is also in row {row}"),
                row.text("anchor"),
            )
        plan = EvaluationRowPlan(
            row=row.number,
            action="unchanged" if key in stored else "create",
            call_id=row.text("call_id"),
            employee_no="",
            evaluator=username,
            form=spec.code,
            version=version.version,
            kind=kind,
            session=row.text("session") or None,
            anchor=bool(row.value("anchor")),
            overall=round(scored.overall, 2),
            fatal=scored.fatal,
        )
        record = _Record(
            agent_id=agent_id,
            evaluator_id=evaluator.id,
            version_id=version.id,
            call_at=_utc(row.value("call_at"), run.options.zone),
            evaluated_at=_utc(row.value("evaluated_at") or row.value("call_at"), run.options.zone),
            answers=answers,
            comments=comments,
            overall=scored.overall,
            scores_json=scored.model_dump_json(),
            compliance=scored.compliance,
        )
        checked.append((row, plan, record))
    agents = {
        agent.id: agent
        for agent in org_service.agents_by_ids(
            session=session, agent_ids={record.agent_id for _, _, record in checked}
        )
    }
    planned: list[Planned[EvaluationRowPlan]] = []
    for row, plan, record in checked:
        agent = agents[record.agent_id]
        name_differs(problems, row, agent.name)
        plan.employee_no = agent.employee_no
        planned.append(Planned(plan, record))
    return planned


def _apply(
    session: Session,
    planned: list[Planned[EvaluationRowPlan]],
    run: ImportRun[EvaluationImportOptions],
) -> None:
    now = utcnow()
    sessions: dict[str, QaCalibrationSession] = {}
    for item in planned:
        plan, record = item.plan, item.record
        if plan.action != "create":
            continue  # already stored: skipped
        calibration_id = None
        if plan.session is not None:
            calibration = sessions.get(plan.session) or session.scalar(
                select(QaCalibrationSession).where(QaCalibrationSession.code == plan.session)
            )
            if calibration is None:
                calibration = QaCalibrationSession(
                    code=plan.session,
                    title=plan.session,
                    form_version_id=record.version_id,
                    held_on=record.call_at,
                    created_by_user_id=run.user_id,
                )
                session.add(calibration)
                session.flush()
            sessions[plan.session] = calibration
            calibration_id = calibration.id
        evaluation = QaEvaluation(
            form_version_id=record.version_id,
            agent_id=record.agent_id,
            evaluator_user_id=record.evaluator_id,
            call_id=plan.call_id,
            call_at=record.call_at,
            kind=plan.kind,
            status="submitted",
            answers_json=json.dumps(record.answers, ensure_ascii=False),
            comments_json=json.dumps(record.comments, ensure_ascii=False),
            overall=record.overall,
            compliance=record.compliance,
            fatal=plan.fatal,
            scores_json=record.scores_json,
            created_at=now,
            updated_at=now,
            submitted_at=record.evaluated_at,
            calibration_session_id=calibration_id,
            is_anchor=plan.anchor,
        )
        session.add(evaluation)
        session.flush()
        run.options.stored_ids.append(evaluation.id)
        session.add(
            QaAuditEntry(
                evaluation_id=evaluation.id,
                at=now,
                by_user_id=run.user_id,
                action="imported",
                changes_json=json.dumps(
                    {"file": run.file_name, "sha256": run.options.file_sha256, "row": plan.row},
                    ensure_ascii=False,
                ),
                reason=run.file_name,
            )
        )


_WORDS = {
    "create": "imported",
    "update": "changed",
    "unchanged": "already stored (skipped)",
    "errors": "rejected",
}


def evaluations_importer(*, session: Session) -> Importer[EvaluationImportOptions, Any]:
    """The importer of past evaluations: the fixed columns and, for every item code of the
    stored forms (and the default form), its answer column and its `comment:<code>` column."""
    return Importer(
        kind=KIND,
        title=N_("QA evaluations"),
        columns=(*FIXED_COLUMNS, *_item_columns(_stored_items(session).values())),
        check=_check,
        apply=_apply,
        words=_WORDS,
    )


# The importer as pages and commands describe it: the fixed columns and the default form's
# items (its template); an import reads the items of every stored form.
EVALUATIONS_IMPORTER: Importer[EvaluationImportOptions, Any] = Importer(
    kind=KIND,
    title=N_("QA evaluations"),
    columns=(*FIXED_COLUMNS, *_item_columns(quality_service.default_form().items())),
    check=_check,
    apply=_apply,
    words=_WORDS,
)


def fixed_columns_help() -> str:
    """The fixed columns, one a line (`* 通话编号 | call id (also: ...)`), for help texts."""
    fixed = Importer(kind=KIND, title="", columns=FIXED_COLUMNS, check=_check, apply=_apply)
    return fixed.columns_help()


def import_evaluations(
    *,
    session: Session,
    data: bytes,
    file_name: str,
    zone: ZoneInfo,
    encoding: str | None = None,
    dry_run: bool = False,
    imported_by: User | None = None,
) -> ImportResult[EvaluationRowPlan]:
    """Import past evaluations from a CSV/XLSX file: every row checked and scored on its form
    version; evaluations already stored are skipped; all new ones stored submitted, or none
    when any row is rejected (`dry_run`: only report)."""
    options = EvaluationImportOptions(zone=zone, file_sha256=hashlib.sha256(data).hexdigest())
    result = pipeline.run_import(
        evaluations_importer(session=session),
        session=session,
        data=data,
        file_name=file_name,
        encoding=encoding,
        dry_run=dry_run,
        options=options,
        user_id=imported_by.id if imported_by else None,
    )
    if result.applied and result.import_id is not None and options.stored_ids:
        # The ledger row is added after the rows are applied: point the evaluations at it.
        session.execute(
            update(QaEvaluation)
            .where(QaEvaluation.id.in_(options.stored_ids))
            .values(file_import_id=result.import_id)
        )
    return result
