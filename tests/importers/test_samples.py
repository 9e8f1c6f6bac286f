"""``import --adapter samples``: the generic JSONL / CSV format of spec §10, value for value."""

from __future__ import annotations

import csv
import gzip
import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from app.engine.schema import eval_id
from tests.importers.conftest import load, run_import, write_jsonl

RECORDS = [
    {"model": "acme/m1", "template": "cot", "sampler": "t0.7", "base_task": "arithmetic",
     "params": {"length": 8, "depth": 2}, "outcome": "correct", "completion_tokens": 812,
     "text": "Let me add 3 and 4. The answer is 7.", "manifold": {"id": "m3", "target_tokens": 1024},
     "groups": ["arch:dense", "size:small"], "label": "M1 (cot)", "max_tokens": 8192, "sample": 0},
    {"model": "acme/m1", "template": "cot", "sampler": "t0.7", "base_task": "arithmetic",
     "params": {"depth": 2, "length": 8}, "outcome": "truncated", "completion_tokens": 8192,
     "compressed_bytes": 1500, "guess_rate": 0.25, "sample": 1},
    {"model": "acme/m2", "base_task": "arithmetic", "params": {}, "outcome": "invalid", "sample": 2},
    {"model": "acme/m2", "base_task": "letters", "params": {"word": "straße", "whitespace": True},
     "outcome": "incorrect", "completion_tokens": 0, "text": "no idea", "sample": 3},
]


def write_csv(path: Path, records: list[dict]) -> Path:
    """The same records as CSV: objects and lists become JSON strings, missing fields empty cells."""
    fields = sorted({k for r in records for k in r})
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for r in records:
            writer.writerow({k: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v
                             for k, v in r.items()})
    return path


def imported(capsys, tmp_path: Path, source: Path) -> tuple[dict, pd.DataFrame]:
    code, out, err = run_import(capsys, source, "--adapter", "samples", "--out", tmp_path / "ds")
    assert code == 0, err
    meta, samples = load(tmp_path / "ds")
    if "sample" in samples:  # the store orders rows its own way; the records' order is "sample"
        samples = samples.sort_values("sample").reset_index(drop=True)
    return meta, samples


def test_jsonl_round_trip(capsys, tmp_path):
    meta, s = imported(capsys, tmp_path, write_jsonl(tmp_path / "in.jsonl", RECORDS))
    m1, m2 = eval_id("acme/m1", "cot", "t0.7"), eval_id("acme/m2", "default", "default")
    assert s["eval_id"].tolist() == [m1, m1, m2, m2]
    assert s["params"].tolist() == ['{"depth":2,"length":8}', '{"depth":2,"length":8}', "{}",
                                    '{"whitespace":true,"word":"straße"}']
    assert s["manifold"][0] == '{"id":"m3","target_tokens":1024}' and pd.isna(s["manifold"][1])
    assert s["outcome"].tolist() == ["correct", "truncated", "invalid", "incorrect"]
    assert s["completion_tokens"].tolist()[:2] == [812, 8192] and pd.isna(s["completion_tokens"][2])
    # compressed_bytes: gzip level 9, mtime 0 of the text; given as is when there is no text
    text = RECORDS[0]["text"].encode("utf-8")
    assert s["compressed_bytes"][0] == len(gzip.compress(text, compresslevel=9, mtime=0))
    assert s["compressed_bytes"][1] == 1500 and pd.isna(s["compressed_bytes"][2])
    assert s["compressed_bytes"][3] == len(gzip.compress(b"no idea", compresslevel=9, mtime=0))
    assert s["text"][0] == RECORDS[0]["text"] and s["text"][3] == "no idea" and pd.isna(s["text"][1])
    # the task's guess rate (0.25, given once) fills the records that give none; other tasks: 0
    assert s["guess_rate"].tolist() == [0.25, 0.25, 0.25, 0.0]
    evals = {e["eval_id"]: e for e in meta["evals"]}
    assert evals[m1]["label"] == "M1 (cot)" and evals[m1]["groups"] == ["arch:dense", "size:small"]
    assert evals[m1]["max_tokens"] == 8192 and "max_tokens" not in evals[m2]
    assert (evals[m2]["template"], evals[m2]["sampler"]) == ("default", "default")
    assert meta["provenance"]["tokens"] == "exact"


def test_csv_gives_the_same_dataset(capsys, tmp_path):
    _, from_jsonl = imported(capsys, tmp_path / "a", write_jsonl(tmp_path / "in.jsonl", RECORDS))
    meta, from_csv = imported(capsys, tmp_path / "b", write_csv(tmp_path / "in.csv", RECORDS))
    pd.testing.assert_frame_equal(from_jsonl, from_csv)
    assert {e["label"] for e in meta["evals"]} >= {"M1 (cot)"}


def test_views_are_proposed_for_varying_params(capsys, tmp_path):
    records = [{"model": "m", "base_task": "t", "params": {"a": a, "b": b}, "outcome": "correct"}
               for a in (1, 2) for b in (3, 4)]
    meta, _ = imported(capsys, tmp_path, write_jsonl(tmp_path / "in.jsonl", records))
    assert [v["group_by"] for v in meta["views"]] == [["params.a", "params.b"]]


def test_guess_rate_defaults_to_the_existing_task(capsys, tmp_path):
    write_jsonl(tmp_path / "first.jsonl", [{"model": "m", "base_task": "mc", "params": {}, "outcome": "correct",
                                            "guess_rate": 0.25}])
    assert run_import(capsys, tmp_path / "first.jsonl", "--adapter", "samples", "--out", tmp_path / "ds")[0] == 0
    write_jsonl(tmp_path / "second.jsonl", [{"model": "n", "base_task": "mc", "params": {}, "outcome": "correct"}])
    assert run_import(capsys, tmp_path / "second.jsonl", "--adapter", "samples", "--out", tmp_path / "ds")[0] == 0
    _, samples = load(tmp_path / "ds")
    assert samples["guess_rate"].tolist() == [0.25, 0.25]


