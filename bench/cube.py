"""The benchmark's "Scale" section: a cube at r12 beside the in-memory engine, and a cube of r12 × 10.

At r12 the cube must give the in-memory engine's numbers (counts, accuracy, center, margin, CIF, at_risk at
bucket 256: the largest difference is reported, 0 being exact) with token quantiles within half a grid step,
answer the spec's four queries no slower, and peak at most 0.4× the in-memory process. At r12 × 10 (88 M
completions, one Parquet file per eval: ``bench.scale``) it is built by DuckDB and by Dask (a LocalCluster of 2
workers) beside DuckDB's plain scan of the same files, and a worker serving it must open in under 2 s and peak
under 1 GB while every query stays no slower than the in-memory engine's at r12.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from app.cube.build import build_cube
from app.engine import Dataset
from bench import scale

EXACT = ("samples", "correct", "incorrect", "invalid", "truncated", "accuracy", "center", "margin", "lower", "upper",
         "truncation_rate", "invalid_rate", "tokens_mean")
HAZARD_EXACT = ("at_risk", "events_correct", "events_incorrect", "events_truncated", "cif_correct",
                "cif_incorrect", "cif_truncated", "hazard_failure")


def section(r12: Path, scaled: Path | None, runs: int, seed: int) -> list[str]:
    """The section's markdown lines (builds the cubes in temporary folders, measures, compares)."""
    from bench.__main__ import child_run

    with tempfile.TemporaryDirectory(prefix="bench-cube-") as tmp:
        cube_dir = Path(tmp) / "r12-cube"
        built = build_cube(r12, cube_dir)
        ds, cube = Dataset.open(r12), Dataset.open(cube_dir)
        diffs = agreement(ds, cube)
        times = query_times({"in-memory r12": ds, "cube r12": cube}, runs, seed)
        del ds, cube
        peak_mem, peak_cube = (child_run(p, runs, seed) for p in (r12 / "dataset.json", cube_dir / "dataset.json"))
        lines = ["## Scale: the cube", "",
                 f"A cube of r12 built by DuckDB in {built.seconds:.1f} s: {built.cells:,} cells, "
                 f"{built.hist_entries:,} histogram entries, {built.dots:,} dots, {built.bytes / 1e6:.1f} MB.", "",
                 "Agreement with the in-memory engine at r12 (largest absolute difference; 0 is exact):", "",
                 "| what | largest difference |", "|---|---:|"]
        lines += [f"| {name} | {value:.3g} |" for name, value in diffs.items()]
        if scaled is not None:
            scaled_lines, scaled_times, scaled_child = scaled_part(scaled, runs, seed)
            times.update(scaled_times)
        lines += ["", "Queries (ms, medians of runs on different eval subsets, in one process each):", "",
                  "| query | " + " | ".join(times) + " |", "|---|" + "---:|" * len(times)]
        for query in next(iter(times.values())):
            lines.append(f"| {query} | " + " | ".join(f"{t[query]:.1f}" for t in times.values()) + " |")
        lines += ["", "| worker (open + the four queries, own process) | open s | peak MB |", "|---|---:|---:|",
                  f"| in-memory r12 | {peak_mem['open_s']:.2f} | {peak_mem['peak_mb']:.0f} |",
                  f"| cube r12 | {peak_cube['open_s']:.2f} | {peak_cube['peak_mb']:.0f} "
                  f"({peak_cube['peak_mb'] / peak_mem['peak_mb']:.2f}× in-memory; target ≤ 0.4×) |"]
        if scaled is not None:
            lines += [f"| cube r12 × 10 | {scaled_child['open_s']:.2f} (target < 2) | "
                      f"{scaled_child['peak_mb']:.0f} (target < 1,000) |", "", *scaled_lines]
    return lines


