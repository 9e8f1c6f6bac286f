"""/spiderweb: cross-task fingerprint; a click on a point opens /surface for that eval and value."""

from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, callback, ctx, get_relative_path, no_update

from app.web.page import projection_layout
from app.web.services import current
from app.web.state import carry, decode, parse_query

PAGE = "spiderweb"
dash.register_page(__name__, path="/spiderweb", name="Spiderweb", title="Profile · Spiderweb", order=1)


def layout(**query):
    return projection_layout(PAGE, query)


@callback(
    Output("_pages_location", "pathname", allow_duplicate=True),
    Output("_pages_location", "search", allow_duplicate=True),
    Input({"type": "graph", "page": PAGE, "index": ALL}, "clickData"),
    State("view-query", "data"),
    prevent_initial_call=True,
)
def drill_down(clicks, view):
    """customdata = [eval_id, axis value] → the surface page filtered to both."""
    click = ctx.triggered[0]["value"] if ctx.triggered else None
    points = (click or {}).get("points") or []
    data = points[0].get("customdata") if points else None
    if not data or len(data) < 2:
        return no_update, no_update
    services = current()
    state = decode(PAGE, parse_query(view["search"]), services.registry).state
    axis = state.options["group_by"]
    search = carry(state, "surface", services.registry, {"eval_id": [data[0]], axis: [data[1]]})
    return get_relative_path("/surface"), search
