"""The report as ONE self-contained HTML file: opens from disk, with no network, in any browser.

plotly.js is inlined from the installed ``plotly`` package (the same library the figures were
built with), each figure's JSON sits in a ``<script type="application/json">`` block and one
small script draws them all; there is no ``src=`` or stylesheet link anywhere, so nothing is
fetched. Every text (labels, filters, notes) is HTML-escaped, and figure JSON has ``<``, ``>``
and ``&`` written as JSON unicode escapes, so a label such as ``</script>`` stays a label.
Dashboard links point at ``base_url`` (default: ``make run``'s address); ``None`` leaves them as paths.
"""

from __future__ import annotations

import html
from functools import lru_cache
from typing import Any, Iterable, Mapping

from app.findings.base import Finding
from app.report.document import COMPARISON, Report, Step
from app.report.text import (
    DEFAULT_BASE_URL,
    PROJECTION_TITLES,
    absolute,
    filters_text,
    kind_title,
    pairs_text,
    value_text,
    who,
)

JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
main{max-width:1320px;margin:0 auto;padding:1.5rem}
h1{font-size:1.6rem;margin:0 0 .3rem}h2{font-size:1.25rem;margin:2rem 0 .4rem;border-bottom:1px solid #ddd}
.muted{color:#666}.small{font-size:.85rem}code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.82rem}
pre{background:#f0f0f0;padding:.5rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
table{border-collapse:collapse;margin:.5rem 0;font-size:.85rem}th,td{border:1px solid #ddd;padding:.25rem .5rem;
text-align:left;vertical-align:top}th{background:#eee}.figure-scroll{overflow-x:auto;background:#fff;
border:1px solid #ddd;margin:.5rem 0}.finding{margin:.4rem 0;padding:.4rem .6rem;background:#fff;
border-left:4px solid #888}.finding.failure{border-left-color:#c0392b}.kind{font-weight:600}
.skipped{background:#fff8e1;border:1px solid #f0d080;padding:.5rem}
"""
DRAW = """
(function () {
  document.querySelectorAll('script.figure-json').forEach(function (node) {
    var fig = JSON.parse(node.textContent);
    var target = document.getElementById(node.getAttribute('data-target'));
    Plotly.newPlot(target, fig.data, fig.layout, {displaylogo: false, responsive: false});
  });
})();
"""


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """plotly.js as shipped in the installed plotly package (no CDN)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def figure_json(figure: Any) -> str:
    """A figure's JSON, safe inside a ``<script>`` element (no ``</script>``, no ``<!--``)."""
    text = figure.to_json()
    for raw, escaped in JSON_ESCAPES.items():
        text = text.replace(raw, escaped)
    return text


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _link(href: str, text: str, base_url: str | None) -> str:
    if not base_url:
        return f"<code>{_e(href)}</code>"
    return f'<a href="{_e(absolute(href, base_url))}">{_e(text)}</a>'


def finding_html(f: Finding, labels: Mapping[str, str], base_url: str | None) -> str:
    """One finding: kind, eval, task, its sentence, where, evidence, action, link."""
    head = [f'<span class="kind">{_e(kind_title(f.kind))}</span>', _e(who(f.eval_id, labels))]
    if f.base_task:
        head.append(_e(f.base_task))
    if f.view:
        head.append(f"view {_e(f.view)}")
    lines = [" · ".join(head), f"<div>{_e(f.text)}</div>"]
    if f.where:
        lines.append(f'<div class="small"><b>where</b> {_e(pairs_text(f.where))}</div>')
    if f.evidence:
        lines.append(f'<div class="small"><b>evidence</b> {_e(pairs_text(f.evidence))}</div>')
    if f.action:
        lines.append(f'<div class="small"><b>action</b> {_e(f.action)}</div>')
    if f.link:
        lines.append(f'<div class="small">{_link(f.link, "show it on the dashboard", base_url)}</div>')
    css = "finding failure" if f.failure_mode else "finding"
    return f'<div class="{css}" data-kind="{_e(f.kind)}">' + "".join(lines) + "</div>"


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    columns = list(dict.fromkeys(k for r in rows for k in r))
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_e(value_text(r.get(c)))}</td>" for c in columns) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _list(items: Iterable[str]) -> str:
    items = list(items)
    return "<ul>" + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>" if items else ""


class _Figures:
    """Numbers the figures of one file and keeps their JSON for the page's end."""

    def __init__(self) -> None:
        self.blocks: list[str] = []

    def add(self, figure: Any) -> str:
        index = len(self.blocks)
        width, height = int(figure.layout.width or 1200), int(figure.layout.height or 800)
        self.blocks.append(f'<script type="application/json" class="figure-json" data-target="figure-{index}">'
                           f"{figure_json(figure)}</script>")
        return (f'<div class="figure-scroll"><div id="figure-{index}" class="figure" '
                f'style="width:{width}px;height:{height}px"></div></div>')


def _step(number: int, step: Step, labels: Mapping[str, str], figures: _Figures, base_url: str | None) -> str:
    title = PROJECTION_TITLES.get(step.projection, step.projection)
    parts = [f'<section class="step" id="step-{_e(step.projection)}">',
             f"<h2>{number}. {_e(step.title)} <span class=\"muted small\">({_e(title)})</span></h2>",
             f"<p>{_e(step.purpose)}</p>",
             f"<pre>{_e(step.command)}</pre>",
             f'<p class="small">filters <code>{_e(filters_text(step.filters))}</code> · '
             f'{_link(step.link, f"open the {title.lower()} page", base_url)}</p>']
    if step.skipped:
        parts.append(f'<p class="skipped">Not drawn: {_e(step.skipped)}</p>')
    if step.result is not None:
        parts += [figures.add(fig) for _, fig in step.result.figures]
    found = step.findings
    if found:
        parts.append(f"<h3>Findings ({len(found)})</h3>")
        parts += [finding_html(f, labels, base_url) for f in found]
    elif step.result is not None and step.projection in ("spiderweb", "surface", "compression", "hazard"):
        parts.append('<p class="muted small">No finding for this step.</p>')
    if step.notes:
        parts.append("<h3>Reading this view</h3>" + _list(step.notes))
    return "".join(parts) + "</section>"


def render_html(report: Report, *, base_url: str | None = DEFAULT_BASE_URL) -> str:
    """The whole report as one HTML document (UTF-8 text)."""
    labels = {e["eval_id"]: e["label"] for e in report.evals}
    figures = _Figures()
    evals = ", ".join(f"{e['label']} ({e['eval_id']})" for e in report.evals)
    workflow = ("Workflow 2 · model comparison" if report.workflow == COMPARISON
                else "Workflow 1 · pre-deployment characterisation")
    failures = [f for f in report.findings if f.failure_mode]
    glance = [f"{len(report.findings)} finding(s), {len(failures)} failure mode(s)"]
    glance += [f"{kind_title(f.kind)}: {who(f.eval_id, labels)}" + (f" · {f.base_task}" if f.base_task else "")
               for f in failures]
    body = [f"<h1>Profile report · {_e(report.dataset)}</h1>",
            f'<p class="muted">{_e(workflow)} · evals: {_e(evals)} · filters <code>{_e(filters_text(report.filters))}'
            f"</code> · truncation counted as {_e(report.truncation)}</p>",
            f"<pre>{_e(report.command)}</pre>" if report.command else "",
            "<h2>At a glance</h2>" + _list(glance)]
    body += [_step(i, s, labels, figures, base_url) for i, s in enumerate(report.steps, 1)]
    if report.comparison is not None:
        body.append(_step(len(report.steps) + 1, report.comparison, labels, figures, base_url))
        body.append(_table(report.comparisons))
    if report.next_steps:
        items = "".join(f"<li>{_link(s['link'], s['text'], base_url)}" + ("" if base_url else f" {_e(s['text'])}")
                        + "</li>" for s in report.next_steps)
        body.append(f'<h2>Next steps</h2><ul id="next-steps">{items}</ul>')
    if report.notes:
        body.append("<h2>Notes</h2>" + _list(report.notes))
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>Profile report · {_e(report.dataset)}</title><style>{STYLE}</style>"
            f"<script>{plotly_js()}</script></head><body><main>" + "".join(body) + "</main>"
            + "".join(figures.blocks) + f"<script>{DRAW}</script></body></html>\n")


__all__ = ["figure_json", "finding_html", "plotly_js", "render_html"]
