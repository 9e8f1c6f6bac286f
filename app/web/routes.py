"""Plain HTTP routes beside the Dash pages: /health, figure JSON, table CSV.

Figures travel as pre-encoded JSON straight from the cache (no re-encoding in a
callback), and the CSV is a normal link, so both also work from curl. Every
response that touched the view cache says so in headers, which is how the
multi-worker test sees one worker serve what another computed.
"""

from __future__ import annotations

import os
import re
import time

from flask import Flask, Response, g, jsonify, request

from app.engine.errors import InputError
from app.web import compute
from app.web.services import current
from app.web.specs import SPECS
from app.web.state import decode, parse_query

API = "_profile"


def figure_url(prefix: str, page: str, index: int, search: str) -> str:
    return f"{prefix}{API}/figure/{page}/{index}.json{search}"


def table_url(prefix: str, page: str, search: str) -> str:
    return f"{prefix}{API}/table/{page}.csv{search}"


def _strict_state(page: str):
    """The state a query names; any notice is an error here (pages only link canonical queries)."""
    if page not in SPECS:
        return None, (404, f"unknown page {page!r}")
    services = current()
    try:
        decoded = decode(page, parse_query(request.query_string.decode("utf-8", "replace")), services.registry)
    except InputError as exc:
        return None, (400, str(exc))
    if decoded.notices:
        return None, (400, " ".join(decoded.notices))
    return decoded.state, None


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "table"


def register(server: Flask, prefix: str) -> None:
    """Add the routes under the app's URL prefix ('/' or '/profile/')."""

    def health() -> Response:
        services = current()
        names = services.registry.names
        body = {"status": "ok" if names else "no-data", "datasets": names, "opened": services.registry.opened(),
                "cache": services.settings.cache_backend, "pid": os.getpid()}
        return jsonify(body), (200 if names else 503)

    server.add_url_rule(f"{prefix}health", "profile_health", health)
    if prefix != "/":
        server.add_url_rule("/health", "profile_health_root", health)

    def figure(page: str, index: int) -> Response:
        state, error = _strict_state(page)
        if error:
            return Response(error[1], status=error[0], mimetype="text/plain")
        text = compute.part(current(), state, f"fig:{index}")
        if text is None:
            return Response(f"no figure {index} in this view", status=404, mimetype="text/plain")
        return Response(text, mimetype="application/json")

    server.add_url_rule(f"{prefix}{API}/figure/<page>/<int:index>.json", "profile_figure", figure)

    def table(page: str) -> Response:
        state, error = _strict_state(page)
        if error:
            return Response(error[1], status=error[0], mimetype="text/plain")
        text = compute.part(current(), state, "csv")
        if text is None:
            return Response("nothing to export: this view has no rows", status=404, mimetype="text/plain")
        name = _safe(f"{page}-{state.dataset}")
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
            response.headers["X-Profile-Worker"] = str(os.getpid())
            response.headers["Server-Timing"] = f"view;desc={g.profile_cache};dur={g.profile_ms:.2f}, app;dur={total:.2f}"
        return response
