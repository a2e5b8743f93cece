"""External evidence: per-agent, per-period results brought from other tools (QA, exams, the
knowledge base) as CSV/XLSX, so centres can use them before those subsystems live here.

A file has one row per agent, period and metric: 工号/agent (employee number or any ACD
identity), 周期/period (2026-10 or 2026-Q4), 指标/metric (a ladder metric such as `qa_score`
or an agent KPI id), 值/value, 样本量/sample_size. Every row is checked before anything is
written, and a file with any rejected row stores nothing. Importing a row again replaces the
stored agent + period + metric (value, sample size and source); identical rows stay as they are.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.config import Language
from agentladder.db import utcnow
from agentladder.errors import InvalidInput
from agentladder.external.models import ExternalEvidence
from agentladder.i18n import N_, translate
from agentladder.metrics import service as metrics_service
from agentladder.org import service as org_service
from agentladder.periods import parse_period
from agentladder.tabular import fold_header, map_headers, read_table

if TYPE_CHECKING:
    from agentladder.org.models import User

# Canonical field -> header spellings seen in Chinese and English exports (compared folded).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "agent": (
        "工号",
        "员工号",
        "员工编号",
        "座席工号",
        "坐席工号",
        "座席",
        "坐席",
        "agent",
        "employee_no",
        "employee no",
        "employee number",
        "employee id",
        "agent id",
        "staff id",
        "work number",
    ),
    "period": (
        "周期",
        "统计周期",
        "期间",
        "考核周期",
        "月份",
        "季度",
        "period",
        "month",
        "quarter",
    ),
    "metric": ("指标", "指标代码", "指标id", "指标编码", "metric", "metric_id", "metric id", "kpi"),
    "value": ("值", "数值", "指标值", "结果", "value", "result"),
    "sample_size": (
        "样本量",
        "样本数",
        "样本",
        "样本数量",
        "sample_size",
        "sample size",
        "samples",
        "sample",
        "n",
    ),
    "name": ("姓名", "座席姓名", "坐席姓名", "name", "agent name"),  # checked against the agent
}
REQUIRED = ("agent", "period", "metric", "value", "sample_size")
# The ladder decides per month or quarter; days and weeks are not its periods.
PERIOD_KINDS = frozenset({"month", "quarter"})
# Bounds of KPIs by unit (scores such as NPS or a 1-5 CSAT are not bounded here).
_UNIT_BOUNDS: dict[str, tuple[float, float | None]] = {
    "count": (0, None),
    "s": (0, None),
    "rate": (0, 1),
    "ratio": (0, None),
}
_PERIOD_SPELLINGS = (
    (re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$"), "{0}-{1:0>2}"),  # 2026/10, 2026年10月
    (re.compile(r"^(\d{4})(\d{2})$"), "{0}-{1}"),  # 202610
    (re.compile(r"^(\d{4})\s*[-/ ]?\s*q([1-4])$", re.IGNORECASE), "{0}-Q{1}"),  # 2026Q4, 2026 q4
    (re.compile(r"^(\d{4})\s*年?\s*第?\s*([1-4一二三四])\s*季度?$"), "{0}-Q{1}"),  # 2026年第4季度
    # A month typed into Excel becomes a date cell on the month's first day.
    (re.compile(r"^(\d{4})-(\d{2})-01(?: 00:00:00)?$"), "{0}-{1}"),
)
_CHINESE_DIGITS = {"一": "1", "二": "2", "三": "3", "四": "4"}
_INTEGER = re.compile(r"^\+?\d+$")
_IN_CHUNK = 5000


def accepted_metrics() -> dict[str, str]:
    """Metric ids an import accepts, with their English names: every metric of the registry
    (the KPIs measured per agent, and the quality, exam and knowledge metrics)."""
    return {d.id: d.en for d in metrics_service.metric_definitions().values()}


def _metric_lookup() -> dict[str, str]:
    """Metric ids by folded id and folded Chinese and English names."""
    definitions = metrics_service.metric_definitions().values()
    lookup = {fold_header(d.id): d.id for d in definitions}
    for definition in definitions:
        lookup.setdefault(fold_header(definition.zh), definition.id)
        lookup.setdefault(fold_header(definition.en), definition.id)
    return lookup


def _bounds(metric_id: str) -> tuple[float, float | None] | None:
    definition = metrics_service.metric_definition(metric_id)
    if definition is None:
        return None
    return definition.bounds or _UNIT_BOUNDS.get(definition.unit)


def normalize_period(text: str) -> str:
    """A month or quarter label (2026-10, 2026-Q4) from how files write it: 2026-10, 2026/10,
    2026年10月, 202610, 2026-Q4, 2026Q4, 2026年第四季度, or a month's first day (Excel's
    reading of a typed month). Raises ValueError for anything else, days and weeks included."""
    value = text.strip()
    for pattern, template in _PERIOD_SPELLINGS:
        match = pattern.match(value)
        if match:
            parts = [_CHINESE_DIGITS.get(part, part) for part in match.groups()]
            value = template.format(*parts)
            break
    try:
        period = parse_period(value)
    except InvalidInput as exc:
        raise ValueError(text) from exc
    if period.kind not in PERIOD_KINDS:
        raise ValueError(text)
    return period.label


# --- the report ----------------------------------------------------------------------------


class EvidenceIssue(BaseModel):
    """A rejected row (or a problem with the whole file: row 1 is the header, None the file),
    or a warning that does not stop the import."""

    row: int | None
    column: str | None
    reason: str  # an English msgid; `params` fill its placeholders
    value: str | None = None
    params: dict[str, object] = Field(default_factory=dict)

    def text(self, language: Language = "en") -> str:
        """The reason in the reader's language."""
        return translate(language, self.reason, **self.params)


