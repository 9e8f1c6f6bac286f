"""The datasets this server can show, discovered once and opened once per worker.

A ``dataset=<name>`` query parameter is only ever looked up in the discovered
mapping, so a name from a URL never becomes a path. Opened datasets are kept per
worker process (never sent to the browser) and reopened only when their
``dataset.json`` changes on disk, which also changes the cache keys.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from app.engine import Dataset
from app.engine.errors import InputError, listing
from app.engine.store import read_meta

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    """A discovered dataset: its URL name, title and dataset.json path."""

    name: str
    title: str
    path: Path


def discover(root: Path) -> list[Entry]:
    """``root`` itself when it is a dataset.json, else root/dataset.json and root/*/dataset.json."""
    root = Path(root)
    if root.is_file():
        candidates = [root]
    elif root.is_dir():
        candidates = [p for p in [root / "dataset.json"] if p.is_file()]
        candidates += sorted(p for p in root.glob("*/dataset.json") if p.is_file())
    else:
        return []
    entries: list[Entry] = []
    seen: set[str] = set()
    for path in candidates:
        try:
            meta = read_meta(path)
        except InputError as exc:  # one broken folder must not hide the others
            log.warning("skipping dataset %s: %s", path, exc)
            continue
        name = meta.name or path.parent.name
        if name in seen:
            name = f"{name}-{path.parent.name}"
        n = 2
        base = name
        while name in seen:
            name, n = f"{base}-{n}", n + 1
        seen.add(name)
        entries.append(Entry(name, meta.title or name, path.resolve()))
    return entries


class Registry:
    """Name → dataset for one worker; thread-safe, opens each dataset at most once per change."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.entries = discover(self.root)
        self._by_name = {e.name: e for e in self.entries}
        self._open: dict[str, tuple[tuple[int, int], Dataset]] = {}
        self._lock = threading.Lock()

    @property
    def names(self) -> list[str]:
        return [e.name for e in self.entries]

    @property
    def default(self) -> str | None:
        """The first discovered dataset (root/dataset.json when there is one)."""
        return self.entries[0].name if self.entries else None

    def entry(self, name: str | None) -> Entry:
        """The entry for ``name`` (None: the default); unknown names list the valid ones."""
        if not self.entries:
            raise InputError(f"no dataset found at {self.root}: set PROFILE_DATA to a dataset.json or a folder "
                             "holding dataset.json or */dataset.json")
        if name is None:
            return self.entries[0]
        if name not in self._by_name:
            raise InputError(f"unknown dataset {name!r}; datasets: {listing(self.names)}")
        return self._by_name[name]

    def get(self, name: str | None = None) -> Dataset:
        """The opened dataset; reopened when its dataset.json was rewritten (e.g. by an import)."""
        entry = self.entry(name)
        try:
            st = entry.path.stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except OSError as exc:
            raise InputError(f"dataset {entry.name!r} is no longer readable at {entry.path}: {exc}") from None
        cached = self._open.get(entry.name)
        if cached and cached[0] == stamp:
            return cached[1]
        with self._lock:
            cached = self._open.get(entry.name)
            if cached and cached[0] == stamp:
                return cached[1]
            ds = Dataset.open(entry.path)
            _ = ds.version  # pin the version to the files just read
            self._open[entry.name] = (stamp, ds)
            log.info("opened dataset %s (%s) version %s", entry.name, ds, ds.version)
            return ds

    def opened(self) -> list[str]:
        return sorted(self._open)
