"""Page speed in the browser: what starts before Dash's round trips, and that nothing is loaded twice."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.web.browser import console_errors, figure_summary, mark_stale, open_page, search, wait_figures, wait_for

pytestmark = pytest.mark.browser

RESOURCES_JS = """
return performance.getEntriesByType('resource').map(e => ({name: e.name, start: e.startTime, end: e.responseEnd}));
"""


def _resources(driver) -> list[dict]:
    return driver.execute_script(RESOURCES_JS)


def _plotly_loads(driver) -> tuple[int, int, bool]:
    """(plotly.js script elements, plotly.js downloads, whether window.Plotly is plotly.js itself)."""
    return (driver.execute_script("return document.querySelectorAll('script[src*=\"plotly\"]').length"),
            sum("plotly" in r["name"] and r["name"].endswith(".js") for r in _resources(driver)),
            driver.execute_script("return typeof window.Plotly.newPlot === 'function'"))


def test_a_new_view_is_asked_for_before_any_dash_round_trip(fresh_browser, server):
    """The view's figures are requested as the HTML arrives (not after the callbacks that lay the page out),
    taken from that one answer (no figure request), and plotly.js is loaded and run once.
    """
    driver = fresh_browser
    open_page(driver, server + "hazard?bucket_size=83")  # a view no other test computes: uncached here
    resources = _resources(driver)
    view = [r for r in resources if "/_profile/view/hazard.json?bucket_size=83" in r["name"]]
    callbacks = [r for r in resources if "_dash-update-component" in r["name"]]
    layout = [r for r in resources if r["name"].endswith("/_dash-layout")]
    assert len(view) == 1 and callbacks and layout
    assert view[0]["start"] < layout[0]["start"] < min(c["start"] for c in callbacks)
    assert not [r for r in resources if "/_profile/figure/" in r["name"]]  # every figure came with the view
    assert _plotly_loads(driver) == (1, 1, True)
    assert driver.execute_script("return typeof regeneratorRuntime") != "undefined"  # Dash's async loader's
    assert figure_summary(driver)["data"] and console_errors(driver) == []


def test_a_cached_view_comes_with_the_page_and_later_views_are_fetched(fresh_browser, server):
    driver = fresh_browser
    open_page(driver, server + "hazard?bucket_size=84")
    first = figure_summary(driver)
    open_page(driver, server + "hazard?bucket_size=84")  # now cached: laid out with the page itself
    assert figure_summary(driver) == first
    assert driver.execute_script("return document.querySelectorAll('.figure-card').length") == 1
    mark_stale(driver)  # a control's change navigates inside the page: its figure is fetched on its own
    box = driver.find_element(By.CSS_SELECTOR, "input[type=number]")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("85", Keys.ENTER)
    wait_for(driver, lambda: "bucket_size=85" in search(driver), what="the new bucket size in the URL")
    wait_figures(driver)
    assert [r for r in _resources(driver) if "/_profile/figure/hazard/0.json?bucket_size=85" in r["name"]]
    assert _plotly_loads(driver)[0] == 1 and console_errors(driver) == []


def test_the_report_loads_plotly_once_with_the_page(fresh_browser, server):
    driver = fresh_browser
    open_page(driver, server + "report")
    assert _plotly_loads(driver) == (1, 1, True)
    assert not [r for r in _resources(driver) if "/_profile/view/" in r["name"]]
    assert console_errors(driver) == []


def test_pages_without_figures_load_plotly_only_when_a_graph_needs_it(fresh_browser, server):
    driver = fresh_browser
    driver.get(server + "probe")
    wait_for(driver, lambda: driver.execute_script("return !!document.getElementById('probe-area')"), what="probe")
    assert driver.execute_script("return typeof window.Plotly.newPlot") == "undefined"  # a promise, not loaded
    assert not [r for r in _resources(driver) if "plotly" in r["name"]]
    driver.find_element(By.ID, "nav-hazard").click()  # inside the page: no new HTML
    wait_figures(driver)
    assert _plotly_loads(driver) == (1, 1, True)  # the partial bundle, loaded once, not dcc's own plotly.js
    assert not [r for r in _resources(driver) if "package_data/plotly" in r["name"]]
    assert console_errors(driver) == []
