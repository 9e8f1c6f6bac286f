"""What a characterisation report holds: the workflow's steps, their findings, the comparison, the next steps.

A :class:`Report` is plain data built by :mod:`app.report.workflow`; the renderers
(:mod:`app.report.json_file`, :mod:`app.report.html_file`, :mod:`app.report.markdown_file`)
and the dashboard's /report page only read it, so the file and the page say the same things.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.findings.base import Finding
from app.projections.base import Projection, plain

CHARACTERISATION = "characterisation"  # Workflow 1: one eval selected
COMPARISON = "comparison"              # Workflow 2: several evals selected


@dataclass
class Step:
    """One step of the workflow: which projection ran on which filters, and what it found (or why it did not run).

    ``link`` is the dashboard path and query that shows the step (relative to the app's root, like
    :attr:`Finding.link`); ``command`` the ``analyze.py`` line that writes its files.
    """

    projection: str
    title: str
    purpose: str
    filters: dict[str, Any]
    link: str
    command: str
    result: Projection | None = None
    skipped: str | None = None

    @property
    def findings(self) -> list[Finding]:
        return list(self.result.findings) if self.result is not None else []

    @property
    def notes(self) -> list[str]:
        """The projection's notes, less those that state a finding (the report lists each finding once)."""
        if self.result is None:
            return []
        said = {f.text for f in self.result.findings}
        return [n for n in self.result.notes if n not in said]

    @property
    def figures(self) -> list[dict[str, Any]]:
        """Each figure's split value (None when not split) and export size: enough for a page to fetch it."""
        if self.result is None:
            return []
        return [{"split": plain(split), "width": int(fig.layout.width or 1200), "height": int(fig.layout.height or 800)}
                for split, fig in self.result.figures]


@dataclass
class Report:
    """The whole report: the selection, one :class:`Step` per projection run, and what follows from them."""

    dataset: str
    dataset_arg: str
    filters: dict[str, Any]
    truncation: str
    evals: list[dict[str, str]]
    steps: list[Step]
    comparison: Step | None = None
    next_steps: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    command: str = ""  # the ``analyze.py report`` line that writes this report again

    @property
    def workflow(self) -> str:
        return COMPARISON if len(self.evals) > 1 else CHARACTERISATION

    @property
    def findings(self) -> list[Finding]:
        """Every finding of every step, in workflow order."""
        return [f for step in self.steps for f in step.findings]

    @property
    def comparisons(self) -> list[dict[str, Any]]:
        """The comparison's rows (one per pair and group), plain JSON values; empty with one eval."""
        if self.comparison is None or self.comparison.result is None:
            return []
        records = self.comparison.result.rows.to_dict("records")
        return [{str(k): plain(v) for k, v in r.items()} for r in records]

    def all_steps(self) -> list[Step]:
        """The four projections' steps, then the comparison's when there is one."""
        return self.steps + ([self.comparison] if self.comparison is not None else [])


def step_json(step: Step) -> dict[str, Any]:
    """A step as the JSON file lists it (its findings are in the document's ``findings``)."""
    return {"projection": step.projection, "title": step.title, "purpose": step.purpose,
            "filters": plain(step.filters), "link": step.link, "command": step.command,
            "skipped": step.skipped, "notes": step.notes, "findings": len(step.findings), "figures": step.figures}


def to_json(report: Report) -> dict[str, Any]:
    """The ``--format json`` document: exactly these first keys, then the workflow's own."""
    return {
        "projection": "report",
        "dataset": report.dataset,
        "filters": plain(report.filters),
        "findings": [f.to_json() for f in report.findings],
        "comparisons": report.comparisons,
        "workflow": report.workflow,
        "command": report.command,
        "truncation": report.truncation,
        "evals": report.evals,
        "steps": [step_json(s) for s in report.all_steps()],
        "next_steps": report.next_steps,
        "notes": list(report.notes),
    }


__all__ = ["CHARACTERISATION", "COMPARISON", "Report", "Step", "step_json", "to_json"]
