"""Compression: one dot per completion, tokens (x) against compressed bytes (y).

Colour is always the outcome (the shared palette); the optional group-by value
is the marker symbol; facets are subplot rows sharing both axes so populations
can be compared between rows by eye. Points arrive already down-sampled: the
caller says how many there were in all, and the figure says so.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.engine.schema import OUTCOMES
from app.figures import palette
from app.figures.common import axis_label, base_layout, dim_label, legend_key, short

MAX_SYMBOLS = len(palette.SYMBOLS)
MAX_TRACES = 240   # beyond this many (facet, outcome, group) traces, groups become per-point symbols


def build(points: pd.DataFrame, *, facet: str | None, group: str | None, title: str, subtitle: str | None = None,
          facets: Sequence[Any] | None = None, facet_titles: Mapping[Any, str] | None = None,
          groups: Sequence[Any] | None = None, total: int | None = None,
          budgets: Mapping[Any, int | None] | None = None) -> go.Figure:
    """Scatter of ``points`` (columns outcome, completion_tokens, compressed_bytes, [facet], [group]).

    ``total``: how many completions the points were drawn from (for the
    down-sampling notice). ``budgets``: facet value → max_tokens, drawn as a line.
    """
    facets = list(facets) if facets is not None else (list(dict.fromkeys(points[facet])) if facet else [None])
    groups = list(groups) if groups is not None else (list(dict.fromkeys(points[group])) if group else [None])
    facet_titles = facet_titles or {}
    symbols = {g: palette.symbol(i) for i, g in enumerate(groups)}
    per_group = len(facets) * len(OUTCOMES) * len(groups) <= MAX_TRACES
    n = len(facets)
    fig = make_subplots(rows=n, cols=1, shared_xaxes=True, vertical_spacing=min(0.08, 0.5 / max(n, 1)),
                        subplot_titles=[facet_titles.get(f, f"{dim_label(facet)} = {axis_label(f)}" if facet else "")
                                        for f in facets])
    traces, trace_rows, shapes, notes = [], [], [], []
    for r, f in enumerate(facets, start=1):
        part = points if facet is None else points[points[facet] == f]
        counts = part["outcome"].value_counts()
        for o in sorted(OUTCOMES, key=lambda o: -counts.get(o, 0)):   # rarest outcome drawn last, on top
            po = part[part["outcome"] == o]
            # One trace per group keeps hover and meta exact; past a few hundred traces the JSON grows too
            # big, so the group moves into a per-point symbol array and the hover text.
            for g in (groups if per_group else [None]):
                pg = po if group is None or not per_group else po[po[group] == g]
                if pg.empty:
                    continue
                where = [axis_label(f) if facet else None, axis_label(g) if group and per_group else None]
                if group is not None and not per_group:
                    symbol = [symbols[v] for v in pg[group]]
                    text = [axis_label(v) for v in pg[group]]
                    group_hover = f"<br>{dim_label(group)}: %{{text}}"
                else:
                    symbol, text = symbols[g], None
                    group_hover = f"<br>{dim_label(group)}: {axis_label(g)}" if group else ""
                traces.append(go.Scatter(
                    x=pg["completion_tokens"].to_numpy(dtype=np.int64),
                    y=pg["compressed_bytes"].to_numpy(dtype=np.int64),
                    mode="markers", name=" · ".join([o] + [w for w in where if w]), legendgroup=o, showlegend=False,
                    marker=dict(color=palette.OUTCOME_COLORS[o], symbol=symbol, size=6, opacity=0.6,
                                line=dict(width=0)),
                    text=text, meta={"outcome": o, "facet": f, "group": g},
                    hovertemplate=(f"<b>{o}</b>" + (f"<br>{dim_label(facet)}: {axis_label(f)}" if facet else "")
                                   + group_hover + "<br>tokens %{x:,}<br>compressed %{y:,} bytes<extra></extra>")))
                trace_rows.append(r)
        budget = (budgets or {}).get(f)
        if budget:   # shapes in one layout update: add_vline per facet is slow with many rows
            axis = "" if r == 1 else str(r)
            shapes.append(dict(type="line", xref=f"x{axis}", yref=f"y{axis} domain", x0=budget, x1=budget, y0=0,
                               y1=1, line=dict(color="#444444", dash="dash", width=1.5), layer="below"))
            notes.append(dict(xref=f"x{axis}", yref=f"y{axis} domain", x=budget, y=1, xanchor="right",
                              yanchor="top", text=f"budget {budget:,} ", showarrow=False, font=dict(size=12)))
    if traces:
        fig.add_traces(traces, rows=trace_rows, cols=[1] * len(traces))
    fig.update_layout(shapes=shapes, annotations=list(fig.layout.annotations) + notes)
    fig.update_yaxes(title_text="compressed bytes", tickformat="~s", rangemode="tozero")
    fig.update_xaxes(tickformat="~s", rangemode="tozero", showticklabels=True)
    fig.update_xaxes(title_text="completion tokens", row=n, col=1)
    if n > 1:
        fig.update_yaxes(matches="y")
    for o in OUTCOMES:
        fig.add_trace(legend_key(o, kind="marker", color=palette.OUTCOME_COLORS[o], legendgroup=o), row=1, col=1)
    if group is not None:
        for g in groups:
            fig.add_trace(legend_key(f"{dim_label(group)} = {axis_label(g)}", kind="marker", color="#888888",
                                     symbol=symbols[g], legendgroup=f"symbol:{g}"), row=1, col=1)
    if budgets and any(budgets.get(f) for f in facets):
        fig.add_trace(legend_key("dashed line: token budget (max_tokens)", kind="line", color="#444444",
                                 dash="dash", legendgroup="budget"), row=1, col=1)
    shown = len(points)
    if total is not None and total > shown:
        note = (f"Showing a random {shown:,} of {total:,} completions (drawing only); "
                "the table's numbers use all of them.")
        fig.add_annotation(text=note, xref="paper", yref="paper", x=0, y=1, yshift=26, xanchor="left",
                           yanchor="bottom", showarrow=False, font=dict(size=13, color="#7a4400"),
                           bgcolor="#fff4e0")
    base_layout(fig, title=title, subtitle=subtitle, width=1400, height=190 + 300 * n,
                legend_title="colour = outcome" + (", symbol = " + dim_label(group) if group else ""),
                top=140)
    fig.update_layout(meta={"projection": "compression", "shown": shown, "total": total if total else shown})
    return fig


def facet_title(label: str, summary: Mapping[str, Any]) -> str:
    """Subplot title with the facet's numbers from all samples."""
    return (f"{short(label, 50)} — {int(summary['samples']):,} completions, correct {summary['correct_share']:.0%}, "
            f"truncated {summary['truncation_rate']:.0%}, median {summary['bytes_per_token_p50']:.2f} bytes/token")
