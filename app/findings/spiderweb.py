"""Spiderweb findings: the seed's four cognitive archetypes, as explicit rules over the fingerprint's numbers.

The seed names the archetypes by the shape of a fingerprint; the dashboard, the CLI
and the report must say *why* an eval got its label, so each rule is a threshold on a
number computed from the per-task rows, and the verdict carries those numbers. Rules
apply in order; the first that holds wins; an eval no rule fits is
``no_clear_archetype``. Every eval of a selection gets exactly one finding.

The thresholds live here once: the synthetic generator's truth (``app.synth.truth``)
and the next-steps ranking read them from this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from app.findings.base import Finding, link

PROJECTION = "spiderweb"

TRUNCATION_VICTIM_RATE = 0.10
INEFFICIENT_TOKEN_RATIO = 1.5
INEFFICIENT_MIN_MEAN = 0.5
SPECIALIST_MIN_STD = 0.2
SPECIALIST_MIN_BEST = 0.8
GENERALIST_MAX_STD = 0.12
GENERALIST_MIN_MEAN = 0.5
GENERALIST_MAX_TRUNCATION = 0.05
MIN_TASKS_FOR_SHAPE = 3  # a spread over one or two tasks says nothing about shape

ARCHETYPES = ("Truncation Victim", "Inefficient Reasoner", "Task Specialist", "Balanced Generalist")
NONE = "No clear archetype"
# the finding kind of each archetype name (the names are what notes and figures print)
KIND = {
    "Truncation Victim": "truncation_victim",
    "Inefficient Reasoner": "inefficient_reasoner",
    "Task Specialist": "task_specialist",
    "Balanced Generalist": "balanced_generalist",
    NONE: "no_clear_archetype",
}
# the deployment implication of the user's workflow document, per archetype (the finding's action)
IMPLICATIONS = {
    "Balanced Generalist": "safe for diverse workloads",
    "Task Specialist": "use only for strong tasks",
    "Truncation Victim": "consider another model",
    "Inefficient Reasoner": "use a large context window",
    NONE: "read the fingerprint task by task",
}


@dataclass(frozen=True)
class Verdict:
    """An eval's archetype, the sentence saying why, and the numbers behind it."""

    eval_id: str
    archetype: str
    reason: str
    numbers: dict[str, float] = field(default_factory=dict)

    @property
    def implication(self) -> str:
        return IMPLICATIONS[self.archetype]

    @property
    def kind(self) -> str:
        """The finding kind (``task_specialist``…) of this archetype."""
        return KIND[self.archetype]


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def classify(eval_id: str, centers: Sequence[float], truncation_rate: float,
             tokens_mean: float | None = None, tokens_median: float | None = None) -> Verdict:
    """Apply the rules to one eval.

    ``centers``: per-task Wilson centers; ``truncation_rate`` and ``tokens_mean``:
    over all its selected samples; ``tokens_median``: the median of the evals'
    ``tokens_mean`` over all evals of the dataset on the same tasks.
    """
    c = np.asarray([x for x in centers if x is not None and not math.isnan(x)], dtype=float)
    mean = float(c.mean()) if len(c) else math.nan
    std = float(c.std()) if len(c) else math.nan
    best = float(c.max()) if len(c) else math.nan
    ratio = (tokens_mean / tokens_median if tokens_mean is not None and tokens_median
             and not math.isnan(tokens_mean) and not math.isnan(tokens_median) else math.nan)
    nums = {"tasks": float(len(c)), "mean_center": mean, "std_center": std, "best_center": best,
            "truncation_rate": float(truncation_rate), "tokens_mean": math.nan if tokens_mean is None else tokens_mean,
            "tokens_median_all": math.nan if tokens_median is None else tokens_median, "token_ratio": ratio}
    if len(c) == 0:
        return Verdict(eval_id, NONE, "no task has data", nums)

    if truncation_rate >= TRUNCATION_VICTIM_RATE:
        return Verdict(eval_id, "Truncation Victim",
                       f"truncation {_pct(truncation_rate)} ≥ {_pct(TRUNCATION_VICTIM_RATE)}", nums)
    if not math.isnan(ratio) and ratio >= INEFFICIENT_TOKEN_RATIO and mean >= INEFFICIENT_MIN_MEAN:
        return Verdict(eval_id, "Inefficient Reasoner",
                       f"tokens {tokens_mean:,.0f} = {ratio:.2f}× the median eval ({tokens_median:,.0f}) "
                       f"≥ {INEFFICIENT_TOKEN_RATIO}×, mean accuracy {mean:.2f} ≥ {INEFFICIENT_MIN_MEAN}", nums)
    shape_ok = len(c) >= MIN_TASKS_FOR_SHAPE
    if shape_ok and std >= SPECIALIST_MIN_STD and best >= SPECIALIST_MIN_BEST:
        return Verdict(eval_id, "Task Specialist",
                       f"spread {std:.2f} ≥ {SPECIALIST_MIN_STD} across {len(c)} tasks, "
                       f"best task {best:.2f} ≥ {SPECIALIST_MIN_BEST}", nums)
    if (shape_ok and std <= GENERALIST_MAX_STD and mean >= GENERALIST_MIN_MEAN
            and truncation_rate < GENERALIST_MAX_TRUNCATION):
        return Verdict(eval_id, "Balanced Generalist",
                       f"spread {std:.2f} ≤ {GENERALIST_MAX_STD} across {len(c)} tasks, mean {mean:.2f} ≥ "
                       f"{GENERALIST_MIN_MEAN}, truncation {_pct(truncation_rate)} < {_pct(GENERALIST_MAX_TRUNCATION)}",
                       nums)
    why = [f"truncation {_pct(truncation_rate)} < {_pct(TRUNCATION_VICTIM_RATE)}"]
    why.append("token use unknown" if math.isnan(ratio) else f"tokens {ratio:.2f}× median")
    if not shape_ok:
        why.append(f"only {len(c)} task(s): shape needs ≥ {MIN_TASKS_FOR_SHAPE}")
    else:
        why.append(f"mean {mean:.2f}, spread {std:.2f}, best {best:.2f}")
    return Verdict(eval_id, NONE, "; ".join(why), nums)


