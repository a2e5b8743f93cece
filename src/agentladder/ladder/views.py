"""Ladder pages and API: an agent's scorecard, the team dashboard, the period's decisions
with approvals and overrides, appeals, the fairness table, the policy editor with validation,
diff and backtest, and the external evidence import."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from agentladder.config import Language
from agentladder.db import utcnow
from agentladder.errors import InvalidInput, NotFound
from agentladder.external import service as external
from agentladder.formatting import format_value
from agentladder.i18n import translate
from agentladder.imports.schemas import ImportResult
from agentladder.ladder import labels
from agentladder.ladder.appeals import service as appeals_service
from agentladder.ladder.backtest import service as backtest_service
from agentladder.ladder.decisions import service as decisions_service
from agentladder.ladder.decisions.schemas import DecisionView, pooled_text
from agentladder.ladder.documents import service as documents_service
from agentladder.ladder.insights import figures
from agentladder.ladder.insights import service as insights_service
from agentladder.ladder.policy import service as policy_service
from agentladder.ladder.policy.schemas import PolicyError
from agentladder.org import service as org_service
from agentladder.org.schemas import Permission, allows
from agentladder.periods import parse_period
from agentladder.quality.dashboard import service as quality_dashboard
from agentladder.reports import service as reports_service
from agentladder.training.certifications import service as certifications_service
from agentladder.web.auth import (
    LadderAppealUser,
    LadderDecideUser,
    LadderPolicyUser,
    LadderReportsUser,
    LadderRunUser,
    LadderTeamUser,
    LadderViewUser,
    SessionDep,
    SettingsDep,
    request_language,
)
from agentladder.web.datatable import Column, DataTable, chosen_sort, paginate
from agentladder.web.importing import PageUpload, add_import_routes
from agentladder.web.params import (
    FormPeriod,
    OptionalPeriod,
    OptionalRowIdQuery,
    PageNumber,
    RequiredPeriod,
    RowId,
    SortKey,
)
from agentladder.web.responses import API_ERRORS, error_responses
from agentladder.web.templating import render as render_page

pages = APIRouter(include_in_schema=False)
api = APIRouter(tags=["ladder"], responses=API_ERRORS)

DECISION_KINDS = ("promote", "hold", "demote", "insufficient_evidence")
STATUSES = ("final", "pending", "approved", "applied", "rejected")
MAX_POLICY_BYTES = 200_000


def _redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def render_ladder_page(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    """A ladder page with the names of decisions, statuses, gates and metrics at hand."""
    language = request_language(request)
    return render_page(
        request,
        template,
        {
            "names": labels.NAMES,
            "metric_name": lambda metric_id: labels.metric_name(metric_id, language),
            "gate_name": lambda gate: labels.gate_name(gate, language),
            "gate_text": lambda value: labels.gate_text(value, language),
            "component_name": lambda key: labels.name(labels.COMPONENT_NAMES, key, language),
            "metric_value": lambda metric_id, value: format_value(
                value, labels.metric_unit(metric_id), language
            ),
            "pooled_text": lambda pooled: pooled_text(pooled, language),
            **context,
        },
        status_code=status_code,
    )


# --- an agent's scorecard -----------------------------------------------------------------


@pages.get("/agents/{agent_id}/scorecard")
def scorecard_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: LadderViewUser,
    agent_id: RowId,
) -> Response:
    """The agent's career plan: level, gates to the next level, evidence, decisions, appeals."""
    card = insights_service.scorecard(
        session=session, agent_id=agent_id, scope=org_service.agent_scope(user)
    )
    # QA of the period the ladder decided last: what its evidence was.
    qa_period = (
        parse_period(card.latest.period)
        if card.latest
        else quality_dashboard.default_period(
            session=session, zone=settings.tz, today=settings.today()
        )
    )
    return render_ladder_page(
        request,
        "ladder/scorecard.html",
        {
            "card": card,
            "qa": quality_dashboard.agent_qa_card(
                session=session, agent_id=agent_id, period=qa_period, zone=settings.tz
            ),
            "trend_chart": figures.score_trend(
                card.trend, card.bands, card.promotion_score, request_language(request)
            ),
            "can_appeal": user.agent_id == agent_id and "agent" in user.roles,
            "appeal_deadline": lambda view: (
                appeals_service.appeal_deadline(view.decided_at, settings.appeal_window_days)
                if view.decided_at
                else None
            ),
            "now": utcnow(),
            # Certificates expiring soon, with the exams that renew them.
            "cert_reminders": certifications_service.expiry_reminders(
                session=session, agent_id=card.agent.id, today=settings.today()
            ),
        },
    )


