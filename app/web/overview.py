"""The overview page: what the dataset holds (evals, tasks, views) and where to start."""

from __future__ import annotations

from typing import Any, Mapping

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, get_relative_path, html

from app.engine import Dataset
from app.figures.common import axis_label
from app.projections.spec import PAGES, SPECS, declared_pages
from app.web import components as ui
from app.web import ids
from app.web.page import guarded
from app.web.registry import Registry
from app.web.services import current
from app.web.state import OVERVIEW, State, carry, decode, encode, linkable


def _link(text: str, page: str, search: str, **kw: Any) -> dcc.Link:
    spec = SPECS.get(page) or PAGES.get(page)
    return dcc.Link(text, href=get_relative_path(spec.path if spec else "/") + search, **kw)


def _values_text(values: list[Any]) -> str:
    shown = [axis_label(v) for v in values]
    if len(shown) > 6:
        return f"{shown[0]} … {shown[-1]} ({len(shown)} values)"
    return ", ".join(shown)


def _start_card(state: State, registry: Registry) -> dbc.Card:
    """One entry per declared page (in navbar order) that has a question: the question it answers and how."""
    items = [dbc.ListGroupItem([
        _link(spec.title, spec.name, carry(state, spec.name, registry), className="fw-semibold me-2",
              id=ids.start(spec.name)),
        html.Span(spec.question, className="fw-semibold small"),
        html.Div(spec.start, className="small text-muted"),
    ]) for spec in declared_pages() if spec.question]
    return dbc.Card([
        dbc.CardHeader("Where to start", className="fw-semibold"),
        dbc.ListGroup(items, flush=True),
        dbc.CardFooter(html.Small(
            "Characterise one model: choose it in the Evals filter (or its 'fingerprint' link below). "
            "Compare models: choose several. Every page keeps its state in the link, so copy the URL to share "
            "exactly what you see, or copy the equivalent analyze.py command."), className="text-muted"),
    ], className="mb-3", id=ids.WHERE_TO_START)


def _evals_table(ds: Dataset, state: State, registry: Registry) -> dbc.Table:
    head = html.Thead(html.Tr([html.Th(h) for h in ("Label", "eval_id", "Model", "Template", "Sampler",
                                                   "Groups", "Budget", "Samples", "Open")]))
    rows = []
    for e in ds.evals().itertuples():
        one = {"eval_id": [e.eval_id]}
        rows.append(html.Tr([
            html.Td(e.label), html.Td(html.Code(e.eval_id)), html.Td(e.model), html.Td(e.template),
            html.Td(e.sampler),
            html.Td([dbc.Badge(g, color="light", text_color="dark", className="me-1 border") for g in e.groups]),
            html.Td("" if pd.isna(e.max_tokens) else f"{int(e.max_tokens):,}"),
            html.Td(f"{int(e.samples):,}"),
            html.Td([_link("fingerprint", "spiderweb", carry(state, "spiderweb", registry, one), className="me-2"),
                     _link("hazard", "hazard", carry(state, "hazard", registry, one))]),
        ]))
    return dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, responsive=True, id=ids.EVALS_TABLE,
                     className="small")


def _tasks_table(ds: Dataset, state: State, registry: Registry) -> dbc.Table:
    head = html.Thead(html.Tr([html.Th(h) for h in ("Task", "Label", "Params (values)", "Guess rate", "Points",
                                                   "Samples", "Open")]))
    rows = []
    for t in ds.tasks().itertuples():
        params = [html.Div([html.Code(k), f": {_values_text(t.values.get(k, []))}"]) for k in t.params]
        one = {"base_task": [t.base_task]}
        rows.append(html.Tr([
            html.Td(html.Code(t.base_task)), html.Td(t.label), html.Td(params or "—"),
            html.Td(f"{t.guess_rate:g}"), html.Td(f"{int(t.points):,}"), html.Td(f"{int(t.samples):,}"),
            html.Td([_link("surfaces", "surface", carry(state, "surface", registry, one), className="me-2"),
                     _link("compression", "compression", carry(state, "compression", registry, one))]),
        ]))
    return dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, responsive=True, id=ids.TASKS_TABLE,
                     className="small")


def _views_table(ds: Dataset, state: State, registry: Registry) -> Any:
    views = ds.meta.views
    if not views:
        return html.P("This dataset defines no views, so the surface page has nothing to draw.",
                      className="text-muted small")
    head = html.Thead(html.Tr([html.Th(h) for h in ("View", "Task", "Group by", "Fixed filters", "Open")]))
    rows = []
    for v in views:
        two_d = v.is_2d
        target = State("surface", state.dataset, {"base_task": [v.base_task]} if v.base_task else {},
                       state.truncation, {"view": (v.name,), "split_by": "base_task"})
        rows.append(html.Tr([
            html.Td(v.name), html.Td(html.Code(v.base_task or "—")),
            html.Td(" × ".join(v.group_by)),
            html.Td(html.Code(str(dict(v.filters))) if v.filters else "—"),
            html.Td(_link("surface", "surface", encode(target, registry)) if two_d and linkable(v.name) else
                    html.Span("not 2-D" if not two_d else "name too long for a link", className="text-muted")),
        ]))
    return dbc.Table([head, html.Tbody(rows)], size="sm", hover=True, responsive=True, id=ids.VIEWS_TABLE,
                     className="small")


@guarded
def overview_layout(query: Mapping[str, Any]) -> Any:
    """Dataset facts, where to start, and the evals, tasks and views tables."""
    services = current()
    decoded = decode(OVERVIEW, query, services.registry)
    state, registry = decoded.state, services.registry
    ds = registry.get(state.dataset)
    prov = ds.meta.provenance
    facts = (f"{len(ds.meta.evals)} evals × {len(ds.tasks())} tasks, {ds.n_samples:,} samples · "
             f"dataset '{ds.name}'" + (f" · source: {prov['source']}" if prov.get("source") else "")
             + (f" · tokens: {prov['tokens']}" if prov.get("tokens") else ""))
    return html.Div([
        ui.navbar(OVERVIEW, state, registry),
        dbc.Container([
            html.H2(ds.title, className="h4 mb-0"),
            html.P(facts, className="text-muted small mb-2", id=ids.DATASET_FACTS),
            ui.notices(decoded.notices, decoded.info),
            dbc.Row([dbc.Col(_start_card(state, registry), lg=12)]),
            html.H3("Evals", className="h5 mt-2"),
            html.P("An eval is one model × template × sampler; its id is what the filters take.",
                   className="small text-muted mb-1"),
            _evals_table(ds, state, registry),
            html.H3("Tasks", className="h5 mt-3"),
            _tasks_table(ds, state, registry),
            html.H3("Views", className="h5 mt-3"),
            html.P("A view with two group-by dimensions is a surface.", className="small text-muted mb-1"),
            _views_table(ds, state, registry),
        ], fluid=True, className="pb-4"),
    ], className="page page-overview")
