"""Surface: accuracy heatmaps over 2-D parameter grids, rows = views, columns = evals.

Axes are cell indices with the parameter values as tick labels, so every grid is
drawn evenly whatever the spacing of its values, and marks can sit at fixed
places inside a cell: the safe-zone star in the upper left corner, the
truncation diamond in the upper right, the value in the middle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.figures import palette
from app.figures.common import axis_label, base_layout, dim_label, num, pct, short

SAFE_LOWER = 0.9          # lower CI bound at or above this: the safe (green) zone
TRUNCATION_MARK = 0.02    # truncation rate above this: a truncation mark
MAX_CELL_TEXT = 48        # write the value into cells only while they are big enough to read


@dataclass
class Panel:
    """One view's rows (eval_id, x dim, y dim, statistics) and the order of its axis values."""

    view: str
    x: str
    y: str
    rows: pd.DataFrame
    x_values: Sequence[Any]
    y_values: Sequence[Any]


def marks(rows: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(safe-zone mask, truncation mask) for rows of statistics: the one rule for both marks."""
    return rows["lower"] >= SAFE_LOWER, rows["truncation_rate"] > TRUNCATION_MARK


def _matrix(rows: pd.DataFrame, panel: Panel, column: str) -> np.ndarray:
    xi = {v: i for i, v in enumerate(panel.x_values)}
    yi = {v: j for j, v in enumerate(panel.y_values)}
    z = np.full((len(panel.y_values), len(panel.x_values)), np.nan)
    for xv, yv, val in zip(rows[panel.x], rows[panel.y], rows[column]):
        z[yi[yv], xi[xv]] = val
    return z


def _hover(rows: pd.DataFrame, panel: Panel, label: str) -> np.ndarray:
    xi = {v: i for i, v in enumerate(panel.x_values)}
    yi = {v: j for j, v in enumerate(panel.y_values)}
    text = np.full((len(panel.y_values), len(panel.x_values)), "no samples", dtype=object)
    for r in rows.to_dict("records"):
        text[yi[r[panel.y]], xi[r[panel.x]]] = (
            f"<b>{label}</b> · {panel.view}<br>{dim_label(panel.x)} = {axis_label(r[panel.x])}, "
            f"{dim_label(panel.y)} = {axis_label(r[panel.y])}<br>"
            f"accuracy {r['center']:.3f} [95% CI {r['lower']:.3f} – {r['upper']:.3f}]<br>"
            f"n = {num(r['n'], 1)} · truncated {pct(r['truncation_rate'])} · invalid {pct(r['invalid_rate'])}"
            f"<br>tokens mean {num(r['tokens_mean'])}")
    return text


MARK_STYLE = {
    "safe": dict(symbol="star", size=13, color=palette.SAFE_ZONE_COLOR, line=dict(color="#1b4d2c", width=1.5)),
    "truncation": dict(symbol="diamond", size=10, color=palette.TRUNCATION_COLOR, line=dict(color="white", width=1.2)),
}


def _mark_trace(kind: str, sel: pd.DataFrame, panel: Panel, label: str, eval_id: str) -> go.Scatter:
    """Safe-zone stars (upper-left of a cell) or truncation diamonds (upper-right) on the marked cells."""
    dx = -0.3 if kind == "safe" else 0.3
    if kind == "safe":
        text = [f"lower CI {v:.3f} ≥ {SAFE_LOWER}" for v in sel["lower"]]
    else:
        text = [f"truncated {100 * v:.1f}% > {100 * TRUNCATION_MARK:.0f}%" for v in sel["truncation_rate"]]
    return go.Scatter(
        x=[panel.x_values.index(v) + dx for v in sel[panel.x]], y=[panel.y_values.index(v) + 0.3 for v in sel[panel.y]],
        mode="markers", marker=MARK_STYLE[kind], showlegend=False, legendgroup=kind,
        name=f"{'safe zone' if kind == 'safe' else 'truncation'} · {panel.view} · {label}",
        meta={"mark": kind, "view": panel.view, "eval_id": eval_id},
        customdata=np.stack([sel[panel.x].astype(object), sel[panel.y].astype(object)], axis=1) if len(sel) else None,
        text=text, hovertemplate="%{text}<extra></extra>")


def build(panels: Sequence[Panel], *, labels: Mapping[str, str], title: str, subtitle: str | None = None) -> go.Figure:
    """Grid of heatmaps of ``center`` on the fixed 0..1 red-yellow-green scale, with the two marks."""
    eval_ids = list(labels)
    n_rows, n_cols = len(panels), len(eval_ids)
    fig = make_subplots(rows=n_rows, cols=n_cols, column_titles=[short(labels[e], 46) for e in eval_ids],
                        row_titles=[short(p.view, 30) for p in panels],
                        horizontal_spacing=min(0.08, 0.5 / max(n_cols, 1)),
                        vertical_spacing=min(0.12, 0.6 / max(n_rows, 1)))
    for r, panel in enumerate(panels, start=1):
        cells = len(panel.x_values) * len(panel.y_values)
        for c, e in enumerate(eval_ids, start=1):
            rows = panel.rows[panel.rows["eval_id"] == e]
            z = _matrix(rows, panel, "center")
            heat = go.Heatmap(z=z, x=list(range(len(panel.x_values))), y=list(range(len(panel.y_values))),
                              coloraxis="coloraxis", text=_hover(rows, panel, labels[e]),
                              hovertemplate="%{text}<extra></extra>", xgap=1, ygap=1,
                              name=f"{panel.view} · {labels[e]}", meta={"view": panel.view, "eval_id": e})
            if cells <= MAX_CELL_TEXT and n_cols <= 4:
                heat.update(texttemplate="%{z:.2f}", textfont=dict(size=12))
            fig.add_trace(heat, row=r, col=c)
            safe, trunc = marks(rows)
            fig.add_trace(_mark_trace("safe", rows[safe], panel, labels[e], e), row=r, col=c)
            fig.add_trace(_mark_trace("truncation", rows[trunc], panel, labels[e], e), row=r, col=c)
            fig.update_xaxes(tickmode="array", tickvals=list(range(len(panel.x_values))),
                             ticktext=[axis_label(v) for v in panel.x_values], range=[-0.5, len(panel.x_values) - 0.5],
                             title=dict(text=dim_label(panel.x), standoff=4), showgrid=False, zeroline=False,
                             row=r, col=c)
            fig.update_yaxes(tickmode="array", tickvals=list(range(len(panel.y_values))),
                             ticktext=[axis_label(v) for v in panel.y_values], range=[-0.5, len(panel.y_values) - 0.5],
                             title=dict(text=dim_label(panel.y) if c == 1 else None, standoff=4), showgrid=False,
                             zeroline=False, row=r, col=c)
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=f"safe zone: lower CI ≥ {SAFE_LOWER}",
                             marker={**MARK_STYLE["safe"], "size": 14}, legendgroup="safe", hoverinfo="skip"),
                  row=1, col=1)
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=f"truncation > {TRUNCATION_MARK:.0%} of samples",
                             marker={**MARK_STYLE["truncation"], "size": 11}, legendgroup="truncation",
                             hoverinfo="skip"), row=1, col=1)
    fig.update_layout(coloraxis=dict(colorscale=palette.ACCURACY_COLORSCALE, cmin=palette.ACCURACY_RANGE[0],
                                     cmax=palette.ACCURACY_RANGE[1],
                                     colorbar=dict(title=dict(text="accuracy<br>(Wilson<br>center)"),
                                                   tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1.0], len=min(1.0, 0.9),
                                                   y=0.5, yanchor="middle", x=1.0, xanchor="left", xpad=40)),
                      legend=dict(orientation="h", x=0, xanchor="left", y=-0.02, yanchor="top",
                                  yref="container"))
    for ann in fig.layout.annotations:   # column titles (evals) and row titles (views) a notch smaller
        ann.update(font=dict(size=13))
    width = 190 + 380 * n_cols
    height = 200 + 330 * n_rows
    base_layout(fig, title=title, subtitle=subtitle, width=width, height=height, right=200, bottom=110)
    fig.update_layout(legend=dict(orientation="h", x=0, xanchor="left", y=0, yanchor="bottom", yref="container"),
                      meta={"projection": "surface"})
    return fig
