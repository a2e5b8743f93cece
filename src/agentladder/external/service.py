"""External evidence: per-agent, per-period results brought from other tools (QA, exams, the
knowledge base) as CSV/XLSX, so centres can use them before those subsystems live here.

A file has one row per agent, period and metric: 工号/agent (employee number or any ACD
identity), 周期/period (2026-10 or 2026-Q4), 指标/metric (a ladder metric such as `qa_score`
or an agent KPI id), 值/value, 样本量/sample_size. Every row is checked before anything is
written, and a file with any rejected row stores nothing. Importing a row again replaces the
stored agent + period + metric (value, sample size and source); identical rows stay as they are.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from agentladder.config import Language
from agentladder.db import in_chunks, utcnow
from agentladder.errors import InvalidInput
from agentladder.external.models import ExternalEvidence
from agentladder.i18n import N_
from agentladder.imports import pipeline
from agentladder.imports.columns import AGENT_COLUMN, NAME_COLUMN, name_differs, row_agent
from agentladder.imports.schemas import ImportIssue, ImportResult, RowPlan
from agentladder.imports.spec import (
    CellError,
    Column,
    Importer,
    ImportRun,
    ParsedRow,
    Planned,
    Problems,
    whole_number_cell,
)
from agentladder.metrics import service as metrics_service
from agentladder.org import service as org_service
from agentladder.periods import parse_period
from agentladder.tabular import cell_text, fold_header

if TYPE_CHECKING:
    from agentladder.org.models import User

# The ladder decides per month or quarter; days and weeks are not its periods.
PERIOD_KINDS = frozenset({"month", "quarter"})
_PERIOD_SPELLINGS = (
    (re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$"), "{0}-{1:0>2}"),  # 2026/10, 2026年10月
    (re.compile(r"^(\d{4})(\d{2})$"), "{0}-{1}"),  # 202610
    (re.compile(r"^(\d{4})\s*[-/ ]?\s*q([1-4])$", re.IGNORECASE), "{0}-Q{1}"),  # 2026Q4, 2026 q4
    (re.compile(r"^(\d{4})\s*年?\s*第?\s*([1-4一二三四])\s*季度?$"), "{0}-Q{1}"),  # 2026年第4季度
    # A month typed into Excel becomes a date cell on the month's first day.
    (re.compile(r"^(\d{4})-(\d{2})-01(?: 00:00:00)?$"), "{0}-{1}"),
)
_CHINESE_DIGITS = {"一": "1", "二": "2", "三": "3", "四": "4"}


def accepted_metrics() -> dict[str, str]:
    """Metric ids an import accepts, with their English names: every metric of the registry,
    the subsystems' (quality, exams, knowledge: what other tools send most) before the KPIs."""
    definitions = sorted(
        metrics_service.metric_definitions().values(),
        key=lambda d: d.subsystem == metrics_service.KPI_SUBSYSTEM,
    )
    return {d.id: d.en for d in definitions}


def _metric_lookup() -> dict[str, str]:
    """Metric ids by folded id and folded Chinese and English names."""
    return _lookup_of(metrics_service.registry_generation())


@lru_cache(maxsize=4)
def _lookup_of(generation: int) -> dict[str, str]:
    # Keyed by the registry's generation: a provider registered later makes a new lookup.
    definitions = metrics_service.metric_definitions().values()
    lookup = {fold_header(d.id): d.id for d in definitions}
    for definition in definitions:
        lookup.setdefault(fold_header(definition.zh), definition.id)
        lookup.setdefault(fold_header(definition.en), definition.id)
    return lookup


def _bounds(metric_id: str) -> tuple[float, float | None] | None:
    definition = metrics_service.metric_definition(metric_id)
    return definition.bounds if definition else None


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


# --- the importer --------------------------------------------------------------------------


def _period_cell(text: str) -> str:
    try:
        return normalize_period(text)
    except ValueError as exc:
        raise CellError(N_("not a month or quarter (write 2026-10 or 2026-Q4)")) from exc


def _metric_cell(text: str) -> str:
    metric_id = _metric_lookup().get(fold_header(text))
    if metric_id is None:
        raise CellError(
            N_("unknown metric (use a ladder metric such as qa_score or an agent KPI id)")
        )
    return metric_id


