"""Deployment shapes: gunicorn workers sharing a real Redis, a URL prefix, several datasets."""

from __future__ import annotations

import re
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from selenium.webdriver.common.by import By

from app.web.cache import KEY_PREFIX
from tests.web.browser import console_errors, figure_summary, open_page, text, wait_figures, wait_for
from tests.web.conftest import dev_server, stop
from tests.web.servers import REQUEST_HEADER, gunicorn, start_redis, workers_of

pytestmark = pytest.mark.browser


def test_a_view_computed_by_one_worker_is_served_by_another(web_data, tmp_path):
    proc, redis_port, client = start_redis(tmp_path)
    env = {"PROFILE_DATA": str(web_data), "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
           "CACHE_DIR": str(tmp_path / "unused-cache"), "SECRET_KEY": "test-secret"}
    try:
        with gunicorn(env, tmp_path) as (base, access):
            health = requests.get(base + "health", timeout=5).json()
            assert health["status"] == "ok" and health["cache"] == {"backend": "redis", "status": "ok"}
            assert "pid" not in health
            url = base + "_profile/figure/hazard/0.json?bucket_size=77"
            answers: dict[str, str] = {}  # request id -> hit|miss
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # new connections until both workers have answered
                n = str(len(answers))
                r = requests.get(url, headers={"Connection": "close", REQUEST_HEADER: n}, timeout=30)
                assert r.status_code == 200 and r.json()["data"]
                assert not any("worker" in h.lower() for h in r.headers), r.headers  # no PID in headers
                answers[n] = r.headers["X-Profile-Cache"]
                if len(answers) % 5 == 0 and len(set(workers_of(access, wait=0.5).values())) == 2:
                    break
                time.sleep(0.01)
            workers = workers_of(access)
            assert answers["0"] == "miss" and all(how == "hit" for n, how in answers.items() if n != "0")
            computed_by = workers["0"]
            assert any(pid != computed_by for n, pid in workers.items() if n in answers), \
                f"one worker answered all {len(answers)} requests"
            assert client.keys(f"*{KEY_PREFIX}hazard:*"), "the view is not in Redis"
            assert not (tmp_path / "unused-cache").exists()  # SECRET_KEY set: no key file is kept either
    finally:
        stop(proc)


def test_url_prefix_and_several_datasets(web_data, tmp_path, browser):
    root = tmp_path / "datasets"
    shutil.copytree(web_data.parent, root / "first")
    second = root / "second"
    shutil.copytree(web_data.parent, second)
    meta = (second / "dataset.json").read_text().replace('"name": "webtest"', '"name": "other"')
    (second / "dataset.json").write_text(meta.replace('"title": "Web test data"', '"title": "Other data"'))
    with dev_server(root, tmp_path / "cache", tmp_path / "server.log", base="/profile/") as url:
        assert [d["name"] for d in requests.get(url + "health", timeout=5).json()["datasets"]] == ["webtest", "other"]
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


def test_two_workers_asked_for_one_new_view_compute_it_once(web_data, tmp_path):
    """The page's early fetch and its render callback ask for a view together: one computes, one waits."""
    env = {"PROFILE_DATA": str(web_data), "CACHE_DIR": str(tmp_path / "cache")}
    with gunicorn(env, tmp_path) as (base, _):
        for size in (57, 58, 59):
            urls = [f"{base}_profile/view/hazard.json?bucket_size={size}",
                    f"{base}_profile/figure/hazard/0.json?bucket_size={size}"]
            together = threading.Barrier(len(urls))

            def get(url: str, together: threading.Barrier = together) -> requests.Response:
                together.wait()
                return requests.get(url, headers={"Connection": "close"}, timeout=60)

            with ThreadPoolExecutor(len(urls)) as pool:
                answers = list(pool.map(get, urls))
            assert [a.status_code for a in answers] == [200, 200]
            assert sorted(a.headers["X-Profile-Cache"] for a in answers) == ["hit", "miss"]
        computed = (tmp_path / "gunicorn.log").read_text().count("computed hazard in")
        assert computed == 3, f"{computed} computations of 3 views"


def test_fresh_workers_serve_every_script_of_a_first_page(web_data, tmp_path):
    """A new page asks for a dozen scripts at once, from workers that have served nobody yet: none may fail."""
    env = {"PROFILE_DATA": str(web_data), "CACHE_DIR": str(tmp_path / "cache")}
    with gunicorn(env, tmp_path, workers=2) as (base, _):
        page = requests.get(base + "hazard", timeout=30).text
        scripts = [base + src.lstrip("/") for src in re.findall(r'<script src="([^"]+)"', page)]
        assert len(scripts) >= 8

        def status(url: str) -> int:
            return requests.get(url, headers={"Connection": "close"}, timeout=30).status_code

        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(status, scripts * 3))
        assert answers == [200] * len(answers)
