"""/compare in real headless Chromium: opens on two evals, draws the verdicts, keeps its state in the URL."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from selenium.webdriver.common.by import By

from tests.web import data
from tests.web.browser import (
    console_errors,
    figure_summary,
    mark_stale,
    open_page,
    search,
    text,
    wait_figures,
    wait_for,
)

pytestmark = pytest.mark.browser
VERDICT_TRACES = {"a better", "b better", "equivalent", "unclear"}


def filters_of(driver) -> dict:
    return json.loads(parse_qs(urlsplit(driver.current_url).query)["filters"][0])


def test_compare_opens_on_two_evals_and_draws_the_differences(browser, server):
    console_errors(browser)
    open_page(browser, server + "compare")
    first_two = sorted(data.ids()[:2])
    assert filters_of(browser) == {"eval_id": first_two}       # the choice made for the user is in the link
    assert "opened on the first 2" in text(browser, "#notices")
    drawn = figure_summary(browser)
    assert drawn["title"].startswith("<b>Compare: accuracy difference by base_task")
    assert {t["name"].split(" (")[0] for t in drawn["data"]} <= VERDICT_TRACES
    dots = browser.execute_script("""
        const gd = document.querySelector('.figure-card .js-plotly-plot');
        return gd.data.flatMap(t => t.x.filter(x => x !== null)).length;""")
    assert dots == 3                                            # one dot per task of the one pair
    assert text(browser, "#cli-command").startswith("python analyze.py compare ")
    notes = text(browser, "#view-notes")
    assert "vs" in notes and ("the gap is" in notes or "no gap beyond noise" in notes) and "Holm" in notes
    href = browser.find_element(By.ID, "download-csv").get_attribute("href")
    table = requests.get(href, timeout=30).text.splitlines()
    assert table[0] == ("eval_a,label_a,eval_b,label_b,base_task,n_a,n_b,accuracy_a,accuracy_b,diff,diff_lower,"
                        "diff_upper,p_value,p_holm,verdict") and len(table) == 4
    assert console_errors(browser) == []


def test_a_control_round_trips_through_the_url(browser, fresh_browser, server):
    chosen = {"eval_id": sorted(data.ids()[1:])}
    canonical = quote(json.dumps(chosen, separators=(",", ":")), safe="!$'()*,:@/")   # as the page writes it
    open_page(browser, server + "compare?filters=" + canonical)
    assert text(browser, "#notices") == ""                      # evals chosen: nothing was chosen for the user
    mark_stale(browser)
    browser.find_element(By.XPATH, "//div[@id='opt-truncation']//label[normalize-space()='separate']").click()
    wait_for(browser, lambda: "truncation=separate" in search(browser), what="truncation=separate in the URL")
    wait_figures(browser)
    assert "--truncation separate" in text(browser, "#cli-command")
    shown = figure_summary(browser)
    subtitle = browser.execute_script(
        "return document.querySelector('.figure-card .js-plotly-plot').layout.title.subtitle.text")
    assert "truncation counted as separate (left out)" in subtitle
    open_page(fresh_browser, browser.current_url)               # the link reopens the same view
    assert figure_summary(fresh_browser) == shown
    mark_stale(browser)
    browser.back()
    wait_for(browser, lambda: "truncation" not in search(browser), what="back to failure")
    wait_figures(browser)
    assert "--truncation" not in text(browser, "#cli-command") and filters_of(browser) == chosen
    assert console_errors(browser) == []


def test_one_eval_says_to_choose_at_least_two(browser, server):
    console_errors(browser)
    one = quote(json.dumps({"eval_id": [data.ids()[0]]}))
    browser.get(server + f"compare?filters={one}")
    message = wait_for(browser, lambda: text(browser, "#empty-state"), what="the empty state")
    assert "choose at least two evals" in message
    assert console_errors(browser) == []
