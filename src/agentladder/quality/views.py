"""Quality routes. Thin: parse, authorize (by the dependency each route declares), call the
service, render. The QA dashboard and its exports; forms and past evaluations from files."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from sqlalchemy.orm import Session

from agentladder.db import utcnow
from agentladder.errors import InvalidInput, NotFound
from agentladder.i18n import N_
from agentladder.imports.schemas import ImportResult
from agentladder.ladder.policy import service as policy_service
from agentladder.org import service as org_service
from agentladder.org.schemas import Permission
from agentladder.periods import period_of
from agentladder.quality import forms_io, importing
from agentladder.quality import service as quality_service
from agentladder.quality.autoqa import importing as autoqa_importing
from agentladder.quality.autoqa.schemas import RULE_NAMES
from agentladder.quality.calibration import service as calibration
from agentladder.quality.dashboard import service as dashboard_service
from agentladder.quality.disputes import service as disputes
from agentladder.quality.sampling import drawing
from agentladder.quality.sampling import service as sampling
from agentladder.quality.workspace import service as workspace
from agentladder.reports import service as reports_service
from agentladder.web.auth import (
    QaCalibrationUser,
    QaDashboardUser,
    QaEvaluateUser,
    QaImportUser,
    QaOwnUser,
    QaReviewUser,
    QaViewUser,
    QualitySamplesUser,
    SessionDep,
    SettingsDep,
    request_language,
)
from agentladder.web.importing import XLSX_MEDIA_TYPE, PageUpload, add_import_routes
from agentladder.web.params import FormPeriod, OptionalPeriod, OptionalRowIdQuery, RowId
from agentladder.web.responses import API_ERRORS
from agentladder.web.templating import render as render_page

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["quality"], responses=API_ERRORS)


def _dashboard(
    session: SessionDep,
    settings: SettingsDep,
    user: QaDashboardUser,
    period: OptionalPeriod,
    team: int | None,
) -> tuple[dashboard_service.QaDashboard, str | None]:
    scope = org_service.agent_scope(user)
    code = name = None
    if team is not None:
        if not scope.everyone and team not in scope.team_ids:
            raise NotFound("team not found")
        chosen = org_service.get_team_or_raise(session=session, team_id=team)
        code, name = chosen.code, chosen.name
    board = dashboard_service.qa_dashboard(
        session=session,
        period=period
        or dashboard_service.default_period(
            session=session, zone=settings.tz, today=settings.today()
        ),
        zone=settings.tz,
        scope=scope,
        team_code=code,
    )
    return board, name


@pages.get("/quality")
def dashboard_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: QaDashboardUser,
    period: OptionalPeriod = None,
    team: OptionalRowIdQuery = None,
) -> Response:
    """The QA dashboard for a month (default: the latest evaluated) and the viewer's teams."""
    board, _ = _dashboard(session, settings, user, period, team)
    return render_page(
        request,
        "quality/dashboard.html",
        {
            "board": board,
            "charts": dashboard_service.DashboardCharts.of(board, request_language(request)),
            "overview": calibration.calibration_overview(
                session=session, zone=settings.tz, drift_threshold=settings.qa_drift_threshold
            ),
            "teams": org_service.list_teams(session=session, scope=org_service.agent_scope(user)),
            "team": team,
        },
    )


@pages.get("/quality/export")
def dashboard_export(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: QaDashboardUser,
    format: str = "xlsx",
    period: OptionalPeriod = None,
    team: OptionalRowIdQuery = None,
) -> Response:
    """The QA dashboard as XLSX, PDF or HTML."""
    if format not in reports_service.REPORT_FORMATS:
        raise InvalidInput("unknown report format {fmt}: xlsx, pdf or html", fmt=format)
    board, team_name = _dashboard(session, settings, user, period, team)
    language = request_language(request)
    document = dashboard_service.qa_document(
        board,
        language=language,
        team_label=team_name or dashboard_service.all_teams_label(language),
        generated_at=utcnow(),
    )
    return Response(
        reports_service.render_document(document, format),
        media_type=reports_service.REPORT_MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="qa-{board.period}.{format}"'},
    )


# --- forms and past evaluations from files ---------------------------------------------------

YAML_MEDIA_TYPE = "application/yaml"


