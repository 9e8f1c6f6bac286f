"""Importers: one adapter module per source format, registered by name.

An adapter (see :class:`~app.importers.base.Adapter`) has ``name``, ``help``, ``suffixes`` and
``read(sources, ctx) -> Imported``; it only reads. ``runner.import_sources`` does the single
atomic write for all of them. Adding a source format is one module in this package plus one
line in ``BUILTIN`` below, and fixtures in ``tests/importers/fixtures/<name>/`` (and
``<name>-broken/``), which the contract test then checks with no edit to it.
"""

from __future__ import annotations

from app.importers import babilong, inspect_logs, lm_eval, reasoning_gym_eval, samples
from app.importers.base import Adapter, Context, Imported
from app.importers.registry import adapters, get_adapter, register, unregister

BUILTIN: tuple[Adapter, ...] = (samples.ADAPTER, reasoning_gym_eval.ADAPTER, babilong.ADAPTER,
                                inspect_logs.ADAPTER, lm_eval.ADAPTER)

for _adapter in BUILTIN:
    register(_adapter)

__all__ = ["Adapter", "BUILTIN", "Context", "Imported", "adapters", "get_adapter", "register", "unregister"]
