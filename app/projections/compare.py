"""compare: does one eval beat another beyond noise, group by group (spec §12)?

The first selected eval (a) is compared with each other one (b). For every group of
``--group-by`` both evals have samples in, the table holds the two guess-corrected accuracies
of §3, their difference with Newcombe's hybrid score interval, the pooled two-proportion
z-test, Holm's adjustment over the pair's groups and a verdict (``app.engine.stats``). The
notes say, per pair, whether the gap is broad (most groups differ) or narrow (a few do),
where one eval is better and where the two are equivalent.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

import numpy as np
import pandas as pd

from app.engine import stats
from app.engine.dataset import Dataset
from app.engine.errors import InputError, listing
from app.engine.stats import check_truncation
from app.figures import compare as fig_compare
from app.projections.base import (
    NONE,
    Projection,
    SplitFigure,
    base_meta,
    dim_option,
    empty_error,
    eval_order,
    selection_text,
    token_provenance_note,
)

NAME = "compare"
MIN_EVALS = 2
BROAD_SHARE = 0.5   # the gap is broad when the evals differ beyond noise on more than this share of the groups
ALL = "all"         # the one group's name with --group-by none
NAMES_SHOWN = 6     # groups named per verdict in a note; the rest are counted
COLUMNS = ("n_a", "n_b", "accuracy_a", "accuracy_b", "diff", "diff_lower", "diff_upper", "p_value", "p_holm",
           "verdict")
TOO_FEW = ("compare needs at least two evals: choose at least two evals (in the filter bar, or "
           "--filters '{\"eval_id\": [\"A\", \"B\"]}')")


def _written_order(filters: Any) -> list[str]:
    """The eval ids as the filter lists them (the CLI's ``[A, B, ...]``: A is compared with the others)."""
    raw = filters
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return []
    value = raw.get("eval_id") if isinstance(raw, Mapping) else None
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


def eval_sequence(ds: Dataset, filters: Any, present) -> list[str]:
    """The selected evals in comparison order: as the ``eval_id`` filter lists them, then by label.

    The dashboard's filters are canonical (sorted), so there a is the first id in sorted
    order, and the page's "Copy as CLI command" line reproduces the same pairs.
    """
    by_label = list(eval_order(ds, present))
    written = [e for e in dict.fromkeys(_written_order(filters)) if e in by_label]
    return written + [e for e in by_label if e not in written]


def _pair_rows(counts: pd.DataFrame, a: str, b: str, group: str) -> tuple[pd.DataFrame, int]:
    """The comparison rows of a against b over the groups both have samples in; and how many groups one lacks."""
    side = {e: counts[counts["eval_id"] == e].set_index(group) for e in (a, b)}
    shared = [g for g in side[a].index if g in side[b].index]
    lacking = len(set(side[a].index) ^ set(side[b].index))
    ta, tb = side[a].loc[shared], side[b].loc[shared]
    table = stats.compare_table(ta["accuracy"].to_numpy() * ta["n"].to_numpy(), ta["n"].to_numpy(),
                                tb["accuracy"].to_numpy() * tb["n"].to_numpy(), tb["n"].to_numpy())
    rows = pd.DataFrame({group: shared, **{c: table[c] for c in COLUMNS}})
    return rows, lacking


def _names(values: list[Any]) -> str:
    return listing([str(v) for v in values], NAMES_SHOWN)


def gap_sentence(label_a: str, label_b: str, group: str, rows: pd.DataFrame) -> str:
    """One pair's reading: broad or narrow gap, where each is better, where they are equivalent.

    Broad: the two differ beyond noise (a_better or b_better) on more than ``BROAD_SHARE`` of
    the groups; narrow: on some but not most; none: on no group.
    """
    by = {v: rows.loc[rows["verdict"] == v, group].tolist() for v in stats.VERDICTS}
    m = len(rows)
    differ = len(by["a_better"]) + len(by["b_better"])
    what = f"{group} value" + ("" if m == 1 else "s")
    if differ == 0:
        head = f"{label_a} vs {label_b}: no gap beyond noise on any of the {m} {what}"
    else:
        width = "broad" if differ > BROAD_SHARE * m else "narrow"
        head = f"{label_a} vs {label_b}: the gap is {width} ({differ} of {m} {what} differ beyond noise)"
    parts = [head]
    if by["a_better"]:
        parts.append(f"{label_a} is better on {_names(by['a_better'])}")
    if by["b_better"]:
        parts.append(f"{label_b} is better on {_names(by['b_better'])}")
    if by["equivalent"]:
        parts.append(f"equivalent (within ±{stats.EQUIVALENCE_MARGIN:g}) on {_names(by['equivalent'])}")
    if by["unclear"]:
        parts.append(f"unclear on {len(by['unclear'])}")
    return "; ".join(parts) + "."


def run(ds: Dataset, *, filters=None, truncation: str = "failure", group_by: str = "base_task") -> Projection:
    """Compare the first selected eval with each other one, per value of ``group_by``."""
    truncation = check_truncation(truncation)
    parsed = ds.parse_filters(filters)
    dim = dim_option(ds, group_by, "compare --group-by")
    if dim == "eval_id":
        raise InputError("compare --group-by: eval_id is what compare pairs up; choose another dimension, "
                         "e.g. base_task, or none")
    counts = ds.aggregate(parsed, ["eval_id"] + ([dim] if dim else []), truncation, quantiles=False)
    if counts.empty:
        raise empty_error(ds, parsed, NAME)
    group = dim or "group"
    if dim is None:
        counts = counts.assign(group=ALL)
    counts = counts[counts["n"] > 0]
    evals = eval_sequence(ds, filters, counts["eval_id"].unique())
    if len(evals) < MIN_EVALS:
        raise InputError(f"{TOO_FEW}; the filters keep {len(evals)} eval(s) with samples")
    labels = eval_order(ds, evals)
    first = evals[0]
    tables, pairs, notes = [], [], []
    lacking_total = 0
    for other in evals[1:]:
        rows, lacking = _pair_rows(counts, first, other, group)
        lacking_total += lacking
        if rows.empty:
            notes.append(f"{labels[first]} vs {labels[other]}: no {group} value has samples of both.")
            continue
        rows.insert(0, "eval_a", first)
        rows.insert(1, "label_a", labels[first])
        rows.insert(2, "eval_b", other)
        rows.insert(3, "label_b", labels[other])
        tables.append(rows)
        pairs.append((first, other, labels[first], labels[other]))
        notes.append(gap_sentence(labels[first], labels[other], group, rows))
    if not tables:
        raise InputError(f"compare: no {group} value has samples of both {labels[first]} and another selected "
                         "eval; choose evals that share tasks")
    table = pd.concat(tables, ignore_index=True)
    for column in ("n_a", "n_b"):
        table[column] = table[column].astype(np.float64)
    notes.append(f"Verdicts: better = the 95% Newcombe interval of a − b excludes 0 and the pooled z-test's p, "
                 f"Holm-adjusted over the pair's {group} values, is below {stats.ALPHA:g} (at least "
                 f"{stats.MIN_TRIALS} trials each); equivalent = the whole interval lies within "
                 f"±{stats.EQUIVALENCE_MARGIN:g}; accuracies are guess-corrected (§3).")
    if lacking_total:
        notes.append(f"{lacking_total} {group} value(s) with samples of only one eval of a pair are left out.")
    notes += token_provenance_note(ds)
    figure = fig_compare.build(table, group=group, pairs=pairs,
                               title=f"Compare: accuracy difference by {group}",
                               subtitle=selection_text(ds, parsed, labels, truncation))
    meta = base_meta(NAME, ds, parsed, dim or NONE, truncation, evals=evals, reference=first,
                     equivalence_margin=stats.EQUIVALENCE_MARGIN, alpha=stats.ALPHA, z=stats.Z)
    return Projection(NAME, table, [SplitFigure(None, figure)], notes, meta)
