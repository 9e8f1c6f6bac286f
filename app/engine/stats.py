"""The statistics of spec §3, vectorised over groups.

Counters are summed per group before anything here is called: rates are
computed once from sums, never averaged from per-point rates.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from app.engine.errors import InputError

Z = 1.96
TRUNCATION_MODES = ("failure", "separate")


def check_truncation(mode: Any) -> str:
    """The one check of a truncation mode (engine, projections, dashboard): ``mode`` when valid."""
    if not isinstance(mode, str) or mode not in TRUNCATION_MODES:
        raise InputError(f"truncation must be {' or '.join(TRUNCATION_MODES)}, not {mode!r}; "
                         f"valid: {', '.join(TRUNCATION_MODES)}")
    return mode


def excess_trials(correct, incorrect, invalid, truncated, guess_all, guess_untruncated,
                  truncation: str = "failure") -> tuple[np.ndarray, np.ndarray]:
    """Guess-corrected (successes, trials).

    ``failure``: a truncation is a failed trial. ``separate``: truncated samples
    are left out of the trials and their guess mass with them.
    """
    truncation = check_truncation(truncation)
    c, w, i, t = (np.asarray(x, dtype=np.float64) for x in (correct, incorrect, invalid, truncated))
    if truncation == "failure":
        g = np.asarray(guess_all, dtype=np.float64)
        return c - g, c + w + i + t - g
    g = np.asarray(guess_untruncated, dtype=np.float64)
    return c - g, c + w + i - g


def wilson(p, n, z: float = Z) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval (center, margin) on p clipped to [0, 1]; NaN where n <= 0."""
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        z2n = np.where(n > 0, z * z / n, np.nan)
        denom = 1.0 + z2n
        center = (p + z2n / 2.0) / denom
        margin = z * np.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n)) / denom
    return center, margin


def accuracy_table(correct, incorrect, invalid, truncated, guess_all, guess_untruncated,
                   truncation: str = "failure") -> dict[str, np.ndarray]:
    """Every per-group statistic of §3 that depends on the outcome counters."""
    s, n = excess_trials(correct, incorrect, invalid, truncated, guess_all, guess_untruncated, truncation)
    with np.errstate(divide="ignore", invalid="ignore"):
        accuracy = np.where(n > 0, s / n, np.nan)
        total = (np.asarray(correct, np.float64) + incorrect + invalid + truncated)
        truncation_rate = np.where(total > 0, np.asarray(truncated, np.float64) / total, np.nan)
        invalid_rate = np.where(total > 0, np.asarray(invalid, np.float64) / total, np.nan)
    center, margin = wilson(accuracy, n)
    return {
        "n": n,
        "accuracy": accuracy,
        "center": center,
        "margin": margin,
        "lower": center - margin,
        "upper": center + margin,
        "truncation_rate": truncation_rate,
        "invalid_rate": invalid_rate,
    }


def sorted_quantile(values: np.ndarray, starts: np.ndarray, counts: np.ndarray, q: float,
                    mask: int | None = None) -> np.ndarray:
    """Linear-interpolated quantile (numpy's default) of sorted segments ``values[start:start+count]``.

    ``mask`` reads values packed in the low bits of sort keys, so only the picked ones are unpacked.
    """
    def pick(positions: np.ndarray) -> np.ndarray:
        picked = values[positions]
        return picked if mask is None else picked & mask

    return quantile_at(pick, starts, counts, q)


def quantile_at(pick: Callable[[np.ndarray], np.ndarray], starts: np.ndarray, counts: np.ndarray,
                q: float) -> np.ndarray:
    """:func:`sorted_quantile` where ``pick`` gives the sorted values at the given positions.

    The values need not exist as one sorted array: a cumulative histogram answers the same
    positions (``app.engine.grouping``), with the same interpolation to the last bit.
    """
    out = np.full(len(counts), np.nan)
    ok = counts > 0
    pos = q * (counts[ok] - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, counts[ok] - 1)
    base = starts[ok]
    v_lo, v_hi = pick(base + lo), pick(base + hi)
    v_lo, v_hi = v_lo.astype(np.float64), v_hi.astype(np.float64)
    out[ok] = v_lo + (pos - lo) * (v_hi - v_lo)
    return out


# ---------------------------------------------------------------- comparing two evals (spec §12)
EQUIVALENCE_MARGIN = 0.05  # a difference whose whole 95% interval lies within ±this is "equivalent"
ALPHA = 0.05               # a better/worse verdict also needs the Holm-adjusted p-value below this
MIN_TRIALS = 10            # fewer guess-corrected trials on either side: too few for the normal test, "unclear"
VERDICTS = ("a_better", "b_better", "equivalent", "unclear")


