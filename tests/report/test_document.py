"""The report's JSON document: exactly the issue's first keys, then the workflow's own; plain JSON throughout."""

from __future__ import annotations

import json

from app.findings.base import Finding
from app.report import build, to_json
from app.report.document import Report, Step
from tests.report.conftest import BALANCED, SPECIALIST

FIRST_KEYS = ["projection", "dataset", "filters", "findings", "comparisons"]


def test_the_json_starts_with_exactly_the_issues_keys_in_order(demo):
    doc = to_json(build(demo, {"eval_id": [BALANCED]}))
    assert list(doc)[:5] == FIRST_KEYS
    assert list(doc)[5:] == ["workflow", "command", "truncation", "evals", "steps", "next_steps", "notes"]
    assert doc["projection"] == "report" and doc["dataset"] == "demo"
    assert doc["filters"] == {"eval_id": [BALANCED]} and doc["comparisons"] == []
    assert doc["workflow"] == "characterisation"
    assert doc["evals"] == [{"eval_id": BALANCED, "label": "aurora-70b (zeroshot-cot, temp0.6-8k)"}]
    assert json.loads(json.dumps(doc, allow_nan=False)) == doc  # plain JSON: no numpy, no NaN


def test_steps_list_what_ran_with_their_figures_and_how_to_reproduce_them(demo):
    doc = to_json(build(demo, {"eval_id": [SPECIALIST, BALANCED]}, dataset_arg="data/dataset.json"))
    assert doc["command"] == ("python analyze.py report data/dataset.json --filters "
                              "'{\"eval_id\":[\"a1ed7a\",\"54804a\"]}'")  # as written: a1ed7a is eval a
    steps = {s["projection"]: s for s in doc["steps"]}
    assert list(steps) == ["spiderweb", "surface", "compression", "hazard", "compare"]
    assert sorted(f["split"] for f in steps["surface"]["figures"]) == sorted(steps["surface"]["filters"]["base_task"])
    assert steps["spiderweb"]["figures"][0]["split"] is None
    assert steps["hazard"]["command"] == ("python analyze.py hazard data/dataset.json --filters "
                                          "'{\"eval_id\":[\"54804a\",\"a1ed7a\"]}'")
    assert steps["compare"]["command"].endswith("""'{"eval_id":["a1ed7a","54804a"]}'""")
    assert {(r["eval_a"], r["eval_b"]) for r in doc["comparisons"]} == {(SPECIALIST, BALANCED)}
    assert doc["comparisons"] and {r["verdict"] for r in doc["comparisons"]} <= {"a_better", "b_better",
                                                                                 "equivalent", "unclear"}


def _finding(kind: str, projection: str, eval_id: str) -> Finding:
    return Finding(kind=kind, projection=projection, eval_id=eval_id, base_task="sorting", text=f"{kind} here",
                   where={"dim": "params.n", "from": 8, "to": 12}, evidence={"n": 640, "drop": 0.61},
                   action="set conservative boundaries", link="/surface?filters=x")


def test_findings_are_the_steps_findings_in_workflow_order_as_their_own_json():
    import pandas as pd

    from app.projections.base import Projection

    def step(name: str, findings: list[Finding]) -> Step:
        return Step(name, name, "", {}, f"/{name}", "", result=Projection(name, pd.DataFrame(), [],
                                                                           findings=findings))
    cliff, wall = _finding("sharp_cliff", "surface", "e1"), _finding("context_wall", "hazard", "e1")
    report = Report("d", "d", {}, "failure", [{"eval_id": "e1", "label": "E1"}],
                    [step("spiderweb", []), step("surface", [cliff]), step("hazard", [wall])])
    doc = to_json(report)
    assert doc["findings"] == [cliff.to_json(), wall.to_json()]
    assert doc["findings"][0]["evidence"] == {"n": 640, "drop": 0.61}
    assert [s["findings"] for s in doc["steps"]] == [0, 1, 1]


def test_a_note_that_states_a_finding_is_said_once_as_the_finding():
    import pandas as pd

    from app.projections.base import Projection

    cliff = _finding("sharp_cliff", "surface", "e1")
    result = Projection("surface", pd.DataFrame(), [], notes=["sorting: 3/48 safe", cliff.text], findings=[cliff])
    step = Step("surface", "Zones", "", {}, "/surface", "", result=result)
    assert step.notes == ["sorting: 3/48 safe"]

