"""``analyze.py compare``: the table in json and csv, the PNG, and exit 2 when fewer than two evals are chosen."""

from __future__ import annotations

import csv
import json
import struct

import pytest

from app.cli import main
from tests.projections import synthetic

IDS = synthetic.ids()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return str(synthetic.build(tmp_path_factory.mktemp("cli-compare") / "ds"))


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_holds_every_pair_and_group(capsys, tmp_path, dataset):
    chosen = json.dumps({"eval_id": [IDS["Beta"], IDS["Alpha"], IDS["Gamma"]]})
    code, out, err = run(capsys, "compare", dataset, "--filters", chosen, "--format", "json",
                         "--output-dir", str(tmp_path))
    assert code == 0, err
    assert out.splitlines() == [str(tmp_path / "compare.json")]
    doc = json.loads((tmp_path / "compare.json").read_text())
    assert list(doc)[:5] == ["projection", "dataset", "filters", "group_by", "truncation"]
    assert doc["reference"] == IDS["Beta"] and doc["evals"] == [IDS["Beta"], IDS["Alpha"], IDS["Gamma"]]
    rows = doc["rows"]
    assert [(r["eval_b"], r["base_task"]) for r in rows] == [
        (b, t) for b in (IDS["Alpha"], IDS["Gamma"]) for t in ("arith", "logic", "loops", "sort")]
    first = rows[0]
    assert set(first) >= {"n_a", "n_b", "accuracy_a", "accuracy_b", "diff", "diff_lower", "diff_upper", "p_value",
                          "p_holm", "verdict"}
    assert first["verdict"] == "a_better" and first["diff_lower"] > 0     # Beta leads on arith
    assert "the gap is broad" in err and doc["notes"][0] in err           # the notes go to stderr


def test_csv_and_truncation_and_group_by(capsys, tmp_path, dataset):
    chosen = json.dumps({"eval_id": [IDS["Alpha"], IDS["Delta"]]})
    code, _, err = run(capsys, "compare", dataset, "--filters", chosen, "--format", "csv", "--group-by", "none",
                       "--truncation", "separate", "--output-dir", str(tmp_path))
    assert code == 0, err
    with open(tmp_path / "compare.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 1 and rows[0]["group"] == "all" and rows[0]["eval_b"] == IDS["Delta"]
    assert float(rows[0]["n_a"]) < 1830                                    # truncated samples left out


def test_png_is_written(capsys, tmp_path, dataset):
    chosen = json.dumps({"eval_id": [IDS["Alpha"], IDS["Beta"]]})
    code, out, err = run(capsys, "compare", dataset, "--filters", chosen, "--output-dir", str(tmp_path))
    assert code == 0, err
    path = tmp_path / "compare.png"
    assert out.splitlines() == [str(path)]
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", head[16:24]) >= (1200, 800)


@pytest.mark.parametrize("filters", [json.dumps({"eval_id": [IDS["Alpha"]]}),
                                     json.dumps({"eval_id": IDS["Gamma"]})])
def test_one_eval_is_exit_2_with_one_line(capsys, tmp_path, dataset, filters):
    code, out, err = run(capsys, "compare", dataset, "--filters", filters, "--format", "json",
                         "--output-dir", str(tmp_path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "choose at least two evals" in err
    assert not (tmp_path / "compare.json").exists()


def test_the_subcommand_comes_from_the_declaration(capsys):
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    out = capsys.readouterr().out
    assert "--group-by DIM|none" in out and "{png,json,csv}" in out and "--truncation" in out
