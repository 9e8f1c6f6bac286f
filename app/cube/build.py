"""``analyze.py cube``: a dataset's cube, built by one engine and written beside the dataset.json that declares it.

The output folder gets ``cube-<digest>.parquet`` and a ``dataset.json``: the source's, declaring the cube
(``CubeMeta``) and naming the source samples where the cube's folder reaches them (a path relative to it, an
absolute path or the URL), so the probe can still read a completion's row. Written as every dataset is: the
Parquet under a fresh name first, then the JSON in one rename, so readers see the old dataset or the new one.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from app.cube.spec import FILE_SCHEMA, KEYS, SCHEMA, CubeSpec, pack
from app.engine.cube_format import FILE_METADATA, FORMAT
from app.engine.errors import InputError, listing, one_line
from app.engine.meta import CubeMeta
from app.engine.schema import OUTCOMES
from app.engine.sources import SampleFiles, check_schemas, is_url, sample_files
from app.engine.store import read_meta, resolve_dataset_path, write_json

ENGINES = ("duckdb", "dask")
INSTALL = {"duckdb": "pip install duckdb", "dask": "pip install 'dask[dataframe]' distributed"}


@dataclass
class CubeSummary:
    """What a build did: for the command's report and the benchmark."""

    path: Path
    engine: str
    cells: int = 0
    points: int = 0
    completions: int = 0
    hist_entries: int = 0
    dots: int = 0
    bytes: int = 0
    seconds: float = 0.0


MEMORY = re.compile(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)")


def engine_runner(engine: str, scheduler: str | None = None,
                  memory_limit: str | None = None) -> Callable[[SampleFiles, CubeSpec], Iterable[pa.RecordBatch]]:
    """The build function of ``engine``; a missing package is an InputError saying how to install it."""
    if engine not in ENGINES:
        raise InputError(f"unknown cube engine {engine!r}; engines: {', '.join(ENGINES)}")
    if scheduler and engine != "dask":
        raise InputError("--scheduler names a Dask scheduler: use it with --engine dask")
    if memory_limit is not None and (engine != "duckdb" or not MEMORY.fullmatch(memory_limit)):
        raise InputError(f"--memory-limit bounds DuckDB's memory (--engine duckdb) and takes a size such as 4GB or "
                         f"500MB, not {memory_limit!r}")
    try:
        if engine == "duckdb":
            from app.cube import duck

            def run_duck(files: SampleFiles, spec: CubeSpec) -> Iterable[pa.RecordBatch]:
                return duck.build(files, spec, memory_limit=memory_limit)
            return run_duck
        from app.cube import dask_engine
    except ImportError as exc:
        raise InputError(f"the {engine} cube engine needs {exc.name}: {INSTALL[engine]}") from None

    def run(files: SampleFiles, spec: CubeSpec) -> Iterable[pa.RecordBatch]:
        return dask_engine.build(files, spec, scheduler=scheduler)
    return run


def build_cube(dataset: str | os.PathLike, out: str | os.PathLike, *, engine: str = "duckdb",
               scheduler: str | None = None, spec: CubeSpec | None = None,
               memory_limit: str | None = None) -> CubeSummary:
    """Build the cube of ``dataset`` (a dataset.json or its folder) with ``engine`` into the folder ``out``.

    ``memory_limit`` bounds DuckDB (which spills past it; by default it may take 80% of the machine's memory).
    A cube dataset as ``dataset`` builds again from the samples it names.
    """
    spec = spec or CubeSpec()
    run = engine_runner(engine, scheduler, memory_limit)
    meta_path = resolve_dataset_path(dataset)
    meta = read_meta(meta_path)
    files = sample_files(meta_path, meta.samples)
    check_schemas(files)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    summary = CubeSummary(path=out / "dataset.json", engine=engine)
    t0 = time.perf_counter()
    digest = hashlib.sha256(os.urandom(16)).hexdigest()[:8]
    name = f"cube-{digest}.parquet"
    tmp = out / f".{name}.tmp"
    tmp_json = out / ".dataset.json.tmp"
    known = {e.eval_id for e in meta.evals}
    try:
        try:
            _write(_checked(run(files, spec), known, meta_path, summary), tmp)
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001 - an engine's read or store error: one line, nothing left behind
            raise InputError(f"cube build with {engine} failed on {files.where!r}: {one_line(exc)}") from None
        summary.seconds = time.perf_counter() - t0
        summary.bytes = tmp.stat().st_size
        cube = CubeMeta(file=name, engine=engine, completions=summary.completions, **spec.to_json())
        new_meta = replace(meta, cube=cube, samples=_reach(meta_path, meta.samples, out),
                           texts=_reach(meta_path, meta.texts, out) if meta.texts and len(files.files) == 1 else None)
        write_json(new_meta, tmp_json)
        previous = read_meta(out / "dataset.json").cube if (out / "dataset.json").is_file() else None
        os.replace(tmp, out / name)
        os.replace(tmp_json, out / "dataset.json")
    except BaseException:
        tmp.unlink(missing_ok=True)
        tmp_json.unlink(missing_ok=True)
        raise
    if previous is not None and previous.file != name:
        (out / previous.file).unlink(missing_ok=True)
    return summary


