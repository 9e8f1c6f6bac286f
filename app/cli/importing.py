"""``analyze.py import``: read evaluation results with an adapter into a dataset folder.

The adapters named in ``--help`` are read from the registry each time the parser is built,
so an adapter registered later (a plugin, a test) is listed and accepted with no edit here.
"""

from __future__ import annotations

import argparse

from app.importers import adapters
from app.importers.runner import import_sources


def adapters_epilog() -> str:
    """One line per registered adapter: name, what it reads, and its file suffixes."""
    registered = adapters()
    width = max((len(a.name) for a in registered), default=0)
    lines = [f"  {a.name:<{width}}  {a.help}" + (f" [{' '.join(a.suffixes)}]" if a.suffixes else "")
             for a in registered]
    return "adapters:\n" + "\n".join(lines)


def register(sub) -> None:
    """Add the ``import`` sub-command to ``sub``."""
    names = ", ".join(a.name for a in adapters())
    parser = sub.add_parser(
        "import", help="import results into a dataset folder (new or merged)",
        description="Import evaluation results with an adapter and write (or merge into) a dataset folder, "
                    "atomically: on any bad record the target is left exactly as it was.",
        epilog=adapters_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sources", nargs="+", metavar="SOURCE", help="files or folders to read")
    parser.add_argument("--adapter", required=True, metavar="NAME", help=f"source format: one of {names}")
    parser.add_argument("--out", required=True, metavar="DIR", help="dataset folder to create or merge into")
    parser.add_argument("--name", help="dataset name (default: the folder name; kept when merging)")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    report = import_sources(args.sources, args.adapter, args.out, args.name)
    print("\n".join(report.lines()))
    return 0
