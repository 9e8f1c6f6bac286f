"""The "Reading this view" card: the view's findings grouped by kind, each said once with its link, then the notes."""

from __future__ import annotations

from typing import Any, Iterator

from dash import dcc, html
from dash.development.base_component import Component

from app.findings import groups
from app.findings.base import Finding, link
from app.projections import spiderweb
from app.web import compute, page
from app.web.compute import ViewStatus, ViewSummary
from app.web.services import current
from app.web.state import decode
from tests.web import data

LABELS = {"e1": "Alpha", "e2": "Beta", "e3": "Gamma"}


def cliff(e: str, task: str) -> Finding:
    return Finding("sharp_cliff", "surface", e, task, f"{LABELS[e]} on {task}: accuracy falls 0.62 between n=8 "
                   "and n=16.", where={"dim": "params.n", "from": 8, "to": 16}, evidence={"drop": 0.62, "n": 96},
                   action="stay below the cliff", link=link("surface", {"eval_id": [e], "base_task": [task]}),
                   view=f"{task}: n x k")


SAFE = Finding("safe_zone", "surface", "e3", "adding", "Gamma on adding: safe up to a=3, b=4.",
               action="deploy inside the zone", link=link("surface", {"eval_id": ["e3"], "base_task": ["adding"]}))
FINDINGS = [cliff("e1", "sorting"), cliff("e2", "sorting"), SAFE, cliff("e3", "adding"), cliff("e1", "adding")]
PLAIN = "2 eval × view combination(s) have no samples and are left as gaps."


def walk(node: Any) -> Iterator[Any]:
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, (list, tuple)):
            stack.extend(reversed(n))
            continue
        yield n
        if isinstance(n, Component):
            stack.append(getattr(n, "children", None))


def text_of(node: Any) -> str:
    return "".join(n for n in walk(node) if isinstance(n, str))


def card(summary: ViewSummary, web_app) -> Any:
    with web_app.server.test_request_context("/"):
        return page._reading(summary, LABELS)


def test_findings_are_listed_by_kind_each_once_with_a_link_to_the_view_that_shows_it(web_app):
    notes = [f.text for f in FINDINGS] + groups.notes(FINDINGS, LABELS) + [PLAIN]
    shown = card(ViewSummary(ViewStatus.OK, notes=notes, findings=[f.to_json() for f in FINDINGS]), web_app)
    blocks = [n for n in walk(shown) if isinstance(n, html.Details)]
    assert [b.to_plotly_json()["props"]["data-kind"] for b in blocks] == ["sharp_cliff", "safe_zone"]
    cliffs, safe = blocks
    assert text_of(cliffs.children[0]) == ("Sharp cliff (4): Alpha · sorting: n x k, Beta · sorting: n x k, "
                                           "Gamma · adding: n x k, Alpha · adding: n x k — stay below the cliff")
    assert text_of(safe.children[0]) == "Safe zone (1)"               # its one sentence names it, once
    assert cliffs.open is False and safe.open is True          # more than three members open on a click
    items = [n for n in walk(cliffs) if isinstance(n, html.Li)]
    assert [text_of(i).removesuffix("show").strip() for i in items] == [f.text for f in FINDINGS if f.kind ==
                                                                       "sharp_cliff"]
    links = [n.href for n in walk(shown) if isinstance(n, dcc.Link)]
    assert links == [f.link for f in FINDINGS if f.kind == "sharp_cliff"] + [SAFE.link]
    assert links[0] == "/surface?filters=" + "%7B%22base_task%22:%5B%22sorting%22%5D,%22eval_id%22:%5B%22e1%22%5D%7D"
    everything = text_of(shown)
    assert all(everything.count(f.text) == 1 for f in FINDINGS)   # the notes restating them are not repeated
    assert everything.count(PLAIN) == 1 and everything.index(PLAIN) > everything.index(SAFE.text)


def test_a_view_without_findings_shows_its_notes_and_nothing_at_all_shows_no_card(web_app):
    shown = card(ViewSummary(ViewStatus.OK, notes=[PLAIN]), web_app)
    assert text_of(shown) == "Reading this view" + PLAIN and not any(isinstance(n, html.Details) for n in walk(shown))
    assert card(ViewSummary(ViewStatus.OK), web_app) is None


def test_a_record_of_an_unknown_kind_is_left_out_and_its_note_still_shows(web_app):
    odd = {**SAFE.to_json(), "kind": "from_a_newer_version", "text": "something new"}
    shown = card(ViewSummary(ViewStatus.OK, notes=["something new"], findings=[odd]), web_app)
    assert text_of(shown) == "Reading this view" + "something new"


def test_the_cached_view_summary_carries_the_projection_findings_as_json(web_app):
    with web_app.server.test_request_context("/"):
        services = current()
        state = decode("spiderweb", {}, services.registry).state
        view = compute.view(services, state)
        expected = spiderweb.run(services.registry.get(state.dataset)).findings
    assert view.summary.findings == [f.to_json() for f in expected]
    assert sorted(f["eval_id"] for f in view.summary.findings) == sorted(data.ids())
    assert all(f["link"].startswith("/spiderweb?filters=") for f in view.summary.findings)
    assert ViewSummary.from_json(view.summary.to_json()) == view.summary


def test_the_spiderweb_page_says_each_archetype_once(web_app):
    with web_app.server.test_request_context("/"):
        services = current()
        state = decode("spiderweb", {}, services.registry).state
        view = compute.view(services, state)
        _, _, reading, _, _ = page.view_children(state, view, services)
    everything = text_of(reading)
    assert view.summary.findings and all(everything.count(f["text"]) == 1 for f in view.summary.findings)