@api.get("/agents/{agent_id}/scorecard", responses=error_responses(404))
def scorecard_api(
    request: Request, session: SessionDep, user: LadderViewUser, agent_id: RowId
) -> dict[str, Any]:
    """The agent's scorecard as JSON (decisions in the shape of `ladder run --format json`)."""
    card = insights_service.scorecard(
        session=session, agent_id=agent_id, scope=org_service.agent_scope(user)
    )
    language = request_language(request)
    return {
        "agent": card.agent.employee_no,
        "level": card.agent.current_level,
        "next_level": card.next_level,
        "progress": [vars(gate) for gate in card.progress],
        "gaps": card.gaps(language),
        "trend": [{"period": p, "composite": c} for p, c in card.trend],
        "decisions": [view.as_json() for view in card.decisions],
    }


@pages.post("/ladder/decisions/{decision_id}/appeal")
def appeal_form(
    session: SessionDep,
    settings: SettingsDep,
    user: LadderAppealUser,
    decision_id: RowId,
    text: Annotated[str, Form(min_length=1, max_length=4000)],
) -> Response:
    """An agent appeals their own decision."""
    if user.agent_id is None:
        raise NotFound("decision not found")
    decision = decisions_service.get_decision(session=session, decision_id=decision_id)
    if decision.agent_id != user.agent_id:
        raise NotFound("decision not found")
    appeals_service.create_appeal(
        session=session,
        decision_id=decision_id,
        agent_id=user.agent_id,
        text=text,
        by=user,
        window_days=settings.appeal_window_days,
        zone=settings.timezone,
    )
    return _redirect(f"/agents/{user.agent_id}/scorecard")


def _report_file(document: Any, fmt: str, name: str) -> Response:
    if fmt not in reports_service.REPORT_FORMATS:
        raise InvalidInput("unknown report format {fmt}: xlsx, pdf or html", fmt=fmt)
    return Response(
        reports_service.render_document(document, fmt),
        media_type=reports_service.REPORT_MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


@pages.get("/agents/{agent_id}/scorecard/export")
def scorecard_export(
    request: Request,
    session: SessionDep,
    user: LadderViewUser,
    agent_id: RowId,
    format: str = "pdf",
    period: OptionalPeriod = None,
) -> Response:
    """The scorecard as PDF, XLSX or HTML."""
    scope = org_service.agent_scope(user)
    agent = org_service.get_agent_or_raise(session=session, agent_id=agent_id, scope=scope)
    document = documents_service.scorecard_document(
        session=session,
        employee_no=agent.employee_no,
        language=request_language(request),
        scope=scope,
        period=period,
    )
    return _report_file(document, format, f"scorecard-{agent.employee_no}")


# --- the team dashboard --------------------------------------------------------------------


@pages.get("/ladder")
def dashboard_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: LadderTeamUser,
    period: OptionalPeriod = None,
    team: OptionalRowIdQuery = None,
    closed: bool = False,
) -> Response:
    """Pyramid, score distribution, close to promotion, at risk, pending approvals; managers
    close a period from here (`closed`: the period was just closed)."""
    scope = org_service.agent_scope(user)
    board = insights_service.team_dashboard(
        session=session, scope=scope, today=settings.today(), period=period, team_id=team
    )
    return render_ladder_page(
        request,
        "ladder/dashboard.html",
        {
            "board": board,
            "charts": figures.DashboardCharts.of(board, request_language(request)),
            "teams": org_service.list_teams(session=session, scope=scope),
            "team": team,
            "periods": decisions_service.decision_periods(session=session),
            "can_close": allows(user.roles, Permission.LADDER_RUN),
            "closed": closed,
        },
    )


# --- decisions, approvals, overrides -------------------------------------------------------


