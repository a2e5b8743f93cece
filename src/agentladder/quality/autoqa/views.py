"""Automatic QA pages and API. Thin: parse, authorize, call the service, render.

An agent sees their own calls, a team lead their teams' agents, QA and management everyone
(the agent scope); a call outside the scope is a 404, as if it were not stored. The rule set is
edited by those who manage QA forms.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request, Response
from fastapi.responses import RedirectResponse

from agentladder.config import Language
from agentladder.errors import InvalidInput
from agentladder.formatting import local_date
from agentladder.i18n import N_
from agentladder.ladder.policy import service as policy_service
from agentladder.org import service as org_service
from agentladder.org.models import User
from agentladder.periods import Period, parse_period, period_of
from agentladder.quality.autoqa import pages as autoqa_pages
from agentladder.quality.autoqa import rulesets as autoqa_rulesets
from agentladder.quality.autoqa import service as autoqa_service
from agentladder.quality.autoqa.rules import RULE_IDS
from agentladder.quality.autoqa.schemas import (
    CallVerdictsOut,
    PeriodVerdictsOut,
    RuleProblemOut,
    RuleSetCheckOut,
    RuleSetDraft,
    RuleSetOut,
)
from agentladder.web.auth import (
    AutoqaViewUser,
    QaImportUser,
    SessionDep,
    SettingsDep,
    request_language,
)
from agentladder.web.datatable import Column, DataTable, PageSlice, paginate
from agentladder.web.params import FormPeriod, OptionalPeriod, PageNumber
from agentladder.web.responses import API_ERRORS, error_responses
from agentladder.web.templating import render as render_page

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["quality"], responses=API_ERRORS)

MAX_RULES_BYTES = 200_000
CALLS_PER_PAGE = 50
CallId = Annotated[str, Path(min_length=1, max_length=120)]
EmployeeNoQuery = Annotated[str | None, Query(max_length=64)]
RuleQuery = Annotated[str | None, Query(max_length=40, pattern=r"^[a-z_]*$")]
SPEAKERS = {
    "agent": N_("Agent"),
    "customer": N_("Customer"),
    "system": N_("System"),
}


def _names(language: Language) -> dict[str, Any]:
    """What every auto-QA page names things with."""
    return {
        "rule_ids": RULE_IDS,
        "rule_name": lambda rule: autoqa_service.rule_name(rule, language),
        "verdict_names": autoqa_pages.VERDICT_NAMES,
    }


def _only_own(user: User) -> bool:
    """An agent who sees no one but themselves."""
    scope = org_service.agent_scope(user)
    return not scope.everyone and not scope.team_ids


@pages.get("/quality/autoqa/calls")
def calls_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: AutoqaViewUser,
    period: OptionalPeriod = None,
    agent: EmployeeNoQuery = None,
    rule: RuleQuery = None,
    page: PageNumber = 1,
) -> Response:
    """An agent's calls judged in a period with their pass rates beside the team's and the
    centre's; without an agent, the agents the user may see (an agent: always themselves)."""
    scope = org_service.agent_scope(user)
    chosen = period or autoqa_pages.default_period(
        session=session, zone=settings.tz, today=settings.today()
    )
    if agent and agent.strip():
        shown = autoqa_pages.agent_in_scope(session=session, employee_no=agent, scope=scope)
    elif user.agent_id is not None and _only_own(user):
        shown = autoqa_pages.own_agent(session=session, agent_id=user.agent_id)
    else:
        shown = None
    language = request_language(request)
    context: dict[str, Any] = {
        **_names(language),
        "period": chosen,
        "agent": shown,
        "only_own": _only_own(user),
        "rule": rule or "",
    }
    if shown is None:
        rows = autoqa_pages.agents_overview(
            session=session, settings=settings, period=chosen, scope=scope
        )
        context["overview"] = paginate(rows, page)
        context["table"] = _pager(chosen, None, "", context["overview"])
    else:
        calls = autoqa_pages.agent_calls(
            session=session,
            settings=settings,
            period=chosen,
            agent_id=shown.id,
            page=page,
            per_page=CALLS_PER_PAGE,
            failed_rule=rule or None,
        )
        context["comparison"] = autoqa_pages.agent_comparison(
            session=session, settings=settings, period=chosen, agent=shown
        )
        context["calls"] = calls
        context["table"] = _pager(
            chosen,
            shown.employee_no,
            rule or "",
            PageSlice(calls.rows, calls.page, calls.per_page, calls.total),
        )
    return render_page(request, "quality/autoqa_calls.html", context)


