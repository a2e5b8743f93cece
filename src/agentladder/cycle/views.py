"""Closing a period from the web: the ladder dashboard's button (managers) and the API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel

from agentladder.cycle import service as cycle_service
from agentladder.web.auth import LadderRunUser, SessionDep, SettingsDep
from agentladder.web.params import FormPeriod, RequiredPeriod
from agentladder.web.responses import API_ERRORS

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["cycle"], responses=API_ERRORS)


@pages.post("/cycle/close")
def close_form(
    session: SessionDep,
    settings: SettingsDep,
    user: LadderRunUser,
    period: FormPeriod,
) -> Response:
    """Close a period (metrics, subsystem aggregates, the ladder) and go back to the
    dashboard, which says so."""
    report = cycle_service.close_period(
        session=session, settings=settings, period=period, run_by=user
    )
    return RedirectResponse(f"/ladder?period={report.period}&closed=1", status_code=303)


class CloseOut(BaseModel):
    """What closing a period did, step by step."""

    period: str
    steps: list[dict[str, Any]]


@api.post("/cycle/close", response_model=CloseOut)
def close_api(
    session: SessionDep,
    settings: SettingsDep,
    user: LadderRunUser,
    period: RequiredPeriod,
    allow_stale: bool = False,
) -> CloseOut:
    """Close a period: the shape `agentladder cycle close --format json` prints."""
    report = cycle_service.close_period(
        session=session, settings=settings, period=period, run_by=user, allow_stale=allow_stale
    )
    return CloseOut(period=report.period, steps=[s.as_json() for s in report.steps])
