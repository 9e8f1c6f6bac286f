"""``python -m bench --dataset r12``: spec §9 targets as ratios, engine beside DuckDB, in one run.

Each query runs several times on a different eval subset each time (so nothing
is answered from a cache); the table reports medians. The engine's peak memory is
measured in a child process that does nothing else.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from app.engine import Dataset
from bench.peer import DuckPeer

COLUMNS = ["eval_id", "base_task", "params", "manifold", "outcome", "completion_tokens", "compressed_bytes",
           "guess_rate"]


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def one_pass(arrays: list[np.ndarray]) -> float:
    """The limit: a single vectorised pass over every column the query needs."""
    t0 = time.perf_counter()
    for a in arrays:
        np.add.reduce(a, dtype=np.int64 if a.dtype.kind in "iu" else np.float64)
    return time.perf_counter() - t0


def plan_runs(ds: Dataset, runs: int, seed: int) -> list[dict]:
    """A different trio of evals (and task/view) for every run."""
    rng = np.random.default_rng(seed)
    evals = list(ds.evals().eval_id)
    views = [v for v in ds.meta.views_2d if v.base_task and all(d.startswith("params.") for d in v.group_by)]
    out = []
    for i in range(runs):
        view = views[i % len(views)]
        out.append({"evals": sorted(rng.choice(evals, size=min(3, len(evals)), replace=False).tolist()),
                    "task": view.base_task, "dims": [d.split(".", 1)[1] for d in view.group_by]})
    return out


def memory_child(path: str, runs: int, seed: int) -> None:
    ds = Dataset.open(path)
    for run in plan_runs(ds, runs, seed):
        engine_queries(ds, run)
    print(json.dumps({"peak_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """The process's own high-water mark.

    ru_maxrss would also count the parent's memory, which Linux carries across the exec of a vforked child.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def engine_queries(ds: Dataset, run: dict) -> dict[str, tuple[float, object]]:
    a, b = run["dims"]
    sel = {"eval_id": run["evals"]}
    return {
        "spiderweb (all evals)": timed(ds.aggregate, None, ["eval_id", "base_task"]),
        "surface (3 evals, 1 task)": timed(ds.aggregate, {**sel, "base_task": run["task"]},
                                           ["eval_id", f"params.{a}", f"params.{b}"]),
        "hazard (3 evals)": timed(ds.hazard, sel, ["eval_id"], 256),
        "compression sample (3 evals, 1 task)": timed(
            ds.samples, {**sel, "base_task": run["task"]},
            ["eval_id", "manifold.id", "outcome", "completion_tokens", "compressed_bytes"]),
    }


def peer_queries(peer: DuckPeer, run: dict) -> dict[str, tuple[float, object]]:
    a, b = run["dims"]
    return {
        "spiderweb (all evals)": timed(peer.spiderweb),
        "surface (3 evals, 1 task)": timed(peer.surface, run["evals"], run["task"], a, b),
        "hazard (3 evals)": timed(peer.hazard, run["evals"], 256),
        "compression sample (3 evals, 1 task)": timed(peer.compression, run["evals"], run["task"]),
    }


def limit_columns(table, run) -> dict[str, list[np.ndarray]]:
    """The numpy arrays each query must at least read once."""
    return {
        "spiderweb (all evals)": [table["eval"], table["task"], table["outcome"], table["tokens"], table["guess"]],
        "surface (3 evals, 1 task)": [table["eval"], table["task"], table["params"], table["outcome"],
                                      table["tokens"], table["guess"]],
        "hazard (3 evals)": [table["eval"], table["outcome"], table["tokens"]],
        "compression sample (3 evals, 1 task)": [table["eval"], table["task"], table["manifold"], table["outcome"],
                                                 table["tokens"], table["bytes"]],
    }


def numpy_table(parquet: Path) -> dict[str, np.ndarray]:
    t = pq.read_table(parquet, columns=COLUMNS, read_dictionary=COLUMNS[:5])
    codes = {name: np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in
                                   t[col].unify_dictionaries().chunks])
             for name, col in (("eval", "eval_id"), ("task", "base_task"), ("params", "params"),
                               ("manifold", "manifold"), ("outcome", "outcome"))}
    codes["tokens"] = t["completion_tokens"].fill_null(0).to_numpy()
    codes["bytes"] = t["compressed_bytes"].fill_null(0).to_numpy()
    codes["guess"] = t["guess_rate"].to_numpy()
    return codes


