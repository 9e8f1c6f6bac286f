"""Compression findings: underthink, overthink, broken loops or healthy, per eval × task.

A completion's compressed size measures how much information its text carries; its tokens
how much it cost. The user's workflow reads three failure modes from where the incorrect
answers sit against the correct ones of the same eval and task, and calls the rest healthy.
Every reading compares distributions (medians with distribution-free 95% intervals from order
statistics, never one bin), and needs :data:`MIN_N` completions on each side:

- **underthink**: failed answers (incorrect + invalid) are short and small: the ratio of their
  median tokens to the correct answers' is at most :data:`UNDERTHINK_MAX_TOKENS_RATIO` and the
  ratio of median compressed bytes at most :data:`UNDERTHINK_MAX_BYTES_RATIO`, both judged on
  the ratio's upper 95% bound (the failures' upper median bound over the correct answers' lower one).
- **overthink**: failed answers are long and say little per token: the median-tokens ratio is at
  least :data:`OVERTHINK_MIN_TOKENS_RATIO` (lower bound) and the median bytes-per-token ratio at
  most :data:`OVERTHINK_MAX_BPT_RATIO` (upper bound). Ordinary hard questions make failures
  ~1.3× longer at ~0.9× the bytes per token: neither kind fires on that.
- **broken_loops**: the completions near the budget (tokens ≥ :data:`LOOP_BUDGET_SHARE` ×
  the eval's ``max_tokens``, or of its longest completion when the budget is unknown) are at
  least :data:`LOOP_MIN_N` and :data:`LOOP_MIN_SHARE` of the task's; at least
  :data:`LOOP_MIN_TRUNCATED` of them are truncated; and their compressed size stayed flat while
  tokens grew: their median bytes per token is at most :data:`LOOP_MAX_BPT_RATIO` of the correct
  answers' (upper bound). A model cut off by a small budget while still reasoning keeps ~0.6-0.7
  of the usual bytes per token; a loop repeating itself compresses to a fraction of that.
- **healthy**: every test above could be made (enough samples) and none fired.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import pandas as pd

from app.findings.base import Finding, link

PROJECTION = "compression"

MIN_N = 30                          # completions needed on each side (correct, failed) of a comparison
Z = 1.96                            # the 95% intervals of the medians (order statistics, normal approximation)
UNDERTHINK_MAX_TOKENS_RATIO = 0.5   # failed median tokens ≤ half the correct ones' (upper bound)
UNDERTHINK_MAX_BYTES_RATIO = 0.7    # ... and their median compressed size ≤ 0.7 of the correct ones' (upper bound)
OVERTHINK_MIN_TOKENS_RATIO = 1.5    # failed median tokens ≥ 1.5× the correct ones' (lower bound)
OVERTHINK_MAX_BPT_RATIO = 0.7       # ... at ≤ 0.7 of their bytes per token (upper bound)
LOOP_BUDGET_SHARE = 0.8             # "near the budget": tokens ≥ 0.8 × max_tokens
LOOP_MIN_N = 30                     # completions near the budget needed to read a loop cluster
LOOP_MIN_SHARE = 0.05               # ... and at least this share of the task's completions
LOOP_MIN_TRUNCATED = 0.5            # most of the cluster runs into the budget
LOOP_MAX_BPT_RATIO = 0.5            # its bytes per token ≤ half the correct answers' (upper bound)
FAILED = ("incorrect", "invalid")
SAMPLE_COLUMNS = ["eval_id", "base_task", "outcome", "completion_tokens", "compressed_bytes"]

ACTIONS = {
    "underthink": "encourage longer reasoning via prompts",
    "overthink": "set max_tokens limits, tune temperature",
    "broken_loops": "architecture issue, hard to fix; classify the loops with the probe (truncation)",
    "healthy": "reasoning works, failure is elsewhere",
}


def median_interval(values: np.ndarray, z: float = Z) -> tuple[float, float, float]:
    """(median, lower, upper): the median with its distribution-free 95% interval from order statistics.

    The interval's ends are the sorted values at ranks n/2 ∓ z·√n/2 (the binomial's normal
    approximation), so it holds for any distribution, skewed token counts included.
    """
    x = np.sort(np.asarray(values, dtype=np.float64))
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan
    half = z * math.sqrt(n) / 2
    lo, hi = max(int(math.floor(n / 2 - half)), 0), min(int(math.ceil(n / 2 + half)), n - 1)
    return float(np.median(x)), float(x[lo]), float(x[hi])


def _div(a: float, b: float) -> float:
    return a / b if b > 0 else math.nan   # undefined, and JSON has no infinity


def ratio_interval(num: np.ndarray, den: np.ndarray) -> dict[str, float]:
    """Ratio of two medians with a conservative 95% interval (num's bounds over den's opposite bounds)."""
    m_n, lo_n, hi_n = median_interval(num)
    m_d, lo_d, hi_d = median_interval(den)
    return {"ratio": _div(m_n, m_d), "lower": _div(lo_n, hi_d), "upper": _div(hi_n, lo_d),
            "median": m_n, "reference_median": m_d}


def _bpt(part: pd.DataFrame) -> np.ndarray:
    return _bytes_per_token(part["completion_tokens"].to_numpy(), part["compressed_bytes"].to_numpy())


def _bytes_per_token(tokens: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Compressed bytes per token of the completions with tokens (the others have no rate)."""
    tok = np.asarray(tokens, dtype=np.float64)
    return np.asarray(size, dtype=np.float64)[tok > 0] / tok[tok > 0]


