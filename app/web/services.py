"""Per-worker objects every page needs: settings, dataset registry, cache.

They hang off the Flask app (``server.extensions``), not module globals, so two
apps in one process (tests) stay apart and nothing is shared between requests
except what is meant to be: the opened datasets and the cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask, current_app

from app.web.cache import ViewCache
from app.web.registry import Registry
from app.web.settings import Settings
from app.web.single_flight import ComputeLocks, lock_folder

EXTENSION = "profile"


@dataclass(frozen=True)
class Services:
    """What every layout, callback and route of one app reaches through :func:`current`."""

    settings: Settings
    registry: Registry
    cache: ViewCache  # get/set/set_many; a cache that is down is a miss (app.web.cache)
    locks: ComputeLocks = field(default=None)  # type: ignore[assignment]  # set from the settings below

    def __post_init__(self) -> None:
        if self.locks is None:  # one computation per view across this server's workers (app.web.single_flight)
            object.__setattr__(self, "locks", ComputeLocks(lock_folder(self.settings.cache_dir)))


def attach(server: Flask, services: Services) -> None:
    """Hang ``services`` off ``server`` (one set per app)."""
    server.extensions[EXTENSION] = services


def current() -> Services:
    """The services of the app handling this request (callbacks, layouts, routes)."""
    return current_app.extensions[EXTENSION]
