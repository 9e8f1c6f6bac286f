"""The in-memory dataset and its queries: filter → group → statistics.

``Dataset`` is the facade the CLI, projections, dashboard and benchmark use; the work
is done by role in the modules it composes, the way pandas splits a groupby:
``layout`` (the arrays built at open), ``dimensions`` (per-point coding of every
dimension), ``selection`` (filter checks, cell masks, selected rows), ``grouping``
(group codes and token quantiles), ``queries`` (aggregate, samples, hazard) and
``discovery`` (the evals, tasks and views tables). Here the arguments are checked
and the pieces called.
"""

from __future__ import annotations

import os
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from app.bounds import BUCKET_SIZE_DEFAULT, PROBE_LIMIT_DEFAULT, PROBE_SOURCE_ROWS_MAX
from app.engine import discovery, fingerprint, probe, queries
from app.engine.cube_layout import open_cube
from app.engine.dimensions import Dimension, Dimensions
from app.engine.errors import InputError
from app.engine.grouping import check_group_by
from app.engine.hazard import check_bucket_size
from app.engine.layout import COLUMNS, DICT_COLUMNS, N_OUT, Layout, build_layout
from app.engine.meta import CubeMeta, DatasetMeta, ViewMeta
from app.engine.on_demand import OnDemandSamples
from app.engine.queries import SAMPLE_COLUMNS, STAT_COLUMNS
from app.engine.selection import Selection, check_filters, select
from app.engine.stats import check_truncation
from app.engine.store import read_meta, read_samples, resolve_dataset_path
from app.engine.texts import TextReader, text_source

__all__ = ["Dataset", "Dimension", "STAT_COLUMNS"]

Filters = str | Mapping[str, Any] | None
GroupBy = Sequence[str] | str | None


