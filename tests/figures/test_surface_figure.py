"""Surface builder: heatmap values, fixed scale, and marks exactly where the data says."""

import numpy as np
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
