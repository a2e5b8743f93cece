"""Calibration sessions and evaluator reliability (docs/quality.md, "Calibration and
reliability").

A session is a set of calls that several evaluators score blind on one form version, plus one
anchor evaluation per call: the expert's (an evaluator's evaluation promoted) or the agreed one
recorded after the calibration meeting. Each call enters the session as an empty anchor draft,
so the anchors list the session's calls; the session is closed once every call's anchor is
submitted. Until then an evaluator sees only their own evaluations, and another's for a call
only once they have submitted their own for it.

Reliability is measured among the evaluators only; the anchor is the standard they are compared
with (accuracy), not another coder (Krippendorff 2004, "Content Analysis", 2nd ed., section
11.1: reliability needs independent coders, and an agreed anchor is not independent of them):
- per item Krippendorff's alpha, nominal for yes/no items, ordinal for scales (units = calls,
  coders = evaluators, N/A = missing);
- on the overall totals Krippendorff's alpha at the interval level and ICC(2,1) (Shrout &
  Fleiss 1979: two-way random effects, absolute agreement, single rater) on the calls every
  evaluator scored;
- each evaluator's mean deviation from the anchor (evaluator total - anchor total) and its drift,
  the change of that mean from one month to the next (sessions by the month they were held).
Alerts: an item's alpha below `ALPHA_MINIMUM` in the latest session, and an evaluator whose
deviation moved by more than the drift threshold (`AGENTLADDER_QA_DRIFT_THRESHOLD`) between
their last two months.

numpy and krippendorff load inside the functions that need them (tests/test_startup.py)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.db import utcnow
from agentladder.errors import Conflict, InvalidInput, NotFound
from agentladder.org import service as org_service
from agentladder.org.accounts import service as accounts_service
from agentladder.quality import service as quality_service
from agentladder.quality.models import QaCalibrationSession, QaEvaluation, QaFormVersion
from agentladder.quality.schemas import Answer, FormSpec

if TYPE_CHECKING:
    from agentladder.org.models import User

# Krippendorff's lowest alpha from which tentative conclusions may be drawn (2004, p. 241);
# below it an item's answers say more about the evaluator than about the call.
ALPHA_MINIMUM = 0.667

Level = Literal["nominal", "ordinal"]
AlertKind = Literal["low_alpha", "drift"]


# --- statistics (pure) ----------------------------------------------------------------------


def krippendorff_alpha(
    units: Sequence[Sequence[float | None]],
    level: Literal["nominal", "ordinal", "interval"],
    value_domain: Sequence[float] | None = None,
) -> float | None:
    """Krippendorff's alpha of coders x units data (None = missing); None where it is undefined:
    no unit with two values, or no variation at all (expected disagreement 0)."""
    import krippendorff
    import numpy as np

    data = np.array(
        [[math.nan if value is None else float(value) for value in coder] for coder in units],
        dtype=np.float64,
    )
    if data.ndim != 2 or data.size == 0:
        return None
    pairable = (~np.isnan(data)).sum(axis=0) >= 2
    if not pairable.any():
        return None
    values = np.unique(data[:, pairable][~np.isnan(data[:, pairable])])
    if len(values) < 2:
        return None
    domain = None
    if value_domain is not None and level != "interval":
        domain = np.array(sorted(set(value_domain) | set(values.tolist())), dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = float(
            krippendorff.alpha(
                reliability_data=data, level_of_measurement=level, value_domain=domain
            )
        )
    return alpha if math.isfinite(alpha) else None


def icc2_1(table: Sequence[Sequence[float]]) -> float | None:
    """ICC(2,1) of a complete targets x raters table (Shrout & Fleiss 1979, case 2, single
    rater, absolute agreement): (BMS - EMS) / (BMS + (k-1) EMS + k (JMS - EMS) / n).
    None with fewer than 2 targets or raters, or when the denominator is 0."""
    import numpy as np

    x = np.asarray(table, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2 or np.isnan(x).any():
        return None
    n, k = x.shape
    grand = x.mean()
    bms = k * ((x.mean(axis=1) - grand) ** 2).sum() / (n - 1)
    jms = n * ((x.mean(axis=0) - grand) ** 2).sum() / (k - 1)
    residual = x - x.mean(axis=1, keepdims=True) - x.mean(axis=0, keepdims=True) + grand
    ems = (residual**2).sum() / ((n - 1) * (k - 1))
    denominator = bms + (k - 1) * ems + k * (jms - ems) / n
    if denominator <= 0:
        return None
    return float((bms - ems) / denominator)


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemReliability:
    """One item's agreement among the evaluators: alpha (None: undefined), its level, and the
    calls at least two evaluators answered."""

    item: str
    zh: str
    en: str
    alpha: float | None
    level: Level
    calls: int


@dataclass(frozen=True)
class EvaluatorDeviation:
    """How far an evaluator's totals run from the anchors' (+: more lenient), over n calls."""

    evaluator: str
    mean_deviation: float | None
    n: int


@dataclass(frozen=True)
class SessionReliability:
    """A session's reliability: per item, on the totals, and each evaluator against the anchor."""

    session: str
    items: list[ItemReliability]
    icc2_1: float | None
    alpha_interval: float | None
    evaluators: list[EvaluatorDeviation]

    def as_json(self) -> dict[str, Any]:
        """The shape `agentladder quality reliability --format json` prints."""
        return {
            "session": self.session,
            "items": [
                {"item": i.item, "alpha": _round(i.alpha, 3), "level": i.level, "calls": i.calls}
                for i in self.items
            ],
            "total": {
                "icc2_1": _round(self.icc2_1, 3),
                "alpha_interval": _round(self.alpha_interval, 3),
            },
            "evaluators": [
                {"evaluator": e.evaluator, "mean_deviation": _round(e.mean_deviation, 2), "n": e.n}
                for e in self.evaluators
            ],
        }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


