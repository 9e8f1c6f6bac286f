"""Callbacks every projection page shares, registered once per app.

- controls → URL: any change writes the canonical query to the location; Dash
  Pages then re-renders the page from the URL, so the URL is the only state and
  back/forward replay exactly what was shown;
- view: the page's state → cached view summary → figure cards, notes, next steps;
- figures: the browser fetches each figure's cached JSON (clientside);
- drill-down: a click on a point of a page that declares one opens the declared page
  narrowed to that point (spiderweb → surface; compression dot, surface cell, hazard bin
  → probe; the rules are in :mod:`app.web.drill`); the probe's own callbacks are in
  :mod:`app.web.probe`;
- small helpers: canonical URL in the address bar, split picker, dataset switch.
  The filter bar's own callbacks are in :mod:`app.web.filter_bar`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from dash import ALL, MATCH, ClientsideFunction, Dash, Input, Output, State, ctx, get_relative_path, html, no_update

from app.engine.errors import InputError
from app.projections.spec import SPECS, ProjectionSpec, declared
from app.web import compute, drill, filter_bar, ids, inputs, probe, report
from app.web.page import view_children
from app.web.services import current
from app.web.state import SHOW, decode, encode, parse_query

log = logging.getLogger(__name__)


def _href(page: str, search: str) -> str:
    """Where a control sends the browser: the page's path (under the URL prefix) and its new query.

    Callbacks navigate by writing the Location's ``href``, not its ``search``: a page whose link was
    rewritten in place (``canonicalUrl``) leaves the Location holding the old href, and a changed
    ``search`` alone makes it push that old address back (the change is lost). A new href is pushed as is.
    """
    spec = declared(page)
    return get_relative_path(spec.path if spec is not None else "/") + search


def _query_from_controls(base: dict[str, Any], filters: dict[str, Any], truncation: str,
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
    """Every shared callback, the filter bar's, and one drill-down per page that declares it."""

    @app.callback(
        Output(ids.LOCATION, "href"), Output(ids.FB_ERROR, "children"),
        # optional: the probe page has the filter bar but no truncation mode and its own callback (app.web.probe)
        *filter_bar.INPUTS, Input(ids.OPT_TRUNCATION, "value", allow_optional=True), Input(ids.option(ALL), "value"),
        State(ids.option(ALL), "id"), State(ids.VIEW_QUERY, "data", allow_optional=True),
        prevent_initial_call=True,
    )
    def controls_to_url(evals, tasks, groups, other, truncation, option_values, option_ids, current_view):
        """Validate the controls with the same parser as the URL; navigate only to a valid state."""
        if len(ctx.triggered) > 1 or current_view is None:  # just drawn (every control "changed"), or not a
            return no_update, no_update                     # projection page: nothing to write
        page, current_search = inputs.view_query(current_view)
        inputs.require(inputs.is_texts(evals), inputs.is_texts(tasks), inputs.is_text(groups), inputs.is_text(other),
                       inputs.is_text(truncation), isinstance(option_values, list), isinstance(option_ids, list),
                       all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in option_ids or [None]))
        services = current()
        base = parse_query(current_search)
        try:
            filters = filter_bar.bar_filters(evals, tasks, groups, other)
        except InputError as exc:
            return no_update, str(exc)
        query = _query_from_controls(base, filters, truncation, option_ids, option_values)
        split = SPECS[page].split if page in SPECS else None
        if SHOW in base and ctx.triggered_id != ids.option(split):
            query[SHOW] = base[SHOW]  # keep the value shown while other controls change, if it still exists
            if any(n.startswith("show=") for n in decode(page, query, services.registry).notices):
                query.pop(SHOW)
        decoded = decode(page, query, services.registry)
        if decoded.notices:
            return no_update, " ".join(n.replace("The filter", "Filter") for n in decoded.notices)
        search = encode(decoded.state, services.registry)
        if search == current_search:
            return no_update, ""
        return _href(page, search), ""

    @app.callback(Output(ids.LOCATION, "href", allow_duplicate=True), Input(ids.SPLIT_SHOW, "value"),
                  State(ids.SPLIT_SHOWN, "data"), State(ids.VIEW_QUERY, "data"), prevent_initial_call=True)
    def show_split_value(value, shown, current_view):
        """The split picker: same view, another value of the split dimension."""
        if value == shown:  # the picker was just drawn with the value on screen
            return no_update
        page, current_search = inputs.view_query(current_view)
        services = current()
        query = parse_query(current_search)
        query[SHOW] = str(value)
        decoded = decode(page, query, services.registry)
        search = encode(decoded.state, services.registry)
        return no_update if decoded.notices or search == current_search else _href(page, search)

    @app.callback(
        Output(ids.VIEW_AREA, "children"), Output(ids.NEXT_STEPS, "children"), Output(ids.VIEW_NOTES, "children"),
        Output(ids.CLI_COMMAND, "children"), Output(ids.DOWNLOAD_CSV, "href"),
        Input(ids.VIEW_QUERY, "data"),
    )
    def render_view(data):
        """State → cached view → cards (figure JSON is fetched by the browser, see fetchFigure).

        A page whose layout already holds its view (``filled``: it was in the cache) has nothing to render.
        """
        page, search = inputs.view_query(data)
        if data.get("filled") is True:
            return no_update, no_update, no_update, no_update, no_update
        inputs.require(page in SPECS)
        services = current()
        decoded = decode(page, parse_query(search), services.registry)
        try:
            view = compute.view(services, decoded.state)
        except Exception:  # a bug, not bad input: say so without a traceback, keep it in the log
            log.exception("view %s failed", data)
            return (html.Div("Internal error while computing this view; the server log has the details.",
                             className="alert alert-danger", id=ids.INTERNAL_ERROR), None, None, no_update,
                    no_update)
        return view_children(decoded.state, view, services)

    app.clientside_callback(
        ClientsideFunction("profile", "fetchFigure"),
        Output(ids.graph(MATCH, MATCH), "figure"),
        Input(ids.figure_src(MATCH, MATCH), "data"),
    )
    app.clientside_callback(
        ClientsideFunction("profile", "canonicalUrl"),
        Output(ids.CANONICAL_URL, "children"),
        Input(ids.VIEW_QUERY, "data"),
    )

    @app.callback(Output(ids.LOCATION, "href", allow_duplicate=True), Input(ids.DATASET_SELECT, "value"),
                  State(ids.LOCATION, "search"), State(ids.LOCATION, "pathname"), prevent_initial_call=True)
    def switch_dataset(name, search, pathname):
        """Another dataset: same page, that dataset's defaults (filters rarely carry over).

        The select also "changes" when a page is drawn; the dataset already shown keeps its link whole.
        """
        services = current()
        if not name or name not in services.registry.names:
            return no_update
        shown = parse_query(search).get("dataset")
        shown = shown[0] if isinstance(shown, list) else shown
        if shown not in services.registry.names:  # what decode shows for a missing or unknown name
            shown = services.registry.default
        if name == shown:
            return no_update
        here = pathname if isinstance(pathname, str) and pathname.startswith("/") else get_relative_path("/")
        return here + ("" if name == services.registry.default else f"?dataset={name}")

    filter_bar.register(app)
    probe.register(app)
    report.register(app)
    for spec in SPECS.values():
        if spec.drill_down is not None:
            _register_drill_down(app, spec)


