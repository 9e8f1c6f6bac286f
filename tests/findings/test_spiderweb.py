"""Spiderweb findings: one per eval, the archetype's kind, its numbers with n, the user's action and a link."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from app.findings import spiderweb as sw


def verdict(centers, trunc=0.0, tokens=100.0, median=100.0):
    return sw.classify("e1", centers, trunc, tokens, median)


def query(url: str) -> dict:
    parts = urlsplit(url)
    return {"path": parts.path, **{k: v if len(v) > 1 else v[0] for k, v in parse_qs(parts.query).items()}}


# each kind: where it must fire, and a near miss just across its threshold where it must not
@pytest.mark.parametrize("fires, near_miss, kind", [
    ((verdict([0.9, 0.2, 0.3], trunc=0.10)), verdict([0.9, 0.2, 0.3], trunc=0.099), "truncation_victim"),
    ((verdict([0.7, 0.7, 0.7], tokens=150)), verdict([0.7, 0.7, 0.7], tokens=149), "inefficient_reasoner"),
    ((verdict([0.8, 0.3, 0.31])), verdict([0.79, 0.3, 0.31]), "task_specialist"),
    ((verdict([0.5, 0.6, 0.78])), verdict([0.5, 0.6, 0.8]), "balanced_generalist"),
])
def test_each_archetype_fires_and_its_near_miss_does_not(fires, near_miss, kind):
    assert fires.kind == kind
    assert near_miss.kind != kind


def test_no_clear_archetype_when_no_rule_holds_or_too_few_tasks():
    assert verdict([0.45, 0.3, 0.6]).kind == "no_clear_archetype"          # mean < 0.5, spread 0.12, best 0.6
    assert verdict([0.95, 0.3]).kind == "no_clear_archetype"               # a shape needs 3 tasks
    assert verdict([0.95, 0.3, 0.3]).kind == "task_specialist"             # ... which the third task gives


def test_rules_keep_their_order():
    """A specialist shape with 12% truncation is a truncation victim, with 2× the tokens an inefficient reasoner."""
    assert verdict([0.95, 0.2, 0.3], trunc=0.12).kind == "truncation_victim"
    assert verdict([0.95, 0.3, 0.4], tokens=200).kind == "inefficient_reasoner"   # also a specialist shape


def test_the_finding_carries_sentence_numbers_n_action_and_link():
    per_task = pd.DataFrame({"eval_id": ["e1"] * 3, "base_task": ["a", "b", "c"], "center": [0.97, 0.2, 0.25]})
    overall = pd.DataFrame({"eval_id": ["e1"], "truncation_rate": [0.01], "tokens_mean": [100.0],
                            "samples": [768]})
    v = sw.classify_all(per_task, overall)["e1"]
    f = sw.finding(v, "cobalt-14b", filters={"eval_id": ["e1", "e2"], "params.n": [3], "model": ["m"]},
                   truncation="separate")
    assert (f.kind, f.projection, f.eval_id, f.base_task, f.view) == ("task_specialist", "spiderweb", "e1", None, None)
    assert f.text == ("cobalt-14b (e1): Task Specialist — spread 0.35 ≥ 0.2 across 3 tasks, best task 0.97 ≥ 0.8; "
                      "use only for strong tasks.")
    assert f.action == "use only for strong tasks"                         # the user's document's implication
    assert f.evidence["samples"] == 768 and f.evidence["tasks"] == 3
    assert f.evidence["std_center"] == pytest.approx(0.3518, abs=1e-4)
    q = query(f.link)
    assert q["path"] == "/spiderweb" and q["truncation"] == "separate"
    assert json.loads(q["filters"]) == {"eval_id": ["e1"], "params.n": [3]}   # narrowed to this eval
    assert json.dumps(f.to_json(), allow_nan=False)


def test_actions_are_the_documents_implications():
    assert {sw.KIND[a]: sw.IMPLICATIONS[a] for a in sw.ARCHETYPES} == {
        "truncation_victim": "consider another model", "inefficient_reasoner": "use a large context window",
        "task_specialist": "use only for strong tasks", "balanced_generalist": "safe for diverse workloads"}


def test_findings_one_per_eval_in_order_with_the_axis_in_the_link():
    verdicts = {"b": sw.classify("b", [0.7] * 3, 0.0), "a": sw.classify("a", [0.3] * 3, 0.2)}
    found = sw.findings(verdicts, {"a": "A", "b": "B"}, group_by="params.level")
    assert [(f.eval_id, f.kind) for f in found] == [("b", "balanced_generalist"), ("a", "truncation_victim")]
    assert query(found[0].link)["group_by"] == "params.level"
    assert found[0].where == {"group_by": "params.level"}
