"""One import, whatever the adapter: check the target, read everything, then write once.

Reading comes first and writing last, so any bad record stops the import before the
target folder is touched; ``store.write_dataset`` then merges and commits atomically.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

from app.engine.errors import InputError
from app.engine.meta import DatasetMeta
from app.engine.store import WriteSummary, read_meta, write_dataset
from app.importers.base import Context
from app.importers.duplicates import Duplicates, drop_duplicates
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
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, why it was not imported)
    duplicates: Duplicates = field(default_factory=Duplicates)

    def lines(self) -> list[str]:
        w = self.written
        everything = not self.rejected and not self.skipped and not self.duplicates.dropped  # "every record"
        out = [f"imported with adapter {self.adapter} from {self.files} file(s): {w.evals} eval(s), "
               f"{w.tasks} task(s), {w.points} point(s), {w.samples} sample(s)",
               f"files: {self.files + len(self.skipped)} found, {self.files} imported, {len(self.skipped)} skipped"]
        out += _skipped_lines(self.skipped)
        out += [f"points replaced: {w.replaced_points}; the dataset now holds {w.total_samples} sample(s)",
                f"records rejected: {len(self.rejected)}" + (" (every record was imported)" if everything
                                                             else "")]
        out += [f"  - {r}" for r in self.rejected[:MAX_LISTED]]
        if len(self.rejected) > MAX_LISTED:
            out.append(f"  - … and {len(self.rejected) - MAX_LISTED} more")
        out += self.duplicates.lines()
        if w.leftovers:
            shown = ", ".join(w.leftovers[:5]) + (f" and {len(w.leftovers) - 5} more" if len(w.leftovers) > 5 else "")
            out.append(f"removed {len(w.leftovers)} file(s) left by interrupted imports: {shown}")
        out += [f"note: {n}" for n in self.notes + w.warnings]
        out.append(f"wrote {w.path}")
        return out


def import_sources(sources: Sequence[str | os.PathLike], adapter: str, out: str | os.PathLike,
                   name: str | None = None, *, progress_after: float = 1.0,
                   options: Mapping[str, Any] | None = None, partition: bool | None = None) -> Report:
    """Import ``sources`` with ``adapter`` into the dataset folder ``out`` (created or merged).

    ``options`` are the values of the adapter's declared flags (``ctx.options``), keyed by ``dest``;
    ``partition``: samples as one Parquet file per eval (None: the target's form, else one file).
    """
    chosen = get_adapter(adapter)
    paths = [Path(s) for s in sources]
    for p in paths:
        if not p.exists():
            raise InputError(f"source not found: {p}")
    out = Path(out)
    existing = _existing(out)
    imported = chosen.read(paths, Context(existing=existing, progress_after=progress_after,
                                          options=dict(options or {})))
    if imported.table.num_rows == 0:
        raise InputError(f"no samples found in {', '.join(map(str, paths))}")
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    # A new dataset is named after its folder; a merge keeps the target's name unless --name is given.
    named = name or (None if existing is not None else out.resolve().name)
    meta = imported.meta.dataset(chosen.name, now, name=named, previous=existing)
    table, duplicates = drop_duplicates(imported.table)
    written = write_dataset(out, meta, table, merge=True, partition=partition)
    skipped = list(imported.skipped) + _not_read(paths, chosen.suffixes, chosen.name, imported.skipped)
    return Report(adapter=chosen.name, files=imported.files, written=written, rejected=imported.rejected,
                  notes=imported.notes, skipped=skipped, duplicates=duplicates)


def _not_read(sources: Sequence[Path], suffixes: Sequence[str], adapter: str,
              reported: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Files under the source folders that the adapter cannot read by their suffix, so the summary counts them.

    The adapter reports what it skipped among the files it reads (``Imported.skipped``); every other
    file under a folder it was given is named here, so no file is passed over in silence.
    """
    wanted = tuple(s.lower() for s in suffixes)
    seen = {Path(path).resolve() for path, _ in reported}
    what = f"not a {'/'.join(wanted)} file, the kind adapter {adapter} reads"
    found = [f for src in sources if src.is_dir() for f in sorted(src.rglob("*")) if f.is_file()]
    return [(str(f), what) for f in found if not f.name.lower().endswith(wanted) and f.resolve() not in seen]


def _skipped_lines(skipped: Sequence[tuple[str, str]]) -> list[str]:
    """Skipped files grouped by reason, a few names per reason, at most MAX_LISTED lines."""
    by_reason: dict[str, list[str]] = {}
    for path, reason in skipped:
        by_reason.setdefault(reason, []).append(path)
    out = []
    for reason, paths in by_reason.items():
        names = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
        out.append(f"  - {names}: {reason}" if len(paths) == 1 else f"  - {len(paths)} files ({names}): {reason}")
    if len(out) > MAX_LISTED:
        out = out[:MAX_LISTED] + [f"  - … and {len(out) - MAX_LISTED} more reason(s)"]
    return out


def _existing(out: Path) -> DatasetMeta | None:
    """The dataset to merge into, if any; refuse folders that hold something else."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} exists and is not a folder")
    if (out / "dataset.json").is_file():
        return read_meta(out)
    if out.is_dir() and any(out.iterdir()):
        raise InputError(f"--out {out} is a non-empty folder without a dataset.json; choose a new or empty folder")
    return None
