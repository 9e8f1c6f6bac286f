"""The dashboard serves a cube dataset as it serves any other: every page, the probe's texts, the clicks into it.

The cube is built by ``analyze.py cube`` from the probe's text dataset (imported by analyze.py itself); the
texts a page shows are compared with the in-memory dataset's, which the probe's own tests check.
"""

from __future__ import annotations

import json
import shutil

import pytest
from dash import html
from flask import Flask

from app.cli import main
from app.engine import Dataset
from app.projections import PROJECTIONS
from app.web import compute, drill, ids, probe
from app.web.cache import make_cache
from app.web.compute import ViewStatus
from app.web.registry import Registry
from app.web.services import Services, attach
from app.web.settings import Settings
from app.web.state import decode, parse_query
from tests.web import probe_data
from tests.web.test_probe import everything


@pytest.fixture()
def cube_env(tmp_path, web_app):
    """(services, in-memory source dataset, source folder) with a cube of the probe's dataset served."""
    source = tmp_path / "source" / "probetest"
    probe_data.make_text_dataset(source)
    root = tmp_path / "served"
    assert main(["cube", str(source), "--out", str(root / "probetest-cube")]) == 0
    settings = Settings(data=root, cache_dir=tmp_path / "cache", preload=False)
    server = Flask("cube-test")
    services = Services(settings, Registry(root), make_cache(server, settings))
    attach(server, services)
    with server.test_request_context("/"):
        yield services, Dataset.open(source), source


def state_of(services, page: str, query: dict):
    decoded = decode(page, query, services.registry)
    assert decoded.notices == []
    return decoded.state


@pytest.mark.parametrize("page", sorted(PROJECTIONS))
def test_every_page_draws_from_the_cube_and_says_what_it_bins(cube_env, page):
    services, _, _ = cube_env
    view = compute.view(services, state_of(services, page, {}))
    assert view.summary.status == ViewStatus.OK, view.summary.message
    assert view.summary.figures
    assert any(n.startswith("Served from a cube of 96 completions") and "within 32 tokens" in n
               for n in view.summary.notes)


def test_a_compression_dot_opens_its_completion_with_its_text(cube_env):
    services, source, _ = cube_env
    state = state_of(services, "compression", {})
    fig = json.loads(compute.part(services, state, "fig:0"))
    curve, trace = next((i, t) for i, t in enumerate(fig["data"]) if t.get("customdata"))
    row = trace["customdata"][1]
    search = drill.search_for(PROJECTIONS["compression"].drill_down, state,
                              {"curveNumber": curve, "pointNumber": 1, "customdata": row}, 0, services)
    opened = state_of(services, "probe", parse_query(search))
    assert opened.options["row"] == (row,)
    texts = [c.children for top in probe.listing(opened, services) for c in everything(top)
             if isinstance(c, html.Pre)]
    want = source.completions(rows=[row])["text"].iloc[0]
    assert texts and want.startswith(texts[0][:200].rstrip("…"))


def test_the_probe_lists_what_the_in_memory_dataset_lists(cube_env):
    services, source, _ = cube_env
    state = state_of(services, "probe", {"limit": "7", "outcome": "correct"})
    listed = probe.fetch(services.registry.get(state.dataset), state)
    want = source.completions(None, outcomes=["correct"], limit=7)
    assert listed.total == source.count_completions(None, outcomes=["correct"])
    assert listed.frame["row"].tolist() == want["row"].tolist()
    assert listed.frame["text"].tolist() == want["text"].tolist()


def test_without_its_samples_the_cube_still_draws_and_the_probe_says_why_it_lists_nothing(cube_env):
    services, _, source = cube_env
    shutil.rmtree(source)
    assert compute.view(services, state_of(services, "spiderweb", {})).summary.status == ViewStatus.OK
    listing = probe.listing(state_of(services, "probe", {}), services)
    [empty] = [c for top in listing for c in everything(top) if getattr(c, "id", None) == ids.EMPTY_STATE]
    assert "not reachable" in str(empty.children)
