"""The cube declaration (``spec``) run by Dask: ``dask.dataframe`` over a ``dask.distributed`` cluster.

The sample files are read in parallel, one partition per file (a big file is split at row-group boundaries, so a
single-file dataset still uses every worker), each row keyed as DuckDB keys it: ``(file index << 40) | row in
file``. Three partial aggregates are made per partition: the cells' measures, the (cell, token bin) counts and
each point's dot candidates (its first ``dots_per_point`` rows by rank, which hold the point's final dots among
them). They are hash-shuffled by the point keys into the same buckets, so one task per bucket finishes every
cell of its points: measures combined, histogram and dots packed into lists. Only that result, one row per
cell, comes back to the client, where it is sorted into the cube's key order and cut into record batches.

Null manifolds: pandas drops NaN group keys, so the manifold travels as ``manifold_null`` plus the string (``""``
when null), which keeps a null manifold a group of its own, as DuckDB's GROUP BY does; it is restored at the end.
``guess_sum`` is a float sum, whose last bits depend on the order of the additions. DuckDB's ``sum`` adds a thread's
rows one by one in file order and then adds the threads' partial sums; so does this engine, per partition in row
order (not pandas' compensated sum) and then the partitions' sums in row order. Where a cell's rate is constant and
a dyadic fraction (the bundled data and r12: 0, 1/4, 1/2) every order gives the same sum, and the cubes are equal
bit for bit. Where it varies, a cell whose rows DuckDB's threads or Dask's partitions split may differ in the last
bits (DuckDB's own result then depends on its thread count): exact equality is not possible there.
"""

from __future__ import annotations

import logging
from typing import Any, Iterator

import dask.dataframe as dd  # imported here so that a missing package is build.engine_runner's install hint
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from distributed import Client, LocalCluster

from app.cube.spec import KEYS, MEASURES, SCHEMA, SOURCE_COLUMNS, CubeSpec, Measure, dot_rank
from app.engine.schema import SAMPLES_SCHEMA
from app.engine.sources import ROW_FILE_SHIFT, SampleFiles

NULL_FLAG = "manifold_null"
# the group keys inside Dask: the manifold's null flag goes right before the manifold
GROUP: list[str] = [k for key in KEYS for k in ((NULL_FLAG, key) if key == "manifold" else (key,))]
POINT_GROUP: list[str] = [k for k in GROUP if k != "outcome"]
PARTITION_ROWS = 1 << 20  # a big file's partitions: whole row groups, about this many rows
# how partials of each op combine: counts and sums add up, extremes stay extremes
_COMBINE = {"rows": "sum", "count": "sum", "sum": "sum", "min": "min", "max": "max"}
_NULLABLE = {pa.int64(): pd.Int64Dtype(), pa.float64(): pd.Float64Dtype()}


def _pandas_type(t: pa.DataType) -> Any:
    """A pandas dtype that keeps nulls for the source's and the measures' numbers (strings stay pyarrow)."""
    return {pa.int32(): pd.Int32Dtype(), **_NULLABLE}.get(t, pd.StringDtype("pyarrow") if t == pa.string() else None)


# ---------------------------------------------------------------- reading

def _pieces(files: SampleFiles) -> list[tuple[int, str, tuple[int, ...], int]]:
    """(file index, path, row groups, first row) of each partition: whole files, big ones cut at row groups."""
    fs = files.arrow_fs()
    pieces = []
    for idx, path in enumerate(files.files):
        meta = pq.ParquetFile(path, filesystem=fs).metadata
        groups: list[int] = []
        first = start = 0
        for g in range(meta.num_row_groups):
            if groups and sum(meta.row_group(i).num_rows for i in groups) >= PARTITION_ROWS:
                pieces.append((idx, path, tuple(groups), first))
                first, groups = start, []
            groups.append(g)
            start += meta.row_group(g).num_rows
        pieces.append((idx, path, tuple(groups), first))
    return pieces


def _source_frame(table: pa.Table, row_key: np.ndarray) -> pd.DataFrame:
    """Sample rows in their public types (a column a file lacks is null, as DuckDB's union by name), keyed."""
    cols = {}
    for name in SOURCE_COLUMNS:
        t = SAMPLES_SCHEMA.field(name).type
        col = table.column(name).cast(t) if name in table.column_names else pa.nulls(table.num_rows, t)
        cols[name] = col.to_pandas(types_mapper=_pandas_type)
    frame = pd.DataFrame(cols)
    frame[NULL_FLAG] = frame["manifold"].isna()
    frame["manifold"] = frame["manifold"].fillna("")
    frame["row_key"] = row_key.astype(np.int64)
    return frame[GROUP + [c for c in SOURCE_COLUMNS if c not in KEYS] + ["row_key"]]


