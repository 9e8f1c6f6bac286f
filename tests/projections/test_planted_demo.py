"""The bundled demo's planted phenomena are visible where the truth file says (numbers and marks)."""

import numpy as np
import plotly.graph_objects as go
import pytest

from app.projections import compression, hazard, surface


def test_cliff_on_its_surface(demo, truth):
    cliff = truth["cliff"]
    p = surface.run(demo, filters={"eval_id": [cliff["eval_id"]], "base_task": [cliff["base_task"]]},
                    views=[cliff["view"]])
    rows = p.rows
    dim = f"params.{cliff['param']}"
    by_value = demo.aggregate({"eval_id": cliff["eval_id"], "base_task": cliff["base_task"]}, [dim])
    for value, acc in cliff["accuracy_by_value"].items():
        got = by_value[by_value[dim] == int(value)]["accuracy"].iloc[0]
        assert got == pytest.approx(acc, abs=1e-3)
    below, above = rows[rows[dim] <= cliff["threshold"]], rows[rows[dim] > cliff["threshold"]]
    assert below["center"].min() > 0.75 and above["center"].max() < 0.3
    assert any(f"sharp cliff: {cliff['param']} {cliff['threshold']} →" in n for n in p.notes)
    (_, fig), = p.figures
    heat = next(t for t in fig.data if isinstance(t, go.Heatmap))
    z = np.array(heat.z, dtype=float)
    xs = [int(t) for t in fig.layout.xaxis.ticktext]
    cut = xs.index(cliff["threshold"]) + 1
    assert np.nanmin(z[:, :cut]) > 0.75 and np.nanmax(z[:, cut:]) < 0.3          # drawn as red beside green


def test_safe_zone_cells_are_marked(demo, truth):
    zone = truth["safe_zone"]
    p = surface.run(demo, filters={"eval_id": [zone["eval_id"]]})
    for view in zone["views"]:
        rows = p.rows[p.rows["view"] == view["view"]]
        x, y = demo.view(view["view"]).group_by
        got = {(a, b) for a, b, s in zip(rows[x], rows[y], rows["safe_zone"]) if s}
        want = {(c[x.split(".")[1]], c[y.split(".")[1]]) for c in view["safe_cells"]}
        assert got == want, view["view"]


def test_context_wall_spike_on_the_hazard_plot(demo, truth):
    wall = truth["context_wall"]
    ref = wall["reference"]["eval_id"]
    p = hazard.run(demo, filters={"eval_id": [wall["eval_id"], ref]}, bucket_size=wall["bucket_size"])
    rows = p.rows.set_index(["eval_id", "bin_start"])
    for b in wall["bins"]:
        r = rows.loc[(wall["eval_id"], b["bin_start"])]
        assert r["at_risk"] == b["at_risk"]
        assert r["hazard_failure"] == pytest.approx(b["hazard_failure"], abs=1e-4)
    for b in wall["reference"]["bins"]:
        assert rows.loc[(ref, b["bin_start"]), "hazard_failure"] == pytest.approx(b["hazard_failure"], abs=1e-4)
    lo, hi = wall["bin"]
    spikes = [n for n in p.notes if "spike" in n]
    assert len(spikes) == 1 and f"{lo:,}–{hi:,}" in spikes[0] and "context wall" in spikes[0]
    (_, fig), = p.figures
    line = next(t for t in fig.data
                if t.meta and t.meta.get("kind") == "hazard" and t.meta["series"] == wall["eval_id"])
    peak = int(np.nanargmax(np.array(line.y, dtype=float)))
    assert line.x[peak] == lo
    assert any(f"{lo:,}–{hi:,}" in (a.text or "") for a in fig.layout.annotations)


def test_broken_loop_cluster_on_compression(demo, truth):
    loops = truth["broken_loops"]
    p = compression.run(demo, filters={"eval_id": [loops["eval_id"]], "base_task": loops["base_tasks"]})
    lo, hi = loops["compressed_bytes_range"]
    drawn = 0
    for _, fig in p.figures:
        for t in fig.data:
            if t.meta and "outcome" in t.meta and len(t.x):
                x, y = np.array(t.x), np.array(t.y)
                drawn += int(((x >= loops["tokens_min"]) & (y >= lo) & (y <= hi)).sum())
    assert drawn == loops["rows_matching_rule"]                    # every loop is a dot in the cluster
    assert not any("random" in n for n in p.notes)                 # small enough to draw every completion
    rows = p.rows
    assert (rows["samples"].groupby(rows["base_task"]).sum() > 0).all()
    assert rows["truncated"].sum() >= loops["truncated_share"] * loops["rows"] * 0.99


def test_underthink_and_overthink_in_the_token_columns(demo, truth):
    under, over = truth["underthink"], truth["overthink"]
    rows = compression.run(demo, filters={"eval_id": [under["eval_id"]], "base_task": under["base_tasks"]},
                           group_by="none").rows
    assert (rows["tokens_mean_incorrect"] < 0.5 * rows["tokens_mean_correct"]).all()
    rows = compression.run(demo, filters={"eval_id": [over["eval_id"]], "base_task": over["base_tasks"]},
                           group_by="none").rows
    assert (rows["tokens_mean_incorrect"] > 1.5 * rows["tokens_mean_correct"]).all()
