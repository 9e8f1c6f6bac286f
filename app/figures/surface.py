"""Surface: accuracy heatmaps over 2-D parameter grids, rows = views, columns = evals.

Axes are cell indices with the parameter values as tick labels, so every grid is
drawn evenly whatever the spacing of its values, and marks can sit at fixed
places inside a cell: the safe-zone star in the upper left corner, the
truncation diamond in the upper right, the value in the middle.

With 64 evals a figure holds thousands of cells: each cell carries only its
numbers (customdata, rounded to what the hover shows) and every trace shares one
hover template, so the JSON stays small; traces and axes are written as plain
dicts and made into a figure once (:func:`~app.figures.common.assemble`), since
plotly's per-subplot updates grow with the number of subplots.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from app.bounds import MAX_NAME_CHARS
from app.figures import palette
from app.figures.common import (
    BOTTOM_LEGEND,
    assemble,
    axis_label,
    dim_label,
    merged,
    num,
    page_layout,
    short,
    shown_names,
    subplot_axes,
    subplot_grid,
    text_of,
)
from app.findings.surface import SAFE_LOWER, TRUNCATION_MARK
from app.findings.surface import marks as mark_rule

MAX_CELL_TEXT = 48        # write the value into cells only while they are big enough to read
MAX_CELLS_ACROSS = 24     # ... and while a row of panels holds this many cells at most: ~40 px each at 1,440 px
# The grid's design size. Eval columns wrap into bands of at most MAX_COLUMNS, each band repeating the view
# rows, so the widest figure is 190 + 4 × 340 = 1,550 px: under the page's WIDE (1,600 px, app/web/components),
# which lets the page fit the figure to the window (a 1,440-px window shows every column) instead of
# scrolling a 3,230-px grid of 8 evals. The CLI PNG is drawn at this design size.
PANEL_WIDTH, PANEL_HEIGHT = 340, 330
PANEL_GAP = 100           # px between grid rows: the x-axis ticks and title, and the next band's eval titles
MAX_COLUMNS = 4
GRID_LEFT, GRID_RIGHT = 190, 200   # px beside the panels: y-axis title and ticks; colour bar and view titles
GRID_TOP, GRID_BOTTOM = 130, 110   # px above (title, subtitle, two-line eval titles) and below (legend)
HOVER_DIGITS = 3          # the hover shows 3 decimals (rates as 0.1%): customdata keeps no more


@dataclass
class Panel:
    """One view's rows (eval_id, x dim, y dim, statistics) and the order of its axis values."""

    view: str
    x: str
    y: str
    rows: pd.DataFrame
    x_values: Sequence[Any]
    y_values: Sequence[Any]


