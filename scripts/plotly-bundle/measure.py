"""Does a plotly.js holding only the app's trace types load faster? Time it in headless Chromium.

Two static pages that differ only in the plotly.js they load (the installed full bundle or the
partial one from ``build.sh``) draw the same figures, made by the app's own builders from
``data/``: one of every trace type the app draws. Each visit records, from navigation start,
when every graph has ``_fullLayout`` and a ``.main-svg`` (all drawn), how long plotly.js took to
evaluate (``performance.mark`` around its script tag, minus its download) and the CDP
``ScriptDuration`` of the visit. Every browser (a fresh profile: nothing cached) makes three
visits: the first is "cold", the second "warm" (HTTP cache, 304 on revalidation, as Dash answers
plotly.js by ETag) and the third "hot" (V8 also has the script's code cache by then). Browsers
alternate between the two bundles. The partial bundle is also checked: no console errors, every
figure's ``gd._fullData`` trace types as built, the API ``dcc.Graph`` and the PNG button call, and
the same drawn DOM (element counts per graph) as the full bundle.

Usage (from the repo root):
    PYTHONPATH=. .venv/bin/python scripts/plotly-bundle/measure.py /tmp/plotly-bundle/plotly-partial.min.js --runs 7
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import http.server
import io
import json
import shutil
import statistics
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
FULL_BUNDLE = ROOT / ".venv/lib/python3.11/site-packages/plotly/package_data/plotly.min.js"
VISITS = ("cold", "warm", "hot")
BUNDLES = ("full", "partial")
# what dcc.Graph (react, purge, resize, relayout, restyle, extend/prependTraces, setPlotConfig) and the
# PNG button (downloadImage; toImage behind it) call on window.Plotly
API = ("react", "newPlot", "purge", "Plots.resize", "relayout", "restyle", "extendTraces", "prependTraces",
       "setPlotConfig", "downloadImage", "toImage", "validate")
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{name}</title><link rel="icon" href="data:,">
<script>performance.mark("plotly-start")</script>
<script src="{bundle}"></script>
<script>performance.mark("plotly-end")</script>
<script src="{figures}"></script>
</head><body>
{divs}
<script src="draw.js"></script>
</body></html>
"""
# Draw every figure as dcc.Graph does (Plotly.react on an empty div), then note when all are drawn.
DRAW_JS = """
(function () {
  "use strict";
  var graphs = window.FIGURES.map(function (fig, i) {
    var gd = document.getElementById("g" + i);
    return Plotly.react(gd, fig.data, fig.layout, {responsive: true});
  });
  function drawn() {
    return window.FIGURES.every(function (_, i) {
      var gd = document.getElementById("g" + i);
      return gd._fullLayout && gd.querySelector(".main-svg");
    });
  }
  Promise.all(graphs).then(function () {
    (function wait() {
      if (drawn()) { window.__drawn = performance.now(); } else { requestAnimationFrame(wait); }
    })();
  }, function (err) { window.__error = String(err); });
})();
"""
# After a visit: its timings, and what each graph drew (trace types, element counts) for the checks.
COLLECT_JS = """
var marks = {};
performance.getEntriesByType("mark").forEach(function (m) { marks[m.name] = m.startTime; });
var res = performance.getEntriesByType("resource").filter(function (r) { return /plotly[^/]*\\.js$/.test(r.name); })[0];
var api = {};
arguments[0].forEach(function (path) {
  var obj = window.Plotly;
  path.split(".").forEach(function (k) { obj = obj == null ? undefined : obj[k]; });
  api[path] = typeof obj === "function";
});
var graphs = window.FIGURES.map(function (_, i) {
  var gd = document.getElementById("g" + i);
  var count = function (sel) { return gd.querySelectorAll(sel).length; };
  return {types: (gd._fullData || []).map(function (t) { return t.type; }),
          dom: {svg: count(".main-svg"), path: count("path"), text: count("text"), canvas: count("canvas"),
                point: count(".point"), g: count("g")}};
});
return {drawn: window.__drawn, error: window.__error || null, marks: marks,
        responseEnd: res ? res.responseEnd : null, transfer: res ? res.transferSize : null,
        api: api, graphs: graphs, version: window.Plotly && window.Plotly.version};
"""


