"""/probe in real headless Chromium against a real server: clicks that open it, and texts that stay text.

The server shows a data folder with two datasets: ``probetest`` (texts, imported by
analyze.py from ``tests.web.probe_data``) and ``webtest`` (no texts). What a page shows is
checked against the records written and against the stored texts file read with pyarrow.
"""

from __future__ import annotations

import json
import time
from typing import Iterator
from urllib.parse import parse_qs, urlsplit

import pyarrow.parquet as pq
import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from app import bounds
from tests.web import probe_data
from tests.web.browser import console_errors, open_page, text, wait_for
from tests.web.conftest import dev_server

pytestmark = pytest.mark.browser

LISTED = "return document.querySelectorAll('#probe-table .probe-completion').length"
TEXT_OF_ROW = """
const pre = document.querySelector('#completion-' + arguments[0] + ' .probe-text');
return pre ? pre.textContent : null;"""
# where a trace's point is on screen, as an offset from the centre of its subplot's drag area
POINT = """
const gd = document.querySelectorAll('.figure-card .js-plotly-plot')[0];
const t = gd._fullData[arguments[0]], fl = gd._fullLayout;
const xa = fl[t.xaxis.replace('x', 'xaxis')], ya = fl[t.yaxis.replace('y', 'yaxis')];
const drag = gd.querySelector('.draglayer .' + t.xaxis + t.yaxis + ' .nsewdrag');
const top = gd.getBoundingClientRect().top + ya._offset + ya.l2p(arguments[2]);
window.scrollBy({top: top - window.innerHeight / 2, behavior: 'instant'});  // mid-screen (Bootstrap scrolls smoothly)
const r = gd.getBoundingClientRect(), d = drag.getBoundingClientRect();
return [t.xaxis + t.yaxis, r.left + xa._offset + xa.l2p(arguments[1]) - (d.left + d.width / 2),
        r.top + ya._offset + ya.l2p(arguments[2]) - (d.top + d.height / 2)];"""


