"""``import --adapter lm-eval``: lm-evaluation-harness ``--log_samples`` output, on files lm-eval 0.4.13 wrote.

The expected numbers are computed here from the raw files with ``json`` alone (the same reading a
user would do by hand), and checked against lm-eval's own aggregate scores in ``results_<date>.json``.
"""

from __future__ import annotations

import json
import math
import shutil
from collections import Counter
from pathlib import Path

import pytest

from app.engine.schema import eval_id
from tests.importers.conftest import load, run_import, snapshot

FIXTURES = Path(__file__).parent / "fixtures"
RUNS = FIXTURES / "lm-eval"                     # what lm-eval wrote: scripted__tiny-a/, scripted__tiny-b/
LEGACY = FIXTURES / "lm-eval-src" / "legacy"    # run A in the older one-array layout
RUN_A, RUN_B = RUNS / "scripted__tiny-a", RUNS / "scripted__tiny-b"
MODELS = {"scripted__tiny-a": "scripted/tiny-a", "scripted__tiny-b": "scripted/tiny-b"}


# --- the raw files, read with json alone ---------------------------------------------------------

def raw_lines(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if text.lstrip().startswith("[") else [json.loads(x) for x in text.splitlines() if x]


def results_of(run: Path) -> dict:
    [path] = run.glob("results_*.json")
    return json.loads(path.read_text(encoding="utf-8"))


def samples_file(run: Path, task: str) -> Path:
    [path] = [p for p in run.glob(f"samples_{task}_*.json*") if p.name[len(f"samples_{task}_"):][:1].isdigit()]
    return path


def expected(run: Path, task: str, metric: str | None = None, filter_: str | None = None) -> Counter:
    """Outcome counts of one task of one run: one line per doc of the chosen filter, k samples per doc."""
    lines = raw_lines(samples_file(run, task))
    metric = metric or results_of(run)["configs"][task]["metric_list"][0]["metric"]
    filter_ = filter_ or lines[0]["filter"]
    counts: Counter = Counter()
    for line in lines:
        if line["filter"] != filter_:
            continue
        answer = line["filtered_resps"][0]
        outcome = "invalid" if answer == "[invalid]" else "correct" if line[metric] == 1 else "incorrect"
        repeats = len(line["resps"][0]) if isinstance(line["resps"][0][0], str) else 1
        counts[outcome] += repeats
    return counts


def imported(capsys, tmp_path: Path, *sources: Path, flags: tuple[str, ...] = (), out: str = "ds"):
    code, stdout, stderr = run_import(capsys, *sources, "--adapter", "lm-eval", "--out", tmp_path / out, *flags)
    assert code == 0, stderr
    meta, samples = load(tmp_path / out)
    models = {e["eval_id"]: e["model"] for e in meta["evals"]}
    samples["model"] = samples["eval_id"].map(models)
    return meta, samples, stdout


def counts(samples, model: str, task: str) -> Counter:
    part = samples[(samples["model"] == model) & (samples["base_task"] == task)]
    return Counter(part["outcome"])


# --- counts and scores ----------------------------------------------------------------------------

def test_real_runs_import_with_the_counts_of_the_raw_files(capsys, tmp_path):
    _, samples, stdout = imported(capsys, tmp_path, RUNS)
    want = {(MODELS[run.name], task): expected(run, task) for run in (RUN_A, RUN_B)
            for task in results_of(run)["configs"]}
    assert set(want) == {(m, t) for m, t in zip(samples["model"], samples["base_task"])}
    for (model, task), outcomes in want.items():
        assert counts(samples, model, task) == outcomes, (model, task)
    assert len(samples) == sum(sum(c.values()) for c in want.values()) == 44
    assert "from 7 file(s): 5 eval(s), 3 task(s), 5 point(s), 44 sample(s)" in stdout


@pytest.mark.parametrize("flags, metric, filter_", [
    ((), None, None),
    (("--metric", "acc_norm"), "acc_norm", None),
    (("--filter", "flexible-extract,maj@3"), None, ("flexible-extract", "maj@3")),
])
def test_imported_accuracy_is_lm_evals_own_score(capsys, tmp_path, flags, metric, filter_):
    """lm-eval's aggregate ``"<metric>,<filter>"`` in results_<date>.json is the oracle."""
    _, samples, _ = imported(capsys, tmp_path, RUNS, flags=flags)
    for run in (RUN_A, RUN_B):
        results = results_of(run)
        for task, config in results["configs"].items():
            metrics = [m["metric"] for m in config["metric_list"]]
            filters = [f["name"] for f in config.get("filter_list", [])] or ["none"]
            m = metric if metric in metrics else metrics[0]
            f = next((x for x in filter_ or () if x in filters), filters[0])
            got = counts(samples, MODELS[run.name], task)
            assert got["correct"] / sum(got.values()) == pytest.approx(results["results"][task][f"{m},{f}"])


def test_a_doc_with_two_filters_is_counted_once(capsys, tmp_path):
    lines = raw_lines(samples_file(RUN_A, "arith_gen"))
    assert len(lines) == 12 and len({x["doc_id"] for x in lines}) == 6      # 6 docs × 2 filters in the file
    _, samples, _ = imported(capsys, tmp_path, RUN_A)
    gen = samples[samples["base_task"] == "arith_gen"]
    assert len(gen) == 6 and sorted(gen["sample"]) == list(range(6))
    assert counts(samples, "scripted/tiny-a", "arith_gen") == Counter(correct=2, invalid=3, incorrect=1)


def test_invalid_filtered_answer_is_invalid_and_other_filters_can_read_it(capsys, tmp_path):
    _, strict, _ = imported(capsys, tmp_path, RUN_A, out="strict")
    _, flexible, _ = imported(capsys, tmp_path, RUN_A, flags=("--filter", "flexible-extract"), out="flexible")

    def outcome(samples, doc: int) -> str:
        [value] = samples[(samples["base_task"] == "arith_gen") & (samples["sample"] == doc)]["outcome"]
        return value

    assert (outcome(strict, 2), outcome(flexible, 2)) == ("invalid", "correct")     # "The sum is 425."
    assert (outcome(strict, 3), outcome(flexible, 3)) == ("invalid", "invalid")     # "I am not sure."
    assert (outcome(strict, 1), outcome(flexible, 1)) == ("incorrect", "incorrect")  # "#### 13" for 12


def test_repeats_are_samples_sharing_their_docs_score(capsys, tmp_path):
    _, samples, stdout = imported(capsys, tmp_path, RUN_B)
    rep = samples[samples["base_task"] == "arith_gen_rep"].sort_values("sample")
    lines = [x for x in raw_lines(samples_file(RUN_B, "arith_gen_rep")) if x["filter"] == "strict-match"]
    assert list(rep["text"]) == [text for line in lines for text in line["resps"][0]]   # exact source text
    assert list(rep["sample"]) == list(range(18))
    by_doc = rep.groupby(rep["sample"] // 3)["outcome"].agg(set)
    assert all(len(s) == 1 for s in by_doc)
    assert "repeats 3" in stdout and "sharing that score" in stdout


def test_multiple_choice_has_guess_rate_one_over_choices_and_no_text(capsys, tmp_path):
    meta, samples, stdout = imported(capsys, tmp_path, RUN_A)
    mc = samples[samples["base_task"] == "arith_mc"].sort_values("sample")
    docs = [x["doc"] for x in raw_lines(samples_file(RUN_A, "arith_mc"))]
    assert list(mc["guess_rate"]) == pytest.approx([1 / len(d["choices"]) for d in docs])
    assert mc["completion_tokens"].isna().all() and mc["compressed_bytes"].isna().all() and mc["text"].isna().all()
    [task] = [t for t in meta["tasks"] if t["base_task"] == "arith_mc"]
    assert task["guess_rate"] == pytest.approx(sum(1 / len(d["choices"]) for d in docs) / len(docs))
    assert "guess rate 1/number of choices" in stdout


# --- identity: model, template, sampler, budget ---------------------------------------------------

def test_model_template_and_sampler_from_the_run(capsys, tmp_path):
    meta, _, _ = imported(capsys, tmp_path, RUNS)
    got = {(e["model"], e["template"], e["sampler"], e.get("max_tokens")) for e in meta["evals"]}
    chat = "2-shot-chat-5875dc31-sys-acf04f16-multiturn"   # sha256 prefixes recorded by lm-eval
    assert got == {
        ("scripted/tiny-a", "0-shot", "greedy-max32", 32),          # model_args as a string
        ("scripted/tiny-a", "0-shot", "loglikelihood", None),
        ("scripted/tiny-b", chat, "greedy-max24", 24),              # model_args as a dict; --gen_kwargs max_gen_toks=24
        ("scripted/tiny-b", chat, "t0.7-max24", 24),                # arith_gen_rep samples at temperature 0.7
        ("scripted/tiny-b", chat, "loglikelihood", None),
    }
    for e in meta["evals"]:
        assert e["eval_id"] == eval_id(e["model"], e["template"], e["sampler"])
    b = results_of(RUN_B)
    assert chat == f"2-shot-chat-{b['chat_template_sha'][:8]}-sys-{b['system_instruction_sha'][:8]}-multiturn"


def test_tokens_are_estimated_from_the_text_and_flagged(capsys, tmp_path):
    meta, samples, stdout = imported(capsys, tmp_path, RUNS)
    gen = samples[samples["text"].notna()]
    assert list(gen["completion_tokens"]) == [math.ceil(len(t.encode("utf-8")) / 4) for t in gen["text"]]
    provenance = meta["provenance"]
    assert provenance["tokens"] == "estimated" and "lm-eval records no token counts" in \
        provenance["imports"][-1]["tokens_method"]
    assert "truncated" not in set(samples["outcome"])
    assert "no sample is marked truncated" in stdout


def test_params_come_from_the_doc_fields_named(capsys, tmp_path):
    _, plain, stdout = imported(capsys, tmp_path, RUN_A, out="plain")
    assert set(plain["params"]) == {"{}"}
    assert "doc fields --params KEY,... can make params: digits (3 values)" in stdout
    meta, samples, _ = imported(capsys, tmp_path, RUN_A, flags=("--params", "digits"), out="digits")
    docs = {x["doc_id"]: x["doc"] for x in raw_lines(samples_file(RUN_A, "arith_gen"))}
    gen = samples[samples["base_task"] == "arith_gen"]
    assert [json.loads(p) for p in gen.sort_values("sample")["params"]] == \
        [{"digits": docs[i]["digits"]} for i in sorted(docs)]
    assert {t["base_task"]: t["params"] for t in meta["tasks"]} == {"arith_gen": ["digits"], "arith_mc": ["digits"]}


# --- layouts and several runs ---------------------------------------------------------------------

def test_the_older_one_array_layout_gives_the_same_samples(capsys, tmp_path):
    _, new, _ = imported(capsys, tmp_path, RUN_A, out="new")
    _, old, _ = imported(capsys, tmp_path, LEGACY, out="old")
    key = ["eval_id", "base_task", "sample"]
    assert new.sort_values(key).reset_index(drop=True).equals(old.sort_values(key).reset_index(drop=True))


def test_the_same_run_found_twice_is_read_once(capsys, tmp_path):
    _, samples, stdout = imported(capsys, tmp_path, RUNS, LEGACY)
    assert len(samples) == 44
    assert "the same run as" in stdout and "(read once)" in stdout


def test_a_later_run_of_the_same_eval_supersedes_the_earlier(capsys, tmp_path):
    later = tmp_path / "later" / "scripted__tiny-a"
    shutil.copytree(RUN_A, later)
    [results] = later.glob("results_*.json")
    doc = json.loads(results.read_text())
    doc["date"] += 3600
    results.write_text(json.dumps(doc))
    [gen] = later.glob("samples_arith_gen_*.jsonl")
    flipped = [dict(x, exact_match=1.0, filtered_resps=["42"]) for x in raw_lines(gen)]
    gen.write_text("".join(json.dumps(x) + "\n" for x in flipped))
    _, samples, stdout = imported(capsys, tmp_path, RUN_A, later.parent)
    assert counts(samples, "scripted/tiny-a", "arith_gen") == Counter(correct=6)
    assert "superseded by the later run" in stdout and len(samples) == 13


def test_a_results_file_brings_its_run_and_a_samples_file_its_task(capsys, tmp_path):
    [results] = RUN_B.glob("results_*.json")
    _, whole, _ = imported(capsys, tmp_path, results, out="whole")
    assert len(whole) == 31 and set(whole["base_task"]) == {"arith_gen", "arith_gen_rep", "arith_mc"}
    _, one, stdout = imported(capsys, tmp_path, samples_file(RUN_B, "arith_gen_rep"), out="one")
    assert len(one) == 18 and set(one["base_task"]) == {"arith_gen_rep"}
    assert "files: 2 found, 2 imported, 0 skipped" in stdout


def test_files_it_cannot_use_are_named_with_the_reason(capsys, tmp_path):
    src = tmp_path / "src"
    shutil.copytree(FIXTURES / "lm-eval-src" / "data", src / "data")
    orphan = src / "orphan"
    orphan.mkdir()
    shutil.copy(samples_file(RUN_A, "arith_gen"), orphan)
    shutil.copytree(RUN_B, src / "b")
    _, samples, stdout = imported(capsys, tmp_path, src)
    assert set(samples["model"]) == {"scripted/tiny-b"}
    assert "files: 8 found, 4 imported, 4 skipped" in stdout
    assert "not an lm-eval results_<date>.json or samples_<task>_<date>.json[l] file" in stdout
    assert "no results_2026-12-02T19-15-23.367119.json beside it" in stdout


def test_a_metric_that_is_not_a_score_skips_its_task_and_says_why(capsys, tmp_path):
    run = tmp_path / "src" / "scripted__tiny-a"
    shutil.copytree(RUN_A, run)
    [gen] = run.glob("samples_arith_gen_*.jsonl")
    lines = raw_lines(gen)
    lines[0]["exact_match"] = 42.5      # a BLEU-like value: no correct/incorrect to read from it
    gen.write_text("".join(json.dumps(x) + "\n" for x in lines))
    _, samples, stdout = imported(capsys, tmp_path, run)
    assert set(samples["base_task"]) == {"arith_mc"}
    assert "metric 'exact_match' is not a 0..1 score (42.5 at line 1)" in stdout


# --- bad input: exit 2, one line, the target untouched ---------------------------------------------

@pytest.mark.parametrize("flags, names", [
    (("--metric", "accuracy"), ["arith_gen: exact_match", "arith_mc: acc, acc_norm"]),
    (("--filter", "strict"), ["arith_gen: strict-match, flexible-extract", "arith_gen_rep: strict-match, maj@3",
                              "arith_mc: none"]),
    (("--params", "difficulty"), ["a, answer, b, digits"]),
])
def test_unknown_metric_filter_or_param_exits_2_naming_the_valid_ones(capsys, tmp_path, flags, names):
    out = tmp_path / "ds"
    assert run_import(capsys, RUN_A, "--adapter", "lm-eval", "--out", out)[0] == 0
    before = snapshot(out)
    code, stdout, stderr = run_import(capsys, RUNS, "--adapter", "lm-eval", "--out", out, *flags)
    assert code == 2 and stdout == ""
    [line] = stderr.splitlines()
    assert line.startswith(f"error: {flags[0]} ") and all(n in line for n in names), line
    assert snapshot(out) == before


def test_a_doc_given_twice_for_one_filter_is_refused(capsys, tmp_path):
    run = tmp_path / "src" / "scripted__tiny-a"
    shutil.copytree(RUN_A, run)
    [gen] = run.glob("samples_arith_gen_*.jsonl")
    gen.write_text(gen.read_text() + gen.read_text().splitlines(keepends=True)[0])
    code, _, stderr = run_import(capsys, run, "--adapter", "lm-eval", "--out", tmp_path / "ds")
    assert code == 2 and not (tmp_path / "ds").exists()
    assert f"{gen}:13: doc 0 appears twice for filter 'strict-match' (first at {gen}:1)" in stderr


def test_options_are_flags_of_the_import_command(capsys):
    from app.cli import build_parser

    parser = build_parser()
    help_text = parser._subparsers._group_actions[0].choices["import"].format_help()   # type: ignore[union-attr]
    for flag in ("--metric NAME,...", "--filter NAME,...", "--params KEY,..."):
        assert flag in help_text
    code, _, stderr = run_import(capsys, RUN_A, "--adapter", "samples", "--out", "x", "--metric", "acc")
    assert code == 2 and "--metric is not an option of adapter 'samples'; it applies to lm-eval" in stderr
