"""Surface builder: heatmap values, fixed scale, and marks exactly where the data says."""

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from app.figures import palette
from app.figures import surface as fig_surface


@pytest.fixture(scope="module")
def panels(syn):
    out = []
    for task, x, y in (("arith", "params.length", "params.depth"), ("loops", "params.size", "params.width")):
        rows = syn.aggregate({"base_task": task}, ["eval_id", x, y])
        out.append(fig_surface.Panel(f"{task} view", x, y, rows, sorted(set(rows[x])), sorted(set(rows[y]))))
    return out


@pytest.fixture(scope="module")
def labels(syn):
    ev = syn.evals()
    return dict(zip(ev["eval_id"], ev["label"]))


@pytest.fixture(scope="module")
def fig(panels, labels):
    return fig_surface.build(panels, labels=labels, title="Surface", subtitle="dataset: synthetic")


def test_grid_rows_are_views_columns_are_evals(fig, panels, labels):
    heats = [t for t in fig.data if isinstance(t, go.Heatmap)]
    assert len(heats) == len(panels) * len(labels)
    assert [h.meta["view"] for h in heats] == [p.view for p in panels for _ in labels]
    assert [h.meta["eval_id"] for h in heats] == list(labels) * len(panels)
    titles = [a.text for a in fig.layout.annotations]
    assert all(labels[e] in titles for e in labels) and all(p.view in titles for p in panels)


def test_heatmap_is_center_on_fixed_red_yellow_green_scale(fig, panels):
    ca = fig.layout.coloraxis
    assert (ca.cmin, ca.cmax) == (0.0, 1.0)
    assert [list(s) for s in ca.colorscale] == [list(s) for s in palette.ACCURACY_COLORSCALE]
    for h in (t for t in fig.data if isinstance(t, go.Heatmap)):
        assert h.coloraxis == "coloraxis"
        p = next(p for p in panels if p.view == h.meta["view"])
        rows = p.rows[p.rows["eval_id"] == h.meta["eval_id"]]
        z = np.array(h.z, dtype=float)
        for x, y, c in zip(rows[p.x], rows[p.y], rows["center"]):
            assert z[list(p.y_values).index(y), list(p.x_values).index(x)] == pytest.approx(c)
        assert np.isfinite(z).sum() == len(rows)


def _marks(fig, kind):
    return [t for t in fig.data if isinstance(t, go.Scatter) and t.meta and t.meta.get("mark") == kind]


@pytest.mark.parametrize("kind, column, test", [("safe", "lower", lambda v: v >= 0.9),
                                                ("truncation", "truncation_rate", lambda v: v > 0.02)])
def test_marks_exactly_on_the_cells_over_threshold(fig, panels, kind, column, test):
    found_any = False
    for m in _marks(fig, kind):
        p = next(p for p in panels if p.view == m.meta["view"])
        rows = p.rows[p.rows["eval_id"] == m.meta["eval_id"]]
        expect = {(x, y) for x, y, v in zip(rows[p.x], rows[p.y], rows[column]) if test(v)}
        got = {tuple(c) for c in (m.customdata if m.customdata is not None else [])}
        assert got == expect
        assert len(m.x) == len(expect)
        found_any |= bool(expect)
    assert found_any                                   # the synthetic data has both kinds of cells
    colours = {m.marker.color for m in _marks(fig, kind)}
    assert colours == {palette.TRUNCATION_COLOR if kind == "truncation" else palette.SAFE_ZONE_COLOR}


def test_cliff_cells_and_legend(fig, panels, ids):
    alpha = panels[0].rows[panels[0].rows["eval_id"] == ids["Alpha"]]
    easy = alpha[alpha["params.length"] <= 2]["center"]
    hard = alpha[alpha["params.length"] >= 3]["center"]
    assert easy.min() > 0.9 and hard.max() < 0.25                  # the planted cliff, as drawn
    names = [t.name for t in fig.data if t.showlegend is not False and isinstance(t, go.Scatter)]
    assert any("safe zone" in n for n in names) and any("truncation" in n for n in names)
    assert fig.layout.width >= 1200 and fig.layout.height >= 800


