"""The filter bar, whole: its layout, how its fields become one ``--filters`` object, and its own callbacks.

Evals and Tasks are multi-selects, Groups is the spec §4 grammar as JSON (read out
in plain words as it is typed; tag chips add an OR item), Other filters any other
``--filters`` key as JSON. :func:`bar_filters` joins the fields; the engine's own
parser then checks the result, so the bar, the URL and the CLI accept the same things.
The page's controls → URL callback (``app.web.callbacks``) reads the bar through
:data:`INPUTS` and :func:`bar_filters`.
"""

from __future__ import annotations

import json
from typing import Any

import dash_bootstrap_components as dbc
from dash import ALL, ClientsideFunction, Dash, Input, Output, State, dcc, html

from app.bounds import MAX_NAME_CHARS
from app.engine import Dataset
from app.engine import filters as flt
from app.engine.errors import InputError
from app.web import ids
from app.web.components import field_label
from app.web.state import State as ViewState

BAR_KEYS = ("eval_id", "base_task", "groups")  # the bar's own fields; other keys go in "Other filters"
# The bar's fields in the order bar_filters takes them (the controls → URL callback's first inputs).
INPUTS = (Input(ids.FB_EVALS, "value"), Input(ids.FB_TASKS, "value"), Input(ids.FB_GROUPS, "value"),
          Input(ids.FB_MORE, "value"))


# ---------------------------------------------------------------- parsing
def _json_field(text: str | None, what: str) -> Any:
    if not isinstance(text, str) or not text.strip():
        return None
    return flt.load_json(text, what)  # bounded: size, nesting, Unicode, numbers (app.engine.bounded_json)


def bar_filters(evals: list[str] | None, tasks: list[str] | None, groups: str | None,
                other: str | None) -> dict[str, Any]:
    """The filter bar's fields as one --filters object (checked later by the engine's parser).

    The fields arrive from the browser as any JSON (a request can be forged): a field of the
    wrong type is an InputError like any other mistake in the bar.
    """
    for name, names in (("Evals", evals), ("Tasks", tasks)):
        if names is not None and not (isinstance(names, list) and all(isinstance(v, str) for v in names)):
            raise InputError(f"{name} must be a list of names")
    for name, text in (("Groups", groups), ("Other filters", other)):
        if text is not None and not isinstance(text, str):
            raise InputError(f"{name} must be text")
    raw = _json_field(other, "Other filters")
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InputError('Other filters must be a JSON object such as {"params.length": [8, 16]}')
    clash = sorted(set(raw) & set(BAR_KEYS))
    if clash:
        raise InputError(f"Other filters: set {', '.join(clash)} with the Evals, Tasks and Groups fields")
    out = dict(raw)
    if evals:
        out["eval_id"] = list(evals)
    if tasks:
        out["base_task"] = list(tasks)
    group_value = _json_field(groups, "Groups")
    if group_value not in (None, [], ""):
        out["groups"] = group_value
    return out


def groups_field_text(groups: list[list[str]] | None) -> str:
    """The §4 grammar as typed: single tags bare, AND-lists as lists."""
    if not groups:
        return ""
    return json.dumps([g[0] if len(g) == 1 else g for g in groups], ensure_ascii=False)


def _groups_reading(groups: list[list[str]] | None) -> str:
    return f"= {flt.groups_text(groups)}" if groups else "any group"


def groups_reading(text: str | None) -> tuple[str, bool]:
    """Plain words for what is typed in the groups field, or why it cannot be read."""
    if not isinstance(text, str) or not text.strip():
        return "any group", True
    try:
        value = flt.load_json(text, "Groups")
    except InputError as exc:
        if "not valid JSON" not in str(exc):
            return str(exc), False
        return 'not JSON yet: write a list such as ["arch:moe", ["size:large", "family:x"]]', False
    try:
        parsed = flt.parse_filters({"groups": value})
    except Exception as exc:  # InputError: the engine's own words
        return str(exc), False
    return _groups_reading(parsed["groups"]), True


# ---------------------------------------------------------------- layout
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


