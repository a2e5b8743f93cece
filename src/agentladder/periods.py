"""Reporting periods (day, ISO week, month, quarter) in the centre's time zone.

A period is parsed once, where it comes in (a command's option, a page's query parameter),
into a `Period` value; services take that value and do their arithmetic on it, never on the
label's characters."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from agentladder.errors import InvalidInput

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$", re.IGNORECASE)
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
# What a period label looks like, for the OpenAPI document (parse_period is the judge).
PERIOD_PATTERN = r"^\d{4}-(\d{2}|[Qq][1-4]|[Ww]\d{2}|\d{2}-\d{2})$"
# No call centre has data outside these years; a period there is a typo. The bounds keep the
# arithmetic on it in range: neighbouring periods (`previous`, `back`) and the metrics engine's
# nanosecond timestamps, which end in 2262 (9999-12-31 once answered with a server error).
FIRST_YEAR = 1900
LAST_YEAR = 2199


@dataclass(frozen=True)
class Period:
    """A named period and its local first and last-plus-one days."""

    kind: str  # day | week | month | quarter
    label: str  # 2026-10-08 | 2026-W41 | 2026-10 | 2026-Q4
    first_day: date
    end_day: date  # exclusive

    def bounds_utc(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The period as a half-open UTC interval [start, end)."""
        start = datetime.combine(self.first_day, time(), zone).astimezone(UTC)
        end = datetime.combine(self.end_day, time(), zone).astimezone(UTC)
        return start, end

    @property
    def last_day(self) -> date:
        """The period's last day."""
        return self.end_day - timedelta(days=1)

    def __str__(self) -> str:
        return self.label

    def __contains__(self, day: object) -> bool:
        """Whether a day (or a whole period) lies inside this period."""
        if isinstance(day, Period):
            return self.first_day <= day.first_day and day.end_day <= self.end_day
        if isinstance(day, datetime):
            day = day.date()
        return isinstance(day, date) and self.first_day <= day < self.end_day

    def previous(self) -> Period:
        """The period of the same kind just before this one."""
        day_before = self.first_day - timedelta(days=1)
        return period_of(self.kind, day_before)

    def back(self, count: int) -> list[Period]:
        """This period and the `count - 1` of its kind before it, newest first."""
        periods = [self]
        while len(periods) < count:
            periods.append(periods[-1].previous())
        return periods

    def months_back(self, count: int) -> list[Period]:
        """`count` months from the period's last month back, newest first."""
        return period_of("month", self.last_day).back(count)

    def quarter(self) -> Period:
        """The quarter the period's last day falls in."""
        return period_of("quarter", self.last_day)

    def closes_quarter(self) -> bool:
        """Whether the period ends where its quarter ends (a quarter, or its last month)."""
        return self.end_day == self.quarter().end_day


def _month_start(year: int, month: int) -> date:
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def parse_period(label: str | Period) -> Period:
    """A period from its label: 2026-10 (month), 2026-Q4, 2026-W41 (ISO week), 2026-10-08 (a
    Period is returned as it is)."""
    if isinstance(label, Period):
        return label
    text = label.strip()
    year_text = text[:4]
    if year_text.isdigit() and not FIRST_YEAR <= int(year_text) <= LAST_YEAR:
        raise InvalidInput(
            "period {period} lies outside the years {first} to {last}",
            period=label,
            first=FIRST_YEAR,
            last=LAST_YEAR,
        )
    try:
        if match := _MONTH.match(text):
            year, month = int(match[1]), int(match[2])
            first = date(year, month, 1)
            return Period("month", f"{year}-{month:02d}", first, _month_start(year, month + 1))
        if match := _QUARTER.match(text):
            year, quarter = int(match[1]), int(match[2])
            first = date(year, 3 * quarter - 2, 1)
            return Period(
                "quarter", f"{year}-Q{quarter}", first, _month_start(year, 3 * quarter + 1)
            )
        if match := _WEEK.match(text):
            first = date.fromisocalendar(int(match[1]), int(match[2]), 1)
            return Period(
                "week", f"{int(match[1])}-W{int(match[2]):02d}", first, first + timedelta(7)
            )
        if match := _DAY.match(text):
            first = date(int(match[1]), int(match[2]), int(match[3]))
            return Period("day", first.isoformat(), first, first + timedelta(1))
    except ValueError:
        pass
    raise InvalidInput(
        "unknown period {period}: write 2026-10, 2026-Q4, 2026-W41 or 2026-10-08", period=label
    )


def period_of(kind: str, day: date) -> Period:
    """The period of a kind that holds a day."""
    if kind == "day":
        return Period("day", day.isoformat(), day, day + timedelta(1))
    if kind == "week":
        first = day - timedelta(days=day.weekday())
        iso = first.isocalendar()
        return Period("week", f"{iso.year}-W{iso.week:02d}", first, first + timedelta(7))
    if kind == "month":
        first = date(day.year, day.month, 1)
        return Period(
            "month", f"{day.year}-{day.month:02d}", first, _month_start(day.year, day.month + 1)
        )
    if kind == "quarter":
        quarter = (day.month - 1) // 3 + 1
        first = date(day.year, 3 * quarter - 2, 1)
        return Period(
            "quarter", f"{day.year}-Q{quarter}", first, _month_start(day.year, 3 * quarter + 1)
        )
    raise InvalidInput("unknown period kind {kind}", kind=kind)


def periods_between(kind: str, first: date, last: date) -> list[Period]:
    """Every period of a kind that overlaps [first, last], oldest first."""
    periods: list[Period] = []
    if first > last:
        return periods
    period = period_of(kind, first)
    while period.first_day <= last:
        periods.append(period)
        period = period_of(kind, period.end_day)
    return periods
