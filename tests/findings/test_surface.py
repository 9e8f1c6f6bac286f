"""Surface findings on small constructed grids: each kind where it must fire, and its near misses."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
import pytest

from app.engine.stats import accuracy_table
from app.findings import surface as fs

X, Y = "params.x", "params.y"


def grid_rows(correct, n=64, truncated=0, eval_id="e") -> tuple[pd.DataFrame, fs.Grid]:
    """One panel's rows as the engine aggregates them: ``correct[y][x]`` of ``n`` samples per cell, no guessing.

    ``n`` and ``truncated`` may be scalars or grids like ``correct``; truncated samples count as failures.
    """
    correct = np.asarray(correct, dtype=float)
    ny, nx = correct.shape
    n = np.broadcast_to(np.asarray(n, dtype=float), correct.shape)
    t = np.broadcast_to(np.asarray(truncated, dtype=float), correct.shape)
    zero = np.zeros(correct.shape)
    stats = accuracy_table(correct, n - correct - t, zero, t, zero, zero)
    xs, ys = np.meshgrid(np.arange(1, nx + 1), np.arange(1, ny + 1))
    rows = pd.DataFrame({"eval_id": eval_id, X: xs.ravel(), Y: ys.ravel(), "samples": n.ravel(),
                         "truncated": t.ravel(), **{k: v.ravel() for k, v in stats.items()}})
    return rows, fs.Grid("toy: x by y", X, Y, list(range(1, nx + 1)), list(range(1, ny + 1)), "toy")


def kinds(rows, grid) -> list[str]:
    return [f.kind for f in fs.panel_findings(rows, grid, "e")]


def one(rows, grid, kind):
    found = [f for f in fs.panel_findings(rows, grid, "e", "Model A") if f.kind == kind]
    assert len(found) == 1, [f.text for f in fs.panel_findings(rows, grid, "e")]
    return found[0]


# ---------------------------------------------------------------- marks (the one rule both figures draw)
def test_marks_safe_at_lower_bound_0_9_and_truncation_above_2_percent():
    rows = pd.DataFrame({"lower": [0.9, 0.8999, 0.95], "truncation_rate": [0.02, 0.0201, 0.0]})
    safe, trunc = fs.marks(rows)
    assert safe.tolist() == [True, False, True]
    assert trunc.tolist() == [False, True, False]


def test_figures_draw_the_marks_they_are_given():
    """The projection writes the findings' marks into the rows; the figure draws those, not its own rule."""
    import plotly.graph_objects as go

    from app.figures import surface as fig_surface

    rows, grid = grid_rows([[64, 40], [40, 40]], truncated=[[0, 0], [0, 9]])
    rows = rows.assign(tokens_mean=100.0)
    given = rows.assign(safe_zone=[False, True, False, False], truncation_mark=[True, False, False, False])
    for data, safe, trunc in ((rows, [(1, 1)], [(2, 2)]), (given, [(2, 1)], [(1, 1)])):
        panel = fig_surface.Panel(grid.view, X, Y, data, grid.x_values, grid.y_values)
        fig = fig_surface.build([panel], labels={"e": "E"}, title="t")
        drawn = {t.meta["mark"]: [tuple(c) for c in t.customdata] for t in fig.data
                 if isinstance(t, go.Scatter) and t.meta and t.meta.get("mark") in ("safe", "truncation")}
        assert drawn == {"safe": safe, "truncation": trunc}


# ---------------------------------------------------------------- safe_zone
def test_safe_zone_with_its_cells_and_ranges():
    correct = [[64, 64, 40, 40], [64, 40, 40, 40], [40, 40, 40, 40]]
    rows, grid = grid_rows(correct)
    f = one(rows, grid, "safe_zone")
    assert f.where == {"cells": [{X: 1, Y: 1}, {X: 2, Y: 1}, {X: 1, Y: 2}], "ranges": {X: [1, 2], Y: [1, 2]}}
    assert f.evidence["safe_cells"] == 3 and f.evidence["cells"] == 12
    assert f.evidence["min_lower"] == pytest.approx(0.9434, abs=1e-4) and f.evidence["min_n"] == 64
    assert f.text == ("toy: x by y · Model A: safe zone of 3/12 cells (lower 95% bound ≥ 0.9): x 1–2, y 1–2; "
                      "safe for production within this zone.")
    q = parse_qs(urlsplit(f.link).query)
    assert urlsplit(f.link).path == "/surface" and q["view"] == ["toy: x by y"]
    assert json.loads(q["filters"][0]) == {"base_task": ["toy"], "eval_id": ["e"]}


def test_no_safe_zone_just_below_the_bound_nor_on_few_samples():
    rows, grid = grid_rows([[61, 61, 40], [61, 40, 40]])            # 61/64: lower 0.871
    assert "safe_zone" not in kinds(rows, grid)
    rows, grid = grid_rows([[5, 5, 5], [5, 5, 5]], n=5)             # perfect, but 5 samples cannot prove ≥ 0.9
    assert "safe_zone" not in kinds(rows, grid)


