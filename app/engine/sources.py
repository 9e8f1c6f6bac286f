"""Where a dataset's samples are: one Parquet file, a partitioned folder or a glob, local or behind an fsspec URL.

An in-memory dataset reads its samples file whole (``store.read_samples``); a cube build scans them, and a
cube dataset reads a few of their rows on demand (the probe). Both find the files here: ``dataset.json``'s
``samples`` relative to its folder, or an absolute path, or a URL any installed fsspec filesystem handles
(``s3://``, ``gs://``, ``file://``, ``memory://``...). The files are listed once, sorted, and a completion's
*row key* is ``(file index << 40) | row in file`` (``app.cube.spec.ROW_FILE_SHIFT``), so a single file's keys
are its rows, as an in-memory dataset's are.
"""

from __future__ import annotations

import glob as globbing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs

from app.engine.errors import InputError, one_line
from app.engine.layout import COLUMNS

ROW_FILE_SHIFT = 40


@dataclass(frozen=True)
class SampleFiles:
    """The sample files of a dataset, sorted, and the filesystem that reads them."""

    where: str  # as dataset.json names them, for messages
    files: tuple[str, ...]  # paths on ``fs`` (local: absolute paths)
    fs: Any  # an fsspec filesystem, or None for the local one
    protocol: str | None  # the URL scheme, None for local paths

    @property
    def local(self) -> bool:
        return self.fs is None

    def arrow_fs(self) -> pafs.FileSystem:
        return pafs.LocalFileSystem() if self.fs is None else pafs.PyFileSystem(pafs.FSSpecHandler(self.fs))

    def urls(self) -> list[str]:
        """Each file as DuckDB or Dask name it: a path, or ``protocol://path``."""
        return list(self.files) if self.protocol is None else [f"{self.protocol}://{f}" for f in self.files]


def is_url(name: str) -> bool:
    """Whether ``samples`` names a URL (read through fsspec) rather than a path."""
    return "://" in name


def sample_files(meta_path: Path, samples: str) -> SampleFiles:
    """List the Parquet files ``samples`` names; none found, an unknown protocol or an unreachable store is an
    InputError that says what was looked for.
    """
    if is_url(samples):
        try:
            import fsspec
            fs, root = fsspec.core.url_to_fs(samples)
        except (ImportError, ValueError) as exc:
            raise InputError(f"samples {samples!r}: no filesystem for this URL ({exc}); install the fsspec "
                             "package for its protocol (e.g. s3fs for s3://)") from None
        protocol = samples.split("://", 1)[0]
        try:
            if any(ch in root for ch in "*?["):
                found = fs.glob(root)
            elif fs.isdir(root):
                found = [p for p in fs.find(root) if p.endswith(".parquet")]
            else:
                found = [root] if fs.exists(root) else []
        except Exception as exc:  # noqa: BLE001 - any store error: reported in one line
            raise InputError(f"samples {samples!r}: cannot list ({type(exc).__name__}: {exc})") from None
        files = tuple(sorted(str(f) for f in found))
        if protocol == "file":   # a local path after all: read without fsspec
            return _checked(SampleFiles(samples, files, None, None))
        return _checked(SampleFiles(samples, files, fs, protocol))
    path = Path(samples) if Path(samples).is_absolute() else meta_path.parent / samples
    text = str(path)
    if any(ch in samples for ch in "*?["):
        found = [Path(p) for p in globbing.glob(text, recursive=True)]
    elif path.is_dir():
        found = list(path.rglob("*.parquet"))
    else:
        found = [path] if path.is_file() else []
    return _checked(SampleFiles(samples, tuple(sorted(str(p) for p in found if p.is_file())), None, None))


def check_schemas(found: SampleFiles) -> None:
    """Every file's footer: the columns the engine reads, in types that hold their values (a build reads them all)."""
    import pyarrow.parquet as pq

    from app.engine.store import check_schema

    for path in found.files:
        try:
            schema = pq.read_schema(path, filesystem=None if found.fs is None else found.arrow_fs())
        except (OSError, pa.ArrowException) as exc:
            raise InputError(f"{path}: cannot read samples ({one_line(exc)})") from None
        check_schema(path, schema, COLUMNS)


def _checked(found: SampleFiles) -> SampleFiles:
    if not found.files:
        raise InputError(f"samples {found.where!r}: no Parquet file found (expected a file, a folder of "
                         "*.parquet, a glob, or a URL to one of these)")
    if len(found.files) >= 1 << (63 - ROW_FILE_SHIFT):
        raise InputError(f"samples {found.where!r}: {len(found.files):,} files; at most {1 << 23:,} can be keyed")
    return found
