"""The spiderweb's eval × task matrix: what the fingerprint becomes when there are too many evals to overlay.

Sixty-four polygons on one radar are a tangle; as a matrix every eval is one row, every
axis value (task) one column, the cell's colour its accuracy on the fixed 0..1 scale of
every surface, so the eye reads a column (a task) or a row (an eval) at once. Two text
columns at the right give the row's mean accuracy and its archetype.

The rows can be re-sorted in the figure itself (its dropdown: by mean accuracy, label,
archetype or any one task): sorting only rewrites the y axis's category order, so the
figure carries each order as a list of row names and stays small. A cell's hover gives
its Wilson interval and n; a click reaches the page's drill-down through an invisible
marker on the cell that carries ``[eval_id, axis value]`` (the radar's own customdata),
because a heatmap's click event carries no customdata.

Input is the engine's aggregate by (eval_id, axis), as for the radar; nothing here reads
a dataset.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from app.figures import palette
from app.figures.common import assemble, dim_label, page_layout, short, shown_names, subplot_domains
from app.figures.spiderweb import grid
from app.findings.spiderweb import ARCHETYPES, NONE

ROW_PX = 24               # pixels per eval row: 64 evals fit in ~1,800 px
COLUMN_PX = 72            # pixels per task column (12 tasks fit a 1,600-pixel page)
SIDE_PX = 260             # the mean and archetype columns
MEAN_X, ARCHETYPE_X, ARCHETYPE_HEAD_X = 0.1, 0.3, 0.55  # in the side panel (0..1): mean, archetype text, its heading
LABEL_CHARS = 48          # an eval's row name is its label cut to this many characters
CELL_TEXT_MAX_CELLS = 2_500  # write the accuracy in each cell up to this many cells (beyond, colour only)
MEAN = "mean accuracy"
ARCHETYPE = "archetype"
BY_MEAN, BY_LABEL, BY_ARCHETYPE = "mean accuracy ↓", "label A–Z", "archetype"


def row_names(eval_ids: Sequence[str], labels: Mapping[str, str]) -> dict[str, str]:
    """eval_id → the row's name on the y axis: its label, made unique with the eval id where labels repeat."""
    cut = {e: short(labels.get(e, e), LABEL_CHARS) for e in eval_ids}
    counts = pd.Series(list(cut.values())).value_counts()
    names = {e: (f"{n} ({short(e, 24)})" if counts[n] > 1 else n) for e, n in cut.items()}
    seen: dict[str, int] = {}
    for e, n in names.items():  # still equal (ids cut alike): number them
        seen[n] = seen.get(n, 0) + 1
        if seen[n] > 1:
            names[e] = f"{n} #{seen[n]}"
    return names


def _descending(values: np.ndarray, names: list[str]) -> list[str]:
    """Names by value, highest first; missing values last; ties by name (a stable, readable order)."""
    keyed = [(math.isnan(v), -v if not math.isnan(v) else 0.0, n.casefold(), n) for v, n in zip(values, names)]
    return [k[-1] for k in sorted(keyed)]


def row_means(centers: np.ndarray) -> np.ndarray:
    """Each row's mean accuracy over the tasks it has data on (NaN when it has none)."""
    counted = np.sum(~np.isnan(centers), axis=1)
    with np.errstate(all="ignore"):
        return np.where(counted > 0, np.nansum(centers, axis=1) / np.maximum(counted, 1), np.nan)


def orders(centers: np.ndarray, names: list[str], theta: list[str],
           archetype_of: Mapping[str, str]) -> dict[str, list[str]]:
    """Every order the dropdown offers (top row first): by mean accuracy, label, archetype, then each task.

    ``centers``: (evals × axes) Wilson centers, rows in ``names`` order. The mean is over the
    tasks an eval has data on.
    """
    by_mean = _descending(row_means(centers), names)
    rank = {n: i for i, n in enumerate(by_mean)}
    kinds = list(ARCHETYPES) + [NONE]
    by_kind = sorted(names, key=lambda n: (kinds.index(archetype_of[n]) if archetype_of.get(n) in kinds
                                           else len(kinds), rank[n]))
    out = {BY_MEAN: by_mean, BY_LABEL: sorted(names, key=lambda n: (n.casefold(), n)), BY_ARCHETYPE: by_kind}
    for j, task in enumerate(theta):
        out[f"{task} ↓"] = _descending(centers[:, j], names)
    return out


