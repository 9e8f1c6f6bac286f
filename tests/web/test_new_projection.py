"""A projection declared once (its spec plus its run function) is an analyze.py subcommand and a dashboard page.

The throwaway projection below exists only inside this module: registering its
spec is the only edit, and the CLI parser, ``main``, a freshly created app's page
registry, the navbar, the overview's "where to start", the URL codec, the CLI line
and the view cache all pick it up. The fixture removes it again (and restores
Dash's global page registry), so no other test sees it.
"""

from __future__ import annotations

import json
import shlex

import dash
import pandas as pd
import plotly.graph_objects as go
import pytest

from app.cli import build_parser, main
from app.projections import (
    PROJECTIONS,
    Option,
    OptionKind,
    Projection,
    ProjectionSpec,
    SplitFigure,
    register_projection,
    unregister_projection,
)
from app.projections.spec import SPECS

NAME = "throwaway"


def run(ds, *, filters=None, truncation: str = "failure", rows: int = 1, tint: str = "grey") -> Projection:
    """One row saying what it was asked, one empty figure."""
    table = pd.DataFrame([{"dataset": ds.name, "rows": rows, "tint": tint, "truncation": truncation}])
    return Projection(NAME, table, [SplitFigure(None, go.Figure())], ["a throwaway note"], {"projection": NAME})


@pytest.fixture()
def throwaway():
    spec = register_projection(ProjectionSpec(
        name=NAME, title="Throwaway", order=50, run=run,
        help="a projection that exists only in this test",
        summary="Nothing to see: it proves one declaration is enough.",
        question="Does one declaration make a page?", start="It should.",
        formats=("json", "csv"),
        options=(
            Option("rows", "Rows", OptionKind.INT, "--rows", 1, minimum=1, maximum=9, help="rows asked for"),
            Option("tint", "Tint", OptionKind.CHOICE, "--tint", "grey", choices=("grey", "blue"), help="a colour"),
        ),
    ))
    pages = dash.page_registry.copy()
    app_before, config_before = dash._get_app.APP, dash._pages.CONFIG
    yield spec
    unregister_projection(NAME)
    dash.page_registry.clear()
    dash.page_registry.update(pages)
    dash._get_app.APP, dash._pages.CONFIG = app_before, config_before


def test_the_registry_orders_and_forgets(throwaway):
    assert list(SPECS) == ["spiderweb", "surface", "compression", "hazard", "compare", NAME]  # order 50: after them
    assert PROJECTIONS[NAME].run is run


def test_cli_has_the_subcommand_and_runs_it(throwaway, web_data, tmp_path, capsys):
    parser = build_parser()
    args = parser.parse_args([NAME, str(web_data), "--rows", "3", "--tint", "blue"])
    assert (args.projection, args.rows, args.tint, args.format) == (NAME, 3, "blue", "json")
    with pytest.raises(SystemExit):
        parser.parse_args([NAME, str(web_data), "--tint", "red"])
    capsys.readouterr()

    code = main([NAME, str(web_data), "--rows", "3", "--tint", "blue", "--truncation", "separate",
                 "--output-dir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0 and out.splitlines() == [str(tmp_path / f"{NAME}.json")]
    assert "a throwaway note" in err
    doc = json.loads((tmp_path / f"{NAME}.json").read_text())
    assert doc["rows"] == [{"dataset": "webtest", "rows": 3, "tint": "blue", "truncation": "separate"}]


def test_a_fresh_app_has_the_page_in_its_registry_navbar_and_overview(throwaway, web_data, tmp_path):
    from app.web import compute, create_app
    from app.web.commands import cli_command
    from app.web.components import navbar
    from app.web.overview import overview_layout
    from app.web.page import projection_layout
    from app.web.services import current
    from app.web.settings import Settings
    from app.web.state import decode, encode

    app = create_app(Settings(data=web_data, cache_dir=tmp_path / "cache", preload=False))
    page = next(p for p in dash.page_registry.values() if p["path"] == f"/{NAME}")
    assert page["name"] == "Throwaway" and page["title"] == "Profile · Throwaway"
    assert app.server.test_client().get(f"/{NAME}").status_code == 200

    with app.server.test_request_context("/"):
        services = current()
        decoded = decode(NAME, {"rows": "4", "nope": "1"}, services.registry)
        state = decoded.state
        assert state.options == {"rows": 4, "tint": "grey"} and "nope" in decoded.notices[0]
        assert encode(state, services.registry) == "?rows=4"
        line = cli_command(state, services.registry.entry(state.dataset).path, services.registry.root)
        assert shlex.split(line)[2:] == [NAME, "webtest/dataset.json", "--rows", "4"]

        ids = {c.id for c in navbar("overview", state, services.registry)._traverse() if hasattr(c, "id")}
        assert f"nav-{NAME}" in ids
        start = overview_layout({}).to_plotly_json()
        assert "Does one declaration make a page?" in json.dumps(start, default=str)
        layout = projection_layout(NAME, {"tint": "blue"})
        controls = {c.id["name"] for c in layout._traverse()
                    if isinstance(getattr(c, "id", None), dict) and c.id.get("type") == "opt"}
        assert controls == {"rows", "tint"}

        view = compute.view(services, state)
        assert view.summary.status == "ok" and len(view.summary.figures) == 1
        assert view.summary.notes == ["a throwaway note"]
