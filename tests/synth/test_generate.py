"""Determinism, the public schema, and the CLI entry point."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq

from app.cli import main
from app.engine.schema import SAMPLES_SCHEMA
from app.synth import write_demo


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    a = write_demo(tmp_path / "a", seed=11)
    b = write_demo(tmp_path / "b", seed=11)
    c = write_demo(tmp_path / "c", seed=12)
    for name in ("samples.parquet", "dataset.json", "demo-truth.json"):
        assert _digest(tmp_path / "a" / name) == _digest(tmp_path / "b" / name), name
    ta = pq.read_table(tmp_path / "a" / "samples.parquet")
    tc = pq.read_table(tmp_path / "c" / "samples.parquet")
    assert ta.equals(pq.read_table(tmp_path / "b" / "samples.parquet"))
    assert not ta.equals(tc)
    assert ta.column("eval_id").unique().to_pylist() == tc.column("eval_id").unique().to_pylist()
    assert a.problems == b.problems == c.problems == []


def test_rerun_into_same_folder_keeps_canonical_names(tmp_path):
    out = tmp_path / "data"
    write_demo(out, seed=3)
    first = _digest(out / "samples.parquet")
    write_demo(out, seed=3)
    assert sorted(p.name for p in out.iterdir()) == ["dataset.json", "demo-truth.json", "samples.parquet"]
    assert _digest(out / "samples.parquet") == first


def test_cli_prints_written_paths(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--seed", "5"]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(out / "dataset.json"), str(out / "samples.parquet"), str(out / "demo-truth.json")]
    assert json.loads((out / "demo-truth.json").read_text())["seed"] == 5


def test_bundled_parquet_has_public_schema(bundled):
    meta = json.loads(bundled.read_text())
    schema = pq.read_schema(bundled.parent / meta["samples"])
    assert schema.remove_metadata().equals(SAMPLES_SCHEMA)


def test_bundled_is_small(bundled):
    total = sum(p.stat().st_size for p in bundled.parent.iterdir() if p.is_file())
    assert total < 4 * 1024 * 1024
