"""The cube built by Dask is the cube built by DuckDB: the same rows, in the same order, to the bit.

DuckDB (``app.cube.duck``) is the reference. Each test builds both and compares the Parquet files they write
with ``pa.Table.equals``: no cast or sort is needed, both write the same file schema in key order. The one exception
is ``guess_sum`` of cells whose guess rate varies (the last test's source): a float sum whose last bits depend on
the order of the additions. Both engines add rows in file order, but DuckDB's threads (and Dask's partitions) may
split a cell and add the partial sums; those cells alone are compared with a relative tolerance.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

pytest.importorskip("duckdb", reason="the reference cube engine (duckdb) is not installed")
pytest.importorskip("dask.dataframe", reason="the dask cube engine needs dask[dataframe]")
distributed = pytest.importorskip("distributed", reason="the dask cube engine needs distributed")

from app.cube import dask_engine  # noqa: E402
from app.cube.build import build_cube  # noqa: E402
from app.cube.spec import SCHEMA  # noqa: E402
from app.engine.sources import ROW_FILE_SHIFT  # noqa: E402


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A LocalCluster started here, reached by its address (as ``--scheduler tcp://...`` would)."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def duck_cube(bundled: Path, tmp_path_factory: pytest.TempPathFactory) -> pa.Table:
    """The reference: data/'s cube built by DuckDB."""
    return _cube(build_cube(bundled, tmp_path_factory.mktemp("duck")).path)


def _cube(meta_path: Path) -> pa.Table:
    """The cube file a build wrote beside ``meta_path``."""
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    return pq.read_table(meta_path.parent / meta["cube"]["file"])


