"""Measure the planted behaviour in the generated rows and describe it for ``demo-truth.json``.

Each section names what a user (or a test) should find and where: eval ids,
task names, view names, param values; plus the measured numbers, so a test can
compare the engine's output with them and the generator can refuse to write a
dataset whose plants did not come out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from app.engine.schema import OUTCOMES
from app.findings import spiderweb as rules
from app.synth import plants, stats
from app.synth.behaviour import CORRECT, GUESS, INCORRECT, INVALID, TRUNCATED
from app.synth.catalog import TASK_INDEX, TASK_NAMES
from app.synth.meta import view_name
from app.synth.plan import Plan

ARCHETYPE_ORDER = ("truncation_victim", "inefficient_reasoner", "task_specialist", "balanced_generalist")
RULES = {   # the thresholds of app.findings.spiderweb, written into demo-truth.json
    "truncation_victim": f"overall truncation_rate >= {rules.TRUNCATION_VICTIM_RATE:.2f}",
    "inefficient_reasoner": f"mean completion tokens >= {rules.INEFFICIENT_TOKEN_RATIO} x median of the evals' "
                            f"mean tokens and mean per-task accuracy >= {rules.INEFFICIENT_MIN_MEAN}",
    "task_specialist": f"std of per-task accuracy >= {rules.SPECIALIST_MIN_STD} and at least one task >= "
                       f"{rules.SPECIALIST_MIN_BEST}",
    "balanced_generalist": f"std of per-task accuracy <= {rules.GENERALIST_MAX_STD} and mean >= "
                           f"{rules.GENERALIST_MIN_MEAN} and truncation_rate < {rules.GENERALIST_MAX_TRUNCATION}",
}


@dataclass
class Rows:
    """All generated rows as parallel arrays (``eval`` indexes plan.evals)."""

    eval: np.ndarray
    point: np.ndarray
    outcome: np.ndarray
    tokens: np.ndarray
    compressed: np.ndarray
    loop: np.ndarray


def _r(x: Any, nd: int = 4) -> float:
    return round(float(x), nd)


def point_counts(plan: Plan, rows: Rows) -> np.ndarray:
    """Outcome counters per (eval, point): shape (evals, points, 4)."""
    e, p = len(plan.evals), plan.points_per_eval
    key = (rows.eval.astype(np.int64) * p + rows.point) * 4 + rows.outcome
    return np.bincount(key, minlength=e * p * 4).reshape(e, p, 4)


def _group(counts: np.ndarray, guess: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counters and G summed over the points in ``mask`` (last point axis)."""
    c = counts[..., mask, :].sum(axis=-2)
    g = (counts[..., mask, :].sum(axis=-1) * guess[mask]).sum(axis=-1)
    return c, g


def eval_stats(plan: Plan, rows: Rows, counts: np.ndarray) -> list[dict[str, Any]]:
    """Per eval: per-task accuracy, its mean/std/max, truncation and mean tokens; plus the archetype rule hit."""
    guess = GUESS[plan.point_task]
    per_task = np.stack([accuracy_of(counts, guess, plan.point_task == t) for t in range(len(plan.grids))], axis=1)
    n = counts.sum(axis=(1, 2))
    tokens_mean = np.bincount(rows.eval, weights=rows.tokens, minlength=len(plan.evals)) / n
    trunc = counts[..., 3].sum(axis=1) / n
    median_tokens = float(np.median(tokens_mean))
    out = []
    for e, eid in enumerate(plan.eval_ids):
        acc = per_task[e]
        s = {"eval_id": eid, "label": plan.evals[e].label, "truncation_rate": _r(trunc[e]),
             "tokens_mean": _r(tokens_mean[e], 1), "tokens_ratio_to_median": _r(tokens_mean[e] / median_tokens, 3),
             "task_accuracy_mean": _r(acc.mean()), "task_accuracy_std": _r(acc.std()),
             "task_accuracy_max": _r(acc.max()),
             "task_accuracy": {name: _r(a) for name, a in zip(TASK_NAMES, acc)}}
        s["archetype"] = classify(s)
        out.append(s)
    return out


