"""The datasets this server can show: discovered, kept current, opened once per change, checked for /health.

A ``dataset=<name>`` query parameter is only ever looked up in the discovered
mapping, so a name from a URL never becomes a path. Opened datasets are kept per
worker process (never sent to the browser).

Staying current, cheaply:

* the data root is scanned again at most every RESCAN_SECONDS (on the next
  request after that), so a new dataset folder appears and a removed one goes
  without a restart; a scan stats each ``*/dataset.json`` and parses only the
  ones whose size or mtime changed;
* every ``get`` compares the stamps (size + mtime_ns) of dataset.json and of each
  data file it declares with those the open dataset was read from (a few stats),
  and reopens on any difference, which also gives the dataset a new version and
  so new cache keys: every worker serves the new numbers after a Parquet is
  rewritten under an unchanged dataset.json;
* a dataset that failed to open is not retried until one of its files changes;
  the reason is kept (one line, with the dataset's name in place of any server
  path) for the page's notice and for /health.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from app.engine import Dataset, fingerprint
from app.engine.cube_layout import CUBE_COLUMNS
from app.engine.errors import InputError, listing
from app.engine.meta import CubeMeta, DatasetMeta
from app.engine.schema import REQUIRED_COLUMNS, column_type_problem
from app.engine.store import read_meta

log = logging.getLogger(__name__)

RESCAN_SECONDS = 5.0
OPEN_ATTEMPTS = 3  # reads that saw a file change under them are retried this often
MAX_REASON_CHARS = 300


@dataclass(frozen=True)
class Entry:
    """A discovered dataset: its URL name, title and dataset.json path."""

    name: str
    title: str
    path: Path


@dataclass(frozen=True)
class Unreadable:
    """A dataset.json that was found but cannot be read: its folder's name and why."""

    name: str
    reason: str


@dataclass(frozen=True)
class DatasetHealth:
    """One dataset as /health reports it: servable or not (with the reason), opened in this worker or not."""

    name: str
    ok: bool
    opened: bool
    reason: str | None = None

    def to_json(self) -> dict[str, object]:
        doc: dict[str, object] = {"name": self.name, "status": "ok" if self.ok else "error", "opened": self.opened}
        if self.reason:
            doc["reason"] = self.reason
        return doc


def one_line(text: str, folder: Path, name: str) -> str:
    """``text`` on one bounded line, with the dataset folder's path replaced by the dataset's name."""
    for spelled in {str(folder.resolve()), str(folder)}:
        text = text.replace(spelled, name)
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON_CHARS else text[:MAX_REASON_CHARS - 1] + "…"


