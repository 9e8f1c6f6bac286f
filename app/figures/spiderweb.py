"""Spiderweb: the cross-task fingerprint of one or more evals (radar or grouped bars).

Input is the engine's aggregate table grouped by (eval_id, <axis dim>); nothing
here reads a dataset. Accuracy and truncation share the 0..1 scale; token use
has its own scale in a companion row, so the two never compete for one axis.

Traces and layout are built as plain dicts from (eval × axis) arrays and made
into a figure once (:func:`~app.figures.common.assemble`): with 64 evals there
are ~260 traces, and per-eval pandas access or plotly validation per step would
cost most of a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from app.figures import palette
from app.figures.common import (
    assemble,
    axis_label,
    dim_label,
    legend_key,
    num,
    page_layout,
    pct,
    shown_names,
    subplot_domains,
    subplot_title,
)

STYLES = ("radar", "bars")
STATS = ("center", "lower", "upper", "accuracy", "n", "truncation_rate", "invalid_rate", "tokens_mean",
         "tokens_p50", "tokens_p95")


def hover_text(row: Mapping[str, Any], label: str, axis_name: str) -> str:
    """Everything a reader needs at one point: accuracy, CI, n, failure shares, tokens."""
    return (f"<b>{label}</b><br>{axis_name}: {row['axis']}<br>"
            f"accuracy (Wilson center) {row['center']:.3f}  [95% CI {row['lower']:.3f} – {row['upper']:.3f}]<br>"
            f"raw excess accuracy {row['accuracy']:.3f}, n = {num(row['n'], 1)} trials<br>"
            f"truncated {pct(row['truncation_rate'])} · invalid {pct(row['invalid_rate'])}<br>"
            f"tokens mean {num(row['tokens_mean'])} · p50 {num(row['tokens_p50'])} · p95 {num(row['tokens_p95'])}")


@dataclass(frozen=True)
class _Grid:
    """The aggregate as (eval × axis) arrays in drawing order; missing combinations are NaN."""

    eval_ids: list[str]
    theta: list[str]                  # axis category labels
    stat: dict[str, np.ndarray]       # statistic → float array (evals × axes)
    custom: np.ndarray                # (evals × axes × 2) object: [eval_id, axis value] for drill-down
    hover: np.ndarray                 # (evals × axes) object: hover text


def _closed(a: np.ndarray) -> np.ndarray:
    """A row with its first element repeated at the end: a closed polygon."""
    return np.concatenate([a, a[:1]])


def grid(rows: pd.DataFrame, group_by: str, axes: Sequence[Any], eval_ids: Sequence[str],
          labels: Mapping[str, str], axis_name: str) -> _Grid:
    """Reindex ``rows`` to every (eval, axis) pair once, then slice arrays per eval."""
    n_e, n_a = len(eval_ids), len(axes)
    full = pd.MultiIndex.from_product([list(eval_ids), list(range(n_a))], names=["eval_id", "_pos"])
    pos = {v: i for i, v in enumerate(axes)}
    df = rows.assign(_pos=rows[group_by].map(pos)).set_index(["eval_id", "_pos"]).reindex(full)
    stat = {c: df[c].to_numpy(dtype=float).reshape(n_e, n_a) for c in STATS}
    theta = [axis_label(a) for a in axes]
    values = np.empty(n_a, dtype=object)
    values[:] = list(axes)
    custom = np.empty((n_e, n_a, 2), dtype=object)
    custom[:, :, 0] = np.asarray(eval_ids, dtype=object)[:, None]
    custom[:, :, 1] = values[None, :]
    records = [dict(zip(STATS, values)) for values in zip(*(stat[c].ravel().tolist() for c in STATS))]
    hover = np.array([hover_text({**r, "axis": theta[i % n_a]}, labels[eval_ids[i // n_a]], axis_name)
                      for i, r in enumerate(records)], dtype=object).reshape(n_e, n_a)
    return _Grid(list(eval_ids), theta, stat, custom, hover)


def build(rows: pd.DataFrame, *, group_by: str, labels: Mapping[str, str], title: str,
          subtitle: str | None = None, style: str = "radar", verdicts: Mapping[str, Any] | None = None,
          axes: Sequence[Any] | None = None) -> go.Figure:
    """Figure for ``rows`` (engine aggregate by eval_id and ``group_by``).

    ``labels``: eval_id → label, in legend order. ``verdicts``: eval_id → archetype
    Verdict, named in the legend (the reason is the finding's sentence in the notes, not repeated here).
    """
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}, not {style!r}")
    labels = shown_names(labels)
    present = set(rows["eval_id"])
    eval_ids = [e for e in labels if e in present]
    axes = list(axes) if axes is not None else list(dict.fromkeys(rows[group_by]))
    axis_name = dim_label(group_by)
    g = grid(rows, group_by, axes, eval_ids, labels, axis_name)
    colors = palette.series_colors(eval_ids)
    verdicts = verdicts or {}
    names = {e: labels[e] + (f" — {verdicts[e].archetype}" if e in verdicts else "") for e in eval_ids}

    if style == "radar":
        traces, layout = _radar(g, colors, names, labels, axis_name), _radar_layout(len(axes))
    else:
        traces, layout = _bars(g, colors, names, labels, axis_name), _bars_layout()
    token_row = 2 if style == "radar" else 3
    traces += [(token_row, dict(
        type="bar", x=g.theta, y=g.stat["tokens_mean"][k], name=names[e], legendgroup=e, showlegend=False,
        offsetgroup=e, marker=dict(color=palette.rgba(colors[e], 0.55), line=dict(color=colors[e], width=1)),
        customdata=g.custom[k], text=g.hover[k], hovertemplate="%{text}<extra></extra>", textposition="none"))
        for k, e in enumerate(eval_ids)]
    traces += _radar_keys() if style == "radar" else _bars_keys()
    xa, ya = _axes(style, token_row)
    layout[xa].update(type="category", categoryorder="array", categoryarray=g.theta,
                      tickangle=-30 if len(axes) > 6 else 0, automargin=True)
    layout[ya].update(title=dict(text="mean tokens"), rangemode="tozero", tickformat="~s")
    # the archetype is named in the legend; its reason is the finding's sentence, said once in the notes
    layout.update(page_layout(title=title, subtitle=subtitle, width=1400, height=1050,
                              legend_title="evals (click to hide)", bottom=110, right=40),
                  barmode="group", bargap=0.25, meta={"projection": "spiderweb", "style": style, "group_by": group_by})
    return assemble([{**t, **_placed(style, row)} for row, t in traces], layout)


def _axes(style: str, row: int) -> tuple[str, str]:
    """Layout keys of the x and y axis of a row's xy subplot (the radar's polar row has none)."""
    number = row - 1 if style == "radar" else row
    suffix = "" if number == 1 else str(number)
    return f"xaxis{suffix}", f"yaxis{suffix}"


def _placed(style: str, row: int) -> dict[str, str]:
    """The subplot reference of a trace in ``row``: the polar for the radar's first row, else the row's axes."""
    if style == "radar" and row == 1:
        return {"subplot": "polar"}
    xa, ya = _axes(style, row)
    return {"xaxis": "x" + xa[5:], "yaxis": "y" + ya[5:]}


def _radar(g: _Grid, colors: Mapping[str, str], names: Mapping[str, str], labels: Mapping[str, str],
           axis_name: str) -> list[tuple[int, dict[str, Any]]]:
    """Per eval: the CI band, purple truncation wedges and the polygon with a marker on every axis."""
    slot = 1.0  # a category angular axis measures bar width and offset in category slots
    width = slot * 0.7 / max(len(g.eval_ids), 1)
    theta = g.theta
    closed = theta + theta[:1]
    band_theta = closed + theta[:1] + theta[::-1]
    traces: list[tuple[int, dict[str, Any]]] = []
    for k, e in enumerate(g.eval_ids):
        upper, lower = g.stat["upper"][k], g.stat["lower"][k]
        traces.append((1, dict(
            type="scatterpolar", r=np.concatenate([upper, upper[:1], lower[:1], lower[::-1]]), theta=band_theta,
            mode="lines", line=dict(width=0, color=colors[e]), fill="toself",
            fillcolor=palette.rgba(colors[e], 0.18), name=f"{labels[e]} 95% CI", legendgroup=e,
            showlegend=False, hoverinfo="skip")))
        traces.append((1, dict(
            type="barpolar", r=g.stat["truncation_rate"][k], theta=theta, width=width,
            offset=-slot * 0.35 + k * width, name=f"{labels[e]} truncation", legendgroup=e, showlegend=False,
            marker=dict(color=palette.TRUNCATION_COLOR, line=dict(color=colors[e], width=1.5), opacity=0.85),
            customdata=g.custom[k],
            hovertemplate=f"<b>{labels[e]}</b><br>{axis_name}: %{{theta}}<br>truncated %{{r:.1%}}<extra></extra>")))
        traces.append((1, dict(
            type="scatterpolar", r=_closed(g.stat["center"][k]), theta=closed, mode="lines+markers", name=names[e],
            legendgroup=e, line=dict(color=colors[e], width=2.5),
            marker=dict(size=10, color=colors[e], line=dict(color="white", width=1.5)),
            customdata=_closed(g.custom[k]), text=_closed(g.hover[k]), hovertemplate="%{text}<extra></extra>")))
    return traces


def _radar_keys() -> list[tuple[int, dict[str, Any]]]:
    """Legend entries for the marks that have no series of their own."""
    return [
        (1, legend_key("shaded band: 95% Wilson CI", kind="marker", symbol="square", color="rgba(120,120,120,0.3)",
                       polar=True, legendgroup="_key")),
        (1, legend_key("purple wedge: truncation rate (same 0–1 scale)", kind="marker", symbol="square",
                       color=palette.TRUNCATION_COLOR, polar=True, legendgroup="_key")),
        (2, dict(type="scatter", x=[None], y=[None], mode="markers", name="bars below: mean tokens (own scale)",
                 marker=dict(symbol="square", size=11, color="rgba(120,120,120,0.55)"), legendgroup="_key",
                 hoverinfo="skip")),
    ]


def _radar_layout(n_axes: int) -> dict[str, Any]:
    """The radar on top (72% of the height), the token bars beneath it, and the polar axes."""
    cells = subplot_domains(2, 1, row_heights=[0.72, 0.28], vertical_spacing=0.1)
    (_, polar_y), (x, y) = cells.cell(1, 1), cells.cell(2, 1)
    return dict(
        polar=dict(
            domain=dict(x=[0.08, 0.72], y=polar_y),
            radialaxis=dict(range=[0, 1], tickvals=[0.2, 0.4, 0.6, 0.8, 1.0], tickformat=".1f",
                            angle=90 - 180.0 / max(n_axes, 1), tickangle=0, gridcolor=palette.GRID,
                            tickfont=dict(size=12, color="#555555")),
            angularaxis=dict(type="category", direction="clockwise", rotation=90, gridcolor=palette.GRID,
                             tickfont=dict(size=14))),
        xaxis=dict(anchor="y", domain=x),
        yaxis=dict(anchor="x", domain=y),
    )


def _bars(g: _Grid, colors: Mapping[str, str], names: Mapping[str, str], labels: Mapping[str, str],
          axis_name: str) -> list[tuple[int, dict[str, Any]]]:
    """Per eval: accuracy bars with the Wilson interval as error bars, and truncation bars beneath."""
    traces: list[tuple[int, dict[str, Any]]] = []
    for k, e in enumerate(g.eval_ids):
        center, lower, upper = g.stat["center"][k], g.stat["lower"][k], g.stat["upper"][k]
        traces.append((1, dict(
            type="bar", x=g.theta, y=center, name=names[e], legendgroup=e, offsetgroup=e,
            marker=dict(color=colors[e]),
            error_y=dict(type="data", symmetric=False, array=upper - center, arrayminus=center - lower,
                         color="#333333", thickness=1.5, width=4),
            customdata=g.custom[k], text=g.hover[k], hovertemplate="%{text}<extra></extra>", textposition="none")))
        traces.append((2, dict(
            type="bar", x=g.theta, y=g.stat["truncation_rate"][k], name=f"{labels[e]} truncation", legendgroup=e,
            offsetgroup=e, showlegend=False,
            marker=dict(color=palette.TRUNCATION_COLOR, line=dict(color=colors[e], width=2)),
            customdata=g.custom[k],
            hovertemplate=f"<b>{labels[e]}</b><br>{axis_name}: %{{x}}<br>truncated %{{y:.1%}}<extra></extra>")))
    return traces


def _bars_keys() -> list[tuple[int, dict[str, Any]]]:
    """Legend entries for the error bars and the truncation row."""
    return [
        (1, dict(type="scatter", x=[None], y=[None], mode="markers", name="error bar: 95% Wilson CI",
                 marker=dict(symbol="line-ns-open", size=14, color="#333333", line=dict(width=2)),
                 legendgroup="_key", hoverinfo="skip")),
        (2, dict(type="scatter", x=[None], y=[None], mode="markers",
                 name="purple bar (outlined in eval colour): truncation rate",
                 marker=dict(symbol="square", size=11, color=palette.TRUNCATION_COLOR), legendgroup="_key",
                 hoverinfo="skip")),
    ]


def _bars_layout() -> dict[str, Any]:
    """Three rows sharing the category x axis (ticks on the bottom one): accuracy, truncation, tokens."""
    cells = subplot_domains(3, 1, row_heights=[0.5, 0.22, 0.28], vertical_spacing=0.06)
    titles = ("accuracy (Wilson center, error bars = 95% CI)", "truncation rate (purple)", "mean completion tokens")
    layout: dict[str, Any] = {"annotations": [subplot_title(t, *cells.cell(r, 1)) for r, t in enumerate(titles, 1)]}
    for r in (1, 2, 3):
        x, y = cells.cell(r, 1)
        xa, ya = _axes("bars", r)
        layout[xa] = dict(anchor="y" + ya[5:], domain=x, type="category")
        layout[ya] = dict(anchor="x" + xa[5:], domain=y)
        if r < 3:
            layout[xa].update(matches="x3", showticklabels=False)
    layout["yaxis"].update(range=[0, 1.02], title=dict(text="accuracy"), tickformat=".1f")
    layout["yaxis2"].update(rangemode="tozero", title=dict(text="truncated"), tickformat=".0%")
    return layout