def classify(part: pd.DataFrame, budget: int | None) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """The (kind, where, evidence) readings of one eval × task's completions; [] when too few to say.

    ``part`` holds ``outcome``, ``completion_tokens`` and ``compressed_bytes`` of every completion
    with both numbers. Failure modes come first; ``healthy`` only when every test could be made.
    """
    is_correct = (part["outcome"] == "correct").to_numpy(dtype=bool)
    is_truncated = (part["outcome"] == "truncated").to_numpy(dtype=bool)
    is_failed = part["outcome"].isin(FAILED).to_numpy(dtype=bool)
    # the columns read once as arrays: masking them is cheaper than cutting the frame per group
    tok, size_all = part["completion_tokens"].to_numpy(), part["compressed_bytes"].to_numpy()
    n_correct, n_failed = int(is_correct.sum()), int(is_failed.sum())
    out: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    compared = n_correct >= MIN_N and n_failed >= MIN_N
    evidence: dict[str, Any] = {}
    if compared:
        tokens = ratio_interval(tok[is_failed], tok[is_correct])
        size = ratio_interval(size_all[is_failed], size_all[is_correct])
        bpt = ratio_interval(_bytes_per_token(tok[is_failed], size_all[is_failed]),
                             _bytes_per_token(tok[is_correct], size_all[is_correct]))
        evidence = {"n_correct": n_correct, "n_failed": n_failed, "tokens_ratio": tokens,
                    "bytes_ratio": size, "bytes_per_token_ratio": bpt}
        if tokens["upper"] <= UNDERTHINK_MAX_TOKENS_RATIO and size["upper"] <= UNDERTHINK_MAX_BYTES_RATIO:
            out.append(("underthink", {"failed_tokens_median": tokens["median"],
                                       "correct_tokens_median": tokens["reference_median"]}, evidence))
        if tokens["lower"] >= OVERTHINK_MIN_TOKENS_RATIO and bpt["upper"] <= OVERTHINK_MAX_BPT_RATIO:
            out.append(("overthink", {"failed_tokens_median": tokens["median"],
                                      "correct_tokens_median": tokens["reference_median"]}, evidence))
    limit = budget if budget else (int(tok.max()) if len(tok) else 0)
    threshold = LOOP_BUDGET_SHARE * limit
    is_near = (tok >= threshold) if limit else np.zeros(len(part), dtype=bool)
    is_reference = is_correct if n_correct >= MIN_N else ~is_truncated & (tok < threshold)
    n_near, n_reference = int(is_near.sum()), int(is_reference.sum())
    looped = n_near >= LOOP_MIN_N and n_near >= LOOP_MIN_SHARE * len(part) and n_reference >= MIN_N
    if looped:
        near = part[is_near]
        truncated = float(is_truncated[is_near].mean())
        bpt_loop = ratio_interval(_bpt(near), _bytes_per_token(tok[is_reference], size_all[is_reference]))
        varied = near["completion_tokens"].nunique() > 2
        rho = (float(near["completion_tokens"].rank().corr(near["compressed_bytes"].rank())) if varied else None)
        if truncated >= LOOP_MIN_TRUNCATED and bpt_loop["upper"] <= LOOP_MAX_BPT_RATIO:
            out.append(("broken_loops",
                        {"tokens_from": int(math.ceil(threshold)), "tokens_to": int(limit),
                         "bytes_from": int(near["compressed_bytes"].quantile(0.05)),
                         "bytes_to": int(near["compressed_bytes"].quantile(0.95))},
                        {"n": len(near), "share_of_task": len(near) / len(part), "truncated_share": truncated,
                         "budget": budget, "bytes_per_token_ratio": bpt_loop, "n_reference": n_reference,
                         "tokens_bytes_spearman": rho}))
    if not out and compared:
        out.append(("healthy", {}, evidence))
    return out


