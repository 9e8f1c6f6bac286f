"""Real difficulty axes for reasoning-gym-eval task files: which files get them, the bins, the views.

Each task file is rebuilt with reasoning-gym (``reasoning_gym_rebuild``); a file gets its entries'
difficulty coordinates as params only when every rebuilt question equals the stored one, else it
keeps the ``level`` param alone and a note names the file and why. A numeric axis with too many
values for surface columns is binned (``binning``). Views come from the real axes only (``level``
names a run's config, not a difficulty): every pair ``store.propose_views`` accepts, or, for a task
with no such pair, a 1-D view of its axis, so no surface is proposed over ``level``.

Whether an axis is binned is decided by the import that first brings the task (more than
MAX_AXIS_VALUES values in it); an import merged into a dataset that has the task follows that
dataset, so every point of a task has the bin or none has, and a note says when the two disagree.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

from app.engine.meta import DatasetMeta, TaskMeta, ViewMeta
from app.engine.schema import canonical_json
from app.engine.store import BIN_SUFFIX, propose_views
from app.importers.binning import BIN_RULE, many_valued, with_bins
from app.importers.reasoning_gym_rebuild import LEVEL, Rebuilder, digest


class TaskFile(Protocol):
    """What this module reads and sets on the adapter's per-file record."""

    task: str
    config: dict[str, Any]
    source: Path
    questions: list[str | None]  # per result entry
    coords: list[dict[str, Any]] | None  # per result entry; None = the level param alone


def rebuild_all(files: Sequence[TaskFile], rebuilder: Rebuilder,
                progress: Callable[[int], Any]) -> list[str]:
    """Set ``coords`` on every file whose rebuild matches; the notes saying what happened.

    ``progress(total)`` makes the progress counter for the entries that must be generated
    (rebuilds found in a cache cost nothing and are not counted).
    """
    needed: dict[tuple[str, str], int] = {}
    for f in files:
        key = (f.task, canonical_json(f.config))
        needed[key] = max(needed.get(key, 0), len(f.questions))
    todo = sum(n for (task, config), n in needed.items() if rebuilder.cached(task, json.loads(config), n) is None)
    counter = progress(todo)
    notes: list[str] = []
    unused: dict[str, dict[str, str]] = {}
    for f in files:
        n = needed[(f.task, canonical_json(f.config))]
        built = rebuilder.rebuild(f.task, f.config, n, counter.step)
        if built.error:
            notes.append(f"{f.source}: not rebuilt: {built.error}; it keeps the '{LEVEL}' param alone")
            continue
        differ = [i for i, q in enumerate(f.questions) if q is None or digest(q) != built.questions[i]]
        if differ:
            notes.append(f"{f.source}: the question reasoning-gym rebuilds from its config differs from the stored "
                         f"one at {len(differ)} of {len(f.questions)} entries (first: results[{differ[0]}]), so "
                         f"its difficulty values cannot be trusted; it keeps the '{LEVEL}' param alone")
            continue
        f.coords = [dict(c) for c in built.coordinates[:len(f.questions)]]
        for knob, reason in built.unused.items():
            unused.setdefault(f.task, {}).setdefault(knob, reason)
    counter.done()
    for task, knobs in sorted(unused.items()):
        notes.append(f"{task}: no axis from difficulty knob(s) " +
                     "; ".join(f"'{k}' ({why})" for k, why in knobs.items()))
    return notes + rebuilder.notes


def axes_and_views(files: Sequence[TaskFile], existing: DatasetMeta | None = None
                   ) -> tuple[dict[str, tuple[str, ...]], list[ViewMeta], list[str]]:
    """Bin many-valued axes (in place), then (task -> its axes, proposed views, notes) per task.

    ``existing`` is the dataset merged into: its tasks decide which of their axes are binned.
    """
    by_task: dict[str, list[TaskFile]] = {}
    for f in files:
        by_task.setdefault(f.task, []).append(f)
    axes: dict[str, tuple[str, ...]] = {}
    views: list[ViewMeta] = []
    notes: list[str] = []
    for task, group in sorted(by_task.items()):
        rebuilt = [f for f in group if f.coords is not None]
        rows = [c for f in rebuilt for c in f.coords or ()]
        keys = list(dict.fromkeys(k for row in rows for k in row))
        if not keys:
            continue
        many, disagree = _binned(task, keys, many_valued(rows), existing)
        notes += disagree
        for f in rebuilt:
            f.coords = [with_bins(c, many) for c in f.coords or ()]
        binned = [c for f in rebuilt for c in f.coords or ()]
        for key, count in many.items():
            if not count:  # binned because the dataset merged into bins it
                continue
            edges = sorted({c[key + BIN_SUFFIX] for c in binned if key + BIN_SUFFIX in c})
            notes.append(f"{task}: '{key}' has {count} distinct values, so its surfaces use '{key}{BIN_SUFFIX}' "
                         f"({', '.join(map(str, edges))}): {BIN_RULE}")
        axes[task] = tuple(k for key in keys for k in ((key, key + BIN_SUFFIX) if key in many else (key,)))
        views += _views(task, axes[task], binned)
        if len(rebuilt) < len(group):
            notes.append(f"{task}: {len(group) - len(rebuilt)} of {len(group)} file(s) keep '{LEVEL}' alone, so their "
                         f"samples have no {', '.join(keys)} and sit apart on this task's views")
    return axes, views, notes


def _binned(task: str, keys: list[str], many: dict[str, int], existing: DatasetMeta | None
            ) -> tuple[dict[str, int], list[str]]:
    """The axes to bin: the many-valued ones, except where the dataset merged into already decided."""
    before = existing.task(task) if existing is not None else None
    if before is None:
        return many, []
    chosen, notes = {}, []
    for key in keys:
        if key + BIN_SUFFIX in before.params or (key in many and key not in before.params):
            chosen[key] = many.get(key, 0)
        elif key in many:
            notes.append(f"{task}: '{key}' has {many[key]} distinct values here, but the dataset merged into draws "
                         f"it value by value, so it is not binned; import all runs of the task together to bin it")
    return chosen, notes


def _views(task: str, keys: tuple[str, ...], rows: list[dict[str, Any]]) -> list[ViewMeta]:
    """The 2-D views ``propose_views`` accepts; failing those, a 1-D view per distinct varying axis."""
    distinct = {canonical_json(r) for r in rows}
    points = [json.loads(p) for p in sorted(distinct)]
    two = propose_views([TaskMeta(base_task=task, params=keys)], {task: points})
    if two:
        return two
    shown = [k for k in keys if k + BIN_SUFFIX not in keys and len({json.dumps(p.get(k)) for p in points}) > 1]
    kept: list[str] = []
    for key in shown:  # axes that split the points alike (knights_knaves' three knobs) are one view
        if not any(_same_split(points, key, other) for other in kept):
            kept.append(key)
    return [ViewMeta(name=f"{task}: {k}", base_task=task, group_by=(f"params.{k}",)) for k in kept]


def _same_split(points: list[dict[str, Any]], a: str, b: str) -> bool:
    """Params ``a`` and ``b`` fix each other's value on every point."""
    pairs = {(json.dumps(p.get(a)), json.dumps(p.get(b))) for p in points}
    return len(pairs) == len({x for x, _ in pairs}) == len({y for _, y in pairs})


__all__ = ["TaskFile", "axes_and_views", "rebuild_all"]