def _decisions_table(
    language: Language,
    views: list[DecisionView],
    sort: str | None,
    desc: bool,
    page: int,
    query: dict[str, str],
) -> DataTable:
    """The decisions page's table: the agent stays in view, sortable by the facts a manager
    scans, one page at a time."""
    columns = [
        Column("agent", translate(language, "Agent"), fixed=True),
        Column("team", translate(language, "Team")),
        Column("decision", translate(language, "Decision")),
        Column("from", translate(language, "From"), sortable=False),
        Column("to", translate(language, "To"), sortable=False),
        Column("composite", translate(language, "Composite score"), numeric=True),
        Column("status", translate(language, "Status")),
        Column("why", translate(language, "Why"), sortable=False),
        Column("action", translate(language, "Action"), sortable=False),
    ]
    chosen = chosen_sort(sort, columns, "status")
    return DataTable(
        table_id="decisions",
        path="/ladder/decisions",
        columns=columns,
        sort=chosen,
        desc=desc,
        query=query,
        page=paginate(insights_service.sort_decisions(views, chosen, desc), page),
    )


@pages.get("/ladder/decisions")
def decisions_page(
    request: Request,
    session: SessionDep,
    user: LadderReportsUser,
    period: OptionalPeriod = None,
    team: str | None = None,
    decision: str | None = None,
    status: str | None = None,
    sort: SortKey = None,
    desc: bool = False,
    page: PageNumber = 1,
) -> Response:
    """The period's decisions (the promotion list for management) with their approvals:
    filtered by team, kind and status, pending approval first, a page at a time."""
    chosen = period or insights_service.latest_period(session=session)
    kind = decision if decision in DECISION_KINDS else None
    state = status if status in STATUSES else None
    views = (
        insights_service.review_list(
            session=session, period=chosen, team_code=team, decision=kind, status=state
        )
        if chosen
        else []
    )
    query = {
        "period": chosen.label if chosen else "",
        "team": team or "",
        "decision": kind or "",
        "status": state or "",
    }
    return render_ladder_page(
        request,
        "ladder/decisions.html",
        {
            "period": chosen.label if chosen else None,
            "periods": decisions_service.decision_periods(session=session),
            "table": _decisions_table(request_language(request), views, sort, desc, page, query),
            "teams": org_service.list_teams(session=session, scope=org_service.agent_scope(user)),
            "team": team or "",
            "decision": kind or "",
            "status": state or "",
            "kinds": DECISION_KINDS,
            "statuses": STATUSES,
            "policy": policy_service.current_policy(session=session),
        },
    )


@pages.post("/ladder/run")
def run_form(
    session: SessionDep,
    settings: SettingsDep,
    user: LadderRunUser,
    period: FormPeriod,
) -> Response:
    """Decide a period under the policy in force (stale evidence is refused: close the period
    from the dashboard, which computes first)."""
    report = decisions_service.run_period(
        session=session, settings=settings, period=period, run_by=user
    )
    return _redirect(f"/ladder/decisions?period={report.period}")


def _review_form(
    session: SessionDep, user: Any, decision_id: RowId, approve: bool, reason: str
) -> Response:
    row = decisions_service.review_decision(
        session=session, decision_id=decision_id, approve=approve, by=user, reason=reason
    )
    return _redirect(f"/ladder/decisions?period={row.period}")