def _reach(meta_path: Path, name: str, out: Path) -> str:
    """``name`` (relative to the source's folder) as the cube's folder reaches it."""
    if is_url(name) or Path(name).is_absolute():
        return name
    return os.path.relpath(meta_path.parent / name, out.resolve()) if out.resolve() != meta_path.parent.resolve() \
        else name


def _checked(batches: Iterable[pa.RecordBatch], known: set[str], where: Path,
             summary: CubeSummary) -> Iterator[pa.RecordBatch]:
    """Each batch cast to the cube schema, its eval ids and outcomes checked, counted into ``summary``."""
    last_point: tuple | None = None
    for batch in batches:
        batch = batch.select(SCHEMA.names).cast(SCHEMA) if batch.schema != SCHEMA else batch
        if not len(batch):
            continue
        evals = set(pc.unique(batch.column("eval_id")).to_pylist())
        if evals - known:
            raise InputError(f"{where}: samples name eval_id(s) {listing(sorted(evals - known))} that dataset.json "
                             "does not describe")
        bad = set(pc.unique(batch.column("outcome")).to_pylist()) - set(OUTCOMES)
        if bad:
            raise InputError(f"{where}: outcome(s) {listing(sorted(map(str, bad)))} are not one of "
                             f"{', '.join(OUTCOMES)}")
        summary.cells += len(batch)
        summary.completions += int(pc.sum(batch.column("count")).as_py())
        summary.hist_entries += len(pc.list_flatten(batch.column("hist_bin")))
        summary.dots += len(pc.list_flatten(batch.column("dots_row")))
        for point in zip(*(batch.column(k).to_pylist() for k in KEYS[:-1])):   # rows come in key order
            summary.points += point != last_point
            last_point = point
        yield batch


def _write(batches: Iterable[pa.RecordBatch], path: Path) -> None:
    """The cube file: lists packed (``spec.pack``), and in the footer what an open allocates up front."""
    writer = pq.ParquetWriter(path, FILE_SCHEMA, compression="zstd", use_dictionary=list(KEYS))
    totals = {"format": FORMAT, "rows": 0, "hist_entries": 0, "dots": 0, "max_bin": 0, "max_count": 0}
    try:
        for batch in batches:
            totals["rows"] += len(batch)
            totals["hist_entries"] += len(pc.list_flatten(batch.column("hist_bin")))
            totals["dots"] += len(pc.list_flatten(batch.column("dots_row")))
            for key, name in (("max_bin", "hist_bin"), ("max_count", "hist_count")):
                top = pc.max(pc.list_flatten(batch.column(name))).as_py()
                totals[key] = max(totals[key], top or 0)
            writer.write_batch(pack(batch), row_group_size=1 << 20)
        writer.add_key_value_metadata({FILE_METADATA: json.dumps(totals).encode()})
    finally:
        writer.close()
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


__all__ = ["build_cube", "CubeSummary", "ENGINES", "engine_runner"]
