"""The surface page in real headless Chromium: 8 evals fit a 1,440-px window; the 2-D / 3-D switch is in the URL.

Chromium draws the 3-D scenes with WebGL in software (SwiftShader), so the test checks what
a person would see: every scene's WebGL context alive and coloured pixels inside each scene.
"""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
from PIL import Image
from selenium.webdriver.common.by import By

from tests.web import data
from tests.web.browser import console_errors, mark_stale, open_page, search, wait_figures, wait_for
from tests.web.conftest import chrome, dev_server

pytestmark = pytest.mark.browser

WINDOW = (1440, 1000)
EIGHT = tuple((f"model-{name}-{size}b", "zeroshot-cot", "temp0.6", ["arch:dense"], 4096)
              for name, size in (("aurora", 7), ("aurora", 70), ("basalt", 8), ("basalt", 30), ("cobalt", 14),
                                 ("ember", 32), ("flint", 3), ("garnet", 120)))
ADDING = "filters=" + quote(json.dumps({"base_task": ["adding"]}, separators=(",", ":")))

# Per drawn subplot: its place on screen (page pixels) from plotly's own layout, and the eval it shows.
PANELS_JS = """
const gd = document.querySelector('.figure-card .js-plotly-plot');
const box = gd.getBoundingClientRect(), fl = gd._fullLayout;
const out = [];
gd._fullData.forEach(t => {
  if (t.type === 'heatmap') {
    const xa = fl[t.xaxis.replace('x', 'xaxis')];
    out.push({eval: t.meta.eval_id, left: box.left + xa._offset, right: box.left + xa._offset + xa._length});
  } else if (t.type === 'surface' && t.meta.layer === 'center') {
    const s = fl[t.scene], size = fl._size;
    out.push({eval: t.meta.eval_id, scene: t.scene,
              left: box.left + size.l + s.domain.x[0] * size.w, right: box.left + size.l + s.domain.x[1] * size.w,
              top: box.top + size.t + (1 - s.domain.y[1]) * size.h,
              bottom: box.top + size.t + (1 - s.domain.y[0]) * size.h});
  }
});
return {panels: out, viewport: document.documentElement.clientWidth,
        scrolls: Array.from(document.querySelectorAll('.figure-scroll')).some(e => e.scrollWidth > e.clientWidth)};
"""
CONTEXTS_JS = """
const gd = document.querySelector('.figure-card .js-plotly-plot'), fl = gd && gd._fullLayout;
if (!fl || !fl._subplots) { return []; }
return fl._subplots.gl3d.map(id => { const gl = fl[id]._scene && fl[id]._scene.glplot && fl[id]._scene.glplot.gl;
                                     return gl ? !gl.isContextLost() : false; });
"""

# Bootstrap scrolls smoothly: scroll at once, so what selenium and the screenshot see is where the page is
SCROLL_JS = "window.scrollTo({top: arguments[0], behavior: 'instant'}); return window.scrollY;"


@pytest.fixture(scope="module")
def eight_server():
    """A dashboard on a dataset of 8 evals (the page's default cap), with long labels like real ones."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        dataset = data.make_dataset(folder / "eight", evals=EIGHT)
        with dev_server(dataset, folder / "cache", folder / "server.log") as url:
            yield url


@pytest.fixture(scope="module")
def wide_browser():
    driver = chrome()
    driver.set_window_size(*WINDOW)
    yield driver
    driver.quit()


def choose(driver, label: str, done) -> None:
    """Click the radio ``label`` until ``done()``: a click in the first moments after drawing can go unheard."""
    for _ in range(5):
        radio = driver.find_element(By.XPATH, f"//label[normalize-space()='{label}']")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", radio)
        radio.click()
        try:
            wait_for(driver, done, timeout=6, what=f"{label} chosen")
            return
        except AssertionError:
            continue
    raise AssertionError(f"choosing {label} never changed the URL")


def panels(driver) -> dict:
    return driver.execute_script(PANELS_JS)


def test_every_column_of_eight_evals_is_inside_a_1440_px_window(wide_browser, eight_server):
    assert wide_browser.execute_script("return window.innerWidth") == WINDOW[0]
    open_page(wide_browser, eight_server + "surface?" + ADDING)
    shown = panels(wide_browser)
    assert len({p["eval"] for p in shown["panels"]}) == 8
    assert all(0 <= p["left"] < p["right"] <= shown["viewport"] for p in shown["panels"]), shown
    assert not shown["scrolls"]                                    # nothing to scroll sideways to
    assert len({round(p["left"]) for p in shown["panels"]}) == 4   # two bands of four columns


def test_the_3d_switch_round_trips_through_the_url_and_draws_webgl(wide_browser, eight_server):
    console_errors(wide_browser)
    open_page(wide_browser, eight_server + "surface?" + ADDING)
    mark_stale(wide_browser)
    choose(wide_browser, "3d", lambda: "mode=3d" in search(wide_browser))
    wait_figures(wide_browser, timeout=90)
    link = wide_browser.current_url
    assert wide_browser.find_element(By.CSS_SELECTOR, "#cli-command").text.endswith("--mode 3d")

    open_page(wide_browser, link)                                  # the link alone reopens the 3-D view
    wait_for(wide_browser, lambda: len(wide_browser.execute_script(CONTEXTS_JS)) == 8, timeout=90,
             what="8 WebGL scenes")
    assert wide_browser.execute_script(CONTEXTS_JS) == [True] * 8
    wide_browser.execute_script(SCROLL_JS, 0)
    shown = panels(wide_browser)                                   # places relative to the top of the page
    assert len(shown["panels"]) == 8
    assert all(0 <= p["left"] < p["right"] <= shown["viewport"] for p in shown["panels"])
    first = min(shown["panels"], key=lambda p: (p["top"], p["left"]))
    offset = wide_browser.execute_script(SCROLL_JS, first["top"] - 20)   # the whole first scene in view
    shot = np.asarray(Image.open(io.BytesIO(wide_browser.get_screenshot_as_png())).convert("RGB")).astype(int)
    scene = shot[int(first["top"] - offset):int(first["bottom"] - offset), int(first["left"]):int(first["right"])]
    colourful = (scene.max(axis=2) - scene.min(axis=2)) > 60       # accuracy colours, not the grey panes
    assert scene.size and colourful.sum() > 500, "the first scene drew no surface"

    mark_stale(wide_browser)
    choose(wide_browser, "2d", lambda: "mode=3d" not in search(wide_browser))
    wait_figures(wide_browser, timeout=90)
    assert {"eval"} <= set(panels(wide_browser)["panels"][0]) and "scene" not in panels(wide_browser)["panels"][0]
    wide_browser.back()
    wait_for(wide_browser, lambda: "mode=3d" in search(wide_browser), what="back to 3-D")
    wait_for(wide_browser, lambda: len(wide_browser.execute_script(CONTEXTS_JS)) == 8, timeout=90,
             what="the 3-D scenes again")
    assert console_errors(wide_browser) == []


def test_too_many_scenes_show_how_to_narrow(wide_browser, eight_server):
    both = "filters=" + quote(json.dumps({"base_task": ["adding", "sorting"]}, separators=(",", ":")))
    wide_browser.get(eight_server + f"surface?{both}&split_by=none&mode=3d")
    message = wait_for(wide_browser, lambda: wide_browser.execute_script(
        "const e = document.getElementById('empty-state'); return e && e.innerText;"), what="the empty state")
    assert "at most 12" in message and "2 view(s) × 8 eval(s) = 16" in message
