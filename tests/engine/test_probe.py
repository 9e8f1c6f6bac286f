"""The probe: which completions lie behind a mark, in what order, with exactly what the model wrote."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from app.cli import main
from app.engine import Dataset, InputError
from app.engine import probe as probe_module
from app.engine.probe import LOOP_WINDOW, repeated_tail, repetition
from app.engine.schema import compressed_size, eval_id
from app.engine.store import write_dataset

from .conftest import EVALS, random_rows

ONE_MB_LINE = "".join(f"{i:07d} " for i in range(131_072))  # 1 MiB on one line, no newline, no repeat

HOSTILE = [
    "plain answer: 42",
    "",
    "multi\nline\r\nwindows\rold mac\ttab",
    "<script>alert('x')</script><img src=x onerror=alert(1)>",
    "# Heading\n\n**bold** _it_ `code` [link](http://example.com)\n\n| a | b |\n|---|---|\n",
    "unicode: straße, 東京, emoji 🧪👩‍🔬, combining é, RTL \u202egnp.exe, zero-width\u200bjoin",
    "nul \x00 and bell \x07 and escape \x1b[31mred\x1b[0m",
    ONE_MB_LINE,
]


def import_jsonl(capsys, path: Path, records: list[dict], out: Path) -> None:
    """Import ``records`` with the real ``analyze.py import --adapter samples``."""
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    assert main(["import", str(path), "--adapter", "samples", "--out", str(out)]) == 0, capsys.readouterr().err
    capsys.readouterr()


def hostile_records() -> list[dict]:
    return [{"model": "m", "base_task": "t", "params": {"i": i}, "outcome": "correct", "completion_tokens": 10 + i,
             "text": text} for i, text in enumerate(HOSTILE)]


# ---------------------------------------------------------------------------------------- exact text
def test_the_probe_returns_the_exact_source_text_of_every_completion(capsys, tmp_path):
    import_jsonl(capsys, tmp_path / "in.jsonl", hostile_records(), tmp_path / "ds")
    ds = Dataset.open(tmp_path / "ds")
    assert ds.has_text
    for i, text in enumerate(HOSTILE):
        frame = ds.completions({"params.i": i})
        assert len(frame) == 1 and frame.attrs["total"] == 1
        assert frame["text"][0].encode("utf-8") == text.encode("utf-8"), i  # byte for byte
        assert frame["params"][0] == {"i": i} and frame["completion_tokens"][0] == 10 + i
        assert frame["compressed_bytes"][0] == compressed_size(text)
    # and all at once, in order, through the rows key the compression page puts in its dots
    rows = ds.samples(columns=["row", "completion_tokens"])
    frame = ds.completions(rows=rows["row"].tolist(), limit=len(HOSTILE))
    assert frame["text"].tolist() == HOSTILE


def test_texts_live_beside_the_samples_never_in_them(capsys, tmp_path):
    import_jsonl(capsys, tmp_path / "in.jsonl", hostile_records(), tmp_path / "ds")
    doc = json.loads((tmp_path / "ds" / "dataset.json").read_text())
    assert doc["texts"] == "texts.parquet"
    assert "text" not in pq.read_schema(tmp_path / "ds" / doc["samples"]).names
    texts = pq.read_table(tmp_path / "ds" / "texts.parquet")
    assert texts.column_names == ["row", "text"] and texts["row"].to_pylist() == list(range(len(HOSTILE)))


# ------------------------------------------------------------------------------------------ open
def texts_dataset(tmp_path: Path) -> Path:
    rows = random_rows(seed=3)
    for i, r in enumerate(rows):
        r["text"] = f"completion {i}: " + "reasoning " * (i % 13)
    write_dataset(tmp_path / "ds", {"name": "t", "evals": EVALS, "tasks": []}, pa.Table.from_pylist(rows),
                  merge=False)
    return tmp_path / "ds"


def test_opening_reads_no_text(tmp_path, monkeypatch):
    folder = texts_dataset(tmp_path)
    texts_path = (folder / "texts.parquet").resolve()
    touched: list[str] = []

    def spy(fn):
        def wrapped(source, *args, **kwargs):
            touched.append(str(Path(source).resolve()) if isinstance(source, (str, Path)) else
                           str(Path(getattr(source, "name", "?")).resolve()))
            return fn(source, *args, **kwargs)
        return wrapped

    for name in ("read_table", "read_schema", "read_metadata", "ParquetFile"):
        monkeypatch.setattr(pq, name, spy(getattr(pq, name)))
    ds = Dataset.open(folder)
    ds.aggregate(group_by=["eval_id"])
    assert touched and str(texts_path) not in touched
    ds.completions(limit=3)  # the probe is what reads it
    assert str(texts_path) in touched


def test_a_corrupt_texts_file_does_not_stop_open_and_the_probe_says_which_file(tmp_path):
    folder = texts_dataset(tmp_path)
    (folder / "texts.parquet").write_bytes(b"not parquet at all")
    ds = Dataset.open(folder)  # never read at open
    assert ds.aggregate(group_by=["eval_id"])["samples"].sum() == ds.n_samples
    assert ds.completions(limit=2, text=False)["text"].isna().all()  # rows still list without text
    with pytest.raises(InputError, match=r"texts\.parquet: cannot read the completion texts"):
        ds.completions(limit=2)


def test_a_texts_file_replaced_after_open_is_reported_not_read(tmp_path):
    folder = texts_dataset(tmp_path)
    first = Dataset.open(folder)
    rows = random_rows(seed=3)
    for tag in ("second", "third"):  # texts.parquet, then texts-<digest>.parquet, then texts.parquet again
        write_dataset(folder, {"name": "t", "evals": EVALS, "tasks": []},
                      pa.Table.from_pylist([{**r, "text": tag} for r in rows]), merge=False)
        if tag == "second":
            second = Dataset.open(folder)
            with pytest.raises(InputError, match="was removed since the dataset was opened.*open the dataset again"):
                first.completions(limit=2)
    assert (folder / "texts.parquet").is_file() and first.meta.texts == "texts.parquet"
    with pytest.raises(InputError, match="changed since the dataset was opened.*open the dataset again"):
        first.completions(limit=2)  # the same name, another file: never read as if it were the old one
    with pytest.raises(InputError, match="was removed since"):
        second.completions(limit=2)
    assert set(Dataset.open(folder).completions(limit=5)["text"]) == {"third"}


# ------------------------------------------------------------------------------------------ merges
def generation(tag: str, points: list[tuple[str, int]], with_text: bool = True) -> list[dict]:
    """Three samples per (model, x) point; tokens unique per record; text names the record."""
    records = []
    for model, x in points:
        for k in range(3):
            tokens = 100 * x + 10 * k + (1000 if tag == "second" else 0) + (5000 if model == "m2" else 0)
            records.append({"model": model, "base_task": "t", "params": {"x": x}, "outcome": "correct",
                            "completion_tokens": tokens, "sample": k,
                            "text": f"{tag}|{model}|x={x}|k={k}|tokens={tokens}" if with_text else None})
    return records


def test_merges_keep_every_text_with_its_sample(capsys, tmp_path):
    out = tmp_path / "ds"
    first = generation("first", [("m1", x) for x in range(1, 7)] + [("m2", 1), ("m2", 2)])
    import_jsonl(capsys, tmp_path / "a.jsonl", first, out)
    # the second import replaces m1 at x = 2 and 5 (with text), m2 at x = 1 (without text), and adds m3
    second = generation("second", [("m1", 2), ("m1", 5), ("m3", 1)]) + generation("second", [("m2", 1)], False)
    import_jsonl(capsys, tmp_path / "b.jsonl", second, out)
    # exactly one samples and one texts file are left, no temporary ones
    assert len(list(out.glob("texts*.parquet"))) == 1 and len(list(out.glob("samples*.parquet"))) == 1
    assert not list(out.glob(".*"))

    expected = {}
    for r in first + second:
        expected[(eval_id(r["model"], "default", "default"), r["params"]["x"], r["completion_tokens"])] = r["text"]
    ds = Dataset.open(out)
    frame = ds.completions(limit=1000)
    assert len(frame) == frame.attrs["total"] == ds.n_samples == 3 * (8 + 1)
    for r in frame.itertuples():
        assert r.text == expected[(r.eval_id, r.params["x"], r.completion_tokens)], r
    replaced = frame[frame["text"].str.startswith("second", na=False)]
    assert len(replaced) == 3 * 3 and frame["text"].isna().sum() == 3  # m2 x=1: replaced by samples without text
    # a third import of everything without text drops the texts file altogether
    import_jsonl(capsys, tmp_path / "c.jsonl", generation("third", [("m1", x) for x in range(1, 7)]
                                                         + [("m2", 1), ("m2", 2), ("m3", 1)], False), out)
    assert not list(out.glob("texts*.parquet")) and "texts" not in json.loads((out / "dataset.json").read_text())
    assert not Dataset.open(out).has_text


def legacy_dataset(folder: Path, rows: list[dict], order: np.ndarray | None = None) -> Path:
    """A dataset as older versions (or other tools) wrote it: ``text`` a column of samples.parquet."""
    folder.mkdir()
    table = pa.Table.from_pylist(rows)
    table = table.take(order) if order is not None else table
    pq.write_table(table, folder / "samples.parquet", row_group_size=50)
    doc = {"name": "legacy", "samples": "samples.parquet", "evals": EVALS, "tasks": [], "views": []}
    (folder / "dataset.json").write_text(json.dumps(doc))
    return folder


def test_older_datasets_with_a_text_column_are_read_by_position_even_when_the_engine_reorders_them(tmp_path):
    rows = random_rows(seed=5)
    for i, r in enumerate(rows):
        r["text"] = f"record {i}"
        r["guess_rate"] = float(r["guess_rate"])
    order = np.random.default_rng(0).permutation(len(rows))  # not the engine's order: the layout sorts it
    folder = legacy_dataset(tmp_path / "old", rows, order)
    ds = Dataset.open(folder)
    assert ds.has_text and ds._layout.row_file is not None
    file = pq.read_table(folder / "samples.parquet").to_pandas()
    listed = ds.samples(columns=["row", "completion_tokens", "outcome"])
    assert (listed["outcome"].astype(str).to_numpy() == file["outcome"].to_numpy()[listed["row"]]).all()
    picked = [int(r) for r in listed["row"][::17]]
    frame = ds.completions(rows=picked, limit=100)
    assert sorted(frame["row"]) == sorted(picked)
    for r in frame.itertuples():
        assert r.text == file["text"][r.row] == f"record {order[r.row]}"
    # merging into it moves the texts to a texts file, still aligned
    extra = [{**r, "eval_id": eval_id("gamma", "plain", "t0.7"), "base_task": "new", "text": "fresh"} for r in rows[:5]]
    write_dataset(folder, {"name": "legacy", "evals": EVALS, "tasks": []}, pa.Table.from_pylist(extra), merge=True)
    merged = Dataset.open(folder)
    assert "text" not in pq.read_schema(folder / merged.meta.samples).names and merged.meta.texts
    texts = merged.completions(limit=1000)
    assert (texts["text"] == "fresh").sum() == 5
    by_old = texts[texts["text"] != "fresh"]
    originals = {f"record {i}": (r["eval_id"], r["base_task"], r["completion_tokens"]) for i, r in enumerate(rows)}
    for r in by_old.itertuples():
        ev, task, tok = originals[r.text]
        assert (r.eval_id, r.base_task) == (ev, task) and (pd.isna(r.completion_tokens) if tok is None
                                                           else r.completion_tokens == tok)


# ------------------------------------------------------------------------------------------ no text
def test_a_dataset_without_text_lists_its_rows_and_says_so(ds):
    assert not ds.has_text and ds.meta.texts is None
    frame = ds.completions({"base_task": "arith"}, outcomes=["truncated"], limit=5)
    assert len(frame) == 5 and frame.attrs["has_text"] is False
    assert frame["text"].isna().all() and frame["compression_ratio"].isna().all()
    assert (frame["outcome"] == "truncated").all()


# ------------------------------------------------------------------------------------- order, pages
def stored(ds: Dataset) -> pd.DataFrame:
    """The samples as stored, with their row (file position) and eval label: the reference for the probe."""
    frame = pq.read_table(ds.path.parent / ds.meta.samples).to_pandas()
    frame["row"] = np.arange(len(frame))
    frame["label"] = frame["eval_id"].map(ds.meta.eval_labels)
    return frame


def test_rows_come_ordered_by_eval_label_task_tokens_row_and_page_through(ds):
    frame = stored(ds)
    expected = frame.sort_values(["label", "eval_id", "base_task", "completion_tokens", "row"],
                                 na_position="last", kind="stable")["row"].tolist()
    assert ds.completions(limit=len(frame))["row"].tolist() == expected
    pages = [ds.completions(limit=7, offset=o)["row"].tolist() for o in range(0, len(frame), 7)]
    assert sum(pages, []) == expected
    assert ds.completions(limit=7, offset=len(frame)).empty
    assert ds.completions(limit=0).attrs["total"] == len(frame)


@pytest.mark.parametrize("outcomes, tokens", [(None, None), (["truncated"], None), (None, (256, 1024)),
                                             (["correct", "invalid"], (0, 512)), (["incorrect"], (2999, 3000))])
def test_outcomes_and_the_token_range_select_like_pandas(ds, outcomes, tokens):
    frame = stored(ds)
    keep = frame["base_task"] == "choice"
    if outcomes:
        keep &= frame["outcome"].isin(outcomes)
    if tokens:  # [min, max): a hazard bin maps directly
        keep &= (frame["completion_tokens"] >= tokens[0]) & (frame["completion_tokens"] < tokens[1])
    want = set(frame.loc[keep.fillna(False), "row"])
    got = ds.completions({"base_task": "choice"}, outcomes=outcomes, tokens=tokens, limit=10_000)
    assert set(got["row"]) == want and got.attrs["total"] == len(want)
    assert ds.count_completions({"base_task": "choice"}, outcomes=outcomes, tokens=tokens) == len(want)


def test_the_token_range_includes_its_minimum_and_excludes_its_maximum(ds):
    frame = stored(ds)
    assert ds.count_completions(tokens=(0, 1 << 31)) == frame["completion_tokens"].notna().sum()  # widest range
    assert ds.count_completions(outcomes=[]) == ds.count_completions() == len(frame)  # no outcome named: all
    t = int(frame["completion_tokens"].dropna().iloc[10])
    at_t = set(frame.loc[frame["completion_tokens"] == t, "row"])
    assert set(ds.completions(tokens=(t, t + 1), limit=100)["row"]) == at_t
    assert not at_t & set(ds.completions(tokens=(t - 1, t), limit=10_000)["row"])


def test_rows_and_filters_and_together(ds):
    frame = stored(ds)
    arith = frame.loc[frame["base_task"] == "arith", "row"].tolist()[:3]
    choice = frame.loc[frame["base_task"] == "choice", "row"].tolist()[:2]
    got = ds.completions({"base_task": "arith"}, rows=arith + choice)
    assert sorted(got["row"]) == sorted(arith)


@pytest.mark.parametrize("kwargs, message", [
    ({"outcomes": ["timeout"]}, "unknown outcome timeout; outcomes: correct, incorrect, invalid, truncated"),
    ({"tokens": (5, 5)}, r"MIN must be below MAX \(got 5 ≥ 5\)"),
    ({"tokens": (-1, 5)}, r"MIN must be ≥ 0 \(got -1\)"),
    ({"tokens": (0, 1.5)}, "two whole numbers"),
    ({"tokens": (0, 1 << 40)}, "MAX must be at most"),
    ({"rows": [-1]}, "unknown row -1; this dataset has rows 0 to"),
    ({"rows": [10**9]}, "unknown row 1000000000"),
    ({"limit": -1}, "limit must be a whole number from 0 to 10,000"),
    ({"limit": 10_001}, "page with offset"),
    ({"offset": -3}, "offset must be a whole number"),
    ({"filters": {"eval_id": "zzzzzz"}}, "unknown eval id zzzzzz"),
])
def test_bad_probe_arguments_say_what_is_valid(ds, kwargs, message):
    filters = kwargs.pop("filters", None)
    with pytest.raises(InputError, match=message):
        ds.completions(filters, **kwargs)


# -------------------------------------------------------------------------------------- repetition
BLOCK = "Wait, I need to recount the pairs again. "  # 41 characters; its last is a space


def test_a_loop_reports_its_block_length_and_the_share_it_covers():
    prefix = "Let me work through the grid. Row one has 3, row two has 5, so the total is 8.\n"
    text = prefix + BLOCK * 60
    signal = repetition(text)
    assert signal.loop_period == len(BLOCK)  # the block, not a multiple of it
    assert signal.loop_share == pytest.approx(len(BLOCK) * 60 / len(text))  # prefix ends in "\n", not " "
    assert signal.compression_ratio == compressed_size(text) / len(text.encode("utf-8"))
    assert signal.compression_ratio < 0.1


def test_a_loop_longer_than_the_search_window_is_followed_through_the_whole_text():
    text = "Intro.\n" + BLOCK * (3 * LOOP_WINDOW // len(BLOCK))
    assert len(text) > 2 * LOOP_WINDOW
    assert repeated_tail(text) == (len(BLOCK), len(text) - len("Intro.\n"))


def test_long_reasoning_that_never_repeats_has_no_loop():
    steps = "".join(f"Step {i}: add {i * 7 % 23} to get {i * (i + 1) // 2 + i * 7 % 23}; check parity {i % 2}.\n"
                    for i in range(1, 200))
    signal = repetition(steps)
    assert signal.loop_period is None and signal.loop_share is None
    assert signal.compression_ratio > 0.15
    # ... while a loop whose counter changes is not an exact repeat: only the compression ratio shows it
    counting = "".join(f"Let me recount: item {i} of the list is still unchecked.\n" for i in range(400))
    assert repetition(counting).loop_period is None and repetition(counting).compression_ratio < 0.1


def test_a_tail_counts_as_a_loop_from_four_copies_covering_a_tenth_of_the_text():
    prose = "".join(f"Sentence {i} says something new about the puzzle. " for i in range(40))

    def ending_in(copies: int, share: float) -> str:
        loop = BLOCK * copies
        return prose[:round(len(loop) / share) - len(loop) - 1] + "\n" + loop

    assert repetition(ending_in(3, 0.5)).loop_period is None  # three copies: not yet a loop
    assert repetition(ending_in(4, 0.0995)).loop_period is None  # four copies, under a tenth of the text
    exactly = repetition(ending_in(4, 0.1))
    assert exactly.loop_period == len(BLOCK) and exactly.loop_share == pytest.approx(0.1)
    short_tail = prose + "!!!!!!"  # repeats, but covers far less than a tenth
    assert repetition(short_tail).loop_period is None
    assert repetition("ha " * 20).loop_period == 3 and repetition("ha " * 20).loop_share == 1.0
    assert repetition(None) == repetition("") == probe_module.Repetition()


def test_the_signal_comes_with_each_completion(capsys, tmp_path):
    looped = "Reasoning about the maze.\n" + BLOCK * 50
    records = [{"model": "m", "base_task": "t", "params": {"i": 0}, "outcome": "truncated", "completion_tokens": 900,
                "text": looped}]
    import_jsonl(capsys, tmp_path / "in.jsonl", records, tmp_path / "ds")
    row = Dataset.open(tmp_path / "ds").completions().iloc[0]
    assert row["loop_period"] == len(BLOCK) and row["loop_share"] == pytest.approx(50 * len(BLOCK) / len(looped))


def reference_tail(text: str) -> tuple[int | None, int]:
    """The rule of ``app.engine.probe``'s docstring, straight from the definition (slow; short texts only)."""
    n = len(text)
    tails = {}
    for p in range(1, n // 4 + 1):
        length = p
        while length < n and text[n - 1 - length] == text[n - 1 - length + p]:
            length += 1
        if length >= 4 * p:  # at least LOOP_MIN_REPEATS whole copies
            tails[p] = length
    if not tails:
        return None, 0
    longest = max(tails.values())
    period = min(p for p, length in tails.items() if length >= longest - p)
    return period, tails[period]


@pytest.mark.parametrize("alphabet", ["ab", "abc", "a b", "ab\n", "xyzw", "é🧪a"])
def test_the_fast_repeated_tail_agrees_with_the_definition(alphabet):
    rng = np.random.default_rng(len(alphabet))
    for _ in range(150):
        n = int(rng.integers(0, 300))
        body = "".join(rng.choice(list(alphabet), size=n))
        block = "".join(rng.choice(list(alphabet), size=int(rng.integers(1, 30))))
        for text in (body, body + block * int(rng.integers(1, 12)), block * int(rng.integers(1, 40)) + body[:3]):
            assert repeated_tail(text) == reference_tail(text), text
