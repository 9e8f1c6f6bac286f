"""A deployed internal service: security headers, optional login, no server paths, bounded requests and names,
spreadsheet-safe CSV, and gunicorn workers that slow clients do not block.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests
from flask import Flask
from werkzeug.security import generate_password_hash

from app import bounds
from app.engine.schema import eval_id
from app.projections.base import Projection, spreadsheet_safe, to_csv
from app.web import auth, compute
from app.web.redact import redact
from app.web.services import current
from app.web.settings import Settings, from_env
from app.web.state import decode
from tests.web.conftest import ROOT, free_port, serve
from tests.web.data import make_dataset

PAGES = ("/", "/spiderweb", "/surface", "/compression", "/hazard")
MB = "x" * (1 << 20)


# ---------------------------------------------------------------- headers
def _inline_scripts(html: str) -> list[str]:
    """Executable inline scripts of a page (no src, no JSON data block), outside HTML comments."""
    html = re.sub(r"<!--.*?-->", "", html, flags=re.S)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    return [body for attrs, body in scripts if "src=" not in attrs and "application/json" not in attrs]


def test_every_inline_script_of_a_page_is_allowed_by_its_hash_and_no_other_is(client):
    r = client.get("/hazard")
    policy = r.headers["Content-Security-Policy"]
    script_src = next(d for d in policy.split("; ") if d.startswith("script-src ")).split()[1:]
    scripts = _inline_scripts(r.get_data(as_text=True))
    assert len(scripts) >= 2  # the renderer's start and the inline clientside callbacks
    hashes = {"'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'" for s in scripts}
    assert hashes <= set(script_src)
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy


@pytest.mark.parametrize("method, path, status", [
    ("get", "/spiderweb", 200), ("get", "/health", 200), ("get", "/_profile/figure/spiderweb/0.json", 200),
    ("get", "/_profile/table/spiderweb.csv", 200), ("get", "/_profile/figure/nope/0.json", 404),
    ("get", "/_profile/figure/hazard/0.json?bucket_size=%C2%B2", 400), ("get", "/assets/profile.css", 200),
    ("post", "/_dash-update-component", 415),  # no JSON body
])
def test_every_response_carries_the_security_headers(client, method, path, status):
    r = getattr(client, method)(path)
    assert r.status_code == status
    assert r.headers["X-Frame-Options"] == "DENY" and r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["Content-Security-Policy"].startswith("default-src 'self'")


@pytest.mark.browser
def test_every_page_works_under_the_policy_in_chromium(browser, server, browser_downloads):
    from selenium.webdriver.common.by import By

    from tests.web.browser import console_errors, open_page, wait_for

    console_errors(browser)
    policy = requests.get(server + "hazard", timeout=10).headers["Content-Security-Policy"]
    assert "script-src 'self' 'sha256-" in policy
    browser.get(server)
    wait_for(browser, lambda: browser.execute_script("return !!document.querySelector('#evals-table')"),
             what="the overview")
    for page in PAGES[1:]:
        open_page(browser, server + page.strip("/"))
    for old in browser_downloads.glob("*"):
        old.unlink()
    browser.find_element(By.CSS_SELECTOR, ".js-png").click()  # plotly draws the PNG through data: and blob: URLs
    png = wait_for(browser, lambda: list(browser_downloads.glob("*.png")), what="a PNG download")[0]
    wait_for(browser, lambda: png.stat().st_size > 10_000, what="PNG bytes")
    assert console_errors(browser) == []  # a blocked script, style or image is a console error


# ---------------------------------------------------------------- request bodies
def test_a_large_body_is_413_and_deep_json_400_in_one_line(client):
    big = client.post("/_dash-update-component", data="[" + "1," * bounds.MAX_REQUEST_BYTES + "1]",
                      content_type="application/json")
    assert big.status_code == 413 and big.mimetype == "text/plain" and b"1,048,576 bytes" in big.data
    deep = client.post("/_dash-update-component", data="[" * 5000 + "]" * 5000, content_type="application/json")
    assert deep.status_code == 400 and deep.data == b"The request body nests 5,000 levels deep; at most 64 are read."


@pytest.mark.parametrize("body, why", [
    ("[1]", "a callback request is a JSON object"),
    ('{"output": "nope.children", "inputs": []}', "it names no callback of this app"),
    ('{"output": "canonical-url.children", "inputs": 3}', "no callback"),  # a clientside callback: not served here
    ('{"output": "..view-area.children...next-steps.children...view-notes.children...cli-command.children'
     '...download-csv.href..", "inputs": []}', "its inputs must be a list of 1"),
    ('{"output": "..view-area.children...next-steps.children...view-notes.children...cli-command.children'
     '...download-csv.href..", "inputs": [{"id": "view-query", "property": "data", "value": 1}], '
     '"outputs": [{"id": "view-area", "property": "children"}]}', "its outputs must be a list of 5"),
    ('{"output": "..view-area.children...next-steps.children...view-notes.children...cli-command.children'
     '...download-csv.href..", "inputs": [7]}', "each of its inputs is an object with an id and a property"),
])
def test_a_callback_request_dash_cannot_dispatch_is_400_not_500(client, body, why):
    client.get("/")  # Dash Pages adds its router callback on the first request
    r = client.post("/_dash-update-component", data=body, content_type="application/json")
    assert r.status_code == 400 and why in r.get_data(as_text=True)


def test_a_view_store_of_the_wrong_shape_changes_nothing(client):
    client.get("/")
    output = ("..view-area.children...next-steps.children...view-notes.children...cli-command.children"
              "...download-csv.href..")
    for value in (1, "x", None, {"page": ["spiderweb"], "search": ""}, {"page": "nope", "search": ""}):
        body = {"output": output, "outputs": [{"id": i, "property": p} for i, p in (
                    ("view-area", "children"), ("next-steps", "children"), ("view-notes", "children"),
                    ("cli-command", "children"), ("download-csv", "href"))],
                "inputs": [{"id": "view-query", "property": "data", "value": value}],
                "changedPropIds": ["view-query.data"], "state": []}
        assert client.post("/_dash-update-component", json=body).status_code == 204  # Dash's "no update"


# ---------------------------------------------------------------- login
def _login_app(**config) -> Flask:
    server = Flask("login-test")
    server.add_url_rule("/health", "health", lambda: "ok")
    server.add_url_rule("/spiderweb", "page", lambda: "page")
    auth.register(server, "/", **config)
    return server


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_basic_auth_from_the_environment_with_plain_and_hashed_passwords():
    creds = auth.parse_credentials(f"alice:wonder, bob:{generate_password_hash('builder')}")
    client = _login_app(credentials=creds, trusted_header=None).test_client()
    refused = client.get("/spiderweb")
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert client.get("/spiderweb", headers=_basic("alice", "wonder")).status_code == 200
    assert client.get("/spiderweb", headers=_basic("bob", "builder")).status_code == 200
    for user, password in (("alice", "builder"), ("carol", "wonder"), ("bob", "")):
        assert client.get("/spiderweb", headers=_basic(user, password)).status_code == 401
    assert client.get("/spiderweb", headers={"Authorization": "Basic !!!"}).status_code == 401
    assert client.get("/health").status_code == 200  # the load balancer's check stays open


def test_a_trusted_proxy_header_admits_only_requests_that_carry_it():
    client = _login_app(credentials=(), trusted_header="X-Forwarded-User").test_client()
    assert client.get("/spiderweb").status_code == 401
    assert client.get("/spiderweb", headers={"X-Forwarded-User": " "}).status_code == 401
    assert client.get("/spiderweb", headers={"X-Forwarded-User": "alice"}).status_code == 200
    assert client.get("/health").status_code == 200


def test_login_settings_come_from_the_environment_and_a_typo_is_refused():
    settings = from_env({"PROFILE_BASIC_AUTH": "alice:wonder", "PROFILE_TRUSTED_USER_HEADER": "X-Forwarded-User"})
    assert settings.basic_auth == (("alice", "wonder"),) and settings.trusted_user_header == "X-Forwarded-User"
    assert "wonder" not in repr(settings)
    assert from_env({}).basic_auth == () and from_env({}).trusted_user_header is None
    with pytest.raises(ValueError, match="PROFILE_BASIC_AUTH entry 2 is not user:password"):
        from_env({"PROFILE_BASIC_AUTH": "alice:wonder,bob"})


def test_the_dashboard_asks_for_a_login_when_configured(web_data, tmp_path):
    from app.web import create_app

    app = create_app(Settings(data=web_data, cache_dir=tmp_path / "cache", preload=False,
                              basic_auth=(("alice", "wonder"),)))
    client = app.server.test_client()
    for path in ("/", "/spiderweb", "/_profile/table/spiderweb.csv", "/_dash-layout", "/assets/profile.css"):
        assert client.get(path).status_code == 401, path
    assert client.get("/spiderweb", headers=_basic("alice", "wonder")).status_code == 200
    health = client.get("/health")
    assert health.status_code in (200, 503) and "alice" not in health.get_data(as_text=True)


# ---------------------------------------------------------------- server paths
def test_what_a_page_shows_names_no_server_path(web_app, web_data):
    from app.web.page import projection_layout

    with web_app.server.test_request_context("/"):
        layout = json.dumps(projection_layout("hazard", {}).to_plotly_json(), default=str)
        assert "python analyze.py hazard webtest/dataset.json" in layout
        assert str(web_data.parent) not in layout and str(ROOT) not in layout


def test_error_notices_replace_server_paths_by_the_dataset_name(web_data, tmp_path):
    from app.web import create_app
    from app.web.page import projection_layout

    root = tmp_path / "datasets"
    folder = make_dataset(root / "broken").parent
    (folder / "samples.parquet").write_bytes(b"PAR1 this is not parquet")
    app = create_app(Settings(data=root, cache_dir=tmp_path / "cache", preload=False))
    with app.server.test_request_context("/"):
        services = current()
        assert redact(f"{folder}/samples.parquet: unreadable", services) == "webtest/samples.parquet: unreadable"
        assert redact(f"no dataset at {root}", services) == "no dataset at PROFILE_DATA"
        shown = json.dumps(projection_layout("hazard", {}).to_plotly_json(), default=str)
    assert "samples.parquet" in shown and str(tmp_path) not in shown
    r = app.server.test_client().get("/_profile/table/hazard.csv")
    assert r.status_code in (400, 404, 503) and str(tmp_path) not in r.get_data(as_text=True)


# ---------------------------------------------------------------- CSV
def test_text_cells_that_start_like_a_formula_are_escaped_and_numbers_stay_numbers():
    rows = pd.DataFrame({"label": ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tTAB", "plain", "-5",
                                   "+1.5e3", None],
                         "accuracy": [-0.25, 0.5, -1.0, 0.0, 1.0, 0.1, 0.2, 0.3, 0.4]})
    text = to_csv(Projection("t", rows, []))
    got = list(csv.DictReader(io.StringIO(text)))
    assert [r["label"] for r in got] == ["'=1+1", "'+cmd|' /C calc'!A0", "'-2+3", "'@SUM(A1)", "'\tTAB", "plain",
                                         "-5", "+1.5e3", ""]
    assert [r["accuracy"] for r in got][:3] == ["-0.25", "0.5", "-1.0"]  # a numeric column is never touched
    assert spreadsheet_safe(-3) == -3 and spreadsheet_safe("a=b") == "a=b"


def test_the_cli_and_the_dashboard_write_escaped_csv_from_real_imported_data(tmp_path):
    from app.cli import main

    src = tmp_path / "results.jsonl"
    src.write_text("\n".join(json.dumps({"model": "=HYPERLINK(\"http://x\")", "template": "-2+3", "base_task": "t",
                                         "params": {"level": "=1+1"}, "outcome": o, "completion_tokens": 10 + i})
                             for i, o in enumerate(["correct", "incorrect"] * 4)) + "\n")
    assert main(["import", str(src), "--adapter", "samples", "--out", str(tmp_path / "ds")]) == 0
    out = tmp_path / "out"
    assert main(["spiderweb", str(tmp_path / "ds" / "dataset.json"), "--group-by", "params.level",
                 "--format", "csv", "--output-dir", str(out)]) == 0
    rows = list(csv.DictReader(open(out / "spiderweb.csv", newline="")))
    assert rows[0]["params.level"] == "'=1+1" and rows[0]["label"].startswith("'=HYPERLINK")
    assert float(rows[0]["accuracy"]) == pytest.approx(0.5)


# ---------------------------------------------------------------- long names in a dataset written elsewhere
def long_names_dataset(folder: Path) -> Path:
    """The web test dataset rewritten as another tool might: 1 MB title, labels, models, tags, task label, view."""
    path = make_dataset(folder / "longnames")
    meta = json.loads(path.read_text())
    meta["title"] = "T" + MB
    renamed = {}
    for i, e in enumerate(meta["evals"]):
        e["label"], e["model"] = f"L{i}" + MB, f"M{i}" + MB
        renamed[e["eval_id"]] = e["eval_id"] = eval_id(e["model"], e["template"], e["sampler"])
        e["groups"] = e["groups"] + [f"tag:{i}" + MB]
    meta["tasks"][0]["label"] = "A" + MB
    meta["views"][0]["name"] = "V" + MB
    table = pq.read_table(path.parent / "samples.parquet")
    ids = pa.array([renamed[v] for v in table["eval_id"].to_pylist()])
    pq.write_table(table.set_column(table.schema.get_field_index("eval_id"), "eval_id", ids),
                   path.parent / "samples.parquet")
    path.write_text(json.dumps(meta))
    return path


LAYOUT_BOUND = 100_000   # bytes of a page layout's JSON with 1 MB names (about 25 KB with short ones)
FIGURE_BOUND = 100_000   # bytes of a figure's JSON, and of a view's cached summary
CSV_BOUND = 1_000_000    # the dashboard's CSV download (cells cut at MAX_TEXT_CHARS)


def test_a_dataset_with_1_mb_names_gives_small_pages_and_figures(tmp_path):
    from app.web import create_app
    from app.web.overview import overview_layout
    from app.web.page import projection_layout, view_children

    app = create_app(Settings(data=long_names_dataset(tmp_path), cache_dir=tmp_path / "cache"))
    client = app.server.test_client()

    def size(component) -> int:
        return len(json.dumps(component, default=lambda c: c.to_plotly_json() if hasattr(c, "to_plotly_json")
                              else str(c)))

    with app.server.test_request_context("/"):
        services = current()
        assert size(overview_layout({})) < LAYOUT_BOUND
        for page in PAGES[1:]:
            name = page.strip("/")
            assert size(projection_layout(name, {})) < LAYOUT_BOUND, page
            state = decode(name, {}, services.registry).state
            view = compute.view(services, state)
            assert view.summary.status == "ok"
            assert size(view_children(state, view, services)) < LAYOUT_BOUND, page
            assert len(json.dumps(services.cache.get(f"{view.key}:summary") or {})) < FIGURE_BOUND
            for index in range(len(view.summary.figures)):
                figure = client.get(f"/_profile/figure/{name}/{index}.json")
                assert figure.status_code == 200 and len(figure.data) < FIGURE_BOUND, page
                assert "L0xxx" in figure.get_data(as_text=True)  # the label is shown, cut
            table = client.get(f"/_profile/table/{name}.csv")
            assert table.status_code == 200 and len(table.data) < CSV_BOUND, page


# ---------------------------------------------------------------- figure size bound
def test_a_figure_over_the_size_bound_is_not_served_and_the_page_says_how_to_narrow(client, web_app, monkeypatch):
    monkeypatch.setattr(bounds, "MAX_FIGURE_BYTES", 5_000)
    with web_app.server.test_request_context("/"):
        state = decode("spiderweb", {"group_by": "params.b"}, current().registry).state
        view = compute.view(current(), state)
    assert view.summary.status == "empty" and "MB a page draws. Narrow it" in view.summary.message
    r = client.get("/_profile/figure/spiderweb/0.json?group_by=params.b")
    assert r.status_code == 404 and b"Narrow it" in r.data


def test_a_bucket_size_too_small_for_the_selection_is_the_pages_message_not_a_huge_figure(client, web_app):
    with web_app.server.test_request_context("/"):
        view = compute.view(current(), decode("hazard", {"bucket_size": "1"}, current().registry).state)
    assert view.summary.status == "empty" and "bucket size too small for this selection: at least 5" in \
        view.summary.message  # the longest completion of the test data is 8,192 tokens: 8,192 // 2,000 + 1
    for path in ("/_profile/figure/hazard/0.json?bucket_size=1", "/_profile/table/hazard.csv?bucket_size=1"):
        r = client.get(path)
        assert r.status_code == 404 and b"at least 5" in r.data and len(r.data) < 400
    assert client.get("/_profile/figure/hazard/0.json?bucket_size=5").status_code == 200


# ---------------------------------------------------------------- gunicorn and slow clients
def _slow_header_client(port: int, stop: threading.Event) -> None:
    """Open a connection and send a request's headers one byte at a time until told to stop."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        request = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 10_000
        for byte in request:
            if stop.is_set():
                return
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                return
            time.sleep(0.05)


