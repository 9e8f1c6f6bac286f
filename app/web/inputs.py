"""What a browser sends to a callback, checked before use: any request can carry any JSON.

Dash hands a callback the values of its inputs as the request body holds them, and
anyone can post a body: a store's ``data`` may arrive as a number, a dropdown's
``value`` as a nested object. The callbacks take their values through these checks
and answer "no update" to a value of the wrong shape, instead of failing on it
(a 500). Their meaning (an unknown eval, a malformed filter) is checked later by the
same parsers as the URL's.
"""

from __future__ import annotations

from typing import Any

from dash.exceptions import PreventUpdate


def is_text(value: Any) -> bool:
    """None or a string (an empty field sends either)."""
    return value is None or isinstance(value, str)


def is_texts(value: Any) -> bool:
    """None or a list of strings (a multi-select)."""
    return value is None or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def view_query(data: Any) -> tuple[str, str]:
    """(page, search) of a page's view store ``{"page": …, "search": …}``; PreventUpdate when it is not one."""
    if isinstance(data, dict) and isinstance(data.get("page"), str) and isinstance(data.get("search"), str):
        return data["page"], data["search"]
    raise PreventUpdate


def require(*checks: bool) -> None:
    """PreventUpdate (Dash answers 204, nothing changes) unless every check holds."""
    if not all(checks):
        raise PreventUpdate
