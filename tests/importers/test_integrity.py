"""What an import guarantees beyond valid records: no double counting, no merged evals, no leftovers."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from app.engine import Dataset, InputError
from app.engine.integrity import register_eval
from app.engine.meta import EvalMeta
from app.engine.schema import eval_id
from app.importers.duplicates import drop_duplicates
from tests.conftest import ROOT
from tests.importers.conftest import load, run_cli, snapshot, write_jsonl

GOOD = {"model": "m", "base_task": "t", "params": {"n": 1}, "outcome": "correct", "completion_tokens": 10}


def summary_line(stdout: str, start: str) -> str:
    [line] = [x for x in stdout.splitlines() if x.startswith(start)]
    return line


# ---------------------------------------------------------------- duplicate records

def test_a_file_given_twice_over_is_imported_once_and_the_summary_says_so(tmp_path):
    records = [{**GOOD, "sample": i, "text": f"answer {i}", "outcome": o}
               for i, o in enumerate(["correct", "incorrect", "correct", "truncated"])]
    src = write_jsonl(tmp_path / "twice.jsonl", records + records)      # a results file concatenated with itself
    result = run_cli("import", src, "--adapter", "samples", "--out", tmp_path / "ds")
    assert result.returncode == 0, result.stderr
    assert summary_line(result.stdout, "duplicate records") == \
        "duplicate records dropped: 4 (same point, sample index and content as an earlier record)"
    assert summary_line(result.stdout, "imported with").endswith("1 point(s), 4 sample(s)")
    assert "(every record was imported)" not in result.stdout
    _, samples = load(tmp_path / "ds")
    assert len(samples) == 4 and sorted(samples["sample"]) == [0, 1, 2, 3]
    assert Dataset.open(tmp_path / "ds").aggregate(group_by=["eval_id"]).iloc[0]["correct"] == 2


def test_no_duplicates_is_said_in_one_line(tmp_path):
    src = write_jsonl(tmp_path / "ok.jsonl", [{**GOOD, "sample": i} for i in range(3)])
    result = run_cli("import", src, "--adapter", "samples", "--out", tmp_path / "ds")
    assert summary_line(result.stdout, "duplicate records") == "duplicate records: none"


def test_what_cannot_be_told_apart_is_kept_and_counted():
    rows = [
        {"sample": 0, "text": "a", "outcome": "correct"},
        {"sample": 0, "text": "b", "outcome": "incorrect"},     # index reused, other content: conflicting, kept
        {"sample": None, "text": "same", "outcome": "correct"},
        {"sample": None, "text": "same", "outcome": "correct"},  # no index, same text: identical, kept
        {"sample": None, "text": None, "outcome": "correct"},
        {"sample": None, "text": None, "outcome": "correct"},    # no index, no text: the normal case, not counted
    ]
    base = {"eval_id": "e", "base_task": "t", "params": "{}", "manifold": None, "completion_tokens": 1,
            "compressed_bytes": 1, "guess_rate": 0.0}
    table, found = drop_duplicates(pa.Table.from_pylist([{**base, **r} for r in rows]))
    assert (found.dropped, found.conflicting, found.identical) == (0, 1, 1) and table.num_rows == 6
    assert found.lines()[0] == "duplicate records dropped: 0 (same point, sample index and content as an " \
                               "earlier record)"
    assert any("reuse the sample index" in line for line in found.lines())


def test_duplicates_of_real_results_are_dropped_whatever_the_adapter(tmp_path, shared_data):
    """The same babilong run given twice (two copies of one result folder) counts once."""
    import shutil

    src = shared_data / "babilong"
    run = next(p.parent for p in sorted(src.rglob("*.csv")))
    for copy in ("a", "b"):
        shutil.copytree(run, tmp_path / copy / run.parent.name / run.name)
    once = run_cli("import", tmp_path / "a", "--adapter", "babilong", "--out", tmp_path / "once")
    both = run_cli("import", tmp_path / "a", tmp_path / "b", "--adapter", "babilong", "--out", tmp_path / "both")
    assert once.returncode == 0 and both.returncode == 0, both.stderr
    n = len(load(tmp_path / "once")[1])
    assert len(load(tmp_path / "both")[1]) == n
    assert summary_line(both.stdout, "duplicate records") == \
        f"duplicate records dropped: {n} (same point, sample index and content as an earlier record)"


# ---------------------------------------------------------------- eval ids

def test_an_eval_colliding_with_one_in_the_target_is_refused_by_file_and_line(tmp_path):
    first = write_jsonl(tmp_path / "first.jsonl", [{**GOOD, "model": "m|x", "template": "t"}])
    assert run_cli("import", first, "--adapter", "samples", "--out", tmp_path / "ds").returncode == 0
    before = snapshot(tmp_path / "ds")
    second = write_jsonl(tmp_path / "second.jsonl", [{**GOOD, "model": "m", "template": "x|t"}])
    result = run_cli("import", second, "--adapter", "samples", "--out", tmp_path / "ds")
    assert result.returncode == 2 and snapshot(tmp_path / "ds") == before
    assert result.stderr.splitlines() == [
        f'error: {second}:1: two different evals would get eval_id {eval_id("m", "x|t", "default")}: model "m|x", '
        'template "t", sampler "default" (already in the dataset) and model "m", template "x|t", sampler '
        '"default"; eval_id is the first 6 hex of sha256("model|template|sampler") and the \'|\' inside a name '
        'makes both read the same "model|template|sampler"; rename one so no name holds \'|\'']


def test_adapters_that_collect_evals_by_id_refuse_a_collision():
    evals: dict[str, EvalMeta] = {}
    a = register_eval(evals, EvalMeta(model="m|x", template="t"), "run-a")
    assert register_eval(evals, EvalMeta(model="m|x", template="t"), "run-a2") is a    # the same eval: kept once
    with pytest.raises(InputError, match=r"^run-b: two different evals would get eval_id"):
        register_eval(evals, EvalMeta(model="m", template="x|t"), "run-b")


# ---------------------------------------------------------------- killed imports

KILL = """
import os, signal, sys
sys.path.insert(0, {root!r})
import app.engine.store as store
from app.cli import main

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)          # the kernel ends the import here: no cleanup runs

