"""Quality routes (pages). Thin: parse, authorize (by the dependency each route declares), call
the service, render."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from agentladder.org.models import User
from agentladder.org.schemas import Permission
from agentladder.quality import calibration
from agentladder.web.auth import SessionDep, SettingsDep, requires
from agentladder.web.params import RowId
from agentladder.web.templating import render

pages = APIRouter(include_in_schema=False)


# --- calibration and reliability --------------------------------------------------------------

QaCalibrationUser = Annotated[User, Depends(requires(Permission.QA_CALIBRATION))]


@pages.get("/quality/calibration")
def calibration_page(
    request: Request, session: SessionDep, settings: SettingsDep, user: QaCalibrationUser
) -> Response:
    """Calibration sessions with their agreement on the totals, and the reliability alerts."""
    overview = calibration.calibration_overview(
        session=session, zone=settings.tz, drift_threshold=settings.qa_drift_threshold
    )
    return render(request, "quality/calibration.html", {"overview": overview})


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
    return render(
        request,
        "quality/calibration_session.html",
        {"page": page, "drift_threshold": settings.qa_drift_threshold},
    )


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
