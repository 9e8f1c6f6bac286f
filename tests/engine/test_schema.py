"""The samples contract (spec §2) as the engine reads it: public types, compatible types, and what is refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from app.engine import Dataset, InputError
from app.engine.schema import SAMPLES_SCHEMA, column_type_problem
from app.engine.stats import wilson

from .conftest import random_rows, write


def samples_path(folder: Path) -> Path:
    return folder / json.loads((folder / "dataset.json").read_text())["samples"]


def rewrite(folder: Path, change) -> Path:
    """Rewrite the dataset's samples file as another tool would: ``change(table) -> table``."""
    path = samples_path(folder)
    pq.write_table(change(pq.read_table(path)), path)
    return path


def retype(name: str, to: pa.DataType):
    """The column cast to ``to``, or (when its values cannot be) replaced by zeros of that type."""
    def change(table: pa.Table) -> pa.Table:
        i = table.schema.get_field_index(name)
        try:
            column = table[name].cast(to)
        except pa.ArrowInvalid:
            column = pa.array(np.zeros(len(table), np.int8)).cast(to)
        return table.set_column(i, pa.field(name, to), column)
    return change


def aggregate(folder: Path):
    return Dataset.open(folder).aggregate(group_by=["eval_id", "base_task"])


def test_guess_rate_is_float64_in_the_contract_and_in_what_is_written(tmp_path):
    assert SAMPLES_SCHEMA.field("guess_rate").type == pa.float64()
    write(tmp_path / "d", random_rows())
    assert pq.read_schema(samples_path(tmp_path / "d")).field("guess_rate").type == pa.float64()


@pytest.mark.parametrize("name, to", [
    ("completion_tokens", pa.int64()),                       # pandas' default integer
    ("compressed_bytes", pa.uint16()),
    ("guess_rate", pa.float32()),                            # files written before guess_rate became float64
    ("eval_id", pa.large_string()),
    ("params", pa.dictionary(pa.int8(), pa.string())),       # a pandas categorical
    ("outcome", pa.dictionary(pa.int16(), pa.string())),
])
def test_compatible_types_open_and_give_the_same_numbers(tmp_path, name, to):
    rows = random_rows()
    write(tmp_path / "d", rows)
    want = aggregate(tmp_path / "d")
    rewrite(tmp_path / "d", retype(name, to))
    assert pq.read_schema(samples_path(tmp_path / "d")).field(name).type == to
    got = aggregate(tmp_path / "d")
    # float32 guess rates are the values of that file (0.25 and 0 here are exact in float32)
    assert got.equals(want)


def test_an_all_null_optional_column_opens(tmp_path):
    rows = [{**r, "manifold": None, "completion_tokens": None} for r in random_rows()]
    write(tmp_path / "d", rows)
    rewrite(tmp_path / "d", lambda t: t.set_column(3, pa.field("manifold", pa.null()), pa.nulls(len(t)))
            .set_column(5, pa.field("completion_tokens", pa.null()), pa.nulls(len(t))))
    ds = Dataset.open(tmp_path / "d")
    assert ds.n_samples == len(rows) and not ds.has_tokens


def test_float32_guess_rates_of_older_files_still_open_with_their_own_values(tmp_path):
    rows = [{**r, "guess_rate": 1 / 12} for r in random_rows()]
    write(tmp_path / "d", rows)
    exact = aggregate(tmp_path / "d")
    rewrite(tmp_path / "d", retype("guess_rate", pa.float32()))
    older = aggregate(tmp_path / "d")
    g32 = float(np.float32(1 / 12))
    for (_, a), (_, b) in zip(exact.iterrows(), older.iterrows()):
        n = a["correct"] + a["incorrect"] + a["invalid"] + a["truncated"]
        assert a["accuracy"] == pytest.approx((a["correct"] - n / 12) / (n - n / 12), abs=1e-12)
        assert b["accuracy"] == pytest.approx((b["correct"] - n * g32) / (n - n * g32), abs=1e-12)


