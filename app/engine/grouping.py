"""Grouping: which group each selected cell falls in, and the token quantiles of each group.

Like a pandas groupby split into its keys and its ops: ``group_cells`` combines the
per-point codes of the group-by dimensions into one group code per cell and a frame
of each group's values; the counters are then summed per group by the queries.
Token quantiles are the one statistic that needs the sample rows: when every group is
exactly one whole (eval, task) block they are lookups in the token-sorted layout,
otherwise the groups' rows are sorted once by (group, tokens).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from app.engine import histogram, stats
from app.engine.dimensions import Dimension
from app.engine.errors import InputError
from app.engine.layout import N_OUT, Layout, dense_codes, distinct_keys


@dataclass(frozen=True, eq=False)
class Grouping:
    """A group code per selected cell (int64) and one frame row of dimension values per group."""

    codes: np.ndarray
    frame: pd.DataFrame

    @property
    def n_groups(self) -> int:
        return len(self.frame)


def check_group_by(group_by: Sequence[str] | str | None, names: Sequence[str]) -> list[str]:
    """The group-by dimensions as a list: each one of ``names``, none repeated."""
    if group_by is None:
        return []
    dims = [group_by] if isinstance(group_by, str) else list(group_by)
    for d in dims:
        if d not in names:
            raise InputError(f"unknown dimension {d!r} to group by; valid: {', '.join(names)}")
    if len(set(dims)) != len(dims):
        raise InputError(f"group-by dimensions repeat: {', '.join(dims)}")
    return dims


def group_cells(cells: np.ndarray, dims: Sequence[Dimension]) -> Grouping:
    """Group the given cells by the dimensions' values; no dimensions make one group of all."""
    if not dims:
        return Grouping(np.zeros(len(cells), np.int64), pd.DataFrame(index=[0]))
    point = cells // N_OUT
    outcome = cells % N_OUT
    key = np.zeros(len(cells), np.int64)
    space = 1
    for dim in dims:
        codes = dim.codes[outcome] if dim.name == "outcome" else dim.codes[point]
        key = key * (len(dim.values) + 1) + codes
        space *= len(dim.values) + 1
    uniq, group = dense_codes(key, space, np.int64, _table_space(key))
    columns = {}
    rest = uniq.copy()
    for dim in reversed(dims):
        base = len(dim.values) + 1
        code = rest % base
        rest //= base
        columns[dim.name] = pd.Series(np.array(dim.values + [None], dtype=object)[code], dtype=object)
    frame = pd.DataFrame({dim.name: columns[dim.name] for dim in dims})
    return Grouping(group, frame)  # int64 codes


DENSE_SPACE = 1 << 22   # key spaces up to this many values are coded with a lookup table, not a sort
HISTOGRAM_CELLS = 1 << 20  # token quantiles count (group, tokens) pairs instead of sorting up to this many


def _table_space(key: np.ndarray) -> int:
    """The largest key space coded with a lookup table here: the usual group keys (eval × task, a few
    params) span a space far smaller than the hundreds of thousands of cells, where marking the present
    keys beats sorting them; a sparse space would cost a table out of proportion to the keys.
    """
    return min(DENSE_SPACE, 8 * len(key) + 1024)


