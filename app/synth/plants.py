"""The behaviours planted on top of the plain skill model, each on named evals and tasks.

Evals are referred to by their index in ``catalog.DEMO_EVALS`` (kept first at
every scale), so the same plants exist in the demo and in r12.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cliff:
    """Accuracy ``below`` while ``param <= threshold``, ``above`` beyond it."""

    eval_index: int
    task: str
    param: str
    other: str
    threshold: int
    below: float
    above: float


@dataclass(frozen=True)
class Slope:
    """Accuracy falls linearly from ``top`` to ``bottom`` across ``param``'s grid."""

    eval_index: int
    task: str
    param: str
    other: str
    top: float
    bottom: float


@dataclass(frozen=True)
class Wall:
    """Context wall: a sample still running at ``tokens`` fails within ``width`` tokens with ``strength``."""

    eval_index: int
    tokens: int
    width: int
    strength: float


@dataclass(frozen=True)
class Loops:
    """Degenerate repetition: a share of samples run to the budget with flat compressed size."""

    eval_index: int
    tasks: tuple[str, ...]
    share: float
    truncated_share: float
    bytes_median: float
    bytes_range: tuple[int, int]
    tokens_floor: float  # non-truncated loops stop after this fraction of the budget


@dataclass(frozen=True)
class Thinking:
    """Incorrect answers' length (x typical) and bytes-per-token factor on some tasks."""

    eval_index: int
    tasks: tuple[str, ...]
    token_factor: float
    entropy_factor: float


CLIFF = Cliff(eval_index=3, task="sorting", param="count", other="length", threshold=16, below=0.97, above=0.10)
SLOPE = Slope(eval_index=2, task="arithmetic", param="length", other="depth", top=0.995, bottom=0.58)
WALL = Wall(eval_index=5, tokens=8192, width=256, strength=0.85)
WALL_REFERENCE = 4  # another 16k-budget eval, without a wall, for comparison
LOOPS = Loops(eval_index=7, tasks=("brackets", "sequence"), share=0.2, truncated_share=0.85,
              bytes_median=650.0, bytes_range=(420, 950), tokens_floor=0.8)
UNDERTHINK = Thinking(eval_index=1, tasks=("arithmetic", "counting", "letters"), token_factor=0.22,
                      entropy_factor=1.0)
OVERTHINK = Thinking(eval_index=7, tasks=("logic_grid", "planning"), token_factor=2.6, entropy_factor=0.5)
