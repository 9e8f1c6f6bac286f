"""Every builder's figure is one plotly accepts: rebuilt with validation on, it raises nothing and draws the same.

The builders hand plain dicts to :func:`app.figures.common.assemble`, which skips plotly's
validation (it is most of the cost of a figure). This is what keeps that safe: a misspelt
property, a value out of range or a wrong type would raise here, and anything plotly's
validator would coerce (a number given as text, an empty list it drops) would change the JSON.
The cases are the snapshot oracle's (``tests/figures/snapshot.py``): every builder through the
projections' public API on the bundled dataset, with several options each.
"""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

from app.figures import common
from tests.figures import snapshot

# builder module → cases that reach it (projection runs and direct calls on the bundled data)
CASES = {
    "spiderweb": ("data-spiderweb-default", "data-spiderweb-bars", "data-spiderweb-one-eval",
                  "data-spiderweb-one-task-bars", "data-radar-direct"),
    "spiderweb_matrix": ("data-matrix-direct", "data-matrix-one-row"),
    "surface": ("data-surface-task", "data-surface-none", "data-surface-one-eval"),
    "surface3d": ("data-surface-3d", "data-surface-3d-one"),
    "compression": ("data-compression-task", "data-compression-nofacet", "data-compression-few-points",
                    "data-compression-empty"),
    "hazard": ("data-hazard-default", "data-hazard-nogroup", "data-hazard-bucket", "data-hazard-one-eval"),
    "compare": ("data-compare-default", "data-compare-three", "data-compare-nogroup"),
}


@pytest.fixture(scope="module")
def thunks(bundled):
    return dict(snapshot.cases(bundled.parent))


@pytest.mark.parametrize("builder, name", [(b, n) for b, names in CASES.items() for n in names])
def test_figure_passes_plotly_validation_and_rebuilds_the_same(thunks, builder, name):
    figures = snapshot.figures_of(thunks[name]())
    assert figures
    for _, fig in figures:
        assert isinstance(fig, go.Figure)
        rebuilt = go.Figure(fig.to_dict())   # validated: raises on anything plotly would not accept
        assert snapshot.canonical(rebuilt) == snapshot.canonical(fig)


def test_every_builder_has_cases():
    assert {module.rsplit(".", 1)[1] for module, _ in snapshot.BUILDERS} == set(CASES)


def test_the_template_is_resolved_once_and_not_shared_by_figures():
    fig = common.assemble([], common.page_layout(title="t", subtitle=None, width=1200, height=800))
    assert fig.layout.template.to_plotly_json() == common.TEMPLATE
    fig.layout.template.layout.font.color = "#ff0000"     # a change to one figure's template stays in that figure
    assert common.TEMPLATE["layout"]["font"]["color"] != "#ff0000"