def token_quantiles(layout: Layout, cells: np.ndarray, grouping: Grouping, qs: Sequence[float]) -> list[np.ndarray]:
    """Exact token quantiles per group (numpy's linear interpolation), from the token-sorted blocks.

    A cube's layout has no rows to read: its quantiles come from its histograms (within half a bin).
    """
    lay, group, n_groups = layout, grouping.codes, grouping.n_groups
    if lay.histogram is not None:
        return histogram.quantiles(lay.histogram, cells, group, n_groups, qs)
    block = lay.point_block[cells // N_OUT]
    n_blocks = len(lay.block_start)
    full_cells = np.bincount(block, minlength=n_blocks)
    # Fast path: each group is exactly one whole block → quantiles are lookups.
    g_first = np.full(n_groups, -1, np.int64)
    g_first[group] = block
    pair_key = block * n_groups + group
    pairs = distinct_keys(pair_key, n_blocks * n_groups, _table_space(pair_key))   # each (block, group) that occurs
    groups_per_block = np.bincount(pairs // n_groups, minlength=n_blocks)
    blocks_per_group = np.bincount(pairs % n_groups, minlength=n_groups)
    used = distinct_keys(block, n_blocks, _table_space(block))
    whole_blocks = bool(np.all(full_cells[used] == lay.block_cells[used]) and np.all(groups_per_block[used] == 1))
    if whole_blocks and np.all(blocks_per_group == 1):
        starts = lay.block_start[g_first]
        counts = lay.block_tok_end[g_first] - starts
        return [stats.sorted_quantile(lay.row_tokens, starts, counts, q) for q in qs]
    # Each group is whole blocks (e.g. an eval over every task): the sum of its blocks' histograms.
    if whole_blocks:
        block_group = np.full(n_blocks, -1, np.int64)
        block_group[block] = group
        whole = _whole_block_quantiles(lay, used, block_group, n_groups, qs)
        if whole is not None:
            return whole
    # General path: the selected rows of the touched blocks, sorted by (group, tokens).
    rows = lay.rows_of_blocks(used)
    cell_group = np.full(len(lay.cell_count), -1, np.int64)
    cell_group[cells] = group
    g = cell_group[lay.row_cells(rows)]
    tok = lay.row_tokens[rows]
    keep = (g >= 0) & (tok >= 0)
    g, tok = g[keep], tok[keep]
    width = int(tok.max()) + 1 if len(tok) else 1
    if _histogram_fits(n_groups, width, len(tok)):
        return _histogram_quantiles(g, tok, n_groups, width, qs)
    # When every block feeds one group, rows arrive as token-sorted runs that a stable
    # (run-merging) sort handles fastest; interleaved groups sort faster with the default.
    runs = bool(np.all(groups_per_block[used] == 1))
    key = np.sort((g << 32) | tok, kind="stable" if runs else None)
    bounds = np.searchsorted(key, np.arange(n_groups + 1, dtype=np.int64) << 32)
    starts, counts = bounds[:-1], np.diff(bounds)
    return [stats.sorted_quantile(key, starts, counts, q, mask=0xFFFFFFFF) for q in qs]


def _histogram_fits(n_groups: int, width: int, n_rows: int) -> bool:
    """Whether a (group, token value) histogram is cheaper than sorting the rows: not much larger than them."""
    return n_groups * width <= max(2 * n_rows, HISTOGRAM_CELLS)


def _whole_block_quantiles(lay: Layout, used: np.ndarray, block_group: np.ndarray, n_groups: int,
                           qs: Sequence[float]) -> list[np.ndarray] | None:
    """Quantiles of groups made of whole blocks (every row selected, one group per block), or None.

    Each block's timed rows are one slice of the layout, so the group's token histogram is the
    sum of its blocks' histograms: no per-row group code, cell or sort is built. None when
    groups × token values is too large for a histogram (the general path sorts instead).
    """
    starts, ends = lay.block_start[used], lay.block_tok_end[used]
    filled = ends > starts
    width = int(lay.row_tokens[ends[filled] - 1].max()) + 1 if filled.any() else 1   # blocks are token-sorted
    if not _histogram_fits(n_groups, width, int((ends - starts).sum())):
        return None
    hist = np.zeros((n_groups, width), np.int64)
    for b, start, end in zip(used[filled].tolist(), starts[filled].tolist(), ends[filled].tolist()):
        hist[block_group[b]] += np.bincount(lay.row_tokens[start:end], minlength=width)
    return _cumulative_quantiles(np.cumsum(hist.ravel()), n_groups, width, qs)


def _histogram_quantiles(g: np.ndarray, tok: np.ndarray, n_groups: int, width: int,
                         qs: Sequence[float]) -> list[np.ndarray]:
    """The general path's quantiles without its sort: a cumulative count per (group, token value).

    Sorting the rows by (group, tokens) and reading positions gives the same values as
    finding those positions in the cumulative histogram, which costs one pass over the rows
    when groups × token values is small (a few evals over every task: the hazard's series).
    """
    return _cumulative_quantiles(np.cumsum(np.bincount(g * width + tok, minlength=n_groups * width)),
                                 n_groups, width, qs)


def _cumulative_quantiles(cum: np.ndarray, n_groups: int, width: int, qs: Sequence[float]) -> list[np.ndarray]:
    """Quantiles from the cumulative count of rows per (group, token value), flattened group-major.

    Position p of the rows sorted by (group, tokens) holds the token value of the first
    (group, value) whose cumulative count exceeds p.
    """
    bounds = np.concatenate([np.zeros(1, cum.dtype), cum[width - 1::width]])   # rows before each group
    starts, counts = bounds[:-1], np.diff(bounds)

    def pick(positions: np.ndarray) -> np.ndarray:
        return np.searchsorted(cum, positions, side="right") % width

    return [stats.quantile_at(pick, starts, counts, q) for q in qs]
