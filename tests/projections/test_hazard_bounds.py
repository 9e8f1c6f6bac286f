"""hazard: a bucket size that cuts the selection into more than MAX_HAZARD_BINS bins is refused, naming the least."""

from __future__ import annotations

import pytest

from app import bounds
from app.cli import main
from app.engine.errors import InputError
from app.projections import PROJECTIONS


def test_the_smallest_bucket_size_that_fits_is_accepted_and_one_less_refused(demo):
    longest = int(demo.samples({}, columns=["completion_tokens"])["completion_tokens"].max())
    assert longest == 16_384  # the bundled dataset's longest completion
    least = longest // bounds.MAX_HAZARD_BINS + 1  # 9: 16,384 // 9 + 1 = 1,821 bins
    table = PROJECTIONS["hazard"].run(demo, bucket_size=least).rows
    assert table["bin"].max() + 1 == longest // least + 1 == 1_821
    with pytest.raises(InputError) as caught:
        PROJECTIONS["hazard"].run(demo, bucket_size=least - 1)
    assert str(caught.value) == (
        "hazard: bucket size too small for this selection: at least 9 (--bucket-size); its longest completion has "
        "16,384 tokens, so bins of 8 would make 2,049 bins and a figure shows at most 2,000")


def test_the_bound_follows_the_selection(demo):
    short = demo.evals()["eval_id"].tolist()
    maxima = {e: int(demo.samples({"eval_id": [e]}, columns=["completion_tokens"])["completion_tokens"].max())
              for e in short}
    e, longest = min(maxima.items(), key=lambda kv: kv[1])
    size = longest // bounds.MAX_HAZARD_BINS + 1
    PROJECTIONS["hazard"].run(demo, filters={"eval_id": [e]}, bucket_size=size)  # fits this eval's completions
    if max(maxima.values()) // size + 1 > bounds.MAX_HAZARD_BINS:
        with pytest.raises(InputError, match="bucket size too small for this selection"):
            PROJECTIONS["hazard"].run(demo, bucket_size=size)


def test_the_cli_exits_2_with_the_least_bucket_size(bundled, tmp_path, capsys):
    code = main(["hazard", str(bundled), "--bucket-size", "1", "--output-dir", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "at least 9 (--bucket-size)" in err
    assert not list(tmp_path.iterdir())
