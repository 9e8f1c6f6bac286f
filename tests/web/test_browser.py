"""The dashboard in real headless Chromium against a real server (``-m browser`` selects these)."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.web import data
from tests.web.browser import (
    console_errors,
    figure_summary,
    figures_drawn,
    mark_stale,
    open_page,
    search,
    text,
    wait_figures,
    wait_for,
)

pytestmark = pytest.mark.browser


def query_of(driver) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(driver.current_url).query).items()}


@pytest.mark.parametrize("path, figures", [("spiderweb", 1), ("surface", 1), ("compression", 1), ("hazard", 1)])
def test_each_projection_page_draws_its_figure(browser, server, path, figures):
    console_errors(browser)
    open_page(browser, server + path, figures)
    assert figures_drawn(browser) == figures
    summary = figure_summary(browser)
    assert summary["data"] and any(t["n"] for t in summary["data"])
    assert text(browser, "#cli-command").startswith(f"python analyze.py {path} ")
    assert console_errors(browser) == []


def test_overview_lists_evals_tasks_views_and_where_to_start(browser, server):
    console_errors(browser)
    browser.get(server)
    wait_for(browser, lambda: text(browser, "#evals-table"), what="evals table")
    evals = text(browser, "#evals-table")
    assert all(e in evals for e in data.ids()) and "arch:moe" in evals and "alpha-7b (cot)" in evals
    assert "a: 1, 2, 3" in text(browser, "#tasks-table")
    assert "adding: a x b" in text(browser, "#views-table")
    start = text(browser, "#where-to-start")
    assert "Spiderweb" in start and "What did the model actually write?" in start  # the probe page is listed too
    browser.find_element(By.ID, "start-spiderweb").click()
    wait_figures(browser)
    assert urlsplit(browser.current_url).path == "/spiderweb"
    assert console_errors(browser) == []


def test_spiderweb_click_opens_the_filtered_surface(browser, server):
    open_page(browser, server + "spiderweb")
    clickable = browser.execute_script("""
        const gd = document.querySelector('.figure-card .js-plotly-plot');
        return gd.data.filter(t => t.type === 'scatterpolar' && t.customdata).map(t => t.customdata)
                      .flat().map(c => JSON.stringify(c.slice(0, 2)));""")
    assert clickable
    point = next(p for trace in browser.find_elements(By.CSS_SELECTOR, ".polarlayer .trace.scatter")
                 for p in trace.find_elements(By.CSS_SELECTOR, ".points path"))
    mark_stale(browser)
    ActionChains(browser).move_to_element(point).pause(0.3).click().perform()
    wait_for(browser, lambda: urlsplit(browser.current_url).path == "/surface", what="the surface page")
    wait_figures(browser)
    filters = json.loads(query_of(browser)["filters"])
    assert set(filters) == {"eval_id", "base_task"}
    assert json.dumps([filters["eval_id"][0], filters["base_task"][0]], separators=(",", ":")) in clickable
    assert f"task {filters['base_task'][0]}" in figure_summary(browser)["title"]
    assert console_errors(browser) == []


def test_a_copied_link_reopens_the_same_figure(browser, fresh_browser, server):
    open_page(browser, server + "spiderweb")
    mark_stale(browser)
    browser.find_element(By.XPATH, "//label[normalize-space()='bars']").click()
    wait_for(browser, lambda: "style=bars" in search(browser), what="style=bars in the URL")
    wait_figures(browser)
    wait_for(browser, lambda: any(t["type"] == "bar" for t in figure_summary(browser)["data"]), what="bars")
    assert "--format barpng" in text(browser, "#cli-command")
    browser.find_element(By.ID, "copy-link").click()
    link = wait_for(browser, lambda: browser.execute_script("return window.profileLastCopied"), what="copied link")
    assert link == browser.current_url
    shown = figure_summary(browser)
    open_page(fresh_browser, link)
    assert figure_summary(fresh_browser) == shown
    browser.find_element(By.ID, "copy-cli").click()
    assert browser.execute_script("return window.profileLastCopied") == text(browser, "#cli-command")


def test_a_malformed_link_shows_a_notice_and_a_valid_view(browser, server):
    console_errors(browser)
    bad = server + 'hazard?filters={"eval_id":["zzzzzz"&group_by=params.nothere&bucket_size=0&colour=red'
    open_page(browser, bad)
    notice = text(browser, "#notices")
    assert "could not be used" in notice and "bucket_size" in notice and "colour" in notice
    assert "params.nothere" in notice
    assert search(browser) == ""  # the address bar now holds the valid view's URL
    assert text(browser, "#cli-command") == "python analyze.py hazard " + text(browser, "#cli-command").split()[3]
    open_page(browser, server + 'spiderweb?filters={"eval_id":["zzzzzz","%s"]}' % data.ids()[1])
    assert "zzzzzz" in text(browser, "#notices")
    assert json.loads(query_of(browser)["filters"]) == {"eval_id": [data.ids()[1]]}
    assert console_errors(browser) == []


def test_back_and_forward_replay_the_views(browser, server):
    open_page(browser, server + "hazard")
    box = browser.find_element(By.CSS_SELECTOR, "input[type=number]")
    box.send_keys(Keys.CONTROL, "a")
    mark_stale(browser)
    box.send_keys("512", Keys.ENTER)
    wait_for(browser, lambda: search(browser) == "?bucket_size=512", what="bucket_size in the URL")
    wait_figures(browser)
    mark_stale(browser)
    browser.back()
    wait_for(browser, lambda: search(browser) == "", what="back")
    bucket = "const e = document.querySelector('input[type=number]'); return e && e.value;"
    wait_for(browser, lambda: browser.execute_script(bucket) == "256", what="the control back at 256")
    wait_figures(browser)
    assert "--bucket-size" not in text(browser, "#cli-command")
    mark_stale(browser)
    browser.forward()
    wait_for(browser, lambda: search(browser) == "?bucket_size=512", what="forward")
    wait_for(browser, lambda: "--bucket-size 512" in text(browser, "#cli-command"), what="forward state")
    wait_figures(browser)


def test_a_control_changed_after_the_page_corrected_its_link_is_kept(browser, server):
    # the page rewrites a link it could not fully use (an unknown parameter) to the view it shows; the first
    # control change after that must land in the address bar, not bring the old link back
    open_page(browser, server + "hazard?colour=red")
    wait_for(browser, lambda: search(browser) == "", what="the link corrected to the view shown")
    assert "colour" in text(browser, "#notices")
    mark_stale(browser)
    browser.find_element(By.CSS_SELECTOR, "#opt-truncation input[value='separate']").click()
    wait_for(browser, lambda: search(browser) == "?truncation=separate", what="the changed control in the link")
    wait_figures(browser)
    time.sleep(0.5)  # nothing may bring the old link back once the view is drawn
    assert search(browser) == "?truncation=separate"
    assert "--truncation separate" in text(browser, "#cli-command")
    browser.back()
    wait_for(browser, lambda: search(browser) == "", what="back to the corrected link")


def test_filter_bar_uses_the_engine_grammar(browser, server):
    open_page(browser, server + "spiderweb")
    groups = browser.find_element(By.ID, "fb-groups")
    groups.send_keys('["arch:moe"', Keys.ENTER)
    wait_for(browser, lambda: "not valid JSON" in (text(browser, "#fb-error") or ""), what="the JSON error")
    assert search(browser) == ""
    groups.send_keys(Keys.CONTROL, "a")
    mark_stale(browser)
    groups.send_keys('[["arch:dense", "size:large"], "arch:moe"]', Keys.ENTER)
    wait_for(browser, lambda: "groups" in query_of(browser).get("filters", ""), what="groups in the URL")
    wait_figures(browser)
    assert json.loads(query_of(browser)["filters"]) == {"groups": [["arch:dense", "size:large"], ["arch:moe"]]}
    assert "(arch:dense AND size:large) OR arch:moe" in text(browser, "#fb-groups-plain")
    names = " ".join(t["name"] or "" for t in figure_summary(browser)["data"])
    assert "beta-moe" in names and "gamma-30b" in names and "alpha-7b" not in names
    browser.find_element(By.ID, "fb-more").send_keys('{"params.zzz": 1}', Keys.ENTER)
    wait_for(browser, lambda: "params.zzz" in (text(browser, "#fb-error") or ""), what="the unknown key error")


def test_png_and_csv_downloads(browser, server, browser_downloads):
    open_page(browser, server + "hazard")
    for old in browser_downloads.glob("*"):
        old.unlink()
    browser.find_element(By.CSS_SELECTOR, ".js-png").click()
    png = wait_for(browser, lambda: [p for p in browser_downloads.glob("*.png")], what="a PNG download")[0]
    wait_for(browser, lambda: png.stat().st_size > 10_000 and png.read_bytes()[:4] == b"\x89PNG", what="PNG bytes")
    href = browser.find_element(By.ID, "download-csv").get_attribute("href")
    r = requests.get(href, timeout=30)
    assert r.status_code == 200 and r.text.splitlines()[0].startswith("eval_id")
    assert "attachment" in r.headers["Content-Disposition"]


def test_split_pages_draw_one_value_at_a_time(browser, server):
    length = browser.execute_script("return history.length")
    open_page(browser, server + "compression")
    time.sleep(0.5)
    assert search(browser) == "" and browser.execute_script("return history.length") == length + 1  # drawn once
    assert "adding" in figure_summary(browser)["title"]
    assert "--filters '{\"base_task\":[\"adding\"]}'" in text(browser, "#cli-command")
    mark_stale(browser)
    browser.find_element(By.XPATH, "//div[@id='split-show']//label[normalize-space()='sorting']").click()
    wait_for(browser, lambda: search(browser) == "?show=sorting", what="show=sorting in the URL")
    wait_figures(browser)
    assert "sorting" in figure_summary(browser)["title"]
    assert "sorting" in text(browser, "#cli-command")
    mark_stale(browser)
    browser.find_element(By.ID, "fb-more").send_keys('{"params.n": [4, 8]}', Keys.ENTER)  # keeps the value shown
    wait_for(browser, lambda: "params.n" in search(browser), what="the filter in the URL")
    wait_figures(browser)
    assert query_of(browser)["show"] == "sorting" and "sorting" in figure_summary(browser)["title"]