@pages.post("/ladder/decisions/{decision_id}/approve")
def approve_form(
    session: SessionDep,
    user: LadderDecideUser,
    decision_id: RowId,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Approve a pending decision: the agent's level changes."""
    return _review_form(session, user, decision_id, True, reason)


@pages.post("/ladder/decisions/{decision_id}/reject")
def reject_form(
    session: SessionDep,
    user: LadderDecideUser,
    decision_id: RowId,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Reject a pending decision (a reason is required): the level stays."""
    return _review_form(session, user, decision_id, False, reason)


@pages.post("/ladder/decisions/{decision_id}/override")
def override_form(
    session: SessionDep,
    user: LadderDecideUser,
    decision_id: RowId,
    decision: Annotated[str, Form()],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """A manager's own decision, kept beside the automatic one."""
    decisions_service.override_decision(
        session=session, decision_id=decision_id, decision=decision, reason=reason, by=user
    )
    row = decisions_service.get_decision(session=session, decision_id=decision_id)
    return _redirect(f"/ladder/decisions?period={row.period}")


@pages.post("/ladder/appeals/{appeal_id}/resolve")
def resolve_form(
    session: SessionDep,
    user: LadderDecideUser,
    appeal_id: RowId,
    outcome: Annotated[str, Form()],
    response: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Answer an appeal (upheld or denied); the history keeps both."""
    if outcome not in ("upheld", "denied"):
        raise InvalidInput("unknown outcome {outcome}", outcome=outcome)
    appeal = appeals_service.resolve_appeal(
        session=session,
        appeal_id=appeal_id,
        upheld=outcome == "upheld",
        response=response,
        by=user,
    )
    row = decisions_service.get_decision(session=session, decision_id=appeal.decision_id)
    return _redirect(f"/ladder/decisions?period={row.period}")


@pages.get("/ladder/export")
def dashboard_export(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: LadderTeamUser,
    format: str = "pdf",
    period: OptionalPeriod = None,
    team: OptionalRowIdQuery = None,
) -> Response:
    """The team dashboard as PDF, XLSX or HTML (the teams the viewer may see)."""
    scope = org_service.agent_scope(user)
    code = None
    if team is not None:
        if not scope.everyone and team not in scope.team_ids:
            raise NotFound("team not found")
        code = org_service.get_team_or_raise(session=session, team_id=team).code
    document = documents_service.team_document(
        session=session,
        language=request_language(request),
        scope=scope,
        today=settings.today(),
        period=period,
        team_code=code,
    )
    return _report_file(document, format, f"ladder-team-{period or 'latest'}")


@pages.get("/ladder/decisions/export")
def promotions_export(
    request: Request,
    session: SessionDep,
    user: LadderReportsUser,
    format: str = "pdf",
    period: OptionalPeriod = None,
) -> Response:
    """The period's promotion list and fairness table as PDF, XLSX or HTML."""
    document = documents_service.promotions_document(
        session=session, language=request_language(request), period=period
    )
    return _report_file(document, format, f"promotions-{period or 'latest'}")


@pages.get("/ladder/fairness")
def fairness_page(
    request: Request, session: SessionDep, user: LadderReportsUser, period: OptionalPeriod = None
) -> Response:
    """Promotion and demotion rates by team, skill group, tenure band and evaluator group."""
    chosen = period or insights_service.latest_period(session=session)
    rows = insights_service.fairness_table(session=session, period=chosen) if chosen else []
    return render_ladder_page(
        request,
        "ladder/fairness.html",
        {
            "period": chosen.label if chosen else None,
            "periods": decisions_service.decision_periods(session=session),
            "rows": rows,
        },
    )


class DecisionsOut(BaseModel):
    """A period's decisions."""

    period: str | None
    decisions: list[dict[str, Any]]


@api.get("/ladder/decisions", response_model=DecisionsOut)
def decisions_api(
    session: SessionDep, user: LadderReportsUser, period: OptionalPeriod = None
) -> DecisionsOut:
    """A period's decisions (default: the newest period)."""
    chosen = period or insights_service.latest_period(session=session)
    views = decisions_service.decision_views(session=session, period=chosen) if chosen else []
    return DecisionsOut(
        period=chosen.label if chosen else None, decisions=[view.as_json() for view in views]
    )


@api.post("/ladder/run", response_model=DecisionsOut)
def run_api(
    session: SessionDep,
    settings: SettingsDep,
    user: LadderRunUser,
    period: RequiredPeriod,
    dry_run: bool = False,
    allow_stale: bool = False,
) -> DecisionsOut:
    """Decide a period (`dry_run`: store nothing); 409 on stale evidence unless `allow_stale`."""
    report = decisions_service.run_period(
        session=session,
        settings=settings,
        period=period,
        dry_run=dry_run,
        run_by=user,
        allow_stale=allow_stale,
    )
    return DecisionsOut(period=report.period, decisions=[v.as_json() for v in report.decisions])


class Review(BaseModel):
    """An approval or a rejection."""

    approve: bool
    reason: str = ""


@api.post("/ladder/decisions/{decision_id}/review", responses=error_responses(400, 404, 409))
def review_api(
    session: SessionDep, user: LadderDecideUser, decision_id: RowId, review: Review
) -> dict[str, str]:
    """Approve or reject a pending decision."""
    row = decisions_service.review_decision(
        session=session,
        decision_id=decision_id,
        approve=review.approve,
        by=user,
        reason=review.reason,
    )
    return {"status": row.status, "level": row.to_level if review.approve else row.from_level}


# --- the policy ----------------------------------------------------------------------------


@pages.get("/ladder/policy")
def policy_page(request: Request, session: SessionDep, user: LadderPolicyUser) -> Response:
    """The policy editor: the policy in force, validation as you type, diff, backtest, apply."""
    current = policy_service.current_policy(session=session)
    return render_ladder_page(
        request,
        "ladder/policy.html",
        {
            "current": current,
            "text": current.text,
            "versions": policy_service.policy_versions(session=session),
            "problems": [],
            "periods": decisions_service.decision_periods(session=session),
        },
    )


class PolicyDraft(BaseModel):
    """A policy as the editor sends it."""

    text: str


@api.post("/ladder/policy/validate", responses=error_responses(400))
def validate_policy_api(
    request: Request, session: SessionDep, user: LadderPolicyUser, draft: PolicyDraft
) -> dict[str, Any]:
    """Validate a draft: problems by key, else its hash and the diff against the policy in
    force (the editor calls this as the manager types)."""
    if len(draft.text.encode()) > MAX_POLICY_BYTES:
        raise InvalidInput("the policy is too large")
    current = policy_service.current_policy(session=session)
    diff = policy_service.policy_diff(current.text, draft.text)
    try:
        loaded = policy_service.load_policy_text(session=session, text=draft.text)
    except PolicyError as exc:
        return {
            "valid": False,
            "problems": [
                {"key": key, "message": text} for key, text in exc.texts(request_language(request))
            ],
            "diff": diff,
        }
    return {
        "valid": True,
        "problems": [],
        "hash": loaded.content_hash,
        "unchanged": loaded.content_hash == current.content_hash,
        "diff": diff,
    }


def _policy_form_page(
    request: Request, session: SessionDep, text: str, problems: list[tuple[str, str]], **extra: Any
) -> Response:
    current = policy_service.current_policy(session=session)
    return render_ladder_page(
        request,
        "ladder/policy.html",
        {
            "current": current,
            "text": text,
            "versions": policy_service.policy_versions(session=session),
            "problems": problems,
            "diff": policy_service.policy_diff(current.text, text),
            "periods": decisions_service.decision_periods(session=session),
            **extra,
        },
        status_code=422 if problems else 200,
    )


@pages.post("/ladder/policy/apply")
def apply_policy_form(
    request: Request,
    session: SessionDep,
    user: LadderPolicyUser,
    text: Annotated[str, Form(min_length=1, max_length=MAX_POLICY_BYTES)],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Make the edited policy the one in force."""
    try:
        policy_service.apply_policy(session=session, text=text, applied_by=user, note=note)
    except PolicyError as exc:
        return _policy_form_page(request, session, text, exc.texts(request_language(request)))
    return _redirect("/ladder/policy")


@pages.post("/ladder/policy/backtest")
def backtest_form(
    request: Request,
    session: SessionDep,
    user: LadderPolicyUser,
    text: Annotated[str, Form(min_length=1, max_length=MAX_POLICY_BYTES)],
    first: Annotated[str, Form(min_length=1, max_length=12)],
    last: Annotated[str, Form(min_length=1, max_length=12)],
) -> Response:
    """Run the edited policy over past periods beside the one in force; nothing is stored."""
    try:
        proposed = policy_service.load_policy_text(session=session, text=text)
    except PolicyError as exc:
        return _policy_form_page(request, session, text, exc.texts(request_language(request)))
    report = backtest_service.backtest(
        session=session, proposed=proposed, first=parse_period(first), last=parse_period(last)
    )
    session.rollback()  # a backtest writes nothing, whatever it touched while reading
    return _policy_form_page(request, session, text, [], backtest=report, first=first, last=last)


# --- external evidence ------------------------------------------------------------------------


def _import_evidence(
    session: Session, upload: PageUpload
) -> ImportResult[external.EvidenceRowPlan]:
    return external.import_evidence(session=session, **upload.file, imported_by=upload.user)


def _evidence_context(request: Request, session: Session) -> dict[str, object]:
    language = request_language(request)
    return {
        "metrics": external.accepted_metrics(),
        "metric_name": lambda metric_id: labels.metric_name(metric_id, language),
    }


add_import_routes(
    pages,
    importer=external.EVIDENCE_IMPORTER,
    permission=Permission.EVIDENCE_IMPORT,
    base_url="/ladder/evidence",
    template="ladder/evidence.html",
    run=_import_evidence,
    upload_param="evidence_upload_id",
    context=_evidence_context,
    dry_run_option=True,
)
