"""Duplicate records of one import: the same completion given twice is counted, and dropped when certain.

Without this, a results file concatenated twice, or one record repeated, is silently counted twice
in every statistic. What counts as a duplicate, for every adapter (on the samples table it returns):

* **With a sample index** (the ``sample`` column: the completion's number at its point), a row equal
  to an earlier row of the same import in every column (eval, task, params, manifold, outcome,
  tokens, size, guess rate, text and index) is the same completion twice: it is **dropped**.
* A row that reuses an earlier row's sample index at the same point (eval, task, params, manifold)
  with different content is **kept and counted**: the index says "same completion" while the
  content says otherwise, typically two runs of one eval whose indices both start at 0.
* **Without a sample index**, identical rows are **kept and counted** only when they carry a text:
  identical completions are real (greedy decoding writes the same text every time), so nothing
  tells a repeat from a twin. Rows without a text are not counted: with only an outcome and counts,
  identical rows are the normal case.

Rows are compared within the import only: a point already in the dataset merged into is replaced
whole, so an import can never duplicate what the target holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

POINT = ("eval_id", "base_task", "params", "manifold")
ROW = "__row"


@dataclass
class Duplicates:
    """How many repeated records an import held, by the rule of this module."""

    dropped: int = 0  # same sample index and content as an earlier record: the same completion twice
    conflicting: int = 0  # same sample index at the same point, different content: kept
    identical: int = 0  # no sample index, same content (with a text) as an earlier record: kept

    def lines(self) -> list[str]:
        """The import summary's lines about duplicates (always one, more when there were any)."""
        if not (self.dropped or self.conflicting or self.identical):
            return ["duplicate records: none"]
        out = [f"duplicate records dropped: {self.dropped} (same point, sample index and content as an "
               "earlier record)"]
        if self.conflicting:
            out.append(f"note: {self.conflicting} record(s) reuse the sample index of an earlier record at the same "
                       "point with different content; kept (two runs of one eval? give them distinct indices)")
        if self.identical:
            out.append(f"note: {self.identical} record(s) repeat an earlier record exactly but have no sample "
                       "index; kept, as identical completions happen (add 'sample' to have repeats dropped)")
        return out


def _first_rows(table: pa.Table, keys: list[str]) -> np.ndarray:
    """Row numbers (in ``table``'s ``ROW`` column) of the first row of every distinct ``keys`` tuple."""
    if table.num_rows == 0:
        return np.zeros(0, np.int64)
    grouped = table.select([*keys, ROW]).group_by(keys, use_threads=False).aggregate([(ROW, "min")])
    return grouped[f"{ROW}_min"].to_numpy()


def _distinct(table: pa.Table, keys: list[str]) -> int:
    return len(_first_rows(table, keys))


def drop_duplicates(table: pa.Table) -> tuple[pa.Table, Duplicates]:
    """``table`` without the certain duplicates, and the counts of every kind (see the module)."""
    found = Duplicates()
    if table.num_rows < 2:
        return table, found
    columns = table.column_names
    numbered = table.append_column(ROW, pa.array(np.arange(table.num_rows, dtype=np.int64)))
    indexed = pc.is_valid(table["sample"]) if "sample" in columns else pa.array(np.zeros(table.num_rows, bool))
    with_index = numbered.filter(indexed)
    keep = _first_rows(with_index, columns)
    found.dropped = with_index.num_rows - len(keep)
    if found.dropped:
        kept = with_index.filter(pc.is_in(with_index[ROW], value_set=pa.array(keep)))
        found.conflicting = kept.num_rows - _distinct(kept, [*POINT, "sample"])
        mask = pc.or_(pc.invert(indexed), pc.is_in(numbered[ROW], value_set=pa.array(keep)))
        table = table.filter(mask)
    else:
        found.conflicting = with_index.num_rows - _distinct(with_index, [*POINT, "sample"])
    if "text" in columns:
        plain = numbered.filter(pc.and_(pc.invert(indexed), pc.is_valid(numbered["text"])))
        found.identical = plain.num_rows - _distinct(plain, columns)
    return table, found


__all__ = ["Duplicates", "drop_duplicates"]
