"""Surface findings: safe zones, sharp cliffs, gradual slopes, truncation zones and fragile grids.

One panel is one (view, eval): a 2-D grid of cells, each with its guess-corrected
successes and trials (``accuracy`` × ``n``), Wilson bounds and truncation counts.
Every reading here is a stated rule over those numbers, decided by evidence with
enough samples, never by one cell's point estimate: real results often hold 1-5
samples per cell, where "0.90 → 0.20" between two neighbours is noise.

The rules (each threshold a constant below):

- **marks** (drawn on every figure, 2-D and 3-D): a cell is *safe* when its lower 95%
  Wilson bound is ≥ :data:`SAFE_LOWER`; *truncation-marked* when more than
  :data:`TRUNCATION_MARK` of its samples were truncated.
- **safe_zone**: the panel has at least one safe cell; the finding gives the cells and
  each parameter's range over them.
- **profiles**: for each numeric dimension with ≥ :data:`MIN_VALUES` values, the
  accuracy per value pooled over the other dimension (successes and trials summed,
  then Wilson), so a cliff or slope is read from every row of the grid at once.
- **sharp_cliff** along a dimension: one step between adjacent values where accuracy,
  pooled over the rows of the other dimension that have both cells, drops by ≥
  :data:`CLIFF_MIN_DROP`; the two sides' 95% Wilson intervals do not overlap and each side
  has ≥ :data:`MIN_TRIALS` trials; the step is ≥ :data:`CLIFF_DOMINANCE` of the profile's
  whole range (one step carries the fall); it holds across the other dimension (in ≥
  :data:`HOLD_SHARE` of the rows with both cells, that row's own drop is at least half the
  pooled drop); and it is a level change, not a dip: every value with ≥ :data:`MIN_TRIALS`
  trials on the accurate side stays above the step's midpoint, every one beyond it below.
- **gradual_slope** along a dimension: accuracy from the first to the last value falls
  by ≥ :data:`SLOPE_MIN_FALL` with non-overlapping end intervals of ≥ :data:`MIN_TRIALS`
  trials each; no step reaches :data:`CLIFF_DOMINANCE` of the range (so a fall is a cliff
  or a slope, never both); at least :data:`SLOPE_MIN_STEADY` of the profile's movement is
  in the falling direction; and in ≥ :data:`HOLD_SHARE` of the rows with both end cells,
  the row falls by at least half the pooled fall.
- **truncation_zone**: the cells whose truncation rate exceeds :data:`TRUNCATION_MARK`
  beyond doubt (lower 95% Wilson bound of the rate above it), when there are at least
  :data:`TRUNCATION_ZONE_MIN_CELLS` of them holding at least :data:`MIN_TRIALS` samples
  together (one truncated sample in a one-sample cell is no zone).
- **fragile**: safe cells cover at most :data:`FRAGILE_MAX_SAFE_SHARE` of the scored
  cells, and at least :data:`FRAGILE_MIN_BELOW_SHARE` of them are demonstrably below the
  safe level (upper 95% bound < :data:`SAFE_LOWER`): little or no green because the model
  fails, not because a few samples cannot prove safety.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from app.engine.stats import wilson
from app.figures.common import axis_label, dim_label
from app.findings import groups
from app.findings.base import Finding, link

PROJECTION = "surface"

SAFE_LOWER = 0.9                 # lower 95% bound at or above this: a safe (green-zone) cell
TRUNCATION_MARK = 0.02           # truncation rate above this: a truncation mark
MIN_VALUES = 3                   # a dimension needs 3 values to tell a cliff (one step) from a slope (many)
MIN_TRIALS = 20                  # guess-corrected trials on each side of a step (or each end of a slope)
CLIFF_MIN_DROP = 0.3             # a cliff's pooled drop between two adjacent values
CLIFF_DOMINANCE = 0.6            # ... which is at least this share of the profile's range
HOLD_SHARE = 2 / 3               # rows of the other dimension in which the step (or fall) must show
SLOPE_MIN_FALL = 0.2             # a slope's pooled fall from the first to the last value
SLOPE_MIN_STEADY = 0.8           # share of the profile's movement that is in the falling direction
TRUNCATION_ZONE_MIN_CELLS = 2    # cells truncating beyond doubt that make a zone
FRAGILE_MAX_SAFE_SHARE = 0.1     # at most this share of cells safe: little green
FRAGILE_MIN_BELOW_SHARE = 0.5    # at least this share demonstrably below the safe level
MAX_NOTE_FINDINGS = 24           # past this many findings, the notes group them by kind
NUMBERS = ("n", "samples", "accuracy", "lower", "upper", "truncated", "truncation_rate")   # the columns read

ACTIONS = {
    "safe_zone": "safe for production within this zone",
    "sharp_cliff": "set conservative boundaries before the cliff",
    "gradual_slope": "acceptable with monitoring",
    "truncation_zone": "increase the context or reduce the prompts",
    "fragile": "avoid this task or difficulty range",
}


def marks(rows: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(safe-zone mask, truncation mask) of a panel's rows: the one rule both figures draw."""
    return rows["lower"] >= SAFE_LOWER, rows["truncation_rate"] > TRUNCATION_MARK