# The calls dcc.Graph and the PNG button make, on every drawn graph: what each gives back.
EXERCISE_JS = """
var done = arguments[arguments.length - 1];
var gds = window.FIGURES.map(function (_, i) { return document.getElementById("g" + i); });
var out = [];
(async function () {
  for (const gd of gds) {
    var row = {};
    try {
      var png = await Plotly.toImage(gd, {format: "png", width: 600, height: 400});
      var h = 2166136261;  // FNV-1a of the data URL: the same PNG from both bundles gives the same hash
      for (var c = 0; c < png.length; c++) { h = Math.imul(h ^ png.charCodeAt(c), 16777619) >>> 0; }
      row.png = png.slice(0, 22) + " " + png.length + " chars, fnv " + h;
      await Plotly.relayout(gd, {title: {text: "relayout"}});
      row.relayout = gd.layout.title.text;
      await Plotly.restyle(gd, {opacity: 0.5}, [0]);
      row.restyle = gd._fullData[0].opacity;
      var n = gd.data.length;
      await Plotly.Plots.resize(gd);
      row.resize = !!gd._fullLayout;
      var t = gd.data[0].type;
      if (t === "scatter" || t === "bar" || t === "scatterpolar" || t === "barpolar") {
        // a trace of the same type with plain arrays (the figures' arrays are typed-array encoded)
        var key = (t === "scatterpolar" || t === "barpolar") ? "r" : "y";
        var other = key === "r" ? "theta" : "x";
        var first = gd._fullData[0][other];
        var added = {type: t}; added[key] = [0.25]; added[other] = [first ? first[0] : 0];
        await Plotly.addTraces(gd, added);
        var last = gd.data.length - 1;
        var upd = {}; upd[key] = [[0.5]]; upd[other] = [[added[other][0]]];
        await Plotly.extendTraces(gd, upd, [last]);
        await Plotly.prependTraces(gd, upd, [last]);
        row.extend = gd.data[last][key].length;
        n = gd.data.length;
      }
      await Plotly.react(gd, gd.data, gd.layout);
      row.react = gd.data.length === n;
      Plotly.purge(gd);
      row.purged = !gd._fullLayout;
    } catch (err) { row.error = String(err); }
    out.push(row);
  }
  Plotly.setPlotConfig({locale: "en"});
  done(out);
})();
"""


def exercise(base: str, pages: dict[str, str]) -> dict[str, Any]:
    """Each bundle's answers to EXERCISE_JS on the page with every figure (they should be the same)."""
    from tests.web.conftest import chrome

    answers = {}
    for name in BUNDLES:
        driver = chrome()
        try:
            driver.set_script_timeout(120)
            driver.execute_cdp_cmd("Performance.enable", {})
            visit(driver, base + pages[f"all/{name}"])
            answers[name] = driver.execute_async_script(EXERCISE_JS)
            answers[name + "_console"] = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        finally:
            driver.quit()
    return answers


def build_figures() -> list[dict[str, Any]]:
    """One figure per kind the app draws, from its own builders on data/, as the page gets them."""
    import app.projections.catalog  # noqa: F401  (declares the projections)
    from app.engine import Dataset
    from app.projections.spec import SPECS
    from app.web.compute import page_figure_json

    ds = Dataset.open(ROOT / "data")
    # 3-D: one task's views × two evals (the page allows at most 12 WebGL scenes)
    three_d = {"base_task": [ds.dimension("base_task").values[0]], "eval_id": list(ds.dimension("eval_id").values[:2])}
    picks: list[tuple[str, dict[str, Any], int]] = [
        ("spiderweb", {}, 0), ("spiderweb", {"style": "bars"}, 0), ("surface", {}, 0),
        ("surface", {"mode": "3d", "filters": three_d}, 0), ("compression", {}, 0), ("hazard", {}, 0),
        ("compare", {}, 0)]
    out = []
    for name, kwargs, index in picks:
        figure = SPECS[name].run(ds, **kwargs).figures[index]
        figure = getattr(figure, "figure", figure)
        text, _width, height = page_figure_json(figure)
        doc = json.loads(text)
        shown = {k: v for k, v in kwargs.items() if k != "filters"}
        doc["_meta"] = {"name": f"{name} {shown or ''}".strip(), "height": height,
                        "types": [t.get("type", "scatter") for t in doc["data"]]}
        out.append(doc)
    return out


