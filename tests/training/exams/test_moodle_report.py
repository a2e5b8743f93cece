"""The cells of Moodle's quiz Grades report: times and durations as English and Chinese sites
write them, and nothing else taken for one."""

from __future__ import annotations

from datetime import datetime

import pytest

from agentladder.training.exams import moodle_report


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5 March 2026, 10:02 AM", datetime(2026, 3, 5, 10, 2)),
        ("5 March 2026  10:02 AM", datetime(2026, 3, 5, 10, 2)),
        ("Thursday, 5 March 2026, 12:05 AM", datetime(2026, 3, 5, 0, 5)),
        ("5 Mar 2026, 12:30 PM", datetime(2026, 3, 5, 12, 30)),
        ("March 5, 2026, 10:02 PM", datetime(2026, 3, 5, 22, 2)),
        ("2026年03月5日 10:02", datetime(2026, 3, 5, 10, 2)),
        ("2026年3月5日 星期四 下午 2:02", datetime(2026, 3, 5, 14, 2)),
        ("2026-03-05 10:02:30", datetime(2026, 3, 5, 10, 2, 30)),
        ("31 February 2026, 10:02 AM", None),
        ("yesterday", None),
    ],
)
def test_moodle_times(text: str, expected: datetime | None) -> None:
    assert moodle_report.parse_moodle_time(text) == expected


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("29 mins 10 secs", 1750),
        ("1 hour 5 mins", 3900),
        ("1 day 2 hours", 93600),
        ("45 secs", 45),
        ("29 分钟 10 秒", 1750),
        ("1 小时 5 分钟", 3900),
        ("-", None),
        ("soon", None),
    ],
)
def test_moodle_durations(text: str, seconds: int | None) -> None:
    assert moodle_report.parse_duration(text) == seconds
