"""Layout pieces shared by the pages: navigation, notices, filter bar, options, actions.

Components only; what they show comes from a decoded :class:`State` and the
dataset's own lists (evals, tasks, tags, dimensions, views).
"""

from __future__ import annotations

import json
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, get_relative_path, html

from app.engine import Dataset
from app.engine import filters as flt
from app.web.registry import Registry
from app.web.specs import NONE, SPECS, TRUNCATION_MODES, Option, PageSpec
from app.web.state import BAR_KEYS, OVERVIEW, State, carry, value_text

PAGES = (("Overview", OVERVIEW, "/"),) + tuple((s.title, s.name, s.path) for s in SPECS.values())
WIDE, MIN_WIDTH = 1600, 1000  # grids wider than WIDE keep their width (and scroll); others fit the window


def page_href(path: str, search: str = "") -> str:
    """A link inside the app, honouring URL_BASE_PATHNAME."""
    return get_relative_path(path) + search


def navbar(active: str, state: State, registry: Registry) -> dbc.Navbar:
    """Brand, dataset, and one link per page carrying the dataset, filters and truncation."""
    links = []
    for title, name, path in PAGES:
        search = carry(state, name, registry)
        links.append(dbc.NavItem(dcc.Link(title, href=page_href(path, search), id=f"nav-{name}",
                                          className="nav-link" + (" active" if name == active else ""))))
    entry = registry.entry(state.dataset)
    right: list[Any] = [html.Span(entry.title, className="navbar-text text-light small me-2",
                                  title=f"dataset {entry.name}")]
    if len(registry.entries) > 1:
        right = [dbc.Select(id="dataset-select", value=state.dataset, size="sm", className="dataset-select",
                            options=[{"label": e.title, "value": e.name} for e in registry.entries])]
    return dbc.Navbar(
        dbc.Container([
            dcc.Link("Profile", href=page_href("/", carry(state, OVERVIEW, registry)), className="navbar-brand"),
            dbc.Nav(links, navbar=True, className="me-auto"),
            html.Div(right, className="d-flex align-items-center"),
        ], fluid=True),
        color="dark", dark=True, className="mb-3", id="navbar",
    )


def notices(items: list[str], info: list[str] = ()) -> html.Div:
    """What in the URL was ignored and what is shown instead; then choices made for the user."""
    alerts = []
    if items:
        alerts.append(dbc.Alert([
            html.Strong("Some of the link could not be used; showing the nearest valid view. "),
            html.Ul([html.Li(t) for t in items], className="mb-0 mt-1"),
        ], color="warning", dismissable=True, className="py-2"))
    alerts += [dbc.Alert(t, color="info", dismissable=True, className="py-2") for t in info]
    return html.Div(alerts, id="notices")


def groups_field_text(groups: list[list[str]] | None) -> str:
    """The §4 grammar as typed: single tags bare, AND-lists as lists."""
    if not groups:
        return ""
    return json.dumps([g[0] if len(g) == 1 else g for g in groups], ensure_ascii=False)


def _label(text: str, target: str, hint: str) -> dbc.Label:
    return dbc.Label([text, html.Span("?", title=hint, className="hint")], html_for=target,
                     className="small fw-semibold mb-1")


