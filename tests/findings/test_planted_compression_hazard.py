"""The bundled demo's planted truths for compression and hazard, found by the projections' findings.

Prints a planted-vs-found table (``pytest -s``). Planted (``data/demo-truth.json``): underthink
(84937a: arithmetic, counting, letters), overthink (c7146d: logic_grid, planning), broken loops
(c7146d: brackets, sequence, near its 8,192-token budget) and a context wall (a97584 at
[8192, 8448) in bins of 256; 3ad877 has the same budget and none). The other evals have no
planted failure mode and must get none.
"""

from __future__ import annotations

import json

import pytest

from app.engine import Dataset
from app.findings.base import Finding
from app.projections import compression, hazard


@pytest.fixture(scope="module")
def truth(bundled) -> dict:
    path = bundled.parent / "demo-truth.json"
    if not path.is_file():
        pytest.skip("data/demo-truth.json missing")
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def demo(bundled) -> Dataset:
    return Dataset.open(bundled)


@pytest.fixture(scope="module")
def found(demo, truth) -> list[Finding]:
    wall = truth["context_wall"]
    return (compression.run(demo).findings + hazard.run(demo, bucket_size=wall["bucket_size"]).findings)


def _planted(truth: dict) -> list[tuple[str, str, str | None, str]]:
    rows = [(kind, truth[kind]["eval_id"], task, "") for kind in ("underthink", "overthink", "broken_loops")
            for task in truth[kind]["base_tasks"]]
    wall = truth["context_wall"]
    rows.append(("context_wall", wall["eval_id"], None, f"[{wall['bin'][0]}, {wall['bin'][1]})"))
    return rows


def test_planted_vs_found(found, truth):
    failures = [f for f in found if f.failure_mode]
    print("\nplanted                                          | found")
    for kind, eval_id, task, place in _planted(truth):
        hits = [f for f in failures if (f.kind, f.eval_id, f.base_task) == (kind, eval_id, task)]
        got = "; ".join(f"{f.kind} {dict(f.where)}" for f in hits) or "MISSED"
        print(f"{kind:13} {eval_id} {str(task or 'all tasks'):12} {place:12} | {got}")
    planted = {(k, e, t) for k, e, t, _ in _planted(truth)}
    for f in failures:
        if (f.kind, f.eval_id, f.base_task) not in planted:
            print(f"{'(not planted)':13} {f.eval_id} {str(f.base_task or 'all tasks'):12} {'':12} | {f.kind}")


@pytest.mark.parametrize("kind", ["underthink", "overthink", "broken_loops"])
def test_compression_failure_modes_on_their_tasks_only(found, truth, kind):
    got = sorted(f.base_task for f in found if f.kind == kind)
    assert got == sorted(truth[kind]["base_tasks"])
    assert {f.eval_id for f in found if f.kind == kind} == {truth[kind]["eval_id"]}


def test_broken_loops_sit_near_the_budget(found, truth):
    loops = truth["broken_loops"]
    for f in (f for f in found if f.kind == "broken_loops"):
        assert f.where["tokens_to"] == loops["max_tokens"]
        assert abs(f.where["tokens_from"] - loops["tokens_min"]) <= 1
        assert f.evidence["truncated_share"] >= 0.8


def test_underthink_and_overthink_medians_match_the_truth(found, truth):
    for kind in ("underthink", "overthink"):
        measured = {m["base_task"]: m for m in truth[kind]["measured"]}
        for f in (f for f in found if f.kind == kind):
            assert f.where["correct_tokens_median"] == measured[f.base_task]["correct_tokens_median"]


def test_the_context_wall_is_a97584s_at_its_bin_and_3ad877_has_none(found, truth):
    wall = truth["context_wall"]
    walls = [f for f in found if f.kind == "context_wall"]
    assert [(f.eval_id, f.where["bin_start"], f.where["bin_end"]) for f in walls] == [
        (wall["eval_id"], *wall["bin"])]
    assert not [f for f in found if f.eval_id == wall["reference"]["eval_id"] and f.failure_mode]


def test_evals_without_a_planted_failure_mode_get_none(found, truth):
    planted = {e for _, e, _, _ in _planted(truth)}
    clean = set(truth["eval_archetypes"]) - planted
    assert clean == {"651986", "54804a", "55cea0", "3ad877", "a1ed7a"}
    wrong = [(f.kind, f.eval_id, f.base_task) for f in found if f.eval_id in clean and f.failure_mode]
    assert wrong == []
    assert {f.kind for f in found if f.eval_id in clean} <= {"healthy", "late_rising"}


def test_the_compression_figure_marks_the_loop_cluster_only_where_a_panel_is_one_task(demo, truth):
    loops = truth["broken_loops"]
    p = compression.run(demo, filters={"eval_id": [loops["eval_id"]], "base_task": loops["base_tasks"]})
    for _, fig in p.figures:
        (box,) = [s for s in fig.layout.shapes if s.type == "rect"]
        assert box.x1 == loops["max_tokens"] and abs(box.x0 - loops["tokens_min"]) <= 1
        assert loops["compressed_bytes_range"][0] <= box.y0 < box.y1 <= 2 * loops["compressed_bytes_range"][1]
    mixed = compression.run(demo, filters={"eval_id": [loops["eval_id"]], "base_task": loops["base_tasks"]},
                            split_by="none")
    assert not [s for _, fig in mixed.figures for s in fig.layout.shapes if s.type == "rect"]
    assert [f.kind for f in mixed.findings].count("broken_loops") == 2          # still found, said in notes
