"""/: the dataset's evals, tasks and views, and where to start."""

from __future__ import annotations

import dash

from app.web.overview import overview_layout

dash.register_page(__name__, path="/", name="Overview", title="Profile · Overview", order=0)


def layout(**query):
    return overview_layout(query)
