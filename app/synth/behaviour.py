"""Sampling one eval's completions: outcome, token count and compressed size.

Per point: an accuracy (skill bent by difficulty, plus plants), a truncation
rate and a typical length that grows with difficulty. Per sample: an outcome
drawn from those, then a length and a compressed size conditioned on the
outcome. Everything is array arithmetic over all samples of the eval at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.engine.schema import OUTCOME_CODE
from app.synth import plants
from app.synth.catalog import TASK_INDEX, TASKS, EvalSpec
from app.synth.plan import Plan

CORRECT, INCORRECT, INVALID, TRUNCATED = (OUTCOME_CODE[k] for k in ("correct", "incorrect", "invalid", "truncated"))
# Length multiplier and log-normal spread per outcome code (truncated: unused, fixed at the budget).
TOKEN_FACTOR = np.array([1.0, 1.3, 0.9, 1.0])
TOKEN_SIGMA = np.array([0.35, 0.45, 0.6, 0.0])
ENTROPY_FACTOR = np.array([1.0, 0.97, 0.95, 1.0])
GUESS = np.array([t.guess_rate for t in TASKS])
BASE_TOKENS = np.array([t.base_tokens for t in TASKS])
MIN_TOKENS = 8


@dataclass
class EvalSamples:
    """One eval's rows as parallel arrays (``point`` indexes the plan's points)."""

    point: np.ndarray
    outcome: np.ndarray
    tokens: np.ndarray
    compressed: np.ndarray
    loop: np.ndarray  # rows made by the broken-loop plant (kept for the truth file, not written)


def healthy_bytes(tokens: np.ndarray) -> np.ndarray:
    """gzip size of ordinary reasoning: ~0.4 bytes/token at 1k tokens, ~0.28 at 8k (sublinear)."""
    return 20.0 + 1.05 * np.power(tokens, 0.853)


def point_accuracy(plan: Plan, spec: EvalSpec, index: int, rng: np.random.Generator) -> np.ndarray:
    """Guess-corrected accuracy per point before truncation: mean ``skill`` per task, falling with difficulty."""
    x = np.empty(plan.points_per_eval)
    for t, grid in enumerate(plan.grids):
        bend = grid.difficulty ** spec.shape
        top = spec.skill[t] + spec.spread * bend.mean()  # keeps the task's mean at its skill
        x[grid.slice] = top - spec.spread * bend
    x = np.clip(x + rng.normal(0.0, 0.015, x.shape), 0.005, spec.top)
    cliff = plants.CLIFF
    if index == cliff.eval_index:
        g = plan.grid(cliff.task)
        level = np.where(g.values[cliff.param] <= cliff.threshold, cliff.below, cliff.above)
        x[g.slice] = np.clip(level - 0.03 * g.fracs[cliff.other] + rng.normal(0.0, 0.01, g.size), 0.005, 0.995)
    slope = plants.SLOPE
    if index == slope.eval_index:
        g = plan.grid(slope.task)
        level = slope.top - (slope.top - slope.bottom) * g.fracs[slope.param]
        x[g.slice] = np.clip(level + rng.normal(0.0, 0.01, g.size), 0.005, spec.top)
    return x


def _task_mask(point_task: np.ndarray, tasks: tuple[str, ...]) -> np.ndarray:
    return np.isin(point_task, [TASK_INDEX[t] for t in tasks])


@dataclass
class Draws:
    """The eval's random numbers, one named stream per use, all drawn up front (fixed order)."""

    pick: np.ndarray  # outcome
    length: np.ndarray  # log-normal length noise
    fold: np.ndarray  # where an over-long finished answer lands
    size_noise: np.ndarray  # compressed-size noise
    shrink: np.ndarray  # truncated text's lower entropy
    loop: np.ndarray  # whether a sample loops, and how it ends
    loop_end: np.ndarray
    loop_bytes: np.ndarray
    wall: np.ndarray  # whether a sample hits the wall, how it fails, where in the bin
    wall_kind: np.ndarray
    wall_at: np.ndarray

    @classmethod
    def make(cls, rng: np.random.Generator, n: int) -> "Draws":
        u = rng.random((8, n))
        z = rng.standard_normal((3, n))
        return cls(pick=u[0], fold=u[1], shrink=u[2], loop=u[3], loop_end=u[4], wall=u[5], wall_kind=u[6],
                   wall_at=u[7], length=z[0], size_noise=z[1], loop_bytes=z[2])


def _outcomes(x: np.ndarray, q: np.ndarray, guess: np.ndarray, invalid_share: float, u: np.ndarray) -> np.ndarray:
    """Truncated with rate q, else correct at the raw (guess-including) rate, else invalid or incorrect."""
    raw = guess + (1.0 - guess) * x
    cut_correct = q + (1.0 - q) * raw
    cut_invalid = cut_correct + (1.0 - q) * (1.0 - raw) * invalid_share
    return np.select([u < q, u < cut_correct, u < cut_invalid], [TRUNCATED, CORRECT, INVALID],
                     INCORRECT).astype(np.int8)


