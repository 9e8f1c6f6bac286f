"""``python -m bench.views --dataset r12``: server time of each page's default view, first and second call.

Each page runs in a fresh process (so the first call pays every lazy per-dataset and
per-process cost a first visitor would), twice. Each call's time is split into the
exclusive time spent in the engine (``Dataset`` queries), the findings (``app.findings``),
figure building (``app.figures``), the CSV (``to_csv``) and everything else (the
projection's own code). ``--profile PAGE`` prints a cProfile of that page's first call;
``--oracle FILE`` writes each page's rows, notes, meta and findings as JSON instead
(compare two such files to prove a change leaves the results alone).
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import hashlib
import inspect
import json
import pstats
import resource
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any, Callable

PAGES = ("spiderweb", "surface", "compression", "hazard", "compare")
CATEGORIES = ("engine", "findings", "figures", "csv")
ENGINE_METHODS = ("aggregate", "samples", "hazard", "parse_filters", "dimension", "evals", "tasks", "views",
                  "view", "check_group_by")


class Clock:
    """Exclusive time per category: a category's time excludes the calls it makes into another category."""

    def __init__(self) -> None:
        self.spent = dict.fromkeys(CATEGORIES, 0.0)
        self._stack: list[list[Any]] = []   # [category, started, child time]

    def wrap(self, category: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn`` timed as ``category`` (a call from inside the same category is not counted twice)."""
        if getattr(fn, "_bench_category", None):
            return fn

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if self._stack and self._stack[-1][0] == category:
                return fn(*args, **kwargs)
            frame: list[Any] = [category, time.perf_counter(), 0.0]
            self._stack.append(frame)
            try:
                return fn(*args, **kwargs)
            finally:
                self._stack.pop()
                took = time.perf_counter() - frame[1]
                self.spent[category] += took - frame[2]
                if self._stack:
                    self._stack[-1][2] += took

        timed._bench_category = category  # type: ignore[attr-defined]
        return timed

    def reset(self) -> None:
        self.spent = dict.fromkeys(CATEGORIES, 0.0)


def _category(obj: Any) -> str | None:
    name = getattr(obj, "__name__", "") if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", "")
    name = name or ""
    if name.startswith("app.figures"):
        return "figures"
    if name.startswith("app.findings"):
        return "findings"
    return None


def _wrap_namespace(clock: Clock, namespace: dict[str, Any], only: str | None = None) -> None:
    """Wrap the functions a module's globals name that belong to app.figures / app.findings."""
    for attr, value in list(namespace.items()):
        if inspect.isfunction(value):
            category = _category(value)
            if category and (only is None or category == only):
                namespace[attr] = clock.wrap(category, value)


def instrument(clock: Clock) -> None:
    """Patch the engine facade, the findings and figure modules, and to_csv, to report to ``clock``."""
    from app.engine.dataset import Dataset
    from app.projections import base as proj_base
    from app.projections import catalog  # noqa: F401  (imports every projection and the modules they use)

    for method in ENGINE_METHODS:
        setattr(Dataset, method, clock.wrap("engine", getattr(Dataset, method)))
    proj_base.to_csv = clock.wrap("csv", proj_base.to_csv)
    for name, module in list(sys.modules.items()):
        if not isinstance(module, types.ModuleType):
            continue
        if name.startswith(("app.figures", "app.findings")):
            _wrap_namespace(clock, vars(module), only=_category(module))
        elif name.startswith("app.projections"):
            _wrap_namespace(clock, vars(module))


def _narrowed(state: Any, registry: Any) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """What ``app.web.compute.resolve`` runs: the first split value when the page is split."""
    from app.projections.spec import SPECS, dimension_values

    spec = SPECS[state.page]
    if state.split is not None and spec.split is not None:
        ds = registry.get(state.dataset)
        if spec.split_values is not None:
            values = spec.split_values(ds, ds.parse_filters(state.filters), state.run_options())
        else:
            values = dimension_values(ds, state.filters, state.split)
        if values:
            state = state.showing(values[0])
    return dict(state.filters), state.truncation, state.run_options()


def run_page(page: str, dataset: str, calls: int = 3) -> dict[str, Any]:
    """Open, resolve the default state, then run the view ``calls`` times; times in ms per call."""
    clock = Clock()
    instrument(clock)
    from app.projections.base import to_csv
    from app.projections.spec import SPECS

    t0 = time.perf_counter()
    registry, ds = _open(dataset)
    open_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    state = _default_for(page, registry)
    resolve_ms = (time.perf_counter() - t0) * 1000
    if state is None:
        return {"page": page, "skipped": "no default view"}
    filters, truncation, options = state
    out: dict[str, Any] = {"page": page, "open_ms": open_ms, "resolve_ms": resolve_ms, "filters": filters,
                           "options": options, "calls": []}
    for _ in range(calls):
        clock.reset()
        t0, c0 = time.perf_counter(), time.process_time()
        projection = SPECS[page].run(ds, filters=filters, truncation=truncation, **options)
        to_csv(projection)
        total, cpu = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
        spent = {k: v * 1000 for k, v in clock.spent.items()}
        spent["other"] = total - sum(spent.values())
        out["calls"].append({"total": total, **spent, "cpu": cpu})
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _default_for(page: str, registry: Any) -> tuple[dict[str, Any], str, dict[str, Any]] | None:
    """The page's default state as ``app.web.state.decode`` gives it, narrowed like the page; None if it has none."""
    from app.engine.errors import InputError
    from app.web.state import decode

    try:
        return _narrowed(decode(page, {}, registry).state, registry)
    except InputError:
        return None


def _open(dataset: str) -> tuple[Any, Any]:
    """A registry over ``dataset`` (its folder) and its default dataset, opened."""
    from app.web.registry import Registry

    registry = Registry(Path(dataset))
    return registry, registry.get()


def profile_page(page: str, dataset: str, top: int) -> None:
    """cProfile of the page's first call, by cumulative and by own time."""
    import app.projections.catalog  # noqa: F401
    from app.projections.base import to_csv
    from app.projections.spec import SPECS

    registry, ds = _open(dataset)
    state = _default_for(page, registry)
    if state is None:
        print(f"{page}: no default view")
        return
    filters, truncation, options = state
    prof = cProfile.Profile()
    prof.enable()
    projection = SPECS[page].run(ds, filters=filters, truncation=truncation, **options)
    to_csv(projection)
    prof.disable()
    stats = pstats.Stats(prof)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)


