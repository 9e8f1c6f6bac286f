"""``analyze.py probe``: the completions behind a selection, as a table, JSON or JSON lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from app.cli.probe import head_tail, one_line
from app.engine.schema import compressed_size

LOOP = "Reasoning.\n" + "Wait, I need to recount the pairs again. " * 30
RECORDS = [
    {"model": "m1", "base_task": "maze", "params": {"size": 5}, "outcome": "correct", "completion_tokens": 120,
     "text": "The path is <b>RRD</b>.\n\n**Answer:** 7"},
    {"model": "m1", "base_task": "maze", "params": {"size": 9}, "outcome": "truncated", "completion_tokens": 4096,
     "text": LOOP},
    {"model": "m1", "base_task": "maze", "params": {"size": 9}, "outcome": "incorrect", "completion_tokens": 900,
     "text": "evil \u202e\x1b[2J<script>alert(1)</script>\r\nend"},
    {"model": "m2", "base_task": "sum", "params": {"n": 3}, "outcome": "invalid", "completion_tokens": 40,
     "text": "é" * 500},
]


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def imported(capsys, folder: Path, records: list[dict]) -> Path:
    folder.mkdir()
    src = folder / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    assert run(capsys, "import", src, "--adapter", "samples", "--out", folder / "ds")[0] == 0
    return folder / "ds"


@pytest.fixture()
def dataset(capsys, tmp_path) -> Path:
    return imported(capsys, tmp_path / "with", RECORDS)


def test_jsonl_writes_one_object_per_completion_with_the_exact_text(capsys, dataset):
    code, out, err = run(capsys, "probe", dataset, "--format", "jsonl")
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == len(RECORDS)
    objects = [json.loads(line) for line in lines]
    assert set(objects[0]) == {"row", "eval_id", "label", "base_task", "params", "outcome", "completion_tokens",
                               "compressed_bytes", "text", "compression_ratio", "loop_period", "loop_share"}
    by_text = {o["text"]: o for o in objects}
    for record in RECORDS:
        o = by_text[record["text"]]  # every text back exactly
        assert (o["base_task"], o["params"], o["outcome"]) == (record["base_task"], record["params"], record["outcome"])
        assert o["completion_tokens"] == record["completion_tokens"]
        assert o["compressed_bytes"] == compressed_size(record["text"])
        assert o["compression_ratio"] == compressed_size(record["text"]) / len(record["text"].encode("utf-8"))
    assert by_text[LOOP]["loop_period"] == 41 and by_text[LOOP]["loop_share"] == pytest.approx(30 * 41 / len(LOOP))
    assert by_text[RECORDS[0]["text"]]["loop_period"] is None
    assert err.strip() == "completions 1–4 of 4"


def test_filters_outcomes_tokens_and_limit_select_and_page(capsys, dataset):
    code, out, err = run(capsys, "probe", dataset, "--filters", '{"base_task": ["maze"]}',
                         "--outcome", "truncated", "incorrect", "--tokens", "900", "4097", "--format", "jsonl")
    assert code == 0, err
    assert sorted(json.loads(line)["completion_tokens"] for line in out.splitlines()) == [900, 4096]
    code, out, err = run(capsys, "probe", dataset, "--format", "jsonl", "--limit", "1", "--offset", "1")
    assert code == 0 and len(out.splitlines()) == 1
    assert err.strip() == "completions 2–2 of 4 (--offset 2 for more)"
    row = json.loads(out)["row"]
    code, out, _ = run(capsys, "probe", dataset, "--row", row, "--format", "jsonl")
    assert [json.loads(line)["row"] for line in out.splitlines()] == [row]


def test_json_holds_the_query_the_total_and_the_completions(capsys, dataset):
    code, out, err = run(capsys, "probe", dataset, "--format", "json", "--outcome", "truncated", "--limit", "5")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["total"] == 1 and doc["has_text"] is True
    assert doc["query"] == {"filters": None, "outcomes": ["truncated"], "tokens": None, "rows": None, "limit": 5,
                            "offset": 0}
    assert [c["text"] for c in doc["completions"]] == [LOOP]


def test_the_table_shows_one_escaped_line_per_completion_with_head_and_tail(capsys, dataset):
    code, out, err = run(capsys, "probe", dataset)
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 1 + len(RECORDS) and lines[0].split() == ["row", "eval", "task", "outcome", "tokens",
                                                                    "bytes", "ratio", "loop", "params", "text"]
    hostile = next(line for line in lines if "evil" in line)
    assert "\\u202e\\x1b[2J<script>alert(1)</script>\\r\\nend" in hostile  # nothing a terminal would act on
    looped = next(line for line in lines if "truncated" in line)
    assert "  41ch 99%  " in looped  # period 41 characters, covering 99% of the text
    assert f"…[{len(LOOP) - 96:,} chars]…" in looped and looped.endswith("the pairs again.")


def test_output_dir_writes_the_listing_and_prints_its_path(capsys, dataset, tmp_path):
    code, out, err = run(capsys, "probe", dataset, "--format", "jsonl", "--output-dir", tmp_path / "out")
    assert code == 0, err
    path = tmp_path / "out" / "probe.jsonl"
    assert out.splitlines() == [str(path)]
    written = [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()]
    assert sorted(written) == sorted(r["text"] for r in RECORDS)


def test_a_dataset_without_text_lists_its_rows_and_says_so(capsys, tmp_path):
    bare = imported(capsys, tmp_path / "bare", [{k: v for k, v in r.items() if k != "text"} for r in RECORDS])
    code, out, err = run(capsys, "probe", bare, "--format", "jsonl")
    assert code == 0, err
    assert [json.loads(line)["text"] for line in out.splitlines()] == [None] * len(RECORDS)
    assert "this dataset holds no completion text" in err


@pytest.mark.parametrize("argv, message", [
    (["--outcome", "timeout"], "invalid choice: 'timeout' (choose from 'correct', 'incorrect', 'invalid', "
                               "'truncated')"),
    (["--tokens", "10", "10"], "tokens: MIN must be below MAX (got 10 ≥ 10)"),
    (["--tokens", "-5", "10"], "tokens: MIN must be ≥ 0 (got -5)"),
    (["--tokens", "ten", "20"], "argument --tokens: invalid int value: 'ten'"),
    (["--limit", "-1"], "limit must be a whole number from 0 to 10,000"),
    (["--filters", '{"base_task": ["nope"]}'], "unknown task nope"),
    (["--row", "99"], "unknown row 99; this dataset has rows 0 to 3"),
    (["--outcome", "correct", "--tokens", "5000", "6000"],
     "no completion matches: the dataset holds 4 completion(s), none with outcome correct and tokens in "
     "[5000, 6000)"),
    (["--offset", "10"], "--offset 10 is past the last of the 4 matching completions"),
])
def test_bad_input_exits_2_with_one_line(capsys, dataset, argv, message):
    try:
        code = main(["probe", str(dataset), *argv])
    except SystemExit as exit:  # argparse's own checks (choices, int) exit from the parser
        code = exit.code
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err, err


def test_one_line_escapes_what_could_break_or_reorder_a_line():
    assert one_line("a\nb\tc\\d\u202ee\u200bf\x00g🧪h東") == "a\\nb\\tc\\\\d\\u202ee\\u200bf\\x00g🧪h東"
    assert head_tail("x" * 200) == "x" * 48 + " …[104 chars]… " + "x" * 48
    assert head_tail("short\ntext") == "short\\ntext"
