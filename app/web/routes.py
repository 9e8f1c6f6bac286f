"""Plain HTTP routes beside the Dash pages: /health, figure JSON, table CSV.

Figures travel as pre-encoded JSON straight from the cache (no re-encoding in a
callback), and the CSV is a normal link, so both also work from curl. Every
response that touched the view cache says so in headers, which is how the
multi-worker test sees one worker serve what another computed.
"""

from __future__ import annotations

import json
import time

from dash import get_relative_path
from flask import Flask, Response, g, jsonify, request

from app.engine.bounded_json import shown
from app.engine.errors import InputError
from app.projections.base import safe_name
from app.projections.spec import SPECS
from app.web import compute
from app.web.health import report as health_report
from app.web.redact import redact
from app.web.services import current
from app.web.state import State, decode, encode, parse_query

API = "_profile"


def figure_url(prefix: str, page: str, index: int, search: str) -> str:
    """Where the browser fetches figure ``index`` of a view (pre-encoded JSON from the cache)."""
    return f"{prefix}{API}/figure/{page}/{index}.json{search}"


def view_figures_url(prefix: str, page: str, search: str) -> str:
    """Every figure of the view a page's URL shows, as one JSON document (fetched as the page loads, app.web.boot)."""
    return f"{prefix}{API}/view/{page}.json{search}"


def table_url(prefix: str, page: str, search: str) -> str:
    """The view's table as CSV (the rows ``--format csv`` writes)."""
    return f"{prefix}{API}/table/{page}.csv{search}"


def _text(message: str, status: int) -> Response:
    """A one-line answer for a person, with no server path in it (see app.web.redact)."""
    return Response(redact(message, current()), status=status, mimetype="text/plain")


def _strict_state(page: str) -> State | Response:
    """The state a query names, or the error response: any notice is an error here (pages link canonical queries)."""
    if page not in SPECS:
        return _text(f"unknown page {shown(page)}", 404)
    services = current()
    try:
        decoded = decode(page, parse_query(request.query_string.decode("utf-8", "replace")), services.registry)
    except InputError as exc:
        return _text(str(exc), 400)
    if decoded.notices:
        return _text(" ".join(decoded.notices), 400)
    return decoded.state


def _why_empty(state: State) -> str | None:
    """The empty view's own sentence (nothing matches, bucket size too small, figure too large), if it is empty."""
    summary = compute.view(current(), state).summary
    return summary.message if summary.status is not compute.ViewStatus.OK and summary.message else None


def register(server: Flask, prefix: str) -> None:
    """Add the routes under the app's URL prefix ('/' or '/profile/')."""

    def health() -> tuple[Response, int]:
        body, status = health_report(current())  # each part's state; 503 only when no figure can be served
        return jsonify(body), status

    server.add_url_rule(f"{prefix}health", "profile_health", health)
    if prefix != "/":
        server.add_url_rule("/health", "profile_health_root", health)

    def figure(page: str, index: int) -> Response:
        state = _strict_state(page)
        if isinstance(state, Response):
            return state
        text = compute.part(current(), state, f"fig:{index}")
        if text is None:
            return _text(_why_empty(state) or f"no figure {index} in this view", 404)
        return Response(text, mimetype="application/json")

    server.add_url_rule(f"{prefix}{API}/figure/<page>/<int:index>.json", "profile_figure", figure)

    def table(page: str) -> Response:
        state = _strict_state(page)
        if isinstance(state, Response):
            return state
        text = compute.part(current(), state, "csv")
        if text is None:
            return _text(_why_empty(state) or "nothing to export: this view has no rows", 404)
        name = safe_name(f"{page}-{state.dataset}", "table")
        return Response(text, mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})

    server.add_url_rule(f"{prefix}{API}/table/<page>.csv", "profile_table", table)

    def view_figures(page: str) -> Response:
        """``{"figures": {figure URL: figure}}`` for the view a page's URL shows, read as the page reads it.

        The query is decoded leniently, as the page does (what it ignores, it says on the page), and
        the keys are the figure URLs the page's cards will name, so ``fetchFigure`` finds each one
        here. Anything that keeps the view from being drawn gives no figures: the page itself says why.
        """
        if page not in SPECS:
            return _text(f"unknown page {shown(page)}", 404)
        services = current()
        figures: list[str] = []
        try:
            state = decode(page, parse_query(request.query_string.decode("utf-8", "replace")),
                           services.registry).state
            _, texts = compute.figures(services, state)
        except InputError:
            texts = []
        if texts:
            search, prefix_now = encode(state, services.registry), get_relative_path("/")
            figures = [f"{json.dumps(figure_url(prefix_now, page, i, search))}:{text}" for i, text in enumerate(texts)]
        return Response('{"figures":{' + ",".join(figures) + "}}", mimetype="application/json",
                        headers={"Cache-Control": "no-store"})

    server.add_url_rule(f"{prefix}{API}/view/<page>.json", "profile_view_figures", view_figures)

    @server.before_request
    def _start_clock() -> None:
        g.profile_started = time.perf_counter()

    @server.after_request
    def _timing_headers(response: Response) -> Response:
        """``Server-Timing`` on every response (app: the whole request); on those that read the view cache
        also ``view`` (hit or miss, and the time it took) and ``wait`` (time spent waiting for another
        request computing the same view), with ``X-Profile-Cache``: how the page-speed benchmark and the
        multi-worker tests see where time went.
        """
        started = getattr(g, "profile_started", None)
        if started is None:
            return response
        timings = []
        if getattr(g, "profile_cache", None):
            response.headers["X-Profile-Cache"] = g.profile_cache
            timings.append(f"view;desc={g.profile_cache};dur={g.profile_ms:.2f}")
            if getattr(g, "profile_wait_ms", 0.0):
                timings.append(f"wait;dur={g.profile_wait_ms:.2f}")
        timings.append(f"app;dur={(time.perf_counter() - started) * 1000:.2f}")
        response.headers["Server-Timing"] = ", ".join(timings)
        return response
