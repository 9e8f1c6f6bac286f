"""Plain HTTP routes beside the Dash pages: /health, figure JSON, table CSV.

Figures travel as pre-encoded JSON straight from the cache (no re-encoding in a
callback), and the CSV is a normal link, so both also work from curl. Every
response that touched the view cache says so in headers, which is how the
multi-worker test sees one worker serve what another computed.
"""

from __future__ import annotations

import time

from flask import Flask, Response, g, jsonify, request

from app.engine.bounded_json import shown
from app.engine.errors import InputError
from app.projections.base import safe_name
from app.projections.spec import SPECS
from app.web import compute
from app.web.health import report as health_report
from app.web.redact import redact
from app.web.services import current
from app.web.state import State, decode, parse_query

API = "_profile"


def figure_url(prefix: str, page: str, index: int, search: str) -> str:
    """Where the browser fetches figure ``index`` of a view (pre-encoded JSON from the cache)."""
    return f"{prefix}{API}/figure/{page}/{index}.json{search}"


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

    @server.before_request
    def _start_clock() -> None:
        g.profile_started = time.perf_counter()

    @server.after_request
    def _cache_headers(response: Response) -> Response:
        if getattr(g, "profile_cache", None):
            total = (time.perf_counter() - g.profile_started) * 1000
            response.headers["X-Profile-Cache"] = g.profile_cache
            response.headers["Server-Timing"] = (f"view;desc={g.profile_cache};dur={g.profile_ms:.2f}, "
                                                 f"app;dur={total:.2f}")
        return response
