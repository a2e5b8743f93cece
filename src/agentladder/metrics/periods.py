"""Reporting periods (day, ISO week, month, quarter) in the centre's time zone."""

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


def _month_start(year: int, month: int) -> date:
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def parse_period(label: str) -> Period:
    """A period from its label: 2026-10 (month), 2026-Q4, 2026-W41 (ISO week), 2026-10-08."""
    text = label.strip()
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


def periods_between(kind: str, first: date, last: date) -> list[Period]:
    """Every period of a kind that overlaps [first, last]."""
    labels: list[str] = []
    day = first
    while day <= last:
        if kind == "day":
            labels.append(day.isoformat())
        elif kind == "week":
            iso = day.isocalendar()
            labels.append(f"{iso.year}-W{iso.week:02d}")
        elif kind == "month":
            labels.append(f"{day.year}-{day.month:02d}")
        elif kind == "quarter":
            labels.append(f"{day.year}-Q{(day.month - 1) // 3 + 1}")
        else:
            raise InvalidInput("unknown period kind {kind}", kind=kind)
        day += timedelta(days=1)
    return [parse_period(label) for label in dict.fromkeys(labels)]
