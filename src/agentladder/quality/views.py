"""Quality routes: pages (`pages`). Thin: parse, authorize (by the dependency each route
declares), call the service, render."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from agentladder.ladder.policy import service as policy_service
from agentladder.org.models import User
from agentladder.org.schemas import Permission
from agentladder.periods import period_of
from agentladder.quality import drawing, sampling
from agentladder.web.auth import SessionDep, SettingsDep, requires
from agentladder.web.params import FormPeriod, RowId
from agentladder.web.templating import render

pages = APIRouter(include_in_schema=False)


# --- samples: draw, list, detail (QA evaluators and management) ------------------------------

QualitySamplesUser = Annotated[User, Depends(requires(Permission.QUALITY_SAMPLES))]
# Who sees the agents of a blind sample: not the evaluators (the qa role) it hides them from.
REVEAL_BLIND_ROLES = frozenset({"admin", "manager"})


@pages.get("/quality/samples")
def samples_page(
    request: Request, session: SessionDep, settings: SettingsDep, user: QualitySamplesUser
) -> Response:
    """The samples drawn so far and the form that draws one (for last month, unless changed)."""
    loaded = policy_service.current_policy(session=session)
    return render(
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
    return render(
        request,
        "quality/sample.html",
        {"sample": summary, "evaluator": evaluator or "", "reason_names": sampling.REASON_NAMES},
    )
