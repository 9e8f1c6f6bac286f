"""Compression builder: a dot per point, coloured by outcome, symbol per group, facets as rows."""

import numpy as np
import plotly.graph_objects as go
import pytest

from app.engine.schema import OUTCOMES
from app.figures import compression as fig_compression
from app.figures import palette


@pytest.fixture(scope="module")
def points(syn):
    df = syn.samples({"base_task": "loops"}, columns=["eval_id", "manifold.id", "outcome", "completion_tokens",
                                                      "compressed_bytes"])
    return df.astype({"eval_id": str, "manifold.id": str, "outcome": str})


def _dots(fig):
    return [t for t in fig.data if isinstance(t, (go.Scatter, go.Scattergl)) and t.meta and "outcome" in t.meta]


def test_every_point_drawn_once_in_its_outcome_colour(points):
    facets = sorted(set(points["eval_id"]))
    fig = fig_compression.build(points, facet="eval_id", group="manifold.id", title="c", facets=facets)
    dots = _dots(fig)
    assert sum(len(t.x) for t in dots) == len(points)
    for t in dots:
        assert t.marker.color == palette.OUTCOME_COLORS[t.meta["outcome"]]
        sel = points[(points["outcome"] == t.meta["outcome"]) & (points["eval_id"] == t.meta["facet"])
                     & (points["manifold.id"] == t.meta["group"])]
        assert sorted(t.x) == sorted(sel["completion_tokens"].astype(float))
        assert sorted(t.y) == sorted(sel["compressed_bytes"].astype(float))


def test_facets_are_rows_and_groups_are_symbols(points):
    facets = sorted(set(points["eval_id"]))
    groups = sorted(set(points["manifold.id"]))
    fig = fig_compression.build(points, facet="eval_id", group="manifold.id", title="c", facets=facets, groups=groups)
    dots = _dots(fig)
    axes = {t.meta["facet"]: t.yaxis for t in dots}
    assert len(set(axes.values())) == len(facets)
    symbols = {t.meta["group"]: t.marker.symbol for t in dots}
    assert symbols == {g: palette.symbol(i) for i, g in enumerate(groups)}
    legend = {t.name: t for t in fig.data if t.showlegend}
    assert set(OUTCOMES) <= set(legend)
    assert all(f"manifold.id = {g}" in legend for g in groups)
    assert all(legend[o].marker.color == palette.OUTCOME_COLORS[o] for o in OUTCOMES)


def test_downsampling_is_stated_on_the_figure(points):
    fig = fig_compression.build(points.iloc[:100], facet=None, group=None, title="c", total=len(points))
    text = " ".join(a.text for a in fig.layout.annotations)
    assert f"100 of {len(points):,}" in text
    assert fig.layout.meta["shown"] == 100 and fig.layout.meta["total"] == len(points)
    quiet = fig_compression.build(points, facet=None, group=None, title="c", total=len(points))
    assert not any("random" in (a.text or "") for a in quiet.layout.annotations)


def test_budget_lines_per_facet(points, syn):
    facets = sorted(set(points["eval_id"]))
    budgets = {e: syn.max_tokens()[e] for e in facets}
    fig = fig_compression.build(points, facet="eval_id", group=None, title="c", facets=facets, budgets=budgets)
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert sorted(s.x0 for s in lines) == sorted(budgets.values())
    assert np.all([s.line.dash == "dash" for s in lines])


def test_many_groups_become_per_point_symbols(points):
    many = points.assign(g=[f"g{i % 40}" for i in range(len(points))])
    facets = sorted(set(many["eval_id"]))
    fig = fig_compression.build(many, facet="eval_id", group="g", title="c", facets=facets)
    dots = _dots(fig)
    assert len(dots) <= len(facets) * 4                         # one trace per (facet, outcome)
    assert sum(len(t.x) for t in dots) == len(many)
    groups = list(dict.fromkeys(many["g"]))
    for t in dots:
        sel = many[(many["outcome"] == t.meta["outcome"]) & (many["eval_id"] == t.meta["facet"])]
        assert list(t.marker.symbol) == [palette.symbol(groups.index(g)) for g in sel["g"]]
        assert list(t.text) == list(sel["g"])