def _pager(period: Period, agent: str | None, rule: str, slice_: PageSlice[Any]) -> DataTable:
    """The list's links: the period, agent and rule filter kept from page to page."""
    return DataTable(
        table_id="autoqa-list",
        path="/quality/autoqa/calls",
        columns=[Column("call", "", sortable=False)],
        sort="call",
        desc=False,
        query={"period": period.label, "agent": agent or "", "rule": rule},
        page=slice_,
    )


@pages.get("/quality/autoqa/calls/{call_id}")
def call_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: AutoqaViewUser,
    call_id: CallId,
) -> Response:
    """One call: every rule's verdict with the evidence quoted, and the transcript as stored."""
    detail = autoqa_pages.call_detail(
        session=session, call_id=call_id, scope=org_service.agent_scope(user)
    )
    return render_page(
        request,
        "quality/autoqa_call.html",
        {
            **_names(request_language(request)),
            "call": detail,
            "speakers": SPEAKERS,
            "period_label": period_of("month", local_date(detail.call_at, settings.tz)).label,
        },
    )


# --- the rule set -----------------------------------------------------------------------------


def _rules_page(
    request: Request,
    session: SessionDep,
    text: str | None,
    problems: list[tuple[str, str]],
    **extra: Any,
) -> Response:
    current = autoqa_rulesets.current_rule_set(session=session)
    shown = current.yaml_text if text is None else text
    return render_page(
        request,
        "quality/autoqa_rules.html",
        {
            "current": current,
            "text": shown,
            "problems": problems,
            "diff": policy_service.policy_diff(current.yaml_text, shown),
            "versions": autoqa_rulesets.rule_set_history(session=session),
            "stale": autoqa_service.stale_transcript_count(session=session),
            **extra,
        },
        status_code=422 if problems else 200,
    )


@pages.get("/quality/autoqa/rules")
def rules_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: QaImportUser,
    applied: Annotated[bool, Query()] = False,
    ran: Annotated[str | None, Query(max_length=12)] = None,
    judged: Annotated[int | None, Query(ge=0, le=10**9)] = None,
) -> Response:
    """The rule editor: the rule set in force, validation as you type, versions, and a run."""
    return _rules_page(
        request,
        session,
        None,
        [],
        applied=applied,
        ran=parse_period(ran).label if ran else None,
        judged=judged,
        default_run_period=autoqa_pages.default_period(
            session=session, zone=settings.tz, today=settings.today()
        ).label,
    )


@pages.post("/quality/autoqa/rules")
def apply_rules_form(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: QaImportUser,
    text: Annotated[str, Form(min_length=1, max_length=MAX_RULES_BYTES)],
) -> Response:
    """Make the edited rule set the one in force (shown again with its problems if invalid)."""
    rules, problems = autoqa_rulesets.check_rule_set_text(text)
    if rules is None:
        language = request_language(request)
        return _rules_page(
            request,
            session,
            text,
            [(problem.key, problem.text(language)) for problem in problems],
            default_run_period=autoqa_pages.default_period(
                session=session, zone=settings.tz, today=settings.today()
            ).label,
        )
    autoqa_rulesets.apply_rule_set(session=session, text=text, user_id=user.id)
    return RedirectResponse("/quality/autoqa/rules?applied=true", status_code=303)


