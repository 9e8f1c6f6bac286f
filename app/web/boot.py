"""What a page's HTML starts at once, before any Dash round trip: plotly.js and the view's figures.

Dash serves one HTML shell for every path; its renderer then asks the server, in turn, for the
layout, the callbacks, the page (routing callback) and the view (render callback), and only a
mounted ``dcc.Graph`` asks for plotly.js. Left alone, the browser starts the two expensive
things, plotly.js and the view's computation, after three round trips. Here the shell's head carries
``boot.js`` with:

* plotly.js: ``assets/plotly-partial.min.js``, plotly.js built with only the trace types the
  figures draw (``scripts/plotly-bundle``; 1.7 MB instead of 4.8, half the time to evaluate), served
  under a name that holds its content hash, so the browser keeps it for good. A page that draws
  figures preloads it and ``boot.js`` runs it at once; any other page loads it only when a graph
  first asks. Until it has run, ``window.Plotly`` is a promise of it, which ``dcc.Graph``'s loader
  waits on (it loads its own, full plotly.js only when ``window.Plotly`` is missing);
* on a projection page, the address of the view's figures as one JSON document
  (:func:`app.web.routes.view_figures`), which ``boot.js`` fetches at once; the server computes
  the view meanwhile (the render callback then waits for that computation instead of repeating
  it, :mod:`app.web.single_flight`), and ``fetchFigure`` (profile.js) takes each figure from it.

It also leaves out the scripts of component libraries no page uses (``UNUSED_SCRIPTS``).
"""

from __future__ import annotations

import functools
import hashlib
import re
from html import escape
from typing import Any

from dash import Dash
from flask import Flask, Response, abort, has_request_context, request

from app.projections.spec import SPECS, declared
from app.web.routes import API, view_figures_url
from app.web.settings import ROOT

BOOT_ASSET = "boot.js"
PLOTLY_FILE = ROOT / "assets" / "plotly-partial.min.js"  # built by scripts/plotly-bundle/build.sh
# Dash must not add these at the end of every page's body as well: the head loads them, when needed
ASSETS_IGNORE = r"^(boot\.js|plotly-partial\.min\.js)$"
# dcc's lazily loaded parts every page with figures and the filter bar asks for once it has drawn its layout
CHUNKS = ("_dash-component-suites/dash/dcc/async-graph.js", "_dash-component-suites/dash/dcc/async-dropdown.js")
# Scripts Dash puts on every page that no page here needs: dash_table (no page has a DataTable) and
# Babel's polyfill for old browsers (Dash 2.7+ supports none of them). The polyfill's core-js also
# replaces String.prototype.trim with a slower one (it judges the native one non-compliant), which
# plotly.js calls for every text it draws. The async loader still finds regeneratorRuntime: the
# dash-bootstrap-components bundle defines it (tests/web/test_browser_boot.py checks).
UNUSED_SCRIPTS = re.compile(
    r'<script src="[^"]*/_dash-component-suites/dash/(dash_table/|deps/polyfill@)[^"]*"></script>\s*')


def page_of(path: str, prefix: str) -> str | None:
    """The declared page a request path shows (None: the overview, or no page)."""
    if not path.startswith(prefix):
        return None
    name = path[len(prefix):].strip("/")
    return name if name and declared(name) is not None else None


@functools.cache
def plotly_js() -> tuple[str, bytes]:
    """(the name plotly.js is served under, its bytes): read once; the name changes with the content."""
    data = PLOTLY_FILE.read_bytes()
    return f"plotly-{hashlib.sha256(data).hexdigest()[:16]}.min.js", data


def plotly_url(prefix: str) -> str:
    """Where the pages (and the benchmark's floor) load plotly.js from."""
    return f"{prefix}{API}/{plotly_js()[0]}"


def register(server: Flask, prefix: str) -> None:
    """Serve plotly.js under its content name, for the browser to keep (``immutable``: it never changes)."""

    def plotly(name: str) -> Response:
        served, data = plotly_js()
        if name != served:
            abort(404)
        return Response(data, mimetype="text/javascript",
                        headers={"Cache-Control": "public, max-age=31536000, immutable"})

    server.add_url_rule(f"{prefix}{API}/<name>", "profile_plotly", plotly)


def head_tags(app: Dash, path: str, query: str) -> str:
    """The early loads for the page at ``path`` with query ``query`` (see the module docstring)."""
    prefix = app.config.requests_pathname_prefix
    page = page_of(path, prefix)
    spec = declared(page) if page else None
    draws = spec is not None and (page in SPECS or getattr(spec, "draws_figures", False))
    plotly = plotly_url(prefix)
    attrs = {"src": app.get_asset_url(BOOT_ASSET), "data-plotly": plotly}
    if draws:
        attrs["data-eager"] = "plotly"
    if page in SPECS:
        attrs["data-view"] = view_figures_url(prefix, page, f"?{query}" if query else "")
    preloads = [plotly, *(prefix + chunk for chunk in CHUNKS)] if draws else []
    script = " ".join(f'{name}="{escape(value, quote=True)}"' for name, value in attrs.items())
    return "".join(f'<link rel="preload" as="script" href="{escape(url, quote=True)}">\n' for url in preloads) + \
        f"<script {script}></script>\n"


class ProfileDash(Dash):
    """Dash with the early loads of :func:`head_tags` in the head and unused libraries left out."""

    def interpolate_index(self, metas: Any = "", title: Any = "", css: Any = "", config: Any = "",
                          scripts: Any = "", app_entry: Any = "", favicon: Any = "", renderer: Any = "") -> Any:
        scripts = UNUSED_SCRIPTS.sub("", scripts)
        if has_request_context():
            metas += head_tags(self, request.path, request.query_string.decode("utf-8", "replace"))
        return super().interpolate_index(metas=metas, title=title, css=css, config=config, scripts=scripts,
                                         app_entry=app_entry, favicon=favicon, renderer=renderer)
