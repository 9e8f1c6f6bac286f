"""Layout pieces every figure shares (titles, fonts, legend-only keys, number formats, subplot grids), and
:func:`assemble`, the one place a figure is made from them.

Kept here so the builders look like one product and a PNG exported from the CLI reads like
the page it came from. Builders write traces and layout as plain dicts and wrap them once:
growing a ``go.Figure`` step by step validated and copied the figure again at every step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence, TypeVar

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from app.bounds import MAX_NAME_CHARS, MAX_TEXT_CHARS

K = TypeVar("K")

FONT = dict(family="DejaVu Sans, Arial, sans-serif", size=14, color="#222222")
MIN_WIDTH, MIN_HEIGHT = 1200, 800
# A token axis stretches to show a budget up to this many times the longest completion drawn, so the data
# always keeps at least half the width; a budget further out becomes a label at the right edge instead.
BUDGET_REACH = 2.0
AXIS_PAD = 1.04   # room after the last dot or budget line, so neither sits on the frame
# A legend in rows under the plot, for figures whose plot needs the full width (grids, hazard, compare)
BOTTOM_LEGEND: dict[str, Any] = dict(orientation="h", x=0, xanchor="left", y=0, yanchor="bottom", yref="container")


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


# The page look, resolved to its dict once: naming it ("plotly_white") on a figure makes plotly look it up,
# deep-copy and validate the whole template again for every figure (~70 ms of a dashboard view).
TEMPLATE: dict[str, Any] = pio.templates["plotly_white"].to_plotly_json()
# go.Figure validates every property it is given unless told not to: at r12, 25 ms against 8 ms for the
# 64-eval spiderweb, 190 against 45 ms for the hazard figure, 250 against 90 ms for a compression figure.
# The builders write plain dicts; tests/figures/test_figures_valid.py rebuilds every builder's figure with
# validation on and checks it draws the same, which is what keeps skipping it here safe.
VALIDATE = False
# Layout lists of items; plotly leaves one out of the figure when it is empty, and so does assemble
ITEM_LISTS = frozenset({"annotations", "shapes", "images", "updatemenus", "sliders", "selections"})


def assemble(data: Iterable[Mapping[str, Any]], layout: Mapping[str, Any]) -> go.Figure:
    """The one place a figure is made: its traces and layout, written as plain dicts, wrapped once.

    Builders assemble the whole figure as data and hand it over here, instead of growing a
    ``go.Figure`` step by step (each ``update_layout``, ``add_trace`` or ``make_subplots`` runs
    plotly's validators and copies again). An empty list of annotations or shapes is left out,
    as plotly leaves it out, so a figure reads the same whichever way it was made.
    """
    kept = {key: value for key, value in layout.items() if not (key in ITEM_LISTS and not value)}
    return go.Figure(data=list(data), layout=kept, _validate=VALIDATE)


def merged(base: Mapping[str, Any], *updates: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``updates`` laid over it: nested dicts merge key by key, anything else replaces.

    What ``update_layout`` does to a figure's layout, for layouts that are still dicts.
    """
    out = dict(base)
    for update in updates:
        for key, value in update.items():
            if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
                out[key] = merged(out[key], value)
            else:
                out[key] = value
    return out


def page_layout(*, title: str, subtitle: str | None, width: int, height: int, legend_title: str | None = None,
                top: int = 110, bottom: int = 80, right: int = 40) -> dict[str, Any]:
    """The layout every figure shares: white background, readable fonts, fixed pixel size (≥ 1200×800 for PNGs)."""
    height = max(MIN_HEIGHT, int(height))
    title = short(title, MAX_TEXT_CHARS)
    sub = wrap(short(subtitle, MAX_TEXT_CHARS)) if subtitle else ""
    top += 18 * sub.count("<br>")
    legend: dict[str, Any] = dict(font=dict(size=13), bgcolor="rgba(255,255,255,0.85)", bordercolor="#cccccc",
                                  borderwidth=1, groupclick="togglegroup")
    if legend_title:
        legend["title"] = dict(text=legend_title)
    return dict(
        template=TEMPLATE,
        font=dict(FONT),
        title=dict(text=f"<b>{title}</b>", subtitle=dict(text=sub, font=dict(size=14, color="#444444")),
                   x=0.01, xanchor="left", yref="container", y=1 - 14 / height, yanchor="top",
                   font=dict(size=20)),
        width=max(MIN_WIDTH, int(width)),
        height=height,
        margin=dict(l=80, r=right, t=top, b=bottom),
        legend=legend,
        hoverlabel=dict(font=dict(size=13)),
    )


def legend_key(name: str, *, kind: str = "marker", color: str = "#777777", symbol: str = "circle",
               dash: str = "solid", legendgroup: str | None = None, polar: bool = False,
               fill: str | None = None, size: int = 11) -> dict[str, Any]:
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
        return dict(type="scatterpolar", r=[None], theta=[None], **common, **style)
    return dict(type="scatter", x=[None], y=[None], **common, **style)


def text_of(values: Any) -> list[str]:
    """Numbers for a trace's ``text`` (a hover template formats them, ``%{text:.3f}``), as strings.

    Strings are what plotly's validator always made of them, so the figure's JSON is the same
    whether it was validated or assembled as dicts.
    """
    return [str(v) for v in np.asarray(values).tolist()]


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

    layout["annotations"] = (
        [subplot_title(t, *cell) for t, cell in zip(subplot_titles, cells) if t]
        + [subplot_title(t, *cells[c]) for c, t in enumerate(column_titles) if t]
        + [subplot_title(t, *cells[r * cols + cols - 1], edge="right") for r, t in enumerate(row_titles) if t])
    return layout


def subplot_title(text: str, x: Sequence[float], y: Sequence[float], *, edge: str = "top",
                  font: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A subplot's title where make_subplots puts it: centred over the cell (``top``) or beside it (``right``)."""
    where = (dict(x=sum(x) / 2, y=y[1], xanchor="center", yanchor="bottom") if edge == "top" else
             dict(x=x[1], y=sum(y) / 2, xanchor="left", yanchor="middle", textangle=90))
    return dict(text=text, xref="paper", yref="paper", showarrow=False, font=dict(font or {"size": 16}), **where)


@dataclass(frozen=True)
class SubplotDomains:
    """Where make_subplots puts each cell of a grid with unequal rows or columns, as plain numbers.

    The arithmetic is make_subplots' own, step for step (so the domains are the same floats),
    without its validating object model. Cells are counted from the top-left, both from 1.
    """

    widths: tuple[float, ...]     # column widths, left to right
    heights: tuple[float, ...]    # row heights, bottom row first (make_subplots keeps them so)
    horizontal_spacing: float
    vertical_spacing: float

    def cell(self, row: int, col: int, colspan: int = 1) -> tuple[list[float], list[float]]:
        """(x domain, y domain) of the cell at (row, col) spanning ``colspan`` columns."""
        h, v = self.horizontal_spacing, self.vertical_spacing
        c, last, r = col - 1, col + colspan - 2, row - 1
        from_bottom = len(self.heights) - 1 - r
        x0 = sum(self.widths[:c]) + c * h
        x1 = sum(self.widths[:last]) + last * h + self.widths[last]
        y0 = sum(self.heights[:from_bottom]) + from_bottom * v
        y1 = y0 + self.heights[-1 - r]
        return [max(0.0, x0), min(1.0, x1)], [min(max(y0, 0.0), 1.0), min(max(y1, 0.0), 1.0)]


def subplot_domains(rows: int, cols: int, *, row_heights: Sequence[float] | None = None,
                    column_widths: Sequence[float] | None = None, horizontal_spacing: float | None = None,
                    vertical_spacing: float | None = None) -> SubplotDomains:
    """The cells ``make_subplots(rows, cols, row_heights=..., column_widths=..., ...)`` would lay out.

    ``row_heights`` and ``column_widths`` are relative (top row and left column first), as there;
    the default spacings are make_subplots' without subplot titles.
    """
    h = 0.2 / cols if horizontal_spacing is None else horizontal_spacing
    v = 0.3 / rows if vertical_spacing is None else vertical_spacing
    if column_widths is None:
        widths = [(1.0 - h * (cols - 1)) / cols] * cols
    else:
        widths = [(1.0 - h * (cols - 1)) * (w / float(sum(column_widths))) for w in column_widths]
    if row_heights is None:
        heights = [(1.0 - v * (rows - 1)) / rows] * rows
    else:
        heights = [(1.0 - v * (rows - 1)) * (k / float(sum(row_heights))) for k in row_heights]
    return SubplotDomains(tuple(widths), tuple(reversed(heights)), h, v)


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