@dataclass(frozen=True)
class CalibrationSessionSummary:
    """A session in the list: what it covers and its agreement on the totals."""

    id: int
    code: str
    title: str
    held_on: datetime | None
    form: str
    calls: int
    anchored: int
    evaluators: int
    evaluations: int
    icc2_1: float | None
    alpha_interval: float | None

    @property
    def closed(self) -> bool:
        """Every call has its anchor: the evaluations are final and visible to all."""
        return self.calls > 0 and self.anchored == self.calls


@dataclass(frozen=True)
class CalibrationCall:
    """A call put to a session: its id in the ingested calls, the agent, and when it was."""

    call_id: str
    agent: str  # employee number
    call_at: datetime


@dataclass(frozen=True)
class MonthlyDeviation:
    """An evaluator's mean deviation from the anchors over the sessions held in one month, and
    its change from their previous month with sessions (None for their first)."""

    month: str
    mean_deviation: float
    n: int
    drift: float | None


@dataclass(frozen=True)
class EvaluatorDrift:
    """An evaluator's deviation month by month."""

    evaluator: str
    months: list[MonthlyDeviation] = field(default_factory=list)


@dataclass(frozen=True)
class ReliabilityAlert:
    """Something the QA dashboard raises: an item the evaluators do not agree on in the latest
    session (`low_alpha`: item, value = alpha, threshold 0.667), or an evaluator whose deviation
    from the anchors moved too far in their latest month (`drift`: evaluator, month, value =
    the change in points, threshold = the setting)."""

    kind: AlertKind
    session: str | None
    item: str | None
    evaluator: str | None
    month: str | None
    value: float
    threshold: float


# --- sessions ---------------------------------------------------------------------------------

CALL_LINE_FORMAT = "CALL_ID,EMPLOYEE_NO,2026-11-03 10:15"