@dataclass(frozen=True)
class GridShape:
    """Where each (view, eval) panel sits: evals in bands of ``columns``, each band one row per view."""

    views: int
    evals: int
    columns: int

    @property
    def bands(self) -> int:
        return -(-self.evals // self.columns) if self.evals else 1

    @property
    def rows(self) -> int:
        return self.bands * self.views

    def place(self, view: int, eval_pos: int) -> tuple[int, int]:
        """Grid (row, column), both from 1, of view ``view`` and eval ``eval_pos`` (both from 0)."""
        band, col = divmod(eval_pos, self.columns)
        return band * self.views + view + 1, col + 1

    @property
    def width(self) -> int:
        return GRID_LEFT + PANEL_WIDTH * self.columns

    @property
    def height(self) -> int:
        return GRID_TOP + GRID_BOTTOM + PANEL_HEIGHT * self.rows + PANEL_GAP * (self.rows - 1)

    @property
    def vertical_spacing(self) -> float:
        """PANEL_GAP as a share of the plotting area's height (what plotly's grid wants)."""
        return PANEL_GAP / (PANEL_HEIGHT * self.rows + PANEL_GAP * (self.rows - 1))

    @property
    def horizontal_spacing(self) -> float:
        return min(0.08, 0.5 / max(self.columns, 1))


def grid_shape(n_views: int, n_evals: int) -> GridShape:
    """Evals side by side up to MAX_COLUMNS; past that, as few bands as needed, balanced (8 evals: 2 × 4)."""
    bands = max(1, -(-n_evals // MAX_COLUMNS))
    return GridShape(n_views, n_evals, max(1, -(-n_evals // bands)))


def eval_title(label: str) -> str:
    """An eval's column title: cut, and broken before its '(template, sampler)' so a narrow column holds it."""
    text = short(label, 46)
    head, sep, tail = text.partition(" (")
    return f"{head}<br>({tail}" if sep and len(text) > 26 else text


MARK_COLUMNS = ("safe_zone", "truncation_mark")   # the marks a panel's rows are given (app.findings.surface)


def marks(rows: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(safe-zone mask, truncation mask) to draw: the rows' own ``safe_zone`` and ``truncation_mark``.

    The findings decide the marks (:func:`app.findings.surface.marks`) and the projection writes
    them into the rows; rows without them (a figure built from a bare aggregate) get that same rule.
    """
    if all(c in rows for c in MARK_COLUMNS):
        return rows["safe_zone"].astype(bool), rows["truncation_mark"].astype(bool)
    return mark_rule(rows)


class _Cells:
    """One panel's rows as arrays (grid position, statistics, hover data), computed once and sliced per eval."""

    def __init__(self, panel: Panel):
        rows = panel.rows
        xi = {v: i for i, v in enumerate(panel.x_values)}
        yi = {v: j for j, v in enumerate(panel.y_values)}
        self.panel = panel
        self.shape = (len(panel.y_values), len(panel.x_values))
        self.iy = np.fromiter((yi[v] for v in rows[panel.y]), np.int64, len(rows))
        self.ix = np.fromiter((xi[v] for v in rows[panel.x]), np.int64, len(rows))
        self.x_raw, self.y_raw = rows[panel.x].to_numpy(dtype=object), rows[panel.y].to_numpy(dtype=object)
        self.center = rows["center"].to_numpy(dtype=float)
        self.samples = rows["samples"].to_numpy(dtype=float)
        self.lower = np.round(rows["lower"].to_numpy(dtype=float), HOVER_DIGITS)
        self.truncation = np.round(rows["truncation_rate"].to_numpy(dtype=float), HOVER_DIGITS)
        safe, trunc = marks(rows)
        self.marked = {"safe": safe.to_numpy(), "truncation": trunc.to_numpy()}
        self.custom = self._customdata(rows)
        self.by_eval = rows.groupby("eval_id", sort=False, observed=True).indices if len(rows) else {}

    def _customdata(self, rows: pd.DataFrame) -> np.ndarray:
        """Per row [x, y, center, lower, upper, n, truncated, invalid, tokens] (see :func:`_hovertemplate`).

        Numbers are rounded to what the template prints; tokens are text so a
        missing mean reads '–' (a null would print as 0).
        """
        rounded = [np.round(rows[f].to_numpy(dtype=float), 1 if f == "n" else HOVER_DIGITS).tolist()
                   for f in ("center", "lower", "upper", "n", "truncation_rate", "invalid_rate")]
        cols = ([axis_label(v) for v in self.x_raw], [axis_label(v) for v in self.y_raw], *rounded,
                [num(v) for v in rows["tokens_mean"].tolist()])
        out = np.empty(len(rows), dtype=object)
        out[:] = [list(c) for c in zip(*cols)]
        return out

    def grid(self, values: np.ndarray, idx: np.ndarray, fill: Any = np.nan) -> np.ndarray:
        """``values`` of the rows ``idx`` placed on the panel's grid; ``fill`` where no row is."""
        out = np.full(self.shape, fill, dtype=values.dtype)
        out[self.iy[idx], self.ix[idx]] = values[idx]
        return out


# customdata columns of a heatmap cell, and the template that reads them
CELL_FIELDS = ("x", "y", "center", "lower", "upper", "n", "truncation_rate", "invalid_rate", "tokens")


def _hovertemplate(panel: Panel, label: str) -> str:
    """One template per heatmap: the words once, the numbers from each cell's customdata."""
    i = {f: f"customdata[{k}]" for k, f in enumerate(CELL_FIELDS)}
    return (f"<b>{label}</b> · {panel.view}<br>{dim_label(panel.x)} = %{{{i['x']}}}, "
            f"{dim_label(panel.y)} = %{{{i['y']}}}<br>"
            f"accuracy %{{{i['center']}:.3f}} [95% CI %{{{i['lower']}:.3f}} – %{{{i['upper']}:.3f}}]<br>"
            f"n = %{{{i['n']}:,.1f}} · truncated %{{{i['truncation_rate']}:.1%}} · "
            f"invalid %{{{i['invalid_rate']}:.1%}}<br>tokens mean %{{{i['tokens']}}}<extra></extra>")


MARK_STYLE = {
    "safe": dict(symbol="star", size=13, color=palette.SAFE_ZONE_COLOR, line=dict(color="#1b4d2c", width=1.5)),
    "truncation": dict(symbol="diamond", size=10, color=palette.TRUNCATION_COLOR, line=dict(color="white", width=1.2)),
}


def _mark_trace(kind: str, cells: _Cells, idx: np.ndarray, label: str, eval_id: str) -> dict[str, Any] | None:
    """Safe-zone stars (upper-left of a cell) or truncation diamonds (upper-right) on the marked cells; None if none."""
    sel = idx[cells.marked[kind][idx]]
    if not len(sel):
        return None
    view = cells.panel.view
    if kind == "safe":
        text, what = cells.lower[sel], f"lower CI %{{text:.3f}} ≥ {SAFE_LOWER}"
    else:
        text, what = cells.truncation[sel], f"truncated %{{text:.1%}} > {100 * TRUNCATION_MARK:.0f}%"
    return dict(
        type="scatter", x=cells.ix[sel] + (-0.3 if kind == "safe" else 0.3), y=cells.iy[sel] + 0.3, mode="markers",
        marker=MARK_STYLE[kind], showlegend=False, legendgroup=kind,
        name=f"{'safe zone' if kind == 'safe' else 'truncation'} · {view} · {label}",
        meta={"mark": kind, "view": view, "eval_id": eval_id},
        customdata=np.stack([cells.x_raw[sel], cells.y_raw[sel]], axis=1),
        text=text_of(text),
        hovertemplate=what + "<extra></extra>")


def _gap_trace(cells: _Cells, z: np.ndarray, idx: np.ndarray, label: str, eval_id: str) -> dict[str, Any] | None:
    """Invisible points on blank cells, so hovering one says why it is blank (no samples, or none scored)."""
    ys, xs = np.nonzero(np.isnan(z))
    if not len(xs):
        return None
    p = cells.panel
    samples = cells.grid(cells.samples, idx, fill=0.0)
    text = [f"<b>{label}</b> · {p.view}<br>{dim_label(p.x)} = {axis_label(p.x_values[i])}, "
            f"{dim_label(p.y)} = {axis_label(p.y_values[j])}<br>"
            + (f"{num(samples[j, i])} samples, none scored: accuracy undefined" if samples[j, i] > 0 else "no samples")
            for j, i in zip(ys.tolist(), xs.tolist())]
    return dict(type="scatter", x=xs, y=ys, mode="markers", marker=dict(size=18, opacity=0), showlegend=False,
                name=f"blank cells · {p.view} · {label}", meta={"mark": "blank", "view": p.view, "eval_id": eval_id},
                text=text, hovertemplate="%{text}<extra></extra>")


def _panel_traces(cells: _Cells, eval_id: str, label: str, cell_text: bool) -> list[dict[str, Any]]:
    """Heatmap of one (view, eval) cell of the grid, its marks, and the hover for blank cells."""
    p = cells.panel
    idx = cells.by_eval.get(eval_id, np.zeros(0, np.int64))
    z = cells.grid(cells.center, idx)
    heat = dict(type="heatmap", z=z, x=np.arange(cells.shape[1]), y=np.arange(cells.shape[0]),
                coloraxis="coloraxis", customdata=cells.grid(cells.custom, idx, fill=None),
                hovertemplate=_hovertemplate(p, label), hoverongaps=False, xgap=1, ygap=1,
                name=f"{p.view} · {label}", meta={"view": p.view, "eval_id": eval_id})
    if cell_text:
        heat.update(texttemplate="%{z:.2f}", textfont=dict(size=12))
    extra = [_mark_trace("safe", cells, idx, label, eval_id), _mark_trace("truncation", cells, idx, label, eval_id),
             _gap_trace(cells, z, idx, label, eval_id)]
    return [heat] + [t for t in extra if t is not None]


def _axes(panel: Panel, first_col: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """x and y axis of one grid cell: indices ticked with the parameter values."""
    def axis(values: Sequence[Any], title: str | None) -> dict[str, Any]:
        return dict(tickmode="array", tickvals=list(range(len(values))), ticktext=[axis_label(v) for v in values],
                    range=[-0.5, len(values) - 0.5], title=dict(text=title, standoff=4), showgrid=False,
                    zeroline=False)
    return axis(panel.x_values, dim_label(panel.x)), axis(panel.y_values, dim_label(panel.y) if first_col else None)


def build(panels: Sequence[Panel], *, labels: Mapping[str, str], title: str, subtitle: str | None = None) -> go.Figure:
    """Grid of heatmaps of ``center`` on the fixed 0..1 red-yellow-green scale, with the two marks."""
    labels = shown_names(labels)
    panels = [replace(p, view=short(p.view, MAX_NAME_CHARS)) for p in panels]
    eval_ids = list(labels)
    shape = grid_shape(len(panels), len(eval_ids))
    layout = grid_layout(shape, [p.view for p in panels], [labels[e] for e in eval_ids])
    traces: list[dict[str, Any]] = []
    for v, panel in enumerate(panels):
        cell_text = (len(panel.x_values) * len(panel.y_values) <= MAX_CELL_TEXT
                     and len(panel.x_values) * shape.columns <= MAX_CELLS_ACROSS)
        cells = _Cells(panel)
        for k, e in enumerate(eval_ids):
            r, c = shape.place(v, k)
            xa, ya = subplot_axes(r, c, shape.columns)
            traces += [{**t, "xaxis": xa, "yaxis": ya} for t in _panel_traces(cells, e, labels[e], cell_text)]
            x_axis, y_axis = _axes(panel, c == 1)
            layout["xaxis" + xa[1:]].update(x_axis)
            layout["yaxis" + ya[1:]].update(y_axis)
    traces += [dict(type="scatter", x=[None], y=[None], mode="markers", name=name, legendgroup=kind,
                    marker={**MARK_STYLE[kind], "size": size}, hoverinfo="skip")
               for kind, name, size in (("safe", f"safe zone: lower CI ≥ {SAFE_LOWER}", 14),
                                        ("truncation", f"truncation > {TRUNCATION_MARK:.0%} of samples", 11))]
    layout["coloraxis"] = dict(colorscale=palette.ACCURACY_COLORSCALE, cmin=palette.ACCURACY_RANGE[0],
                               cmax=palette.ACCURACY_RANGE[1],
                               colorbar=dict(title=dict(text="accuracy<br>(Wilson<br>center)"),
                                             tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1.0], len=min(1.0, 0.9),
                                             y=0.5, yanchor="middle", x=1.0, xanchor="left", xpad=40))
    layout = merged(layout, page_layout(title=title, subtitle=subtitle, width=shape.width, height=shape.height,
                                        right=GRID_RIGHT, top=GRID_TOP, bottom=GRID_BOTTOM),
                    {"legend": BOTTOM_LEGEND,
                     "meta": {"projection": "surface", "axes": {p.view: _axes_meta(p) for p in panels}}})
    return assemble(traces, layout)


def grid_layout(shape: GridShape, views: Sequence[str], eval_labels: Sequence[str]) -> dict[str, Any]:
    """The subplot grid of ``shape``: eval titles over each band's first row, view titles right of every row.

    Cells of the last band that hold no eval are hidden. The 3-D surface places its scenes on the same grid.
    """
    titles = [""] * (shape.rows * shape.columns)
    for k, label in enumerate(eval_labels):
        r, c = shape.place(0, k)
        titles[(r - 1) * shape.columns + c - 1] = eval_title(label)
    layout = subplot_grid(shape.rows, shape.columns, subplot_titles=titles,
                          row_titles=[short(views[r % shape.views], 30) for r in range(shape.rows)],
                          horizontal_spacing=shape.horizontal_spacing, vertical_spacing=shape.vertical_spacing)
    for ann in layout["annotations"]:   # eval titles and view titles a notch smaller
        ann["font"] = dict(size=13)
    for k in range(shape.evals, shape.bands * shape.columns):
        for v in range(shape.views):
            xa, ya = subplot_axes(*shape.place(v, k), shape.columns)
            layout["xaxis" + xa[1:]]["visible"] = False
            layout["yaxis" + ya[1:]]["visible"] = False
    return layout


def _axes_meta(panel: Panel) -> dict[str, Any]:
    """A view's two dimensions and their values in cell order: a clicked cell's (x, y) indices name its point.

    Dash's click data on a heatmap has the cell's indices but not its customdata, so the
    dashboard's drill-down to the probe reads the values here (``app.web.drill``).
    """
    def plain(v: Any) -> Any:
        return v.item() if isinstance(v, np.generic) else v
    return {"x": panel.x, "y": panel.y, "x_values": [plain(v) for v in panel.x_values],
            "y_values": [plain(v) for v in panel.y_values]}
