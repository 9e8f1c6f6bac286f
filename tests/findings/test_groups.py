"""Findings grouped by kind: one sentence per kind naming its members once, a lone finding keeps its own."""

from __future__ import annotations

from app.findings import groups
from app.findings.base import Finding

LABELS = {f"e{i}": f"Model {i:02d}" for i in range(20)}


def victim(i: int) -> Finding:
    return Finding("truncation_victim", "spiderweb", f"e{i}", None, f"Model {i:02d} (e{i}): Truncation Victim — "
                   "truncation 12.0% ≥ 10.0%; consider another model.", action="consider another model")


SPECIALIST = Finding("task_specialist", "spiderweb", "e7", None, "Model 07 (e7): Task Specialist — spread 0.31 ≥ 0.2, "
                     "best task 0.92 ≥ 0.8; use only for strong tasks.", action="use only for strong tasks")


def test_a_kind_several_evals_share_is_one_sentence_naming_them_and_a_lone_one_keeps_its_own():
    found = [victim(0), SPECIALIST, victim(3), victim(5)]
    assert groups.notes(found, LABELS) == [
        "Truncation victim (3): Model 00, Model 03, Model 05 — consider another model.",
        SPECIALIST.text,
    ]


def test_a_long_group_names_the_first_twelve_then_counts_the_rest():
    found = [victim(i) for i in range(20)]
    (note,) = groups.notes(found, LABELS)
    assert note.startswith("Truncation victim (20): Model 00, Model 01,") and "Model 11 and 8 more — " in note
    assert "Model 12" not in note


def test_a_subject_is_the_label_then_the_view_or_task_and_records_come_back_from_json():
    cliff = Finding("sharp_cliff", "surface", "e1", "sort", "…", view="sort: n x k")
    assert groups.subject(cliff, LABELS) == "Model 01 · sort: n x k"
    assert groups.subject(Finding("fragile", "surface", "e9", "add", "…"), {}) == "e9 · add"
    assert groups.from_json(cliff.to_json()) == cliff
    assert groups.kind_title("flat_hazard_high_truncation") == "Flat hazard high truncation"