def test_cell_hover_numbers_and_blank_cells_that_say_why(panels, labels):
    p = panels[0]
    e = next(iter(labels))
    rows = p.rows[p.rows["eval_id"] == e]
    gone, kept = rows.iloc[0], rows.iloc[1]
    cut = fig_surface.Panel(p.view, p.x, p.y, p.rows.drop(index=gone.name), p.x_values, p.y_values)
    fig = fig_surface.build([cut], labels=labels, title="t")
    heat = next(h for h in fig.data if isinstance(h, go.Heatmap) and h.meta["eval_id"] == e)

    def at(row):
        return list(p.y_values).index(row[p.y]), list(p.x_values).index(row[p.x])

    j, i = at(gone)
    assert np.isnan(np.array(heat.z, dtype=float)[j, i]) and heat.hoverongaps is False
    blank = [t for t in fig.data if isinstance(t, go.Scatter) and t.meta and t.meta.get("mark") == "blank"]
    assert len(blank) == 1 and blank[0].meta["eval_id"] == e
    assert (blank[0].x[0], blank[0].y[0]) == (i, j) and "no samples" in blank[0].text[0]
    cell = list(heat.customdata[at(kept)[0]][at(kept)[1]])      # the template's numbers, at hover precision
    assert cell[2:5] == [round(float(kept[c]), 3) for c in ("center", "lower", "upper")]
    assert "%{customdata[2]:.3f}" in heat.hovertemplate and labels[e] in heat.hovertemplate


@pytest.mark.parametrize("views, evals, columns, bands", [(1, 3, 3, 1), (1, 4, 4, 1), (1, 5, 3, 2), (1, 8, 4, 2),
                                                         (3, 8, 4, 2), (2, 64, 4, 16)])
def test_eval_columns_wrap_into_balanced_bands(views, evals, columns, bands):
    shape = fig_surface.grid_shape(views, evals)
    assert (shape.columns, shape.bands, shape.rows) == (columns, bands, bands * views)
    assert shape.width <= 1600          # the page's WIDE: every surface fits the window instead of scrolling
    assert shape.place(views - 1, evals - 1) == ((bands - 1) * views + views, (evals - 1) % columns + 1)


def test_eight_evals_draw_as_two_bands_of_four(panels, labels):
    """Eight evals, two views: band 1 holds evals 1-4 (rows 1-2), band 2 evals 5-8 (rows 3-4), 1,550 px wide."""
    rows = [p.rows.assign(eval_id=p.rows["eval_id"] + suffix) for p in panels[:1] for suffix in ("", "-b")]
    eight = {e + suffix: f"{name} ({suffix or 'a'})" for suffix in ("", "-b") for e, name in labels.items()}
    panel = fig_surface.Panel(panels[0].view, panels[0].x, panels[0].y, pd.concat(rows), panels[0].x_values,
                              panels[0].y_values)
    fig = fig_surface.build([panel, panels[1]], labels=eight, title="t")
    heats = {(h.meta["view"], h.meta["eval_id"]): h for h in fig.data if isinstance(h, go.Heatmap)}
    assert fig.layout.width == 1550
    for k, e in enumerate(eight):
        for v, p in enumerate([panel, panels[1]]):
            h = heats[(p.view, e)]
            row, col = (k // 4) * 2 + v + 1, k % 4 + 1
            assert (h.xaxis, h.yaxis) == fig_surface.subplot_axes(row, col, 4)
    x_of = {e: tuple(fig.layout["xaxis" + heats[(panel.view, e)].xaxis[1:]].domain) for e in eight}
    assert len(set(x_of.values())) == 4 and max(d[1] for d in x_of.values()) <= 1.0
    titles = [a.text for a in fig.layout.annotations]
    assert sum(t == fig_surface.eval_title(eight[e]) for e in eight for t in titles) == 8      # once per eval
    assert titles.count(panel.view) == 2                                                      # once per band


def test_a_short_last_band_hides_its_empty_cells(panels, labels):
    five = {**labels, "x": "extra"}
    fig = fig_surface.build(panels[:1], labels=five, title="t")
    assert fig_surface.grid_shape(1, 5).columns == 3
    assert fig.layout.xaxis6.visible is False and fig.layout.yaxis6.visible is False
    assert fig.layout.xaxis5.visible is not False


def test_long_eval_titles_break_before_their_setup():
    assert fig_surface.eval_title("basalt-30b-moe (zeroshot-cot, temp0.6-16k)") == \
        "basalt-30b-moe<br>(zeroshot-cot, temp0.6-16k)"
    assert fig_surface.eval_title("alpha (cot)") == "alpha (cot)"
