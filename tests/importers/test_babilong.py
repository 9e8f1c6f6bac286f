"""``import --adapter babilong``: graded long-context QA over a real context-length axis."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from app.engine.schema import eval_id
from app.importers.babilong import first_sentence, grade_one
from tests.importers.conftest import load, run_import

LOCATIONS = ["bathroom", "bedroom", "garden", "hallway", "kitchen", "office"]
QA5 = ["apple", "bill", "football", "fred", "jeff", "mary", "milk"]
SETTINGS = "instruction_yes_examples_yes_post_prompt_yes"


# --- grading, on literal strings -------------------------------------------------------------

def test_one_label_equal_to_target_is_correct():
    assert grade_one("The milk is in the Kitchen.", "kitchen", "Where is the milk?", LOCATIONS) == "correct"
    assert grade_one("- response: The most recent location of John is the hallway.", "hallway",
                     "Where is John? ", LOCATIONS) == "correct"


def test_one_wrong_label_is_incorrect():
    assert grade_one("The milk is in the garden.", "kitchen", "Where is the milk?", LOCATIONS) == "incorrect"


def test_no_label_or_several_labels_is_invalid():
    assert grade_one("In the attic", "kitchen", "Where is the milk?", LOCATIONS) == "invalid"
    assert grade_one("The kitchen or the garden.", "kitchen", "Where is the milk?", LOCATIONS) == "invalid"
    assert grade_one("", "kitchen", "Where is the milk?", LOCATIONS) == "invalid"


def test_only_the_first_sentence_counts():
    answer = "Answer: The bedroom.\n\nContext: The kitchen is west of the garden."
    assert grade_one(answer, "bedroom", "What is the office east of?", LOCATIONS) == "correct"
    assert grade_one("Hmm\nThe kitchen.", "kitchen", "Where is the milk?", LOCATIONS) == "invalid"
    assert first_sentence(pd.array(["  Fred gave it! Then Mary."], dtype="string").__arrow_array__()
                          ).to_pylist() == ["fred gave it"]


def test_labels_named_in_the_question_are_ignored():
    # qa3: "before the bedroom" names a location that is not the answer
    assert grade_one("Before the bedroom the football was in the kitchen.", "kitchen",
                     "Where was the football before the bedroom?", LOCATIONS) == "correct"
    # qa5: the objects and people in the question do not count as answers
    assert grade_one("Fred gave the milk to Jeff.", "jeff", "Who did Fred give the milk to?", QA5) == "correct"
    assert grade_one("Fred handed the milk to Mary.", "Fred", "Who gave the milk?", QA5) == "invalid"


def test_whole_words_only():
    assert grade_one("The officer is here.", "office", "Where is John?", LOCATIONS) == "invalid"


# --- the real CSVs --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def babilong(shared_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("babilong") / "ds"
    from app.importers.runner import import_sources

    import_sources([shared_data / "babilong"], "babilong", out)
    return load(out)


def csv_rows(shared_data) -> pd.DataFrame:
    """Row counts per (model, task, length) as pandas reads the CSVs."""
    rows = []
    for path in sorted((shared_data / "babilong").rglob("qa*_*k_*.csv")):
        m = re.match(r"(qa\d)_(\d+)k_", path.name)
        n = len(pd.read_csv(path, keep_default_na=False))
        rows.append((f"{path.parent.parent.name}/{path.parent.name}", m[1], int(m[2]) * 1024, n))
    return pd.DataFrame(rows, columns=["model", "base_task", "context_tokens", "n"])


def test_sample_counts_equal_csv_rows(babilong, shared_data):
    meta, samples = babilong
    ids = {e["eval_id"]: e["model"] for e in meta["evals"]}
    got = samples.assign(model=samples["eval_id"].map(ids),
                         context_tokens=samples["params"].map(lambda p: json.loads(p)["context_tokens"]))
    got = got.groupby(["model", "base_task", "context_tokens"]).size().rename("n").reset_index()
    expected = csv_rows(shared_data)
    assert len(expected) == 90
    merged = expected.merge(got, on=["model", "base_task", "context_tokens"], suffixes=("_csv", "_parquet"))
    assert len(merged) == 90 and (merged["n_csv"] == merged["n_parquet"]).all()
    assert 0 in set(got["context_tokens"]) and 131072 in set(got["context_tokens"])


def test_evals_tasks_and_views(babilong):
    meta, samples = babilong
    assert sorted((e["model"], e["template"], e["sampler"]) for e in meta["evals"]) == [
        ("CohereForAI/c4ai-command-r-v01", SETTINGS, "greedy"),
        ("microsoft/Phi-3-mini-128k-instruct", SETTINGS, "greedy")]
    assert all(e["eval_id"] == eval_id(e["model"], e["template"], e["sampler"]) for e in meta["evals"])
    rates = {t["base_task"]: t["guess_rate"] for t in meta["tasks"]}
    assert rates == {"qa1": 1 / 6, "qa2": 1 / 6, "qa3": 1 / 6, "qa4": 1 / 6, "qa5": 1 / 7}
    assert (samples.groupby("base_task")["guess_rate"].first() == pd.Series(rates)).all()  # float64: exact
    assert {"name": "task x context length", "base_task": None, "group_by": ["base_task", "params.context_tokens"],
            "filters": {}} in meta["views"]
    assert meta["provenance"]["tokens"] == "estimated"
    assert json.loads(samples["manifold"].iloc[0]).keys() == {"id", "target_tokens"}


def test_hand_checked_rows(babilong):
    meta, samples = babilong
    phi = eval_id("microsoft/Phi-3-mini-128k-instruct", SETTINGS, "greedy")

    def row(task: str, k: int, sample: int) -> pd.Series:
        hit = samples[(samples["eval_id"] == phi) & (samples["base_task"] == task)
                      & (samples["params"] == f'{{"context_tokens":{k * 1024}}}') & (samples["sample"] == sample)]
        assert len(hit) == 1
        return hit.iloc[0]

    first = row("qa1", 1, 0)  # target hallway
    assert first["text"] == "- response: The most recent location of John is the hallway."
    assert first["outcome"] == "correct" and first["completion_tokens"] == 15  # ceil(60 bytes / 4)
    second = row("qa1", 1, 1)  # target bathroom, the answer's first sentence names it alone
    assert second["text"].startswith("Answer: The most recent location of Mary is bathroom.")
    assert second["outcome"] == "correct"


def test_summary_line(capsys, shared_data, tmp_path):
    one_model = shared_data / "babilong" / "babilong_evals" / "microsoft"
    code, out, _ = run_import(capsys, one_model, "--adapter", "babilong", "--out", tmp_path / "ds", "--name", "phi")
    assert code == 0
    assert "1 eval(s), 5 task(s), 45 point(s)" in out and "records rejected: 0" in out
    assert load(tmp_path / "ds")[0]["name"] == "phi"
