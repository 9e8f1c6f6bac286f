"""compare on the planted synthetic dataset: pairs, verdicts, Holm per pair, the gap sentence, the figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from app.engine.errors import InputError
from app.figures import palette
from app.projections import compare, to_json
from app.projections.spec import SPECS

STATS = ["n_a", "n_b", "accuracy_a", "accuracy_b", "diff", "diff_lower", "diff_upper", "p_value", "p_holm",
         "verdict"]


@pytest.fixture(scope="module")
def four(syn, ids):
    """Alpha against Beta, Gamma and Delta, per task."""
    return compare.run(syn, filters={"eval_id": [ids["Alpha"], ids["Beta"], ids["Gamma"], ids["Delta"]]})


def pair(projection, b):
    return projection.rows[projection.rows["eval_b"] == b].set_index("base_task")


def test_one_row_per_pair_and_task_with_the_spec_columns(four, ids):
    rows = four.rows
    assert list(rows.columns) == ["eval_a", "label_a", "eval_b", "label_b", "base_task", *STATS]
    assert set(rows["eval_a"]) == {ids["Alpha"]}
    assert list(dict.fromkeys(rows["eval_b"])) == [ids["Beta"], ids["Gamma"], ids["Delta"]]   # as the filter lists
    assert len(rows) == 12 and list(rows["base_task"][:4]) == ["arith", "logic", "loops", "sort"]


def test_verdicts_find_the_planted_differences(four, ids):
    """Beta is the specialist (0.96 on arith, about 0.25 elsewhere); Alpha breaks on arith at length ≥ 3."""
    assert pair(four, ids["Beta"])["verdict"].to_dict() == {
        "arith": "b_better", "logic": "a_better", "loops": "a_better", "sort": "a_better"}
    assert pair(four, ids["Delta"])["verdict"].to_dict() == {
        "arith": "b_better", "logic": "unclear", "loops": "a_better", "sort": "a_better"}


def test_accuracies_are_the_section_3_guess_corrected_ones(four, syn, ids):
    agg = syn.aggregate({"eval_id": [ids["Alpha"], ids["Beta"]]}, ["eval_id", "base_task"])
    alpha = agg[agg["eval_id"] == ids["Alpha"]].set_index("base_task")
    beta = pair(four, ids["Beta"])
    assert beta["accuracy_a"].tolist() == alpha.loc[beta.index, "accuracy"].tolist()
    assert beta["n_a"].tolist() == alpha.loc[beta.index, "n"].tolist()
    assert beta.loc["sort", "n_a"] == 360 - 0.25 * 360            # sort has guess rate 1/4: 90 trials are chance


def test_holm_adjusts_over_the_groups_of_one_pair(four, ids):
    for b in (ids["Beta"], ids["Gamma"], ids["Delta"]):
        rows = pair(four, b)
        np.testing.assert_allclose(rows["p_holm"], multipletests(rows["p_value"], method="holm")[1], atol=1e-12)


def test_the_first_eval_of_the_filter_is_a(syn, ids, four):
    swapped = compare.run(syn, filters={"eval_id": [ids["Beta"], ids["Alpha"]]})
    rows = swapped.rows.set_index("base_task")
    assert set(rows["eval_a"]) == {ids["Beta"]} and set(rows["eval_b"]) == {ids["Alpha"]}
    ab = pair(four, ids["Beta"])
    np.testing.assert_allclose(rows["diff"], -ab["diff"], atol=1e-15)
    np.testing.assert_allclose(rows["diff_lower"], -ab["diff_upper"], atol=1e-15)
    assert rows["verdict"].to_dict() == {"arith": "a_better", "logic": "b_better", "loops": "b_better",
                                         "sort": "b_better"}
    assert swapped.meta["reference"] == ids["Beta"] and swapped.meta["evals"] == [ids["Beta"], ids["Alpha"]]


def test_without_an_eval_filter_every_eval_is_compared_in_label_order(syn, ids):
    rows = compare.run(syn).rows
    assert set(rows["eval_a"]) == {ids["Alpha"]}
    assert list(dict.fromkeys(rows["eval_b"])) == [ids["Beta"], ids["Delta"], ids["Gamma"]]


def test_the_gap_sentence_names_where_each_is_better(four):
    assert four.notes[0] == ("Alpha (chat, greedy) vs Beta (chat, greedy): the gap is broad (4 of 4 base_task values "
                             "differ beyond noise); Alpha (chat, greedy) is better on logic, loops, sort; "
                             "Beta (chat, greedy) is better on arith.")
    assert four.notes[2].endswith("Alpha (chat, greedy) is better on loops, sort; Delta (chat, greedy) is better "
                                  "on arith; unclear on 1.")
    assert "Holm-adjusted" in four.notes[3] and "±0.05" in four.notes[3]


def test_an_interval_that_barely_excludes_zero_is_not_a_win_after_holm(syn, ids):
    """Near miss: Alpha vs Delta on logic by params.a; at a = 3 the interval clears 0 but Holm's p is 0.10."""
    got = compare.run(syn, filters={"eval_id": [ids["Alpha"], ids["Delta"]], "base_task": ["logic"]},
                      group_by="params.a")
    row = got.rows.set_index("params.a").loc[3]
    assert row["diff_lower"] > 0 and row["p_value"] < 0.05 < row["p_holm"] and row["verdict"] == "unclear"
    assert got.notes[0] == ("Alpha (chat, greedy) vs Delta (chat, greedy): no gap beyond noise on any of the 3 "
                            "params.a values; unclear on 3.")


