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
                 bucket_size: int, split_invalid: bool = False, weights: np.ndarray | None = None) -> pd.DataFrame:
    """Rows per (series, bin): at_risk, events, hazard_<event>, cif_<event> and the failure hazard.

    ``weights``: how many samples each entry stands for (a cube's histogram counts); None is one each.
    """
    events = event_names(split_invalid)
    columns = list(frame.columns) + ["bin", "bin_start", "bin_end", "samples", "at_risk"] + \
        [f"events_{e}" for e in events] + [f"hazard_{e}" for e in events] + ["hazard_failure"] + \
        [f"cif_{e}" for e in events]
    if len(tokens) == 0:
        return pd.DataFrame(columns=columns)
    n_series = len(frame)
    n_bins = int(tokens.max()) // bucket_size + 1
    # (series, bin, outcome) of each sample, built in place; in int32 when the key space allows (half the bytes)
    wide = np.int32 if n_series * n_bins * N_OUT < 2**31 else np.int64
    key: np.ndarray = np.asarray(series).astype(wide)
    key *= n_bins
    key += (tokens if tokens.dtype.kind in "iu" else tokens.astype(np.int64)) // bucket_size
    key *= N_OUT
    key += outcome
    counts = np.bincount(key, weights=weights, minlength=n_series * n_bins * N_OUT).reshape(
        n_series, n_bins, N_OUT).astype(np.float64)
    del key
    per_bin = counts.sum(2)
    if not split_invalid:
        counts[:, :, OUTCOME_CODE["incorrect"]] += counts[:, :, OUTCOME_CODE["invalid"]]
        counts[:, :, OUTCOME_CODE["invalid"]] = 0
    total = per_bin.sum(1, keepdims=True)
    at_risk = total - np.cumsum(per_bin, axis=1) + per_bin          # samples still running at bin_start
    # each series runs from bin 0 to its last non-empty bin; series with no samples get no rows
    filled = per_bin > 0
    last = np.where(filled.any(1), n_bins - 1 - np.argmax(filled[:, ::-1], axis=1), -1)
    kept = np.flatnonzero(last >= 0)
    if not len(kept):
        return pd.DataFrame(columns=columns)
    lengths = last[kept] + 1
    s = np.repeat(kept, lengths)                                       # the series of each row
    j = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)   # its bin
    part: dict[str, Any] = {col: _repeated(frame[col], kept, lengths) for col in frame.columns}
    risk = at_risk[s, j]
    part.update(bin=j, bin_start=j * bucket_size, bin_end=(j + 1) * bucket_size,
                samples=total[s, 0].astype(np.int64), at_risk=risk.astype(np.int64))
    with np.errstate(divide="ignore", invalid="ignore"):
        for e in events:
            d = counts[s, j, OUTCOME_CODE[e]]
            part[f"events_{e}"] = d.astype(np.int64)
            part[f"hazard_{e}"] = np.where(risk > 0, d / risk, np.nan)
        fail = counts[s, j, OUTCOME_CODE["incorrect"]] + counts[s, j, OUTCOME_CODE["invalid"]]
        part["hazard_failure"] = np.where(risk > 0, fail / risk, np.nan)
        for e in events:
            part[f"cif_{e}"] = np.cumsum(counts[:, :, OUTCOME_CODE[e]], axis=1)[s, j] / total[s, 0]
    return pd.DataFrame(part)[columns]


def _repeated(values: pd.Series, kept: np.ndarray, lengths: np.ndarray) -> pd.Series:
    """Series ``kept[i]``'s value ``lengths[i]`` times, typed as one list per series concatenated would be.

    Texts (or whole numbers) throughout are one list: the type a per-series build joins to.
    Anything else (a missing value, mixed types) is joined per series by ``pd.concat``, as
    before, so the table's columns keep exactly the types a per-series build gave them.
    """
    chosen = [values.iloc[k] for k in kept]
    if all(type(v) is str for v in chosen) or all(
            isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) and -2**63 <= v < 2**63
            for v in chosen):
        return pd.Series(np.repeat(np.array(chosen + [None], dtype=object)[:-1], lengths).tolist())
    pieces = [pd.DataFrame({"value": [v] * int(n)}) for v, n in zip(chosen, lengths)]
    return pd.concat(pieces, ignore_index=True)["value"]
