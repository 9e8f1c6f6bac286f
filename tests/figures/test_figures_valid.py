"""Every builder's figure is one plotly accepts: rebuilt with validation on, it raises nothing and draws the same.

The builders hand plain dicts to :func:`app.figures.common.assemble`, which skips plotly's
validation (it is most of the cost of a figure). This is what keeps that safe: a misspelt
property, a value out of range or a wrong type would raise here, and anything plotly's
validator would coerce (a number given as text, an empty list it drops) would change the JSON.
The cases are the snapshot oracle's (``tests/figures/snapshot.py``): every builder through the
projections' public API on the bundled dataset, with several options each.
"""

from __future__ import annotations

import re

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


def _bundled_traces() -> tuple[str, set[str]]:
    """(plotly.js version, trace types) of the partial plotly.js the pages load, read from its header."""
    from app.web.boot import PLOTLY_FILE

    head = PLOTLY_FILE.read_text(encoding="utf-8")[:400]
    found = re.search(r"plotly\.js v([\d.]+) \(partial: ([a-z0-9, ]+) - minified\)", head)
    assert found, head
    return found.group(1), {t.strip() for t in found.group(2).split(",")}


def test_the_pages_plotly_js_is_plotly_pys_version():
    """A plotly upgrade must rebuild the bundle (scripts/plotly-bundle/build.sh): same plotly.js as plotly.py's."""
    from plotly.offline import get_plotlyjs_version

    assert _bundled_traces()[0] == get_plotlyjs_version()


@pytest.mark.parametrize("builder, name", [(b, n) for b, names in CASES.items() for n in names])
def test_every_trace_type_drawn_is_in_the_pages_plotly_js(thunks, builder, name):
    """A figure with a trace type the partial bundle lacks would draw nothing on a page: rebuild it with that type."""
    bundled = _bundled_traces()[1]
    for _, fig in snapshot.figures_of(thunks[name]()):
        assert {trace.type for trace in fig.data} <= bundled, builder
