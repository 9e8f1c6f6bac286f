"""Every command that opens a dataset answers a broken samples file with exit 2 and one line, never a traceback."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from app.cli import build_parser
from tests.importers.conftest import run_cli, write_jsonl


def dataset_commands() -> list[str]:
    """The subcommands whose first argument is a dataset (the projections, discovery, probe, and any added later)."""
    parser = build_parser()
    [sub] = [a for a in parser._actions if a.dest == "command"]
    return [name for name, p in sub.choices.items()
            if any(a.dest == "dataset" for a in p._actions if not a.option_strings)]


def break_types(table: pa.Table) -> pa.Table:
    i = table.schema.get_field_index("completion_tokens")
    return table.set_column(i, pa.field("completion_tokens", pa.string()), table[i].cast(pa.string()))


BREAKS = {
    "wrong type": (break_types, "column 'completion_tokens' has type string; expected int32"),
    "missing column": (lambda t: t.drop_columns(["outcome"]), "missing column(s) outcome; required:"),
}


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("parquet")
    src = write_jsonl(tmp / "r.jsonl", [{"model": "m", "base_task": "t", "params": {"n": n, "k": k},
                                         "outcome": "correct", "completion_tokens": 10 + n}
                                        for n in range(3) for k in range(2)])
    assert run_cli("import", src, "--adapter", "samples", "--out", tmp / "ds").returncode == 0
    return tmp / "ds"


def broken(good, tmp_path, how: str):
    folder = tmp_path / how.replace(" ", "-")
    folder.mkdir()
    (folder / "dataset.json").write_bytes((good / "dataset.json").read_bytes())
    name = json.loads((good / "dataset.json").read_text())["samples"]
    if how == "truncated":
        data = (good / name).read_bytes()
        (folder / name).write_bytes(data[: len(data) // 2])
        return folder, f"{folder / name}: cannot read samples ("
    change, message = BREAKS[how]
    pq.write_table(change(pq.read_table(good / name)), folder / name)
    return folder, f"{folder / name}: {message}"


def test_the_commands_that_open_a_dataset_are_found():
    assert {"evals", "tasks", "spiderweb", "surface", "compression", "hazard"} <= set(dataset_commands())


@pytest.mark.parametrize("how", ["wrong type", "missing column", "truncated"])
@pytest.mark.parametrize("command", dataset_commands())
def test_exit_2_and_one_line_naming_file_and_column(good, tmp_path, command, how):
    folder, message = broken(good, tmp_path, how)
    where = {"evals": [], "tasks": [], "probe": [], "cube": ["--out", tmp_path / "cube"]}
    result = run_cli(command, folder, *where.get(command, ["--output-dir", tmp_path / "out"]))
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {message}") and "Traceback" not in result.stderr
    assert not (tmp_path / "cube").exists() or not any((tmp_path / "cube").iterdir())   # nothing half-written


def test_an_import_merging_into_a_broken_dataset_says_so_and_changes_nothing(good, tmp_path):
    folder, message = broken(good, tmp_path, "wrong type")
    before = sorted((p.name, p.read_bytes()) for p in folder.iterdir())
    src = write_jsonl(tmp_path / "more.jsonl", [{"model": "m2", "base_task": "t", "params": {}, "outcome": "correct"}])
    result = run_cli("import", src, "--adapter", "samples", "--out", folder)
    assert result.returncode == 2 and result.stderr.splitlines() == [result.stderr.splitlines()[0]]
    assert result.stderr.startswith(f"error: {message}")
    assert sorted((p.name, p.read_bytes()) for p in folder.iterdir()) == before
