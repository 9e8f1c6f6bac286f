"""A cube dataset's completions, read from its samples only when the probe asks: a few row groups, not the rows.

The cube holds counters, histograms and dots; what the probe shows of each completion (its row, tokens,
compressed size and text) lives in the samples the cube was built from. This reads the rows of the selected
(eval, task) pairs, or of the given row keys, skipping every row group whose ``eval_id`` and ``base_task``
statistics rule it out (the predicate pushdown a partitioned or sorted store allows), and gives back a small
table with each row's key (``sources``: file index and row in file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from app.engine.errors import InputError, one_line
from app.engine.layout import COLUMNS
from app.engine.meta import DatasetMeta
from app.engine.sources import ROW_FILE_SHIFT, SampleFiles, sample_files
from app.engine.store import conform_samples

FILE_ROW_MASK = (1 << ROW_FILE_SHIFT) - 1


class OnDemandSamples:
    """The samples behind a cube, listed the first time they are needed."""

    def __init__(self, meta_path: Path, meta: DatasetMeta):
        self.meta_path, self.meta = meta_path, meta
        self._files: SampleFiles | None = None

    def files(self) -> SampleFiles:
        if self._files is None:
            try:
                self._files = sample_files(self.meta_path, self.meta.samples)
            except InputError as exc:
                raise InputError(f"the completions behind this cube are not reachable, so they cannot be shown "
                                 f"({exc}); the cube's counts, curves and dots are unaffected") from None
        return self._files

    def rows_of(self, evals: Iterable[str], tasks: Iterable[str] | None) -> tuple[pa.Table, np.ndarray]:
        """Every row of the given evals (and tasks; None: all) with its row key."""
        want_e, want_t = set(evals), None if tasks is None else set(tasks)
        def keep_group(stats: dict[str, tuple[Any, Any]]) -> bool:
            return _may_hold(stats.get("eval_id"), want_e) and (want_t is None
                                                                or _may_hold(stats.get("base_task"), want_t))

        def keep_rows(table: pa.Table) -> Any:
            mask = _isin(table, "eval_id", want_e)
            return mask if want_t is None else pc.and_(mask, _isin(table, "base_task", want_t))

        return self._read(keep_group, keep_rows)

    def rows_at(self, keys: np.ndarray) -> tuple[pa.Table, np.ndarray]:
        """The rows with the given row keys (unknown keys are left out)."""
        files = self.files()
        keys = np.unique(np.asarray(keys, np.int64))
        keys = keys[(keys >= 0) & ((keys >> ROW_FILE_SHIFT) < len(files.files))]
        tables, found = [], []
        for index in np.unique(keys >> ROW_FILE_SHIFT).tolist():
            rows = keys[(keys >> ROW_FILE_SHIFT) == index] & FILE_ROW_MASK
            with self._open(files, index) as pf:
                table, base = _row_groups(pf, rows)
                rows = rows[rows < pf.metadata.num_rows]
                if len(rows):
                    tables.append(table.take(pa.array(_positions(base, rows))))
                    found.append((index << ROW_FILE_SHIFT) | rows)
        return _joined(tables, found)

    def _read(self, keep_group: Any, keep_rows: Any) -> tuple[pa.Table, np.ndarray]:
        files = self.files()
        tables, found = [], []
        for index in range(len(files.files)):
            with self._open(files, index) as pf:
                md = pf.metadata
                names = pf.schema_arrow.names
                start = 0
                for g in range(md.num_row_groups):
                    n = md.row_group(g).num_rows
                    if keep_group(_stats(md.row_group(g), names)):
                        table = _public(pf.read_row_group(g, columns=list(COLUMNS)))
                        mask = keep_rows(table)
                        tables.append(table.filter(mask))
                        found.append((index << ROW_FILE_SHIFT) | (start + np.flatnonzero(
                            np.asarray(mask.to_numpy(zero_copy_only=False), bool))))
                    start += n
        return _joined(tables, found)

    @staticmethod
    def _open(files: SampleFiles, index: int) -> Any:
        path = files.files[index]
        try:
            source = path if files.fs is None else files.fs.open(path, "rb")
            return _Closing(pq.ParquetFile(source))
        except Exception as exc:  # noqa: BLE001 - a missing or corrupt file: one line naming it
            raise InputError(f"cannot read samples file {path} ({one_line(exc)})") from None


class _Closing:
    def __init__(self, pf: pq.ParquetFile):
        self.pf = pf

    def __enter__(self) -> pq.ParquetFile:
        return self.pf

    def __exit__(self, *exc: Any) -> None:
        self.pf.close()


def _stats(group: Any, names: list[str]) -> dict[str, tuple[Any, Any]]:
    """(min, max) of the key columns in one row group, where the file has them."""
    out: dict[str, tuple[Any, Any]] = {}
    for name in ("eval_id", "base_task"):
        if name in names:
            column = group.column(names.index(name))
            st = column.statistics
            if st is not None and st.has_min_max:
                out[name] = (st.min, st.max)
    return out


def _may_hold(bounds: tuple[Any, Any] | None, wanted: set[str]) -> bool:
    if bounds is None:
        return True
    low, high = (b.decode() if isinstance(b, bytes) else b for b in bounds)
    return any(low <= w <= high for w in wanted)


def _isin(table: pa.Table, name: str, wanted: set[str] | None) -> Any:
    return pc.is_in(table.column(name).cast(pa.string()), value_set=pa.array(sorted(wanted or ()), pa.string()))


def _public(table: pa.Table) -> pa.Table:
    return conform_samples(table.select([c for c in COLUMNS if c in table.column_names]))


def _row_groups(pf: pq.ParquetFile, rows: np.ndarray) -> tuple[pa.Table, np.ndarray]:
    """The row groups holding ``rows`` (file rows), read, and the file row each read group starts at."""
    sizes = np.array([pf.metadata.row_group(g).num_rows for g in range(pf.metadata.num_row_groups)], np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    groups = np.unique(np.searchsorted(starts, rows[rows < starts[-1]], side="right") - 1)
    table = _public(pf.read_row_groups(groups.tolist(), columns=list(COLUMNS))) if len(groups) else None
    base = np.concatenate([[0], np.cumsum(sizes[groups])])   # where each read group begins in ``table``
    return table, np.stack([starts[groups], base[:-1]]) if len(groups) else np.zeros((2, 0), np.int64)


def _positions(base: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Positions in the read table of the given file rows (``base``: each read group's file start and table start)."""
    file_start, table_start = base
    which = np.searchsorted(file_start, rows, side="right") - 1
    return table_start[which] + rows - file_start[which]


def _joined(tables: list[pa.Table], found: list[np.ndarray]) -> tuple[pa.Table, np.ndarray]:
    if not tables:
        empty = pa.table({c: pa.array([], f.type) for c, f in zip(COLUMNS, _schema())})
        return empty, np.zeros(0, np.int64)
    return pa.concat_tables(tables), np.concatenate(found).astype(np.int64)


def _schema() -> list[pa.Field]:
    from app.engine.schema import SAMPLES_SCHEMA
    return [SAMPLES_SCHEMA.field(c) for c in COLUMNS]