@pytest.mark.browser
def test_slow_header_clients_do_not_stop_health_under_gunicorn(web_data, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    env = {"PROFILE_DATA": str(web_data), "CACHE_DIR": str(tmp_path / "cache"), "WEB_CONCURRENCY": "2"}
    args = [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py"),
            "--bind", f"127.0.0.1:{port}", "app.wsgi:server"]
    with serve(args, env, base + "health", tmp_path / "gunicorn.log"):
        stop = threading.Event()
        slow = [threading.Thread(target=_slow_header_client, args=(port, stop), daemon=True) for _ in range(2)]
        for thread in slow:
            thread.start()
        time.sleep(1.0)  # both slow clients are mid-headers now
        try:
            times = []
            for _ in range(10):
                started = time.monotonic()
                r = requests.get(base + "health", headers={"Connection": "close"}, timeout=5)
                times.append(time.monotonic() - started)
                assert r.status_code in (200, 503)
            assert max(times) < 1.0, times
        finally:
            stop.set()
            for thread in slow:
                thread.join(timeout=10)


def test_gunicorn_runs_threaded_workers_with_timeouts_and_make_serve_and_docker_use_it():
    conf = {}
    exec(compile((ROOT / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), conf)
    assert conf["worker_class"] == "gthread" and conf["threads"] >= 4 and conf["workers"] >= 1
    assert 0 < conf["keepalive"] <= 10 and conf["timeout"] >= 30 and conf["graceful_timeout"] > 0
    assert conf["limit_request_line"] == 8190 and conf["limit_request_field_size"] == 8190  # gunicorn's maxima
    assert "--config gunicorn.conf.py" in (ROOT / "Makefile").read_text()
    docker = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^COPY .*gunicorn\.conf\.py \./$", docker, re.M)
    assert '"gunicorn", "--config", "gunicorn.conf.py"' in docker
    out = subprocess.run([sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "--print-config",
                          "app.wsgi:server"], capture_output=True, text=True, cwd=ROOT, timeout=120,
                         env={**os.environ, "PROFILE_PRELOAD": "0", "WEB_CONCURRENCY": "3"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert re.search(r"^worker_class\s*=\s*gthread$", out.stdout, re.M)
    assert re.search(r"^workers\s*=\s*3$", out.stdout, re.M)
