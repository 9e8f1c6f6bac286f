"""Hazard table definitions of spec §5: bins, at_risk, cause-specific hazard, CIF at bin_end."""

import numpy as np
import pandas as pd
import pytest

from app.bounds import BUCKET_SIZE_MAX, BUCKET_SIZE_MIN
from app.engine import InputError
from app.engine.hazard import check_bucket_size
from app.engine.schema import eval_id

from .conftest import EVALS, write

EID = eval_id("alpha", "chat", "greedy")


def sample(tokens, outcome):
    return {"eval_id": EID, "base_task": "t", "params": "{}", "manifold": None, "outcome": outcome,
            "completion_tokens": tokens, "compressed_bytes": 1, "guess_rate": 0.0}


@pytest.fixture()
def small(tmp_path):
    rows = [sample(10, "correct"), sample(99, "incorrect"), sample(100, "invalid"), sample(150, "correct"),
            sample(250, "truncated"), sample(299, "truncated"), sample(None, "correct")]
    return write(tmp_path / "h", rows, evals=EVALS[:1])


def test_bins_at_risk_and_events(small):
    h = small.hazard(bucket_size=100)
    assert list(h.bin_start) == [0, 100, 200] and list(h.bin_end) == [100, 200, 300]
    # samples with no token count cannot be placed in time and are left out
    assert list(h.samples) == [6, 6, 6]
    # at_risk: samples with completion_tokens >= bin_start
    assert list(h.at_risk) == [6, 4, 2]
    assert list(h.events_correct) == [1, 1, 0]
    assert list(h.events_incorrect) == [1, 1, 0]          # invalid counts as incorrect unless split
    assert list(h.events_truncated) == [0, 0, 2]
    assert list(h.hazard_correct) == pytest.approx([1 / 6, 1 / 4, 0])
    assert list(h.hazard_failure) == pytest.approx([1 / 6, 1 / 4, 0])
    assert list(h.hazard_truncated) == pytest.approx([0, 0, 1.0])


def test_cif_is_share_ended_before_bin_end(small):
    h = small.hazard(bucket_size=100)
    assert list(h.cif_correct) == pytest.approx([1 / 6, 2 / 6, 2 / 6])
    assert list(h.cif_incorrect) == pytest.approx([1 / 6, 2 / 6, 2 / 6])
    assert list(h.cif_truncated) == pytest.approx([0, 0, 2 / 6])
    last = h.iloc[-1]
    assert last.cif_correct + last.cif_incorrect + last.cif_truncated == pytest.approx(1.0)


def test_split_invalid_makes_it_a_fourth_event(small):
    h = small.hazard(bucket_size=100, split_invalid=True)
    assert list(h.events_incorrect) == [1, 0, 0] and list(h.events_invalid) == [0, 1, 0]
    assert list(h.hazard_failure) == pytest.approx([1 / 6, 1 / 4, 0])


def test_matches_a_direct_computation_on_random_data(ds, rows):
    df = pd.DataFrame(rows).dropna(subset=["completion_tokens"])
    h = ds.hazard(group_by=["eval_id"], bucket_size=256)
    for eid, g in df.groupby("eval_id"):
        mine = h[h.eval_id == eid]
        tok = g.completion_tokens.to_numpy()
        for _, r in mine.iterrows():
            assert r.at_risk == (tok >= r.bin_start).sum()
            ended = g[(tok < r.bin_end)]
            assert r.cif_correct == pytest.approx((ended.outcome == "correct").sum() / len(g))
            assert r.cif_incorrect == pytest.approx(ended.outcome.isin(["incorrect", "invalid"]).sum() / len(g))


def test_bad_bucket_size_and_outcome_series_are_rejected(small):
    with pytest.raises(InputError, match="bucket size"):
        small.hazard(bucket_size=0)
    with pytest.raises(InputError, match="competing events"):
        small.hazard(group_by=["outcome"])


def test_check_bucket_size_is_a_whole_number_within_the_bounds():
    assert check_bucket_size(BUCKET_SIZE_MIN) == BUCKET_SIZE_MIN
    assert check_bucket_size(np.int64(256)) == 256 and type(check_bucket_size(np.int64(256))) is int
    assert check_bucket_size(BUCKET_SIZE_MAX) == BUCKET_SIZE_MAX
    for bad in (0, -5, BUCKET_SIZE_MAX + 1, 256.0, "256", True, None):
        expected = (rf"bucket size \(--bucket-size\) must be a whole number of tokens "
                    rf"from {BUCKET_SIZE_MIN} to {BUCKET_SIZE_MAX}, not")
        with pytest.raises(InputError, match=expected):
            check_bucket_size(bad)
