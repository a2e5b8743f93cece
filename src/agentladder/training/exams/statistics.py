"""Moodle's quiz statistics for an exam: the test's figures and one row per slot, from the marks
of the counted attempts (docs: reference-definitions.md section 3; Moodle's
`mod/quiz/report/statistics/classes/calculator.php` and
`question/classes/statistics/questions/calculator.php`).

Which attempts count is the caller's choice (Moodle follows the exam's grading method:
highest, average, first or last); this module takes one row of marks per counted attempt.

Notation: s attempts, p slots, x_i the mark on slot i, m_i its maximum, X the attempt's total
and X₋ᵢ = X − x_i. Every variance and covariance divides by s − 1.

Test statistics, in Moodle's units:
- mean, median, sd and standard_error: % of the maximum total Σm_i;
- skewness and kurtosis (excess): plain numbers, from Moodle's k-statistics (scipy's
  `bias=False` values);
- cic (Cronbach's α × 100, KR-20 on 0/1 items) and error_ratio: %.
Null when the data cannot give them: mean and median need s ≥ 1; sd s ≥ 2; skewness s ≥ 3 and
totals that vary; kurtosis s ≥ 4 and totals that vary; cic, error_ratio and standard_error
s ≥ 3, p ≥ 2 and totals that vary. (cic needing s ≥ 3 is Moodle's: it computes it inside its
skewness branch. The reference notes only ask p > 1 and k2 ≠ 0.)

Item statistics, per slot:
- facility: mean(x_i)/m_i in % (s ≥ 1; null when m_i = 0; Moodle shows it for one attempt);
- sd: sd(x_i)/m_i in % (s ≥ 2);
- random_guess: the question's random guess score in % (see grading.random_guess_score);
- intended_weight: 100·m_i/Σm (0 when no slot carries marks);
- effective_weight: 100·√cov(x_i, X)/Σ_j √cov(x_j, X) over the slots with cov ≥ 0; null for a
  slot with cov < 0 (negcovar) and for every slot when that sum is 0;
- discrimination_index: 100·cov(x_i, X₋ᵢ)/√(var x_i · var X₋ᵢ), the corrected item-total
  Pearson r; null when either varies not at all;
- discriminative_efficiency: 100·cov(x_i, X₋ᵢ)/cov_max, cov_max from x_i and X₋ᵢ each sorted on
  its own; null when cov_max = 0;
- dubious: discriminative efficiency below 15 (False when it is null).

Values that differ only by float noise (spread ≤ 10⁻⁹ of their size) count as equal, so equal
marks reached by different sums (0.1 + 0.2 and 0.3) give a variance of exactly 0, not 10⁻³³.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

DUBIOUS_BELOW = 15.0  # discriminative efficiency (%) under which Moodle flags a question
_NOISE = 1e-9  # relative spread under which values count as equal


@dataclass(frozen=True)
class TestStatistics:
    """The exam's figures over its counted attempts (units in the module docstring)."""

    __test__ = False  # a result, not a pytest test class

    attempts: int
    mean: float | None
    median: float | None
    sd: float | None
    skewness: float | None
    kurtosis: float | None
    cic: float | None
    error_ratio: float | None
    standard_error: float | None


@dataclass(frozen=True)
class ItemStatistics:
    """One slot's row of Moodle's statistics table (units in the module docstring)."""

    slot: int  # 1-based, as Moodle numbers slots
    facility: float | None
    sd: float | None
    random_guess: float | None
    intended_weight: float
    effective_weight: float | None
    negcovar: bool
    discrimination_index: float | None
    discriminative_efficiency: float | None
    dubious: bool


@dataclass(frozen=True)
class DistractorRow:
    """How often one option was chosen, in %: by all attempts, by the top third by total and by
    the bottom third. `option` None counts the attempts that left the question unanswered."""

    option: int | None
    count: int
    share: float | None
    top_share: float | None
    bottom_share: float | None


def exam_statistics(
    marks: Sequence[Sequence[float]],
    max_marks: Sequence[float],
    random_guess: Sequence[float | None],
) -> tuple[TestStatistics, list[ItemStatistics]]:
    """The test statistics and one row per slot. `marks`: one row per counted attempt, one
    column per slot (x_i); `max_marks`: m_i; `random_guess`: per slot, a fraction 0..1 or None."""
    slots = len(max_marks)
    if len(random_guess) != slots:
        raise ValueError("random_guess needs one value per slot")
    if any(len(row) != slots for row in marks):
        raise ValueError("every row of marks needs one mark per slot")
    columns = [[float(row[i]) for row in marks] for i in range(slots)]
    totals = [math.fsum(row) for row in marks]
    test = _test_statistics(columns, totals, math.fsum(max_marks))
    return test, _item_statistics(columns, totals, max_marks, random_guess)


def _test_statistics(
    columns: list[list[float]], totals: list[float], max_total: float
) -> TestStatistics:
    s, p = len(totals), len(columns)

    def percent(value: float | None) -> float | None:
        return None if value is None or max_total <= 0 else 100 * value / max_total

    if s == 0:
        return TestStatistics(0, None, None, None, None, None, None, None, None)
    mean = math.fsum(totals) / s
    median = statistics.median(totals)
    if s < 2:
        return TestStatistics(s, percent(mean), percent(median), None, None, None, None, None, None)
    centred = _centred(totals)
    m2, m3, m4 = (math.fsum(d**r for d in centred) / s for r in (2, 3, 4))
    sd = math.sqrt(m2 * s / (s - 1))
    k2 = s * m2 / (s - 1)
    skewness = kurtosis = cic = error_ratio = standard_error = None
    if s > 2 and k2 != 0:
        k3 = s * s * m3 / ((s - 1) * (s - 2))
        skewness = k3 / k2**1.5
        if s > 3:
            k4 = s * s * ((s + 1) * m4 - 3 * (s - 1) * m2 * m2) / ((s - 1) * (s - 2) * (s - 3))
            kurtosis = k4 / (k2 * k2)
        if p > 1:
            item_variance = math.fsum(_variance(column) for column in columns)
            cic = 100 * p / (p - 1) * (1 - item_variance / k2)
            # α ≤ 1 in exact arithmetic; clamp the float overshoot before the square root.
            error_ratio = 100 * math.sqrt(max(0.0, 1 - cic / 100))
            standard_error = error_ratio * sd / 100
    return TestStatistics(
        attempts=s,
        mean=percent(mean),
        median=percent(median),
        sd=percent(sd),
        skewness=skewness,
        kurtosis=kurtosis,
        cic=cic,
        error_ratio=error_ratio,
        standard_error=percent(standard_error),
    )