COLUMNS = (
    AGENT_COLUMN,
    Column(
        "period",
        label=N_("Period"),
        zh=("周期", "统计周期", "期间", "考核周期", "月份", "季度"),
        en=("period", "month", "quarter"),
        example="2026-10",
        help=N_("A month or quarter: 2026-10, 2026年10月, 2026-Q4 or 2026年第四季度."),
        required=True,
        if_empty=N_("period is empty"),
        parse=_period_cell,
    ),
    Column(
        "metric",
        label=N_("Metric"),
        zh=("指标", "指标代码", "指标id", "指标编码"),
        en=("metric", "metric_id", "metric id", "kpi"),
        example="qa_score",
        help=N_("A ladder metric (qa_score, qa_fatal_errors, exam_score...) or an agent KPI."),
        required=True,
        if_empty=N_("metric is empty"),
        parse=_metric_cell,
    ),
    Column(
        "value",
        label=N_("Value"),
        zh=("值", "数值", "指标值", "结果"),
        en=("value", "result"),
        example="88.5",
        help=N_("The value: 85.5, 1,234, and for rates also 95%."),
        required=True,
        if_empty=N_("value is empty"),
    ),
    Column(
        "sample_size",
        label=N_("Sample size"),
        zh=("样本量", "样本数", "样本", "样本数量"),
        en=("sample size", "sample_size", "samples", "sample", "n"),
        example="12",
        help=N_("How many calls, evaluations or exams the value rests on."),
        required=True,
        if_empty=N_("sample size is empty"),
        parse=whole_number_cell(N_("sample size must be a whole number of 0 or more")),
    ),
    NAME_COLUMN,
)


class EvidenceRowPlan(RowPlan):
    """What importing one row does to the stored agent + period + metric fact."""

    agent_id: int
    employee_no: str
    name: str
    period: str
    metric_id: str
    value: float
    sample_size: int
    source: str


@dataclass(frozen=True)
class EvidenceOptions:
    """Where the facts come from (default: the file's name)."""

    source: str | None = None


def _source(run: ImportRun[EvidenceOptions]) -> str:
    return (run.options.source or run.file_name).strip()[:255] or run.file_name[:255]


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


def _value(row: ParsedRow, problems: Problems) -> float | None:
    """The value cell, read for its metric (a rate may be 95%) and within the metric's bounds."""
    raw, metric_id = row.text("value"), row.value("metric")
    if not raw:
        return None
    try:
        value = _number(raw, metric_id)
    except ValueError:
        problems.add(row.number, "value", N_("not a number"), raw)
        return None
    bounds = _bounds(metric_id) if metric_id else None
    if bounds is not None:
        low, high = bounds
        if value < low or (high is not None and value > high):
            problems.add(
                row.number,
                "value",
                N_("{metric} must be between {low} and {high}")
                if high is not None
                else N_("{metric} cannot be below {low}"),
                raw,
                metric=metric_id,
                low=f"{low:g}",
                high=f"{high:g}" if high is not None else "",
            )
            return None
    return value


def _check(
    session: Session, rows: list[ParsedRow], problems: Problems, run: ImportRun[EvidenceOptions]
) -> list[Planned[EvidenceRowPlan]]:
    resolve = org_service.identity_resolver(session=session)
    checked: list[tuple[ParsedRow, int, float]] = []
    for row in rows:
        agent_id = row_agent(problems, row, resolve)
        value = _value(row, problems)
        period, metric_id = row.value("period"), row.value("metric")
        if agent_id is not None and period is not None and metric_id is not None:
            problems.first_row(
                (agent_id, period, metric_id),
                row,
                "agent",
                N_("the same agent, period and metric also appear in row {row}"),
            )
        if agent_id is not None and value is not None and not problems.failed(row.number):
            checked.append((row, agent_id, value))
    source = _source(run)
    agent_ids = sorted({agent_id for _, agent_id, _ in checked})
    agents = {a.id: a for a in org_service.agents_by_ids(session=session, agent_ids=agent_ids)}
    periods = sorted({row.value("period") for row, _, _ in checked})
    existing: dict[tuple[int, str, str], ExternalEvidence] = {}
    for chunk in in_chunks(agent_ids):
        for fact in session.scalars(
            select(ExternalEvidence).where(
                ExternalEvidence.agent_id.in_(chunk),
                ExternalEvidence.period.in_(periods),
            )
        ):
            existing[(fact.agent_id, fact.period, fact.metric_id)] = fact
    planned: list[Planned[EvidenceRowPlan]] = []
    for row, agent_id, value in checked:
        agent = agents[agent_id]
        name_differs(problems, row, agent.name)
        old = existing.get((agent_id, row.value("period"), row.value("metric")))
        sample_size = row.value("sample_size")
        changes: dict[str, tuple[str, str]] = {}
        if old is not None:
            for name, before, after in (
                ("value", old.value, value),
                ("sample_size", old.sample_size, sample_size),
                ("source", old.source, source),
            ):
                if before != after:
                    changes[name] = (cell_text(before), cell_text(after))
        plan = EvidenceRowPlan(
            row=row.number,
            action="create" if old is None else "update" if changes else "unchanged",
            changes=changes,
            agent_id=agent_id,
            employee_no=agent.employee_no,
            name=agent.name,
            period=row.value("period"),
            metric_id=row.value("metric"),
            value=value,
            sample_size=sample_size,
            source=source,
        )
        planned.append(Planned(plan, old))
    return planned


