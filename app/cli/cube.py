"""``analyze.py cube``: build the cube a dataset is served from past one machine's memory (``app.cube``)."""

from __future__ import annotations

import argparse
import sys

from app.cube.build import ENGINES, build_cube


def register(sub: argparse._SubParsersAction) -> None:
    """The ``cube`` subcommand."""
    p = sub.add_parser(
        "cube", help="summarise a dataset's samples into a cube the dashboard serves with memory per cell",
        description="Build the cube of DATASET: per (eval, task, params, manifold, outcome) the counts, guess and "
                    "token sums, a token histogram and a seeded sample of dots per point, written to DIR with a "
                    "dataset.json that declares it. DATASET's samples may be one Parquet file, a partitioned "
                    "folder or a glob, local or behind an fsspec URL. Open DIR like any dataset.")
    p.add_argument("dataset", metavar="DATASET", help="a dataset.json or the folder holding one")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the cube and its dataset.json")
    p.add_argument("--engine", choices=ENGINES, default="duckdb",
                   help="duckdb: embedded, streams and spills to disk (default); dask: on a Dask cluster")
    p.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="with --engine dask: the scheduler to run on (e.g. tcp://10.0.0.5:8786); "
                        "default: a local cluster for this build")
    p.add_argument("--memory-limit", metavar="SIZE", default=None,
                   help="with --engine duckdb: the most memory it takes before spilling to disk, e.g. 4GB "
                        "(default: DuckDB's own, 80%% of the machine's memory)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Build, print the dataset.json written, and on stderr what the cube holds."""
    s = build_cube(args.dataset, args.out, engine=args.engine, scheduler=args.scheduler,
                   memory_limit=args.memory_limit)
    print(s.path)
    print(f"cube ({s.engine}, {s.seconds:.1f} s): {s.completions:,} completions in {s.points:,} points and "
          f"{s.cells:,} cells; {s.hist_entries:,} histogram entries, {s.dots:,} dots; {s.bytes / 1e6:.1f} MB",
          file=sys.stderr)
    return 0