def _import_forms(session: Session, upload: PageUpload) -> ImportResult[forms_io.FormRowPlan]:
    return forms_io.import_forms(session=session, **upload.file, imported_by=upload.user)


def _import_evaluations(
    session: Session, upload: PageUpload
) -> ImportResult[importing.EvaluationRowPlan]:
    return importing.import_evaluations(
        session=session, **upload.file, zone=upload.settings.tz, imported_by=upload.user
    )


add_import_routes(
    pages,
    importer=forms_io.FORMS_IMPORTER,
    permission=Permission.QA_IMPORT,
    base_url="/quality/forms/import",
    template="quality/forms_import.html",
    run=_import_forms,
    upload_param="forms_upload_id",
    context=lambda request, session: {
        "forms": forms_io.stored_forms(session=session),
        "fatal_names": forms_io.FATAL_CLASS_NAMES,
    },
    template_file=forms_io.forms_template,
)


def _import_transcripts(
    session: Session, upload: PageUpload
) -> ImportResult[autoqa_importing.TranscriptRowPlan]:
    return autoqa_importing.import_transcripts(
        session=session, settings=upload.settings, **upload.file, user_id=upload.user.id
    )


add_import_routes(
    pages,
    importer=autoqa_importing.TRANSCRIPT_ROWS_IMPORTER,
    permission=Permission.QA_IMPORT,
    base_url="/quality/transcripts/import",
    template="quality/transcripts_import.html",
    run=_import_transcripts,
    upload_param="transcripts_upload_id",
)
add_import_routes(
    pages,
    importer=importing.EVALUATIONS_IMPORTER,
    permission=Permission.QA_IMPORT,
    base_url="/quality/evaluations/import",
    template="quality/evaluations_import.html",
    run=_import_evaluations,
    upload_param="evaluations_upload_id",
    context=lambda request, session: {"kind_names": importing.KIND_NAMES},
)


