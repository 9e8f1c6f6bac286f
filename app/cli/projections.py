"""``analyze.py <projection>``: run a projection, write its files.

Every subcommand and its flags are built from the projection's declaration
(:mod:`app.projections.spec`): a registered projection is a subcommand, with
no code here that names one. Stdout gets one written path per line (scripts can
read it); the projection's notes (archetypes, down-sampling, what cannot be
shown) go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from app.engine import Dataset
from app.engine.errors import InputError
from app.engine.stats import TRUNCATION_MODES
from app.projections import SPECS, Projection, to_csv, to_json
from app.projections.base import safe_name
from app.projections.spec import Option, OptionKind, ProjectionSpec


def _common(p: argparse.ArgumentParser, spec: ProjectionSpec) -> None:
    p.add_argument("dataset", metavar="DATASET", help="dataset.json or the folder holding it")
    p.add_argument("--filters", metavar="JSON", default=None,
                   help='JSON object, e.g. \'{"eval_id": ["3f9a1c"], "base_task": ["arithmetic"]}\'')
    p.add_argument("--format", choices=spec.formats, default=spec.default_format,
                   help=f"output format (default {spec.default_format})")
    p.add_argument("--output-dir", metavar="DIR", default=".", help="where files go; created if missing (default .)")
    p.add_argument("--truncation", choices=TRUNCATION_MODES, default="failure",
                   help="count a truncation as a failure (default) or leave truncated samples out")


def _flag(p: argparse.ArgumentParser, opt: Option) -> None:
    """One option's flag; its kind decides how argparse reads it."""
    kw: dict[str, Any] = {"dest": opt.name, "default": opt.cli_default, "help": opt.cli_help or opt.help}
    if opt.kind is OptionKind.CHOICE:
        kw["choices"] = opt.choices
    else:
        kw["metavar"] = opt.cli_metavar
    if opt.kind is OptionKind.VIEWS:
        kw.update(nargs="+", action="extend")
    elif opt.kind is OptionKind.INT:
        kw["type"] = int
    p.add_argument(opt.cli_flag, **kw)


def register(sub: argparse._SubParsersAction) -> None:
    """One subcommand per registered projection, in page order, with the flags its spec declares."""
    for spec in SPECS.values():
        p = sub.add_parser(spec.name, help=spec.help, description=spec.help)
        _common(p, spec)
        for opt in spec.flag_options:
            _flag(p, opt)
        p.set_defaults(run=_run, projection=spec.name)


def options(args: argparse.Namespace) -> dict[str, Any]:
    """CLI flags → the projection's keyword options (the same the dashboard passes)."""
    spec = SPECS[args.projection]
    out = spec.format_options(args.format)
    out.update({opt.keyword: getattr(args, opt.name) for opt in spec.flag_options})
    return out


def output_dir(path: str) -> Path:
    """``--output-dir``, created when missing; InputError when it is a file."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise InputError(f"--output-dir {path} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    return out


def write(projection: Projection, fmt: str, out: Path) -> list[Path]:
    """Write the projection in ``fmt`` into ``out``; returns the paths written."""
    name = projection.name
    kind = ProjectionSpec.writes(fmt)
    if kind == "json":
        path = out / f"{name}.json"
        path.write_text(json.dumps(to_json(projection), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return [path]
    if kind == "csv":
        path = out / f"{name}.csv"
        path.write_text(to_csv(projection), encoding="utf-8")
        return [path]
    paths = [out / (f"{name}-{safe_name(split)}.png" if split is not None else f"{name}.png")
             for split, _ in projection.figures]
    if len(set(paths)) != len(paths):   # two split values that read the same once made safe
        paths = [p.with_name(f"{p.stem}-{i + 1}.png") for i, p in enumerate(paths)]
    export_png([f for _, f in projection.figures], paths)
    return paths


def export_png(figures: list[Any], paths: list[Path]) -> None:
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
    projection = SPECS[args.projection].run(ds, filters=args.filters, truncation=args.truncation, **options(args))
    for note in projection.notes:
        print(note, file=sys.stderr)
    for path in write(projection, args.format, out):
        print(path)
    return 0
