"""Hazard: when, in tokens, answers, failures and truncations happen.

Top row: cumulative incidence per competing event (one panel per event, titled
in that outcome's colour), one line per series. Bottom row: the failure hazard
per bin (incorrect + invalid among the samples still running), where a context
wall shows as a spike at a fixed token count (found and labelled by
:mod:`app.findings.hazard`). Budgets (max_tokens) are dashed
lines with a marker per eval, so a truncation pile-up is not mistaken for a wall.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from app.bounds import BUCKET_SIZE_DEFAULT, MAX_NAME_CHARS
from app.figures import palette
from app.figures.common import (
    BOTTOM_LEGEND,
    assemble,
    legend_key,
    merged,
    page_layout,
    short,
    shown_names,
    subplot_domains,
    subplot_title,
    token_axis,
    tokens_title,
)
from app.findings import hazard as findings_hazard

MIN_AT_RISK = findings_hazard.MIN_AT_RISK   # bins with fewer samples still running are not drawn (nor read)
MAX_WALL_LABELS = 3   # walls labelled on one figure, highest hazard first
EVENT_TITLES = {"correct": "correct answers", "incorrect": "incorrect answers (invalid included)",
                "invalid": "invalid answers", "truncated": "truncations"}


def events_of(table: pd.DataFrame) -> list[str]:
    """The competing events a hazard table holds (read from its ``cif_*`` columns)."""
    return [c[len("cif_"):] for c in table.columns if c.startswith("cif_")]


def drawn_hazard(part: pd.DataFrame) -> np.ndarray:
    """Failure hazard as drawn: NaN where too few samples are at risk."""
    return np.where(part["at_risk"].to_numpy() >= MIN_AT_RISK, part["hazard_failure"].to_numpy(dtype=float), np.nan)


def build(table: pd.DataFrame, *, series: str | None, labels: Mapping[Any, str], title: str,
          subtitle: str | None = None, budgets: Mapping[str, int | None] | None = None,
          budget_colors: Mapping[str, str] | None = None, bucket_size: int = BUCKET_SIZE_DEFAULT,
          tokens_estimated: bool = False, walls: Sequence[Mapping[str, Any]] = ()) -> go.Figure:
    """Figure for one engine hazard table. ``labels``: series value → legend name, in order.

    ``budgets``: eval label → max_tokens; ``budget_colors``: eval label → colour
    of its budget marker (the series colour when series are evals). The x axes end just past
    the last bin; a budget far beyond it is a labelled marker at the right edge
    (:func:`~app.figures.common.token_axis`). ``tokens_estimated``: the axis titles say so.
    ``walls``: the context walls the findings found (:func:`app.findings.hazard.wall_marks`:
    series, bin_start, bin_end, hazard, before), each labelled at its bin; the rule is theirs.
    """
    labels = shown_names(labels)   # budgets and their colours are keyed by label: cut the same way
    budgets = {short(str(k), MAX_NAME_CHARS): v for k, v in (budgets or {}).items()}
    budget_colors = {short(str(k), MAX_NAME_CHARS): v for k, v in (budget_colors or {}).items()}
    events = events_of(table)
    keys = list(labels)
    colors = palette.series_colors(keys)
    n_ev = len(events)
    layout = _grid(events, bucket_size)
    # Traces, lines and labels are collected as plain dicts and the figure is made once at the end:
    # per-call plotly overhead times 64 evals × 5 traces is most of a second.
    traces: list[tuple[int, int, dict[str, Any]]] = []
    parts = {None: table} if series is None else {k: g for k, g in table.groupby(series, sort=False, observed=True)}
    x_max = 0
    y_max = 0.0
    for key in keys:
        part = parts.get(key, table.iloc[0:0])
        if part.empty:
            continue
        name = labels[key]
        x_max = max(x_max, int(part["bin_end"].max()))
        hover_common = part["at_risk"].to_numpy()
        for c, e in enumerate(events, start=1):
            traces.append((1, c, dict(
                type="scatter", x=np.concatenate([[0], part["bin_end"].to_numpy()]),
                y=np.concatenate([[0.0], part[f"cif_{e}"].to_numpy(dtype=float)]),
                mode="lines", name=name, legendgroup=str(key), showlegend=False,
                line=dict(color=colors[key], width=2.5),
                meta={"series": key, "event": e, "kind": "cif"},
                hovertemplate=f"<b>{name}</b><br>{EVENT_TITLES[e]} before %{{x:,}} tokens: %{{y:.1%}}<extra></extra>")))
        h = drawn_hazard(part)
        if np.isfinite(h).any():
            y_max = max(y_max, float(np.nanmax(h)))
        last = part.iloc[-1:]   # repeat the last bin at its end so the final step has a width
        h = np.concatenate([h, h[-1:]])
        traces.append((2, 1, dict(
            type="scatter", x=np.concatenate([part["bin_start"].to_numpy(), last["bin_end"].to_numpy()]), y=h,
            mode="lines+markers", line=dict(color=colors[key], width=2.5, shape="hv"),
            marker=dict(size=5), name=name, legendgroup=str(key), meta={"series": key, "kind": "hazard"},
            customdata=np.concatenate([np.stack([part["bin_end"], hover_common, part["hazard_truncated"]], axis=1),
                                       np.stack([last["bin_end"], last["at_risk"], last["hazard_truncated"]], axis=1)]),
            hovertemplate=(f"<b>{name}</b><br>tokens %{{x:,}} – %{{customdata[0]:,}}<br>failure hazard %{{y:.3f}}"
                           "<br>at risk %{customdata[1]:,}<br>truncation hazard %{customdata[2]:.3f}<extra></extra>"))))
    budgets_drawn: dict[str, int] = {k: int(v) for k, v in (budgets or {}).items() if v}
    top = max(y_max, 0.05) * 1.25
    n_bins = int(table["bin"].max()) + 1 if len(table) else 0
    hx, hy = _panel_axes(2, 1, n_ev)   # the hazard panel's axes
    notes: list[dict[str, Any]] = []
    if n_bins < 4:   # an honest empty state instead of a lone dot
        notes.append(dict(x=0.5, y=0.5, xref=f"{hx} domain", yref=f"{hy} domain", showarrow=False,
                          text=f"Every completion is shorter than {n_bins * bucket_size:,} tokens: no time course "
                               "to show here.<br>Try a smaller bin size, or look at accuracy over a length "
                               "parameter (surface).", font=dict(size=15, color="#7a4400"), bgcolor="#fff4e0"))
    drawn_walls = [w for w in (walls or []) if w["series"] in labels]
    for i, w in enumerate(sorted(drawn_walls, key=lambda w: -w["hazard"])[:MAX_WALL_LABELS]):
        key = w["series"]
        notes.append(dict(x=(w["bin_start"] + w["bin_end"]) / 2, y=w["hazard"], xref=hx, yref=hy, ax=60,
                          ay=-30 - 26 * i, showarrow=True, arrowhead=2, arrowcolor=colors[key], xanchor="left",
                          text=f"context wall: {short(labels[key], 32)} {w['hazard']:.2f} at {w['bin_start']:,}–"
                               f"{w['bin_end']:,} tokens ({w['before']:.2f} before)",
                          font=dict(size=12, color="#222222"), bgcolor="rgba(255,255,255,0.85)",
                          bordercolor=colors[key]))
    axis = token_axis(x_max, budgets_drawn.values())
    distinct = list(axis.inside)
    panels = [(1, c) for c in range(1, n_ev + 1)] + [(2, 1)]
    shapes = []
    for b in distinct:
        for r, c in panels:
            xa, ya = _panel_axes(r, c, n_ev)
            shapes.append(dict(type="line", x0=b, x1=b, xref=xa, y0=0, y1=1, yref=f"{ya} domain", layer="below",
                               line=dict(color="#666666", dash="dash", width=1.3)))
        owners = [k for k, v in budgets_drawn.items() if v == b]
        notes.append(dict(x=b, y=top, xref=hx, yref=hy, yanchor="bottom", text=f"budget {b:,}", showarrow=False,
                          font=dict(size=12, color="#444444"),
                          xanchor="right" if b >= 0.85 * max(x_max, b) else "center"))
        for i, k in enumerate(owners):
            color = (budget_colors or {}).get(k, "#666666")
            traces.append((2, 1, dict(
                type="scatter", x=[b], y=[top * (0.96 - 0.07 * i)], mode="markers", showlegend=False,
                name=f"{k} budget", marker=dict(symbol="triangle-down", size=13, color=color,
                                                line=dict(color="white", width=1)),
                meta={"kind": "budget", "eval": k, "max_tokens": b},
                hovertemplate=f"<b>{k}</b><br>max_tokens {b:,}<extra></extra>")))
    if axis.beyond:
        notes += _budgets_beyond(axis.edge_label(), [_panel_axes(r, c, n_ev) for r, c in panels], hy=hy)
        far = [(k, v) for k, v in budgets_drawn.items() if v in axis.beyond]
        for i, (k, b) in enumerate(sorted(far, key=lambda kv: kv[1])):
            color = (budget_colors or {}).get(k, "#666666")
            traces.append((2, 1, dict(
                type="scatter", x=[axis.upper], y=[top * 1.08 * (0.74 - 0.06 * i)], mode="markers", showlegend=False,
                cliponaxis=False, name=f"{k} budget",
                marker=dict(symbol="triangle-right", size=13, color=color, line=dict(color="white", width=1)),
                meta={"kind": "budget", "eval": k, "max_tokens": b, "beyond": True},
                hovertemplate=f"<b>{k}</b><br>max_tokens {b:,}, past the longest completion "
                              f"(axis ends at {axis.upper:,.0f})<extra></extra>")))
    if distinct or not axis.beyond:
        traces.append((2, 1, legend_key("dashed line ▼: token budget (max_tokens) of the eval in that colour",
                                         kind="line", color="#666666", dash="dash", legendgroup="_budget")))
    if axis.beyond:
        traces.append((2, 1, legend_key("at the right edge: a budget far past the longest completion (not to scale)",
                                         kind="marker", symbol="triangle-right", color="#666666",
                                         legendgroup="_budget_beyond")))
    traces.append((2, 1, legend_key(f"bins with < {MIN_AT_RISK} samples at risk are not drawn", kind="line",
                                    color="rgba(0,0,0,0)", legendgroup="_note")))
    for r, c in panels:
        xa, ya = _panel_axes(r, c, n_ev)
        layout["xaxis" + xa[1:]].update(range=[0, axis.upper], tickformat="~s", showgrid=True,
                                        title=dict(text=tokens_title("tokens" if r == 1 else "completion tokens",
                                                                     tokens_estimated)))
        if r == 1:
            layout["yaxis" + ya[1:]].update(range=[0, 1], tickformat=".0%")
        else:
            layout["yaxis" + ya[1:]].update(range=[0, top * 1.08], title=dict(text="failure hazard"))
    layout["yaxis"]["title"] = dict(text="share of samples")
    layout["annotations"] += notes
    layout = merged(layout, {"shapes": shapes},
                    page_layout(title=title, subtitle=subtitle, width=1500, height=1000,
                                legend_title="series (click to hide)", top=130),
                    {"legend": BOTTOM_LEGEND, "margin": dict(b=90 + 22 * (1 + len(keys) // 3)),
                     "meta": {"projection": "hazard"}})
    return assemble([{**t, **dict(zip(("xaxis", "yaxis"), _panel_axes(r, c, n_ev)))} for r, c, t in traces], layout)


def _panel_axes(row: int, col: int, n_events: int) -> tuple[str, str]:
    """(xaxis, yaxis) references of a panel: the event panels of row 1 count from 1, the hazard panel is next."""
    k = col if row == 1 else n_events + 1
    return ("x", "y") if k == 1 else (f"x{k}", f"y{k}")


def _grid(events: Sequence[str], bucket_size: int) -> dict[str, Any]:
    """One cumulative-incidence panel per event on top, titled in its outcome's colour; the hazard across beneath."""
    n_ev = len(events)
    cells = subplot_domains(2, n_ev, row_heights=[0.5, 0.5], vertical_spacing=0.14, horizontal_spacing=0.05)
    places = [(1, c, 1) for c in range(1, n_ev + 1)] + [(2, 1, n_ev)]
    layout: dict[str, Any] = {}
    for r, c, span in places:
        (x, y), (xa, ya) = cells.cell(r, c, span), _panel_axes(r, c, n_ev)
        layout["xaxis" + xa[1:]] = dict(anchor=ya, domain=x)
        layout["yaxis" + ya[1:]] = dict(anchor=xa, domain=y)
    layout["annotations"] = [
        subplot_title(f"<b>{EVENT_TITLES[e]}</b>: cumulative incidence", *cells.cell(1, c),
                      font=dict(color=palette.OUTCOME_COLORS[e], size=15)) for c, e in enumerate(events, start=1)]
    layout["annotations"].append(subplot_title(
        f"<b>failure hazard</b> per {bucket_size}-token bin (incorrect + invalid ÷ samples still running)",
        *cells.cell(2, 1, n_ev)))
    return layout


def _budgets_beyond(text: str, panels: list[tuple[str, str]], *, hy: str) -> list[dict[str, Any]]:
    """``budget 32,768 →`` at the right edge of every panel (x and y axis): the budget exists, far past the data.

    In the hazard panel it sits below the row of in-range budget labels, above the ▶ markers.
    """
    return [dict(x=1, xref=f"{xa} domain", y=0.84 if ya == hy else 0.98, yref=f"{ya} domain", xanchor="right",
                 yanchor="top", text=text, showarrow=False, font=dict(size=12, color="#444444"),
                 bgcolor="rgba(255,255,255,0.85)") for xa, ya in panels]