@pages.post("/quality/autoqa/run")
def run_form(
    session: SessionDep, settings: SettingsDep, user: QaImportUser, period: FormPeriod
) -> Response:
    """Judge the period's transcripts the rule set in force has not judged yet."""
    run = autoqa_service.run_autoqa(session=session, settings=settings, period=period)
    return RedirectResponse(
        f"/quality/autoqa/rules?ran={run.period}&judged={run.judged}", status_code=303
    )


# --- the API ----------------------------------------------------------------------------------


@api.get(
    "/quality/autoqa/calls/{call_id}",
    response_model=CallVerdictsOut,
    responses=error_responses(404),
)
def call_api(session: SessionDep, user: AutoqaViewUser, call_id: CallId) -> dict[str, Any]:
    """Every rule's verdict on a call with its evidence (404 outside the caller's scope)."""
    return autoqa_pages.visible_call_verdicts(
        session=session, call_id=call_id, scope=org_service.agent_scope(user)
    )


@api.get("/quality/autoqa/periods/{period}", response_model=PeriodVerdictsOut)
def period_api(
    session: SessionDep,
    settings: SettingsDep,
    user: AutoqaViewUser,
    period: Annotated[str, Path(min_length=1, max_length=12)],
) -> dict[str, Any]:
    """The calls of a period (2026-10) the caller may see, each with every rule's verdict."""
    return autoqa_pages.visible_period_verdicts(
        session=session,
        settings=settings,
        period=parse_period(period),
        scope=org_service.agent_scope(user),
    )


def _rule_set_out(session: SessionDep) -> RuleSetOut:
    current = autoqa_rulesets.current_rule_set(session=session)
    return RuleSetOut(
        name=current.rules.name,
        hash=current.rules.content_hash,
        yaml=current.yaml_text,
        applied_at=current.version.applied_at if current.version is not None else None,
        stale=autoqa_service.stale_transcript_count(session=session),
    )


@api.get("/quality/autoqa/rules", response_model=RuleSetOut)
def rules_api(session: SessionDep, user: QaImportUser) -> RuleSetOut:
    """The rule set in force (the shipped one until one is applied)."""
    return _rule_set_out(session)


@api.post(
    "/quality/autoqa/rules/validate",
    response_model=RuleSetCheckOut,
    responses=error_responses(400),
)
def validate_rules_api(
    request: Request, session: SessionDep, user: QaImportUser, draft: RuleSetDraft
) -> RuleSetCheckOut:
    """Check a draft: its problems by key, else its hash; the diff against the rule set in
    force (the editor calls this as the QA lead types)."""
    current = autoqa_rulesets.current_rule_set(session=session)
    diff = policy_service.policy_diff(current.yaml_text, draft.text)
    rules, problems = autoqa_rulesets.check_rule_set_text(draft.text)
    if rules is None:
        language = request_language(request)
        return RuleSetCheckOut(
            valid=False,
            problems=[
                RuleProblemOut(key=problem.key, message=problem.text(language))
                for problem in problems
            ],
            diff=diff,
        )
    return RuleSetCheckOut(
        valid=True,
        problems=[],
        name=rules.name,
        hash=rules.content_hash,
        unchanged=rules.content_hash == current.rules.content_hash,
        diff=diff,
    )


@api.post("/quality/autoqa/rules", response_model=RuleSetOut, responses=error_responses(400))
def apply_rules_api(session: SessionDep, user: QaImportUser, draft: RuleSetDraft) -> RuleSetOut:
    """Make a rule set the one in force (422 naming every problem's key when it is not valid);
    `stale` counts the transcripts judged again at the next run or period close."""
    if not draft.text.strip():
        raise InvalidInput("the rule set is empty")
    autoqa_rulesets.apply_rule_set(session=session, text=draft.text, user_id=user.id)
    return _rule_set_out(session)
