"""Hazard findings on constructed token-time data: each kind fires where it must and not on a near miss.

Tables come from the engine's own competing-risks builder (``hazard_table``) over samples made
here, so the rules read exactly what the projection gives them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.engine import Dataset
from app.engine.hazard import hazard_table
from app.engine.schema import OUTCOME_CODE
from app.findings import hazard as fh
from app.projections import hazard
from tests.projections import synthetic
from tests.projections.synthetic import CONTEXT_WALL

B = 256


@pytest.fixture(scope="module")
def syn(tmp_path_factory) -> Dataset:
    """The planted synthetic dataset (Beta: a wall at 4,096–4,351 tokens in every task)."""
    return Dataset.open(synthetic.build(tmp_path_factory.mktemp("synthetic") / "ds"))


@pytest.fixture(scope="module")
def ids() -> dict[str, str]:
    return synthetic.ids()


def _table(outcome: np.ndarray, tokens: np.ndarray, task: np.ndarray | None = None) -> pd.DataFrame:
    """The engine's hazard table: one series, or one per task when ``task`` is given."""
    codes = np.array([OUTCOME_CODE[o] for o in outcome])
    if task is None:
        return hazard_table(np.zeros(len(codes), int), codes, tokens, pd.DataFrame({"eval_id": ["e"]}), B)
    names, series = np.unique(task, return_inverse=True)
    return hazard_table(series, codes, tokens, pd.DataFrame({"base_task": names}), B)


def _ordinary(n: int, seed: int, median: float = 1500, fail_at: float = 3000) -> tuple[np.ndarray, np.ndarray]:
    """Lognormal lengths; the longer the answer, the likelier it failed (hard questions run long)."""
    rng = np.random.default_rng(seed)
    tokens = (median * rng.lognormal(0, 0.5, n)).astype(int) + 1
    failed = rng.random(n) < np.clip((tokens / fail_at) ** 2, 0.02, 0.95)
    return np.where(failed, "incorrect", "correct"), tokens


def _with_wall(n: int, seed: int, at: int = 2560, share: float = 0.85) -> tuple[np.ndarray, np.ndarray]:
    """Ordinary answers, except that most of those still running at ``at`` tokens fail within one bin."""
    rng = np.random.default_rng(seed)
    outcome, tokens = _ordinary(n, seed)
    hit = (tokens >= at) & (rng.random(n) < share)
    tokens = np.where(hit, rng.integers(at, at + B, n), tokens)
    return np.where(hit, "incorrect", outcome), tokens


# ------------------------------------------------------------------ context wall
def test_a_spike_falling_back_after_it_is_a_wall_candidate():
    spike = fh.wall_candidate(_table(*_with_wall(20_000, seed=1)))
    assert spike is not None and (spike["bin_start"], spike["bin_end"]) == (2560, 2816)
    assert spike["hazard"] > 0.8 and spike["at_risk"] >= fh.WALL_MIN_AT_RISK
    assert spike["before"]["excess_lower"] >= fh.WALL_MIN_EXCESS and spike["after"]["excess_lower"] >= 0.5


def _hand(at_risk: list[int], failures: list[int]) -> pd.DataFrame:
    """A one-series table by hand: bins of B tokens, everyone who does not fail answers correctly."""
    n = len(at_risk)
    ended = [a - b for a, b in zip(at_risk, at_risk[1:] + [0])]
    return pd.DataFrame({"bin": range(n), "bin_start": [i * B for i in range(n)],
                         "bin_end": [(i + 1) * B for i in range(n)], "samples": at_risk[0], "at_risk": at_risk,
                         "events_correct": [e - f for e, f in zip(ended, failures)], "events_incorrect": failures,
                         "events_truncated": 0, "hazard_failure": [f / a for f, a in zip(failures, at_risk)]})


# the false alarm: an ordinary run whose last bins hold few samples, failing more and more
# as only the hardest questions remain (the old rule, 5× the median bin and ≥ 0.2, called it a wall)
TAIL_AT_RISK = [10_000, 9_000, 7_000, 5_000, 3_000, 1_600, 800, 400, 200, 120, 70, 40, 22]
TAIL_FAILURES = [50, 90, 140, 150, 120, 80, 56, 40, 30, 24, 21, 16, 13]


