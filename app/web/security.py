"""Response headers every answer carries, and the bounds of a request body.

Headers: a Content-Security-Policy the Dash app works under, no framing, no MIME
sniffing, no referrer. Scripts come from this server only; the few inline scripts
Dash writes into its page (the renderer's start and inline clientside callbacks) are
allowed by their SHA-256 hashes (``Dash.csp_hashes``), so an injected script is not.
Styles allow 'unsafe-inline': plotly.js and the Dash components set styles in
markup; a style cannot run code. Images allow ``data:`` and ``blob:`` (plotly's PNG
export). Nothing may be loaded from another origin: the app is self-contained.

Bodies: Dash callbacks send a few KB of JSON; a body over ``bounds.MAX_REQUEST_BYTES``
is 413 (Flask's ``MAX_CONTENT_LENGTH``) and JSON nested deeper than
``bounds.MAX_BODY_JSON_DEPTH`` is 400 before anything parses it (Python's parser
would raise RecursionError: a 500). A callback request must also have the shape
Dash's dispatcher assumes (it indexes into it and answers 500 otherwise): a JSON
object naming a callback of this app, with as many inputs, states and outputs as
that callback declares, and text for a location's pathname, search, hash or href.
What each value means is the callback's own business (see app.web.callbacks).
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from dash import Dash
from flask import Flask, Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from app import bounds
from app.engine.bounded_json import nesting, shown

FIXED_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}


LOCATION_PROPS = ("pathname", "search", "hash", "href")
CALLBACK_PATH = "_dash-update-component"


def _entries(item: Any) -> list[Any]:
    """A pattern-matching input (ALL) is a list of entries, any other one entry."""
    return item if isinstance(item, list) else [item]


def _is_entry(entry: Any) -> bool:
    return (isinstance(entry, dict) and isinstance(entry.get("property"), str)
            and isinstance(entry.get("id"), (str, dict)))


def callback_problem(body: Any, callback_map: Mapping[str, Any]) -> str | None:
    """Why ``body`` is not a callback request this app can dispatch, or None when it is."""
    if not isinstance(body, dict):
        return "a callback request is a JSON object"
    output = body.get("output")
    spec = callback_map.get(output) if isinstance(output, str) else None
    if spec is None or "callback" not in spec:  # a clientside callback runs in the browser, never here
        return f"it names no callback of this app that runs on the server ({shown(output)})"
    for part in ("inputs", "state"):
        given, declared = body.get(part, []), spec.get(part) or []
        if not isinstance(given, list) or len(given) != len(declared):
            return f"its {part} must be a list of {len(declared)}"
        for entry in (e for item in given for e in _entries(item)):
            if not _is_entry(entry):
                return f"each of its {part} is an object with an id and a property"
            if entry["property"] in LOCATION_PROPS and not isinstance(entry.get("value"), (str, type(None))):
                return f"a location's {entry['property']} is text"
    indices = spec.get("outputs_indices")
    outputs = body.get("outputs")
    if outputs is not None:
        if isinstance(indices, list) and not (isinstance(outputs, list) and len(outputs) == len(indices)):
            return f"its outputs must be a list of {len(indices)}"
        if not all(_is_entry(e) for item in _entries(outputs) for e in _entries(item)):
            return "each of its outputs is an object with an id and a property"
    changed = body.get("changedPropIds", [])
    if not (isinstance(changed, list) and all(isinstance(c, str) for c in changed)):
        return "its changedPropIds must be a list of text"
    return None


def content_security_policy(script_hashes: list[str] | tuple[str, ...]) -> str:
    """The policy for the given inline-script hashes (``'sha256-…'`` strings)."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def _bad(message: str) -> Response:
    return Response(message, status=400, mimetype="text/plain")


def register(app: Dash) -> None:
    """Add the body bounds and the headers to ``app``'s server (after every route is known)."""
    server: Flask = app.server
    server.config["MAX_CONTENT_LENGTH"] = bounds.MAX_REQUEST_BYTES
    policies: dict[tuple[str, ...], str] = {}

    @server.errorhandler(RequestEntityTooLarge)
    def _too_large(_: RequestEntityTooLarge) -> Response:
        return Response(f"The request body is larger than {bounds.MAX_REQUEST_BYTES:,} bytes, the most this server "
                        "reads.", status=413, mimetype="text/plain")

    @server.before_request
    def _bounded_body() -> Response | None:
        if request.method in ("GET", "HEAD", "OPTIONS") or not request.content_length:
            return None
        text = request.get_data(cache=True, as_text=True)  # 413 past MAX_CONTENT_LENGTH
        depth = nesting(text) if request.is_json else 0
        if depth > bounds.MAX_BODY_JSON_DEPTH:
            return _bad(f"The request body nests {depth:,} levels deep; at most {bounds.MAX_BODY_JSON_DEPTH} are read.")
        if request.path.endswith(CALLBACK_PATH):
            try:
                body = json.loads(text)
            except ValueError:
                return _bad("The callback request is not valid JSON.")
            problem = callback_problem(body, app.callback_map)
            if problem:
                return _bad(f"The callback request cannot be run: {problem}.")
        return None

    @server.after_request
    def _security_headers(response: Response) -> Response:
        # Dash adds inline clientside callbacks until its first request is served: hash what exists now.
        hashes = tuple(app.csp_hashes())
        if hashes not in policies:
            policies[hashes] = content_security_policy(hashes)
        response.headers["Content-Security-Policy"] = policies[hashes]
        for name, value in FIXED_HEADERS.items():
            response.headers.setdefault(name, value)
        return response
