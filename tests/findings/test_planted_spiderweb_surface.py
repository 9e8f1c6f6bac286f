"""The bundled demo's planted truths for the spiderweb and the surface, found by the projections' findings.

Prints a planted-vs-found table (``pytest -s``). What was planted (``data/demo-truth.json``): one eval
of each archetype (the others fit none), a sharp cliff (eval 55cea0, sorting, count 16 → 20), a
gradual slope (54804a, arithmetic, length) and the safe zones of 54804a.
"""

from __future__ import annotations

import json

import pytest

from app.engine import Dataset
from app.findings.base import Finding
from app.projections import spiderweb, surface


@pytest.fixture(scope="module")
def truth(bundled) -> dict:
    return json.loads((bundled.parent / "demo-truth.json").read_text())


@pytest.fixture(scope="module")
def demo(bundled) -> Dataset:
    return Dataset.open(bundled)


@pytest.fixture(scope="module")
def web(demo) -> list[Finding]:
    return spiderweb.run(demo).findings


@pytest.fixture(scope="module")
def grids(demo) -> list[Finding]:
    return surface.run(demo, split_by="none").findings


def where_text(f: Finding) -> str:
    if f.kind in ("sharp_cliff", "gradual_slope"):
        return f"{f.where['dim']} {f.where['from']} → {f.where['to']}"
    if "cells" in f.where:
        return f"{len(f.where['cells'])} cells"
    return ""


def table(rows: list[tuple[str, str, str, str]]) -> None:
    print("\nplanted                                              | found")
    for planted, kind, where, found in rows:
        print(f"{planted:<52} | {kind:<20} {where:<28} {found}")


def test_every_planted_truth_is_found(truth, web, grids):
    report = []
    archetype = {f.eval_id: f for f in web}
    for e, planted in truth["eval_archetypes"].items():               # one finding per eval
        want = planted or "no_clear_archetype"
        got = archetype[e]
        report.append((f"archetype {want} · {e}", got.kind, "", "ok" if got.kind == want else "MISSED"))
        assert (got.kind, got.projection, got.base_task) == (want, "spiderweb", None), e
    assert len(web) == len(truth["eval_archetypes"])

    cliff, slope = truth["cliff"], truth["slope"]
    for kind, plant in (("sharp_cliff", cliff), ("gradual_slope", slope)):
        dim = f"params.{plant['param']}"
        hits = [f for f in grids if f.kind == kind and f.eval_id == plant["eval_id"] and f.view == plant["view"]
                and f.where["dim"] == dim]
        ok = len(hits) == 1 and hits[0].base_task == plant["base_task"]
        report.append((f"{kind} {plant['eval_id']} · {plant['view']} · {plant['param']}",
                       kind, where_text(hits[0]) if hits else "", "ok" if ok else "MISSED"))
        assert ok, kind
        if kind == "sharp_cliff":
            threshold = plant["threshold"]
            above = min(int(v) for v in plant["accuracy_by_value"] if int(v) > threshold)
            assert (hits[0].where["from"], hits[0].where["to"]) == (threshold, above)
        else:
            values = sorted(int(v) for v in plant["accuracy_by_value"])
            assert (hits[0].where["from"], hits[0].where["to"]) == (values[0], values[-1])

    zone = truth["safe_zone"]
    for view in zone["views"]:
        hits = [f for f in grids if f.kind == "safe_zone" and f.eval_id == zone["eval_id"] and f.view == view["view"]]
        want = {tuple(sorted(c.items())) for c in
                ({k: v for k, v in cell.items() if k != "lower"} for cell in view["safe_cells"])}
        got = {tuple(sorted((k.split(".", 1)[1], v) for k, v in c.items())) for f in hits for c in f.where["cells"]}
        ok = got == want and all(f.base_task == view["base_task"] for f in hits) and len(hits) == (1 if want else 0)
        report.append((f"safe_zone {zone['eval_id']} · {view['view']} ({len(want)} cells)", "safe_zone",
                       where_text(hits[0]) if hits else "none", "ok" if ok else "MISSED"))
        assert ok, view["view"]
    table(report)


def test_the_cliff_is_not_a_slope_and_the_slope_not_a_cliff(truth, grids):
    for plant, wrong in ((truth["cliff"], "gradual_slope"), (truth["slope"], "sharp_cliff")):
        dim = f"params.{plant['param']}"
        assert not [f for f in grids if f.kind == wrong and f.eval_id == plant["eval_id"]
                    and f.view == plant["view"] and f.where["dim"] == dim]


def test_the_planted_cliff_is_the_only_cliff(truth, grids):
    """Every other eval's accuracy falls smoothly with difficulty: no false cliff anywhere in 8 evals × 18 views."""
    cliffs = [(f.eval_id, f.view, f.where["dim"]) for f in grids if f.kind == "sharp_cliff"]
    c = truth["cliff"]
    assert cliffs == [(c["eval_id"], c["view"], f"params.{c['param']}")]


def test_no_failure_mode_and_notes_say_each_finding_once(demo, web, grids):
    assert not [f for f in web + grids if f.failure_mode]              # archetypes and shapes are not failure modes
    three = [f.eval_id for f in web[:3]]
    p = spiderweb.run(demo, filters={"eval_id": three})
    assert [f.eval_id for f in p.findings] == three
    for f in p.findings:
        assert sum(f.text in n for n in p.notes) == 1
    assert json.dumps([f.to_json() for f in grids], allow_nan=False)
