"""Page speed: each projection page against its floor, in headless Chromium, uncached and cached.

    python -m bench.pages --dataset r12        # or: python -m bench --pages (make bench)

Serves the dataset with gunicorn (2 workers, a fresh file-system cache, ``bench.floor:server``:
the dashboard plus one bare floor page per projection, see :mod:`bench.floor`) and times, from
navigation to every figure drawn, each page's default view and its floor:

* uncached: the view cache emptied just before the visit (the workers have opened the dataset
  and drawn every page once, as a server that has been up a while has);
* cached: the same visit again, the view in the cache;
* each both as a first visit (a new browser profile: plotly.js and Dash's scripts are
  downloaded and compiled) and as a return visit (one browser kept: scripts cached, compiled).

Floor and page take turns (which goes first alternates by round) and the table gives medians.
Server time comes from the ``Server-Timing`` headers of every request the visit made: ``view`` is
the view's own computation (uncached) or cache read (cached), ``all requests`` the server's work
for the whole visit (HTML, Dash callbacks, figures), both without time spent waiting for another
request computing the same view. Not a test: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from app.projections.spec import SPECS

TIMEOUT = 300.0
SERVER_TIMING_JS = """
const entries = [performance.getEntriesByType('navigation')[0], ...performance.getEntriesByType('resource')];
return entries.map(e => (e.serverTiming || []).map(s => [s.name, s.duration]));
"""


@dataclass
class Visit:
    """One navigation: seconds to the last figure drawn, and server milliseconds (view, all requests)."""

    seconds: float
    view_ms: float
    server_ms: float


BROWSERS = {"first": "first visit (a new browser: plotly.js and Dash's scripts downloaded and compiled)",
            "return": "return visit (the browser already holds the scripts, compiled)"}
CACHES = ("uncached", "cached")


@dataclass
class Row:
    """A page's visits and its floor's: visits[(browser, cache, "floor" | "page")]."""

    page: str
    visits: dict[tuple[str, str, str], list[Visit]] = field(default_factory=dict)

    def add(self, key: tuple[str, str, str], one: Visit) -> None:
        self.visits.setdefault(key, []).append(one)


def server_times(timings: list[list[list[Any]]]) -> tuple[float, float]:
    """(view ms, all requests ms) from each request's Server-Timing entries, waits taken out."""
    view, total = 0.0, 0.0
    for entry in timings:
        named = {name: float(dur) for name, dur in entry}
        wait = named.get("wait", 0.0)
        if "view" in named:
            view = max(view, named["view"] - wait)
        total += max(named.get("app", 0.0) - wait, 0.0)
    return view, total


def visit(driver: Any, url: str, drawn: Callable[[Any], bool]) -> Visit:
    """Navigate to ``url``; time to every figure drawn (browser clock, from navigation start)."""
    driver.get(url)
    deadline = time.monotonic() + TIMEOUT
    while not drawn(driver):
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing drawn within {TIMEOUT:.0f} s at {url}")
        time.sleep(0.01)
    seconds = driver.execute_script("return performance.now()") / 1000
    view, total = server_times(driver.execute_script(SERVER_TIMING_JS))
    return Visit(seconds, view, total)


def all_drawn(driver: Any) -> bool:
    """Every figure card on the page has a drawn Plotly graph (dashboard page or floor page alike)."""
    from tests.web.browser import figures_drawn

    cards = driver.execute_script("return document.querySelectorAll('.figure-card').length")
    return bool(cards) and figures_drawn(driver) >= cards


def empty_cache(folder: Path) -> None:
    """Remove every view the server cached (the file cache keeps one ``.entry`` file per key)."""
    for entry in folder.glob("*.entry"):
        entry.unlink(missing_ok=True)


