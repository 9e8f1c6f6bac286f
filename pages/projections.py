"""Every projection page (/spiderweb, /surface, /compression, /hazard, …), registered from its declaration.

Dash Pages runs this module when an app is created; one ``register_page`` per
projection in ``app.projections.SPECS`` (path, navbar name, title, order), so a
newly declared projection has its page with no file here. What a page shows is
``app.web.page.projection_layout``; its callbacks (including the spiderweb's
click-to-surface drill-down) are registered by ``app.web.callbacks``.
"""

from __future__ import annotations

import dash

from app.projections import SPECS
from app.web.page import page_layout

PACKAGE = __name__.rpartition(".")[0]  # what Dash names this folder's modules ("pages", or a path-derived name)

for spec in SPECS.values():
    dash.register_page(f"{PACKAGE}.{spec.name}", path=spec.path, name=spec.title, title=f"Profile · {spec.title}",
                       order=spec.order, layout=page_layout(spec.name))
