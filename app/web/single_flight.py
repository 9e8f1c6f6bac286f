"""One computation of a view at a time, across the threads and worker processes of one machine.

A page asks for its view twice at nearly the same moment: the browser fetches the view's
figures as soon as the page's HTML arrives (``boot.js``), and the page's render callback asks
for the same view a few round trips later, often on the other gunicorn worker. Without a lock
both miss the cache and compute the same view on both cores. With it, the second waits for
the first and then reads the cache.

The locks are ``flock`` locks on a fixed set of files (``STRIPES``; a view's key picks one),
in a folder derived from the cache folder, so every worker of one server shares them and the
folder never grows. The kernel releases a lock when its holder dies (a worker killed on
timeout never leaves a view locked). A folder that cannot be written means no locking: each
request computes on its own, as before.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

log = logging.getLogger(__name__)
STRIPES = 64  # lock files; two views sharing one only wait for each other, which a 2-core server does anyway


def lock_folder(cache_dir: Path) -> Path:
    """Where the lock files of the server whose cache is ``cache_dir`` live (outside it: the file cache owns it)."""
    digest = hashlib.sha256(str(Path(cache_dir).resolve()).encode("utf-8")).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"profile-locks-{digest}"


class ComputeLocks:
    """``hold(key)``: the lock for ``key``'s stripe, held for the block; yields the seconds spent waiting."""

    def __init__(self, folder: Path, stripes: int = STRIPES):
        self.folder = Path(folder)
        self.stripes = stripes
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.usable = os.access(self.folder, os.W_OK)
        except OSError:
            self.usable = False
        if not self.usable:
            log.warning("no lock folder at %s: concurrent requests for one view may compute it twice", self.folder)

    def _path(self, key: str) -> Path:
        stripe = int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16) % self.stripes
        return self.folder / f"{stripe:02d}.lock"

    @contextmanager
    def hold(self, key: str) -> Iterator[float]:
        if not self.usable:
            yield 0.0
            return
        started = time.perf_counter()
        try:
            fd = os.open(self._path(key), os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:  # the folder went away: compute without the lock
            yield 0.0
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield time.perf_counter() - started
        finally:
            os.close(fd)  # closing the descriptor releases the lock
