"""A cube dataset's layout: cells from the cube's counters, rows from its dots, token counts from its histograms.

``app.cube`` writes one row per (point, outcome) cell, sorted by the keys. Opening it gives the same ``Layout``
the in-memory engine uses, so selections, groupings, dimensions and every query run unchanged over it, with
the differences each query that reads rows knows of:

- the cells hold the cube's exact counters (count, guess mass, token count and sum), so aggregates are the
  in-memory engine's numbers;
- the *rows* are the dots (a seeded sample of each point): what the compression scatter draws and its readings
  read; token quantiles and the hazard read the histograms instead (``histogram.TokenHistogram``), and whole
  (eval, task) blocks read their sums (``histogram.BlockRollup``).

The file is read one row group at a time, each turned into narrow numpy arrays at once, so an open's memory
follows cells, histogram entries and dots (never completions) and holds one row group's Arrow buffers at most.
"""

from __future__ import annotations

import ctypes
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from app.engine.cube_format import FILE_METADATA, FORMAT, KEYS, PACKED
from app.engine.errors import InputError, listing, one_line
from app.engine.histogram import BlockRollup, TokenHistogram
from app.engine.layout import N_OUT, Layout
from app.engine.meta import CubeMeta, DatasetMeta, TaskMeta
from app.engine.schema import OUTCOME_CODE, OUTCOMES

KEY_COLUMNS = KEYS  # the file's format: app.engine.cube_format
COUNTER_COLUMNS = ("count", "guess_sum", "guess_min", "guess_max", "tokens_n", "tokens_sum", "bytes_n")
PACKED_COLUMNS = tuple(PACKED)
CUBE_COLUMNS = KEY_COLUMNS + COUNTER_COLUMNS + PACKED_COLUMNS  # what an open reads (the file may hold more)
GROUPS_AT_ONCE = 2  # row groups read together (65,536 cells each as written): parallel decoding, bounded memory
ENTRY_SLICE = 1 << 20  # histogram entries (and table slots) summed per block at a time: bounds an open's temporaries


@dataclass
class _Keys:
    """Pass one: every row's key codes (global over row groups) and the values behind them."""

    codes: dict[str, np.ndarray]
    values: dict[str, list[Any]]


@dataclass
class _Frame:
    """What the keys decide: evals, tasks, each row's point and cell, each point's block, params and manifold."""

    eval_ids: list[str]
    task_names: list[str]
    tasks: dict[str, TaskMeta]
    n_blocks: int
    row_block: np.ndarray
    row_point: np.ndarray
    row_outcome: np.ndarray
    row_cell: np.ndarray
    first: np.ndarray  # the row each point starts at
    params_raw: list[str]
    manifolds_raw: list[str | None]
    point_pr: np.ndarray
    point_mf: np.ndarray

    @property
    def n_points(self) -> int:
        return len(self.first)


def open_cube(meta_path: Path, meta: DatasetMeta, cube: CubeMeta) -> Layout:
    """The layout of the cube ``meta`` declares; a missing, corrupt, foreign or unsorted file is an InputError.

    Two passes: the key columns first (they decide every point and cell), then the counters and packed lists
    one row group at a time, copied straight into arrays allocated once from the totals in the file's footer.
    """
    path = meta_path.parent / cube.file
    pool = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())   # freed row groups go back to malloc, which gives them back
    try:
        with pq.ParquetFile(path, read_dictionary=list(KEY_COLUMNS)) as pf:
            totals = _footer(pf, path)
            frame = _frame(_read_keys(pf), meta, path)
            filled = _Filled.allocate(frame, totals)
            row, groups = 0, list(range(pf.metadata.num_row_groups))
            for at in range(0, len(groups), GROUPS_AT_ONCE):   # decoded on every core, a few at a time
                table = pf.read_row_groups(groups[at:at + GROUPS_AT_ONCE],
                                           columns=list(COUNTER_COLUMNS + PACKED_COLUMNS), use_threads=True)
                for batch in table.to_batches():
                    filled.add(frame, pa.Table.from_batches([batch]), row)
                    row += batch.num_rows
                del table
            filled.check(totals, path)
    except InputError:
        raise
    except (OSError, pa.ArrowException, ValueError) as exc:
        raise InputError(f"{path}: cannot read the cube ({one_line(exc)})") from None
    finally:
        pa.set_memory_pool(pool)
    layout = _layout(frame, filled, cube)
    _give_back()
    return layout