@pages.get("/quality/forms/export")
def forms_export(
    session: SessionDep,
    user: QaImportUser,
    form: Annotated[str, Query(max_length=40, pattern=r"^[a-z][a-z0-9_]*$")] = "default",
    file_format: Annotated[Literal["yaml", "xlsx"], Query(alias="format")] = "yaml",
    version: Annotated[int | None, Query(ge=1, le=100_000)] = None,
) -> Response:
    """A form (its latest version, or the one asked for) as YAML or XLSX, to edit and import."""
    data = forms_io.export_form(session=session, code=form, fmt=file_format, version=version)
    name = forms_io.form_file_name(form, file_format)
    return Response(
        data,
        media_type=XLSX_MEDIA_TYPE if file_format == "xlsx" else YAML_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- samples: draw, list, detail (QA evaluators and management) ------------------------------

# Who sees the agents of a blind sample: not the evaluators (the qa role) it hides them from.
REVEAL_BLIND_ROLES = frozenset({"admin", "manager"})


@pages.get("/quality/samples")
def samples_page(
    request: Request, session: SessionDep, settings: SettingsDep, user: QualitySamplesUser
) -> Response:
    """The samples drawn so far and the form that draws one (for last month, unless changed)."""
    loaded = policy_service.current_policy(session=session)
    return render_page(
        request,
        "quality/samples.html",
        {
            "samples": sampling.list_samples(session=session),
            "policy_target": sampling.target_from_policy(
                policy_service.sample_minimums(loaded.policy)
            ),
            "rules": drawing.SamplingRules(),
            "max_per_agent": drawing.MAX_PER_AGENT,
            "last_month": period_of("month", settings.today()).previous().label,
        },
    )


@pages.post("/quality/samples")
def draw_form(
    session: SessionDep,
    settings: SettingsDep,
    user: QualitySamplesUser,
    period: FormPeriod,
    seed: Annotated[str | None, Form(max_length=12, pattern=r"^\d*$")] = None,
    per_agent: Annotated[str | None, Form(max_length=4, pattern=r"^\d*$")] = None,
    max_targeted: Annotated[int, Form(ge=0, le=drawing.MAX_PER_AGENT)] = 2,
    blind: Annotated[bool, Form()] = False,
    not_own_team: Annotated[bool, Form()] = False,
) -> Response:
    """Draw, assign and store a period's sample; then show it."""
    if per_agent:
        target = int(per_agent)
    else:
        loaded = policy_service.current_policy(session=session)
        target = sampling.target_from_policy(policy_service.sample_minimums(loaded.policy))
    sample = sampling.draw_sample(
        session=session,
        settings=settings,
        period=period,
        seed=int(seed) if seed else None,
        per_agent=target,
        rules=drawing.SamplingRules(
            repeat_days=settings.fcr_window_days, max_targeted=max_targeted
        ),
        blind=blind,
        exclude_own_team=not_own_team,
        by=user,
    )
    return RedirectResponse(f"/quality/samples/{sample.id}", status_code=303)


@pages.get("/quality/samples/{sample_id}")
def sample_page(
    request: Request,
    session: SessionDep,
    user: QualitySamplesUser,
    sample_id: RowId,
    evaluator: Annotated[str | None, Query(max_length=80)] = None,
) -> Response:
    """One sample: its calls per agent with reason and evaluator, filtered by evaluator."""
    summary = sampling.sample_summary(
        session=session,
        sample_id=sample_id,
        reveal_agents=not user.roles.isdisjoint(REVEAL_BLIND_ROLES),
        evaluator=evaluator or None,
    )
    return render_page(
        request,
        "quality/sample.html",
        {"sample": summary, "evaluator": evaluator or "", "reason_names": sampling.REASON_NAMES},
    )


# --- calibration and reliability --------------------------------------------------------------


@pages.get("/quality/calibration")
def calibration_page(
    request: Request, session: SessionDep, settings: SettingsDep, user: QaCalibrationUser
) -> Response:
    """Calibration sessions with their agreement on the totals, and the reliability alerts."""
    overview = calibration.calibration_overview(
        session=session, zone=settings.tz, drift_threshold=settings.qa_drift_threshold
    )
    return render_page(request, "quality/calibration.html", {"overview": overview})


@pages.get("/quality/calibration/{calibration_id}")
def calibration_session_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: QaCalibrationUser,
    calibration_id: RowId,
) -> Response:
    """One session: alpha per item, the totals' agreement, each evaluator against the anchor,
    their drift, and the evaluations the user may see."""
    page = calibration.session_page(
        session=session, session_id=calibration_id, viewer=user, zone=settings.tz
    )
    return render_page(
        request,
        "quality/calibration_session.html",
        {"page": page, "drift_threshold": settings.qa_drift_threshold},
    )


@pages.post("/quality/calibration/{calibration_id}/score")
def calibration_score_form(
    session: SessionDep,
    user: QaCalibrationUser,
    calibration_id: RowId,
    call_id: Annotated[str, Form(min_length=1, max_length=120)],
) -> Response:
    """Score one of the session's calls blind: the user's evaluation of it, in the workspace."""
    evaluation = calibration.my_evaluation(
        session=session, session_id=calibration_id, call_id=call_id, evaluator=user
    )
    return _redirect(f"/quality/evaluations/{evaluation.id}")


@pages.post("/quality/calibration")
def calibration_create_form(
    session: SessionDep,
    settings: SettingsDep,
    user: QaCalibrationUser,
    code: Annotated[str, Form(min_length=1, max_length=40)],
    title: Annotated[str, Form(max_length=200)] = "",
    held_on: Annotated[str, Form(max_length=10)] = "",
    calls: Annotated[str, Form(max_length=100_000)] = "",
) -> Response:
    """Create a session from the form: code, title, the day it is held, calls one per line."""
    created = calibration.create_session_from_text(
        session=session,
        code=code,
        title=title,
        held_on=held_on,
        calls=calls,
        zone=settings.tz,
        by=user,
    )
    return RedirectResponse(f"/quality/calibration/{created.id}", status_code=303)


@pages.post("/quality/calibration/{calibration_id}/evaluations/{calibration_evaluation_id}/anchor")
def calibration_anchor_form(
    session: SessionDep,
    user: QaCalibrationUser,
    calibration_id: RowId,
    calibration_evaluation_id: RowId,
) -> Response:
    """Make an expert's submitted evaluation the anchor of its call."""
    calibration.mark_anchor(
        session=session,
        session_id=calibration_id,
        evaluation_id=calibration_evaluation_id,
        by=user,
    )
    return RedirectResponse(f"/quality/calibration/{calibration_id}", status_code=303)


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


