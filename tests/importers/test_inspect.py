"""``import --adapter inspect``: real Inspect AI logs, written offline by inspect-ai itself, read back
with inspect's own reader as the oracle.

The logs are made once per module by ``fixtures/inspect/make_fixtures.py``: inspect-ai's ``eval``
with ``mockllm/model`` and scripted outputs (usage and stop reason set by the script), two tasks,
two solver plans, 2 epochs, an errored sample, scores C/I/P/N, True/False and 1/0.5/0, and stops
at ``max_tokens`` and ``model_length``; once as ``.eval`` logs and once as ``.json`` logs. Every
socket that would leave the machine is refused while they are made and imported.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import socket
import sys
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

import pytest

from app.cli import build_parser
from app.engine.schema import compressed_size
from app.engine.store import read_meta
from app.engine.texts import text_source
from app.importers.inspect_logs import outcome, sampler_for, template_label
from tests.importers.conftest import load, run_import, snapshot

# inspect-ai's own retry set-up warns about its tenacity call while the logs are made: not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:The 'initial' parameter is deprecated:DeprecationWarning")

FIXTURES = Path(__file__).parent / "fixtures" / "inspect"
_spec = importlib.util.spec_from_file_location("inspect_fixture_logs", FIXTURES / "make_fixtures.py")
assert _spec is not None and _spec.loader is not None
make_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_fixtures)

# What a score means, written out here rather than taken from the adapter: the mapping.
SCORE_OUTCOME: dict[Any, str] = {"C": "correct", "I": "incorrect", "P": "incorrect", "N": "invalid",
                                 True: "correct", False: "incorrect", 0.5: "incorrect"}
PARTIAL = ("P", 0.5)
LOCAL = {None, "", "localhost", "127.0.0.1", "::1", b"localhost"}


@contextlib.contextmanager
def no_network() -> Iterator[list[Any]]:
    """Refuse every connection and name look-up beyond this machine; yields the attempts made."""
    attempts: list[Any] = []
    connect, getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def guarded_connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in LOCAL:
            attempts.append(address)
            raise OSError(f"network disabled in this test: connect to {address}")
        return connect(self, address)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in LOCAL:
            attempts.append(host)
            raise socket.gaierror(f"network disabled in this test: look-up of {host}")
        return getaddrinfo(host, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", guarded_connect)
        mp.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
        yield attempts


@pytest.fixture(scope="module")
def logs(tmp_path_factory) -> Path:
    """``<root>/eval/*.eval`` and ``<root>/json/*.json``: both tasks under both plans, made offline."""
    root = tmp_path_factory.mktemp("inspect")
    with pytest.MonkeyPatch.context() as mp, no_network() as attempts:
        for key, value in {**make_fixtures.OFFLINE_ENV, "XDG_DATA_HOME": str(root / "xdg")}.items():
            mp.setenv(key, value)  # XDG: inspect's own traces go here, not into the home folder
        made = make_fixtures.make_logs(root / "logs")
    assert attempts == []
    assert len(made) == 8  # 2 formats x 2 plans x 2 tasks
    return root / "logs"


@pytest.fixture
def offline():
    """The import under test runs with the network refused, and must not have tried it."""
    with no_network() as attempts:
        yield
    assert attempts == []


def oracle(folder: Path, scorers: tuple[str, ...] = ()) -> dict[str, Any]:
    """What inspect's own reader says each log holds, counted here by the issue's mapping."""
    from inspect_ai.log import read_eval_log, read_eval_log_samples

    counts: Counter = Counter()  # (plan, task, params, outcome) -> samples
    tokens: Counter = Counter()  # (plan, task, params) -> sum of output_tokens
    errors, partial, completions, cut_scores = 0, 0, Counter(), Counter()
    for path in sorted(folder.glob("*.*")):
        header = read_eval_log(str(path), header_only=True)
        plan = "+".join(step.solver for step in header.plan.steps)
        declared = [s.name for s in header.eval.scorers or []]
        scorer = next((s for s in scorers if s in declared), declared[0])
        args = {k: v for k, v in header.eval.task_args.items() if isinstance(v, (str, int, float, bool))}
        for sample in read_eval_log_samples(str(path)):
            if sample.error is not None:
                errors += 1
                continue
            meta = {k: v for k, v in sample.metadata.items() if isinstance(v, (str, int, float, bool))}
            key = (plan, header.eval.task, json.dumps({**args, **meta}, sort_keys=True, separators=(",", ":")))
            value = sample.scores[scorer].value
            if sample.output.stop_reason in ("max_tokens", "model_length"):
                result = "truncated"
                cut_scores[value] += 1
            else:
                result = SCORE_OUTCOME[value]
                partial += value in PARTIAL and not isinstance(value, bool)
            counts[(*key, result)] += 1
            tokens[key] += sample.output.usage.output_tokens
            completions[(*key, sample.output.completion)] += 1
    return {"counts": counts, "tokens": tokens, "errors": errors, "partial": partial, "texts": completions,
            "cut_scores": cut_scores}


def imported(out: Path) -> dict[str, Any]:
    """The same tallies, from the dataset the import wrote (plan = the template without its hash)."""
    meta, samples = load(out)
    plan = {e["eval_id"]: e["template"].rsplit("-", 1)[0] for e in meta["evals"]}
    samples["plan"] = samples["eval_id"].map(plan)
    counts = Counter({k: int(v) for k, v in samples.groupby(["plan", "base_task", "params", "outcome"]).size().items()})
    tokens = Counter({k: int(v) for k, v in samples.groupby(["plan", "base_task", "params"])["completion_tokens"]
                      .sum().items()})
    texts = list(text_source(out / "dataset.json", read_meta(out)).read(range(len(samples))).to_pylist())
    completions = Counter(zip(samples["plan"], samples["base_task"], samples["params"], texts))
    return {"meta": meta, "samples": samples, "counts": counts, "tokens": tokens, "texts": completions,
            "text_list": texts}


def do_import(capsys, source: Path, out: Path, *flags: str) -> tuple[int, str, str]:
    return run_import(capsys, source, "--adapter", "inspect", "--out", out, *flags)


def rewritten(source: Path, target: Path, change) -> Path:
    """A copy of a real log with ``change(log)`` applied, written by inspect-ai's own ``write_eval_log``."""
    from inspect_ai.log import read_eval_log, write_eval_log

    log = read_eval_log(str(source))
    change(log)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_eval_log(log, str(target))
    return target


def first_pick(logs: Path) -> Path:
    """The .eval log of task ``pick`` under the first plan."""
    return sorted((logs / "eval").glob("*_pick_*"))[0]


# --- the logs themselves ------------------------------------------------------------------------

def test_the_network_guard_refuses_what_mockllm_would_otherwise_fetch():
    # without scripted usage, mockllm counts tokens with tiktoken, which downloads o200k_base from here
    with no_network() as attempts, pytest.raises(OSError):
        socket.getaddrinfo("openaipublic.blob.core.windows.net", 443)
    assert attempts == ["openaipublic.blob.core.windows.net"]


def test_logs_are_real_inspect_logs_in_both_formats(logs):
    evals, jsons = sorted((logs / "eval").iterdir()), sorted((logs / "json").iterdir())
    assert [p.suffix for p in evals] == [".eval"] * 4 and [p.suffix for p in jsons] == [".json"] * 4
    with zipfile.ZipFile(evals[0]) as z:  # Zstandard members, as inspect-ai writes them since 0.3.206
        assert {i.compress_type for i in z.infolist()} == {93}
    assert json.loads(jsons[0].read_text())["status"] == "success"


# --- counts, tokens and texts against inspect's own reader ---------------------------------------

@pytest.mark.parametrize("fmt", ["eval", "json"])
def test_counts_and_token_sums_equal_inspects_own_reader(fmt, logs, capsys, tmp_path, offline):
    code, stdout, stderr = do_import(capsys, logs / fmt, tmp_path / "ds")
    assert code == 0, stderr
    want, got = oracle(logs / fmt), imported(tmp_path / "ds")
    assert got["counts"] == want["counts"]
    assert got["tokens"] == want["tokens"]
    assert sum(want["counts"].values()) == 2 * (8 + 6) * 2 - 2  # plans x samples x epochs, minus 2 errors
    assert {o for *_, o in want["counts"]} == {"correct", "incorrect", "invalid", "truncated"}
    assert len(got["meta"]["evals"]) == 2  # two solver plans: two templates, one model and sampler
    assert got["meta"]["provenance"]["tokens"] == "exact"
    assert "every record was imported" not in stdout


def test_each_plan_is_its_own_template_and_the_config_its_sampler(logs, capsys, tmp_path, offline):
    assert do_import(capsys, logs / "eval", tmp_path / "ds")[0] == 0
    evals = {e["template"].rsplit("-", 1)[0]: e for e in imported(tmp_path / "ds")["meta"]["evals"]}
    assert set(evals) == {"generate", "system_message+generate"}
    for ev in evals.values():
        assert ev["model"] == "mockllm/model"
        assert ev["sampler"] == "t0.7-p0.95-max64-seed7" and ev["max_tokens"] == 64


def test_stops_at_max_tokens_or_model_length_are_truncated_whatever_the_score(logs, capsys, tmp_path, offline):
    code, stdout, _ = do_import(capsys, logs / "eval", tmp_path / "ds")
    assert code == 0
    got, want = imported(tmp_path / "ds"), oracle(logs / "eval")
    outcomes = got["samples"]["outcome"].tolist()
    cut = ["expand every term" in t or "context keeps growing" in t for t in got["text_list"]]
    assert [o for o, c in zip(outcomes, cut) if c] == ["truncated"] * 12
    assert outcomes.count("truncated") == sum(cut) == 12  # ("long", "wall" in arith + "long" in pick) x 2 epochs x 2
    assert want["cut_scores"]["C"] == 4  # "wall" ends in the right answer: graded C, still truncated
    assert "note: 12 sample(s) stopped at max_tokens or model_length: counted as truncated whatever their " \
           "score" in stdout


def test_the_text_is_the_completion_and_its_size_is_computed_from_it(logs, capsys, tmp_path, offline):
    assert do_import(capsys, logs / "json", tmp_path / "ds")[0] == 0
    got, want = imported(tmp_path / "ds"), oracle(logs / "json")
    assert got["texts"] == want["texts"]
    sizes = [compressed_size(t) for t in got["text_list"]]
    assert got["samples"]["compressed_bytes"].tolist() == sizes


def test_multiple_choice_samples_carry_the_guess_rate_of_their_choices(logs, capsys, tmp_path, offline):
    assert do_import(capsys, logs / "eval", tmp_path / "ds")[0] == 0
    got = imported(tmp_path / "ds")
    rates = got["samples"].groupby("base_task")["guess_rate"].unique()
    assert rates["pick"].tolist() == [0.25] and rates["arith"].tolist() == [0.0]  # 4 choices; free answers
    assert {t["base_task"]: t["guess_rate"] for t in got["meta"]["tasks"]} == {"arith": 0.0, "pick": 0.25}


def test_every_epoch_is_a_sample_numbered_at_its_point(logs, capsys, tmp_path, offline):
    code, stdout, _ = do_import(capsys, logs / "eval", tmp_path / "ds")
    assert code == 0 and "duplicate records: none" in stdout
    samples = imported(tmp_path / "ds")["samples"]
    for _, point in samples.groupby(["eval_id", "base_task", "params"]):
        assert sorted(point["sample"]) == list(range(len(point)))


# --- what the summary says -----------------------------------------------------------------------

def test_an_errored_sample_is_rejected_with_its_reason(logs, capsys, tmp_path, offline):
    code, stdout, _ = do_import(capsys, logs / "eval", tmp_path / "ds")
    assert code == 0 and oracle(logs / "eval")["errors"] == 2
    assert "records rejected: 2" in stdout
    reasons = [line for line in stdout.splitlines() if line.startswith("  - ") and "error:" in line]
    assert len(reasons) == 2
    assert all("sample a6 epoch 1: error: RuntimeError('scripted provider failure')" in r for r in reasons)


def test_notes_count_partial_credit_and_name_the_dropped_keys(logs, capsys, tmp_path, offline):
    code, stdout, _ = do_import(capsys, logs / "eval", tmp_path / "ds")
    assert code == 0
    assert oracle(logs / "eval")["partial"] == 8  # arith "half" scores P, pick "half" 0.5: x 2 epochs x 2 plans
    assert "note: 8 sample(s) scored partial credit (P, or a number between 0 and 1) were counted as " \
           "incorrect" in stdout
    assert "note: dropped sample metadata / task args that are not scalars: origin, tags" in stdout
    assert "note: outcomes from scorer 'grade' (2 logs), 'overlap' (2 logs)" in stdout


def test_params_are_scalar_metadata_and_task_args(logs, capsys, tmp_path, offline):
    assert do_import(capsys, logs / "eval", tmp_path / "ds")[0] == 0
    params = {t: {tuple(sorted(json.loads(p))) for p in g}
              for t, g in imported(tmp_path / "ds")["samples"].groupby("base_task")["params"]}
    assert params == {"arith": {("max_digits", "num_digits", "num_terms", "style")},
                      "pick": {("length", "num_words")}}


# --- the flags ------------------------------------------------------------------------------------

def test_scorer_flag_picks_the_first_named_score_each_log_has(logs, capsys, tmp_path, offline):
    code, stdout, stderr = do_import(capsys, logs / "eval", tmp_path / "ds", "--scorer", "exact,overlap")
    assert code == 0, stderr
    got, want = imported(tmp_path / "ds"), oracle(logs / "eval", ("exact", "overlap"))
    assert got["counts"] == want["counts"]
    assert got["counts"] != oracle(logs / "eval")["counts"]  # exact has no partial credit nor "no answer"
    assert "outcomes from scorer 'exact' (2 logs), 'overlap' (2 logs)" in stdout


def test_params_flag_keeps_the_named_keys_and_notes_the_others(logs, capsys, tmp_path, offline):
    code, stdout, _ = do_import(capsys, logs / "eval", tmp_path / "ds", "--params", "num_terms,num_digits,num_words")
    assert code == 0
    keys = {k for p in imported(tmp_path / "ds")["samples"]["params"] for k in json.loads(p)}
    assert keys == {"num_terms", "num_digits", "num_words"}
    assert "note: left out by --params: length, max_digits, style" in stdout
    views = {v["name"] for v in imported(tmp_path / "ds")["meta"]["views"]}
    assert views == {"arith: num_terms x num_digits"}


def test_the_flags_are_listed_by_import_help():
    text = build_parser()._subparsers._group_actions[0].choices["import"].format_help()  # type: ignore[union-attr]
    assert "--scorer NAME,..." in text and "--params KEY,..." in text and "(adapter inspect)" in text.replace(
        "\n", " ").replace("  ", " ")


# --- failures: exit 2, one line, the target untouched ---------------------------------------------

@pytest.fixture
def target(logs, capsys, tmp_path) -> Path:
    """A dataset already imported, which every failing import must leave byte-for-byte as it was."""
    out = tmp_path / "ds"
    assert do_import(capsys, logs / "json", out)[0] == 0
    return out


def fails(capsys, source: Path, out: Path, *flags: str) -> str:
    before = snapshot(out)
    code, stdout, stderr = do_import(capsys, source, out, *flags)
    assert code == 2 and stdout == "" and "Traceback" not in stderr
    assert snapshot(out) == before
    [line] = stderr.splitlines()
    return line


def test_unknown_scorer_names_the_log_and_its_scorers(logs, capsys, target):
    line = fails(capsys, logs / "eval", target, "--scorer", "exact")
    assert "_pick_" in line and "no scorer named exact; this log's scorers: overlap" in line


def test_unknown_params_key_lists_the_candidates(logs, capsys, target):
    line = fails(capsys, logs / "eval", target, "--params", "num_terms,difficulty")
    assert line == ("error: --params: no scalar sample metadata or task arg named difficulty; candidates: length, "
                    "max_digits, num_digits, num_terms, num_words, style")


def test_a_flag_of_another_adapter_is_refused(logs, capsys, target):
    assert fails(capsys, logs / "eval", target, "--adapter", "samples", "--scorer", "exact") == \
        "error: --scorer is not an option of adapter 'samples'; it applies to inspect"


def test_missing_inspect_ai_says_how_to_install_it(logs, capsys, target, monkeypatch):
    monkeypatch.setitem(sys.modules, "inspect_ai", None)  # as if it were not installed
    line = fails(capsys, logs / "eval", target)
    assert line == ("error: --adapter inspect reads logs with the optional package inspect-ai, which is not "
                    "installed; install it with: pip install inspect-ai")


def test_a_log_cut_short_is_named(logs, capsys, target, tmp_path):
    whole = sorted((logs / "eval").iterdir())[0]
    cut = tmp_path / "cut" / whole.name
    cut.parent.mkdir()
    cut.write_bytes(whole.read_bytes()[:5000])
    line = fails(capsys, cut.parent, target)
    assert line == f"error: {cut}: not a readable Inspect log: not a complete ZIP archive, which an .eval log is; " \
                   "was it cut short?"


def test_json_that_is_not_a_log_is_named_with_the_first_thing_wrong(capsys, target, tmp_path):
    other = tmp_path / "2026-01-01T00-00-00-00-00_task_x.json"
    other.write_text('{"results": []}')
    assert fails(capsys, other, target) == \
        f"error: {other}: not a readable Inspect log: Unable to read version of log format."
    other.write_text('{"version": 2, "status": "success", "eval": {}}')
    assert fails(capsys, other, target) == f"error: {other}: not a readable Inspect log: created: Field required"
    other.write_text('{"version": 2, "status": ')
    assert fails(capsys, other, target) == f"error: {other}: not a readable Inspect log: parse error: premature EOF"


def test_a_sample_whose_score_has_no_outcome_stops_the_import(logs, capsys, target, tmp_path):
    def graded(log):
        log.samples[0].scores["overlap"].value = 7  # a grade out of 10: not a correctness score

    path = rewritten(first_pick(logs),
                     tmp_path / "graded" / "2026-01-01T00-00-00-00-00_pick_graded.eval", graded)
    line = fails(capsys, path, target)
    assert line == (f"error: {path}: sample 1 epoch 1: scorer 'overlap' gave 7, which has no outcome (valid: C, I, P, "
                    "N, true/false, numbers 0..1); choose another with --scorer")


# --- re-runs, incomplete logs, other files in a log folder ----------------------------------------

def test_a_rerun_of_the_same_eval_keeps_the_later_log_and_lists_the_other(logs, capsys, tmp_path, offline):
    # logs/eval and logs/json hold the same evals, tasks and task args; the .json runs came later
    code, stdout, _ = do_import(capsys, logs, tmp_path / "ds")
    assert code == 0
    assert "files: 8 found, 4 imported, 4 skipped" in stdout
    skipped = [line for line in stdout.splitlines() if "superseded by" in line]
    assert len(skipped) == 4 and all(".eval:" in line and line.endswith("(same model, plan, config, task and task "
                                                                          "args)") for line in skipped)
    assert imported(tmp_path / "ds")["counts"] == oracle(logs / "json")["counts"]


def test_an_incomplete_log_is_imported_with_a_note(logs, capsys, tmp_path, offline):
    def cancelled(log):  # as a run stopped part-way leaves it
        log.status, log.samples = "cancelled", log.samples[:5]

    path = rewritten(first_pick(logs),
                     tmp_path / "src" / "2026-01-01T00-00-00-00-00_pick_cancelled.eval", cancelled)
    code, stdout, _ = do_import(capsys, path.parent, tmp_path / "ds")
    assert code == 0
    assert f"note: {path}: log status 'cancelled'; imported the 5 sample(s) it holds of 12" in stdout
    assert len(imported(tmp_path / "ds")["samples"]) == 5


def test_other_json_files_in_a_log_folder_are_skipped_with_the_reason(logs, capsys, tmp_path, offline):
    folder = tmp_path / "src"
    folder.mkdir()
    for log in sorted((logs / "eval").iterdir())[:1]:
        (folder / log.name).write_bytes(log.read_bytes())
    (folder / "logs.json").write_text("{}")  # inspect-ai's own listing file in a log dir
    code, stdout, _ = do_import(capsys, folder, tmp_path / "ds")
    assert code == 0 and "files: 2 found, 1 imported, 1 skipped" in stdout
    assert f"  - {folder / 'logs.json'}: not named like an Inspect log" in stdout


def test_unscored_samples_are_rejected_with_the_reason(logs, capsys, tmp_path, offline):
    changed = []

    def unscore(log):
        log.samples[0].scores["overlap"].value = math.nan  # inspect's "unscored" sentinel
        log.samples[1].scores = {}
        changed.extend(f"sample {s.id} epoch {s.epoch}" for s in log.samples[:2])

    path = rewritten(first_pick(logs),
                     tmp_path / "src" / "2026-01-01T00-00-00-00-00_pick_x.eval", unscore)
    code, stdout, _ = do_import(capsys, path, tmp_path / "ds")
    assert code == 0 and "records rejected: 2" in stdout
    assert f"  - {path}: {changed[0]}: scorer 'overlap' left it unscored (NaN)" in stdout
    assert f"  - {path}: {changed[1]}: no score from scorer 'overlap'" in stdout
    assert len(imported(tmp_path / "ds")["samples"]) == 10


def test_a_log_without_any_score_imports_nothing_and_says_why(logs, capsys, target, tmp_path):
    def no_scores(log):
        for sample in log.samples:
            sample.scores = None
            sample.output.choices[0].stop_reason = "stop"  # not even a truncation to import

    path = rewritten(first_pick(logs),
                     tmp_path / "src" / "2026-01-01T00-00-00-00-00_pick_x.eval", no_scores)
    assert fails(capsys, path, target) == (f"error: no sample could be imported from {path}: 12 rejected, the "
                                           f"first: {path}: sample 1 epoch 1: no score")


def test_a_param_that_names_samples_gets_a_note(logs, capsys, tmp_path, offline):
    def numbered(log):
        first = log.samples[0]
        log.samples = [first.model_copy(update={"id": i, "epoch": 1, "metadata": {"uid": f"q{i}", "level": i % 2}},
                                        deep=True) for i in range(1, 25)]
        log.eval.dataset.sample_ids, log.eval.config.epochs = list(range(1, 25)), 1

    path = rewritten(first_pick(logs),
                     tmp_path / "src" / "2026-01-01T00-00-00-00-00_pick_x.eval", numbered)
    code, stdout, _ = do_import(capsys, path, tmp_path / "ds")
    assert code == 0
    assert ("note: pick: params.uid has 24 values over 24 sample(s), so it names samples rather than a difficulty; "
            "leave it out with --params") in stdout
    assert "params.level" not in stdout


def test_a_log_without_samples_is_skipped_with_the_reason(logs, capsys, tmp_path, offline):
    def header_only(log):  # what eval(..., log_samples=False) writes
        log.samples = None

    empty = rewritten(first_pick(logs), tmp_path / "src" / "2026-01-01T00-00-00-00-00_pick_x.eval", header_only)
    whole = tmp_path / "src" / sorted((logs / "eval").glob("*_arith_*"))[0].name
    whole.write_bytes(sorted((logs / "eval").glob("*_arith_*"))[0].read_bytes())
    code, stdout, _ = do_import(capsys, empty.parent, tmp_path / "ds")
    assert code == 0 and "files: 2 found, 1 imported, 1 skipped" in stdout
    assert f"  - {empty}: the log holds no samples (was it written with --no-log-samples?)" in stdout


# --- the mapping rules, on literal values ---------------------------------------------------------

def test_score_values_map_to_outcomes():
    assert outcome("C") == ("correct", False) and outcome("I") == ("incorrect", False)
    assert outcome("P") == ("incorrect", True) and outcome("N") == ("invalid", False)
    assert outcome(True) == ("correct", False) and outcome(False) == ("incorrect", False)
    assert outcome(1) == ("correct", False) and outcome(0.0) == ("incorrect", False)
    assert outcome(0.25) == ("incorrect", True)
    assert outcome(math.nan) == (None, False)  # inspect's "unscored"
    for bad in ("c", "A", 2, -0.5, {"a": 1}, [1]):
        with pytest.raises(ValueError):
            outcome(bad)


def test_sampler_label_names_what_shapes_sampling_and_hashes_the_rest():
    assert sampler_for({"temperature": 0.7, "top_p": 0.95, "max_tokens": 64, "seed": 7}) == "t0.7-p0.95-max64-seed7"
    assert sampler_for({}) == "default"
    assert sampler_for({"max_retries": 3, "timeout": 60, "max_connections": 8}) == "default"  # operational only
    assert sampler_for({"reasoning_effort": "high", "reasoning_tokens": 4096}) == "reasoning-high-reasoning4096"
    one, two = sampler_for({"temperature": 0, "stop_seqs": ["\n"]}), sampler_for({"temperature": 0, "stop_seqs": ["."]})
    assert one.startswith("t0-cfg") and two.startswith("t0-cfg") and one != two


def test_template_label_is_the_steps_and_a_hash_of_their_params():
    from inspect_ai.log import EvalPlan, EvalPlanStep

    plan = EvalPlan(steps=[EvalPlanStep(solver="system_message", params={"template": "Be brief."}),
                           EvalPlanStep(solver="inspect_ai/generate")])
    other = EvalPlan(steps=[EvalPlanStep(solver="system_message", params={"template": "Be thorough."}),
                            EvalPlanStep(solver="inspect_ai/generate")])
    label = template_label(plan)
    assert label.startswith("system_message+generate-") and len(label.rsplit("-", 1)[1]) == 6
    assert label == template_label(plan.model_copy(deep=True)) != template_label(other)
    assert template_label(EvalPlan()) == "default"
