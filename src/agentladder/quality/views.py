"""Service quality pages (`pages`). Thin: parse, authorize (by the dependency each route
declares, then the object checks of the quality services: 404 for what the user may not see),
call the service, render."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse

from agentladder.db import utcnow
from agentladder.i18n import N_
from agentladder.org.models import User
from agentladder.org.schemas import Permission
from agentladder.quality import disputes, workspace
from agentladder.quality import service as quality_service
from agentladder.web.auth import SessionDep, SettingsDep, requires
from agentladder.web.params import RowId
from agentladder.web.templating import render

pages = APIRouter(include_in_schema=False)


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


# --- the evaluation workspace, the agent's evaluations, disputes and the audit trail -------

QaEvaluateUser = Annotated[User, Depends(requires(Permission.QA_EVALUATE))]
QaViewUser = Annotated[User, Depends(requires(Permission.QA_VIEW))]
QaOwnUser = Annotated[User, Depends(requires(Permission.QA_OWN))]
QaReviewUser = Annotated[User, Depends(requires(Permission.QA_REVIEW))]

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
    return render(
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
    return render(
        request,
        "quality/evaluation.html",
        {
            "page": page,
            "answer_text": workspace.answer_text,
            "kinds": KINDS,
            "actions": AUDIT_ACTIONS,
            "dispute_statuses": DISPUTE_STATUSES,
            "outcomes": OUTCOMES,
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
    return render(
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
    return render(
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
