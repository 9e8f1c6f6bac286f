"""The probe: the completions behind a mark, in a stable order, with what the model wrote.

A mark on a page (a compression dot, a surface cell, a hazard bin) is a filter plus, at most, an
outcome set, a token range ``[min, max)`` or the rows themselves; this module turns those into the
matching sample rows, pages through them in a fixed order (eval label, task, tokens, row) and
fetches the texts of the page only (``app.engine.texts``), with a repetition signal per text that
tells a broken loop from long reasoning:

- ``compression_ratio`` = gzip-9 bytes of the text (as ``compressed_bytes`` is computed) / its
  UTF-8 bytes. Long repetitive text compresses far below varied prose (a long exact loop: a few
  hundredths; reasoning prose: about 0.3 to 0.5); very short texts sit near or above 1 from
  gzip's fixed 20-byte overhead.
- ``loop_period`` / ``loop_share``: the longest *repeated tail*. For a period p, the tail of period
  p is the longest suffix in which every character equals the one p before it. A period counts
  when its tail holds at least ``LOOP_MIN_REPEATS`` whole copies of the block; the tail reported
  is the longest such one, and its period the shortest that comes within one period of it (so a
  block repeated 40 times reports its own length, not a multiple). It is a loop only when that
  tail covers at least ``LOOP_MIN_SHARE`` of the text; else both are None. Periods are searched in
  the last ``LOOP_WINDOW`` characters (periods up to a quarter of that); a loop found there is
  followed back through the whole text. Exact repetition only: a loop whose counter changes each
  time ("step 17", "step 18") has no exact period, and shows in the compression ratio instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from app.bounds import PROBE_CALL_LIMIT_MAX, PROBE_OFFSET_MAX, PROBE_TOKENS_MAX
from app.engine.errors import InputError, listing
from app.engine.layout import Layout
from app.engine.meta import DatasetMeta
from app.engine.schema import OUTCOME_CODE, OUTCOMES, compressed_size
from app.engine.selection import Selection
from app.engine.texts import TextReader

LOOP_MIN_REPEATS = 4
LOOP_MIN_SHARE = 0.1
LOOP_WINDOW = 16_384

COMPLETION_COLUMNS = ("row", "eval_id", "label", "base_task", "params", "outcome", "completion_tokens",
                      "compressed_bytes", "text", "compression_ratio", "loop_period", "loop_share")


# ------------------------------------------------------------------------------------------- checks
def check_outcomes(outcomes: Sequence[str] | str | None) -> list[int] | None:
    """Outcome codes of the named outcomes; none named (None or empty) means all; an unknown name lists the four."""
    names = [outcomes] if isinstance(outcomes, str) else list(outcomes or ())
    if not names:
        return None
    unknown = [o for o in names if o not in OUTCOME_CODE]
    if unknown:
        raise InputError(f"unknown outcome {listing(unknown)}; outcomes: {', '.join(OUTCOMES)}")
    return sorted({OUTCOME_CODE[o] for o in names})


def check_tokens(tokens: Sequence[int] | None) -> tuple[int, int] | None:
    """A token range ``[min, max)``: two whole numbers, 0 ≤ min < max ≤ PROBE_TOKENS_MAX."""
    if tokens is None:
        return None
    values = list(tokens)
    if len(values) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        raise InputError(f"tokens must be two whole numbers MIN MAX (the range [MIN, MAX)), not {tokens!r}")
    low, high = int(values[0]), int(values[1])
    if low < 0:
        raise InputError(f"tokens: MIN must be ≥ 0 (got {low})")
    if low >= high:
        raise InputError(f"tokens: MIN must be below MAX (got {low} ≥ {high}); the range is [MIN, MAX)")
    if high > PROBE_TOKENS_MAX:
        raise InputError(f"tokens: MAX must be at most {PROBE_TOKENS_MAX:,} (got {high:,})")
    return low, high


def check_rows(rows: Sequence[int] | None, n_samples: int) -> np.ndarray | None:
    """Sample rows (positions in the samples file): whole numbers in [0, n_samples)."""
    if rows is None:
        return None
    values = list(rows)
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        raise InputError("rows must be whole numbers (a sample's position in the samples file)")
    array = np.asarray(values, np.int64)
    bad = array[(array < 0) | (array >= n_samples)]
    if len(bad):
        raise InputError(f"unknown row {listing(bad.tolist())}; this dataset has rows 0 to {n_samples - 1}")
    return array


def check_page(limit: int, offset: int) -> tuple[int, int]:
    """``limit`` in [0, PROBE_CALL_LIMIT_MAX], ``offset`` in [0, PROBE_OFFSET_MAX]."""
    for name, value, most in (("limit", limit, PROBE_CALL_LIMIT_MAX), ("offset", offset, PROBE_OFFSET_MAX)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or not 0 <= value <= most:
            raise InputError(f"{name} must be a whole number from 0 to {most:,}, not {value!r}"
                             + ("; page with offset" if name == "limit" else ""))
    return int(limit), int(offset)


# ------------------------------------------------------------------------------------------ matching
def matching_rows(sel: Selection, outcomes: list[int] | None, tokens: tuple[int, int] | None,
                  rows: np.ndarray | None) -> np.ndarray:
    """Layout rows the selection keeps that also match the outcomes, token range and rows (ascending)."""
    lay = sel.layout
    if rows is not None:
        found = np.unique(lay.layout_rows(rows))
        found = found[sel.mask[lay.row_cells(found)]]
    else:
        found = sel.rows()
    if outcomes is not None:
        found = found[np.isin(lay.row_outcome[found], outcomes)]
    if tokens is not None:
        t = lay.row_tokens[found]  # -1 (no count) never falls in a range that starts at ≥ 0
        found = found[(t >= tokens[0]) & (t < tokens[1])]
    return found


def page_rows(lay: Layout, meta: DatasetMeta, rows: np.ndarray, limit: int, offset: int) -> np.ndarray:
    """``rows`` (ascending layout rows) in probe order (eval label, task, tokens, row), then one page of them.

    Inside an (eval, task) block the layout already runs by tokens (nulls last) and then file row
    (``layout.build_layout``), so only the blocks are reordered: by eval label (then id), then task.
    """
    if len(rows) == 0 or limit == 0:
        return rows[:0]
    block = lay.point_block[lay.row_point[rows]]
    starts = np.concatenate([[0], np.flatnonzero(np.diff(block)) + 1])
    ends = np.concatenate([starts[1:], [len(rows)]])
    labels = meta.eval_labels
    rank = np.empty(len(lay.eval_ids), np.int64)
    rank[sorted(range(len(lay.eval_ids)), key=lambda e: (labels.get(lay.eval_ids[e], ""), lay.eval_ids[e]))] = \
        np.arange(len(lay.eval_ids))
    seg = block[starts]
    order = np.lexsort((seg % lay.n_tasks, rank[seg // lay.n_tasks]))
    out, skip, want = [], offset, limit
    for s in order:
        length = ends[s] - starts[s]
        if skip >= length:
            skip -= length
            continue
        part = rows[starts[s] + skip:min(ends[s], starts[s] + skip + want)]
        out.append(part)
        skip, want = 0, want - len(part)
        if want == 0:
            break
    return np.concatenate(out) if out else rows[:0]


def completions_frame(lay: Layout, meta: DatasetMeta, rows: np.ndarray, reader: TextReader | None,
                      with_text: bool) -> pd.DataFrame:
    """One row per given layout row: identity, outcome, counts, text (when asked and kept) and its signals."""
    point = lay.row_point[rows]
    evals = lay.point_eval[point]
    labels = meta.eval_labels
    tokens, nbytes = lay.row_tokens[rows], lay.row_bytes[rows]
    file_rows = lay.file_rows(rows)
    texts = (reader.read(file_rows).to_pylist() if with_text and reader is not None and len(rows)
             else [None] * len(rows))
    signals = [repetition(t) for t in texts]
    frame = pd.DataFrame({
        "row": file_rows,
        "eval_id": [lay.eval_ids[e] for e in evals],
        "label": [labels.get(lay.eval_ids[e], lay.eval_ids[e]) for e in evals],
        "base_task": [lay.task_names[t] for t in lay.point_task[point]],
        "params": [dict(lay.params[p]) for p in lay.point_pr[point]],
        "outcome": [OUTCOMES[o] for o in lay.row_outcome[rows]],
        "completion_tokens": pd.arrays.IntegerArray(np.maximum(tokens, 0).astype(np.int64), tokens < 0),
        "compressed_bytes": pd.arrays.IntegerArray(np.maximum(nbytes, 0).astype(np.int64), nbytes < 0),
        "text": pd.Series(texts, dtype=object),
        "compression_ratio": pd.Series([s.compression_ratio for s in signals], dtype=object),
        "loop_period": pd.Series([s.loop_period for s in signals], dtype=object),
        "loop_share": pd.Series([s.loop_share for s in signals], dtype=object),
    }, columns=list(COMPLETION_COLUMNS))
    return frame


# -------------------------------------------------------------------------------------- repetition
@dataclass(frozen=True)
class Repetition:
    """The repetition signal of one text (all None without a text)."""

    compression_ratio: float | None = None
    loop_period: int | None = None
    loop_share: float | None = None


def repetition(text: str | None) -> Repetition:
    """Compression ratio and repeated tail of ``text`` (rules in the module docstring)."""
    if not text:
        return Repetition()
    ratio = compressed_size(text) / len(text.encode("utf-8"))
    period, length = repeated_tail(text)
    if period is None or length < LOOP_MIN_SHARE * len(text):
        return Repetition(ratio)
    return Repetition(ratio, period, length / len(text))


def repeated_tail(text: str) -> tuple[int | None, int]:
    """(period, length in characters) of the longest repeated tail, or (None, 0) when none repeats enough.

    In the reversed last ``LOOP_WINDOW`` characters r, the tail of period p is p + lcp(r, r[p:]).
    A period needs lcp ≥ (LOOP_MIN_REPEATS - 1)·p, so a cheap filter on r's first characters
    leaves few candidates (in prose, a handful), whose exact tails are then measured in numpy,
    shortest first. A multiple q of a measured period p with q ≤ tail(p) has exactly tail(p)
    (a longer tail of period q would be made of p-periodic blocks, so p's tail would be longer),
    so a loop's multiples cost nothing: a window of one repeated character is one comparison.
    """
    window = _codes(text[-LOOP_WINDOW:])[::-1]
    n = len(window)
    top = n // LOOP_MIN_REPEATS
    if top == 0:
        return None, 0
    periods = np.arange(1, top + 1)
    keep = np.ones(top, bool)
    for k in range(min(_FILTER_CHARS, n)):
        at = periods + k
        keep &= ((at < n) & (window[np.minimum(at, n - 1)] == window[k])) | (k >= (LOOP_MIN_REPEATS - 1) * periods)
    candidates = periods[keep]
    lengths = np.full(len(candidates), -1, np.int64)
    for i in range(len(candidates)):
        if lengths[i] >= 0:
            continue
        p = int(candidates[i])
        breaks = np.flatnonzero(window[p:] != window[:n - p])
        lengths[i] = p + (int(breaks[0]) if len(breaks) else n - p)
        lengths[(lengths < 0) & (candidates % p == 0) & (candidates <= lengths[i])] = lengths[i]
    enough = lengths >= LOOP_MIN_REPEATS * candidates
    candidates, lengths = candidates[enough], lengths[enough]
    if len(candidates) == 0:
        return None, 0
    chosen = int(np.flatnonzero(lengths >= lengths.max() - candidates)[0])  # candidates ascend: the shortest
    period, length = int(candidates[chosen]), int(lengths[chosen])
    if length == n and len(text) > n:  # the loop fills the window: follow it back through the whole text
        length = _periodic_suffix(_codes(text), period)
    return period, length


_FILTER_CHARS = 8


def _codes(text: str) -> np.ndarray:
    """The text's code points (uint32), one per character."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)


def _periodic_suffix(codes: np.ndarray, period: int) -> int:
    """Length of the longest suffix of ``codes`` in which each character equals the one ``period`` before."""
    same = codes[period:] == codes[:-period]
    breaks = np.flatnonzero(~same)
    return period + (len(same) - 1 - int(breaks[-1]) if len(breaks) else len(same))
