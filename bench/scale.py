"""``python -m bench.scale --make``: the benchmark's scale column, r12 × 10 (≈ 88 M completions, 640 evals).

The cube exists so a worker can serve a dataset too big to open in memory; r12 (8.8 M rows) still opens, so the
benchmark needs a dataset ten times bigger, written the way such data arrives: partitioned Parquet, one file per
eval, read by DuckDB or Dask without ever being whole. ``write_scaled`` makes it from a base dataset: each copy
``k`` of each base eval is a new eval (model ``"<model> #k"``, its own eval_id), and its completions are a seeded
per-point bootstrap of the base eval's rows (every row of a point is drawn with replacement from that point's
rows), so each copy differs from the base and from the other copies while every row stays valid (a real
outcome/tokens/bytes/guess-rate combination of its own point) and each point keeps its size and, in
expectation, its distribution.

``plain_scan_seconds`` and ``timed_build`` are the two sides of the comparison: DuckDB's plain GROUP BY over the
files (the same shape of work as the cube's cells) against a whole cube build (``app.cube.build.build_cube``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from app.cube.build import CubeSummary, build_cube
from app.engine.errors import InputError
from app.engine.integrity import check_eval_ids
from app.engine.meta import DatasetMeta, EvalMeta
from app.engine.schema import SAMPLES_SCHEMA, eval_id
from app.engine.sources import sample_files
from app.engine.store import read_meta, resolve_dataset_path

SEED = 20_261_203
ROW_GROUP_ROWS = 1 << 20
SAMPLES_DIR = "samples"
POINT_COLUMNS = ("base_task", "params", "manifold")
DICT_COLUMNS = ("eval_id", "base_task", "params", "manifold", "outcome")
DISK_MARGIN = 3.0  # a resampled copy compresses a little worse than its sorted base: room for that and more


# ----------------------------------------------------------------------------------------------- the writer
def copy_eval(base: EvalMeta, k: int) -> EvalMeta:
    """Copy ``k`` of ``base``: model ``"<model> #k"``, so its eval_id (spec §2) and label are new too."""
    model = f"{base.model} #{k}"
    label = model + base.label[len(base.model):] if base.label.startswith(base.model) else f"{base.label} #{k}"
    return replace(base, model=model, eval_id=eval_id(model, base.template, base.sampler), label=label,
                   groups=tuple(base.groups) + (f"copy:{k}",))


def scaled_meta(meta: DatasetMeta, base: Path, copies: int, seed: int) -> DatasetMeta:
    """The scaled dataset.json: ``copies`` × the base's evals (copy-major), same tasks and views."""
    evals = tuple(copy_eval(e, k) for k in range(1, copies + 1) for e in meta.evals)
    ids = [e.eval_id for e in evals] + [e.eval_id for e in meta.evals]
    if len(set(ids)) != len(ids):
        raise InputError("eval_id collision among the copies (6 hex digits); choose another --copies")
    check_eval_ids(evals)
    provenance = dict(meta.provenance) | {"scaled": {"base": str(base), "copies": copies, "seed": seed,
                                                     "method": "per-point bootstrap of the base eval's rows"}}
    return replace(meta, name=f"{meta.name}-x{copies}", title=f"{meta.title} ×{copies} (resampled copies)",
                   samples=SAMPLES_DIR, evals=evals, provenance=provenance, texts=None, cube=None)


def read_base(meta_path: Path, samples: str) -> pa.Table:
    """The base's rows with the string keys dictionary-encoded (r12: ~320 MB), one chunk per column."""
    files = sample_files(meta_path, samples)
    fs = files.arrow_fs()
    tables = [pq.read_table(f, filesystem=fs, read_dictionary=list(DICT_COLUMNS)) for f in files.files]
    table = pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]
    return table.unify_dictionaries().combine_chunks()


def codes(table: pa.Table, column: str) -> np.ndarray:
    """The dictionary indices of ``column`` as int64, null as -1 (a null manifold is a point key of its own)."""
    arr = table.column(column).chunk(0) if table.column(column).num_chunks else pa.array([], pa.int32())
    if not pa.types.is_dictionary(arr.type):
        arr = pc.dictionary_encode(arr)
    return np.asarray(pc.fill_null(arr.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


def eval_rows(table: pa.Table) -> dict[str, np.ndarray]:
    """Each eval id's row indices in the base, in base order."""
    ev = codes(table, "eval_id")
    order = np.argsort(ev, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(ev, minlength=len(table.column("eval_id").chunk(0)
                                                                             .dictionary)))])
    names = table.column("eval_id").chunk(0).dictionary.to_pylist()
    return {name: order[bounds[i]:bounds[i + 1]] for i, name in enumerate(names) if bounds[i + 1] > bounds[i]}