def _give_back() -> None:
    """Return the open's freed temporaries to the system (glibc keeps freed heap pages otherwise).

    A worker holds a cube for its lifetime: without this, what an open used while reading would stay in its
    resident size. A no-op where the C library has no ``malloc_trim``.
    """
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _footer(pf: pq.ParquetFile, path: Path) -> dict[str, int]:
    missing = [c for c in CUBE_COLUMNS if c not in pf.schema_arrow.names]
    raw = (pf.metadata.metadata or {}).get(FILE_METADATA)
    if missing or raw is None:
        what = f"missing column(s) {', '.join(missing)}" if missing else "no cube footer"
        raise InputError(f"{path}: not a cube of this version ({what}); build one with "
                         "`analyze.py cube DATASET --out DIR`")
    totals = json.loads(raw)
    if totals.get("format") != FORMAT:
        raise InputError(f"{path}: cube format {totals.get('format')!r} is not one this version reads ({FORMAT}); "
                         "rebuild it")
    return {k: int(v) for k, v in totals.items()}


def _read_keys(pf: pq.ParquetFile) -> _Keys:
    """Every row's key codes into one dictionary per column (null: -1), the dictionaries unified by Arrow."""
    table = pf.read(columns=list(KEY_COLUMNS), use_threads=True)
    codes, values = {}, {}
    for name in KEY_COLUMNS:
        column = table.column(name)
        if not pa.types.is_dictionary(column.type):
            column = column.dictionary_encode()
        column = column.unify_dictionaries()
        values[name] = column.chunk(0).dictionary.to_pylist() if column.num_chunks else []
        codes[name] = (np.concatenate([c.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)
                                       for c in column.chunks]) if column.num_chunks else np.zeros(0, np.int32))
    return _Keys(codes, values)


def _frame(keys: _Keys, meta: DatasetMeta, where: Path) -> _Frame:
    codes, values = keys.codes, keys.values
    unknown = sorted(set(values["eval_id"]) - {e.eval_id for e in meta.evals})
    if unknown:
        raise InputError(f"{where}: the cube names eval_id(s) {listing(unknown)} not described in dataset.json")
    bad = sorted(set(values["outcome"]) - set(OUTCOMES), key=str)
    if bad:
        raise InputError(f"{where}: outcome(s) {listing(bad)} are not one of {', '.join(OUTCOMES)}")
    eval_ids = sorted(e.eval_id for e in meta.evals)
    tasks = {t.base_task: t for t in meta.tasks}
    for name in values["base_task"]:
        tasks.setdefault(name, TaskMeta(name))
    task_names = sorted(tasks)
    n_tasks = max(len(task_names), 1)
    ev = np.array([eval_ids.index(e) for e in values["eval_id"]] + [0], np.int64)[codes["eval_id"]]
    tk = np.array([task_names.index(t) for t in values["base_task"]] + [0], np.int64)[codes["base_task"]]
    oc = np.array([OUTCOME_CODE[o] for o in values["outcome"]] + [0], np.int64)[codes["outcome"]]
    block = ev * n_tasks + tk
    del ev, tk
    pr = codes["params"]
    mf = np.where(codes["manifold"] < 0, len(values["manifold"]), codes["manifold"]).astype(np.int32)
    new_point = _check_order(block, _ranks(values["params"])[pr], _ranks(values["manifold"], none_first=True)[mf],
                             oc, where)
    row_point = (np.cumsum(new_point) - 1).astype(np.int32)
    first = np.flatnonzero(new_point)
    return _Frame(eval_ids=eval_ids, task_names=task_names, tasks=tasks, n_blocks=len(eval_ids) * n_tasks,
                  row_block=block.astype(np.int32), row_point=row_point, row_outcome=oc.astype(np.int8),
                  row_cell=row_point.astype(np.int64) * N_OUT + oc, first=first,
                  params_raw=values["params"] or ["{}"], manifolds_raw=list(values["manifold"]) + [None],
                  point_pr=pr[first].astype(np.int32), point_mf=mf[first])


