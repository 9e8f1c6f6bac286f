"""Reading and writing dataset folders (``dataset.json`` + Parquet), atomically.

``dataset.json`` is the commit point: samples are written under a fresh name
first and the JSON that names them replaces the old one in a single rename, so a
reader sees the old dataset or the new one, never a mix, and a failed write
leaves the folder exactly as it was.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from app.engine.errors import InputError, listing
from app.engine.meta import DEFAULT_NAME, SAMPLES_FILE, DatasetMeta, EvalMeta, TaskMeta, ViewMeta
from app.engine.schema import (
    OPTIONAL_COLUMNS,
    OUTCOMES,
    REQUIRED_COLUMNS,
    SAMPLES_SCHEMA,
    canonical_json,
)

ROW_GROUP_SIZE = 1 << 20


def resolve_dataset_path(path: str | os.PathLike) -> Path:
    """Accept a dataset.json or the folder holding one."""
    p = Path(path)
    if p.is_dir():
        p = p / "dataset.json"
    if not p.is_file():
        raise InputError(f"no dataset at {path}: expected a dataset.json or a folder containing one")
    return p


def read_meta(path: str | os.PathLike) -> DatasetMeta:
    """Load and check ``dataset.json``; a broken file is an InputError naming it."""
    p = resolve_dataset_path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{p}: not a readable dataset.json ({exc})") from None
    return DatasetMeta.from_json(doc, where=str(p))


def normalise_meta(meta: Any, where: str = "dataset.json") -> dict[str, Any]:
    """Fill defaults and reject shapes the engine cannot use (the JSON form of :class:`DatasetMeta`)."""
    return DatasetMeta.from_json(meta, where).to_json()


def read_samples(meta_path: Path, meta: DatasetMeta, columns: Iterable[str] | None = None,
                 dictionary: Iterable[str] = ()) -> pa.Table:
    """Read the samples Parquet named by ``meta``; a missing or corrupt file is an InputError."""
    path = meta_path.parent / meta.samples
    if not path.resolve().is_relative_to(meta_path.parent.resolve()):
        raise InputError(f"{meta_path}: samples file {meta.samples!r} lies outside the dataset folder")
    try:
        schema = pq.read_schema(path)
        missing = [c for c in (columns or REQUIRED_COLUMNS) if c not in schema.names]
        if missing:
            raise InputError(f"{path}: missing column(s) {', '.join(missing)}; required: {', '.join(REQUIRED_COLUMNS)}")
        return pq.read_table(path, columns=list(columns) if columns else None,
                             read_dictionary=[c for c in dictionary if c in schema.names] or None)
    except InputError:
        raise
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{path}: cannot read samples ({exc})") from None


@dataclass
class WriteSummary:
    """What a write changed, for the importer's closing report."""

    path: Path
    evals: int = 0
    tasks: int = 0
    points: int = 0
    samples: int = 0
    replaced_points: int = 0
    total_samples: int = 0
    warnings: list[str] = field(default_factory=list)


def conform_samples(table: pa.Table) -> pa.Table:
    """Cast to the public schema (plus known optional columns), checking values."""
    missing = [c for c in REQUIRED_COLUMNS if c not in table.column_names]
    if missing:
        raise InputError(f"samples lack column(s) {', '.join(missing)}")
    fields = list(SAMPLES_SCHEMA) + [pa.field(n, t) for n, t in OPTIONAL_COLUMNS.items() if n in table.column_names]
    try:
        table = table.select([f.name for f in fields]).cast(pa.schema(fields))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InputError(f"samples have a column of the wrong type ({exc})") from None
    for name in ("eval_id", "base_task", "params", "outcome", "guess_rate"):
        if table.column(name).null_count:
            raise InputError(f"samples: column '{name}' has empty values")
    bad = pc.invert(pc.is_in(table.column("outcome"), value_set=pa.array(OUTCOMES)))
    if pc.any(bad).as_py():
        first = table.column("outcome").filter(bad)[0].as_py()
        raise InputError(f"samples: outcome {first!r} is not one of {', '.join(OUTCOMES)}")
    for name in ("completion_tokens", "compressed_bytes"):
        low = pc.min(table.column(name)).as_py()
        if low is not None and low < 0:
            raise InputError(f"samples: '{name}' must be ≥ 0 (found {low})")
    g = table.column("guess_rate")
    if len(g) and (pc.min(g).as_py() < 0 or pc.max(g).as_py() > 1):
        raise InputError("samples: 'guess_rate' must lie in [0, 1]")
    return table


def _point_keys(table: pa.Table) -> pa.ChunkedArray:
    return pc.binary_join_element_wise(table["eval_id"], table["base_task"], table["params"], "\x1f")


