"""The view cache: flask-caching on the file system by default, Redis when REDIS_URL is set.

Keys are the dataset's version plus the canonical state of the view, so every
gunicorn worker (and every restart) finds a view another one computed, and a
changed dataset never serves an old figure.

Every call site goes through :class:`ViewCache`, which owes three things:

* **a cache that is down, slow or full is a miss, never an error**: Redis gets
  short connect/read timeouts and no retries; after a failure the cache is left
  alone for RETRY_SECONDS (requests are computed and served meanwhile, with no
  timeout to wait out), then tried again, so service resumes by itself when it
  returns; the failure is logged once per LOG_SECONDS, not per request;
* **nothing read back is unpickled**: values are stored as signed text
  (``app.web.signing``): figures and CSV as they are, summaries and split values
  as JSON; an entry that fails its check is a miss;
* **bounded entries**: a value larger than ``app.bounds.MAX_CACHE_ENTRY_BYTES``
  is served but not stored.

The backends are flask-caching's own RedisCache (with a serializer that passes
bytes through, so its pickling path is never used) and ``LruFileCache``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import redis
from cachelib.serializers import BaseSerializer
from flask import Flask
from flask_caching import Cache
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.bounds import MAX_CACHE_ENTRY_BYTES
from app.web.settings import Settings
from app.web.signing import cache_secret, seal, unseal
from app.web.state import State

log = logging.getLogger(__name__)

KEY_PREFIX = "profile:v2:"  # v2: figures carry the click data the drill-downs read
REDIS_CONNECT_TIMEOUT = 0.25  # seconds; a cache that answers slower than this is treated as down
REDIS_READ_TIMEOUT = 0.5  # an 8 MB entry takes ~70 ms on a 1 Gbit/s link
RETRY_SECONDS = 5.0  # after a failure, requests skip the cache this long before it is tried again
LOG_SECONDS = 60.0  # the same kind of cache problem is logged at most once per this


class RawBytes(BaseSerializer):
    """flask-caching's serializer hook, used so RedisCache stores our sealed bytes as they are (no pickle)."""

    def dumps(self, value: Any, *args: Any, **kwargs: Any) -> bytes:
        if not isinstance(value, bytes):
            raise TypeError("the view cache stores sealed bytes only")
        return value

    def loads(self, bvalue: Any, *args: Any, **kwargs: Any) -> Any:
        return bvalue if isinstance(bvalue, bytes) else None


@dataclass(frozen=True)
class CacheStatus:
    """What /health says about the cache: its backend and whether it answers (reason when not)."""

    backend: str
    reachable: bool
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"backend": self.backend, "status": "ok" if self.reachable else "unreachable"}
        if self.reason:
            doc["reason"] = self.reason
        return doc


class _Throttled:
    """Log each kind of message at most once per LOG_SECONDS, saying how many were held back."""

    def __init__(self, every: float):
        self.every = every
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def warning(self, kind: str, message: str, *args: Any) -> None:
        now = time.monotonic()
        with self._lock:
            last = self._last.get(kind)
            if last is not None and now - last < self.every:
                self._held[kind] = self._held.get(kind, 0) + 1
                return
            self._last[kind] = now
            held = self._held.pop(kind, 0)
        log.warning(message + (f" ({held} more like this since the last report)" if held else ""), *args)


class Misconfigured(Exception):
    """The cache's settings cannot work (a malformed REDIS_URL): every call fails with this reason."""


class _Unusable:
    """The backend for a cache that cannot be configured: the app serves without it, /health says why."""

    def __init__(self, reason: str):
        self.reason = reason

    def get(self, key: str) -> Any:
        raise Misconfigured(self.reason)

    def set_many(self, mapping: Mapping[str, Any]) -> Any:
        raise Misconfigured(self.reason)

    def ping(self) -> Any:
        raise Misconfigured(self.reason)


def _describe(exc: BaseException) -> str:
    """A short reason without hosts or credentials: the exception's kind and, for OS errors, the errno text."""
    if isinstance(exc, Misconfigured):
        return str(exc)
    if isinstance(exc, (redis.AuthenticationError, redis.exceptions.AuthorizationError)) or \
            (isinstance(exc, redis.ResponseError) and str(exc).startswith(("NOAUTH", "WRONGPASS"))):
        return "authentication failed (check the password in REDIS_URL)"
    if isinstance(exc, redis.TimeoutError):
        return "timed out"
    if isinstance(exc, redis.ConnectionError):
        return "connection failed"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return type(exc).__name__


