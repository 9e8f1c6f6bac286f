"""The hazard findings read the same however their samples arrive: the fast paths change no result.

``early_failure`` reads tasks as slices when the samples come grouped by task (the engine's
order) and sorts them otherwise; outcomes come from a categorical's codes or from text. Every
arrangement must give the identical evidence, and the same as the plain per-task computation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.findings import hazard as fh


def _samples(seed: int) -> pd.DataFrame:
    """Three tasks of different lengths; failures partly early; a few completions without a token count."""
    rng = np.random.default_rng(seed)
    n = 6_000
    task = rng.choice(["a", "b", "c"], n)
    scale = np.select([task == "a", task == "b"], [400, 1500], 3000)
    outcome = rng.choice(["correct", "incorrect", "invalid", "truncated"], n, p=[0.55, 0.3, 0.05, 0.1])
    tokens = (scale * rng.lognormal(0, 0.4, n)).astype(int) + 1
    quick = (outcome != "correct") & (rng.random(n) < 0.4)
    tokens = np.where(quick, tokens // 5 + 1, tokens)
    frame = pd.DataFrame({"base_task": task, "outcome": outcome,
                          "completion_tokens": pd.array(tokens, dtype="Int64")})
    frame.loc[rng.random(n) < 0.02, "completion_tokens"] = pd.NA
    return frame


def _plain(samples: pd.DataFrame) -> dict | None:
    """The rule computed the plain way: a mask per task over every sample."""
    samples = samples.dropna(subset=["completion_tokens"])
    tokens = samples["completion_tokens"].to_numpy(dtype=float)
    correct = (samples["outcome"] == "correct").to_numpy()
    failed = samples["outcome"].isin(("incorrect", "invalid")).to_numpy()
    task = samples["base_task"].astype(str).to_numpy()
    rel = np.full(len(samples), np.nan)
    for value in np.unique(task):
        mine = task == value
        if (mine & correct).sum() >= fh.MIN_N:
            rel[mine] = tokens[mine] / max(float(np.median(tokens[mine & correct])), 1.0)
    usable = np.isfinite(rel)
    return {"failed_early_share": float((rel[usable & failed] <= fh.EARLY_REL).mean()),
            "correct_early_share": float((rel[usable & correct] <= fh.EARLY_REL).mean()),
            "n_failed": int((usable & failed).sum()), "n_correct": int((usable & correct).sum())}


@pytest.mark.parametrize("seed", [1, 2])
def test_early_failure_is_the_same_grouped_shuffled_or_categorical(seed):
    frame = _samples(seed)
    grouped = frame.sort_values("base_task", kind="stable").reset_index(drop=True)
    categorical = grouped.astype({"base_task": "category", "outcome": "category"})
    timed = frame.dropna(subset=["completion_tokens"])
    results = [fh.early_failure(f.dropna(subset=["completion_tokens"])) for f in (frame, grouped, categorical)]
    assert results[0] is not None
    assert results[0] == results[1] == results[2]
    plain = _plain(timed)
    assert {k: results[0][k] for k in plain} == plain


def test_a_series_reading_skips_the_completions_without_tokens():
    frame = _samples(3).astype({"base_task": "category", "outcome": "category"})
    got = fh._early_failure(frame, frame["completion_tokens"].notna().to_numpy())
    assert got == fh.early_failure(frame.dropna(subset=["completion_tokens"]))
