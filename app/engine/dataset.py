"""The in-memory dataset and its queries: filter → group → statistics.

Layout, chosen for speed: rows are kept in (eval, task) blocks sorted by
``completion_tokens`` inside each block (the order ``store`` writes), so a
block's token quantiles are direct lookups and selections by eval or task are
contiguous slices. Counters are pre-aggregated at open into a *cell* table, one
cell per (point, outcome); filters and groups on point-level dimensions work on
cells alone and never touch the 8 M sample rows.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from app.engine import filters as flt
from app.engine import stats
from app.engine.errors import InputError, listing
from app.engine.schema import OUTCOME_CODE, OUTCOMES
from app.engine.meta import DatasetMeta, TaskMeta, ViewMeta
from app.engine.store import read_meta, read_samples, resolve_dataset_path

N_OUT = len(OUTCOMES)
STAT_COLUMNS = ("n", "samples", "correct", "incorrect", "invalid", "truncated", "accuracy", "center", "margin",
                "lower", "upper", "truncation_rate", "invalid_rate", "tokens_mean", "tokens_p50", "tokens_p95")
_DICT_COLUMNS = ("eval_id", "base_task", "params", "manifold", "outcome")


def _dictionary_codes(column: pa.ChunkedArray) -> tuple[np.ndarray, list]:
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


def _dense_codes(key: np.ndarray, space: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys (ascending) and each row's index among them, as int32."""
    if space <= 16_000_000:
        present = np.zeros(space, bool)
        present[key] = True
        distinct = np.flatnonzero(present)
        lookup = np.zeros(space, np.int32)
        lookup[distinct] = np.arange(len(distinct), dtype=np.int32)
        return distinct, lookup[key]
    distinct, codes = np.unique(key, return_inverse=True)
    return distinct, codes.astype(np.int32)


def _value_order(values: Iterable[Any]) -> list[Any]:
    """Numbers ascending, then strings, then missing: the order axes are drawn in."""
    distinct = set(values)
    nums = sorted(v for v in distinct if isinstance(v, (int, float)) and not isinstance(v, bool))
    rest = sorted((v for v in distinct if v is not None and v not in nums), key=str)
    return nums + rest + ([None] if None in distinct else [])


def _normalise_value(v: Any) -> Any:
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True, separators=(",", ":"))
    return flt.normalise_scalar(v)


def _categorical(codes: np.ndarray, values: list[Any]) -> pd.Categorical:
    """A categorical over ``values[codes]``; values may repeat (e.g. None and "" both shown as "")."""
    uniq: dict[Any, int] = {}
    remap = np.array([uniq.setdefault(v, len(uniq)) for v in values] or [0], np.int32)
    return pd.Categorical.from_codes(remap[codes], list(uniq))


@dataclass(frozen=True)
class Dimension:
    """A dimension's value for every point (``codes``) and the values themselves."""

    name: str
    codes: np.ndarray  # int32 per point (or per outcome for 'outcome')
    values: list[Any]