@dataclass(frozen=True)
class Grid:
    """Which panel the rows are: the view, its two dimensions and their values in order, its task."""

    view: str
    x: str
    y: str
    x_values: Sequence[Any]
    y_values: Sequence[Any]
    base_task: str | None = None


@dataclass(frozen=True)
class _Level:
    """One value of a dimension, pooled over the other: accuracy, Wilson bounds, trials."""

    value: Any
    accuracy: float
    lower: float
    upper: float
    trials: float


def _numeric(values: Sequence[Any]) -> bool:
    """Neighbours only mean something along a numeric axis (not between two task names)."""
    return all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in values)


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _level(value: Any, successes: float, trials: float) -> _Level:
    p = successes / trials
    center, margin = (float(a) for a in wilson(p, trials))
    return _Level(value, p, center - margin, center + margin, trials)


@dataclass(frozen=True)
class _Along:
    """One panel's scored cells as matrices along a dimension: a column per value (in order), a row per
    value of the other dimension; successes and trials are 0 and accuracy NaN where a cell is missing.
    """

    values: list[Any]
    successes: np.ndarray
    trials: np.ndarray
    accuracy: np.ndarray

    @classmethod
    def of(cls, rows: pd.DataFrame, dim: str, other: str, values: Sequence[Any]) -> _Along:
        present = set(rows[dim])
        cols = {v: i for i, v in enumerate(v for v in values if v in present)}
        lines = {v: i for i, v in enumerate(dict.fromkeys(rows[other]))}
        shape = (len(lines), len(cols))
        succ, trials, acc = np.zeros(shape), np.zeros(shape), np.full(shape, np.nan)
        r = np.fromiter((lines[v] for v in rows[other]), np.int64, len(rows))
        c = np.fromiter((cols[v] for v in rows[dim]), np.int64, len(rows))
        n, a = rows["n"].to_numpy(dtype=float), rows["accuracy"].to_numpy(dtype=float)
        succ[r, c], trials[r, c], acc[r, c] = a * n, n, a
        return cls(list(cols), succ, trials, acc)

    def profile(self) -> list[_Level]:
        """Accuracy per value with the other dimension pooled (successes and trials summed, §3)."""
        s, n = self.successes.sum(axis=0), self.trials.sum(axis=0)
        keep = n > 0
        p = s[keep] / n[keep]
        center, margin = wilson(p, n[keep])
        values = [v for v, k in zip(self.values, keep) if k]
        return [_Level(v, float(a), float(c - m), float(c + m), float(t))
                for v, a, c, m, t in zip(values, p, center, margin, n[keep])]

    def both(self, a: Any, b: Any) -> np.ndarray:
        """The rows (values of the other dimension) that have both cells."""
        i, j = self.values.index(a), self.values.index(b)
        return (self.trials[:, i] > 0) & (self.trials[:, j] > 0)

    def matched(self, a: Any, b: Any) -> tuple[_Level, _Level]:
        """``a`` and ``b`` pooled over the rows that have both: the columns' other-dimension mix is the same."""
        rows = self.both(a, b)
        i, j = self.values.index(a), self.values.index(b)
        return (_level(a, self.successes[rows, i].sum(), self.trials[rows, i].sum()),
                _level(b, self.successes[rows, j].sum(), self.trials[rows, j].sum()))

    def held(self, hi: Any, lo: Any, drop: float) -> tuple[int, int]:
        """(rows where the drop from ``hi`` to ``lo`` is at least half ``drop``, rows with both cells)."""
        rows = self.both(hi, lo)
        diff = self.accuracy[rows, self.values.index(hi)] - self.accuracy[rows, self.values.index(lo)]
        return int((diff >= drop / 2).sum()), int(rows.sum())


