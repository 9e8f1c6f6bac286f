"""The in-memory layout of a dataset, built once at open from the Arrow samples table.

This is the one module that reads sample rows column by column at open; everything
after it (dimensions, selection, grouping, the queries) works on the numpy arrays of
the ``Layout`` it returns and never sees Arrow. Keeping the build here keeps its
memory discipline (columns dropped as soon as they are coded, temporaries deleted)
in one place.

The layout, chosen for speed: rows are kept in (eval, task) *blocks* sorted by
``completion_tokens`` inside each block (the order ``store`` writes), so a block's
token quantiles are direct lookups and selections by eval or task are contiguous
slices. A *point* is a distinct (eval, task, params, manifold). Counters are
pre-aggregated into a *cell* table, one cell per (point, outcome), so filters and
groups on point-level dimensions work on cells alone and never touch the 8 M rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pyarrow as pa

from app.engine.errors import InputError, listing
from app.engine.histogram import BlockRollup, TokenHistogram
from app.engine.meta import DatasetMeta, TaskMeta
from app.engine.schema import OUTCOME_CODE, OUTCOMES

N_OUT = len(OUTCOMES)
# the columns read from the samples file, and those read dictionary-encoded
COLUMNS = ("eval_id", "base_task", "params", "manifold", "outcome", "completion_tokens", "compressed_bytes",
           "guess_rate")
DICT_COLUMNS = ("eval_id", "base_task", "params", "manifold", "outcome")


@dataclass(frozen=True, eq=False)
class Layout:
    """The arrays of an opened dataset by level: rows, points, (eval, task) blocks and (point, outcome) cells.

    Codes: eval ``e`` is ``eval_ids[e]``, task ``t`` is ``task_names[t]``, block ``b`` is
    ``e * n_tasks + t``, cell ``c`` is ``point * N_OUT + outcome``. Token and byte counts
    are int32 with -1 for missing.
    """

    eval_ids: list[str]  # sorted: the order rows are stored in
    task_names: list[str]  # sorted; tasks named only in dataset.json included
    tasks: dict[str, TaskMeta]  # every task in task_names, from dataset.json or a bare default
    # points, numbered in block order
    point_block: np.ndarray
    point_eval: np.ndarray
    point_task: np.ndarray
    point_pr: np.ndarray  # index into params / params_raw
    point_mf: np.ndarray  # index into manifolds / manifolds_raw (the last entry is "no manifold")
    # blocks: row ranges; rows with no token count sit at each block's end, from block_tok_end
    block_start: np.ndarray
    block_end: np.ndarray
    block_tok_end: np.ndarray
    block_cells: np.ndarray  # non-empty cells per block
    # cells: the input of every aggregate (float64 so bincount weights need no conversion)
    cell_count: np.ndarray
    cell_tok_n: np.ndarray
    cell_tok_sum: np.ndarray
    cell_guess: np.ndarray
    # rows
    row_point: np.ndarray
    row_outcome: np.ndarray
    row_tokens: np.ndarray
    row_bytes: np.ndarray
    # the params and manifold dictionaries: parsed and as stored
    params: list[dict]
    manifolds: list[dict]
    params_raw: list[str]
    manifolds_raw: list[str | None]
    n_samples: int
    has_tokens: bool
    has_bytes: bool
    # the samples file's row of each layout row, when the file was not in layout order (None: the same)
    row_file: np.ndarray | None = None
    # a cube's layout (``cube_layout``): its rows are each point's dots, its token counts these histograms
    histogram: TokenHistogram | None = None
    rollup: BlockRollup | None = None
    dots_per_point: int | None = None

    @property
    def n_tasks(self) -> int:
        """The block stride: at least 1, so an empty dataset still has a block code."""
        return max(len(self.task_names), 1)

    @property
    def n_points(self) -> int:
        return len(self.point_block)

    @cached_property
    def block_points(self) -> np.ndarray:
        """Where each block's points start (points run by block), and the end: int64, n_blocks + 1."""
        return np.searchsorted(self.point_block, np.arange(len(self.block_start) + 1)).astype(np.int64)

    def file_rows(self, rows: np.ndarray) -> np.ndarray:
        """The samples-file position (the ``row`` key of texts) of each given layout row (int64)."""
        rows = np.asarray(rows, np.int64)
        return rows if self.row_file is None else self.row_file[rows].astype(np.int64)

    def layout_rows(self, file_rows: np.ndarray) -> np.ndarray:
        """The layout row of each given samples-file position (the inverse of :meth:`file_rows`)."""
        file_rows = np.asarray(file_rows, np.int64)
        if self.row_file is None:
            return file_rows
        inverse = np.empty(len(self.row_file), np.int64)
        inverse[self.row_file] = np.arange(len(self.row_file))
        return inverse[file_rows]

    def row_cells(self, rows: np.ndarray | slice) -> np.ndarray:
        """The cell of each given row (int64)."""
        return self.row_point[rows].astype(np.int64) * N_OUT + self.row_outcome[rows]

    def rows_of_blocks(self, blocks: np.ndarray) -> np.ndarray | slice:
        """Row indices of the given (ascending) blocks: a slice when they are contiguous."""
        if len(blocks) == 0:
            return np.zeros(0, np.int64)
        starts, ends = self.block_start[blocks], self.block_end[blocks]
        if np.all(starts[1:] == ends[:-1]):
            return slice(int(starts[0]), int(ends[-1]))
        lengths = ends - starts
        offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
        return np.arange(lengths.sum()) + offsets


