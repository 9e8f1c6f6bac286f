"""The floor a page's speed is measured against (``python -m bench.pages``).

``gunicorn bench.floor:server`` serves the dashboard exactly as ``app.wsgi`` does, plus one bare
page per projection, ``/_bench/floor/<page>?<query>``: HTML that loads the same plotly.min.js the
dashboard loads and draws the same figure JSON (the view's figures, from the same route the
dashboard's pages fetch them from), starting both at once and doing nothing else. No page that
shows those figures can be faster; the benchmark reports each page's time as a multiple of it.
``/_bench/floor-full/<page>`` is the same with plotly.py's full plotly.min.js (4.8 MB), the floor
before the pages moved to the partial build: a reference column, not a target.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import plotly
from dash.fingerprint import build_fingerprint
from flask import Response, request

from app.projections.spec import SPECS
from app.web.boot import plotly_url
from app.web.routes import view_figures_url
from app.wsgi import app, server

FLOOR_JS = Path(__file__).with_name("floor.js")
PREFIX = "/_bench/"
FULL_PLOTLY = "package_data/plotly.min.js"


def full_plotly_url(prefix: str) -> str:
    """plotly.py's own full plotly.min.js (4.8 MB), as Dash serves it: the floor the issue first measured against."""
    path = Path(plotly.__file__).parent / FULL_PLOTLY
    return (f"{prefix}_dash-component-suites/plotly/"
            f"{build_fingerprint(FULL_PLOTLY, plotly.__version__, int(path.stat().st_mtime))}")


def floor_page(page: str, full: bool = False) -> Response:
    """The bare page for ``page`` with the request's query (``full``: with the full plotly.js instead)."""
    if page not in SPECS:
        return Response(f"no projection {escape(page)}", status=404, mimetype="text/plain")
    prefix = app.config.requests_pathname_prefix
    query = request.query_string.decode("utf-8", "replace")
    view = view_figures_url(prefix, page, f"?{query}" if query else "")
    plotly_js = full_plotly_url(prefix) if full else plotly_url(prefix)
    attrs = f'data-plotly="{escape(plotly_js)}" data-view="{escape(view)}"'
    html = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>floor: {escape(page)}</title>'
            f'<link rel="preload" as="script" href="{escape(plotly_js)}">'
            f'<script src="{PREFIX}floor.js" {attrs}></script></head>'
            '<body><div id="figures"></div></body></html>')
    return Response(html, mimetype="text/html")


def floor_script() -> Response:
    return Response(FLOOR_JS.read_text(encoding="utf-8"), mimetype="application/javascript")


server.add_url_rule(f"{PREFIX}floor/<page>", "bench_floor", floor_page)
server.add_url_rule(f"{PREFIX}floor-full/<page>", "bench_floor_full", lambda page: floor_page(page, full=True))
server.add_url_rule(f"{PREFIX}floor.js", "bench_floor_js", floor_script)