def test_the_reference_digits_survive_a_write_and_an_open(tmp_path):
    """Spec §3's reference case, legacy mode, through the store and the layout (float64 all the way)."""
    counts = {"correct": 337, "invalid": 6, "incorrect": 545, "truncated": 8}
    rows = [{"eval_id": "e", "base_task": "t", "params": "{}", "manifold": None, "outcome": o,
             "completion_tokens": None, "compressed_bytes": None, "guess_rate": 1 / 12}
            for o, n in counts.items() for _ in range(n)]
    ds = write(tmp_path / "d", rows, evals=[{"eval_id": "e", "model": "m"}])
    row = ds.aggregate(group_by=["eval_id"], truncation="separate").iloc[0]
    assert row["accuracy"] == pytest.approx(0.3230958230958231, abs=1e-12)
    assert row["center"] == pytest.approx(0.3239267848444002, abs=1e-12)
    assert row["margin"] == pytest.approx(0.03206244563179326, abs=1e-12)
    center, margin = wilson(row["accuracy"], 888 - 888 / 12)
    assert (center, margin) == pytest.approx((row["center"], row["margin"]), abs=1e-15)


@pytest.mark.parametrize("name, to, expected", [
    ("completion_tokens", pa.string(), "expected int32"),
    ("guess_rate", pa.string(), "expected float64"),
    ("outcome", pa.int32(), "expected string"),
    ("eval_id", pa.float64(), "expected string"),
    ("compressed_bytes", pa.float64(), "expected int32"),
])
def test_a_column_of_the_wrong_type_is_one_line_naming_file_column_type_and_expected(tmp_path, name, to, expected):
    write(tmp_path / "d", random_rows())
    path = rewrite(tmp_path / "d", retype(name, to))
    with pytest.raises(InputError) as err:
        Dataset.open(tmp_path / "d")
    message = str(err.value)
    assert message.startswith(f"{path}: column '{name}' has type {to}; {expected}")
    assert "\n" not in message


def test_every_wrong_column_is_counted(tmp_path):
    write(tmp_path / "d", random_rows())
    rewrite(tmp_path / "d", lambda t: retype("outcome", pa.int8())(retype("completion_tokens", pa.string())(t)))
    with pytest.raises(InputError, match=r"column 'outcome' has type int8; .* \(and 1 more column\(s\) of a wrong"):
        Dataset.open(tmp_path / "d")


def test_a_missing_column_is_named(tmp_path):
    write(tmp_path / "d", random_rows())
    path = rewrite(tmp_path / "d", lambda t: t.drop_columns(["guess_rate"]))
    with pytest.raises(InputError, match=f"^{path}: missing column\\(s\\) guess_rate; required: eval_id, "):
        Dataset.open(tmp_path / "d")


def test_a_truncated_file_is_one_line(tmp_path):
    write(tmp_path / "d", random_rows())
    path = samples_path(tmp_path / "d")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(InputError) as err:
        Dataset.open(tmp_path / "d")
    assert str(err.value).startswith(f"{path}: cannot read samples (") and "\n" not in str(err.value)


def test_integers_beyond_int32_are_refused_not_wrapped(tmp_path):
    write(tmp_path / "d", random_rows())
    rewrite(tmp_path / "d", lambda t: t.set_column(5, pa.field("completion_tokens", pa.int64()),
                                                   pa.array([3_000_000_000] * len(t), pa.int64())))
    with pytest.raises(InputError, match="column 'completion_tokens' holds values from 3000000000 to 3000000000, "
                                         "beyond int32"):
        Dataset.open(tmp_path / "d")


def test_empty_values_in_a_required_column_are_refused(tmp_path):
    rows = random_rows()
    write(tmp_path / "d", rows)
    rewrite(tmp_path / "d", lambda t: t.set_column(0, pa.field("eval_id", pa.string()),
                                                   pa.array([None] + t["eval_id"].to_pylist()[1:], pa.string())))
    with pytest.raises(InputError, match="column 'eval_id' has 1 empty value"):
        Dataset.open(tmp_path / "d")


def test_column_type_problem_accepts_the_compatible_types_only():
    assert column_type_problem("guess_rate", pa.float16()) is None
    assert column_type_problem("manifold", pa.null()) is None            # nullable: an all-null column
    assert column_type_problem("eval_id", pa.null()) is not None          # required values
    assert column_type_problem("completion_tokens", pa.float64()) == \
        "column 'completion_tokens' has type double; expected int32 (any integer type is read, if its values fit)"
