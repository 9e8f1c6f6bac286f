"""The report in real headless Chromium: the HTML file opened from disk with no network, and the /report page."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from app.cli import build_parser, main
from app.engine import Dataset
from app.report import build
from tests.web import data
from tests.web.browser import console_errors, figures_drawn, mark_stale, open_page, search, text, wait_for

pytestmark = pytest.mark.browser

DRAWN_IN_FILE = ("return Array.from(document.querySelectorAll('.figure'))"
                 ".filter(d => d._fullLayout && d.querySelector('.main-svg')).length")
RESOURCES = "return performance.getEntriesByType('resource').map(e => e.name)"
ALPHA = data.ids()[0]
READING = ("return Array.from(document.querySelectorAll('.report-step .card-header, .report-finding, "
           "#report-comparisons')).map(e => e.innerText)")  # the report's words, not the figures' pixels


def query_of(driver) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(driver.current_url).query).items()}


def offline(driver, on: bool) -> None:
    """Cut (or restore) the browser's network: a request that tried to leave would fail and log an error."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": on, "latency": 0,
                                                                 "downloadThroughput": -1, "uploadThroughput": -1})


def report_file(tmp_path: Path, dataset: Path, filters: dict | None = None) -> Path:
    args = ["report", str(dataset), "--output-dir", str(tmp_path)] + (["--filters", json.dumps(filters)]
                                                                        if filters else [])
    assert main(args) == 0
    return tmp_path / "report.html"


@pytest.mark.parametrize("filters, figures", [({"eval_id": ["54804a"]}, 8), ({"eval_id": ["54804a", "a1ed7a"]}, 9)])
def test_the_html_report_opens_from_disk_with_no_network_and_no_console_error(browser, bundled, tmp_path, filters,
                                                                               figures):
    path = report_file(tmp_path, bundled, filters)
    console_errors(browser)
    offline(browser, True)
    try:
        browser.get(path.as_uri())
        wait_for(browser, lambda: browser.execute_script(DRAWN_IN_FILE) == figures, 60, f"{figures} drawn figures")
        assert browser.execute_script("return document.querySelectorAll('.figure').length") == figures
        assert [u for u in browser.execute_script(RESOURCES) if not u.startswith("file:")] == []
        assert console_errors(browser) == []
        headings = browser.execute_script("return Array.from(document.querySelectorAll('h2')).map(h => h.innerText)")
        assert headings[:5] == ["At a glance", "1. Fingerprint (Spiderweb)",
                                "2. Capability zones on the weakest tasks (Surface)",
                                "3. Reasoning efficiency on the most token-hungry tasks (Compression)",
                                "4. Temporal profile (Hazard)"]
    finally:
        offline(browser, False)


def test_markup_in_a_label_stays_text_in_the_html_report(browser, tmp_path):
    from tests.report.conftest import HOSTILE, flat_records, write_records

    src = write_records(tmp_path / "in.jsonl", flat_records())
    assert main(["import", str(src), "--adapter", "samples", "--out", str(tmp_path / "ds")]) == 0
    path = report_file(tmp_path, tmp_path / "ds")
    console_errors(browser)
    browser.get(path.as_uri())
    wait_for(browser, lambda: browser.execute_script(DRAWN_IN_FILE) == 2, 60, "2 drawn figures")
    assert browser.execute_script("return window.pwned === undefined")
    assert HOSTILE in text(browser, "main p")
    assert console_errors(browser) == []


# ---------------------------------------------------------------- /report
def expected_figures(web_data: Path, filters: dict) -> int:
    report = build(Dataset.open(web_data), filters)
    return sum(len(s.result.figures) for s in report.all_steps() if s.result is not None)