class EvidenceImportReport(BaseModel):
    """What an import did (or, when dry-run or rejected, would have done)."""

    file_name: str
    file_sha256: str
    encoding: str
    source: str
    columns: dict[str, str]  # canonical field -> the file's header
    rows_read: int
    stored: int  # new agent + period + metric facts
    replaced: int  # facts already stored with another value, sample size or source
    unchanged: int  # facts already stored exactly so
    rejected: list[EvidenceIssue]
    warnings: list[EvidenceIssue]
    dry_run: bool
    applied: bool  # the file went in (False for dry runs and for files with rejected rows)


class ExternalFact(NamedTuple):
    """One stored fact as the ladder reads it."""

    agent_id: int
    metric_id: str
    value: float
    sample_size: int
    source: str


# --- reading and checking ------------------------------------------------------------------


@dataclass
class _Row:
    row: int
    agent_id: int
    period: str
    metric_id: str
    value: float
    sample_size: int
    name: str


def _map_columns(
    header: list[str], rejected: list[EvidenceIssue], warnings: list[EvidenceIssue]
) -> dict[str, int]:
    columns, problems = map_headers(header, HEADER_ALIASES, REQUIRED)
    for problem in problems:
        sink = warnings if problem.severity == "warning" else rejected
        sink.append(EvidenceIssue(row=1, column=problem.column, reason=problem.message))
    return columns