@dataclass
class _Filled:
    """Pass two's output: per-cell counters, the histograms and the dots, filled one row group at a time."""

    cell_count: np.ndarray
    cell_guess: np.ndarray
    cell_tok_n: np.ndarray
    cell_tok_sum: np.ndarray
    hist_start: np.ndarray
    hist_end: np.ndarray
    bins: np.ndarray
    counts: np.ndarray
    dots_point: np.ndarray
    dots_outcome: np.ndarray
    dots_end: np.ndarray  # per cube row: where its dots end
    dots_tokens: np.ndarray
    dots_bytes: np.ndarray
    dots_row: np.ndarray
    entries: int = 0
    dots: int = 0
    has_bytes: bool = False

    @classmethod
    def allocate(cls, frame: _Frame, totals: dict[str, int]) -> "_Filled":
        size, n_entries, n_dots = frame.n_points * N_OUT, totals["hist_entries"], totals["dots"]
        return cls(
            cell_count=np.zeros(size), cell_guess=np.zeros(size), cell_tok_n=np.zeros(size),
            cell_tok_sum=np.zeros(size),
            hist_start=np.zeros(size, np.int64), hist_end=np.zeros(size, np.int64),
            bins=np.zeros(n_entries, _narrowest(totals["max_bin"])),
            counts=np.zeros(n_entries, _narrowest(totals["max_count"])),
            dots_point=np.zeros(n_dots, np.int32), dots_outcome=np.zeros(n_dots, np.int8),
            dots_end=np.zeros(len(frame.row_block), np.int64),
            dots_tokens=np.zeros(n_dots, np.int32), dots_bytes=np.zeros(n_dots, np.int32),
            dots_row=np.zeros(n_dots, np.int64))

    def add(self, frame: _Frame, table: pa.Table, row: int) -> None:
        cells = frame.row_cell[row:row + len(table)]

        def number(name: str) -> np.ndarray:
            return table.column(name).fill_null(0).to_numpy().astype(np.float64)

        count, g_min, g_max = number("count"), number("guess_min"), number("guess_max")
        self.cell_count[cells] = count
        # a constant rate gives count × rate, as the in-memory engine computes a cell's guess mass; else the sum
        self.cell_guess[cells] = np.where(g_min == g_max, count * g_min, number("guess_sum"))
        self.cell_tok_n[cells] = number("tokens_n")
        self.cell_tok_sum[cells] = number("tokens_sum")
        self.has_bytes = self.has_bytes or bool(number("bytes_n").any())
        lengths, bins = _unpacked(table, "hist_bin")
        _, counts = _unpacked(table, "hist_count")
        ends = self.entries + np.cumsum(lengths)
        self.hist_start[cells], self.hist_end[cells] = ends - lengths, ends
        self.bins[self.entries:self.entries + len(bins)] = bins
        self.counts[self.entries:self.entries + len(counts)] = counts
        self.entries += len(bins)
        lengths, tokens = _unpacked(table, "dots_tokens")
        at = slice(self.dots, self.dots + len(tokens))
        self.dots_tokens[at] = tokens
        self.dots_bytes[at] = _unpacked(table, "dots_bytes")[1]
        self.dots_row[at] = _unpacked(table, "dots_row")[1]
        self.dots_end[row:row + len(table)] = self.dots + np.cumsum(lengths)
        self.dots_point[at] = np.repeat(frame.row_point[row:row + len(table)], lengths)
        self.dots_outcome[at] = np.repeat(frame.row_outcome[row:row + len(table)], lengths)
        self.dots += len(tokens)

    def check(self, totals: dict[str, int], where: Path) -> None:
        if (self.entries, self.dots) != (totals["hist_entries"], totals["dots"]):
            raise InputError(f"{where}: the cube's footer does not match its rows; rebuild it")