def _lengths(typical: np.ndarray, outcome: np.ndarray, task: np.ndarray, spec: EvalSpec, index: int,
             r: Draws) -> tuple[np.ndarray, np.ndarray]:
    """Tokens and compressed bytes: log-normal around the typical length, shaped by outcome and plants."""
    budget = spec.max_tokens
    factor, entropy = TOKEN_FACTOR[outcome], ENTROPY_FACTOR[outcome] * spec.entropy
    for think in (plants.UNDERTHINK, plants.OVERTHINK):
        if index == think.eval_index:
            hit = (outcome == INCORRECT) & _task_mask(task, think.tasks)
            factor = np.where(hit, think.token_factor, factor)
            entropy = np.where(hit, entropy * think.entropy_factor, entropy)
    sigma = TOKEN_SIGMA[outcome]
    tokens = typical * factor * np.exp(sigma * r.length - sigma**2 / 2)
    # Finished answers stay under the budget: long tails fold back into its upper half.
    tokens = np.where(tokens >= 0.97 * budget, budget * (0.55 + 0.42 * r.fold), tokens)
    truncated = outcome == TRUNCATED
    tokens = np.where(truncated, budget, np.maximum(np.rint(tokens), MIN_TOKENS))
    compressed = healthy_bytes(tokens) * entropy * np.exp(0.07 * r.size_noise)
    return tokens, np.where(truncated, compressed * (0.7 + 0.3 * r.shrink), compressed)


def _loops(outcome, tokens, compressed, task, d, budget: int, r: Draws):
    """Broken loops: run to (or near) the budget with small, flat compressed size."""
    lp = plants.LOOPS
    loop = _task_mask(task, lp.tasks) & (r.loop < lp.share * (0.4 + 1.2 * d))
    stuck = r.loop_end < lp.truncated_share
    late = budget * (lp.tokens_floor + (0.99 - lp.tokens_floor) * (r.loop_end - lp.truncated_share)
                     / (1.0 - lp.truncated_share))
    outcome = np.where(loop, np.where(stuck, TRUNCATED, INCORRECT), outcome).astype(np.int8)
    tokens = np.where(loop, np.where(stuck, budget, np.rint(late)), tokens)
    flat = np.clip(lp.bytes_median * np.exp(0.12 * r.loop_bytes), *lp.bytes_range)
    return outcome, tokens, np.where(loop, flat, compressed), loop


def _wall(outcome, tokens, compressed, entropy: float, r: Draws):
    """Context wall: most samples still running at the wall fail in the next ``width`` tokens."""
    w = plants.WALL
    hit = (tokens >= w.tokens) & (r.wall < w.strength)
    outcome = np.where(hit, np.where(r.wall_kind < 0.7, INCORRECT, INVALID), outcome).astype(np.int8)
    tokens = np.where(hit, w.tokens + np.floor(w.width * r.wall_at), tokens)
    compressed = np.where(hit, healthy_bytes(tokens) * entropy * np.exp(0.07 * r.size_noise), compressed)
    return outcome, tokens, compressed


def sample_eval(plan: Plan, index: int, seed: int) -> EvalSamples:
    """All samples of eval ``index``; the stream depends only on (seed, index)."""
    spec = plan.evals[index]
    rng = np.random.default_rng([seed, index])
    d, task = plan.point_difficulty, plan.point_task
    x = point_accuracy(plan, spec, index, rng)
    trunc = np.clip(spec.trunc * (0.1 + 1.8 * d), 0.0, 0.9)
    typical = BASE_TOKENS[task] * spec.verbosity * (1.0 + 2.2 * d) * np.exp(rng.normal(0.0, 0.08, len(d)))

    point = np.repeat(np.arange(len(d), dtype=np.int32), plan.samples_per_point)
    r = Draws.make(rng, len(point))
    task_s = task[point]
    outcome = _outcomes(x[point], trunc[point], GUESS[task_s], spec.invalid_share, r.pick)
    tokens, compressed = _lengths(typical[point], outcome, task_s, spec, index, r)
    loop = np.zeros(len(point), dtype=bool)
    if index == plants.LOOPS.eval_index:
        outcome, tokens, compressed, loop = _loops(outcome, tokens, compressed, task_s, d[point],
                                                   spec.max_tokens, r)
    if index == plants.WALL.eval_index:
        outcome, tokens, compressed = _wall(outcome, tokens, compressed, spec.entropy, r)
    return EvalSamples(point=point, outcome=outcome, tokens=tokens.astype(np.int32),
                       compressed=np.rint(compressed).astype(np.int32), loop=loop)
