"""``analyze.py report``: the user's Workflow 1 (one eval) or 2 (several) end to end, as one file.

The four projections (spiderweb; surface on the weakest tasks; compression on the most
token-hungry; hazard), every finding with its evidence and link, the comparison when several
evals are selected, and the next steps (:mod:`app.report`). ``--format html`` (default) writes
``report.html``, one self-contained file (plotly.js inlined, no network); ``md`` writes
``report.md`` for a pull request with each figure as a PNG beside it (the projections' own PNG
export, so the files are those the workflow's commands write); ``json`` writes ``report.json``.
Stdout gets each written path; notes go to stderr. No eval matching the filters, or malformed
filters, is exit 2 with one line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.cli.projections import output_dir, write
from app.engine import Dataset
from app.engine.stats import TRUNCATION_MODES
from app.projections.catalog import REPORT
from app.report import Report, build, render_html, render_markdown, to_json
from app.report.text import DEFAULT_BASE_URL

FORMATS = ("html", "md", "json")


def register(sub: argparse._SubParsersAction) -> None:
    """The ``report`` subcommand."""
    p = sub.add_parser(REPORT, help="the workflow end to end: the four projections, findings, comparison, next steps",
                       description="Run the characterisation workflow on the selected evals (one: Workflow 1; "
                                   "several: Workflow 2) and write it as one report: spiderweb, surface on the "
                                   "weakest tasks, compression on the most token-hungry, hazard, every finding "
                                   "with its evidence and dashboard link, the comparison and the next steps.")
    p.add_argument("dataset", metavar="DATASET", help="dataset.json or the folder holding it")
    p.add_argument("--filters", metavar="JSON", default=None,
                   help='JSON object, e.g. \'{"eval_id": ["3f9a1c"]}\' (one eval: characterise it; several: '
                        "compare them)")
    p.add_argument("--format", choices=FORMATS, default="html",
                   help="html (default: one self-contained file), md (Markdown + PNG figures) or json")
    p.add_argument("--output-dir", metavar="DIR", default=".", help="where files go; created if missing (default .)")
    p.add_argument("--truncation", choices=TRUNCATION_MODES, default="failure",
                   help="count a truncation as a failure (default) or leave truncated samples out")
    p.add_argument("--base-url", metavar="URL", default=DEFAULT_BASE_URL,
                   help="the dashboard the report's links open (default %(default)s, where 'make run' serves); "
                        "'' writes them as paths")
    p.set_defaults(run=_run)


def _markdown(report: Report, out: Path, base_url: str | None) -> list[Path]:
    """report.md and its figures as PNGs beside it (or, without PNG export, the .md alone with a note)."""
    images: dict[str, list[str]] = {}
    written: list[Path] = []
    for step in report.all_steps():
        if step.result is None or not step.result.figures:
            continue
        try:
            paths = write(step.result, "png", out)
        except RuntimeError as exc:  # no Chromium for kaleido: the text is still worth having
            report.notes.append(f"Figures were not written as PNG ({exc}); the HTML report draws them.")
            break
        images[step.projection] = [p.name for p in paths]
        written += paths
    path = out / f"{REPORT}.md"
    path.write_text(render_markdown(report, images, base_url=base_url), encoding="utf-8")
    return [path, *written]


def _run(args: argparse.Namespace) -> int:
    out = output_dir(args.output_dir)
    ds = Dataset.open(args.dataset)
    report = build(ds, args.filters, args.truncation, dataset_arg=args.dataset)
    base_url = args.base_url or None
    if args.format == "md":
        paths = _markdown(report, out, base_url)
    elif args.format == "json":
        paths = [out / f"{REPORT}.json"]
        paths[0].write_text(json.dumps(to_json(report), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    else:
        paths = [out / f"{REPORT}.html"]
        paths[0].write_text(render_html(report, base_url=base_url), encoding="utf-8")
    for step in report.all_steps():
        if step.skipped:
            print(f"{step.projection}: not drawn: {step.skipped}", file=sys.stderr)
    for note in report.notes:
        print(note, file=sys.stderr)
    for path in paths:
        print(path)
    return 0


__all__ = ["FORMATS", "register"]