def test_the_report_page_draws_every_step_and_gives_the_cli_line(browser, server, web_data):
    filters = {"eval_id": [ALPHA]}
    count = expected_figures(web_data, filters)
    console_errors(browser)
    open_page(browser, server + "report?filters=" + json.dumps(filters), count)
    wait_for(browser, lambda: figures_drawn(browser) == count, 30, f"{count} figures")
    steps = browser.execute_script("return Array.from(document.querySelectorAll('.report-step')).map(e => e.id)")
    assert steps == ["report-step-spiderweb", "report-step-surface", "report-step-compression", "report-step-hazard"]
    assert "Workflow 1" in text(browser, "#report-glance")
    command = text(browser, "#cli-command")
    assert command == f"python analyze.py report webtest/dataset.json --filters '{{\"eval_id\":[\"{ALPHA}\"]}}'"
    args = build_parser().parse_args(shlex.split(command)[2:])
    assert args.command == "report" and json.loads(args.filters) == filters
    assert console_errors(browser) == []


def test_each_link_opens_the_page_and_filters_that_show_it(browser, server, web_data):
    filters = {"eval_id": [ALPHA]}
    report = build(Dataset.open(web_data), filters)
    open_page(browser, server + "report?filters=" + json.dumps(filters), 1)
    hrefs = browser.execute_script("return Array.from(document.querySelectorAll("
                                   "'.report-step a, #report-next-steps a')).map(a => a.getAttribute('href'))")
    expected = [s.link for s in report.all_steps()] + [f.link for f in report.findings] \
        + [s["link"] for s in report.next_steps]
    assert sorted(hrefs) == sorted(expected)
    hazard = browser.find_element(By.CSS_SELECTOR, "#report-step-hazard .card-header a")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", hazard)
    mark_stale(browser)
    hazard.click()
    wait_for(browser, lambda: urlsplit(browser.current_url).path == "/hazard", what="the hazard page")
    wait_for(browser, lambda: figures_drawn(browser) >= 1, what="the hazard figure")
    assert json.loads(query_of(browser)["filters"]) == filters
    assert console_errors(browser) == []


def test_a_copied_link_reopens_the_same_report(browser, fresh_browser, server, web_data):
    filters = {"eval_id": sorted(data.ids()[:2])}
    count = expected_figures(web_data, filters)
    open_page(browser, server + "report?filters=" + json.dumps(filters), count)
    assert "Workflow 2" in text(browser, "#report-glance")
    url = browser.current_url
    assert json.loads(query_of(browser)["filters"]) == filters  # the canonical state is in the address bar
    open_page(fresh_browser, url, count)
    for css in ("#report-glance", "#cli-command"):
        assert text(fresh_browser, css) == text(browser, css)
    assert browser.execute_script(READING) and fresh_browser.execute_script(READING) == browser.execute_script(READING)
    assert console_errors(fresh_browser) == []


def test_the_filter_bar_writes_the_url_and_the_report_follows(browser, server):
    open_page(browser, server + "report", 1)
    groups = browser.find_element(By.ID, "fb-groups")
    groups.send_keys('["arch:moe"]', Keys.ENTER)
    wait_for(browser, lambda: "filters" in query_of(browser), what="the filters in the URL")
    assert json.loads(query_of(browser)["filters"]) == {"groups": [["arch:moe"]]}
    def glance() -> str:  # read once per try: the report may be drawn again while the link settles
        return text(browser, "#report-glance") or ""

    wait_for(browser, lambda: "beta-moe" in glance() and "Workflow 1" in glance(), what="the one-eval report")
    wait_for(browser, lambda: "groups" in (text(browser, "#cli-command") or ""), what="the report's CLI line")
    assert console_errors(browser) == []


def test_bad_input_is_a_notice_on_the_page(browser, server):
    console_errors(browser)
    browser.get(server + "report?filters=" + json.dumps({"eval_id": [ALPHA], "groups": ["arch:moe"]}))
    wait_for(browser, lambda: text(browser, "#empty-state"), what="the empty state")
    assert "match no samples" in text(browser, "#empty-state")
    browser.get(server + "report?filters={oops")
    wait_for(browser, lambda: text(browser, "#notices"), what="the notice")
    assert "could not be read" in text(browser, "#notices")
    wait_for(browser, lambda: text(browser, "#report-glance"), what="the report of all samples")
    assert search(browser) == ""  # the nearest valid view: every eval
    assert console_errors(browser) == []
