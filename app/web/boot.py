"""What a page's HTML starts at once, before any Dash round trip: plotly.js and the view's figures.

Dash serves one HTML shell for every path; its renderer then asks the server, in turn, for the
layout, the callbacks, the page (routing callback) and the view (render callback), and only a
mounted ``dcc.Graph`` asks for plotly.js. Left alone, the browser starts the two expensive
things, plotly.js (4.8 MB to parse) and the view's computation, after three round trips.
Here the shell's head, for a page that draws figures, carries:

* a preload of plotly.js (the same URL ``dcc.Graph`` would load, so one download serves both)
  and ``boot.js``, which runs it at once and, until it has run, stands in for ``window.Plotly``
  with a promise of it: a graph mounted earlier waits for that instead of loading plotly.js again;
* for a projection page, the address of the view's figures as one JSON document
  (:func:`app.web.routes.view_figures`), which ``boot.js`` fetches at once; the server computes
  the view meanwhile (the render callback then waits for that computation instead of repeating
  it, :mod:`app.web.single_flight`), and ``fetchFigure`` (profile.js) takes each figure from it.

It also leaves out the scripts of component libraries no page uses (``UNUSED_SCRIPTS``).
"""

from __future__ import annotations

import functools
import re
from html import escape
from pathlib import Path
from typing import Any

import plotly
from dash import Dash
from dash.fingerprint import build_fingerprint
from flask import has_request_context, request

from app.projections.spec import SPECS, declared
from app.web.routes import view_figures_url

BOOT_ASSET = "boot.js"
ASSETS_IGNORE = r"^boot\.js$"  # Dash must not add it at the end of the body as well: the head loads it
PLOTLY_FILE = "package_data/plotly.min.js"  # in the plotly package: the plotly.js dcc.Graph loads
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
def _plotly_fingerprint() -> str:
    path = Path(plotly.__file__).parent / PLOTLY_FILE
    return build_fingerprint(PLOTLY_FILE, plotly.__version__, int(path.stat().st_mtime))


def plotly_url(app: Dash) -> str:
    """plotly.js under the name Dash gives it in its own script tags (with its version and file time).

    ``dcc.Graph`` would load it from its plain name, which the browser must ask about every time
    (Dash answers after hashing the 4.8 MB file); under this name Dash lets the browser keep it a year.
    """
    return f"{app.config.requests_pathname_prefix}_dash-component-suites/plotly/{_plotly_fingerprint()}"


def head_tags(app: Dash, path: str, query: str) -> str:
    """The early loads for the page at ``path`` with query ``query`` (see the module docstring)."""
    prefix = app.config.requests_pathname_prefix
    page = page_of(path, prefix)
    spec = declared(page) if page else None
    if spec is None or not (page in SPECS or getattr(spec, "draws_figures", False)):
        return ""
    plotly_js = plotly_url(app)
    attrs = {"src": app.get_asset_url(BOOT_ASSET), "data-plotly": plotly_js}
    if page in SPECS:
        attrs["data-view"] = view_figures_url(prefix, page, f"?{query}" if query else "")
    preloads = [plotly_js, *(prefix + chunk for chunk in CHUNKS)]
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
