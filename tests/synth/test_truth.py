"""The planted truth (data/demo-truth.json) holds in the committed samples.

Checked with plain pandas, independently of the generator's own measurements.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from app.engine.schema import canonical_json, eval_id

FAIL = ["incorrect", "invalid"]


def accuracy(frame: pd.DataFrame) -> float:
    """Guess-corrected accuracy, truncation as failure (spec §3)."""
    g = frame["guess_rate"].astype(float).sum()
    return ((frame["outcome"] == "correct").sum() - g) / (len(frame) - g)


def wilson_lower(p: float, n: float, z: float = 1.96) -> float:
    p = min(max(p, 0.0), 1.0)
    center = (p + z * z / (2 * n)) / (1 + z * z / n)
    return center - z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)


def param(frame: pd.DataFrame, key: str) -> pd.Series:
    return frame["params"].map(lambda s: json.loads(s)[key])


def rows(samples: pd.DataFrame, eid: str, task: str | None = None) -> pd.DataFrame:
    sel = samples["eval_id"] == eid
    if task is not None:
        sel &= samples["base_task"] == task
    return samples[sel]


@pytest.fixture(scope="module")
def per_eval(samples: pd.DataFrame) -> pd.DataFrame:
    """Per eval: the numbers the archetype rules use."""
    task_acc = samples.groupby(["eval_id", "base_task"]).apply(accuracy, include_groups=False).unstack()
    out = pd.DataFrame({
        "acc_mean": task_acc.mean(axis=1), "acc_std": task_acc.std(axis=1, ddof=0), "acc_max": task_acc.max(axis=1),
        "trunc": samples.groupby("eval_id")["outcome"].apply(lambda o: (o == "truncated").mean()),
        "tokens": samples.groupby("eval_id")["completion_tokens"].mean(),
    })
    out["tokens_ratio"] = out["tokens"] / out["tokens"].median()
    return out


def classify(r: pd.Series) -> str | None:
    if r.trunc >= 0.10:
        return "truncation_victim"
    if r.tokens_ratio >= 1.5 and r.acc_mean >= 0.5:
        return "inefficient_reasoner"
    if r.acc_std >= 0.2 and r.acc_max >= 0.8:
        return "task_specialist"
    if r.acc_std <= 0.12 and r.acc_mean >= 0.5 and r.trunc < 0.05:
        return "balanced_generalist"
    return None


def test_meta_is_consistent(meta, samples, truth):
    assert {e["eval_id"] for e in meta["evals"]} == set(samples["eval_id"].unique())
    for e in meta["evals"]:
        assert e["eval_id"] == eval_id(e["model"], e["template"], e["sampler"])
        assert {k.split(":")[0] for k in e["groups"]} == {"arch", "size", "family"}
    names = {v["name"] for v in meta["views"]}
    for task in meta["tasks"]:
        k = len(task["params"])
        assert 2 <= k <= 3
        assert sum(v["base_task"] == task["base_task"] for v in meta["views"]) == k * (k - 1) // 2
        got = samples.loc[samples["base_task"] == task["base_task"], "guess_rate"].unique()
        assert list(got) == [pytest.approx(task["guess_rate"])]
    assert sorted(t["guess_rate"] for t in meta["tasks"])[-2:] == [0.25, 0.5]
    for key in ("cliff", "slope"):
        assert truth[key]["view"] in names


def test_params_and_manifold_are_canonical(samples):
    params = samples["params"].drop_duplicates()
    assert all(canonical_json(json.loads(p)) == p for p in params)
    manifolds = samples["manifold"].drop_duplicates().map(json.loads)
    assert all(set(m) == {"id", "target_tokens"} for m in manifolds)
    assert samples.groupby("base_task")["params"].nunique().between(30, 60).all()


def test_truncated_rows_sit_at_the_budget(meta, samples):
    budget = samples["eval_id"].map({e["eval_id"]: e["max_tokens"] for e in meta["evals"]})
    trunc = samples["outcome"] == "truncated"
    assert (samples.loc[trunc, "completion_tokens"] == budget[trunc]).all()
    assert (samples.loc[~trunc, "completion_tokens"] < budget[~trunc]).all()
    assert samples[["completion_tokens", "compressed_bytes"]].notna().all().all()


def test_archetypes_hold_and_nothing_else_matches(per_eval, truth):
    planted = {v["eval_id"]: k for k, v in truth["archetypes"].items()}
    assert sorted(planted.values()) == sorted(truth["archetype_rules"]["order"])
    got = {eid: classify(r) for eid, r in per_eval.iterrows()}
    assert {e: a for e, a in got.items() if a} == planted
    assert got == truth["eval_archetypes"]


def test_archetype_margins(per_eval, truth, samples):
    a = {k: per_eval.loc[v["eval_id"]] for k, v in truth["archetypes"].items()}
    victim = truth["archetypes"]["truncation_victim"]["eval_id"]
    by_task = rows(samples, victim).groupby("base_task")["outcome"].apply(lambda o: (o == "truncated").mean())
    assert by_task.between(0.15, 0.4).all() and 0.2 <= a["truncation_victim"].trunc <= 0.3
    ineff = a["inefficient_reasoner"]
    assert ineff.tokens_ratio >= 2.0 and ineff.acc_mean >= 0.6 and ineff.trunc < 0.05
    gen = a["balanced_generalist"]
    assert gen.acc_std <= 0.06 and 0.75 <= gen.acc_mean <= 0.85 and gen.trunc <= 0.02
    spec = truth["archetypes"]["task_specialist"]["eval_id"]
    task_acc = rows(samples, spec).groupby("base_task").apply(accuracy, include_groups=False)
    assert (task_acc >= 0.92).sum() == 3 and (task_acc[task_acc < 0.92] <= 0.3).all()


def test_cliff(samples, truth):
    c = truth["cliff"]
    frame = rows(samples, c["eval_id"], c["base_task"])
    by_value = frame.groupby(param(frame, c["param"])).apply(accuracy, include_groups=False)
    below, above = by_value[by_value.index <= c["threshold"]], by_value[by_value.index > c["threshold"]]
    assert len(below) >= 2 and len(above) >= 2
    assert below.min() >= 0.85 and above.max() <= 0.2


def test_slope(samples, truth):
    s = truth["slope"]
    frame = rows(samples, s["eval_id"], s["base_task"])
    by_value = frame.groupby(param(frame, s["param"])).apply(accuracy, include_groups=False)
    x, y = by_value.index.to_numpy(float), by_value.to_numpy()
    fit = np.polyval(np.polyfit(x, y, 1), x)
    assert 1 - ((y - fit) ** 2).sum() / ((y - y.mean()) ** 2).sum() >= 0.9
    assert y[0] - y[-1] >= 0.3 and np.abs(np.diff(y)).max() <= 0.2


def _fail_bins(frame: pd.DataFrame, width: int) -> pd.Series:
    fails = frame[frame["outcome"].isin(FAIL)]
    return (fails["completion_tokens"] // width).value_counts()


def test_context_wall(samples, truth):
    w = truth["context_wall"]
    j = w["tokens"] // w["bucket_size"]
    bins = _fail_bins(rows(samples, w["eval_id"]), w["bucket_size"])
    spike, before, after = bins.get(j, 0), bins.get(j - 1, 0), bins.get(j + 1, 0)
    assert spike >= 5 * max(before, after, 1)
    ref = _fail_bins(rows(samples, w["reference"]["eval_id"]), w["bucket_size"])
    assert ref.get(j, 0) <= 2 * max(ref.get(j - 1, 0), 1)


def test_broken_loops(samples, truth):
    lp = truth["broken_loops"]
    frame = samples[(samples["eval_id"] == lp["eval_id"]) & samples["base_task"].isin(lp["base_tasks"])]
    lo, hi = lp["compressed_bytes_range"]
    loops = frame[(frame["completion_tokens"] >= lp["tokens_min"]) & frame["compressed_bytes"].between(lo, hi)]
    assert len(loops) == lp["rows"] >= 0.1 * len(frame)
    assert (loops["outcome"] == "truncated").mean() >= 0.75
    assert (loops["compressed_bytes"] / loops["completion_tokens"]).max() < 0.15
    assert abs(np.corrcoef(loops["completion_tokens"], loops["compressed_bytes"])[0, 1]) < 0.2


def _medians(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.assign(bpt=frame["compressed_bytes"] / frame["completion_tokens"])
    return frame.groupby("outcome")[["completion_tokens", "compressed_bytes", "bpt"]].median()


def test_underthink(samples, truth):
    u = truth["underthink"]
    for task in u["base_tasks"]:
        m = _medians(rows(samples, u["eval_id"], task))
        assert m.loc["incorrect", "completion_tokens"] < 0.4 * m.loc["correct", "completion_tokens"]
        assert m.loc["incorrect", "compressed_bytes"] < 0.5 * m.loc["correct", "compressed_bytes"]


def test_overthink(samples, truth):
    o = truth["overthink"]
    for task in o["base_tasks"]:
        m = _medians(rows(samples, o["eval_id"], task))
        assert m.loc["incorrect", "completion_tokens"] > 2 * m.loc["correct", "completion_tokens"]
        assert m.loc["incorrect", "bpt"] < 0.6 * m.loc["correct", "bpt"]


def test_safe_zone(samples, truth):
    z = truth["safe_zone"]
    assert z["corners_safe"] >= 0.8 * z["corners_reachable"] > 0
    ev = rows(samples, z["eval_id"])
    for view in z["views"]:
        frame = ev[ev["base_task"] == view["base_task"]]
        keys = [k for k in view["corner"]]
        values = pd.DataFrame({k: param(frame, k) for k in keys})
        for cell in view["safe_cells"]:
            sel = (values[keys[0]] == cell[keys[0]]) & (values[keys[1]] == cell[keys[1]])
            part = frame[sel]
            p = accuracy(part)
            assert wilson_lower(p, len(part) - part["guess_rate"].astype(float).sum()) >= 0.9


def test_difficulty_raises_tokens_and_lowers_accuracy(samples):
    tier = samples["manifold"].map(lambda s: json.loads(s)["id"].rsplit("-", 1)[1])
    frame = samples.assign(tier=tier)
    for (eid, task), g in frame.groupby(["eval_id", "base_task"]):
        easy, hard = g[g["tier"] == "easy"], g[g["tier"] == "hard"]
        assert hard["completion_tokens"].mean() > easy["completion_tokens"].mean(), (eid, task)
        assert accuracy(hard) < accuracy(easy), (eid, task)


def test_healthy_bytes_per_token(samples):
    ok = samples[(samples["outcome"] == "correct") & samples["completion_tokens"].between(1000, 8000)]
    bpt = (ok["compressed_bytes"] / ok["completion_tokens"]).median()
    assert 0.25 <= bpt <= 0.4
