"""Layout pieces every figure shares: titles, fonts, legend-only keys, number formats.

Kept here so the four builders look like one product and a PNG exported from
the CLI reads like the page it came from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence, TypeVar

import plotly.graph_objects as go

from app.bounds import MAX_NAME_CHARS, MAX_TEXT_CHARS

K = TypeVar("K")

FONT = dict(family="DejaVu Sans, Arial, sans-serif", size=14, color="#222222")
MIN_WIDTH, MIN_HEIGHT = 1200, 800
# A token axis stretches to show a budget up to this many times the longest completion drawn, so the data
# always keeps at least half the width; a budget further out becomes a label at the right edge instead.
BUDGET_REACH = 2.0
AXIS_PAD = 1.04   # room after the last dot or budget line, so neither sits on the frame


def wrap(text: str, width: int = 150) -> str:
    """Break a long subtitle at ' · ' separators so it never runs off the image."""
    lines, line = [], ""
    for part in text.split(" · "):
        candidate = f"{line} · {part}" if line else part
        if line and len(candidate) > width:
            lines.append(line)
            candidate = part
        line = candidate
    return "<br>".join(lines + [line])


def base_layout(fig: go.Figure, *, title: str, subtitle: str | None, width: int, height: int,
                legend_title: str | None = None, top: int = 110, bottom: int = 80, right: int = 40) -> go.Figure:
    """White background, readable fonts, fixed pixel size (≥ 1200×800 for PNG export)."""
    height = max(MIN_HEIGHT, int(height))
    title = short(title, MAX_TEXT_CHARS)
    sub = wrap(short(subtitle, MAX_TEXT_CHARS)) if subtitle else ""
    top += 18 * sub.count("<br>")
    fig.update_layout(
        template="plotly_white",
        font=FONT,
        title=dict(text=f"<b>{title}</b>", subtitle=dict(text=sub, font=dict(size=14, color="#444444")),
                   x=0.01, xanchor="left", yref="container", y=1 - 14 / height, yanchor="top",
                   font=dict(size=20)),
        width=max(MIN_WIDTH, int(width)),
        height=height,
        margin=dict(l=80, r=right, t=top, b=bottom),
        legend=dict(title=dict(text=legend_title) if legend_title else None, font=dict(size=13),
                    bgcolor="rgba(255,255,255,0.85)", bordercolor="#cccccc", borderwidth=1,
                    groupclick="togglegroup"),
        hoverlabel=dict(font=dict(size=13)),
    )
    return fig


def legend_key(name: str, *, kind: str = "marker", color: str = "#777777", symbol: str = "circle",
               dash: str = "solid", legendgroup: str | None = None, polar: bool = False,
               fill: str | None = None, size: int = 11) -> go.Scatter | go.Scatterpolar:
    """A trace with no data: a legend entry explaining a mark that has no series of its own."""
    common: dict[str, Any] = dict(name=name, showlegend=True, hoverinfo="skip", legendgroup=legendgroup or name)
    if kind == "line":
        style = dict(mode="lines", line=dict(color=color, dash=dash, width=3))
    elif kind == "fill":
        style = dict(mode="lines", line=dict(color=color, width=0), fill="toself", fillcolor=fill or color)
    else:
        style = dict(mode="markers", marker=dict(color=color, symbol=symbol, size=size,
                                                 line=dict(color="#333333", width=1)))
    if polar:
        return go.Scatterpolar(r=[None], theta=[None], **common, **style)
    return go.Scatter(x=[None], y=[None], **common, **style)


def pct(x: Any, digits: int = 1) -> str:
    """A share as a percentage for labels; "–" for a missing value."""
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * float(x):.{digits}f}%"


def num(x: Any, digits: int = 0) -> str:
    """A number with thousands separators for labels; "–" for a missing value."""
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{float(x):,.{digits}f}"


def axis_label(value: Any) -> str:
    """Category labels for axes: numbers without a trailing .0, missing as '(none)'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "(none)"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return short(str(value), MAX_NAME_CHARS)


def dim_label(dim: str) -> str:
    """'params.length' → 'length' (params are the usual case); other dimensions keep their full name."""
    return short(dim.split(".", 1)[1] if dim.startswith("params.") else dim, MAX_NAME_CHARS)


def shown_names(names: Mapping[K, str]) -> dict[K, str]:
    """Legend and hover names cut to ``MAX_NAME_CHARS``.

    A 1 MB label in a dataset written by another tool would otherwise be copied into every
    trace, hover text and title of a figure.
    """
    return {key: short(str(name), MAX_NAME_CHARS) for key, name in names.items()}


