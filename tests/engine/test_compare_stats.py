"""Comparison statistics (spec §12) against statsmodels, the oracle, and against Newcombe's formula written out.

statsmodels is a test dependency only: ``app/`` never imports it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from app.engine import stats
from app.figures import palette


@pytest.fixture(scope="module")
def guess_free():
    """40 groups of integer successes and trials, from near 0 to near 1, sizes 12 to 3 000."""
    rng = np.random.default_rng(20261202)
    n_a = rng.integers(12, 3000, 40)
    n_b = rng.integers(12, 3000, 40)
    p = rng.uniform(0.02, 0.98, 40)
    s_a = rng.binomial(n_a, p)
    s_b = rng.binomial(n_b, np.clip(p + rng.normal(0, 0.06, 40), 0.01, 0.99))
    return s_a, n_a, s_b, n_b


def wilson_oracle(s: float, n: float, z: float) -> tuple[float, float]:
    """Wilson's score interval, from his formula (not from app.engine.stats)."""
    p = s / n
    mid = (2 * n * p + z * z) / (2 * (n + z * z))
    half = z * math.sqrt(z * z + 4 * n * p * (1 - p)) / (2 * (n + z * z))
    return mid - half, mid + half


def newcombe_oracle(s_a: float, n_a: float, s_b: float, n_b: float, z: float = 1.96) -> tuple[float, float]:
    """Newcombe (1998) method 10: the hybrid score interval for p_a − p_b."""
    p_a, p_b = s_a / n_a, s_b / n_b
    l_a, u_a = wilson_oracle(s_a, n_a, z)
    l_b, u_b = wilson_oracle(s_b, n_b, z)
    d = p_a - p_b
    return d - math.sqrt((p_a - l_a) ** 2 + (u_b - p_b) ** 2), d + math.sqrt((u_a - p_a) ** 2 + (p_b - l_b) ** 2)


def test_p_values_equal_statsmodels_proportions_ztest(guess_free):
    s_a, n_a, s_b, n_b = guess_free
    table = stats.compare_table(s_a, n_a, s_b, n_b)
    oracle = [proportions_ztest([a, b], [na, nb])[1] for a, na, b, nb in zip(s_a, n_a, s_b, n_b)]
    np.testing.assert_allclose(table["p_value"], oracle, rtol=0, atol=1e-9)
    assert (table["p_value"] < 0.05).any() and (table["p_value"] > 0.5).any()   # both kinds of group occur


def test_holm_equals_statsmodels_multipletests(guess_free):
    s_a, n_a, s_b, n_b = guess_free
    table = stats.compare_table(s_a, n_a, s_b, n_b)
    oracle = multipletests(table["p_value"], method="holm")[1]
    np.testing.assert_allclose(table["p_holm"], oracle, rtol=0, atol=1e-9)
    assert (table["p_holm"] >= table["p_value"]).all()


def test_interval_is_newcombes_formula_with_z_1_96(guess_free):
    s_a, n_a, s_b, n_b = guess_free
    table = stats.compare_table(s_a, n_a, s_b, n_b)
    oracle = np.array([newcombe_oracle(*row) for row in zip(s_a, n_a, s_b, n_b)])
    np.testing.assert_allclose(table["diff_lower"], oracle[:, 0], rtol=0, atol=1e-9)
    np.testing.assert_allclose(table["diff_upper"], oracle[:, 1], rtol=0, atol=1e-9)
    np.testing.assert_allclose(table["diff"], s_a / n_a - s_b / n_b, rtol=0, atol=1e-15)


def test_interval_matches_statsmodels_newcomb_which_uses_the_exact_quantile(guess_free):
    s_a, n_a, s_b, n_b = guess_free
    table = stats.compare_table(s_a, n_a, s_b, n_b)
    oracle = np.array([confint_proportions_2indep(a, na, b, nb, method="newcomb", compare="diff")
                       for a, na, b, nb in zip(s_a, n_a, s_b, n_b)])
    np.testing.assert_allclose(table["diff_lower"], oracle[:, 0], rtol=0, atol=1e-4)
    np.testing.assert_allclose(table["diff_upper"], oracle[:, 1], rtol=0, atol=1e-4)
    # and with statsmodels' own quantile the same code agrees to rounding
    exact = stats.compare_table(s_a, n_a, s_b, n_b, z=1.959963984540054)
    np.testing.assert_allclose(exact["diff_lower"], oracle[:, 0], rtol=0, atol=1e-12)


def test_the_interval_is_built_from_the_section_3_wilson_intervals():
    center, margin = stats.wilson(337 / 896, 896)
    low, up = wilson_oracle(337, 896, 1.96)
    assert center - margin == pytest.approx(low, abs=1e-15) and center + margin == pytest.approx(up, abs=1e-15)
    _, lower, upper = stats.newcombe(337 / 896, 896, 300 / 880, 880)
    assert (float(lower), float(upper)) == pytest.approx(newcombe_oracle(337, 896, 300, 880), abs=1e-15)


