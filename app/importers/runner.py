"""One import, whatever the adapter: check the target, read everything, then write once.

Reading comes first and writing last, so any bad record stops the import before the
target folder is touched; ``store.write_dataset`` then merges and commits atomically.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

from app.engine.errors import InputError
from app.engine.meta import DatasetMeta
from app.engine.store import WriteSummary, read_meta, write_dataset
from app.importers.base import Context
from app.importers.registry import get_adapter

MAX_LISTED = 20


@dataclass
class Report:
    """What an import did, for the closing summary."""

    adapter: str
    files: int
    written: WriteSummary
    rejected: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        w = self.written
        out = [f"imported with adapter {self.adapter} from {self.files} file(s): {w.evals} eval(s), "
               f"{w.tasks} task(s), {w.points} point(s), {w.samples} sample(s)",
               f"points replaced: {w.replaced_points}; the dataset now holds {w.total_samples} sample(s)",
               f"records rejected: {len(self.rejected)}" + (" (every record was imported)" if not self.rejected
                                                            else "")]
        out += [f"  - {r}" for r in self.rejected[:MAX_LISTED]]
        if len(self.rejected) > MAX_LISTED:
            out.append(f"  - … and {len(self.rejected) - MAX_LISTED} more")
        out += [f"note: {n}" for n in self.notes + w.warnings]
        out.append(f"wrote {w.path}")
        return out


def import_sources(sources: Sequence[str | os.PathLike], adapter: str, out: str | os.PathLike,
                   name: str | None = None, *, progress_after: float = 1.0) -> Report:
    """Import ``sources`` with ``adapter`` into the dataset folder ``out`` (created or merged)."""
    chosen = get_adapter(adapter)
    paths = [Path(s) for s in sources]
    for p in paths:
        if not p.exists():
            raise InputError(f"source not found: {p}")
    out = Path(out)
    existing = _existing(out)
    imported = chosen.read(paths, Context(existing=existing, progress_after=progress_after))
    if imported.table.num_rows == 0:
        raise InputError(f"no samples found in {', '.join(map(str, paths))}")
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    # A new dataset is named after its folder; a merge keeps the target's name unless --name is given.
    named = name or (None if existing is not None else out.resolve().name)
    meta = imported.meta.dataset(chosen.name, now, name=named, previous=existing)
    written = write_dataset(out, meta, imported.table, merge=True)
    return Report(adapter=chosen.name, files=imported.files, written=written, rejected=imported.rejected,
                  notes=imported.notes)


def _existing(out: Path) -> DatasetMeta | None:
    """The dataset to merge into, if any; refuse folders that hold something else."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} exists and is not a folder")
    if (out / "dataset.json").is_file():
        return read_meta(out)
    if out.is_dir() and any(out.iterdir()):
        raise InputError(f"--out {out} is a non-empty folder without a dataset.json; choose a new or empty folder")
    return None
