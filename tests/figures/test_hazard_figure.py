"""Hazard builder: CIF per event and series, failure hazard per bin, budget marks per eval."""

import numpy as np
import plotly.graph_objects as go
import pytest

from app.figures import hazard as fig_hazard
from app.figures import palette
from app.findings import hazard as findings_hazard
from tests.projections.synthetic import CONTEXT_WALL


@pytest.fixture(scope="module")
def table(syn):
    return syn.hazard(None, ["eval_id"], 256)


@pytest.fixture(scope="module")
def labels(syn):
    ev = syn.evals()
    return dict(zip(ev["eval_id"], ev["label"]))


@pytest.fixture(scope="module")
def fig(table, labels, syn):
    budgets = {labels[e]: syn.max_tokens()[e] for e in labels}
    colors = palette.series_colors(list(labels))
    return fig_hazard.build(table, series="eval_id", labels=labels, title="h", budgets=budgets,
                            budget_colors={labels[e]: colors[e] for e in labels})


def _kind(fig, kind):
    return [t for t in fig.data if isinstance(t, go.Scatter) and t.meta and t.meta.get("kind") == kind]


def test_one_cif_line_per_event_and_series_equal_to_engine(fig, table, labels):
    cifs = _kind(fig, "cif")
    assert len(cifs) == 3 * len(labels)                       # correct, incorrect(+invalid), truncated
    for t in cifs:
        part = table[table["eval_id"] == t.meta["series"]]
        assert np.allclose(t.y[1:], part[f"cif_{t.meta['event']}"])
        assert list(t.x[1:]) == list(part["bin_end"]) and t.x[0] == 0 and t.y[0] == 0


def test_one_colour_per_eval_and_event_titles_in_outcome_colours(fig, labels):
    colors = palette.series_colors(list(labels))
    for t in _kind(fig, "cif") + _kind(fig, "hazard"):
        assert t.line.color == colors[t.meta["series"]]
    titles = {a.text: a.font.color for a in fig.layout.annotations if "cumulative incidence" in (a.text or "")}
    assert sorted(titles.values()) == sorted(palette.OUTCOME_COLORS[o] for o in ("correct", "incorrect", "truncated"))


def test_hazard_values_are_the_engines_where_enough_samples_run(fig, table):
    for t in _kind(fig, "hazard"):
        part = table[table["eval_id"] == t.meta["series"]]
        y = np.array(t.y[:-1], dtype=float)
        enough = part["at_risk"].to_numpy() >= fig_hazard.MIN_AT_RISK
        assert np.allclose(y[enough], part["hazard_failure"].to_numpy()[enough])
        assert np.isnan(y[~enough]).all()
        assert list(t.x[:-1]) == list(part["bin_start"])


def test_budget_marker_at_each_evals_max_tokens(fig, labels, syn):
    marks = _kind(fig, "budget")
    colors = palette.series_colors(list(labels))
    assert {(m.meta["eval"], m.x[0]) for m in marks} == {(labels[e], syn.max_tokens()[e]) for e in labels}
    by_label = {v: k for k, v in labels.items()}
    assert all(m.marker.color == colors[by_label[m.meta["eval"]]] for m in marks)
    lines = {s.x0 for s in fig.layout.shapes if s.type == "line"}
    assert lines == set(syn.max_tokens()[e] for e in labels)


def test_the_figure_labels_the_walls_it_is_given(table, labels, ids):
    """The rule is the findings' (tests/findings/test_hazard.py); the figure draws the marks it gets."""
    beta = table[table["eval_id"] == ids["Beta"]]
    spike = findings_hazard.wall_candidate(beta)
    assert spike and (spike["bin_start"], spike["bin_end"]) == CONTEXT_WALL
    wall = {"series": ids["Beta"], "bin_start": spike["bin_start"], "bin_end": spike["bin_end"],
            "hazard": spike["hazard"], "before": spike["before"]["hazard"]}
    marked = fig_hazard.build(table, series="eval_id", labels=labels, title="h", walls=[wall])
    text = " ".join(a.text for a in marked.layout.annotations if a.text)
    assert f"context wall: Beta (chat, greedy) {spike['hazard']:.2f} at {CONTEXT_WALL[0]:,}–{CONTEXT_WALL[1]:,}" in text
    plain = fig_hazard.build(table, series="eval_id", labels=labels, title="h")
    assert not any("wall" in (a.text or "") for a in plain.layout.annotations)


def test_short_completions_get_an_empty_state(syn):
    tiny = syn.hazard(None, ["eval_id"], 100_000)
    f = fig_hazard.build(tiny, series="eval_id", labels={e: e for e in set(tiny["eval_id"])}, title="h",
                         bucket_size=100_000)
    assert any("no time course" in (a.text or "") for a in f.layout.annotations)


def _budget_lines(fig):
    return sorted({s.x0 for s in fig.layout.shapes if s.type == "line"})


def test_a_far_budget_is_a_marker_at_the_edge_not_a_stretched_axis(syn, labels):
    table = syn.hazard({"eval_id": sorted(labels)}, ["eval_id"], 32)
    table = table[table["bin_end"] <= 1_024]           # answers under 1k tokens, as on real reasoning-gym data
    x_max = int(table["bin_end"].max())
    budgets = {labels[e]: 32_768 for e in labels}
    fig = fig_hazard.build(table, series="eval_id", labels=labels, title="h", budgets=budgets, bucket_size=32)
    assert _budget_lines(fig) == []
    for axis in ("xaxis", "xaxis2", "xaxis3", "xaxis4"):
        assert fig.layout[axis].range[1] < 1.1 * x_max
    edge = [a for a in fig.layout.annotations if a.text == "budget 32,768 →"]
    assert len(edge) == 4 and all(a.x == 1 and a.xref.endswith(" domain") for a in edge)   # 3 CIF panels + hazard
    marks = _kind(fig, "budget")
    assert {m.meta["eval"] for m in marks} == set(labels.values())
    assert all(m.meta["beyond"] and m.meta["max_tokens"] == 32_768 for m in marks)
    assert all(m.x[0] == fig.layout.xaxis4.range[1] and m.cliponaxis is False for m in marks)


def test_budgets_in_reach_are_lines_and_far_ones_edge_markers(labels, table):
    x_max = int(table["bin_end"].max())
    ids_ = sorted(labels)
    budgets = {labels[ids_[0]]: x_max, labels[ids_[1]]: 10 * x_max}
    fig = fig_hazard.build(table, series="eval_id", labels=labels, title="h", budgets=budgets)
    assert _budget_lines(fig) == [x_max]
    assert fig.layout.xaxis4.range[1] == pytest.approx(x_max * 1.04)
    assert sum(1 for a in fig.layout.annotations if a.text == f"budget {10 * x_max:,} →") == 4
    far = [m for m in _kind(fig, "budget") if m.meta.get("beyond")]
    assert [m.meta["eval"] for m in far] == [labels[ids_[1]]]


def test_estimated_tokens_are_named_on_every_x_axis(table, labels):
    fig = fig_hazard.build(table, series="eval_id", labels=labels, title="h", tokens_estimated=True)
    assert [fig.layout[a].title.text for a in ("xaxis", "xaxis2", "xaxis3", "xaxis4")] == \
        ["tokens (estimated)"] * 3 + ["completion tokens (estimated)"]
    exact = fig_hazard.build(table, series="eval_id", labels=labels, title="h")
    assert exact.layout.xaxis4.title.text == "completion tokens"
