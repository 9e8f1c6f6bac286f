"""Drill-downs: a clicked mark → the query of the page that shows what is behind it.

Each projection that declares a :class:`~app.projections.spec.DrillDown` has one click
callback (``app.web.callbacks``); it hands the clicked point here, and what the point
stands for decides the target's query (:class:`~app.projections.spec.DrillKind`):

- ``axis`` (spiderweb): customdata ``[eval_id, axis value]`` → the surface of that eval and value;
- ``completion`` (compression): customdata is the dot's sample row → the probe opened on that
  completion (``row``), its filters narrowed to its point (eval, task, params), so "list every
  completion" next to it shows its neighbours at the same difficulty;
- ``cell`` (surface): the heatmap trace's meta names the view and eval, the point's x/y are the
  cell's indices into the view's axis values (the figure's ``layout.meta.axes``) → the probe on
  that point: the page's filters AND the view's own AND that eval and the two values;
- ``bin`` (hazard): the trace's meta names the series; a failure-hazard point at a bin's start
  ``x`` is the bin ``[x, x + bucket)`` (the trace's last point repeats the last bin's end) → the
  probe on that series' completions that ended in that bin (every outcome); a cumulative-incidence
  point at ``x`` is the bin ending there, for that event only.

Dash's click data carries a heatmap cell's x, y and curve number but not its customdata or its
trace's meta, so ``cell`` and ``bin`` read the trace's meta from the view's cached figure JSON.
Anything that does not resolve (a budget marker, a stale click) gives None: the page stays.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Mapping

import numpy as np

from app.engine import filters as flt
from app.engine.errors import InputError
from app.projections.base import NONE
from app.projections.spec import DrillDown, DrillKind
from app.web import compute
from app.web.services import Services
from app.web.state import State, carry

Point = Mapping[str, Any]


def search_for(drill: DrillDown, state: State, point: Point, index: int, services: Services) -> str | None:
    """The target page's query for a click on ``point`` of figure ``index`` of the page in ``state``, or None."""
    try:
        if drill.kind is DrillKind.AXIS:
            return _axis(drill, state, point, services)
        if drill.kind is DrillKind.COMPLETION:
            return _completion(drill, state, point, services)
        figure = _figure(services, state, index)
        if figure is None:
            return None
        if drill.kind is DrillKind.CELL:
            return _cell(drill, state, point, figure, services)
        return _bin(drill, state, point, figure, services)
    except (InputError, KeyError, IndexError, TypeError, ValueError):  # a stale or foreign click: stay put
        return None


def _axis(drill: DrillDown, state: State, point: Point, services: Services) -> str | None:
    data = point.get("customdata")
    if not isinstance(data, list) or len(data) < 2:
        return None
    axis = state.options[drill.axis]
    return carry(state, drill.page, services.registry, {"eval_id": [data[0]], axis: [data[1]]})


def _whole(value: Any) -> int | None:
    """A click value that must be a whole number (JSON may send 12 or 12.0), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        return None
    return int(value)


def _completion(drill: DrillDown, state: State, point: Point, services: Services) -> str | None:
    data = point.get("customdata")
    row = _whole(data[0] if isinstance(data, list) and data else data)
    if row is None:
        return None
    ds = services.registry.get(state.dataset)
    found = ds.completions(rows=[row], limit=1, text=False)
    if found.empty:
        return None
    one = found.iloc[0]
    overrides: dict[str, Any] = {"eval_id": [one["eval_id"]], "base_task": [one["base_task"]]}
    overrides.update({f"params.{k}": [v] for k, v in one["params"].items()
                      if v is not None and f"params.{k}" in ds.dimension_names})
    return carry(state, drill.page, services.registry, overrides, {"row": (row,)})


def _figure(services: Services, state: State, index: int) -> dict[str, Any] | None:
    """The view's figure ``index`` as the page drew it (from the cache; computed on a miss)."""
    text = compute.part(services, state, f"fig:{index}")
    return None if text is None else json.loads(text)


def _trace_meta(figure: Mapping[str, Any], point: Point) -> dict[str, Any]:
    curve = _whole(point.get("curveNumber"))
    if curve is None:
        raise KeyError("curveNumber")
    return dict(figure["data"][curve].get("meta") or {})


def _cell(drill: DrillDown, state: State, point: Point, figure: Mapping[str, Any], services: Services) -> str | None:
    meta = _trace_meta(figure, point)
    view_name, eval_id = str(meta["view"]), meta.get("eval_id")
    axes = figure["layout"]["meta"]["axes"][view_name]
    xi, yi = round(float(point["x"])), round(float(point["y"]))
    if not (0 <= xi < len(axes["x_values"]) and 0 <= yi < len(axes["y_values"])) or eval_id is None:
        return None
    ds = services.registry.get(state.dataset)
    view = ds.view(view_name)
    own = ds.parse_filters(view.filters)
    if view.base_task is not None:
        own = flt.merge(own, {"base_task": [view.base_task]})
    run, _ = compute.resolve(services, state)
    filters = flt.merge(run.filters, own)
    filters.update({"eval_id": [eval_id], axes["x"]: [axes["x_values"][xi]], axes["y"]: [axes["y_values"][yi]]})
    if any(isinstance(v, list) and not v for v in filters.values()):
        return None
    return carry(State(state.page, state.dataset, flt.parse_filters(filters)), drill.page, services.registry)


def _length(values: Any) -> int:
    """Length of a trace array as plotly writes it: a list, or a typed array ``{dtype, bdata}`` (base64)."""
    if isinstance(values, dict) and "bdata" in values:
        return len(base64.b64decode(values["bdata"])) // np.dtype(values["dtype"]).itemsize
    return len(values)


def _bin(drill: DrillDown, state: State, point: Point, figure: Mapping[str, Any], services: Services) -> str | None:
    meta = _trace_meta(figure, point)
    bucket = int(state.options["bucket_size"])
    x = _whole(point.get("x"))
    if x is None:
        return None
    outcomes: tuple[str, ...] = ()
    number = _whole(point.get("pointNumber"))
    trace = figure["data"][int(point["curveNumber"])]
    if meta.get("kind") == "hazard":  # a point per bin start, then the last bin's end again (the step's width)
        last = number is not None and number == _length(trace["x"]) - 1
        start, end = (max(x - bucket, 0), x) if last else (x, x + bucket)
    elif meta.get("kind") == "cif":  # a point per bin end, after the origin
        if not number:
            return None
        start, end = max(x - bucket, 0), x
        events = {t.get("meta", {}).get("event") for t in figure["data"] if isinstance(t.get("meta"), dict)}
        event = meta["event"]
        outcomes = ("incorrect", "invalid") if event == "incorrect" and "invalid" not in events else (event,)
    else:  # a budget marker or a legend key: nothing behind it
        return None
    if end <= start:
        return None
    run, _ = compute.resolve(services, state)
    filters = dict(run.filters)
    series, group_by = meta.get("series"), state.options.get("group_by")
    if series is not None and group_by not in (None, NONE):
        filters[group_by] = [series]
    options = {"outcome": outcomes, "tokens": (start, end)}
    return carry(State(state.page, state.dataset, flt.parse_filters(filters)), drill.page, services.registry,
                 options=options)
