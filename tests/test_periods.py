"""Periods as values: every kind's arithmetic agrees with its label and its days."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentladder.errors import InvalidInput
from agentladder.periods import parse_period, period_of, periods_between

KINDS = st.sampled_from(["day", "week", "month", "quarter"])
DAYS = st.dates(min_value=date(2001, 1, 1), max_value=date(2098, 12, 31))


@given(KINDS, DAYS)
def test_the_period_of_a_day_holds_it_and_reads_back_from_its_label(kind: str, day: date) -> None:
    period = period_of(kind, day)
    assert day in period
    assert period.first_day <= day <= period.last_day
    assert parse_period(period.label) == period
    assert str(period) == period.label


@given(KINDS, DAYS, st.integers(1, 14))
def test_previous_and_back_step_without_gaps(kind: str, day: date, count: int) -> None:
    period = period_of(kind, day)
    before = period.previous()
    assert before.kind == kind
    assert before.end_day == period.first_day
    chain = period.back(count)
    assert len(chain) == count
    assert all(newer.first_day == older.end_day for newer, older in itertools.pairwise(chain))


@given(KINDS, DAYS, st.integers(1, 24))
def test_months_back_and_the_quarter(kind: str, day: date, count: int) -> None:
    period = period_of(kind, day)
    months = period.months_back(count)
    assert months[0] == period_of("month", period.last_day)
    assert [m.kind for m in months] == ["month"] * count
    assert period.last_day in period.quarter()
    assert months[0].closes_quarter() == (months[0].end_day == period.quarter().end_day)


@given(KINDS, DAYS, st.integers(0, 400))
def test_periods_between_cover_the_range_once(kind: str, first: date, days: int) -> None:
    last = first + timedelta(days=days)
    periods = periods_between(kind, first, last)
    assert periods[0].first_day <= first
    assert last <= periods[-1].last_day
    assert all(a.end_day == b.first_day for a, b in itertools.pairwise(periods))
    assert periods_between(kind, last, first - timedelta(days=1)) == []


def test_a_period_holds_a_shorter_period_inside_it() -> None:
    assert parse_period("2026-10-08") in parse_period("2026-Q4")
    assert parse_period("2026-W41") in parse_period("2026-10")
    assert parse_period("2026-W40") not in parse_period("2026-10")  # 09-28 .. 10-04
    assert parse_period("2026-10") not in parse_period("2026-10-08")


@pytest.mark.parametrize("label", ["9999-12-31", "9999-W52", "2200-01", "1899-Q4", "0001-01-01"])
def test_a_period_far_outside_any_data_is_refused_not_a_crash(label: str) -> None:
    # 9999-12-31 once raised OverflowError (its end day does not exist): a server error.
    with pytest.raises(InvalidInput, match="outside the years"):
        parse_period(label)
    assert parse_period("2199-12-31").end_day == date(2200, 1, 1)
    assert parse_period("1900-01").previous().label == "1899-12"
