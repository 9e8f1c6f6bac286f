"""Compression findings on small constructed tasks: each kind fires where it must and not on a near miss."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.findings import compression as fc

BUDGET = 8192


def _rows(outcome: str, n: int, tokens: float, bytes_per_token: float, seed: int, spread: float = 0.2,
          ) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tok = np.maximum((tokens * rng.lognormal(0, spread, n)).astype(int), 1)
    size = (tok * bytes_per_token * rng.uniform(0.9, 1.1, n)).astype(int) + 20
    return pd.DataFrame({"outcome": outcome, "completion_tokens": tok, "compressed_bytes": size})


def _task(*parts: pd.DataFrame) -> pd.DataFrame:
    return pd.concat(parts, ignore_index=True)


def _kinds(part: pd.DataFrame, budget: int | None = BUDGET) -> list[str]:
    return [kind for kind, _, _ in fc.classify(part, budget)]


CORRECT = _rows("correct", 200, 1000, 0.40, seed=1)


def test_median_interval_uses_order_statistics():
    assert fc.median_interval(np.arange(1, 101)) == (50.5, 41.0, 61.0)   # ranks 50 ∓ 9.8 → 40 and 60


def test_underthink_fires_when_failures_are_short_and_small():
    part = _task(CORRECT, _rows("incorrect", 150, 250, 0.52, seed=2))
    found = fc.classify(part, BUDGET)
    assert [k for k, _, _ in found] == ["underthink"]
    ev = found[0][2]
    assert ev["tokens_ratio"]["upper"] <= fc.UNDERTHINK_MAX_TOKENS_RATIO and ev["n_failed"] == 150


def test_short_but_not_half_as_short_is_healthy():
    part = _task(CORRECT, _rows("incorrect", 150, 650, 0.42, seed=2))        # ×0.65: a near miss
    assert _kinds(part) == ["healthy"]


def test_overthink_fires_when_failures_are_long_and_low_in_information():
    part = _task(CORRECT, _rows("incorrect", 150, 2500, 0.16, seed=3), _rows("invalid", 30, 2500, 0.16, seed=4))
    found = fc.classify(part, BUDGET)
    assert [k for k, _, _ in found] == ["overthink"]
    assert found[0][2]["n_failed"] == 180                                    # invalid answers are failures too


def test_long_failures_with_ordinary_information_are_healthy():
    part = _task(CORRECT, _rows("incorrect", 150, 2500, 0.36, seed=3))      # hard questions: long, same density
    assert _kinds(part) == ["healthy"]


def _loops(bytes_per_token: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 80
    truncated = rng.random(n) < 0.85
    tok = np.where(truncated, BUDGET, rng.integers(int(0.8 * BUDGET), BUDGET, n))
    size = (BUDGET * bytes_per_token * rng.uniform(0.8, 1.2, n)).astype(int)   # flat: not growing with tokens
    return pd.DataFrame({"outcome": np.where(truncated, "truncated", "incorrect"), "completion_tokens": tok,
                         "compressed_bytes": size})


def test_broken_loops_fire_on_a_flat_cluster_at_the_budget():
    part = _task(CORRECT, _rows("incorrect", 100, 1300, 0.38, seed=5), _loops(0.08, seed=6))
    found = fc.classify(part, BUDGET)
    assert [k for k, _, _ in found] == ["broken_loops"]
    where, ev = found[0][1], found[0][2]
    assert (where["tokens_from"], where["tokens_to"]) == (6554, BUDGET)
    assert ev["n"] >= 80 and ev["truncated_share"] >= fc.LOOP_MIN_TRUNCATED


def test_a_budget_that_cuts_ordinary_reasoning_is_not_a_loop():
    part = _task(CORRECT, _rows("incorrect", 100, 1300, 0.38, seed=5), _loops(0.26, seed=6))   # ×0.65 density
    assert _kinds(part) == ["healthy"]


def test_too_few_loops_are_not_read():
    part = _task(CORRECT, _rows("incorrect", 100, 1300, 0.38, seed=5), _loops(0.08, seed=6).iloc[:20])
    assert "broken_loops" not in _kinds(part)


def test_too_few_failures_say_nothing():
    part = _task(CORRECT, _rows("incorrect", fc.MIN_N - 1, 250, 0.52, seed=2))
    assert fc.classify(part, BUDGET) == []


def test_findings_per_eval_and_task_with_links_and_grouped_healthy_notes():
    under = _task(CORRECT, _rows("incorrect", 150, 250, 0.52, seed=2)).assign(eval_id="e1", base_task="math")
    fine = _task(CORRECT, _rows("incorrect", 150, 1300, 0.38, seed=7)).assign(eval_id="e1", base_task="logic")
    found = fc.findings(pd.concat([under, fine]), {"e1": BUDGET}, {"e1": "Model (chat)"})
    assert [(f.kind, f.base_task, f.failure_mode) for f in found] == [("healthy", "logic", False),
                                                                      ("underthink", "math", True)]
    assert found[1].link == '/compression?filters={"base_task":["math"],"eval_id":["e1"]}'.replace(
        '"', "%22").replace("{", "%7B").replace("}", "%7D").replace("[", "%5B").replace("]", "%5D")
    notes = fc.notes(found, {"e1": "Model (chat)"})
    assert notes[0].startswith("math · Model (chat): underthink")
    assert notes[1].startswith("Model (chat): healthy on 1 task(s) (logic)")


@pytest.mark.parametrize("kind", ["underthink", "overthink", "broken_loops", "healthy"])
def test_every_kind_has_an_action(kind):
    assert fc.ACTIONS[kind]


def test_marks_give_the_figure_a_band_or_a_box_per_failure_mode():
    under = _task(CORRECT, _rows("incorrect", 150, 250, 0.52, seed=2)).assign(eval_id="e1", base_task="math")
    loops = _task(CORRECT, _rows("incorrect", 100, 1300, 0.38, seed=5), _loops(0.08, seed=6)).assign(
        eval_id="e1", base_task="brackets")
    found = fc.findings(pd.concat([under, loops]), {"e1": BUDGET}, {"e1": "Model"})
    marks = fc.marks(found)
    assert sorted(marks) == [("e1", "brackets"), ("e1", "math")]
    (band,), (box,) = marks[("e1", "math")], marks[("e1", "brackets")]
    under_finding = next(f for f in found if f.kind == "underthink")
    assert (band["x0"], band["x1"]) == (under_finding.where["failed_tokens_median"],
                                        under_finding.where["correct_tokens_median"]) and "y0" not in band
    assert (box["x0"], box["x1"]) == (6554, BUDGET) and box["y0"] < box["y1"] < 0.1 * BUDGET * 1.2
