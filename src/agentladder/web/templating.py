"""Server-rendered pages: one Jinja environment over every domain's templates/ folder."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from agentladder import formatting
from agentladder.config import Language
from agentladder.i18n import LANGUAGE_NAMES, LANGUAGE_SHORT_NAMES, N_, translate, translations
from agentladder.org.levels import service as levels_service
from agentladder.org.schemas import LEVELS, ROLE_NAMES, TIER_NAMES, Permission, allows
from agentladder.reports.charts import service as charts_service
from agentladder.reports.charts.schemas import Figure
from agentladder.web.auth import Viewer, csrf_nonce, csrf_token_for, request_language, viewer

PACKAGE_DIR = Path(__file__).resolve().parent.parent
TEMPLATE_DIRS = sorted(PACKAGE_DIR.glob("*/templates"))


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The shared Jinja environment; `_` and `tr` come with each render, in the reader's tongue."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(path)) for path in TEMPLATE_DIRS]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


@dataclass(frozen=True)
class NavItem:
    """One entry of the navigation bar."""

    label: str
    href: str


NAVIGATION: tuple[tuple[str, str, Permission], ...] = (
    (N_("Agents"), "/agents", Permission.AGENTS_LIST),
    (N_("Teams"), "/teams", Permission.TEAMS_VIEW),
    (N_("Ladder"), "/ladder", Permission.LADDER_TEAM),
    (N_("Decisions"), "/ladder/decisions", Permission.LADDER_REPORTS),
    (N_("KPIs"), "/kpis", Permission.METRICS_VIEW),
    (N_("QA"), "/quality", Permission.QA_DASHBOARD),
    (N_("Exams"), "/exams", Permission.EXAM_RESULTS),
    (N_("Certifications"), "/certifications", Permission.CERTIFICATIONS_VIEW),
    (N_("Knowledge"), "/knowledge", Permission.KNOWLEDGE_READ),
    (N_("Imports"), "/imports", Permission.IMPORTS_MANAGE),
    (N_("Evidence"), "/ladder/evidence", Permission.EVIDENCE_IMPORT),
    (N_("Policy"), "/ladder/policy", Permission.LADDER_POLICY),
    (N_("Roster import"), "/roster/import", Permission.ROSTER_IMPORT),
    (N_("Users"), "/users", Permission.USERS_MANAGE),
)


def navigation(user: Viewer | None, language: Language) -> list[NavItem]:
    """The menu for this user's roles; an agent's own profile comes first."""
    if user is None:
        return []
    items = []
    if user.agent_id is not None:
        items.append(
            NavItem(translate(language, "My scorecard"), f"/agents/{user.agent_id}/scorecard")
        )
        items.append(NavItem(translate(language, "My profile"), f"/agents/{user.agent_id}"))
        if allows(user.roles, Permission.QA_OWN):
            items.append(NavItem(translate(language, "My evaluations"), "/quality/my-evaluations"))
            items.append(NavItem(translate(language, "My automatic QA"), "/quality/autoqa/calls"))
        if allows(user.roles, Permission.EXAMS_TAKE):
            items.append(NavItem(translate(language, "My exams"), "/exams"))
    items += [
        NavItem(translate(language, label), href)
        for label, href, permission in NAVIGATION
        if allows(user.roles, permission)
    ]
    return items


# A section's own pages, as tabs under the menu on every page of the section (for those who
# may open its first page; an agent's own QA pages are in the menu instead).
SECTION_TABS: dict[str, tuple[tuple[str, str, Permission], ...]] = {
    "/quality": (
        (N_("QA dashboard"), "/quality", Permission.QA_DASHBOARD),
        (N_("My calls to evaluate"), "/quality/my-calls", Permission.QA_EVALUATE),
        (N_("QA disputes"), "/quality/disputes", Permission.QA_REVIEW),
        (N_("QA samples"), "/quality/samples", Permission.QUALITY_SAMPLES),
        (N_("Calibration"), "/quality/calibration", Permission.QA_CALIBRATION),
        (N_("QA forms"), "/quality/forms/import", Permission.QA_IMPORT),
        (N_("Past evaluations"), "/quality/evaluations/import", Permission.QA_IMPORT),
        (N_("Automatic QA"), "/quality/autoqa/calls", Permission.AUTOQA_VIEW),
        (N_("Auto-QA rules"), "/quality/autoqa/rules", Permission.QA_IMPORT),
    ),
    "/knowledge": (
        (N_("Library"), "/knowledge", Permission.KNOWLEDGE_READ),
        (N_("My contributions"), "/knowledge/mine", Permission.KNOWLEDGE_WRITE),
        (N_("Knowledge review"), "/knowledge/review", Permission.KNOWLEDGE_REVIEW),
        (N_("Knowledge reports"), "/knowledge/reports", Permission.KNOWLEDGE_REPORTS),
        (N_("Points ledger"), "/knowledge/points", Permission.KNOWLEDGE_REPORTS),
        (N_("Knowledge import"), "/knowledge/import", Permission.KNOWLEDGE_MANAGE),
        (N_("Knowledge settings"), "/knowledge/settings", Permission.KNOWLEDGE_MANAGE),
    ),
}


def section_tabs(user: Viewer | None, language: Language, path: str) -> list[NavItem]:
    """The tabs of the section a page belongs to, those the user may open; none outside a
    section or for someone who may not open its first page."""
    if user is None:
        return []
    for prefix, tabs in SECTION_TABS.items():
        if path != prefix and not path.startswith(prefix + "/"):
            continue
        if not allows(user.roles, tabs[0][2]):
            return []
        return [
            NavItem(translate(language, label), href)
            for label, href, permission in tabs
            if allows(user.roles, permission)
        ]
    return []


def current_item(items: list[NavItem], path: str) -> str | None:
    """The href of the one menu item a page belongs to: the longest that is the path or a
    folder of it (/ladder/decisions belongs to Decisions, not also to Ladder)."""
    matching = [
        item.href for item in items if path == item.href or path.startswith(item.href + "/")
    ]
    return max(matching, key=len, default=None)


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render a page in the request's language with the user, menu and CSRF token."""
    user = viewer(request)
    language = request_language(request)
    catalog = translations(language)

    def level_label(level_id: str | None) -> str:
        if not level_id:
            return ""
        return levels_service.get_level(level_id).label(language)

    zone = request.app.state.settings.tz

    def fmt_date(value: date | datetime | None) -> str:
        return formatting.format_date(value, language, zone)

    def fmt_datetime(value: datetime | None) -> str:
        return formatting.format_datetime(value, language, zone)

    def fmt_value(value: float | None, unit: str) -> str:
        return formatting.format_value(value, unit, language)

    def fmt_number(value: float | None, kind: formatting.NumberKind = "int") -> str:
        return formatting.format_number(value, kind, language)

    def fmt_figure(message: str, params: Mapping[str, float]) -> str:
        return formatting.format_figure(message, params, language)

    def tr(message: str, **params: Any) -> str:
        return translate(language, message, **params)

    def vega_lite(figure: Figure) -> dict[str, Any]:
        return charts_service.vega_lite(figure, language)

    menu = navigation(user, language)
    tabs = section_tabs(user, language, request.url.path)
    page = (
        environment()
        .get_template(template)
        .render(
            {
                "request": request,
                "user": user,
                "lang": language,
                "html_lang": "zh-Hans" if language == "zh_Hans" else "en",
                "languages": LANGUAGE_NAMES,
                "short_languages": LANGUAGE_SHORT_NAMES,
                "nav": menu,
                "current_nav": current_item(menu, request.url.path),
                "tabs": tabs,
                # The section's first tab is its own page only, not every page under it.
                "current_tab": current_item(tabs[1:], request.url.path)
                or (tabs[0].href if tabs and request.url.path == tabs[0].href else None),
                "csrf_token": csrf_token_for(csrf_nonce(request), request.app.state.settings),
                "gettext": catalog.gettext,
                "ngettext": catalog.ngettext,
                # A word translated by what it names: 名称 of a team, 姓名 of a person.
                "pgettext": catalog.pgettext,
                "_": catalog.gettext,
                "tr": tr,
                "levels": LEVELS,
                "tier_names": TIER_NAMES,
                "role_names": ROLE_NAMES,
                "level_label": level_label,
                # Every value on a page goes through the one formatting layer.
                "format_date": fmt_date,
                "format_datetime": fmt_datetime,
                "format_value": fmt_value,
                "format_number": fmt_number,
                "format_figure": fmt_figure,
                "format_flag": lambda flag: formatting.format_flag(flag, language),
                # Charts: a figure's specification, drawn by the script at this URL.
                "vega_lite": vega_lite,
                "chart_script_url": f"/assets/charts.js?v={charts_service.script_version()}",
                **(context or {}),
            }
        )
    )
    return HTMLResponse(page, status_code=status_code)
