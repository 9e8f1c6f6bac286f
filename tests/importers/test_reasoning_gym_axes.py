"""Real difficulty axes: each question rebuilt with reasoning-gym itself, trusted only where it matches.

reasoning-gym is the oracle here: the values a sample gets must be the ones
``reasoning_gym.create_dataset(name, **config)[i]["metadata"]`` gives its question.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pandas as pd
import pytest

from app.engine import Dataset
from app.engine.schema import eval_id
from app.importers import reasoning_gym_rebuild
from app.importers.runner import import_sources
from app.projections import PROJECTIONS

reasoning_gym = pytest.importorskip("reasoning_gym", reason="reasoning-gym is an optional test dependency")

DEMO_AXES = {  # task -> its real params (bins included) on the demo, as reasoning-gym 0.1.25 rebuilds them
    "basic_arithmetic": {"num_terms": set(range(2, 11)), "num_digits": set(range(1, 6))},
    "chain_sum": {"num_terms": set(range(2, 9)), "num_digits": set(range(1, 7))},
    "word_sorting": {"num_words": None, "num_words_bin": {2, 4, 8, 16, 32}, "word_length": set(range(6, 13))},
    "maze": {"grid_size": None, "grid_size_bin": {4, 8, 16, 32}},
    "knights_knaves": {"n_people": {2, 3}, "depth_constraint": {2, 3}, "width_constraint": {2, 3}},
    "zebra_puzzles": {"num_people": {4, 5}, "num_characteristics": {4, 5}},
    "family_relationships": {"family_size": set(range(4, 10))},
    "gcd": {"num_terms": {2, 3, 4}},
}
LEVEL_ONLY = ("count_primes", "letter_counting", "mini_sudoku", "polynomial_multiplication")


def params(samples: pd.DataFrame) -> pd.Series:
    return samples["params"].map(json.loads)


@pytest.fixture
def demo(rg_demo_import) -> tuple[dict, pd.DataFrame, list[str]]:
    """(dataset.json, samples, the import summary's lines) of the demo, imported once per session."""
    folder = rg_demo_import.written.path.parent
    meta = json.loads((folder / "dataset.json").read_text())
    return meta, pd.read_parquet(folder / meta["samples"]), rg_demo_import.lines()


@pytest.mark.slow
def test_demo_tasks_get_their_realised_difficulty_values(demo):
    meta, samples, _ = demo
    p = params(samples)
    for task, axes in DEMO_AXES.items():
        got = p[samples["base_task"] == task]
        assert {k for row in got for k in row} == {"level", *axes}, task
        for key, values in axes.items():
            if values is not None:
                assert {row[key] for row in got} == values, (task, key)
    for task in LEVEL_ONLY:
        assert {tuple(row) for row in p[samples["base_task"] == task]} == {("level",)}, task
    tasks = {t["base_task"]: t["params"] for t in meta["tasks"]}
    assert tasks["word_sorting"] == ["level", "num_words", "num_words_bin", "word_length"]


@pytest.mark.slow
@pytest.mark.parametrize("run, per_prompt", [("easy/meta-llama_llama-3.3-70b-instruct_20250315_165756", 3),
                                             ("hard/openai_o3-mini_20250414_163909", 1)])
def test_values_are_the_generators_own(demo, rg_demo, run, per_prompt):
    """Every basic_arithmetic and word_sorting sample of a run carries its question's metadata values."""
    _, samples, _ = demo
    model = {"easy/meta-llama_llama-3.3-70b-instruct_20250315_165756": "meta-llama/llama-3.3-70b-instruct",
             "hard/openai_o3-mini_20250414_163909": "openai/o3-mini"}[run]
    level = run.split("/")[0]
    for task, category, keys in (("basic_arithmetic", "arithmetic", ("num_terms", "num_digits")),
                                 ("word_sorting", "algorithmic", ("num_words", "word_length"))):
        doc = json.loads((rg_demo / run / category / f"{task}.json").read_text())
        oracle = reasoning_gym.create_dataset(task, **doc["config"])
        mine = samples[(samples["eval_id"] == eval_id(model, "default", "t0.6-p0.95"))
                       & (samples["base_task"] == task)]
        mine = mine[params(mine).map(lambda r: r["level"] == level)]
        assert len(mine) == 50 * per_prompt
        for sample, row in zip(mine["sample"], params(mine)):
            entry = oracle[int(sample) // per_prompt]
            assert entry["question"] == doc["results"][int(sample) // per_prompt]["question"]
            assert {k: row[k] for k in keys} == {k: entry["metadata"][k] for k in keys}


@pytest.mark.slow
def test_bins_are_log2_edges_of_the_raw_values(demo):
    _, samples, lines = demo
    for task, key in (("word_sorting", "num_words"), ("maze", "grid_size")):
        rows = params(samples[samples["base_task"] == task])
        assert all(r[key + "_bin"] == 2 ** int(math.log2(r[key])) for r in rows)
    assert "note: word_sorting: 'num_words' has 29 distinct values, so its surfaces use 'num_words_bin' " \
           "(2, 4, 8, 16, 32): more than 12 distinct values: surfaces use <key>_bin = the edge of its power-of-two " \
           "bin nearest zero (16 stands for 16..31); filters on <key> still see every value" in lines


@pytest.mark.slow
def test_views_come_from_the_real_axes_only(demo):
    meta, _, _ = demo
    assert [(v["name"], v["group_by"]) for v in meta["views"]] == [
        ("basic_arithmetic: num_terms x num_digits", ["params.num_terms", "params.num_digits"]),
        ("chain_sum: num_terms x num_digits", ["params.num_terms", "params.num_digits"]),
        ("family_relationships: family_size", ["params.family_size"]),
        ("gcd: num_terms", ["params.num_terms"]),
        ("knights_knaves: n_people", ["params.n_people"]),  # its three knobs move together: one axis
        ("maze: grid_size_bin", ["params.grid_size_bin"]),
        ("word_sorting: num_words_bin x word_length", ["params.num_words_bin", "params.word_length"]),
        ("zebra_puzzles: num_people", ["params.num_people"]),
    ]


@pytest.mark.slow
def test_surface_draws_the_two_dimensional_ones(demo, rg_demo_import):
    ds = Dataset.open(rg_demo_import.written.path)
    p = PROJECTIONS["surface"].run(ds)
    assert [split for split, _ in p.figures] == ["basic_arithmetic", "chain_sum", "word_sorting"]
    arithmetic = p.rows[p.rows["view"] == "basic_arithmetic: num_terms x num_digits"]
    assert set(arithmetic["params.num_terms"]) == set(range(2, 11))
    assert arithmetic["n"].sum() == 5 * (150 + 50)  # every sample of the task sits in one cell


@pytest.mark.slow
def test_polynomial_multiplication_is_never_trusted(demo, rg_demo):
    """Its rebuild depends on PYTHONHASHSEED: the stored questions differ, so each file says so and keeps level."""
    _, _, lines = demo
    files = sorted(rg_demo.glob("*/*/algebra/polynomial_multiplication.json"))
    assert len(files) == 10
    for f in files:
        [line] = [x for x in lines if x.startswith(f"note: {f}: ")]
        assert "the question reasoning-gym rebuilds from its config differs from the stored one" in line
        assert line.endswith("so its difficulty values cannot be trusted; it keeps the 'level' param alone")
    assert "note: count_primes: no axis from difficulty knob(s) 'n' (the realised value (4455, 7876) is not one " \
           "scalar)" in lines
    assert "note: reasoning-gym 0.1.25 rebuilt the questions of 110 of 120 task file(s) exactly; their samples " \
           "carry the real difficulty values (basic_arithmetic: num_terms, num_digits; chain_sum: num_terms, " \
           "num_digits; family_relationships: family_size; gcd: num_terms; knights_knaves: n_people, " \
           "depth_constraint, width_constraint; maze: grid_size, grid_size_bin; word_sorting: num_words, " \
           "num_words_bin, word_length; zebra_puzzles: num_people, num_characteristics)" in lines


@pytest.mark.slow
def test_a_merge_bins_a_task_as_the_dataset_does(tmp_path, rg_demo):
    """Every point of a task has the bin or none has: a merge follows the dataset it goes into."""
    easy, hard = rg_demo / "easy/openai_o3-mini_20250315_181742", rg_demo / "hard/openai_o3-mini_20250414_163909"

    def word_sorting(out: Path) -> pd.Series:
        meta = json.loads((out / "dataset.json").read_text())
        samples = pd.read_parquet(out / meta["samples"])
        return params(samples[samples["base_task"] == "word_sorting"])

    import_sources([hard], "reasoning-gym-eval", tmp_path / "a")  # 21 values of num_words: binned
    import_sources([easy], "reasoning-gym-eval", tmp_path / "a")  # 8 values, binned all the same
    assert word_sorting(tmp_path / "a").map(lambda r: "num_words_bin" in r).all()

    import_sources([easy], "reasoning-gym-eval", tmp_path / "b")  # 8 values: drawn value by value
    report = import_sources([hard], "reasoning-gym-eval", tmp_path / "b")
    assert not word_sorting(tmp_path / "b").map(lambda r: "num_words_bin" in r).any()
    assert "note: word_sorting: 'num_words' has 21 distinct values here, but the dataset merged into draws it value " \
           "by value, so it is not binned; import all runs of the task together to bin it" in report.lines()


# ---------------------------------------------------------------- small runs, no shared data needed

def real_run(root: Path, task: str = "basic_arithmetic", config: dict | None = None, *, n: int = 4,
             tamper: int | None = None, name: str = "acme_tiny-model_20250101_120000") -> Path:
    """A run whose task file holds the questions reasoning-gym generates (one made up at ``tamper``)."""
    config = config or {"size": n, "seed": 7}
    oracle = reasoning_gym.create_dataset(task, **config)
    results = [{"question": "What is 2 + 2?" if i == tamper else oracle[i]["question"],
                "expected_answer": oracle[i]["answer"],
                "completions": [{"model_answer": oracle[i]["answer"], "score": 1.0,
                                 "full_model_response": f"<answer>{oracle[i]['answer']}</answer>"}]}
               for i in range(n)]
    run = root / "easy" / name
    (run / "arithmetic").mkdir(parents=True)
    (run / "summary.json").write_text(json.dumps({"model": "acme/tiny-model", "temperature": 0.6, "top_p": 0.95}))
    (run / "arithmetic" / f"{task}.json").write_text(json.dumps({"name": task, "config": config, "results": results}))
    return run


@pytest.fixture
def cold(monkeypatch, tmp_path) -> Path:
    """No rebuild in memory, and an empty cache folder (returned)."""
    monkeypatch.setattr(reasoning_gym_rebuild, "_MEMORY", {})
    return tmp_path / "cache"


def imported(src: Path, out: Path, cache: Path, **kw):
    report = import_sources([src], "reasoning-gym-eval", out, options={"rebuild_cache": str(cache)}, **kw)
    meta = json.loads((out / "dataset.json").read_text())
    return report, pd.read_parquet(out / meta["samples"]).sort_values("sample")


def test_a_matching_file_gets_its_values(tmp_path, cold):
    real_run(tmp_path / "src")
    _, samples = imported(tmp_path / "src", tmp_path / "ds", cold)
    oracle = reasoning_gym.create_dataset("basic_arithmetic", size=4, seed=7)
    assert params(samples).tolist() == [{"level": "easy", "num_terms": oracle[i]["metadata"]["num_terms"],
                                         "num_digits": oracle[i]["metadata"]["num_digits"]} for i in range(4)]


def test_one_question_that_differs_keeps_the_whole_file_at_level(tmp_path, cold):
    run = real_run(tmp_path / "src", tamper=2)
    report, samples = imported(tmp_path / "src", tmp_path / "ds", cold)
    assert set(samples["params"]) == {'{"level":"easy"}'}
    assert f"note: {run / 'arithmetic' / 'basic_arithmetic.json'}: the question reasoning-gym rebuilds from its " \
           f"config differs from the stored one at 1 of 4 entries (first: results[2]), so its difficulty values " \
           f"cannot be trusted; it keeps the 'level' param alone" in report.lines()


def test_without_reasoning_gym_level_alone_and_how_to_install(tmp_path, cold, monkeypatch):
    monkeypatch.setitem(sys.modules, "reasoning_gym", None)  # as if it were not installed: import fails
    real_run(tmp_path / "src")
    report, samples = imported(tmp_path / "src", tmp_path / "ds", cold)
    assert set(samples["params"]) == {'{"level":"easy"}'}
    assert "note: reasoning-gym is not installed, so every task has the 'level' param alone; `pip install " \
           "reasoning-gym==0.1.25` adds each question's real difficulty values (e.g. basic_arithmetic num_terms x " \
           "num_digits)" in report.lines()
    assert not cold.exists()


def test_rebuilds_are_cached_on_disk_and_shown_as_progress(tmp_path, cold, monkeypatch, capsys):
    real_run(tmp_path / "src")
    imported(tmp_path / "src", tmp_path / "a", cold, progress_after=0)
    assert "reasoning-gym-eval: rebuilding questions with reasoning-gym: 4/4 entries rebuilt" in capsys.readouterr().err
    [cached] = cold.iterdir()
    assert cached.name.startswith("basic_arithmetic-") and json.loads(cached.read_text())["task"] == "basic_arithmetic"

    def no_generator(*args, **kwargs):
        raise AssertionError("the generator ran although the rebuild was cached")

    monkeypatch.setattr(reasoning_gym_rebuild, "_MEMORY", {})  # a new process: only the disk remembers
    monkeypatch.setattr(reasoning_gym_rebuild.Rebuilder, "_generate", no_generator)
    _, samples = imported(tmp_path / "src", tmp_path / "b", cold, progress_after=0)
    assert "entries rebuilt" not in capsys.readouterr().err  # nothing left to rebuild
    assert {"num_terms", "num_digits"} <= set(params(samples).iloc[0])


def test_a_cache_that_cannot_be_written_is_a_note(tmp_path, cold):
    real_run(tmp_path / "src")
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    report, samples = imported(tmp_path / "src", tmp_path / "ds", blocked)
    assert {"num_terms", "num_digits"} <= set(params(samples).iloc[0])
    assert any(line.startswith(f"note: could not write the reasoning-gym rebuild cache in {blocked} (")
               for line in report.lines())


def test_a_config_the_generator_refuses_is_reported(tmp_path, cold):
    run = real_run(tmp_path / "src", "gcd", {"size": 2, "seed": 1})
    task = run / "arithmetic" / "gcd.json"
    doc = json.loads(task.read_text())
    doc["config"]["min_numbers"], doc["config"]["max_numbers"] = 5, 2
    task.write_text(json.dumps(doc))
    report, samples = imported(tmp_path / "src", tmp_path / "ds", cold)
    assert set(samples["params"]) == {'{"level":"easy"}'}
    assert f"note: {task}: not rebuilt: reasoning-gym could not rebuild it (AssertionError: max_numbers must be >= " \
           f"min_numbers); it keeps the 'level' param alone" in report.lines()