def _text(kind: str, name: str, where: Mapping[str, Any], ev: Mapping[str, Any]) -> str:
    if kind == "underthink":
        return (f"{name}: underthink: failed answers are short and small — median {ev['tokens_ratio']['median']:,.0f} "
                f"tokens vs {ev['tokens_ratio']['reference_median']:,.0f} for correct ones (×"
                f"{ev['tokens_ratio']['ratio']:.2f}, 95% ≤ ×{ev['tokens_ratio']['upper']:.2f}), compressed size ×"
                f"{ev['bytes_ratio']['ratio']:.2f} (n {ev['n_failed']:,} failed, {ev['n_correct']:,} correct); "
                f"{ACTIONS[kind]}.")
    if kind == "overthink":
        return (f"{name}: overthink: failed answers are long and low in information — median "
                f"{ev['tokens_ratio']['median']:,.0f} tokens vs {ev['tokens_ratio']['reference_median']:,.0f} for "
                f"correct ones (×{ev['tokens_ratio']['ratio']:.2f}, 95% ≥ ×{ev['tokens_ratio']['lower']:.2f}) at ×"
                f"{ev['bytes_per_token_ratio']['ratio']:.2f} the bytes per token (n {ev['n_failed']:,} failed, "
                f"{ev['n_correct']:,} correct); {ACTIONS[kind]}.")
    if kind == "broken_loops":
        return (f"{name}: broken loops: {ev['n']:,} completions ({ev['share_of_task']:.0%}) at "
                f"{where['tokens_from']:,}–{where['tokens_to']:,} tokens keep a flat compressed size "
                f"({where['bytes_from']:,}–{where['bytes_to']:,} bytes, ×{ev['bytes_per_token_ratio']['ratio']:.2f} "
                f"the correct answers' bytes per token), {ev['truncated_share']:.0%} truncated; {ACTIONS[kind]}.")
    return ""


def findings(samples: pd.DataFrame, budgets: Mapping[str, int | None], labels: Mapping[str, str], *,
             filters: Mapping[str, Any] | None = None) -> list[Finding]:
    """Every eval × task reading of ``samples`` (columns :data:`SAMPLE_COLUMNS`), evals in ``labels`` order.

    Healthy tasks are findings too (so the report can say so) but are not failure modes.
    """
    frame = samples.dropna(subset=["completion_tokens", "compressed_bytes"])
    narrowed = {k: v for k, v in (filters or {}).items() if k not in ("eval_id", "base_task")}
    order = {e: i for i, e in enumerate(labels)}
    groups = sorted(((str(e), str(t), g) for (e, t), g in frame.groupby(["eval_id", "base_task"], observed=True,
                                                                        sort=True) if len(g)),
                    key=lambda x: (order.get(x[0], len(order)), x[1]))
    out: list[Finding] = []
    for eval_id, task, part in groups:
        name = f"{task} · {labels.get(eval_id, eval_id)}"
        url = link(PROJECTION, {**narrowed, "eval_id": [eval_id], "base_task": [task]})
        for kind, where, ev in classify(part, budgets.get(eval_id)):
            text = (_text(kind, name, where, ev) if kind != "healthy" else
                    f"{name}: healthy: failed answers ×{ev['tokens_ratio']['ratio']:.2f} the correct ones' tokens "
                    f"at ×{ev['bytes_per_token_ratio']['ratio']:.2f} their bytes per token; {ACTIONS[kind]}.")
            out.append(Finding(kind=kind, projection=PROJECTION, eval_id=eval_id, base_task=task, text=text,
                               where=where, evidence=ev, action=ACTIONS[kind], link=url))
    return out


def marks(found: list[Finding]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(eval_id, base_task) → what the compression figure draws for its failure modes.

    Under- and overthink: the token band between the failed and the correct answers' medians;
    broken loops: the cluster's box (tokens near the budget × its 5-95% compressed sizes).
    """
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for f in found:
        if not f.failure_mode:
            continue
        w, ev = f.where, f.evidence
        if f.kind == "broken_loops":
            mark = {"kind": f.kind, "x0": w["tokens_from"], "x1": w["tokens_to"], "y0": w["bytes_from"],
                    "y1": w["bytes_to"], "text": f"broken loops: {ev['n']:,}, {ev['truncated_share']:.0%} truncated"}
        else:
            lo, hi = sorted((w["failed_tokens_median"], w["correct_tokens_median"]))
            mark = {"kind": f.kind, "x0": lo, "x1": hi,
                    "text": f"{f.kind}: failed median {w['failed_tokens_median']:,.0f} vs correct "
                            f"{w['correct_tokens_median']:,.0f} tokens"}
        out.setdefault((str(f.eval_id), str(f.base_task)), []).append(mark)
    return out


def notes(found: list[Finding], labels: Mapping[str, str]) -> list[str]:
    """The sentences a page shows: each failure mode on its own, healthy tasks one sentence per eval."""
    out = [f.text for f in found if f.kind != "healthy"]
    healthy: dict[str, list[str]] = {}
    for f in found:
        if f.kind == "healthy":
            healthy.setdefault(str(f.eval_id), []).append(str(f.base_task))
    for eval_id, tasks in healthy.items():
        out.append(f"{labels.get(eval_id, eval_id)}: healthy on {len(tasks)} task(s) ({', '.join(tasks)}): failed "
                   f"and correct answers differ as ordinary difficulty does; {ACTIONS['healthy']}.")
    return out


__all__ = ["ACTIONS", "MIN_N", "SAMPLE_COLUMNS", "classify", "findings", "marks", "median_interval", "notes",
           "ratio_interval"]
