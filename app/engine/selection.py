"""Selection: what a filter keeps, checked against one dataset and turned into cells and rows.

``filters.parse_filters`` checks a filter's form and knows no dataset; here its content is
checked (every id, tag and value must exist, else the error lists the valid ones) and
applied: a filter becomes a boolean mask over the (point, outcome) cells, computed
from per-point dimension codes, and only a query that needs sample rows turns it into
row indices, reading just the blocks the selected cells live in.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Mapping

import numpy as np

from app.engine import filters as flt
from app.engine.dimensions import Dimensions, is_block_level
from app.engine.errors import InputError, listing
from app.engine.layout import N_OUT, Layout
from app.engine.meta import DatasetMeta

_WHAT = {"eval_id": "eval id", "base_task": "task"}


def check_filters(filters: str | Mapping[str, Any] | None, dims: Dimensions, meta: DatasetMeta) -> dict[str, Any]:
    """Form and content: every id, tag, key and value must exist in this dataset."""
    parsed = flt.parse_filters(filters)
    for key, values in parsed.items():
        if key == "groups":
            known = meta.tags
            for tags in values:
                for tag in tags:
                    if tag not in known:
                        raise InputError(f"filter 'groups': unknown tag {tag!r}; tags: {listing(known, 30)}")
            continue
        dim = dims[key]
        unknown = [v for v in values if v not in dim.values]
        if unknown:
            what = _WHAT.get(key, f"value of {key}")
            shown = [v for v in dim.values if v is not None]
            if key == "eval_id":
                labels = meta.eval_labels
                shown = [f"{v} ({labels.get(v, '')})" for v in shown]
            raise InputError(f"filter '{key}': unknown {what} {listing(unknown)}; valid: {listing(shown, 30)}")
    return parsed


@dataclass(frozen=True, eq=False)
class Selection:
    """The points and outcomes an already checked filter keeps, and from them its cells and rows.

    Kept as the selected points (ascending), a mask per outcome and one per (eval, task) block: a cell is
    selected when its point and its outcome are. Everything is derived from the selected points alone, so a
    filter on a few evals of a large dataset never touches the rest.
    """

    layout: Layout
    points: np.ndarray  # int64, ascending
    outcome_mask: np.ndarray  # bool per outcome
    block_mask: np.ndarray  # bool per block: what the filters on blocks (evals, tasks, eval groups) keep
    block_level: bool = False  # no filter below (eval, task): every point of a kept block is kept

    @cached_property
    def point_mask(self) -> np.ndarray:
        """Bool per point."""
        mask = np.zeros(self.layout.n_points, bool)
        mask[self.points] = True
        return mask

    @cached_property
    def mask(self) -> np.ndarray:
        """Bool per cell (point × outcome)."""
        return (self.point_mask[:, None] & self.outcome_mask[None, :]).ravel()

    @cached_property
    def cells(self) -> np.ndarray:
        """Indices of the selected cells that hold samples, ascending."""
        cells = (self.points[:, None] * N_OUT + np.flatnonzero(self.outcome_mask)[None, :]).ravel()
        return cells[self.layout.cell_count[cells] > 0]

    def rows(self) -> np.ndarray:
        """Indices of the sample rows the filter keeps, in layout order."""
        lay = self.layout
        if len(self.cells) == 0:
            return np.zeros(0, np.int64)
        used = np.unique(lay.point_block[self.cells // N_OUT])
        rows = lay.rows_of_blocks(used)
        base = np.arange(rows.start, rows.stop) if isinstance(rows, slice) else rows
        if lay.cell_count[self.cells].sum() == len(base):   # every row of these blocks is kept: no mask to read
            return base
        keep = self.point_mask[lay.row_point[rows]]
        if not self.outcome_mask.all():
            keep &= self.outcome_mask[lay.row_outcome[rows]]
        return base[keep]


def select(parsed: Mapping[str, Any], layout: Layout, dims: Dimensions, meta: DatasetMeta) -> Selection:
    """The selection of already checked filters: the blocks, then the points in them, and the outcomes.

    A filter on the eval or the task (or any eval-level dimension) is decided once per block; the points
    of the kept blocks are one range each (points run by block), and only they are read for the filters
    on params and manifold.
    """
    bounds = layout.block_points
    n_blocks = len(bounds) - 1
    first = np.minimum(bounds[:-1], max(layout.n_points - 1, 0))
    block = np.ones(n_blocks, bool)
    outcome = np.ones(N_OUT, bool)
    below: list[tuple[np.ndarray, np.ndarray]] = []
    for key, values in parsed.items():
        if key == "groups":
            block &= groups_mask(values, layout, meta)[np.arange(n_blocks) // layout.n_tasks]
            continue
        dim = dims[key]
        allowed = np.zeros(len(dim.values) + 1, bool)
        for v in values:
            if v in dim.values:
                allowed[dim.values.index(v)] = True
        if key == "outcome":
            outcome &= allowed[:N_OUT]
        elif is_block_level(key):
            if layout.n_points:   # a block's points share the value: read it at its first point
                block &= allowed[dim.codes[first]]
        else:
            below.append((allowed, dim.codes))
    starts, ends = bounds[:-1][block], bounds[1:][block]
    if int((ends - starts).sum()) == layout.n_points:
        points = np.arange(layout.n_points, dtype=np.int64)
    else:
        lengths = ends - starts
        points = np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(starts - (np.cumsum(lengths) - lengths),
                                                                           lengths)
    for allowed, codes in below:
        points = points[allowed[codes[points]]]
    return Selection(layout, points, outcome, block, not below)


def groups_mask(items: list[list[str]], layout: Layout, meta: DatasetMeta) -> np.ndarray:
    """Per eval: does it carry every tag of at least one item (items OR, tags inside one AND)?"""
    by_id = {e.eval_id: set(e.groups) for e in meta.evals}
    return np.array([any(set(item) <= by_id[eid] for item in items) for eid in layout.eval_ids], bool)
