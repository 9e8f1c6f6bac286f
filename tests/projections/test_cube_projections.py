"""Every projection on a cube dataset: the in-memory dataset's tables, and the compression titles' exact counts.

The cube is built from the bundled dataset by ``analyze.py cube``'s own function; the in-memory dataset it came
from is the oracle (its own tests check it against the spec).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from app.cube.build import build_cube
from app.engine import Dataset
from app.projections import PROJECTIONS

BINNED = {"tokens_p50", "tokens_p95"}   # within half a grid step: tests/engine/test_cube_layout.py


@pytest.fixture(scope="module")
def pair(bundled, tmp_path_factory):
    out = tmp_path_factory.mktemp("cube") / "cube"
    build_cube(bundled, out)
    return Dataset.open(bundled), Dataset.open(out)


@pytest.mark.parametrize("name", ["spiderweb", "surface", "hazard"])
def test_the_tables_are_the_in_memory_ones(pair, name):
    ds, cube = pair
    want, got = PROJECTIONS[name].run(ds).rows, PROJECTIONS[name].run(cube).rows
    same = [c for c in want.columns if c not in BINNED]
    pd.testing.assert_frame_equal(got[same].reset_index(drop=True), want[same].reset_index(drop=True))
    for c in BINNED & set(want.columns):
        assert np.nanmax(np.abs(got[c].to_numpy(float) - want[c].to_numpy(float))) <= cube.cube.grid_step / 2


def test_compression_titles_count_every_completion_and_name_the_dots(pair):
    ds, cube = pair

    def titles(d: Dataset) -> list[str]:
        fig = PROJECTIONS["compression"].run(d).figures[0].figure
        return [a.text for a in fig.layout.annotations if " completions" in (a.text or "") and "—" in a.text]

    want, got = titles(ds), titles(cube)
    assert len(want) == len(got) > 0
    for w, g in zip(want, got):
        counts = re.compile(r"— ([\d,]+) completions.*correct (\d+)%, truncated (\d+)%")
        assert counts.search(w).groups() == counts.search(g).groups()
        assert re.search(r"completions \([\d,]+ dots\)", g) and "dots" not in w


def test_every_projection_says_what_the_cube_bins(pair):
    _, cube = pair
    for name, spec in PROJECTIONS.items():
        notes = spec.run(cube).notes
        assert any(n.startswith("Served from a cube") for n in notes), name
