"""Archetype rules: order, thresholds, the numbers behind a verdict, and the planted truth."""

import pandas as pd
import pytest

from app.findings import spiderweb as arc
from app.projections import spiderweb


def test_rules_apply_in_order():
    # truncation wins even over a specialist shape
    v = arc.classify("e", [0.95, 0.2, 0.3], truncation_rate=0.12, tokens_mean=100, tokens_median=100)
    assert v.archetype == "Truncation Victim" and "12.0% ≥ 10.0%" in v.reason
    v = arc.classify("e", [0.7, 0.7, 0.7], truncation_rate=0.01, tokens_mean=150, tokens_median=100)
    assert v.archetype == "Inefficient Reasoner" and v.numbers["token_ratio"] == pytest.approx(1.5)
    v = arc.classify("e", [0.9, 0.2, 0.3], truncation_rate=0.01, tokens_mean=100, tokens_median=100)
    assert v.archetype == "Task Specialist"
    v = arc.classify("e", [0.6, 0.65, 0.7], truncation_rate=0.01, tokens_mean=100, tokens_median=100)
    assert v.archetype == "Balanced Generalist"


@pytest.mark.parametrize("centers, trunc, tokens, expect", [
    ([0.7, 0.7, 0.7], 0.06, 100, "No clear archetype"),       # generalist shape, but truncation ≥ 5%
    ([0.4, 0.4, 0.4], 0.0, 200, "No clear archetype"),        # expensive, but mean accuracy < 0.5
    ([0.79, 0.2, 0.3], 0.0, 100, "No clear archetype"),       # spread, but no task ≥ 0.8
    ([0.5, 0.6, 0.78], 0.0, 100, "Balanced Generalist"),      # std 0.116 ≤ 0.12, mean 0.63
    ([0.7, 0.7, 0.7], 0.0, 149, "Balanced Generalist"),       # 1.49× the median is not inefficient
])
def test_thresholds(centers, trunc, tokens, expect):
    v = arc.classify("e", centers, trunc, tokens, 100)
    assert v.archetype == expect
    assert set(v.numbers) >= {"mean_center", "std_center", "best_center", "truncation_rate", "token_ratio"}


def test_population_std_and_too_few_tasks():
    v = arc.classify("e", [0.5, 0.9], 0.0, 100, 100)
    assert v.numbers["std_center"] == pytest.approx(0.2)       # population std (ddof 0)
    assert v.archetype == "No clear archetype" and "only 2 task(s)" in v.reason
    assert arc.classify("e", [], 0.0).archetype == "No clear archetype"
    assert arc.classify("e", [0.7] * 4, 0.0, None, None).numbers["token_ratio"] != 1.0


def test_classify_all_uses_the_reference_median():
    per_task = pd.DataFrame({"eval_id": ["a"] * 3, "base_task": list("xyz"), "center": [0.7, 0.7, 0.72]})
    overall = pd.DataFrame({"eval_id": ["a"], "truncation_rate": [0.0], "tokens_mean": [3000.0]})
    alone = arc.classify_all(per_task, overall)
    assert alone["a"].archetype == "Balanced Generalist"       # compared with itself: ratio 1
    peers = pd.DataFrame({"eval_id": list("abc"), "tokens_mean": [3000.0, 1000.0, 1200.0]})
    assert arc.classify_all(per_task, overall, peers)["a"].archetype == "Inefficient Reasoner"


def test_single_eval_selection_still_compared_with_peers(syn, ids):
    one = spiderweb.run(syn, filters={"eval_id": [ids["Delta"]]})
    assert one.meta["archetypes"][ids["Delta"]]["archetype"] == "Inefficient Reasoner"


def test_synthetic_archetypes(syn, ids):
    got = {e: v["archetype"] for e, v in spiderweb.run(syn).meta["archetypes"].items()}
    assert got == {ids["Alpha"]: "Balanced Generalist", ids["Beta"]: "Task Specialist",
                   ids["Gamma"]: "Truncation Victim", ids["Delta"]: "Inefficient Reasoner"}


def test_demo_archetypes_match_the_planted_truth(demo, truth):
    names = {"truncation_victim": "Truncation Victim", "inefficient_reasoner": "Inefficient Reasoner",
             "task_specialist": "Task Specialist", "balanced_generalist": "Balanced Generalist",
             None: "No clear archetype"}
    result = spiderweb.run(demo).meta["archetypes"]
    for e, planted in truth["eval_archetypes"].items():
        assert result[e]["archetype"] == names[planted], e
    for stats in truth["eval_stats"]:
        nums = result[stats["eval_id"]]["numbers"]
        assert nums["truncation_rate"] == pytest.approx(stats["truncation_rate"], abs=1e-4)
        assert nums["tokens_mean"] == pytest.approx(stats["tokens_mean"], abs=0.1)
        assert nums["token_ratio"] == pytest.approx(stats["tokens_ratio_to_median"], abs=2e-3)
        assert nums["std_center"] == pytest.approx(stats["task_accuracy_std"], abs=0.02)


@pytest.mark.parametrize("filters", [None, {"base_task": ["arith", "sort", "loops"]}, {"groups": ["arch:moe"]}])
def test_verdicts_from_reused_rows_equal_the_three_full_queries(syn, ids, filters):
    """run() reuses its per-task rows and skips quantiles and the peers' query: same verdicts, same numbers."""
    parsed = syn.parse_filters(filters)
    per_task = syn.aggregate(parsed, ["eval_id", "base_task"], "failure")
    tasks = sorted(set(per_task["base_task"]))
    full = arc.classify_all(per_task, syn.aggregate(parsed, ["eval_id"], "failure"),
                            syn.aggregate(spiderweb._reference_filters(parsed, tasks), ["eval_id"], "failure"))
    for reused in (spiderweb.verdicts(syn, parsed, "failure", per_task), spiderweb.verdicts(syn, parsed, "failure")):
        assert {e: (v.archetype, v.reason) for e, v in reused.items()} == {e: (v.archetype, v.reason)
                                                                            for e, v in full.items()}
