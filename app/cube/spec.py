"""The cube, declared once: its keys, its measures, its token grid and its dots, and the file it makes.

One row per (eval_id, base_task, params, manifold, outcome) cell holds:

- the measures of :data:`MEASURES` (counts and sums: exact whatever the engine, since integer sums do not
  depend on order and a cell's guess rate is kept whole when it is constant, as it nearly always is);
- ``hist_bin``/``hist_count``: the cell's token histogram on a fixed grid of :data:`GRID_STEP` tokens, sparse
  (only the bins that hold completions, ascending). Counts, accuracy, intervals, means and the hazard at any
  bucket size that is a multiple of the grid are exact; a token quantile is within half a grid step;
- ``dots_*``: the cell's share of its point's *dots*, a seeded sample of :data:`DOTS_PER_POINT` completions per
  point (every completion of a smaller point), ordered by row key: tokens, compressed size and row key, for the
  compression scatter and the probe.

Each engine translates this declaration (``duck.sql``, ``dask_engine.build``); neither restates a measure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from app.engine.cube_format import KEYS, PACKED
from app.engine.layout import COLUMNS

POINT_KEYS: tuple[str, ...] = KEYS[:-1]
# Chosen from r12 (8.8 M completions, 261 k cells, tokens 0-16,384): distinct (cell, bin) pairs are 8.4 M at
# 1 token, 6.5 M at 16, 5.3 M at 32, 4.0 M at 64, 2.8 M at 128 and 1.8 M at 256. 64 is the finest grid that
# halves the entries against the completions; it divides every power-of-two bucket from 64 up (the default
# 256 included), and it puts a quantile within 32 tokens (r12's median completion is 1,226 tokens).
GRID_STEP = 64
DOTS_PER_POINT = 16
SEED = 20_261_203


@dataclass(frozen=True)
class Measure:
    """One per-cell number: ``op`` over the source ``column`` (``rows`` counts every row)."""

    name: str
    op: str  # rows | count (non-null) | sum | min | max
    column: str | None
    type: pa.DataType


MEASURES: tuple[Measure, ...] = (
    Measure("count", "rows", None, pa.int64()),
    Measure("guess_sum", "sum", "guess_rate", pa.float64()),
    Measure("guess_min", "min", "guess_rate", pa.float64()),
    Measure("guess_max", "max", "guess_rate", pa.float64()),
    Measure("tokens_n", "count", "completion_tokens", pa.int64()),
    Measure("tokens_sum", "sum", "completion_tokens", pa.int64()),
    Measure("tokens_max", "max", "completion_tokens", pa.int64()),
    Measure("bytes_n", "count", "compressed_bytes", pa.int64()),
    Measure("bytes_sum", "sum", "compressed_bytes", pa.int64()),
)
SOURCE_COLUMNS: tuple[str, ...] = COLUMNS  # what a build reads of the samples

SCHEMA = pa.schema(
    [pa.field(k, pa.string(), nullable=(k == "manifold")) for k in KEYS]
    + [pa.field(m.name, m.type) for m in MEASURES]
    + [pa.field("hist_bin", pa.list_(pa.int32())), pa.field("hist_count", pa.list_(pa.int64())),
       pa.field("dots_tokens", pa.list_(pa.int32())), pa.field("dots_bytes", pa.list_(pa.int32())),
       pa.field("dots_row", pa.list_(pa.int64()))]
)


FILE_SCHEMA = pa.schema([pa.field(f.name, pa.large_binary()) if f.name in PACKED else f for f in SCHEMA])


def pack(batch: pa.RecordBatch) -> pa.RecordBatch:
    """The batch with each list column packed (``PACKED``); a value the width cannot hold is a ValueError."""
    arrays = []
    for field in SCHEMA:
        column = batch.column(field.name)
        if field.name not in PACKED:
            arrays.append(column)
            continue
        dtype = PACKED[field.name]
        values = pc.list_flatten(column).fill_null(-1).to_numpy(zero_copy_only=False)
        if len(values) and values.max() > np.iinfo(dtype).max:
            raise ValueError(f"cube column {field.name}: value {values.max()} exceeds {dtype}")
        offsets = column.offsets.to_numpy().astype(np.int64)
        offsets -= offsets[0]
        arrays.append(pa.LargeBinaryArray.from_buffers(
            pa.large_binary(), len(column),
            [None, pa.py_buffer(offsets * dtype.itemsize), pa.py_buffer(values.astype(dtype, copy=False))]))
    return pa.RecordBatch.from_arrays(arrays, schema=FILE_SCHEMA)


@dataclass(frozen=True)
class CubeSpec:
    """What a build makes: the grid step, the dots per point and the seed that picks them."""

    grid_step: int = GRID_STEP
    dots_per_point: int = DOTS_PER_POINT
    seed: int = SEED

    def to_json(self) -> dict[str, int]:
        return {"grid_step": self.grid_step, "dots_per_point": self.dots_per_point, "seed": self.seed}


# The dots' order: a 32-bit mix of the row key and the seed, the same integer arithmetic in SQL and numpy
# (products are taken modulo 2**32, so neither side overflows), ties broken by the row key.
MIX_A, MIX_B, MASK32 = 2_654_435_761, 2_246_822_519, (1 << 32) - 1


def dot_rank(row_key: np.ndarray, seed: int) -> np.ndarray:
    """The mix of each row key (uint64 holding 32 bits): smaller is drawn first."""
    x = (np.asarray(row_key, np.uint64) * np.uint64(MIX_A) + np.uint64(seed)) & np.uint64(MASK32)
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(MIX_B)) & np.uint64(MASK32)
    x ^= x >> np.uint64(13)
    return x


def dot_rank_sql(row_key: str, seed: int) -> str:
    """:func:`dot_rank` as a DuckDB expression over the BIGINT column ``row_key``."""
    x = f"((({row_key})::HUGEINT * {MIX_A} + {seed}) % {1 << 32})::BIGINT"
    x = f"xor({x}, {x} >> 15)"
    x = f"((({x})::HUGEINT * {MIX_B}) % {1 << 32})::BIGINT"
    return f"xor({x}, {x} >> 13)"
