"""Token histograms: a cube's stand-in for its sample rows in the two statistics that read token counts.

A cube keeps, per (point, outcome) cell, how many completions fell in each bin of ``step`` tokens. The
token quantiles of any grouping come from the groups' summed histograms (each bin read at its middle, so a
quantile is within half a step of the exact one), and the hazard's events from the bins' starts (exact for a
bucket size that is a multiple of the step: every completion of a bin falls in one bucket).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from app.engine import stats

DENSE_KEYS = 1 << 24  # (group, bin) spaces up to this many are counted in a table; larger ones are sorted


@dataclass(frozen=True, eq=False)
class TokenHistogram:
    """Each cell's completions counted per token bin of ``step`` tokens: ``bins[start[c]:end[c]]`` ascending.

    Bin b holds tokens [b·step, (b+1)·step). Stored in the narrowest integer types the values fit.
    """

    step: int
    start: np.ndarray  # int64 per cell
    end: np.ndarray  # int64 per cell
    bins: np.ndarray
    counts: np.ndarray

    def entries(self, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The entries of the given cells (indices into ``bins``) and the position in ``cells`` of each."""
        lengths = self.end[cells] - self.start[cells]
        total = int(lengths.sum())
        owner = np.repeat(np.arange(len(cells)), lengths)
        offsets = np.repeat(self.start[cells] - (np.cumsum(lengths) - lengths), lengths)
        return np.arange(total, dtype=np.int64) + offsets, owner

    def representative(self, bins: np.ndarray) -> np.ndarray:
        """The token count a bin stands for in quantiles: its middle, within half a step of every member."""
        return bins * self.step + (self.step - 1) / 2

    def starts(self, entries: np.ndarray) -> np.ndarray:
        """The first token of each entry's bin (int64)."""
        return self.bins[entries].astype(np.int64) * self.step


@dataclass(frozen=True, eq=False)
class BlockRollup:
    """A cube's counters and histograms summed per (eval, task) block, built at open.

    The spiderweb's query groups whole blocks one by one; over 640 evals it would otherwise sum millions of
    cells and histogram entries per request. Sums are taken cell by cell in cell order, as a grouping of the
    cells would take them, so a group of one block gets the very same floats. ``hist_*``: every outcome of a
    block together, bins ascending, with the running count over all blocks (``cum``) for quantile lookups.
    """

    block_point: np.ndarray  # a point of each block (int64; -1: the block holds none)
    count: np.ndarray  # float64 per block × outcome, like the cell counters
    tok_n: np.ndarray
    tok_sum: np.ndarray
    guess: np.ndarray
    hist_start: np.ndarray  # int64, n_blocks + 1
    hist_bins: np.ndarray  # int32
    cum: np.ndarray  # int64: completions in every entry up to and including this one
    _known: dict[tuple[int, float], np.ndarray] = field(default_factory=dict, repr=False)

    def quantiles(self, blocks: np.ndarray, step: int, qs: Sequence[float]) -> list[np.ndarray]:
        """Token quantiles of whole blocks, each one group (numpy's linear interpolation over binned values).

        A block's quantile depends on nothing else: each is computed for every block once, then looked up.
        """
        return [self._every_block(step, q)[blocks] for q in qs]

    def _every_block(self, step: int, q: float) -> np.ndarray:
        known = self._known.get((step, q))
        if known is None:
            known = self._compute(np.arange(len(self.hist_start) - 1), step, (q,))[0]
            self._known[(step, q)] = known   # a race computes it twice, alike
        return known

    def _compute(self, blocks: np.ndarray, step: int, qs: Sequence[float]) -> list[np.ndarray]:
        first, last = self.hist_start[blocks], self.hist_start[blocks + 1]
        padded = np.concatenate([np.zeros(1, np.int64), self.cum])
        starts, counts = padded[first], padded[last] - padded[first]

        def pick(positions: np.ndarray) -> np.ndarray:
            return self.hist_bins[np.searchsorted(self.cum, positions, side="right")].astype(np.float64)

        return [stats.quantile_at(pick, starts, counts, q) * step + (step - 1) / 2 for q in qs]


def quantiles(hist: TokenHistogram, cells: np.ndarray, group: np.ndarray, n_groups: int,
              qs: Sequence[float]) -> list[np.ndarray]:
    """Token quantiles per group (numpy's linear interpolation over the binned values) of the given cells.

    ``group`` is each cell's group. The sorted token counts of a group are its bins repeated by their
    counts, so position p is the bin whose cumulative count first exceeds p: found by a search in the
    cumulative (group, bin) counts, never by expanding the rows.
    """
    entries, owner = hist.entries(cells)
    bins = hist.bins[entries].astype(np.int64)
    weights = hist.counts[entries].astype(np.int64)
    width = int(bins.max()) + 1 if len(bins) else 1
    key = group[owner].astype(np.int64) * width + bins
    del bins, owner
    if n_groups * width <= max(DENSE_KEYS, 2 * len(key)):
        per_key = np.bincount(key, weights=weights, minlength=n_groups * width)
        present = None
    else:
        present, inverse = np.unique(key, return_inverse=True)
        per_key = np.bincount(inverse, weights=weights)
    cum = np.cumsum(per_key).astype(np.int64)   # whole counts: float64 sums are exact below 2**53
    group_of = (np.arange(len(cum)) if present is None else present) // width
    counts = np.bincount(group_of, weights=per_key, minlength=n_groups).astype(np.int64)
    starts = np.cumsum(counts) - counts

    def pick(positions: np.ndarray) -> np.ndarray:
        at = np.searchsorted(cum, positions, side="right")
        return ((at if present is None else present[np.minimum(at, len(present) - 1)]) % width).astype(np.float64)

    return [hist.representative(stats.quantile_at(pick, starts, counts, q)) for q in qs]
