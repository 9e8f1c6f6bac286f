"""Findings grouped by kind: how a view with many evals says each reading once.

Sixty-four evals give sixty-four archetype sentences; a reader wants "Task specialist: A, B,
C" and the evidence for one of them on demand. The page's "Reading this view" card and the
spiderweb's notes both group with these functions, so the page can tell which notes the
findings already said (and show each once).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Iterable, Mapping

from app.findings.base import Finding

NAMES_LISTED = 12     # a group's sentence names this many of its members, then says how many more
NAME_CHARS = 40       # and cuts each name to this many characters (a sentence stays well under a page's limit)
_FIELDS = frozenset(f.name for f in fields(Finding))


def kind_title(kind: str) -> str:
    """``task_specialist`` → ``Task specialist``: the heading of a group."""
    return kind.replace("_", " ").capitalize()


def from_json(doc: Mapping[str, Any]) -> Finding:
    """A finding back from its ``to_json`` record (the page reads them from the cached view summary)."""
    return Finding(**{k: v for k, v in doc.items() if k in _FIELDS})


def by_kind(findings: Iterable[Finding]) -> list[tuple[str, list[Finding]]]:
    """(kind, its findings) in the order the kinds first appear; findings keep their order."""
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.kind, []).append(f)
    return list(groups.items())


def _cut(text: str) -> str:
    return text if len(text) <= NAME_CHARS else text[: NAME_CHARS - 1] + "…"


def subject(finding: Finding, labels: Mapping[str, str] | None = None) -> str:
    """What a finding is about, as a reader names it: the eval's label, then its view (else its task) if any."""
    labels = labels or {}
    parts = [labels.get(finding.eval_id, finding.eval_id) if finding.eval_id else None,
             finding.view or finding.base_task]
    return " · ".join(str(p) for p in parts if p) or kind_title(finding.kind)


def names(members: list[Finding], labels: Mapping[str, str] | None = None) -> str:
    """The members' subjects, the first ``NAMES_LISTED`` of them, then "and N more"."""
    shown = [_cut(subject(f, labels)) for f in members[:NAMES_LISTED]]
    more = len(members) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


def sentence(kind: str, members: list[Finding], labels: Mapping[str, str] | None = None) -> str:
    """One sentence for a whole group: its kind, how many, who, and the action they share."""
    actions = {f.action for f in members if f.action}
    action = f" — {actions.pop()}" if len(actions) == 1 else ""
    return f"{kind_title(kind)} ({len(members)}): {names(members, labels)}{action}."


def notes(findings: Iterable[Finding], labels: Mapping[str, str] | None = None) -> list[str]:
    """One sentence per kind, in the order the kinds first appear.

    A kind only one finding has keeps that finding's own sentence (with its evidence); a kind
    several share gets one sentence naming them.
    """
    return [members[0].text if len(members) == 1 else sentence(kind, members, labels)
            for kind, members in by_kind(findings)]


__all__ = ["NAMES_LISTED", "by_kind", "from_json", "kind_title", "names", "notes", "sentence", "subject"]
