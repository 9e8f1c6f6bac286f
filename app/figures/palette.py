"""The one palette: outcome colours, the accuracy scale and series colours.

Every figure (CLI PNGs and dashboard pages alike) takes its colours from here,
so "truncated" is the same purple in the spiderweb, the compression scatter and
the hazard plot, and a 0.9 accuracy is the same green on every surface.
"""

from __future__ import annotations

from app.engine.schema import OUTCOMES

# Colour-blind-aware choices (Okabe–Ito inspired); purple is reserved for truncation.
OUTCOME_COLORS: dict[str, str] = {
    "correct": "#1a9850",    # green
    "incorrect": "#d73027",  # red
    "invalid": "#e69f00",    # amber
    "truncated": "#7b3294",  # purple
}
assert tuple(OUTCOME_COLORS) == OUTCOMES

TRUNCATION_COLOR = OUTCOME_COLORS["truncated"]
SAFE_ZONE_COLOR = "#ffffff"
NEUTRAL = "#555555"
GRID = "#d9d9d9"

# Fixed 0..1 accuracy scale, red → yellow → green (RdYlGn), used by every surface.
ACCURACY_COLORSCALE: list[list[float | str]] = [
    [0.0, "#a50026"], [0.1, "#d73027"], [0.2, "#f46d43"], [0.3, "#fdae61"], [0.4, "#fee08b"],
    [0.5, "#ffffbf"], [0.6, "#d9ef8b"], [0.7, "#a6d96a"], [0.8, "#66bd63"], [0.9, "#1a9850"],
    [1.0, "#006837"],
]
ACCURACY_RANGE = (0.0, 1.0)

# Series colours (one per eval): no purple, green or red, so no series reads as an outcome.
SERIES_COLORS: tuple[str, ...] = (
    "#1f77b4", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#393b79",
    "#b8860b", "#006d77", "#222222", "#6baed6",
)

# Comparison verdicts (compare): Okabe–Ito blue / vermillion for the two sides, bluish green for
# equivalent, grey for unclear; none is an outcome colour, so no verdict reads as "correct" or "truncated".
VERDICT_COLORS: dict[str, str] = {
    "a_better": "#0072b2",
    "b_better": "#d55e00",
    "equivalent": "#009e73",
    "unclear": "#999999",
}

# Marker symbols for a second categorical encoding (compression --group-by).
SYMBOLS: tuple[str, ...] = (
    "circle", "square", "diamond", "triangle-up", "cross", "x", "triangle-down", "star",
    "pentagon", "hexagon", "triangle-left", "triangle-right", "hourglass", "bowtie", "star-square", "star-diamond",
)


def series_color(index: int) -> str:
    """Colour of the index-th series; cycles when there are more series than colours."""
    return SERIES_COLORS[index % len(SERIES_COLORS)]


def series_colors(keys) -> dict:
    """Stable colour per key, in the order given."""
    return {k: series_color(i) for i, k in enumerate(keys)}


def symbol(index: int) -> str:
    """The marker symbol for the ``index``-th group, cycling through the palette's symbols."""
    return SYMBOLS[index % len(SYMBOLS)]


def rgba(hex_color: str, alpha: float) -> str:
    """``#rrggbb`` → ``rgba(r,g,b,a)`` for translucent bands."""
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha:g})"