def _task_params(table: pa.Table) -> dict[str, dict[str, set]]:
    """Distinct values of every param key, per task (from distinct points only)."""
    pairs = table.select(["base_task", "params"]).group_by(["base_task", "params"]).aggregate([])
    out: dict[str, dict[str, set]] = {}
    for task, params in zip(pairs["base_task"].to_pylist(), pairs["params"].to_pylist()):
        keys = out.setdefault(task, {})
        for k, v in json.loads(params).items():
            keys.setdefault(k, set()).add(json.dumps(v))
    return out


def propose_views(tasks: Iterable[TaskMeta], params: dict[str, dict[str, set]]) -> list[ViewMeta]:
    """Every pair of a task's varying params is a 2-D view (spec §6)."""
    views = []
    for task in tasks:
        values = params.get(task.base_task, {})
        varying = [k for k in task.params if len(values.get(k, ())) > 1]
        for a, b in itertools.combinations(varying, 2):
            views.append(ViewMeta(name=f"{task.base_task}: {a} x {b}", base_task=task.base_task,
                                  group_by=(f"params.{a}", f"params.{b}")))
    return views


_Key = TypeVar("_Key")
_Rec = TypeVar("_Rec")


def _merge_records(old: Iterable[_Rec], new: Iterable[_Rec], key: Callable[[_Rec], _Key],
                   combine: Callable[[_Rec, _Rec], _Rec] | None = None) -> tuple[_Rec, ...]:
    """Old records in their order (one the new side also has: replaced, or ``combine(old, new)``), new appended."""
    merged = {key(r): r for r in old}
    for r in new:
        k = key(r)
        merged[k] = combine(merged[k], r) if combine is not None and k in merged else r
    return tuple(merged.values())


def _merge_eval(old: EvalMeta, new: EvalMeta) -> EvalMeta:
    """The new eval, except that what it leaves at the default keeps the old value."""
    default_label = EvalMeta(model=new.model, template=new.template, sampler=new.sampler).label
    return replace(new, label=old.label if new.label == default_label else new.label,
                   groups=new.groups or old.groups,
                   max_tokens=old.max_tokens if new.max_tokens is None else new.max_tokens)


def _merge_task(old: TaskMeta, new: TaskMeta) -> TaskMeta:
    """The new task (its guess rate always wins); a default label or empty params keep the old ones."""
    return replace(new, label=old.label if new.label == new.base_task else new.label,
                   params=new.params or old.params)


def merge_meta(old: DatasetMeta, new: DatasetMeta) -> DatasetMeta:
    """``new`` merged into ``old``: records matched by eval_id, base_task and view name.

    A new record replaces the old one, but fields it leaves at their defaults (an eval's label,
    groups, max_tokens; a task's label, params) keep the old values; the default name and title
    never replace the old ones; provenance keys of ``new`` win.
    """
    return replace(
        old,
        name=new.name if new.name != DEFAULT_NAME else old.name,
        title=new.title if new.title != DEFAULT_NAME else old.title,
        evals=_merge_records(old.evals, new.evals, lambda e: e.eval_id, _merge_eval),
        tasks=_merge_records(old.tasks, new.tasks, lambda t: t.base_task, _merge_task),
        views=_merge_records(old.views, new.views, lambda v: v.name),
        provenance={**old.provenance, **new.provenance},
    )


def finish_meta(meta: DatasetMeta, table: pa.Table) -> DatasetMeta:
    """Tasks get their param keys, tasks without a view get proposed views, evals without samples go."""
    params = _task_params(table)
    known = {t.base_task: t for t in meta.tasks}
    for task in sorted(params):
        entry = known.get(task) or TaskMeta(base_task=task)
        keys = list(entry.params)
        known[task] = replace(entry, params=tuple(keys + sorted(k for k in params[task] if k not in keys)))
    tasks = sorted(known.values(), key=lambda t: t.base_task)
    have_views = {v.base_task for v in meta.views}
    views = list(meta.views) + propose_views([t for t in tasks if t.base_task not in have_views], params)
    eval_ids = set(pc.unique(table["eval_id"]).to_pylist()) if len(table) else set()
    evals = [e for e in meta.evals if e.eval_id in eval_ids]
    unknown = eval_ids - {e.eval_id for e in evals}
    if unknown:
        raise InputError(f"samples name eval_id(s) {listing(sorted(unknown))} that dataset.json does not describe")
    return replace(meta, evals=tuple(sorted(evals, key=lambda e: e.label)), tasks=tuple(tasks), views=tuple(views))


