"""``analyze.py evals`` and ``tasks``: what a user runs first to find ids and names."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main
from app.engine.schema import eval_id
from tests.engine.conftest import random_rows, write

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def dataset(tmp_path):
    write(tmp_path / "ds", random_rows())
    return str(tmp_path / "ds" / "dataset.json")


def run_json(capsys, *argv):
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)["rows"]


def test_evals_json_rows_carry_identity_label_and_groups(capsys, dataset):
    rows = run_json(capsys, "evals", dataset, "--format", "json")
    by_id = {r["eval_id"]: r for r in rows}
    alpha = by_id[eval_id("alpha", "chat", "greedy")]
    assert {k: alpha[k] for k in ("model", "template", "sampler", "groups", "max_tokens")} == {
        "model": "alpha", "template": "chat", "sampler": "greedy", "groups": ["arch:moe", "size:large"],
        "max_tokens": 4096}
    assert alpha["label"] == "alpha (chat, greedy)"


def test_evals_search_matches_groups_and_names(capsys, dataset):
    assert [r["model"] for r in run_json(capsys, "evals", dataset, "--search", "ARCH:DENSE", "--format", "json")] \
        == ["beta", "gamma"]
    assert run_json(capsys, "evals", dataset, "--search", "no-such-thing", "--format", "json") == []


def test_evals_table_is_readable(capsys, dataset):
    assert main(["evals", dataset]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["eval_id", "label", "model"]
    assert eval_id("gamma", "plain", "t0.7") in out


def test_tasks_json_lists_params_and_values(capsys, dataset):
    rows = {r["base_task"]: r for r in run_json(capsys, "tasks", dataset, "--format", "json")}
    assert rows["choice"]["points"] == 18  # 3 evals x a 3x2 grid
    assert rows["choice"]["samples"] == sum(r["base_task"] == "choice" for r in random_rows())
    assert rows["arith"]["params"] == ["x", "y"]
    assert rows["arith"]["values"] == {"x": [1, 2, 3], "y": ["a", "b"]}


@pytest.mark.parametrize("argv, message", [
    (["evals", "/no/such/dataset.json"], "no dataset at /no/such/dataset.json"),
    (["tasks", "/no/such"], "no dataset at /no/such"),
    (["evals", "{dataset}", "--format", "yaml"], "invalid choice: 'yaml'"),
])
def test_bad_input_exits_2_with_one_line(argv, message, dataset):
    argv = [a.replace("{dataset}", dataset) for a in argv]
    proc = subprocess.run([sys.executable, "analyze.py", *argv], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_corrupt_dataset_json_is_named(tmp_path):
    (tmp_path / "dataset.json").write_text("{")
    proc = subprocess.run([sys.executable, "analyze.py", "evals", str(tmp_path)], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode == 2 and "not a readable dataset.json" in proc.stderr and "Traceback" not in proc.stderr