def _register_drill_down(app: Dash, spec: ProjectionSpec) -> None:
    """A click on a point of ``spec``'s figures opens the declared page narrowed to it (see ``app.web.drill``)."""
    assert spec.drill_down is not None
    how = spec.drill_down

    @app.callback(
        Output(ids.LOCATION, "href", allow_duplicate=True),
        Input(ids.graph(spec.name, ALL), "clickData"),
        # optional: the set of graphs changes as the target page replaces this one, which triggers this
        # callback once more where this page's view store is gone (view_query then stops it)
        State(ids.VIEW_QUERY, "data", allow_optional=True),
        prevent_initial_call=True,
    )
    def drill_down(clicks, view):
        """The clicked point → the target page narrowed to what it stands for (the URL is the only state)."""
        click = ctx.triggered[0]["value"] if ctx.triggered else None
        _, shown_search = inputs.view_query(view)
        points = click.get("points") if isinstance(click, dict) else None
        inputs.require(isinstance(points, list))
        target = declared(how.page)
        if not points or not isinstance(points[0], dict) or target is None:
            return no_update
        services = current()
        state = decode(spec.name, parse_query(shown_search), services.registry).state
        index = ctx.triggered_id.get("index", 0) if isinstance(ctx.triggered_id, dict) else 0
        search = drill.search_for(how, state, points[0], index, services)
        if search is None:
            return no_update
        return get_relative_path(target.path) + search