def by_point(rows: np.ndarray, keys: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``rows`` grouped by point (stable: base order within a point), with each row's point start and size."""
    sub = [k[rows] for k in keys]
    perm = np.lexsort(sub[::-1])  # last key is the primary one for lexsort
    rows = rows[perm]
    sub = [s[perm] for s in sub]
    change = np.ones(len(rows), dtype=bool)
    change[1:] = np.any([s[1:] != s[:-1] for s in sub], axis=0)
    starts = np.flatnonzero(change)
    sizes = np.diff(np.append(starts, len(rows)))
    point = np.cumsum(change) - 1
    return rows, starts[point], sizes[point]


def resample(rows: np.ndarray, start: np.ndarray, size: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each row replaced by a random row of its own point (with replacement), kept in point then base order."""
    pick = start + np.minimum((rng.random(len(rows)) * size).astype(np.int64), size - 1)
    return rows[np.sort(pick)]


def eval_table(base: pa.Table, rows: np.ndarray, new_id: str) -> pa.Table:
    """The base rows ``rows`` as the eval ``new_id``, plain (not dictionary) strings as in the samples schema."""
    part = base.take(pa.array(rows))
    part = part.set_column(part.schema.get_field_index("eval_id"), "eval_id",
                           pa.DictionaryArray.from_arrays(pa.array(np.zeros(len(rows), np.int32)),
                                                          pa.array([new_id])))
    schema = pa.schema([SAMPLES_SCHEMA.field(n) if n in SAMPLES_SCHEMA.names else f.with_type(
        f.type.value_type if pa.types.is_dictionary(f.type) else f.type) for n, f in zip(part.column_names,
                                                                                         part.schema)])
    return part.cast(schema)


def check_disk(base_files: list[str], parent: Path, copies: int) -> None:
    """Refuse to start when the folder's disk cannot hold ``copies`` × the base samples (with a margin)."""
    need = int(sum(os.path.getsize(f) for f in base_files) * copies * DISK_MARGIN)
    free = shutil.disk_usage(parent).free
    if free < need:
        raise InputError(f"{parent}: {free / 1e9:.1f} GB free, need about {need / 1e9:.1f} GB")


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def write_scaled(out: Path, base: Path = Path("r12"), copies: int = 10, seed: int = SEED) -> Path:
    """Write ``copies`` resampled copies of ``base`` into the dataset folder ``out`` (one Parquet file per eval).

    Streams per eval (the base is held once, each written eval is one base eval's rows), into a staging folder
    renamed to ``out`` at the end, so ``out`` is either the old dataset or the whole new one.
    """
    out = Path(out)
    meta_path = resolve_dataset_path(base)
    meta = read_meta(meta_path)
    if meta.cube is not None or meta.samples is None:
        raise InputError(f"{meta_path}: scale a dataset with samples, not a cube")
    new_meta = scaled_meta(meta, base, copies, seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    files = sample_files(meta_path, meta.samples)
    check_disk(list(files.files) if files.local else [], out.parent, copies)
    staging = out.parent / f".{out.name}.staging"
    shutil.rmtree(staging, ignore_errors=True)  # a previous run's leftover: ours by name
    (staging / SAMPLES_DIR).mkdir(parents=True)
    try:
        _write_copies(meta, meta_path, staging, copies, seed)
        with open(staging / "dataset.json", "w", encoding="utf-8") as fh:
            json.dump(new_meta.to_json(), fh, indent=1, ensure_ascii=False)
            fh.write("\n")
        read_meta(staging / "dataset.json")  # what readers will parse
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _swap(staging, out)
    return out / "dataset.json"


def _write_copies(meta: DatasetMeta, meta_path: Path, staging: Path, copies: int, seed: int) -> None:
    """One Parquet file per (copy, base eval) in ``staging/samples``; the base is read once, held once."""
    table = read_base(meta_path, meta.samples)
    rows_of = eval_rows(table)
    unknown = sorted(set(rows_of) - {e.eval_id for e in meta.evals})
    if unknown:
        raise InputError(f"{meta_path}: samples name eval_id(s) {unknown[:5]} that dataset.json does not describe")
    keys = [codes(table, c) for c in POINT_COLUMNS]
    grouped = {e.eval_id: by_point(rows_of[e.eval_id], keys) for e in meta.evals if e.eval_id in rows_of}
    del keys, rows_of
    for k in range(1, copies + 1):
        for i, e in enumerate(meta.evals):
            if e.eval_id not in grouped:
                continue
            rng = np.random.default_rng([seed, k, i])
            new = copy_eval(e, k).eval_id
            part = eval_table(table, resample(*grouped[e.eval_id], rng), new)
            pq.write_table(part, staging / SAMPLES_DIR / f"{new}.parquet", compression="zstd",
                           row_group_size=ROW_GROUP_ROWS)


def _swap(staging: Path, out: Path) -> None:
    """``staging`` becomes ``out``; an older ``out`` is moved aside first and removed after."""
    old = out.parent / f".{out.name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        os.replace(out, old)
    os.replace(staging, out)
    shutil.rmtree(old, ignore_errors=True)


# ------------------------------------------------------------------------------------------- the measurements
def plain_scan_sql(samples_glob: str) -> str:
    """The cells' shape of work without the cube: count and token sum per (point, outcome)."""
    glob = samples_glob.replace("'", "''")
    return f"""
SELECT eval_id, base_task, params, manifold, outcome, count(*) AS n, sum(completion_tokens) AS tokens
FROM read_parquet('{glob}', hive_partitioning = false) GROUP BY ALL"""


def samples_glob(dataset: str | os.PathLike) -> str:
    """The local path or glob DuckDB reads for ``dataset``'s samples (a folder becomes ``folder/**/*.parquet``)."""
    meta_path = resolve_dataset_path(dataset)
    samples = read_meta(meta_path).samples
    path = Path(samples) if Path(samples).is_absolute() else meta_path.parent / samples
    return str(path / "**" / "*.parquet") if path.is_dir() else str(path)


def plain_scan_seconds(samples_glob: str, repeat: int = 3) -> float:
    """DuckDB's plain GROUP BY over the files, result fetched whole: median seconds of ``repeat`` runs."""
    import duckdb

    times = []
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar = false")
        for _ in range(repeat):
            t0 = time.perf_counter()
            con.sql(plain_scan_sql(samples_glob)).to_arrow_table()
            times.append(time.perf_counter() - t0)
    finally:
        con.close()
    return statistics.median(times)


def timed_build(dataset: str | os.PathLike, engine: str) -> tuple[float, CubeSummary]:
    """Wall seconds of one cube build of ``dataset`` with ``engine`` into a temporary folder, and its summary.

    For Dask the build starts its own LocalCluster (2 workers) and the time includes that.
    """
    with tempfile.TemporaryDirectory(prefix="bench-cube-") as tmp:
        t0 = time.perf_counter()
        summary = build_cube(dataset, tmp, engine=engine)
        return time.perf_counter() - t0, summary


# ---------------------------------------------------------------------------------------------------- the CLI
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n\n")[0])
    p.add_argument("--make", action="store_true", help="write the scaled dataset")
    p.add_argument("--base", type=Path, default=Path("r12"), help="the dataset to copy (default r12)")
    p.add_argument("--out", type=Path, default=Path("r12x10"), help="the folder to write (default r12x10)")
    p.add_argument("--copies", type=int, default=10)
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--scan", action="store_true", help="time DuckDB's plain scan of --out's samples")
    p.add_argument("--build", action="append", default=[], metavar="ENGINE",
                   help="time a cube build of --out with ENGINE (duckdb, dask); repeatable")
    args = p.parse_args(argv)
    try:
        return _run(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.make:
        t0 = time.perf_counter()
        path = write_scaled(args.out, args.base, args.copies, args.seed)
        print(f"{path}: {folder_bytes(args.out) / 1e6:,.0f} MB in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    if args.scan:
        glob = samples_glob(args.out)
        print(f"plain scan {glob}: {plain_scan_seconds(glob):.2f} s (median of 3)")
    for engine in args.build:
        seconds, summary = timed_build(args.out, engine)
        print(f"cube build {engine}: {seconds:.2f} s; {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
