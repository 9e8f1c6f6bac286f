"""``analyze.py spiderweb|surface|compression|hazard``: flags, files, printed paths, exit codes."""

from __future__ import annotations

import csv
import json
import struct

import pytest

from app.cli import main
from app.projections.base import safe_name
from tests.projections import synthetic


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return str(synthetic.build(tmp_path_factory.mktemp("cli") / "ds"))


@pytest.fixture(scope="module")
def bare(tmp_path_factory):
    return str(synthetic.build_bare(tmp_path_factory.mktemp("bare") / "ds"))


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def png_size(path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


@pytest.mark.parametrize("name", ["spiderweb", "surface", "compression", "hazard"])
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_tables_written_and_paths_printed(capsys, tmp_path, dataset, name, fmt):
    out_dir = tmp_path / "new" / "dir"                        # created if missing
    code, out, err = run(capsys, name, dataset, "--format", fmt, "--output-dir", str(out_dir))
    assert code == 0, err
    path = out_dir / f"{name}.{fmt}"
    assert out.splitlines() == [str(path)] and path.is_file()
    if fmt == "json":
        doc = json.loads(path.read_text())
        assert list(doc)[:4] == ["projection", "dataset", "filters", "group_by"] and doc["rows"]
        assert doc["projection"] == name and doc["dataset"] == "synthetic"
    else:
        header = path.read_text().splitlines()[0].split(",")
        assert {"n", "center", "lower", "upper", "truncation_rate", "tokens_p95"} <= set(header)


def test_flags_reach_the_projection(capsys, tmp_path, dataset):
    ids = synthetic.ids()
    code, out, err = run(capsys, "spiderweb", dataset, "--filters", json.dumps({"eval_id": [ids["Gamma"]]}),
                         "--group-by", "manifold.id", "--truncation", "separate", "--format", "json",
                         "--output-dir", str(tmp_path))
    doc = json.loads((tmp_path / "spiderweb.json").read_text())
    assert code == 0 and doc["group_by"] == "manifold.id" and doc["truncation"] == "separate"
    assert doc["filters"] == {"eval_id": [ids["Gamma"]]}
    assert {r["manifold.id"] for r in doc["rows"]} == {"m0", "m1", "m2", "m3"}
    assert "Truncation Victim" in err                          # notes go to stderr, paths to stdout

    run(capsys, "surface", dataset, "--view", "sort: n x k", "arith: length x depth", "--format", "json",
        "--output-dir", str(tmp_path))
    views = json.loads((tmp_path / "surface.json").read_text())["views"]
    assert views == ["sort: n x k", "arith: length x depth"]          # the user's order
    run(capsys, "hazard", dataset, "--bucket-size", "1024", "--split-by", "base_task", "--format", "csv",
        "--output-dir", str(tmp_path))
    rows = list(csv.DictReader((tmp_path / "hazard.csv").open()))
    assert {int(r["bin_end"]) - int(r["bin_start"]) for r in rows} == {1024}
    assert {r["base_task"] for r in rows} == set(synthetic.TASKS)
    run(capsys, "compression", dataset, "--split-by", "none", "--facet-by", "none", "--group-by", "none",
        "--format", "json", "--output-dir", str(tmp_path))
    assert len(json.loads((tmp_path / "compression.json").read_text())["rows"]) == 1


def test_pngs_one_per_split_large_enough(capsys, tmp_path, dataset):
    code, out, err = run(capsys, "surface", dataset, "--filters", '{"base_task": ["arith", "sort"]}',
                         "--output-dir", str(tmp_path))
    assert code == 0, err
    paths = [tmp_path / "surface-arith.png", tmp_path / "surface-sort.png"]
    assert out.splitlines() == [str(p) for p in paths]
    for p in paths:
        w, h = png_size(p)
        assert w >= 1200 and h >= 800
    code, out, _ = run(capsys, "spiderweb", dataset, "--format", "barpng", "--output-dir", str(tmp_path))
    assert code == 0 and out.splitlines() == [str(tmp_path / "spiderweb.png")]
    assert png_size(tmp_path / "spiderweb.png") >= (1200, 800)


def test_safe_file_names():
    assert safe_name("a/b c:d") == "a_b_c_d"
    assert safe_name("../..") == "none" or "/" not in safe_name("../..")
    assert safe_name(8192) == "8192"
    assert safe_name("café 1/2") == "caf__1_2"             # ASCII only: also safe in an HTTP header
    assert safe_name("..", "figure") == "figure" and len(safe_name("x" * 200)) == 80


def test_subcommands_and_flags_come_from_the_declarations():
    from app.cli import build_parser
    from app.projections import PROJECTIONS

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert [n for n in sub.choices if n in PROJECTIONS] == list(PROJECTIONS)
    for name, spec in PROJECTIONS.items():
        flags = {s for a in sub.choices[name]._actions for s in a.option_strings}
        assert {o.cli_flag for o in spec.options} <= flags
        fmt = next(a for a in sub.choices[name]._actions if "--format" in a.option_strings)
        assert tuple(fmt.choices) == spec.formats and fmt.default == spec.formats[0]


@pytest.mark.parametrize("argv, words", [
    (["spiderweb", "{ds}", "--filters", "{nope"], "not valid JSON"),
    (["spiderweb", "{ds}", "--filters", '{"eval_id": ["zzzzzz"]}'], "unknown eval id"),
    (["spiderweb", "{ds}", "--filters", '{"base_task": "arith", "params.a": 1}'], "match no samples"),
    (["surface", "{ds}", "--view", "logic: a x b x c"], "exactly two"),
    (["compression", "{ds}", "--facet-by", "params.zzz"], "unknown dimension"),
    (["hazard", "{ds}", "--bucket-size", "0"], "bucket-size"),
    (["spiderweb", "/nonexistent/dataset.json"], "no dataset"),
    (["hazard", "{bare}"], "no token counts"),
    (["compression", "{bare}"], "no completion_tokens and compressed_bytes"),
    (["surface", "{bare}"], "no view with exactly two"),
])
def test_bad_input_exits_2_with_one_message(capsys, tmp_path, dataset, bare, argv, words):
    argv = [a.replace("{ds}", dataset).replace("{bare}", bare) for a in argv] + ["--output-dir", str(tmp_path / "o")]
    code, out, err = run(capsys, *argv)
    assert code == 2 and words in err and "Traceback" not in err
    assert out == ""


def test_format_choices_per_projection(capsys, dataset):
    with pytest.raises(SystemExit) as exc:
        main(["surface", dataset, "--format", "webpng"])
    assert exc.value.code == 2
    capsys.readouterr()
