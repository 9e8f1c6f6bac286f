"""The shape of a generated dataset: evals, task grids, points and row counts.

Planning is cheap and separate from sampling, so sizes (e.g. the r12 row count)
can be known and tested without generating anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from app.engine.schema import canonical_json, eval_id
from app.synth.catalog import SAMPLES_PER_POINT, SCALES, TASKS, TIERS, EvalSpec, TaskSpec, evals_for


@dataclass
class TaskGrid:
    """All points of one task: raw values and 0..1 positions per param, and difficulty."""

    spec: TaskSpec
    start: int  # first global point index
    values: dict[str, np.ndarray]
    fracs: dict[str, np.ndarray]
    difficulty: np.ndarray

    @property
    def size(self) -> int:
        return len(self.difficulty)

    @property
    def slice(self) -> slice:
        return slice(self.start, self.start + self.size)


@dataclass
class Plan:
    """Everything fixed before sampling; per-point arrays are global over all tasks."""

    scale: str
    evals: tuple[EvalSpec, ...]
    grids: tuple[TaskGrid, ...]
    samples_per_point: int
    point_task: np.ndarray = field(repr=False)
    point_difficulty: np.ndarray = field(repr=False)
    params_json: list[str] = field(repr=False)
    manifold_json: list[str] = field(repr=False)

    @property
    def eval_ids(self) -> list[str]:
        return [eval_id(e.model, e.template, e.sampler) for e in self.evals]

    @property
    def points_per_eval(self) -> int:
        return len(self.point_task)

    @property
    def rows_per_eval(self) -> int:
        return self.points_per_eval * self.samples_per_point

    @property
    def rows(self) -> int:
        return len(self.evals) * self.rows_per_eval

    def grid(self, task: str) -> TaskGrid:
        return next(g for g in self.grids if g.spec.name == task)

    def counts(self) -> dict[str, int]:
        """The arithmetic of the scale, e.g. for the CLI summary and tests."""
        return {"evals": len(self.evals), "tasks": len(self.grids), "points_per_eval": self.points_per_eval,
                "points": len(self.evals) * self.points_per_eval, "samples_per_point": self.samples_per_point,
                "samples": self.rows}


def _task_grid(spec: TaskSpec, scale: str, start: int) -> TaskGrid:
    axes = [np.asarray(p.values(scale), dtype=np.int64) for p in spec.params]
    mesh = np.meshgrid(*axes, indexing="ij")
    idx = np.meshgrid(*[np.arange(len(a)) for a in axes], indexing="ij")
    values = {p.name: m.ravel() for p, m in zip(spec.params, mesh)}
    fracs = {p.name: (i.ravel() / max(len(a) - 1, 1)) for p, i, a in zip(spec.params, idx, axes)}
    weights = np.array([p.weight for p in spec.params])
    difficulty = sum(w * fracs[p.name] for w, p in zip(weights, spec.params)) / weights.sum()
    return TaskGrid(spec=spec, start=start, values=values, fracs=fracs, difficulty=difficulty)


def _tier(d: float) -> tuple[str, int]:
    return TIERS[min(int(d * len(TIERS)), len(TIERS) - 1)]


def make_plan(scale: str = "demo") -> Plan:
    """Lay out evals and every task's grid for ``scale`` (see catalog.SCALES)."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; valid: {', '.join(SCALES)}")
    grids, start = [], 0
    for spec in TASKS:
        grid = _task_grid(spec, scale, start)
        grids.append(grid)
        start += grid.size
    params_json, manifold_json = [], []
    for grid in grids:
        names = [p.name for p in grid.spec.params]
        for i in range(grid.size):
            params_json.append(canonical_json({n: int(grid.values[n][i]) for n in names}))
            tier, target = _tier(float(grid.difficulty[i]))
            manifold_json.append(canonical_json({"id": f"{grid.spec.name}-{tier}", "target_tokens": target}))
    return Plan(
        scale=scale,
        evals=evals_for(scale),
        grids=tuple(grids),
        samples_per_point=SAMPLES_PER_POINT[scale],
        point_task=np.concatenate([np.full(g.size, i, dtype=np.int16) for i, g in enumerate(grids)]),
        point_difficulty=np.concatenate([g.difficulty for g in grids]),
        params_json=params_json,
        manifold_json=manifold_json,
    )
