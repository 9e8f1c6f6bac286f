"""Counter-array adapters over the engine's statistics, for measuring what was planted.

The rules themselves live once, in ``app.engine.stats``; this module only
reshapes the generator's ``[..., C, W, I, T]`` count arrays for them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from app.engine import stats as engine_stats


def accuracy(counts: np.ndarray, guess: np.ndarray) -> np.ndarray:
    """Excess accuracy, truncation counted as failure; ``counts[..., 4]`` is C, W, I, T and ``guess`` is G."""
    c, w, i, t = np.moveaxis(counts, -1, 0)
    s, n = engine_stats.excess_trials(c, w, i, t, guess, guess, truncation="failure")
    with np.errstate(invalid="ignore", divide="ignore"):
        return s / n


def wilson(p: Any, n: Any) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper 95% Wilson bounds on ``p`` clipped to [0, 1]."""
    center, margin = engine_stats.wilson(p, n)
    return center - margin, center + margin


def truncation_rate(counts: np.ndarray) -> np.ndarray:
    """Truncated share of counts whose last axis is (correct, incorrect, invalid, truncated)."""
    return counts[..., 3] / counts.sum(axis=-1)