class Dataset:
    """An opened dataset. Immutable after ``open``; safe to share between threads."""

    def __init__(self, path: Path, meta: DatasetMeta, tables: list[pa.Table]):
        """``tables`` holds the samples table and is emptied, so its Arrow buffers die as soon as
        numpy holds what the engine keeps (this halves the peak memory of an open)."""
        self.path = path
        self.meta = meta
        self.name = meta.name
        self.title = meta.title
        self._load(tables)

    # ------------------------------------------------------------------ open
    @classmethod
    def open(cls, path: str | os.PathLike) -> "Dataset":
        """Open ``dataset.json`` (or its folder); errors name the file and the problem."""
        meta_path = resolve_dataset_path(path)
        meta = read_meta(meta_path)
        columns = ["eval_id", "base_task", "params", "manifold", "outcome", "completion_tokens",
                   "compressed_bytes", "guess_rate"]
        tables = [read_samples(meta_path, meta, columns=columns, dictionary=_DICT_COLUMNS)]
        return cls(meta_path, meta, tables)

    @cached_property
    def version(self) -> str:
        """Changes whenever the dataset's files change: part of every cache key."""
        h = hashlib.sha256(self.path.read_bytes())
        st = (self.path.parent / self.meta.samples).stat()
        h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
        return h.hexdigest()[:16]

    def _load(self, tables: list[pa.Table]) -> None:
        table = tables.pop()

        def take(name: str) -> pa.ChunkedArray:
            nonlocal table
            column = table.column(name)
            table = table.drop_columns([name])
            return column

        ev_codes, ev_dict = _dictionary_codes(take("eval_id"))
        tk_codes, tk_dict = _dictionary_codes(take("base_task"))
        pr_codes, pr_dict = _dictionary_codes(take("params"))
        mf_codes, mf_dict = _dictionary_codes(take("manifold"))
        oc_codes, oc_dict = _dictionary_codes(take("outcome"))
        tokens = take("completion_tokens").fill_null(-1).to_numpy().astype(np.int32, copy=False)
        cbytes = take("compressed_bytes").fill_null(-1).to_numpy().astype(np.int32, copy=False)
        guess = take("guess_rate").to_numpy().astype(np.float32, copy=False)
        del table

        # Evals and tasks: codes follow the sorted ids, which is the order rows are stored in.
        meta_evals = {e.eval_id: e for e in self.meta.evals}
        unknown = sorted(set(ev_dict) - set(meta_evals))
        if unknown:
            raise InputError(f"{self.path}: samples name eval_id(s) {listing(unknown)} not described in dataset.json")
        self._eval_ids = sorted(meta_evals)
        ev_map = np.array([self._eval_ids.index(e) for e in ev_dict] or [0], np.int32)
        meta_tasks = {t.base_task: t for t in self.meta.tasks}
        for name in tk_dict:
            meta_tasks.setdefault(name, TaskMeta(name))
        self._task_names = sorted(meta_tasks)
        self._task_meta = meta_tasks
        tk_map = np.array([self._task_names.index(t) for t in tk_dict] or [0], np.int32)
        bad = sorted(set(oc_dict) - set(OUTCOMES))
        if bad:
            raise InputError(f"{self.path}: outcome(s) {listing(bad)} are not one of {', '.join(OUTCOMES)}")
        oc_map = np.array([OUTCOME_CODE[o] for o in oc_dict] or [0], np.int8)
        outcome = oc_map[oc_codes]
        del oc_codes
        n_tasks = max(len(self._task_names), 1)
        block = (ev_map * np.int32(n_tasks))[ev_codes]
        block += tk_map[tk_codes]
        del ev_codes, tk_codes

        # Keep the fast layout; sort only files another tool wrote in another order.
        has_tok = tokens >= 0
        if not self._in_layout(block, tokens, has_tok):
            order = np.lexsort((np.where(has_tok, tokens, np.iinfo(np.int32).max), block))
            block, tokens, cbytes, guess = block[order], tokens[order], cbytes[order], guess[order]
            outcome, pr_codes, mf_codes, has_tok = outcome[order], pr_codes[order], mf_codes[order], has_tok[order]
            del order

        # Points: distinct (block, params, manifold), numbered in block order. The (params,
        # manifold) pairs are made dense first: manifold mostly follows params, so the pair
        # space stays small where the full product would cost a 30 M-entry table at r12.
        n_pr, n_mf = max(len(pr_dict), 1), len(mf_dict) + 1
        n_blocks = len(self._eval_ids) * n_tasks
        wide = np.int64 if n_pr * n_mf >= 2**31 or n_blocks * n_pr * n_mf >= 2**31 else np.int32
        pair = pr_codes.astype(wide, copy=False) * wide(n_mf)
        pair += np.where(mf_codes < 0, n_mf - 1, mf_codes)
        del pr_codes, mf_codes
        pair_keys, pair = _dense_codes(pair, n_pr * n_mf)
        key = block.astype(wide, copy=False) * wide(max(len(pair_keys), 1))
        key += pair
        del pair
        point_keys, row_point = _dense_codes(key, n_blocks * max(len(pair_keys), 1))
        del key
        point_pair = pair_keys[point_keys % max(len(pair_keys), 1)]
        point_keys = (point_keys // max(len(pair_keys), 1)) * (n_pr * n_mf) + point_pair
        n_points = len(point_keys)
        self._point_mf = (point_keys % n_mf).astype(np.int32)
        self._point_pr = ((point_keys // n_mf) % n_pr).astype(np.int32)
        self._point_block = (point_keys // (n_mf * n_pr)).astype(np.int32)
        self._point_eval = self._point_block // n_tasks
        self._point_task = self._point_block % n_tasks
        self._n_tasks = n_tasks

        # Blocks: row ranges; null token counts sit at each block's end.
        bounds = np.searchsorted(block, np.arange(n_blocks + 1))
        self._block_start = bounds[:-1]
        self._block_end = bounds[1:]
        null_rows = np.flatnonzero(~has_tok)
        self._block_tok_end = self._block_end - np.bincount(block[null_rows], minlength=n_blocks)

        # Cells: (point, outcome) counters, the input of every aggregate.
        cell = row_point * np.int32(N_OUT)
        cell += outcome
        size = n_points * N_OUT
        self._cell_count = np.bincount(cell, minlength=size).astype(np.float64)
        nulls = np.bincount(cell[null_rows], minlength=size).astype(np.float64)
        self._cell_tok_n = self._cell_count - nulls
        # nulls are stored as -1: add them back instead of masking 8 M rows
        self._cell_tok_sum = np.bincount(cell, weights=tokens, minlength=size) + nulls
        self._cell_guess = self._guess_sums(cell, guess, block, n_blocks, size)
        self._block_cells = np.bincount(np.repeat(self._point_block, N_OUT)[self._cell_count > 0],
                                        minlength=n_blocks)
        del cell

        self._row_point = row_point
        self._row_outcome = outcome
        self._row_tokens = tokens
        self._row_bytes = cbytes
        self._params_dict = [json.loads(p) if p else {} for p in pr_dict] or [{}]
        self._manifold_dict = [json.loads(m) if m else {} for m in mf_dict] + [{}]
        self._params_raw = (pr_dict or ["{}"])
        self._manifold_raw = list(mf_dict) + [None]
        self.n_samples = len(tokens)
        self.has_tokens = bool(len(null_rows) < len(tokens))
        self.has_bytes = bool((cbytes >= 0).any())

    def _in_layout(self, block: np.ndarray, tokens: np.ndarray, has_tok: np.ndarray) -> bool:
        """Rows in (eval, task) blocks, tokens ascending inside, nulls last: the store's order."""
        if len(block) < 2:
            return True
        if np.any(block[1:] < block[:-1]):
            return False
        # inside a block, a token count follows only a smaller or equal one (never a null)
        ok = (block[1:] != block[:-1]) | ~has_tok[1:] | (has_tok[:-1] & (tokens[1:] >= tokens[:-1]))
        return bool(ok.all())

    def _guess_sums(self, cell: np.ndarray, guess: np.ndarray, block: np.ndarray, n_blocks: int,
                    size: int) -> np.ndarray:
        """Guess mass per cell; a rate constant over each block (the usual case) needs no pass over rows."""
        starts = self._block_start[self._block_end > self._block_start]
        if len(starts):
            low = np.minimum.reduceat(guess, starts)
            high = np.maximum.reduceat(guess, starts)
            if np.array_equal(low, high):
                per_block = np.zeros(n_blocks, np.float64)
                per_block[block[starts]] = low
                return self._cell_count * np.repeat(per_block[self._point_block], N_OUT)
        return np.bincount(cell, weights=guess, minlength=size)

    # ------------------------------------------------------------ discovery
    def evals(self) -> pd.DataFrame:
        """One row per eval: identity, label, groups, budget and how much data it has."""
        counts = np.bincount(self._point_eval, weights=self._cell_count.reshape(-1, N_OUT).sum(1),
                             minlength=len(self._eval_ids))
        points = np.bincount(self._point_eval, minlength=len(self._eval_ids))
        by_id = {e.eval_id: e for e in self.meta.evals}
        rows = []
        for code, eid in enumerate(self._eval_ids):
            e = by_id[eid]
            rows.append({"eval_id": e.eval_id, "model": e.model, "template": e.template, "sampler": e.sampler,
                         "label": e.label, "groups": list(e.groups), "max_tokens": e.max_tokens,
                         "points": int(points[code]), "samples": int(counts[code])})
        return pd.DataFrame(rows, columns=["eval_id", "model", "template", "sampler", "label", "groups",
                                           "max_tokens", "points", "samples"]).sort_values("label", kind="stable",
                                                                                          ignore_index=True)

    def tasks(self) -> pd.DataFrame:
        """One row per task with its params and the values each takes."""
        counts = np.bincount(self._point_task, weights=self._cell_count.reshape(-1, N_OUT).sum(1),
                             minlength=self._n_tasks)
        rows = []
        for code, name in enumerate(self._task_names):
            t = self._task_meta[name]
            mask = self._point_task == code
            values = {}
            for pr in np.unique(self._point_pr[mask]):
                for k, v in self._params_dict[pr].items():
                    values.setdefault(k, set()).add(_normalise_value(v))
            keys = list(t.params) + sorted(k for k in values if k not in t.params)
            rows.append({"base_task": name, "label": t.label, "guess_rate": t.guess_rate,
                         "params": keys, "values": {k: _value_order(values.get(k, ())) for k in keys},
                         "points": int(mask.sum()),
                         "samples": int(counts[code])})
        return pd.DataFrame(rows, columns=["base_task", "label", "guess_rate", "params", "values", "points",
                                           "samples"])

    def views(self) -> pd.DataFrame:
        """Named projections from dataset.json: task, two (or more) group-by dims, fixed filters."""
        return pd.DataFrame([v.to_json() for v in self.meta.views], columns=["name", "base_task", "group_by",
                                                                            "filters"])

    def view(self, name: str) -> ViewMeta:
        return self.meta.view(name)

    def eval_labels(self) -> dict[str, str]:
        return self.meta.eval_labels

    def max_tokens(self) -> dict[str, int | None]:
        return self.meta.max_tokens

    # ----------------------------------------------------------- dimensions
    @cached_property
    def dimension_names(self) -> list[str]:
        """Every dimension this dataset can filter and group by."""
        names = ["eval_id", "model", "template", "sampler", "base_task", "outcome"]
        names += [f"params.{k}" for k in sorted({k for p in self._params_dict for k in p})]
        names += [f"manifold.{k}" for k in sorted({k for m in self._manifold_dict for k in m})]
        names += [f"groups.{k}" for k in self.meta.group_keys]
        return names

    def dimension(self, name: str) -> Dimension:
        """Per-point codes of a dimension (cached); an unknown name lists the valid ones."""
        cache = self.__dict__.setdefault("_dims", {})
        if name not in cache:
            cache[name] = self._build_dimension(name)
        return cache[name]

    def _build_dimension(self, name: str) -> Dimension:
        if name not in self.dimension_names:
            raise InputError(f"unknown dimension {name!r} for dataset {self.name!r}; "
                             f"valid: {', '.join(self.dimension_names)}")
        if name == "outcome":
            return Dimension(name, np.arange(N_OUT, dtype=np.int32), list(OUTCOMES))
        if name == "base_task":
            return Dimension(name, self._point_task.astype(np.int32), list(self._task_names))
        if name in ("eval_id", "model", "template", "sampler") or name.startswith("groups."):
            by_id = {e.eval_id: e for e in self.meta.evals}
            per_eval = [by_id[eid].attribute(name) for eid in self._eval_ids]
            return self._coded(name, per_eval, self._point_eval)
        prefix, key = name.split(".", 1)
        source, codes = ((self._params_dict, self._point_pr) if prefix == "params"
                         else (self._manifold_dict, self._point_mf))
        per_entry = [_normalise_value(d.get(key)) for d in source]
        return self._coded(name, per_entry, codes)

    @staticmethod
    def _coded(name: str, per_entry: list[Any], entry_codes: np.ndarray) -> Dimension:
        values = _value_order(per_entry)
        index = {v: i for i, v in enumerate(values)}
        remap = np.array([index[v] for v in per_entry], np.int32)
        return Dimension(name, remap[entry_codes], values)

    # -------------------------------------------------------------- filters
    def parse_filters(self, filters: str | Mapping[str, Any] | None) -> dict[str, Any]:
        """Form and content: every id, tag, key and value must exist in this dataset."""
        parsed = flt.parse_filters(filters)
        for key, values in parsed.items():
            if key == "groups":
                known = self.meta.tags
                for tags in values:
                    for tag in tags:
                        if tag not in known:
                            raise InputError(f"filter 'groups': unknown tag {tag!r}; tags: {listing(known, 30)}")
                continue
            dim = self.dimension(key)
            unknown = [v for v in values if v not in dim.values]
            if unknown:
                what = {"eval_id": "eval id", "base_task": "task"}.get(key, f"value of {key}")
                shown = [v for v in dim.values if v is not None]
                if key == "eval_id":
                    labels = self.eval_labels()
                    shown = [f"{v} ({labels.get(v, '')})" for v in shown]
                raise InputError(f"filter '{key}': unknown {what} {listing(unknown)}; valid: {listing(shown, 30)}")
        return parsed

    def _select(self, parsed: Mapping[str, Any]) -> np.ndarray:
        """Boolean mask over cells (point × outcome) for already validated filters."""
        point = np.ones(len(self._point_block), bool)
        outcome = np.ones(N_OUT, bool)
        for key, values in parsed.items():
            if key == "groups":
                point &= self._groups_mask(values)[self._point_eval]
                continue
            dim = self.dimension(key)
            allowed = np.zeros(len(dim.values) + 1, bool)
            for v in values:
                if v in dim.values:
                    allowed[dim.values.index(v)] = True
            if key == "outcome":
                outcome &= allowed[:N_OUT]
            else:
                point &= allowed[dim.codes]
        return (point[:, None] & outcome[None, :]).ravel()

    def _groups_mask(self, items: list[list[str]]) -> np.ndarray:
        by_id = {e.eval_id: set(e.groups) for e in self.meta.evals}
        return np.array([any(set(item) <= by_id[eid] for item in items) for eid in self._eval_ids], bool)

    # ------------------------------------------------------------ grouping
    def _group_cells(self, cells: np.ndarray, group_by: Sequence[str]) -> tuple[np.ndarray, pd.DataFrame]:
        """Group id per selected cell and a frame of each group's dimension values."""
        point = cells // N_OUT
        outcome = cells % N_OUT
        if not group_by:
            return np.zeros(len(cells), np.int64), pd.DataFrame(index=[0])
        dims = [self.dimension(d) for d in group_by]
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
        frame = pd.DataFrame({d: columns[d] for d in group_by})
        return group.astype(np.int64), frame

    def check_group_by(self, group_by: Sequence[str] | str | None) -> list[str]:
        if group_by is None:
            return []
        dims = [group_by] if isinstance(group_by, str) else list(group_by)
        for d in dims:
            if d not in self.dimension_names:
                raise InputError(f"unknown dimension {d!r} to group by; valid: {', '.join(self.dimension_names)}")
        if len(set(dims)) != len(dims):
            raise InputError(f"group-by dimensions repeat: {', '.join(dims)}")
        return dims

    # ------------------------------------------------------------ queries
    def aggregate(self, filters: str | Mapping[str, Any] | None = None,
                  group_by: Sequence[str] | str | None = ("eval_id", "base_task"),
                  truncation: str = "failure", quantiles: bool = True) -> pd.DataFrame:
        """§3 statistics per group; counters are summed over samples before any rate.

        ``quantiles=False`` leaves ``tokens_p50``/``tokens_p95`` empty: the only statistics
        that need the sample rows, so a counters-only query never touches them.
        """
        if truncation not in stats.TRUNCATION_MODES:
            raise InputError(f"truncation must be one of {', '.join(stats.TRUNCATION_MODES)}, not {truncation!r}")
        parsed = self.parse_filters(filters)
        group_by = self.check_group_by(group_by)
        cells = np.flatnonzero(self._select(parsed) & (self._cell_count > 0))
        columns = list(group_by) + list(STAT_COLUMNS) + [f"tokens_mean_{o}" for o in OUTCOMES]
        if len(cells) == 0:
            return pd.DataFrame(columns=columns)
        group, frame = self._group_cells(cells, group_by)
        n_groups = len(frame)
        outcome = cells % N_OUT
        slot = group * N_OUT + outcome

        def per_outcome(weights: np.ndarray) -> np.ndarray:
            return np.bincount(slot, weights=weights[cells], minlength=n_groups * N_OUT).reshape(n_groups, N_OUT)

        counts = per_outcome(self._cell_count)
        guess = per_outcome(self._cell_guess)
        tok_sum = per_outcome(self._cell_tok_sum)
        tok_n = per_outcome(self._cell_tok_n)
        c, w, i, t = counts.T
        table = stats.accuracy_table(c, w, i, t, guess.sum(1), guess[:, :3].sum(1), truncation)
        for name, value in zip(OUTCOMES, (c, w, i, t)):
            frame[name] = value.astype(np.int64)
        frame["samples"] = counts.sum(1).astype(np.int64)
        for name, value in table.items():
            frame[name] = value
        with np.errstate(divide="ignore", invalid="ignore"):
            frame["tokens_mean"] = np.where(tok_n.sum(1) > 0, tok_sum.sum(1) / tok_n.sum(1), np.nan)
            for k, name in enumerate(OUTCOMES):
                frame[f"tokens_mean_{name}"] = np.where(tok_n[:, k] > 0, tok_sum[:, k] / tok_n[:, k], np.nan)
        p50, p95 = (self._token_quantiles(cells, group, n_groups, (0.5, 0.95)) if quantiles
                    else (np.full(n_groups, np.nan),) * 2)
        frame["tokens_p50"] = p50
        frame["tokens_p95"] = p95
        return frame[columns]

    def _token_quantiles(self, cells: np.ndarray, group: np.ndarray, n_groups: int,
                         qs: Sequence[float]) -> list[np.ndarray]:
        """Exact token quantiles per group, from the token-sorted blocks."""
        point = cells // N_OUT
        block = self._point_block[point]
        n_blocks = len(self._block_start)
        full_cells = np.bincount(block, minlength=n_blocks)
        all_cells = self._block_cells
        # Fast path: each group is exactly one whole block → quantiles are lookups.
        g_first = np.full(n_groups, -1, np.int64)
        g_first[group] = block
        groups_per_block = np.zeros(n_blocks, np.int64)
        np.add.at(groups_per_block, np.unique(block * n_groups + group) // n_groups, 1)
        blocks_per_group = np.bincount(np.unique(group * n_blocks + block) // n_blocks, minlength=n_groups)
        used = np.unique(block)
        if (np.all(blocks_per_group == 1) and np.all(groups_per_block[used] == 1)
                and np.all(full_cells[used] == all_cells[used])):
            starts = self._block_start[g_first]
            counts = self._block_tok_end[g_first] - starts
            return [stats.sorted_quantile(self._row_tokens, starts, counts, q) for q in qs]
        # General path: the selected rows of the touched blocks, sorted by (group, tokens).
        rows = self._rows_of_blocks(used)
        cell_group = np.full(len(self._cell_count), -1, np.int64)
        cell_group[cells] = group
        g = cell_group[self._row_point[rows].astype(np.int64) * N_OUT + self._row_outcome[rows]]
        tok = self._row_tokens[rows]
        keep = (g >= 0) & (tok >= 0)
        # When every block feeds one group, rows arrive as token-sorted runs that a stable
        # (run-merging) sort handles fastest; interleaved groups sort faster with the default.
        runs = bool(np.all(groups_per_block[used] == 1))
        key = np.sort((g[keep] << 32) | tok[keep], kind="stable" if runs else None)
        bounds = np.searchsorted(key, np.arange(n_groups + 1, dtype=np.int64) << 32)
        starts, counts = bounds[:-1], np.diff(bounds)
        return [stats.sorted_quantile(key, starts, counts, q, mask=0xFFFFFFFF) for q in qs]

    def _rows_of_blocks(self, blocks: np.ndarray) -> np.ndarray | slice:
        """Row indices of the given blocks: a slice when they are contiguous."""
        if len(blocks) == 0:
            return np.zeros(0, np.int64)
        starts, ends = self._block_start[blocks], self._block_end[blocks]
        if np.all(starts[1:] == ends[:-1]):
            return slice(int(starts[0]), int(ends[-1]))
        lengths = ends - starts
        offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
        return np.arange(lengths.sum()) + offsets

    def _selected_rows(self, parsed: Mapping[str, Any]) -> np.ndarray:
        """Indices of the sample rows the filters keep."""
        mask = self._select(parsed)
        cells = np.flatnonzero(mask & (self._cell_count > 0))
        if len(cells) == 0:
            return np.zeros(0, np.int64)
        used = np.unique(self._point_block[cells // N_OUT])
        rows = self._rows_of_blocks(used)
        base = np.arange(rows.start, rows.stop) if isinstance(rows, slice) else rows
        keep = mask[self._row_point[rows].astype(np.int64) * N_OUT + self._row_outcome[rows]]
        return base[keep]

    def samples(self, filters: str | Mapping[str, Any] | None = None,
                columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Per-completion rows; dimension columns come back as categoricals (cheap at 8 M rows)."""
        parsed = self.parse_filters(filters)
        columns = list(columns or ["eval_id", "base_task", "params", "manifold", "outcome",
                                   "completion_tokens", "compressed_bytes"])
        rows = self._selected_rows(parsed)
        return self._row_frame(rows, columns)

    def _row_frame(self, rows: np.ndarray, columns: Sequence[str]) -> pd.DataFrame:
        out: dict[str, Any] = {}
        point = self._row_point[rows]
        for col in columns:
            if col in ("completion_tokens", "compressed_bytes"):
                raw = (self._row_tokens if col == "completion_tokens" else self._row_bytes)[rows]
                out[col] = pd.arrays.IntegerArray(np.maximum(raw, 0), raw < 0)   # -1 stored for null
            elif col == "outcome":
                out[col] = pd.Categorical.from_codes(self._row_outcome[rows].astype(np.int8), list(OUTCOMES))
            elif col in ("params", "manifold"):
                codes, raw = ((self._point_pr, self._params_raw) if col == "params"
                              else (self._point_mf, self._manifold_raw))
                out[col] = _categorical(codes[point], ["" if r is None else r for r in raw])
            else:
                dim = self.dimension(col)
                values = ["" if v is None else v for v in dim.values]
                if len(set(map(type, values))) > 1:
                    values = [str(v) for v in values]
                out[col] = _categorical(dim.codes[point], values)
        return pd.DataFrame(out, columns=list(columns))

    def hazard(self, filters: str | Mapping[str, Any] | None = None,
               group_by: Sequence[str] | str | None = ("eval_id",), bucket_size: int = 256,
               split_invalid: bool = False) -> pd.DataFrame:
        """Competing-risks table of §5 per series and token bin."""
        from app.engine.hazard import hazard_table

        if not isinstance(bucket_size, (int, np.integer)) or isinstance(bucket_size, bool) or bucket_size < 1:
            raise InputError(f"bucket size must be a whole number of tokens ≥ 1, not {bucket_size!r}")
        parsed = self.parse_filters(filters)
        group_by = self.check_group_by(group_by)
        if "outcome" in group_by:
            raise InputError("hazard series cannot be grouped by outcome: outcomes are its competing events")
        rows = self._selected_rows(parsed)
        tokens = self._row_tokens[rows]
        keep = tokens >= 0
        rows, tokens = rows[keep], tokens[keep]
        point = self._row_point[rows]
        # the points behind those rows, from the cell table rather than a sort of the rows
        timed = self._select(parsed) & (self._cell_tok_n > 0)
        cells = np.unique(np.flatnonzero(timed) // N_OUT) * N_OUT
        group_cells, frame = self._group_cells(cells, group_by)
        point_group = np.full(len(self._point_block), -1, np.int64)
        point_group[cells // N_OUT] = group_cells
        return hazard_table(point_group[point], self._row_outcome[rows], tokens, frame, int(bucket_size),
                            split_invalid)

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}: {len(self._eval_ids)} evals, {len(self._task_names)} tasks, "
                f"{len(self._point_block)} points, {self.n_samples} samples)")
