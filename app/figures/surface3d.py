"""Surface in 3-D: accuracy as a height over each 2-D view, one scene per (view, eval).

The same numbers as the heatmap grid (:mod:`app.figures.surface`), drawn as relief: the
height and colour of the surface are ``center`` on the fixed 0..1 accuracy scale, the
Wilson lower bound is a pale grey shadow beneath it (the gap between them is the
uncertainty; SHADOW_COLOR says why it is not drawn translucent), safe-zone cells are
white balls and truncation-marked cells purple diamonds, both floating just above the
surface. Scenes sit on the heatmap grid's places (rows =
views, eval columns wrapped into bands), so switching mode keeps every panel where it was.

One scene per eval rather than all evals in one scene: surfaces of several evals cross
each other and hide one another, while side by side each eval's shape (a cliff, a slope,
a plateau) reads at once, with the same axes and scale. Each scene is one WebGL context
and a browser keeps at most 16 alive (older ones go blank), so a figure holds at most
:data:`MAX_SCENES`; the caller says how to narrow a larger selection.

Axes are cell indices ticked with the parameter values, as in the heatmaps, so uneven
parameter spacing draws evenly and the x/y of a clicked point are the cell's indices.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from app.bounds import MAX_NAME_CHARS
from app.figures import palette
from app.figures.common import (
    BOTTOM_LEGEND,
    assemble,
    axis_label,
    dim_label,
    merged,
    page_layout,
    short,
    shown_names,
    subplot_axes,
    text_of,
)
from app.figures.surface import (
    GRID_BOTTOM,
    GRID_RIGHT,
    GRID_TOP,
    SAFE_LOWER,
    TRUNCATION_MARK,
    Panel,
    _axes_meta,
    _Cells,
    grid_layout,
    grid_shape,
)

MAX_SCENES = 12            # WebGL contexts one figure may take: the browser's 16, less room for another page's
# The lower bound: a pale neutral grey (never an accuracy colour), drawn opaque. It reads as a translucent
# shadow because it lies under the surface; true WebGL transparency (opacity < 1) turned parts of the
# scenes white in the CLI's PNGs (kaleido's software WebGL), while drawing right in Chromium.
SHADOW_COLOR = "#c4c4c4"
MARK_LIFT = 0.03           # marks float this far above the surface, so it does not hide half of each
# seen from the far corner of both axes (the usual hard end), so a surface falling towards it faces the viewer
SCENE_CAMERA = dict(eye=dict(x=1.75, y=1.75, z=1.05))
# flat light: plotly's default shading washes the scale's pale middle (0.5 is #ffffbf) out to white
LIGHTING = dict(ambient=0.9, diffuse=0.25, specular=0.02, roughness=1.0, fresnel=0.0)
PANE = dict(showbackground=True, backgroundcolor="#eceef1", gridcolor="#ffffff")  # pale yellow reads on grey
SCENE_FONT = dict(size=10)  # ticks of a 300-px scene: the page font would crowd them
MARK_3D = {                # scatter3d has no star: the safe zone is a white ball ringed in dark green
    "safe": dict(symbol="circle", size=4, color=palette.SAFE_ZONE_COLOR, line=dict(color="#1b4d2c", width=2)),
    "truncation": dict(symbol="diamond", size=4, color=palette.TRUNCATION_COLOR,
                       line=dict(color="white", width=1)),
}


def scene_count(n_views: int, n_evals: int) -> int:
    """Scenes a 3-D figure of these views and evals needs (one per pair)."""
    return n_views * n_evals


def _hover_text(cells: _Cells, idx: np.ndarray, label: str) -> np.ndarray:
    """One hover text per grid point (None where no row is): the heatmap's numbers, in words."""
    p = cells.panel
    out = np.full(cells.shape, None, dtype=object)
    for i in idx.tolist():
        x, y, center, lower, upper, n, trunc, invalid, tokens = cells.custom[i]
        out[cells.iy[i], cells.ix[i]] = (
            f"<b>{label}</b> · {p.view}<br>{dim_label(p.x)} = {x}, {dim_label(p.y)} = {y}<br>"
            f"accuracy {center:.3f} [95% CI {lower:.3f} – {upper:.3f}]<br>"
            f"n = {n:,.1f} · truncated {trunc:.1%} · invalid {invalid:.1%}<br>tokens mean {tokens}")
    return out


