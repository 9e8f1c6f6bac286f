"""One import, whatever the adapter: check the target, read everything, then write once.

Reading comes first and writing last, so any bad record stops the import before the
target folder is touched; ``store.write_dataset`` then merges and commits atomically.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from app.engine.errors import InputError
from app.engine.store import WriteSummary, read_meta, write_dataset
from app.importers import get_adapter
from app.importers.base import Context

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
    module = get_adapter(adapter)
    paths = [Path(s) for s in sources]
    for p in paths:
        if not p.exists():
            raise InputError(f"source not found: {p}")
    out = Path(out)
    existing = _existing(out)
    imported = module.read(paths, Context(existing=existing, progress_after=progress_after))
    if imported.table.num_rows == 0:
        raise InputError(f"no samples found in {', '.join(map(str, paths))}")
    meta = _meta(imported.meta, existing, name, out, module.NAME)
    written = write_dataset(out, meta, imported.table, merge=True)
    return Report(adapter=module.NAME, files=imported.files, written=written, rejected=imported.rejected,
                  notes=imported.notes)


def _existing(out: Path) -> dict[str, Any] | None:
    """The dataset to merge into, if any; refuse folders that hold something else."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} exists and is not a folder")
    if (out / "dataset.json").is_file():
        return read_meta(out).to_json()
    if out.is_dir() and any(out.iterdir()):
        raise InputError(f"--out {out} is a non-empty folder without a dataset.json; choose a new or empty folder")
    return None


def _meta(new: dict[str, Any], existing: dict[str, Any] | None, name: str | None, out: Path,
          adapter: str) -> dict[str, Any]:
    """New evals/tasks keep what the existing dataset already says unless the import says otherwise."""
    old = existing or {"evals": [], "tasks": [], "provenance": {}}
    old_evals = {e["eval_id"]: e for e in old["evals"]}
    old_tasks = {t["base_task"]: t for t in old["tasks"]}
    meta = {
        "evals": [{**old_evals.get(e["eval_id"], {}), **e} for e in new["evals"]],
        "tasks": [{**old_tasks.get(t["base_task"], {}), **t} for t in new["tasks"]],
        "views": new.get("views", []),
        "provenance": _provenance(old["provenance"], new.get("provenance", {}), adapter),
    }
    if name or existing is None:
        meta["name"] = meta["title"] = name or out.resolve().name
    return meta


def _provenance(old: dict[str, Any], new: dict[str, Any], adapter: str) -> dict[str, Any]:
    """Top level says where the data came from overall; ``imports`` keeps each import's details."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    imports = list(old.get("imports", [])) + [{"adapter": adapter, "imported": now, **new}]
    tokens = {i.get("tokens") for i in imports} | ({old["tokens"]} if old.get("tokens") else set())
    tokens.discard(None)
    prov = {**old, "source": "; ".join(dict.fromkeys(i["source"] for i in imports if i.get("source"))),
            "imported": now, "imports": imports}
    if tokens:  # one estimated import makes the dataset's token counts estimated
        prov["tokens"] = "estimated" if "estimated" in tokens else tokens.pop()
    return prov