def filter_bar(state: State, ds: Dataset) -> dbc.Card:
    """Evals, tasks, groups (spec §4 grammar, read out plainly) and any other filter as JSON."""
    evals = ds.evals()
    eval_options = [{"label": f"{r.label} · {r.eval_id}", "value": r.eval_id,
                     "search": f"{r.label} {r.eval_id} {' '.join(r.groups)}"} for r in evals.itertuples()]
    tasks = ds.tasks()
    task_options = [{"label": (t.label if t.label == t.base_task else f"{t.label} ({t.base_task})"),
                     "value": t.base_task} for t in tasks.itertuples()]
    tags = ds.meta.tags
    groups = state.filters.get("groups")
    groups_hint = _groups_example(ds) if tags else "this dataset's evals have no group tags"
    other_hint = _other_example(ds)
    other = {k: v for k, v in state.filters.items() if k not in BAR_KEYS}
    tag_buttons = [html.Button(t, id={"type": "tag", "tag": t}, n_clicks=0, className="tag-chip",
                               title=f"add {t} as another OR item") for t in tags]
    return dbc.Card(dbc.CardBody([
        dbc.Row([
            dbc.Col([
                _label("Evals", "fb-evals", "model × template × sampler; empty = all evals"),
                dcc.Dropdown(id="fb-evals", options=eval_options, value=state.filters.get("eval_id", []),
                             multi=True, debounce=True, placeholder=f"all {len(evals)} evals",
                             maxHeight=320),
            ], lg=4, md=6),
            dbc.Col([
                _label("Tasks", "fb-tasks", "base_task; empty = all tasks"),
                dcc.Dropdown(id="fb-tasks", options=task_options, value=state.filters.get("base_task", []),
                             multi=True, debounce=True, placeholder=f"all {len(tasks)} tasks", maxHeight=320),
            ], lg=3, md=6),
            dbc.Col([
                _label("Groups", "fb-groups", 'JSON list: items OR, tags inside a list AND. '
                       '["arch:moe", ["size:large", "family:x"]] = arch:moe OR (size:large AND family:x)'),
                dbc.Input(id="fb-groups", value=groups_field_text(groups), debounce=True, size="sm",
                          placeholder=f"e.g. {groups_hint}" if tags else groups_hint, disabled=not tags and not groups,
                          className="mono"),
                html.Div(_groups_reading(groups), id="fb-groups-plain", className="form-text"),
                html.Div(tag_buttons, className="tag-list") if tags else None,
            ], lg=3, md=6),
            dbc.Col([
                _label("Other filters", "fb-more", "any other --filters key as JSON, e.g. "
                       '{"params.length": [8, 16], "manifold.target_tokens": 4096}'),
                dbc.Input(id="fb-more", value=flt.canonical_json(other) if other else "", debounce=True, size="sm",
                          placeholder=f"e.g. {other_hint}", className="mono"),
                html.Div("params.*, manifold.*, model, outcome …", className="form-text"),
            ], lg=2, md=6),
        ], className="g-2"),
        html.Div(id="fb-error", className="text-danger small mt-1"),
    ], className="py-2"), className="mb-2 filter-bar")


def _groups_example(ds: Dataset) -> str:
    """An OR of one eval's tag and another eval's two tags ANDed: matches something, shows both forms."""
    tagged = [list(e.groups) for e in ds.meta.evals if e.groups]
    first, last = tagged[0], tagged[-1]
    return json.dumps([last[0], first[:2]] if len(first) >= 2 else [first[0]], ensure_ascii=False)


def _other_example(ds: Dataset) -> str:
    """A filter on this dataset's first parameter, as a placeholder that would work."""
    for name in ds.dimension_names:
        if name.startswith("params."):
            values = [v for v in ds.dimension(name).values if v is not None][:2]
            if values:
                return json.dumps({name: values}, ensure_ascii=False)
    return '{"outcome": "truncated"}'


def _groups_reading(groups: list[list[str]] | None) -> str:
    return f"= {flt.groups_text(groups)}" if groups else "any group"


def groups_reading(text: str | None) -> tuple[str, bool]:
    """Plain words for what is typed in the groups field, or why it cannot be read."""
    if not text or not text.strip():
        return "any group", True
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return 'not JSON yet: write a list such as ["arch:moe", ["size:large", "family:x"]]', False
    try:
        parsed = flt.parse_filters({"groups": value})
    except Exception as exc:  # InputError: the engine's own words
        return str(exc), False
    return _groups_reading(parsed["groups"]), True


def _option_control(opt: Option, value: Any, ds: Dataset, state: State) -> Any:
    cid = {"type": "opt", "name": opt.name}
    if opt.kind in ("dim", "dim_or_none"):
        dims = [d for d in ds.dimension_names if d not in opt.exclude]
        options = ([{"label": "none", "value": NONE}] if opt.kind == "dim_or_none" else []) + \
                  [{"label": d, "value": d} for d in dims]
        return dcc.Dropdown(id=cid, options=options, value=value, clearable=False, className="opt-dropdown")
    if opt.kind == "choice":
        return dbc.RadioItems(id=cid, options=[{"label": c, "value": c} for c in opt.choices], value=value,
                              inline=True, className="small pt-1")
    if opt.kind == "int":
        return dbc.Input(id=cid, type="number", value=value, min=opt.minimum, max=opt.maximum, step=1,
                         debounce=True, size="sm", style={"width": "7rem"})
    tasks = state.filters.get("base_task")
    views = [v for v in ds.meta.views_2d if not tasks or v.base_task in tasks]
    return dcc.Dropdown(id=cid, options=[{"label": v.name, "value": v.name} for v in views],
                        value=list(value), multi=True, debounce=True, placeholder="every view of the tasks",
                        className="opt-dropdown-wide")


