"""The workflow run end to end: which projection runs on which filters, and what the report collects."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest

from app.engine.errors import InputError
from app.projections import PROJECTIONS
from app.report import build, to_json
from app.report.document import CHARACTERISATION, COMPARISON
from app.report.workflow import STEP_TASKS
from tests.report.conftest import BALANCED, SPECIALIST


def ranked(demo, eval_ids, column, highest):
    """The expected tasks, ranked independently of the report: per (eval, task) rows, best-first, each task once."""
    rows = demo.aggregate({"eval_id": eval_ids}, ["eval_id", "base_task"]).to_dict("records")
    rows.sort(key=lambda r: (-r[column] if highest else r[column], r["base_task"]))
    return list(dict.fromkeys(r["base_task"] for r in rows))[:STEP_TASKS]


def test_one_eval_runs_workflow_1_on_the_filters_the_document_gives_each_step(demo):
    report = build(demo, {"eval_id": [BALANCED]})
    assert report.workflow == CHARACTERISATION
    assert [s.projection for s in report.steps] == ["spiderweb", "surface", "compression", "hazard"]
    assert report.comparison is None and report.comparisons == []
    spider, surface, compression, hazard = report.steps
    assert spider.filters == hazard.filters == {"eval_id": [BALANCED]}
    # the weakest and the most token-hungry tasks of the fingerprint (the demo is deterministic)
    assert surface.filters == {"base_task": ["arithmetic", "counting", "dates"], "eval_id": [BALANCED]}
    assert surface.filters["base_task"] == ranked(demo, [BALANCED], "center", highest=False)
    assert compression.filters == {"base_task": ["logic_grid", "planning", "shapes"], "eval_id": [BALANCED]}
    assert compression.filters["base_task"] == ranked(demo, [BALANCED], "tokens_mean", highest=True)
    assert [split for split, _ in surface.result.figures] == ["arithmetic", "counting", "dates"]
    assert all(s.skipped is None and s.result is not None for s in report.steps)


def test_each_step_has_the_command_and_the_dashboard_link_that_show_it(demo):
    report = build(demo, {"eval_id": [BALANCED]}, dataset_arg="data/dataset.json")
    surface = report.steps[1]
    assert surface.command == ("python analyze.py surface data/dataset.json --filters "
                               "'{\"base_task\":[\"arithmetic\",\"counting\",\"dates\"],\"eval_id\":[\"54804a\"]}'")
    path, _, query = surface.link.partition("?")
    assert path == "/surface"
    assert {k: json.loads(v[0]) for k, v in parse_qs(query).items()} == {"filters": surface.filters}


def test_the_truncation_mode_is_in_every_command_and_link(demo):
    report = build(demo, {"eval_id": [BALANCED]}, "separate", dataset_arg="d")
    assert report.command == "python analyze.py report d --filters '{\"eval_id\":[\"54804a\"]}' --truncation separate"
    for step in report.steps:
        assert step.command.endswith(" --truncation separate") and step.link.endswith("&truncation=separate")
        assert step.result.meta["truncation"] == "separate"


def test_several_evals_run_workflow_2_with_the_comparison_first_eval_against_the_others(demo):
    report = build(demo, {"eval_id": [SPECIALIST, BALANCED]})
    assert report.workflow == COMPARISON
    assert [e["eval_id"] for e in report.evals] == [SPECIALIST, BALANCED]  # the filter's order: a is the first
    assert report.steps[1].filters["base_task"] == ranked(demo, [SPECIALIST, BALANCED], "center", highest=False)
    if "compare" not in PROJECTIONS:
        assert report.comparison is None and "No comparison" in " ".join(report.notes)
        return
    assert report.comparison.filters["eval_id"] == [SPECIALIST, BALANCED]
    rows = report.comparisons
    assert len(rows) == 12  # one pair, one row per task
    for key in ("n_a", "n_b", "accuracy_a", "accuracy_b", "diff", "diff_lower", "diff_upper", "p_value", "p_holm",
                "verdict"):
        assert key in rows[0]
    expected = PROJECTIONS["compare"].run(demo, filters={"eval_id": [SPECIALIST, BALANCED]}).rows
    assert [r["diff"] for r in rows] == pytest.approx(expected["diff"].tolist(), abs=1e-12)


def test_the_report_collects_every_finding_of_every_step_as_the_projections_return_them(demo):
    report = build(demo, {"eval_id": [BALANCED, SPECIALIST]})
    expected = []
    for step in report.steps:
        again = PROJECTIONS[step.projection].run(demo, filters=step.filters)
        expected += [f.to_json() for f in again.findings]
    assert [f.to_json() for f in report.findings] == expected
    assert to_json(report)["findings"] == expected


def test_evals_chosen_by_group_come_in_label_order(demo):
    report = build(demo, {"groups": ["family:basalt"]})
    assert [e["label"] for e in report.evals] == ["basalt-30b-moe (zeroshot-cot, temp0.6-16k)",
                                                  "basalt-8b-moe (zeroshot-cot, temp0.6-16k)"]


def test_a_step_that_cannot_run_on_this_data_says_why_and_the_others_still_run(flat):
    from app.engine import Dataset

    report = build(Dataset.open(flat))
    by_name = {s.projection: s for s in report.steps}
    assert by_name["spiderweb"].result is not None and by_name["hazard"].result is not None
    assert "no view with exactly two group-by dimensions" in by_name["surface"].skipped
    assert "compressed_bytes" in by_name["compression"].skipped


@pytest.mark.parametrize("filters, message", [
    ({"eval_id": ["54804a"], "base_task": ["nope"]}, "unknown"),
    ({"eval_id": ["54804a"], "groups": ["family:basalt"]}, "match no samples"),
    ("{not json", "JSON"),
    ({"no_such_key": [1]}, "no_such_key"),
])
def test_bad_filters_are_one_input_error(demo, filters, message):
    with pytest.raises(InputError, match=message):
        build(demo, filters)
