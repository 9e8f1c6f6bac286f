"""The contract every registered adapter owes, checked on its own fixtures.

For each adapter in the registry, ``fixtures/<name>/`` (small files in the adapter's real source
format) is imported with ``analyze.py import`` and ``fixtures/<name>-broken/`` must fail:

- ``samples.parquet`` has the public schema (spec §2) and values the schema allows;
- every eval_id is the first 6 hex of sha256("model|template|sampler") of its eval in ``dataset.json``,
  and ``dataset.json`` describes exactly the evals and tasks the samples name, in its normal form;
- the counts the import prints (evals, tasks, points, samples) are the rows written;
- importing the same sources again replaces every point and adds nothing;
- the broken fixture exits 2 with one line on stderr naming the bad file, and leaves an existing
  target byte-for-byte as it was (and creates no new one).

A new adapter registered with fixtures is checked here with no edit to this file.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from app.engine.meta import DatasetMeta
from app.engine.schema import OPTIONAL_COLUMNS, OUTCOMES, SAMPLES_SCHEMA, canonical_json
from app.engine.texts import TEXTS_SCHEMA
from app.importers import adapters
from tests.importers.conftest import run_import, snapshot

FIXTURES = Path(__file__).parent / "fixtures"
DATASET_KEYS = {"name", "title", "samples", "evals", "tasks", "views", "provenance"}
SUMMARY = re.compile(r"imported with adapter (?P<adapter>\S+) from (?P<files>\d+) file\(s\): (?P<evals>\d+) eval\(s\), "
                     r"(?P<tasks>\d+) task\(s\), (?P<points>\d+) point\(s\), (?P<samples>\d+) sample\(s\)")
TOTALS = re.compile(r"points replaced: (?P<replaced>\d+); the dataset now holds (?P<total>\d+) sample\(s\)")


def fixture_paths(name: str, root: Path = FIXTURES) -> tuple[Path, Path]:
    """(good, broken) fixture folders of adapter ``name``; both must exist."""
    good, broken = root / name, root / f"{name}-broken"
    for path, what in ((good, "small source files in its real format"), (broken, "one deliberately bad source")):
        assert path.is_dir(), f"adapter {name!r} has no fixtures: add {path} ({what})"
    return good, broken


def imported(capsys, name: str, source: Path, out: Path) -> dict[str, int]:
    """Import ``source`` into ``out``; the numbers of the summary lines."""
    code, stdout, stderr = run_import(capsys, source, "--adapter", name, "--out", out)
    assert code == 0, stderr
    summary, totals = SUMMARY.search(stdout), TOTALS.search(stdout)
    assert summary and totals, stdout
    assert summary["adapter"] == name
    return {k: int(v) for k, v in {**summary.groupdict(), **totals.groupdict()}.items() if k != "adapter"}


def written(out: Path) -> tuple[dict, object]:
    """(dataset.json, samples table) of the dataset folder ``out``."""
    doc = json.loads((out / "dataset.json").read_text(encoding="utf-8"))
    return doc, pq.read_table(out / doc["samples"])


def check_schema(out: Path) -> None:
    """samples.parquet: the public columns in order with their types, known optional columns, valid values."""
    doc, table = written(out)
    schema = pq.read_schema(out / doc["samples"])
    assert schema.names[:len(SAMPLES_SCHEMA)] == SAMPLES_SCHEMA.names
    for f in SAMPLES_SCHEMA:
        assert schema.field(f.name).type == f.type, f.name
        if not f.nullable:
            assert table[f.name].null_count == 0, f"{f.name} has nulls"
    for extra in schema.names[len(SAMPLES_SCHEMA):]:
        assert extra in OPTIONAL_COLUMNS and schema.field(extra).type == OPTIONAL_COLUMNS[extra], extra
    assert set(table["outcome"].to_pylist()) <= set(OUTCOMES)
    for column in ("params", "manifold"):
        for value in pc.unique(table[column]).to_pylist():
            if value is None:
                assert column == "manifold"
                continue
            obj = json.loads(value)
            assert isinstance(obj, dict) and canonical_json(obj) == value, f"{column} {value!r} is not canonical"
            assert not any(isinstance(v, (dict, list)) for v in obj.values()), f"{column} {value!r} is not flat"
    for column in ("completion_tokens", "compressed_bytes"):
        assert (pc.min(table[column]).as_py() or 0) >= 0
    assert 0 <= pc.min(table["guess_rate"]).as_py() <= pc.max(table["guess_rate"]).as_py() <= 1


def check_meta(out: Path, name: str) -> None:
    """dataset.json: its keys, its normal form, eval ids from model|template|sampler, records matching the samples."""
    doc, table = written(out)
    assert set(doc) - {"texts"} == DATASET_KEYS
    if "texts" in doc:  # completion texts: a file of their own, keyed by sample row, never in samples.parquet
        texts = pq.read_table(out / doc["texts"])
        assert texts.schema.equals(TEXTS_SCHEMA) and "text" not in table.column_names
        rows = texts["row"].to_numpy()
        assert (rows[1:] > rows[:-1]).all() and rows.min() >= 0 and rows.max() < len(table)
    assert DatasetMeta.from_json(doc).to_json() == doc  # written in normal form: nothing left to fill in
    for ev in doc["evals"]:
        key = f"{ev['model']}|{ev['template']}|{ev['sampler']}".encode("utf-8")
        assert ev["eval_id"] == hashlib.sha256(key).hexdigest()[:6], ev
    assert {e["eval_id"] for e in doc["evals"]} == set(table["eval_id"].to_pylist())
    assert {t["base_task"] for t in doc["tasks"]} == set(table["base_task"].to_pylist())
    assert {v["base_task"] for v in doc["views"]} <= {t["base_task"] for t in doc["tasks"]} | {None}
    provenance = doc["provenance"]
    assert provenance["imports"][-1]["adapter"] == name and provenance.get("tokens") in (None, "exact", "estimated")


def check_counts(counts: dict[str, int], out: Path) -> None:
    """The printed evals, tasks, points and samples are the rows written."""
    _, table = written(out)
    points = {tuple(p) for p in zip(*(table[c].to_pylist() for c in ("eval_id", "base_task", "params")))}
    assert counts["samples"] == counts["total"] == table.num_rows > 0
    assert counts["evals"] == len(set(table["eval_id"].to_pylist()))
    assert counts["tasks"] == len(set(table["base_task"].to_pylist()))
    assert counts["points"] == len(points)
    assert counts["replaced"] == 0 and counts["files"] > 0


def check_reimport(capsys, name: str, source: Path, out: Path, first: dict[str, int]) -> None:
    """The same sources again: every point is replaced, nothing is added."""
    again = imported(capsys, name, source, out)
    assert again["replaced"] == first["points"] and again["total"] == first["samples"]
    doc, _ = written(out)
    assert len(doc["evals"]) == first["evals"]


def check_atomic_failure(capsys, name: str, broken: Path, out: Path) -> None:
    """The broken source: exit 2, one line naming the bad file, the target untouched, no new target made."""
    before = snapshot(out)
    leftovers = set(out.parent.iterdir())
    for target in (out, out.parent / "never-made"):
        code, stdout, stderr = run_import(capsys, broken, "--adapter", name, "--out", target)
        assert code == 2 and stdout == ""
        [line] = stderr.splitlines()
        assert line.startswith("error: ") and str(broken) in line, line
        assert "Traceback" not in stderr
    assert snapshot(out) == before
    assert set(out.parent.iterdir()) == leftovers  # no staging folder, no "never-made"


def check_contract(capsys, name: str, work: Path, root: Path = FIXTURES) -> None:
    """Every check above, for adapter ``name`` with fixtures under ``root``, working in ``work``."""
    good, broken = fixture_paths(name, root)
    out = work / "ds"
    counts = imported(capsys, name, good, out)
    check_schema(out)
    check_meta(out, name)
    check_counts(counts, out)
    check_reimport(capsys, name, good, out, counts)
    check_atomic_failure(capsys, name, broken, out)


@pytest.mark.parametrize("name", [a.name for a in adapters()])
def test_adapter_honours_the_contract(name, capsys, tmp_path):
    check_contract(capsys, name, tmp_path)

