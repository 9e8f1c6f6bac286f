"""Errors a user can fix: bad filters, unknown ids, broken files.

They carry one message meant for a person; callers (CLI, pages) show it as is
and never a traceback. Anything else escaping the engine is a bug.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input: the message says what was wrong and what is valid."""


def one_line(exc: BaseException, limit: int = 500) -> str:
    """An exception's message on one line, at most ``limit`` characters (Arrow's, DuckDB's and Dask's may span
    many), or its type's name when it has none.
    """
    text = " ".join(str(exc).split())
    return (text if len(text) <= limit else text[:limit - 1] + "…") or type(exc).__name__


def listing(values, limit: int = 12) -> str:
    """A short human list of valid values for error messages."""
    values = [str(v) for v in values]
    if not values:
        return "(none)"
    shown = ", ".join(values[:limit])
    more = len(values) - limit
    return f"{shown}, … ({more} more)" if more > 0 else shown


def json_reason(exc: ValueError, position: str) -> str:
    """A JSON parse error's reason and position as one phrase: ``Expecting value at column 3``.

    Some of the json module's messages end in "at" ("Unterminated string starting at"), which
    would read "starting at at column 3" with the position appended; the trailing "at" is dropped.
    """
    msg = str(getattr(exc, "msg", exc))
    return f"{msg.removesuffix(' at')} at {position}"
