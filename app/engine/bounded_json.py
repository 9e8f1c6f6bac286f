r"""JSON from strangers (a link, a form field, ``--filters``) read within bounds, or refused with one sentence.

``json.loads`` alone fails in ways a message cannot explain: deep nesting raises
RecursionError, a 5,000-digit number ValueError, ``NaN`` and ``1e999`` come back
as floats no JSON writer accepts again, and ``"\\ud800"`` comes back as a lone
surrogate that breaks the first UTF-8 encode far from here (a URL, a response).
:func:`loads` checks size and nesting before parsing and the values after, so
what it returns can be re-encoded anywhere and everything else is an
:class:`InputError` saying what was wrong.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

from app.engine.errors import InputError, json_reason

MAX_INT = 2**63 - 1  # a JSON integer beyond 64 bits names no value a dataset holds
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"?', re.S)  # a JSON string (an unterminated one runs to the end)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


def nesting(text: str) -> int:
    """How deeply ``[`` and ``{`` nest in ``text`` outside strings: what ``json.loads`` would recurse into.

    No parsing and no Python loop per character (regular expressions and numpy), so a
    1 MB request body is measured in milliseconds.
    """
    brackets = np.frombuffer(_NOT_BRACKETS.sub("", _STRINGS.sub("", text)).encode("ascii"), np.uint8)
    if len(brackets) == 0:
        return 0
    steps = np.where((brackets == ord("]")) | (brackets == ord("}")), -1, 1)
    return int(max(np.cumsum(steps).max(), 0))


def is_text(value: str) -> bool:
    r"""True when ``value`` encodes as UTF-8 (no lone surrogate such as the escape \\ud800)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown(value: Any, limit: int = 60) -> str:
    """A value as an error message quotes it: its repr, cut to ``limit`` characters (a message stays a line)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_value(value: Any, what: str) -> None:
    """Refuse what no JSON writer or URL can carry again: lone surrogates, non-finite or over-64-bit numbers."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not is_text(item):
                raise InputError(f"{what} holds {shown(item)}, which is not valid Unicode (a lone surrogate "
                                 "escape such as \\ud800); write the character itself or a valid pair")
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if abs(item) > MAX_INT:
                raise InputError(f"{what} holds a {len(str(abs(item)))}-digit number; numbers must fit in 64 bits")
        elif isinstance(item, float):
            if item != item or item in (float("inf"), float("-inf")):
                raise InputError(f"{what} holds {shown(item)}; numbers must be finite (no NaN, Infinity or 1e999)")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


def cut_strings(value: Any, limit: int) -> Any:
    """``value`` (plain JSON types) with every string longer than ``limit``, keys too, cut to it, ending in "…"."""
    if isinstance(value, str):
        return value if len(value) <= limit else value[: limit - 1] + "…"
    if isinstance(value, dict):
        return {cut_strings(k, limit): cut_strings(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [cut_strings(v, limit) for v in value]
    return value


def loads(text: str, *, what: str, max_chars: int, max_depth: int) -> Any:
    """``text`` parsed as JSON, or an InputError naming ``what`` and the bound it broke.

    Order: size, nesting, syntax, then the values (see :func:`check_value`).
    """
    if len(text) > max_chars:
        raise InputError(f"{what} is {len(text):,} characters long; at most {max_chars:,} are read")
    depth = nesting(text)
    if depth > max_depth:
        raise InputError(f"{what} nests {depth:,} levels deep; at most {max_depth} are allowed")
    try:
        value = json.loads(text)  # NaN and Infinity parse as floats; check_value refuses them
    except json.JSONDecodeError as exc:
        raise InputError(f"{what} is not valid JSON ({json_reason(exc, f'character {exc.pos}')})") from None
    except ValueError as exc:  # e.g. an integer literal past Python's digit limit
        raise InputError(f"{what} is not valid JSON ({str(exc).split(';')[0]})") from None
    check_value(value, what)
    return value
