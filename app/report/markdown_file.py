"""The report as Markdown for a pull request: text, tables and links, with the figures as PNG files beside it.

A pull request renders Markdown and images committed next to it, but runs no script, so the
interactive figures of the HTML file cannot be shown there. The CLI writes each step's figures
as PNGs through the projections' own PNG export (the same files ``analyze.py <projection>
--output-dir`` writes, e.g. ``surface-sorting.png``) and passes their names here; a figure with no
file (PNG export unavailable) is named in a line instead. Text from the data (labels, notes,
filters) is escaped so it cannot open a link, a table cell or HTML.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

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

_SPECIAL = re.compile(r"([\\`*_\[\]{}()#+!|~])")


def md(text: Any) -> str:
    """Text from the data as inert Markdown: one line, specials backslash-escaped, ``<``/``>``/``&`` as entities."""
    value = " ".join(str(text).split())
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", value)


def code_block(text: str, language: str = "sh") -> str:
    """A fenced block longer than any run of backticks inside it."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def code_span(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _url(link: str, base_url: str | None) -> str:
    """A link target Markdown cannot misread (spaces and parentheses percent-encoded)."""
    return absolute(link, base_url).replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def finding_md(f: Finding, labels: Mapping[str, str], base_url: str | None) -> str:
    """One finding as a list item: kind, eval, task and sentence, then where, evidence, action and link."""
    head = f"**{md(kind_title(f.kind))}** · {md(who(f.eval_id, labels))}"
    if f.base_task:
        head += f" · {md(f.base_task)}"
    if f.view:
        head += f" · view {md(f.view)}"
    lines = [f"- {head}: {md(f.text)}"]
    if f.where:
        lines.append(f"  where: {md(pairs_text(f.where))}")
    if f.evidence:
        lines.append(f"  evidence: {md(pairs_text(f.evidence))}")
    if f.action:
        lines.append(f"  action: {md(f.action)}")
    if f.link:
        lines.append(f"  [show it on the dashboard]({_url(f.link, base_url)})")
    return "  \n".join(lines)


def _table(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return ""
    columns = list(dict.fromkeys(k for r in rows for k in r))
    lines = ["| " + " | ".join(md(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(md(value_text(r.get(c))) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def _step(number: int, step: Step, labels: Mapping[str, str], images: Mapping[str, list[str]],
          base_url: str | None) -> list[str]:
    title = PROJECTION_TITLES.get(step.projection, step.projection)
    out = [f"## {number}. {md(step.title)} ({md(title)})", "", md(step.purpose), "", code_block(step.command), "",
           f"filters {code_span(filters_text(step.filters))} · [open the {title.lower()} page]"
           f"({_url(step.link, base_url)})", ""]
    if step.skipped:
        out += [f"> Not drawn: {md(step.skipped)}", ""]
    if step.result is not None:
        files = images.get(step.projection, [])
        for index, (split, _) in enumerate(step.result.figures):
            name = f"{title}" + (f" · {split}" if split is not None else "")
            if index < len(files):
                out += [f"![{md(name)}]({_url(files[index], None)})", ""]
            else:
                out += [f"*Figure {md(name)}: no PNG written (see the notes).*", ""]
    found = step.findings
    if found:
        out += [f"**Findings ({len(found)})**", ""] + [finding_md(f, labels, base_url) for f in found] + [""]
    elif step.result is not None and step.projection != "compare":
        out += ["No finding for this step.", ""]
    if step.notes:
        out += ["Reading this view:", ""] + [f"- {md(n)}" for n in step.notes] + [""]
    return out


def render_markdown(report: Report, images: Mapping[str, list[str]] | None = None, *,
                    base_url: str | None = DEFAULT_BASE_URL) -> str:
    """The report as Markdown; ``images`` maps a step's projection to its figures' file names, relative to the .md."""
    images = images or {}
    labels = {e["eval_id"]: e["label"] for e in report.evals}
    workflow = ("Workflow 2 · model comparison" if report.workflow == COMPARISON
                else "Workflow 1 · pre-deployment characterisation")
    evals = ", ".join(f"{e['label']} ({e['eval_id']})" for e in report.evals)
    failures = [f for f in report.findings if f.failure_mode]
    out = [f"# Profile report · {md(report.dataset)}", "",
           f"{md(workflow)} · evals: {md(evals)} · filters {code_span(filters_text(report.filters))} · "
           f"truncation counted as {md(report.truncation)}", "",
           *([code_block(report.command), ""] if report.command else []),
           f"**At a glance:** {len(report.findings)} finding(s), {len(failures)} failure mode(s)", ""]
    out += [f"- {md(kind_title(f.kind))}: {md(who(f.eval_id, labels))}" + (f" · {md(f.base_task)}" if f.base_task
                                                                            else "") for f in failures]
    out.append("")
    for number, step in enumerate(report.steps, 1):
        out += _step(number, step, labels, images, base_url)
    if report.comparison is not None:
        out += _step(len(report.steps) + 1, report.comparison, labels, images, base_url)
        out += [_table(report.comparisons), ""]
    if report.next_steps:
        out += ["## Next steps", ""] + [f"- [{md(s['text'])}]({_url(s['link'], base_url)})"
                                        for s in report.next_steps] + [""]
    if report.notes:
        out += ["## Notes", ""] + [f"- {md(n)}" for n in report.notes] + [""]
    return "\n".join(out).rstrip() + "\n"


__all__ = ["code_block", "finding_md", "md", "render_markdown"]
