"""A small deterministic dataset for the web tests: 3 evals, 3 tasks, 2-D views, manifolds, groups."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa

from app.engine.schema import eval_id
from app.engine.store import write_dataset

EVALS = (
    ("alpha-7b", "cot", "greedy", ["arch:dense", "size:small"], 4096),
    ("beta-moe", "cot", "temp0.6", ["arch:moe", "size:large"], 8192),
    ("gamma-30b", "direct", "greedy", ["arch:dense", "size:large"], 8192),
)
TASKS = {"adding": {"a": [1, 2, 3], "b": [2, 4]}, "sorting": {"n": [4, 8, 16], "k": [1, 2]},
         "counting": {"x": [1, 2, 3, 4]}}


def ids() -> list[str]:
    return [eval_id(m, t, s) for m, t, s, _, _ in EVALS]


def make_dataset(out: Path, samples: int = 12, seed: int = 3, evals: tuple = EVALS) -> Path:
    """Write the dataset folder ``out`` and return its dataset.json (``evals``: rows like :data:`EVALS`)."""
    rng = np.random.default_rng(seed)
    rows: dict[str, list] = {k: [] for k in ("eval_id", "base_task", "params", "manifold", "outcome",
                                             "completion_tokens", "compressed_bytes", "guess_rate")}
    for e, (model, template, sampler, _, budget) in enumerate(evals):
        for task, grid in TASKS.items():
            keys = list(grid)
            points = np.array(np.meshgrid(*[grid[k] for k in keys])).T.reshape(-1, len(keys))
            for p, values in enumerate(points):
                params = json.dumps({k: int(v) for k, v in zip(keys, values)}, separators=(",", ":"), sort_keys=True)
                hardness = (p + 1) / len(points)
                manifold = json.dumps({"id": f"m{p % 2}", "target_tokens": 1024 * (1 + p % 2)},
                                      separators=(",", ":"), sort_keys=True)
                for _ in range(samples):
                    tokens = int(rng.integers(50, budget))
                    u = rng.random()
                    if tokens > budget * 0.95:
                        outcome, tokens = "truncated", budget
                    elif u < 0.8 - 0.5 * hardness - 0.1 * e:
                        outcome = "correct"
                    elif u < 0.93:
                        outcome = "incorrect"
                    else:
                        outcome = "invalid"
                    rows["eval_id"].append(eval_id(model, template, sampler))
                    rows["base_task"].append(task)
                    rows["params"].append(params)
                    rows["manifold"].append(manifold)
                    rows["outcome"].append(outcome)
                    rows["completion_tokens"].append(tokens)
                    rows["compressed_bytes"].append(int(tokens * rng.uniform(0.2, 0.5)))
                    rows["guess_rate"].append(0.0)
    meta = {"name": "webtest", "title": "Web test data",
            "evals": [{"model": m, "template": t, "sampler": s, "label": f"{m} ({t})", "groups": g,
                       "max_tokens": b} for m, t, s, g, b in evals],
            "tasks": [{"base_task": k, "label": k.title(), "guess_rate": 0.0, "params": list(v)}
                      for k, v in TASKS.items()],
            "provenance": {"source": "tests/web/data.py", "tokens": "exact"}}
    table = pa.table({k: pa.array(v) for k, v in rows.items()})
    write_dataset(out, meta, table, merge=False)
    return Path(out) / "dataset.json"