def classify_all(per_task: pd.DataFrame, overall: pd.DataFrame,
                 reference: pd.DataFrame | None = None) -> dict[str, Verdict]:
    """Verdict per eval.

    ``per_task``: columns eval_id, center (one row per task); ``overall``: one
    row per eval with its truncation_rate and tokens_mean over all its selected
    samples (and ``samples``, recorded as the verdict's n when present);
    ``reference``: eval_id and tokens_mean of every eval of the dataset on the
    selection's tasks, so that a single-eval selection is still compared with its
    peers (defaults to ``overall``).
    """
    reference = overall if reference is None or reference.empty else reference
    ref_tokens = reference["tokens_mean"].dropna()
    median = float(ref_tokens.median()) if len(ref_tokens) else None
    by_eval = overall.set_index("eval_id")
    out = {}
    for eid, rows in per_task.groupby("eval_id", observed=True, sort=False):
        tokens = by_eval.at[eid, "tokens_mean"] if eid in by_eval.index else math.nan
        verdict = classify(str(eid), rows["center"].tolist(), float(by_eval.at[eid, "truncation_rate"]),
                           None if pd.isna(tokens) else float(tokens), median)
        if "samples" in by_eval.columns:
            verdict.numbers["samples"] = float(by_eval.at[eid, "samples"])
        out[str(eid)] = verdict
    return out


def finding(verdict: Verdict, label: str | None = None, *, filters: Mapping[str, Any] | None = None,
            group_by: str = "base_task", truncation: str = "failure") -> Finding:
    """The verdict as a finding: its sentence, the numbers (with the eval's n), the action and a link.

    ``filters``: the selection's filters; the link opens the spiderweb on them, narrowed to this
    eval (the page that shows the fingerprint the verdict reads).
    """
    e = verdict.eval_id
    name = f"{label} ({e})" if label else e
    narrowed = {k: v for k, v in (filters or {}).items()
                if k not in ("eval_id", "model", "template", "sampler", "groups") and not k.startswith("groups.")}
    narrowed["eval_id"] = [e]
    return Finding(
        kind=verdict.kind, projection=PROJECTION, eval_id=e, base_task=None,
        text=f"{name}: {verdict.archetype} — {verdict.reason}; {verdict.implication}.",
        where={"group_by": group_by}, evidence={"archetype": verdict.archetype, "reason": verdict.reason,
                                                **verdict.numbers},
        action=verdict.implication,
        link=link(PROJECTION, narrowed, group_by=None if group_by == "base_task" else group_by,
                  truncation=None if truncation == "failure" else truncation))


def findings(verdicts: Mapping[str, Verdict], labels: Mapping[str, str] | None = None, *,
             filters: Mapping[str, Any] | None = None, group_by: str = "base_task",
             truncation: str = "failure") -> list[Finding]:
    """One finding per eval, in the order of ``verdicts``."""
    labels = labels or {}
    return [finding(v, labels.get(e), filters=filters, group_by=group_by, truncation=truncation)
            for e, v in verdicts.items()]


__all__ = ["ARCHETYPES", "GENERALIST_MAX_STD", "GENERALIST_MAX_TRUNCATION", "GENERALIST_MIN_MEAN", "IMPLICATIONS",
           "INEFFICIENT_MIN_MEAN", "INEFFICIENT_TOKEN_RATIO", "KIND", "MIN_TASKS_FOR_SHAPE", "NONE",
           "SPECIALIST_MIN_BEST", "SPECIALIST_MIN_STD", "TRUNCATION_VICTIM_RATE", "Verdict", "classify",
           "classify_all", "finding", "findings"]