def options_row(spec: PageSpec, state: State, ds: Dataset) -> dbc.Row:
    """The page's own options, then the truncation mode shared by every projection."""
    cols = []
    for opt in spec.options:
        cols.append(dbc.Col([_label(opt.label, str(opt.name), f"{opt.help} (CLI {opt.cli_flag})"),
                             _option_control(opt, state.options[opt.name], ds, state)], width="auto"))
    cols.append(dbc.Col([
        _label("Truncation", "truncation", "failure: a truncated answer counts as wrong (default); "
               "separate: left out of accuracy and shown on its own (legacy)"),
        dbc.RadioItems(id="opt-truncation", options=[{"label": m, "value": m} for m in TRUNCATION_MODES],
                       value=state.truncation, inline=True, className="small pt-1"),
    ], width="auto"))
    return dbc.Row(cols, className="g-3 mb-2 align-items-end options-row")


def actions(command: str, csv_href: str) -> html.Div:
    """Copy link, copy CLI command (shown), download CSV."""
    return html.Div([
        dbc.ButtonGroup([
            html.Button("Copy link", id="copy-link", className="btn btn-outline-secondary btn-sm js-copy",
                        title="copy this page's URL: it reopens exactly this view", **{"data-copy": "link"}),
            html.Button("Copy as CLI command", id="copy-cli", className="btn btn-outline-secondary btn-sm js-copy",
                        title="copy the analyze.py line that writes this figure", **{"data-copy": "#cli-command"}),
            html.A("Download CSV", id="download-csv", href=csv_href, download="", role="button",
                   className="btn btn-outline-secondary btn-sm"),
        ], className="me-2"),
        html.Code(command, id="cli-command", className="cli-command", title="the equivalent analyze.py line"),
    ], className="actions d-flex align-items-center flex-wrap gap-2 mb-2")


def split_picker(split: str, values: list[Any], shown: Any, labels: dict[str, str] | None = None) -> html.Div:
    """One figure per value of the split: buttons (or a dropdown when there are many) choose which."""
    labels = labels or {}
    options = [{"label": labels.get(value_text(v), value_text(v)), "value": value_text(v)} for v in values]
    cid = "split-show"
    if len(values) <= 16:
        control = dbc.RadioItems(id=cid, options=options, value=value_text(shown), inline=True,
                                 className="btn-group flex-wrap split-picker", inputClassName="btn-check",
                                 labelClassName="btn btn-outline-primary btn-sm",
                                 labelCheckedClassName="active")
    else:
        control = dcc.Dropdown(id=cid, options=options, value=value_text(shown), clearable=False,
                               className="opt-dropdown")
    return html.Div([dcc.Store(id="split-shown", data=value_text(shown)),
                     html.Span(f"{split}:", className="small fw-semibold me-2"), control,
                     html.Span(f"one figure per value ({len(values)})", className="small text-muted ms-2")],
                    className="d-flex align-items-center flex-wrap mb-2", id="split-picker")


def figure_card(page: str, index: int, title: str | None, src: str, width: int, height: int,
                filename: str) -> dbc.Card:
    """One figure: its title, PNG button, and a graph whose JSON the browser fetches from ``src``."""
    header = dbc.CardHeader(html.Div([
        html.Span(title or "", className="fw-semibold"),
        html.Button("PNG", className="btn btn-outline-secondary btn-sm js-png", id=f"png-{index}",
                    title=f"download this figure as a {width}×{height} PNG",
                    **{"data-width": str(width), "data-height": str(height), "data-filename": filename}),
    ], className="d-flex justify-content-between align-items-center"), className="py-1")
    graph = dcc.Graph(id={"type": "graph", "page": page, "index": index}, figure=_placeholder_figure(),
                      config={"displaylogo": False, "responsive": True,
                              "toImageButtonOptions": {"format": "png", "filename": filename,
                                                       "width": width, "height": height}},
                      style={"height": f"{height}px", "minWidth": f"{width if width > WIDE else MIN_WIDTH}px"},
                      className="profile-graph")
    return dbc.Card([header, dbc.CardBody([  # never narrower than designed: wide grids scroll sideways
        dcc.Store(id={"type": "figure-src", "page": page, "index": index}, data=src),
        dcc.Loading(graph, type="circle", delay_show=150, overlay_style={"visibility": "visible", "opacity": 0.4}),
    ], className="p-1 figure-scroll")], className="mb-3 figure-card")


def _placeholder_figure() -> dict[str, Any]:
    return {"data": [], "layout": {"xaxis": {"visible": False}, "yaxis": {"visible": False},
                                   "annotations": [{"text": "drawing…", "showarrow": False,
                                                    "font": {"size": 16, "color": "#888"}}]}}


def empty_state(message: str) -> dbc.Alert:
    return dbc.Alert([html.H5("Nothing to draw for this selection", className="alert-heading"),
                      html.P(message, className="mb-1"),
                      html.P("Loosen the filters, choose other options, or see the Overview for what the dataset "
                             "holds.", className="mb-0 small")], color="info", id="empty-state")