def _read(piece: tuple[int, str, tuple[int, ...], int], files: SampleFiles) -> pd.DataFrame:
    """One partition: the piece's rows, read with pyarrow through the dataset's filesystem."""
    idx, path, groups, first = piece
    pf = pq.ParquetFile(path, filesystem=files.arrow_fs())
    present = [c for c in SOURCE_COLUMNS if c in pf.schema_arrow.names]
    table = pf.read_row_groups(list(groups), columns=present) if groups else pf.schema_arrow.empty_table()
    rows = np.arange(first, first + table.num_rows, dtype=np.int64)
    return _source_frame(table, (idx << ROW_FILE_SHIFT) | rows)


def _empty_source() -> pd.DataFrame:
    """A partition with no rows: the meta every later step's meta is computed from."""
    return _source_frame(pa.schema([]).empty_table(), np.empty(0, np.int64))


# ---------------------------------------------------------------- partials (per input partition)

def _measure_column(frame: pd.DataFrame, m: Measure) -> pd.Series:
    """The measure's column in the measure's type (a token sum outgrows int32), nulls kept."""
    return frame[m.column].astype(_NULLABLE[m.type])


def _in_order_sum(codes: np.ndarray, n_groups: int, values: pd.Series) -> np.ndarray:
    """Per group, the float sum of its non-null values added one by one in row order, as DuckDB's ``sum`` adds a
    thread's rows (pandas' groupby sum is compensated, which is more exact but not what DuckDB does).
    """
    keep = values.notna().to_numpy()
    weights = values.to_numpy(dtype=np.float64, na_value=0.0)[keep]
    return np.bincount(codes[keep], weights=weights, minlength=n_groups)  # a sequential += per row


def _measures(frame: pd.DataFrame, ops: dict[str, str]) -> pd.DataFrame:
    """Each cell's ``op`` of each column of ``ops`` over ``frame``, cells in their order of first appearance."""
    g = frame.groupby(GROUP, sort=False)
    codes = g.ngroup().to_numpy()
    out = {"_first": g["row_key"].min()}
    for m in MEASURES:
        op = ops[m.name]
        if op == "rows":
            out[m.name] = g.size().astype(_NULLABLE[m.type])
        elif op == "count":
            out[m.name] = g[m.name].count().astype(_NULLABLE[m.type])
        elif op == "sum" and m.type == pa.float64():
            out[m.name] = pd.Series(_in_order_sum(codes, g.ngroups, frame[m.name]), index=out["_first"].index,
                                    dtype=_NULLABLE[m.type])
        else:  # an integer sum is exact in any order; sums over no values are 0, as duck's coalesce(sum, 0)
            out[m.name] = getattr(g[m.name], op)().astype(_NULLABLE[m.type])
    return pd.DataFrame(out).reset_index()


def _cell_partials(frame: pd.DataFrame) -> pd.DataFrame:
    """Each cell's measures over this partition (rows in row-key order), with the cell's first row key here."""
    values = {m.name: _measure_column(frame, m) for m in MEASURES if m.column}
    return _measures(frame[GROUP + ["row_key"]].assign(**values), {m.name: m.op for m in MEASURES})


