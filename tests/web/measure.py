"""Navigation → drawn figure per page in headless Chromium, uncached then cached, and figure JSON sizes.

    python -m tests.web.measure --data data            # the bundled dataset
    python -m tests.web.measure --data r12 --filtered  # spec §9 queries at r12 scale

Starts gunicorn (2 workers, a fresh file-system cache) on the dataset, opens
each page twice in one browser, and prints a Markdown table. Not a test: the
numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import requests

from app.engine import Dataset
from tests.web.browser import figures_drawn, wait_for
from tests.web.conftest import chrome, free_port, serve


def pages(ds: Dataset, filtered: bool) -> list[tuple[str, str, int]]:
    """(label, path, figures expected) — defaults, or the spec §9 query shapes."""
    if not filtered:
        return [("overview", "", 0), ("spiderweb", "spiderweb", 1), ("surface", "surface", 0),
                ("compression", "compression", 0), ("hazard", "hazard", 1)]
    evals = ds.evals()["eval_id"].tolist()[:3]
    task = ds.tasks()["base_task"].tolist()[0]
    three = quote(json.dumps({"eval_id": evals}, separators=(",", ":")))
    three_one = quote(json.dumps({"base_task": [task], "eval_id": evals}, separators=(",", ":")))
    return [("overview", "", 0), ("spiderweb (all evals)", "spiderweb", 1),
            (f"surface (3 evals, {task})", f"surface?filters={three_one}", 0),
            (f"compression (3 evals, {task})", f"compression?filters={three_one}", 0),
            ("hazard (3 evals)", f"hazard?filters={three}", 1)]


def drawn(driver, expected: int) -> bool:
    if expected == 0 and driver.execute_script("return !!document.getElementById('evals-table')"):
        return True
    cards = driver.execute_script("return document.querySelectorAll('.figure-card').length")
    return bool(cards) and figures_drawn(driver) >= max(expected, cards)


def sizes(base: str, path: str) -> list[int]:
    search = path.split("?", 1)[1] if "?" in path else ""
    page = path.split("?", 1)[0]
    out = []
    for i in range(64):
        r = requests.get(f"{base}_profile/figure/{page}/{i}.json" + (f"?{search}" if search else ""), timeout=120)
        if r.status_code != 200:
            break
        out.append(len(r.content))
    return out


def server_ms(base: str, path: str) -> float:
    search = path.split("?", 1)[1] if "?" in path else ""
    r = requests.get(f"{base}_profile/figure/{path.split('?')[0]}/0.json" + (f"?{search}" if search else ""),
                     timeout=120)
    timing = r.headers.get("Server-Timing", "")
    return float(timing.split("app;dur=")[1]) if "app;dur=" in timing else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--filtered", action="store_true", help="the spec §9 query shapes instead of defaults")
    args = parser.parse_args(argv)
    ds = Dataset.open(args.data)
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    with tempfile.TemporaryDirectory() as tmp:
        env = {"PROFILE_DATA": str(Path(args.data).resolve()), "CACHE_DIR": str(Path(tmp) / "cache")}
        cmd = [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}", "--timeout", "300",
               "app.wsgi:server"]
        with serve(cmd, env, base + "health", Path(tmp) / "gunicorn.log"):
            time.sleep(3)  # both workers up and the dataset opened in each
            driver = chrome()
            driver.get(base + "hazard?bucket_size=999")  # the browser loads plotly.js once, like a real session
            wait_for(driver, lambda: drawn(driver, 1), timeout=300, what="warm-up")
            rows = []
            for label, path, expected in pages(ds, args.filtered):
                times = []
                for _ in range(3):  # first visit computes; the best of two repeats is the cached time
                    start = time.monotonic()
                    driver.get(base + path)
                    wait_for(driver, lambda n=expected: drawn(driver, n), timeout=300, what=label)
                    times.append(time.monotonic() - start)
                figs = sizes(base, path) if path else []
                rows.append((label, times[0], min(times[1:]), figs, server_ms(base, path) if path else float("nan")))
            driver.quit()
    print(f"| page ({ds.name}, {ds.n_samples:,} samples) | uncached s | cached s | figures | largest JSON KB | "
          "total JSON KB | cached figure server ms |")
    print("|---|---|---|---|---|---|---|")
    for label, cold, warm, figs, ms in rows:
        print(f"| {label} | {cold:.2f} | {warm:.2f} | {len(figs)} | {max(figs, default=0) / 1024:.0f} | "
              f"{sum(figs) / 1024:.0f} | {ms:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
