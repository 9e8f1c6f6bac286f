"""Next steps from the spiderweb's rows: weakest → surface, most token-hungry → compression, truncation → hazard."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from app.findings.next_steps import ELEVATED_TRUNCATION, NextStep, next_steps

ROWS = [
    {"eval_id": "e1", "label": "One", "base_task": "adding", "center": 0.9, "lower": 0.85, "upper": 0.95,
     "tokens_mean": 100.0, "truncation_rate": 0.0},
    {"eval_id": "e1", "label": "One", "base_task": "sorting", "center": 0.2, "lower": 0.1, "upper": 0.3,
     "tokens_mean": 900.0, "truncation_rate": 0.2},
    {"eval_id": "e2", "label": "Two", "base_task": "adding", "center": 0.5, "lower": 0.4, "upper": 0.6,
     "tokens_mean": float("nan"), "truncation_rate": ELEVATED_TRUNCATION},
    {"eval_id": "e3", "label": "Three", "base_task": "sorting", "center": 0.1, "lower": 0.0, "upper": 0.2,
     "tokens_mean": 50.0, "truncation_rate": 0.3},
]


def by_page(steps: list[NextStep]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for s in steps:
        out.setdefault(s.page, []).append(s.text)
    return out


def test_ranking_texts_and_pages():
    steps = next_steps(ROWS, "base_task", limit=2)
    assert by_page(steps) == {
        "surface": ["Three · sorting: accuracy 10.0% (95% CI 0.0%–20.0%)", "Two · adding: accuracy 50.0% "
                    "(95% CI 40.0%–60.0%)"],                               # one per task, each its weakest eval
        "compression": ["One · sorting: 900 tokens on average", "One · adding: 100 tokens on average"],
        "hazard": ["Three · sorting: 30.0% truncated", "One · sorting: 20.0% truncated"],   # one per eval
    }


def test_truncation_at_the_threshold_is_not_elevated():
    steps = next_steps(ROWS, "base_task")
    assert all("Two" not in s.text for s in steps if s.page == "hazard")
    assert len([s for s in steps if s.page == "surface"]) == 2            # only 2 tasks: at most one each


def test_filters_and_link_name_the_eval_and_axis_value():
    first = next_steps(ROWS, "base_task")[0]
    assert first.filters == {"eval_id": ["e3"], "base_task": ["sorting"]}
    assert first.link == "/surface?filters=%7B%22base_task%22:%5B%22sorting%22%5D,%22eval_id%22:%5B%22e3%22%5D%7D"
    over = next_steps(ROWS, "base_task", base={"groups": [["arch:dense"]], "eval_id": ["e1", "e3"]})[0]
    assert json.loads(parse_qs(urlsplit(over.link).query)["filters"][0]) == {
        "base_task": ["sorting"], "eval_id": ["e3"], "groups": [["arch:dense"]]}


def test_long_labels_are_cut_and_keep_the_id_and_other_axes_work():
    rows = [{**ROWS[0], "label": "x" * 60, "params.level": "hard"}]
    (step, *_) = next_steps(rows, "params.level")
    assert step.text.startswith("x" * 40 + "… (e1) · hard: accuracy 90.0%")
    assert step.filters == {"eval_id": ["e1"], "params.level": ["hard"]}
    assert next_steps(ROWS, "params.level") == []                         # rows without the axis: nothing
