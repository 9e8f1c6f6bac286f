"""Compression: one dot per completion, tokens (x) against compressed bytes (y).

Colour is always the outcome (the shared palette); the optional group-by value
is the marker symbol; facets are subplot rows sharing both axes so populations
can be compared between rows by eye. Points arrive already down-sampled: the
caller says how many there were in all, and the figure says so.

At most ``app.bounds.MAX_FACETS`` rows are drawn (64 rows of 300 px is a 19,000 px page); the
caller passes the rest as ``left_out`` and the figure names them and says how to
pick others.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from app.engine.schema import OUTCOMES
from app.figures import palette
from app.figures.common import (
    assemble,
    axis_label,
    dim_label,
    legend_key,
    page_layout,
    short,
    subplot_axes,
    subplot_grid,
    token_axis,
    tokens_title,
)

MAX_SYMBOLS = len(palette.SYMBOLS)
MAX_TRACES = 240   # beyond this many (facet, outcome, group) traces, groups become per-point symbols
ROW_HEIGHT = 300
MARK_COLORS = {"underthink": "#6a3d9a", "overthink": "#b15928", "broken_loops": "#8c1d40"}   # reading marks
# Dots are SVG. WebGL ("scattergl", which draws every palette symbol) was measured slower at drawing
# 20,000 dots in the headless Chromium of spec §9, which renders WebGL in software (SwiftShader): 3.4-7.9 s
# against 1.2-1.5 s for 16 rows, 0.9-1.8 s against 0.8 s for 3. With a GPU WebGL wins; switch here if the
# dashboard is ever measured on one.
DOT_TRACE = "scatter"


def _dot_traces(points: pd.DataFrame, facet: str | None, f: Any, group: str | None, groups: Sequence[Any],
                symbols: Mapping[Any, str], per_group: bool) -> list[dict[str, Any]]:
    """Dot traces of one facet: one per (outcome, group), or per outcome with per-point symbols.

    Columns are read into arrays once and each trace takes its rows by position: a pandas
    selection per (outcome, group) was most of the figure's time (16 facets × 4 outcomes × 12 groups).
    """
    counts = points["outcome"].value_counts()
    outcome = points["outcome"].to_numpy(dtype=object)
    tokens = points["completion_tokens"].to_numpy(dtype=np.int64)
    size = points["compressed_bytes"].to_numpy(dtype=np.int64)
    values = points[group].to_numpy(dtype=object) if group else None
    rows = points["row"].astype("int64").to_numpy() if "row" in points.columns else None
    traces = []
    for o in sorted(OUTCOMES, key=lambda o: -counts.get(o, 0)):   # rarest outcome drawn last, on top
        in_outcome = np.flatnonzero(outcome == o)
        # One trace per group keeps hover and meta exact; past a few hundred traces the JSON grows too
        # big, so the group moves into a per-point symbol array and the hover text.
        for g in (groups if per_group else [None]):
            sel = in_outcome if values is None or not per_group else in_outcome[values[in_outcome] == g]
            if not len(sel):
                continue
            where = [axis_label(f) if facet else None, axis_label(g) if group and per_group else None]
            if values is not None and not per_group:
                symbol: str | list[str] = [symbols[v] for v in values[sel]]
                text: list[str] | None = [axis_label(v) for v in values[sel]]
                group_hover = f"<br>{dim_label(group or '')}: %{{text}}"
            else:
                symbol, text = symbols[g], None
                group_hover = f"<br>{dim_label(group)}: {axis_label(g)}" if group else ""
            traces.append(dict(
                type=DOT_TRACE, x=tokens[sel], y=size[sel], mode="markers",
                name=" · ".join([o] + [w for w in where if w]), legendgroup=o, showlegend=False,
                marker=dict(color=palette.OUTCOME_COLORS[o], symbol=symbol, size=6, opacity=0.6, line=dict(width=0)),
                text=text, meta={"outcome": o, "facet": f, "group": g},
                # a plain list: Dash's click data reads customdata from the trace as sent, and a typed array
                # (what plotly makes of a numpy array) arrives as {dtype, bdata}, not per point
                customdata=rows[sel].tolist() if rows is not None else None,
                hovertemplate=(f"<b>{o}</b>" + (f"<br>{dim_label(facet)}: {axis_label(f)}" if facet else "")
                               + group_hover + "<br>tokens %{x:,}<br>compressed %{y:,} bytes<extra></extra>")))
    return traces


def _budget_marks(budget: int, xa: str, ya: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Dashed line at a facet's token budget, and its label."""
    line = dict(type="line", xref=xa, yref=f"{ya} domain", x0=budget, x1=budget, y0=0, y1=1,
                line=dict(color="#444444", dash="dash", width=1.5), layer="below")
    label = dict(xref=xa, yref=f"{ya} domain", x=budget, y=1, xanchor="right", yanchor="top",
                 text=f"budget {budget:,} ", showarrow=False, font=dict(size=12))
    return line, label


