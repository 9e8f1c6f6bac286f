"""Shared layout helpers: the fast subplot grid draws exactly what make_subplots would."""

import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots

from app.figures.common import subplot_axes, subplot_grid


def _layout(fig: go.Figure) -> dict:
    out = fig.layout.to_plotly_json()
    out.pop("template", None)
    return out


@pytest.mark.parametrize("rows, cols, kwargs", [
    (1, 1, {}),
    (2, 3, dict(horizontal_spacing=0.08, vertical_spacing=0.12, column_titles=["a", "b", "c"],
                row_titles=["r1", "r2"])),
    (3, 64, dict(horizontal_spacing=0.5 / 64, vertical_spacing=0.12, column_titles=[f"e{i}" for i in range(64)],
                 row_titles=["v1", "v2", "v3"])),
    (5, 1, dict(shared_xaxes=True, vertical_spacing=0.08, subplot_titles=["t1", "", "t3", "t4", "t5"])),
    (64, 1, dict(shared_xaxes=True, vertical_spacing=0.5 / 64, subplot_titles=[f"f{i}" for i in range(64)])),
])
def test_subplot_grid_matches_make_subplots(rows, cols, kwargs):
    want = _layout(make_subplots(rows=rows, cols=cols, **kwargs))
    got = _layout(go.Figure(layout=subplot_grid(rows, cols, **kwargs)))
    assert set(got) == set(want)
    for key, axis in want.items():
        if key == "annotations":
            assert len(got[key]) == len(axis)
            for a, b in zip(got[key], axis):
                assert {k: v for k, v in a.items() if k not in ("x", "y")} == {k: v for k, v in b.items()
                                                                                 if k not in ("x", "y")}
                assert (a["x"], a["y"]) == pytest.approx((b["x"], b["y"]))
        else:
            assert {k: v for k, v in got[key].items() if k != "domain"} == {k: v for k, v in axis.items()
                                                                             if k != "domain"}, key
            assert got[key]["domain"] == pytest.approx(axis["domain"]), key


def test_subplot_axes_count_rows_first():
    assert subplot_axes(1, 1, 4) == ("x", "y")
    assert subplot_axes(2, 3, 4) == ("x7", "y7")
    fig = make_subplots(rows=2, cols=4)
    fig.add_trace(go.Scatter(x=[1]), row=2, col=3)
    assert (fig.data[0].xaxis, fig.data[0].yaxis) == subplot_axes(2, 3, 4)
