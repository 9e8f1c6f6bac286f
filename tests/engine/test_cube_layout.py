"""A cube dataset answers every engine query as the in-memory one does: exactly, or within half a token bin.

Each test builds the cube of a small dataset with the real DuckDB engine and compares the two opens.
"""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from app.cube.build import build_cube
from app.cube.spec import CubeSpec
from app.engine import Dataset
from app.engine.errors import InputError
from tests.engine.conftest import random_rows, write

QUANTILES = ["tokens_p50", "tokens_p95"]
GROUPINGS = [["eval_id", "base_task"], ["eval_id"], [], ["eval_id", "params.x", "params.y"], ["outcome"],
             ["groups.arch", "manifold.id"], ["base_task", "outcome"]]
FILTERS = [None, {"eval_id": []}, {"params.x": [1, 3]}, {"groups": ["arch:moe"], "base_task": "choice"}]


def cube_of(ds: Dataset, out, **spec) -> Dataset:
    build_cube(ds.path, out, spec=CubeSpec(**spec))
    return Dataset.open(out)


@pytest.fixture()
def pair(tmp_path):
    rows = random_rows(seed=3, samples=40)
    for i, r in enumerate(rows):
        r["text"] = f"completion {i}: " + "step " * (i % 7)
    ds = write(tmp_path / "ds", rows)
    return ds, cube_of(ds, tmp_path / "cube")


def first_eval(ds: Dataset) -> str:
    return str(ds.evals()["eval_id"].iloc[0])


@pytest.mark.parametrize("group_by", GROUPINGS)
@pytest.mark.parametrize("filters", FILTERS)
def test_aggregates_are_the_in_memory_numbers_and_quantiles_within_half_a_bin(pair, group_by, filters):
    ds, cube = pair
    if filters == {"eval_id": []}:
        filters = {"eval_id": [first_eval(ds)]}
    for truncation in ("failure", "separate"):
        want, got = ds.aggregate(filters, group_by, truncation), cube.aggregate(filters, group_by, truncation)
        exact = [c for c in want.columns if c not in QUANTILES]
        pd.testing.assert_frame_equal(got[exact], want[exact])
        step = cube.cube.grid_step
        for q in QUANTILES:
            assert np.all(np.abs(got[q] - want[q]) <= step / 2), q
            assert got[q].isna().equals(want[q].isna())


def test_one_token_bins_give_exact_quantiles(tmp_path):
    ds = write(tmp_path / "ds", random_rows(seed=5))
    cube = cube_of(ds, tmp_path / "cube", grid_step=1)
    by = ["eval_id", "base_task"]
    pd.testing.assert_frame_equal(cube.aggregate(None, by), ds.aggregate(None, by), check_exact=True)


@pytest.mark.parametrize("bucket", [64, 128, 256, 1024])
@pytest.mark.parametrize("split_invalid", [False, True])
def test_hazard_is_exact_at_multiples_of_the_grid(pair, bucket, split_invalid):
    ds, cube = pair
    for group_by in (["eval_id"], ["base_task", "params.x"], []):
        pd.testing.assert_frame_equal(cube.hazard(None, group_by, bucket, split_invalid),
                                      ds.hazard(None, group_by, bucket, split_invalid))


def test_hazard_at_another_bucket_size_keeps_its_counts(pair):
    """Off the grid a bin's completions fall in the bucket of the bin's start: totals stay, places move."""
    ds, cube = pair
    want, got = ds.hazard(None, ["eval_id"], 100), cube.hazard(None, ["eval_id"], 100)
    for frame in (want, got):
        assert frame.groupby("eval_id")["samples"].first().to_dict() == \
            want.groupby("eval_id")["samples"].first().to_dict()
    assert got.filter(like="events_").sum().sum() == want.filter(like="events_").sum().sum()


def test_the_longest_completion_bounds_the_hazard_bins_alike(pair):
    ds, cube = pair
    step = cube.cube.grid_step
    for filters in (None, {"base_task": "arith", "outcome": ["truncated"]}, {"params.x": 2}):
        longest = int(ds.samples(filters, ["completion_tokens"])["completion_tokens"].max())
        assert ds.longest_tokens(filters) == longest
        assert longest <= cube.longest_tokens(filters) < longest // step * step + step
        for bucket in (step, 4 * step):
            assert cube.longest_tokens(filters) // bucket == longest // bucket


