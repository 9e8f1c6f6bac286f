"""``import --adapter reasoning-gym-eval``: real runs in, the counts the source itself implies out.

The demo is imported once per session (``rg_demo_import`` in tests/conftest.py); with reasoning-gym
installed that rebuilds every task file (about 25 s with a cold ``.cache/reasoning-gym``), so the
tests that use it are marked slow. Axes, bins, views and the rebuild cache are in
test_reasoning_gym_axes.py.
"""

from __future__ import annotations

import json
import math
import shutil

import pandas as pd
import pytest

from app.engine.schema import eval_id
from app.importers.reasoning_gym_eval import config_level, model_from_dir, sampler_for, template_for
from tests.importers.conftest import load, make_rg_run, run_import

DEEPSEEK_EASY = "easy/deepseek_deepseek-r1_20250315_181530"
DEEPSEEK_HARD = "hard/deepseek_deepseek-r1_20250408_155914"


@pytest.fixture
def demo(rg_demo_import):
    """The whole demo folder, imported once per session: (dataset.json, samples)."""
    return load(rg_demo_import.written.path.parent)


def counts(samples: pd.DataFrame) -> pd.DataFrame:
    """Outcome counts per (eval_id, level, task)."""
    level = samples["params"].map(lambda p: json.loads(p)["level"])
    table = samples.groupby([samples["eval_id"], level.rename("level"), samples["base_task"].rename("task")])
    return table["outcome"].value_counts().unstack(fill_value=0)


@pytest.mark.slow
def test_reproduces_expected_counts(demo, rg_demo):
    meta, samples = demo
    expected = pd.read_csv(rg_demo / "expected_counts.csv")
    # eval identity comes from the run directory name: "<provider>_<model>_<date>_<time>"
    expected["eval_id"] = [eval_id(model_from_dir(d)[0], "default", "t0.6-p0.95") for d in expected["eval_dir"]]
    got = counts(samples).reindex(columns=["correct", "incorrect", "invalid", "truncated"], fill_value=0)
    got = got.loc[list(zip(expected["eval_id"], expected["level"], expected["task"]))]
    assert len(got) == len(expected) == 120
    assert got["correct"].tolist() == expected["correct"].tolist()
    assert got["incorrect"].tolist() == expected["incorrect"].tolist()  # partial credit (a subset) included
    assert (got["invalid"] + got["truncated"]).tolist() == expected["invalid"].tolist()
    assert got["truncated"].tolist() == expected["empty_response"].tolist()
    assert len(samples) == expected["completions"].sum() == 12_000


@pytest.mark.slow
def test_one_eval_per_model_with_a_level_param(demo):
    meta, samples = demo
    models = sorted(e["model"] for e in meta["evals"])
    assert models == ["deepseek/deepseek-r1", "google/gemma-3-27b-it", "meta-llama/llama-3.3-70b-instruct",
                      "mistralai/mistral-small-3.1-24b-instruct", "openai/o3-mini"]
    for ev in meta["evals"]:
        assert (ev["template"], ev["sampler"], ev["max_tokens"]) == ("default", "t0.6-p0.95", 32768)
        assert ev["eval_id"] == eval_id(ev["model"], "default", "t0.6-p0.95")
    levels = samples["params"].map(lambda p: json.loads(p)["level"])  # every sample keeps its run's level
    assert levels.value_counts().to_dict() == {"easy": 5 * 12 * 150, "hard": 5 * 12 * 50}
    assert {t["base_task"] for t in meta["tasks"]} == set(samples["base_task"])
    assert all(t["guess_rate"] == 0 and t["params"][0] == "level" for t in meta["tasks"])


@pytest.mark.slow
def test_the_summary_counts_every_file(rg_demo_import, rg_demo):
    """130 files imported (120 task files, 10 run summaries); the two others are named with why."""
    lines = rg_demo_import.lines()
    assert "files: 132 found, 130 imported, 2 skipped" in lines
    assert f"  - {rg_demo / 'MANIFEST.json'}: not inside a run folder (no summary.json above it, and no folder " \
           f"named <provider>_<model>_<YYYYMMDD>_<HHMMSS>)" in lines
    assert f"  - {rg_demo / 'expected_counts.csv'}: not a .json file, the kind adapter reasoning-gym-eval " \
           f"reads" in lines
    assert "records rejected: 0" in lines  # and never "(every record was imported)" while a file was skipped


@pytest.mark.slow
def test_manifold_tokens_text_and_provenance(demo):
    meta, samples = demo
    hard = samples["params"].map(lambda p: json.loads(p)["level"] == "hard")
    hard_maze = samples[(samples["base_task"] == "maze") & hard]
    manifold = json.loads(hard_maze["manifold"].iloc[0])
    assert manifold["id"] == "hard" and manifold["max_grid_size"] == 50 and manifold["seed"] == 45
    answered = samples[samples["outcome"] != "truncated"]
    estimate = answered["text"].map(lambda t: math.ceil(len(t.encode("utf-8")) / 4))
    assert (answered["completion_tokens"] == estimate).all()
    assert samples.loc[samples["outcome"] == "truncated", "completion_tokens"].isna().all()
    assert meta["provenance"]["tokens"] == "estimated"
    assert "truncat" in meta["provenance"]["imports"][0]["outcomes"]


