"""``analyze.py import --partition-by eval_id``: samples as one Parquet file per eval, read as the one-file form.

The same records are imported twice, into one file and into a folder of parts; everything the engine answers
must be the same, merges must keep the form, and a killed write's folders must be swept like its files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from app.cli import main
from app.cube.build import build_cube
from app.engine import Dataset
from tests.web import probe_data


def imported(out: Path, records: list[dict], *partition: str) -> Dataset:
    source = out.parent / f"{out.name}.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    assert main(["import", str(source), "--adapter", "samples", "--out", str(out), *partition]) == 0
    return Dataset.open(out)


def same(a: Dataset, b: Dataset) -> None:
    for by in (["eval_id", "base_task"], ["eval_id", "params.n", "outcome"]):
        pd.testing.assert_frame_equal(a.aggregate(None, by), b.aggregate(None, by), check_exact=True)
    pd.testing.assert_frame_equal(a.completions(None, limit=1000), b.completions(None, limit=1000))
    pd.testing.assert_frame_equal(a.samples(None, ["eval_id", "outcome", "completion_tokens", "row"]),
                                  b.samples(None, ["eval_id", "outcome", "completion_tokens", "row"]))


def test_one_file_per_eval_answers_as_one_file(tmp_path):
    one = imported(tmp_path / "one", probe_data.RECORDS)
    parts = imported(tmp_path / "parts", probe_data.RECORDS, "--partition-by", "eval_id")
    folder = tmp_path / "parts" / parts.meta.samples
    assert folder.is_dir() and sorted(p.name for p in folder.iterdir()) == ["part-00000.parquet", "part-00001.parquet"]
    assert [set(pq.read_table(p, columns=["eval_id"])["eval_id"].to_pylist()) for p in sorted(folder.iterdir())] == \
        [{e} for e in sorted(parts.meta.eval_labels)]
    assert parts.has_text
    same(one, parts)


def test_a_merge_keeps_the_parts_and_replaces_their_points(tmp_path):
    first = [r for r in probe_data.RECORDS if r["params"]["n"] != 3]
    later = [dict(r, outcome="incorrect") for r in probe_data.RECORDS if r["params"]["n"] >= 2]
    imported(tmp_path / "one", first)
    imported(tmp_path / "parts", first, "--partition-by", "eval_id")
    old = json.loads((tmp_path / "parts" / "dataset.json").read_text())["samples"]
    one, parts = imported(tmp_path / "one", later), imported(tmp_path / "parts", later)
    assert (tmp_path / "parts" / parts.meta.samples).is_dir() and parts.meta.samples != old
    assert not (tmp_path / "parts" / old).exists()
    same(one, parts)


def test_a_cube_of_the_parts_is_the_cube_of_the_file(tmp_path):
    one = imported(tmp_path / "one", probe_data.RECORDS)
    imported(tmp_path / "parts", probe_data.RECORDS, "--partition-by", "eval_id")
    build_cube(tmp_path / "one", tmp_path / "c1")
    build_cube(tmp_path / "parts", tmp_path / "c2")
    a, b = Dataset.open(tmp_path / "c1"), Dataset.open(tmp_path / "c2")
    pd.testing.assert_frame_equal(a.aggregate(None, ["eval_id", "outcome"]), b.aggregate(None, ["eval_id", "outcome"]))
    assert a.n_samples == b.n_samples == one.n_samples


def test_a_killed_partitioned_write_leaves_nothing_behind_the_next_import(tmp_path):
    imported(tmp_path / "parts", probe_data.RECORDS, "--partition-by", "eval_id")
    named = json.loads((tmp_path / "parts" / "dataset.json").read_text())["samples"]
    for left in (".samples-0123abcd.tmp", "samples-89abcdef"):
        (tmp_path / "parts" / left).mkdir()
        (tmp_path / "parts" / left / "part-00000.parquet").write_bytes(b"PAR1")
    (tmp_path / "parts" / "samples-fedcba98").mkdir()
    (tmp_path / "parts" / "samples-fedcba98" / "notes.txt").write_text("not ours")
    imported(tmp_path / "parts", probe_data.RECORDS[:3])
    left = {p.name for p in (tmp_path / "parts").iterdir()}
    assert ".samples-0123abcd.tmp" not in left and "samples-89abcdef" not in left
    assert "samples-fedcba98" in left   # holds something a write never makes: not removed
    now = json.loads((tmp_path / "parts" / "dataset.json").read_text())["samples"]
    assert now in left and now != named and named not in left   # the merge swapped in a new folder
