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

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from app.engine import integrity, leftovers, texts
from app.engine.errors import InputError, listing, one_line
from app.engine.meta import DEFAULT_NAME, SAMPLES_FILE, TEXTS_FILE, DatasetMeta, EvalMeta, TaskMeta, ViewMeta
from app.engine.schema import (
    OPTIONAL_COLUMNS,
    OUTCOMES,
    REQUIRED_COLUMNS,
    SAMPLES_SCHEMA,
    canonical_json,
    column_type_problem,
)
from app.engine.texts import TextReader

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
                 dictionary: Iterable[str] = (), exclude: Iterable[str] = ()) -> pa.Table:
    """Read the samples Parquet named by ``meta``, its public columns in their public types.

    ``exclude`` leaves columns out of a read of all columns (an older file's ``text``, say).
    A missing, truncated or corrupt file, a missing column, or a column whose type cannot hold its
    values is an InputError naming the file, the column, its type and the expected one, so every
    command that opens a dataset says what is wrong in one line. Compatible types (see
    ``schema.column_type_problem``: wider integers, float32 ``guess_rate`` of older files,
    large or dictionary-encoded strings) are read and cast to the public ones.
    """
    path = meta_path.parent / meta.samples
    if not path.resolve().is_relative_to(meta_path.parent.resolve()):
        raise InputError(f"{meta_path}: samples file {meta.samples!r} lies outside the dataset folder")
    parts = partition_files(path)
    tables = [_read_one(part, columns, dictionary, exclude) for part in parts]
    if len(tables) == 1:
        return tables[0]
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InputError(f"{path}: its files do not share their columns ({one_line(exc)})") from None


PARTITIONS_DIR = "samples"  # a partitioned dataset's samples folder (then samples-<digest> after each write)
PARTITION_FILE = "part-{:05d}.parquet"  # its files, in row order (one per eval, by eval id)


def partition_files(path: Path) -> list[Path]:
    """The Parquet files of a samples path: the file itself, or a partitioned folder's files in row order."""
    if not path.is_dir():
        return [path]
    files = sorted(path.glob("*.parquet"))
    if not files:
        raise InputError(f"{path}: a samples folder without Parquet files")
    return files


def _read_one(path: Path, columns: Iterable[str] | None, dictionary: Iterable[str],
              exclude: Iterable[str]) -> pa.Table:
    try:
        schema = pq.read_schema(path)
        check_schema(path, schema, columns)
        exclude = set(exclude)
        if columns is None and exclude & set(schema.names):
            columns = [c for c in schema.names if c not in exclude]
        table = pq.read_table(path, columns=list(columns) if columns else None,
                              read_dictionary=[c for c in dictionary if c in schema.names] or None)
    except InputError:
        raise
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{path}: cannot read samples ({one_line(exc)})") from None
    return _public_types(table, path)


def check_schema(path: Path | str, schema: pa.Schema, columns: Iterable[str] | None = None) -> None:
    """The columns to be read (None: every required one) are there, in types that can hold their values."""
    missing = [c for c in (columns or REQUIRED_COLUMNS) if c not in schema.names]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}; required: {', '.join(REQUIRED_COLUMNS)}")
    _check_types(path, schema, columns)


def _check_types(path: Path | str, schema: pa.Schema, columns: Iterable[str] | None) -> None:
    """Every public column to be read has a type that can hold its values, or an InputError names the first."""
    read = REQUIRED_COLUMNS if columns is None else [c for c in columns if c in REQUIRED_COLUMNS]
    problems = [p for p in (column_type_problem(c, schema.field(c).type) for c in read if c in schema.names) if p]
    if problems:
        more = f" (and {len(problems) - 1} more column(s) of a wrong type)" if len(problems) > 1 else ""
        raise InputError(f"{path}: {problems[0]}{more}")


