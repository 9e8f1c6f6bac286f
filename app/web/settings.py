"""Dashboard settings, read once from the environment (spec §8).

Kept in one frozen object so a worker's configuration is visible in one place
and tests can build an app with explicit settings instead of patching os.environ.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = ROOT / "data"
DEFAULT_CACHE_DIR = ROOT / ".cache" / "dashboard"


@dataclass(frozen=True)
class Settings:
    """Where the data is, where the cache lives, and the URL prefix behind a proxy."""

    data: Path = DEFAULT_DATA
    cache_dir: Path = DEFAULT_CACHE_DIR
    redis_url: str | None = None
    url_base_pathname: str = "/"
    cache_timeout: int = 7 * 24 * 3600  # keys carry the dataset version, so entries never go stale
    preload: bool = True  # open the default dataset when the worker starts, not on the first request

    @property
    def cache_backend(self) -> str:
        return "redis" if self.redis_url else "filesystem"


def normalise_base_path(value: str | None) -> str:
    """Dash wants the prefix with a leading and a trailing slash: '/profile/'."""
    value = (value or "/").strip()
    if not value.startswith("/"):
        value = "/" + value
    if not value.endswith("/"):
        value += "/"
    return value


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    """PROFILE_DATA, CACHE_DIR, REDIS_URL, URL_BASE_PATHNAME (+ CACHE_TIMEOUT, PROFILE_PRELOAD)."""
    env = os.environ if env is None else env
    data = Path(env["PROFILE_DATA"]).expanduser() if env.get("PROFILE_DATA") else DEFAULT_DATA
    cache_dir = Path(env["CACHE_DIR"]).expanduser() if env.get("CACHE_DIR") else DEFAULT_CACHE_DIR
    timeout = env.get("CACHE_TIMEOUT", "").strip()
    return Settings(
        data=data if data.is_absolute() else Path.cwd() / data,
        cache_dir=cache_dir if cache_dir.is_absolute() else Path.cwd() / cache_dir,
        redis_url=(env.get("REDIS_URL") or "").strip() or None,
        url_base_pathname=normalise_base_path(env.get("URL_BASE_PATHNAME")),
        cache_timeout=int(timeout) if timeout.isdigit() else Settings.cache_timeout,
        preload=_flag(env.get("PROFILE_PRELOAD"), True),
    )
