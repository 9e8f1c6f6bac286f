"""gunicorn settings for the dashboard (``make serve``, the Dockerfile): threaded workers slow clients do not block.

A sync worker serves one connection at a time, so two clients sending their headers byte by
byte held both workers and ``/health`` waited 9.5 s. A ``gthread`` worker accepts connections
in its main loop and serves requests from a pool of threads: a slow client ties up one thread,
not the worker, and a connection that sends nothing is put back on the poller after a few seconds.

Sizing: ``WEB_CONCURRENCY`` workers (about one per core; each is a process with its own copy of
every dataset it has opened, so memory per worker ≈ the opened datasets' size in memory, see
``/health``) × ``PROFILE_THREADS`` threads (requests waiting on the cache, the disk or a slow
client; computing a view holds the GIL, so more threads do not compute faster). Behind a
reverse proxy that buffers requests (nginx), slow clients never reach the workers at all.
Command-line flags (``--bind``, ``--workers``) override what is set here.
"""

import os


def _number(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value.isascii() and value.isdigit() and int(value) > 0 else default


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8050")
workers = _number("WEB_CONCURRENCY", 2)
worker_class = "gthread"
threads = _number("PROFILE_THREADS", 8)

timeout = 120           # a worker silent this long (its main loop stuck) is restarted; a view computes in seconds
graceful_timeout = 30   # on restart or shutdown, requests in flight get this long to finish
keepalive = 5           # an idle kept-alive connection is closed after this many seconds

limit_request_line = 8190        # the request line (a link's query string is read up to app.bounds.MAX_QUERY_CHARS)
limit_request_fields = 100       # header fields per request
limit_request_field_size = 8190  # bytes per header field

accesslog = "-"
