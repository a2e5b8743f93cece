"""Moodle's quiz statistics: a small example worked by hand, the same figures from an
independent numpy/scipy implementation on random attempts, and the degenerate cases."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from agentladder.training.exams.statistics import (
    ItemStatistics,
    TestStatistics,
    distractor_analysis,
    exam_statistics,
)

approx = pytest.approx


def test_a_small_exam_worked_by_hand() -> None:
    # Three slots worth 1, 1 and 2 (Σm = 4); four attempts:
    #        x1 x2 x3 | X
    #   A     1  1  2 | 4
    #   B     1  0  1 | 2
    #   C     0  1  1 | 2
    #   D     0  0  0 | 0
    # Totals: mean 2 (50%), median 2 (50%); deviations 2, 0, 0, -2 so Σd² = 8, var = 8/3,
    # sd = √(8/3) = 1.63299 → 40.8248% of 4.
    # m2 = 8/4 = 2, m3 = 0, m4 = (16 + 16)/4 = 8; k2 = 4·2/3 = 8/3 → skewness 0;
    # k4 = 16·(5·8 − 3·3·4)/(3·2·1) = 32/3 → kurtosis (32/3)/(8/3)² = 1.5.
    # Item variances: x1 dev ±.5 → 1/3; x2 → 1/3; x3 dev 1, 0, 0, −1 → 2/3; Σ = 4/3.
    # CIC = 100·3/2·(1 − (4/3)/(8/3)) = 75; ER = 100·√0.25 = 50; SE = 0.5·40.8248 = 20.4124.
    # cov(x_i, X): x1 (.5·2 + .5·2)/3 = 2/3; x2 2/3; x3 (1·2 + 1·2)/3 = 4/3.
    # Effective weights: √(2/3)/(2√(2/3) + √(4/3)) = 1/(2 + √2) = 29.289%; x3: √2 − 1 = 41.421%.
    # x1: rest = 3, 1, 2, 0 (var 5/3), cov(x1, rest) = (.75 − .25 − .25 + .75)/3 = 1/3,
    #     DI = 100·(1/3)/√(1/3·5/3) = 100/√5 = 44.721; sorted x1 0,0,1,1 and rest 0,1,2,3 give
    #     cov_max = (.75 + .25 + .25 + .75)/3 = 2/3, DE = 50.
    # x2: rest = 3, 2, 1, 0: the same numbers, DI 44.721, DE 50.
    # x3: rest = 2, 1, 1, 0 equals x3, so DI = DE = 100.
    marks = [[1, 1, 2], [1, 0, 1], [0, 1, 1], [0, 0, 0]]
    test, items = exam_statistics(marks, [1, 1, 2], [0.25, 0.5, None])

    assert test.attempts == 4
    assert test.mean == approx(50)
    assert test.median == approx(50)
    assert test.sd == approx(100 * math.sqrt(8 / 3) / 4)
    assert test.skewness == approx(0, abs=1e-12)
    assert test.kurtosis == approx(1.5)
    assert test.cic == approx(75)
    assert test.error_ratio == approx(50)
    assert test.standard_error == approx(20.4124, abs=1e-4)

    assert [i.slot for i in items] == [1, 2, 3]
    assert [i.facility for i in items] == approx([50, 50, 50])
    assert [i.sd for i in items] == approx([57.735, 57.735, 40.825], abs=1e-3)
    assert [i.random_guess for i in items] == [25, 50, None]
    assert [i.intended_weight for i in items] == approx([25, 25, 50])
    assert [i.effective_weight for i in items] == approx([29.289, 29.289, 41.421], abs=1e-3)
    assert [i.negcovar for i in items] == [False, False, False]
    assert [i.discrimination_index for i in items] == approx([44.721, 44.721, 100], abs=1e-3)
    assert [i.discriminative_efficiency for i in items] == approx([50, 50, 100])
    assert [i.dubious for i in items] == [False, False, False]


def test_an_item_the_weak_get_right_has_negative_covariance() -> None:
    # X = 2, 2, 1, 0 (mean 1.25, deviations .75, .75, −.25, −1.25).
    # x3 = 0, 0, 1, 0: deviations −.25, −.25, .75, −.25 → cov(x3, X) = −.25/3 < 0: negcovar.
    # x1 = x2 = 1, 1, 0, 0: cov = 1.5/3 each → effective weights 50, 50, null.
    _, items = exam_statistics([[1, 1, 0], [1, 1, 0], [0, 0, 1], [0, 0, 0]], [1, 1, 1], [0.5] * 3)
    assert [i.negcovar for i in items] == [False, False, True]
    assert [i.effective_weight for i in items] == [approx(50), approx(50), None]
    third = items[2]
    assert third.discrimination_index is not None
    assert third.discrimination_index < 0
    assert third.dubious


def test_totals_that_never_vary_give_nulls_not_errors() -> None:
    # x1 = 1, 1, 0, 0 and x2 = 0, 0, 1, 1: every total is 1, so var X = 0 and cov(x_i, X) = 0.
    # Each item's rest is the other item: cov = −1/3, DI = −100; both sorted to 0, 0, 1, 1
    # give cov_max = 1/3, DE = −100: dubious.
    test, items = exam_statistics([[1, 0], [1, 0], [0, 1], [0, 1]], [1, 1], [0.5, 0.5])
    assert test.sd == 0
    assert (test.skewness, test.kurtosis, test.cic, test.error_ratio, test.standard_error) == (
        None,
        None,
        None,
        None,
        None,
    )
    for item in items:
        assert item.negcovar is False
        assert item.effective_weight is None
        assert item.discrimination_index == approx(-100)
        assert item.discriminative_efficiency == approx(-100)
        assert item.dubious


def test_equal_marks_everywhere() -> None:
    test, items = exam_statistics([[0.5, 1], [0.5, 1], [0.5, 1]], [1, 1], [None, None])
    assert test.mean == approx(75)
    assert test.sd == 0
    assert test.skewness is None
    assert test.cic is None
    for item in items:
        assert item.sd == 0
        assert item.discrimination_index is None
        assert item.discriminative_efficiency is None
        assert item.effective_weight is None
        assert not item.dubious


def test_equal_totals_reached_by_different_float_sums_count_as_equal() -> None:
    # 0.1 + 0.2 is 0.30000000000000004; as totals they must still count as equal.
    test, _ = exam_statistics([[0.1, 0.2], [0.3, 0.0], [0.0, 0.3]], [1, 1], [0, 0])
    assert test.sd == 0
    assert test.skewness is None
    assert test.cic is None


def test_few_attempts() -> None:
    none, items = exam_statistics([], [1, 1], [None, None])
    assert none == TestStatistics(0, None, None, None, None, None, None, None, None)
    assert [i.facility for i in items] == [None, None]
    assert [i.intended_weight for i in items] == [50, 50]

    one, items = exam_statistics([[1, 0]], [1, 1], [None, None])
    assert (one.attempts, one.mean, one.median, one.sd) == (1, 50, 50, None)
    assert [i.facility for i in items] == [100, 0]  # Moodle shows facility for one attempt
    assert all(i.sd is None and i.discrimination_index is None for i in items)
    assert all(i.effective_weight is None and not i.negcovar for i in items)

    two, _ = exam_statistics([[1, 0], [0, 0]], [1, 1], [None, None])
    assert two.sd == approx(100 * math.sqrt(0.5) / 2)
    assert (two.skewness, two.kurtosis, two.cic) == (None, None, None)  # Moodle: cic needs s > 2

    three, _ = exam_statistics([[1, 1], [1, 0], [0, 0]], [1, 1], [None, None])
    assert three.skewness is not None
    assert three.cic is not None
    assert three.kurtosis is None


def test_one_slot_has_no_cic() -> None:
    test, items = exam_statistics([[1], [0], [1], [1]], [2], [0.5])
    assert test.cic is None
    assert test.error_ratio is None
    assert test.skewness is not None
    assert items[0].intended_weight == 100
    assert items[0].discrimination_index is None  # the rest is always 0
    assert items[0].effective_weight == approx(100)


def test_a_slot_without_marks() -> None:
    _, items = exam_statistics([[1, 0], [0, 0], [1, 0]], [1, 0], [None, 0])
    assert items[1].facility is None
    assert items[1].sd is None
    assert items[1].intended_weight == 0
    assert items[1].random_guess == 0


def test_rows_must_fit_the_slots() -> None:
    with pytest.raises(ValueError):
        exam_statistics([[1, 0], [1]], [1, 1], [None, None])
    with pytest.raises(ValueError):
        exam_statistics([[1, 0]], [1, 1], [None])


# An independent implementation with numpy and scipy -----------------------------------------


def reference(marks: np.ndarray, max_marks: np.ndarray) -> dict[str, Any]:
    """The section 3 formulas, written straight from the reference notes."""
    s, p = marks.shape
    totals = marks.sum(axis=1)
    var_x = totals.var(ddof=1)
    item_var = marks.var(axis=0, ddof=1)
    cic = 100 * p / (p - 1) * (1 - item_var.sum() / var_x)
    cov_total = np.array([np.cov(marks[:, i], totals)[0, 1] for i in range(p)])
    roots = np.sqrt(np.where(cov_total >= 0, cov_total, 0))
    discrimination, efficiency = [], []
    for i in range(p):
        x, rest = marks[:, i], totals - marks[:, i]
        discrimination.append(100 * np.corrcoef(x, rest)[0, 1])
        cov_max = np.dot(np.sort(x) - x.mean(), np.sort(rest) - rest.mean()) / (s - 1)
        efficiency.append(100 * np.cov(x, rest)[0, 1] / cov_max)
    return {
        "mean": 100 * totals.mean() / max_marks.sum(),
        "median": 100 * np.median(totals) / max_marks.sum(),
        "sd": 100 * totals.std(ddof=1) / max_marks.sum(),
        "skewness": stats.skew(totals, bias=False),
        "kurtosis": stats.kurtosis(totals, bias=False),
        "cic": cic,
        "error_ratio": 100 * math.sqrt(1 - cic / 100),
        "standard_error": math.sqrt(1 - cic / 100) * 100 * totals.std(ddof=1) / max_marks.sum(),
        "facility": 100 * marks.mean(axis=0) / max_marks,
        "item_sd": 100 * marks.std(axis=0, ddof=1) / max_marks,
        "effective_weight": np.where(cov_total >= 0, 100 * roots / roots.sum(), np.nan),
        "discrimination": np.array(discrimination),
        "efficiency": np.array(efficiency),
        "intended_weight": 100 * max_marks / max_marks.sum(),
    }


def cronbach_alpha(marks: np.ndarray) -> float:
    """α from the item covariance matrix: p/(p−1)·(1 − trace/sum of all entries)."""
    cov = np.cov(marks, rowvar=False)
    p = marks.shape[1]
    return float(p / (p - 1) * (1 - np.trace(cov) / cov.sum()))


def kr20(binary: np.ndarray) -> float:
    """KR-20 with the textbook population variances: p/(p−1)·(1 − Σp_i·q_i/σ²_X)."""
    p = binary.shape[1]
    share = binary.mean(axis=0)
    return float(p / (p - 1) * (1 - (share * (1 - share)).sum() / binary.sum(axis=1).var()))


def simulated_marks(
    rng: np.random.Generator, attempts: int, max_marks: np.ndarray, kind: str
) -> np.ndarray:
    """Marks from a latent ability, so that items correlate as in a real exam."""
    ability = rng.normal(size=(attempts, 1))
    difficulty = rng.normal(size=(1, len(max_marks)))
    chance = 1 / (1 + np.exp(-(1.5 * ability - difficulty)))
    if kind == "binary":
        share = (rng.random(chance.shape) < chance).astype(float)
    elif kind == "quarters":
        share = np.round(np.clip(chance + rng.normal(0, 0.2, chance.shape), 0, 1) * 4) / 4
    else:
        share = np.clip(chance + rng.normal(0, 0.15, chance.shape), 0, 1)
    return np.asarray(share * max_marks, dtype=float)


def same(value: float | None, expected: float) -> bool:
    if value is None:
        return bool(np.isnan(expected))
    return value == approx(float(expected), rel=1e-9, abs=1e-9)


CASES = [
    (seed, attempts, slots, kind)
    for seed, (attempts, slots) in enumerate([(6, 2), (12, 3), (30, 5), (60, 6), (250, 12)])
    for kind in ("binary", "quarters", "continuous")
]


@pytest.mark.parametrize(("seed", "attempts", "slots", "kind"), CASES)
def test_agrees_with_numpy_and_scipy(seed: int, attempts: int, slots: int, kind: str) -> None:
    rng = np.random.default_rng(seed)
    max_marks = rng.choice([0.5, 1.0, 2.0, 5.0], size=slots)
    marks = simulated_marks(rng, attempts, max_marks, kind)
    # A column with one value has no correlation; numpy would warn, the module says None.
    varying = [i for i in range(slots) if np.ptp(marks[:, i]) > 0]
    guesses = [float(g) for g in rng.random(slots)]
    test, items = exam_statistics(marks.tolist(), max_marks.tolist(), guesses)
    expected = reference(marks, max_marks)

    for name in ("mean", "median", "sd", "skewness", "kurtosis", "cic", "error_ratio"):
        assert same(getattr(test, name), expected[name]), name
    assert same(test.standard_error, expected["standard_error"])
    assert test.cic == approx(100 * cronbach_alpha(marks), rel=1e-9)

    for i, item in enumerate(items):
        assert item.facility == approx(expected["facility"][i])
        assert item.sd == approx(expected["item_sd"][i])
        assert item.random_guess == approx(100 * guesses[i])
        assert item.intended_weight == approx(expected["intended_weight"][i])
        assert same(item.effective_weight, expected["effective_weight"][i])
        if i in varying:
            assert same(item.discrimination_index, expected["discrimination"][i])
            assert same(item.discriminative_efficiency, expected["efficiency"][i])
            assert item.dubious == (expected["efficiency"][i] < 15)
        else:
            assert item.discrimination_index is None
            assert item.discriminative_efficiency is None
    if kind == "binary":
        # KR-20 is α for items scored 0/1 (each worth 1, not weighted by m_i).
        binary = marks / max_marks
        unweighted, _ = exam_statistics(binary.tolist(), [1.0] * slots, guesses)
        assert unweighted.cic == approx(100 * kr20(binary), rel=1e-9)


def test_synthetic_60_by_6_cic_is_cronbach_alpha() -> None:
    # The reference notes check CIC = α, skewness and kurtosis against scipy, and KR-20 = α on
    # a synthetic 60 × 6 set of 0/1 items (their 62.74% comes from data they do not include);
    # the same identities on a seeded 60 × 6 set.
    rng = np.random.default_rng(2026)
    binary = simulated_marks(rng, 60, np.ones(6), "binary")
    test, _ = exam_statistics(binary.tolist(), [1.0] * 6, [0.5] * 6)
    alpha = 100 * cronbach_alpha(binary)
    assert 0 < alpha < 100
    assert test.cic == approx(alpha, rel=1e-12)
    assert test.cic == approx(100 * kr20(binary), rel=1e-12)
    assert test.skewness == approx(stats.skew(binary.sum(axis=1), bias=False))
    assert test.kurtosis == approx(stats.kurtosis(binary.sum(axis=1), bias=False))


# Distractor analysis ------------------------------------------------------------------------


def test_distractor_analysis_by_thirds() -> None:
    # Seven attempts: a third is ⌊7/3⌋ = 2. Ranked by total, ties in the order given:
    # #2 (9), #0 (8), #4 (8) | #1 (5) | #5 (3), #3 (1), #6 (1).
    # Top = #2, #0; bottom = #3, #6.
    choices = [0, 2, 0, 1, None, 1, 2]
    totals = [8, 5, 9, 1, 8, 3, 1]
    rows = distractor_analysis(choices, totals, option_count=3)
    assert [(r.option, r.count, r.top_share, r.bottom_share) for r in rows] == [
        (0, 2, 100, 0),
        (1, 2, 0, 50),
        (2, 2, 0, 50),
        (None, 1, 0, 0),
    ]
    assert [r.share for r in rows] == approx([200 / 7, 200 / 7, 200 / 7, 100 / 7])


def test_distractor_ties_keep_the_order_given() -> None:
    # All totals equal: the first two attempts are the top third, the last two the bottom.
    rows = distractor_analysis([0, 0, 1, 1, 1, 2], [5] * 6, option_count=3)
    assert [(r.top_share, r.bottom_share) for r in rows] == [(100, 0), (0, 50), (0, 50), (0, 0)]


def test_distractor_analysis_with_few_attempts() -> None:
    rows = distractor_analysis([1, None], [3, 2], option_count=2)
    assert [(r.count, r.share, r.top_share, r.bottom_share) for r in rows] == [
        (0, 0, None, None),
        (1, 50, None, None),
        (1, 50, None, None),
    ]
    assert [r.share for r in distractor_analysis([], [], option_count=2)] == [None] * 3


def test_distractor_analysis_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        distractor_analysis([0, 3], [1, 2], option_count=3)
    with pytest.raises(ValueError):
        distractor_analysis([0, 1], [1], option_count=3)


def test_item_rows_are_frozen() -> None:
    _, items = exam_statistics([[1], [0]], [1], [None])
    assert isinstance(items[0], ItemStatistics)
    with pytest.raises(AttributeError):
        items[0].slot = 2  # type: ignore[misc]
