"""What identifies the exact files a dataset was read from: its version and change check.

A dataset is ``dataset.json`` plus every data file it declares (``samples`` and,
when present, ``texts``). Each file is identified by its size and ``st_mtime_ns``,
not by a content hash: hashing gigabytes of Parquet on every open (and every
change check, which runs per request) would cost more than the open itself, while
any write through the importer, ``cp`` or an editor gives a new mtime. Copies made
with their mtime preserved (``rsync -t``, ``docker COPY``) keep the version, so
hosts sharing one Redis share entries; a copy that changes the mtime only costs
cache misses, never wrong numbers.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import NamedTuple

from app.engine.meta import DatasetMeta

MISSING = -1  # size and mtime of a file that is not there (a stamp still, so its return is a change)


class Stamp(NamedTuple):
    """One file as the version sees it: its name inside the dataset folder, size and mtime in ns."""

    name: str
    size: int
    mtime_ns: int


def declared_files(meta_path: Path, meta: DatasetMeta) -> list[Path]:
    """The data files ``dataset.json`` names, in a fixed order (samples, then texts when declared)."""
    if meta.cube is not None:   # a cube is its own data: its samples are read on demand (and may be remote)
        return [meta_path.parent / meta.cube.file]
    names = [meta.samples] + ([meta.texts] if meta.texts else [])
    return [meta_path.parent / name for name in names]


def stamp(path: Path, folder: Path) -> Stamp:
    """Size and mtime of ``path`` (MISSING for both when it does not exist or cannot be read)."""
    try:
        name = str(path.relative_to(folder))
    except ValueError:
        name = path.name
    try:
        st = path.stat()
    except OSError:
        return Stamp(name, MISSING, MISSING)
    return Stamp(name, st.st_size, st.st_mtime_ns)


def stamps(meta_path: Path, meta: DatasetMeta) -> tuple[Stamp, ...]:
    """``dataset.json`` and every declared data file, stamped now."""
    folder = meta_path.parent
    return (stamp(meta_path, folder), *(stamp(p, folder) for p in declared_files(meta_path, meta)))


def version(file_stamps: tuple[Stamp, ...]) -> str:
    """16 hex digits that change whenever any stamped file changes."""
    h = hashlib.sha256()
    for s in file_stamps:
        h.update(f"{s.name}\0{s.size}\0{s.mtime_ns}\n".encode("utf-8"))
    return h.hexdigest()[:16]
