"""The benchmark's "Scale" section: a cube at r12 beside the in-memory engine, and a cube of r12 × 10.

At r12 the cube must give the in-memory engine's numbers (counts, accuracy, center, margin, CIF, at_risk at
bucket 256: the largest difference is reported, 0 being exact) with token quantiles within half a grid step,
answer the spec's four queries no slower, and peak at most 0.4× the in-memory process. At r12 × 10 (88 M
completions, one Parquet file per eval: ``bench.scale``) it is built by DuckDB and by Dask (a LocalCluster of 2
workers) beside DuckDB's plain scan of the same files, and a worker serving it must open in under 2 s and peak
under 1 GB while every query stays no slower than the in-memory engine's at r12.
"""

from __future__ import annotations

import importlib.util
import re
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from app.engine import Dataset
from bench import scale

EXACT = ("samples", "correct", "incorrect", "invalid", "truncated", "accuracy", "center", "margin", "lower", "upper",
         "truncation_rate", "invalid_rate", "tokens_mean")
HAZARD_EXACT = ("at_risk", "events_correct", "events_incorrect", "events_truncated", "cif_correct",
                "cif_incorrect", "cif_truncated", "hazard_failure")


def section(r12: Path, scaled: Path | None, runs: int, seed: int) -> list[str]:
    """The section's markdown lines (builds the cubes in temporary folders, measures, compares)."""
    with tempfile.TemporaryDirectory(prefix="bench-cube-") as tmp:
        cube_dir = Path(tmp) / "r12-cube"
        built = cli_build(r12, cube_dir)
        ds, cube = Dataset.open(r12), Dataset.open(cube_dir)
        diffs = agreement(ds, cube)
        name = r12.name
        timed = {f"in-memory {name}": ds, f"cube {name}": cube}
        peak_mem, peak_cube = (worker(p, runs, seed) for p in (r12 / "dataset.json", cube_dir / "dataset.json"))
        lines = ["## Scale: the cube", "",
                 f"A cube of {name} built by DuckDB in {built.seconds:.1f} s: {built.cells:,} cells, "
                 f"{built.hist_entries:,} histogram entries, {built.dots:,} dots, {built.bytes / 1e6:.1f} MB.", "",
                 f"Agreement with the in-memory engine at {name} (largest absolute difference; 0 is exact):", "",
                 "| what | largest difference |", "|---|---:|"]
        lines += [f"| {name} | {value:.3g} |" for name, value in diffs.items()]
        if scaled is not None:
            scaled_lines, scaled_child = scaled_part(scaled, runs, seed, timed)
        times = query_times(timed, runs, seed)
        lines += ["", "Queries (ms, medians of runs on different eval subsets; the datasets timed in turn in one "
                  "process, each query run once before timing, as a worker that has served it before):", "",
                  "| query | " + " | ".join(times) + " |", "|---|" + "---:|" * len(times)]
        for query in next(iter(times.values())):
            lines.append(f"| {query} | " + " | ".join(f"{t[query]:.1f}" for t in times.values()) + " |")
        lines += ["", "| worker (open + the four queries; 3 fresh processes) | open s, median | open s, first "
                  "start | peak MB, largest |", "|---|---:|---:|---:|",
                  f"| in-memory {name} | {peak_mem['open_s']:.2f} | {peak_mem['first_open_s']:.2f} | "
                  f"{peak_mem['peak_mb']:.0f} |",
                  f"| cube {name} | {peak_cube['open_s']:.2f} | {peak_cube['first_open_s']:.2f} | "
                  f"{peak_cube['peak_mb']:.0f} ({peak_cube['peak_mb'] / peak_mem['peak_mb']:.2f}× in-memory; "
                  "target ≤ 0.4×) |"]
        if scaled is not None:
            lines += [f"| cube {scaled.name} | {scaled_child['open_s']:.2f} (target < 2) | "
                      f"{scaled_child['first_open_s']:.2f} | {scaled_child['peak_mb']:.0f} (target < 1,000) |", "",
                      *scaled_lines]
    return lines


def scaled_part(scaled: Path, runs: int, seed: int, timed: dict[str, Dataset]) -> tuple[list[str], dict[str, float]]:
    """Build r12 × 10's cube with both engines beside DuckDB's plain scan; size the served cube and measure
    its worker; the cube is opened into ``timed`` for the query table.
    """
    scan = scale.plain_scan_seconds(str(scaled / scale.SAMPLES_DIR / "*.parquet"))
    with tempfile.TemporaryDirectory(prefix="bench-cube-x10-") as tmp:
        out = Path(tmp) / "cube"
        duck = cli_build(scaled, out)
        dask_s = None if importlib.util.find_spec("distributed") is None else \
            cli_build(scaled, Path(tmp) / "dask", "dask").seconds
        child = worker(out / "dataset.json", runs, seed)
        timed[f"cube {scaled.name}"] = Dataset.open(out)
    n_files = len(list((scaled / scale.SAMPLES_DIR).glob("*.parquet")))
    lines = [f"{scaled.name}: {duck.completions:,} completions in {n_files} Parquet files; cube: {duck.cells:,} cells, "
             f"{duck.hist_entries:,} histogram entries, {duck.dots:,} "
             f"dots, {duck.bytes / 1e6:.0f} MB.", "",
             f"| build of {scaled.name} | seconds | / DuckDB plain scan |", "|---|---:|---:|",
             f"| DuckDB plain scan (GROUP BY point, outcome: count, token sum) | {scan:.1f} | 1.00 |",
             f"| cube, DuckDB | {duck.seconds:.1f} | {duck.seconds / scan:.1f} |",
             f"| cube, Dask (LocalCluster, 2 workers) | {_seconds(dask_s)} | "
             f"{'' if dask_s is None else f'{dask_s / scan:.1f}'} |"]
    return lines, child


