"""An exam's item statistics: the page (`pages`) with Moodle's guidance, the dubious questions
marked and a button to retire each, and its JSON (`api`, mounted under /api). Thin: parse,
authorize (trainers and admins), call the service, render."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import RedirectResponse

from agentladder.org.models import User
from agentladder.org.schemas import Permission
from agentladder.training.exams import analysis
from agentladder.training.exams.schemas import EXAM_CODE_PATTERN
from agentladder.training.questions import service as questions_service
from agentladder.web.auth import SessionDep, requires
from agentladder.web.params import RowId
from agentladder.web.responses import API_ERRORS, error_responses
from agentladder.web.templating import render

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["exams"], responses=API_ERRORS)

TrainingManageUser = Annotated[User, Depends(requires(Permission.TRAINING_MANAGE))]
ExamCode = Annotated[str, Path(max_length=40, pattern=EXAM_CODE_PATTERN)]
WhichQuery = Annotated[
    Literal["highest", "first", "last", "all"] | None,
    Query(description="Attempts to analyse (default: as the exam's grading method)."),
]


@pages.get("/exams/{code}/statistics")
def statistics_page(
    request: Request,
    session: SessionDep,
    user: TrainingManageUser,
    code: ExamCode,
    which: WhichQuery = None,
    retired: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """The exam's test statistics against Moodle's guidance, the item table with the dubious
    questions marked, and the distractors of each choice question."""
    return render(
        request,
        "training/exams/statistics.html",
        {
            "result": analysis.exam_analysis(session=session, code=code, which=which),
            "choices": analysis.ATTEMPT_CHOICES,
            "retired": retired,
        },
    )


@pages.post("/exams/{code}/statistics/questions/{question_id}/retire")
def retire_question_form(
    session: SessionDep,
    user: TrainingManageUser,
    code: ExamCode,
    question_id: RowId,
    which: WhichQuery = None,
) -> Response:
    """Retire a question from the statistics page: new attempts no longer draw it; attempts
    and these statistics keep it."""
    questions_service.retire_question(session=session, question_id=question_id, user_id=user.id)
    back = f"/exams/{code}/statistics?retired={question_id}"
    return RedirectResponse(back + (f"&which={which}" if which else ""), status_code=303)


@api.get(
    "/exams/{code}/statistics",
    response_model=analysis.ExamAnalysis,
    responses=error_responses(404),
)
def api_statistics(
    session: SessionDep, user: TrainingManageUser, code: ExamCode, which: WhichQuery = None
) -> analysis.ExamAnalysis:
    """The exam's test and item statistics, as `agentladder training exams stats --format json`
    prints them."""
    return analysis.exam_analysis(session=session, code=code, which=which)
