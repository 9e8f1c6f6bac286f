"""``analyze.py import``: read evaluation results with an adapter into a dataset folder."""

from __future__ import annotations

import argparse

from app.importers import ADAPTERS
from app.importers.runner import import_sources


def register(sub) -> None:
    adapters = "; ".join(f"{name}: {module.HELP}" for name, module in ADAPTERS.items())
    parser = sub.add_parser(
        "import", help="import results into a dataset folder (new or merged)",
        description="Import evaluation results with an adapter and write (or merge into) a dataset folder, "
                    "atomically: on any bad record the target is left exactly as it was.")
    parser.add_argument("sources", nargs="+", metavar="SOURCE", help="files or folders to read")
    parser.add_argument("--adapter", required=True, metavar="NAME", help=f"source format ({adapters})")
    parser.add_argument("--out", required=True, metavar="DIR", help="dataset folder to create or merge into")
    parser.add_argument("--name", help="dataset name (default: the folder name; kept when merging)")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    report = import_sources(args.sources, args.adapter, args.out, args.name)
    print("\n".join(report.lines()))
    return 0
