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