# ---------------------------------------------------------------- sharp_cliff
CLIFF = [[61, 61, 61, 6, 6, 6]] * 4        # 0.95 up to x = 3, 0.09 from x = 4, in every row of y


def test_sharp_cliff_where_and_evidence():
    rows, grid = grid_rows(CLIFF)
    f = one(rows, grid, "sharp_cliff")
    assert f.where == {"dim": X, "from": 3, "to": 4}
    ev = f.evidence
    assert ev["drop"] == pytest.approx(55 / 64) and ev["from"]["n"] == 256 and ev["to"]["n"] == 256
    assert (ev["rows_holding"], ev["rows"]) == (4, 4)
    assert f.text.startswith("toy: x by y · Model A: sharp cliff: x 3 → 4 (0.95 → 0.09, n 256 and 256; in 4/4 "
                             "rows of y)")
    assert f.action == "set conservative boundaries before the cliff"
    assert "gradual_slope" not in kinds(rows, grid)


def test_a_cliff_where_accuracy_rises_names_the_accurate_side_first():
    rows, grid = grid_rows([row[::-1] for row in CLIFF])
    assert one(rows, grid, "sharp_cliff").where == {"dim": X, "from": 4, "to": 3}


def test_one_noisy_cell_is_no_cliff():
    noisy = [[61, 61, 61, 6, 61, 61]] + [[61] * 6] * 3          # one cell drops, the other rows do not
    rows, grid = grid_rows(noisy)
    assert "sharp_cliff" not in kinds(rows, grid)


def test_a_cliff_in_half_the_rows_does_not_hold_across_the_other_param():
    half = [[61, 61, 61, 6, 6, 6]] * 2 + [[61] * 6] * 2          # pooled drop 0.43, but only in 2 of 4 rows
    rows, grid = grid_rows(half)
    assert "sharp_cliff" not in kinds(rows, grid)


def test_a_dip_is_no_cliff():
    rows, grid = grid_rows([[61, 61, 61, 6, 61, 61]] * 4)        # falls and comes back: no level change
    assert "sharp_cliff" not in kinds(rows, grid)


def test_tiny_samples_are_no_cliff():
    """The old rule called "sharp cliff 0.90 → 0.20" between two cells of a few samples: not evidence."""
    rows, grid = grid_rows([[2, 2, 2, 0, 0, 0]] * 4, n=2)        # 8 trials a side: below 20
    assert "sharp_cliff" not in kinds(rows, grid)
    rows, grid = grid_rows([[5, 5, 5, 0, 0, 0]] * 4, n=5)        # 20 a side, intervals apart: a cliff
    assert one(rows, grid, "sharp_cliff").where == {"dim": X, "from": 3, "to": 4}


def test_a_small_drop_is_no_cliff():
    rows, grid = grid_rows([[61, 61, 61, 45, 45, 45]] * 4)       # 0.95 → 0.70: below the 0.3 drop
    assert "sharp_cliff" not in kinds(rows, grid)


# ---------------------------------------------------------------- gradual_slope
SLOPE = [[61, 55, 48, 42, 35, 29]] * 4     # 0.95 → 0.45 in steps of ~0.1


def test_gradual_slope_where_and_evidence():
    rows, grid = grid_rows(SLOPE)
    f = one(rows, grid, "gradual_slope")
    assert f.where == {"dim": X, "from": 1, "to": 6}
    assert f.evidence["fall"] == pytest.approx(32 / 64) and f.evidence["largest_step"] == pytest.approx(7 / 64)
    assert [p["value"] for p in f.evidence["profile"]] == [1, 2, 3, 4, 5, 6]
    assert f.text.startswith("toy: x by y · Model A: gradual slope along x: 0.95 at 1 → 0.45 at 6, largest step 0.11")
    assert "sharp_cliff" not in kinds(rows, grid)


def test_a_cliff_on_a_slope_is_a_cliff_and_not_a_slope():
    rows, grid = grid_rows([[61, 58, 55, 10, 8, 6]] * 4)         # one step carries 0.7 of a 0.86 fall
    assert kinds(rows, grid).count("sharp_cliff") == 1 and "gradual_slope" not in kinds(rows, grid)


@pytest.mark.parametrize("shape, n", [
    ([[61, 59, 57, 55, 53, 51]] * 4, 64),      # falls 0.16: below the 0.2 fall
    ([[61, 32, 61, 32, 61, 32]] * 4, 64),      # zigzag: not steady
    ([[1, 1, 1, 0, 0, 0]] * 4, 1),              # 4 trials at each end
    ([[61, 55, 48, 42, 35, 29]] + [[61] * 6] * 3, 64),   # falls in one row of four
])
def test_slope_near_misses(shape, n):
    rows, grid = grid_rows(shape, n=n)
    assert "gradual_slope" not in kinds(rows, grid)


