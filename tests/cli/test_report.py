"""``analyze.py report``: the workflow as one html, md or json file; bad input is exit 2 with one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from app.report import build, to_json

BALANCED, SPECIALIST = "54804a", "a1ed7a"


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_is_the_report_document(capsys, bundled, tmp_path):
    filters = json.dumps({"eval_id": [SPECIALIST, BALANCED]})
    code, out, err = run(capsys, "report", bundled, "--filters", filters, "--format", "json", "--output-dir", tmp_path)
    assert code == 0, err
    assert out == f"{tmp_path / 'report.json'}\n"
    doc = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert list(doc)[:5] == ["projection", "dataset", "filters", "findings", "comparisons"]
    from app.engine import Dataset

    expected = json.loads(json.dumps(to_json(build(Dataset.open(bundled), filters, dataset_arg=str(bundled)))))
    assert doc == expected
    assert doc["workflow"] == "comparison" and [e["eval_id"] for e in doc["evals"]] == [SPECIALIST, BALANCED]


def test_html_is_the_default_and_one_file(capsys, bundled, tmp_path):
    code, out, err = run(capsys, "report", bundled, "--filters", '{"eval_id": ["54804a"]}', "--output-dir", tmp_path)
    assert code == 0, err
    assert out.splitlines() == [str(tmp_path / "report.html")]
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and 'href="http://127.0.0.1:8050/surface?filters=' in page


def test_md_writes_the_figures_as_png_beside_it(capsys, bundled, tmp_path):
    code, out, err = run(capsys, "report", bundled, "--filters", '{"eval_id": ["54804a"]}', "--format", "md",
                         "--output-dir", tmp_path, "--base-url", "")
    assert code == 0, err
    written = [Path(line) for line in out.splitlines()]
    assert written[0] == tmp_path / "report.md"
    assert sorted(p.name for p in written[1:]) == sorted(
        ["spiderweb.png", "surface-arithmetic.png", "surface-counting.png", "surface-dates.png",
         "compression-logic_grid.png", "compression-planning.png", "compression-shapes.png", "hazard.png"])
    for path in written[1:]:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = written[0].read_text(encoding="utf-8")
    assert "![Surface · counting](surface-counting.png)" in text
    assert "](/hazard?filters=" in text  # --base-url '': links are the dashboard's paths


@pytest.mark.parametrize("filters, words", [
    ('{"eval_id": ["54804a"], "groups": ["family:basalt"]}', "match no samples"),
    ('{"eval_id": ["ffffff"]}', "ffffff"),
    ("{not json", "JSON"),
])
def test_bad_filters_are_exit_2_with_one_line_and_no_file(capsys, bundled, tmp_path, filters, words):
    code, out, err = run(capsys, "report", bundled, "--filters", filters, "--output-dir", tmp_path)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and words in err
    assert list(tmp_path.iterdir()) == []


def test_a_step_that_cannot_run_is_named_on_stderr_and_the_report_is_still_written(capsys, tmp_path):
    from tests.report.conftest import flat_records, write_records

    src = write_records(tmp_path / "in.jsonl", flat_records(model="m"))
    assert run(capsys, "import", src, "--adapter", "samples", "--out", tmp_path / "ds")[0] == 0
    code, out, err = run(capsys, "report", tmp_path / "ds", "--format", "json", "--output-dir", tmp_path / "out")
    assert code == 0
    assert "surface: not drawn: surface: no view with exactly two group-by dimensions" in err
    doc = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert [s["projection"] for s in doc["steps"] if s["skipped"]] == ["surface", "compression"]
