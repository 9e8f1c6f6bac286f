"""A deterministic dataset with many evals (24 by default) for the many-eval pages: 4 tasks, 2-D grids.

Each eval's accuracy falls with the grid point's hardness and with the eval's index, so the
evals differ and sort; every third eval is given a short budget (many truncations) so the
archetypes differ too.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa

from app.engine.schema import eval_id
from app.engine.store import write_dataset

TASKS = {"adding": {"a": [1, 2, 3], "b": [2, 4]}, "sorting": {"n": [4, 8], "k": [1, 2]},
         "counting": {"x": [1, 2], "y": [1, 2]}, "parsing": {"d": [1, 2], "w": [3, 6]}}


def model(i: int) -> str:
    return f"m{i:02d}"


def ids(n_evals: int) -> list[str]:
    return [eval_id(model(i), "cot", "greedy") for i in range(n_evals)]


def make_many(out: Path, n_evals: int = 24, samples: int = 8, seed: int = 5) -> Path:
    """Write the dataset folder ``out`` with ``n_evals`` evals and return its dataset.json."""
    rng = np.random.default_rng(seed)
    rows: dict[str, list] = {k: [] for k in ("eval_id", "base_task", "params", "manifold", "outcome",
                                             "completion_tokens", "compressed_bytes", "guess_rate")}
    for e in range(n_evals):
        budget = 1024 if e % 3 == 2 else 4096
        skill = 0.95 - 0.6 * e / max(n_evals - 1, 1)
        for t, (task, grid) in enumerate(TASKS.items()):
            keys = list(grid)
            points = np.array(np.meshgrid(*[grid[k] for k in keys])).T.reshape(-1, len(keys))
            for p, values in enumerate(points):
                params = json.dumps({k: int(v) for k, v in zip(keys, values)}, separators=(",", ":"), sort_keys=True)
                hardness = 0.3 * p / len(points) + 0.1 * ((t + e) % 4)
                for _ in range(samples):
                    tokens = int(rng.integers(50, 1400))
                    if tokens >= budget:
                        outcome, tokens = "truncated", budget
                    else:
                        outcome = "correct" if rng.random() < skill - hardness else "incorrect"
                    rows["eval_id"].append(eval_id(model(e), "cot", "greedy"))
                    rows["base_task"].append(task)
                    rows["params"].append(params)
                    rows["manifold"].append(json.dumps({"id": "m0"}))
                    rows["outcome"].append(outcome)
                    rows["completion_tokens"].append(tokens)
                    rows["compressed_bytes"].append(int(tokens * rng.uniform(0.2, 0.5)))
                    rows["guess_rate"].append(0.0)
    meta = {"name": "many", "title": "Many evals",
            "evals": [{"model": model(i), "template": "cot", "sampler": "greedy", "label": f"Model {i:02d}",
                       "groups": [], "max_tokens": 1024 if i % 3 == 2 else 4096} for i in range(n_evals)],
            "tasks": [{"base_task": k, "label": k.title(), "guess_rate": 0.0, "params": list(v)}
                      for k, v in TASKS.items()],
            "provenance": {"source": "tests/web/many_data.py", "tokens": "exact"}}
    write_dataset(out, meta, pa.table({k: pa.array(v) for k, v in rows.items()}), merge=False)
    return Path(out) / "dataset.json"
