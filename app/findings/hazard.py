"""Hazard findings: early failure, late-rising failure, a context wall, or a flat hazard with high truncation.

Per series of the hazard view (an eval by default), from the engine's competing-risks
table (``at_risk``, ``events_*``, ``hazard_failure`` per token bin) and, for the checks
that need them, the engine's per-task tables and per-sample token counts. Every reading
compares pooled proportions with 95% intervals (Wilson; Newcombe for a difference), and
needs enough samples at risk; none is read from one bin against a median.

- **context_wall**: a spike (one bin, or :data:`WALL_MAX_WIDTH` adjacent ones: a wall need not
  sit on a bin edge) whose failure hazard stands above *both* sides: ≥ :data:`WALL_MIN_AT_RISK`
  samples at risk at its start and ≥ :data:`WALL_MIN_FAILURES` failures in it;
  the :data:`WALL_WINDOW` bins before it and the :data:`WALL_WINDOW` after it (each with
  ≥ :data:`MIN_AT_RISK` at risk, at least one on each side) are pooled per side, and the
  difference "spike − side" has a Newcombe 95% lower bound ≥ :data:`WALL_MIN_EXCESS` on each
  side. When fewer than :data:`MIN_AT_RISK` are left after it (the wall swept nearly everyone),
  the spike must fail ≥ :data:`WALL_SWEEP_MIN_HAZARD` of those at risk, who must be
  ≥ :data:`TAIL_SHARE` of the series (not its last few), and the before side decides.
  Needing the bins *after* the spike to fall back (or a sweep) is what tells a wall from the
  tail of the length distribution, where the hazard keeps rising as only the hardest questions are
  left and the run ends. A spike ending within :data:`RUNAWAY_SHARE` of the eval's own
  ``max_tokens`` is runaway answers, not a wall. Then the position must hold across tasks:
  in the series' evals (every task, whatever the task filter), each task with
  ≥ :data:`MIN_AT_RISK` at risk in that bin is tested (its hazard there against its own
  :data:`WALL_WINDOW` bins on each side, pooled: Newcombe lower bound ≥
  :data:`WALL_TASK_MIN_EXCESS`); the wall needs
  ≥ :data:`WALL_MIN_TASKS` tasks holding and ≥ :data:`WALL_HOLD_SHARE` of those tested.
- **early_failure**: failures come before the answers that succeed, task by task: each
  completion's tokens are divided by its task's median correct tokens (tasks with
  ≥ :data:`MIN_N` correct answers), and the share of failures below :data:`EARLY_REL` of that
  exceeds the share of correct answers below it by a Newcombe lower bound ≥
  :data:`EARLY_MIN_EXCESS` (≥ :data:`MIN_N` of each). Normalising per task keeps a short hard
  task from looking like early failure.
- **late_rising**: over the bins with ≥ :data:`MIN_AT_RISK` at risk until all but
  :data:`TAIL_SHARE` of the series has ended (≥ :data:`RISE_MIN_BINS` bins), the pooled
  failure hazard of the last third exceeds the first third's by a Newcombe lower bound > 0 and
  by ≥ :data:`RISE_MIN_RATIO` ×, and the per-bin hazard rises steadily (Spearman ρ with the bin
  ≥ :data:`RISE_MIN_RHO`): the normal difficulty effect, not a failure mode.
- **flat_hazard_high_truncation**: ≥ :data:`HIGH_TRUNCATION` of the series (≥ :data:`MIN_N`
  samples) ends truncated, and the completions still running in the second half of the budget
  stop resolving: the pooled answer hazard (correct + failed) there, ≥ :data:`MIN_N` at risk, has
  a Wilson upper bound ≤ :data:`STALL_MAX_RATIO` × the first half's. A model merely cut short by
  a small budget keeps answering at its usual rate until the budget; one that never resolves
  goes flat.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from app.engine.dataset import Dataset
from app.engine.stats import newcombe, wilson
from app.findings.base import Finding, link

PROJECTION = "hazard"

MIN_AT_RISK = 20           # a bin with fewer samples still running is not read (nor drawn)
MIN_N = 30                 # failures, correct answers or samples behind a share
WALL_MIN_AT_RISK = 50      # samples at risk in the spike bin
WALL_MIN_FAILURES = 10     # failures in the spike bin
WALL_WINDOW = 3            # bins pooled on each side of a spike
WALL_MAX_WIDTH = 2         # a spike spans one bin or two adjacent ones
WALL_SWEEP_MIN_HAZARD = 0.8  # a spike leaving too few to read after it must fail most of those at risk
WALL_MIN_EXCESS = 0.10     # spike − each side: Newcombe 95% lower bound at least this
RUNAWAY_SHARE = 0.9        # a spike ending past this share of max_tokens is runaway answers
WALL_TASK_MIN_EXCESS = 0.05  # in a task: spike − its sides (pooled), Newcombe 95% lower bound
WALL_MIN_TASKS = 2         # tasks in which the spike must show ...
WALL_HOLD_SHARE = 0.5      # ... and this share of the tasks with enough samples at risk there
EARLY_REL = 0.5            # "early": under half the task's median correct tokens
EARLY_MIN_EXCESS = 0.10    # failures' early share − correct answers': Newcombe lower bound
TAIL_SHARE = 0.10          # the trend is read until only this share of the series is still running
RISE_MIN_BINS = 6          # bins needed to read a trend
RISE_MIN_RATIO = 1.5       # late third's hazard ≥ 1.5 × the first third's
RISE_MIN_RHO = 0.5         # Spearman ρ of hazard with the bin
HIGH_TRUNCATION = 0.10     # truncated share that is high
STALL_MAX_RATIO = 0.25     # second half's answer hazard ≤ this × the first half's (upper bound)

ACTIONS = {
    "early_failure": "check for underthinking (compression)",
    "late_rising": "normal difficulty effect",
    "context_wall": "check RoPE config and pretraining length; compare against a model without the spike",
    "flat_hazard_high_truncation": "investigate with the probe (truncation) to classify the loop type",
}


def _pooled(part: pd.DataFrame, idx: Sequence[Any], events: str = "failures") -> tuple[float, float]:
    """(pooled hazard, samples at risk) over rows ``idx`` of a series table."""
    rows = np.asarray(idx, dtype=np.int64)
    n = float(part["at_risk"].to_numpy()[rows].sum())
    return (float(part[events].to_numpy()[rows].sum()) / n if n else math.nan), n


def _with_counts(part: pd.DataFrame) -> pd.DataFrame:
    """The series table with ``failures`` and ``answers`` counts per bin (from the engine's events)."""
    fail = part["events_incorrect"].to_numpy(dtype=float)
    if "events_invalid" in part:   # split out only on request; a failure either way
        fail = fail + part["events_invalid"].to_numpy(dtype=float)
    answers = part["events_correct"].to_numpy(dtype=float) + fail
    return part.reset_index(drop=True).assign(failures=fail, answers=answers)


def _excess(p_a: float, n_a: float, p_b: float, n_b: float) -> tuple[float, float, float]:
    d, lo, hi = newcombe(p_a, n_a, p_b, n_b)
    return float(d), float(lo), float(hi)


def _window(t: pd.DataFrame, j: int, width: int) -> tuple[float, float]:
    """(share of those at risk at bin j who fail within ``width`` bins, at risk at bin j)."""
    n = float(t["at_risk"].to_numpy()[j])
    return (float(t["failures"].to_numpy()[j:j + width].sum()) / n if n else math.nan), n


def _per_window(h: float, width: int) -> float:
    """A per-bin hazard ``h`` over ``width`` bins: the chance to fail in one of them."""
    return 1.0 - (1.0 - h) ** width


def wall_candidate(part: pd.DataFrame) -> dict[str, Any] | None:
    """The series' strongest spike standing above both sides (see the module rule), or None.

    A spike is 1 to :data:`WALL_MAX_WIDTH` adjacent bins (a wall need not fall on a bin edge, so
    at small bucket sizes it spans two); its hazard is the share of those at risk at its start
    who fail within it, compared with the sides' per-bin hazard over the same width; each bin of a
    two-bin spike must itself stand :data:`WALL_MIN_EXCESS` above the higher side.
    """
    return _wall_candidate(_with_counts(part))


def _wall_candidate(t: pd.DataFrame) -> dict[str, Any] | None:
    """:func:`wall_candidate` of a table that already has its counts (``_with_counts``)."""
    at_risk = t["at_risk"].to_numpy()
    ok = at_risk >= MIN_AT_RISK
    best: dict[str, Any] | None = None
    failures = t["failures"].to_numpy()
    samples = float(t["samples"].iloc[0])
    candidates = np.flatnonzero(at_risk >= WALL_MIN_AT_RISK)
    for j, width in ((int(i), w) for i in candidates for w in range(1, WALL_MAX_WIDTH + 1)):
        end = j + width
        if end > len(t) or failures[j:end].sum() < WALL_MIN_FAILURES:
            continue
        before = [i for i in range(max(j - WALL_WINDOW, 0), j) if ok[i]]
        after = [i for i in range(end, min(end + WALL_WINDOW, len(t))) if ok[i]]
        n = float(at_risk[j])
        h = float(failures[j:end].sum()) / n
        swept = end >= len(t) or at_risk[end] < MIN_AT_RISK   # too few left after it to read
        sweep = swept and h >= WALL_SWEEP_MIN_HAZARD and n >= TAIL_SHARE * samples
        if not before or not (after or sweep):
            continue
        nb, na = float(at_risk[before].sum()), float(at_risk[after].sum())
        hb, ha = float(failures[before].sum()) / nb, (float(failures[after].sum()) / na if after else 0.0)
        if h - _per_window(max(hb, ha), width) < WALL_MIN_EXCESS:   # the interval cannot clear it either
            continue
        own = failures[j:end] / np.maximum(at_risk[j:end], 1)
        if width > 1 and own.min() < max(hb, ha) + WALL_MIN_EXCESS:   # every bin of a wide spike is raised
            continue
        d_b, lo_b, hi_b = _excess(h, n, _per_window(hb, width), nb)
        d_a, lo_a, hi_a = _excess(h, n, _per_window(ha, width), na) if after else (math.nan,) * 3
        score = min(lo_b, lo_a) if after else lo_b
        if score >= WALL_MIN_EXCESS and (best is None or score > best["_score"]):
            best = {"_score": score, "bin": int(t["bin"].iloc[j]), "bins": width,
                    "bin_start": int(t["bin_start"].iloc[j]), "bin_end": int(t["bin_end"].iloc[end - 1]),
                    "hazard": h, "at_risk": int(n), "failures": int(t["failures"].iloc[j:end].sum()),
                    "share_at_risk": n / float(t["samples"].iloc[0]),
                    "before": {"hazard": hb, "at_risk": int(nb), "bins": len(before), "excess": d_b,
                               "excess_lower": lo_b, "excess_upper": hi_b},
                    "after": {"hazard": ha, "at_risk": int(na), "bins": len(after), "excess": d_a,
                              "excess_lower": lo_a, "excess_upper": hi_a}}
    if best is not None:
        best.pop("_score")
    return best


def holds_across(tables: pd.DataFrame, dim: str, bin_index: int, width: int = 1) -> dict[str, Any]:
    """Per value of ``dim`` (a task): does its failure hazard in the spike's bins stand above its own sides?

    The sides are the task's :data:`WALL_WINDOW` bins before and after the spike with
    ≥ :data:`MIN_AT_RISK` at risk, pooled; a rising tail pools to about the spike's level.
    """
    tested, holding = [], []
    for value, part in tables.groupby(dim, sort=True, observed=True):
        t = _with_counts(part)
        rows = t.index[t["bin"] == bin_index]
        if not len(rows) or t.loc[rows[0], "at_risk"] < MIN_AT_RISK:
            continue
        j = int(rows[0])
        sides = [i for i in [*range(max(j - WALL_WINDOW, 0), j), *range(j + width, j + width + WALL_WINDOW)]
                 if i < len(t) and t["at_risk"].iloc[i] >= MIN_AT_RISK]
        if not sides:
            continue
        h, n = _window(t, j, width)
        hs, ns = _pooled(t, sides)
        tested.append(str(value))
        if _excess(h, n, _per_window(hs, width), ns)[1] >= WALL_TASK_MIN_EXCESS:
            holding.append(str(value))
    held = len(holding) >= WALL_MIN_TASKS and len(holding) >= WALL_HOLD_SHARE * len(tested)
    return {"dimension": dim, "tested": tested, "holding": holding, "held": held}


def _outcome_masks(outcome: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(correct, failed) per sample; from a categorical's codes when it is one (the engine's samples are)."""
    dtype = outcome.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = list(dtype.categories)
        codes = outcome.cat.codes.to_numpy()
        wanted = [categories.index(o) if o in categories else -2 for o in ("correct", "incorrect", "invalid")]
        return codes == wanted[0], (codes == wanted[1]) | (codes == wanted[2])
    return ((outcome == "correct").to_numpy(dtype=bool),
            outcome.isin(("incorrect", "invalid")).to_numpy(dtype=bool))


def _task_codes(samples: pd.DataFrame) -> np.ndarray:
    """A code per sample that is equal exactly where the task is (a categorical's own codes when it is one)."""
    if "base_task" not in samples:
        return np.zeros(len(samples), np.int64)
    task = samples["base_task"]
    if isinstance(task.dtype, pd.CategoricalDtype):
        return task.cat.codes.to_numpy()
    return pd.factorize(task)[0]


def _relative_tokens(task: np.ndarray, tokens: np.ndarray, correct: np.ndarray) -> np.ndarray:
    """Each sample's tokens over its task's median correct tokens (NaN where the task has < MIN_N correct).

    The samples are ordered by task once (the engine's already are: then each task is a slice
    and nothing is sorted or copied) instead of masking every sample once per task.
    """
    rel = np.full(len(task), np.nan)
    if not len(task):
        return rel
    order = None if bool(np.all(task[1:] >= task[:-1])) else np.argsort(task, kind="stable")
    sorted_task = task if order is None else task[order]
    starts = np.flatnonzero(np.r_[True, sorted_task[1:] != sorted_task[:-1]])
    ends = np.r_[starts[1:], len(task)]
    for start, end in zip(starts.tolist(), ends.tolist()):
        rows: slice | np.ndarray = slice(start, end) if order is None else order[start:end]
        mine = correct[rows]
        if mine.sum() >= MIN_N:
            own = tokens[rows]
            rel[rows] = own / max(float(np.median(own[mine])), 1.0)
    return rel


def early_failure(samples: pd.DataFrame) -> dict[str, Any] | None:
    """Evidence that failures come early, task by task (see the module rule), or None."""
    return _early_failure(samples, np.ones(len(samples), bool))


def _early_failure(samples: pd.DataFrame, timed: np.ndarray) -> dict[str, Any] | None:
    """:func:`early_failure` of the rows ``timed`` marks (those with a token count), without copying the frame."""
    every = bool(timed.all())   # the usual case: nothing to leave out, nothing to copy
    tokens = samples["completion_tokens"].to_numpy(dtype=float, na_value=np.nan)
    correct, failed = _outcome_masks(samples["outcome"])
    task = _task_codes(samples)
    if not every:
        tokens, correct, failed, task = tokens[timed], correct[timed], failed[timed], task[timed]
    rel = _relative_tokens(task, tokens, correct)
    usable = np.isfinite(rel)
    n_f, n_c = int((usable & failed).sum()), int((usable & correct).sum())
    if n_f < MIN_N or n_c < MIN_N:
        return None
    p_f = float((rel[usable & failed] <= EARLY_REL).mean())
    p_c = float((rel[usable & correct] <= EARLY_REL).mean())
    d, lo, hi = _excess(p_f, n_f, p_c, n_c)
    if lo < EARLY_MIN_EXCESS:
        return None
    return {"failed_early_share": p_f, "correct_early_share": p_c, "excess": d, "excess_lower": lo,
            "excess_upper": hi, "n_failed": n_f, "n_correct": n_c, "early_rel": EARLY_REL}


def _trend_bins(t: pd.DataFrame) -> list[int]:
    """Rows read for a trend: enough at risk, until all but TAIL_SHARE of the series has ended."""
    samples = float(t["samples"].iloc[0])
    keep = (t["at_risk"] >= MIN_AT_RISK) & (t["at_risk"] >= TAIL_SHARE * samples)
    return list(np.flatnonzero(keep.to_numpy()))


def late_rising(part: pd.DataFrame) -> dict[str, Any] | None:
    """Evidence of a smoothly rising failure hazard (see the module rule), or None."""
    return _late_rising(_with_counts(part))


def _late_rising(t: pd.DataFrame) -> dict[str, Any] | None:
    """:func:`late_rising` of a table that already has its counts."""
    idx = _trend_bins(t)
    if len(idx) < RISE_MIN_BINS:
        return None
    third = len(idx) // 3
    he, ne = _pooled(t, idx[:third])
    hl, nl = _pooled(t, idx[-third:])
    d, lo, hi = _excess(hl, nl, he, ne)
    h = t["hazard_failure"].to_numpy(dtype=float)[idx]
    rho = float(pd.Series(h).rank().corr(pd.Series(np.arange(len(idx), dtype=float))))
    if not (lo > 0 and hl >= RISE_MIN_RATIO * he and rho >= RISE_MIN_RHO):
        return None
    return {"early_hazard": he, "early_at_risk": int(ne), "late_hazard": hl, "late_at_risk": int(nl),
            "excess": d, "excess_lower": lo, "excess_upper": hi, "spearman": rho, "bins": len(idx),
            "tokens_from": int(t["bin_start"].iloc[idx[0]]), "tokens_to": int(t["bin_end"].iloc[idx[-1]])}


def flat_high_truncation(part: pd.DataFrame, budget: int | None) -> dict[str, Any] | None:
    """Evidence of many truncations after answers stop coming (see the module rule), or None."""
    return _flat_high_truncation(_with_counts(part), budget)


def _flat_high_truncation(t: pd.DataFrame, budget: int | None) -> dict[str, Any] | None:
    """:func:`flat_high_truncation` of a table that already has its counts."""
    samples = float(t["samples"].iloc[0])
    truncated = float(t["events_truncated"].sum())
    if samples < MIN_N or truncated / samples < HIGH_TRUNCATION:
        return None
    limit = float(budget) if budget else float(t["bin_end"].iloc[-1])
    half = limit / 2
    first = list(np.flatnonzero((t["bin_end"] <= half).to_numpy()))
    second = list(np.flatnonzero(((t["bin_start"] >= half) & (t["bin_end"] <= limit)).to_numpy()))
    if not first or not second or t["at_risk"].iloc[second[0]] < MIN_N:
        return None
    a1, n1 = _pooled(t, first, "answers")
    a2, n2 = _pooled(t, second, "answers")
    center, margin = wilson(a2, n2)
    upper = float(center + margin)
    if not upper <= STALL_MAX_RATIO * a1:
        return None
    return {"truncated_share": truncated / samples, "samples": int(samples), "budget": budget,
            "still_running_at_half": int(t["at_risk"].iloc[second[0]]), "answer_hazard_first_half": a1,
            "answer_hazard_second_half": a2, "answer_hazard_second_half_upper": upper,
            "at_risk_first_half": int(n1), "at_risk_second_half": int(n2)}


def _budget(ds: Dataset, evals: Sequence[str]) -> int | None:
    values = [v for v in (ds.max_tokens().get(e) for e in evals) if v]
    return int(min(values)) if values else None


def series_findings(ds: Dataset, part: pd.DataFrame, samples: pd.DataFrame, *, name: str,
                    selection: Mapping[str, Any], bucket_size: int, evals: Sequence[str],
                    link_options: Mapping[str, Any] | None = None) -> tuple[list[Finding], list[str]]:
    """The findings of one series and the plain notes that are not findings (what was ruled out).

    ``part``: the series' rows of the engine's hazard table; ``samples``: its completions
    (``base_task``, ``outcome``, ``completion_tokens``); ``selection``: its own filters (the
    projection's, narrowed to the series and split values), which the per-task wall check
    queries with the task filter dropped; ``evals``: the evals in the series (their budgets).
    """
    if part.empty:
        return [], []
    eval_id = str(evals[0]) if len(evals) == 1 else None
    tasks = list(selection.get("base_task") or [])
    base_task = str(tasks[0]) if len(tasks) == 1 else None
    budget = _budget(ds, evals)
    url = link(PROJECTION, selection, **(link_options or {}))
    out: list[Finding] = []
    notes: list[str] = []

    def make(kind: str, text: str, where: Mapping[str, Any], evidence: Mapping[str, Any]) -> None:
        out.append(Finding(kind=kind, projection=PROJECTION, eval_id=eval_id, base_task=base_task, text=text,
                           where=where, evidence=evidence, action=ACTIONS[kind], link=url))

    counted = _with_counts(part)   # once per series: the three table readings share it
    spike = _wall_candidate(counted)
    if spike is not None:
        where = {"bin_start": spike["bin_start"], "bin_end": spike["bin_end"], "bucket_size": bucket_size}
        span = f"{spike['bin_start']:,}–{spike['bin_end']:,} tokens"
        if budget and spike["bin_end"] > RUNAWAY_SHARE * budget:
            notes.append(f"{name}: failures pile up at {span}, just below its budget ({budget:,} tokens): long "
                         "runaway answers rather than a wall.")
        else:
            across = {k: v for k, v in selection.items() if k != "base_task"}
            tables = ds.hazard(across, group_by=["base_task"], bucket_size=bucket_size)
            held = holds_across(tables, "base_task", spike["bin"], spike["bins"])
            evidence = {**spike, "tasks": held, "budget": budget}
            if held["held"]:
                after = spike["after"]
                least = min(spike["before"]["excess_lower"], after["excess_lower"]) if after["at_risk"] else \
                    spike["before"]["excess_lower"]
                later = f"{after['hazard']:.3f} after" if after["at_risk"] else "too few left after it"
                make("context_wall", f"{name}: context wall: failure hazard spike at {span}: {spike['hazard']:.2f} "
                     f"of {spike['at_risk']:,} at risk vs {spike['before']['hazard']:.3f} before and {later} (excess "
                     f"≥ {least:.2f}, "
                     f"95%), in {len(held['holding'])}/{len(held['tested'])} tasks; {ACTIONS['context_wall']}.",
                     where, evidence)
            else:
                notes.append(f"{name}: a failure-hazard bump at {span} shows in {len(held['holding'])} of "
                             f"{len(held['tested'])} tasks with samples there: not a wall across tasks.")
    early = _early_failure(samples, samples["completion_tokens"].notna().to_numpy())
    if early is not None:
        make("early_failure", f"{name}: early failure: {early['failed_early_share']:.0%} of failures end before "
             f"half their task's median correct length vs {early['correct_early_share']:.0%} of correct answers "
             f"(n {early['n_failed']:,} and {early['n_correct']:,}); {ACTIONS['early_failure']}.",
             {"rel_tokens_below": EARLY_REL}, early)
    rise = _late_rising(counted)
    if rise is not None:
        make("late_rising", f"{name}: failure hazard rises with tokens, {rise['early_hazard']:.3f} → "
             f"{rise['late_hazard']:.3f} per bin over {rise['tokens_from']:,}–{rise['tokens_to']:,} tokens; "
             f"{ACTIONS['late_rising']}.", {"tokens_from": rise["tokens_from"], "tokens_to": rise["tokens_to"]},
             rise)
    flat = _flat_high_truncation(counted, budget)
    if flat is not None:
        make("flat_hazard_high_truncation", f"{name}: flat hazard with high truncation: "
             f"{flat['truncated_share']:.0%} truncated; of the {flat['still_running_at_half']:,} still running at half "
             f"the budget, answers come at {flat['answer_hazard_second_half']:.3f} per bin vs "
             f"{flat['answer_hazard_first_half']:.3f} before; {ACTIONS['flat_hazard_high_truncation']}.",
             {"tokens_from": int((budget or int(part['bin_end'].iloc[-1])) // 2),
              "tokens_to": budget or int(part["bin_end"].iloc[-1])}, flat)
    return out, notes


def wall_marks(found: Sequence[Finding], series: Any) -> list[dict[str, Any]]:
    """What the hazard figure draws for each wall of one series: its bin, hazard, the hazard before it."""
    return [{"series": series, "bin_start": f.where["bin_start"], "bin_end": f.where["bin_end"],
             "hazard": f.evidence["hazard"], "before": f.evidence["before"]["hazard"]}
            for f in found if f.kind == "context_wall"]


__all__ = ["ACTIONS", "early_failure", "flat_high_truncation", "holds_across", "late_rising", "series_findings",
           "wall_candidate", "wall_marks"]
