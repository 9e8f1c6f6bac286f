"""Optional login for a deployed dashboard: HTTP basic auth from the environment, or a trusted proxy header.

Off unless configured (``PROFILE_BASIC_AUTH``, ``PROFILE_TRUSTED_USER_HEADER``): the
development server and the tests run open. When on, every request but ``/health``
(the load balancer's, which reveals nothing sensitive) needs one of

- basic auth with a listed user: ``PROFILE_BASIC_AUTH="alice:<hash>,bob:<hash>"``, where a
  password is a werkzeug hash (``scrypt:…`` or ``pbkdf2:…``, made with
  ``werkzeug.security.generate_password_hash``) or, for a quick test, the password itself;
- the header a reverse proxy sets after its own login (``PROFILE_TRUSTED_USER_HEADER=X-Forwarded-User``),
  present and not empty. Only use it when the proxy is the sole way in: anyone who reaches
  the workers directly can send the header.

Anything else is 401. Flask's own ``before_request`` hook is all it takes (no extension).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Mapping

from flask import Flask, Response, g, request
from werkzeug.security import check_password_hash

HASH_PREFIXES = ("scrypt:", "pbkdf2:")
_UNKNOWN_USER = "scrypt:32768:8:1$unknownuser$" + "0" * 128  # compared against, so a wrong name costs as long


def parse_credentials(text: str | None) -> tuple[tuple[str, str], ...]:
    """``"alice:pw,bob:scrypt:…"`` → ((user, password or hash), …); a malformed entry is a ValueError naming it.

    A user name holds no ``:`` (basic auth splits there); entries are separated by ``,``, so a
    plain password holds no ``,`` (a hash never does).
    """
    out: list[tuple[str, str]] = []
    for number, entry in enumerate((text or "").split(","), start=1):
        entry = entry.strip()
        if not entry:
            continue
        user, sep, secret = entry.partition(":")
        if not sep or not user.strip() or not secret:
            raise ValueError(f"PROFILE_BASIC_AUTH entry {number} is not user:password (or user:<werkzeug hash>)")
        out.append((user.strip(), secret))
    return tuple(out)


def _password_ok(stored: str, given: str) -> bool:
    if stored.startswith(HASH_PREFIXES):
        return check_password_hash(stored, given)
    return hmac.compare_digest(stored.encode("utf-8"), given.encode("utf-8"))


def basic_user(header: str | None, users: Mapping[str, str]) -> str | None:
    """The user an ``Authorization: Basic …`` header proves, or None."""
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "basic" or not token:
        return None
    try:
        user, sep, password = base64.b64decode(token.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    if not sep:
        return None
    stored = users.get(user)
    ok = _password_ok(stored if stored is not None else _UNKNOWN_USER, password)
    return user if ok and stored is not None else None


def register(server: Flask, prefix: str, credentials: tuple[tuple[str, str], ...],
             trusted_header: str | None) -> None:
    """Require a login on every route of ``server`` but the health check, when either method is configured."""
    if not credentials and not trusted_header:
        return
    users = dict(credentials)
    open_paths = {f"{prefix}health", "/health"}

    @server.before_request
    def _require_login() -> Response | None:
        if request.path in open_paths:
            return None
        if trusted_header and request.headers.get(trusted_header, "").strip():
            g.profile_user = request.headers[trusted_header].strip()
            return None
        user = basic_user(request.headers.get("Authorization"), users) if users else None
        if user is not None:
            g.profile_user = user
            return None
        headers = {"WWW-Authenticate": 'Basic realm="Profile", charset="UTF-8"'} if users else {}
        return Response("Login required: this dashboard asks for a user name and password"
                        + (" (or a login through its proxy)." if trusted_header else "."),
                        status=401, mimetype="text/plain", headers=headers)
