"""Helpers for driving the dashboard in headless Chromium."""

from __future__ import annotations

import json
import time
from typing import Any

DRAWN_JS = """
return Array.from(document.querySelectorAll('.figure-card .js-plotly-plot'))
  .filter(gd => !gd.profileStale && gd.data && gd.data.length && gd._fullLayout && gd.querySelector('.main-svg'))
  .length;
"""
STALE_JS = "document.querySelectorAll('.figure-card .js-plotly-plot').forEach(gd => { gd.profileStale = true; });"
FIGURE_JS = """
const gd = Array.from(document.querySelectorAll('.figure-card .js-plotly-plot'))
  .filter(gd => !gd.profileStale)[arguments[0]];
return JSON.stringify({data: gd._fullData.map(t => ({type: t.type, name: t.name,
                                                     n: (t.x || t.r || t.z || t.y || []).length || 0})),
                       title: gd.layout.title && gd.layout.title.text});
"""


def wait_for(driver, condition, timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} at {driver.current_url}")


def figures_drawn(driver) -> int:
    return driver.execute_script(DRAWN_JS)


def mark_stale(driver) -> None:
    """Mark the figures on screen, so waiting for figures waits for the next view's."""
    driver.execute_script(STALE_JS)


def wait_figures(driver, count: int = 1, timeout: float = 30.0) -> int:
    """Wait until ``count`` figures are drawn (Plotly finished, data present)."""
    return wait_for(driver, lambda: figures_drawn(driver) >= count and figures_drawn(driver), timeout,
                    f"{count} drawn figure(s)")


def open_page(driver, url: str, count: int = 1) -> float:
    """Navigate and wait for the figure(s); returns seconds from navigation to drawn figure."""
    start = time.monotonic()
    driver.get(url)
    wait_figures(driver, count)
    return time.monotonic() - start


def figure_summary(driver, index: int = 0) -> dict:
    return json.loads(driver.execute_script(FIGURE_JS, index))


def console_errors(driver) -> list[str]:
    """SEVERE browser log entries since the last call (the log is drained)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def search(driver) -> str:
    return driver.execute_script("return window.location.search")


def text(driver, css: str) -> str:
    return driver.execute_script("const e = document.querySelector(arguments[0]); return e ? e.innerText : null;",
                                 css)