# --- the evaluation workspace, the agent's evaluations, disputes and the audit trail -------


AUDIT_ACTIONS = {
    "submitted": N_("Submitted"),
    "imported": N_("Imported"),
    "acknowledged": N_("Acknowledged"),
    "disputed": N_("Disputed"),
    "upheld": N_("Upheld"),
    "overturned": N_("Overturned"),
    "regraded": N_("Regraded"),
}
SAMPLE_REASONS = {
    "random": N_("Random"),
    "complaint": N_("Complaint"),
    "low_survey": N_("Low survey score"),
    "short_talk": N_("Very short talk"),
    "long_talk": N_("Very long talk"),
    "transfer": N_("Transfer"),
    "repeat_caller": N_("Repeat caller"),
}
KINDS = {
    "official": N_("Official"),
    "coaching": N_("Coaching"),
    "calibration": N_("Calibration"),
}
# How a call ended, as the ingest stores it.
OUTCOMES = {
    "answered": N_("Answered"),
    "abandoned": N_("Abandoned"),
    "timeout": N_("Timed out in the queue"),
    "exit_empty": N_("Left: no agents"),
    "exit_key": N_("Left by a key press"),
    "withdrawn": N_("Withdrawn"),
    "ring_no_answer": N_("Rang, not answered"),
    "ring_canceled": N_("Ringing canceled"),
    "canceled": N_("Canceled"),
    "unavailable": N_("Unavailable"),
    "congestion": N_("Congestion"),
    "open": N_("Still open"),
}
DISPUTE_STATUSES = {
    "open": N_("Open"),
    "upheld": N_("Upheld"),
    "overturned": N_("Overturned"),
}


async def _fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


@pages.get("/quality/my-calls")
def my_calls_page(request: Request, session: SessionDep, user: QaEvaluateUser) -> Response:
    """The calls assigned to the evaluator still to score, and their drafts."""
    assigned, drafts = workspace.my_calls(session=session, user=user)
    return render_page(
        request,
        "quality/my_calls.html",
        {"assigned": assigned, "drafts": drafts, "reasons": SAMPLE_REASONS, "kinds": KINDS},
    )


@pages.post("/quality/my-calls/{sampled_id}/start")
def start_evaluation(
    session: SessionDep,
    user: QaEvaluateUser,
    sampled_id: RowId,
    kind: Annotated[str, Form(max_length=20)] = "official",
) -> Response:
    """Open the workspace on an assigned call (its draft when one was started)."""
    evaluation = workspace.start_from_assignment(
        session=session, sampled_id=sampled_id, by=user, kind=kind
    )
    return _redirect(f"/quality/evaluations/{evaluation.id}")


@pages.get("/quality/evaluations/{evaluation_id}")
def evaluation_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: QaViewUser,
    evaluation_id: RowId,
) -> Response:
    """The workspace (a draft, for its evaluator) or the evaluation with its disputes and
    audit trail (404 for a user who may not see it)."""
    page = workspace.evaluation_page(
        session=session, settings=settings, evaluation_id=evaluation_id, user=user, now=utcnow()
    )
    return render_page(
        request,
        "quality/evaluation.html",
        {
            "page": page,
            "answer_text": workspace.answer_text,
            "kinds": KINDS,
            "actions": AUDIT_ACTIONS,
            "dispute_statuses": DISPUTE_STATUSES,
            "outcomes": OUTCOMES,
            "rule_names": RULE_NAMES,
            "saved": request.query_params.get("saved") == "1",
        },
    )


@pages.get("/quality/evaluations/{evaluation_id}/recording")
def recording(
    session: SessionDep, settings: SettingsDep, user: QaViewUser, evaluation_id: RowId
) -> Response:
    """The call's recording, streamed with HTTP Range so the player can seek."""
    path, media_type = workspace.recording_file(
        session=session, settings=settings, evaluation_id=evaluation_id, user=user
    )
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "private"})