def parse_call(text: str, zone: ZoneInfo) -> CalibrationCall:
    """One call as `CALL_ID,EMPLOYEE_NO,2026-11-03 10:15` (the time in the centre's zone)."""
    parts = [part.strip() for part in text.replace("，", ",").split(",")]
    if len(parts) != 3 or not all(parts):
        raise InvalidInput("{text}: write {format}", text=text.strip(), format=CALL_LINE_FORMAT)
    try:
        moment = datetime.fromisoformat(parts[2])
    except ValueError as exc:
        raise InvalidInput(
            "{text}: write {format}", text=text.strip(), format=CALL_LINE_FORMAT
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return CalibrationCall(parts[0], parts[1], moment.astimezone(UTC))


def parse_calls(text: str, zone: ZoneInfo) -> list[CalibrationCall]:
    """Calls one per line (blank lines skipped); InvalidInput names the first wrong line."""
    calls = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            calls.append(parse_call(line, zone))
        except InvalidInput as exc:
            raise InvalidInput(
                "line {line}: {text}: write {format}",
                line=number,
                text=line.strip(),
                format=CALL_LINE_FORMAT,
            ) from exc
    return calls


def get_session_or_raise(*, session: Session, code: str) -> QaCalibrationSession:
    """A calibration session by its code."""
    found = session.scalar(select(QaCalibrationSession).where(QaCalibrationSession.code == code))
    if found is None:
        raise NotFound("calibration session {code} not found", code=code)
    return found


def create_session(
    *,
    session: Session,
    code: str,
    title: str = "",
    form_code: str | None = None,
    held_on: datetime | None = None,
    calls: Sequence[CalibrationCall] = (),
    by: User | None = None,
) -> QaCalibrationSession:
    """A new session on a form's current version (default: the shipped form), with its calls."""
    code = code.strip()
    if not code or len(code) > 40:
        raise InvalidInput("a session code has 1 to 40 characters")
    if session.scalar(select(QaCalibrationSession.id).where(QaCalibrationSession.code == code)):
        raise Conflict("calibration session {code} already exists", code=code)
    default = quality_service.default_form()
    form_code = form_code or default.code
    version = quality_service.current_form_version(session=session, code=form_code)
    if version is None and form_code == default.code:
        version = quality_service.save_form(session=session, spec=default, by=by)
    if version is None:
        raise NotFound("form {form} not found", form=form_code)
    calibration = QaCalibrationSession(
        code=code,
        title=title.strip()[:200],
        form_version_id=version.id,
        held_on=held_on or utcnow(),
        created_by_user_id=by.id if by else None,
    )
    session.add(calibration)
    session.flush()
    add_calls(session=session, code=code, calls=calls)
    return calibration


def create_session_from_text(
    *,
    session: Session,
    code: str,
    title: str,
    held_on: str,
    calls: str,
    zone: ZoneInfo,
    by: User | None = None,
) -> QaCalibrationSession:
    """A session from a page's form: the day as 2026-11-03 (empty: today), calls one per line
    as CALL_ID,EMPLOYEE_NO,2026-11-03 10:15 (the centre's zone)."""
    day = None
    if held_on.strip():
        try:
            day = datetime.fromisoformat(held_on.strip()).replace(tzinfo=zone).astimezone(UTC)
        except ValueError as exc:
            raise InvalidInput("{text}: write a day as 2026-11-03", text=held_on) from exc
    return create_session(
        session=session,
        code=code,
        title=title,
        held_on=day,
        calls=parse_calls(calls, zone),
        by=by,
    )


def add_calls(*, session: Session, code: str, calls: Sequence[CalibrationCall]) -> int:
    """Put calls to an open session (each as its empty anchor); a call already in it is kept.
    Returns how many were added."""
    calibration = get_session_or_raise(session=session, code=code)
    if calibration.form_version_id is None:
        raise Conflict("the session's form version was deleted")
    anchors = _anchors(session, calibration.id)
    if anchors and all(a.status == "submitted" for a in anchors.values()):
        raise Conflict("calibration session {code} is closed", code=code)
    added = 0
    for call in calls:
        if call.call_id in anchors:
            continue
        agent = org_service.get_agent_by_employee_no(session=session, employee_no=call.agent)
        if agent is None:
            raise NotFound("agent {employee_no} not found", employee_no=call.agent)
        anchor = quality_service.start_evaluation(
            session=session,
            form_version_id=calibration.form_version_id,
            agent_id=agent.id,
            evaluator=None,
            call_id=call.call_id,
            call_at=call.call_at,
            kind="calibration",
        )
        anchor.calibration_session_id = calibration.id
        anchor.is_anchor = True
        anchors[call.call_id] = anchor
        added += 1
    session.flush()
    return added


def _evaluations(session: Session, session_id: int) -> list[QaEvaluation]:
    return list(
        session.scalars(
            select(QaEvaluation)
            .where(QaEvaluation.calibration_session_id == session_id)
            .order_by(QaEvaluation.id)
        )
    )


def _anchors(session: Session, session_id: int) -> dict[str, QaEvaluation]:
    return {e.call_id: e for e in _evaluations(session, session_id) if e.is_anchor}


def add_evaluation(
    *,
    session: Session,
    code: str,
    call_id: str,
    evaluator: User,
    answers: Mapping[str, Answer] | None = None,
    comments: Mapping[str, str] | None = None,
    submit: bool = False,
) -> QaEvaluation:
    """An evaluator's blind evaluation of one of the session's calls: a draft (answered when
    answers are given), submitted at once with `submit`. One per evaluator and call."""
    calibration = get_session_or_raise(session=session, code=code)
    anchors = _anchors(session, calibration.id)
    anchor = anchors.get(call_id)
    if anchor is None:
        raise NotFound("call {call} is not in calibration session {code}", call=call_id, code=code)
    if anchor.status == "submitted":
        raise Conflict("the call's anchor is set; it takes no more evaluations")
    taken = session.scalar(
        select(QaEvaluation.id).where(
            QaEvaluation.calibration_session_id == calibration.id,
            QaEvaluation.call_id == call_id,
            QaEvaluation.evaluator_user_id == evaluator.id,
            QaEvaluation.is_anchor.is_(False),
        )
    )
    if taken is not None:
        raise Conflict("{evaluator} already evaluates this call", evaluator=evaluator.username)
    evaluation = quality_service.start_evaluation(
        session=session,
        form_version_id=anchor.form_version_id,
        agent_id=anchor.agent_id,
        evaluator=evaluator,
        call_id=call_id,
        call_at=anchor.call_at,
        kind="calibration",
    )
    evaluation.calibration_session_id = calibration.id
    session.flush()
    if answers is not None:
        quality_service.save_draft(
            session=session, evaluation_id=evaluation.id, answers=answers, comments=comments
        )
    if submit:
        quality_service.submit_evaluation(session=session, evaluation_id=evaluation.id)
    return evaluation


def record_anchor(
    *,
    session: Session,
    code: str,
    call_id: str,
    answers: Mapping[str, Answer],
    comments: Mapping[str, str] | None = None,
    by: User,
) -> QaEvaluation:
    """The agreed anchor of a call (scored together after the blind round), submitted."""
    calibration = get_session_or_raise(session=session, code=code)
    anchor = _anchors(session, calibration.id).get(call_id)
    if anchor is None:
        raise NotFound("call {call} is not in calibration session {code}", call=call_id, code=code)
    if anchor.status == "submitted":
        raise Conflict("the call's anchor is set; it takes no more evaluations")
    anchor.evaluator_user_id = by.id
    session.flush()
    quality_service.save_draft(
        session=session, evaluation_id=anchor.id, answers=answers, comments=comments
    )
    return quality_service.submit_evaluation(session=session, evaluation_id=anchor.id)


def mark_anchor(
    *,
    session: Session,
    evaluation_id: int,
    code: str | None = None,
    session_id: int | None = None,
    by: User | None = None,
) -> QaEvaluation:
    """Make an expert's submitted evaluation the anchor of its call (in place of the empty
    one); the expert's evaluation then counts as the standard, not as a coder. The session is
    named by its code or its id; `by`, when given, must be able to see the evaluation."""
    calibration = (
        session.get(QaCalibrationSession, session_id)
        if session_id is not None
        else get_session_or_raise(session=session, code=code or "")
    )
    if calibration is None:
        raise NotFound("calibration session not found")
    evaluation = session.get(QaEvaluation, evaluation_id)
    if evaluation is None or evaluation.calibration_session_id != calibration.id:
        raise NotFound("evaluation not found")
    if by is not None and evaluation not in visible_evaluations(
        session=session, code=calibration.code, viewer=by
    ):
        raise NotFound("evaluation not found")
    if evaluation.is_anchor:
        return evaluation
    if evaluation.status != "submitted":
        raise Conflict("only a submitted evaluation can be the anchor")
    placeholder = _anchors(session, calibration.id)[evaluation.call_id]
    if placeholder.status == "submitted":
        raise Conflict("the call's anchor is set; it takes no more evaluations")
    session.delete(placeholder)
    session.flush()
    evaluation.is_anchor = True
    session.flush()
    return evaluation


def visible_evaluations(*, session: Session, code: str, viewer: User) -> list[QaEvaluation]:
    """The session's evaluations the viewer may see: their own; another's for a call once
    they have submitted theirs for it; everything once the session is closed. The empty anchor
    drafts are not shown."""
    calibration = get_session_or_raise(session=session, code=code)
    evaluations = _evaluations(session, calibration.id)
    anchors = [e for e in evaluations if e.is_anchor]
    closed = bool(anchors) and all(a.status == "submitted" for a in anchors)
    done = {
        e.call_id
        for e in evaluations
        if e.evaluator_user_id == viewer.id and e.status == "submitted"
    }
    return [
        e
        for e in evaluations
        if not (e.is_anchor and e.status == "draft")
        and (closed or e.evaluator_user_id == viewer.id or e.call_id in done)
    ]


def may_see_evaluation(*, session: Session, evaluation: QaEvaluation, viewer: User) -> bool:
    """The blind rule for one calibration evaluation (see `visible_evaluations`)."""
    if evaluation.calibration_session_id is None:
        return True
    calibration = session.get(QaCalibrationSession, evaluation.calibration_session_id)
    if calibration is None:
        return False
    visible = visible_evaluations(session=session, code=calibration.code, viewer=viewer)
    return any(e.id == evaluation.id for e in visible)


def my_evaluation(
    *, session: Session, session_id: int, call_id: str, evaluator: User
) -> QaEvaluation:
    """The evaluator's evaluation of one of the session's calls: theirs when they started
    one, else a new blind draft (scored in the workspace like any call)."""
    calibration = session.get(QaCalibrationSession, session_id)
    if calibration is None:
        raise NotFound("calibration session not found")
    for evaluation in _evaluations(session, calibration.id):
        if (
            evaluation.call_id == call_id
            and evaluation.evaluator_user_id == evaluator.id
            and not evaluation.is_anchor
        ):
            return evaluation
    return add_evaluation(
        session=session, code=calibration.code, call_id=call_id, evaluator=evaluator
    )


# --- reliability ------------------------------------------------------------------------------


def _answer_value(answer: object) -> float | None:
    if answer is None:
        return None
    if isinstance(answer, bool):
        return 1.0 if answer else 0.0
    if isinstance(answer, int | float):
        return float(answer)
    return None


def _reliability(
    calibration: QaCalibrationSession,
    spec: FormSpec | None,
    evaluations: list[QaEvaluation],
    names: Mapping[int, str],
) -> SessionReliability:
    submitted = [e for e in evaluations if e.status == "submitted" and e.overall is not None]
    anchors = {e.call_id: e for e in submitted if e.is_anchor}
    coded = [e for e in submitted if not e.is_anchor and e.evaluator_user_id is not None]
    calls = sorted({e.call_id for e in evaluations})
    coders = sorted({e.evaluator_user_id for e in coded if e.evaluator_user_id is not None})
    by_pair = {(e.evaluator_user_id, e.call_id): e for e in coded}
    items: list[ItemReliability] = []
    for item in spec.items() if spec is not None else []:
        rows = [
            [
                _answer_value(json.loads(by_pair[coder, call].answers_json).get(item.code))
                if (coder, call) in by_pair
                else None
                for call in calls
            ]
            for coder in coders
        ]
        level: Level = "nominal" if item.kind == "yes_no" else "ordinal"
        domain = (
            [0.0, 1.0]
            if item.kind == "yes_no"
            else [float(v) for v in range(0, (item.scale_max or 0) + 1)]
        )
        pairable = sum(
            1 for column in range(len(calls)) if sum(row[column] is not None for row in rows) >= 2
        )
        items.append(
            ItemReliability(
                item=item.code,
                zh=item.zh,
                en=item.en,
                alpha=krippendorff_alpha(rows, level, domain) if pairable else None,
                level=level,
                calls=pairable,
            )
        )
    totals = [
        [by_pair[coder, call].overall if (coder, call) in by_pair else None for call in calls]
        for coder in coders
    ]
    complete = [
        column
        for column in range(len(calls))
        if coders and all(row[column] is not None for row in totals)
    ]
    icc = icc2_1([[float(row[c] or 0.0) for row in totals] for c in complete])
    deviations: list[EvaluatorDeviation] = []
    for coder in coders:
        differences = [
            (by_pair[coder, call].overall or 0.0) - (anchors[call].overall or 0.0)
            for call in calls
            if (coder, call) in by_pair and call in anchors
        ]
        deviations.append(
            EvaluatorDeviation(
                evaluator=names.get(coder, "?"),
                mean_deviation=sum(differences) / len(differences) if differences else None,
                n=len(differences),
            )
        )
    return SessionReliability(
        session=calibration.code,
        items=items,
        icc2_1=icc,
        alpha_interval=krippendorff_alpha(totals, "interval") if coders else None,
        evaluators=sorted(deviations, key=lambda d: d.evaluator),
    )


def _names(session: Session) -> dict[int, str]:
    return accounts_service.user_names(session=session, usernames_only=True)


def session_reliability(*, session: Session, code: str) -> SessionReliability:
    """A session's reliability: per item alpha, ICC(2,1) and interval alpha on the totals, each
    evaluator's mean deviation from the anchor."""
    calibration = get_session_or_raise(session=session, code=code)
    return _reliability(
        calibration,
        _form_spec(session, calibration),
        _evaluations(session, calibration.id),
        _names(session),
    )


def _form_spec(session: Session, calibration: QaCalibrationSession) -> FormSpec | None:
    if calibration.form_version_id is None:
        return None
    version = session.get(QaFormVersion, calibration.form_version_id)
    return quality_service.form_spec(version) if version is not None else None


def list_sessions(*, session: Session) -> list[CalibrationSessionSummary]:
    """Every session, latest first, with its agreement on the totals."""
    names = _names(session)
    summaries = []
    for calibration in session.scalars(
        select(QaCalibrationSession).order_by(
            QaCalibrationSession.held_on.desc(), QaCalibrationSession.id.desc()
        )
    ):
        evaluations = _evaluations(session, calibration.id)
        reliability = _reliability(calibration, None, evaluations, names)
        anchors = [e for e in evaluations if e.is_anchor]
        coded = [e for e in evaluations if not e.is_anchor]
        version = (
            session.get(QaFormVersion, calibration.form_version_id)
            if calibration.form_version_id is not None
            else None
        )
        summaries.append(
            CalibrationSessionSummary(
                id=calibration.id,
                code=calibration.code,
                title=calibration.title,
                held_on=calibration.held_on,
                form=f"{version.form.code} v{version.version}" if version is not None else "",
                calls=len(anchors),
                anchored=sum(1 for a in anchors if a.status == "submitted"),
                evaluators=len({e.evaluator_user_id for e in coded}),
                evaluations=sum(1 for e in coded if e.status == "submitted"),
                icc2_1=reliability.icc2_1,
                alpha_interval=reliability.alpha_interval,
            )
        )
    return summaries


def _month(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m")


def evaluator_drift(*, session: Session, zone: ZoneInfo) -> list[EvaluatorDrift]:
    """Each evaluator's mean deviation from the anchors per month (sessions by the month they
    were held, in the centre's zone) and its change from their previous month."""
    names = _names(session)
    sums: dict[str, dict[str, list[float]]] = {}
    for calibration in session.scalars(select(QaCalibrationSession)):
        month = _month(calibration.held_on or calibration.created_at, zone)
        evaluations = _evaluations(session, calibration.id)
        anchors = {
            e.call_id: e.overall
            for e in evaluations
            if e.is_anchor and e.status == "submitted" and e.overall is not None
        }
        for e in evaluations:
            if (
                e.is_anchor
                or e.status != "submitted"
                or e.overall is None
                or e.evaluator_user_id is None
                or e.call_id not in anchors
            ):
                continue
            name = names.get(e.evaluator_user_id, "?")
            sums.setdefault(name, {}).setdefault(month, []).append(
                e.overall - (anchors[e.call_id] or 0.0)
            )
    drifts = []
    for name in sorted(sums):
        months: list[MonthlyDeviation] = []
        for month in sorted(sums[name]):
            values = sums[name][month]
            mean = sum(values) / len(values)
            previous = months[-1].mean_deviation if months else None
            months.append(
                MonthlyDeviation(
                    month=month,
                    mean_deviation=mean,
                    n=len(values),
                    drift=None if previous is None else mean - previous,
                )
            )
        drifts.append(EvaluatorDrift(evaluator=name, months=months))
    return drifts


def reliability_alerts(
    *, session: Session, zone: ZoneInfo, drift_threshold: float
) -> list[ReliabilityAlert]:
    """Items below alpha 0.667 in the latest closed session with reliability data (an open
    session's alpha is provisional), and evaluators whose deviation from the anchors moved more
    than `drift_threshold` points in their latest month."""
    alerts: list[ReliabilityAlert] = []
    for summary in list_sessions(session=session):
        if not summary.closed:
            continue
        reliability = session_reliability(session=session, code=summary.code)
        low = [i for i in reliability.items if i.alpha is not None and i.alpha < ALPHA_MINIMUM]
        if not any(i.alpha is not None for i in reliability.items):
            continue
        alerts += [
            ReliabilityAlert(
                "low_alpha", summary.code, i.item, None, None, i.alpha or 0.0, ALPHA_MINIMUM
            )
            for i in low
        ]
        break
    for drift in evaluator_drift(session=session, zone=zone):
        latest = drift.months[-1] if drift.months else None
        if latest is not None and latest.drift is not None and abs(latest.drift) > drift_threshold:
            alerts.append(
                ReliabilityAlert(
                    "drift",
                    None,
                    None,
                    drift.evaluator,
                    latest.month,
                    latest.drift,
                    drift_threshold,
                )
            )
    return alerts


# --- pages ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertView:
    """An alert with the names a page shows (an item in both languages)."""

    alert: ReliabilityAlert
    item_zh: str = ""
    item_en: str = ""

    def item_name(self, language: str) -> str:
        """The item's name in the reader's language (its code when the form lacks it)."""
        name = self.item_zh if language == "zh_Hans" else self.item_en
        return name or self.alert.item or ""


@dataclass(frozen=True)
class CalibrationOverview:
    """The calibration page: every session, and the alerts of the latest ones."""

    sessions: list[CalibrationSessionSummary]
    alerts: list[AlertView]
    alpha_minimum: float = ALPHA_MINIMUM

    def low_alpha(self) -> dict[str, list[AlertView]]:
        """The low-alpha alerts by session."""
        grouped: dict[str, list[AlertView]] = {}
        for view in self.alerts:
            if view.alert.kind == "low_alpha":
                grouped.setdefault(view.alert.session or "", []).append(view)
        return grouped

    def drift(self) -> list[AlertView]:
        """The drift alerts."""
        return [view for view in self.alerts if view.alert.kind == "drift"]


@dataclass(frozen=True)
class VisibleEvaluation:
    """One evaluation of the session as the viewer may see it."""

    id: int
    call_id: str
    evaluator: str
    status: str
    overall: float | None
    is_anchor: bool
    can_anchor: bool  # submitted, and its call has no anchor yet


@dataclass(frozen=True)
class SessionCall:
    """One of a session's calls as the viewer stands with it: theirs to score, started, done."""

    call_id: str
    call_at: datetime
    anchored: bool  # its anchor is set: no more evaluations
    my_evaluation_id: int | None
    my_status: str | None


@dataclass(frozen=True)
class CalibrationSessionPage:
    """One session: its summary, reliability, the evaluators' drift and what the viewer sees."""

    summary: CalibrationSessionSummary
    calls: list[SessionCall]
    reliability: SessionReliability
    drift: list[EvaluatorDrift]
    evaluations: list[VisibleEvaluation]
    alpha_minimum: float = ALPHA_MINIMUM


def _item_names(spec: FormSpec | None) -> dict[str, tuple[str, str]]:
    return {item.code: (item.zh, item.en) for item in spec.items()} if spec else {}


def calibration_overview(
    *, session: Session, zone: ZoneInfo, drift_threshold: float
) -> CalibrationOverview:
    """The sessions, latest first, and the reliability alerts."""
    sessions = list_sessions(session=session)
    alerts = reliability_alerts(session=session, zone=zone, drift_threshold=drift_threshold)
    names: dict[str, tuple[str, str]] = {}
    for code in {a.session for a in alerts if a.session}:
        names |= _item_names(_form_spec(session, get_session_or_raise(session=session, code=code)))
    return CalibrationOverview(
        sessions=sessions,
        alerts=[AlertView(a, *names.get(a.item or "", ("", ""))) for a in alerts],
    )


def session_page(
    *, session: Session, session_id: int, viewer: User, zone: ZoneInfo
) -> CalibrationSessionPage:
    """One session's page: reliability, drift of its evaluators, the evaluations the viewer
    may see (blind until they submitted theirs or the session is closed)."""
    calibration = session.get(QaCalibrationSession, session_id)
    if calibration is None:
        raise NotFound("calibration session not found")
    [summary] = [s for s in list_sessions(session=session) if s.id == calibration.id]
    reliability = session_reliability(session=session, code=calibration.code)
    taking_part = {e.evaluator for e in reliability.evaluators}
    names = _names(session)
    anchored = {
        e.call_id
        for e in _evaluations(session, calibration.id)
        if e.is_anchor and e.status == "submitted"
    }
    mine = {
        e.call_id: e
        for e in _evaluations(session, calibration.id)
        if e.evaluator_user_id == viewer.id and not e.is_anchor
    }
    calls = [
        SessionCall(
            call_id=anchor.call_id,
            call_at=anchor.call_at,
            anchored=anchor.call_id in anchored,
            my_evaluation_id=mine[anchor.call_id].id if anchor.call_id in mine else None,
            my_status=mine[anchor.call_id].status if anchor.call_id in mine else None,
        )
        for anchor in sorted(
            _anchors(session, calibration.id).values(), key=lambda a: (a.call_at, a.call_id)
        )
    ]
    return CalibrationSessionPage(
        summary=summary,
        calls=calls,
        reliability=reliability,
        drift=[
            d for d in evaluator_drift(session=session, zone=zone) if d.evaluator in taking_part
        ],
        evaluations=[
            VisibleEvaluation(
                id=e.id,
                call_id=e.call_id,
                evaluator=names.get(e.evaluator_user_id or 0, ""),
                status=e.status,
                overall=e.overall,
                is_anchor=e.is_anchor,
                can_anchor=e.status == "submitted"
                and not e.is_anchor
                and e.call_id not in anchored,
            )
            for e in visible_evaluations(session=session, code=calibration.code, viewer=viewer)
        ],
    )
