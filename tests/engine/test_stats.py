"""The statistics of spec §3, to the last digit where the spec gives digits."""

import numpy as np
import pytest

from app.engine import stats
from app.engine.errors import InputError


def test_reference_case_legacy_mode_reproduces_spec_digits():
    c, i, w, t = 337, 6, 545, 8
    total = c + i + w + t
    guess_all = total / 12
    guess_untruncated = (c + i + w) / 12
    table = stats.accuracy_table(c, w, i, t, guess_all, guess_untruncated, truncation="separate")
    assert table["accuracy"] == pytest.approx(0.3230958230958231, rel=0, abs=1e-15)
    assert table["center"] == pytest.approx(0.3239267848444002, rel=0, abs=1e-15)
    assert table["margin"] == pytest.approx(0.03206244563179326, rel=0, abs=1e-15)
    assert float(table["lower"]) == pytest.approx(0.3239267848444002 - 0.03206244563179326, abs=1e-15)


def test_failure_mode_counts_truncations_as_failed_trials():
    s, n = stats.excess_trials(10, 5, 3, 2, guess_all=0, guess_untruncated=0, truncation="failure")
    assert (s, n) == (10, 20)
    s, n = stats.excess_trials(10, 5, 3, 2, guess_all=0, guess_untruncated=0, truncation="separate")
    assert (s, n) == (10, 18)


def test_guessing_is_subtracted_and_accuracy_may_be_negative():
    table = stats.accuracy_table(1, 9, 0, 0, guess_all=2.5, guess_untruncated=2.5)
    assert table["accuracy"] == pytest.approx((1 - 2.5) / (10 - 2.5))
    assert table["accuracy"] < 0
    # the interval is computed on the clipped p = 0
    center, margin = stats.wilson(0.0, 7.5)
    assert table["center"] == pytest.approx(center)


def test_rates_and_empty_groups():
    table = stats.accuracy_table(np.array([2, 0]), np.array([1, 0]), np.array([1, 0]), np.array([4, 0]),
                                 np.zeros(2), np.zeros(2))
    assert table["truncation_rate"][0] == 0.5
    assert table["invalid_rate"][0] == 0.125
    assert np.isnan(table["accuracy"][1]) and np.isnan(table["center"][1])


def test_unknown_truncation_mode_is_rejected():
    with pytest.raises(ValueError, match="failure, separate"):
        stats.excess_trials(1, 1, 1, 1, 0, 0, truncation="ignore")


def test_sorted_quantile_matches_numpy_linear():
    rng = np.random.default_rng(3)
    segments = [np.sort(rng.integers(0, 1000, n)) for n in (1, 2, 7, 100)]
    values = np.concatenate(segments)
    counts = np.array([len(s) for s in segments])
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    for q in (0.5, 0.95):
        got = stats.sorted_quantile(values, starts, counts, q)
        assert got == pytest.approx([np.quantile(s, q) for s in segments])


def test_check_truncation_is_the_one_rule():
    assert [stats.check_truncation(m) for m in stats.TRUNCATION_MODES] == ["failure", "separate"]
    for bad in ("x", "", None, ["failure"]):
        with pytest.raises(InputError) as err:
            stats.check_truncation(bad)
        assert str(err.value) == f"truncation must be failure or separate, not {bad!r}; valid: failure, separate"
