"""A bounded load test: throughput and latency of figure requests under gunicorn with 2 workers.

On the bundled dataset, for the file-system cache and for a real Redis, it measures
uncached figure requests (every one a new hazard view: a distinct bucket size) and
cached ones (a few views computed beforehand, then asked for again and again), with
CLIENTS concurrent clients on 127.0.0.1 for PHASE_SECONDS each. ``pytest -s`` prints
the table; the assertions check every answer, not the machine's speed, except that a
cached answer must be faster than a computed one.
"""

from __future__ import annotations

import itertools
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.web.conftest import stop
from tests.web.servers import gunicorn, start_redis

pytestmark = pytest.mark.browser

CLIENTS = 4
PHASE_SECONDS = 2.5
CACHED_URLS = tuple(f"_profile/figure/{page}/0.json{query}" for page, query in
                    (("spiderweb", ""), ("hazard", "?bucket_size=512"), ("compression", "?split_by=none")))


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


def _server_ms(response: requests.Response) -> float:
    """The app's own time from its Server-Timing header (``app;dur=…``)."""
    timing = response.headers.get("Server-Timing", "")
    return next(float(part.split("dur=")[1]) for part in timing.split(",") if part.strip().startswith("app;"))


def _run(base: str, next_url) -> dict:
    """CLIENTS threads, each with a keep-alive session, asking for ``next_url()`` until the phase ends."""
    deadline = time.monotonic() + PHASE_SECONDS
    results: list[tuple[int, str, float, float]] = []
    lock = threading.Lock()

    def client() -> None:
        with requests.Session() as session:
            while time.monotonic() < deadline:
                url = next_url()
                started = time.perf_counter()
                r = session.get(base + url, timeout=60)
                wall = (time.perf_counter() - started) * 1000
                with lock:
                    results.append((r.status_code, r.headers.get("X-Profile-Cache", "-"), wall,
                                    _server_ms(r) if r.status_code == 200 else 0.0))

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        for future in [pool.submit(client) for _ in range(CLIENTS)]:
            future.result()
    elapsed = time.perf_counter() - started
    walls = [w for _, _, w, _ in results]
    return {"n": len(results), "statuses": {s for s, _, _, _ in results}, "cache": {c for _, c, _, _ in results},
            "rps": len(results) / elapsed, "p50": statistics.median(walls), "p95": _p95(walls),
            "server_p50": statistics.median(s for _, _, _, s in results)}


def _measure(base: str) -> dict[str, dict]:
    for url in CACHED_URLS:  # computed once, so the cached phase only reads
        assert requests.get(base + url, timeout=60).status_code == 200
    sizes = itertools.count(1000)
    lock = threading.Lock()

    def fresh() -> str:
        with lock:
            return f"_profile/figure/hazard/0.json?bucket_size={next(sizes)}"

    rotation = itertools.cycle(CACHED_URLS)
    return {"uncached": _run(base, fresh), "cached": _run(base, lambda: next(rotation))}


def test_throughput_and_p95_of_figure_requests(bundled: Path, tmp_path):
    redis_proc, redis_port, _ = start_redis(tmp_path)
    table: dict[tuple[str, str], dict] = {}
    try:
        for backend in ("filesystem", "redis"):
            env = {"PROFILE_DATA": str(bundled), "CACHE_DIR": str(tmp_path / backend / "cache"), "SECRET_KEY": "load"}
            if backend == "redis":
                env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
            (tmp_path / backend).mkdir(exist_ok=True)
            with gunicorn(env, tmp_path / backend) as (base, _):
                for phase, row in _measure(base).items():
                    table[(backend, phase)] = row
    finally:
        stop(redis_proc)
    lines = [f"figure requests, gunicorn 2 workers, {CLIENTS} clients, {PHASE_SECONDS:.1f} s per row, bundled data",
             f"{'cache':<11} {'requests':<9} {'n':>5} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'server p50 ms':>14}"]
    for (backend, phase), row in table.items():
        lines.append(f"{backend:<11} {phase:<9} {row['n']:>5} {row['rps']:>7.1f} {row['p50']:>8.1f} "
                     f"{row['p95']:>8.1f} {row['server_p50']:>14.2f}")
    print("\n" + "\n".join(lines))
    for (backend, phase), row in table.items():
        assert row["statuses"] == {200}, (backend, phase, row["statuses"])
        assert row["cache"] == ({"hit"} if phase == "cached" else {"miss"}), (backend, phase, row["cache"])
        assert row["n"] >= CLIENTS, (backend, phase, row["n"])
    for backend in ("filesystem", "redis"):
        assert table[(backend, "cached")]["p95"] < table[(backend, "uncached")]["p50"], backend
        assert table[(backend, "cached")]["rps"] > table[(backend, "uncached")]["rps"], backend
