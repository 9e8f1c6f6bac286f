"""Dataset.open and its queries, checked against plain pandas on the same rows."""

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from app.engine import Dataset, InputError
from app.engine.schema import OUTCOMES, eval_id
from app.engine.stats import accuracy_table

from .conftest import EVALS, write

ALPHA = eval_id("alpha", "chat", "greedy")
BETA = eval_id("beta", "chat", "greedy")
GAMMA = eval_id("gamma", "plain", "t0.7")


def frame(rows):
    df = pd.DataFrame(rows)
    params = df["params"].map(json.loads)
    df["params.x"], df["params.y"] = params.map(lambda p: p["x"]), params.map(lambda p: p["y"])
    df["manifold.id"] = df["manifold"].map(lambda m: json.loads(m)["id"])
    tags = {eval_id(e["model"], e["template"], e["sampler"]): dict(t.split(":") for t in e["groups"]) for e in EVALS}
    df["groups.arch"] = df["eval_id"].map(lambda e: tags[e]["arch"])
    return df


def expected(df, keys, truncation="failure"):
    out = []
    for key, g in df.groupby(keys, sort=True):
        c, w, i, t = (int((g.outcome == o).sum()) for o in OUTCOMES)
        stats = accuracy_table(c, w, i, t, g.guess_rate.sum(), g.guess_rate[g.outcome != "truncated"].sum(),
                               truncation)
        tok = g.completion_tokens.dropna()
        out.append({**dict(zip(keys, key if isinstance(key, tuple) else (key,))),
                    "correct": c, "incorrect": w, "invalid": i, "truncated": t,
                    **{k: float(v) for k, v in stats.items()},
                    "tokens_mean": tok.mean(), "tokens_p50": tok.quantile(0.5), "tokens_p95": tok.quantile(0.95)})
    return pd.DataFrame(out)


def assert_matches(got, want, keys):
    got = got.sort_values(keys).reset_index(drop=True)
    want = want.sort_values(keys).reset_index(drop=True)
    assert list(got[keys].astype(str).itertuples(index=False)) == list(want[keys].astype(str).itertuples(index=False))
    for col in want.columns.difference(keys):
        np.testing.assert_allclose(got[col].astype(float), want[col].astype(float), rtol=1e-12, err_msg=col)


def test_open_reports_sizes(ds, rows):
    assert ds.n_samples == len(rows)
    assert "3 evals, 2 tasks, 36 points" in repr(ds)


def test_eval_id_is_sha256_prefix_of_model_template_sampler():
    import hashlib
    assert eval_id("alpha", "chat", "greedy") == hashlib.sha256(b"alpha|chat|greedy").hexdigest()[:6]


def test_evals_tasks_views(ds):
    evals = ds.evals()
    assert set(evals.eval_id) == {ALPHA, BETA, GAMMA}
    assert evals.set_index("eval_id").loc[ALPHA, "groups"] == ["arch:moe", "size:large"]
    assert pd.isna(evals.set_index("eval_id").loc[GAMMA, "max_tokens"])
    tasks = ds.tasks().set_index("base_task")
    assert tasks.loc["arith", "params"] == ["x", "y"]
    assert tasks.loc["arith", "values"] == {"x": [1, 2, 3], "y": ["a", "b"]}
    # every pair of varying params is proposed as a 2-D view
    assert sorted(ds.views().name) == ["arith: x x y", "choice: x x y"]


@pytest.mark.parametrize("keys", [
    ["eval_id", "base_task"], ["eval_id"], ["base_task", "params.x", "params.y"], ["groups.arch"],
    ["manifold.id", "outcome"], ["params.y", "eval_id"],
])
def test_aggregate_over_every_kind_of_dimension_equals_pandas(ds, rows, keys):
    df = frame(rows)
    assert_matches(ds.aggregate(group_by=keys), expected(df, keys), keys)


@pytest.mark.parametrize("truncation", ["failure", "separate"])
def test_both_truncation_modes(ds, rows, truncation):
    df = frame(rows)
    keys = ["eval_id", "base_task"]
    assert_matches(ds.aggregate(group_by=keys, truncation=truncation), expected(df, keys, truncation), keys)


def test_counters_are_summed_before_rates(tmp_path):
    eid = eval_id("alpha", "chat", "greedy")
    base = {"eval_id": eid, "base_task": "t", "manifold": None, "completion_tokens": 10, "compressed_bytes": 5,
            "guess_rate": 0.0}
    rows = [{**base, "params": '{"x":1}', "outcome": "correct"}] \
        + [{**base, "params": '{"x":2}', "outcome": o} for o in ["correct"] + ["incorrect"] * 9]
    ds = write(tmp_path / "d", rows, evals=EVALS[:1])
    row = ds.aggregate(group_by=["eval_id"]).iloc[0]
    assert row.accuracy == pytest.approx(2 / 11)  # not the mean of 1.0 and 0.1


