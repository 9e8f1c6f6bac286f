"""The one registry of adapters: ``--adapter NAME`` looks names up here, at the time it runs.

``app.importers`` registers the built-in adapters when it is first imported; anything else
(a test, a plugin) calls :func:`register` and, when done, :func:`unregister`. The CLI reads
the registry whenever it builds its parser, so a later registration is picked up.
"""

from __future__ import annotations

import re

from app.engine.errors import InputError
from app.importers.base import Adapter

NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")

_ADAPTERS: dict[str, Adapter] = {}


def register(adapter: Adapter, *, replace: bool = False) -> Adapter:
    """Add ``adapter`` under its name and return it; a name already taken is a ValueError unless ``replace``."""
    if isinstance(adapter, type) or not isinstance(adapter, Adapter) or not callable(adapter.read):
        raise TypeError(f"{adapter!r} is not an adapter: it needs name, help, suffixes and read(sources, ctx)")
    if not isinstance(adapter.name, str) or not NAME.match(adapter.name):
        raise ValueError(f"adapter name {adapter.name!r} must be lower-case letters, digits and hyphens")
    if adapter.name in _ADAPTERS and not replace and _ADAPTERS[adapter.name] is not adapter:
        raise ValueError(f"an adapter named {adapter.name!r} is already registered")
    _ADAPTERS[adapter.name] = adapter
    return adapter


def unregister(name: str) -> Adapter | None:
    """Remove the adapter called ``name`` (if any) and return it."""
    return _ADAPTERS.pop(name, None)


def adapters() -> tuple[Adapter, ...]:
    """Every registered adapter, in registration order."""
    return tuple(_ADAPTERS.values())


def get_adapter(name: str) -> Adapter:
    """The adapter called ``name``; an unknown name is an InputError listing the valid ones."""
    try:
        return _ADAPTERS[name]
    except KeyError:
        raise InputError(f"unknown adapter {name!r}; valid adapters: {', '.join(_ADAPTERS)}") from None


__all__ = ["Adapter", "adapters", "get_adapter", "register", "unregister"]
