"""What every adapter shares: its result type, progress on stderr, and token/size estimates.

Adapters only *read*: they return samples and metadata, and the runner does the one
atomic write, so a failing adapter can never leave a half-written dataset behind.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence, TextIO

import pyarrow as pa
import pyarrow.compute as pc

from app.engine.schema import OPTIONAL_COLUMNS, SAMPLES_SCHEMA, compressed_size


@dataclass
class Imported:
    """An adapter's answer: dataset metadata plus one row per completion."""

    meta: dict[str, Any]
    table: pa.Table
    rejected: list[str] = field(default_factory=list)  # what was left out, and why
    notes: list[str] = field(default_factory=list)  # mapping facts worth telling the user
    files: int = 0


class Progress:
    """Counts files read and reports on stderr, but only once an import has run a while.

    Short imports stay silent, so an error is the only line a user (or a test) sees.
    """

    def __init__(self, label: str, total: int | None = None, *, after: float = 1.0,
                 stream: TextIO | None = None) -> None:
        self.label, self.total, self.after = label, total, after
        self.stream = stream
        self.count = 0
        self.start = self.last = time.monotonic()
        self.shown, self.shown_count = False, 0

    def step(self, n: int = 1) -> None:
        self.count += n
        now = time.monotonic()
        if now - self.last >= self.after:
            self.last = now
            self._show(now)

    def done(self) -> None:
        if self.shown and self.shown_count != self.count:
            self._show(time.monotonic())

    def _show(self, now: float) -> None:
        of = f"/{self.total}" if self.total is not None else ""
        print(f"{self.label}: {self.count}{of} files read ({now - self.start:.1f} s)",
              file=self.stream or sys.stderr, flush=True)
        self.shown, self.shown_count = True, self.count


@dataclass
class Context:
    """What an adapter may know about the target: the dataset it will merge into."""

    existing: dict[str, Any] | None = None
    progress_after: float = 1.0

    def progress(self, label: str, total: int | None = None) -> Progress:
        return Progress(label, total, after=self.progress_after)

    def task_guess_rate(self, base_task: str) -> float | None:
        for task in (self.existing or {}).get("tasks", []):
            if task["base_task"] == base_task:
                return float(task["guess_rate"])
        return None


def estimate_tokens(texts: pa.Array | pa.ChunkedArray) -> pa.Array:
    """ceil(UTF-8 bytes / 4): the usual rule of thumb when a source has no token counts."""
    nbytes = pc.binary_length(texts)
    return pc.divide(pc.add(nbytes, 3), 4).cast(pa.int32())


def compressed_sizes(texts: Iterable[str | None]) -> pa.Array:
    """``schema.compressed_size`` per text (gzip has no vectorised form); null stays null."""
    return pa.array([None if t is None else compressed_size(t) for t in texts], pa.int32())


def samples_table(columns: dict[str, Any]) -> pa.Table:
    """Columns in the public schema's order and types, plus the optional ones given."""
    fields = [f for f in SAMPLES_SCHEMA if f.name in columns]
    fields += [pa.field(n, t) for n, t in OPTIONAL_COLUMNS.items() if n in columns]
    arrays = [pa.array(columns[f.name], f.type) if not isinstance(columns[f.name], (pa.Array, pa.ChunkedArray))
              else columns[f.name].cast(f.type) for f in fields]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def expand_files(sources: Sequence[Path], suffixes: Sequence[str]) -> list[Path]:
    """Files given directly, plus files with a wanted suffix found under given folders."""
    files: dict[Path, Path] = {}  # keyed by resolved path: a file named twice is read once
    for src in sources:
        found = sorted(p for p in src.rglob("*") if p.is_file() and p.suffix.lower() in suffixes) \
            if src.is_dir() else [src]
        files.update((p.resolve(), p) for p in found if p.resolve() not in files)
    return list(files.values())