@pages.post("/quality/evaluations/{evaluation_id}/draft")
async def save_draft(
    request: Request, session: SessionDep, user: QaEvaluateUser, evaluation_id: RowId
) -> Response:
    """Keep the draft as the form stands: the page's script posts it as it is typed (answered
    with JSON), the Save button without scripts (back to the page)."""
    fields = await _fields(request)
    evaluation = workspace.save_workspace(
        session=session, evaluation_id=evaluation_id, fields=fields, by=user
    )
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"saved_at": evaluation.updated_at.isoformat()})
    return _redirect(f"/quality/evaluations/{evaluation_id}?saved=1")


@pages.post("/quality/evaluations/{evaluation_id}/submit")
async def submit(
    request: Request, session: SessionDep, user: QaEvaluateUser, evaluation_id: RowId
) -> Response:
    """Save the form and submit it: scored on the server, final from now on."""
    fields = await _fields(request)
    workspace.save_workspace(session=session, evaluation_id=evaluation_id, fields=fields, by=user)
    quality_service.submit_evaluation(session=session, evaluation_id=evaluation_id, by=user)
    return _redirect(f"/quality/evaluations/{evaluation_id}")


@pages.post("/quality/evaluations/{evaluation_id}/regrade")
async def regrade(
    request: Request, session: SessionDep, user: QaEvaluateUser, evaluation_id: RowId
) -> Response:
    """QA changes answers of a submitted evaluation, with a reason (rescored at once)."""
    fields = await _fields(request)
    workspace.regrade_from_form(
        session=session, evaluation_id=evaluation_id, fields=fields, by=user
    )
    return _redirect(f"/quality/evaluations/{evaluation_id}")


@pages.get("/quality/my-evaluations")
def my_evaluations_page(
    request: Request, session: SessionDep, settings: SettingsDep, user: QaViewUser
) -> Response:
    """The user's own evaluations as an agent (none for a user who is not one)."""
    return render_page(
        request,
        "quality/my_evaluations.html",
        {
            "rows": workspace.my_evaluations(session=session, settings=settings, user=user),
            "kinds": KINDS,
            "show_evaluator": settings.qa_show_evaluator,
        },
    )


@pages.post("/quality/evaluations/{evaluation_id}/acknowledge")
def acknowledge(session: SessionDep, user: QaOwnUser, evaluation_id: RowId) -> Response:
    """The agent has read their evaluation."""
    disputes.acknowledge(session=session, evaluation_id=evaluation_id, by=user)
    return _redirect(f"/quality/evaluations/{evaluation_id}")


@pages.post("/quality/evaluations/{evaluation_id}/disputes")
def raise_dispute(
    session: SessionDep,
    settings: SettingsDep,
    user: QaOwnUser,
    evaluation_id: RowId,
    item: Annotated[str, Form(min_length=1, max_length=40)],
    reason: Annotated[str, Form(max_length=disputes.MAX_REASON)] = "",
) -> Response:
    """The agent disputes one item of their evaluation."""
    disputes.raise_dispute(
        session=session,
        settings=settings,
        evaluation_id=evaluation_id,
        item=item,
        reason=reason,
        by=user,
    )
    return _redirect(f"/quality/evaluations/{evaluation_id}")


@pages.get("/quality/disputes")
def disputes_page(
    request: Request, session: SessionDep, user: QaReviewUser, status: str = "open"
) -> Response:
    """The disputes the user decides (a team lead: their teams'), open or all."""
    chosen = "all" if status == "all" else "open"
    return render_page(
        request,
        "quality/disputes.html",
        {
            "rows": workspace.dispute_queue(session=session, user=user, status=chosen),
            "status": chosen,
            "dispute_statuses": DISPUTE_STATUSES,
            "answer_text": workspace.answer_text,
        },
    )


@pages.post("/quality/disputes/{dispute_id}/decide")
def decide(
    session: SessionDep,
    user: QaReviewUser,
    dispute_id: RowId,
    decision: Annotated[str, Form(max_length=20)],
    note: Annotated[str, Form(max_length=disputes.MAX_REASON)] = "",
    answer: Annotated[str, Form(max_length=20)] = "",
    back: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Uphold or overturn a dispute (an overturn takes the item's new answer)."""
    dispute = workspace.decide_from_form(
        session=session,
        dispute_id=dispute_id,
        decision=decision,
        answer=answer,
        note=note,
        by=user,
    )
    if back == "evaluation":
        return _redirect(f"/quality/evaluations/{dispute.evaluation_id}")
    return _redirect("/quality/disputes")
