"""A file-system cache backend for flask-caching that evicts the least recently used entries.

cachelib's FileSystemCache (flask-caching's default) pickles values, bounds the
number of files rather than their size, and evicts by write time, so a popular
view is dropped as readily as a one-off. This backend stores bytes as they are
(signed text from ``app.web.signing``), one file per key, and keeps the folder
under a size bound:

* every read sets the file's mtime to now, so mtime is the time of last use;
* when this worker's running estimate of the folder size passes the bound (or
  at most every RESCAN_SECONDS on a write, to see other workers' writes) the
  folder is scanned and the least recently used entries are removed until it is
  down to LOW_WATER of the bound.

Files are written to a temporary name and renamed, so a reader never sees half an
entry; writers' leftovers older than STALE_TMP_SECONDS are removed by the scan.
"""

from __future__ import annotations

import hashlib
import logging
import os
import struct
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask_caching.backends.base import BaseCache

log = logging.getLogger(__name__)

SUFFIX = ".entry"
TMP_PREFIX = ".tmp-"
EXPIRY = struct.Struct(">Q")  # unix seconds after which the entry is gone; 0 = never
LOW_WATER = 0.9
RESCAN_SECONDS = 30.0
STALE_TMP_SECONDS = 3600.0


class LruFileCache(BaseCache):
    """One file per key under ``cache_dir``, at most ``max_bytes`` in total, least recently used out first."""

    def __init__(self, cache_dir: str | os.PathLike, max_bytes: int, default_timeout: int = 300):
        super().__init__(default_timeout=default_timeout)
        self.dir = Path(cache_dir)
        self.max_bytes = max_bytes
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock = threading.Lock()
        self._estimate = 0
        self._scanned = 0.0
        self.evicted = 0  # entries this worker removed to stay under the bound (for tests and logs)
        self._scan()

    @classmethod
    def factory(cls, app: Flask, config: dict[str, Any], args: list[Any], kwargs: dict[str, Any]) -> "LruFileCache":
        """How flask-caching builds it from ``CACHE_TYPE = "app.web.file_cache.LruFileCache"``."""
        return cls(config["CACHE_DIR"], int(config["CACHE_MAX_BYTES"]), int(kwargs["default_timeout"]))

    def path(self, key: str) -> Path:
        """The entry's file: a hash of the key, so no key ever becomes a path."""
        return self.dir / (hashlib.sha256(key.encode("utf-8")).hexdigest() + SUFFIX)

    # ------------------------------------------------------------------ reads
    def get(self, key: str) -> bytes | None:
        """The stored bytes, or None (missing or expired); marks the entry as just used."""
        path = self.path(key)
        try:
            with open(path, "rb") as f:
                head = f.read(EXPIRY.size)
                data = f.read()
        except FileNotFoundError:
            return None
        if len(head) != EXPIRY.size:
            return None
        expires = EXPIRY.unpack(head)[0]
        if expires and expires < time.time():
            self._remove(path)
            return None
        self._touch(path)
        return data

    def has(self, key: str) -> bool:
        return self.get(key) is not None

    # ----------------------------------------------------------------- writes
    def set(self, key: str, value: bytes, timeout: int | timedelta | None = None) -> bool:
        """Store ``value`` (bytes) atomically; then keep the folder under its bound."""
        if not isinstance(value, bytes):
            raise TypeError("LruFileCache stores bytes (sealed entries), not objects")
        seconds = self._normalize_timeout(timeout)
        expires = int(time.time()) + seconds if seconds else 0
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=self.dir)  # 0600
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(EXPIRY.pack(expires))
                out.write(value)
            path = self.path(key)
            os.replace(tmp, path)
        except BaseException:
            self._remove(Path(tmp))
            raise
        self._touch(path)
        with self._lock:
            self._estimate += EXPIRY.size + len(value)
            due = self._estimate > self.max_bytes or time.monotonic() - self._scanned > RESCAN_SECONDS
        if due:
            self._scan()
        return True

    def set_many(self, mapping: dict[str, Any], timeout: int | timedelta | None = None) -> list[Any]:
        return [key for key, value in mapping.items() if self.set(key, value, timeout)]

    def delete(self, key: str) -> bool:
        return self._remove(self.path(key))

    def clear(self) -> bool:
        for entry in self._entries():
            self._remove(Path(entry.path))
        with self._lock:
            self._estimate = 0
        return True

    # --------------------------------------------------------------- eviction
    def size(self) -> int:
        """Bytes the entries take now (a scan)."""
        return sum(entry.stat().st_size for entry in self._entries())

    def _scan(self) -> None:
        """Measure the folder; above the bound, remove the least recently used entries down to LOW_WATER."""
        now = time.time()
        files: list[tuple[int, int, Path]] = []  # (last use ns, size, path)
        total = 0
        try:
            listing = list(os.scandir(self.dir))
        except OSError:
            return
        for entry in listing:
            try:
                if entry.name.startswith(TMP_PREFIX):
                    if now - entry.stat().st_mtime > STALE_TMP_SECONDS:
                        self._remove(Path(entry.path))
                    continue
                if not entry.name.endswith(SUFFIX):
                    continue
                st = entry.stat()
            except OSError:
                continue
            files.append((st.st_mtime_ns, st.st_size, Path(entry.path)))
            total += st.st_size
        if total > self.max_bytes:
            target = self.max_bytes * LOW_WATER
            files.sort()
            removed = 0
            for _, size, path in files:
                if total <= target:
                    break
                if self._remove(path):
                    total -= size
                    removed += 1
            self.evicted += removed
            log.info("file cache over %d MB: removed the %d least recently used entries",
                     self.max_bytes >> 20, removed)
        with self._lock:
            self._estimate = total
            self._scanned = time.monotonic()

    def _entries(self) -> list[os.DirEntry[str]]:
        try:
            return [e for e in os.scandir(self.dir) if e.name.endswith(SUFFIX)]
        except OSError:
            return []

    @staticmethod
    def _touch(path: Path) -> None:
        """mtime := now, to the nanosecond (file systems stamp writes with a coarser clock)."""
        now = time.time_ns()
        try:
            os.utime(path, ns=(now, now))
        except OSError:
            pass

    @staticmethod
    def _remove(path: Path) -> bool:
        try:
            path.unlink()
        except FileNotFoundError:
            return True
        except OSError:
            return False
        return True
