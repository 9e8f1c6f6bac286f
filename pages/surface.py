"""/surface: accuracy over 2-D parameter grids, one row per view and one column per eval."""

from __future__ import annotations

import dash

from app.web.page import projection_layout

PAGE = "surface"
dash.register_page(__name__, path="/surface", name="Surface", title="Profile · Surface", order=2)


def layout(**query):
    return projection_layout(PAGE, query)
