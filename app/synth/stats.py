"""Spec §3 statistics over outcome counters, for measuring what was planted.

The generator checks its own plants with these (and writes the numbers into the
truth file); the engine has its own implementation, which tests compare against
the truth.
"""

from __future__ import annotations

import numpy as np

Z = 1.96


def accuracy(counts: np.ndarray, guess: np.ndarray) -> np.ndarray:
    """Excess accuracy, truncation counted as failure; ``counts[..., 4]`` is C, W, I, T and ``guess`` is G."""
    n = counts.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (counts[..., 0] - guess) / (n - guess)


def wilson(p: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper 95% Wilson bounds on ``p`` clipped to [0, 1]."""
    p = np.clip(p, 0.0, 1.0)
    denom = 1.0 + Z**2 / n
    center = (p + Z**2 / (2 * n)) / denom
    margin = Z * np.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2)) / denom
    return center - margin, center + margin


def truncation_rate(counts: np.ndarray) -> np.ndarray:
    return counts[..., 3] / counts.sum(axis=-1)
