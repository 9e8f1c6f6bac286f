"""Dashboard settings, read once from the environment (spec §8).

Kept in one frozen object so a worker's configuration is visible in one place
and tests can build an app with explicit settings instead of patching os.environ.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from app.web.auth import parse_credentials

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
    # signs every cache entry (HMAC-SHA256); unset: a key kept in cache_dir (see app.web.signing)
    secret_key: str | None = field(default=None, repr=False)
    cache_max_mb: int = 512  # the file-system cache evicts least recently used entries above this
    # optional login (app.web.auth): (user, password or werkzeug hash) pairs, and a trusted proxy's user header
    basic_auth: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    trusted_user_header: str | None = None

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


def _count(value: str | None, default: int, minimum: int = 0) -> int:
    """A whole number written in ASCII digits (``"²".isdigit()`` is true too), else ``default``."""
    value = (value or "").strip()
    if value.isascii() and value.isdigit() and int(value) >= minimum:
        return int(value)
    return default


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    """PROFILE_DATA, CACHE_DIR, REDIS_URL, URL_BASE_PATHNAME (+ CACHE_TIMEOUT, PROFILE_PRELOAD, SECRET_KEY,
    CACHE_MAX_MB, PROFILE_BASIC_AUTH, PROFILE_TRUSTED_USER_HEADER); a malformed number keeps the default,
    a malformed PROFILE_BASIC_AUTH is a ValueError (a login that silently does nothing would be worse).
    """
    env = os.environ if env is None else env
    data = Path(env["PROFILE_DATA"]).expanduser() if env.get("PROFILE_DATA") else DEFAULT_DATA
    cache_dir = Path(env["CACHE_DIR"]).expanduser() if env.get("CACHE_DIR") else DEFAULT_CACHE_DIR
    return Settings(
        data=data if data.is_absolute() else Path.cwd() / data,
        cache_dir=cache_dir if cache_dir.is_absolute() else Path.cwd() / cache_dir,
        redis_url=(env.get("REDIS_URL") or "").strip() or None,
        url_base_pathname=normalise_base_path(env.get("URL_BASE_PATHNAME")),
        cache_timeout=_count(env.get("CACHE_TIMEOUT"), Settings.cache_timeout),
        preload=_flag(env.get("PROFILE_PRELOAD"), True),
        secret_key=env.get("SECRET_KEY") or None,
        cache_max_mb=_count(env.get("CACHE_MAX_MB"), Settings.cache_max_mb, minimum=1),
        basic_auth=parse_credentials(env.get("PROFILE_BASIC_AUTH")),
        trusted_user_header=(env.get("PROFILE_TRUSTED_USER_HEADER") or "").strip() or None,
    )