def test_a_varying_guess_rate_is_summed(tmp_path):
    rows = random_rows(seed=9)
    rng = np.random.default_rng(1)
    for r in rows:
        r["guess_rate"] = float(rng.choice([0.0, 0.1, 0.25]))
    ds = write(tmp_path / "ds", rows)
    cube = cube_of(ds, tmp_path / "cube")
    want, got = ds.aggregate(None, ["eval_id", "params.x"]), cube.aggregate(None, ["eval_id", "params.x"])
    np.testing.assert_allclose(got["accuracy"], want["accuracy"], rtol=1e-12)


def test_the_dots_are_a_seeded_sample_of_each_point_and_keep_their_rows(pair, tmp_path):
    ds, cube = pair
    k = cube.cube.dots_per_point
    dots = cube.samples(None, ["eval_id", "base_task", "params", "manifold", "outcome", "completion_tokens",
                               "compressed_bytes", "row"])
    per_point = dots.groupby(["eval_id", "base_task", "params", "manifold"], observed=True).size()
    sizes = ds.samples(None, ["eval_id", "base_task", "params", "manifold"]).groupby(
        ["eval_id", "base_task", "params", "manifold"], observed=True).size()
    assert per_point.to_dict() == np.minimum(sizes, k).to_dict()
    # each dot is the completion at its row of the samples file
    file = pq.read_table(ds.path.parent / ds.meta.samples).to_pandas(types_mapper={pa.int32(): pd.Int32Dtype()}.get)
    at = file.iloc[dots["row"].to_numpy()]
    for col in ("eval_id", "base_task", "params", "outcome", "completion_tokens", "compressed_bytes"):
        assert at[col].astype(object).fillna(-1).astype(str).tolist() == \
            dots[col].astype(object).fillna(-1).astype(str).tolist(), col
    # the same seed picks the same dots; another seed others
    again = cube_of(ds, tmp_path / "again")
    assert sorted(again.samples(None, ["row"])["row"]) == sorted(dots["row"])
    other = cube_of(ds, tmp_path / "other", seed=1)
    assert sorted(other.samples(None, ["row"])["row"]) != sorted(dots["row"])


def test_memory_follows_points_not_completions(tmp_path):
    rows = random_rows(seed=2, samples=16)   # every point has at least its 16 dots
    one = cube_of(write(tmp_path / "one", rows), tmp_path / "c1")
    four = cube_of(write(tmp_path / "four", rows * 4), tmp_path / "c4")
    assert four.n_samples == 4 * one.n_samples
    lay1, lay4 = one._layout, four._layout
    assert len(lay4.row_point) == len(lay1.row_point) == one.cube.dots_per_point * lay1.n_points
    assert len(lay4.cell_count) == len(lay1.cell_count)
    assert len(lay4.histogram.bins) == len(lay1.histogram.bins)   # the same bins, counted 4 times


def test_the_probe_reads_the_same_completions_with_their_texts(pair):
    ds, cube = pair
    for filters, options in [({"eval_id": [first_eval(ds)], "base_task": "arith"}, {}),
                             ({"params.y": "b"}, {"outcomes": ["truncated", "invalid"]}),
                             (None, {"tokens": (100, 900), "limit": 300, "offset": 20})]:
        want, got = ds.completions(filters, **options), cube.completions(filters, **options)
        pd.testing.assert_frame_equal(got, want)
        assert got.attrs == want.attrs
        assert cube.count_completions(filters, outcomes=options.get("outcomes")) == \
            ds.count_completions(filters, outcomes=options.get("outcomes"))
    rows = ds.samples(None, ["row"])["row"].iloc[[3, 50, 700]].tolist()
    pd.testing.assert_frame_equal(cube.completions(rows=rows), ds.completions(rows=rows))
    assert cube.completions(rows=rows)["text"].str.startswith("completion ").all()


def test_unreachable_samples_leave_the_numbers_and_say_why_no_completion_shows(pair):
    ds, cube = pair
    folder = ds.path.parent
    shutil.rmtree(folder)
    reopened = Dataset.open(cube.path)
    assert reopened.aggregate(None, ["eval_id"]).equals(cube.aggregate(None, ["eval_id"]))
    assert not reopened.samples(None, ["row"]).empty   # the dots are in the cube
    with pytest.raises(InputError, match="not reachable"):
        reopened.completions({"base_task": "arith"})