def _apart(high: _Level, low: _Level) -> bool:
    """Enough trials on both sides and 95% intervals that do not overlap: the difference is not noise."""
    return high.trials >= MIN_TRIALS and low.trials >= MIN_TRIALS and high.lower > low.upper


def _level_json(level: _Level) -> dict[str, Any]:
    return {"value": _plain(level.value), "accuracy": level.accuracy, "lower": level.lower, "upper": level.upper,
            "n": level.trials}


def _plateaus(prof: Sequence[_Level], cut: int, high_first: bool, mid: float) -> bool:
    """A level change, not a dip: every value with enough trials stays on its side of ``mid``.

    ``cut``: the step is between ``prof[cut - 1]`` and ``prof[cut]``; ``high_first``: the
    accurate side comes first along the values.
    """
    before, after = prof[:cut], prof[cut:]
    high, low = (before, after) if high_first else (after, before)
    sure = [lv for lv in high if lv.trials >= MIN_TRIALS], [lv for lv in low if lv.trials >= MIN_TRIALS]
    return all(lv.accuracy > mid for lv in sure[0]) and all(lv.accuracy < mid for lv in sure[1])


def cliff(rows: pd.DataFrame, dim: str, other: str, values: Sequence[Any]) -> dict[str, Any] | None:
    """The sharp cliff along ``dim`` (see the module's rule), as where + evidence; None when there is none.

    ``rows``: one panel's scored cells. Each step compares the two values over the rows of
    ``other`` that have both cells, so a grid whose columns hold different rows (real data is
    often sparse) does not fake a step.
    """
    return _cliff(_Along.of(rows, dim, other, values), dim)


def _cliff(along: _Along, dim: str) -> dict[str, Any] | None:
    """:func:`cliff` of a panel already laid out along ``dim`` (the slope reads the same layout)."""
    prof = along.profile()
    if len(prof) < MIN_VALUES:
        return None
    accs = [lv.accuracy for lv in prof]
    span = max(accs) - min(accs)
    best = None
    for cut in range(1, len(prof)):
        a, b = prof[cut - 1].value, prof[cut].value
        if not along.both(a, b).any():
            continue
        high, low = sorted(along.matched(a, b), key=lambda lv: -lv.accuracy)
        drop = high.accuracy - low.accuracy
        if drop < CLIFF_MIN_DROP or drop < CLIFF_DOMINANCE * span or not _apart(high, low):
            continue
        held, rows_both = along.held(high.value, low.value, drop)
        if held < HOLD_SHARE * rows_both:
            continue
        if not _plateaus(prof, cut, high.value == a, (high.accuracy + low.accuracy) / 2):
            continue
        if best is None or drop > best["evidence"]["drop"]:
            best = {"where": {"dim": dim, "from": _plain(high.value), "to": _plain(low.value)},
                    "evidence": {"drop": drop, "range": span, "from": _level_json(high), "to": _level_json(low),
                                 "rows_holding": held, "rows": rows_both,
                                 "profile": [_level_json(lv) for lv in prof]}}
    return best


