"""Small datasets with known content, written through the real store."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from app.engine import Dataset
from app.engine.schema import OUTCOMES, eval_id
from app.engine.store import write_dataset

EVALS = [
    {"model": "alpha", "template": "chat", "sampler": "greedy", "groups": ["arch:moe", "size:large"],
     "max_tokens": 4096},
    {"model": "beta", "template": "chat", "sampler": "greedy", "groups": ["arch:dense", "size:large"],
     "max_tokens": 2048},
    {"model": "gamma", "template": "plain", "sampler": "t0.7", "groups": ["arch:dense", "size:small"]},
]


def random_rows(seed: int = 0, samples: int = 12) -> list[dict]:
    """Three evals × two tasks × a 3×2 grid, random outcomes and tokens (some missing)."""
    rng = np.random.default_rng(seed)
    rows = []
    for ev in EVALS:
        eid = eval_id(ev["model"], ev["template"], ev["sampler"])
        for task, guess in (("arith", 0.0), ("choice", 0.25)):
            for x in (1, 2, 3):
                for y in ("a", "b"):
                    n = samples + int(rng.integers(0, 6))
                    for _ in range(n):
                        tokens = int(rng.integers(0, 3000))
                        rows.append({
                            "eval_id": eid, "base_task": task,
                            "params": json.dumps({"x": x, "y": y}, separators=(",", ":"), sort_keys=True),
                            "manifold": json.dumps({"id": f"grid{x}", "target_tokens": 512 * x}, sort_keys=True,
                                                   separators=(",", ":")),
                            "outcome": str(rng.choice(OUTCOMES, p=[0.5, 0.25, 0.1, 0.15])),
                            "completion_tokens": None if rng.random() < 0.03 else tokens,
                            "compressed_bytes": tokens // 3,
                            "guess_rate": guess,
                        })
    return rows


def write(path, rows: list[dict], evals=EVALS, **meta) -> Dataset:
    write_dataset(path, {"name": meta.pop("name", "test"), "evals": evals, "tasks": [], **meta},
                  pa.Table.from_pylist(rows), merge=False)
    return Dataset.open(path)


@pytest.fixture()
def rows() -> list[dict]:
    return random_rows()


@pytest.fixture()
def ds(tmp_path, rows) -> Dataset:
    return write(tmp_path / "ds", rows)