def layout(state: ViewState, ds: Dataset) -> dbc.Card:
    """Evals, tasks, groups (spec §4 grammar, read out plainly) and any other filter as JSON."""
    evals = ds.evals()
    eval_options = [{"label": f"{r.label} · {r.eval_id}", "value": r.eval_id,
                     "search": f"{r.eval_id} {r.label} {' '.join(r.groups)}"} for r in evals.itertuples()]
    tasks = ds.tasks()
    task_options = [{"label": (t.label if t.label == t.base_task else f"{t.label} ({t.base_task})"),
                     "value": t.base_task} for t in tasks.itertuples()]
    tags = ds.meta.tags
    groups = state.filters.get("groups")
    groups_hint = _groups_example(ds) if tags else "this dataset's evals have no group tags"
    other_hint = _other_example(ds)
    other = {k: v for k, v in state.filters.items() if k not in BAR_KEYS}
    # a chip's id carries its tag: a tag past the import bound (a dataset written elsewhere) gets no chip
    tag_buttons = [html.Button(t, id=ids.tag(t), n_clicks=0, className="tag-chip",
                               title=f"add {t} as another OR item") for t in tags if len(t) <= MAX_NAME_CHARS]
    return dbc.Card(dbc.CardBody([
        dbc.Row([
            dbc.Col([
                field_label("Evals", ids.FB_EVALS, "model × template × sampler; empty = all evals"),
                dcc.Dropdown(id=ids.FB_EVALS, options=eval_options, value=state.filters.get("eval_id", []),
                             multi=True, debounce=True, placeholder=f"all {len(evals)} evals",
                             maxHeight=320),
            ], lg=4, md=6),
            dbc.Col([
                field_label("Tasks", ids.FB_TASKS, "base_task; empty = all tasks"),
                dcc.Dropdown(id=ids.FB_TASKS, options=task_options, value=state.filters.get("base_task", []),
                             multi=True, debounce=True, placeholder=f"all {len(tasks)} tasks", maxHeight=320),
            ], lg=3, md=6),
            dbc.Col([
                field_label("Groups", ids.FB_GROUPS, 'JSON list: items OR, tags inside a list AND. '
                            '["arch:moe", ["size:large", "family:x"]] = arch:moe OR (size:large AND family:x)'),
                dbc.Input(id=ids.FB_GROUPS, value=groups_field_text(groups), debounce=True, size="sm",
                          placeholder=f"e.g. {groups_hint}" if tags else groups_hint, disabled=not tags and not groups,
                          className="mono"),
                html.Div(_groups_reading(groups), id=ids.FB_GROUPS_PLAIN, className="form-text"),
                html.Div(tag_buttons, className="tag-list") if tags else None,
            ], lg=3, md=6),
            dbc.Col([
                field_label("Other filters", ids.FB_MORE, "any other --filters key as JSON, e.g. "
                            '{"params.length": [8, 16], "manifold.target_tokens": 4096}'),
                dbc.Input(id=ids.FB_MORE, value=flt.canonical_json(other) if other else "", debounce=True,
                          size="sm", placeholder=f"e.g. {other_hint}", className="mono"),
                html.Div("params.*, manifold.*, model, outcome …", className="form-text"),
            ], lg=2, md=6),
        ], className="g-2"),
        html.Div(id=ids.FB_ERROR, className="text-danger small mt-1"),
    ], className="py-2"), className="mb-2 filter-bar")


# ---------------------------------------------------------------- callbacks
def register(app: Dash) -> None:
    """The bar's own callbacks: the groups read-out and the tag chips."""
    app.clientside_callback(
        ClientsideFunction("profile", "addTag"),
        Output(ids.FB_GROUPS, "value", allow_duplicate=True),
        Input(ids.tag(ALL), "n_clicks"),
        State(ids.FB_GROUPS, "value"),
        prevent_initial_call=True,
    )

    @app.callback(Output(ids.FB_GROUPS_PLAIN, "children"), Output(ids.FB_GROUPS_PLAIN, "className"),
                  Input(ids.FB_GROUPS, "value"), prevent_initial_call=True)
    def read_groups(text: str | None) -> tuple[str, str]:
        """The groups field in plain words (AND/OR), from the engine's own parser."""
        words, ok = groups_reading(text)
        return words, "form-text" if ok else "form-text text-danger"
