"""Figure snapshots: every figure the app builds, as canonical JSON, to prove a change to a builder draws the same.

The oracle for refactoring ``app/figures``: run ``record`` on the code before a change, ``replay``
(and ``record`` again) after it, and compare the folders byte for byte::

    PYTHONPATH=. python -m tests.figures.snapshot record /tmp/figsnap-before
    # ... change the builders ...
    PYTHONPATH=. python -m tests.figures.snapshot record /tmp/figsnap-after
    PYTHONPATH=. python -m tests.figures.snapshot replay /tmp/figsnap-before /tmp/figsnap-replay
    diff -r /tmp/figsnap-before/json /tmp/figsnap-after/json

``record`` runs the projections' public API (``SPECS[name].run``) on the bundled dataset and on the
planted synthetic one with many option combinations, plus a few direct builder calls (empty-ish
inputs, the matrix on few evals), and writes each figure's canonical JSON. While it runs, every
call into a builder is caught and its arguments pickled as well, so ``replay`` can build the same
figures from the same inputs even if the projections around them change meanwhile. Nothing here is
committed output: the snapshots live in a temporary folder. :func:`cases` also feeds the lasting
validity test (``test_figures_valid.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import json
import pickle
import re
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

import pandas as pd
import plotly.graph_objects as go
import plotly.utils

from app.engine import Dataset

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "data"
# (module, function) of every builder in app/figures: a call to one of these is one snapshot
BUILDERS = (("app.figures.spiderweb", "build"), ("app.figures.spiderweb_matrix", "build"),
            ("app.figures.surface", "build"), ("app.figures.surface3d", "build"),
            ("app.figures.compression", "build"), ("app.figures.hazard", "build"),
            ("app.figures.compare", "build"))


def canonical(fig: go.Figure) -> str:
    """The figure as sorted JSON: two figures draw the same exactly when these strings are equal."""
    return json.dumps(fig.to_plotly_json(), cls=plotly.utils.PlotlyJSONEncoder, sort_keys=True)


def _runs(ds: Dataset, tag: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(case name, projection, run keywords) for one dataset: defaults and the options a page offers."""
    evals = list(ds.evals()["eval_id"])
    tasks = list(ds.dimension("base_task").values) if "base_task" in ds.dimension_names else []
    one_eval = {"eval_id": [evals[0]]}
    first_task = {"base_task": [tasks[0]]} if tasks else {}
    runs: list[tuple[str, str, dict[str, Any]]] = [
        ("spiderweb-default", "spiderweb", {}),
        ("spiderweb-bars", "spiderweb", {"style": "bars"}),
        ("spiderweb-separate", "spiderweb", {"truncation": "separate"}),
        ("spiderweb-one-eval", "spiderweb", {"filters": one_eval}),
        ("spiderweb-one-eval-bars", "spiderweb", {"filters": one_eval, "style": "bars"}),
        ("spiderweb-one-task", "spiderweb", {"filters": first_task}),
        ("spiderweb-one-task-bars", "spiderweb", {"filters": first_task, "style": "bars"}),
        ("surface-task", "surface", {"filters": first_task}),
        ("surface-all", "surface", {}),
        ("surface-none", "surface", {"split_by": "none", "filters": first_task}),
        ("surface-separate", "surface", {"filters": first_task, "truncation": "separate"}),
        ("surface-one-eval", "surface", {"filters": {**first_task, **one_eval}}),
        ("surface-3d", "surface", {"mode": "3d", "filters": {**first_task, "eval_id": evals[:2]}}),
        ("surface-3d-one", "surface", {"mode": "3d", "filters": {**first_task, **one_eval}}),
        ("compression-default", "compression", {}),
        ("compression-task", "compression", {"filters": first_task}),
        ("compression-nofacet", "compression", {"facet_by": "none", "filters": first_task}),
        ("compression-nogroup", "compression", {"group_by": "none", "split_by": "none"}),
        ("compression-few-points", "compression", {"max_points": 50, "filters": first_task}),
        ("compression-separate", "compression", {"truncation": "separate", "filters": first_task}),
        ("compression-one-eval", "compression", {"filters": one_eval, "split_by": "none"}),
        ("hazard-default", "hazard", {}),
        ("hazard-split", "hazard", {"split_by": "base_task"}),
        ("hazard-nogroup", "hazard", {"group_by": "none"}),
        ("hazard-bucket", "hazard", {"bucket_size": 1024, "truncation": "separate"}),
        ("hazard-one-eval", "hazard", {"filters": one_eval}),
        ("compare-default", "compare", {"filters": {"eval_id": evals[:2]}}),
        ("compare-three", "compare", {"filters": {"eval_id": evals[:3]}}),
        ("compare-nogroup", "compare", {"filters": {"eval_id": evals[:2]}, "group_by": "none"}),
        ("compare-separate", "compare", {"filters": {"eval_id": evals[:2]}, "truncation": "separate"}),
    ]
    for dim in ("groups.family", "model", "params.length", "manifold.target_tokens"):
        if dim in ds.dimension_names:
            runs += [(f"spiderweb-by-{dim}", "spiderweb", {"group_by": dim}),
                     (f"compression-group-{dim}", "compression", {"group_by": dim, "filters": first_task}),
                     (f"hazard-group-{dim}", "hazard", {"group_by": dim})]
    for name, projection, kwargs in runs:
        yield f"{tag}-{name}", projection, kwargs


