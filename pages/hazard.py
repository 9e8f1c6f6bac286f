"""/hazard: when failures happen, in tokens: cumulative incidence and hazard."""

from __future__ import annotations

import dash

from app.web.page import projection_layout

PAGE = "hazard"
dash.register_page(__name__, path="/hazard", name="Hazard", title="Profile · Hazard", order=4)


def layout(**query):
    return projection_layout(PAGE, query)
