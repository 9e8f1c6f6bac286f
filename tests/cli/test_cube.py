"""``analyze.py cube``: what a user types, what it writes and says, and its answers to bad input."""

from __future__ import annotations

import json
import sys

import pytest

from app.cli import main
from app.engine import Dataset
from tests.importers.conftest import run_cli, snapshot


def test_it_writes_a_dataset_that_every_command_opens(bundled, tmp_path):
    result = run_cli("cube", bundled, "--out", tmp_path / "cube")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "cube" / "dataset.json")
    [line] = result.stderr.splitlines()
    assert line.startswith("cube (duckdb, ") and "250,880 completions in 3,920 points" in line
    doc = json.loads((tmp_path / "cube" / "dataset.json").read_text())
    assert doc["cube"]["grid_step"] == 64 and doc["cube"]["engine"] == "duckdb"
    assert (tmp_path / "cube" / doc["cube"]["file"]).is_file()
    table = run_cli("spiderweb", tmp_path / "cube", "--format", "csv", "--output-dir", tmp_path / "out")
    assert table.returncode == 0, table.stderr
    probe = run_cli("probe", tmp_path / "cube", "--filters", '{"base_task": "arithmetic"}', "--limit", "3")
    assert probe.returncode == 0, probe.stderr
    assert Dataset.open(tmp_path / "cube").n_samples == Dataset.open(bundled).n_samples


def test_building_again_replaces_the_cube_and_leaves_one_file(bundled, tmp_path):
    assert main(["cube", str(bundled), "--out", str(tmp_path), "--memory-limit", "1GB"]) == 0
    assert main(["cube", str(bundled), "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".parquet") == \
        [json.loads((tmp_path / "dataset.json").read_text())["cube"]["file"]]


@pytest.mark.parametrize("args, message", [
    (["--engine", "spark"], "invalid choice: 'spark'"),
    (["--scheduler", "tcp://127.0.0.1:1"], "--scheduler names a Dask scheduler: use it with --engine dask"),
    (["--memory-limit", "4GB'; DROP"], "--memory-limit bounds DuckDB's memory (--engine duckdb) and takes a size"),
    (["--memory-limit", "4GB", "--engine", "dask"], "--memory-limit bounds DuckDB's memory"),
])
def test_bad_options_are_one_line_and_write_nothing(bundled, tmp_path, args, message):
    result = run_cli("cube", bundled, "--out", tmp_path / "cube", *args)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert message in line
    assert not (tmp_path / "cube").exists() or snapshot(tmp_path / "cube") == {}


def test_an_unreachable_scheduler_is_one_line(bundled, tmp_path):
    pytest.importorskip("distributed")
    result = run_cli("cube", bundled, "--out", tmp_path / "cube", "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9")
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("error: cube build with dask failed") and "Traceback" not in result.stderr
    assert snapshot(tmp_path / "cube") == {}


def test_without_dask_the_command_says_how_to_install_it(bundled, tmp_path, monkeypatch, capsys):
    import app.cube

    monkeypatch.setitem(sys.modules, "dask", None)   # as if it were not installed (an import raises)
    monkeypatch.delitem(sys.modules, "app.cube.dask_engine", raising=False)   # imported afresh, not from a test before
    monkeypatch.delattr(app.cube, "dask_engine", raising=False)
    assert main(["cube", str(bundled), "--out", str(tmp_path / "cube"), "--engine", "dask"]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("error: the dask cube engine needs dask") and \
        line.endswith(": pip install 'dask[dataframe]' distributed")


def test_samples_that_are_not_there_are_named(bundled, tmp_path):
    doc = json.loads(bundled.read_text())
    doc["samples"] = "s3-bucket-that-is-not-mounted/*.parquet"
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "dataset.json").write_text(json.dumps(doc))
    result = run_cli("cube", tmp_path / "src", "--out", tmp_path / "cube")
    assert result.returncode == 2
    assert result.stderr.strip() == ("error: samples 's3-bucket-that-is-not-mounted/*.parquet': no Parquet file found "
                                     "(expected a file, a folder of *.parquet, a glob, or a URL to one of these)")