def oracle(dataset: str) -> dict[str, Any]:
    """Each page's default view and a few others: rows (CSV and JSON), notes, meta and findings, to compare."""
    import app.projections.catalog  # noqa: F401
    from app.projections.base import to_csv, to_json
    from app.projections.spec import SPECS

    registry, ds = _open(dataset)
    views: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = []
    for page in PAGES:
        state = _default_for(page, registry)
        if state is not None:
            views.append((page, *state))
    evals = list(ds.evals()["eval_id"])[:3]
    tasks = [t for t in ds.tasks()["base_task"]][:2]
    extra: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = [
        ("spiderweb", {}, "failure", {}),
        ("spiderweb", {"eval_id": evals}, "separate", {}),
        ("hazard", {}, "failure", {}),
        ("hazard", {"eval_id": evals}, "separate", {"split_by": "base_task"}),
        ("hazard", {"eval_id": evals[:2]}, "failure", {"group_by": "base_task", "bucket_size": 512}),
        ("compression", {"base_task": tasks[:1]}, "failure", {}),
        ("compression", {"eval_id": evals}, "failure", {"split_by": "none", "facet_by": "base_task"}),
        ("surface", {"base_task": tasks[:1]}, "failure", {}),
        ("surface", {"base_task": tasks[1:2], "eval_id": evals}, "separate", {}),
        ("compare", {"eval_id": evals}, "failure", {}),
    ]
    params = [d for d in ds.dimension_names if d.startswith("params.")][:1]
    manifold = [d for d in ds.dimension_names if d.startswith("manifold.")][-1:]
    extra += [("hazard", {"eval_id": evals}, "failure", {"split_by": "base_task", "group_by": d}) for d in manifold]
    extra += [("hazard", {"base_task": tasks[:1]}, "failure", {"group_by": d}) for d in params]
    extra += [("spiderweb", {"eval_id": evals}, "failure", {"group_by": d}) for d in manifold + params]
    extra += [("compression", {"eval_id": evals[:2]}, "failure", {"split_by": "none", "facet_by": "none",
                                                                    "group_by": "none"}),
              ("compare", {"eval_id": evals}, "separate", {"group_by": "none"})]
    doc: dict[str, Any] = {"engine": _engine_oracle(ds, evals, tasks)}
    for page, filters, truncation, options in views + extra:
        key = f"{page} {json.dumps(filters, sort_keys=True, default=str)} {truncation} " \
              f"{json.dumps(options, sort_keys=True, default=str)}"
        try:
            projection = SPECS[page].run(ds, filters=filters, truncation=truncation, **options)
        except Exception as exc:  # an input the dataset refuses is a result too
            doc[key] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        body = json.dumps(to_json(projection), sort_keys=True, default=str)
        doc[key] = {"json": body, "csv_sha": hashlib.sha256(to_csv(projection).encode()).hexdigest(),
                    "dtypes": {str(c): str(t) for c, t in projection.rows.dtypes.items()},
                    "figures": [s for s, _ in projection.figures],
                    "figure_sha": [hashlib.sha256(f.to_json().encode()).hexdigest() for _, f in projection.figures]}
    return doc


