"""``python -m bench --dataset r12``: spec §9 targets as ratios, engine beside DuckDB, in one run.

Each query runs several times on a different eval subset each time (so nothing
is answered from a cache); the table reports medians. The engine's peak memory is
measured in a child process that does nothing else.

``--texts-kb K`` (``make bench`` passes 2) puts a texts file of about K KB per completion beside
the samples (written once, see ``bench.texts``) and measures everything on the dataset that
declares it; a second table shows open time and peak memory with the texts file and without it
(they must not grow), and the probe's query times beside a pyarrow read of the same rows.

``--pages`` (``make bench`` passes it) adds the page-speed section: every projection page against
its floor in headless Chromium, uncached and cached, with each page's server time (``bench.pages``).
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
from typing import Any, Callable, TypeVar

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from app.engine import Dataset
from bench import cube as cube_section
from bench import pages as page_speed
from bench import texts as synthetic_texts
from bench.peer import DuckPeer

T = TypeVar("T")
COLUMNS = ["eval_id", "base_task", "params", "manifold", "outcome", "completion_tokens", "compressed_bytes",
           "guess_rate"]


def timed(fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[float, T]:
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


def memory_child(path: str, runs: int, seed: int, probe: bool = False) -> None:
    t0 = time.perf_counter()
    ds = Dataset.open(path)
    opened = time.perf_counter() - t0
    for run in plan_runs(ds, runs, seed):
        engine_queries(ds, run)
        if probe:
            probe_queries(ds, run)
    print(json.dumps({"peak_mb": peak_rss_mb(), "open_s": opened}))


def child_run(meta_path: Path, runs: int, seed: int, probe: bool = False) -> dict[str, float]:
    """Peak memory (and open time) of open + the queries in a process that does nothing else."""
    child = subprocess.run([sys.executable, "-m", "bench", "--memory-child", "--dataset", str(meta_path),
                            "--runs", str(runs), "--seed", str(seed)] + (["--probe"] if probe else []),
                           capture_output=True, text=True)
    if child.returncode != 0:
        raise RuntimeError(f"memory child failed ({child.returncode}): {child.stderr.strip()[-2000:]}")
    return json.loads(child.stdout)


def probe_queries(ds: Dataset, run: dict) -> dict[str, tuple[float, pd.DataFrame]]:
    """What the /probe page asks: a page of one eval and task, one dot's row, one hazard bin of 3 evals."""
    one = {"eval_id": run["evals"][0], "base_task": run["task"]}
    rows = ds.samples(one, columns=["row"])["row"]
    row = int(rows.iloc[len(rows) // 2])
    return {
        "probe: 50 completions of 1 eval + 1 task, with text": timed(ds.completions, one, limit=50),
        "probe: 1 completion by row (a compression dot)": timed(ds.completions, None, rows=[row]),
        "probe: 50 completions of a hazard bin (3 evals, tokens [4096, 4352))": timed(
            ds.completions, {"eval_id": run["evals"]}, tokens=(4096, 4352), limit=50),
    }


def pyarrow_reads(texts_path: Path, probes: dict[str, tuple[float, pd.DataFrame]]) -> dict[str, float]:
    """The same texts read with pyarrow's own predicate (``filters=[("row", "in", rows)]``), for scale."""
    return {name: timed(pq.read_table, texts_path, columns=["row", "text"],
                        filters=[("row", "in", [int(r) for r in frame["row"]])])[0]
            for name, (_, frame) in probes.items()}


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
    ap.add_argument("--texts-kb", type=float, default=0.0, metavar="K",
                    help="measure with a texts file of about K KB per completion beside the samples (written "
                         "once as texts.parquet; 0: no texts)")
    ap.add_argument("--pages", action="store_true",
                    help="also time every projection page against its floor in headless Chromium (bench.pages)")
    ap.add_argument("--scale", metavar="DIR", default=None,
                    help="also measure the cube: at --dataset beside the in-memory engine, and of DIR (r12 × 10 "
                         "written by `python -m bench.scale --make`) built by DuckDB and Dask (bench.cube)")
    ap.add_argument("--cube-only", action="store_true", help="only the cube section (with --scale)")
    ap.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.memory_child:
        memory_child(args.dataset, args.runs, args.seed, args.probe)
        return 0

    meta_path = Path(args.dataset)
    meta_path = meta_path / "dataset.json" if meta_path.is_dir() else meta_path
    if args.cube_only:
        text = "\n".join(cube_section.section(meta_path.parent, Path(args.scale) if args.scale else None,
                                               args.runs, args.seed)) + "\n"
        print(text)
        return 0
    parquet = meta_path.parent / json.loads(meta_path.read_text())["samples"]
    plain_meta, texts_note = meta_path, []
    if args.texts_kb > 0:
        texts_path = meta_path.parent / synthetic_texts.TEXTS_FILE
        if not synthetic_texts.fits(texts_path, parquet, int(args.texts_kb * 1024)):
            print(f"writing {texts_path} (about {args.texts_kb:g} KB per completion, once) …", file=sys.stderr)
            _, took = synthetic_texts.write_texts(meta_path, int(args.texts_kb * 1024))
            texts_note.append(f"texts file written in {took:.0f} s")
        meta_path = synthetic_texts.texts_meta(plain_meta, texts_path)

    open_engine, open_arrow, open_plain = [], [], []
    for _ in range(args.runs):  # interleaved, so load from elsewhere on the machine hits all three alike
        open_arrow.append(timed(pq.read_table, parquet, columns=COLUMNS)[0])
        t, ds = timed(Dataset.open, meta_path)
        open_engine.append(t)
        if meta_path != plain_meta:
            open_plain.append(timed(Dataset.open, plain_meta)[0])
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

    probe_times: dict[str, list[float]] = {}
    arrow_times: dict[str, list[float]] = {}
    first_probe = 0.0
    if ds.has_text:
        for i, run in enumerate(plan_runs(ds, args.runs, args.seed)):
            probes = probe_queries(ds, run)
            if i == 0:  # the first read opens the texts file and reads its footer
                first_probe = next(iter(probes.values()))[0]
                probes = probe_queries(ds, run)
            for name, (t, _) in probes.items():
                probe_times.setdefault(name, []).append(t)
            for name, t in pyarrow_reads(ds.path.parent / str(ds.meta.texts), probes).items():
                arrow_times.setdefault(name, []).append(t)

    peak = child_run(meta_path, args.runs, args.seed)["peak_mb"]

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
    if ds.has_text:
        lines += texts_table(ds, plain_meta, meta_path, args, (open_plain, open_engine), peak, probe_times,
                             arrow_times, first_probe, texts_note)
    if args.scale:
        lines += ["", *cube_section.section(plain_meta.parent, Path(args.scale), args.runs, args.seed)]
    if args.pages:
        lines += ["", *page_speed.section(plain_meta.parent)]
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    return 0


def texts_table(ds: Dataset, plain_meta: Path, meta_path: Path, args: argparse.Namespace,
                opens: tuple[list[float], list[float]], peak: float, probe_times: dict[str, list[float]],
                arrow_times: dict[str, list[float]], first_probe: float, notes: list[str]) -> list[str]:
    """Open time and peak memory without and with the texts file, and the probe's query times."""
    med = statistics.median
    plain_open, open_engine = opens
    texts_path = ds.path.parent / str(ds.meta.texts)
    meta = pq.ParquetFile(texts_path).metadata
    mean_kb = ds._texts.mean_bytes() / 1024 if ds._texts is not None else 0.0
    plain_peak = child_run(plain_meta, args.runs, args.seed)["peak_mb"]
    probe_peak = child_run(meta_path, args.runs, args.seed, probe=True)["peak_mb"]
    lines = ["", f"Texts: `{texts_path}`, {meta.num_rows:,} texts, {mean_kb:.2f} KB each on average "
             f"({texts_path.stat().st_size / 1e9:.2f} GB on disk, {meta.num_row_groups:,} row groups)"
             + (f"; {'; '.join(notes)}" if notes else "") + ".", "",
             "| open and memory | without texts | with texts | with / without |", "|---|---:|---:|---:|",
             f"| Dataset.open, median ms | {med(plain_open) * 1e3:.0f} | {med(open_engine) * 1e3:.0f} | "
             f"{med(open_engine) / med(plain_open):.2f} |",
             f"| peak memory, open + the four queries, MB | {plain_peak:.0f} | {peak:.0f} | {peak / plain_peak:.2f} |",
             f"| peak memory, open + the four queries + the probes, MB | | {probe_peak:.0f} | |", "",
             "| probe query | engine ms (median) | pyarrow `filters=[(\"row\", \"in\", rows)]` ms |", "|---|---:|---:|"]
    for name, times in probe_times.items():
        lines.append(f"| {name} | {med(times) * 1e3:.1f} | {med(arrow_times[name]) * 1e3:.1f} |")
    lines.append(f"| first probe after open (opens the texts file, reads its footer) | {first_probe * 1e3:.1f} | |")
    return lines


if __name__ == "__main__":
    sys.exit(main())