def test_the_tail_of_the_length_distribution_is_not_a_wall():
    table = _hand(TAIL_AT_RISK, TAIL_FAILURES)
    h = table["hazard_failure"].to_numpy()
    assert h.max() >= 5 * np.median(h) and h.max() >= 0.2     # what the old spike rule called a wall
    assert fh.wall_candidate(table) is None


def test_a_jump_that_keeps_rising_after_it_is_no_wall():
    """A step up that stays up is the hardest questions being left, not a position that breaks the model."""
    at_risk = [5_000, 4_000, 3_000, 2_000, 1_000, 600, 300, 150, 80]
    rising = [50, 60, 60, 60, 600, 390, 200, 100, 55]           # 0.01-0.03, then 0.6 and more from bin 4 on
    assert fh.wall_candidate(_hand(at_risk, rising)) is None
    falls_back = rising[:5] + [12, 6, 3, 2]                       # the same jump, back to 0.02 after it
    spike = fh.wall_candidate(_hand(at_risk, falls_back))
    assert spike is not None and spike["bin_start"] == 4 * B and spike["after"]["hazard"] < 0.05


def test_a_small_bump_is_not_a_wall():
    spike = fh.wall_candidate(_table(*_with_wall(20_000, seed=3, share=0.12)))
    assert spike is None                                        # raised, but not by 0.10 beyond doubt