def _candidates(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    if root.is_dir():
        return [p for p in [root / "dataset.json"] if p.is_file()] + \
            sorted(p for p in root.glob("*/dataset.json") if p.is_file())
    return []


class _MetaCache:
    """dataset.json → its parsed metadata (or the reason it cannot be read), re-parsed only when it changes."""

    def __init__(self) -> None:
        self._parsed: dict[Path, tuple[fingerprint.Stamp, DatasetMeta | str]] = {}

    def read(self, path: Path) -> DatasetMeta | str:
        stamp = fingerprint.stamp(path, path.parent)
        cached = self._parsed.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            meta: DatasetMeta | str = read_meta(path)
        except InputError as exc:
            meta = one_line(str(exc), path.parent, path.parent.name)
        self._parsed[path] = (stamp, meta)
        return meta


def scan(root: Path, metas: _MetaCache | None = None) -> tuple[list[Entry], list[Unreadable]]:
    """``root`` itself when it is a dataset.json, else root/dataset.json and root/*/dataset.json.

    Names come from dataset.json (``name``, else the folder), made unique by the
    folder's name and then a number; a dataset.json that cannot be read is
    returned apart, under its folder's name, so one broken folder hides no other.
    """
    metas = metas or _MetaCache()
    entries: list[Entry] = []
    unreadable: list[Unreadable] = []
    seen: set[str] = set()
    for path in _candidates(Path(root)):
        meta = metas.read(path)
        if isinstance(meta, str):
            unreadable.append(Unreadable(path.parent.name, meta))
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
    return entries, unreadable


def discover(root: Path) -> list[Entry]:
    """The readable datasets under ``root`` (see :func:`scan`)."""
    return scan(root)[0]


def samples_problem(meta_path: Path, meta: DatasetMeta) -> str | None:
    """Why the samples file cannot be read, from its Parquet footer alone (None: it can).

    The cheap probe behind /health: a missing, truncated or non-Parquet file, a missing
    column or a column of the wrong type (``schema.column_type_problem``, the rule the
    reader applies) — without reading any data.
    """
    if meta.cube is not None:
        return cube_problem(meta_path, meta.cube)
    path = meta_path.parent / meta.samples
    if not path.resolve().is_relative_to(meta_path.parent.resolve()):
        return f"samples file {meta.samples!r} lies outside the dataset folder"
    if path.is_dir():   # partitioned: its first file stands for the others (one import wrote them all)
        path = next(iter(sorted(path.glob("*.parquet"))), path / "part-00000.parquet")
    try:
        schema = pq.read_schema(path)
    except FileNotFoundError:
        return f"{meta.samples}: missing"
    except (OSError, pa.ArrowException) as exc:
        return f"{meta.samples}: not a readable Parquet file ({exc})"
    missing = [c for c in REQUIRED_COLUMNS if c not in schema.names]
    if missing:
        return f"{meta.samples}: missing column(s) {', '.join(missing)}"
    for name in REQUIRED_COLUMNS:
        problem = column_type_problem(name, schema.field(name).type)
        if problem:
            return f"{meta.samples}: {problem}"
    return None


def cube_problem(meta_path: Path, cube: CubeMeta) -> str | None:
    """Why a cube dataset's cube file cannot be served, from its footer (its samples are only read on demand)."""
    try:
        schema = pq.read_schema(meta_path.parent / cube.file)
    except FileNotFoundError:
        return f"{cube.file}: missing"
    except (OSError, pa.ArrowException) as exc:
        return f"{cube.file}: not a readable Parquet file ({exc})"
    missing = [c for c in CUBE_COLUMNS if c not in schema.names]
    return f"{cube.file}: not a cube: missing column(s) {', '.join(missing)}" if missing else None


@dataclass(frozen=True)
class _Found:
    """One scan's result."""

    entries: list[Entry]
    by_name: dict[str, Entry]
    unreadable: list[Unreadable]


class Registry:
    """Name → dataset for one worker; thread-safe, opens each dataset at most once per change of its files."""

    def __init__(self, root: Path, rescan_seconds: float = RESCAN_SECONDS):
        self.root = Path(root)
        self.rescan_seconds = rescan_seconds
        self._metas = _MetaCache()
        # separate locks, so /health and the rescan never wait for a long open
        self._scan_lock = threading.Lock()
        self._open_lock = threading.Lock()
        self._probe_lock = threading.Lock()
        self._open: dict[str, Dataset] = {}
        self._failed: dict[str, tuple[tuple[fingerprint.Stamp, ...], str]] = {}
        self._probes: dict[str, tuple[tuple[fingerprint.Stamp, ...], str | None]] = {}
        self._found = _Found([], {}, [])  # replaced whole by a rescan, so readers see one scan or the next
        self._scanned = 0.0
        self.rescan()

    # --------------------------------------------------------------- discovery
    def rescan(self) -> None:
        """Look for datasets now (also done by itself, at most every ``rescan_seconds``)."""
        with self._scan_lock:
            self._rescan_locked()

    def _rescan_locked(self) -> None:
        before = set(self._found.by_name)
        entries, unreadable = scan(self.root, self._metas)
        self._found = _Found(entries, {e.name: e for e in entries}, unreadable)
        self._scanned = time.monotonic()
        for name in before - set(self._found.by_name):  # a removed folder: forget what was opened from it
            self._open.pop(name, None)
            self._failed.pop(name, None)
            self._probes.pop(name, None)
        if before and set(self._found.by_name) != before:
            log.info("datasets now: %s", ", ".join(self._found.by_name) or "none")

    def _current(self) -> None:
        if time.monotonic() - self._scanned > self.rescan_seconds:
            with self._scan_lock:
                if time.monotonic() - self._scanned > self.rescan_seconds:  # not done by another thread meanwhile
                    self._rescan_locked()

    @property
    def entries(self) -> list[Entry]:
        self._current()
        return self._found.entries

    @property
    def names(self) -> list[str]:
        return [e.name for e in self.entries]

    @property
    def default(self) -> str | None:
        """The first discovered dataset (root/dataset.json when there is one)."""
        entries = self.entries
        return entries[0].name if entries else None

    def entry(self, name: str | None) -> Entry:
        """The entry for ``name`` (None: the default); unknown names list the valid ones."""
        self._current()
        found = self._found
        entries = found.entries
        if not entries:
            raise InputError(f"no dataset found at {self.root}: set PROFILE_DATA to a dataset.json or a folder "
                             "holding dataset.json or */dataset.json")
        if name is None:
            return entries[0]
        entry = found.by_name.get(name)
        if entry is None:
            raise InputError(f"unknown dataset {name!r}; datasets: {listing(self.names)}")
        return entry

    # ----------------------------------------------------------------- opening
    def get(self, name: str | None = None) -> Dataset:
        """The opened dataset, reopened when any of its files changed; an InputError when it cannot be opened."""
        entry = self.entry(name)
        ds = self._open.get(entry.name)
        if ds is not None and ds.path == entry.path and not ds.changed_on_disk():
            return ds
        with self._open_lock:
            ds = self._open.get(entry.name)
            if ds is not None and ds.path == entry.path and not ds.changed_on_disk():
                return ds
            stamps = self._stamps(entry)
            failed = self._failed.get(entry.name)
            if failed is not None and failed[0] == stamps:
                raise InputError(failed[1])
            try:
                ds = self._open_current(entry)
            except Exception as exc:
                if not isinstance(exc, InputError):
                    log.exception("dataset %s could not be opened", entry.name)
                reason = f"dataset {entry.name!r} cannot be opened: " + \
                    one_line(str(exc) or type(exc).__name__, entry.path.parent, entry.name)
                self._failed[entry.name] = (stamps, reason)
                self._open.pop(entry.name, None)
                raise InputError(reason) from None
            self._failed.pop(entry.name, None)
            self._open[entry.name] = ds
            log.info("opened dataset %s (%s) version %s", entry.name, ds, ds.version)
            return ds

    @staticmethod
    def _open_current(entry: Entry) -> Dataset:
        """Open, and open again if a file changed while it was read (the version must match what was read)."""
        for _ in range(OPEN_ATTEMPTS):
            ds = Dataset.open(entry.path)
            if not ds.changed_on_disk():
                _ = ds.version  # pinned to the stamps taken before the read
                return ds
        raise InputError(f"dataset {entry.name!r} kept changing while it was read; try again when it is written")

    def _stamps(self, entry: Entry) -> tuple[fingerprint.Stamp, ...]:
        """The stamps of the entry's files now (dataset.json alone when it cannot be read)."""
        meta = self._metas.read(entry.path)
        if isinstance(meta, str):
            return (fingerprint.stamp(entry.path, entry.path.parent),)
        return fingerprint.stamps(entry.path, meta)

    def opened(self) -> list[str]:
        return sorted(self._open)

    # ------------------------------------------------------------------ health
    def health(self) -> list[DatasetHealth]:
        """Every dataset found: whether it can be opened (the worker's own open, else the footer probe)."""
        self._current()
        found = self._found
        with self._probe_lock:
            report: list[DatasetHealth] = []
            for entry in found.entries:
                opened = self._open.get(entry.name)
                if opened is not None and not opened.changed_on_disk():
                    report.append(DatasetHealth(entry.name, True, True))
                    continue
                reason = self._probe(entry)
                report.append(DatasetHealth(entry.name, reason is None, False, reason))
            report += [DatasetHealth(u.name, False, False, u.reason) for u in found.unreadable]
            return report

    def _probe(self, entry: Entry) -> str | None:
        """The worker's own failure to open it, else the cached footer probe (redone when a file changes)."""
        stamps = self._stamps(entry)
        failed = self._failed.get(entry.name)
        if failed is not None and failed[0] == stamps:
            return failed[1]
        cached = self._probes.get(entry.name)
        if cached is not None and cached[0] == stamps:
            return cached[1]
        meta = self._metas.read(entry.path)
        problem = meta if isinstance(meta, str) else samples_problem(entry.path, meta)
        reason = None if problem is None else one_line(problem, entry.path.parent, entry.name)
        self._probes[entry.name] = (stamps, reason)
        return reason
