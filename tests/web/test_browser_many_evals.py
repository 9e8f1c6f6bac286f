"""Many evals in real Chromium (24, served under a base path): the matrix leads and sorts, a cell opens its surface.

"Reading this view" says each archetype once, and its links open the view that shows them.
"""

from __future__ import annotations

import json
import re
from typing import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from app import bounds
from tests.web import many_data
from tests.web.browser import console_errors, figure_summary, mark_stale, open_page, text, wait_figures, wait_for
from tests.web.conftest import dev_server

pytestmark = pytest.mark.browser
N_EVALS = 24
BASE = "/profile/"
MATRIX_JS = """
const gd = document.querySelectorAll('.figure-card .js-plotly-plot')[0];
return JSON.stringify({style: gd.layout.meta.style, rows: gd._fullLayout.yaxis._categories,
                       order: gd._fullLayout.yaxis.categoryarray, cells: gd.data[1].customdata.length});
"""
CELL_JS = """
const gd = document.querySelectorAll('.figure-card .js-plotly-plot')[0];
const cells = gd.data[1], k = arguments[0], xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
const box = gd.getBoundingClientRect();
return JSON.stringify({customdata: cells.customdata[k],
                       dx: xa._offset + xa.d2p(cells.x[k]) - box.width / 2,
                       dy: ya._offset + ya.d2p(cells.y[k]) - box.height / 2});
"""


@pytest.fixture(scope="module")
def many_server(tmp_path_factory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("many")
    path = many_data.make_many(tmp / "many", n_evals=N_EVALS)
    with dev_server(path, tmp / "cache", tmp / "server.log", base=BASE) as url:
        yield url


def into_view(driver, element) -> None:
    """Scroll ``element`` to the middle of the window at once (the page's CSS scrolls smoothly otherwise)."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)


def filters_of(driver) -> dict:
    return json.loads(parse_qs(urlsplit(driver.current_url).query)["filters"][0])


def test_the_matrix_leads_and_every_archetype_is_said_once(browser, many_server):
    console_errors(browser)
    open_page(browser, many_server + "spiderweb", count=2)
    matrix = json.loads(browser.execute_script(MATRIX_JS))
    assert matrix["style"] == "matrix" and len(matrix["rows"]) == N_EVALS and matrix["cells"] == N_EVALS * 4
    radar = figure_summary(browser, 1)
    polygons = [t for t in radar["data"] if t["type"] == "scatterpolar" and " — " in t["name"]]
    assert len(polygons) == bounds.MAX_RADAR_EVALS and "first 8 of 24 evals" in radar["title"]
    headers = [h.text for h in browser.find_elements(By.CSS_SELECTOR, ".figure-card .card-header span")]
    assert headers[0] == "matrix"
    page = browser.execute_script("return document.body.innerText")
    named = {i: len(re.findall(rf"\bModel {i:02d}\b", page)) for i in range(N_EVALS)}
    groups = browser.find_elements(By.CSS_SELECTOR, "#notes-card .finding-group")
    kinds = [g.get_attribute("data-kind") for g in groups]
    assert kinds and len(kinds) == len(set(kinds))                      # one block per archetype
    reading = text(browser, "#notes-card")
    for group in groups:                                               # closed: only the heading shows
        browser.execute_script("arguments[0].open = true", group)
    opened = text(browser, "#notes-card")
    sentences = [li.text.removesuffix("show").strip() for li in browser.find_elements(By.CSS_SELECTOR,
                                                                                      "#notes-card li.finding")]
    assert len(sentences) == N_EVALS and all(opened.count(s) == 1 for s in sentences)
    assert "24 evals: the matrix leads" in reading and reading.count("Truncation victim (") == 1
    assert max(named.values()) <= 4        # a row label, a heading, and at most the radar's legend and subtitle
    assert browser.execute_script("return document.body.scrollHeight") < 4_000
    assert console_errors(browser) == []


def test_the_sort_menu_reorders_the_rows(browser, many_server):
    open_page(browser, many_server + "spiderweb", count=2)
    before = json.loads(browser.execute_script(MATRIX_JS))["order"]
    browser.find_element(By.CSS_SELECTOR, ".figure-card .updatemenu-header-group").click()
    item = wait_for(browser, lambda: [e for e in browser.find_elements(By.CSS_SELECTOR, ".updatemenu-item-text")
                                      if e.text == "sort: label A–Z"], what="the sort menu")[0]
    item.click()
    after = wait_for(browser, lambda: json.loads(browser.execute_script(MATRIX_JS))["order"] != before
                     and json.loads(browser.execute_script(MATRIX_JS))["order"], what="the new order")
    assert after == [f"Model {i:02d}" for i in range(N_EVALS)] != before
    assert console_errors(browser) == []


def test_a_click_on_a_matrix_cell_opens_the_surface_of_that_eval_and_task(browser, many_server):
    open_page(browser, many_server + "spiderweb", count=2)
    cell = json.loads(browser.execute_script(CELL_JS, 5))
    graph = browser.find_elements(By.CSS_SELECTOR, ".figure-card .js-plotly-plot")[0]
    into_view(browser, graph)                                                   # the whole matrix in view
    mark_stale(browser)
    ActionChains(browser).move_to_element(graph).move_by_offset(round(cell["dx"]), round(cell["dy"])).pause(0.3) \
        .click().perform()
    wait_for(browser, lambda: urlsplit(browser.current_url).path == BASE + "surface", what="the surface page")
    wait_figures(browser)
    assert filters_of(browser) == {"eval_id": [cell["customdata"][0]], "base_task": [cell["customdata"][1]]}
    assert console_errors(browser) == []


def test_a_finding_link_opens_the_view_that_shows_it(browser, many_server):
    open_page(browser, many_server + "spiderweb", count=2)
    group = browser.find_element(By.CSS_SELECTOR, "#notes-card .finding-group")
    into_view(browser, group)
    group.find_element(By.TAG_NAME, "summary").click()
    link = wait_for(browser, lambda: [a for a in group.find_elements(By.CSS_SELECTOR, "a.finding-link")
                                      if a.is_displayed()], what="an open group")[0]
    into_view(browser, link)
    assert urlsplit(link.get_attribute("href")).path == BASE + "spiderweb"       # the app's base path comes first
    mark_stale(browser)
    link.click()
    wait_for(browser, lambda: "filters" in browser.current_url, what="the finding's view")
    wait_figures(browser)
    (one,) = filters_of(browser)["eval_id"]
    radar = figure_summary(browser)
    assert [t["name"].split(" — ")[0] for t in radar["data"] if t["type"] == "scatterpolar" and " — " in t["name"]] \
        == [f"Model {many_data.ids(N_EVALS).index(one):02d}"]
    assert console_errors(browser) == []