def _token_bins(tokens: pd.Series, step: int) -> pd.Series:
    """``tokens // step`` as DuckDB's integer division does it: truncated toward zero."""
    t = tokens.astype("int64")
    return (np.sign(t) * (t.abs() // step)).astype("int32")


def _bin_partials(frame: pd.DataFrame, step: int) -> pd.DataFrame:
    """Rows per (cell, token bin) over this partition: rows without a token count are in no bin."""
    rows = frame[frame["completion_tokens"].notna()]
    rows = rows[GROUP].assign(bin=_token_bins(rows["completion_tokens"], step))
    return rows.groupby(GROUP + ["bin"], sort=False).size().rename("n").astype("int64").reset_index()


def _first_ranked(frame: pd.DataFrame, k: int) -> pd.DataFrame:
    """Each point's ``k`` rows with the smallest (rank, row key): a point's dots are among its partials' picks.

    Ordered by numbers alone and taken once: sorting the whole frame would move every string of every row.
    """
    point = frame.groupby(POINT_GROUP, sort=False).ngroup().to_numpy()
    order = np.lexsort((frame["row_key"].to_numpy(), frame["rank"].to_numpy(), point))
    sorted_point = point[order]
    starts = np.flatnonzero(np.r_[True, sorted_point[1:] != sorted_point[:-1]])
    place = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    return frame.iloc[np.sort(order[place < k])]


def _dot_partials(frame: pd.DataFrame, spec: CubeSpec) -> pd.DataFrame:
    """Each point's dot candidates in this partition, with the rank that orders them (``spec.dot_rank``)."""
    cols = GROUP + ["completion_tokens", "compressed_bytes", "row_key"]
    ranked = frame[cols].assign(rank=dot_rank(frame["row_key"].to_numpy(), spec.seed).astype(np.int64))
    return _first_ranked(ranked, spec.dots_per_point)


# ---------------------------------------------------------------- finish (per shuffled bucket of points)

def _combine_cells(partials: pd.DataFrame) -> pd.DataFrame:
    """Each cell's measures from its partials, added in the order of their rows (by each partial's first row key):
    counts and sums add up, extremes stay extremes.
    """
    ordered = partials.rename(columns={"_first": "row_key"}).sort_values("row_key", kind="stable")
    return _measures(ordered, {m.name: _COMBINE[m.op] for m in MEASURES}).drop(columns="_first")


def _cell_of(cells: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """The position in ``cells`` of each of ``rows``' cell."""
    index = cells[GROUP].assign(_cell=np.arange(len(cells), dtype=np.int64))
    return rows[GROUP].merge(index, on=GROUP, how="left")["_cell"].to_numpy()


def _lists(n_cells: int, cell: np.ndarray, values: dict[str, pd.Series]) -> dict[str, pa.Array]:
    """Per cell, the cube's list field of each of ``values`` (rows already ordered within their cell): empty where
    none, the element type the cube's schema declares.
    """
    order = np.argsort(cell, kind="stable")
    offsets = np.zeros(n_cells + 1, np.int64)
    np.cumsum(np.bincount(cell, minlength=n_cells), out=offsets[1:])
    offs = pa.array(offsets.astype(np.int32))
    return {name: pa.ListArray.from_arrays(offs, pa.array(v.iloc[order], type=SCHEMA.field(name).type.value_type))
            for name, v in values.items()}


def _finish(cell_parts: pd.DataFrame, bin_parts: pd.DataFrame, dot_parts: pd.DataFrame,
            dots_per_point: int) -> pd.DataFrame:
    """The finished cells of one bucket of points: measures, sparse histogram and dots."""
    cells = _combine_cells(cell_parts)
    bins = bin_parts.groupby(GROUP + ["bin"], sort=False)["n"].sum().reset_index().sort_values("bin", kind="stable")
    dots = _first_ranked(dot_parts, dots_per_point).sort_values("row_key", kind="stable")
    hist = _lists(len(cells), _cell_of(cells, bins), {"hist_bin": bins["bin"], "hist_count": bins["n"]})
    picked = _lists(len(cells), _cell_of(cells, dots), {"dots_tokens": dots["completion_tokens"],
                                                        "dots_bytes": dots["compressed_bytes"],
                                                        "dots_row": dots["row_key"]})
    for name, arr in {**hist, **picked}.items():
        cells[name] = pd.Series(arr, dtype=pd.ArrowDtype(arr.type), index=cells.index)
    return cells


# ---------------------------------------------------------------- the build

def _buckets(n_pieces: int, threads: int) -> int:
    """The shuffle's buckets: at least two per thread, up to one per input partition (capped)."""
    return max(2 * threads, min(n_pieces, 256))


def cube_frame(files: SampleFiles, spec: CubeSpec, threads: int) -> Any:
    """The cube as a lazy Dask DataFrame (one row per cell, unordered; manifold as flag + string)."""
    pieces = _pieces(files)
    # every meta is the partition function run on no rows: Dask never guesses a type from the data
    empty = _empty_source()
    src = dd.from_map(_read, pieces, files=files, meta=empty, enforce_metadata=False)
    cell_p = src.map_partitions(_cell_partials, meta=_cell_partials(empty))
    bin_p = src.map_partitions(_bin_partials, spec.grid_step, meta=_bin_partials(empty, spec.grid_step))
    dot_p = src.map_partitions(_dot_partials, spec, meta=_dot_partials(empty, spec))
    n = _buckets(len(pieces), threads)
    # the same hash of the same point keys into the same number of buckets: bucket i of each holds the same points
    shuffled = [p.shuffle(on=POINT_GROUP, npartitions=n) for p in (cell_p, bin_p, dot_p)]
    meta = _finish(cell_p._meta, bin_p._meta, dot_p._meta, spec.dots_per_point)
    return dd.map_partitions(_finish, *shuffled, spec.dots_per_point, meta=meta, align_dataframes=False)


def _to_table(cells: pd.DataFrame) -> pa.Table:
    """The computed cells as the cube: null manifolds restored, the cube's schema, its key order."""
    table = pa.Table.from_pandas(cells, preserve_index=False)
    manifold = pa.array(cells["manifold"].where(~cells[NULL_FLAG].astype(bool), None), pa.string())
    table = table.set_column(table.schema.get_field_index("manifold"), "manifold", manifold)
    table = table.select(SCHEMA.names).cast(SCHEMA)
    return table.sort_by([(k, "ascending", "at_start") for k in KEYS])


def build(files: SampleFiles, spec: CubeSpec, scheduler: str | None = None,
          batch_rows: int = 65_536) -> Iterator[pa.RecordBatch]:
    """Run the build on the scheduler at ``scheduler`` (or on a LocalCluster started for it and closed after);
    the cube's rows in key order, as record batches.
    """
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                               silence_logs=logging.ERROR)  # any free port; not the p2p shuffle's warnings
    try:
        with Client(scheduler or cluster) as client:
            threads = max(1, sum(client.nthreads().values()))
            cells = client.compute(cube_frame(files, spec, threads)).result()
    finally:
        if cluster is not None:
            cluster.close()
    table = _to_table(cells)
    del cells
    yield from table.to_batches(max_chunksize=batch_rows)