if {at!r} == "json":                               # after the data files, before dataset.json is written
    store.write_json = die
else:                                              # after the data files were renamed, before dataset.json
    replace = store.os.replace
    store.os.replace = lambda src, dst: die() if str(dst).endswith("dataset.json") else replace(src, dst)
main(["import", *sys.argv[1:]])
"""


def killed_import(at: str, *args) -> None:
    result = subprocess.run([sys.executable, "-c", KILL.format(root=str(ROOT), at=at), *map(str, args)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == -signal.SIGKILL, result.stderr


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_what_killed_imports_leave_is_removed_by_the_next_import(tmp_path):
    records = [{**GOOD, "sample": i, "text": "t" * 50 + str(i)} for i in range(20)]
    src = write_jsonl(tmp_path / "r.jsonl", records)
    out = tmp_path / "ds"
    killed_import("json", src, "--adapter", "samples", "--out", out)          # first import: staging beside
    assert not out.exists() and [n.startswith(".ds.") for n in hidden(tmp_path)] == [True]
    ok = run_cli("import", src, "--adapter", "samples", "--out", out)
    assert ok.returncode == 0 and hidden(tmp_path) == []
    assert summary_line(ok.stdout, "removed").startswith("removed 1 file(s) left by interrupted imports: .ds.")

    clean = snapshot(out)
    killed_import("json", src, "--adapter", "samples", "--out", out)          # a merge: temp files inside
    killed_import("replace", src, "--adapter", "samples", "--out", out)       # killed between its renames
    left = sorted(set(snapshot(out)) - set(clean))
    assert ".dataset.json.tmp" in left and any(n.startswith("samples-") for n in left), left
    ok = run_cli("import", src, "--adapter", "samples", "--out", out)
    assert ok.returncode == 0
    doc = json.loads((out / "dataset.json").read_text())
    assert sorted(snapshot(out)) == sorted(["dataset.json", doc["samples"], doc["texts"]])
    head, names = summary_line(ok.stdout, "removed").split(": ")
    assert head == f"removed {len(left)} file(s) left by interrupted imports" and sorted(names.split(", ")) == left
    assert Dataset.open(out).n_samples == 20
