"""Dataset folders are written atomically, merged point by point, and validated first."""

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from app.bounds import MAX_NAME_CHARS
from app.engine import Dataset, InputError, texts
from app.engine.meta import TaskMeta
from app.engine.schema import SAMPLES_SCHEMA, eval_id
from app.engine.store import propose_views, write_dataset

from .conftest import EVALS, random_rows


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def meta(evals=EVALS):
    return {"name": "t", "evals": evals, "tasks": []}


def test_written_parquet_has_the_public_schema_and_canonical_order(tmp_path):
    write_dataset(tmp_path / "d", meta(), pa.Table.from_pylist(random_rows()), merge=False)
    doc = json.loads((tmp_path / "d" / "dataset.json").read_text())
    table = pq.read_table(tmp_path / "d" / doc["samples"])
    assert table.schema.equals(SAMPLES_SCHEMA, check_metadata=False) or \
        [f.type for f in table.schema] == [f.type for f in SAMPLES_SCHEMA]
    assert table.column_names == SAMPLES_SCHEMA.names
    keys = list(zip(table["eval_id"].to_pylist(), table["base_task"].to_pylist()))
    assert keys == sorted(keys)


def test_merge_adds_evals_and_replaces_points(tmp_path):
    rows = random_rows(seed=1)
    alpha = [r for r in rows if r["eval_id"] == rows[0]["eval_id"]]
    others = [r for r in rows if r["eval_id"] != rows[0]["eval_id"]]
    write_dataset(tmp_path / "d", meta(), pa.Table.from_pylist(others), merge=True)
    assert len(Dataset.open(tmp_path / "d").evals()) == 2
    write_dataset(tmp_path / "d", meta(), pa.Table.from_pylist(alpha), merge=True)
    assert len(Dataset.open(tmp_path / "d").evals()) == 3
    # re-importing alpha's points replaces them: the sample count does not grow
    summary = write_dataset(tmp_path / "d", meta(), pa.Table.from_pylist(alpha), merge=True)
    assert summary.replaced_points == 12
    ds = Dataset.open(tmp_path / "d")
    assert ds.n_samples == len(rows)
    # only one samples file is left behind
    assert len(list((tmp_path / "d").glob("*.parquet"))) == 1


def test_invalid_samples_leave_the_target_byte_for_byte_unchanged(tmp_path):
    write_dataset(tmp_path / "d", meta(), pa.Table.from_pylist(random_rows()), merge=False)
    before = snapshot(tmp_path / "d")
    bad = random_rows(seed=2)
    bad[5]["outcome"] = "timeout"
    with pytest.raises(InputError, match="outcome 'timeout' is not one of correct"):
        write_dataset(tmp_path / "d", meta(), pa.Table.from_pylist(bad), merge=True)
    assert snapshot(tmp_path / "d") == before


def test_samples_for_an_undescribed_eval_are_rejected(tmp_path):
    with pytest.raises(InputError, match="does not describe"):
        write_dataset(tmp_path / "d", meta(EVALS[:1]), pa.Table.from_pylist(random_rows()), merge=False)
    assert not (tmp_path / "d").exists()


# ---------------------------------------------------------------- names are bounded at write

LONG = "x" * 201


def one_row(**change) -> pa.Table:
    row = {"eval_id": EVAL_ID, "base_task": "t", "params": '{"n":1}', "manifold": None, "outcome": "correct",
           "completion_tokens": 5, "compressed_bytes": 3, "guess_rate": 0.0}
    return pa.Table.from_pylist([{**row, **change}])


EVAL_ID = "a1b2c3"


@pytest.mark.parametrize("evals, table, field", [
    ([{"eval_id": EVAL_ID, "model": LONG}], one_row(), "model"),
    ([{"eval_id": EVAL_ID, "model": "m", "template": LONG}], one_row(), "template"),
    ([{"eval_id": EVAL_ID, "model": "m", "label": LONG}], one_row(), "eval label"),
    ([{"eval_id": EVAL_ID, "model": "m", "groups": [f"arch:{LONG[5:]}"]}], one_row(), "group tag"),
    ([{"eval_id": EVAL_ID, "model": "m"}], one_row(base_task=LONG), "task"),
    ([{"eval_id": EVAL_ID, "model": "m"}], one_row(params=json.dumps({LONG: 1})), "params key"),
    ([{"eval_id": EVAL_ID, "model": "m"}], one_row(params=json.dumps({"n": LONG})), "params.n value"),
    ([{"eval_id": EVAL_ID, "model": "m"}], one_row(params=json.dumps({"n": int("9" * 201)})), "params.n value"),
    ([{"eval_id": EVAL_ID, "model": "m"}], one_row(manifold=json.dumps({"id": LONG})), "manifold.id value"),
])
def test_a_name_longer_than_the_bound_is_refused_naming_field_and_length(tmp_path, evals, table, field):
    with pytest.raises(InputError) as err:
        write_dataset(tmp_path / "d", {"name": "t", "evals": evals, "tasks": []}, table)
    assert str(err.value).startswith(f"{field} ") and "is 201 characters long" in str(err.value)
    assert f"limited to {MAX_NAME_CHARS} characters" in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "d").exists()