@pytest.mark.parametrize("verdicts, expected", [
    (["a_better", "a_better", "equivalent"], "the gap is broad (2 of 3 task values differ beyond noise); "
                                             "A is better on t0, t1; equivalent (within ±0.05) on t2."),
    (["b_better", "equivalent", "equivalent", "unclear"], "the gap is narrow (1 of 4 task values differ beyond "
                                                          "noise); B is better on t0; equivalent (within ±0.05) on "
                                                          "t1, t2; unclear on 1."),
    (["a_better", "b_better", "unclear", "unclear"], "the gap is narrow (2 of 4 task values differ beyond noise); "
                                                     "A is better on t0; B is better on t1; unclear on 2."),
    (["equivalent"], "no gap beyond noise on any of the 1 task value; equivalent (within ±0.05) on t0."),
])
def test_broad_means_most_groups_and_narrow_a_few(verdicts, expected):
    rows = pd.DataFrame({"task": [f"t{i}" for i in range(len(verdicts))], "verdict": verdicts})
    assert compare.gap_sentence("A", "B", "task", rows) == f"A vs B: {expected}"


def test_group_by_none_compares_everything_at_once(syn, ids):
    rows = compare.run(syn, filters={"eval_id": [ids["Alpha"], ids["Gamma"]]}, group_by="none").rows
    assert rows["group"].tolist() == ["all"] and rows["n_a"].tolist() == [480 + 720 + 360 + 270]
    assert rows["verdict"].tolist() == ["a_better"]


@pytest.mark.parametrize("filters", [
    lambda ids: {"eval_id": [ids["Alpha"]]},                      # one eval named
    lambda ids: {"groups": [["arch:dense", "size:large"]]},       # a tag filter that keeps only Alpha
])
def test_fewer_than_two_evals_is_refused_with_one_sentence(syn, ids, filters):
    with pytest.raises(InputError) as caught:
        compare.run(syn, filters=filters(ids))
    message = str(caught.value)
    assert "choose at least two evals" in message and "\n" not in message
    assert message.endswith("the filters keep 1 eval(s) with samples")


def test_eval_id_cannot_be_the_group(syn):
    with pytest.raises(InputError, match="eval_id is what compare pairs up"):
        compare.run(syn, group_by="eval_id")


def test_figure_has_one_panel_per_pair_sorted_and_coloured_by_verdict(four, ids):
    fig = four.figures[0].figure
    layout = fig.layout.to_plotly_json()
    assert [k for k in layout if k.startswith("yaxis")] == ["yaxis", "yaxis2", "yaxis3"]
    beta = pair(four, ids["Beta"]).sort_values("diff")
    assert list(layout["yaxis"]["categoryarray"]) == beta.index.tolist()     # a's largest advantage on top
    for trace in fig.data:
        if trace.x and trace.x[0] is not None:
            assert trace.marker.color == palette.VERDICT_COLORS[trace.meta["verdict"]]
    drawn = sorted(x for t in fig.data if t.yaxis == "y" and t.x[0] is not None for x in t.x)
    assert drawn == pytest.approx(sorted(beta["diff"]))
    assert {t.name for t in fig.data if t.x == (None,)} >= {"unclear"}     # the legend explains every colour
    assert "a = Alpha (chat, greedy)  vs  b = Beta (chat, greedy)" in [a.text for a in fig.layout.annotations]


def test_json_and_declaration(four, ids):
    doc = to_json(four)
    assert doc["projection"] == "compare" and doc["group_by"] == "base_task"
    assert doc["reference"] == ids["Alpha"] and doc["z"] == 1.96 and len(doc["rows"]) == 12
    spec = SPECS["compare"]
    assert spec.opens_on_evals == 2 and spec.question and spec.start
    assert spec.option("group_by").cli_default == "base_task"
