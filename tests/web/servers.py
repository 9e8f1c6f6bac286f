"""Real servers for the deployment tests: redis-server and gunicorn with 2 workers.

Responses no longer name the worker that served them, so gunicorn writes an access
log with the worker's PID and a per-request id the test sends (``X-Test-Request``);
:func:`workers_of` reads which worker answered which request from that log.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
import redis

from tests.web.conftest import free_port, serve, which

REQUEST_HEADER = "X-Test-Request"
ACCESS_FORMAT = "%(p)s %({x-test-request}i)s %(s)s"
_LINE = re.compile(r"^<(\d+)> (\S+) (\d{3})$")


def start_redis(tmp: Path, port: int | None = None, password: str | None = None):
    """A private redis-server on 127.0.0.1 (no persistence): (process, port, client)."""
    binary = which("redis-server")
    if not binary:
        pytest.fail("redis-server is not installed (scripts/system-deps.sh installs it)")
    port = port or free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(tmp)]
    if password:
        args += ["--requirepass", password]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    client = redis.Redis(host="127.0.0.1", port=port, password=password, socket_timeout=2)
    deadline = time.monotonic() + 15
    while True:
        try:
            client.ping()
            return proc, port, client
        except redis.RedisError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)


@contextmanager
def gunicorn(env: dict[str, str], tmp: Path, workers: int = 2) -> Iterator[tuple[str, Path]]:
    """gunicorn serving app.wsgi:server on a free 127.0.0.1 port: yields (base URL, access log path)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    access = tmp / "access.log"
    args = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
            "--timeout", "60", "--access-logfile", str(access), "--access-logformat", ACCESS_FORMAT,
            "app.wsgi:server"]
    with serve(args, env, base + "health", tmp / "gunicorn.log"):
        yield base, access


def workers_of(access: Path, wait: float = 5.0) -> dict[str, str]:
    """Request id → PID of the worker that answered it, from the access log."""
    deadline = time.monotonic() + wait
    seen: dict[str, str] = {}
    while True:
        for line in access.read_text().splitlines() if access.exists() else []:
            m = _LINE.match(line.strip())
            if m and m.group(2) != "-":
                seen[m.group(2)] = m.group(1)
        if seen or time.monotonic() > deadline:
            return seen
        time.sleep(0.05)