def write_site(site: Path, partial_bundle: Path, sets: dict[str, list[dict[str, Any]]]) -> dict[str, str]:
    """Per figure set, a page per bundle (plus the bundles, figures and drawing script) in ``site``.

    Returns "set/bundle" → URL path.
    """
    site.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FULL_BUNDLE, site / "plotly-full.min.js")
    shutil.copyfile(partial_bundle, site / "plotly-partial.min.js")
    (site / "draw.js").write_text(DRAW_JS)
    pages = {}
    for set_name, figures in sets.items():
        (site / f"figures-{set_name}.js").write_text(
            "window.FIGURES = " + json.dumps(figures, separators=(",", ":")) + ";\n")
        divs = "\n".join(f'<div id="g{i}" style="width:1200px;height:{f["_meta"]["height"]}px"></div>'
                         for i, f in enumerate(figures))
        for name in BUNDLES:
            page = PAGE.format(name=name, bundle=f"plotly-{name}.min.js", figures=f"figures-{set_name}.js", divs=divs)
            (site / f"{set_name}-{name}.html").write_text(page)
            pages[f"{set_name}/{name}"] = f"/{set_name}-{name}.html"
    return pages


class ETagHandler(http.server.SimpleHTTPRequestHandler):
    """Static files answered as Dash answers plotly.js: an ETag, no max-age, 304 when it matches."""

    def send_head(self) -> Any:
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            return super().send_head()
        data = path.read_bytes()
        tag = '"' + hashlib.sha1(data).hexdigest() + '"'
        if self.headers.get("If-None-Match") == tag:
            self.send_response(304)
            self.send_header("ETag", tag)
            self.end_headers()
            return None
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", tag)
        self.end_headers()
        return io.BytesIO(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Quiet: one line per request would be noise."""


def serve(site: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """A static server for ``site`` on a free port of 127.0.0.1, in a thread."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(ETagHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def script_duration(driver: Any) -> float:
    """CDP's cumulative ScriptDuration of the page, in ms."""
    metrics = driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]
    return 1000.0 * next(m["value"] for m in metrics if m["name"] == "ScriptDuration")


def visit(driver: Any, url: str) -> dict[str, Any]:
    """One navigation to ``url``: wait until all figures are drawn, then collect the timings and checks."""
    before = script_duration(driver)
    driver.get(url)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = driver.execute_script("return [window.__drawn || null, window.__error || null]")
        if state[0] is not None or state[1] is not None:
            break
        time.sleep(0.05)
    result: dict[str, Any] = driver.execute_script(COLLECT_JS, list(API))
    result["script_ms"] = script_duration(driver) - before
    result["ready_ms"] = result["marks"].get("plotly-end")  # navigation start → plotly.js evaluated
    start, end = result["marks"].get("plotly-start"), result["marks"].get("plotly-end")
    result["eval_ms"] = end - max(start, result["responseEnd"] or 0) if start is not None and end is not None else None
    result["console"] = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    return result


def run(base: str, pages: dict[str, str], runs: int) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """``runs`` browsers per page, bundles alternating, three visits each; "set/bundle" → visit kind → results."""
    from tests.web.conftest import chrome

    results: dict[str, dict[str, list[dict[str, Any]]]] = {p: {v: [] for v in VISITS} for p in pages}
    sets = list(dict.fromkeys(p.split("/")[0] for p in pages))
    for i in range(runs):
        order = [f"{s}/{b}" for s in sets for b in (BUNDLES if i % 2 == 0 else BUNDLES[::-1])]
        for name in order:
            driver = chrome()
            try:
                driver.execute_cdp_cmd("Performance.enable", {})
                driver.get("about:blank")
                for kind in VISITS:
                    results[name][kind].append(visit(driver, base + pages[name]))
                    driver.get("about:blank")
            finally:
                driver.quit()
            row = results[name]
            cells = [f"{k} {row[k][-1]['drawn']:7.0f} ms (eval {row[k][-1]['eval_ms']:5.0f})" for k in VISITS]
            print(f"run {i + 1} {name:12s} " + "  ".join(cells), flush=True)
    return results


