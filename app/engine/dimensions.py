"""Dimensions: the names a dataset can be filtered and grouped by, each coded per point.

A dimension's values live at one of three levels: the eval (``eval_id``, ``model``,
``template``, ``sampler``, ``groups.<key>``), the point (``base_task``, ``params.<key>``,
``manifold.<key>``) or the outcome. Coding each once per point (a few thousand
entries, never per row) is what lets selection and grouping work on cells alone; the
value order fixed here is the order axes, legends and error messages list them in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

from app.engine.errors import InputError
from app.engine.filters import normalise_scalar
from app.engine.layout import N_OUT, Layout
from app.engine.meta import DatasetMeta
from app.engine.schema import EVAL_DIMS, OUTCOMES


@dataclass(frozen=True)
class Dimension:
    """A dimension's value for every point (``codes``) and the values themselves."""

    name: str
    codes: np.ndarray  # int32 per point (or per outcome for 'outcome')
    values: list[Any]


def is_block_level(name: str) -> bool:
    """Whether a dimension takes one value per (eval, task) block (or per outcome): not a params or manifold key."""
    return not name.startswith(("params.", "manifold."))


def value_order(values: Iterable[Any]) -> list[Any]:
    """Numbers ascending, then strings, then missing: the order axes are drawn in."""
    distinct = set(values)
    nums = sorted(v for v in distinct if isinstance(v, (int, float)) and not isinstance(v, bool))
    rest = sorted((v for v in distinct if v is not None and v not in nums), key=str)
    return nums + rest + ([None] if None in distinct else [])


def normalise_value(v: Any) -> Any:
    """A params or manifold value as filters compare it: 8.0 is 8, a nested value its JSON text."""
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True, separators=(",", ":"))
    return normalise_scalar(v)


def coded(name: str, per_entry: list[Any], entry_codes: np.ndarray) -> Dimension:
    """The dimension whose value is ``per_entry[entry_codes]``, recoded to the value order."""
    values = value_order(per_entry)
    index = {v: i for i, v in enumerate(values)}
    remap = np.array([index[v] for v in per_entry], np.int32)
    return Dimension(name, remap[entry_codes], values)


class Dimensions:
    """The dimensions of one dataset: every name at once, each coding built on first use and kept."""

    def __init__(self, layout: Layout, meta: DatasetMeta, dataset_name: str):
        self._layout = layout
        self._meta = meta
        self._dataset_name = dataset_name
        self._cache: dict[str, Dimension] = {}
        lay = layout
        names = ["eval_id", "model", "template", "sampler", "base_task", "outcome"]
        names += [f"params.{k}" for k in sorted({k for p in lay.params for k in p})]
        names += [f"manifold.{k}" for k in sorted({k for m in lay.manifolds for k in m})]
        names += [f"groups.{k}" for k in meta.group_keys]
        self.names = names

    def __getitem__(self, name: str) -> Dimension:
        """Per-point codes of a dimension (cached); an unknown name lists the valid ones."""
        if name not in self._cache:
            self._cache[name] = self._build(name)
        return self._cache[name]

    def _build(self, name: str) -> Dimension:
        lay = self._layout
        if name not in self.names:
            raise InputError(f"unknown dimension {name!r} for dataset {self._dataset_name!r}; "
                             f"valid: {', '.join(self.names)}")
        if name == "outcome":
            return Dimension(name, np.arange(N_OUT, dtype=np.int32), list(OUTCOMES))
        if name == "base_task":
            return Dimension(name, lay.point_task.astype(np.int32), list(lay.task_names))
        if name in EVAL_DIMS or name.startswith("groups."):
            by_id = {e.eval_id: e for e in self._meta.evals}
            per_eval = [by_id[eid].attribute(name) for eid in lay.eval_ids]
            return coded(name, per_eval, lay.point_eval)
        prefix, key = name.split(".", 1)
        source, codes = (lay.params, lay.point_pr) if prefix == "params" else (lay.manifolds, lay.point_mf)
        return coded(name, [normalise_value(d.get(key)) for d in source], codes)
