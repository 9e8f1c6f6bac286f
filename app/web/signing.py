"""Cache entries as signed text: what is read back is checked, then parsed as JSON, never unpickled.

Whoever can write to Redis or to the cache folder could otherwise hand every worker
a pickle, which runs code when loaded. Here an entry is

    MAGIC | kind | MAC | payload      kind: b"t" text or b"j" JSON
    MAC = HMAC-SHA256(secret, MAGIC | kind | len(cache key) | cache key | payload)

and :func:`unseal` returns None (a miss) unless the MAC matches for *this* cache key
(so an entry copied under another key, e.g. an old dataset version's, fails too) and
the payload is UTF-8 text or, for ``j``, JSON.

The secret comes from ``SECRET_KEY`` (the same value in every worker and host).
Unset, workers would each draw their own key and reject each other's entries, so
one key is generated once and kept in the cache folder (``.secret-key``, mode 0600,
owned by the server's user, created atomically so workers starting together agree);
with Redis that key is per host, so a warning says to set ``SECRET_KEY`` for hosts
to share entries. A key file someone else could have written is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MAGIC = b"PRF1"
TEXT, JSON = b"t", b"j"
MAC_BYTES = hashlib.sha256().digest_size
HEADER_BYTES = len(MAGIC) + 1 + MAC_BYTES
KEY_FILE = ".secret-key"
KEY_FILE_BYTES = 32
PURPOSE = b"profile view cache v1"  # the cache key is derived, so SECRET_KEY can serve other purposes too


def derive(secret: str | bytes) -> bytes:
    """The cache's own key from the deployment's secret."""
    raw = secret.encode("utf-8") if isinstance(secret, str) else secret
    return hmac.new(raw, PURPOSE, hashlib.sha256).digest()


def _mac(secret: bytes, key: str, kind: bytes, payload: bytes) -> bytes:
    name = key.encode("utf-8")
    m = hmac.new(secret, MAGIC + kind + len(name).to_bytes(4, "big") + name, hashlib.sha256)
    m.update(payload)
    return m.digest()


def seal(secret: bytes, key: str, value: Any) -> bytes:
    """``value`` (text as it is, anything else as JSON) signed for ``key``; TypeError/ValueError if not JSON."""
    if isinstance(value, str):
        kind, payload = TEXT, value.encode("utf-8")
    else:
        kind, payload = JSON, json.dumps(value, separators=(",", ":")).encode("utf-8")
    return MAGIC + kind + _mac(secret, key, kind, payload) + payload


def unseal(secret: bytes, key: str, data: bytes | None) -> tuple[Any, bool]:
    """(value, True) for an entry this process's secret signed for ``key``; (None, False) otherwise."""
    if not isinstance(data, bytes) or len(data) < HEADER_BYTES or not data.startswith(MAGIC):
        return None, False
    kind = data[len(MAGIC):len(MAGIC) + 1]
    mac, payload = data[len(MAGIC) + 1:HEADER_BYTES], data[HEADER_BYTES:]
    if kind not in (TEXT, JSON) or not hmac.compare_digest(mac, _mac(secret, key, kind, payload)):
        return None, False
    try:
        text = payload.decode("utf-8")
        return (text if kind == TEXT else json.loads(text)), True
    except ValueError:  # signed by us but unreadable: still only a miss
        return None, False


def cache_secret(secret_key: str | None, cache_dir: Path, shared: bool) -> bytes:
    """The key entries are signed with (see the module docstring for the rule)."""
    if secret_key:
        return derive(secret_key)
    try:
        raw = _key_file(cache_dir)
    except OSError as exc:
        log.warning("SECRET_KEY is not set and no key could be kept in the cache folder (%s): each worker "
                    "signs with its own key, so workers do not share cached views; set SECRET_KEY",
                    exc.strerror or type(exc).__name__)
        return derive(secrets.token_bytes(KEY_FILE_BYTES))
    if shared:
        log.warning("SECRET_KEY is not set: cache entries are signed with a key kept on this host only, so "
                    "other hosts sharing this Redis cannot use them; set SECRET_KEY to the same value everywhere")
    return derive(raw)


def _key_file(cache_dir: Path) -> bytes:
    """Read the key file, creating it first (atomically: the first worker's key wins) when missing."""
    cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = cache_dir / KEY_FILE
    if not path.exists():
        fd, tmp = tempfile.mkstemp(prefix=".secret-", dir=cache_dir)  # mode 0600
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(secrets.token_bytes(KEY_FILE_BYTES))
            try:
                os.link(tmp, path)  # fails if another worker got there first; then its key is used
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if st.st_uid != os.getuid() or st.st_mode & 0o077:
            raise PermissionError(0, f"{KEY_FILE} is not private to this user")
        raw = f.read()
    if len(raw) != KEY_FILE_BYTES:
        raise OSError(0, f"{KEY_FILE} is not a key")
    return raw
