"""Every declared page (/spiderweb, /surface, /compression, /hazard, /probe, …), registered from its declaration.

Dash Pages runs this module when an app is created; one ``register_page`` per
declared page (``app.projections.spec.declared_pages``: the projections, then pages
such as the probe), with its path, navbar name, title and order, so a newly
declared projection has its page with no file here. What a projection page shows is
``app.web.page.projection_layout``; a page of another kind names its layout in
``LAYOUTS``. Their callbacks (including the drill-downs from a clicked mark) are
registered by ``app.web.callbacks``.
"""

from __future__ import annotations

import dash

from app.projections import SPECS
from app.projections.spec import declared_pages
from app.web import probe, report
from app.web.page import page_layout

PACKAGE = __name__.rpartition(".")[0]  # what Dash names this folder's modules ("pages", or a path-derived name)
LAYOUTS = {probe.PROBE: probe.layout, report.REPORT: report.layout}  # pages that are not projections → layout

for spec in declared_pages():
    layout = page_layout(spec.name) if spec.name in SPECS else LAYOUTS[spec.name]
    dash.register_page(f"{PACKAGE}.{spec.name}", path=spec.path, name=spec.title, title=f"Profile · {spec.title}",
                       order=spec.order, layout=layout)
