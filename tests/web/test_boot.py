"""What a page's HTML starts before any Dash round trip (app.web.boot), and the view-figures route it fetches."""

from __future__ import annotations

import hashlib
import html as html_lib
import json
import re
from urllib.parse import quote

import pytest

from app.projections.spec import SPECS
from app.web import boot, compute
from app.web.routes import figure_url
from app.web.services import current
from app.web.state import decode, encode
from tests.web import data


def _head(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return page[:page.index("</head>")]


def _boot_attrs(head: str) -> dict[str, str]:
    tag = re.search(r'<script src="/assets/boot\.js"([^>]*)></script>', head)
    assert tag, head
    return {name: html_lib.unescape(value) for name, value in re.findall(r'(data-[a-z]+)="([^"]*)"', tag.group(1))}


@pytest.mark.parametrize("page", list(SPECS))
def test_a_projection_page_starts_plotly_and_its_view_from_the_head(client, page):
    head = _head(client, f"/{page}?truncation=separate")
    attrs = _boot_attrs(head)
    plotly_js = boot.plotly_url("/")
    assert attrs == {"data-plotly": plotly_js, "data-eager": "plotly",
                     "data-view": f"/_profile/view/{page}.json?truncation=separate"}
    preloads = re.findall(r'<link rel="preload" as="script" href="([^"]+)">', head)
    assert plotly_js in preloads and "/_dash-component-suites/dash/dcc/async-graph.js" in preloads
    assert head.index(plotly_js) < head.index("/assets/boot.js")  # the download starts first


def test_plotly_js_is_the_partial_bundle_kept_by_the_browser_for_good(client):
    url = boot.plotly_url("/")
    r = client.get(url)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert r.data == boot.PLOTLY_FILE.read_bytes() and b"plotly.js v" in r.data[:200]
    name = url.rsplit("/", 1)[1]
    assert name == f"plotly-{hashlib.sha256(r.data).hexdigest()[:16]}.min.js"  # a new build gets a new name
    assert client.get("/_profile/plotly-0000000000000000.min.js").status_code == 404
    assert "plotly-partial" not in client.get("/spiderweb").get_data(as_text=True).split("</head>")[1]


def test_pages_without_figures_load_plotly_only_if_a_graph_asks(client):
    for path in ("/", "/probe"):
        head = _head(client, path)
        assert _boot_attrs(head) == {"data-plotly": boot.plotly_url("/")}, path  # no data-eager, no data-view
        assert "preload" not in head, path
    report = _boot_attrs(_head(client, "/report"))  # figures, but not one view's: plotly.js only
    assert report == {"data-plotly": boot.plotly_url("/"), "data-eager": "plotly"}


def test_unused_libraries_are_left_out_of_every_page(client):
    for path in ("/", "/spiderweb", "/probe", "/report"):
        page = client.get(path).get_data(as_text=True)
        scripts = re.findall(r'<script src="([^"]+)"', page)
        assert scripts and not [s for s in scripts if "dash_table" in s or "polyfill" in s], scripts
        assert any("dash_renderer" in s for s in scripts) and any("dash_bootstrap_components" in s for s in scripts)


def test_a_hostile_query_stays_inside_its_attribute(client):
    head = _head(client, '/spiderweb?x="><script>alert(1)</script>&y=\'')
    assert "<script>alert(1)" not in head
    assert _boot_attrs(head)["data-view"].startswith("/_profile/view/spiderweb.json?x=")


def _view_figures(client, page: str, query: str = "") -> dict:
    r = client.get(f"/_profile/view/{page}.json{query}")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    assert r.headers["Cache-Control"] == "no-store"
    return json.loads(r.data)["figures"]


@pytest.mark.parametrize("page,query", [("spiderweb", ""), ("hazard", "?bucket_size=129"),
                                        ("surface", "?truncation=separate"), ("compare", "")])
def test_view_figures_are_the_figures_the_page_names(client, web_app, page, query):
    figures = _view_figures(client, page, query)
    with web_app.server.test_request_context("/"):
        services = current()
        state = decode(page, dict(p.split("=") for p in query[1:].split("&") if p), services.registry).state
        summary = compute.view(services, state).summary
        search = encode(state, services.registry)
        expected = [figure_url("/", page, i, search) for i in range(len(summary.figures))]
    assert list(figures) == expected and expected
    for src, figure in figures.items():  # the same JSON the page's own figure route serves
        assert json.loads(client.get(src).data) == figure


def test_view_figures_read_the_url_as_the_page_does(client):
    lenient = _view_figures(client, "hazard", "?bucket_size=129&nonsense=1")  # ignored, as on the page
    assert list(lenient) == [figure_url("/", "hazard", 0, "?bucket_size=129")]
    unread = _view_figures(client, "hazard", "?filters=%7Bnot+json")  # the page says so and shows the default
    assert list(unread) == [figure_url("/", "hazard", 0, "")]
    one = quote(json.dumps({"eval_id": [data.ids()[0]]}))
    assert _view_figures(client, "compare", f"?filters={one}") == {}  # nothing to draw: the page says why
    missing = client.get("/_profile/view/nope.json")
    assert missing.status_code == 404 and missing.data == b"unknown page 'nope'"


def test_every_response_says_its_server_time(client):
    for path in ("/spiderweb", "/_dash-layout", "/health", "/_profile/view/hazard.json?bucket_size=93"):
        timing = client.get(path).headers["Server-Timing"]
        assert re.search(r"(^|, )app;dur=\d+\.\d\d$", timing), (path, timing)
    timing = client.get("/_profile/view/hazard.json?bucket_size=93").headers["Server-Timing"]
    assert timing.startswith("view;desc=hit;dur=")


def test_a_cached_view_is_laid_out_with_the_page(client, web_app):
    """Cached: the routing callback's layout holds the cards, and the render callback has nothing to do."""
    from app.web.page import projection_layout

    def store_and_area(query: dict) -> tuple[dict, list]:
        with web_app.server.test_request_context("/"):
            page = projection_layout("hazard", query)
        found: dict = {}

        def walk(node) -> None:
            if hasattr(node, "to_plotly_json"):
                node_id = getattr(node, "id", None)
                if node_id in ("view-query", "view-area"):
                    found[node_id] = node
                for child in (node.children if isinstance(getattr(node, "children", None), list)
                              else [getattr(node, "children", None)]):
                    walk(child)

        walk(page)
        return found["view-query"].data, found["view-area"].children

    store, area = store_and_area({"bucket_size": "61"})
    assert store["filled"] is False and area is None  # not computed here: the render callback does it
    client.get("/_profile/view/hazard.json?bucket_size=61")  # what boot.js asks for as the HTML arrives
    store, area = store_and_area({"bucket_size": "61"})
    assert store == {"page": "hazard", "search": "?bucket_size=61", "filled": True}
    assert "figure-card" in json.dumps(area, default=lambda c: c.to_plotly_json())


def test_spinners_wait_before_showing(client, web_app):
    """Every loading indicator on every page shows only once a view has taken SPINNER_DELAY_MS."""
    from dash import dcc

    from app.web import components as ui
    from app.web.page import projection_layout
    from app.web.probe import probe_layout
    from app.web.report import report_layout

    loadings: list = []

    def walk(node) -> None:
        if isinstance(node, dcc.Loading):
            loadings.append(node)
        children = getattr(node, "children", None)
        for child in children if isinstance(children, (list, tuple)) else [children]:
            if hasattr(child, "to_plotly_json"):
                walk(child)

    client.get("/_profile/view/spiderweb.json")  # a filled page too: its figure cards hold a spinner each
    with web_app.server.test_request_context("/"):
        for layout in (projection_layout("spiderweb", {}), projection_layout("hazard", {"bucket_size": "7"}),
                       probe_layout({}), report_layout({})):
            walk(layout)
    kinds = {getattr(node, "id", None) for node in loadings}
    assert {"view-loading", "probe-loading", "report-loading", None} <= kinds, kinds
    assert {node.delay_show for node in loadings} == {ui.SPINNER_DELAY_MS} and ui.SPINNER_DELAY_MS == 200


@pytest.mark.parametrize("page", list(SPECS))
def test_page_figure_json_is_plotlys_json_sized_to_the_window(web_app, page):
    """Encoded once: the same document as plotly's own to_json, minus the fixed width, with autosize on."""
    with web_app.server.test_request_context("/"):
        services = current()
        state = decode(page, {}, services.registry).state
        projection = SPECS[page].run(services.registry.get(state.dataset), filters=state.filters,
                                     truncation=state.truncation, **state.run_options())
    for _, figure in projection.figures:
        text, width, height = compute.page_figure_json(figure)
        expected = json.loads(figure.to_json())
        assert width == expected["layout"].pop("width") and height == expected["layout"]["height"]
        expected["layout"]["autosize"] = True
        assert json.loads(text) == expected and "NaN" not in text
