"""Completion texts: a Parquet file of their own beside the samples, read by sample row.

Texts are most of a dataset's bytes (2 KB a completion is 17 GB at the r12 scale) and no
projection needs them, so ``Dataset.open`` never reads them: the probe fetches the few rows it
shows. The file (``texts.parquet``, named by ``dataset.json``'s ``texts``) holds ``row`` (int64:
the sample's position in the samples file) and ``text`` (string), only for samples that have a
text, sorted by row, in row groups of at most ``TEXT_GROUP_BYTES`` of text. A read of a few rows
decompresses only the row groups whose ``row`` range (min/max from the footer's statistics, the
same pruning a ``filters=[("row", "in", rows)]`` read does) can hold them.

Older datasets keep ``text`` as a column of the samples file; :func:`text_source` reads those too,
by position (whole row groups of the samples file, so slower, but the same answer).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from app.engine.errors import InputError
from app.engine.meta import DatasetMeta

TEXTS_SCHEMA = pa.schema([pa.field("row", pa.int64(), nullable=False), pa.field("text", pa.string(), nullable=False)])
# A row group closes once its texts reach this many bytes (or rows): small enough that fetching one
# completion decompresses a few MB at most, large enough that the footer of an 8.8 M-row file stays small.
TEXT_GROUP_BYTES = 4 << 20
TEXT_GROUP_ROWS = 1 << 16
# Row groups a reader keeps decompressed: paging through neighbouring rows, or a merge reading a
# file front to back, reads each group once.
CACHED_GROUPS = 4
_MISSING = (-1, -1, -1)  # the identity of a file that was not there


class TextWriter:
    """Writes a texts file from (row, text) pairs given in ascending row order, one row group per byte budget."""

    def __init__(self, path: Path, group_bytes: int | None = None, group_rows: int | None = None):
        self.path = path
        self.rows_written = 0  # texts added so far
        self._group_bytes = group_bytes or TEXT_GROUP_BYTES
        self._group_rows = group_rows or TEXT_GROUP_ROWS
        self._pending: list[pa.RecordBatch] = []
        self._bytes = self._rows = 0
        self._last_row = -1
        self._writer = pq.ParquetWriter(path, TEXTS_SCHEMA, compression="zstd", use_dictionary=False,
                                        write_statistics=["row"])

    def add(self, rows: np.ndarray, texts: pa.Array | pa.ChunkedArray) -> None:
        """Append texts (no nulls) for ``rows`` (ascending, above every row added before)."""
        rows = np.asarray(rows, np.int64)
        if len(rows) == 0:
            return
        if rows[0] <= self._last_row or np.any(np.diff(rows) <= 0):
            raise ValueError("texts must be added in ascending row order")
        self._last_row = int(rows[-1])
        self.rows_written += len(rows)
        texts = texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
        sizes = pc.binary_length(texts).to_numpy(zero_copy_only=False).astype(np.int64)
        total = np.cumsum(sizes)
        start = 0
        while start < len(rows):
            before = total[start - 1] if start else 0
            # rows up to (and including) the one that fills the byte budget, within the row budget
            fill = int(np.searchsorted(total, before + self._group_bytes - self._bytes, side="left")) + 1 - start
            take = max(1, min(fill, self._group_rows - self._rows, len(rows) - start))
            self._pending.append(pa.record_batch([pa.array(rows[start:start + take]), texts.slice(start, take)],
                                                 schema=TEXTS_SCHEMA))
            self._bytes += int(total[start + take - 1] - before)
            self._rows += take
            start += take
            if self._bytes >= self._group_bytes or self._rows >= self._group_rows:
                self._flush()

    def _flush(self) -> None:
        if self._rows:
            self._writer.write_table(pa.Table.from_batches(self._pending), row_group_size=self._rows)
        self._pending, self._bytes, self._rows = [], 0, 0

    def close(self) -> int:
        """Finish the file, on disk (fsync); the number of texts written."""
        self._flush()
        self._writer.close()
        with open(self.path, "rb+") as fh:
            os.fsync(fh.fileno())
        return self.rows_written

    def abort(self) -> None:
        """Close without caring about the file (the caller removes it)."""
        try:
            self._writer.close()
        except Exception:  # noqa: BLE001 - already failing; the caller's error is the one to report
            pass


class TextReader:
    """The texts of given sample rows, from one file; thread-safe, opened on first use.

    ``keyed``: a texts file (``row`` + ``text``); else an older samples file whose ``text`` column is
    read by position. ``identity`` is the file's (inode, size, mtime) when the dataset was opened: a
    file replaced since (the dataset was re-imported) is reported instead of read.
    """

    def __init__(self, path: Path, keyed: bool, identity: tuple[int, int, int] | None):
        self.path, self.keyed, self.identity = path, keyed, identity
        self._lock = threading.Lock()
        self._file: pq.ParquetFile | None = None
        self._low = self._high = np.zeros(0, np.int64)  # per row group: first and last row it can hold
        self._cache: OrderedDict[int, pa.Table] = OrderedDict()

    def read(self, rows: Sequence[int] | np.ndarray) -> pa.Array:
        """A string array aligned with ``rows`` (file row positions, any order); null where a row has no text."""
        wanted = np.asarray(rows, np.int64)
        if len(wanted) == 0:
            return pa.array([], pa.string())
        with self._lock:
            try:
                self._open()
                wanted_sorted = np.unique(wanted)
                lo = np.searchsorted(wanted_sorted, self._low, side="left")
                hi = np.searchsorted(wanted_sorted, self._high, side="right")
                groups = np.flatnonzero(hi > lo)
                parts = [self._group(int(g)) for g in groups]
            except InputError:
                raise
            except (OSError, pa.ArrowException) as exc:
                raise InputError(f"{self.path}: cannot read the completion texts ({exc})") from None
        if not parts:
            return pa.nulls(len(wanted), pa.string())
        table = pa.concat_tables(parts)
        if self.keyed:
            index = pc.index_in(pa.array(wanted), value_set=table["row"])
        else:  # by position: row w of group g sits at w - (g's first row) + (g's offset in ``table``)
            first, last = self._low[groups], self._high[groups]
            offset = np.concatenate([[0], np.cumsum([len(p) for p in parts])[:-1]])
            g = np.maximum(np.searchsorted(first, wanted, side="right") - 1, 0)
            inside = (wanted >= first[g]) & (wanted <= last[g])
            index = pa.array(np.where(inside, wanted - first[g] + offset[g], 0), mask=~inside)
        return pc.take(table["text"], index).combine_chunks().cast(pa.string())

    def mean_bytes(self) -> float:
        """Mean uncompressed bytes of text per row (from the footer), to size a merge's chunks."""
        with self._lock:
            try:
                self._open()
            except (OSError, pa.ArrowException) as exc:
                raise InputError(f"{self.path}: cannot read the completion texts ({exc})") from None
            assert self._file is not None
            meta = self._file.metadata
            col = meta.schema.names.index("text")
            size = sum(meta.row_group(g).column(col).total_uncompressed_size for g in range(meta.num_row_groups))
            return size / max(meta.num_rows, 1)

    def _open(self) -> None:
        """Open the file once (Arrow keeps its own handle, so a later rename cannot swap it under us)."""
        if self._file is not None:
            return
        self._check_identity()
        file = pq.ParquetFile(self.path)
        try:
            self._check_identity()  # the file opened is the one stat saw, not one renamed in between
            names = file.schema_arrow.names
            need = ("row", "text") if self.keyed else ("text",)
            if any(n not in names for n in need):
                raise InputError(f"{self.path}: no {' and '.join(need)} column(s); a texts file has row and text")
            self._low, self._high = _group_ranges(file.metadata, self.keyed)
        except BaseException:
            file.close()
            raise
        self._file = file

    def _check_identity(self) -> None:
        """The file must be the one the dataset was opened with; say so when it was removed or replaced."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            if self.identity is not None and self.identity != _MISSING:
                raise InputError(f"{self.path} was removed since the dataset was opened (it was imported again): "
                                 "open the dataset again to read its texts") from None
            raise InputError(f"{self.path}: the completion-texts file named by dataset.json is missing") from None
        if self.identity is not None and (st.st_ino, st.st_size, st.st_mtime_ns) != self.identity:
            raise InputError(f"{self.path} changed since the dataset was opened (it was imported again): "
                             "open the dataset again to read its texts")

    def _group(self, g: int) -> pa.Table:
        if g in self._cache:
            self._cache.move_to_end(g)
            return self._cache[g]
        assert self._file is not None
        table = self._file.read_row_group(g, columns=["row", "text"] if self.keyed else ["text"])
        self._cache[g] = table
        while len(self._cache) > CACHED_GROUPS:
            self._cache.popitem(last=False)
        return table


def _group_ranges(meta: pq.FileMetaData, keyed: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per row group, the lowest and highest row it may hold: ``row`` statistics, or positions."""
    n = meta.num_row_groups
    if not keyed:
        counts = np.array([meta.row_group(g).num_rows for g in range(n)], np.int64)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        return starts, starts + counts - 1
    col = meta.schema.names.index("row")
    low = np.full(n, np.iinfo(np.int64).min, np.int64)  # no statistics: the group may hold any row
    high = np.full(n, np.iinfo(np.int64).max, np.int64)
    for g in range(n):
        stats = meta.row_group(g).column(col).statistics
        if stats is not None and stats.has_min_max:
            low[g], high[g] = stats.min, stats.max
    return low, high