def slope(rows: pd.DataFrame, dim: str, other: str, values: Sequence[Any]) -> dict[str, Any] | None:
    """The gradual slope along ``dim`` (see the module's rule), as where + evidence; None when there is none."""
    return _slope(_Along.of(rows, dim, other, values), dim)


def _slope(along: _Along, dim: str) -> dict[str, Any] | None:
    """:func:`slope` of a panel already laid out along ``dim``."""
    prof = along.profile()
    if len(prof) < MIN_VALUES:
        return None
    first, last = prof[0], prof[-1]
    high, low = (first, last) if first.accuracy >= last.accuracy else (last, first)
    fall = high.accuracy - low.accuracy
    if fall < SLOPE_MIN_FALL or not _apart(high, low):
        return None
    sign = 1.0 if high is first else -1.0          # along the values, accuracy falls (+1) or rises (-1)
    steps = [sign * (a.accuracy - b.accuracy) for a, b in zip(prof, prof[1:])]   # > 0: falling
    accs = [lv.accuracy for lv in prof]
    span = max(accs) - min(accs)
    largest = max(steps)
    steady = sum(s for s in steps if s > 0) / sum(abs(s) for s in steps)
    if largest >= CLIFF_DOMINANCE * span or steady < SLOPE_MIN_STEADY:
        return None
    held, rows_both = along.held(high.value, low.value, fall)
    if rows_both == 0 or held < HOLD_SHARE * rows_both:
        return None
    return {"where": {"dim": dim, "from": _plain(high.value), "to": _plain(low.value)},
            "evidence": {"fall": fall, "largest_step": largest, "range": span, "steady": steady,
                         "profile": [_level_json(lv) for lv in prof], "rows_holding": held, "rows": rows_both}}