def test_guess_correction_enters_as_excess_successes_and_trials():
    """C = 60 of 100 with guess rate 1/4: s = 60 − 25 = 35 of n = 75 trials beyond chance."""
    s_a, n_a = stats.excess_trials(60, 30, 5, 5, 25.0, 25.0)
    s_b, n_b = stats.excess_trials(45, 50, 5, 0, 25.0, 25.0)
    assert (float(s_a), float(n_a), float(s_b), float(n_b)) == (35.0, 75.0, 20.0, 75.0)
    table = stats.compare_table(s_a, n_a, s_b, n_b)
    assert table["accuracy_a"].tolist() == [35 / 75] and table["accuracy_b"].tolist() == [20 / 75]
    pooled = 55 / 150
    z = (35 / 75 - 20 / 75) / math.sqrt(pooled * (1 - pooled) * (2 / 75))
    assert table["p_value"][0] == pytest.approx(math.erfc(z / math.sqrt(2)), abs=1e-15)
    assert (table["diff_lower"][0], table["diff_upper"][0]) == pytest.approx(
        newcombe_oracle(35, 75, 20, 75), abs=1e-15)


def test_worse_than_chance_keeps_its_difference_and_takes_widths_from_the_clipped_wilson():
    diff, lower, upper = stats.newcombe(-0.1, 50, 0.2, 50)
    low_b, up_b = wilson_oracle(10, 50, 1.96)
    _, up_a = wilson_oracle(0, 50, 1.96)
    assert float(diff) == pytest.approx(-0.3, abs=1e-15)
    assert float(lower) == pytest.approx(-0.3 - math.sqrt(0.0 + (up_b - 0.2) ** 2), abs=1e-15)
    assert float(upper) == pytest.approx(-0.3 + math.sqrt(up_a ** 2 + (0.2 - low_b) ** 2), abs=1e-15)


def test_no_spread_is_no_evidence_and_missing_trials_are_nan():
    assert stats.two_proportion_p([50, 0], [50, 40], [30, 0], [30, 40]).tolist() == [1.0, 1.0]
    assert np.isnan(stats.two_proportion_p(5, 0, 5, 10))
    diff, lower, upper = stats.newcombe(np.nan, 0, 0.5, 10)
    assert np.isnan([diff, lower, upper]).all()


def test_holm_leaves_untested_groups_out_of_the_family():
    adjusted = stats.holm([0.01, np.nan, 0.04, 0.03])
    assert np.isnan(adjusted[1])
    np.testing.assert_allclose(adjusted[[0, 2, 3]], multipletests([0.01, 0.04, 0.03], method="holm")[1], atol=1e-15)
    assert np.isnan(stats.holm([np.nan])).all() and stats.holm([]).size == 0


@pytest.mark.parametrize("lower, upper, p_holm, n, verdict", [
    (0.02, 0.20, 0.001, 500, "a_better"),
    (-0.20, -0.02, 0.001, 500, "b_better"),
    (-0.03, 0.04, 0.60, 500, "equivalent"),
    (0.01, 0.04, 0.001, 5000, "a_better"),      # a real, small gain: better beats equivalent
    (0.01, 0.04, 0.20, 5000, "equivalent"),     # excludes 0 but not after Holm, and small: equivalent
    (0.01, 0.20, 0.07, 500, "unclear"),         # excludes 0, but Holm's p is not below 0.05
    (-0.08, 0.04, 0.40, 500, "unclear"),        # reaches past −0.05
    (-0.05, 0.05, 0.90, 500, "equivalent"),     # the margin itself counts as within
    (0.30, 0.90, 0.001, 9, "unclear"),          # fewer than MIN_TRIALS on a side
])
def test_verdict_rules(lower, upper, p_holm, n, verdict):
    assert stats.verdicts([lower], [upper], [p_holm], [n], [n]).tolist() == [verdict]


def test_verdict_never_contradicts_the_interval(guess_free):
    table = stats.compare_table(*guess_free)
    v = table["verdict"]
    assert (table["diff_lower"][v == "a_better"] > 0).all() and (table["diff_upper"][v == "b_better"] < 0).all()
    inside = v == "equivalent"
    assert (table["diff_lower"][inside] >= -0.05).all() and (table["diff_upper"][inside] <= 0.05).all()
    assert set(v) <= set(stats.VERDICTS) and {"a_better", "b_better"} <= set(v)


def test_thresholds_and_colours():
    assert (stats.EQUIVALENCE_MARGIN, stats.ALPHA, stats.MIN_TRIALS, stats.Z) == (0.05, 0.05, 10, 1.96)
    assert tuple(palette.VERDICT_COLORS) == stats.VERDICTS
    assert len(set(palette.VERDICT_COLORS.values())) == 4
    assert not set(palette.VERDICT_COLORS.values()) & set(palette.OUTCOME_COLORS.values())


def test_two_equal_models_are_rarely_called_different_and_mostly_equivalent_with_enough_samples():
    """False alarms stay rare: 400 pairs of the same model over 12 tasks (Holm controls the pair's family)."""
    rng = np.random.default_rng(7)
    n = np.full(12, 2000)
    p = np.linspace(0.2, 0.9, 12)
    called, equivalent = 0, 0
    for _ in range(400):
        verdict = stats.compare_table(rng.binomial(n, p), n, rng.binomial(n, p), n)["verdict"]
        called += bool(set(verdict) & {"a_better", "b_better"})
        equivalent += int((verdict == "equivalent").sum())
    assert called / 400 <= 0.06                     # family-wise error at most α (plus simulation noise)
    assert equivalent / (400 * 12) >= 0.8           # with 2 000 trials a side most intervals fit within ±0.05