def build_layout(tables: list[pa.Table], meta: DatasetMeta, where: Path | str) -> Layout:
    """The layout of the samples table in ``tables``, which is emptied so its Arrow buffers die
    as soon as numpy holds what the engine keeps (this halves the peak memory of an open).

    ``where`` names the file in errors: eval ids not in ``meta``, unknown outcomes.
    """
    table = tables.pop()

    def take(name: str) -> pa.ChunkedArray:
        nonlocal table
        column = table.column(name)
        table = table.drop_columns([name])
        return column

    ev_codes, ev_dict = dictionary_codes(take("eval_id"))
    tk_codes, tk_dict = dictionary_codes(take("base_task"))
    pr_codes, pr_dict = dictionary_codes(take("params"))
    mf_codes, mf_dict = dictionary_codes(take("manifold"))
    oc_codes, oc_dict = dictionary_codes(take("outcome"))
    tokens = take("completion_tokens").fill_null(-1).to_numpy().astype(np.int32, copy=False)
    cbytes = take("compressed_bytes").fill_null(-1).to_numpy().astype(np.int32, copy=False)
    guess = _float64_rows(take("guess_rate"))
    del table

    # Evals and tasks: codes follow the sorted ids, which is the order rows are stored in.
    meta_evals = {e.eval_id for e in meta.evals}
    unknown = sorted(set(ev_dict) - meta_evals)
    if unknown:
        raise InputError(f"{where}: samples name eval_id(s) {listing(unknown)} not described in dataset.json")
    eval_ids = sorted(meta_evals)
    ev_map = np.array([eval_ids.index(e) for e in ev_dict] or [0], np.int32)
    tasks = {t.base_task: t for t in meta.tasks}
    for name in tk_dict:
        tasks.setdefault(name, TaskMeta(name))
    task_names = sorted(tasks)
    tk_map = np.array([task_names.index(t) for t in tk_dict] or [0], np.int32)
    bad = sorted(set(oc_dict) - set(OUTCOMES))
    if bad:
        raise InputError(f"{where}: outcome(s) {listing(bad)} are not one of {', '.join(OUTCOMES)}")
    oc_map = np.array([OUTCOME_CODE[o] for o in oc_dict] or [0], np.int8)
    outcome = oc_map[oc_codes]
    del oc_codes
    n_tasks = max(len(task_names), 1)
    block = (ev_map * np.int32(n_tasks))[ev_codes]
    block += tk_map[tk_codes]
    del ev_codes, tk_codes

    # Keep the fast layout; sort only files another tool wrote in another order, and then keep
    # each row's file position (texts are keyed by it). The sort is stable, so inside a block rows
    # with equal tokens stay in file order: layout order there is (tokens, file row) either way.
    has_tok = tokens >= 0
    row_file = None
    if not in_layout(block, tokens, has_tok):
        order = np.lexsort((np.where(has_tok, tokens, np.iinfo(np.int32).max), block))
        block, tokens, cbytes, guess = block[order], tokens[order], cbytes[order], guess[order]
        outcome, pr_codes, mf_codes, has_tok = outcome[order], pr_codes[order], mf_codes[order], has_tok[order]
        row_file = order.astype(np.int32 if len(order) < 2**31 else np.int64)
        del order

    # Guess rates: constant per (eval, task) block in the usual case, so the float64 row array
    # goes before the points are built (the peak of an open) and cells take their block's rate.
    block_rate = _block_rates(guess, block, len(eval_ids) * n_tasks)
    row_guess = guess if block_rate is None else None
    del guess

    # Points: distinct (block, params, manifold), numbered in block order. The (params,
    # manifold) pairs are made dense first: manifold mostly follows params, so the pair
    # space stays small where the full product would cost a 30 M-entry table at r12.
    n_pr, n_mf = max(len(pr_dict), 1), len(mf_dict) + 1
    n_blocks = len(eval_ids) * n_tasks
    wide: type[np.signedinteger] = (np.int64 if n_pr * n_mf >= 2**31 or n_blocks * n_pr * n_mf >= 2**31
                                    else np.int32)
    pair = pr_codes.astype(wide, copy=False) * wide(n_mf)
    pair += np.where(mf_codes < 0, n_mf - 1, mf_codes)
    del pr_codes, mf_codes
    pair_keys, pair = dense_codes(pair, n_pr * n_mf)
    n_pairs = max(len(pair_keys), 1)
    key = block.astype(wide, copy=False) * wide(n_pairs)
    key += pair
    del pair
    point_keys, row_point = dense_codes(key, n_blocks * n_pairs)
    del key
    point_pair = pair_keys[point_keys % n_pairs]
    point_keys = (point_keys // n_pairs) * (n_pr * n_mf) + point_pair
    n_points = len(point_keys)
    point_block = (point_keys // (n_mf * n_pr)).astype(np.int32)

    # Blocks: row ranges; null token counts sit at each block's end.
    bounds = np.searchsorted(block, np.arange(n_blocks + 1))
    block_start, block_end = bounds[:-1], bounds[1:]
    null_rows = np.flatnonzero(~has_tok)
    block_tok_end = block_end - np.bincount(block[null_rows], minlength=n_blocks)

    # Cells: (point, outcome) counters, the input of every aggregate.
    cell = row_point * np.int32(N_OUT)
    cell += outcome
    size = n_points * N_OUT
    cell_count = np.bincount(cell, minlength=size).astype(np.float64)
    nulls = np.bincount(cell[null_rows], minlength=size).astype(np.float64)
    # nulls are stored as -1: add them back instead of masking 8 M rows
    cell_tok_sum = np.bincount(cell, weights=tokens, minlength=size) + nulls
    cell_guess = (np.bincount(cell, weights=row_guess, minlength=size) if block_rate is None
                  else cell_count * np.repeat(block_rate[point_block], N_OUT))
    del row_guess
    block_cells = np.bincount(np.repeat(point_block, N_OUT)[cell_count > 0], minlength=n_blocks)
    del cell

    return Layout(
        eval_ids=eval_ids, task_names=task_names, tasks=tasks,
        point_block=point_block, point_eval=point_block // n_tasks, point_task=point_block % n_tasks,
        point_pr=((point_keys // n_mf) % n_pr).astype(np.int32), point_mf=(point_keys % n_mf).astype(np.int32),
        block_start=block_start, block_end=block_end, block_tok_end=block_tok_end, block_cells=block_cells,
        cell_count=cell_count, cell_tok_n=cell_count - nulls, cell_tok_sum=cell_tok_sum, cell_guess=cell_guess,
        row_point=row_point, row_outcome=outcome, row_tokens=tokens, row_bytes=cbytes,
        params=[json.loads(p) if p else {} for p in pr_dict] or [{}],
        manifolds=[json.loads(m) if m else {} for m in mf_dict] + [{}],
        params_raw=pr_dict or ["{}"], manifolds_raw=list(mf_dict) + [None],
        n_samples=len(tokens), has_tokens=bool(len(null_rows) < len(tokens)), has_bytes=bool((cbytes >= 0).any()),
        row_file=row_file,
    )


def in_layout(block: np.ndarray, tokens: np.ndarray, has_tok: np.ndarray) -> bool:
    """Rows in (eval, task) blocks, tokens ascending inside, nulls last: the store's order."""
    if len(block) < 2:
        return True
    if np.any(block[1:] < block[:-1]):
        return False
    # inside a block, a token count follows only a smaller or equal one (never a null)
    ok = (block[1:] != block[:-1]) | ~has_tok[1:] | (has_tok[:-1] & (tokens[1:] >= tokens[:-1]))
    return bool(ok.all())


def dictionary_codes(column: pa.ChunkedArray) -> tuple[np.ndarray, list]:
    """Integer codes and dictionary values of a dictionary-encoded column (nulls → -1)."""
    if not pa.types.is_dictionary(column.type):
        column = column.dictionary_encode()
    column = column.unify_dictionaries()
    if column.num_chunks == 0:
        return np.zeros(0, np.int32), []
    dictionary = column.chunk(0).dictionary.to_pylist()
    parts = []
    for chunk in column.chunks:
        idx = chunk.indices
        if idx.null_count:
            idx = idx.fill_null(-1)
        parts.append(idx.to_numpy(zero_copy_only=False).astype(np.int32, copy=False))
    return (np.concatenate(parts) if parts else np.zeros(0, np.int32)), dictionary


def _float64_rows(column: pa.ChunkedArray) -> np.ndarray:
    """A float64 column as one numpy array, copied chunk by chunk so each Arrow chunk is freed once copied.

    Guess rates stay float64 from file to cell: in float32, 1/12 is off by 2.5e-9, which moves a
    §3 accuracy by about 1e-9 and loses the spec's reference digits. Copying chunk by chunk keeps
    the peak at one array plus one chunk, where ``to_numpy`` would hold the whole column twice.
    """
    if column.num_chunks == 1:
        return column.chunk(0).to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    out = np.empty(len(column), np.float64)
    chunks, start = column.chunks, 0
    del column
    while chunks:
        chunk = chunks.pop(0)
        out[start:start + len(chunk)] = chunk.to_numpy(zero_copy_only=False)
        start += len(chunk)
    return out


TABLE_SPACE = 16_000_000  # key spaces up to this many values are coded with a lookup table by default


def distinct_keys(key: np.ndarray, space: int, max_space: int = TABLE_SPACE) -> np.ndarray:
    """``np.unique(key)`` for keys in [0, space): the present keys marked in a table (no sort) when
    the space is at most ``max_space``.
    """
    if space > max_space:
        return np.unique(key)
    present = np.zeros(space, bool)
    present[key] = True
    return np.flatnonzero(present)


def dense_codes(key: np.ndarray, space: int, dtype: type = np.int32,
                max_space: int = TABLE_SPACE) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys (ascending) and each row's index among them, as ``dtype``:
    ``np.unique(key, return_inverse=True)``, through a lookup table when the space is at most ``max_space``.
    """
    if space > max_space:
        distinct, codes = np.unique(key, return_inverse=True)
        return distinct, codes.astype(dtype, copy=False)
    distinct = distinct_keys(key, space, max_space)
    lookup: np.ndarray = np.zeros(space, dtype)
    lookup[distinct] = np.arange(len(distinct), dtype=dtype)
    return distinct, lookup[key]


def _block_rates(guess: np.ndarray, block: np.ndarray, n_blocks: int) -> np.ndarray | None:
    """Each block's guess rate (float64) when it is constant inside every block, else None.

    ``block`` is ascending (the layout order). A constant rate needs no pass over rows for the
    cells' guess mass: count × rate, exact to the last bit of the stored float64.
    """
    bounds = np.searchsorted(block, np.arange(n_blocks + 1))
    starts = bounds[:-1][bounds[1:] > bounds[:-1]]
    per_block = np.zeros(n_blocks, np.float64)
    if len(starts):
        low = np.minimum.reduceat(guess, starts)
        if not np.array_equal(low, np.maximum.reduceat(guess, starts)):
            return None
        per_block[block[starts]] = low
    return per_block