def test_a_dataset_name_longer_than_the_bound_is_refused(tmp_path):
    with pytest.raises(InputError, match='^dataset name "x{40}…" is 201 characters long'):
        write_dataset(tmp_path / "d", {"name": LONG, "evals": [{"eval_id": EVAL_ID, "model": "m"}]}, one_row())


def test_a_name_at_the_bound_is_written(tmp_path):
    name = "m" * MAX_NAME_CHARS
    write_dataset(tmp_path / "d", {"name": "t", "evals": [{"eval_id": EVAL_ID, "model": name}], "tasks": []},
                  one_row(params=json.dumps({"k" * MAX_NAME_CHARS: "v" * MAX_NAME_CHARS})))
    assert Dataset.open(tmp_path / "d").evals()["model"].tolist() == [name]


def test_a_dataset_written_by_another_tool_with_longer_names_still_opens(tmp_path):
    write_dataset(tmp_path / "d", meta(), pa.Table.from_pylist(random_rows()))
    doc = json.loads((tmp_path / "d" / "dataset.json").read_text())
    doc["evals"][0]["label"] = "L" * 5000
    (tmp_path / "d" / "dataset.json").write_text(json.dumps(doc))
    assert "L" * 5000 in Dataset.open(tmp_path / "d").evals()["label"].tolist()


# ---------------------------------------------------------------- one eval per eval_id

PIPE_A = {"model": "m|x", "template": "t"}
PIPE_B = {"model": "m", "template": "x|t"}


def pipe_rows() -> pa.Table:
    return one_row(eval_id=eval_id("m", "x|t", "default"))


def test_the_pipe_pair_has_one_eval_id():
    assert eval_id("m|x", "t", "default") == eval_id("m", "x|t", "default")


def test_two_evals_with_one_eval_id_in_one_write_are_refused_naming_both(tmp_path):
    with pytest.raises(InputError) as err:
        write_dataset(tmp_path / "d", {"name": "t", "evals": [PIPE_A, PIPE_B], "tasks": []}, pipe_rows())
    message = str(err.value)
    assert message.startswith(f"two different evals would get eval_id {eval_id('m', 'x|t', 'default')}: "
                              'model "m|x", template "t", sampler "default" and model "m", template "x|t", '
                              'sampler "default"')
    assert "rename one so no name holds '|'" in message
    assert not (tmp_path / "d").exists()


def test_an_eval_colliding_with_one_already_in_the_dataset_is_refused_and_nothing_changes(tmp_path):
    write_dataset(tmp_path / "d", {"name": "t", "evals": [PIPE_A], "tasks": []}, pipe_rows())
    before = snapshot(tmp_path / "d")
    with pytest.raises(InputError, match=r'model "m\|x", template "t", sampler "default" \(already in the '
                                         r'dataset\) and model "m", template "x\|t"'):
        write_dataset(tmp_path / "d", {"name": "t", "evals": [PIPE_B], "tasks": []}, pipe_rows())
    assert snapshot(tmp_path / "d") == before
    assert Dataset.open(tmp_path / "d").evals()["model"].tolist() == ["m|x"]


def test_a_chance_collision_without_a_pipe_gets_the_same_refusal(tmp_path):
    evals = [{"eval_id": "abcdef", "model": "one"}, {"eval_id": "abcdef", "model": "two"}]
    with pytest.raises(InputError, match="hash to the same 6 hex digits by chance; rename one"):
        write_dataset(tmp_path / "d", {"name": "t", "evals": evals, "tasks": []}, one_row(eval_id="abcdef"))


def test_the_same_eval_again_merges_as_before(tmp_path):
    write_dataset(tmp_path / "d", {"name": "t", "evals": [PIPE_A, PIPE_A], "tasks": []}, pipe_rows())
    write_dataset(tmp_path / "d", {"name": "t", "evals": [PIPE_A], "tasks": []}, pipe_rows(), merge=True)
    assert len(Dataset.open(tmp_path / "d").evals()) == 1


