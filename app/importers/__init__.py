"""Importers: one adapter module per source format, looked up by name.

An adapter module has ``NAME``, ``HELP`` and ``read(sources, ctx) -> Imported``; it only
reads. ``runner.import_sources`` does the single atomic write for all of them.
"""

from __future__ import annotations

from types import ModuleType

from app.engine.errors import InputError
from app.importers import babilong, reasoning_gym_eval, samples

ADAPTERS: dict[str, ModuleType] = {m.NAME: m for m in (samples, reasoning_gym_eval, babilong)}


def get_adapter(name: str) -> ModuleType:
    """The adapter called ``name``; an unknown name is an InputError listing the valid ones."""
    try:
        return ADAPTERS[name]
    except KeyError:
        raise InputError(f"unknown adapter {name!r}; valid adapters: {', '.join(ADAPTERS)}") from None


__all__ = ["ADAPTERS", "get_adapter"]