class Dataset:
    """An opened dataset. Immutable after ``open``; safe to share between threads."""

    def __init__(self, path: Path, meta: DatasetMeta, tables: list[pa.Table], *, layout: Layout | None = None,
                 texts: TextReader | None | bool = True):
        """``tables`` holds the samples table and is emptied (see ``layout.build_layout``); ``layout`` is
        given instead for a cube (``cube_layout``); ``texts`` a reader already found (True: find it).
        """
        self.path = path
        self.meta = meta
        self.stamps: tuple[fingerprint.Stamp, ...] = ()  # the files as read (set by ``open``)
        self.name = meta.name
        self.title = meta.title
        self._layout = layout if layout is not None else build_layout(tables, meta, path)
        self._dims = Dimensions(self._layout, meta, meta.name)
        self.n_samples = self._layout.n_samples
        self.has_tokens = self._layout.has_tokens
        self.has_bytes = self._layout.has_bytes
        # where texts are (a stat); never read here
        self._texts = text_source(path, meta) if texts is True else (texts or None)
        self._source = OnDemandSamples(path, meta) if meta.cube is not None else None
        # the evals and tasks tables depend on nothing but what was opened: built once (a few ms each), so
        # no view or page layout pays for them again (callers get copies: theirs to change)
        self._evals_table = discovery.evals_table(self._layout, meta)
        self._tasks_table = discovery.tasks_table(self._layout)
        table = self._evals_table
        self._evals_by_label: tuple[tuple[str, str], ...] = tuple(zip(table["eval_id"], table["label"]))

    @classmethod
    def open(cls, path: str | os.PathLike) -> "Dataset":
        """Open ``dataset.json`` (or its folder); errors name the file and the problem."""
        meta_path = resolve_dataset_path(path)
        json_stamp = fingerprint.stamp(meta_path, meta_path.parent)
        meta = read_meta(meta_path)
        # stamped before the data is read: a file changed during the read shows as a changed stamp afterwards
        file_stamps = (json_stamp, *fingerprint.stamps(meta_path, meta)[1:])
        if meta.cube is not None:
            ds = cls(meta_path, meta, [], layout=open_cube(meta_path, meta, meta.cube))
        else:
            ds = cls(meta_path, meta, [read_samples(meta_path, meta, columns=list(COLUMNS), dictionary=DICT_COLUMNS)])
        ds.stamps = file_stamps
        return ds

    # ----------------------------------------------------------------- cube
    @property
    def cube(self) -> CubeMeta | None:
        """The cube this dataset is served from (None: every completion is in memory)."""
        return self.meta.cube

    @property
    def row_key_limit(self) -> int:
        """Row keys (``samples(columns=["row"])``, the probe's ``rows``) are whole numbers below this."""
        return self.n_samples if self.meta.cube is None else 1 << 62

    def longest_tokens(self, filters: Filters = None) -> int | None:
        """The selection's longest completion in tokens (None: no token counts).

        On a cube, the top of the last bin that holds one: at most a bin's width above it, which gives the
        same number of hazard bins at any bucket size that is a multiple of the bin.
        """
        sel = self._select(filters)
        hist = self._layout.histogram
        if hist is None:
            tokens = self._layout.row_tokens[sel.rows()]
            return int(tokens.max()) if len(tokens) and tokens.max() >= 0 else None
        entries, _ = hist.entries(sel.cells)
        return int(hist.bins[entries].max()) * hist.step + hist.step - 1 if len(entries) else None

    def binning_note(self) -> str | None:
        """What a cube rounds, in one sentence for every page and table; None when nothing is binned."""
        cube = self.meta.cube
        if cube is None:
            return None
        return (f"Served from a cube of {self.n_samples:,} completions: counts, accuracy, intervals and token means "
                f"are exact; token quantiles are within {cube.grid_step // 2} tokens (bins of {cube.grid_step}); "
                f"the hazard is exact at bucket sizes that are multiples of {cube.grid_step}; dots and their "
                f"readings use a sample of {cube.dots_per_point} completions per point.")

    @cached_property
    def version(self) -> str:
        """Changes whenever any of the dataset's files changes: part of every cache key.

        Covers dataset.json and every data file it declares, each by size and mtime_ns,
        as they were when ``open`` read them (see ``app.engine.fingerprint``).
        """
        return fingerprint.version(self.stamps or fingerprint.stamps(self.path, self.meta))

    def changed_on_disk(self) -> bool:
        """Whether any of the files this dataset was read from changed since (cheap: a few stats)."""
        return fingerprint.stamps(self.path, self.meta) != self.stamps

    # ------------------------------------------------------------ discovery
    def evals(self) -> pd.DataFrame:
        """One row per eval: identity, label, groups, budget and how much data it has."""
        return self._evals_table.copy()

    def eval_label_order(self) -> list[tuple[str, str]]:
        """(eval_id, label) of every eval in the order of :meth:`evals` (by label), built at open.

        Every projection orders its evals (colours, legends, subtitles) by this; building the
        evals table for it cost a few ms per call, several calls per view.
        """
        return list(self._evals_by_label)

    def tasks(self) -> pd.DataFrame:
        """One row per task with its params and the values each takes."""
        return self._tasks_table.copy()

    def views(self) -> pd.DataFrame:
        """Named projections from dataset.json: task, two (or more) group-by dims, fixed filters."""
        return discovery.views_table(self.meta)

    def view(self, name: str) -> ViewMeta:
        return self.meta.view(name)

    def eval_labels(self) -> dict[str, str]:
        return self.meta.eval_labels

    def max_tokens(self) -> dict[str, int | None]:
        return self.meta.max_tokens

    # ----------------------------------------------------------- dimensions
    @property
    def dimension_names(self) -> list[str]:
        """Every dimension this dataset can filter and group by."""
        return self._dims.names

    def dimension(self, name: str) -> Dimension:
        """Per-point codes of a dimension (cached); an unknown name lists the valid ones."""
        return self._dims[name]

    def parse_filters(self, filters: Filters) -> dict[str, Any]:
        """Form and content: every id, tag, key and value must exist in this dataset."""
        return check_filters(filters, self._dims, self.meta)

    def check_group_by(self, group_by: GroupBy) -> list[str]:
        """The group-by dimensions as a list; an unknown or repeated one is an InputError."""
        return check_group_by(group_by, self._dims.names)

    def _select(self, filters: Filters) -> Selection:
        return select(self.parse_filters(filters), self._layout, self._dims, self.meta)

    # ------------------------------------------------------------ queries
    def aggregate(self, filters: Filters = None, group_by: GroupBy = ("eval_id", "base_task"),
                  truncation: str = "failure", quantiles: bool = True) -> pd.DataFrame:
        """§3 statistics per group; counters are summed over samples before any rate.

        ``quantiles=False`` leaves ``tokens_p50``/``tokens_p95`` empty: the only statistics
        that need the sample rows, so a counters-only query never touches them.
        """
        truncation = check_truncation(truncation)
        sel = self._select(filters)
        dims = [self._dims[d] for d in self.check_group_by(group_by)]
        return queries.aggregate(sel, dims, truncation, quantiles)

    def samples(self, filters: Filters = None, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Per-completion rows; dimension columns come back as categoricals (cheap at 8 M rows)."""
        return queries.samples(self._select(filters), self._dims, list(columns or SAMPLE_COLUMNS))

    def hazard(self, filters: Filters = None, group_by: GroupBy = ("eval_id",), bucket_size: int = BUCKET_SIZE_DEFAULT,
               split_invalid: bool = False) -> pd.DataFrame:
        """Competing-risks table of §5 per series and token bin."""
        bucket_size = check_bucket_size(bucket_size)
        sel = self._select(filters)
        group_by = self.check_group_by(group_by)
        if "outcome" in group_by:
            raise InputError("hazard series cannot be grouped by outcome: outcomes are its competing events")
        return queries.hazard(sel, [self._dims[d] for d in group_by], bucket_size, split_invalid)

    # ---------------------------------------------------------------- probe
    @property
    def has_text(self) -> bool:
        """Whether the completion texts were kept (a texts file, or an older samples file's ``text``)."""
        return self._texts is not None

    def completions(self, filters: Filters = None, *, outcomes: Sequence[str] | None = None,
                    tokens: tuple[int, int] | None = None, rows: Sequence[int] | None = None,
                    limit: int = PROBE_LIMIT_DEFAULT, offset: int = 0, text: bool = True) -> pd.DataFrame:
        """The completions behind a mark, ordered by (eval label, task, tokens, row): one page of them.

        ``tokens`` is the range [min, max); ``rows`` are samples-file positions (``samples(columns=["row"])``).
        Columns: ``probe.COMPLETION_COLUMNS``; ``attrs``: ``total`` (all matching) and ``has_text``.
        Only the page's texts are read, and only with ``text=True``.
        """
        limit, offset = probe.check_page(limit, offset)
        if self._source is not None:
            return self._read_on_demand(filters, rows).completions(
                filters, outcomes=outcomes, tokens=tokens, limit=limit, offset=offset, text=text)
        found = self._probe_rows(filters, outcomes, tokens, rows)
        page = probe.page_rows(self._layout, self.meta, found, limit, offset)
        frame = probe.completions_frame(self._layout, self.meta, page, self._texts, text)
        frame.attrs.update(total=len(found), has_text=self.has_text)
        return frame

    def count_completions(self, filters: Filters = None, *, outcomes: Sequence[str] | None = None,
                          tokens: tuple[int, int] | None = None, rows: Sequence[int] | None = None) -> int:
        """How many completions :meth:`completions` would page through (no text is read)."""
        if self._source is not None:
            if tokens is None and rows is None:   # the cube counts them exactly
                codes = probe.check_outcomes(outcomes)
                cells = self._select(filters).cells
                if codes is not None:
                    cells = cells[np.isin(cells % N_OUT, codes)]
                return int(self._layout.cell_count[cells].sum())
            return self._read_on_demand(filters, rows).count_completions(filters, outcomes=outcomes, tokens=tokens)
        return len(self._probe_rows(filters, outcomes, tokens, rows))

    def _read_on_demand(self, filters: Filters, rows: Sequence[int] | None) -> "Dataset":
        """A cube's completions behind ``filters`` (or at row keys ``rows``) read from its samples, as a
        small in-memory dataset whose rows carry their row keys; refused when the selection is too wide.
        """
        assert self._source is not None
        if rows is not None:
            keys = probe.check_rows(rows, self.row_key_limit)
            table, found = self._source.rows_at(keys if keys is not None else np.zeros(0, np.int64))
        else:
            sel = self._select(filters)
            total = int(self._layout.cell_count[sel.cells].sum())
            if total > PROBE_SOURCE_ROWS_MAX:
                raise InputError(f"this selection holds {total:,} completions; a cube dataset reads the ones to show "
                                 f"from its samples, at most {PROBE_SOURCE_ROWS_MAX:,} at a time: narrow the filters "
                                 "(an eval, a task)")
            lay = self._layout
            blocks = np.unique(lay.point_block[sel.cells // N_OUT])
            evals = sorted({lay.eval_ids[b // lay.n_tasks] for b in blocks.tolist()})
            tasks = sorted({lay.task_names[b % lay.n_tasks] for b in blocks.tolist()})
            table, found = self._source.rows_of(evals, tasks)
        small = replace(self.meta, cube=None)
        sub = Dataset(self.path, small, [table], texts=self._texts)
        order = sub._layout.row_file if sub._layout.row_file is not None else np.arange(sub.n_samples)
        sub._layout = replace(sub._layout, row_file=found[order] if len(found) else found)
        return sub

    def _probe_rows(self, filters: Filters, outcomes: Sequence[str] | None, tokens: tuple[int, int] | None,
                    rows: Sequence[int] | None) -> Any:
        checked = (probe.check_outcomes(outcomes), probe.check_tokens(tokens), probe.check_rows(rows, self.n_samples))
        return probe.matching_rows(self._select(filters), *checked)

    def __repr__(self) -> str:
        lay = self._layout
        return (f"Dataset({self.name!r}: {len(lay.eval_ids)} evals, {len(lay.task_names)} tasks, "
                f"{lay.n_points} points, {self.n_samples} samples)")