def _direct(ds: Dataset, tag: str) -> Iterator[tuple[str, Callable[[], Any]]]:
    """Builder calls no projection makes on this dataset: the matrix on few evals, near-empty inputs."""
    from app.figures import compression, spiderweb, spiderweb_matrix

    ev = ds.evals()
    labels = dict(zip(ev["eval_id"], ev["label"]))
    table = ds.aggregate(None, ["eval_id", "base_task"])
    yield f"{tag}-matrix-direct", lambda: spiderweb_matrix.build(table, group_by="base_task", labels=labels,
                                                                 title="matrix", subtitle="a · b")
    one = table[table["eval_id"] == table["eval_id"].iloc[0]]
    yield f"{tag}-matrix-one-row", lambda: spiderweb_matrix.build(one, group_by="base_task", labels=labels,
                                                                  title="m")
    yield f"{tag}-radar-direct", lambda: spiderweb.build(table, group_by="base_task", labels=labels, title="r")
    empty = pd.DataFrame({"outcome": [], "completion_tokens": [], "compressed_bytes": []})
    yield f"{tag}-compression-empty", lambda: compression.build(empty, facet=None, group=None, title="empty",
                                                                budgets={None: 4096})


def cases(data: Path = BUNDLED, synthetic: Path | None = None) -> Iterator[tuple[str, Callable[[], Any]]]:
    """(name, thunk) per case: a thunk returns a figure, or a projection whose figures are all snapshotted."""
    from app.projections.spec import SPECS

    sets = [("data", Dataset.open(data))]
    if synthetic is not None:
        sets.append(("syn", Dataset.open(synthetic)))
    for tag, ds in sets:
        for name, projection, kwargs in _runs(ds, tag):
            yield name, functools.partial(SPECS[projection].run, ds, **kwargs)
        yield from _direct(ds, tag)


def figures_of(result: Any) -> list[tuple[str, go.Figure]]:
    """A thunk's figures with a suffix each: the figure itself, or a projection's split figures."""
    if isinstance(result, go.Figure):
        return [("", result)]
    return [(f"-{i}-{split}", fig) for i, (split, fig) in enumerate(result.figures)]


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", name)[:150]


@contextlib.contextmanager
def catching(out: Path) -> Iterator[list[str]]:
    """Wrap every builder: each call's arguments are pickled and its figure written, numbered in call order."""
    calls: list[str] = []
    originals = []
    for module_name, fn in BUILDERS:
        module = importlib.import_module(module_name)
        original = getattr(module, fn)
        originals.append((module, fn, original))

        def wrapper(*args: Any, __original=original, __name=module_name, **kwargs: Any) -> Any:
            fig = __original(*args, **kwargs)
            key = f"{len(calls):04d}-{__name.rsplit('.', 1)[1]}"
            calls.append(key)
            (out / "inputs" / f"{key}.pkl").write_bytes(pickle.dumps((__name, args, kwargs)))
            (out / "calls" / f"{key}.json").write_text(canonical(fig))
            return fig
        setattr(module, fn, wrapper)
    try:
        yield calls
    finally:
        for module, fn, original in originals:
            setattr(module, fn, original)


def record(out: Path, data: Path = BUNDLED, only: str | None = None, synthetic: bool = True) -> int:
    """Snapshot every case into ``out/json`` (and each builder call into ``out/calls`` + ``out/inputs``).

    ``only``: a regular expression; just the cases whose name it finds are run (e.g. a large dataset's few).
    """
    from tests.projections import synthetic as planted

    for sub in ("json", "calls", "inputs"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    syn = planted.build(Path(tempfile.mkdtemp(prefix="figsnap-syn-")) / "ds") if synthetic else None
    count = 0
    with catching(out):
        for name, thunk in cases(data, syn):
            if only and not re.search(only, name):
                continue
            try:
                result = thunk()
            except Exception as exc:   # an input the projection refuses is a case too: its message
                (out / "json" / f"{_safe(name)}.error").write_text(f"{type(exc).__name__}: {exc}")
                continue
            for suffix, fig in figures_of(result):
                (out / "json" / f"{_safe(name + suffix)}.json").write_text(canonical(fig))
                count += 1
    return count


def replay(src: Path, out: Path) -> int:
    """Build every caught call of ``src`` again from its pickled arguments into ``out/calls``."""
    (out / "calls").mkdir(parents=True, exist_ok=True)
    count = 0
    for path in sorted((src / "inputs").glob("*.pkl")):
        module_name, args, kwargs = pickle.loads(path.read_bytes())
        fig = importlib.import_module(module_name).build(*args, **kwargs)
        (out / "calls" / f"{path.stem}.json").write_text(canonical(fig))
        count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("out", type=Path)
    rec.add_argument("--data", type=Path, default=BUNDLED)
    rec.add_argument("--only", help="regular expression: run only the cases whose name matches")
    rec.add_argument("--no-synthetic", action="store_true", help="skip the planted synthetic dataset")
    rep = sub.add_parser("replay")
    rep.add_argument("src", type=Path)
    rep.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    if args.command == "record":
        print(f"{record(args.out, args.data, args.only, not args.no_synthetic)} figures in {args.out}")
    else:
        print(f"{replay(args.src, args.out)} calls rebuilt in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