def check_agreement(name: str, mine, theirs) -> str:
    """Both sides must compute the same numbers, or the timing means nothing."""
    try:
        if name.startswith("spiderweb") or name.startswith("surface"):
            cols = ["correct", "incorrect", "invalid", "truncated", "center", "margin", "tokens_p50", "tokens_p95"]
            m = mine.sort_values(list(mine.columns[:len(mine.columns) - 20])).reset_index(drop=True)
            ok = len(mine) == len(theirs) and np.allclose(
                np.sort(m[cols].to_numpy(float), axis=0), np.sort(theirs[cols].to_numpy(float), axis=0),
                equal_nan=True)
        elif name.startswith("hazard"):
            busy = mine[mine.samples > 0]
            ok = np.isclose(busy.groupby("eval_id").cif_incorrect.max().sort_index().to_numpy(),
                            theirs.groupby("eval_id").cif_incorrect.max().sort_index().to_numpy()).all()
        else:
            ok = len(mine) == len(theirs) and int(mine.completion_tokens.sum()) == int(theirs.completion_tokens.sum())
        return "same" if ok else "DIFFERENT"
    except Exception as exc:  # a report, not a crash
        return f"unchecked ({exc})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench")
    ap.add_argument("--dataset", default="r12", help="dataset folder or dataset.json (default r12/)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--out", default="bench/results.md")
    ap.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.memory_child:
        memory_child(args.dataset, args.runs, args.seed)
        return 0

    meta_path = Path(args.dataset)
    meta_path = meta_path / "dataset.json" if meta_path.is_dir() else meta_path
    parquet = meta_path.parent / json.loads(meta_path.read_text())["samples"]

    open_engine, open_arrow = [], []
    for _ in range(args.runs):
        open_arrow.append(timed(pq.read_table, parquet, columns=COLUMNS)[0])
        t, ds = timed(Dataset.open, meta_path)
        open_engine.append(t)
    print(f"{ds!r}", file=sys.stderr)

    peer = DuckPeer(parquet)
    arrays = numpy_table(parquet)
    times: dict[str, dict[str, list[float]]] = {}
    checks: dict[str, str] = {}
    for run in plan_runs(ds, args.runs, args.seed):
        mine, theirs = engine_queries(ds, run), peer_queries(peer, run)
        for name, cols in limit_columns(arrays, run).items():
            row = times.setdefault(name, {"engine": [], "duckdb": [], "limit": []})
            row["engine"].append(mine[name][0])
            row["duckdb"].append(theirs[name][0])
            row["limit"].append(one_pass(cols))
            checks.setdefault(name, check_agreement(name, mine[name][1], theirs[name][1]))

    child = subprocess.run([sys.executable, "-m", "bench", "--memory-child", "--dataset", str(meta_path),
                            "--runs", str(args.runs), "--seed", str(args.seed)],
                           capture_output=True, text=True, check=True)
    peak = json.loads(child.stdout)["peak_mb"]

    med = statistics.median
    lines = [f"Benchmark on `{meta_path}`: {ds.n_samples:,} samples; medians of {args.runs} runs, "
             f"each on a different eval subset.", "",
             "| query | engine ms | DuckDB ms | engine / DuckDB (≤ 1.0) | one-pass limit ms | engine / limit (≤ 3.0) "
             "| same numbers |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for name, row in times.items():
        e, d, lim = med(row["engine"]) * 1e3, med(row["duckdb"]) * 1e3, med(row["limit"]) * 1e3
        lines.append(f"| {name} | {e:.1f} | {d:.1f} | {e / d:.2f} | {lim:.1f} | {e / lim:.2f} | {checks[name]} |")
    oe, oa = med(open_engine) * 1e3, med(open_arrow) * 1e3
    lines += ["", "| open | engine ms | pyarrow read ms | ratio (≤ 1.5) |", "|---|---:|---:|---:|",
              f"| Dataset.open vs pq.read_table (same columns) | {oe:.0f} | {oa:.0f} | {oe / oa:.2f} |",
              "", f"Engine peak memory (open + all queries, separate process): {peak:.0f} MB (target ≤ 1500 MB)."]
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
