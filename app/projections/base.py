"""What every projection returns, and the pieces they share.

A projection turns (dataset, filters, options) into rows (the exact table the
CLI writes as CSV/JSON and the dashboard offers for download), figures and
plain sentences. The CLI and the pages both call ``run`` and never build
figures themselves, so a PNG from the command line matches the page.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, NamedTuple

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from app.engine import filters as flt
from app.engine.dataset import Dataset
from app.engine.errors import InputError
from app.findings.base import Finding

NONE = "none"
EVAL_FILTER_KEYS = ("eval_id", "model", "template", "sampler", "groups")


class SplitFigure(NamedTuple):
    """One figure and the split value it draws (None when the projection is not split): unpacks as a pair."""

    split: str | None
    figure: go.Figure


@dataclass
class Projection:
    """Rows to export, figures to draw (one per split value), notes to read, meta for the JSON file.

    ``findings`` are the readings of this view (:mod:`app.findings`); the notes that state
    them are rendered from them, and ``to_json`` writes them.
    """

    name: str
    rows: pd.DataFrame
    figures: list[SplitFigure]
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)


def plain(value: Any) -> Any:
    """JSON-safe scalars: numpy → python, NaN/NA → None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def to_json(projection: Projection) -> dict[str, Any]:
    """The ``--format json`` document: meta keys first, then notes and one object per row."""
    rows = [{str(k): plain(v) for k, v in rec.items()} for rec in projection.rows.to_dict("records")]
    doc: dict[str, Any] = {"projection": projection.name}
    doc.update({k: plain(v) for k, v in projection.meta.items() if k != "projection"})
    doc["notes"] = list(projection.notes)
    doc["findings"] = [f.to_json() for f in projection.findings]
    doc["rows"] = rows
    return doc


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may read as the start of a formula
PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def spreadsheet_safe(value: Any) -> Any:
    """A text cell a spreadsheet will not run: ``'`` before one that starts like a formula.

    Rule: only text (``str``) cells are touched, so numeric columns (negative accuracies,
    hazards) are written as numbers; a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab
    or a carriage return gets a leading ``'``, unless the whole cell is a plain number such as
    ``-5`` or ``+1.5e3`` (a spreadsheet reads that as the number, never as a formula).
    """
    if isinstance(value, str) and value.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _cut(value: Any, limit: int | None) -> Any:
    if limit is not None and isinstance(value, str) and len(value) > limit:
        return value[: limit - 1] + "…"
    return value


def to_csv(projection: Projection, text_limit: int | None = None) -> str:
    """The ``--format csv`` text: exactly ``rows``, one line per group, no index; text cells spreadsheet-safe.

    ``text_limit``: cut text cells to this many characters (the dashboard's download passes
    ``bounds.MAX_TEXT_CHARS``: a 1 MB label repeated on every row of a table is a 90 MB file);
    the CLI writes every cell whole.
    """
    rows = projection.rows
    text_columns = [c for c in rows.columns if not (pd.api.types.is_numeric_dtype(rows[c])
                                                    or pd.api.types.is_bool_dtype(rows[c]))]
    if text_columns:
        rows = rows.assign(**{str(c): rows[c].astype(object).map(lambda v: spreadsheet_safe(_cut(v, text_limit)))
                              for c in text_columns})
    buf = io.StringIO()
    rows.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


# ---------------------------------------------------------------- shared helpers
def dim_option(ds: Dataset, value: str | None, what: str, *, allow_outcome: bool = False) -> str | None:
    """A dimension option: 'none' (or None) turns it off, anything else must exist."""
    if value is None or value == NONE:
        return None
    if value not in ds.dimension_names:
        raise InputError(f"{what}: unknown dimension {value!r}; valid: {', '.join(ds.dimension_names)}, or none")
    if value == "outcome" and not allow_outcome:
        raise InputError(f"{what}: outcome is what this projection colours by; choose another dimension")
    return value


def eval_order(ds: Dataset, eval_ids) -> dict[str, str]:
    """eval_id → label for the given ids, in the dataset's label order (stable colours)."""
    wanted = set(eval_ids)
    return {e: lab for e, lab in ds.eval_label_order() if e in wanted}


def selection_text(ds: Dataset, parsed: Mapping[str, Any], eval_ids, truncation: str | None = None) -> str:
    """Subtitle naming dataset, evals and filters: a PNG must say what it shows."""
    labels = list(eval_order(ds, eval_ids).values())
    joined = ", ".join(labels)
    evals = joined if len(labels) <= 3 and len(joined) <= 120 else f"{len(labels)} evals (see legend)"
    bits = [f"dataset: {ds.title}", f"evals: {evals}", f"filters: {flt.describe(parsed)}"]
    if truncation:
        bits.append(f"truncation counted as {'failure' if truncation == 'failure' else 'separate (left out)'}")
    return " · ".join(bits)


def empty_error(ds: Dataset, parsed: Mapping[str, Any], what: str) -> InputError:
    """The filter kept nothing: say so and how to find valid values."""
    return InputError(f"{what}: the filters ({flt.describe(parsed)}) match no samples in dataset {ds.name!r}; "
                      "list what exists with 'analyze.py evals' and 'analyze.py tasks'")


def safe_name(value: Any, fallback: str = "none") -> str:
    """A value as a file-name part safe on any file system and in an HTTP header.

    ASCII letters, digits, '.', '_', '-' only (anything else becomes '_'), no leading or
    trailing dot, at most 80 characters; ``fallback`` when nothing is left. The CLI's file
    names, the dashboard's PNG names and its CSV download all use this one rule.
    """
    text = "".join(ch if (ch.isascii() and ch.isalnum()) or ch in "._-" else "_" for ch in str(value))
    return text.strip("._")[:80] or fallback


def base_meta(name: str, ds: Dataset, parsed: Mapping[str, Any], group_by: Any, truncation: str,
              **extra: Any) -> dict[str, Any]:
    """The meta keys every projection's JSON file starts with (spec §6), then its own."""
    return {"projection": name, "dataset": ds.name, "filters": dict(parsed), "group_by": group_by,
            "truncation": truncation, **extra}


def token_provenance_note(ds: Dataset) -> list[str]:
    """Say so when token counts are estimates (with the importer's own account of how), and what a cube bins."""
    notes = [] if ds.binning_note() is None else [str(ds.binning_note())]
    if not ds.meta.tokens_estimated:
        return notes
    methods = ds.meta.tokens_methods
    how = f" ({'; '.join(methods)})" if methods else ""
    return [f"Token counts in this dataset are estimated, not counted by the model's tokenizer{how}.", *notes]

