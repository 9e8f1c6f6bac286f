"""/health tells the truth: each dataset and the cache, 503 only when no figure can be served, degraded otherwise.

The in-process tests swap the app's registry or cache (one Dash app per process);
the deployment test runs gunicorn with 2 workers on a real redis-server that is
absent at start, started, stopped mid-load and started again.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests
from flask import Flask

from app.web import ids
from app.web import registry as registry_module
from app.web.cache import KEY_PREFIX, make_cache
from app.web.page import projection_layout
from app.web.registry import Registry
from app.web.services import EXTENSION, Services
from app.web.settings import Settings
from tests.web.conftest import ROOT, free_port, stop
from tests.web.servers import gunicorn, start_redis

PAGES = ("/", "/spiderweb", "/surface", "/compression", "/hazard")
DOWNLOADS = ("/_profile/figure/spiderweb/0.json", "/_profile/figure/hazard/0.json?bucket_size=512",
             "/_profile/table/surface.csv", "/_profile/table/compression.csv")


@contextmanager
def swapped(web_app, registry: Registry | None = None, cache=None) -> Iterator[None]:
    """The app with another registry or cache for the block (the session's app is shared)."""
    services = web_app.server.extensions[EXTENSION]
    web_app.server.extensions[EXTENSION] = Services(services.settings, registry or services.registry,
                                                    cache or services.cache)
    try:
        yield
    finally:
        web_app.server.extensions[EXTENSION] = services


def copy_dataset(web_data: Path, folder: Path, name: str) -> Path:
    shutil.copytree(web_data.parent, folder)
    meta = json.loads((folder / "dataset.json").read_text())
    meta["name"] = name
    (folder / "dataset.json").write_text(json.dumps(meta))
    return folder


def break_dataset(folder: Path, how: str) -> str:
    """Spoil one dataset the way the issue lists; returns a phrase its reason must contain."""
    samples = folder / "samples.parquet"
    if how == "missing parquet":
        samples.unlink()
        return "samples.parquet: missing"
    if how == "truncated parquet":
        samples.write_bytes(samples.read_bytes()[: samples.stat().st_size // 2])
        return "samples.parquet: not a readable Parquet file"
    if how == "wrongly typed parquet":
        table = pq.read_table(samples)
        tokens = pa.array([str(v) for v in table["completion_tokens"].to_pylist()])
        pq.write_table(table.set_column(table.schema.get_field_index("completion_tokens"), "completion_tokens",
                                        tokens), samples)
        return "column 'completion_tokens' has type string"
    if how == "unparsable dataset.json":
        (folder / "dataset.json").write_text('{"name": "x", "evals": [')
        return "not a readable dataset.json"
    raise AssertionError(how)


@pytest.mark.parametrize("how", ["missing parquet", "truncated parquet", "wrongly typed parquet",
                                 "unparsable dataset.json"])
def test_503_naming_the_dataset_when_none_can_be_opened(web_app, client, web_data, tmp_path, how):
    folder = copy_dataset(web_data, tmp_path / "root" / "broken", "broken")
    phrase = break_dataset(folder, how)
    with swapped(web_app, Registry(tmp_path / "root")):
        r = client.get("/health")
    body = r.get_json()
    assert r.status_code == 503 and body["status"] == "unavailable"
    [entry] = body["datasets"]
    assert entry["name"] == "broken" and entry["status"] == "error" and phrase in entry["reason"], entry
    assert str(tmp_path) not in r.get_data(as_text=True)  # the dataset's name, never a server path


def test_one_broken_dataset_of_two_is_degraded_and_named(web_app, client, web_data, tmp_path):
    copy_dataset(web_data, tmp_path / "root" / "good", "good")
    break_dataset(copy_dataset(web_data, tmp_path / "root" / "bad", "bad"), "truncated parquet")
    with swapped(web_app, Registry(tmp_path / "root")):
        r = client.get("/health")
        assert client.get("/_profile/figure/spiderweb/0.json?dataset=good").status_code == 200
    body = r.get_json()
    assert r.status_code == 200 and body["status"] == "degraded"
    assert [(d["name"], d["status"]) for d in body["datasets"]] == [("bad", "error"), ("good", "ok")]


def test_no_dataset_found_is_503(web_app, client, tmp_path):
    with swapped(web_app, Registry(tmp_path)):
        r = client.get("/health")
    assert r.status_code == 503 and r.get_json()["datasets"] == [] and r.get_json()["status"] == "unavailable"


def test_a_dataset_that_fails_to_open_in_the_worker_is_reported(web_app, client, web_data, tmp_path, monkeypatch):
    folder = copy_dataset(web_data, tmp_path / "root" / "odd", "odd")
    registry = Registry(tmp_path / "root")

    def refuse(path):
        raise ValueError(f"cannot decode {folder}/samples.parquet")  # a failure the footer probe cannot see

    monkeypatch.setattr(registry_module.Dataset, "open", refuse)
    with swapped(web_app, registry):
        with web_app.server.test_request_context("/"):
            page = str(projection_layout("spiderweb", {}).to_plotly_json())
        r = client.get("/health")
    assert "dataset 'odd' cannot be opened" in page and str(tmp_path) not in page  # the page's notice
    assert r.status_code == 503
    assert r.get_json()["datasets"][0]["reason"] == \
        "dataset 'odd' cannot be opened: cannot decode odd/samples.parquet"


def render_view(web_app, client, page: str, search: str = ""):
    """The page's view callback through Dash's own endpoint (what the browser calls after the layout)."""
    key, spec = next((k, v) for k, v in web_app.callback_map.items()
                     if [i["id"] for i in v["inputs"]] == [ids.VIEW_QUERY] and isinstance(v["output"], list))
    outputs = [{"id": o.component_id, "property": o.component_property} for o in spec["output"]]
    body = {"output": key, "outputs": outputs,
            "inputs": [{"id": ids.VIEW_QUERY, "property": "data", "value": {"page": page, "search": search}}],
            "changedPropIds": [f"{ids.VIEW_QUERY}.data"], "state": []}
    return client.post("/_dash-update-component", json=body)


def test_a_wrong_redis_url_at_start_is_degraded_and_everything_still_answers(web_app, client, tmp_path):
    dead = make_cache(Flask("dead"), Settings(data=tmp_path, cache_dir=tmp_path / "c", secret_key="s",
                                              redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    with swapped(web_app, cache=dead):
        answers = {path: client.get(path) for path in PAGES + DOWNLOADS}
        views = {page: render_view(web_app, client, page, "?truncation=separate")
                 for page in ("spiderweb", "surface", "compression", "hazard")}
        health = client.get("/health")
    assert {p: r.status_code for p, r in answers.items()} == {p: 200 for p in PAGES + DOWNLOADS}
    for page, r in views.items():  # the figure cards, not the "Internal error" the issue saw
        text = json.dumps(r.get_json())  # decoded: Dash writes "/" as \u002f
        assert r.status_code == 200 and "Internal error" not in text and f"_profile/figure/{page}/0.json" in text
    assert health.status_code == 200 and health.get_json() == {
        "status": "degraded", "datasets": [{"name": "webtest", "status": "ok", "opened": True}],
        "cache": {"backend": "redis", "status": "unreachable", "reason": "connection failed"}}


def test_health_is_cheap_probes_are_redone_only_when_files_change(web_app, client, web_data, tmp_path,
                                                                   monkeypatch):
    folder = copy_dataset(web_data, tmp_path / "root" / "other", "other")
    copy_dataset(web_data, tmp_path / "root" / "more", "more")
    probes: list[str] = []
    real = registry_module.samples_problem
    monkeypatch.setattr(registry_module, "samples_problem", lambda p, m: probes.append(m.name) or real(p, m))
    with swapped(web_app, Registry(tmp_path / "root")):
        client.get("/health")
        started = time.perf_counter()
        for _ in range(50):
            assert client.get("/health").get_json()["status"] == "ok"
        per_call = (time.perf_counter() - started) / 50
        assert sorted(probes) == ["more", "other"]  # one footer read each, then cached
        break_dataset(folder, "truncated parquet")
        assert client.get("/health").get_json()["status"] == "degraded"
    assert sorted(probes) == ["more", "other", "other"]
    assert per_call < 0.02, f"/health took {per_call * 1000:.1f} ms"


def test_dockerfile_healthcheck_fails_only_on_503():
    """The HEALTHCHECK command itself, run against a stub answering like /health does."""
    text = (ROOT / "Dockerfile").read_text()
    command = re.search(r"^HEALTHCHECK [^\n]*\\\n\s+CMD (.+)$", text, re.M).group(1)
    assert "/health" in command

    def exit_status(code: int, body: dict) -> int:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            line = command.replace("8050", str(server.server_address[1])).replace("python ", f"{sys.executable} ", 1)
            return subprocess.run(line, shell=True, timeout=30).returncode
        finally:
            server.shutdown()

    assert exit_status(200, {"status": "ok"}) == 0
    assert exit_status(200, {"status": "degraded"}) == 0
    assert exit_status(503, {"status": "unavailable"}) != 0


# ------------------------------------------------------- a real Redis, down and back
def _poll(what: str, check, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {seconds:.0f} s")
        time.sleep(0.1)


def _get(url: str) -> requests.Response:
    return requests.get(url, headers={"Connection": "close"}, timeout=30)


@pytest.mark.browser
def test_redis_down_mid_run_degrades_and_recovers(web_data, tmp_path):
    port = free_port()
    env = {"PROFILE_DATA": str(web_data), "REDIS_URL": f"redis://127.0.0.1:{port}/0",
           "CACHE_DIR": str(tmp_path / "cache"), "SECRET_KEY": "test"}
    redis_proc = None
    with gunicorn(env, tmp_path) as (base, _):
        try:
            # a REDIS_URL with nothing behind it at start: degraded, and every page and download answers
            health = _get(base + "health")
            assert health.status_code == 200 and health.json()["status"] == "degraded"
            assert health.json()["cache"] == {"backend": "redis", "status": "unreachable",
                                              "reason": "connection failed"}
            for path in PAGES + DOWNLOADS:
                assert _get(base + path.lstrip("/")).status_code == 200, path

            redis_proc, _, client = start_redis(tmp_path, port=port)
            _poll("/health ok once Redis runs", lambda: _get(base + "health").json()["status"] == "ok")
            url = base + "_profile/figure/hazard/0.json?bucket_size=301"
            _poll("a cache hit once Redis runs", lambda: _get(url).headers["X-Profile-Cache"] == "hit")
            assert client.keys(f"{KEY_PREFIX}*")

            # stopped while requests are running: they all still answer 200
            statuses: list[int] = []
            done = threading.Event()

            def load() -> None:
                n = 0
                while not done.is_set():
                    n += 1
                    for path in (f"_profile/figure/hazard/0.json?bucket_size={400 + n % 7}",
                                 "_profile/table/spiderweb.csv", "spiderweb"):
                        statuses.append(_get(base + path).status_code)

            worker = threading.Thread(target=load)
            worker.start()
            time.sleep(1.0)
            stop(redis_proc)
            stopped_at = len(statuses)
            degraded = _poll("/health degraded with Redis stopped",
                             lambda: (h := _get(base + "health")).json()["status"] == "degraded" and h)
            assert degraded.status_code == 200 and degraded.json()["cache"]["status"] == "unreachable"
            for path in PAGES + DOWNLOADS + ("_profile/figure/hazard/0.json?bucket_size=333",):
                r = _get(base + path.lstrip("/"))
                assert r.status_code == 200 and "Internal error" not in r.text, path
            time.sleep(1.0)
            done.set()
            worker.join(timeout=60)
            assert len(statuses) > stopped_at + 3 and set(statuses) == {200}, statuses

            # back again: /health ok and the cache is used again (each worker retries within RETRY_SECONDS)
            redis_proc, _, client = start_redis(tmp_path, port=port)
            _poll("/health ok after Redis returned", lambda: _get(base + "health").json()["status"] == "ok")
            again = base + "_profile/figure/hazard/0.json?bucket_size=302"
            _poll("cache hits resumed", lambda: _get(again).headers["X-Profile-Cache"] == "hit")
            assert client.keys(f"{KEY_PREFIX}hazard:*")
        finally:
            if redis_proc is not None:
                stop(redis_proc)