def _budget_beyond(budget: int, xa: str, ya: str) -> dict[str, Any]:
    """A budget far past every dot: a label at the facet's right edge, so the axis keeps fitting the data."""
    return dict(xref=f"{xa} domain", yref=f"{ya} domain", x=1, y=1, xanchor="right", yanchor="top",
                text=f"budget {budget:,} →", showarrow=False, font=dict(size=12, color="#444444"),
                bgcolor="rgba(255,255,255,0.85)")


def _finding_marks(marks: Sequence[Mapping[str, Any]], xa: str, ya: str) -> tuple[list[dict[str, Any]],
                                                                                   list[dict[str, Any]]]:
    """A facet's reading marks (shapes, labels): a dotted box where ``y0``/``y1`` are given (a loop
    cluster), else a shaded token band across the facet (where the failures sit against the correct answers).
    """
    shapes, labels = [], []
    for i, m in enumerate(marks):
        color = MARK_COLORS.get(str(m["kind"]), "#444444")
        boxed = m.get("y0") is not None and m.get("y1") is not None
        shapes.append(dict(type="rect", xref=xa, yref=ya if boxed else f"{ya} domain", x0=m["x0"], x1=m["x1"],
                           y0=m["y0"] if boxed else 0, y1=m["y1"] if boxed else 1, layer="below",
                           line=dict(color=color, width=2, dash="dot"), fillcolor=color, opacity=0.12))
        place = (dict(yref=ya, y=m["y1"], yanchor="bottom") if boxed else   # above its box, or atop its band
                 dict(yref=f"{ya} domain", y=0.98 - 0.1 * i, yanchor="top"))
        labels.append(dict(xref=xa, x=m["x0"], xanchor="left", text=f"<b>{m['text']}</b>", showarrow=False,
                           font=dict(size=12, color=color), bgcolor="rgba(255,255,255,0.8)", **place))
    return shapes, labels


def _notice(text: str, yshift: int) -> dict[str, Any]:
    """An amber line above the first row: what the figure does not show."""
    return dict(text=text, xref="paper", yref="paper", x=0, y=1, yshift=yshift, xanchor="left", yanchor="bottom",
                showarrow=False, font=dict(size=13, color="#7a4400"), bgcolor="#fff4e0")


def left_out_text(facet: str, left_out: Sequence[str], shown: int) -> tuple[str, str]:
    """Which facet rows are not drawn, and how to choose others (the figure and the notes say the same)."""
    names = ", ".join(short(str(v), 32) for v in left_out[:3]) + (
        f" and {len(left_out) - 3} more" if len(left_out) > 3 else "")
    how = "pick evals with the eval_id filter" if facet == "eval_id" else f"filter on {facet}"
    return (f"Drawing the first {shown} of {shown + len(left_out)} {dim_label(facet)} rows; not drawn: {names}.",
            f"To see others, {how} or facet by another dimension; the table has every row.")


