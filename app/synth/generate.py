"""From a plan to rows, to an Arrow table, to a dataset folder with its truth file."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from app.engine.schema import OUTCOMES, SAMPLES_SCHEMA
from app.engine.store import read_meta, write_dataset
from app.synth.behaviour import GUESS, sample_eval
from app.synth.catalog import TASK_NAMES
from app.synth.meta import build_meta
from app.synth.plan import Plan, make_plan
from app.synth.truth import Rows, build_truth, check

DEFAULT_SEED = 7
TRUTH_FILE = "demo-truth.json"


def generate_rows(plan: Plan, seed: int) -> Rows:
    """Sample every eval (each from its own stream) and stack the rows."""
    parts = [sample_eval(plan, e, seed) for e in range(len(plan.evals))]
    return Rows(
        eval=np.repeat(np.arange(len(plan.evals), dtype=np.int16), plan.rows_per_eval),
        point=np.concatenate([p.point for p in parts]),
        outcome=np.concatenate([p.outcome for p in parts]),
        tokens=np.concatenate([p.tokens for p in parts]),
        compressed=np.concatenate([p.compressed for p in parts]),
        loop=np.concatenate([p.loop for p in parts]),
    )


def _decode(values: list[str], codes: np.ndarray) -> pa.Array:
    """Strings by code: a dictionary array decoded once, never a Python loop over rows."""
    return pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(values, pa.string())).dictionary_decode()


def to_table(plan: Plan, rows: Rows) -> pa.Table:
    """The public samples schema (spec §2); strings come from per-point lookups."""
    point_task = plan.point_task.astype(np.int32)
    columns = {
        "eval_id": _decode(plan.eval_ids, rows.eval.astype(np.int32)),
        "base_task": _decode(list(TASK_NAMES), point_task[rows.point]),
        "params": _decode(plan.params_json, rows.point),
        "manifold": _decode(plan.manifold_json, rows.point),
        "outcome": _decode(list(OUTCOMES), rows.outcome.astype(np.int32)),
        "completion_tokens": pa.array(rows.tokens, pa.int32()),
        "compressed_bytes": pa.array(rows.compressed, pa.int32()),
        "guess_rate": pa.array(GUESS[plan.point_task][rows.point], pa.float64()),
    }
    return pa.table(columns, schema=SAMPLES_SCHEMA)


@dataclass
class DemoResult:
    """What ``write_demo`` wrote, for the CLI to print."""

    paths: list[Path]
    counts: dict[str, int]
    seconds: float
    problems: list[str] = field(default_factory=list)
    truth: dict[str, Any] = field(default_factory=dict, repr=False)


def _clear_previous(out: Path) -> None:
    """Drop an earlier generated dataset in ``out`` so the files keep their canonical names.

    Only a folder this command wrote (it holds the truth file) is cleared; the
    JSON goes first, so a reader never finds a dataset naming a missing file.
    """
    meta_path, truth_path = out / "dataset.json", out / TRUTH_FILE
    if not (meta_path.is_file() and truth_path.is_file()):
        return
    samples = read_meta(meta_path).samples
    meta_path.unlink()
    (out / samples).unlink(missing_ok=True)
    truth_path.unlink()


def _write_json(obj: Any, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def write_demo(out: str | os.PathLike, scale: str = "demo", seed: int = DEFAULT_SEED) -> DemoResult:
    """Generate ``scale`` with ``seed`` into the folder ``out`` (dataset + demo-truth.json)."""
    started = time.perf_counter()
    out = Path(out)
    plan = make_plan(scale)
    rows = generate_rows(plan, seed)
    truth = build_truth(plan, rows, seed)
    table = to_table(plan, rows)
    del rows
    _clear_previous(out)
    summary = write_dataset(out, build_meta(plan, seed), table, merge=False)
    del table
    samples = out / read_meta(summary.path).samples
    _write_json(truth, out / TRUTH_FILE)
    return DemoResult(paths=[summary.path, samples, out / TRUTH_FILE], counts=plan.counts(),
                      seconds=time.perf_counter() - started, problems=check(truth, plan), truth=truth)
