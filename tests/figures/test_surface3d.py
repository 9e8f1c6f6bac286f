"""3-D surface: accuracy as relief, the lower bound as its shadow, the marks it is given, one scene per panel."""

import io

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from PIL import Image

from app.cli import main
from app.engine.errors import InputError
from app.figures import palette, surface3d
from app.figures import surface as fig_surface
from app.projections import surface
from tests.projections import synthetic

COLUMNS = ["eval_id", "params.a", "params.b", "center", "lower", "upper", "n", "samples", "truncation_rate",
           "invalid_rate", "tokens_mean", "safe_zone", "truncation_mark"]
# e1 has every cell of a 3 × 2 grid; e2 lacks (a=3, b=20). The marks are given, as the projection gives them.
ROWS = [
    ("e1", 1, 10, 0.953, 0.901, 0.980, 64.0, 64, 0.000, 0.0, 410.0, True, False),
    ("e1", 2, 10, 0.812, 0.702, 0.889, 64.0, 64, 0.031, 0.0, 520.0, False, True),
    ("e1", 3, 10, 0.406, 0.290, 0.531, 64.0, 64, 0.250, 0.0, 900.0, False, True),
    ("e1", 1, 20, 0.938, 0.903, 0.961, 128.0, 128, 0.000, 0.0, 450.0, True, False),
    ("e1", 2, 20, 0.500, 0.381, 0.619, 64.0, 64, 0.016, 0.0, 610.0, False, False),
    ("e1", 3, 20, 0.109, 0.048, 0.211, 64.0, 64, 0.406, 0.0, 1000.0, False, True),
    ("e2", 1, 10, 0.625, 0.502, 0.734, 64.0, 64, 0.000, 0.0, 300.0, False, False),
    ("e2", 2, 10, 0.578, 0.456, 0.691, 64.0, 64, 0.000, 0.0, 330.0, False, False),
    ("e2", 3, 10, 0.344, 0.234, 0.469, 64.0, 64, 0.047, 0.0, 700.0, False, True),
    ("e2", 1, 20, 0.563, 0.440, 0.677, 64.0, 64, 0.000, 0.0, 310.0, False, False),
    ("e2", 2, 20, 0.219, 0.134, 0.336, 64.0, 64, 0.000, 0.0, 350.0, False, False),
]
LABELS = {"e1": "model-one (cot, greedy)", "e2": "model-two (cot, greedy)"}
NAN = float("nan")


@pytest.fixture(scope="module")
def panel():
    rows = pd.DataFrame(ROWS, columns=COLUMNS)
    return fig_surface.Panel("toy: a x b", "params.a", "params.b", rows, [1, 2, 3], [10, 20])


@pytest.fixture(scope="module")
def fig(panel):
    return surface3d.build([panel], labels=LABELS, title="Surface 3-D", subtitle="toy")


def traces(fig, eval_id, **meta):
    return [t for t in fig.data if t.meta and t.meta.get("eval_id") == eval_id
            and all(t.meta.get(k) == v for k, v in meta.items())]


def test_center_is_the_surface_on_the_fixed_accuracy_scale(fig):
    (e1,) = traces(fig, "e1", layer="center")
    (e2,) = traces(fig, "e2", layer="center")
    assert isinstance(e1, go.Surface) and e1.coloraxis == "coloraxis"
    np.testing.assert_array_equal(np.array(e1.z, dtype=float), [[0.953, 0.812, 0.406], [0.938, 0.500, 0.109]])
    np.testing.assert_array_equal(np.array(e2.z, dtype=float), [[0.625, 0.578, 0.344], [0.563, 0.219, NAN]])
    np.testing.assert_array_equal(np.array(e1.surfacecolor, dtype=float), np.array(e1.z, dtype=float))
    assert list(e1.x) == [0, 1, 2] and list(e1.y) == [0, 1]          # cell indices, as in the heatmaps
    axis = fig.layout.coloraxis
    assert (axis.cmin, axis.cmax) == (0.0, 1.0)
    assert [list(s) for s in axis.colorscale] == [list(s) for s in palette.ACCURACY_COLORSCALE]


def test_lower_bound_is_a_grey_shadow_under_the_surface(fig):
    (shadow,) = traces(fig, "e1", layer="lower")
    (center,) = traces(fig, "e1", layer="center")
    np.testing.assert_array_equal(np.array(shadow.z, dtype=float), [[0.901, 0.702, 0.290], [0.903, 0.381, 0.048]])
    assert (np.array(shadow.z, dtype=float) <= np.array(center.z, dtype=float)).all()
    assert shadow.showscale is False and shadow.coloraxis is None
    assert {c for _, c in shadow.colorscale} == {surface3d.SHADOW_COLOR}
    assert shadow.scene == center.scene


@pytest.mark.parametrize("kind, cells, values", [
    ("safe", [(1, 10, 0.953), (1, 20, 0.938)], [0.901, 0.903]),
    ("truncation", [(2, 10, 0.812), (3, 10, 0.406), (3, 20, 0.109)], [0.031, 0.25, 0.406]),
])
def test_marks_sit_on_exactly_the_marked_cells(fig, kind, cells, values):
    (mark,) = traces(fig, "e1", mark=kind)
    assert isinstance(mark, go.Scatter3d)
    assert [tuple(c) for c in mark.customdata] == [(a, b) for a, b, _ in cells]
    assert list(mark.x) == [[1, 2, 3].index(a) for a, _, _ in cells]
    assert list(mark.y) == [[10, 20].index(b) for _, b, _ in cells]
    assert list(mark.z) == pytest.approx([c + surface3d.MARK_LIFT for _, _, c in cells])
    assert [float(v) for v in mark.text] == values                    # what the hover prints
    assert mark.marker.color == (palette.SAFE_ZONE_COLOR if kind == "safe" else palette.TRUNCATION_COLOR)


