"""The eval × task matrix from constructed rows: values on the fixed scale, hover, click data, orders."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from app.figures import palette
from app.figures import spiderweb_matrix as matrix
from app.findings.spiderweb import Verdict

LABELS = {"e-b": "Bravo", "e-a": "Alpha", "e-c": "Charlie"}   # legend (label) order: Bravo, Alpha, Charlie
TASKS = ["add", "sort", "count"]
CENTERS = {  # eval → (add, sort, count); Charlie has no samples on count
    "e-b": (0.50, 0.90, 0.40),
    "e-a": (0.80, 0.20, 0.60),
    "e-c": (0.30, 0.95, math.nan),
}
VERDICTS = {"e-b": Verdict("e-b", "Task Specialist", "spread 0.21 ≥ 0.2"),
            "e-a": Verdict("e-a", "Balanced Generalist", "spread 0.10 ≤ 0.12"),
            "e-c": Verdict("e-c", "Truncation Victim", "truncation 12.0% ≥ 10.0%")}


def rows() -> pd.DataFrame:
    out = []
    for e, centers in CENTERS.items():
        for task, c in zip(TASKS, centers):
            if math.isnan(c):
                continue
            out.append({"eval_id": e, "base_task": task, "center": c, "lower": c - 0.1, "upper": c + 0.05,
                        "accuracy": c, "n": 40.0, "truncation_rate": 0.05, "invalid_rate": 0.0, "tokens_mean": 500.0,
                        "tokens_p50": 450.0, "tokens_p95": 900.0})
    return pd.DataFrame(out)


@pytest.fixture(scope="module")
def fig() -> go.Figure:
    return matrix.build(rows(), group_by="base_task", labels=LABELS, title="Matrix", subtitle="dataset: x",
                        verdicts=VERDICTS, axes=TASKS)


def heat(fig: go.Figure) -> go.Heatmap:
    return next(t for t in fig.data if isinstance(t, go.Heatmap))


def cells(fig: go.Figure) -> go.Scatter:
    return next(t for t in fig.data if isinstance(t, go.Scatter) and t.name == "cells")


def test_cells_are_the_wilson_centers_on_the_fixed_accuracy_scale(fig):
    h = heat(fig)
    assert list(h.y) == ["Bravo", "Alpha", "Charlie"] and list(h.x) == TASKS
    z = np.array(h.z, dtype=float)
    assert np.allclose(z[:, :2], [[0.50, 0.90], [0.80, 0.20], [0.30, 0.95]])
    assert np.isnan(z[2, 2]) and z[0, 2] == 0.40            # a missing combination is a gap, not a zero
    assert (h.zmin, h.zmax) == palette.ACCURACY_RANGE == (0.0, 1.0)
    assert [list(s) for s in h.colorscale] == [list(s) for s in palette.ACCURACY_COLORSCALE]
    assert list(np.asarray(h.text)[0]) == ["0.50", "0.90", "0.40"]
    assert h.hoverinfo == "skip"                            # the hover and click belong to the cell markers


def test_each_cell_hovers_its_interval_and_n_and_clicks_to_its_eval_and_task(fig):
    c = cells(fig)
    assert len(c.x) == 8                                    # 3 × 3 cells less Charlie × count
    first = dict(zip(("x", "y", "customdata", "text"), (c.x[0], c.y[0], list(c.customdata[0]), c.text[0])))
    assert first["x"] == "add" and first["y"] == "Bravo" and first["customdata"] == ["e-b", "add"]
    assert "accuracy (Wilson center) 0.500  [95% CI 0.400 – 0.550]" in first["text"] and "n = 40.0" in first["text"]
    assert [list(d) for d in c.customdata] == [["e-b", "add"], ["e-b", "sort"], ["e-b", "count"], ["e-a", "add"],
                                               ["e-a", "sort"], ["e-a", "count"], ["e-c", "add"], ["e-c", "sort"]]
    assert c.marker.opacity == 0 and fig.layout.hoverdistance == -1


def test_rows_open_sorted_by_mean_accuracy_and_the_menu_offers_every_order(fig):
    # means: Bravo 0.60, Alpha 0.533…, Charlie 0.625 (over its two tasks)
    orders = fig.layout.meta["orders"]
    assert orders == {
        "mean accuracy ↓": ["Charlie", "Bravo", "Alpha"],
        "label A–Z": ["Alpha", "Bravo", "Charlie"],
        "archetype": ["Charlie", "Bravo", "Alpha"],       # rule order: truncation victim, …, specialist, generalist
        "add ↓": ["Alpha", "Bravo", "Charlie"],
        "sort ↓": ["Charlie", "Bravo", "Alpha"],
        "count ↓": ["Alpha", "Bravo", "Charlie"],          # no data sorts last
    }
    assert list(fig.layout.yaxis.categoryarray) == ["Charlie", "Bravo", "Alpha"]
    assert list(fig.layout.yaxis2.categoryarray) == ["Charlie", "Bravo", "Alpha"]   # the side columns follow
    assert list(fig.layout.yaxis.range) == [2.5, -0.5]     # top row first
    menu = fig.layout.updatemenus[0]
    assert [b.label for b in menu.buttons] == [f"sort: {name}" for name in orders]
    by_label = menu.buttons[1]
    assert by_label.method == "relayout"
    assert by_label.args[0] == {"yaxis.categoryarray": ["Alpha", "Bravo", "Charlie"],
                                "yaxis2.categoryarray": ["Alpha", "Bravo", "Charlie"]}


def test_the_side_columns_give_the_mean_and_the_archetype_with_its_reason_on_hover(fig):
    side = next(t for t in fig.data if t.name == "archetypes")
    text = dict(zip(zip(side.x, side.y), side.text))
    mean, kind = matrix.MEAN_X, matrix.ARCHETYPE_X
    assert text[(mean, "Charlie")] == "0.62" and text[(mean, "Alpha")] == "0.53"
    assert text[(kind, "Bravo")] == "Task Specialist" and text[(kind, "Charlie")] == "Truncation Victim"
    assert any("Task Specialist: spread 0.21 ≥ 0.2" in h for h in side.hovertext)
    assert side.customdata is None                          # a click on the archetype opens nothing


def test_sixty_four_evals_stay_one_row_each_in_under_two_thousand_pixels():
    many = pd.concat([rows().assign(eval_id=lambda d, i=i: d["eval_id"] + f"-{i}") for i in range(22)])
    labels = {f"{e}-{i}": f"{LABELS[e]} {i}" for i in range(22) for e in LABELS}
    fig = matrix.build(many, group_by="base_task", labels=labels, title="Matrix", axes=TASKS)
    assert len(heat(fig).y) == 66 and fig.layout.height == 240 + matrix.ROW_PX * 66 < 2_000


def test_repeated_labels_become_distinct_rows():
    assert matrix.row_names(["a1", "a2", "b"], {"a1": "Same", "a2": "Same", "b": "Other"}) == {
        "a1": "Same (a1)", "a2": "Same (a2)", "b": "Other"}
