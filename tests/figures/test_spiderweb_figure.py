"""Spiderweb builder: traces, values and colours against the engine's table."""

import numpy as np
import plotly.graph_objects as go
import pytest

from app.figures import palette
from app.figures import spiderweb as fig_spiderweb
from app.findings import spiderweb as archetypes


@pytest.fixture(scope="module")
def table(syn):
    return syn.aggregate(None, ["eval_id", "base_task"])


@pytest.fixture(scope="module")
def labels(syn):
    ev = syn.evals()
    return dict(zip(ev["eval_id"], ev["label"]))


def _by(fig, cls, pred=lambda t: True):
    return [t for t in fig.data if isinstance(t, cls) and pred(t)]


def _row(table, e, task):
    return table[(table["eval_id"] == e) & (table["base_task"] == task)].iloc[0]


def test_radar_has_band_wedges_polygon_and_token_bars_per_eval(table, labels):
    fig = fig_spiderweb.build(table, group_by="base_task", labels=labels, title="t")
    polygons = _by(fig, go.Scatterpolar, lambda t: t.mode == "lines+markers")
    bands = _by(fig, go.Scatterpolar, lambda t: t.fill == "toself")
    wedges = _by(fig, go.Barpolar)
    tokens = _by(fig, go.Bar)
    assert len(polygons) == len(bands) == len(wedges) == len(tokens) == len(labels) == 4
    assert fig.layout.width >= 1200 and fig.layout.height >= 800


def test_radar_values_equal_engine_table(table, labels):
    fig = fig_spiderweb.build(table, group_by="base_task", labels=labels, title="t")
    tasks = sorted(set(table["base_task"]))
    for poly in _by(fig, go.Scatterpolar, lambda t: t.mode == "lines+markers"):
        e = poly.legendgroup
        assert list(poly.theta) == tasks + tasks[:1]                     # closed polygon
        expect = [_row(table, e, t)["center"] for t in tasks]
        assert np.allclose(poly.r[:-1], expect) and poly.r[-1] == poly.r[0]
        # a marker on every axis value carries [eval_id, task] for drill-down
        assert [list(c) for c in poly.customdata[:-1]] == [[e, t] for t in tasks]
        assert poly.marker.color == poly.line.color
    for band in _by(fig, go.Scatterpolar, lambda t: t.fill == "toself"):
        e = band.legendgroup
        n = len(tasks) + 1
        assert np.allclose(band.r[:n - 1], [_row(table, e, t)["upper"] for t in tasks])
        assert np.allclose(band.r[n:n + 1], [_row(table, e, tasks[0])["lower"]])


def test_truncation_wedges_are_purple_with_the_rate(table, labels):
    fig = fig_spiderweb.build(table, group_by="base_task", labels=labels, title="t")
    for wedge in _by(fig, go.Barpolar):
        e = wedge.legendgroup
        assert wedge.marker.color == palette.TRUNCATION_COLOR
        assert np.allclose(wedge.r, [_row(table, e, t)["truncation_rate"] for t in wedge.theta])


def test_token_use_on_its_own_axis(table, labels):
    fig = fig_spiderweb.build(table, group_by="base_task", labels=labels, title="t")
    for bar in _by(fig, go.Bar):
        assert bar.yaxis == "y"                                        # the companion xy row, not the polar
        assert np.allclose(bar.y, [_row(table, bar.legendgroup, t)["tokens_mean"] for t in bar.x])
    assert fig.layout.polar.radialaxis.range == (0, 1)


def test_bars_style_error_bars_are_the_wilson_interval(table, labels):
    fig = fig_spiderweb.build(table, group_by="base_task", labels=labels, title="t", style="bars")
    acc = [t for t in _by(fig, go.Bar) if t.error_y.array is not None]
    trunc = [t for t in _by(fig, go.Bar) if t.marker.color == palette.TRUNCATION_COLOR]
    assert len(acc) == len(trunc) == 4
    for bar in acc:
        rows = [_row(table, bar.legendgroup, t) for t in bar.x]
        assert np.allclose(bar.y, [r["center"] for r in rows])
        assert np.allclose(bar.error_y.array, [r["upper"] - r["center"] for r in rows])
        assert np.allclose(bar.error_y.arrayminus, [r["center"] - r["lower"] for r in rows])
        assert [list(c) for c in bar.customdata] == [[bar.legendgroup, t] for t in bar.x]
    for bar in trunc:
        assert np.allclose(bar.y, [_row(table, bar.legendgroup, t)["truncation_rate"] for t in bar.x])


def test_legend_explains_every_mark_and_names_archetypes(table, labels):
    verdicts = {e: archetypes.Verdict(e, "Task Specialist", "spread 0.30 ≥ 0.2") for e in labels}
    fig = fig_spiderweb.build(table, group_by="base_task", labels=labels, title="Spiderweb", subtitle="dataset: x",
                              verdicts=verdicts)
    names = [t.name for t in fig.data if t.showlegend is not False]
    assert any("Wilson" in n for n in names) and any("truncation" in n for n in names)
    assert any("tokens" in n for n in names)
    assert all(f"{labels[e]} — Task Specialist" in names for e in labels)
    text = " ".join(a.text or "" for a in fig.layout.annotations)
    assert "spread 0.30" not in text     # the reason is the finding's sentence in the notes, said once there
    assert fig.layout.title.subtitle.text == "dataset: x"


def test_missing_combination_is_a_gap_not_a_zero(table, labels):
    some = table[~((table["eval_id"] == next(iter(labels))) & (table["base_task"] == "sort"))]
    fig = fig_spiderweb.build(some, group_by="base_task", labels=labels, title="t")
    poly = _by(fig, go.Scatterpolar, lambda t: t.legendgroup == next(iter(labels)) and t.mode == "lines+markers")[0]
    assert poly.r[list(poly.theta).index("sort")] is None or np.isnan(poly.r[list(poly.theta).index("sort")])
