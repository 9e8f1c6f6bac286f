"""The view cache: flask-caching on the file system by default, Redis when REDIS_URL is set.

Keys are the dataset's version plus the canonical state of the view, so every
gunicorn worker (and every restart) finds a view another one computed, and a
changed dataset never serves an old figure.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Flask
from flask_caching import Cache

from app.web.settings import Settings
from app.web.state import State

KEY_PREFIX = "profile:v1:"


def make_cache(server: Flask, settings: Settings) -> Cache:
    """A Cache bound to ``server``; the backend follows the settings."""
    if settings.redis_url:
        config: dict[str, Any] = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": settings.redis_url}
    else:
        settings.cache_dir.mkdir(parents=True, exist_ok=True)
        config = {"CACHE_TYPE": "FileSystemCache", "CACHE_DIR": str(settings.cache_dir),
                  "CACHE_THRESHOLD": 400}
    config["CACHE_DEFAULT_TIMEOUT"] = settings.cache_timeout
    return Cache(server, config=config)


def view_key(state: State, version: str) -> str:
    """One key per (dataset version, canonical view); parts of a view add a suffix."""
    digest = hashlib.sha256(f"{version}\n{state.identity()}".encode("utf-8")).hexdigest()[:40]
    return f"{KEY_PREFIX}{state.page}:{digest}"
