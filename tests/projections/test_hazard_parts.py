"""The hazard view splits its samples per (split, series) value exactly as a pandas groupby would."""

from __future__ import annotations

import pytest

from app.engine import Dataset
from app.projections.hazard import _parts


@pytest.mark.parametrize("dims", [["eval_id"], ["base_task"], ["base_task", "eval_id"], ["eval_id", "params.x"],
                                  []])
def test_parts_are_the_groupby_groups_keyed_by_their_values_as_text(demo: Dataset, dims):
    dims = [d for d in dims if d in demo.dimension_names]
    columns = list(dict.fromkeys(dims + ["eval_id", "base_task", "outcome", "completion_tokens"]))
    samples = demo.samples({}, columns=columns)
    shuffled = samples.sample(frac=1.0, random_state=0)   # the slice path and the sorting path
    for frame in (samples, shuffled):
        got = _parts(frame, dims)
        if not dims:
            assert list(got) == [()] and got[()] is frame
            continue
        want = {tuple(str(v) for v in (k if isinstance(k, tuple) else (k,))): g
                for k, g in frame.groupby(dims, observed=True, sort=False)}
        assert set(got) == set(want)
        for key, rows in want.items():   # same rows in the same order, same index, same column types
            assert got[key].equals(rows) and got[key].index.equals(rows.index)
            assert list(got[key].dtypes) == list(rows.dtypes)
