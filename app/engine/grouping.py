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

from app.engine import stats
from app.engine.dimensions import Dimension
from app.engine.errors import InputError
from app.engine.layout import N_OUT, Layout


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
    for dim in dims:
        codes = dim.codes[outcome] if dim.name == "outcome" else dim.codes[point]
        key = key * (len(dim.values) + 1) + codes
    uniq, group = np.unique(key, return_inverse=True)
    columns = {}
    rest = uniq.copy()
    for dim in reversed(dims):
        base = len(dim.values) + 1
        code = rest % base
        rest //= base
        columns[dim.name] = pd.Series(np.array(dim.values + [None], dtype=object)[code], dtype=object)
    frame = pd.DataFrame({dim.name: columns[dim.name] for dim in dims})
    return Grouping(group.astype(np.int64), frame)


def token_quantiles(layout: Layout, cells: np.ndarray, grouping: Grouping, qs: Sequence[float]) -> list[np.ndarray]:
    """Exact token quantiles per group (numpy's linear interpolation), from the token-sorted blocks."""
    lay, group, n_groups = layout, grouping.codes, grouping.n_groups
    block = lay.point_block[cells // N_OUT]
    n_blocks = len(lay.block_start)
    full_cells = np.bincount(block, minlength=n_blocks)
    # Fast path: each group is exactly one whole block → quantiles are lookups.
    g_first = np.full(n_groups, -1, np.int64)
    g_first[group] = block
    groups_per_block = np.zeros(n_blocks, np.int64)
    np.add.at(groups_per_block, np.unique(block * n_groups + group) // n_groups, 1)
    blocks_per_group = np.bincount(np.unique(group * n_blocks + block) // n_blocks, minlength=n_groups)
    used = np.unique(block)
    if (np.all(blocks_per_group == 1) and np.all(groups_per_block[used] == 1)
            and np.all(full_cells[used] == lay.block_cells[used])):
        starts = lay.block_start[g_first]
        counts = lay.block_tok_end[g_first] - starts
        return [stats.sorted_quantile(lay.row_tokens, starts, counts, q) for q in qs]
    # General path: the selected rows of the touched blocks, sorted by (group, tokens).
    rows = lay.rows_of_blocks(used)
    cell_group = np.full(len(lay.cell_count), -1, np.int64)
    cell_group[cells] = group
    g = cell_group[lay.row_cells(rows)]
    tok = lay.row_tokens[rows]
    keep = (g >= 0) & (tok >= 0)
    # When every block feeds one group, rows arrive as token-sorted runs that a stable
    # (run-merging) sort handles fastest; interleaved groups sort faster with the default.
    runs = bool(np.all(groups_per_block[used] == 1))
    key = np.sort((g[keep] << 32) | tok[keep], kind="stable" if runs else None)
    bounds = np.searchsorted(key, np.arange(n_groups + 1, dtype=np.int64) << 32)
    starts, counts = bounds[:-1], np.diff(bounds)
    return [stats.sorted_quantile(key, starts, counts, q, mask=0xFFFFFFFF) for q in qs]
