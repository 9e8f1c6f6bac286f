"""Bad input: exit 2, one clear line naming file, line and reason, and the target left byte-for-byte as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.engine.schema import eval_id
from app.importers.runner import import_sources
from tests.importers.conftest import make_rg_run, run_cli, snapshot, write_jsonl

GOOD = {"model": "m", "base_task": "t", "params": {"n": 1}, "outcome": "correct", "completion_tokens": 10}


@pytest.fixture
def dataset(tmp_path) -> Path:
    """An existing dataset folder that every failed import below must leave untouched."""
    write_jsonl(tmp_path / "good.jsonl", [GOOD, {**GOOD, "outcome": "incorrect"}])
    out = tmp_path / "ds"
    import_sources([tmp_path / "good.jsonl"], "samples", out)
    return out


def lines(path: Path, *texts: str) -> Path:
    path.write_text("".join(t + "\n" for t in texts), encoding="utf-8")
    return path


def good() -> str:
    return json.dumps(GOOD)


def case_malformed_json(tmp: Path) -> tuple[list, str]:
    src = lines(tmp / "bad.jsonl", good(), '{"model": "m", "base_task": "t",, }')
    return [src, "--adapter", "samples"], f"{src}:2: not valid JSON"


def case_missing_field(tmp: Path) -> tuple[list, str]:
    src = lines(tmp / "bad.jsonl", good(), good(), json.dumps({k: v for k, v in GOOD.items() if k != "base_task"}))
    return [src, "--adapter", "samples"], f"{src}:3: missing required field 'base_task'"


def case_bad_outcome(tmp: Path) -> tuple[list, str]:
    src = lines(tmp / "bad.jsonl", json.dumps({**GOOD, "outcome": "right"}))
    return [src, "--adapter", "samples"], \
        f"{src}:1: outcome 'right' is not one of correct, incorrect, invalid, truncated"


def case_negative_tokens(tmp: Path) -> tuple[list, str]:
    src = lines(tmp / "bad.jsonl", good(), "", json.dumps({**GOOD, "completion_tokens": -5}))
    return [src, "--adapter", "samples"], f"{src}:3: 'completion_tokens' must be ≥ 0, got -5"


def case_csv_bad_params(tmp: Path) -> tuple[list, str]:
    src = lines(tmp / "bad.csv", "model,base_task,params,outcome", 'm,t,"{""n"": 1}",correct', "m,t,{n: 1},correct")
    return [src, "--adapter", "samples"], f"{src}:3: 'params' is not valid JSON"


def case_conflicting_label(tmp: Path) -> tuple[list, str]:
    src = lines(tmp / "bad.jsonl", json.dumps({**GOOD, "label": "A"}), json.dumps({**GOOD, "label": "B"}))
    return [src, "--adapter", "samples"], f"{src}:2: 'label' \"B\" differs from \"A\" given at {src}:1"


def case_many_errors(tmp: Path) -> tuple[list, str]:
    src = lines(tmp / "bad.jsonl", json.dumps({**GOOD, "outcome": "?"}), "[1]", json.dumps({**GOOD, "params": 3}))
    return [src, "--adapter", "samples"], f"{src}:1: outcome '?' is not one of correct, incorrect, invalid, " \
                                          f"truncated (and 2 more invalid records)"


def case_unknown_adapter(tmp: Path) -> tuple[list, str]:
    src = lines(tmp / "ok.jsonl", good())
    return [src, "--adapter", "nope"], "unknown adapter 'nope'; valid adapters: samples, reasoning-gym-eval, babilong"


def case_missing_source(tmp: Path) -> tuple[list, str]:
    return [tmp / "absent.jsonl", "--adapter", "samples"], f"source not found: {tmp / 'absent.jsonl'}"


def case_corrupt_reasoning_gym_json(tmp: Path) -> tuple[list, str]:
    run = make_rg_run(tmp / "runs")
    task = run / "arithmetic" / "gcd.json"
    task.write_text(task.read_text()[:50])  # cut mid-file, as a failed copy would
    return [tmp / "runs", "--adapter", "reasoning-gym-eval"], f"{task}:1:51: not valid JSON"  # file:line:column


def case_reasoning_gym_without_score(tmp: Path) -> tuple[list, str]:
    run = make_rg_run(tmp / "runs", tasks={"gcd": [[{"model_answer": "4", "full_model_response": "4"}]]})
    return [tmp / "runs", "--adapter", "reasoning-gym-eval"], \
        f"{run / 'arithmetic' / 'gcd.json'}: results[0].completions[0]: 'score' must be a number, got null"


def case_invalid_utf8_far_into_the_file(tmp: Path) -> tuple[list, str]:
    """The bad byte at offset 10,007 on line 51: the message names both (not a decode chunk's offset)."""
    line = json.dumps({**GOOD, "text": ""})
    line = json.dumps({**GOOD, "text": "x" * (195 - len(line))})      # 195 characters + newline
    head = (line + "\n") * 50                                          # lines 1-50: 9,800 bytes
    bad = json.dumps({**GOOD, "text": "y" * 300}).encode()
    bad = bad[:207] + b"\xff" + bad[208:]                              # column 208 of line 51
    src = tmp / "bad.jsonl"
    src.write_bytes(head.encode() + bad + b"\n" + (line + "\n").encode() * 20)
    assert src.read_bytes().index(b"\xff") == 10_007
    return [src, "--adapter", "samples"], f"{src}:51:208: not UTF-8 text (invalid start byte at byte 10007 of the file)"


def case_line_break_inside_a_string(tmp: Path) -> tuple[list, str]:
    src = lines(tmp / "bad.jsonl", good(), '{"model": "m')            # json: "Invalid control character at"
    return [src, "--adapter", "samples"], f"{src}:2: not valid JSON (Invalid control character at column 13)"


def case_unterminated_string_at_the_end(tmp: Path) -> tuple[list, str]:
    src = tmp / "bad.jsonl"
    src.write_text(good() + '\n{"model": "m', encoding="utf-8")      # json: "Unterminated string starting at"
    return [src, "--adapter", "samples"], f"{src}:2: not valid JSON (Unterminated string starting at column 11)"


def case_name_too_long(tmp: Path) -> tuple[list, str]:
    src = lines(tmp / "bad.jsonl", good(), json.dumps({**GOOD, "model": "M" * 10_000_000}))
    return [src, "--adapter", "samples"], \
        f'{src}:2: \'model\' "{"M" * 40}…" is 10,000,000 characters long; names (models, templates, samplers, ' \
        "labels, tasks, tags, param keys and values) are limited to 200 characters"


def case_param_value_too_long_in_csv(tmp: Path) -> tuple[list, str]:
    src = lines(tmp / "bad.csv", "model,base_task,params,outcome", 'm,t,"{""n"": 1}",correct',
                'm,t,"{""n"": ""' + "v" * 300 + '""}",correct')
    return [src, "--adapter", "samples"], f"{src}:3: 'params'.n value \"{'v' * 40}…\" is 300 characters long"


def case_pipe_collision(tmp: Path) -> tuple[list, str]:
    src = lines(tmp / "bad.jsonl", json.dumps({**GOOD, "model": "a|b", "template": "c"}),
                json.dumps({**GOOD, "model": "a", "template": "b|c"}))
    return [src, "--adapter", "samples"], \
        f'{src}:2: two different evals would get eval_id {eval_id("a", "b|c", "default")}: model "a|b", ' \
        f'template "c", sampler "default" (at {src}:1) and model "a", template "b|c", sampler "default"'


CASES = [case_malformed_json, case_missing_field, case_bad_outcome, case_negative_tokens, case_csv_bad_params,
         case_conflicting_label, case_many_errors, case_unknown_adapter, case_missing_source,
         case_corrupt_reasoning_gym_json, case_reasoning_gym_without_score, case_invalid_utf8_far_into_the_file,
         case_line_break_inside_a_string, case_unterminated_string_at_the_end, case_name_too_long,
         case_param_value_too_long_in_csv, case_pipe_collision]


@pytest.mark.parametrize("case", CASES, ids=[c.__name__[5:] for c in CASES])
def test_bad_input_exits_2_and_leaves_the_dataset_alone(case, dataset, tmp_path):
    args, message = case(tmp_path)
    before = snapshot(dataset)
    result = run_cli("import", *args, "--out", dataset)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()  # exactly one line
    assert line.startswith(f"error: {message}")
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert snapshot(dataset) == before


def test_a_new_target_is_not_created_on_error(tmp_path):
    src = lines(tmp_path / "bad.jsonl", json.dumps({**GOOD, "outcome": "maybe"}))
    result = run_cli("import", src, "--adapter", "samples", "--out", tmp_path / "new")
    assert result.returncode == 2 and not (tmp_path / "new").exists()


def test_a_folder_that_is_not_a_dataset_is_refused(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("keep me")
    src = lines(tmp_path / "ok.jsonl", good())
    result = run_cli("import", src, "--adapter", "samples", "--out", tmp_path / "notes")
    assert result.returncode == 2 and "without a dataset.json" in result.stderr
    assert snapshot(tmp_path / "notes") == {"todo.txt": b"keep me"}


def test_adapter_is_required(tmp_path):
    result = run_cli("import", tmp_path, "--out", tmp_path / "ds")
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1 and "--adapter" in result.stderr
