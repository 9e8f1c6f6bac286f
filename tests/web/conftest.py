"""Fixtures for the dashboard tests: a small dataset, an in-process app, real servers and Chromium.

Browser tests start everything they need themselves (a server subprocess per
configuration, headless Chromium through chromedriver) and are marked
``browser`` so ``-m "not browser"`` can leave them out; by default they run.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
import requests

from tests.web.data import make_dataset

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("PROFILE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("PROFILE_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
CHROME_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-dev-shm-usage", "--window-size=1400,1000")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives headless Chromium or real servers (slow)")
    config.addinivalue_line("filterwarnings", "ignore:HTTPResponse.getheader:DeprecationWarning")


@pytest.fixture(scope="session")
def web_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dataset.json of the small test dataset."""
    return make_dataset(tmp_path_factory.mktemp("webdata") / "webtest")


@pytest.fixture(scope="session")
def probe_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with two datasets: probetest (completion texts, imported by analyze.py) and webtest (none)."""
    from tests.web.probe_data import make_text_dataset

    root = tmp_path_factory.mktemp("probedata") / "datasets"
    root.mkdir()
    make_text_dataset(root / "probetest")
    make_dataset(root / "webtest")
    return root


@pytest.fixture(scope="session")
def web_app(web_data: Path, tmp_path_factory: pytest.TempPathFactory):
    """One Dash app per test process (Dash Pages keeps global state), on the test dataset."""
    from app.web import create_app
    from app.web.settings import Settings

    settings = Settings(data=web_data, cache_dir=tmp_path_factory.mktemp("cache"))
    return create_app(settings)


@pytest.fixture()
def client(web_app):
    return web_app.server.test_client()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"no answer from {url} within {timeout:.0f} s")


@contextmanager
def serve(args: list[str], env: dict[str, str], health_url: str, log: Path) -> Iterator[subprocess.Popen]:
    """Run a server process until the block ends; its output goes to ``log``."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            wait_http(health_url, proc)
            yield proc
        finally:
            stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """Stop a server this test started (and wait, so its port is free again)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextmanager
def dev_server(data: Path, cache_dir: Path, log: Path, base: str = "/", **env: str) -> Iterator[str]:
    """``python -m app`` on a free port; yields the base URL (with the prefix)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}{base}"
    environ = {"PROFILE_DATA": str(data), "CACHE_DIR": str(cache_dir), "URL_BASE_PATHNAME": base, **env}
    with serve([sys.executable, "-m", "app", "--port", str(port)], environ, url + "health", log):
        yield url


@pytest.fixture(scope="session")
def server(web_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A dashboard server on the test dataset (file-system cache)."""
    tmp = tmp_path_factory.mktemp("server")
    with dev_server(web_data, tmp / "cache", tmp / "server.log") as url:
        yield url


def chrome(download_dir: Path | None = None):
    """Headless Chromium as root: the flags this machine needs, logs kept for console checks."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail(f"browser tests need {CHROMIUM} and {CHROMEDRIVER} (installed by scripts/system-deps.sh)")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if download_dir:
        options.add_experimental_option("prefs", {"download.default_directory": str(download_dir),
                                                  "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    if download_dir:
        driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(download_dir)})
    return driver


@pytest.fixture(scope="session")
def browser_downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="session")
def browser(browser_downloads: Path):
    driver = chrome(browser_downloads)
    yield driver
    driver.quit()


@pytest.fixture()
def fresh_browser():
    """A second browser with nothing in common with the first (for copied links)."""
    driver = chrome()
    yield driver
    driver.quit()


def which(name: str) -> str | None:
    return shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None)