def _number(text: str, metric_id: str | None) -> float:
    """A value as files write it: 85.5, 1,234, and for rates also 95% (read as 0.95)."""
    cleaned = text.replace(",", "").replace(" ", "")
    divisor = 1
    definition = metrics_service.metric_definition(metric_id) if metric_id else None
    if cleaned.endswith("%") and definition is not None and definition.unit == "rate":
        cleaned, divisor = cleaned[:-1], 100
    value = float(cleaned) / divisor
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _check_row(
    number: int,
    cells: list[str],
    header: list[str],
    columns: dict[str, int],
    resolve: Callable[[str], int | None],
    metrics: dict[str, str],
    seen: dict[tuple[int, str, str], int],
    rejected: list[EvidenceIssue],
) -> _Row | None:
    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    def reject(name: str, reason: str, value: str | None = None, **params: object) -> None:
        rejected.append(
            EvidenceIssue(
                row=number, column=header[columns[name]], reason=reason, value=value, params=params
            )
        )

    before = len(rejected)
    identity = cell("agent")
    agent_id = resolve(identity) if identity else None
    if not identity:
        reject("agent", N_("employee number is empty"))
    elif agent_id is None:
        reject("agent", N_("no agent has this employee number or ACD identity"), identity)
    period: str | None = None
    raw_period = cell("period")
    if not raw_period:
        reject("period", N_("period is empty"))
    else:
        try:
            period = normalize_period(raw_period)
        except ValueError:
            reject("period", N_("not a month or quarter (write 2026-10 or 2026-Q4)"), raw_period)
    raw_metric = cell("metric")
    metric_id = metrics.get(fold_header(raw_metric)) if raw_metric else None
    if not raw_metric:
        reject("metric", N_("metric is empty"))
    elif metric_id is None:
        reject(
            "metric",
            N_("unknown metric (use a ladder metric such as qa_score or an agent KPI id)"),
            raw_metric,
        )
    value: float | None = None
    raw_value = cell("value")
    if not raw_value:
        reject("value", N_("value is empty"))
    else:
        try:
            value = _number(raw_value, metric_id)
        except ValueError:
            reject("value", N_("not a number"), raw_value)
        else:
            bounds = _bounds(metric_id) if metric_id else None
            if bounds is not None:
                low, high = bounds
                if value < low or (high is not None and value > high):
                    reject(
                        "value",
                        N_("{metric} must be between {low} and {high}")
                        if high is not None
                        else N_("{metric} cannot be below {low}"),
                        raw_value,
                        metric=metric_id,
                        low=f"{low:g}",
                        high=f"{high:g}" if high is not None else "",
                    )
    sample_size: int | None = None
    raw_sample = cell("sample_size")
    if not raw_sample:
        reject("sample_size", N_("sample size is empty"))
    elif not _INTEGER.match(raw_sample.replace(",", "")):
        reject("sample_size", N_("sample size must be a whole number of 0 or more"), raw_sample)
    else:
        sample_size = int(raw_sample.replace(",", ""))
    if agent_id is not None and period is not None and metric_id is not None:
        key = (agent_id, period, metric_id)
        if key in seen:
            reject(
                "agent",
                N_("the same agent, period and metric also appear in row {row}"),
                identity,
                row=seen[key],
            )
        else:
            seen[key] = number
    if (
        len(rejected) > before
        or agent_id is None
        or period is None
        or metric_id is None
        or value is None
        or sample_size is None
    ):
        return None
    return _Row(number, agent_id, period, metric_id, value, sample_size, cell("name"))


def import_external_evidence(
    *,
    session: Session,
    data: bytes,
    file_name: str,
    encoding: str | None = None,
    dry_run: bool = False,
    imported_by: User | None = None,
    source: str | None = None,
) -> EvidenceImportReport:
    """Import per-agent, per-period facts from a CSV/XLSX file: all rows, or none when any is
    rejected (`dry_run`: only report). `source` defaults to the file's name. A file that cannot
    be read at all raises TableFileError."""
    table = read_table(data, file_name, encoding)
    base_name = Path(file_name).name or "evidence"
    source_text = (source or base_name).strip()[:255] or base_name[:255]
    rejected: list[EvidenceIssue] = []
    warnings: list[EvidenceIssue] = []
    columns = _map_columns(table.header, rejected, warnings)
    data_rows = [(number, cells) for number, cells in table.rows if any(cells)]
    rows: list[_Row] = []
    if not rejected:
        resolve = org_service.identity_resolver(session=session)
        metrics = _metric_lookup()
        seen: dict[tuple[int, str, str], int] = {}
        for number, cells in data_rows:
            checked = _check_row(
                number, cells, table.header, columns, resolve, metrics, seen, rejected
            )
            if checked is not None:
                rows.append(checked)
        if not data_rows:
            rejected.append(
                EvidenceIssue(row=None, column=None, reason=N_("the file has no data rows"))
            )
    stored = replaced = unchanged = 0
    existing: dict[tuple[int, str, str], ExternalEvidence] = {}
    if rows:
        agent_ids = sorted({row.agent_id for row in rows})
        names = {
            a.id: a.name for a in org_service.agents_by_ids(session=session, agent_ids=agent_ids)
        }
        for start in range(0, len(agent_ids), _IN_CHUNK):
            chunk = agent_ids[start : start + _IN_CHUNK]
            for fact in session.scalars(
                select(ExternalEvidence).where(
                    ExternalEvidence.agent_id.in_(chunk),
                    ExternalEvidence.period.in_(sorted({row.period for row in rows})),
                )
            ):
                existing[(fact.agent_id, fact.period, fact.metric_id)] = fact
        for row in rows:
            if row.name and fold_header(row.name) != fold_header(names.get(row.agent_id, "")):
                warnings.append(
                    EvidenceIssue(
                        row=row.row,
                        column=table.header[columns["name"]],
                        reason=N_("the name differs from the agent's name ({name})"),
                        value=row.name,
                        params={"name": names.get(row.agent_id, "")},
                    )
                )
            old = existing.get((row.agent_id, row.period, row.metric_id))
            if old is None:
                stored += 1
            elif (old.value, old.sample_size, old.source) == (
                row.value,
                row.sample_size,
                source_text,
            ):
                unchanged += 1
            else:
                replaced += 1
    apply = not dry_run and not rejected
    if apply:
        when = utcnow()
        by = imported_by.id if imported_by else None
        for row in rows:
            old = existing.get((row.agent_id, row.period, row.metric_id))
            if old is None:
                session.add(
                    ExternalEvidence(
                        agent_id=row.agent_id,
                        period=row.period,
                        metric_id=row.metric_id,
                        value=row.value,
                        sample_size=row.sample_size,
                        source=source_text,
                        imported_at=when,
                        imported_by_user_id=by,
                    )
                )
            elif (old.value, old.sample_size, old.source) != (
                row.value,
                row.sample_size,
                source_text,
            ):
                old.value, old.sample_size, old.source = row.value, row.sample_size, source_text
                old.imported_at, old.imported_by_user_id = when, by
        session.flush()
    rejected.sort(key=lambda issue: issue.row or 0)
    warnings.sort(key=lambda issue: issue.row or 0)
    return EvidenceImportReport(
        file_name=base_name,
        file_sha256=hashlib.sha256(data).hexdigest(),
        encoding=table.encoding,
        source=source_text,
        columns={name: table.header[index] for name, index in columns.items()},
        rows_read=len(data_rows),
        stored=stored,
        replaced=replaced,
        unchanged=unchanged,
        rejected=rejected,
        warnings=warnings,
        dry_run=dry_run,
        applied=apply,
    )