def build(points: pd.DataFrame, *, facet: str | None, group: str | None, title: str, subtitle: str | None = None,
          facets: Sequence[Any] | None = None, facet_titles: Mapping[Any, str] | None = None,
          groups: Sequence[Any] | None = None, total: int | None = None,
          budgets: Mapping[Any, int | None] | None = None, left_out: Sequence[str] = (),
          tokens_estimated: bool = False, marks: Mapping[Any, Sequence[Mapping[str, Any]]] | None = None,
          ) -> go.Figure:
    """Scatter of ``points`` (columns outcome, completion_tokens, compressed_bytes, [facet], [group], [row]).

    ``row``, when present, is each dot's customdata: the sample's row key, which the
    dashboard's click turns into that completion on the probe page.

    ``total``: how many completions the points were drawn from (for the
    down-sampling notice). ``budgets``: facet value → max_tokens, drawn as a line where the
    x axis reaches it and as a label at the right edge when it lies far past every dot
    (:func:`~app.figures.common.token_axis`). ``left_out``: names of facets the caller chose not
    to draw (see ``app.bounds.MAX_FACETS``). ``tokens_estimated``: the axis title says so.
    ``marks``: facet value → the findings' marks for it (:func:`app.findings.compression.marks`:
    kind, text, x0, x1 and, for a box, y0, y1); the rules are the findings', this only draws.
    """
    facets = list(facets) if facets is not None else (list(dict.fromkeys(points[facet])) if facet else [None])
    groups = list(groups) if groups is not None else (list(dict.fromkeys(points[group])) if group else [None])
    facet_titles = facet_titles or {}
    symbols = {g: palette.symbol(i) for i, g in enumerate(groups)}
    per_group = len(facets) * len(OUTCOMES) * len(groups) <= MAX_TRACES
    n = len(facets)
    layout = subplot_grid(n, 1, shared_xaxes=True, vertical_spacing=min(0.08, 0.5 / max(n, 1)),
                          subplot_titles=[facet_titles.get(f, f"{dim_label(facet)} = {axis_label(f)}" if facet else "")
                                          for f in facets])
    by_facet = {f: part for f, part in points.groupby(facet, sort=False, observed=True)} if facet else {None: points}
    traces: list[dict[str, Any]] = []
    shapes: list[dict[str, Any]] = []
    facet_budgets = {f: (budgets or {}).get(f) for f in facets}
    axis = token_axis(float(points["completion_tokens"].max()) if len(points) else None, facet_budgets.values())
    for r, f in enumerate(facets, start=1):
        xa, ya = subplot_axes(r, 1, 1)
        part = by_facet.get(f, points.iloc[0:0])
        dots = _dot_traces(part, facet, f, group, groups, symbols, per_group)
        traces += [{**t, "xaxis": xa, "yaxis": ya} for t in dots]
        # Autorange fits the dots and the in-reach budget lines (a far budget is no shape, so it cannot
        # stretch the axis). An explicit range would do the same, but plotly.js then drops every dot
        # when both the x and the y axes of the rows are matched (plotly 6/7, seen in kaleido).
        layout["xaxis" + xa[1:]].update(tickformat="~s", rangemode="tozero", showticklabels=True)
        layout["yaxis" + ya[1:]].update(title=dict(text="compressed bytes"), tickformat="~s", rangemode="tozero",
                                        **({"matches": "y"} if n > 1 and r > 1 else {}))
        budget = facet_budgets[f]
        if budget and int(budget) in axis.inside:
            line, label = _budget_marks(int(budget), xa, ya)
            shapes.append(line)
            layout["annotations"].append(label)
        elif budget:
            layout["annotations"].append(_budget_beyond(int(budget), xa, ya))
        boxes, names = _finding_marks((marks or {}).get(f, ()), xa, ya)
        shapes += boxes
        layout["annotations"] += names
    layout["xaxis" + subplot_axes(n, 1, 1)[0][1:]]["title"] = dict(
        text=tokens_title("completion tokens", tokens_estimated))
    layout["shapes"] = shapes
    traces += [legend_key(o, kind="marker", color=palette.OUTCOME_COLORS[o], legendgroup=o) for o in OUTCOMES]
    if group is not None:
        traces += [legend_key(f"{dim_label(group)} = {axis_label(g)}", kind="marker", color="#888888",
                              symbol=symbols[g], legendgroup=f"symbol:{g}") for g in groups]
    if any(int(b) in axis.inside for b in facet_budgets.values() if b):
        traces.append(legend_key("dashed line: token budget (max_tokens)", kind="line", color="#444444",
                                 dash="dash", legendgroup="budget"))
    shown = len(points)
    notices = []
    if total is not None and total > shown:
        notices.append(f"Showing a random {shown:,} of {total:,} completions (drawing only); "
                       "the table's numbers use all of them.")
    if left_out and facet:
        notices += left_out_text(facet, left_out, n)
    layout["annotations"] += [_notice(text, 26 + 24 * (len(notices) - 1 - i)) for i, text in enumerate(notices)]
    extra = 24 * max(len(notices) - 1, 0)   # each notice line after the first pushes the plot down
    layout.update(page_layout(title=title, subtitle=subtitle, width=1400, height=190 + ROW_HEIGHT * n + extra,
                              legend_title="colour = outcome" + (", symbol = " + dim_label(group) if group else ""),
                              top=140 + extra),
                  meta={"projection": "compression", "shown": shown, "total": total if total else shown,
                        "left_out": list(left_out)})
    return assemble(traces, layout)


def facet_title(label: str, summary: Mapping[str, Any]) -> str:
    """Subplot title with the facet's numbers from all samples."""
    dots = f" ({int(summary['dots']):,} dots)" if summary.get("dots") is not None else ""
    return (f"{short(label, 50)} — {int(summary['samples']):,} completions{dots}, "
            f"correct {summary['correct_share']:.0%}, "
            f"truncated {summary['truncation_rate']:.0%}, median {summary['bytes_per_token_p50']:.2f} bytes/token")
