"""Query parameters every page reads the same way, parsed once at the boundary."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Form, Path, Query

from agentladder.periods import PERIOD_PATTERN, Period, parse_period

# Primary keys are PostgreSQL `integer` (32-bit): a larger number in a URL is a 422, never an
# out-of-range error deep in SQL (which only PostgreSQL raises; SQLite just finds no row).
MAX_ROW_ID = 2**31 - 1
MAX_PAGE = 1_000_000
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE)]
OptionalRowIdQuery = Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)]


# The OpenAPI document shows the format; parse_period checks it, with a message naming it.
def _period_query() -> Any:
    return Query(max_length=12, json_schema_extra={"pattern": PERIOD_PATTERN})


def optional_period(period: Annotated[str | None, _period_query()] = None) -> Period | None:
    """The `period` query parameter (2026-10, 2026-Q4, 2026-W41, 2026-10-08) as a Period; None
    when absent or empty. A period that does not parse is a 400 naming it."""
    return parse_period(period) if period and period.strip() else None


def required_period(period: Annotated[str, _period_query()]) -> Period:
    """The `period` query parameter as a Period (a 400 naming it when it does not parse)."""
    return parse_period(period)


def form_period(period: Annotated[str, Form(min_length=1, max_length=12)]) -> Period:
    """A form's `period` field as a Period (a 400 naming it when it does not parse)."""
    return parse_period(period)


OptionalPeriod = Annotated[Period | None, Depends(optional_period)]
RequiredPeriod = Annotated[Period, Depends(required_period)]
FormPeriod = Annotated[Period, Depends(form_period)]
# A table's sort column: a column key (unknown keys fall back to the table's default order).
SortKey = Annotated[str | None, Query(max_length=40, pattern=r"^[a-z0-9_]+$")]