def _public_types(table: pa.Table, path: Path) -> pa.Table:
    """The public columns read, cast to their public types (dictionary-encoded strings stay encoded).

    Integers are cast safely (a value beyond int32 is an InputError naming the range found), and
    non-nullable columns must have no nulls: a null eval_id or outcome would otherwise be read as
    some other eval or outcome.
    """
    for want in SAMPLES_SCHEMA:
        if want.name not in table.column_names:
            continue
        index = table.schema.get_field_index(want.name)
        column = table.column(index)
        if not want.nullable and column.null_count:
            raise InputError(f"{path}: column '{want.name}' has {column.null_count:,} empty value(s); "
                             "every sample needs one")
        found = column.type
        if found == want.type or (pa.types.is_dictionary(found) and found.value_type == want.type):
            continue
        target = pa.dictionary(pa.int32(), want.type) if pa.types.is_dictionary(found) else want.type
        try:
            column = column.cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            low, high = pc.min(column).as_py(), pc.max(column).as_py()
            raise InputError(f"{path}: column '{want.name}' holds values from {low} to {high}, "
                             f"beyond {want.type}") from None
        table = table.set_column(index, pa.field(want.name, target, nullable=want.nullable), column)
    return table


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
    leftovers: list[str] = field(default_factory=list)  # what killed imports had left, removed first


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


def _task_points(table: pa.Table) -> dict[str, list[dict[str, Any]]]:
    """The params of every distinct point, per task."""
    pairs = table.select(["base_task", "params"]).group_by(["base_task", "params"]).aggregate([])
    out: dict[str, list[dict[str, Any]]] = {}
    for task, params in zip(pairs["base_task"].to_pylist(), pairs["params"].to_pylist()):
        out.setdefault(task, []).append(json.loads(params))
    return out


# A param "<key>_bin" beside "<key>" holds the bin of <key>'s value (app.importers.binning writes them).
BIN_SUFFIX = "_bin"


def propose_views(tasks: Iterable[TaskMeta], points: Mapping[str, Iterable[Mapping[str, Any]]]) -> list[ViewMeta]:
    """Every pair of a task's varying params is a 2-D view (spec §6), except what would not draw a surface.

    ``points`` holds the params of each task's distinct points. Two rules from the general case:
    a pair where one param's value fixes the other's (every value of one seen with a single value
    of the other: easy runs at 2 digits, hard at 5) puts its cells on a line, not a grid, so it is
    no view; and a param binned for surfaces (``<key>_bin`` beside ``<key>``) takes part through
    its bins, its raw values (too many to draw as columns) staying a filter.
    """
    views = []
    for task in tasks:
        rows = [{k: json.dumps(v) for k, v in p.items()} for p in points.get(task.base_task, ())]
        keys = [k for k in task.params if k + BIN_SUFFIX not in task.params]
        varying = [k for k in keys if len({r.get(k) for r in rows}) > 1]
        for a, b in itertools.combinations(varying, 2):
            if _fixes(rows, a, b) or _fixes(rows, b, a):
                continue
            views.append(ViewMeta(name=f"{task.base_task}: {a} x {b}", base_task=task.base_task,
                                  group_by=(f"params.{a}", f"params.{b}")))
    return views


def _fixes(rows: list[dict[str, str]], a: str, b: str) -> bool:
    """Every value of param ``a`` comes with a single value of ``b``."""
    partners: dict[str | None, set[str | None]] = {}
    for r in rows:
        partners.setdefault(r.get(a), set()).add(r.get(b))
    return all(len(seen) == 1 for seen in partners.values())


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
    points = _task_points(table)
    known = {t.base_task: t for t in meta.tasks}
    for task in sorted(points):
        entry = known.get(task) or TaskMeta(base_task=task)
        keys = list(entry.params)
        found = {k for p in points[task] for k in p}
        known[task] = replace(entry, params=tuple(keys + sorted(k for k in found if k not in keys)))
    tasks = sorted(known.values(), key=lambda t: t.base_task)
    have_views = {v.base_task for v in meta.views}
    views = list(meta.views) + propose_views([t for t in tasks if t.base_task not in have_views], points)
    eval_ids = set(pc.unique(table["eval_id"]).to_pylist()) if len(table) else set()
    evals = [e for e in meta.evals if e.eval_id in eval_ids]
    unknown = eval_ids - {e.eval_id for e in evals}
    if unknown:
        raise InputError(f"samples name eval_id(s) {listing(sorted(unknown))} that dataset.json does not describe")
    return replace(meta, evals=tuple(sorted(evals, key=lambda e: e.label)), tasks=tuple(tasks), views=tuple(views))