def _scene_traces(cells: _Cells, eval_id: str, label: str, scene: str) -> list[dict[str, Any]]:
    """Surface of ``center``, the lower-bound shadow, and the marks of one (view, eval) scene."""
    p = cells.panel
    idx = cells.by_eval.get(eval_id, np.zeros(0, np.int64))
    x, y = np.arange(cells.shape[1]), np.arange(cells.shape[0])
    center = cells.grid(cells.center, idx)
    lower = cells.grid(p.rows["lower"].to_numpy(dtype=float), idx)
    meta = {"view": p.view, "eval_id": eval_id}
    traces: list[dict[str, Any]] = [
        dict(type="surface", x=x, y=y, z=center, surfacecolor=center, coloraxis="coloraxis", scene=scene,
             name=f"{p.view} · {label}", meta={**meta, "layer": "center"},
             text=_hover_text(cells, idx, label), hovertemplate="%{text}<extra></extra>",
             lighting=LIGHTING),
        dict(type="surface", x=x, y=y, z=lower, scene=scene, showscale=False,
             colorscale=[[0, SHADOW_COLOR], [1, SHADOW_COLOR]], lighting=LIGHTING,
             name=f"lower bound · {p.view} · {label}",
             meta={**meta, "layer": "lower"}, hovertemplate="lower CI %{z:.3f}<extra></extra>"),
    ]
    for kind in ("safe", "truncation"):
        sel = idx[cells.marked[kind][idx]]
        if not len(sel):
            continue
        z = cells.center[sel] + MARK_LIFT
        text = (f"lower CI %{{text:.3f}} ≥ {SAFE_LOWER}" if kind == "safe"
                else f"truncated %{{text:.1%}} > {100 * TRUNCATION_MARK:.0f}%")
        traces.append(dict(
            type="scatter3d", x=cells.ix[sel], y=cells.iy[sel], z=z, mode="markers", scene=scene,
            marker=MARK_3D[kind], showlegend=False, legendgroup=kind,
            name=f"{'safe zone' if kind == 'safe' else 'truncation'} · {p.view} · {label}",
            meta={**meta, "mark": kind}, customdata=np.stack([cells.x_raw[sel], cells.y_raw[sel]], axis=1),
            text=text_of((cells.lower if kind == "safe" else cells.truncation)[sel]),
            hovertemplate=text + "<extra></extra>"))
    return traces


def _scene(panel: Panel, domain: Mapping[str, list[float]]) -> dict[str, Any]:
    """One scene: index axes ticked with the parameter values, accuracy 0..1 upwards."""
    def axis(values: Sequence[Any], title: str) -> dict[str, Any]:
        return dict(tickmode="array", tickvals=list(range(len(values))), ticktext=[axis_label(v) for v in values],
                    range=[-0.2, len(values) - 0.8], title=dict(text=title, font=dict(size=11)), tickfont=SCENE_FONT,
                    **PANE)
    return dict(domain=domain, xaxis=axis(panel.x_values, dim_label(panel.x)),
                yaxis=axis(panel.y_values, dim_label(panel.y)),
                zaxis=dict(range=[0, 1.05], tickvals=[0, 0.5, 0.9], title=dict(text="accuracy", font=dict(size=11)),
                           tickfont=SCENE_FONT, **PANE),
                aspectmode="manual", aspectratio=dict(x=1, y=1, z=0.75), camera=SCENE_CAMERA)


def build(panels: Sequence[Panel], *, labels: Mapping[str, str], title: str, subtitle: str | None = None) -> go.Figure:
    """Scenes of ``center`` over each view, rows = views, columns = evals (wrapped like the heatmaps)."""
    labels = shown_names(labels)
    panels = [replace(p, view=short(p.view, MAX_NAME_CHARS)) for p in panels]
    eval_ids = list(labels)
    if scene_count(len(panels), len(eval_ids)) > MAX_SCENES:
        raise ValueError(f"a 3-D figure holds at most {MAX_SCENES} scenes")
    shape = grid_shape(len(panels), len(eval_ids))
    grid = grid_layout(shape, [p.view for p in panels], [labels[e] for e in eval_ids])
    layout: dict[str, Any] = {"annotations": grid["annotations"]}
    traces: list[dict[str, Any]] = []
    for v, panel in enumerate(panels):
        cells = _Cells(panel)
        for k, e in enumerate(eval_ids):
            r, c = shape.place(v, k)
            xa, ya = subplot_axes(r, c, shape.columns)
            number = (r - 1) * shape.columns + c
            scene = "scene" if number == 1 else f"scene{number}"
            layout[scene] = _scene(panel, {"x": grid["xaxis" + xa[1:]]["domain"],
                                           "y": grid["yaxis" + ya[1:]]["domain"]})
            traces += _scene_traces(cells, e, labels[e], scene)
    traces += [dict(type="scatter3d", x=[None], y=[None], z=[None], mode="markers", name=name, legendgroup=kind,
                    marker=MARK_3D[kind], hoverinfo="skip", scene="scene")
               for kind, name in (("safe", f"safe zone: lower CI ≥ {SAFE_LOWER}"),
                                  ("truncation", f"truncation > {TRUNCATION_MARK:.0%} of samples"))]
    traces.append(dict(type="scatter3d", x=[None], y=[None], z=[None], mode="markers", hoverinfo="skip",
                       scene="scene", name="lower bound of the 95% CI (grey shadow)",
                       marker=dict(symbol="square", size=8, color=SHADOW_COLOR)))
    layout["coloraxis"] = dict(colorscale=palette.ACCURACY_COLORSCALE, cmin=palette.ACCURACY_RANGE[0],
                               cmax=palette.ACCURACY_RANGE[1],
                               colorbar=dict(title=dict(text="accuracy<br>(Wilson<br>center)"),
                                             tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1.0], len=0.9, y=0.5,
                                             yanchor="middle", x=1.0, xanchor="left", xpad=40))
    layout = merged(layout, page_layout(title=title, subtitle=subtitle, width=shape.width, height=shape.height,
                                        right=GRID_RIGHT, top=GRID_TOP, bottom=GRID_BOTTOM),
                    {"legend": BOTTOM_LEGEND,
                     "meta": {"projection": "surface", "mode": "3d", "axes": {p.view: _axes_meta(p) for p in panels}}})
    return assemble(traces, layout)