class ViewCache:
    """get / set / set_many of text or JSON values under string keys, for every call site of the app."""

    def __init__(self, backend: Any, backend_name: str, secret: bytes, *,
                 ping: Callable[[], Any] | None = None, max_entry_bytes: int = MAX_CACHE_ENTRY_BYTES,
                 retry_seconds: float = RETRY_SECONDS, log_seconds: float = LOG_SECONDS):
        self.backend = backend
        self.backend_name = backend_name
        self._secret = secret
        self._ping = ping
        self.max_entry_bytes = max_entry_bytes
        self.retry_seconds = retry_seconds
        self._down_until = 0.0
        self._down_reason: str | None = None
        self._log = _Throttled(log_seconds)
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- access
    def get(self, key: str) -> Any:
        """The value stored under ``key``, or None: missing, unreadable, tampered with, or the cache is down."""
        if self._resting():
            return None
        try:
            data = self.backend.get(key)
        except Exception as exc:  # any backend failure is a miss: the view is computed instead
            self._failed(exc)
            return None
        self._answered()
        if data is None:
            return None
        value, ok = unseal(self._secret, key, data)
        if not ok:
            self._log.warning("tampered", "cache entry %s failed its integrity check: treated as a miss", key)
        return value

    def set(self, key: str, value: Any) -> bool:
        """Store ``value`` (text, or anything JSON can hold); False when it was not stored."""
        return bool(self.set_many({key: value}))

    def set_many(self, mapping: Mapping[str, Any]) -> list[str]:
        """Store every value that seals and fits; the keys stored. Never raises."""
        sealed: dict[str, bytes] = {}
        for key, value in mapping.items():
            try:
                data = seal(self._secret, key, value)
            except (TypeError, ValueError) as exc:
                self._log.warning("unsealable", "not cached: %s is not JSON (%s)", key, exc)
                continue
            if len(data) > self.max_entry_bytes:
                self._log.warning("too-big", "not cached: %s is %.1f MB, over the %.0f MB an entry may take", key,
                                  len(data) / 2**20, self.max_entry_bytes / 2**20)
                continue
            sealed[key] = data
        if not sealed or self._resting():
            return []
        try:
            self.backend.set_many(sealed)
        except Exception as exc:  # not stored: the next request computes the view again
            self._failed(exc)
            return []
        self._answered()
        return list(sealed)

    # ---------------------------------------------------------------- health
    def status(self) -> CacheStatus:
        """Whether the cache answers now (Redis: one PING within the read timeout); a success ends a rest."""
        try:
            if self._ping is not None:
                self._ping()
            elif not os.access(self.backend.dir, os.W_OK):
                raise PermissionError(13, "cache folder is not writable")
        except Exception as exc:
            self._failed(exc)
            return CacheStatus(self.backend_name, False, _describe(exc))
        self._answered()
        return CacheStatus(self.backend_name, True)

    # ------------------------------------------------------- down and back up
    def _resting(self) -> bool:
        return time.monotonic() < self._down_until

    def _failed(self, exc: BaseException) -> None:
        reason = _describe(exc)
        with self._lock:
            self._down_until = time.monotonic() + self.retry_seconds
            self._down_reason = reason
        self._log.warning("down", "%s cache unavailable (%s): serving without it, trying again in %.0f s",
                          self.backend_name, reason, self.retry_seconds)

    def _answered(self) -> None:
        if self._down_reason is None:
            return
        with self._lock:
            reason, self._down_reason, self._down_until = self._down_reason, None, 0.0
        if reason is not None:
            log.warning("%s cache reachable again (it was: %s): using it", self.backend_name, reason)


def redis_client(url: str) -> redis.Redis:
    """A client that fails fast: short timeouts and no retries (a failure is a miss, retried later)."""
    return redis.Redis.from_url(url, socket_connect_timeout=REDIS_CONNECT_TIMEOUT,
                                socket_timeout=REDIS_READ_TIMEOUT, retry=Retry(NoBackoff(), 0),
                                health_check_interval=0)


def make_cache(server: Flask, settings: Settings) -> ViewCache:
    """The view cache bound to ``server``; the backend follows the settings (see the module docstring)."""
    secret = cache_secret(settings.secret_key, settings.cache_dir, shared=bool(settings.redis_url))
    config: dict[str, Any] = {"CACHE_DEFAULT_TIMEOUT": settings.cache_timeout}
    if settings.redis_url:
        try:
            client = redis_client(settings.redis_url)
        except ValueError as exc:  # served without a cache, and /health says why, rather than no worker at all
            reason = f"REDIS_URL is malformed: {exc}"
            log.error("%s; serving without a cache", reason)
            unusable = _Unusable(reason)
            return ViewCache(unusable, "redis", secret, ping=unusable.ping)
        config.update({"CACHE_TYPE": "RedisCache", "CACHE_REDIS_HOST": client, "CACHE_SERIALIZER": RawBytes(),
                       "CACHE_KEY_PREFIX": ""})  # keys already start with KEY_PREFIX
        backend = Cache(server, config=config).cache
        return ViewCache(backend, "redis", secret, ping=client.ping)
    config.update({"CACHE_TYPE": "app.web.file_cache.LruFileCache", "CACHE_DIR": str(settings.cache_dir),
                   "CACHE_MAX_BYTES": settings.cache_max_mb << 20})
    return ViewCache(Cache(server, config=config).cache, "filesystem", secret)


def view_key(state: State, version: str) -> str:
    """One key per (dataset version, canonical view); parts of a view add a suffix."""
    digest = hashlib.sha256(f"{version}\n{state.identity()}".encode("utf-8")).hexdigest()[:40]
    return f"{KEY_PREFIX}{state.page}:{digest}"
