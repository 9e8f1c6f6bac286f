"""/report without a browser: the cached document, links under the app's prefix and dataset, the notice."""

from __future__ import annotations

import pytest
from flask import Flask

from app.engine import Dataset
from app.projections.spec import PAGES
from app.report import build, to_json
from app.web import ids, report
from app.web.cache import make_cache, view_key
from app.web.commands import cli_command
from app.web.registry import Registry
from app.web.services import Services, attach
from app.web.settings import Settings
from app.web.state import decode
from tests.web import data
from tests.web.probe_data import make_text_dataset

ALPHA = data.ids()[0]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """A data folder with two datasets, so one of them is not the default."""
    folder = tmp_path_factory.mktemp("reportdata") / "datasets"
    folder.mkdir()
    data.make_dataset(folder / "webtest")
    make_text_dataset(folder / "probetest")
    return folder


@pytest.fixture()
def services(web_app, root, tmp_path):
    """Services on ``root`` inside a request (``web_app`` configures Dash's paths)."""
    settings = Settings(data=root, cache_dir=tmp_path / "cache", preload=False)
    server = Flask("report-test")
    services = Services(settings, Registry(root), make_cache(server, settings))
    attach(server, services)
    with server.test_request_context("/"):
        yield services


def state(services, query):
    decoded = decode("report", query, services.registry)
    assert decoded.notices == []
    return decoded.state


def test_the_report_is_a_declared_page_whose_cli_line_is_analyze_py_report(services):
    assert PAGES["report"].title == "Report"
    s = state(services, {"dataset": "webtest", "filters": f'{{"eval_id": ["{ALPHA}"]}}'})
    line = cli_command(s, services.registry.entry("webtest").path, services.registry.root)
    assert line == f"python analyze.py report datasets/webtest/dataset.json --filters '{{\"eval_id\":[\"{ALPHA}\"]}}'"


def test_the_document_is_the_reports_json_and_is_cached_under_the_reports_key(services):
    s = state(services, {"dataset": "webtest", "filters": f'{{"eval_id": ["{ALPHA}"]}}'})
    ds = services.registry.get("webtest")
    key = f"{view_key(s, ds.version)}:report"
    assert services.cache.get(key) is None
    doc = report.document(services, s)
    expected = to_json(build(Dataset.open(ds.path), {"eval_id": [ALPHA]}, dataset_arg="datasets/webtest/dataset.json"))
    assert doc["findings"] == expected["findings"] and doc["steps"] == expected["steps"]
    assert services.cache.get(key) == doc  # a repeat reads the cache and runs nothing
    assert report.document(services, s) == doc


def test_links_keep_the_apps_prefix_and_a_dataset_that_is_not_the_default(services):
    link = "/hazard?filters=%7B%7D"
    default = state(services, {})
    assert report.href(link, default, services) == link
    other = state(services, {"dataset": "webtest"})
    assert services.registry.default != "webtest"
    assert report.href(link, other, services) == "/hazard?dataset=webtest&filters=%7B%7D"
    assert report.href("/spiderweb", other, services) == "/spiderweb?dataset=webtest"


def test_filters_that_keep_no_eval_are_the_pages_notice(services):
    s = state(services, {"dataset": "webtest", "filters": f'{{"eval_id": ["{ALPHA}"], "groups": ["arch:moe"]}}'})
    children = report.report_children(s, services)
    assert len(children) == 1 and children[0].id == ids.EMPTY_STATE
    assert "match no samples" in str(children[0].children)