def scaled_part(scaled: Path, runs: int, seed: int) -> tuple[list[str], dict[str, dict[str, float]], dict[str, float]]:
    """Build r12 × 10's cube with both engines beside DuckDB's plain scan; time and size the served cube."""
    from bench.__main__ import child_run

    scan = scale.plain_scan_seconds(str(scaled / scale.SAMPLES_DIR / "*.parquet"))
    with tempfile.TemporaryDirectory(prefix="bench-cube-x10-") as tmp:
        out = Path(tmp) / "cube"
        duck = build_cube(scaled, out)
        dask_s = _dask_seconds(scaled)
        child = child_run(out / "dataset.json", runs, seed)
        times = query_times({"cube r12 × 10": Dataset.open(out)}, runs, seed)
    n_files = len(list((scaled / scale.SAMPLES_DIR).glob("*.parquet")))
    lines = [f"r12 × 10: {duck.completions:,} completions in {n_files} Parquet files; cube: {duck.cells:,} cells, "
             f"{duck.hist_entries:,} histogram entries, {duck.dots:,} "
             f"dots, {duck.bytes / 1e6:.0f} MB.", "",
             "| build of r12 × 10 | seconds | / DuckDB plain scan |", "|---|---:|---:|",
             f"| DuckDB plain scan (GROUP BY point, outcome: count, token sum) | {scan:.1f} | 1.00 |",
             f"| cube, DuckDB | {duck.seconds:.1f} | {duck.seconds / scan:.1f} |",
             f"| cube, Dask (LocalCluster, 2 workers) | {_seconds(dask_s)} | "
             f"{'' if dask_s is None else f'{dask_s / scan:.1f}'} |"]
    return lines, times, child


def _dask_seconds(scaled: Path) -> float | None:
    """A Dask build's seconds; None when Dask is not installed (it is optional)."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return None
    return scale.build_seconds(scaled, "dask")


def _seconds(value: float | None) -> str:
    return "Dask not installed" if value is None else f"{value:.1f}"


def agreement(ds: Dataset, cube: Dataset) -> dict[str, float]:
    """The largest differences between the two engines' answers on the pages' queries."""
    out: dict[str, float] = {}
    for group_by in (["eval_id", "base_task"], ["eval_id"], ["eval_id", "outcome"]):
        a, b = ds.aggregate(None, group_by), cube.aggregate(None, group_by)
        out[f"aggregate by {', '.join(group_by)}: counts, rates, accuracy, center, margin"] = _largest(a, b, EXACT)
        out[f"aggregate by {', '.join(group_by)}: token p50, p95 (bound: half a step, "
            f"{cube.cube.grid_step / 2:g})"] = _largest(a, b, ("tokens_p50", "tokens_p95"))
    evals = list(ds.evals()["eval_id"][:8])
    a = ds.aggregate({"eval_id": evals}, ["eval_id", "base_task", "params.n"] if "params.n" in ds.dimension_names
                     else ["eval_id", "base_task"])
    b = cube.aggregate({"eval_id": evals}, list(a.columns[:len(a.columns) - len(_stat_columns(a))]))
    out["aggregate of 8 evals by point-level params: counts, accuracy, center, margin"] = _largest(a, b, EXACT)
    a, b = ds.hazard(None, ["eval_id"], 256), cube.hazard(None, ["eval_id"], 256)
    out["hazard by eval at bucket 256: at_risk, events, CIF, failure hazard"] = _largest(a, b, HAZARD_EXACT)
    return out


def _stat_columns(frame: pd.DataFrame) -> list[str]:
    from app.engine.queries import STAT_COLUMNS
    from app.engine.schema import OUTCOMES
    return list(STAT_COLUMNS) + [f"tokens_mean_{o}" for o in OUTCOMES]


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
    for i in range(runs):
        for name, ds in datasets.items():
            for query, (t, _) in engine_queries(ds, plans[name][i]).items():
                samples[name].setdefault(query, []).append(t * 1e3)
    return {name: {q: statistics.median(v) for q, v in per.items()} for name, per in samples.items()}


__all__ = ["section", "agreement", "query_times"]
