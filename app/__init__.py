"""Profile dashboard: characterise and compare LLMs from evaluation results.

The package is importable without Dash: ``app.engine`` (data model, filters,
statistics) and ``app.figures`` stay usable from notebooks and the CLI. The Dash
server is built only when ``app.server`` is first asked for.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "server":
        from app.wsgi import server

        return server
    raise AttributeError(name)