def worker(meta_path: Path, runs: int, seed: int, starts: int = 3) -> dict[str, float]:
    """A worker's open time and peak memory, each in a fresh process (open + the four queries), ``starts``
    times: the median open (the first start may read the file from disk, the later ones from the page cache:
    ``first_open_s``) and the largest peak.
    """
    from bench.__main__ import child_run

    seen = [child_run(meta_path, runs, seed) for _ in range(starts)]
    return {"open_s": statistics.median(s["open_s"] for s in seen), "first_open_s": seen[0]["open_s"],
            "peak_mb": max(s["peak_mb"] for s in seen)}


@dataclass
class Built:
    """What ``analyze.py cube`` reported of a build."""

    seconds: float
    completions: int
    points: int
    cells: int
    hist_entries: int
    dots: int
    bytes: float


SUMMARY = re.compile(r"cube \((\w+), ([\d.]+) s\): ([\d,]+) completions in ([\d,]+) points and ([\d,]+) cells; "
                     r"([\d,]+) histogram entries, ([\d,]+) dots; ([\d.]+) MB")


def cli_build(dataset: Path, out: Path, engine: str = "duckdb") -> Built:
    """Build with ``analyze.py cube`` in its own process, as a user does: its memory (DuckDB may take most of
    the machine's) is the system's again before anything else is measured.
    """
    done = subprocess.run([sys.executable, "analyze.py", "cube", str(dataset), "--out", str(out), "--engine", engine],
                          capture_output=True, text=True)
    found = SUMMARY.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"analyze.py cube failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    seconds, completions, points, cells, entries, dots, mb = (float(g.replace(",", "")) for g in found.groups()[1:])
    return Built(seconds, int(completions), int(points), int(cells), int(entries), int(dots), mb * 1e6)


def _seconds(value: float | None) -> str:
    return "Dask not installed" if value is None else f"{value:.1f}"


def agreement(ds: Dataset, cube: Dataset) -> dict[str, float]:
    """The largest differences between the two engines' answers on the pages' queries."""
    out: dict[str, float] = {}
    step = cube.cube.grid_step if cube.cube is not None else 1
    for group_by in (["eval_id", "base_task"], ["eval_id"], ["eval_id", "outcome"]):
        a, b = ds.aggregate(None, group_by), cube.aggregate(None, group_by)
        out[f"aggregate by {', '.join(group_by)}: counts, rates, accuracy, center, margin"] = _largest(a, b, EXACT)
        out[f"aggregate by {', '.join(group_by)}: token p50, p95 (bound: half a step, "
            f"{step / 2:g})"] = _largest(a, b, ("tokens_p50", "tokens_p95"))
    evals = list(ds.evals()["eval_id"][:8])
    param = next((d for d in ds.dimension_names if d.startswith("params.")), None)
    group_by = ["eval_id", "base_task"] + ([param] if param else [])
    a, b = ds.aggregate({"eval_id": evals}, group_by), cube.aggregate({"eval_id": evals}, group_by)
    out[f"aggregate of 8 evals by {', '.join(group_by)}: counts, rates, accuracy, center, margin"] = \
        _largest(a, b, EXACT)
    a, b = ds.hazard(None, ["eval_id"], 256), cube.hazard(None, ["eval_id"], 256)
    out["hazard by eval at bucket 256: at_risk, events, CIF, failure hazard"] = _largest(a, b, HAZARD_EXACT)
    return out


def _largest(a: pd.DataFrame, b: pd.DataFrame, columns: tuple[str, ...]) -> float:
    if len(a) != len(b):
        return float("inf")
    worst = 0.0
    for c in columns:
        x, y = a[c].to_numpy(np.float64), b[c].to_numpy(np.float64)
        both = np.isnan(x) & np.isnan(y)
        if (np.isnan(x) != np.isnan(y)).any():
            return float("inf")
        worst = max(worst, float(np.max(np.abs(x[~both] - y[~both]), initial=0.0)))
    return worst


def query_times(datasets: dict[str, Dataset], runs: int, seed: int) -> dict[str, dict[str, float]]:
    """Median ms of the spec's four queries per dataset, runs interleaved (load from elsewhere hits all alike)."""
    from bench.__main__ import engine_queries, plan_runs

    samples: dict[str, dict[str, list[float]]] = {name: {} for name in datasets}
    plans = {name: plan_runs(ds, runs, seed) for name, ds in datasets.items()}
    for name, ds in datasets.items():   # first use builds each filter's dimension codes: once per worker
        for plan in plans[name]:
            engine_queries(ds, plan)
    for i in range(runs):
        for name, ds in datasets.items():
            for query, (t, _) in engine_queries(ds, plans[name][i]).items():
                samples[name].setdefault(query, []).append(t * 1e3)
    return {name: {q: statistics.median(v) for q, v in per.items()} for name, per in samples.items()}


__all__ = ["section", "agreement", "query_times"]
