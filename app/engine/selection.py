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

    Kept as a mask per point and one per outcome: a cell is selected when both are. The cells are listed
    from the selected points alone, so a filter on a few evals of a large dataset never touches the rest.
    """

    layout: Layout
    point_mask: np.ndarray  # bool per point
    outcome_mask: np.ndarray  # bool per outcome
    block_level: bool = False  # no filter below (eval, task): the mask is the same at every point of a block

    @cached_property
    def mask(self) -> np.ndarray:
        """Bool per cell (point × outcome)."""
        return (self.point_mask[:, None] & self.outcome_mask[None, :]).ravel()

    @cached_property
    def cells(self) -> np.ndarray:
        """Indices of the selected cells that hold samples, ascending."""
        points = np.flatnonzero(self.point_mask)
        cells = (points[:, None] * N_OUT + np.flatnonzero(self.outcome_mask)[None, :]).ravel()
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
        return base[self.mask[lay.row_cells(rows)]]


def select(parsed: Mapping[str, Any], layout: Layout, dims: Dimensions, meta: DatasetMeta) -> Selection:
    """The selection of already checked filters: a mask per (eval, task) block, per point and per outcome.

    A filter on the eval or the task (or any eval-level dimension) is decided once per block and spread to
    the points, so it costs the blocks, not a pass over every point per key.
    """
    n_blocks = len(layout.block_start)
    first = np.minimum(np.searchsorted(layout.point_block, np.arange(n_blocks)), max(layout.n_points - 1, 0))
    block = np.ones(n_blocks, bool)
    point: np.ndarray | None = None
    outcome = np.ones(N_OUT, bool)
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
            point = allowed[dim.codes] if point is None else point & allowed[dim.codes]
    point_mask = block[layout.point_block]
    if point is not None:
        point_mask &= point
    return Selection(layout, point_mask, outcome, point is None)


def groups_mask(items: list[list[str]], layout: Layout, meta: DatasetMeta) -> np.ndarray:
    """Per eval: does it carry every tag of at least one item (items OR, tags inside one AND)?"""
    by_id = {e.eval_id: set(e.groups) for e in meta.evals}
    return np.array([any(set(item) <= by_id[eid] for item in items) for eid in layout.eval_ids], bool)
