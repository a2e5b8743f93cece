"""Values as people read them, the same on pages, in exports, PDFs and the CLI.

A metric's unit (from the registry) decides how its value is written: rates as percent,
durations as m:ss or hours and minutes, counts grouped, scores with one decimal. Moments are
always shown in the centre's time zone, never in UTC.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, tzinfo
from typing import Literal

from babel.dates import format_date as _babel_format_date
from babel.numbers import format_decimal, format_percent

from agentladder.config import Language
from agentladder.i18n import N_, babel_locale, translate

# How a number is written; a metric unit maps to one of these (`kind_of_unit`).
NumberKind = Literal[
    "int",
    "plain",
    "decimal1",
    "decimal2",
    "decimal3",
    "percent",
    "duration",
    "hours",
    "points",
    "per_thousand_calls",
    "score",
    "signed_score",
]

MISSING = "—"

_DECIMAL_PATTERNS = {
    "int": "#,##0",
    "plain": "#,##0.##",  # as many decimals as it has, up to two (weights: 40, 12.5)
    "decimal1": "#,##0.0",
    "decimal2": "#,##0.00",
    "decimal3": "#,##0.000",  # agreement coefficients (Krippendorff's alpha 0.667)
    "score": "#,##0.0",
    "signed_score": "+#,##0.0;-#,##0.0",  # an effect or a change: +3.2, -1.5
}

# Registry units (`metrics.schemas.Unit`) and the kinds they are written in.
_UNIT_KINDS: dict[str, NumberKind] = {
    "rate": "percent",
    "s": "duration",
    "count": "int",
    "score": "score",
    "ratio": "decimal2",
    "hours": "hours",
    "points": "points",
    "per_1000_calls": "per_thousand_calls",
}


def kind_of_unit(unit: str) -> NumberKind:
    """How a value of this metric unit is written (unknown units get two decimals)."""
    return _UNIT_KINDS.get(unit, "decimal2")


def format_number(value: float | int | None, kind: NumberKind, language: Language) -> str:
    """A number in the reader's locale: grouped, percent, duration, or with fixed decimals."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return MISSING
    locale = babel_locale(language)
    if kind == "percent":
        return str(format_percent(value, format="#,##0.0%", locale=locale))
    if kind == "duration":
        return format_duration(value, language)
    if kind == "hours":
        hours = format_decimal(value, format="#,##0.#", locale=locale)
        return translate(language, "{hours} h", hours=hours)
    if kind == "points":
        points = format_decimal(value, format="#,##0.#", locale=locale)
        if value == 1:
            return translate(language, "{points} pt", points=points)
        return translate(language, "{points} pts", points=points)
    if kind == "per_thousand_calls":
        rate = format_decimal(value, format="#,##0.00", locale=locale)
        return translate(language, "{rate} per 1,000 calls", rate=rate)
    return str(format_decimal(value, format=_DECIMAL_PATTERNS[kind], locale=locale))


def format_figure(message: str, params: Mapping[str, float], language: Language) -> str:
    """A sentence with measured numbers in the reader's language: params named `*_share` as
    percentages, `*_s` as durations, the others as plain numbers."""
    shown = {
        name: format_number(
            value,
            "percent"
            if name.endswith("_share")
            else "duration"
            if name.endswith("_s")
            else "plain",
            language,
        )
        for name, value in params.items()
    }
    return translate(language, message, **shown)


def format_value(value: float | int | None, unit: str, language: Language) -> str:
    """A metric's value written by its unit (85.9%, 4:23, 189 h 10 m, 1,234, 87.5, 3.5 h)."""
    return format_number(value, kind_of_unit(unit), language)


def format_duration(seconds: float, language: Language) -> str:
    """Under an hour as m:ss (263 -> 4:23); an hour or more as hours and minutes
    (681,035 -> 189 h 10 m; 189小时10分 in Chinese)."""
    negative = seconds < 0
    total = round(abs(seconds))
    sign = "-" if negative and total else ""
    if total < 3600:
        minutes, secs = divmod(total, 60)
        return f"{sign}{minutes}:{secs:02d}"
    total_minutes = total // 60  # whole minutes done, as a clock shows them
    hours, minutes = divmod(total_minutes, 60)
    hours_text = str(format_decimal(hours, format="#,##0", locale=babel_locale(language)))
    return sign + translate(language, "{hours} h {minutes} m", hours=hours_text, minutes=minutes)


def format_date(
    value: date | datetime | None, language: Language, zone: tzinfo | None = None
) -> str:
    """A date in the reader's language (2026年11月1日 / Nov 1, 2026); a moment is first moved
    to the centre's zone, so a file's 11-01 00:00 stays 11-01."""
    if value is None:
        return ""
    day = local_date(value, zone) if isinstance(value, datetime) else value
    return str(_babel_format_date(day, format="medium", locale=babel_locale(language)))


def format_datetime(value: datetime | None, language: Language, zone: tzinfo | None) -> str:
    """A moment in the centre's time zone, to the minute (2026年11月1日 08:05 /
    Nov 1, 2026 08:05)."""
    if value is None:
        return ""
    moment = local_moment(value, zone)
    return f"{format_date(moment.date(), language)} {moment:%H:%M}"


def local_moment(value: datetime, zone: tzinfo | None) -> datetime:
    """A stored moment (naive means UTC, as the database keeps them) in the centre's zone."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(zone) if zone is not None else aware


def local_date(value: datetime, zone: tzinfo | None) -> date:
    """The centre's calendar day of a stored moment."""
    return local_moment(value, zone).date()


def format_flag(value: bool, language: Language) -> str:
    """Yes or No in the reader's language, never Python's True/False."""
    return translate(language, N_("Yes") if value else N_("No"))


_CHINESE_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_CHINESE_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
_NUMBER_RUN = re.compile(r"[0-9]+|[零〇一二两三四五六七八九十百]+")


def _chinese_number(text: str) -> int:
    # 十二 = 12, 二十 = 20, 一百零五 = 105: units 十 and 百 multiply what precedes them.
    total, digit = 0, 0
    for char in text:
        if char == "百":
            total += (digit or 1) * 100
            digit = 0
        elif char == "十":
            total += (digit or 1) * 10
            digit = 0
        else:
            digit = digit * 10 + _CHINESE_DIGITS[char] if digit else _CHINESE_DIGITS[char]
    return total + digit


def name_sort_key(name: str) -> tuple[tuple[int, int, str], ...]:
    """A name as people order names: numbers by value, written in digits or in Chinese
    (客服二组 before 客服十组, T2 before T10), the rest without case."""
    parts: list[tuple[int, int, str]] = []
    position = 0
    for match in _NUMBER_RUN.finditer(name):
        if match.start() > position:
            parts.append((1, 0, name[position : match.start()].casefold()))
        run = match.group()
        parts.append((0, int(run) if run.isdigit() else _chinese_number(run), ""))
        position = match.end()
    if position < len(name):
        parts.append((1, 0, name[position:].casefold()))
    return tuple(parts)