def test_flags(capsys, tmp_path, copy_run):
    """(a) a wrong model in summary.json changes nothing: the directory name decides."""
    run = copy_run(DEEPSEEK_EASY)
    summary = json.loads((run / "summary.json").read_text())
    summary["model"] = "somebody/else"
    (run / "summary.json").write_text(json.dumps(summary))
    code, out, _ = run_import(capsys, run, "--adapter", "reasoning-gym-eval", "--out", tmp_path / "ds")
    assert code == 0 and "somebody/else" in out  # the summary says so
    meta, samples = load(tmp_path / "ds")
    assert [e["model"] for e in meta["evals"]] == ["deepseek/deepseek-r1"]
    assert len(samples) == 12 * 150
    assert set(samples["params"].map(lambda p: json.loads(p)["level"])) == {"easy"}


def test_missing_model_and_missing_task_files(capsys, tmp_path, copy_run):
    """(b) a partial run: summary without model, two task files gone."""
    run = copy_run(DEEPSEEK_HARD)
    summary = json.loads((run / "summary.json").read_text())
    del summary["model"]
    summary["partial"] = True
    (run / "summary.json").write_text(json.dumps(summary))
    (run / "games" / "maze.json").unlink()
    shutil.rmtree(run / "graphs")
    code, out, _ = run_import(capsys, tmp_path / "src", "--adapter", "reasoning-gym-eval", "--out", tmp_path / "ds")
    assert code == 0 and "partial" in out
    meta, samples = load(tmp_path / "ds")
    assert [e["model"] for e in meta["evals"]] == ["deepseek/deepseek-r1"]
    assert samples["base_task"].nunique() == 10 and len(samples) == 10 * 50
    assert {"maze", "family_relationships"}.isdisjoint(samples["base_task"])


def test_one_and_three_completions_per_prompt(capsys, tmp_path, copy_run):
    """(c) easy has 3 completions per prompt, hard 1: one eval, 150 and 50 samples per task."""
    copy_run(DEEPSEEK_EASY)
    copy_run(DEEPSEEK_HARD)
    code, _, _ = run_import(capsys, tmp_path / "src", "--adapter", "reasoning-gym-eval", "--out", tmp_path / "ds")
    assert code == 0
    meta, samples = load(tmp_path / "ds")
    assert len(meta["evals"]) == 1
    level = samples["params"].map(lambda p: json.loads(p)["level"])
    per_level = samples.groupby(level).size() / samples["base_task"].nunique()
    assert per_level.to_dict() == {"easy": 150, "hard": 50}
    assert samples.groupby(["base_task", level])["sample"].max().isin([49, 149]).all()


def test_unseen_task_and_unseen_model(capsys, tmp_path, copy_run):
    """(d) a task name and a model never seen before import like any other."""
    run = copy_run(DEEPSEEK_HARD, level="medium", name="newlab_brand-new_model_20990101_000000")
    doc = json.loads((run / "games" / "maze.json").read_text())
    doc["name"] = "labyrinth_plus"
    (run / "puzzles").mkdir()
    (run / "puzzles" / "labyrinth_plus.json").write_text(json.dumps(doc))
    code, out, _ = run_import(capsys, run, "--adapter", "reasoning-gym-eval", "--out", tmp_path / "ds")
    assert code == 0
    meta, samples = load(tmp_path / "ds")
    assert [e["model"] for e in meta["evals"]] == ["newlab/brand-new_model"]
    new = samples[samples["base_task"] == "labyrinth_plus"].sort_values("sample")
    old = samples[samples["base_task"] == "maze"].sort_values("sample")
    assert len(new) == 50 and new["outcome"].tolist() == old["outcome"].tolist()
    assert set(new["params"]) == {'{"level":"medium"}'}  # reasoning-gym has no such task: nothing to rebuild
    assert "labyrinth_plus.json: not rebuilt: reasoning-gym could not rebuild it (ValueError: Dataset " \
           "'labyrinth_plus' not registered); it keeps the 'level' param alone" in out
    assert set(samples["params"].map(lambda p: json.loads(p)["level"])) == {"medium"}


def test_flat_folder_of_runs_takes_levels_from_the_config(capsys, tmp_path, copy_run):
    """Easy and hard runs side by side in one folder: that folder is no level, the configs decide."""
    copy_run(DEEPSEEK_EASY, level="runs")
    copy_run(DEEPSEEK_HARD, level="runs")
    code, out, _ = run_import(capsys, tmp_path / "src", "--adapter", "reasoning-gym-eval", "--out", tmp_path / "ds")
    assert code == 0 and "mixes task configs" in out
    _, samples = load(tmp_path / "ds")
    levels = samples.groupby(samples["params"].map(lambda p: json.loads(p)["level"])).size()
    assert levels["default"] == 12 * 150 and levels.drop("default").sum() == 12 * 50


