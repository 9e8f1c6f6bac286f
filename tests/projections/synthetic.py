"""A small dataset with known, planted behaviour for projection and figure tests.

Four evals, four tasks, 7 680 samples: fast to build, and every projection has
something true to find, independent of the bundled demo data:

- Alpha: balanced generalist, except a cliff on ``arith`` at length ≥ 3.
- Beta: task specialist with a context wall: failures pile up at 4 096–4 351 tokens.
- Gamma: truncation victim (budget 4 096) with broken loops on ``loops``
  (tokens near the budget, compressed size flat around 200 bytes).
- Delta: inefficient reasoner (about 3× the tokens, decent accuracy).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa

from app.engine.schema import eval_id
from app.engine.store import write_dataset

EVALS = {
    "Alpha": dict(max_tokens=8192, groups=["arch:dense", "size:large"], acc=[0.8, 0.78, 0.74, 0.8], trunc=0.01,
                  tokens=700),
    "Beta": dict(max_tokens=8192, groups=["arch:moe", "size:large"], acc=[0.96, 0.25, 0.3, 0.45], trunc=0.02,
                 tokens=900),
    "Gamma": dict(max_tokens=4096, groups=["arch:dense", "size:small"], acc=[0.6, 0.55, 0.5, 0.5], trunc=0.2,
                  tokens=1000),
    "Delta": dict(max_tokens=16384, groups=["arch:moe", "size:small"], acc=[0.75, 0.7, 0.6, 0.72], trunc=0.0,
                  tokens=2600),
}
TASKS = {
    "arith": {"length": [1, 2, 3, 4], "depth": [1, 2, 3]},
    "logic": {"a": [1, 2, 3], "b": [1, 2, 3], "c": [0, 1]},
    "loops": {"size": [1, 2, 3], "width": [1, 2, 3]},
    "sort": {"n": [2, 3, 4], "k": [1, 2, 3]},
}
GUESS = {"sort": 0.25}
SAMPLES_PER_POINT = 40
CONTEXT_WALL = (4096, 4352)


def ids() -> dict[str, str]:
    return {name: eval_id(name.lower(), "chat", "greedy") for name in EVALS}


def _points(task: str):
    keys = list(TASKS[task])
    grids = np.meshgrid(*[TASKS[task][k] for k in keys], indexing="ij")
    for combo in zip(*(g.ravel() for g in grids)):
        yield dict(zip(keys, (int(v) for v in combo)))


def build(out: Path, seed: int = 7) -> Path:
    """Write the dataset folder ``out`` and return its dataset.json."""
    rng = np.random.default_rng(seed)
    rows: list[dict] = []
    for name, ev in EVALS.items():
        eid = ids()[name]
        for t_index, task in enumerate(sorted(TASKS)):
            for params in _points(task):
                difficulty = sum(params.values()) / 10
                p = ev["acc"][t_index]
                if name == "Alpha" and task == "arith":
                    p = 1.0 if params["length"] <= 2 else 0.05   # the cliff
                manifold = {"id": f"m{list(params.values())[-1]}", "target_tokens": 512 * list(params.values())[0]}
                for _ in range(SAMPLES_PER_POINT):
                    u = rng.random()
                    if u < ev["trunc"]:
                        outcome = "truncated"
                    elif rng.random() < p:
                        outcome = "correct"
                    else:
                        outcome = "invalid" if rng.random() < 0.15 else "incorrect"
                    tokens = int(ev["tokens"] * (1 + difficulty) * rng.lognormal(0, 0.35))
                    tokens = min(tokens, ev["max_tokens"] - 1)
                    cbytes = int(tokens * 0.38 * rng.uniform(0.85, 1.15)) + 40
                    if outcome == "truncated":
                        tokens = ev["max_tokens"]
                        cbytes = int(tokens * 0.3)
                    if name == "Beta" and outcome in ("incorrect", "invalid") and rng.random() < 0.6:
                        tokens = int(rng.integers(*CONTEXT_WALL))
                        cbytes = int(tokens * 0.36)
                    if name == "Gamma" and task == "loops" and outcome != "correct":
                        tokens = int(rng.integers(3600, 4096)) if outcome != "truncated" else tokens
                        cbytes = int(rng.integers(180, 230))   # the broken loop: long and repetitive
                    rows.append(dict(eval_id=eid, base_task=task,
                                     params=json.dumps(params, sort_keys=True, separators=(",", ":")),
                                     manifold=json.dumps(manifold, sort_keys=True, separators=(",", ":")),
                                     outcome=outcome, completion_tokens=tokens, compressed_bytes=cbytes,
                                     guess_rate=GUESS.get(task, 0.0)))
    meta = {
        "name": "synthetic", "title": "Synthetic test data",
        "evals": [{"model": n.lower(), "template": "chat", "sampler": "greedy", "label": f"{n} (chat, greedy)",
                   "groups": e["groups"], "max_tokens": e["max_tokens"]} for n, e in EVALS.items()],
        "tasks": [{"base_task": t, "label": t.title(), "guess_rate": GUESS.get(t, 0.0), "params": list(TASKS[t])}
                  for t in sorted(TASKS)],
        "views": [
            {"name": "arith: length x depth", "base_task": "arith", "group_by": ["params.length", "params.depth"]},
            {"name": "logic: a x b (c=0)", "base_task": "logic", "group_by": ["params.a", "params.b"],
             "filters": {"params.c": 0}},
            {"name": "logic: a x c", "base_task": "logic", "group_by": ["params.a", "params.c"]},
            {"name": "logic: a x b x c", "base_task": "logic", "group_by": ["params.a", "params.b", "params.c"]},
            {"name": "loops: size x width", "base_task": "loops", "group_by": ["params.size", "params.width"]},
            {"name": "sort: n x k", "base_task": "sort", "group_by": ["params.n", "params.k"]},
        ],
        "provenance": {"source": "tests/projections/synthetic.py", "tokens": "exact"},
    }
    write_dataset(out, meta, pa.Table.from_pylist(rows), merge=False)
    return out / "dataset.json"


def build_bare(out: Path) -> Path:
    """The shape of real data with nothing to time: no tokens, no bytes, one param (so no 2-D view)."""
    rows = [dict(eval_id="e", base_task="t", params=json.dumps({"level": lv}), manifold=None, outcome=o,
                 completion_tokens=None, compressed_bytes=None, guess_rate=0.0)
            for lv in ("easy", "hard") for o in ("correct", "incorrect", "invalid", "correct")]
    schema = pa.schema([("eval_id", pa.string()), ("base_task", pa.string()), ("params", pa.string()),
                        ("manifold", pa.string()), ("outcome", pa.string()), ("completion_tokens", pa.int32()),
                        ("compressed_bytes", pa.int32()), ("guess_rate", pa.float32())])
    write_dataset(out, {"name": "bare", "evals": [{"eval_id": "e", "model": "m"}], "tasks": []},
                  pa.Table.from_pylist(rows, schema=schema), merge=False)
    return out / "dataset.json"