def report_summary(report: EvidenceImportReport, language: Language = "en") -> str:
    """The report as plain lines: counts, then every rejected row and warning."""
    verdict = (
        "dry run: nothing written"
        if report.dry_run
        else "imported"
        if report.applied
        else "nothing imported: correct the rejected rows and import again"
    )
    lines = [
        f"{report.file_name} ({report.encoding}): {report.rows_read} rows read, "
        f"{report.stored} new, {report.replaced} replaced, {report.unchanged} unchanged, "
        f"{len(report.rejected)} rejected; {verdict}"
    ]
    for kind, issues in (("rejected", report.rejected), ("warning", report.warnings)):
        for issue in issues:
            where = f"row {issue.row}" if issue.row is not None else "file"
            column = f", {issue.column}" if issue.column else ""
            value = f' "{issue.value}"' if issue.value else ""
            lines.append(f"  {kind}: {where}{column}{value}: {issue.text(language)}")
    return "\n".join(lines)


# --- reading the facts ---------------------------------------------------------------------


def _label(period: str) -> str:
    return parse_period(period).label


def external_facts(*, session: Session, period: str) -> list[ExternalFact]:
    """Every fact stored for exactly this period (a quarter's facts are not its months'),
    by agent and metric."""
    return external_facts_between(session=session, periods=[period])[_label(period)]


def external_facts_between(
    *, session: Session, periods: list[str], metrics: Collection[str] | None = None
) -> dict[str, list[ExternalFact]]:
    """The facts (all, or of the metrics named) of several periods (a window), by period
    label; every period asked about has an entry, empty when nothing was imported for it."""
    labels = list(dict.fromkeys(_label(period) for period in periods))
    found: dict[str, list[ExternalFact]] = {label: [] for label in labels}
    if not labels:
        return found
    # Columns, not entities: a ladder run reads a year of facts for every agent, and loading
    # them as ORM objects cost about eight times as much (benchmarks/LADDER.md).
    query = select(
        ExternalEvidence.period,
        ExternalEvidence.agent_id,
        ExternalEvidence.metric_id,
        ExternalEvidence.value,
        ExternalEvidence.sample_size,
        ExternalEvidence.source,
    ).where(ExternalEvidence.period.in_(labels))
    if metrics is not None:
        query = query.where(ExternalEvidence.metric_id.in_(list(metrics)))
    rows = session.execute(
        query.order_by(
            ExternalEvidence.period, ExternalEvidence.agent_id, ExternalEvidence.metric_id
        )
    )
    for period, agent_id, metric_id, value, sample_size, source in rows:
        found[period].append(ExternalFact(agent_id, metric_id, value, sample_size, source))
    return found