@dataclass(frozen=True)
class _Moments:
    """One slot's sums of products over the attempts, before the percentages."""

    mean: float
    variance: float
    rest_variance: float
    covariance: float  # with the rest, X₋ᵢ
    covariance_max: float
    covariance_total: float  # with the total, X


def _moments(column: list[float], totals: list[float]) -> _Moments:
    s = len(column)
    rest = [total - mark for total, mark in zip(totals, column, strict=True)]
    d_mark, d_rest, d_total = _centred(column), _centred(rest), _centred(totals)
    sorted_mark, sorted_rest = _centred(sorted(column)), _centred(sorted(rest))

    def cov(a: list[float], b: list[float]) -> float:
        return math.fsum(x * y for x, y in zip(a, b, strict=True)) / (s - 1)

    return _Moments(
        mean=math.fsum(column) / s,
        variance=cov(d_mark, d_mark),
        rest_variance=cov(d_rest, d_rest),
        covariance=cov(d_mark, d_rest),
        covariance_max=cov(sorted_mark, sorted_rest),
        covariance_total=cov(d_mark, d_total),
    )


def _item_statistics(
    columns: list[list[float]],
    totals: list[float],
    max_marks: Sequence[float],
    random_guess: Sequence[float | None],
) -> list[ItemStatistics]:
    s = len(totals)
    sum_max = math.fsum(max_marks)
    moments = [_moments(column, totals) if s > 1 else None for column in columns]
    spread = math.fsum(
        math.sqrt(m.covariance_total) for m in moments if m is not None and m.covariance_total >= 0
    )
    rows = []
    for i, (column, moment) in enumerate(zip(columns, moments, strict=True)):
        max_mark, guess = float(max_marks[i]), random_guess[i]
        facility = 100 * math.fsum(column) / s / max_mark if s and max_mark else None
        sd = effective = discrimination = efficiency = None
        negcovar = False
        if moment is not None:
            sd = 100 * math.sqrt(moment.variance) / max_mark if max_mark else None
            negcovar = moment.covariance_total < 0
            if spread and not negcovar:
                effective = 100 * math.sqrt(moment.covariance_total) / spread
            if moment.variance * moment.rest_variance:
                discrimination = (
                    100 * moment.covariance / math.sqrt(moment.variance * moment.rest_variance)
                )
            if moment.covariance_max:
                efficiency = 100 * moment.covariance / moment.covariance_max
        rows.append(
            ItemStatistics(
                slot=i + 1,
                facility=facility,
                sd=sd,
                random_guess=None if guess is None else 100 * guess,
                intended_weight=100 * max_mark / sum_max if sum_max else 0.0,
                effective_weight=effective,
                negcovar=negcovar,
                discrimination_index=discrimination,
                discriminative_efficiency=efficiency,
                dubious=efficiency is not None and efficiency < DUBIOUS_BELOW,
            )
        )
    return rows


def distractor_analysis(
    choices_by_attempt: Sequence[int | None], totals: Sequence[float], option_count: int
) -> list[DistractorRow]:
    """How often each option of a choice question was chosen, overall and in the top and
    bottom thirds of the attempts by total; one row per option, then one for no answer.

    A third is ⌊n/3⌋ attempts (none when n < 3, so those shares are null). Attempts are ranked
    by total, highest first; equal totals keep the order given, so with ties the attempt given
    first ranks higher. The thirds never overlap."""
    n = len(choices_by_attempt)
    if len(totals) != n:
        raise ValueError("totals needs one value per attempt")
    if any(c is not None and not 0 <= c < option_count for c in choices_by_attempt):
        raise ValueError("a choice is not one of the options")
    ranked = sorted(range(n), key=lambda attempt: -totals[attempt])
    third = n // 3
    top = [choices_by_attempt[a] for a in ranked[:third]]
    bottom = [choices_by_attempt[a] for a in ranked[n - third :]]

    def share(chosen: list[int | None], option: int | None) -> float | None:
        return 100 * chosen.count(option) / len(chosen) if chosen else None

    everyone = list(choices_by_attempt)
    return [
        DistractorRow(
            option=option,
            count=everyone.count(option),
            share=share(everyone, option),
            top_share=share(top, option),
            bottom_share=share(bottom, option),
        )
        for option in [*range(option_count), None]
    ]


def _centred(values: list[float]) -> list[float]:
    """Each value minus the mean; all zeros when the values differ by float noise only."""
    if not values:
        return []
    low, high = min(values), max(values)
    if high - low <= _NOISE * max(1.0, abs(low), abs(high)):
        return [0.0] * len(values)
    mean = math.fsum(values) / len(values)
    return [value - mean for value in values]


def _variance(values: list[float]) -> float:
    """The sample variance (divides by n − 1)."""
    return math.fsum(d * d for d in _centred(values)) / (len(values) - 1)
