"""One palette for the four outcomes everywhere, and a fixed accuracy scale."""

from app.engine.schema import OUTCOMES
from app.figures import palette


def test_one_distinct_colour_per_outcome():
    assert tuple(palette.OUTCOME_COLORS) == OUTCOMES
    assert len(set(palette.OUTCOME_COLORS.values())) == 4


def test_truncation_is_purple_and_shared():
    r, g, b = (int(palette.TRUNCATION_COLOR[i:i + 2], 16) for i in (1, 3, 5))
    assert r > g and b > g                      # purple: red and blue over green
    assert palette.TRUNCATION_COLOR == palette.OUTCOME_COLORS["truncated"]


def test_accuracy_scale_runs_red_yellow_green_on_0_1():
    scale = palette.ACCURACY_COLORSCALE
    assert scale[0][0] == 0.0 and scale[-1][0] == 1.0
    assert [s[0] for s in scale] == sorted(s[0] for s in scale)
    lo, mid, hi = scale[0][1], scale[len(scale) // 2][1], scale[-1][1]
    assert int(lo[1:3], 16) > int(lo[3:5], 16)            # red end
    assert int(hi[3:5], 16) > int(hi[1:3], 16)            # green end
    assert int(mid[1:3], 16) > 200 and int(mid[3:5], 16) > 200   # yellow middle
    assert palette.ACCURACY_RANGE == (0.0, 1.0)


def test_series_colours_never_look_like_an_outcome():
    assert not set(palette.SERIES_COLORS) & set(palette.OUTCOME_COLORS.values())
    assert palette.series_color(len(palette.SERIES_COLORS)) == palette.series_color(0)
    assert palette.rgba("#ff0080", 0.5) == "rgba(255,0,128,0.5)"
