"""Layout pieces every figure shares: titles, fonts, legend-only keys, number formats.

Kept here so the four builders look like one product and a PNG exported from
the CLI reads like the page it came from.
"""

from __future__ import annotations

import math
from typing import Any

import plotly.graph_objects as go

FONT = dict(family="DejaVu Sans, Arial, sans-serif", size=14, color="#222222")
MIN_WIDTH, MIN_HEIGHT = 1200, 800


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
    sub = wrap(subtitle) if subtitle else ""
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
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * float(x):.{digits}f}%"


def num(x: Any, digits: int = 0) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{float(x):,.{digits}f}"


def axis_label(value: Any) -> str:
    """Category labels for axes: numbers without a trailing .0, missing as '(none)'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "(none)"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def dim_label(dim: str) -> str:
    """'params.length' → 'length' (params are the usual case); other dimensions keep their full name."""
    return dim.split(".", 1)[1] if dim.startswith("params.") else dim


def short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