def canonical_indices(table: pa.Table) -> pa.Array:
    """The row order of :func:`canonical_order` (stable: equal rows keep their order)."""
    keys = [(name, "ascending", "at_end") for name in
            ("eval_id", "base_task", "completion_tokens", "params", "manifold", "outcome")]
    return pc.sort_indices(table, sort_keys=keys)


def canonical_order(table: pa.Table) -> pa.Table:
    """Rows grouped by (eval, task) and sorted by tokens inside: the engine's fast layout."""
    return table.take(canonical_indices(table))


def write_dataset(out: str | os.PathLike, meta: DatasetMeta | Mapping[str, Any], samples: pa.Table, *,
                  merge: bool = True, partition: bool | None = None) -> WriteSummary:
    """Write (or merge into) the dataset folder ``out``; all or nothing.

    ``partition``: write the samples as a folder of Parquet files, one per eval (what a cube build on a
    cluster reads in parallel; the engine reads them as one table); None keeps what the target has.

    ``meta`` is a :class:`DatasetMeta` or a ``dataset.json``-shaped mapping (normalised by
    ``DatasetMeta.from_json``); merging follows :func:`merge_meta` for the records and replaces
    every point (eval_id, base_task, params) that ``samples`` holds.

    A ``text`` column goes to the texts file (``app.engine.texts``), not into samples.parquet:
    ``text_source[i]`` follows each written row to its text (``-1 - i`` for row ``i`` of ``samples``,
    else the row of the dataset merged into), so texts stay aligned however rows are merged and sorted.
    """
    out = Path(out)
    meta = DatasetMeta.from_json(meta)
    new = conform_samples(samples)
    integrity.check_names(meta, new)
    integrity.check_eval_ids(meta.evals)
    new_text = new["text"] if "text" in new.column_names else None
    if new_text is not None:
        new = new.drop_columns(["text"])
    text_source = -1 - np.arange(len(new), dtype=np.int64)
    old_texts: TextReader | None = None
    summary = WriteSummary(path=out / "dataset.json", samples=len(new))
    summary.evals = len(pc.unique(new["eval_id"])) if len(new) else 0
    summary.tasks = len(pc.unique(new["base_task"])) if len(new) else 0
    new_points = pc.unique(_point_keys(new)) if len(new) else pa.array([], pa.string())
    summary.points = len(new_points)

    existing = out / "dataset.json"
    table = new
    if partition is None:   # keep the target's form
        partition = merge and existing.is_file() and (out / read_meta(existing).samples).is_dir()
    if merge and existing.is_file():
        old_meta = read_meta(existing)
        old = conform_samples(read_samples(existing, old_meta, exclude=("text",)))
        old_texts = texts.text_source(existing, old_meta)
        keep = pc.invert(pc.is_in(_point_keys(old), value_set=new_points))
        summary.replaced_points = len(pc.unique(_point_keys(old.filter(pc.invert(keep))))) if len(old) else 0
        kept = old.filter(keep)
        text_source = np.concatenate([np.flatnonzero(keep.to_numpy(zero_copy_only=False)), text_source])
        # Optional columns (sample, output_bytes, ...) present on one side only are kept, null on the other.
        columns = new.column_names + [c for c in kept.column_names if c not in new.column_names]
        table = pa.concat_tables([_pad_optional(kept, columns), _pad_optional(new, columns)])
        integrity.check_eval_ids(meta.evals, old_meta.evals)  # before merge_meta matches evals by id
        meta = merge_meta(old_meta, meta)
    meta = finish_meta(meta, table)
    provenance = dict(meta.provenance)
    provenance.setdefault("imported", datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    meta = replace(meta, provenance=provenance)
    order = canonical_indices(table)
    table = table.take(order)
    text_source = text_source[order.to_numpy()]
    summary.total_samples = len(table)
    write_texts = None
    if new_text is not None or old_texts is not None:
        def write_texts(path: Path) -> int:
            return texts.write_texts(path, text_source, new_text, old_texts)
    with leftovers.writing(out) as removed:
        summary.leftovers = removed
        _commit(out, meta, table, write_texts, partition)
    return summary


def _pad_optional(table: pa.Table, columns: list[str]) -> pa.Table:
    """Add the missing optional columns as nulls, so a merge never drops e.g. ``sample``."""
    for name in columns:
        if name not in table.column_names:
            table = table.append_column(pa.field(name, OPTIONAL_COLUMNS[name]),
                                        pa.nulls(len(table), OPTIONAL_COLUMNS[name]))
    return table.select(columns)


def _commit(out: Path, meta: DatasetMeta, table: pa.Table,
            write_texts: Callable[[Path], int] | None = None, partition: bool = False) -> None:
    """Write samples (and texts, when ``write_texts`` writes any) and then the dataset.json naming them.

    Partitioned samples are a folder (``samples``, then ``samples-<digest>``) swapped in as a file is.
    """
    first = PARTITIONS_DIR if partition else SAMPLES_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    fresh = not out.exists() or (out.is_dir() and not any(out.iterdir()))
    if fresh:
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; the dataset should not be
        try:
            _write_samples(table, staging / first, partition)
            has_texts = write_texts is not None and write_texts(staging / TEXTS_FILE) > 0
            write_json(replace(meta, samples=first, texts=TEXTS_FILE if has_texts else None),
                        staging / "dataset.json")
            if out.exists():
                out.rmdir()
            os.rename(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return
    if not out.is_dir():
        raise InputError(f"{out} exists and is not a folder")
    old_samples = old_texts = None
    if (out / "dataset.json").is_file():
        previous = read_meta(out / "dataset.json")
        old_samples, old_texts = previous.samples, previous.texts
    # Alternate names so the old file stays valid until the JSON naming the new one lands.
    digest = hashlib.sha256(os.urandom(16)).hexdigest()[:8]
    name = first if not (out / first).exists() else f"samples-{digest}" + ("" if partition else ".parquet")
    tmp_samples = out / f".{name}.tmp"
    texts_name = f"texts-{digest}.parquet" if (out / TEXTS_FILE).exists() else TEXTS_FILE
    tmp_texts = out / f".{texts_name}.tmp"
    tmp_json = out / ".dataset.json.tmp"
    try:
        _write_samples(table, tmp_samples, partition)
        has_texts = write_texts is not None and write_texts(tmp_texts) > 0
        write_json(replace(meta, samples=name, texts=texts_name if has_texts else None), tmp_json)
        os.replace(tmp_samples, out / name)
        if has_texts:
            os.replace(tmp_texts, out / texts_name)
        os.replace(tmp_json, out / "dataset.json")
    except BaseException:
        for p in (tmp_samples, tmp_texts, tmp_json):
            _remove(p)
        raise
    if old_samples and old_samples != name:
        _remove(out / old_samples)
    if old_texts and old_texts != (texts_name if has_texts else None):
        (out / old_texts).unlink(missing_ok=True)


def _remove(path: Path) -> None:
    """A samples file or partitioned folder (or a temp one), if there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _write_samples(table: pa.Table, path: Path, partition: bool) -> None:
    """One Parquet file, or a folder of one per eval in row order (the table is in canonical order)."""
    if not partition:
        _write_parquet(table, path)
        return
    path.mkdir()
    codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in
                            table.column("eval_id").dictionary_encode().unify_dictionaries().chunks] or [np.zeros(0)])
    starts = np.flatnonzero(np.concatenate([[True], codes[1:] != codes[:-1]])) if len(codes) else np.zeros(0, int)
    ends = np.append(starts[1:], len(codes))
    for i, (start, end) in enumerate(zip(starts.tolist(), ends.tolist())):
        _write_parquet(table.slice(start, end - start), path / PARTITION_FILE.format(i))


def _write_parquet(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, compression="zstd", row_group_size=ROW_GROUP_SIZE,
                   use_dictionary=["eval_id", "base_task", "params", "manifold", "outcome"])
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def write_json(meta: DatasetMeta, path: Path) -> None:
    """``dataset.json`` as every writer writes it: indented, UTF-8, flushed to disk before the rename."""
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(meta.to_json(), fh, indent=1, ensure_ascii=False)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())


__all__ = ["read_meta", "read_samples", "write_dataset", "WriteSummary", "resolve_dataset_path",
           "canonical_json", "canonical_order", "canonical_indices",
           "propose_views", "conform_samples", "merge_meta", "finish_meta", "normalise_meta"]