@pytest.fixture(scope="module")
def probe_server(probe_root, tmp_path_factory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("probeserver")
    with dev_server(probe_root, tmp / "cache", tmp / "server.log") as url:
        yield url


def query_of(driver) -> dict:
    return {k: v if len(v) > 1 else v[0] for k, v in parse_qs(urlsplit(driver.current_url).query).items()}


def wait_listing(driver, timeout: float = 30.0) -> int:
    return wait_for(driver, lambda: driver.execute_script(LISTED), timeout, "the probe's listing")


def type_into(driver, element_id: str, keys: str) -> None:
    """Type into a field that a new link may redraw under the cursor: start again on a fresh element if it does."""
    def typed() -> bool:
        try:
            driver.find_element(By.ID, element_id).send_keys(keys)
            return True
        except StaleElementReferenceException:
            return False

    wait_for(driver, typed, 10, f"#{element_id} to take the keys")


def click_until_probe(driver, action) -> None:
    """Click (hovering first, as a user does) until the probe opens; a first click can land before plotly listens."""
    for _ in range(3):
        action()
        try:
            wait_for(driver, lambda: urlsplit(driver.current_url).path == "/probe", 5, "the probe page")
            return
        except AssertionError:
            continue
    raise AssertionError(f"three clicks did not open the probe (at {driver.current_url})")


def click_point(driver, curve: int, x: float, y: float) -> None:
    sub, dx, dy = driver.execute_script(POINT, curve, x, y)
    drag = driver.find_element(By.CSS_SELECTOR, f".figure-card .draglayer .{sub} .nsewdrag")
    ActionChains(driver).move_to_element(drag).move_by_offset(int(dx), int(dy)).pause(0.4).click().perform()


def stored_text(probe_root, row: int) -> str:
    """The text the import stored for ``row``, read with pyarrow (not the engine)."""
    table = pq.read_table(probe_root / "probetest" / "texts.parquet").to_pydict()
    return table["text"][table["row"].index(row)]


def test_a_compression_dot_opens_that_completion_with_its_exact_text(browser, probe_server, probe_root):
    console_errors(browser)
    open_page(browser, probe_server + "compression")
    dots = browser.execute_script("""
        const gd = document.querySelector('.figure-card .js-plotly-plot');
        return gd._fullData.map((t, i) => [i, t.customdata ? t.customdata.length : 0, Array.from(t.x || []),
                                            Array.from(t.y || [])])
                           .filter(t => t[1] > 0);""")
    curve, _, xs, ys = dots[0]
    click_until_probe(browser, lambda: click_point(browser, curve, xs[0], ys[0]))
    wait_listing(browser)
    row = int(query_of(browser)["row"])
    assert browser.execute_script(LISTED) == 1
    shown = browser.execute_script(TEXT_OF_ROW, row)
    assert shown == stored_text(probe_root, row)
    record = probe_data.by_text(shown)
    numbers = text(browser, f"#completion-{row} .probe-numbers")
    assert f"{record['completion_tokens']:,}" in numbers and record["outcome"] in numbers
    filters = json.loads(query_of(browser)["filters"])
    assert filters["params.n"] == [record["params"]["n"]] and filters["params.k"] == [record["params"]["k"]]
    assert text(browser, "#cli-command").endswith(f"--row {row}")
    browser.find_element(By.ID, "probe-show-all").click()  # its neighbours at the same difficulty
    wait_for(browser, lambda: "row" not in query_of(browser), what="the listing of the point")
    wait_for(browser, lambda: browser.execute_script(LISTED) == probe_data.SAMPLES, what="the point's completions")
    assert console_errors(browser) == []


def test_hostile_texts_are_shown_as_characters_and_create_nothing(browser, probe_server):
    console_errors(browser)
    e1 = probe_data.ids()[0]
    filters = json.dumps({"eval_id": [e1], "params.n": [1], "params.k": [1]})
    started = time.monotonic()
    browser.get(f"{probe_server}probe?filters={filters}")
    wait_listing(browser)
    listed = time.monotonic() - started
    table = "#probe-table"
    made = browser.execute_script(f"""
        const t = document.querySelector('{table}');
        return {{scripts: t.querySelectorAll('script').length, imgs: t.querySelectorAll('img').length,
                 strong: t.querySelectorAll('strong, b, i, em, h1').length,
                 js_links: t.querySelectorAll('a[href^="javascript"]').length,
                 text_children: Array.from(t.querySelectorAll('pre')).map(p => p.childElementCount)
                                     .reduce((a, b) => a + b, 0),
                 pwned: window.__pwned === undefined ? null : window.__pwned}};""")
    assert made == {"scripts": 0, "imgs": 0, "strong": 0, "js_links": 0, "text_children": 0, "pwned": None}
    visible = browser.execute_script(
        f"return Array.from(document.querySelectorAll('{table} pre')).map(p => p.innerText).join('\\n');")
    for hostile in (probe_data.SCRIPT, probe_data.MARKDOWN, probe_data.IMG):
        assert hostile in visible  # the very characters, on screen
    assert probe_data.HUGE[:bounds.PROBE_PREVIEW_CHARS] in visible

    # the 1 MB line: open it, and the page still answers at once
    huge = browser.execute_script("""
        return Array.from(document.querySelectorAll('.probe-completion'))
            .find(b => (b.querySelector('.probe-text') || {}).textContent.startsWith('<i>loop</i>')).dataset.row;""")
    summary = browser.find_element(By.CSS_SELECTOR, f"#completion-{huge} summary")
    assert summary.text == f"show the first {bounds.PROBE_TEXT_MAX_CHARS:,} of {len(probe_data.HUGE):,} characters"
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", summary)
    summary.click()
    whole = browser.find_element(By.CSS_SELECTOR, f"#completion-{huge} .probe-whole")
    wait_for(browser, whole.is_displayed, 10, "the whole text")
    started = time.monotonic()
    length = browser.execute_script("return arguments[0].innerText.length", whole)
    answered = time.monotonic() - started
    assert length == bounds.PROBE_TEXT_MAX_CHARS
    assert browser.execute_script("return document.querySelectorAll('#probe-table i').length") == 0
    assert not browser.find_element(By.CSS_SELECTOR, f"#completion-{huge} .probe-preview").is_displayed()
    assert whole.size["height"] < browser.get_window_size()["height"]  # it scrolls inside its box
    print(f"listed 8 completions incl. a 1 MB line in {listed:.2f} s; read 200,000 shown characters in "
          f"{answered * 1000:.0f} ms")
    assert answered < 2.0
    browser.execute_script("window.scrollTo({top: 0, behavior: 'instant'})")
    browser.find_element(By.ID, "nav-hazard").click()
    wait_for(browser, lambda: urlsplit(browser.current_url).path == "/hazard", 10, "the navbar to answer")
    assert browser.execute_script("return window.__pwned === undefined")
    assert console_errors(browser) == []


def test_a_dataset_without_text_says_so_and_lists_its_rows(browser, probe_server):
    console_errors(browser)
    browser.get(probe_server + "probe?dataset=webtest&limit=5")
    wait_listing(browser)
    assert "keeps no completion text" in text(browser, "#probe-no-text")
    assert browser.execute_script(LISTED) == 5
    assert browser.execute_script("return document.querySelectorAll('#probe-table pre').length") == 0
    assert query_of(browser) == {"dataset": "webtest", "limit": "5"}  # the dataset select keeps the link whole
    assert console_errors(browser) == []


def test_a_surface_cell_opens_the_completions_of_its_point(browser, probe_server):
    open_page(browser, probe_server + "surface")
    curve, view, eval_id = browser.execute_script("""
        const gd = document.querySelector('.figure-card .js-plotly-plot');
        const i = gd._fullData.findIndex(t => t.type === 'heatmap');
        return [i, gd._fullData[i].meta.view, gd._fullData[i].meta.eval_id];""")
    axes = browser.execute_script("return document.querySelector('.figure-card .js-plotly-plot').layout.meta.axes")
    click_until_probe(browser, lambda: click_point(browser, curve, 1, 0))
    wait_listing(browser)
    filters = json.loads(query_of(browser)["filters"])
    want = {"base_task": ["echo"], "eval_id": [eval_id], axes[view]["x"]: [axes[view]["x_values"][1]],
            axes[view]["y"]: [axes[view]["y_values"][0]]}
    assert filters == want
    assert text(browser, "#probe-count") == f"Completions 1–{probe_data.SAMPLES} of {probe_data.SAMPLES} that match"


def test_a_hazard_bin_opens_the_completions_that_ended_in_it(browser, probe_server):
    open_page(browser, probe_server + "hazard")
    curve, xs, ys, series = browser.execute_script("""
        const gd = document.querySelector('.figure-card .js-plotly-plot');
        const i = gd._fullData.findIndex(t => t.meta && t.meta.kind === 'hazard');
        const t = gd._fullData[i];
        return [i, Array.from(t.x), Array.from(t.y), t.meta.series];""")
    click_until_probe(browser, lambda: click_point(browser, curve, xs[1], ys[1]))
    wait_listing(browser)
    query = query_of(browser)
    assert query["tokens"] == f"{xs[1]},{xs[1] + 256}" and json.loads(query["filters"]) == {"eval_id": [series]}
    tokens = browser.execute_script("""
        return Array.from(document.querySelectorAll('.probe-numbers'))
                    .map(r => Number(r.children[5].innerText.replace(/,/g, '')));""")
    assert tokens and all(xs[1] <= t < xs[1] + 256 for t in tokens)


def test_bad_values_in_the_link_give_the_notice_not_an_error(browser, probe_server):
    console_errors(browser)
    browser.get(probe_server + "probe?outcome=sideways&tokens=900,100&limit=99999999999999999999999&row=-4")
    wait_listing(browser)
    notices = text(browser, "#notices")
    for part in ("unknown value(s) sideways", "MIN must be less than MAX", "Per page (limit) must be",
                 "-4 is not a completion"):
        assert part in notices
    assert query_of(browser) == {}  # the address bar holds the view shown
    assert console_errors(browser) == []


def test_the_controls_write_the_link_and_refuse_an_empty_range(browser, probe_server):
    browser.get(probe_server + "probe")
    wait_listing(browser)
    browser.find_element(By.CSS_SELECTOR, "#probe-outcome input[value='invalid']").click()
    wait_for(browser, lambda: query_of(browser).get("outcome") == "invalid", what="the outcome in the link")
    def outcomes_listed() -> set[str]:
        return set(browser.execute_script(
            "return Array.from(document.querySelectorAll('#probe-table .probe-outcome')).map(e => e.innerText)"))

    wait_for(browser, lambda: outcomes_listed() == {"invalid"}, what="only invalid completions")
    type_into(browser, "probe-tokens-max", "600\n")  # MIN left empty: from 0
    wait_for(browser, lambda: query_of(browser).get("tokens") == "0,600", what="the token range in the link")
    wait_for(browser, lambda: browser.execute_script(  # the page drawn again for the new link
        "const e = document.querySelector('#probe-tokens-min'); return e && e.placeholder === 'MIN' && "
        "document.querySelector('#probe-tokens-max').value === '600'"), what="the page for the new link")
    wait_listing(browser)
    type_into(browser, "probe-tokens-min", "900\n")
    wait_for(browser, lambda: "MIN must be less than MAX" in (text(browser, "#fb-error") or ""), what="the refusal")
    assert query_of(browser) == {"outcome": "invalid", "tokens": "0,600"}
