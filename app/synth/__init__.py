"""Deterministic synthetic evaluation data with planted, documented behaviour (spec §11).

``write_demo(out, scale, seed)`` writes a dataset folder plus ``demo-truth.json``;
``make_plan(scale)`` gives the sizes without generating anything.
"""

from app.synth.generate import DEFAULT_SEED, TRUTH_FILE, generate_rows, to_table, write_demo
from app.synth.plan import Plan, make_plan

__all__ = ["DEFAULT_SEED", "TRUTH_FILE", "Plan", "generate_rows", "make_plan", "to_table", "write_demo"]
