"""The one formatting layer: values by their metric unit, moments in the centre's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from agentladder.formatting import (
    format_date,
    format_datetime,
    format_duration,
    format_figure,
    format_flag,
    format_number,
    format_value,
    kind_of_unit,
    name_sort_key,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_values_are_written_by_their_unit() -> None:
    assert format_value(0.859, "rate", "en") == "85.9%"
    assert format_value(263, "s", "en") == "4:23"
    assert format_value(681_035, "s", "en") == "189 h 10 m"
    assert format_value(681_035, "s", "zh_Hans") == "189小时10分"
    assert format_value(1_234_567, "count", "en") == "1,234,567"
    assert format_value(87.54, "score", "zh_Hans") == "87.5"
    # Course hours keep their half hour: 3.5 was written "4" as a count.
    assert format_value(3.5, "hours", "en") == "3.5 h"
    assert format_value(1_240.5, "hours", "zh_Hans") == "1,240.5小时"
    assert format_value(12, "hours", "en") == "12 h"
    assert format_value(None, "rate", "en") == "—"
    assert format_value(float("nan"), "s", "en") == "—"


def test_kinds_of_numbers() -> None:
    assert format_number(40, "plain", "en") == "40"
    assert format_number(12.5, "plain", "en") == "12.5"
    assert format_number(3, "decimal2", "en") == "3.00"
    assert kind_of_unit("no-such-unit") == "decimal2"


def test_no_python_value_reaches_a_reader() -> None:
    assert format_flag(True, "en") == "Yes"
    assert format_flag(False, "zh_Hans") == "否"


def test_a_moment_is_shown_in_the_centres_zone() -> None:
    # A file of 11-01 .. 11-30 in Shanghai starts at 10-31 16:00 UTC.
    start = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert format_date(start, "en", SHANGHAI) == "Nov 1, 2026"
    assert format_datetime(start, "en", SHANGHAI) == "Nov 1, 2026 00:00"
    # Stored moments come back naive from SQLite: they are UTC.
    assert format_datetime(start.replace(tzinfo=None), "zh_Hans", SHANGHAI) == "2026年11月1日 00:00"
    assert format_date(date(2026, 11, 30), "zh_Hans") == "2026年11月30日"


@given(st.integers(min_value=0, max_value=3599))
def test_durations_under_an_hour_read_as_a_clock(seconds: int) -> None:
    minutes, secs = format_duration(seconds, "en").split(":")
    assert int(minutes) * 60 + int(secs) == seconds


@given(st.integers(min_value=3600, max_value=10**8))
def test_longer_durations_keep_every_whole_minute(seconds: int) -> None:
    hours_text, _, minutes_text, _ = format_duration(seconds, "en").split(" ")
    assert int(hours_text.replace(",", "")) * 60 + int(minutes_text) == seconds // 60


def test_names_order_numbers_by_value_in_digits_or_chinese() -> None:
    names = ["客服十组", "客服二组", "客服一组", "客服十二组", "T10", "T2", "客服一百零五组", "t3"]
    assert sorted(names, key=name_sort_key) == [
        "T2",
        "t3",
        "T10",
        "客服一组",
        "客服二组",
        "客服十组",
        "客服十二组",
        "客服一百零五组",
    ]
    assert name_sort_key("二十三") == ((0, 23, ""),)


def test_a_figure_formats_its_numbers_by_their_names_in_the_readers_language() -> None:
    message = "Silent for {silent_share} of the call ({duration_s})"
    params = {"silent_share": 0.23, "duration_s": 85}
    assert format_figure(message, params, "en") == "Silent for 23.0% of the call (1:25)"
    chinese = format_figure(message, params, "zh_Hans")
    assert "23.0%" in chinese
    assert "1:25" in chinese
    assert chinese != format_figure(message, params, "en")
    assert format_figure("Polite phrases: {count}", {"count": 12}, "en") == "Polite phrases: 12"
