"""The Flask side, in process: /health, offline pages, figure and CSV routes, the view cache."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest

from app.web import compute
from app.web.services import current
from app.web.state import decode, encode
from tests.web import data

PAGES = ("/", "/spiderweb", "/surface", "/compression", "/hazard")


def test_health(client):
    r = client.get("/health")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok",  # opened at start-up, once per worker; no worker PID anywhere
                            "datasets": [{"name": "webtest", "status": "ok", "opened": True}],
                            "cache": {"backend": "filesystem", "status": "ok"}}


@pytest.mark.parametrize("path", PAGES)
def test_pages_load_nothing_from_elsewhere(client, path):
    r = client.get(path)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    assert "/assets/bootstrap.min.css" in html and "/assets/profile.css" in html and "/assets/profile.js" in html


def test_bootstrap_is_served_locally_without_source_map(client):
    r = client.get("/assets/bootstrap.min.css")
    css = r.get_data(as_text=True)
    assert r.status_code == 200 and "Bootstrap  v5" in css
    assert "sourceMappingURL" not in css and "@import" not in css and "//fonts." not in css


def _figure_path(page: str, query: dict, index: int = 0, web_app=None) -> str:
    with web_app.server.test_request_context("/"):
        services = current()
        state = decode(page, query, services.registry).state
        return f"/_profile/figure/{page}/{index}.json{encode(state, services.registry)}"


def test_figure_json_is_cached_and_served_as_is(client, web_app):
    path = _figure_path("hazard", {"bucket_size": "333"}, web_app=web_app)
    first = client.get(path)
    assert first.status_code == 200 and first.headers["X-Profile-Cache"] == "miss"
    figure = json.loads(first.data)
    assert figure["data"] and "width" not in figure["layout"] and figure["layout"]["autosize"] is True
    second = client.get(path)
    assert second.headers["X-Profile-Cache"] == "hit" and second.data == first.data
    assert "Server-Timing" in second.headers


def test_figure_route_rejects_what_no_page_links(client):
    assert client.get("/_profile/figure/nope/0.json").status_code == 404
    bad = client.get("/_profile/figure/spiderweb/0.json?group_by=params.nothere")
    assert bad.status_code == 400 and b"group_by" in bad.data
    assert client.get("/_profile/figure/spiderweb/7.json").status_code == 404


def test_empty_selection_has_no_figure_but_a_message(client, web_app):
    e1 = data.ids()[0]
    query = {"filters": json.dumps({"eval_id": [e1], "base_task": ["counting"]})}  # counting has no 2-D view
    with web_app.server.test_request_context("/"):
        services = current()
        state = decode("surface", query, services.registry).state
        view = compute.view(services, state)
    assert view.summary.status == "empty" and "view" in view.summary.message
    assert client.get(_figure_path("surface", query, web_app=web_app)).status_code == 404


def test_csv_download(client):
    e1 = data.ids()[0]
    r = client.get("/_profile/table/spiderweb.csv?filters=" + quote(json.dumps({"eval_id": [e1]})))
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.headers["Content-Disposition"] == 'attachment; filename="spiderweb-webtest.csv"'
    header, *rows = r.get_data(as_text=True).strip().splitlines()
    assert "center" in header.split(",") and len(rows) == 3 and all(e1 in row for row in rows)


def test_repeated_view_is_answered_from_cache(web_app):
    with web_app.server.test_request_context("/"):
        services = current()
        state = decode("spiderweb", {"style": "bars"}, services.registry).state
        first = compute.view(services, state)
    with web_app.server.test_request_context("/"):
        again = compute.view(services, state)
    assert (first.hit, again.hit) == (False, True) and again.summary == first.summary
    assert again.summary.figures[0].bytes > 1000


def test_the_view_summary_is_cached_as_plain_json(web_app):
    from app.web.compute import ViewStatus, ViewSummary

    with web_app.server.test_request_context("/"):
        services = current()
        state = decode("spiderweb", {"group_by": "params.a"}, services.registry).state
        found = compute.view(services, state)
        stored = services.cache.get(f"{found.key}:summary")
    assert found.summary.status is ViewStatus.OK and found.summary.rows and found.summary.n_rows
    assert json.loads(json.dumps(stored, allow_nan=False)) == stored == found.summary.to_json()
    assert ViewSummary.from_json(stored) == found.summary


def test_projection_page_layout_has_loading_and_state(web_app):
    from app.web.page import projection_layout

    with web_app.server.test_request_context("/"):
        layout = projection_layout("compression", {"split_by": "none"})
    ids = {c.id for c in layout._traverse() if isinstance(getattr(c, "id", None), str)}
    assert {"view-loading", "view-area", "view-query", "cli-command", "fb-evals", "fb-groups"} <= ids
    store = next(c for c in layout._traverse() if getattr(c, "id", None) == "view-query")
    assert store.data["search"] == "?split_by=none"


def test_no_dataset_shows_a_message_not_a_traceback(web_app, tmp_path):
    from app.web.overview import overview_layout
    from app.web.page import projection_layout
    from app.web.registry import Registry
    from app.web.services import EXTENSION, Services

    services = web_app.server.extensions[EXTENSION]
    empty = Services(services.settings, Registry(tmp_path), services.cache)
    web_app.server.extensions[EXTENSION] = empty
    try:
        with web_app.server.test_request_context("/"):
            for layout in (overview_layout({}), projection_layout("hazard", {})):
                assert "PROFILE_DATA" in str(layout.to_plotly_json())
    finally:
        web_app.server.extensions[EXTENSION] = services


def test_dash_is_set_up_before_the_first_request(web_data, tmp_path):
    """Every script a page names is registered before a worker serves anyone (no half-filled list to race)."""
    from app.web import create_app
    from app.web.settings import Settings

    app = create_app(Settings(data=web_data, cache_dir=tmp_path / "cache", preload=False))
    assert app._got_first_request["setup_server"]
    registered = {f"{ns}/{p}" for ns, paths in app.registered_paths.items() for p in paths}
    assert {"dash/deps/react-dom@18.3.1.min.js", "dash/deps/prop-types@15.8.1.min.js",
            "dash/dash-renderer/build/dash_renderer.min.js", "dash/dcc/dash_core_components.js"} <= registered
