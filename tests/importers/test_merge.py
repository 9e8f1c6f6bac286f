"""Importing into an existing dataset: new evals are added, a point imported again is replaced."""

from __future__ import annotations

import re

from tests.importers.conftest import load, run_import, write_jsonl


def records(model: str, outcome: str, n: int = 3) -> list[dict]:
    return [{"model": model, "base_task": "t", "params": {"size": size}, "outcome": outcome, "completion_tokens": 5}
            for size in (1, 2) for _ in range(n)]


def test_second_source_adds_evals_and_reimport_replaces_points(capsys, tmp_path):
    out = tmp_path / "ds"
    a = write_jsonl(tmp_path / "a.jsonl", records("model-a", "correct"))
    b = write_jsonl(tmp_path / "b.jsonl", records("model-b", "incorrect"))
    assert run_import(capsys, a, "--adapter", "samples", "--out", out, "--name", "merged")[0] == 0

    code, stdout, _ = run_import(capsys, b, "--adapter", "samples", "--out", out)
    assert code == 0 and "points replaced: 0; the dataset now holds 12 sample(s)" in stdout
    meta, samples = load(out)
    assert sorted(e["model"] for e in meta["evals"]) == ["model-a", "model-b"] and len(samples) == 12
    assert meta["name"] == "merged"  # kept: the second import gave no --name

    a_again = write_jsonl(tmp_path / "a2.jsonl", records("model-a", "invalid"))
    code, stdout, _ = run_import(capsys, a_again, "--adapter", "samples", "--out", out)
    assert code == 0 and "points replaced: 2; the dataset now holds 12 sample(s)" in stdout
    meta, samples = load(out)
    assert len(samples) == 12
    assert samples.groupby("outcome").size().to_dict() == {"incorrect": 6, "invalid": 6}
    assert [i["adapter"] for i in meta["provenance"]["imports"]] == ["samples"] * 3


def test_reasoning_gym_levels_merge_into_one_eval(capsys, tmp_path, rg_demo):
    out = tmp_path / "ds"
    easy, hard = (rg_demo / level / "openai_o3-mini_20250315_181742" if level == "easy"
                  else rg_demo / level / "openai_o3-mini_20250414_163909" for level in ("easy", "hard"))
    code, stdout, _ = run_import(capsys, easy, "--adapter", "reasoning-gym-eval", "--out", out)
    # a point is (eval, task, params): one per level and, with reasoning-gym, per realised difficulty value
    easy_points = int(re.search(r"12 task\(s\), (\d+) point\(s\), 1800 sample\(s\)", stdout)[1])
    code, stdout, _ = run_import(capsys, hard, "--adapter", "reasoning-gym-eval", "--out", out)
    assert code == 0 and re.search(r"1 eval\(s\), 12 task\(s\), \d+ point\(s\), 600 sample\(s\)", stdout)
    meta, samples = load(out)
    assert len(meta["evals"]) == 1 and len(samples) == 12 * 150 + 12 * 50

    code, stdout, _ = run_import(capsys, easy, "--adapter", "reasoning-gym-eval", "--out", out)
    assert code == 0 and f"points replaced: {easy_points}; the dataset now holds 2400 sample(s)" in stdout


def test_babilong_merges_beside_other_data(capsys, tmp_path, shared_data):
    out = tmp_path / "ds"
    assert run_import(capsys, write_jsonl(tmp_path / "a.jsonl", records("model-a", "correct")),
                      "--adapter", "samples", "--out", out)[0] == 0
    phi = shared_data / "babilong" / "babilong_evals" / "microsoft"
    assert run_import(capsys, phi, "--adapter", "babilong", "--out", out)[0] == 0
    meta, samples = load(out)
    assert {t["base_task"] for t in meta["tasks"]} == {"t", "qa1", "qa2", "qa3", "qa4", "qa5"}
    assert meta["provenance"]["tokens"] == "estimated"  # one estimated import makes the whole dataset so
    assert any(v["name"] == "task x context length" for v in meta["views"])


def test_text_survives_a_merge_with_a_source_without_text(capsys, tmp_path):
    out = tmp_path / "ds"
    with_text = [{**r, "text": "some answer"} for r in records("model-a", "correct")]
    source = write_jsonl(tmp_path / "a.jsonl", with_text)
    assert run_import(capsys, source, "--adapter", "samples", "--out", out)[0] == 0
    assert run_import(capsys, write_jsonl(tmp_path / "b.jsonl", records("model-b", "correct")),
                      "--adapter", "samples", "--out", out)[0] == 0
    _, samples = load(out)
    assert samples.groupby(samples["text"].isna()).size().to_dict() == {False: 6, True: 6}
