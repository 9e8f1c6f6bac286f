"""Deployment shapes: gunicorn workers sharing a real Redis, a URL prefix, several datasets."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
import requests
from selenium.webdriver.common.by import By

from tests.web.browser import console_errors, figure_summary, open_page, text, wait_figures, wait_for
from tests.web.conftest import dev_server, free_port, serve, which

pytestmark = pytest.mark.browser


def start_redis(tmp: Path):
    binary = which("redis-server")
    if not binary:
        pytest.fail("redis-server is not installed (scripts/system-deps.sh installs it)")
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)
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


def test_a_view_computed_by_one_worker_is_served_by_another(web_data, tmp_path):
    proc, redis_port, client = start_redis(tmp_path)
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    env = {"PROFILE_DATA": str(web_data), "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
           "CACHE_DIR": str(tmp_path / "unused-cache")}
    args = [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}", "--timeout", "60",
            "app.wsgi:server"]
    try:
        with serve(args, env, base + "health", tmp_path / "gunicorn.log"):
            workers = set()
            deadline = time.monotonic() + 30
            while len(workers) < 2 and time.monotonic() < deadline:  # the second worker may still be booting
                health = requests.get(base + "health", headers={"Connection": "close"}, timeout=5).json()
                assert health["cache"] == "redis" and health["opened"] == ["webtest"]
                workers.add(health["pid"])
                time.sleep(0.02)
            assert len(workers) == 2, "the second gunicorn worker did not come up"
            url = base + "_profile/figure/hazard/0.json?bucket_size=77"
            seen: list[tuple[str, str]] = []
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                r = requests.get(url, headers={"Connection": "close"}, timeout=30)
                assert r.status_code == 200 and r.json()["data"]
                seen.append((r.headers["X-Profile-Worker"], r.headers["X-Profile-Cache"]))
                if len({pid for pid, _ in seen}) == 2:
                    break
                time.sleep(0.01)
            computed_by, first = seen[0]
            assert first == "miss"
            others = [(pid, how) for pid, how in seen if pid != computed_by]
            assert others, f"one worker answered all {len(seen)} requests"
            assert others[0][1] == "hit" and all(how == "hit" for _, how in seen[1:])
            assert client.keys("*profile:v1:hazard:*"), "the view is not in Redis"
            assert not (tmp_path / "unused-cache").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_url_prefix_and_several_datasets(web_data, tmp_path, browser):
    root = tmp_path / "datasets"
    shutil.copytree(web_data.parent, root / "first")
    second = root / "second"
    shutil.copytree(web_data.parent, second)
    meta = (second / "dataset.json").read_text().replace('"name": "webtest"', '"name": "other"')
    (second / "dataset.json").write_text(meta.replace('"title": "Web test data"', '"title": "Other data"'))
    with dev_server(root, tmp_path / "cache", tmp_path / "server.log", base="/profile/") as url:
        assert requests.get(url + "health", timeout=5).json()["datasets"] == ["webtest", "other"]
        assert requests.get(url.replace("/profile/", "/") + "health", timeout=5).status_code == 200
        console_errors(browser)
        open_page(browser, url + "spiderweb?dataset=other&style=bars")
        assert text(browser, "#cli-command").split()[3].endswith("second/dataset.json")
        assert figure_summary(browser)["data"][0]["type"] == "bar"
        assert browser.find_element(By.ID, "dataset-select").get_attribute("value") == "other"
        assert "/profile/_profile/table/spiderweb.csv?dataset=other" in \
            browser.find_element(By.ID, "download-csv").get_attribute("href")
        browser.find_element(By.ID, "nav-hazard").click()
        wait_for(browser, lambda: browser.current_url.startswith(url + "hazard?dataset=other"), what="hazard link")
        wait_figures(browser)
        open_page(browser, url + "surface?dataset=../first")
        assert "Unknown dataset" in text(browser, "#notices")
        assert console_errors(browser) == []
