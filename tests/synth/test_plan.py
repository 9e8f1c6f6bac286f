"""Scale arithmetic, from the plan alone (nothing is generated here)."""

from __future__ import annotations

import pytest

from app.engine.schema import eval_id
from app.synth import make_plan
from app.synth.catalog import DEMO_EVALS


def test_r12_counts_match_spec_section_9():
    plan = make_plan("r12")
    counts = plan.counts()
    assert counts["evals"] == 64
    assert counts["tasks"] == 12
    assert 1060 <= counts["points_per_eval"] <= 1080  # ~1,070 points per eval
    assert counts["samples_per_point"] == 128
    assert counts["samples"] == 64 * counts["points_per_eval"] * 128
    assert 8.7e6 <= counts["samples"] <= 8.9e6  # ~8.8 M completions
    assert all(80 <= g.size <= 100 for g in plan.grids)  # ~89 points per task


def test_r12_evals_are_distinct_and_keep_the_demo_ones():
    plan = make_plan("r12")
    ids = plan.eval_ids
    assert len(set(ids)) == 64
    assert ids[: len(DEMO_EVALS)] == make_plan("demo").eval_ids
    assert len({(e.model, e.template, e.sampler) for e in plan.evals}) == 64


def test_demo_shape():
    plan = make_plan("demo")
    assert len(plan.evals) == 8
    assert len(plan.grids) == 12
    assert all(30 <= g.size <= 60 for g in plan.grids)
    assert all(2 <= len(g.spec.params) <= 3 for g in plan.grids)
    assert 32 <= plan.samples_per_point <= 128
    assert {e.max_tokens for e in plan.evals} == {4096, 8192, 16384}
    assert plan.eval_ids == [eval_id(e.model, e.template, e.sampler) for e in plan.evals]
    assert len(set(zip(plan.point_task.tolist(), plan.params_json))) == plan.points_per_eval


def test_unknown_scale_is_rejected():
    with pytest.raises(ValueError, match="demo, r12"):
        make_plan("huge")