def _unpacked(table: pa.Table, name: str) -> tuple[np.ndarray, np.ndarray]:
    """A packed list column (``app.cube.spec.PACKED``): each row's length and all values, as one numpy array."""
    dtype = PACKED[name]
    chunks = table.column(name).chunks
    column = chunks[0] if len(chunks) == 1 else pa.concat_arrays(chunks)
    _, offset_buffer, data = column.buffers()
    offsets = np.frombuffer(offset_buffer, np.int64, count=len(column) + 1, offset=column.offset * 8)
    first, last = int(offsets[0]), int(offsets[-1])
    values = np.frombuffer(data, dtype, count=(last - first) // dtype.itemsize, offset=first) if data is not None \
        else np.zeros(0, dtype)
    return np.diff(offsets) // dtype.itemsize, values


def _narrowest(top: int) -> type:
    """The narrowest unsigned integer type that holds 0..``top``."""
    for dtype in (np.uint8, np.uint16, np.uint32):
        if top <= np.iinfo(dtype).max:
            return dtype
    return np.int64


def _layout(frame: _Frame, filled: _Filled, cube: CubeMeta) -> Layout:
    n_tasks = max(len(frame.task_names), 1)
    point_block = frame.row_block[frame.first].astype(np.int32)
    n_blocks = frame.n_blocks
    block_cells = np.bincount(np.repeat(point_block, N_OUT)[filled.cell_count > 0], minlength=n_blocks)
    # rows run by block, so a block's dots start where its first row's do
    row_start = np.searchsorted(frame.row_block, np.arange(n_blocks + 1))
    bounds = np.concatenate([np.zeros(1, np.int64), filled.dots_end])[row_start]
    histogram = TokenHistogram(cube.grid_step, filled.hist_start, filled.hist_end, filled.bins, filled.counts)
    rollup = _rollup(frame, filled)
    return Layout(
        eval_ids=frame.eval_ids, task_names=frame.task_names, tasks=frame.tasks,
        point_block=point_block, point_eval=point_block // n_tasks, point_task=point_block % n_tasks,
        point_pr=frame.point_pr, point_mf=frame.point_mf,
        block_start=bounds[:-1], block_end=bounds[1:], block_tok_end=bounds[1:], block_cells=block_cells,
        cell_count=filled.cell_count, cell_tok_n=filled.cell_tok_n, cell_tok_sum=filled.cell_tok_sum,
        cell_guess=filled.cell_guess,
        row_point=filled.dots_point, row_outcome=filled.dots_outcome, row_tokens=filled.dots_tokens,
        row_bytes=filled.dots_bytes,
        params=[json.loads(p) if p else {} for p in frame.params_raw],
        manifolds=[json.loads(m) if m else {} for m in frame.manifolds_raw],
        params_raw=frame.params_raw, manifolds_raw=frame.manifolds_raw,
        n_samples=int(filled.cell_count.sum()), has_tokens=bool(filled.cell_tok_n.sum() > 0),
        has_bytes=filled.has_bytes, row_file=filled.dots_row, histogram=histogram, rollup=rollup,
        dots_per_point=cube.dots_per_point,
    )


def _ranks(values: list[Any], none_first: bool = False) -> np.ndarray:
    """The sort rank of each dictionary value (strings by code point, as the cube is sorted).

    The appended last entry (no value) ranks first when ``none_first``, as NULLS FIRST puts it.
    """
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = np.empty(len(values) + 1, np.int64)
    ranks[order] = np.arange(len(values)) + (1 if none_first else 0)
    ranks[len(values)] = 0 if none_first else len(values)
    return ranks


def _check_order(block: np.ndarray, pr: np.ndarray, mf: np.ndarray, oc: np.ndarray, where: Path) -> np.ndarray:
    """Which rows start a point; rows must run in key order, one per (point, outcome), as the builders write."""
    new = np.ones(len(block), bool)
    if len(block) < 2:
        return new
    later = np.zeros(len(block) - 1, bool)   # each row's key above the one before (lexicographically)
    same = np.ones(len(block) - 1, bool)
    for k in (block, pr, mf, oc):
        later |= same & (k[1:] > k[:-1])
        same &= k[1:] == k[:-1]
    if not later.all():
        raise InputError(f"{where}: the cube's rows are not in key order, or repeat a cell; rebuild it with "
                         "`analyze.py cube`")
    new[1:] = (block[1:] != block[:-1]) | (pr[1:] != pr[:-1]) | (mf[1:] != mf[:-1])
    return new


def _rollup(frame: _Frame, filled: _Filled) -> BlockRollup:
    """Per block × outcome sums (in cell order, as a grouping sums them) and each block's histogram."""
    slot = frame.row_block.astype(np.int64) * N_OUT + frame.row_outcome
    size = frame.n_blocks * N_OUT
    cell = frame.row_cell

    def summed(values: np.ndarray) -> np.ndarray:
        return np.bincount(slot, weights=values[cell], minlength=size)

    block_point = np.full(frame.n_blocks, -1, np.int64)
    blocks, first_point = np.unique(frame.row_block[frame.first], return_index=True)   # points run by block
    block_point[blocks] = first_point
    offsets = np.concatenate([filled.hist_start[cell[:1]], filled.hist_end[cell]])
    present, per = _block_histograms(frame.row_block, offsets, filled.bins, filled.counts, frame.n_blocks)
    width = int(filled.bins.max()) + 1 if len(filled.bins) else 1
    return BlockRollup(
        block_point=block_point, count=summed(filled.cell_count), tok_n=summed(filled.cell_tok_n),
        tok_sum=summed(filled.cell_tok_sum), guess=summed(filled.cell_guess),
        hist_start=np.searchsorted(present // width, np.arange(frame.n_blocks + 1)),
        hist_bins=(present % width).astype(np.int32), cum=np.cumsum(per))


def _block_histograms(block: np.ndarray, offsets: np.ndarray, bins: np.ndarray, counts: np.ndarray,
                      n_blocks: int) -> tuple[np.ndarray, np.ndarray]:
    """Every block's histogram (all its cells summed per bin): keys ``block * width + bin`` ascending and counts.

    Rows run by block, so a block's entries are one slice; a few blocks at a time are counted in a table
    of at most ``ENTRY_SLICE`` slots, which bounds the temporaries whatever the cube's size.
    """
    width = int(bins.max()) + 1 if len(bins) else 1
    row_start = np.searchsorted(block, np.arange(n_blocks + 1))
    entry_start = offsets[row_start]
    keys, totals = [], []
    b0 = 0
    while b0 < n_blocks:
        # as many blocks as keep both the entries and the table within the slice (at least one)
        limit = min(int(np.searchsorted(entry_start, entry_start[b0] + ENTRY_SLICE, side="right")) - 1,
                    b0 + max(ENTRY_SLICE // width, 1), n_blocks)
        b1 = max(limit, b0 + 1)
        r0, r1 = row_start[b0], row_start[b1]
        e0, e1 = entry_start[b0], entry_start[b1]
        local = np.repeat((block[r0:r1] - b0).astype(np.int64), np.diff(offsets[r0:r1 + 1]))
        table = np.bincount(local * width + bins[e0:e1], weights=counts[e0:e1], minlength=(b1 - b0) * width)
        filled = np.flatnonzero(table)
        keys.append(filled + b0 * width)
        totals.append(table[filled].astype(np.int64))
        b0 = b1
    if not keys:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(keys), np.concatenate(totals)