def test_folder_source_reads_every_file(capsys, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    write_jsonl(src / "a.jsonl", RECORDS[:2])
    write_csv(src / "b.csv", RECORDS[2:])
    code, out, _ = run_import(capsys, src, "--adapter", "samples", "--out", tmp_path / "ds", "--name", "mine")
    assert code == 0 and "from 2 file(s): 2 eval(s), 2 task(s), 3 point(s), 4 sample(s)" in out
    assert load(tmp_path / "ds")[0]["name"] == "mine"


def test_progress_is_shown_on_stderr_for_long_imports(capsys, tmp_path):
    """Imports report progress once they run longer than ``progress_after`` seconds (here: at once)."""
    from app.importers.runner import import_sources

    for name in ("a", "b"):
        write_jsonl(tmp_path / f"{name}.jsonl", RECORDS)
    import_sources([tmp_path / "a.jsonl", tmp_path / "b.jsonl"], "samples", tmp_path / "ds", progress_after=0)
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("samples: 1/2 files read") and err[-1].startswith("samples: 2/2 files read")


# An OpenAI Batch API output line (vLLM's run_batch writes the same shape), as the README converts it.
BATCH_LINE = {"id": "batch_req_1", "custom_id": "gcd-7", "error": None, "response": {
    "status_code": 200, "request_id": "req_1", "body": {
        "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "gcd(84, 36): 84 = 2*36 + 12, 36 = 3*12"},
                     "logprobs": None, "finish_reason": "length"}],
        "usage": {"prompt_tokens": 31, "completion_tokens": 16, "total_tokens": 47}}}}
GRADE = {"custom_id": "gcd-7", "base_task": "gcd", "params": {"digits": 2}, "outcome": "incorrect"}
# The README's conversion, verbatim: one samples record per batch output line, graded by custom_id.
JQ_CONVERSION = r"""jq -c -n --slurpfile g grades.jsonl '($g | map({(.custom_id): del(.custom_id)}) | add) as $grade
  | inputs | .response.body as $b | $grade[.custom_id] + {model: $b.model, text: $b.choices[0].message.content,
    completion_tokens: $b.usage.completion_tokens, finish_reason: $b.choices[0].finish_reason}' batch_output.jsonl"""


def test_finish_reason_length_is_truncated_whatever_the_outcome_says(capsys, tmp_path):
    base = {"model": "m", "base_task": "t", "params": {}}
    records = [{**base, "outcome": "correct", "finish_reason": "length", "sample": 0},
               {**base, "outcome": "incorrect", "finish_reason": "length", "sample": 1},
               {**base, "outcome": "truncated", "finish_reason": "length", "sample": 2},
               {**base, "outcome": "correct", "finish_reason": "stop", "sample": 3},
               {**base, "outcome": "invalid", "finish_reason": "content_filter", "sample": 4},
               {**base, "outcome": "incorrect", "finish_reason": None, "sample": 5}]
    source = write_jsonl(tmp_path / "in.jsonl", records)
    code, out, _ = run_import(capsys, source, "--adapter", "samples", "--out", tmp_path / "ds")
    assert code == 0
    # 'finish_reason' is a known field: no "unknown field" note; the override is counted instead
    assert "unknown field" not in out
    assert "finish_reason 'length' (the token budget ran out) made 2 record(s) truncated that said correct (1), " \
           "incorrect (1)" in out
    _, samples = load(tmp_path / "ds")
    got = samples.sort_values("sample")["outcome"].tolist()
    assert got == ["truncated", "truncated", "truncated", "correct", "invalid", "incorrect"]


def test_finish_reason_in_csv_and_a_bad_one(capsys, tmp_path):
    rows = [{"model": "m", "base_task": "t", "params": "{}", "outcome": "correct", "finish_reason": "length"}]
    meta, samples = imported(capsys, tmp_path, write_csv(tmp_path / "in.csv", rows))
    assert samples["outcome"].tolist() == ["truncated"]
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"model": "m", "base_task": "t", "params": {}, "outcome": "correct",
                                                "finish_reason": 3}])
    code, out, err = run_import(capsys, bad, "--adapter", "samples", "--out", tmp_path / "other")
    assert code == 2 and out == "" and not (tmp_path / "other").exists()
    assert err.strip() == f"error: {bad}:1: 'finish_reason' must be a string such as \"stop\" or \"length\", got 3"


def test_readme_conversion_of_an_openai_batch_output(capsys, tmp_path):
    if shutil.which("jq") is None:
        pytest.skip("jq is not installed (apt-get install jq)")
    write_jsonl(tmp_path / "batch_output.jsonl", [BATCH_LINE])
    write_jsonl(tmp_path / "grades.jsonl", [GRADE])
    done = subprocess.run(JQ_CONVERSION, shell=True, cwd=tmp_path, capture_output=True, text=True, check=True)
    (tmp_path / "results.jsonl").write_text(done.stdout)
    meta, samples = imported(capsys, tmp_path, tmp_path / "results.jsonl")
    assert [e["model"] for e in meta["evals"]] == ["gpt-4o-mini-2024-07-18"]
    row = samples.iloc[0]
    assert (row["base_task"], row["params"], row["outcome"], row["completion_tokens"]) == \
        ("gcd", '{"digits":2}', "truncated", 16)  # graded incorrect, but the budget ran out