def test_the_spike_must_show_in_several_tasks():
    tasks = np.repeat(np.array(["a", "b", "c", "d"]), 5_000)
    every = [_with_wall(5_000, seed=s) for s in range(4)]
    outcome, tokens = np.concatenate([o for o, _ in every]), np.concatenate([t for _, t in every])
    held = fh.holds_across(_table(outcome, tokens, tasks), "base_task", 2560 // B)
    assert held["held"] and held["holding"] == ["a", "b", "c", "d"]
    one = [_with_wall(5_000, seed=0)] + [_ordinary(5_000, seed=s) for s in (1, 2, 3)]
    outcome, tokens = np.concatenate([o for o, _ in one]), np.concatenate([t for _, t in one])
    assert fh.wall_candidate(_table(*one[0])) is not None              # task a alone has its spike
    held = fh.holds_across(_table(outcome, tokens, tasks), "base_task", 2560 // B)
    assert not held["held"] and held["holding"] == ["a"] and len(held["tested"]) == 4


def test_wall_found_in_every_task_of_the_synthetic_eval_and_not_elsewhere(syn, ids):
    p = hazard.run(syn, bucket_size=B)
    walls = [f for f in p.findings if f.kind == "context_wall"]
    assert [(f.eval_id, f.where["bin_start"], f.where["bin_end"]) for f in walls] == [(ids["Beta"], *CONTEXT_WALL)]
    assert walls[0].evidence["tasks"]["holding"] == ["arith", "logic", "loops", "sort"]
    assert walls[0].link.startswith("/hazard?filters=")
    assert sum("context wall" in n for n in p.notes) == 1


def test_a_wall_seen_through_one_task_is_checked_across_the_evals_tasks(syn, ids):
    """Beta's wall seen through one task: the eval's other tasks are checked too, so it is still a wall.

    The wall sweeps nearly everyone still running (5 of 317 left after it): read from the before side.
    """
    p = hazard.run(syn, filters={"eval_id": [ids["Beta"]], "base_task": ["logic"]}, bucket_size=B)
    walls = [f for f in p.findings if f.kind == "context_wall"]
    assert [(f.base_task, f.where["bin_start"]) for f in walls] == [("logic", CONTEXT_WALL[0])]
    assert walls[0].evidence["after"]["at_risk"] == 0 and "too few left after it" in walls[0].text


def test_a_spike_just_below_the_budget_is_runaway_answers(syn, ids):
    gamma = syn.max_tokens()[ids["Gamma"]]
    p = hazard.run(syn, filters={"eval_id": [ids["Gamma"]], "base_task": ["loops"]}, bucket_size=B)
    assert not [f for f in p.findings if f.kind == "context_wall"]
    assert any(f"just below its budget ({gamma:,} tokens)" in n for n in p.notes)


# ------------------------------------------------------------------ early failure, late rising, flat
def _early(n: int, seed: int, early_share: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    outcome, tokens = _ordinary(n, seed)
    quick = (outcome == "incorrect") & (rng.random(n) < early_share)
    tokens = np.where(quick, (tokens * 0.2).astype(int) + 1, tokens)
    return pd.DataFrame({"base_task": "t", "outcome": outcome, "completion_tokens": tokens})


def test_early_failure_fires_when_many_failures_end_early():
    ev = fh.early_failure(_early(4_000, seed=4, early_share=0.5))
    assert ev is not None and ev["excess_lower"] >= fh.EARLY_MIN_EXCESS
    assert ev["failed_early_share"] > 0.4 and ev["correct_early_share"] < 0.1


def test_ordinary_failures_are_not_early():
    assert fh.early_failure(_early(4_000, seed=4, early_share=0.0)) is None
    assert fh.early_failure(_early(4_000, seed=4, early_share=0.1)) is None       # a near miss


def test_a_short_hard_task_is_not_early_failure():
    """Task a is short and mostly failed, task b long and mostly right: per-task lengths keep them apart."""
    rng = np.random.default_rng(5)
    a = pd.DataFrame({"base_task": "a", "outcome": np.where(rng.random(2000) < 0.8, "incorrect", "correct"),
                      "completion_tokens": (300 * rng.lognormal(0, 0.3, 2000)).astype(int)})
    b = pd.DataFrame({"base_task": "b", "outcome": np.where(rng.random(2000) < 0.2, "incorrect", "correct"),
                      "completion_tokens": (3000 * rng.lognormal(0, 0.3, 2000)).astype(int)})
    assert fh.early_failure(pd.concat([a, b])) is None


def test_late_rising_on_ordinary_difficulty_and_not_on_a_flat_hazard():
    ev = fh.late_rising(_table(*_ordinary(20_000, seed=6)))
    assert ev is not None and ev["late_hazard"] >= fh.RISE_MIN_RATIO * ev["early_hazard"]
    rng = np.random.default_rng(6)
    tokens = rng.exponential(1500, 20_000).astype(int) + 1                    # memoryless: a constant hazard
    flat = np.where(rng.random(20_000) < 0.3, "incorrect", "correct")
    assert fh.late_rising(_table(flat, tokens)) is None


def _truncating(n: int, seed: int, stuck: float, budget: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Ordinary answers; a ``stuck`` share never resolves and runs into the budget."""
    rng = np.random.default_rng(seed)
    outcome, tokens = _ordinary(n, seed, median=900, fail_at=2500)
    never = rng.random(n) < stuck
    late = tokens >= budget
    return (np.where(never | late, "truncated", outcome), np.where(never | late, budget, tokens))


def test_flat_hazard_with_high_truncation_when_running_completions_stop_resolving():
    ev = fh.flat_high_truncation(_table(*_truncating(20_000, seed=7, stuck=0.2)), 4096)
    assert ev is not None and ev["truncated_share"] >= fh.HIGH_TRUNCATION
    assert ev["answer_hazard_second_half_upper"] <= fh.STALL_MAX_RATIO * ev["answer_hazard_first_half"]


def test_a_small_budget_cutting_ordinary_answers_is_not_flat():
    """Many truncations, but answers keep coming until the budget: a truncation victim, not a stall."""
    outcome, tokens = _ordinary(20_000, seed=8, median=2500)
    cut = tokens >= 4096
    table = _table(np.where(cut, "truncated", outcome), np.where(cut, 4096, tokens))
    assert float(cut.mean()) >= fh.HIGH_TRUNCATION
    assert fh.flat_high_truncation(table, 4096) is None


def test_few_truncations_are_not_high():
    assert fh.flat_high_truncation(_table(*_truncating(20_000, seed=7, stuck=0.05)), 4096) is None