def short(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis, so long labels keep legends readable."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def subplot_grid(rows: int, cols: int, *, horizontal_spacing: float | None = None,
                 vertical_spacing: float | None = None, shared_xaxes: bool = False,
                 subplot_titles: Sequence[str] = (), column_titles: Sequence[str] = (),
                 row_titles: Sequence[str] = ()) -> dict[str, Any]:
    """The layout ``make_subplots`` makes for a plain grid of xy subplots (same domains, axes and titles), as a dict.

    make_subplots passes every axis through plotly's validating object model, which
    costs ~1.5 ms per subplot: 0.3 s for a surface of 3 views × 64 evals. The grid
    itself is arithmetic. Put a trace in cell (row, col) with :func:`subplot_axes`.
    """
    h = 0.2 / cols if horizontal_spacing is None else horizontal_spacing
    v = 0.3 / rows if vertical_spacing is None else vertical_spacing
    width = ((0.98 if row_titles else 1.0) - h * (cols - 1)) / cols
    height = (1.0 - v * (rows - 1)) / rows
    layout: dict[str, Any] = {}
    cells = []   # (x domain, y domain) per subplot, top row first
    for r in range(rows):
        bottom = (rows - 1 - r) * (height + v)
        y = [min(max(bottom, 0.0), 1.0), min(max(bottom + height, 0.0), 1.0)]
        for c in range(cols):
            x = [c * (width + h), c * (width + h) + width]
            xa, ya = subplot_axes(r + 1, c + 1, cols)
            layout["xaxis" + xa[1:]] = {"anchor": ya, "domain": x}
            layout["yaxis" + ya[1:]] = {"anchor": xa, "domain": y}
            if shared_xaxes and r < rows - 1:   # the bottom row keeps the tick labels; the others follow it
                layout["xaxis" + xa[1:]].update(matches=subplot_axes(rows, c + 1, cols)[0], showticklabels=False)
            cells.append((x, y))

    def title(text: str, x: list[float], y: list[float], edge: str) -> dict[str, Any]:
        where = (dict(x=sum(x) / 2, y=y[1], xanchor="center", yanchor="bottom") if edge == "top" else
                 dict(x=x[1], y=sum(y) / 2, xanchor="left", yanchor="middle", textangle=90))
        return dict(text=text, xref="paper", yref="paper", showarrow=False, font=dict(size=16), **where)

    layout["annotations"] = (
        [title(t, *cell, "top") for t, cell in zip(subplot_titles, cells) if t]
        + [title(t, *cells[c], "top") for c, t in enumerate(column_titles) if t]
        + [title(t, *cells[r * cols + cols - 1], "right") for r, t in enumerate(row_titles) if t])
    return layout


def subplot_axes(row: int, col: int, cols: int) -> tuple[str, str]:
    """The (xaxis, yaxis) trace references of grid cell (row, col), both counted from 1."""
    k = (row - 1) * cols + col
    suffix = "" if k == 1 else str(k)
    return f"x{suffix}", f"y{suffix}"


@dataclass(frozen=True)
class TokenAxis:
    """A token axis fitted to the data: where it ends, and which budgets it shows as lines or as edge labels."""

    upper: float                 # the axis runs from 0 to here
    inside: tuple[int, ...]      # budgets within reach of the data: dashed lines at their position
    beyond: tuple[int, ...]      # budgets far past the data: a labelled marker at the right edge instead

    def edge_label(self) -> str:
        """``budget 32,768 →`` (or ``budgets 16,384, 32,768 →``): what lies past the right edge."""
        if not self.beyond:
            return ""
        word = "budget" if len(self.beyond) == 1 else "budgets"
        return f"{word} {', '.join(f'{b:,}' for b in self.beyond)} →"


def token_axis(data_max: float | None, budgets: Iterable[Any] = (), *, reach: float = BUDGET_REACH) -> TokenAxis:
    """Fit a token axis to ``data_max`` (the longest completion or bin end drawn).

    Rule: the axis ends just past the data; a budget up to ``reach`` × ``data_max`` stretches it
    and is drawn where it is, a budget beyond that is listed in ``beyond`` for an edge label, so
    completions of a few hundred tokens are never squeezed against x = 0 by a 32k budget.
    With no data the budgets alone set the axis.
    """
    found = sorted({int(b) for b in budgets if b})
    top = float(data_max) if data_max is not None and math.isfinite(data_max) and data_max > 0 else 0.0
    if top == 0.0:
        return TokenAxis(upper=(found[-1] if found else 1) * AXIS_PAD, inside=tuple(found), beyond=())
    inside = tuple(b for b in found if b <= reach * top)
    beyond = tuple(b for b in found if b > reach * top)
    return TokenAxis(upper=max([top, *inside]) * AXIS_PAD, inside=inside, beyond=beyond)


def tokens_title(text: str, estimated: bool) -> str:
    """An axis title in tokens that says when the counts are estimates: ``completion tokens (estimated)``."""
    return f"{text} (estimated)" if estimated else text