def truncation_cells(rows: pd.DataFrame) -> pd.Series:
    """Cells truncating more than :data:`TRUNCATION_MARK` beyond doubt (lower 95% Wilson bound of the rate)."""
    samples = rows["samples"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(samples > 0, rows["truncated"].to_numpy(dtype=float) / samples, np.nan)
    center, margin = wilson(rate, samples)
    return pd.Series(np.nan_to_num(center - margin, nan=0.0) > TRUNCATION_MARK, index=rows.index)


def _extent(rows: pd.DataFrame, grid: Grid) -> dict[str, Any]:
    """The cells of ``rows`` and each dimension's range over them (numeric) or its values (categories)."""
    cells = [{grid.x: _plain(a), grid.y: _plain(b)} for a, b in zip(rows[grid.x], rows[grid.y])]
    ranges: dict[str, Any] = {}
    for dim, order in ((grid.x, grid.x_values), (grid.y, grid.y_values)):
        have = set(rows[dim])
        present = [_plain(v) for v in order if v in have]
        ranges[dim] = [present[0], present[-1]] if _numeric(present) else present
    return {"cells": cells, "ranges": ranges}


def _range_text(extent: Mapping[str, Any]) -> str:
    parts = []
    for dim, r in extent["ranges"].items():
        if len(r) == 2 and _numeric(r):
            span = axis_label(r[0]) if r[0] == r[1] else f"{axis_label(r[0])}–{axis_label(r[1])}"
        else:
            span = ", ".join(axis_label(v) for v in r)
        parts.append(f"{dim_label(dim)} {span}")
    return ", ".join(parts)


def panel_findings(rows: pd.DataFrame, grid: Grid, eval_id: str, label: str | None = None, *,
                   filters: Mapping[str, Any] | None = None, truncation: str = "failure") -> list[Finding]:
    """Every finding of one (view, eval) panel: ``rows`` are that eval's cells of the view.

    Order: safe_zone, sharp_cliff / gradual_slope per dimension (x first), truncation_zone, fragile.
    """
    rows = _plain_frame(rows, grid)
    rows = rows[rows["samples"] > 0]
    if rows.empty:
        return []
    name = f"{grid.view} · {label or eval_id}"
    narrowed = {k: v for k, v in (filters or {}).items()
                if k not in ("eval_id", "model", "template", "sampler", "groups") and not k.startswith("groups.")}
    narrowed["eval_id"] = [eval_id]
    if grid.base_task is not None:
        narrowed["base_task"] = [grid.base_task]
    url = link(PROJECTION, narrowed, view=[grid.view], truncation=None if truncation == "failure" else truncation)

    def make(kind: str, text: str, where: Mapping[str, Any], evidence: Mapping[str, Any]) -> Finding:
        return Finding(kind=kind, projection=PROJECTION, eval_id=eval_id, base_task=grid.base_task,
                       view=grid.view, text=text, where=where, evidence=evidence, action=ACTIONS[kind], link=url)

    out: list[Finding] = []
    scored = rows[rows["n"] > 0]
    safe, _ = marks(scored)
    n_cells = len(scored)
    if safe.any():
        zone = _extent(scored[safe], grid)
        out.append(make("safe_zone", f"{name}: safe zone of {int(safe.sum())}/{n_cells} cells (lower 95% bound ≥ "
                        f"{SAFE_LOWER}): {_range_text(zone)}; {ACTIONS['safe_zone']}.", zone,
                        {"safe_cells": int(safe.sum()), "cells": n_cells, "share": float(safe.mean()),
                         "min_lower": float(scored.loc[safe, "lower"].min()),
                         "min_n": float(scored.loc[safe, "n"].min())}))
    for dim, other, values in ((grid.x, grid.y, grid.x_values), (grid.y, grid.x, grid.y_values)):
        have = set(scored[dim])
        if not _numeric([v for v in values if v in have]):
            continue
        along = _Along.of(scored, dim, other, values)   # once: the cliff and the slope read the same layout
        found = _cliff(along, dim)
        if found is not None:
            ev = found["evidence"]
            out.append(make("sharp_cliff", f"{name}: sharp cliff: {dim_label(dim)} {axis_label(ev['from']['value'])} "
                            f"→ {axis_label(ev['to']['value'])} ({ev['from']['accuracy']:.2f} → "
                            f"{ev['to']['accuracy']:.2f}, n {ev['from']['n']:,.0f} and {ev['to']['n']:,.0f}; in "
                            f"{ev['rows_holding']}/{ev['rows']} rows of {dim_label(other)}); "
                            f"{ACTIONS['sharp_cliff']}.", found["where"], ev))
            continue
        found = _slope(along, dim)
        if found is not None:
            ev, where = found["evidence"], found["where"]
            out.append(make("gradual_slope", f"{name}: gradual slope along {dim_label(dim)}: "
                            f"{ev['profile'][0]['accuracy']:.2f} at {axis_label(ev['profile'][0]['value'])} → "
                            f"{ev['profile'][-1]['accuracy']:.2f} at {axis_label(ev['profile'][-1]['value'])}, "
                            f"largest step {ev['largest_step']:.2f}; {ACTIONS['gradual_slope']}.", where, ev))
    zone_mask = truncation_cells(rows)
    if (int(zone_mask.sum()) >= TRUNCATION_ZONE_MIN_CELLS
            and float(rows.loc[zone_mask, "samples"].sum()) >= MIN_TRIALS):
        zrows = rows[zone_mask]
        zone = _extent(zrows, grid)
        worst = zrows.loc[zrows["truncation_rate"].idxmax()]
        out.append(make("truncation_zone", f"{name}: truncation zone of {len(zrows)} cells (more than "
                        f"{TRUNCATION_MARK:.0%} truncated beyond doubt): {_range_text(zone)}; worst "
                        f"{worst['truncation_rate']:.0%} of {int(worst['samples'])}; {ACTIONS['truncation_zone']}.",
                        zone, {"cells": len(zrows), "truncated": float(zrows["truncated"].sum()),
                               "samples": float(zrows["samples"].sum()),
                               "worst_rate": float(worst["truncation_rate"]),
                               "worst_samples": float(worst["samples"])}))
    below = scored["upper"] < SAFE_LOWER
    if n_cells and safe.mean() <= FRAGILE_MAX_SAFE_SHARE and below.mean() >= FRAGILE_MIN_BELOW_SHARE:
        out.append(make("fragile", f"{name}: fragile: {int(safe.sum())}/{n_cells} cells safe, {int(below.sum())} "
                        f"demonstrably below {SAFE_LOWER} (upper 95% bound), best {scored['accuracy'].max():.2f}; "
                        f"{ACTIONS['fragile']}.", {"ranges": _extent(scored, grid)["ranges"]},
                        {"safe_cells": int(safe.sum()), "below_cells": int(below.sum()), "cells": n_cells,
                         "best_accuracy": float(scored["accuracy"].max()), "samples": float(scored["samples"].sum())
                         if "samples" in scored else float(scored["n"].sum())}))
    return out


def notes(found: Sequence[Finding], labels: Mapping[str, str] | None = None) -> list[str]:
    """The notes that state ``found``: each finding's sentence, in order, while there are at most
    :data:`MAX_NOTE_FINDINGS`; past that, every sharp cliff's sentence (rare, and its place matters)
    and one sentence per other kind naming its panels (:mod:`app.findings.groups`).
    """
    if len(found) <= MAX_NOTE_FINDINGS:
        return [f.text for f in found]
    cliffs = [f.text for f in found if f.kind == "sharp_cliff"]
    return cliffs + groups.notes([f for f in found if f.kind != "sharp_cliff"], labels)


def _plain_frame(rows: pd.DataFrame, grid: Grid) -> pd.DataFrame:
    """Only the columns the rules read, as NumPy columns (Arrow-backed ones are slow to mask cell by cell)."""
    if rows.attrs.get("plain"):
        return rows
    out = pd.DataFrame({c: rows[c].to_numpy(dtype=object) for c in dict.fromkeys(["eval_id", grid.x, grid.y])}
                       | {c: rows[c].to_numpy(dtype=float) for c in NUMBERS}, index=rows.index)
    out.attrs["plain"] = True
    return out


def findings(rows: pd.DataFrame, grid: Grid, labels: Mapping[str, str], *,
             filters: Mapping[str, Any] | None = None, truncation: str = "failure") -> list[Finding]:
    """Every panel's findings for one view: ``rows`` hold all evals' cells, ``labels`` their order."""
    rows = _plain_frame(rows, grid)
    parts = {str(e): r for e, r in rows.groupby("eval_id", sort=False)}
    out: list[Finding] = []
    for e, lab in labels.items():
        if e in parts:
            out += panel_findings(parts[e], grid, e, lab, filters=filters, truncation=truncation)
    return out


__all__ = ["ACTIONS", "CLIFF_DOMINANCE", "CLIFF_MIN_DROP", "FRAGILE_MAX_SAFE_SHARE", "FRAGILE_MIN_BELOW_SHARE",
           "Grid", "HOLD_SHARE", "MAX_NOTE_FINDINGS", "MIN_TRIALS", "MIN_VALUES", "SAFE_LOWER", "SLOPE_MIN_FALL",
           "SLOPE_MIN_STEADY", "TRUNCATION_MARK", "TRUNCATION_ZONE_MIN_CELLS", "cliff", "findings", "marks", "notes",
           "panel_findings", "slope", "truncation_cells"]
