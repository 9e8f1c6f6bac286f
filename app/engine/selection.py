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
from app.engine.dimensions import Dimensions
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
    """The cells an already checked filter keeps (``mask``), and from them its cells and rows."""

    layout: Layout
    mask: np.ndarray  # bool per cell

    @cached_property
    def cells(self) -> np.ndarray:
        """Indices of the selected cells that hold samples."""
        return np.flatnonzero(self.mask & (self.layout.cell_count > 0))

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
    """The selection of already checked filters: per-point and per-outcome masks, crossed."""
    point = np.ones(layout.n_points, bool)
    outcome = np.ones(N_OUT, bool)
    for key, values in parsed.items():
        if key == "groups":
            point &= groups_mask(values, layout, meta)[layout.point_eval]
            continue
        dim = dims[key]
        allowed = np.zeros(len(dim.values) + 1, bool)
        for v in values:
            if v in dim.values:
                allowed[dim.values.index(v)] = True
        if key == "outcome":
            outcome &= allowed[:N_OUT]
        else:
            point &= allowed[dim.codes]
    return Selection(layout, (point[:, None] & outcome[None, :]).ravel())


def groups_mask(items: list[list[str]], layout: Layout, meta: DatasetMeta) -> np.ndarray:
    """Per eval: does it carry every tag of at least one item (items OR, tags inside one AND)?"""
    by_id = {e.eval_id: set(e.groups) for e in meta.evals}
    return np.array([any(set(item) <= by_id[eid] for item in items) for eid in layout.eval_ids], bool)