def test_a_probe_too_wide_to_read_is_refused_with_the_numbers(pair, monkeypatch):
    ds, cube = pair
    monkeypatch.setattr("app.engine.dataset.PROBE_SOURCE_ROWS_MAX", 100)
    with pytest.raises(InputError, match=r"holds [\d,]+ completions; .* at most 100 .* narrow the filters"):
        cube.completions(None)
    assert cube.count_completions(None) == ds.count_completions(None)   # counted from the cube, nothing read


def test_a_partitioned_source_behind_a_url(tmp_path):
    ds = write(tmp_path / "ds", random_rows(seed=4))
    table = pq.read_table(ds.path.parent / ds.meta.samples)
    parts = tmp_path / "parts"
    for eid in sorted(set(table["eval_id"].to_pylist())):
        (parts / f"eval_id={eid}").mkdir(parents=True)
        pq.write_table(table.filter(pa.compute.equal(table["eval_id"], eid)), parts / f"eval_id={eid}" / "0.parquet")
    doc = json.loads(ds.path.read_text())
    doc["samples"] = f"file://{parts}"
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "dataset.json").write_text(json.dumps(doc))
    build_cube(tmp_path / "src", tmp_path / "cube")
    cube = Dataset.open(tmp_path / "cube")
    pd.testing.assert_frame_equal(cube.aggregate(None, ["eval_id", "outcome"], quantiles=False),
                                  ds.aggregate(None, ["eval_id", "outcome"], quantiles=False))
    keys = cube.samples(None, ["row"])["row"].to_numpy()
    assert len(np.unique(keys >> 40)) == 3   # one file per eval
    got = cube.completions({"base_task": "choice"}, limit=1000)
    want = ds.completions({"base_task": "choice"}, limit=1000)
    # rows are keyed by file here, by position there: the same completions, in the same probe order
    cols = ["eval_id", "base_task", "outcome", "completion_tokens", "compressed_bytes"]
    assert len(got) == len(want) > 0
    pd.testing.assert_frame_equal(got[cols], want[cols])
    assert got["params"].tolist() == want["params"].tolist()


def test_the_version_follows_the_cube_file(pair):
    _, cube = pair
    assert not cube.changed_on_disk()
    path = cube.path.parent / cube.cube.file
    os.utime(path, ns=(1, 1))
    assert cube.changed_on_disk()


def _rewrite(path, change) -> None:
    """Rewrite a cube file through ``change(table)``, keeping its footer."""
    pf = pq.ParquetFile(path)
    footer = pf.metadata.metadata
    table = change(pf.read())
    pf.close()
    with pq.ParquetWriter(path, table.schema) as writer:
        writer.write_table(table)
        writer.add_key_value_metadata({k: v for k, v in footer.items() if k.startswith(b"profile")})


@pytest.mark.parametrize("how, message", [
    ("missing", "cannot read the cube"),
    ("truncated", "cannot read the cube"),
    ("unsorted", "not in key order"),
    ("no footer", "not a cube of this version"),
    ("foreign", "not a cube of this version (missing column(s)"),
])
def test_a_broken_cube_is_one_clear_error(pair, how, message):
    _, cube = pair
    path = cube.path.parent / cube.cube.file
    if how == "missing":
        path.unlink()
    elif how == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif how == "unsorted":
        _rewrite(path, lambda t: t.take(pa.array(np.arange(len(t))[::-1])))
    elif how == "no footer":
        pq.write_table(pq.read_table(path), path)
    else:
        pq.write_table(pq.read_table(path).drop_columns(["hist_bin"]), path)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        Dataset.open(cube.path)
    assert str(path.name) in str(caught.value)


def test_whole_blocks_read_from_their_sums_as_their_cells_would_give(pair):
    """A params filter that keeps everything goes through the cells; none goes through the per-block sums."""
    _, cube = pair
    everything = {"params.x": [1, 2, 3]}
    for by in (["eval_id", "base_task"], ["base_task", "eval_id", "outcome"], ["groups.arch", "eval_id", "base_task"]):
        pd.testing.assert_frame_equal(cube.aggregate(None, by), cube.aggregate(everything, by), check_exact=True)