def canonical_order(table: pa.Table) -> pa.Table:
    """Rows grouped by (eval, task) and sorted by tokens inside: the engine's fast layout."""
    keys = [(name, "ascending", "at_end") for name in
            ("eval_id", "base_task", "completion_tokens", "params", "manifold", "outcome")]
    return table.take(pc.sort_indices(table, sort_keys=keys))


def write_dataset(out: str | os.PathLike, meta: DatasetMeta | Mapping[str, Any], samples: pa.Table, *,
                  merge: bool = True) -> WriteSummary:
    """Write (or merge into) the dataset folder ``out``; all or nothing.

    ``meta`` is a :class:`DatasetMeta` or a ``dataset.json``-shaped mapping (normalised by
    ``DatasetMeta.from_json``); merging follows :func:`merge_meta` for the records and replaces
    every point (eval_id, base_task, params) that ``samples`` holds.
    """
    out = Path(out)
    meta = DatasetMeta.from_json(meta)
    new = conform_samples(samples)
    summary = WriteSummary(path=out / "dataset.json", samples=len(new))
    summary.evals = len(pc.unique(new["eval_id"])) if len(new) else 0
    summary.tasks = len(pc.unique(new["base_task"])) if len(new) else 0
    new_points = pc.unique(_point_keys(new)) if len(new) else pa.array([], pa.string())
    summary.points = len(new_points)

    existing = out / "dataset.json"
    table = new
    if merge and existing.is_file():
        old_meta = read_meta(existing)
        old = conform_samples(read_samples(existing, old_meta))
        keep = pc.invert(pc.is_in(_point_keys(old), value_set=new_points))
        summary.replaced_points = len(pc.unique(_point_keys(old.filter(pc.invert(keep))))) if len(old) else 0
        kept = old.filter(keep)
        # Optional columns (text, sample, ...) present on one side only are kept, null on the other.
        columns = new.column_names + [c for c in kept.column_names if c not in new.column_names]
        table = pa.concat_tables([_pad_optional(kept, columns), _pad_optional(new, columns)])
        meta = merge_meta(old_meta, meta)
    meta = finish_meta(meta, table)
    provenance = dict(meta.provenance)
    provenance.setdefault("imported", datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    meta = replace(meta, provenance=provenance)
    table = canonical_order(table)
    summary.total_samples = len(table)
    _commit(out, meta, table)
    return summary


def _pad_optional(table: pa.Table, columns: list[str]) -> pa.Table:
    """Add the missing optional columns as nulls, so a merge never drops e.g. ``text``."""
    for name in columns:
        if name not in table.column_names:
            table = table.append_column(pa.field(name, OPTIONAL_COLUMNS[name]),
                                        pa.nulls(len(table), OPTIONAL_COLUMNS[name]))
    return table.select(columns)


def _commit(out: Path, meta: DatasetMeta, table: pa.Table) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    fresh = not out.exists() or (out.is_dir() and not any(out.iterdir()))
    if fresh:
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; the dataset should not be
        try:
            _write_parquet(table, staging / SAMPLES_FILE)
            _write_json(replace(meta, samples=SAMPLES_FILE), staging / "dataset.json")
            if out.exists():
                out.rmdir()
            os.rename(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return
    if not out.is_dir():
        raise InputError(f"{out} exists and is not a folder")
    old_samples = None
    if (out / "dataset.json").is_file():
        old_samples = read_meta(out / "dataset.json").samples
    # Alternate names so the old file stays valid until the JSON naming the new one lands.
    digest = hashlib.sha256(os.urandom(16)).hexdigest()[:8]
    name = f"samples-{digest}.parquet" if (out / SAMPLES_FILE).exists() else SAMPLES_FILE
    tmp_samples = out / f".{name}.tmp"
    tmp_json = out / ".dataset.json.tmp"
    try:
        _write_parquet(table, tmp_samples)
        _write_json(replace(meta, samples=name), tmp_json)
        os.replace(tmp_samples, out / name)
        os.replace(tmp_json, out / "dataset.json")
    except BaseException:
        for p in (tmp_samples, tmp_json):
            p.unlink(missing_ok=True)
        raise
    if old_samples and old_samples != name:
        (out / old_samples).unlink(missing_ok=True)


def _write_parquet(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, compression="zstd", row_group_size=ROW_GROUP_SIZE,
                   use_dictionary=["eval_id", "base_task", "params", "manifold", "outcome"])
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def _write_json(meta: DatasetMeta, path: Path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(meta.to_json(), fh, indent=1, ensure_ascii=False)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())


__all__ = ["read_meta", "read_samples", "write_dataset", "WriteSummary", "resolve_dataset_path",
           "canonical_json", "propose_views", "conform_samples", "merge_meta", "finish_meta", "normalise_meta"]
