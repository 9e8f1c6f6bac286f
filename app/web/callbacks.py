"""Callbacks every projection page shares, registered once per app.

- controls → URL: any change writes the canonical query to the location; Dash
  Pages then re-renders the page from the URL, so the URL is the only state and
  back/forward replay exactly what was shown;
- view: the page's state → cached view summary → figure cards, notes, next steps;
- figures: the browser fetches each figure's cached JSON (clientside);
- small helpers: canonical URL in the address bar, groups read-out, tag chips,
  dataset switch.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from dash import ALL, MATCH, ClientsideFunction, Dash, Input, Output, State, ctx, html, no_update

from app.engine.errors import InputError
from app.web import compute
from app.web.components import groups_reading
from app.web.page import view_children
from app.web.services import current
from app.web.specs import SHOW
from app.web.state import bar_filters, decode, encode, parse_query

log = logging.getLogger(__name__)
LOCATION = "_pages_location"


def _query_from_controls(page: str, base: dict[str, Any], filters: dict[str, Any], truncation: str,
                         option_ids: list[dict], option_values: list[Any]) -> dict[str, Any]:
    query: dict[str, Any] = {}
    if "dataset" in base:
        query["dataset"] = base["dataset"]
    if filters:
        query["filters"] = json.dumps(filters, ensure_ascii=False)
    query["truncation"] = truncation or "failure"
    for cid, value in zip(option_ids, option_values):
        if isinstance(value, list):
            query[cid["name"]] = [str(v) for v in value]
        else:
            query[cid["name"]] = "" if value is None else str(value)
    return query


def register(app: Dash) -> None:
    @app.callback(
        Output(LOCATION, "search"), Output("fb-error", "children"),
        Input("fb-evals", "value"), Input("fb-tasks", "value"), Input("fb-groups", "value"),
        Input("fb-more", "value"), Input("opt-truncation", "value"), Input({"type": "opt", "name": ALL}, "value"),
        State({"type": "opt", "name": ALL}, "id"), State("view-query", "data"),
        prevent_initial_call=True,
    )
    def controls_to_url(evals, tasks, groups, other, truncation, option_values, option_ids, current_view):
        """Validate the controls with the same parser as the URL; navigate only to a valid state."""
        if len(ctx.triggered) > 1:  # the page was just drawn (every control "changed"): nothing to write
            return no_update, no_update
        services = current()
        page = current_view["page"]
        base = parse_query(current_view["search"])
        try:
            filters = bar_filters(evals, tasks, groups, other)
        except InputError as exc:
            return no_update, str(exc)
        query = _query_from_controls(page, base, filters, truncation, option_ids, option_values)
        if SHOW in base and ctx.triggered_id != {"type": "opt", "name": "split_by"}:
            query[SHOW] = base[SHOW]  # keep the value shown while other controls change, if it still exists
            if any(n.startswith("show=") for n in decode(page, query, services.registry).notices):
                query.pop(SHOW)
        decoded = decode(page, query, services.registry)
        if decoded.notices:
            return no_update, " ".join(n.replace("The filter", "Filter") for n in decoded.notices)
        search = encode(decoded.state, services.registry)
        if search == current_view["search"]:
            return no_update, ""
        return search, ""

    @app.callback(Output(LOCATION, "search", allow_duplicate=True), Input("split-show", "value"),
                  State("split-shown", "data"), State("view-query", "data"), prevent_initial_call=True)
    def show_split_value(value, shown, current_view):
        """The split picker: same view, another value of the split dimension."""
        if value == shown:  # the picker was just drawn with the value on screen
            return no_update
        services = current()
        query = parse_query(current_view["search"])
        query[SHOW] = str(value)
        decoded = decode(current_view["page"], query, services.registry)
        search = encode(decoded.state, services.registry)
        return no_update if decoded.notices or search == current_view["search"] else search

    @app.callback(
        Output("view-area", "children"), Output("next-steps", "children"), Output("view-notes", "children"),
        Output("cli-command", "children"), Output("download-csv", "href"),
        Input("view-query", "data"),
    )
    def render_view(data):
        """State → cached view → cards (figure JSON is fetched by the browser, see fetchFigure)."""
        services = current()
        decoded = decode(data["page"], parse_query(data["search"]), services.registry)
        try:
            view = compute.view(services, decoded.state)
        except Exception:  # a bug, not bad input: say so without a traceback, keep it in the log
            log.exception("view %s failed", data)
            return (html.Div("Internal error while computing this view; the server log has the details.",
                             className="alert alert-danger", id="internal-error"), None, None, no_update, no_update)
        return view_children(decoded.state, view, services)

    app.clientside_callback(
        ClientsideFunction("profile", "fetchFigure"),
        Output({"type": "graph", "page": MATCH, "index": MATCH}, "figure"),
        Input({"type": "figure-src", "page": MATCH, "index": MATCH}, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("profile", "canonicalUrl"),
        Output("canonical-url", "children"),
        Input("view-query", "data"),
    )
    app.clientside_callback(
        ClientsideFunction("profile", "addTag"),
        Output("fb-groups", "value", allow_duplicate=True),
        Input({"type": "tag", "tag": ALL}, "n_clicks"),
        State("fb-groups", "value"),
        prevent_initial_call=True,
    )

    @app.callback(Output("fb-groups-plain", "children"), Output("fb-groups-plain", "className"),
                  Input("fb-groups", "value"), prevent_initial_call=True)
    def read_groups(text):
        """The groups field in plain words (AND/OR), from the engine's own parser."""
        words, ok = groups_reading(text)
        return words, "form-text" if ok else "form-text text-danger"

    @app.callback(Output(LOCATION, "search", allow_duplicate=True), Input("dataset-select", "value"),
                  prevent_initial_call=True)
    def switch_dataset(name):
        """Another dataset: same page, that dataset's defaults (filters rarely carry over)."""
        services = current()
        if not name or name not in services.registry.names:
            return no_update
        return "" if name == services.registry.default else f"?dataset={name}"