def test_two_values_cannot_tell_a_cliff_from_a_slope():
    rows, grid = grid_rows([[61, 6]] * 4)
    assert not {"sharp_cliff", "gradual_slope"} & set(kinds(rows, grid))


# ---------------------------------------------------------------- truncation_zone
def test_truncation_zone_is_the_cells_truncating_beyond_doubt():
    trunc = [[0, 0, 10, 12], [0, 0, 1, 3]]
    rows, grid = grid_rows([[40] * 4] * 2, truncated=trunc)
    f = one(rows, grid, "truncation_zone")
    assert f.where == {"cells": [{X: 3, Y: 1}, {X: 4, Y: 1}], "ranges": {X: [3, 4], Y: [1, 1]}}
    assert (f.evidence["cells"], f.evidence["truncated"], f.evidence["samples"]) == (2, 22, 128)
    assert "worst 19% of 64" in f.text
    assert fs.marks(rows)[1].sum() == 3                           # 3/64 = 4.7% is marked, but not beyond doubt


@pytest.mark.parametrize("trunc, n", [
    ([[0, 0, 10, 0], [0, 0, 3, 3]], 64),       # one cell beyond doubt (3/64 is not)
    ([[0, 0, 1, 1], [0, 0, 0, 0]], 1),         # two one-sample cells, each fully truncated: 2 samples
])
def test_truncation_zone_near_misses(trunc, n):
    rows, grid = grid_rows(np.zeros((2, 4)), n=n, truncated=trunc)
    assert "truncation_zone" not in kinds(rows, grid)


# ---------------------------------------------------------------- fragile
def test_fragile_when_green_is_missing_beyond_doubt():
    rows, grid = grid_rows([[32] * 4] * 3)
    f = one(rows, grid, "fragile")
    assert f.evidence == {"safe_cells": 0, "below_cells": 12, "cells": 12, "best_accuracy": 0.5, "samples": 768}
    assert f.where == {"ranges": {X: [1, 4], Y: [1, 3]}}
    assert f.action == "avoid this task or difficulty range"


def test_not_fragile_on_too_few_samples_or_with_enough_green():
    rows, grid = grid_rows([[1] * 4] * 3, n=2)                    # 1/2 per cell: upper bound 0.91, unknown
    assert "fragile" not in kinds(rows, grid)
    rows, grid = grid_rows([[64, 64, 32, 32]] + [[32] * 4] * 2)   # 2/12 cells safe: more than 10%
    assert "fragile" not in kinds(rows, grid)
    rows, grid = grid_rows([[64, 32, 32, 32]] + [[32] * 4] * 2)   # 1/12 safe and the rest below: small green
    assert {"safe_zone", "fragile"} <= set(kinds(rows, grid))


# ---------------------------------------------------------------- panels and evals
def test_findings_per_eval_in_label_order_and_categories_have_no_cliff():
    a, grid = grid_rows(CLIFF, eval_id="a")
    b, _ = grid_rows(SLOPE, eval_id="b")
    found = fs.findings(pd.concat([a, b]), grid, {"b": "B", "a": "A"})
    assert [(f.eval_id, f.kind) for f in found] == [("b", "gradual_slope"), ("b", "fragile"), ("a", "sharp_cliff"),
                                                    ("a", "fragile")]
    tasks = a.assign(**{X: a[X].map(dict(enumerate("pqrstuvw", start=1)))})
    cat = fs.Grid("tasks", X, Y, list("pqrstu"), [1, 2, 3, 4])
    assert "sharp_cliff" not in [f.kind for f in fs.panel_findings(tasks, cat, "a")]   # no order between tasks


def test_real_reasoning_gym_noise_is_not_called_a_cliff(rg_demo_import):
    """A few samples per cell (median 6): the old rule (a step ≥ 0.5 between two neighbouring cells) called a
    "sharp cliff" on 7 of the 15 panels; the findings call one, where both sides hold ≥ 20 trials with 95%
    intervals apart.
    """
    pytest.importorskip("reasoning_gym", reason="reasoning-gym is an optional test dependency")
    from app.engine import Dataset
    from app.projections import surface

    ds = Dataset.open(rg_demo_import.written.path)
    p = surface.run(ds)
    old = 0
    for (view, _), r in p.rows.groupby(["view", "eval_id"]):
        grid = r.pivot_table(index=ds.view(view).group_by[1], columns=ds.view(view).group_by[0],
                             values="center").to_numpy()
        old += max(np.nanmax(np.abs(np.diff(grid, axis=k)), initial=0) for k in (0, 1)) >= 0.5
    cliffs = [f for f in p.findings if f.kind == "sharp_cliff"]
    assert p.rows["samples"].median() <= 10
    assert old >= 5 and len(cliffs) <= 1
    for f in cliffs:
        ev = f.evidence
        assert min(ev["from"]["n"], ev["to"]["n"]) >= fs.MIN_TRIALS and ev["from"]["lower"] > ev["to"]["upper"]
