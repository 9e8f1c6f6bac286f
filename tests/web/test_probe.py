"""/probe without a browser: its URL options, its CLI line, its listing (texts inert) and the clicks that open it.

The dataset with texts is imported by analyze.py itself (``tests.web.probe_data``); the
numbers each test expects come from somewhere other than the probe: the records written,
the surface's and the hazard's own tables, and analyze.py probe's own output.
"""

from __future__ import annotations

import json
import shlex

import pytest
from dash import dcc, html
from flask import Flask

from app import bounds
from app.cli import build_parser, main
from app.engine import Dataset
from app.projections import PROJECTIONS
from app.projections.spec import PAGES, DrillKind, PageSpec, declared_pages, register_page
from app.web import compute, drill, ids, probe
from app.web.cache import make_cache
from app.web.commands import cli_command
from app.web.components import navbar
from app.web.registry import Registry
from app.web.services import Services, attach
from app.web.settings import Settings
from app.web.state import State, carry, decode, encode, parse_query
from tests.web import probe_data

SCRIPT_QUERY = {"filters": json.dumps({"eval_id": [probe_data.ids()[0]], "params.n": [1], "params.k": [1]})}


@pytest.fixture(scope="module")
def env(web_app, probe_root, tmp_path_factory):
    """(services, Flask server) on the probe's data folder; ``web_app`` configures Dash for links."""
    settings = Settings(data=probe_root, cache_dir=tmp_path_factory.mktemp("probecache"), preload=False)
    server = Flask("probe-test")
    services = Services(settings, Registry(probe_root), make_cache(server, settings))
    attach(server, services)
    return services, server


@pytest.fixture()
def services(env):
    services, server = env
    with server.test_request_context("/"):
        yield services


def state_of(services, page: str, query: dict) -> State:
    decoded = decode(page, query, services.registry)
    assert decoded.notices == []
    return decoded.state


