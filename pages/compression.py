"""/compression: tokens against compressed size per completion, coloured by outcome."""

from __future__ import annotations

import dash

from app.web.page import projection_layout

PAGE = "compression"
dash.register_page(__name__, path="/compression", name="Compression", title="Profile · Compression", order=3)


def layout(**query):
    return projection_layout(PAGE, query)
