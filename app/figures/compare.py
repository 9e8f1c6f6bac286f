"""Comparison figure: per group, the difference a − b with its 95% interval, one panel per pair.

A forest plot: each group is a row, sorted by the difference (largest a-advantage on top),
its dot and whiskers coloured by the verdict; a line at 0 and a shaded band at
±``EQUIVALENCE_MARGIN`` show where "no difference" and "equivalent" lie. Pure: rows in,
figure out (the verdicts are decided in ``app.engine.stats``, not here).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from app.engine.stats import EQUIVALENCE_MARGIN, VERDICTS
from app.figures import palette
from app.figures.common import (
    BOTTOM_LEGEND,
    assemble,
    axis_label,
    legend_key,
    merged,
    page_layout,
    short,
    subplot_axes,
    subplot_grid,
)

ROW_PX = 24          # height of one group's row in a panel
PANEL_MIN_PX = 160   # a panel with few groups still has room for its title and axis
GAP_PX = 70          # between panels: the upper panel's tick labels and the lower one's title
VERDICT_NAMES = {"a_better": "a better (interval > 0, Holm p < 0.05)",
                 "b_better": "b better (interval < 0, Holm p < 0.05)",
                 "equivalent": f"equivalent (interval within ±{EQUIVALENCE_MARGIN:g})",
                 "unclear": "unclear"}


def _hover(label_a: str, label_b: str) -> str:
    return ("<b>%{y}</b><br>" + f"a {short(label_a, 40)}: " + "%{customdata[0]:.3f} (n %{customdata[2]:,.0f})<br>"
            + f"b {short(label_b, 40)}: " + "%{customdata[1]:.3f} (n %{customdata[3]:,.0f})<br>"
            "a − b = %{x:+.3f} [%{customdata[4]:+.3f}, %{customdata[5]:+.3f}]<br>"
            "p = %{customdata[6]:.3g}, Holm p = %{customdata[7]:.3g}<br>%{customdata[8]}<extra></extra>")


def _panel(rows: pd.DataFrame, group: str, xa: str, ya: str, label_a: str, label_b: str) -> list[dict[str, Any]]:
    """One pair's traces: one per verdict present (dots with asymmetric whiskers)."""
    traces: list[dict[str, Any]] = []
    for verdict in VERDICTS:
        part = rows[rows["verdict"] == verdict]
        if part.empty:
            continue
        diff = part["diff"].to_numpy(dtype=np.float64)
        color = palette.VERDICT_COLORS[verdict]
        custom = np.column_stack([part[c].to_numpy(dtype=object) for c in
                                  ("accuracy_a", "accuracy_b", "n_a", "n_b", "diff_lower", "diff_upper",
                                   "p_value", "p_holm", "verdict")])
        traces.append(dict(
            type="scatter", mode="markers", x=diff.tolist(), y=[axis_label(v) for v in part[group]],
            xaxis=xa, yaxis=ya, name=VERDICT_NAMES[verdict], legendgroup=verdict, showlegend=False,
            marker=dict(color=color, size=10, line=dict(color="#333333", width=1)),
            error_x=dict(type="data", symmetric=False, color=color, thickness=2, width=4,
                         array=(part["diff_upper"].to_numpy(np.float64) - diff).tolist(),
                         arrayminus=(diff - part["diff_lower"].to_numpy(np.float64)).tolist()),
            customdata=custom.tolist(), hovertemplate=_hover(label_a, label_b),
            meta={"verdict": verdict}))
    return traces


def _reach(rows: pd.DataFrame) -> float:
    """Half the x range, shared by every panel: the widest interval end, the ±margin band in view, at most 1."""
    ends = np.abs(rows[["diff_lower", "diff_upper"]].to_numpy(np.float64)).ravel()
    ends = ends[np.isfinite(ends)]
    widest = float(ends.max()) if ends.size else 0.0
    return min(1.0, 1.08 * max(widest, 1.5 * EQUIVALENCE_MARGIN))


def build(rows: pd.DataFrame, *, group: str, pairs: Sequence[tuple[str, str, str, str]], title: str,
          subtitle: str | None = None) -> go.Figure:
    """Forest plot of ``rows`` (the compare table): one panel per pair ``(eval_a, eval_b, label_a, label_b)``.

    ``group`` is the column naming a row's group. Groups are sorted by difference within each
    panel, so the panels' y axes are not shared.
    """
    n = len(pairs)
    sizes = [max(1, int(((rows["eval_a"] == a) & (rows["eval_b"] == b)).sum())) for a, b, _, _ in pairs]
    heights = [max(PANEL_MIN_PX, ROW_PX * k + 40) for k in sizes]
    total = sum(heights) + GAP_PX * (n - 1)
    layout = subplot_grid(n, 1, subplot_titles=[f"a = {short(la, 60)}  vs  b = {short(lb, 60)}"
                                                for _, _, la, lb in pairs])
    top = 1.0   # panels as tall as their groups: each takes its share of the plot's height, GAP_PX apart
    reach = _reach(rows)
    traces: list[dict[str, Any]] = []
    shapes: list[dict[str, Any]] = []
    for r, ((a, b, label_a, label_b), h) in enumerate(zip(pairs, heights), start=1):
        xa, ya = subplot_axes(r, 1, 1)
        domain = [max(0.0, top - h / total), top]
        top = domain[0] - GAP_PX / total
        part = rows[(rows["eval_a"] == a) & (rows["eval_b"] == b)].sort_values("diff", kind="stable")
        traces += _panel(part, group, xa, ya, label_a, label_b)
        layout["yaxis" + ya[1:]].update(domain=domain, type="category", automargin=True,
                                        categoryorder="array", categoryarray=[axis_label(v) for v in part[group]],
                                        title=dict(text=short(group, 30)))
        layout["xaxis" + xa[1:]].update(range=[-reach, reach], zeroline=False, tickformat="+.2f")
        xref, yref = xa, f"{ya} domain"
        shapes.append(dict(type="rect", xref=xref, yref=yref, x0=-EQUIVALENCE_MARGIN, x1=EQUIVALENCE_MARGIN,
                           y0=0, y1=1, fillcolor=palette.rgba(palette.VERDICT_COLORS["equivalent"], 0.10),
                           line=dict(width=0), layer="below"))
        shapes.append(dict(type="line", xref=xref, yref=yref, x0=0, x1=0, y0=0, y1=1,
                           line=dict(color=palette.NEUTRAL, width=1.5, dash="dash")))
    layout["xaxis" + subplot_axes(n, 1, 1)[0][1:]]["title"] = dict(
        text="accuracy difference a − b (dot) with its 95% Newcombe interval (whiskers)")
    for index, ann in enumerate(layout["annotations"]):   # titles sit on their panel's redistributed top
        ann["y"] = layout["yaxis" + subplot_axes(index + 1, 1, 1)[1][1:]]["domain"][1]
    traces += [legend_key(VERDICT_NAMES[v], color=palette.VERDICT_COLORS[v], legendgroup=v) for v in VERDICTS]
    layout["shapes"] = shapes
    layout = merged(layout, page_layout(title=title, subtitle=subtitle, width=1200, height=total + 260,
                                        legend_title="verdict", bottom=110),
                    {"legend": BOTTOM_LEGEND, "meta": {"projection": "compare"}})
    return assemble(traces, layout)
