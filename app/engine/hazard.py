"""Competing-risks view of token generation (spec §5).

Time is ``completion_tokens``; a sample's event is its outcome. With no
censoring the Aalen–Johansen cumulative incidence of cause k at a bin's end is
simply the share of the series' samples that ended in k before that token.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from app.bounds import BUCKET_SIZE_MAX, BUCKET_SIZE_MIN
from app.engine.errors import InputError
from app.engine.schema import OUTCOME_CODE, OUTCOMES

N_OUT = len(OUTCOMES)


def check_bucket_size(value: Any) -> int:
    """The one check of a bin width (engine, CLI, dashboard): a whole number of tokens within the bounds."""
    if (not isinstance(value, (int, np.integer)) or isinstance(value, bool)
            or not BUCKET_SIZE_MIN <= value <= BUCKET_SIZE_MAX):
        raise InputError(f"bucket size (--bucket-size) must be a whole number of tokens from {BUCKET_SIZE_MIN} to "
                         f"{BUCKET_SIZE_MAX}, not {value!r}")
    return int(value)


def event_names(split_invalid: bool) -> tuple[str, ...]:
    """The competing events: invalid counts as incorrect unless split out."""
    return ("correct", "incorrect", "invalid", "truncated") if split_invalid else ("correct", "incorrect", "truncated")


def hazard_table(series: np.ndarray, outcome: np.ndarray, tokens: np.ndarray, frame: pd.DataFrame,
                 bucket_size: int, split_invalid: bool = False) -> pd.DataFrame:
    """Rows per (series, bin): at_risk, events, hazard_<event>, cif_<event> and the failure hazard."""
    events = event_names(split_invalid)
    columns = list(frame.columns) + ["bin", "bin_start", "bin_end", "samples", "at_risk"] + \
        [f"events_{e}" for e in events] + [f"hazard_{e}" for e in events] + ["hazard_failure"] + \
        [f"cif_{e}" for e in events]
    if len(tokens) == 0:
        return pd.DataFrame(columns=columns)
    n_series = len(frame)
    n_bins = int(tokens.max()) // bucket_size + 1
    bins = tokens.astype(np.int64) // bucket_size
    counts = np.bincount((series * n_bins + bins) * N_OUT + outcome,
                         minlength=n_series * n_bins * N_OUT).reshape(n_series, n_bins, N_OUT).astype(np.float64)
    per_bin = counts.sum(2)
    if not split_invalid:
        counts[:, :, OUTCOME_CODE["incorrect"]] += counts[:, :, OUTCOME_CODE["invalid"]]
        counts[:, :, OUTCOME_CODE["invalid"]] = 0
    total = per_bin.sum(1, keepdims=True)
    at_risk = total - np.cumsum(per_bin, axis=1) + per_bin          # samples still running at bin_start
    last = np.array([np.flatnonzero(r).max() if r.any() else -1 for r in per_bin])

    pieces = []
    for s in range(n_series):
        if last[s] < 0:
            continue
        j = np.arange(last[s] + 1)
        part: dict[str, Any] = {col: [frame.iloc[s][col]] * len(j) for col in frame.columns}
        part.update(bin=j, bin_start=j * bucket_size, bin_end=(j + 1) * bucket_size,
                    samples=np.full(len(j), int(total[s, 0])), at_risk=at_risk[s, j].astype(np.int64))
        with np.errstate(divide="ignore", invalid="ignore"):
            for e in events:
                d = counts[s, j, OUTCOME_CODE[e]]
                part[f"events_{e}"] = d.astype(np.int64)
                part[f"hazard_{e}"] = np.where(at_risk[s, j] > 0, d / at_risk[s, j], np.nan)
            fail = counts[s, j, OUTCOME_CODE["incorrect"]] + counts[s, j, OUTCOME_CODE["invalid"]]
            part["hazard_failure"] = np.where(at_risk[s, j] > 0, fail / at_risk[s, j], np.nan)
            for e in events:
                part[f"cif_{e}"] = np.cumsum(counts[s, j, OUTCOME_CODE[e]]) / total[s, 0]
        pieces.append(pd.DataFrame(part))
    if not pieces:
        return pd.DataFrame(columns=columns)
    return pd.concat(pieces, ignore_index=True)[columns]