def _apply(
    session: Session, planned: list[Planned[EvidenceRowPlan]], run: ImportRun[EvidenceOptions]
) -> None:
    when = utcnow()
    for item in planned:
        row, old = item.plan, item.record
        if row.action == "create":
            session.add(
                ExternalEvidence(
                    agent_id=row.agent_id,
                    period=row.period,
                    metric_id=row.metric_id,
                    value=row.value,
                    sample_size=row.sample_size,
                    source=row.source,
                    imported_at=when,
                    imported_by_user_id=run.user_id,
                )
            )
        elif row.action == "update":
            old.value, old.sample_size, old.source = row.value, row.sample_size, row.source
            old.imported_at, old.imported_by_user_id = when, run.user_id


EVIDENCE_IMPORTER: Importer[EvidenceOptions, EvidenceRowPlan] = Importer(
    kind="evidence",
    title=N_("External evidence"),
    columns=COLUMNS,
    check=_check,
    apply=_apply,
    words={"create": "new", "update": "replaced", "unchanged": "unchanged", "errors": "rejected"},
)


def import_evidence(
    *,
    session: Session,
    data: bytes,
    file_name: str,
    encoding: str | None = None,
    dry_run: bool = False,
    imported_by: User | None = None,
    source: str | None = None,
) -> ImportResult[EvidenceRowPlan]:
    """Import per-agent, per-period facts from a CSV/XLSX file: all rows, or none when any is
    rejected (`dry_run`: only report). `source` defaults to the file's name. A file that cannot
    be read at all raises TableFileError."""
    return pipeline.run_import(
        EVIDENCE_IMPORTER,
        session=session,
        data=data,
        file_name=file_name,
        encoding=encoding,
        dry_run=dry_run,
        options=EvidenceOptions(source=source),
        user_id=imported_by.id if imported_by else None,
    )


# --- the report ----------------------------------------------------------------------------


EvidenceIssue = ImportIssue  # a rejected row, a problem with the whole file, or a warning


class EvidenceImportReport(BaseModel):
    """What an import did (or, when dry-run or rejected, would have done), in the evidence's
    own words."""

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
    """`import_evidence`, reported as stored, replaced, unchanged and rejected counts."""
    result = import_evidence(
        session=session,
        data=data,
        file_name=file_name,
        encoding=encoding,
        dry_run=dry_run,
        imported_by=imported_by,
        source=source,
    )
    preview = result.preview
    return EvidenceImportReport(
        file_name=preview.file_name,
        file_sha256=preview.file_sha256,
        encoding=preview.encoding,
        source=_source(ImportRun(preview.file_name, None, EvidenceOptions(source))),
        columns=preview.columns,
        rows_read=preview.rows_read,
        stored=preview.count("create"),
        replaced=preview.count("update"),
        unchanged=preview.count("unchanged"),
        rejected=preview.errors,
        warnings=preview.warnings,
        dry_run=dry_run,
        applied=result.applied,
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
    for period, agent_id, metric_id, value, sample_size, source in external_fact_rows(
        session=session, periods=labels, metrics=metrics
    ):
        found[period].append(ExternalFact(agent_id, metric_id, value, sample_size, source))
    return found


def external_fact_rows(
    *, session: Session, periods: Collection[str], metrics: Collection[str] | None = None
) -> Iterator[tuple[str, int, str, float, int, str]]:
    """The stored facts of these period labels (all, or of the metrics named) as plain rows
    (period, agent, metric, value, sample size, source), by period, agent and metric: what
    the ladder's provider turns into facts without an object in between."""
    if not periods:
        return iter(())
    # Columns, not entities: a ladder run reads a year of facts for every agent, and loading
    # them as ORM objects cost about eight times as much (benchmarks/LADDER.md).
    query = select(
        ExternalEvidence.period,
        ExternalEvidence.agent_id,
        ExternalEvidence.metric_id,
        ExternalEvidence.value,
        ExternalEvidence.sample_size,
        ExternalEvidence.source,
    ).where(ExternalEvidence.period.in_(list(periods)))
    if metrics is not None:
        query = query.where(ExternalEvidence.metric_id.in_(list(metrics)))
    query = query.order_by(
        ExternalEvidence.period, ExternalEvidence.agent_id, ExternalEvidence.metric_id
    )
    # Through the session's connection, not its ORM execution (a quarter of the read's time
    # for plain rows); flushed first, as the ORM's execution would have been.
    if session.autoflush:
        session.flush()
    return iter(session.connection().execute(query))