def everything(component) -> list:
    """Every component of a layout (and the top one)."""
    out = [component]
    children = getattr(component, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if hasattr(child, "to_plotly_json"):
            out += everything(child)
    return out


def texts_on_page(components) -> dict[int, str]:
    """Row key → the whole text the page carries for it (``.probe-text``)."""
    found = {}
    for block in (c for top in components for c in everything(top) if isinstance(c, html.Tbody)):
        pres = [c for c in everything(block) if isinstance(c, html.Pre) and "probe-text" in c.className.split()]
        if pres:
            found[int(block.id.split("-")[1])] = pres[0].children
    return found


# ---------------------------------------------------------------- declaration
def test_the_probe_is_declared_like_the_projections(services):
    assert isinstance(PAGES["probe"], PageSpec)
    assert [s.name for s in declared_pages()] == ["spiderweb", "surface", "compression", "hazard", "compare", "probe",
                                                  "report"]
    assert {n: s.drill_down.kind for n, s in PROJECTIONS.items() if s.drill_down} == {
        "spiderweb": DrillKind.AXIS, "compression": DrillKind.COMPLETION, "surface": DrillKind.CELL,
        "hazard": DrillKind.BIN}
    state = decode("hazard", {"truncation": "separate"}, services.registry).state
    bar = {c.id: c for c in everything(navbar("hazard", state, services.registry)) if getattr(c, "id", None)}
    assert bar[ids.nav("probe")].href == "/probe"  # carries the filters, never the truncation mode
    with pytest.raises(ValueError):
        register_page(PageSpec(name="surface", title="x", help="x", summary="x"))  # a projection's name


# ---------------------------------------------------------------- URL codec
def test_every_probe_option_round_trips_in_canonical_form(services):
    e1 = probe_data.ids()[0]
    query = {"filters": json.dumps({"eval_id": [e1]}), "outcome": ["truncated", "correct", "correct"],
             "tokens": "256,512", "limit": "20", "offset": "40", "row": ["9", "3"]}
    state = state_of(services, "probe", query)
    assert state.options == {"outcome": ("correct", "truncated"), "tokens": (256, 512), "limit": 20, "offset": 40,
                             "row": (3, 9)}
    search = encode(state, services.registry)
    assert search == (f"?filters=%7B%22eval_id%22:%5B%22{e1}%22%5D%7D&outcome=correct&outcome=truncated"
                      "&tokens=256,512&limit=20&offset=40&row=3&row=9")
    assert state_of(services, "probe", parse_query(search)) == state
    assert encode(decode("probe", {}, services.registry).state, services.registry) == ""


@pytest.mark.parametrize("query, notice, shown", [
    ({"outcome": ["correct", "sideways"]}, "Outcomes (outcome) unknown value(s) sideways; valid: correct, incorrect, "
                                           "invalid, truncated; showing correct.", {"outcome": ("correct",)}),
    ({"tokens": "512,256"}, "Tokens (tokens) MIN must be less than MAX (MIN counts, MAX does not), not 512,256; "
                            "showing all.", {"tokens": None}),
    ({"tokens": "7,7"}, "MIN must be less than MAX", {"tokens": None}),
    ({"tokens": "0,99999999999999999999999"}, "must be two whole numbers MIN,MAX", {"tokens": None}),
    ({"tokens": "0,2147483649"}, "must lie from 0 to 2,147,483,648", {"tokens": None}),
    ({"tokens": "-5,10"}, "must be two whole numbers", {"tokens": None}),
    ({"tokens": "1,2,3"}, "must be two whole numbers", {"tokens": None}),
    ({"limit": "0"}, "Per page (limit) must be a whole number from 1 to 200", {"limit": 50}),
    ({"limit": "1e9"}, "Per page (limit) must be", {"limit": 50}),
    ({"limit": "²"}, "Per page (limit) must be", {"limit": 50}),
    ({"offset": "9" * 30}, "From (offset) must be a whole number from 0 to 2147483648", {"offset": 0}),
    ({"row": ["3", "96", "x"]}, "96, x are not a completion of dataset 'probetest' (row keys are whole numbers "
                                "from 0 to 95)", {"row": (3,)}),
    ({"truncation": "separate"}, "Unknown parameter 'truncation' was ignored.", {}),
])
def test_a_bad_value_is_a_notice_and_the_nearest_valid_view(services, query, notice, shown):
    decoded = decode("probe", query, services.registry)
    assert len(decoded.notices) == 1 and notice in decoded.notices[0]
    for key, value in shown.items():
        assert decoded.state.options[key] == value
    assert decoded.state.truncation == "failure"


def test_other_pages_carry_filters_into_the_probe_but_not_truncation(services):
    e1 = probe_data.ids()[1]
    hazard = state_of(services, "hazard", {"filters": json.dumps({"eval_id": [e1]}), "truncation": "separate"})
    search = carry(hazard, "probe", services.registry, {"base_task": ["echo"]}, {"tokens": (0, 256)})
    assert parse_query(search) == {"filters": json.dumps({"base_task": ["echo"], "eval_id": [e1]},
                                                         separators=(",", ":")), "tokens": "0,256"}


# ---------------------------------------------------------------- the CLI line
def test_the_cli_line_is_analyze_py_probe_and_lists_what_the_page_lists(services, tmp_path, capsys):
    query = {**SCRIPT_QUERY, "outcome": ["correct", "invalid"], "tokens": "100,1000", "limit": "3", "offset": "1"}
    state = state_of(services, "probe", query)
    entry = services.registry.entry(state.dataset)
    argv = shlex.split(cli_command(state, entry.path, services.registry.root))
    assert argv[:4] == ["python", "analyze.py", "probe", "datasets/probetest/dataset.json"]
    args = build_parser().parse_args(argv[2:])
    assert (args.outcome, args.tokens, args.limit, args.offset) == (["correct", "invalid"], [100, 1000], 3, 1)

    argv[3] = str(entry.path)
    assert main(argv[2:] + ["--format", "jsonl"]) == 0
    cli_rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    listing = probe.listing(state, services)
    assert list(texts_on_page(listing)) == [r["row"] for r in cli_rows]
    assert [r["text"] for r in cli_rows] == list(texts_on_page(listing).values())


def test_an_opened_completion_is_in_the_cli_line_too(services):
    state = state_of(services, "probe", {"row": "5"})
    line = cli_command(state, services.registry.entry(state.dataset).path, services.registry.root)
    assert line.endswith(" --row 5")


# ---------------------------------------------------------------- the listing
def test_texts_are_inert_strings_whole_or_clipped_with_a_way_to_open_them(services):
    state = state_of(services, "probe", SCRIPT_QUERY)
    listing = probe.listing(state, services)
    components = [c for top in listing for c in everything(top)]
    assert not [c for c in components if isinstance(c, dcc.Markdown)]
    assert not [c for c in components if "dangerouslySetInnerHTML" in c.to_plotly_json()["props"]]
    for pre in (c for c in components if isinstance(c, html.Pre)):
        assert isinstance(pre.children, str)  # a text node, never a component made from the text
    texts = set(texts_on_page(listing).values())
    assert {probe_data.SCRIPT, probe_data.MARKDOWN, probe_data.IMG, probe_data.LOOP} <= texts
    assert probe_data.HUGE[:bounds.PROBE_TEXT_MAX_CHARS] in texts  # the page carries 200,000 of its characters
    left_out = len(probe_data.HUGE) - bounds.PROBE_TEXT_MAX_CHARS
    notes = [c.children for c in components if isinstance(c, html.Div) and isinstance(c.children, str)]
    assert any(f"The last {left_out:,} of {len(probe_data.HUGE):,} characters are not shown here" in n for n in notes)
    previews = [c.children for c in components if isinstance(c, html.Pre) and c.className == "probe-preview"]
    assert probe_data.LOOP[:bounds.PROBE_PREVIEW_CHARS] in previews
    summaries = [c.children for c in components if isinstance(c, html.Summary)]
    assert f"show all {len(probe_data.LOOP):,} characters" in summaries


def test_the_numbers_beside_a_text_are_its_own_record(services):
    state = state_of(services, "probe", {"limit": "200"})
    listing = probe.listing(state, services)
    shown = texts_on_page(listing)
    assert len(shown) == 95  # 96 completions, one imported without text
    for block in (c for top in listing for c in everything(top) if isinstance(c, html.Tbody)):
        row = int(block.id.split("-")[1])
        if row not in shown:
            assert "no text stored for this completion" in json.dumps(block.to_plotly_json(), default=str)
            continue
        record = probe_data.by_text(shown[row], clipped_at=bounds.PROBE_TEXT_MAX_CHARS)
        numbers = block.children[0].children
        tokens = numbers[5].children
        outcome = numbers[4].children.children
        assert (tokens, outcome) == (f"{record['completion_tokens']:,}", record["outcome"])


def test_loops_show_their_period(services):
    ds = services.registry.get("probetest")
    loop_row = int(ds.completions(limit=200)[lambda f: f["text"] == probe_data.LOOP]["row"].iloc[0])
    state = state_of(services, "probe", {"row": str(loop_row)})
    cells = [c.children for top in probe.listing(state, services) for c in everything(top) if isinstance(c, html.Td)]
    text, period = probe_data.LOOP, len("I must check the answer again. ")
    tail = period  # the longest suffix in which every character equals the one a period before, counted by hand
    while tail < len(text) and text[-1 - tail] == text[-1 - tail + period]:
        tail += 1
    assert cells[8] == f"period {period} · {tail / len(text):.0%}"  # the loop column of its one row


def test_a_dataset_without_text_says_so_and_still_lists_its_rows(services):
    state = state_of(services, "probe", {"dataset": "webtest", "limit": "5"})
    listing = probe.listing(state, services)
    components = [c for top in listing for c in everything(top)]
    assert [c for c in components if getattr(c, "id", None) == ids.PROBE_NO_TEXT]
    count = next(c for c in components if getattr(c, "id", None) == ids.PROBE_COUNT).children
    total = len(Dataset.open(services.registry.entry("webtest").path).samples(columns=["outcome"]))
    assert count == f"Completions 1–5 of {total:,} that match"
    assert len([c for c in components if isinstance(c, html.Tbody)]) == 5
    assert not [c for c in components if isinstance(c, html.Pre)]


def test_texts_that_cannot_be_read_are_reported_and_the_rows_still_listed(tmp_path, web_app):
    root = tmp_path / "datasets"
    probe_data.make_text_dataset(root / "probetest")
    settings = Settings(data=root, cache_dir=tmp_path / "cache", preload=False)
    server = Flask("probe-broken")
    services = Services(settings, Registry(root), make_cache(server, settings))
    with server.test_request_context("/"):
        state = state_of(services, "probe", {"limit": "3"})
        services.registry.get()  # opened with its texts file in place
        (root / "probetest" / "texts.parquet").unlink()
        listing = probe.listing(state, services)
    components = [c for top in listing for c in everything(top)]
    warning = next(c for c in components if getattr(c, "id", None) == ids.PROBE_TEXT_ERROR)
    assert "The completion texts could not be read" in warning.children and "texts.parquet" in warning.children
    assert len([c for c in components if isinstance(c, html.Tbody)]) == 3


def test_nothing_matching_is_an_empty_state_not_an_error(services):
    state = state_of(services, "probe", {"tokens": "5000,6000"})
    listing = probe.listing(state, services)
    assert any(getattr(c, "id", None) == ids.EMPTY_STATE for top in listing for c in everything(top))


def test_the_pager_links_the_neighbouring_pages(services):
    state = state_of(services, "probe", {"limit": "40", "offset": "40"})
    links = {c.id: c.href for top in probe.listing(state, services) for c in everything(top)
             if isinstance(c, dcc.Link) and getattr(c, "id", None) in (ids.PROBE_PREV, ids.PROBE_NEXT)}
    assert links == {ids.PROBE_PREV: "/probe?limit=40", ids.PROBE_NEXT: "/probe?limit=40&offset=80"}


def test_controls_make_the_query_a_link_would(services):
    query = probe.controls_query({"dataset": "webtest", "offset": "50", "row": "3"}, {"base_task": ["adding"]},
                                 ["invalid"], 100, None, 20.0)
    decoded = decode("probe", query, services.registry)
    assert decoded.notices == []
    assert encode(decoded.state, services.registry) == \
        "?dataset=webtest&filters=%7B%22base_task%22:%5B%22adding%22%5D%7D&outcome=invalid&tokens=100,2147483648&limit=20"
    bad = decode("probe", probe.controls_query({}, {}, [], 500, 100, None), services.registry)
    assert bad.notices and "MIN must be less than MAX" in bad.notices[0]


# ---------------------------------------------------------------- clicks that open the probe
def figure(services, state: State, index: int = 0) -> dict:
    return json.loads(compute.part(services, state, f"fig:{index}"))


def probe_state(services, search: str) -> State:
    return state_of(services, "probe", parse_query(search))


def test_a_compression_dot_opens_its_completion(services):
    state = state_of(services, "compression", {})
    fig = figure(services, state)
    curve, trace = next((i, t) for i, t in enumerate(fig["data"]) if t.get("customdata"))
    row = trace["customdata"][2]
    search = drill.search_for(PROJECTIONS["compression"].drill_down, state,
                              {"curveNumber": curve, "pointNumber": 2, "customdata": row}, 0, services)
    opened = probe_state(services, search)
    one = services.registry.get().completions(rows=[row]).iloc[0]
    assert opened.options["row"] == (row,)
    assert opened.filters == {"base_task": [one["base_task"]], "eval_id": [one["eval_id"]],
                              **{f"params.{k}": [v] for k, v in one["params"].items()}}
    assert list(texts_on_page(probe.listing(opened, services))) == [row]


def test_a_surface_cell_opens_the_completions_of_its_point(services):
    state = state_of(services, "surface", {})
    fig = figure(services, state)
    table = PROJECTIONS["surface"].run(services.registry.get(), split_by="base_task").rows
    for curve, trace in enumerate(fig["data"]):
        if trace.get("type") != "heatmap":
            continue
        view, eval_id = trace["meta"]["view"], trace["meta"]["eval_id"]
        axes = fig["layout"]["meta"]["axes"][view]
        for xi, yi in ((0, 0), (len(axes["x_values"]) - 1, len(axes["y_values"]) - 1)):
            search = drill.search_for(PROJECTIONS["surface"].drill_down, state,
                                      {"curveNumber": curve, "x": xi, "y": yi, "z": 0.5}, 0, services)
            opened = probe_state(services, search)
            x, y = axes["x_values"][xi], axes["y_values"][yi]
            assert opened.filters == {"base_task": ["echo"], "eval_id": [eval_id], axes["x"]: [x], axes["y"]: [y]}
            cell = table[(table["eval_id"] == eval_id) & (table[axes["x"]] == x) & (table[axes["y"]] == y)]
            total = services.registry.get().count_completions(opened.filters)
            assert total == int(cell["samples"].iloc[0]) == probe_data.SAMPLES


def test_a_hazard_bin_opens_the_completions_that_ended_in_it(services):
    state = state_of(services, "hazard", {"bucket_size": "256"})
    fig = figure(services, state)
    ds = services.registry.get()
    table = ds.hazard(group_by=["eval_id"], bucket_size=256)
    hazard_bin = PROJECTIONS["hazard"].drill_down
    checked = 0
    for curve, trace in enumerate(fig["data"]):
        meta = trace.get("meta") or {}
        if meta.get("kind") not in ("hazard", "cif"):
            continue
        series = table[table["eval_id"] == meta["series"]].reset_index(drop=True)
        for j in (1, 2):
            x = int(series["bin_start"][j]) if meta["kind"] == "hazard" else int(series["bin_end"][j])
            point = {"curveNumber": curve, "pointNumber": j if meta["kind"] == "hazard" else j + 1, "x": x}
            opened = probe_state(services, drill.search_for(hazard_bin, state, point, 0, services))
            assert opened.options["tokens"] == (int(series["bin_start"][j]), int(series["bin_end"][j]))
            assert opened.filters == {"eval_id": [meta["series"]]}
            events = {"hazard": ("correct", "incorrect", "truncated"), "cif": (meta.get("event"),)}[meta["kind"]]
            want = int(sum(series[f"events_{e}"][j] for e in events))
            assert ds.count_completions(opened.filters, outcomes=list(opened.options["outcome"]) or None,
                                        tokens=opened.options["tokens"]) == want
            checked += 1
    assert checked >= 8
    last = next(i for i, t in enumerate(fig["data"]) if (t.get("meta") or {}).get("kind") == "hazard")
    end = int(table[table["eval_id"] == fig["data"][last]["meta"]["series"]]["bin_end"].max())
    n = len(table[table["eval_id"] == fig["data"][last]["meta"]["series"]])
    opened = probe_state(services, drill.search_for(hazard_bin, state, {"curveNumber": last, "pointNumber": n,
                                                                        "x": end}, 0, services))
    assert opened.options["tokens"] == (end - 256, end)  # the step's closing point is the last bin
    budget = next(i for i, t in enumerate(fig["data"]) if (t.get("meta") or {}).get("kind") == "budget")
    assert drill.search_for(hazard_bin, state, {"curveNumber": budget, "pointNumber": 0, "x": 4096}, 0,
                            services) is None  # a budget marker has nothing behind it


@pytest.mark.parametrize("page, point", [
    ("compression", {"curveNumber": 0, "customdata": "not a row"}),
    ("compression", {"curveNumber": 0, "customdata": 10_000}),
    ("surface", {"curveNumber": 0, "x": 99, "y": 0}),
    ("surface", {"curveNumber": 999, "x": 0, "y": 0}),
    ("hazard", {"curveNumber": 0, "pointNumber": 0, "x": 0}),   # the origin of a cumulative incidence line
    ("hazard", {"curveNumber": 0}),
])
def test_a_click_on_nothing_in_particular_leaves_the_page_alone(services, page, point):
    state = state_of(services, page, {})
    assert drill.search_for(PROJECTIONS[page].drill_down, state, point, 0, services) is None


def test_the_spiderweb_click_still_opens_the_surface_of_that_eval_and_task(services):
    state = state_of(services, "spiderweb", {})
    e2 = probe_data.ids()[1]
    search = drill.search_for(PROJECTIONS["spiderweb"].drill_down, state, {"customdata": [e2, "echo", 0.5]}, 0,
                              services)
    assert state_of(services, "surface", parse_query(search)).filters == {"base_task": ["echo"], "eval_id": [e2]}