def _list(table: pa.Table, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A list column of the cube file as (each cell's length, all values): a Parquet list, or packed as one binary
    value per cell (``spec.PACKED``, a missing value as -1).
    """
    column = table.column(name).combine_chunks()
    if pa.types.is_list(column.type):
        return pc.list_value_length(column).to_numpy(), pc.list_flatten(column).fill_null(-1).to_numpy()
    from app.cube.spec import PACKED

    width = PACKED[name]
    data = column.buffers()[2]
    offsets = np.frombuffer(column.buffers()[1], np.int64)[column.offset:column.offset + len(column) + 1]
    values = np.frombuffer(data, width)[offsets[0] // width.itemsize:offsets[-1] // width.itemsize]
    return np.diff(offsets) // width.itemsize, values


def _both(dataset: Path, tmp: Path, scheduler: str | None) -> tuple[pa.Table, pa.Table]:
    """``dataset``'s cube by DuckDB and by Dask."""
    duck = _cube(build_cube(dataset, tmp / "duck").path)
    dask = _cube(build_cube(dataset, tmp / "dask", engine="dask", scheduler=scheduler).path)
    return duck, dask


def _partitioned(bundled: Path, folder: Path, change=None) -> Path:
    """data/'s samples as a folder of Parquet files, one per eval (the first in small row groups), and a copy of
    its dataset.json naming the folder; ``change`` edits the sample table first.
    """
    table = pq.read_table(bundled.parent / "samples.parquet")
    if change is not None:
        table = change(table)
    (folder / "samples").mkdir(parents=True)
    for i, eval_id in enumerate(sorted(set(table.column("eval_id").to_pylist()))):
        part = table.filter(pc.equal(table.column("eval_id"), eval_id))
        pq.write_table(part, folder / "samples" / f"part-{i:02d}.parquet", row_group_size=4_000 if i == 0 else None)
    meta = json.loads(bundled.read_text(encoding="utf-8"))
    meta["samples"] = "samples"
    (folder / "dataset.json").write_text(json.dumps(meta), encoding="utf-8")
    return folder / "dataset.json"


def test_dask_on_its_own_local_cluster_matches_duckdb(bundled: Path, duck_cube: pa.Table, tmp_path: Path) -> None:
    dask = _cube(build_cube(bundled, tmp_path, engine="dask").path)
    assert dask.schema.equals(duck_cube.schema) and dask.schema.names == SCHEMA.names
    assert dask.equals(duck_cube)


def test_dask_through_a_scheduler_address_matches_duckdb(bundled: Path, duck_cube: pa.Table, tmp_path: Path,
                                                         scheduler: str) -> None:
    assert scheduler.startswith("tcp://")
    dask = _cube(build_cube(bundled, tmp_path, engine="dask", scheduler=scheduler).path)
    assert dask.equals(duck_cube)


def test_partitioned_source_matches_duckdb(bundled: Path, tmp_path: Path, scheduler: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # partitions of whole row groups smaller than a file: row keys must still count rows from the file's start
    monkeypatch.setattr(dask_engine, "PARTITION_ROWS", 10_000)
    dataset = _partitioned(bundled, tmp_path / "parts")
    duck, dask = _both(dataset, tmp_path, scheduler)
    assert duck.num_rows > 0 and dask.equals(duck)
    files = np.unique(_list(dask, "dots_row")[1] >> ROW_FILE_SHIFT)
    assert len(files) == len(list((tmp_path / "parts" / "samples").glob("*.parquet")))


def test_dots_rows_are_the_files_rows(bundled: Path, tmp_path: Path, scheduler: str) -> None:
    dask = _cube(build_cube(bundled, tmp_path, engine="dask", scheduler=scheduler).path)
    samples = pq.read_table(bundled.parent / "samples.parquet")
    lengths, rows = _list(dask, "dots_row")
    assert len(rows) and rows.max() < samples.num_rows  # one file: its index is 0 and a row key is its row
    for cube_col, sample_col in (("dots_tokens", "completion_tokens"), ("dots_bytes", "compressed_bytes")):
        expected = samples.column(sample_col).take(rows).combine_chunks().fill_null(-1).to_numpy()
        np.testing.assert_array_equal(_list(dask, cube_col)[1], expected)
    # and each dot's row is in the dot's cell
    cell_of_dot = np.repeat(np.arange(dask.num_rows), lengths)
    for key in ("eval_id", "base_task", "outcome"):
        assert dask.column(key).take(cell_of_dot).equals(samples.column(key).take(rows))


def _hostile(table: pa.Table) -> pa.Table:
    """Nulls where data/ has none (manifolds, token and byte counts) and guess rates that vary within cells."""
    n = table.num_rows
    i = np.arange(n)
    manifold = table.column("manifold").combine_chunks()
    table = table.set_column(table.schema.get_field_index("manifold"), "manifold",
                             pc.if_else(pa.array(i % 7 == 0), pa.nulls(n, pa.string()), manifold))
    for name, every in (("completion_tokens", 11), ("compressed_bytes", 13)):
        col = table.column(name).combine_chunks()
        table = table.set_column(table.schema.get_field_index(name), name,
                                 pc.if_else(pa.array(i % every == 0), pa.nulls(n, col.type), col))
    rate = table.column("guess_rate").to_numpy() + np.where(i % 5 == 0, 0.1 + (i % 3) / 3, 0.0)
    return table.set_column(table.schema.get_field_index("guess_rate"), "guess_rate", pa.array(rate))


def test_nulls_and_varying_guess_rates_match_duckdb(bundled: Path, tmp_path: Path, scheduler: str) -> None:
    duck, dask = _both(_partitioned(bundled, tmp_path / "parts", _hostile), tmp_path, scheduler)
    assert pc.sum(pc.is_null(duck.column("manifold"))).as_py() > 0
    assert pc.sum(pc.is_null(duck.column("tokens_max"))).as_py() > 0  # cells whose every token count is null
    others = [n for n in SCHEMA.names if n != "guess_sum"]
    assert dask.select(others).equals(duck.select(others))
    varying = pc.not_equal(duck.column("guess_min"), duck.column("guess_max"))
    assert pc.sum(varying).as_py() > 0
    constant = pc.invert(varying)
    assert dask.column("guess_sum").filter(constant).equals(duck.column("guess_sum").filter(constant))
    np.testing.assert_allclose(dask.column("guess_sum").filter(varying).to_numpy(),
                               duck.column("guess_sum").filter(varying).to_numpy(), rtol=1e-12, atol=0)


def test_guess_sum_of_the_bundled_data_is_exact(duck_cube: pa.Table) -> None:
    # why Table.equals holds for guess_sum above: every cell's rate is constant and a dyadic fraction
    assert pc.all(pc.equal(duck_cube.column("guess_min"), duck_cube.column("guess_max"))).as_py()
    assert set(pc.unique(duck_cube.column("guess_min")).to_pylist()) <= {0.0, 0.25, 0.5}