@pytest.mark.parametrize("filters, keep", [
    ({"eval_id": [ALPHA, BETA]}, lambda d: d.eval_id.isin([ALPHA, BETA])),
    ({"base_task": "choice"}, lambda d: d.base_task == "choice"),
    ({"params.x": [1, 3], "params.y": "b"}, lambda d: d["params.x"].isin([1, 3]) & (d["params.y"] == "b")),
    ({"manifold.id": "grid2"}, lambda d: d["manifold.id"] == "grid2"),
    ({"groups": ["arch:moe", "size:small"]}, lambda d: d.eval_id.isin([ALPHA, GAMMA])),       # OR
    ({"groups": [["arch:dense", "size:large"]]}, lambda d: d.eval_id == BETA),                # AND
    ({"groups": [["arch:dense", "size:large"], "arch:moe"]}, lambda d: d.eval_id.isin([ALPHA, BETA])),
    ({"groups.size": "small"}, lambda d: d.eval_id == GAMMA),
    ({"model": "beta", "template": "chat"}, lambda d: d.eval_id == BETA),
    ({"outcome": ["correct", "truncated"]}, lambda d: d.outcome.isin(["correct", "truncated"])),
])
def test_filters_select_the_right_samples(ds, rows, filters, keep):
    df = frame(rows)
    want = df[keep(df)]
    keys = ["eval_id", "base_task"]
    assert_matches(ds.aggregate(filters, group_by=keys), expected(want, keys), keys)
    assert len(ds.samples(filters)) == len(want)


@pytest.mark.parametrize("filters, message", [
    ({"eval_id": "zzzzzz"}, "unknown eval id zzzzzz; valid: "),
    ({"base_task": "nope"}, "unknown task nope; valid: arith, choice"),
    ({"params.x": 9}, "unknown value of params.x 9; valid: 1, 2, 3"),
    ({"params.depth": 1}, "unknown dimension 'params.depth'"),
    ({"groups": ["arch:ssm"]}, "unknown tag 'arch:ssm'; tags: arch:dense, arch:moe"),
    ('{"eval_id": ', "not valid JSON"),
])
def test_bad_filters_name_the_problem_and_valid_values(ds, filters, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        ds.aggregate(filters)


def test_unknown_group_by_dimension_lists_valid_ones(ds):
    with pytest.raises(InputError, match=r"unknown dimension 'params\.z'.*valid: eval_id, model"):
        ds.aggregate(group_by=["params.z"])


def test_empty_selection_gives_an_empty_table(ds):
    out = ds.aggregate({"eval_id": GAMMA, "groups": ["arch:moe"]})
    assert out.empty and "center" in out.columns


def test_samples_columns_and_dimensions(ds, rows):
    got = ds.samples({"eval_id": ALPHA, "base_task": "arith"},
                     columns=["params.x", "outcome", "completion_tokens", "compressed_bytes", "groups.arch"])
    df = frame(rows)
    want = df[(df.eval_id == ALPHA) & (df.base_task == "arith")]
    assert len(got) == len(want)
    assert sorted(got["completion_tokens"].dropna().astype(int)) == sorted(want.completion_tokens.dropna().astype(int))
    assert got["completion_tokens"].isna().sum() == want.completion_tokens.isna().sum()
    assert set(got["groups.arch"]) == {"moe"}
    assert got["outcome"].value_counts().to_dict() == {o: int((want.outcome == o).sum()) for o in OUTCOMES}


def test_a_parquet_in_another_row_order_gives_the_same_answers(tmp_path, ds, rows):
    shuffled = tmp_path / "shuffled"
    shuffled.mkdir()
    meta = json.loads(ds.path.read_text())
    table = pq.read_table(ds.path.parent / meta["samples"])
    order = np.random.default_rng(5).permutation(len(table))
    pq.write_table(table.take(order), shuffled / "samples.parquet")
    (shuffled / "dataset.json").write_text(json.dumps({**meta, "samples": "samples.parquet"}))
    other = Dataset.open(shuffled)
    keys = ["eval_id", "params.x"]
    assert_matches(other.aggregate(group_by=keys), ds.aggregate(group_by=keys).drop(columns=[
        c for c in ds.aggregate(group_by=keys).columns if c.startswith("tokens_mean_") or c in ("n", "samples")]),
        keys)


@pytest.mark.parametrize("breakage, message", [
    (lambda d: (d / "dataset.json").write_text("{not json"), "not a readable dataset.json"),
    (lambda d: (d / "samples.parquet").write_bytes(b"PAR1garbage"), "cannot read samples"),
    (lambda d: (d / "samples.parquet").unlink(), "cannot read samples"),
])
def test_broken_files_are_input_errors(tmp_path, rows, breakage, message):
    write(tmp_path / "d", rows)
    breakage(tmp_path / "d")
    with pytest.raises(InputError, match=message):
        Dataset.open(tmp_path / "d")


def test_missing_dataset_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no dataset at"):
        Dataset.open(tmp_path / "nowhere")


def test_samples_naming_an_undescribed_eval_are_rejected(tmp_path, rows):
    write(tmp_path / "d", rows)
    meta = json.loads((tmp_path / "d" / "dataset.json").read_text())
    meta["evals"] = meta["evals"][:1]
    (tmp_path / "d" / "dataset.json").write_text(json.dumps(meta))
    with pytest.raises(InputError, match="not described in dataset.json"):
        Dataset.open(tmp_path / "d")


def test_counters_only_queries_skip_the_quantiles(ds):
    full = ds.aggregate(group_by=["eval_id"])
    quick = ds.aggregate(group_by=["eval_id"], quantiles=False)
    assert quick[["tokens_p50", "tokens_p95"]].isna().all().all()
    pd.testing.assert_frame_equal(quick.drop(columns=["tokens_p50", "tokens_p95"]),
                                  full.drop(columns=["tokens_p50", "tokens_p95"]))
