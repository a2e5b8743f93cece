"""Quality routes (pages). Thin: parse, authorize (by the dependency each route declares), call
the service, render."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

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