def measure(data: Path, pages: list[str], rounds: int) -> list[Row]:
    """Serve ``data`` and time every page and its floor (see the module docstring)."""
    from tests.web.conftest import CHROMEDRIVER, CHROMIUM, chrome, free_port, serve

    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        raise SystemExit(f"page speed needs {CHROMIUM} and {CHROMEDRIVER}: run scripts/system-deps.sh")
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    rows = [Row(page) for page in pages]
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        env = {"PROFILE_DATA": str(data.resolve()), "CACHE_DIR": str(cache)}
        cmd = [sys.executable, "-m", "gunicorn", "--workers", "2", "--threads", "8", "--worker-class", "gthread",
               "--bind", f"127.0.0.1:{port}", "--timeout", "600", "bench.floor:server"]
        with serve(cmd, env, base + "health", Path(tmp) / "gunicorn.log"):
            kept = chrome()  # the return visits' browser

            def timed(browser: str, url: str) -> Visit:
                if browser == "return":
                    return visit(kept, url, all_drawn)
                driver = chrome()  # a new profile: nothing cached, nothing compiled
                try:
                    return visit(driver, url, all_drawn)
                finally:
                    driver.quit()

            try:
                for _ in range(2):  # both workers draw every view once; the kept browser caches the scripts
                    for page in pages:
                        visit(kept, f"{base}_bench/floor/{page}", all_drawn)
                        visit(kept, f"{base}{page}", all_drawn)
                for row in rows:
                    for n in range(rounds):
                        kinds = [("floor", f"{base}_bench/floor/{row.page}"), ("page", f"{base}{row.page}"),
                                 ("full", f"{base}_bench/floor-full/{row.page}")]
                        for browser in BROWSERS:
                            for kind, url in kinds if n % 2 == 0 else kinds[::-1]:
                                empty_cache(cache)
                                row.add((browser, "uncached", kind), timed(browser, url))
                                row.add((browser, "cached", kind), timed(browser, url))
                    print(f"  {row.page}: done", file=sys.stderr)
            finally:
                kept.quit()
    return rows


def table(rows: list[Row], title: str, rounds: int) -> list[str]:
    """The Markdown section: per browser state, page vs floor (seconds, ratio) and server ms, uncached and cached."""
    med = statistics.median
    lines = [title, "",
             f"Navigation → every figure drawn, headless Chromium, gunicorn with 2 workers; medians of {rounds} "
             "visits. The floor is a bare page on the same server that loads the same plotly.min.js and draws the "
             "same figure JSON (bench/floor.py); the last column is that floor with plotly.py's full "
             "plotly.min.js (4.8 MB), what the pages loaded before. Uncached: the view cache emptied just before the "
             "visit. Server ms: the view's computation (uncached) or cache read (cached), and the server's work for "
             "every request of the visit, from Server-Timing."]
    for browser, label in BROWSERS.items():
        lines += ["", f"**{label[0].upper()}{label[1:]}**", "",
                  "| page | floor s | page s | page / floor (≤ 1.2) | view server ms (≤ 100) | all requests server ms "
                  "| floor s cached | page s cached | page / floor cached (≤ 1.1) | view server ms cached (≤ 5) "
                  "| all requests server ms cached | full plotly.js floor s, uncached / cached |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for row in rows:
            cells = [row.page]
            for cache in CACHES:
                floor = med(v.seconds for v in row.visits[(browser, cache, "floor")])
                page = row.visits[(browser, cache, "page")]
                shown = med(v.seconds for v in page)
                cells += [f"{floor:.2f}", f"{shown:.2f}", f"{shown / floor:.2f}", f"{med(v.view_ms for v in page):.1f}",
                          f"{med(v.server_ms for v in page):.1f}"]
            full = [med(v.seconds for v in row.visits[(browser, cache, "full")]) for cache in CACHES]
            cells.append(" / ".join(f"{s:.2f}" for s in full))
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def section(data: Path, rounds: int = 3) -> list[str]:
    """The page-speed section of ``python -m bench`` for dataset folder ``data``."""
    pages = list(SPECS)
    rows = measure(data, pages, rounds)
    return table(rows, f"## Page speed on `{data}`", rounds)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.pages")
    ap.add_argument("--dataset", default="r12", help="dataset folder (default r12/)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pages", nargs="*", default=list(SPECS), help="projection pages (default: all)")
    args = ap.parse_args(argv)
    data = Path(args.dataset)
    data = data.parent if data.suffix == ".json" else data
    rows = measure(data, args.pages, args.rounds)
    print("\n".join(table(rows, f"## Page speed on `{data}`", args.rounds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
