"""The statistics of spec §3, vectorised over groups.

Counters are summed per group before anything here is called: rates are
computed once from sums, never averaged from per-point rates.
"""

from __future__ import annotations

from typing import Any

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
    out = np.full(len(counts), np.nan)
    ok = counts > 0
    pos = q * (counts[ok] - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, counts[ok] - 1)
    base = starts[ok]
    v_lo, v_hi = values[base + lo], values[base + hi]
    if mask is not None:
        v_lo, v_hi = v_lo & mask, v_hi & mask
    v_lo, v_hi = v_lo.astype(np.float64), v_hi.astype(np.float64)
    out[ok] = v_lo + (pos - lo) * (v_hi - v_lo)
    return out