def newcombe(p_a, n_a, p_b, n_b, z: float = Z) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Newcombe's hybrid score interval (his method 10) for a − b: (diff, lower, upper).

    Built from the two §3 Wilson intervals (same z, same clipping of p to [0, 1]):
    ``lower = diff − √((p_a − l_a)² + (u_b − p_b)²)``, ``upper = diff + √((u_a − p_a)² + (p_b − l_b)²)``.
    ``diff`` is the difference of the guess-corrected accuracies as given (which may lie below 0,
    worse than chance); the widths come from the Wilson intervals on the clipped p, so on
    guess-free data this is the textbook interval. NaN where either n <= 0.
    """
    p_a, p_b = np.asarray(p_a, dtype=np.float64), np.asarray(p_b, dtype=np.float64)
    center_a, margin_a = wilson(p_a, n_a, z)
    center_b, margin_b = wilson(p_b, n_b, z)
    q_a, q_b = np.clip(p_a, 0.0, 1.0), np.clip(p_b, 0.0, 1.0)
    low_a, up_a = center_a - margin_a, center_a + margin_a
    low_b, up_b = center_b - margin_b, center_b + margin_b
    diff = p_a - p_b
    lower = diff - np.sqrt((q_a - low_a) ** 2 + (up_b - q_b) ** 2)
    upper = diff + np.sqrt((up_a - q_a) ** 2 + (q_b - low_b) ** 2)
    return diff, lower, upper


def two_proportion_p(s_a, n_a, s_b, n_b) -> np.ndarray:
    """Two-sided p-value of the pooled two-proportion z-test of a = b.

    ``z = (p_a − p_b) / √(p̄(1 − p̄)(1/n_a + 1/n_b))`` with ``p̄ = (s_a + s_b) / (n_a + n_b)``
    (clipped to [0, 1]) and p = erfc(|z|/√2). With guess-corrected successes and trials
    (s = C − G, n = … − G) the same formula reads the excess over chance; on guess-free data
    it is the textbook test. A zero standard error (both all right or all wrong) is no evidence
    of a difference: p = 1. NaN where either n <= 0.
    """
    s_a, n_a, s_b, n_b = (np.asarray(x, dtype=np.float64) for x in (s_a, n_a, s_b, n_b))
    ok = (n_a > 0) & (n_b > 0)
    out = np.full(np.broadcast(s_a, n_a, s_b, n_b).shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = np.clip((s_a + s_b) / (n_a + n_b), 0.0, 1.0)
        se = np.sqrt(pooled * (1.0 - pooled) * (1.0 / n_a + 1.0 / n_b))
        z = np.abs(s_a / n_a - s_b / n_b) / se
    erfc = np.vectorize(math.erfc, otypes=[np.float64])
    out = np.where(ok & (se > 0), erfc(np.where(se > 0, z, 0.0) / math.sqrt(2.0)), out)
    return np.where(ok & ~(se > 0), 1.0, out)


def holm(p) -> np.ndarray:
    """Holm's step-down adjustment of one family of p-values; NaN ones are left out of the family and stay NaN.

    Sorted ascending, the k-th smallest (k from 0, m tested) becomes ``max over j ≤ k of min(1, (m − j)·p_(j))``.
    """
    p = np.asarray(p, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    if tested.size == 0:
        return out
    order = tested[np.argsort(p[tested], kind="stable")]
    m = order.size
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(scaled)
    return out


def verdicts(lower, upper, p_holm, n_a, n_b) -> np.ndarray:
    """``a_better`` / ``b_better`` / ``equivalent`` / ``unclear`` per group, from the interval and Holm's p.

    Better: the interval excludes 0 on that side, Holm's p < :data:`ALPHA` and both sides have at
    least :data:`MIN_TRIALS` trials (so the verdict never contradicts the interval, and across
    many groups a pair of equal models is called different at most ~5% of the time).
    Equivalent: the whole interval lies within ±:data:`EQUIVALENCE_MARGIN`. Else unclear.
    """
    lower, upper, p_holm = (np.asarray(x, dtype=np.float64) for x in (lower, upper, p_holm))
    enough = (np.asarray(n_a, dtype=np.float64) >= MIN_TRIALS) & (np.asarray(n_b, dtype=np.float64) >= MIN_TRIALS)
    significant = enough & (p_holm < ALPHA)
    out = np.full(lower.shape, "unclear", dtype=object)
    out[enough & (lower >= -EQUIVALENCE_MARGIN) & (upper <= EQUIVALENCE_MARGIN)] = "equivalent"
    out[significant & (lower > 0)] = "a_better"
    out[significant & (upper < 0)] = "b_better"
    return out


def compare_table(s_a, n_a, s_b, n_b, z: float = Z) -> dict[str, np.ndarray]:
    """Every comparison statistic of two evals over one family of groups (Holm adjusts across them).

    ``s``/``n`` are the guess-corrected successes and trials of §3 (``excess_trials``), one per group.
    """
    s_a, n_a, s_b, n_b = (np.atleast_1d(np.asarray(x, dtype=np.float64)) for x in (s_a, n_a, s_b, n_b))
    with np.errstate(divide="ignore", invalid="ignore"):
        acc_a = np.where(n_a > 0, s_a / n_a, np.nan)
        acc_b = np.where(n_b > 0, s_b / n_b, np.nan)
    diff, lower, upper = newcombe(acc_a, n_a, acc_b, n_b, z)
    p_value = two_proportion_p(s_a, n_a, s_b, n_b)
    p_holm = holm(p_value)
    return {"n_a": n_a, "n_b": n_b, "accuracy_a": acc_a, "accuracy_b": acc_b, "diff": diff,
            "diff_lower": lower, "diff_upper": upper, "p_value": p_value, "p_holm": p_holm,
            "verdict": verdicts(lower, upper, p_holm, n_a, n_b)}
