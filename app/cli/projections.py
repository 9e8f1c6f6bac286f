"""``analyze.py spiderweb|surface|compression|hazard``: run a projection, write its files.

Stdout gets one written path per line (scripts can read it); the projection's
notes (archetypes, down-sampling, what cannot be shown) go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.engine.dataset import Dataset
from app.engine.errors import InputError
from app.engine.stats import TRUNCATION_MODES
from app.projections import PROJECTIONS, Projection, to_csv, to_json
from app.projections.base import safe_name

FORMATS = {
    "spiderweb": ("webpng", "barpng", "json", "csv"),
    "surface": ("png", "json", "csv"),
    "compression": ("png", "json", "csv"),
    "hazard": ("png", "json", "csv"),
}
HELP = {
    "spiderweb": "cross-task fingerprint per eval (radar or bars) with archetypes",
    "surface": "accuracy heatmaps over each 2-D view, rows = views, columns = evals",
    "compression": "completion tokens vs compressed size per completion, by outcome",
    "hazard": "cumulative incidence per outcome and failure hazard over tokens",
}


def _common(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument("dataset", metavar="DATASET", help="dataset.json or the folder holding it")
    p.add_argument("--filters", metavar="JSON", default=None,
                   help='JSON object, e.g. \'{"eval_id": ["3f9a1c"], "base_task": ["arithmetic"]}\'')
    p.add_argument("--format", choices=FORMATS[name], default=FORMATS[name][0],
                   help=f"output format (default {FORMATS[name][0]})")
    p.add_argument("--output-dir", metavar="DIR", default=".", help="where files go; created if missing (default .)")
    p.add_argument("--truncation", choices=TRUNCATION_MODES, default="failure",
                   help="count a truncation as a failure (default) or leave truncated samples out")


def register(sub) -> None:
    for name in PROJECTIONS:
        p = sub.add_parser(name, help=HELP[name], description=HELP[name])
        _common(p, name)
        if name == "spiderweb":
            p.add_argument("--group-by", metavar="DIM", default="base_task",
                           help="one axis per value of DIM (default base_task)")
        elif name == "surface":
            p.add_argument("--view", metavar="NAME", nargs="+", action="extend", default=None,
                           help="view name(s) with two group-by dimensions (default: all matching)")
            p.add_argument("--split-by", choices=("base_task", "none"), default="base_task",
                           help="one file per task (default) or one file")
        elif name == "compression":
            p.add_argument("--split-by", metavar="DIM|none", default="base_task",
                           help="one file per value (default base_task)")
            p.add_argument("--facet-by", metavar="DIM|none", default="eval_id", help="subplot rows (default eval_id)")
            p.add_argument("--group-by", metavar="DIM|none", default="manifold.id",
                           help="marker symbol per value (default manifold.id)")
            p.add_argument("--max-points", metavar="N", type=int, default=20000,
                           help="dots drawn per file; numbers always use all samples (default 20000)")
        elif name == "hazard":
            p.add_argument("--split-by", metavar="DIM|none", default="none", help="one file per value (default none)")
            p.add_argument("--group-by", metavar="DIM|none", default="eval_id",
                           help="one line per value (default eval_id)")
            p.add_argument("--bucket-size", metavar="N", type=int, default=256, help="tokens per bin (default 256)")
        p.set_defaults(run=_run, projection=name)


def options(args: argparse.Namespace) -> dict:
    """CLI flags → the projection's keyword options (the same the dashboard passes)."""
    name = args.projection
    if name == "spiderweb":
        return {"group_by": args.group_by, "style": "bars" if args.format == "barpng" else "radar"}
    if name == "surface":
        return {"views": args.view, "split_by": args.split_by}
    if name == "compression":
        return {"split_by": args.split_by, "facet_by": args.facet_by, "group_by": args.group_by,
                "max_points": args.max_points}
    return {"split_by": args.split_by, "group_by": args.group_by, "bucket_size": args.bucket_size}


def output_dir(path: str) -> Path:
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise InputError(f"--output-dir {path} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    return out


def write(projection: Projection, fmt: str, out: Path) -> list[Path]:
    """Write the projection in ``fmt`` into ``out``; returns the paths written."""
    name = projection.name
    if fmt == "json":
        path = out / f"{name}.json"
        path.write_text(json.dumps(to_json(projection), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return [path]
    if fmt == "csv":
        path = out / f"{name}.csv"
        path.write_text(to_csv(projection), encoding="utf-8")
        return [path]
    paths = [out / (f"{name}-{safe_name(split)}.png" if split is not None else f"{name}.png")
             for split, _ in projection.figures]
    if len(set(paths)) != len(paths):   # two split values that read the same once made safe
        paths = [p.with_name(f"{p.stem}-{i + 1}.png") for i, p in enumerate(paths)]
    export_png([f for _, f in projection.figures], paths)
    return paths


def export_png(figures, paths) -> None:
    """All PNGs in one Chromium session (kaleido): starting the browser is the slow part."""
    import plotly.io as pio

    try:   # write_images ignores layout.width/height (plotly 6+/kaleido 1): pass each figure's own size
        pio.write_images(figures, [str(p) for p in paths], width=[f.layout.width for f in figures],
                         height=[f.layout.height for f in figures])
    except Exception as exc:   # no browser, kaleido missing: say what to do instead
        raise RuntimeError(f"PNG export failed ({type(exc).__name__}: {exc}); kaleido needs Chromium; "
                           "use --format json or csv meanwhile") from exc


def _run(args: argparse.Namespace) -> int:
    out = output_dir(args.output_dir)
    ds = Dataset.open(args.dataset)
    projection = PROJECTIONS[args.projection].run(ds, filters=args.filters, truncation=args.truncation,
                                                  **options(args))
    for note in projection.notes:
        print(note, file=sys.stderr)
    for path in write(projection, args.format, out):
        print(path)
    return 0