def accuracy_of(counts: np.ndarray, guess: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Guess-corrected accuracy of the points in ``mask`` (counters summed first, spec §3)."""
    c, g = _group(counts, guess, mask)
    return stats.accuracy(c, g)


def classify(s: dict[str, Any]) -> str | None:
    """The project's archetype rules (:mod:`app.findings.spiderweb`), first match wins (std is population std)."""
    if s["truncation_rate"] >= rules.TRUNCATION_VICTIM_RATE:
        return "truncation_victim"
    if (s["tokens_ratio_to_median"] >= rules.INEFFICIENT_TOKEN_RATIO
            and s["task_accuracy_mean"] >= rules.INEFFICIENT_MIN_MEAN):
        return "inefficient_reasoner"
    if s["task_accuracy_std"] >= rules.SPECIALIST_MIN_STD and s["task_accuracy_max"] >= rules.SPECIALIST_MIN_BEST:
        return "task_specialist"
    if (s["task_accuracy_std"] <= rules.GENERALIST_MAX_STD and s["task_accuracy_mean"] >= rules.GENERALIST_MIN_MEAN
            and s["truncation_rate"] < rules.GENERALIST_MAX_TRUNCATION):
        return "balanced_generalist"
    return None


def _by_value(plan: Plan, counts: np.ndarray, e: int, task: str, param: str) -> dict[int, float]:
    grid = plan.grid(task)
    guess = GUESS[plan.point_task]
    out = {}
    for v in np.unique(grid.values[param]):
        mask = np.zeros(plan.points_per_eval, dtype=bool)
        mask[grid.slice] = grid.values[param] == v
        out[int(v)] = _r(accuracy_of(counts[e], guess, mask))
    return out


def cliff(plan: Plan, counts: np.ndarray) -> dict[str, Any]:
    """The planted sharp cliff, measured: accuracy per value of its param on both sides of the step."""
    c = plants.CLIFF
    by_value = _by_value(plan, counts, c.eval_index, c.task, c.param)
    below = [a for v, a in by_value.items() if v <= c.threshold]
    above = [a for v, a in by_value.items() if v > c.threshold]
    return {"eval_id": plan.eval_ids[c.eval_index], "base_task": c.task,
            "view": view_name(c.task, c.param, c.other), "param": c.param, "threshold": c.threshold,
            "rule": f"accuracy >= 0.85 (~0.95) for every {c.param} <= {c.threshold}; <= 0.2 (~0.1) for every "
                    f"{c.param} > {c.threshold}; {c.other} has almost no effect",
            "accuracy_below_min": min(below), "accuracy_above_max": max(above), "accuracy_by_value": by_value}


def slope(plan: Plan, counts: np.ndarray) -> dict[str, Any]:
    """The planted gradual slope, measured: accuracy per value of its param, falling step by step."""
    s = plants.SLOPE
    by_value = _by_value(plan, counts, s.eval_index, s.task, s.param)
    xs, ys = np.array(list(by_value)), np.array(list(by_value.values()))
    fit = np.polyfit(xs, ys, 1)
    r2 = 1 - ((ys - np.polyval(fit, xs)) ** 2).sum() / ((ys - ys.mean()) ** 2).sum()
    return {"eval_id": plan.eval_ids[s.eval_index], "base_task": s.task,
            "view": view_name(s.task, s.param, s.other), "param": s.param,
            "rule": f"accuracy falls linearly from ~{s.top} to ~{s.bottom} across {s.param}; "
                    f"{s.other} has no planted effect",
            "accuracy_by_value": by_value, "linear_fit_r2": _r(r2), "largest_step": _r(np.abs(np.diff(ys)).max())}


def thinking(plan: Plan, rows: Rows, think: plants.Thinking, kind: str) -> dict[str, Any]:
    """Token and bytes medians of correct vs incorrect answers on the planted tasks."""
    out = []
    for task in think.tasks:
        sel = (rows.eval == think.eval_index) & (plan.point_task[rows.point] == TASK_INDEX[task])
        entry: dict[str, Any] = {"base_task": task}
        for name, code in (("correct", CORRECT), ("incorrect", INCORRECT)):
            m = sel & (rows.outcome == code)
            entry[f"{name}_tokens_median"] = _r(np.median(rows.tokens[m]), 1)
            entry[f"{name}_bytes_median"] = _r(np.median(rows.compressed[m]), 1)
            entry[f"{name}_bytes_per_token_median"] = _r(np.median(rows.compressed[m] / rows.tokens[m]))
        out.append(entry)
    rule = ("incorrect answers are short and low in compressed size (median tokens ~0.2x the correct ones')"
            if kind == "underthink" else
            "incorrect answers are long (median tokens ~2.5x the correct ones') with low bytes per token")
    return {"eval_id": plan.eval_ids[think.eval_index], "base_tasks": list(think.tasks), "rule": rule,
            "measured": out}


def loops(plan: Plan, rows: Rows) -> dict[str, Any]:
    """The planted broken loops, measured: long completions whose compressed size stays flat."""
    lp = plants.LOOPS
    budget = plan.evals[lp.eval_index].max_tokens
    sel = (rows.eval == lp.eval_index) & np.isin(plan.point_task[rows.point], [TASK_INDEX[t] for t in lp.tasks])
    rule_rows = sel & (rows.tokens >= lp.tokens_floor * budget) & (rows.compressed <= lp.bytes_range[1])
    loop = rows.loop
    return {"eval_id": plan.eval_ids[lp.eval_index], "base_tasks": list(lp.tasks), "max_tokens": budget,
            "rule": f"rows with completion_tokens >= {lp.tokens_floor} x max_tokens and compressed_bytes "
                    f"in [{lp.bytes_range[0]}, {lp.bytes_range[1]}] (flat, independent of tokens); "
                    f"~{lp.truncated_share:.0%} of them truncated",
            "tokens_min": int(lp.tokens_floor * budget), "compressed_bytes_range": list(lp.bytes_range),
            "rows": int(loop.sum()), "share_of_task_rows": _r(loop.sum() / sel.sum()),
            "truncated_share": _r((rows.outcome[loop] == TRUNCATED).mean()),
            "rows_matching_rule": int(rule_rows.sum()), "loop_rows_matching_rule": int((rule_rows & loop).sum()),
            "tokens_bytes_correlation": _r(np.corrcoef(rows.tokens[loop], rows.compressed[loop])[0, 1])}


def wall_bins(rows: Rows, e: int, tokens: int, width: int, around: int = 3) -> list[dict[str, Any]]:
    """Failures (incorrect + invalid), at-risk and failure hazard in bins around ``tokens``."""
    sel = rows.eval == e
    tok, out = rows.tokens[sel], rows.outcome[sel]
    fail = (out == INCORRECT) | (out == INVALID)
    res = []
    for j in range(tokens // width - around, tokens // width + around + 1):
        lo, hi = j * width, (j + 1) * width
        at_risk = int((tok >= lo).sum())
        d = int((fail & (tok >= lo) & (tok < hi)).sum())
        res.append({"bin_start": lo, "bin_end": hi, "at_risk": at_risk, "failures": d,
                    "hazard_failure": _r(d / at_risk if at_risk else 0.0)})
    return res


def wall(plan: Plan, rows: Rows) -> dict[str, Any]:
    """The planted context wall, measured: the failure hazard at its bin against a same-budget reference."""
    w = plants.WALL
    reference = plants.WALL_REFERENCE
    return {"eval_id": plan.eval_ids[w.eval_index], "tokens": w.tokens, "bucket_size": w.width,
            "bin": [w.tokens, w.tokens + w.width],
            "rule": f"failures (incorrect + invalid) pile up in [{w.tokens}, {w.tokens + w.width}): "
                    f"~{w.strength:.0%} of samples still running at {w.tokens} tokens fail there",
            "bins": wall_bins(rows, w.eval_index, w.tokens, w.width),
            "reference": {"eval_id": plan.eval_ids[reference], "note": "same 16k budget, no wall",
                          "bins": wall_bins(rows, reference, w.tokens, w.width)}}


def safe_zone(plan: Plan, counts: np.ndarray, e: int) -> dict[str, Any]:
    """Cells of every view of eval ``e`` whose Wilson lower bound is >= 0.9 (truncation = failure)."""
    guess = GUESS[plan.point_task]
    out = []
    for grid in plan.grids:
        names = [p.name for p in grid.spec.params]
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                out.append(_safe_cells(plan, counts[e], guess, grid, a, b))
    return {"eval_id": plan.eval_ids[e], "rule": "lower 95% Wilson bound >= 0.9 (truncation counted as failure)",
            "planted": "the easy corner (smallest value of both params) of every view where a perfect cell "
                       "could reach 0.9 (corner_reachable); more cells nearby", "views": out,
            "corners_safe": sum(v["corner_safe"] for v in out),
            "corners_reachable": sum(v["corner_reachable"] for v in out), "views_total": len(out)}


def _safe_cells(plan, counts, guess, grid, a: str, b: str) -> dict[str, Any]:
    cells, corner = [], None
    va, vb = grid.values[a], grid.values[b]
    for x in np.unique(va):
        for y in np.unique(vb):
            mask = np.zeros(plan.points_per_eval, dtype=bool)
            mask[grid.slice] = (va == x) & (vb == y)
            c, g = _group(counts, guess, mask)
            acc = stats.accuracy(c, g)
            lower, _ = stats.wilson(acc, c.sum() - g)
            safe = bool(lower >= 0.9)
            if x == va.min() and y == vb.min():
                corner = safe
                # With guess rate g only n(1 - g) trials count: a perfect cell may still miss 0.9.
                reachable = bool(stats.wilson(np.float64(1.0), c.sum() - g)[0] >= 0.9)
            if safe:
                cells.append({a: int(x), b: int(y), "lower": _r(lower)})
    return {"view": view_name(grid.spec.name, a, b), "base_task": grid.spec.name, "safe_cells": cells,
            "corner": {a: int(va.min()), b: int(vb.min())}, "corner_safe": corner, "corner_reachable": reachable}


def difficulty(plan: Plan, rows: Rows, counts: np.ndarray) -> dict[str, Any]:
    """Correlation, per eval and task, of point difficulty with mean tokens and with accuracy."""
    e, p = len(plan.evals), plan.points_per_eval
    tok = np.bincount(rows.eval.astype(np.int64) * p + rows.point, weights=rows.tokens, minlength=e * p)
    tok = tok.reshape(e, p) / counts.sum(axis=2)
    acc = counts[..., 0] / counts.sum(axis=2)
    tok_r, acc_r = [], []
    for grid in plan.grids:
        d = grid.difficulty
        tok_r += [np.corrcoef(d, tok[i, grid.slice])[0, 1] for i in range(e)]
        acc_r += [np.corrcoef(d, acc[i, grid.slice])[0, 1] for i in range(e)]
    return {"rule": "tokens grow ~(1 + 2.2 d) and accuracy falls with difficulty d (weighted mean of each "
                    "param's position in its grid) for every eval and task",
            "tokens_corr_median": _r(np.median(tok_r)), "tokens_corr_min": _r(np.min(tok_r)),
            "accuracy_corr_median": _r(np.nanmedian(acc_r)), "accuracy_corr_max": _r(np.nanmax(acc_r))}


def build_truth(plan: Plan, rows: Rows, seed: int) -> dict[str, Any]:
    """Everything planted, where, and how it measured."""
    counts = point_counts(plan, rows)
    per_eval = eval_stats(plan, rows, counts)
    archetypes = {}
    for e, spec in enumerate(plan.evals):
        if spec.role != "mixed":
            archetypes[spec.role] = {"eval_id": plan.eval_ids[e], "label": spec.label}
    generalist = next(e for e, s in enumerate(plan.evals) if s.role == "balanced_generalist")
    return {
        "dataset": "demo" if plan.scale == "demo" else f"synthetic-{plan.scale}",
        "scale": plan.scale, "seed": seed, "counts": plan.counts(), "outcomes": list(OUTCOMES),
        "archetype_rules": {"order": list(ARCHETYPE_ORDER), **RULES,
                            "accuracy": "guess-corrected, truncation counted as failure; std is population std"},
        "archetypes": archetypes,
        "eval_archetypes": {s["eval_id"]: s["archetype"] for s in per_eval},
        "eval_stats": per_eval,
        "cliff": cliff(plan, counts),
        "slope": slope(plan, counts),
        "underthink": thinking(plan, rows, plants.UNDERTHINK, "underthink"),
        "overthink": thinking(plan, rows, plants.OVERTHINK, "overthink"),
        "broken_loops": loops(plan, rows),
        "context_wall": wall(plan, rows),
        "safe_zone": safe_zone(plan, counts, generalist),
        "difficulty": difficulty(plan, rows, counts),
        "guess_rates": {g.spec.name: g.spec.guess_rate for g in plan.grids},
    }


def check(truth: dict[str, Any], plan: Plan) -> list[str]:
    """Plants that did not come out as designed (empty when all hold)."""
    problems = []
    for e, spec in enumerate(plan.evals):
        got = truth["eval_archetypes"][plan.eval_ids[e]]
        want = None if spec.role == "mixed" else spec.role
        if got != want:
            problems.append(f"{spec.label}: archetype {got}, designed {want}")
    c = truth["cliff"]
    if c["accuracy_below_min"] < 0.85 or c["accuracy_above_max"] > 0.2:
        problems.append(f"cliff not sharp: {c['accuracy_by_value']}")
    s = truth["slope"]
    if s["linear_fit_r2"] < 0.9 or s["largest_step"] > 0.2:
        problems.append(f"slope not gradual/linear: {s['accuracy_by_value']}")
    bins = truth["context_wall"]["bins"]
    mid = len(bins) // 2
    if bins[mid]["failures"] < 5 * max(bins[mid - 1]["failures"], bins[mid + 1]["failures"], 1):
        problems.append(f"context wall not visible: {bins}")
    z = truth["safe_zone"]
    if z["corners_safe"] < 0.8 * z["corners_reachable"]:
        problems.append(f"safe zone: only {z['corners_safe']}/{z['corners_reachable']} easy corners safe")
    return problems