def checks(results: dict[str, dict[str, list[dict[str, Any]]]], sets: dict[str, list[dict[str, Any]]]) -> list[str]:
    """What is wrong with either bundle's drawing (empty: every check passed)."""
    problems = []
    for name, by_kind in results.items():
        set_name, bundle = name.split("/")
        expected = [f["_meta"]["types"] for f in sets[set_name]]
        for kind, visits in by_kind.items():
            for n, v in enumerate(visits):
                where = f"{name} {kind} #{n + 1}"
                if v["error"] or v["drawn"] is None:
                    problems.append(f"{where}: not drawn ({v['error']})")
                if v["console"]:
                    problems.append(f"{where}: console errors {v['console']}")
                got = [g["types"] for g in v["graphs"]]
                if got != expected:
                    problems.append(f"{where}: trace types {got} != {expected}")
                missing = [k for k, ok in v["api"].items() if not ok]
                if missing:
                    problems.append(f"{where}: Plotly lacks {missing}")
        if bundle == "full":
            continue
        full_dom = [g["dom"] for g in results[f"{set_name}/full"]["cold"][0]["graphs"]]
        for kind, visits in by_kind.items():
            for n, v in enumerate(visits):
                dom = [g["dom"] for g in v["graphs"]]
                if dom != full_dom:
                    problems.append(f"{name} {kind} #{n + 1}: drawn DOM {dom} != full {full_dom}")
    return problems


def sizes(site: Path) -> dict[str, dict[str, int]]:
    """Raw and gzip (level 9) size of each bundle."""
    out = {}
    for name in BUNDLES:
        data = (site / f"plotly-{name}.min.js").read_bytes()
        out[name] = {"raw": len(data), "gzip": len(gzip.compress(data, 9))}
    return out


def summary(results: dict[str, dict[str, list[dict[str, Any]]]]) -> dict[str, Any]:
    """Median and all values of each metric per bundle and visit kind."""
    table: dict[str, Any] = {}
    for name, by_kind in results.items():
        for kind, visits in by_kind.items():
            for metric in ("drawn", "ready_ms", "eval_ms", "script_ms"):
                values = [round(v[metric], 1) for v in visits if v[metric] is not None]
                table[f"{name}/{kind}/{metric}"] = {"median": round(statistics.median(values), 1), "all": values}
    return table


def main() -> None:
    """Build the figures, serve the pages, time both bundles, check the drawings, write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("partial", type=Path, help="the partial bundle built by build.sh")
    parser.add_argument("--runs", type=int, default=7,
                        help="browsers per bundle (each makes a cold, warm and hot visit)")
    parser.add_argument("--sets", default="all,one", help="figure sets to time: all (every kind), one (spiderweb)")
    parser.add_argument("--site", type=Path, default=Path("/tmp/plotly-bundle/site"))
    parser.add_argument("--out", type=Path, default=Path("/tmp/plotly-bundle/results.json"))
    args = parser.parse_args()

    figures = build_figures()
    sets = {"all": figures, "one": figures[:1]}  # every kind on one page; the first projection's page alone
    pages = write_site(args.site, args.partial, sets)
    timed = {k: v for k, v in pages.items() if k.split("/")[0] in args.sets.split(",")}
    server, base = serve(args.site)
    try:
        results = run(base, timed, args.runs)
        answers = exercise(base, pages)
    finally:
        server.shutdown()
    problems = checks(results, sets)
    if answers["full"] != answers["partial"] or any(r.get("error") for r in answers["partial"]) \
            or answers["partial_console"]:
        problems.append("the API calls answer differently on the partial bundle (see api_calls)")
    report = {"sizes": sizes(args.site), "figures": [f["_meta"]["name"] for f in figures],
              "versions": {n: results[n]["cold"][0]["version"] for n in results},
              "summary": summary(results), "problems": problems, "api_calls": answers}
    args.out.write_text(json.dumps({"report": report, "results": results}, indent=1, default=str))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
