"""Dataset folders are written atomically, merged point by point, and validated first."""

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from app.engine import Dataset, InputError
from app.engine.schema import SAMPLES_SCHEMA
from app.engine.store import write_dataset

from .conftest import EVALS, random_rows


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def meta(evals=EVALS):
    return {"name": "t", "evals": evals, "tasks": []}


def test_written_parquet_has_the_public_schema_and_canonical_order(tmp_path):
    write_dataset(tmp_path / "d", meta(), pa.Table.from_pylist(random_rows()), merge=False)
    doc = json.loads((tmp_path / "d" / "dataset.json").read_text())
    table = pq.read_table(tmp_path / "d" / doc["samples"])
    assert table.schema.equals(SAMPLES_SCHEMA, check_metadata=False) or \
        [f.type for f in table.schema] == [f.type for f in SAMPLES_SCHEMA]
    assert table.column_names == SAMPLES_SCHEMA.names
    keys = list(zip(table["eval_id"].to_pylist(), table["base_task"].to_pylist()))
    assert keys == sorted(keys)


def test_merge_adds_evals_and_replaces_points(tmp_path):
    rows = random_rows(seed=1)
    alpha = [r for r in rows if r["eval_id"] == rows[0]["eval_id"]]
    others = [r for r in rows if r["eval_id"] != rows[0]["eval_id"]]
    write_dataset(tmp_path / "d", meta(), pa.Table.from_pylist(others), merge=True)
    assert len(Dataset.open(tmp_path / "d").evals()) == 2
    write_dataset(tmp_path / "d", meta(), pa.Table.from_pylist(alpha), merge=True)
    assert len(Dataset.open(tmp_path / "d").evals()) == 3
    # re-importing alpha's points replaces them: the sample count does not grow
    summary = write_dataset(tmp_path / "d", meta(), pa.Table.from_pylist(alpha), merge=True)
    assert summary.replaced_points == 12
    ds = Dataset.open(tmp_path / "d")
    assert ds.n_samples == len(rows)
    # only one samples file is left behind
    assert len(list((tmp_path / "d").glob("*.parquet"))) == 1


def test_invalid_samples_leave_the_target_byte_for_byte_unchanged(tmp_path):
    write_dataset(tmp_path / "d", meta(), pa.Table.from_pylist(random_rows()), merge=False)
    before = snapshot(tmp_path / "d")
    bad = random_rows(seed=2)
    bad[5]["outcome"] = "timeout"
    with pytest.raises(InputError, match="outcome 'timeout' is not one of correct"):
        write_dataset(tmp_path / "d", meta(), pa.Table.from_pylist(bad), merge=True)
    assert snapshot(tmp_path / "d") == before


def test_samples_for_an_undescribed_eval_are_rejected(tmp_path):
    with pytest.raises(InputError, match="does not describe"):
        write_dataset(tmp_path / "d", meta(EVALS[:1]), pa.Table.from_pylist(random_rows()), merge=False)
    assert not (tmp_path / "d").exists()