# ------------------------------------------------------------------------------------ completion texts
def with_texts(rows: list[dict], size: int = 0) -> list[dict]:
    """Each row's text names it (its position in ``rows``); ``size`` pads texts to about that many bytes."""
    return [{**r, "text": f"text of record {i} ".ljust(size, ".")} for i, r in enumerate(rows)]


def test_texts_go_to_their_own_file_in_row_groups_of_a_byte_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(texts, "TEXT_GROUP_BYTES", 10_000)
    rows = with_texts(random_rows(), size=700)
    write_dataset(tmp_path / "d", meta(), pa.Table.from_pylist(rows), merge=False)
    doc = json.loads((tmp_path / "d" / "dataset.json").read_text())
    assert doc["texts"] == "texts.parquet" and "text" not in pq.read_schema(tmp_path / "d" / doc["samples"]).names
    file = pq.ParquetFile(tmp_path / "d" / "texts.parquet")
    assert file.schema_arrow.equals(texts.TEXTS_SCHEMA)
    table = file.read()
    assert table["row"].to_pylist() == list(range(len(rows)))  # every sample has a text: rows 0..n-1, sorted
    sizes = [sum(len(t.encode()) for t in file.read_row_group(g)["text"].to_pylist())
             for g in range(file.num_row_groups)]
    assert file.num_row_groups > 10
    assert all(s >= 10_000 for s in sizes[:-1]) and all(s - 720 < 10_000 for s in sizes)  # closes once full


def test_reading_a_few_texts_decompresses_only_their_row_groups(tmp_path, monkeypatch):
    monkeypatch.setattr(texts, "TEXT_GROUP_BYTES", 10_000)
    write_dataset(tmp_path / "d", meta(), pa.Table.from_pylist(with_texts(random_rows(), size=700)), merge=False)
    ds = Dataset.open(tmp_path / "d")
    read: list[int] = []
    original = pq.ParquetFile.read_row_group
    monkeypatch.setattr(pq.ParquetFile, "read_row_group",
                        lambda self, g, *a, **k: read.append(g) or original(self, g, *a, **k))
    groups = pq.ParquetFile(tmp_path / "d" / "texts.parquet").num_row_groups
    frame = ds.completions(rows=[3, 4], limit=2)
    assert frame["text"].str.startswith("text of record").all() and len(read) == 1 < groups
    ds.completions(rows=[5])  # the same row group again: served from the reader's cache
    assert len(read) == 1


def test_a_failed_text_write_leaves_the_target_byte_for_byte_unchanged(tmp_path, monkeypatch):
    write_dataset(tmp_path / "d", meta(), pa.Table.from_pylist(with_texts(random_rows())), merge=False)
    before = snapshot(tmp_path / "d")

    def broken(path, *args):
        path.write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(texts, "write_texts", broken)
    with pytest.raises(OSError, match="disk full"):
        write_dataset(tmp_path / "d", meta(), pa.Table.from_pylist(with_texts(random_rows(seed=4))), merge=True)
    assert snapshot(tmp_path / "d") == before  # no new file, no temporary file, nothing changed
    bad = with_texts(random_rows(seed=2))
    bad[5]["outcome"] = "timeout"
    with pytest.raises(InputError, match="outcome 'timeout'"):
        write_dataset(tmp_path / "d", meta(), pa.Table.from_pylist(bad), merge=True)
    assert snapshot(tmp_path / "d") == before


def test_proposed_views_are_pairs_that_draw_a_grid():
    """Spec §6 proposes every pair of varying params; a pair where one value fixes the other is a line, not a grid."""
    task = TaskMeta(base_task="t", params=("level", "terms", "digits", "people"))
    points = [{"level": lv, "terms": t, "digits": d, "people": 2 if lv == "easy" else 3}
              for lv, ts in (("easy", (2, 3, 4)), ("hard", (4, 5))) for t in ts for d in (1, 2)]
    # level fixes people (and people level); terms 2, 3 only easy and 5 only hard, but 4 in both: a grid
    assert [v.group_by for v in propose_views([task], {"t": points})] == [
        ("params.level", "params.terms"), ("params.level", "params.digits"), ("params.terms", "params.digits"),
        ("params.terms", "params.people"), ("params.digits", "params.people")]


def test_a_binned_param_takes_part_through_its_bins():
    task = TaskMeta(base_task="t", params=("n", "n_bin", "k"))
    points = [{"n": n, "n_bin": 1 << (n.bit_length() - 1), "k": k} for n in range(1, 40) for k in (1, 2)]
    [view] = propose_views([task], {"t": points})
    assert (view.name, view.group_by) == ("t: n_bin x k", ("params.n_bin", "params.k"))