def test_left_out_facets_are_named_with_how_to_choose(points):
    facets = sorted(set(points["eval_id"]))
    shown = points[points["eval_id"] == facets[0]]
    fig = fig_compression.build(shown, facet="eval_id", group=None, title="c", facets=facets[:1],
                                left_out=["second eval", "third eval"])
    text = " ".join(a.text or "" for a in fig.layout.annotations)
    assert "first 1 of 3" in text and "not drawn: second eval, third eval" in text and "eval_id filter" in text
    assert fig.layout.meta["left_out"] == ["second eval", "third eval"]
    assert {t.meta["facet"] for t in _dots(fig)} == {facets[0]}


def _short(points):
    """Completions under 1,000 tokens, as real non-reasoning answers are."""
    return points[points["completion_tokens"] < 1_000]


def test_a_far_budget_is_a_label_at_the_edge_not_a_stretched_axis(points):
    short = _short(points)
    facets = sorted(set(short["eval_id"]))
    fig = fig_compression.build(short, facet="eval_id", group=None, title="c", facets=facets,
                                budgets={e: 32_768 for e in facets})
    assert not [s for s in fig.layout.shapes if s.type == "line"]      # nothing at x = 32,768 to stretch the axis
    for i in range(1, len(facets) + 1):
        axis = fig.layout["xaxis" + ("" if i == 1 else str(i))]
        assert axis.range is None and axis.rangemode == "tozero"        # autorange: it follows the dots
    edge = [a for a in fig.layout.annotations if a.text == "budget 32,768 →"]
    assert len(edge) == len(facets)
    assert {(a.xref, a.x, a.xanchor) for a in edge} == {(f"x{'' if i == 1 else i} domain", 1, "right")
                                                         for i in range(1, len(facets) + 1)}
    assert not any("dashed line" in (t.name or "") for t in fig.data)


def test_budgets_within_reach_stay_lines_beside_far_ones(points):
    short = _short(points)
    facets = sorted(set(short["eval_id"]))
    budgets = {facets[0]: 1_024, facets[1]: 32_768}
    fig = fig_compression.build(short, facet="eval_id", group=None, title="c", facets=facets, budgets=budgets)
    assert [s.x0 for s in fig.layout.shapes if s.type == "line"] == [1_024]
    assert [a.text for a in fig.layout.annotations if "→" in (a.text or "")] == ["budget 32,768 →"]
    assert any("dashed line" in (t.name or "") for t in fig.data)


def test_estimated_tokens_are_named_on_the_x_axis(points):
    facets = sorted(set(points["eval_id"]))
    estimated = fig_compression.build(points, facet="eval_id", group=None, title="c", facets=facets,
                                      tokens_estimated=True)
    exact = fig_compression.build(points, facet="eval_id", group=None, title="c", facets=facets)
    bottom = "xaxis" + str(len(facets))
    assert estimated.layout[bottom].title.text == "completion tokens (estimated)"
    assert exact.layout[bottom].title.text == "completion tokens"


def test_reading_marks_are_drawn_in_their_facet(points):
    """The findings decide (tests/findings/test_compression.py); the figure draws a box or a band where told."""
    facets = sorted(set(points["eval_id"]))
    marks = {facets[1]: [{"kind": "broken_loops", "x0": 3600, "x1": 4096, "y0": 180, "y1": 230,
                          "text": "broken loops: 120, 85% truncated"},
                         {"kind": "underthink", "x0": 300, "x1": 900, "text": "underthink: failed median 300"}]}
    fig = fig_compression.build(points, facet="eval_id", group=None, title="c", facets=facets, marks=marks)
    rects = [s for s in fig.layout.shapes if s.type == "rect"]
    assert [(r.x0, r.x1, r.y0, r.y1, r.yref) for r in rects] == [(3600, 4096, 180, 230, "y2"),
                                                                 (300, 900, 0, 1, "y2 domain")]
    assert rects[0].line.color == fig_compression.MARK_COLORS["broken_loops"]
    texts = [a.text for a in fig.layout.annotations if a.text and "<b>" in a.text]
    assert texts == ["<b>broken loops: 120, 85% truncated</b>", "<b>underthink: failed median 300</b>"]
    plain = fig_compression.build(points, facet="eval_id", group=None, title="c", facets=facets)
    assert not [s for s in plain.layout.shapes if s.type == "rect"]