def build(rows: pd.DataFrame, *, group_by: str, labels: Mapping[str, str], title: str,
          subtitle: str | None = None, verdicts: Mapping[str, Any] | None = None,
          axes: Sequence[Any] | None = None) -> go.Figure:
    """The matrix for ``rows`` (engine aggregate by eval_id and ``group_by``), sorted by mean accuracy.

    ``labels``: eval_id → label (every eval in ``rows``); ``verdicts``: eval_id → archetype
    Verdict (its ``archetype`` and ``reason``); ``axes``: the axis values in column order.
    """
    labels = shown_names(labels)
    present = set(rows["eval_id"])
    eval_ids = [e for e in labels if e in present]
    axes = list(axes) if axes is not None else list(dict.fromkeys(rows[group_by]))
    axis_name = dim_label(group_by)
    g = grid(rows, group_by, axes, eval_ids, labels, axis_name)
    names_of = row_names(eval_ids, labels)
    names = [names_of[e] for e in eval_ids]
    verdicts = verdicts or {}
    archetype_of = {names_of[e]: verdicts[e].archetype for e in eval_ids if e in verdicts}
    center = g.stat["center"]
    sorted_by = orders(center, names, g.theta, archetype_of)
    first = sorted_by[BY_MEAN]
    n_e, n_a = len(eval_ids), len(axes)

    heat_px = COLUMN_PX * max(n_a, 1)
    cells = subplot_domains(1, 2, column_widths=[heat_px, SIDE_PX], horizontal_spacing=0.012)
    heat = dict(
        type="heatmap", z=center, x=g.theta, y=names, zmin=palette.ACCURACY_RANGE[0], zmax=palette.ACCURACY_RANGE[1],
        colorscale=palette.ACCURACY_COLORSCALE, hoverinfo="skip", xgap=1, ygap=1, name="accuracy",
        textfont=dict(size=11),
        colorbar=dict(title=dict(text="accuracy<br>(Wilson<br>center)", side="top"), x=1.01, len=0.6, y=1,
                      yanchor="top", tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1.0]))
    if n_e * n_a <= CELL_TEXT_MAX_CELLS:
        heat.update(text=np.where(np.isnan(center), "", np.vectorize(lambda v: f"{v:.2f}")(np.nan_to_num(center))),
                    texttemplate="%{text}")
    # one invisible marker per cell: the hover (interval, n) and the click (customdata → surface)
    have = ~np.isnan(center)
    ei, ai = np.nonzero(have)
    hover_cells = dict(
        type="scatter", x=[g.theta[a] for a in ai], y=[names[e] for e in ei], mode="markers", name="cells",
        showlegend=False, marker=dict(size=max(8, ROW_PX - 4), symbol="square", opacity=0),
        customdata=[list(g.custom[e, a]) for e, a in zip(ei, ai)], text=[g.hover[e, a] for e, a in zip(ei, ai)],
        hovertemplate="%{text}<extra></extra>")

    counted, means = np.sum(have, axis=1), row_means(center)
    side_x = [MEAN_X] * n_e + [ARCHETYPE_X] * n_e   # the mean's column, then the archetype's (left-aligned text)
    side_text = [("–" if math.isnan(m) else f"{m:.2f}") for m in means] + \
        [archetype_of.get(n, "–") for n in names]
    reasons = [f"<b>{names[k]}</b><br>mean of {int(counted[k])} task(s): " + ("–" if math.isnan(means[k])
               else f"{means[k]:.3f}") for k in range(n_e)]
    reasons += [f"<b>{names_of[e]}</b><br>{verdicts[e].archetype}: {verdicts[e].reason}" if e in verdicts
                else f"<b>{names_of[e]}</b><br>no archetype" for e in eval_ids]
    side = dict(
        type="scatter", x=side_x, y=names + names, mode="text", text=side_text, textfont=dict(size=12, color="#222222"),
        textposition=["middle center"] * n_e + ["middle right"] * n_e,
        hovertext=reasons, hovertemplate="%{hovertext}<extra></extra>", name="archetypes", showlegend=False)

    # one fixed range for both panels, top row first, so a row's text sits beside its cells
    categories = dict(type="category", categoryorder="array", categoryarray=first, range=[n_e - 0.5, -0.5],
                      showgrid=False, zeroline=False)
    (heat_x, heat_y), (side_xd, side_yd) = cells.cell(1, 1), cells.cell(1, 2)
    buttons = [dict(label=f"sort: {name}", method="relayout",
                    args=[{"yaxis.categoryarray": order, "yaxis2.categoryarray": order}])
               for name, order in sorted_by.items()]
    width = max(1200, 300 + heat_px + SIDE_PX + 160)
    layout = dict(
        xaxis=dict(anchor="y", domain=heat_x, type="category", categoryorder="array", categoryarray=g.theta,
                   side="top", tickangle=-30 if n_a > 6 else 0, automargin=True, showgrid=False),
        yaxis=dict(anchor="x", domain=heat_y, **categories, automargin=True, tickfont=dict(size=12)),
        xaxis2=dict(anchor="y2", domain=side_xd, range=[0, 1], tickvals=[MEAN_X, ARCHETYPE_HEAD_X],
                    ticktext=["mean", ARCHETYPE], side="top", tickangle=0, showgrid=False, zeroline=False,
                    automargin=True),
        yaxis2=dict(anchor="x2", domain=side_yd, **categories, showticklabels=False),
        updatemenus=[dict(type="dropdown", buttons=buttons, active=0, x=1.0, xanchor="right", y=1.0,
                          yanchor="bottom", pad=dict(b=70), showactive=True)],
        hovermode="closest", hoverdistance=-1, showlegend=False, plot_bgcolor="#ffffff",
        **page_layout(title=title, subtitle=subtitle, width=width, height=240 + ROW_PX * n_e, top=200, bottom=40,
                      right=110),
        meta={"projection": "spiderweb", "style": "matrix", "group_by": group_by, "axis_name": axis_name,
              "orders": sorted_by, "rows": dict(zip(names, eval_ids))})
    return assemble([{**heat, "xaxis": "x", "yaxis": "y"}, {**hover_cells, "xaxis": "x", "yaxis": "y"},
                     {**side, "xaxis": "x2", "yaxis": "y2"}], layout)


__all__ = ["ARCHETYPE", "BY_ARCHETYPE", "BY_LABEL", "BY_MEAN", "MEAN", "ROW_PX", "build", "orders", "row_means",
           "row_names"]