def text_source(meta_path: Path, meta: DatasetMeta) -> TextReader | None:
    """Where this dataset's texts are: its texts file, an older samples file's ``text`` column, or nowhere.

    Costs a ``stat`` (and, for datasets without a texts file, the samples file's schema): texts are
    never read here. The identity taken now pins the reader to the files this open saw.
    """
    folder = meta_path.parent
    if meta.texts is not None:
        path = folder / meta.texts
        # a cube names the texts of the dataset it was built from, wherever that is
        if meta.cube is None and not path.resolve().is_relative_to(folder.resolve()):
            raise InputError(f"{meta_path}: texts file {meta.texts!r} lies outside the dataset folder")
        return TextReader(path, keyed=True, identity=_identity(path))
    if meta.cube is not None:
        return None
    samples = folder / meta.samples
    if samples.is_dir():   # partitioned samples never hold texts: an import writes them to the texts file
        return None
    try:
        if "text" not in pq.read_schema(samples).names:
            return None
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{samples}: cannot read samples ({exc})") from None
    return TextReader(samples, keyed=False, identity=_identity(samples))


def _identity(path: Path) -> tuple[int, int, int]:
    """(inode, size, mtime); a file missing now gets one no file has, so a file that appears later is "changed"."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return _MISSING
    return st.st_ino, st.st_size, st.st_mtime_ns


# A merge copies texts in chunks of about this many bytes: memory stays flat whatever the dataset's size.
COPY_CHUNK_BYTES = 64 << 20


def write_texts(path: Path, source: np.ndarray, new: pa.ChunkedArray | pa.Array | None,
                old: TextReader | None) -> int:
    """Write the texts file of a samples table whose row ``i`` takes its text from ``source[i]``.

    ``source[i] < 0`` is text ``-1 - source[i]`` of ``new`` (the imported table's ``text`` column);
    ``source[i] >= 0`` is that row of the dataset merged into (``old``). Rows without a text are left
    out. Streams chunk by chunk, so a merge never holds the old texts in memory. Returns the number
    of texts written; with none, no file is left behind.
    """
    sizes = []
    if new is not None and len(new):
        sizes.append(float(pc.sum(pc.binary_length(new)).as_py() or 0) / len(new))
    if old is not None:
        sizes.append(old.mean_bytes())
    chunk = int(np.clip(COPY_CHUNK_BYTES / max(max(sizes, default=1.0), 1.0), 256, TEXT_GROUP_ROWS))
    writer = TextWriter(path)
    try:
        for start in range(0, len(source), chunk):
            key = source[start:start + chunk]
            from_new = key < 0
            parts, where = [], []
            if new is not None and from_new.any():
                parts.append(pc.take(new, -1 - key[from_new]))
                where.append(np.flatnonzero(from_new))
            if old is not None and not from_new.all():
                parts.append(old.read(key[~from_new]))
                where.append(np.flatnonzero(~from_new))
            if not parts:
                continue
            position = np.concatenate(where)
            order = np.argsort(position, kind="stable")
            chunks = [c for part in parts for c in (part.chunks if isinstance(part, pa.ChunkedArray) else [part])]
            texts = pa.chunked_array(chunks, pa.string()).take(order)
            has = texts.is_valid().to_numpy(zero_copy_only=False)
            writer.add(start + position[order][has], texts.filter(pa.array(has)))
        written = writer.close()
    except BaseException:
        writer.abort()
        path.unlink(missing_ok=True)
        raise
    if written == 0:
        path.unlink(missing_ok=True)
    return written