def test_marks_are_what_the_rows_say_not_recomputed(fig):
    """e2's (3, 10) has truncation 0.047 and is given a mark; its (1, 10) is not safe (lower 0.502)."""
    assert [tuple(c) for c in traces(fig, "e2", mark="truncation")[0].customdata] == [(3, 10)]
    assert traces(fig, "e2", mark="safe") == []


def test_hover_has_the_numbers_and_n(fig):
    (e1,) = traces(fig, "e1", layer="center")
    (e2,) = traces(fig, "e2", layer="center")
    assert e1.text[1][0] == ("<b>model-one (cot, greedy)</b> · toy: a x b<br>a = 1, b = 20<br>"
                             "accuracy 0.938 [95% CI 0.903 – 0.961]<br>n = 128.0 · truncated 0.0% · invalid 0.0%"
                             "<br>tokens mean 450")
    assert e2.text[1][2] is None                                      # no row: no hover
    assert e1.hovertemplate == "%{text}<extra></extra>"


def test_one_scene_per_eval_with_the_heatmaps_axes_and_places(fig, panel):
    scenes = {t.scene for t in fig.data if t.meta and t.meta.get("layer") == "center"}
    assert scenes == {"scene", "scene2"}
    flat = fig_surface.build([panel], labels=LABELS, title="2-D")
    for scene, axis in (("scene", "xaxis"), ("scene2", "xaxis2")):
        s = fig.layout[scene]
        assert list(s.domain.x) == list(flat.layout[axis].domain)
        assert (s.xaxis.title.text, s.yaxis.title.text, s.zaxis.title.text) == ("a", "b", "accuracy")
        assert list(s.xaxis.ticktext) == ["1", "2", "3"] and list(s.yaxis.ticktext) == ["10", "20"]
        assert list(s.zaxis.range) == [0, 1.05]
    titles = [a.text for a in fig.layout.annotations]
    assert "model-one (cot, greedy)" in titles and "toy: a x b" in titles
    assert fig.layout.meta["mode"] == "3d" and fig.layout.meta["axes"]["toy: a x b"]["x_values"] == [1, 2, 3]
    assert fig.layout.width >= 1200 and fig.layout.height >= 800


def test_more_scenes_than_a_browser_keeps_are_refused(panel):
    many = {f"e{i}": f"eval {i}" for i in range(surface3d.MAX_SCENES + 1)}
    with pytest.raises(ValueError, match="at most 12 scenes"):
        surface3d.build([panel], labels=many, title="t")


def test_projection_switches_mode_and_says_how_to_narrow(syn, ids):
    flat = surface.run(syn, filters={"base_task": ["arith"]})
    relief = surface.run(syn, filters={"base_task": ["arith"]}, mode="3d")
    assert {type(t) for t in flat.figures[0][1].data} >= {go.Heatmap}
    assert {type(t) for t in relief.figures[0][1].data} == {go.Surface, go.Scatter3d}
    assert relief.meta["mode"] == "3d" and flat.meta["mode"] == "2d"
    pd.testing.assert_frame_equal(flat.rows, relief.rows)              # the numbers do not depend on the mode
    assert flat.notes == relief.notes
    with pytest.raises(InputError, match="--mode must be 2d or 3d"):
        surface.run(syn, mode="4d")
    four = {"base_task": ["logic"], "eval_id": list(ids.values())}    # 3 views × 4 evals = 12 scenes: fits
    assert len(surface.run(syn, filters=four, mode="3d").figures) == 1
    with pytest.raises(InputError, match=r"at most 12 \(what a browser keeps drawn\); the selection has 5 view\(s\) "
                                         r"× 4 eval\(s\) = 20: choose fewer evals or views \(--view NAME\)"):
        surface.run(syn, split_by="none", mode="3d")


def test_cli_writes_the_3d_png(capsys, tmp_path):
    dataset = str(synthetic.build(tmp_path / "ds"))
    code = main(["surface", dataset, "--filters", '{"base_task": ["arith"]}', "--mode", "3d",
                 "--output-dir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.splitlines() == [str(tmp_path / "surface-arith.png")]
    image = Image.open(io.BytesIO((tmp_path / "surface-arith.png").read_bytes())).convert("RGB")
    assert image.size == (1550, 800)                                  # 4 evals side by side, one view
    pixels = np.asarray(image).reshape(-1, 3)
    shadow = np.array([int(surface3d.SHADOW_COLOR[i:i + 2], 16) for i in (1, 3, 5)])
    assert (np.abs(pixels - shadow).sum(axis=1) < 12).sum() > 500     # the WebGL scenes were drawn, shadow and all
    with pytest.raises(SystemExit) as exit_:
        main(["surface", dataset, "--mode", "4d", "--output-dir", str(tmp_path)])
    assert exit_.value.code == 2 and "argument --mode: invalid choice: '4d'" in capsys.readouterr().err
