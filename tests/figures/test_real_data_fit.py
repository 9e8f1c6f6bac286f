"""Figures fit real data: reasoning-gym-eval answers are short, its budget is 32,768 tokens.

Imported from ``../shared/data/reasoning-gym-eval/demo`` with the real adapter, drawn by the real
projections, and measured after plotly.js has laid the figure out (kaleido), so the axis range
checked is the one a reader sees.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from app.engine import Dataset
from app.figures import palette
from app.importers.runner import import_sources
from app.projections import PROJECTIONS

BUDGET = 32_768


@pytest.fixture(scope="module")
def rg(shared_data, tmp_path_factory) -> Dataset:
    out = tmp_path_factory.mktemp("rg") / "ds"
    import_sources([shared_data / "reasoning-gym-eval" / "demo"], "reasoning-gym-eval", out)
    return Dataset.open(out / "dataset.json")


@pytest.fixture(scope="module")
def arithmetic(rg):
    return PROJECTIONS["compression"].run(rg, filters={"base_task": "basic_arithmetic"})


def _outcome_pixels(fig, outcome: str) -> int:
    """Pixels of the outcome's colour in the exported PNG: the dots really drawn."""
    png = fig.to_image(format="png")
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    want = [int(palette.OUTCOME_COLORS[outcome][i:i + 2], 16) for i in (1, 3, 5)]
    return int((np.abs(rgb - want).max(axis=2) < 40).sum())


def test_compression_x_axis_spans_the_answers_not_the_budget(rg, arithmetic):
    assert set(rg.max_tokens().values()) == {BUDGET}
    fig = arithmetic.figures[0].figure
    longest = max(max(t.x) for t in fig.data if t.meta and "outcome" in t.meta)
    assert longest < 1_000
    full = fig.full_figure_for_development(warn=False)
    for name in [k for k in full.layout.to_plotly_json() if k.startswith("xaxis")]:
        low, high = full.layout[name].range
        assert low <= 0 and longest <= high < 1.1 * longest, (name, high)
    assert [a.text for a in fig.layout.annotations if "→" in (a.text or "")] == ["budget 32,768 →"] * 5
    assert full.layout.xaxis5.title.text == "completion tokens (estimated)"
    assert _outcome_pixels(fig, "correct") > 500          # the dots are drawn, not lost to the axis settings


def test_hazard_of_short_answers_ends_at_the_data_with_the_budget_at_the_edge(rg):
    p = PROJECTIONS["hazard"].run(rg, filters={"base_task": ["basic_arithmetic", "chain_sum", "word_sorting"]},
                                  bucket_size=32)
    fig = p.figures[0].figure
    last_bin = int(p.rows["bin_end"].max())
    assert last_bin < 1_000
    assert all(fig.layout[a].range[1] < 1.1 * last_bin for a in ("xaxis", "xaxis2", "xaxis3", "xaxis4"))
    assert not [s for s in fig.layout.shapes if s.x0 == BUDGET]
    assert sum(1 for a in fig.layout.annotations if a.text == "budget 32,768 →") == 4
    assert fig.layout.xaxis4.title.text == "completion tokens (estimated)"


def test_hazard_over_every_task_reaches_the_budget_and_draws_it_as_a_line(rg):
    p = PROJECTIONS["hazard"].run(rg)                    # broken loops run to 31k tokens: the budget is in reach
    fig = p.figures[0].figure
    assert int(p.rows["bin_end"].max()) > BUDGET / 2
    assert {s.x0 for s in fig.layout.shapes if s.type == "line"} == {BUDGET}
    assert not [a for a in fig.layout.annotations if "→" in (a.text or "")]
