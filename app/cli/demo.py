"""``analyze.py demo``: write the bundled synthetic dataset (or the r12 benchmark scale)."""

from __future__ import annotations

import argparse
import sys

from app.synth import DEFAULT_SEED, write_demo
from app.synth.catalog import SCALES


def register(sub: argparse._SubParsersAction) -> None:
    """The ``demo`` subcommand."""
    p = sub.add_parser("demo", help="generate the synthetic dataset with planted behaviour",
                       description="Generate a deterministic synthetic dataset (fictional models) and its "
                                   "planted truth (demo-truth.json). Same seed, same bytes.")
    p.add_argument("--out", required=True, metavar="DIR", help="dataset folder to write (e.g. data)")
    p.add_argument("--scale", choices=SCALES, default="demo",
                   help="demo: ~8 evals, committed; r12: 64 evals, ~8.8 M samples, for benchmarks")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Write the dataset, print its paths, and on stderr its size and any planted behaviour that came out off."""
    result = write_demo(args.out, scale=args.scale, seed=args.seed)
    for path in result.paths:
        print(path)
    c = result.counts
    print(f"{args.scale}: {c['evals']} evals x {c['tasks']} tasks, {c['points_per_eval']} points per eval, "
          f"{c['samples_per_point']} samples per point = {c['samples']:,} samples (seed {args.seed}, "
          f"{result.seconds:.1f} s)", file=sys.stderr)
    for problem in result.problems:
        print(f"warning: planted behaviour off: {problem}", file=sys.stderr)
    return 0