def _child(page: str, dataset: str) -> dict[str, Any]:
    """One page's timings from a fresh interpreter."""
    done = subprocess.run([sys.executable, "-m", "bench.views", "--dataset", dataset, "--child", page],
                          capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _engine_oracle(ds: Any, evals: list[str], tasks: list[str]) -> dict[str, str]:
    """Digests of engine answers on every quantile path (one block, whole blocks, a histogram, a sort)."""
    out: dict[str, str] = {}
    dims = [d for d in ds.dimension_names if d.startswith(("params.", "manifold."))][:3]
    selections: list[dict[str, Any]] = [{}, {"eval_id": evals}, {"outcome": ["correct", "truncated"]},
                                        {"base_task": tasks[:1], "eval_id": evals[:2]}]
    for filters in selections:
        for group_by in (["eval_id"], ["base_task"], ["eval_id", "base_task"], ["eval_id", "outcome"],
                         *[[d] for d in dims], []):
            frame = ds.aggregate(filters, group_by)
            out[f"aggregate {json.dumps(filters)} {group_by}"] = _digest(frame)
        out[f"hazard {json.dumps(filters)}"] = _digest(ds.hazard(filters, ["base_task", "eval_id"], 512))
        out[f"samples {json.dumps(filters)}"] = _digest(ds.samples(filters))
    return out


def _digest(frame: Any) -> str:
    """A frame's values, column types and index, as one hash."""
    text = frame.to_csv(index=True) + repr(list(frame.dtypes.astype(str))) + repr(frame.index)
    return hashlib.sha256(text.encode()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="r12")
    parser.add_argument("--pages", nargs="*", default=list(PAGES))
    parser.add_argument("--profile", metavar="PAGE", help="print a cProfile of this page's first call")
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per page (median)")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--oracle", metavar="FILE", help="write the results of a set of views as JSON")
    parser.add_argument("--child", metavar="PAGE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_page(args.child, args.dataset)))
        return 0
    if args.profile:
        profile_page(args.profile, args.dataset, args.top)
        return 0
    if args.oracle:
        Path(args.oracle).write_text(json.dumps(oracle(args.dataset), indent=1, sort_keys=True))
        return 0
    print(f"dataset {args.dataset}: each page in {args.repeat} fresh process(es); ms per call, exclusive times, "
          "median over the processes (cpu: the call's CPU time, steadier on a shared machine)")
    print(f"{'page':<12} {'call':<6} {'total':>7} {'outside':>7} {'engine':>7} {'findings':>8} {'figures':>7} "
          f"{'csv':>5} {'other':>6} {'cpu':>6}")
    for page in args.pages:
        results = [_child(page, args.dataset) for _ in range(args.repeat)]
        if "skipped" in results[0]:
            print(f"{page:<12} {results[0]['skipped']}")
            continue
        for i in range(len(results[0]["calls"])):
            call = {k: statistics.median(r["calls"][i][k] for r in results) for k in results[0]["calls"][i]}
            outside = call["total"] - call["figures"]
            print(f"{page:<12} {('first', 'second', 'third')[i]:<6} {call['total']:7.1f} {outside:7.1f} "
                  f"{call['engine']:7.1f} {call['findings']:8.1f} {call['figures']:7.1f} {call['csv']:5.1f} "
                  f"{call['other']:6.1f} {call['cpu']:6.1f}")
        first = results[0]
        print(f"{'':<12} open {statistics.median(r['open_ms'] for r in results):.0f} ms, split values "
              f"{statistics.median(r['resolve_ms'] for r in results):.0f} ms, peak "
              f"{max(r['peak_mb'] for r in results):.0f} MB; options {first['options']}; filters "
              f"{json.dumps(first['filters'])[:60]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
