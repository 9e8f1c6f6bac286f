"""The one filter grammar (spec §4), shared by ``--filters``, the URL and the filter bar.

Parsing here is about form only (JSON, key names, value types). Whether an id,
tag or param value exists is checked by the dataset, which knows the valid ones.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from app.bounds import MAX_JSON_DEPTH, MAX_PARAM_CHARS
from app.engine import bounded_json
from app.engine.errors import InputError, listing
from app.engine.schema import DIM_PREFIXES, EVAL_DIMS
from app.engine.schema import canonical_json as canonical_json  # the cache key and URL form of parsed filters

SCALAR_KEYS: tuple[str, ...] = EVAL_DIMS + ("base_task", "outcome")
GRAMMAR_HINT = ('expected a JSON object such as {"eval_id": ["3f9a1c"], "base_task": "arithmetic", '
                '"groups": ["arch:moe", ["size:large", "family:x"]], "params.length": [8, 16]}')

Scalar = str | int | float | bool


def normalise_scalar(value: Any) -> Scalar:
    """Numbers compare by value: 8 and 8.0 are the same filter value."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def is_dimension(key: str) -> bool:
    """A name the engine can filter and group by (spec §2)."""
    return key in SCALAR_KEYS or (any(key.startswith(p) for p in DIM_PREFIXES) and "." in key
                                  and len(key.split(".", 1)[1]) > 0)


def valid_keys_text() -> str:
    """The filter keys for error messages and help texts."""
    return ", ".join(SCALAR_KEYS + ("groups", "params.<key>", "manifold.<key>", "groups.<key>"))


def _quoted(value: Any, limit: int = 60) -> str:
    """A value as JSON for an error message, cut to ``limit`` characters."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def load_json(text: str, what: str = "filters") -> Any:
    """JSON typed by a person (``--filters``, a link, a filter-bar field), within the bounds of app.bounds.

    At most MAX_PARAM_CHARS characters nested at most MAX_JSON_DEPTH deep (the grammar needs 3),
    valid Unicode, finite 64-bit numbers; anything else is one InputError saying which bound.
    """
    return bounded_json.loads(text, what=what, max_chars=MAX_PARAM_CHARS, max_depth=MAX_JSON_DEPTH)


def _scalars(key: str, value: Any) -> list[Scalar]:
    values = value if isinstance(value, list) else [value]
    if not values:
        raise InputError(f"filter '{key}': an empty list matches nothing; leave the key out to keep everything")
    out = []
    for v in values:
        if v is None or isinstance(v, (dict, list)):
            raise InputError(f"filter '{key}': values must be strings or numbers (a value or a list of values), "
                             f"not {_quoted(v)}")
        out.append(normalise_scalar(v))
    return out


def _groups(value: Any) -> list[list[str]]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise InputError("filter 'groups': an empty list matches nothing; leave the key out to keep everything")
    out = []
    for item in items:
        tags = item if isinstance(item, list) else [item]
        if not tags or not all(isinstance(t, str) and ":" in t for t in tags):
            raise InputError(f"filter 'groups': {_quoted(item)} is not a tag 'key:value' or a list of tags; "
                             'tags inside a list AND, items OR: ["arch:moe", ["size:large", "family:x"]]')
        out.append(sorted(set(tags)))
    return out


def _sort_key(v: Any) -> tuple:
    return (0, float(v), "") if isinstance(v, (int, float)) and not isinstance(v, bool) else (1, 0.0, str(v))


def parse_filters(raw: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """Check the form of a filter and return its canonical dict (sorted, deduplicated)."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        try:
            raw = load_json(raw)
        except InputError as exc:
            raise InputError(f"{exc}; {GRAMMAR_HINT}") from None
    if not isinstance(raw, Mapping):
        raise InputError(f"filters must be a JSON object, not {type(raw).__name__}; {GRAMMAR_HINT}")
    bounded_json.check_value(dict(raw), "filters")
    for key in raw:
        if not isinstance(key, str) or not (key == "groups" or is_dimension(key)):
            raise InputError(f"unknown filter key {bounded_json.shown(key)}; valid keys: {valid_keys_text()}")
    out: dict[str, Any] = {}
    for key in sorted(raw):
        if key == "groups":
            groups = _groups(raw[key])
            out[key] = sorted({tuple(g) for g in groups})
            out[key] = [list(g) for g in out[key]]
        else:
            out[key] = sorted(set(_scalars(key, raw[key])), key=_sort_key)
    return out


def merge(*parts: Mapping[str, Any]) -> dict[str, Any]:
    """AND several parsed filters (e.g. a view's own filter and the user's)."""
    out: dict[str, Any] = {}
    for part in parts:
        for key, values in part.items():
            if key == "groups" and key in out:
                # (A or B) and (C or D) = AC or AD or BC or BD
                out[key] = [sorted(set(a) | set(b)) for a in out[key] for b in values]
            elif key in out:
                keep = [v for v in out[key] if v in values]
                out[key] = keep
            else:
                out[key] = list(values)
    return out


def groups_text(groups: list[list[str]]) -> str:
    """Plain words for the groups grammar, e.g. 'arch:moe OR (size:large AND family:x)'."""
    parts = [t[0] if len(t) == 1 else "(" + " AND ".join(t) + ")" for t in groups]
    return " OR ".join(parts)


def describe(filters: Mapping[str, Any]) -> str:
    """One line for figure titles and notices."""
    if not filters:
        return "all samples"
    bits = []
    for key, values in filters.items():
        if key == "groups":
            bits.append(f"groups: {groups_text(values)}")
        else:
            bits.append(f"{key} = {listing(values, limit=6)}" if len(values) > 1 else f"{key} = {values[0]}")
    return "; ".join(bits)
