"""What a killed import leaves behind, and the locks that tell a dead import's files from a live one's.

``store._commit`` writes under temporary names and renames last, so a killed import never
damages a dataset, but it leaves files: a staging folder ``.<name>.XXXXXXXX`` beside a new
target (``tempfile.mkdtemp``'s 8 random characters) holding ``samples.parquet``,
``texts.parquet`` or ``dataset.json``; ``.samples[-XXXXXXXX].parquet.tmp``,
``.texts[-XXXXXXXX].parquet.tmp`` and ``.dataset.json.tmp`` inside an existing target; and, when
killed between its renames, a ``samples-XXXXXXXX.parquet`` or ``texts-XXXXXXXX.parquet`` that
``dataset.json`` does not name. Up to several MB each, and nothing else ever removes them.

The rule: every import holds a shared ``flock`` on the target folder and on its parent while it
writes (:func:`writing`); before writing, it takes the exclusive lock without waiting, and when it
gets it (no other import is writing there) it removes the leftovers above, matched by these exact
names only, and says how many. A live import's files are never touched, because it holds its lock;
a killed one's lock died with its process. On a file system without ``flock`` only leftovers older
than ``UNLOCKED_MIN_AGE`` seconds are removed.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from app.engine.meta import SAMPLES_FILE, TEXTS_FILE, DatasetMeta

DATASET_FILE = "dataset.json"

# the names ``store._commit`` writes under; nothing else is ever removed
TEMP_FILE = re.compile(r"\.(?:samples|texts)(?:-[0-9a-f]{8})?\.parquet\.tmp|\.dataset\.json\.tmp")
DATA_FILE = re.compile(r"(?:samples|texts)(?:-[0-9a-f]{8})?\.parquet")
# a partitioned dataset's samples folder (``store.PARTITIONS_DIR``), and its temp name: only part files inside
TEMP_FOLDER = re.compile(r"\.samples(?:-[0-9a-f]{8})?\.tmp")
DATA_FOLDER = re.compile(r"samples(?:-[0-9a-f]{8})?")
PART_FILE = re.compile(r"part-\d{5}\.parquet")
STAGED = frozenset({SAMPLES_FILE, TEXTS_FILE, DATASET_FILE})
UNLOCKED_MIN_AGE = 3600.0


def staging_pattern(out: Path) -> re.Pattern[str]:
    """``tempfile.mkdtemp(prefix=f".{out.name}.")``'s names: the prefix and 8 of its random characters."""
    return re.compile(re.escape(f".{out.name}.") + r"[a-z0-9_]{8}")


@contextmanager
def writing(out: Path) -> Iterator[list[str]]:
    """Hold the import locks of ``out`` (and its parent) while the caller writes into it.

    Yields the names of the leftovers removed first (folders end with ``/``), for the summary.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    places, fds = [], []
    for place in [out.parent] + ([out] if out.is_dir() else []):
        try:
            fds.append(os.open(place, os.O_RDONLY))
            places.append(place)
        except OSError:
            continue  # a folder we cannot open to lock is not swept either; the write reports its own errors
    try:
        removed: list[str] = []
        for place, fd in zip(places, fds):
            min_age = _exclusive(fd)
            if min_age is not None:
                removed += _sweep_staging(out, min_age) if place == out.parent else _sweep_target(out, min_age)
        for fd in fds:
            _shared(fd)
        yield removed
    finally:
        for fd in fds:
            os.close(fd)  # releases the locks


def _exclusive(fd: int) -> float | None:
    """Minimum age of a leftover that may go: 0 with the exclusive lock, None while another import writes."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return 0.0
    except BlockingIOError:
        return None
    except OSError as exc:  # no flock here (some network file systems): age alone decides
        return UNLOCKED_MIN_AGE if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EBADF, errno.EINVAL) else None


def _shared(fd: int) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
    except OSError:
        pass  # no flock on this file system: nothing to hold


def _age(path: Path) -> float:
    """Seconds since ``path`` (or, for a folder, anything directly in it) last changed."""
    times = [path.lstat().st_mtime]
    if path.is_dir():
        times += [p.lstat().st_mtime for p in path.iterdir()]
    return time.time() - max(times)


def _sweep_staging(out: Path, min_age: float) -> list[str]:
    """Staging folders of killed imports into ``out``: our exact name, holding only files we stage."""
    pattern = staging_pattern(out)
    removed = []
    for p in out.parent.iterdir():
        if not pattern.fullmatch(p.name) or p.is_symlink() or not p.is_dir():
            continue
        try:
            entries = list(p.iterdir())
            if all((e.name in STAGED and e.is_file() and not e.is_symlink())
                   or (DATA_FOLDER.fullmatch(e.name) and _only_parts(e)) for e in entries) \
                    and _age(p) >= min_age:
                shutil.rmtree(p)
                removed.append(p.name + "/")
        except OSError:
            continue  # gone meanwhile or not ours to remove: leave it
    return removed


def _sweep_target(out: Path, min_age: float) -> list[str]:
    """Temp files of killed imports inside ``out``, and data files its dataset.json does not name."""
    named = _named(out)  # None: cannot tell which data files are in use, so remove temp files only
    removed = []
    for p in out.iterdir():
        if p.is_symlink():
            continue
        if p.is_dir():   # a partitioned write's temp folder, or a samples folder no dataset.json names
            orphan = named is not None and DATA_FOLDER.fullmatch(p.name) is not None and p.name not in named
            if (TEMP_FOLDER.fullmatch(p.name) or orphan) and _only_parts(p):
                try:
                    if _age(p) >= min_age:
                        shutil.rmtree(p)
                        removed.append(p.name + "/")
                except OSError:
                    continue
            continue
        orphan = named is not None and DATA_FILE.fullmatch(p.name) is not None and p.name not in named
        if not (TEMP_FILE.fullmatch(p.name) or orphan) or not p.is_file():
            continue
        try:
            if _age(p) >= min_age:
                p.unlink()
                removed.append(p.name)
        except OSError:
            continue
    return removed


def _only_parts(folder: Path) -> bool:
    """Whether ``folder`` holds nothing but the part files a partitioned write makes."""
    try:
        return all(PART_FILE.fullmatch(e.name) and e.is_file() and not e.is_symlink() for e in folder.iterdir())
    except OSError:
        return False


def _named(out: Path) -> set[str | None] | None:
    """The data files the target's dataset.json names, or None when it cannot be read."""
    try:
        meta = DatasetMeta.from_json(json.loads((out / DATASET_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None
    return {meta.samples, meta.texts}


__all__ = ["writing", "staging_pattern", "TEMP_FILE", "DATA_FILE", "TEMP_FOLDER", "DATA_FOLDER", "UNLOCKED_MIN_AGE"]
