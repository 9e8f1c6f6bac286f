"""Projections on real third-party results (../shared/data), and what they honestly cannot show."""

from __future__ import annotations

import pytest

from app.cli import main
from app.engine import Dataset, InputError
from app.projections import PROJECTIONS


@pytest.fixture(scope="module")
def imported(shared_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("real")
    sources = {"reasoning-gym-eval": shared_data / "reasoning-gym-eval" / "demo", "babilong": shared_data / "babilong"}
    found = {}
    for adapter, src in sources.items():
        assert main(["import", str(src), "--adapter", adapter, "--out", str(out / adapter)]) == 0
        found[adapter] = Dataset.open(out / adapter)
    return found


def test_reasoning_gym_surfaces_are_its_two_axis_tasks(imported):
    """With reasoning-gym installed each question's real difficulty values are params; three tasks have two."""
    pytest.importorskip("reasoning_gym", reason="reasoning-gym is an optional test dependency")
    ds = imported["reasoning-gym-eval"]
    p = PROJECTIONS["surface"].run(ds)
    assert [split for split, _ in p.figures] == ["basic_arithmetic", "chain_sum", "word_sorting"]
    with pytest.raises(InputError, match="no view with exactly two group-by dimensions for task"):
        PROJECTIONS["surface"].run(ds, filters={"base_task": ["count_primes"]})  # level alone: nothing to draw


def test_reasoning_gym_fingerprint_and_estimated_tokens(imported):
    ds = imported["reasoning-gym-eval"]
    web = PROJECTIONS["spiderweb"].run(ds)
    assert len(set(web.rows["eval_id"])) == 5 and len(set(web.rows["base_task"])) == 12
    assert any("estimated" in n for n in web.notes)
    levels = PROJECTIONS["spiderweb"].run(ds, group_by="params.level", style="bars")
    assert set(levels.rows["params.level"]) == {"easy", "hard"}
    assert any("3 or more axes" in n for n in PROJECTIONS["spiderweb"].run(ds, group_by="params.level").notes)
    for name in ("compression", "hazard"):
        p = PROJECTIONS[name].run(ds)
        assert any("estimated" in n for n in p.notes), name


def test_babilong_context_length_surface(imported):
    ds = imported["babilong"]
    p = PROJECTIONS["surface"].run(ds)
    assert [s for s, _ in p.figures] == ["cross-task"]
    rows = p.rows
    assert {"base_task", "params.context_tokens"} <= set(rows.columns)
    # a real effect: accuracy on qa1 falls from short to the longest context for both models
    qa1 = rows[rows["base_task"] == "qa1"]
    for _, r in qa1.groupby("eval_id"):
        short = r[r["params.context_tokens"] == r["params.context_tokens"].min()]["center"].iloc[0]
        long = r[r["params.context_tokens"] == r["params.context_tokens"].max()]["center"].iloc[0]
        assert long < short - 0.3


def test_babilong_hazard_says_there_is_no_time_course(imported):
    p = PROJECTIONS["hazard"].run(imported["babilong"])
    assert any("no time course" in n for n in p.notes)
    (_, fig), = p.figures
    assert any("no time course" in (a.text or "") for a in fig.layout.annotations)


def test_cli_exit_2_for_missing_2d_view(imported, tmp_path, capsys):
    code = main(["surface", str(imported["reasoning-gym-eval"].path), "--output-dir", str(tmp_path),
                 "--filters", '{"base_task": ["polynomial_multiplication"]}'])
    err = capsys.readouterr().err
    assert code == 2 and "two group-by dimensions" in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())
