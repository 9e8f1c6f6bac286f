"""Shared layout helpers: the fast subplot grids draw exactly what make_subplots would; token axes fit the data."""

from typing import Any

import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots

from app.figures.common import (
    AXIS_PAD,
    BUDGET_REACH,
    merged,
    subplot_axes,
    subplot_domains,
    subplot_grid,
    token_axis,
    tokens_title,
)


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


@pytest.mark.parametrize("rows, cols, kwargs, colspan", [
    (2, 1, dict(row_heights=[0.72, 0.28], vertical_spacing=0.1), False),                      # spiderweb radar
    (3, 1, dict(row_heights=[0.5, 0.22, 0.28], vertical_spacing=0.06), False),                # spiderweb bars
    (1, 2, dict(column_widths=[864, 260], horizontal_spacing=0.012), False),                  # the matrix
    (2, 3, dict(row_heights=[0.5, 0.5], vertical_spacing=0.14, horizontal_spacing=0.05), True),   # hazard
    (2, 4, dict(row_heights=[0.5, 0.5], vertical_spacing=0.14, horizontal_spacing=0.05), True),
    (3, 2, {}, False),
])
def test_subplot_domains_are_make_subplots_own_floats(rows, cols, kwargs, colspan):
    """Exactly equal, not approximately: a figure's JSON must not change when make_subplots is replaced."""
    specs: list[list[dict[str, Any] | None]] = [[{}] * cols for _ in range(rows)]
    if colspan:   # the last row is one panel across every column
        specs[-1] = [{"colspan": cols}] + [None] * (cols - 1)
    want = make_subplots(rows=rows, cols=cols, specs=specs, **kwargs).layout
    got = subplot_domains(rows, cols, **kwargs)
    k = 0
    for r in range(1, rows + 1):
        for c in range(1, (2 if colspan and r == rows else cols + 1)):
            k += 1
            x, y = got.cell(r, c, cols if colspan and r == rows else 1)
            suffix = "" if k == 1 else str(k)
            assert list(want["xaxis" + suffix].domain) == x and list(want["yaxis" + suffix].domain) == y


def test_merged_lays_nested_dicts_over_each_other_like_update_layout():
    base = {"legend": {"font": {"size": 13}, "x": 1}, "annotations": [1], "width": 5}
    out = merged(base, {"legend": {"x": 0, "font": {"color": "red"}}, "annotations": [2]})
    assert out == {"legend": {"font": {"size": 13, "color": "red"}, "x": 0}, "annotations": [2], "width": 5}
    assert base["legend"] == {"font": {"size": 13}, "x": 1}     # the base is left as it was


def test_subplot_axes_count_rows_first():
    assert subplot_axes(1, 1, 4) == ("x", "y")
    assert subplot_axes(2, 3, 4) == ("x7", "y7")
    fig = make_subplots(rows=2, cols=4)
    fig.add_trace(go.Scatter(x=[1]), row=2, col=3)
    assert (fig.data[0].xaxis, fig.data[0].yaxis) == subplot_axes(2, 3, 4)


# ------------------------------------------------------------- token axes fitted to the data

def test_a_budget_far_beyond_the_data_does_not_stretch_the_axis():
    axis = token_axis(437, [32_768])            # real reasoning-gym-eval: every answer < 1k tokens, budget 32k
    assert axis.upper == pytest.approx(437 * AXIS_PAD)
    assert axis.inside == () and axis.beyond == (32_768,)
    assert axis.edge_label() == "budget 32,768 →"


def test_a_budget_within_reach_stretches_the_axis_and_is_drawn_in_place():
    axis = token_axis(16_384, [4_096, 8_192, 16_384])       # the bundled data: budgets inside the data range
    assert axis.inside == (4_096, 8_192, 16_384) and axis.beyond == ()
    assert axis.upper == pytest.approx(16_384 * AXIS_PAD)
    near = token_axis(9_566, [16_384])                       # 1.7 × the longest completion: still in reach
    assert near.inside == (16_384,) and near.upper == pytest.approx(16_384 * AXIS_PAD)
    assert BUDGET_REACH * 9_566 >= 16_384


def test_budgets_split_at_the_reach_and_repeats_count_once():
    axis = token_axis(1_000, [None, 0, 1_500, 2_000, 2_001, 32_768, 32_768])
    assert axis.inside == (1_500, 2_000) and axis.beyond == (2_001, 32_768)
    assert axis.edge_label() == "budgets 2,001, 32,768 →"
    assert axis.upper == pytest.approx(2_000 * AXIS_PAD)


def test_without_data_the_budgets_set_the_axis():
    assert token_axis(None, [8_192]).upper == pytest.approx(8_192 * AXIS_PAD)
    assert token_axis(0, []).upper == pytest.approx(AXIS_PAD)


def test_estimated_tokens_are_named_in_the_title():
    assert tokens_title("completion tokens", True) == "completion tokens (estimated)"
    assert tokens_title("completion tokens", False) == "completion tokens"