def test_a_rerun_supersedes_the_older_run(capsys, tmp_path):
    """Two runs of the same model and level: the later timestamp wins, the older file is reported as skipped."""
    old = make_rg_run(tmp_path / "src", "acme_tiny-model_20250101_120000")
    new = make_rg_run(tmp_path / "src", "acme_tiny-model_20250202_120000", tasks={"gcd": [[
        {"model_answer": "7", "full_model_response": "<answer>7</answer>", "score": 0.0}]]})
    code, out, _ = run_import(capsys, tmp_path / "src", "--adapter", "reasoning-gym-eval", "--out", tmp_path / "ds")
    assert code == 0
    lines = out.splitlines()
    # found: 2 summaries + 2 task files; the old run's task file is skipped, its summary too (nothing of it is used)
    assert "files: 4 found, 2 imported, 2 skipped" in lines
    assert f"  - {old / 'arithmetic' / 'gcd.json'}: superseded by the later run {new} (2 completion(s) not " \
           f"imported)" in lines
    assert f"  - {old / 'summary.json'}: no task file of this run was imported" in lines
    assert "records rejected: 0" in lines
    _, samples = load(tmp_path / "ds")
    assert samples["outcome"].tolist() == ["incorrect"]


@pytest.mark.slow
def test_a_run_folder_without_summary_json_is_imported(capsys, tmp_path, copy_run):
    """The issue's case: in a tree of runs, one run folder has no summary.json. It used to vanish in silence."""
    copy_run(DEEPSEEK_EASY)
    lost = copy_run(DEEPSEEK_HARD)
    (lost / "summary.json").unlink()
    code, out, _ = run_import(capsys, tmp_path / "src", "--adapter", "reasoning-gym-eval", "--out", tmp_path / "ds")
    assert code == 0
    assert "files: 25 found, 25 imported, 0 skipped" in out  # 2 x 12 task files + the easy run's summary
    assert f"note: {lost}: no summary.json; imported its 12 task file(s) as model 'deepseek/deepseek-r1' (from " \
           f"the folder name) with sampler 'default' and no token budget, since temperature, top_p and " \
           f"max_tokens are recorded only there; so it is an eval of its own, apart from " \
           f"{DEEPSEEK_EASY.split('/')[1]}" in out
    meta, samples = load(tmp_path / "ds")
    evals = {(e["model"], e["template"], e["sampler"]): e for e in meta["evals"]}
    # the template still comes from the system prompt every task file repeats: the stock one
    assert set(evals) == {("deepseek/deepseek-r1", "default", "t0.6-p0.95"), ("deepseek/deepseek-r1", "default",
                                                                             "default")}
    assert "max_tokens" not in evals["deepseek/deepseek-r1", "default", "default"]
    hard = samples[samples["eval_id"] == eval_id("deepseek/deepseek-r1", "default", "default")]
    assert len(hard) == 12 * 50 and set(hard["params"].map(lambda p: json.loads(p)["level"])) == {"hard"}


def test_files_outside_any_run_are_counted_and_named(capsys, tmp_path):
    run = make_rg_run(tmp_path / "src")
    (tmp_path / "src" / "notes.json").write_text("{}")
    (tmp_path / "src" / "README.md").write_text("how these runs were made")
    code, out, _ = run_import(capsys, tmp_path / "src", "--adapter", "reasoning-gym-eval", "--out", tmp_path / "ds")
    assert code == 0
    lines = out.splitlines()
    assert "files: 4 found, 2 imported, 2 skipped" in lines and run.is_dir()
    assert any(line.startswith(f"  - {tmp_path / 'src' / 'notes.json'}: not inside a run folder") for line in lines)
    assert f"  - {tmp_path / 'src' / 'README.md'}: not a .json file, the kind adapter reasoning-gym-eval reads" \
        in lines
    assert "records rejected: 0" in lines and "every record was imported" not in out


def test_nothing_skipped_says_so(capsys, tmp_path):
    make_rg_run(tmp_path / "src")
    code, out, _ = run_import(capsys, tmp_path / "src", "--adapter", "reasoning-gym-eval", "--out", tmp_path / "ds")
    assert code == 0
    assert "files: 2 found, 2 imported, 0 skipped" in out and "records rejected: 0 (every record was imported)" in out


def test_small_helpers():
    assert model_from_dir("meta-llama_llama-3.3-70b-instruct_20250413_001539") == \
        ("meta-llama/llama-3.3-70b-instruct", "20250413_001539")
    assert model_from_dir("localmodel") == ("localmodel", "")
    assert sampler_for({"temperature": 0.6, "top_p": 0.95}) == "t0.6-p0.95"
    assert sampler_for({"temperature": 0}) == "t0"
    assert sampler_for({}) == "default"
    assert template_for(None) == "default"
    assert template_for("Answer in French.").startswith("prompt-")
    assert config_level({"seed": 45, "size": 50}) == "default"
    assert config_level({"seed": 45, "size": 50, "max_n": 9}).startswith("cfg-")
