"""The spiderweb's next-steps panel: the right rows, as links that carry the filters."""

from __future__ import annotations

import json

from app.web.next_steps import ELEVATED_TRUNCATION, next_steps
from app.web.registry import Registry
from app.web.state import decode, parse_query


def test_ranks_and_links(web_data):
    registry = Registry(web_data)
    state = decode("spiderweb", {"truncation": "separate", "filters": json.dumps({"groups": ["arch:dense"]})},
                   registry).state
    rows = [
        {"eval_id": "e1", "label": "One", "base_task": "adding", "center": 0.9, "lower": 0.85, "upper": 0.95,
         "tokens_mean": 100.0, "truncation_rate": 0.0},
        {"eval_id": "e1", "label": "One", "base_task": "sorting", "center": 0.2, "lower": 0.1, "upper": 0.3,
         "tokens_mean": 900.0, "truncation_rate": 0.2},
        {"eval_id": "e2", "label": "Two", "base_task": "adding", "center": 0.5, "lower": 0.4, "upper": 0.6,
         "tokens_mean": float("nan"), "truncation_rate": ELEVATED_TRUNCATION},
    ]
    rows.append({"eval_id": "e3", "label": "Three", "base_task": "sorting", "center": 0.1, "lower": 0.0,
                 "upper": 0.2, "tokens_mean": 50.0, "truncation_rate": 0.3})
    steps = next_steps(rows, "base_task", state, registry, limit=2)
    # one entry per task for weak and costly, one per eval for truncation
    assert [s.text.split(":")[0] for s in steps["surface"]] == ["Three · sorting", "Two · adding"]
    assert [s.text.split(":")[0] for s in steps["compression"]] == ["One · sorting", "One · adding"]
    assert [s.text.split(":")[0] for s in steps["hazard"]] == ["Three · sorting", "One · sorting"]
    assert all("Two" not in s.text for s in steps["hazard"])  # = threshold is not elevated
    first = parse_query(steps["compression"][0].search)
    assert json.loads(first["filters"]) == {"base_task": ["sorting"], "eval_id": ["e1"], "groups": [["arch:dense"]]}
    assert first["truncation"] == "separate"
    assert "20.0% truncated" in steps["hazard"][1].text
