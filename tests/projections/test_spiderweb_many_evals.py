"""spiderweb past ``bounds.MAX_RADAR_EVALS`` evals: the matrix leads, the radar draws the first few, notes grouped."""

from __future__ import annotations

import json
import re

import plotly.graph_objects as go
import pytest

from app import bounds
from app.cli import main
from app.engine import Dataset
from app.projections import spiderweb
from tests.web import many_data

N_EVALS = 20


@pytest.fixture(scope="module")
def many_path(tmp_path_factory):
    return many_data.make_many(tmp_path_factory.mktemp("many") / "many", n_evals=N_EVALS)


@pytest.fixture(scope="module")
def many(many_path):
    return spiderweb.run(Dataset.open(many_path))


def test_the_matrix_leads_and_the_radar_draws_the_first_evals_by_label(many):
    (first, matrix), (second, radar) = many.figures
    assert (first, second) == ("matrix", None)
    assert matrix.layout.meta["style"] == "matrix" and len(next(t for t in matrix.data if t.type == "heatmap").y) == 20
    polygons = [t for t in radar.data if isinstance(t, go.Scatterpolar) and t.mode == "lines+markers"]
    first_eight = many_data.ids(N_EVALS)[: bounds.MAX_RADAR_EVALS]
    assert [t.legendgroup for t in polygons] == first_eight == many.meta["radar_evals"]
    assert "first 8 of 20 evals" in radar.layout.title.text
    assert many.notes[0].startswith("20 evals: the matrix leads") and "the radar draws the first 8 by label" in \
        many.notes[0]


def test_every_eval_keeps_its_finding_and_the_notes_name_each_archetype_once(many):
    assert len(many.findings) == N_EVALS and len(many.rows) == N_EVALS * 4      # the table keeps every eval
    kinds = list(dict.fromkeys(f.kind for f in many.findings))
    grouped = many.notes[1:1 + len(kinds)]
    assert [n.split(" (")[0] for n in grouped] == [k.replace("_", " ").capitalize() for k in kinds]
    for kind, note in zip(kinds, grouped):
        members = [f for f in many.findings if f.kind == kind]
        assert len(members) > 1 and note.split(" (")[1].startswith(f"{len(members)}):")
    text = " ".join(many.notes)
    assert not any(f.text in text for f in many.findings)                     # no per-eval sentence in the notes
    named = [len(re.findall(rf"\bModel {i:02d}\b", text)) for i in range(N_EVALS)]
    assert max(named) == 1                                                      # each eval named at most once


def test_a_handful_of_evals_keeps_the_radar_alone_with_one_sentence_per_eval(many_path):
    few = spiderweb.run(Dataset.open(many_path), filters={"eval_id": many_data.ids(N_EVALS)[:3]})
    assert [s for s, _ in few.figures] == [None]
    assert few.notes[:3] == [f.text for f in few.findings]
    assert "radar_evals" not in few.meta


def test_the_cli_writes_the_matrix_as_a_figure_of_its_own(capsys, tmp_path, many_path):
    code = main(["spiderweb", str(many_path), "--output-dir", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.splitlines() == [str(tmp_path / "spiderweb-matrix.png"), str(tmp_path / "spiderweb.png")]
    assert (tmp_path / "spiderweb-matrix.png").read_bytes()[:4] == b"\x89PNG"
    code = main(["spiderweb", str(many_path), "--format", "json", "--output-dir", str(tmp_path)])
    doc = json.loads((tmp_path / "spiderweb.json").read_text())
    assert code == 0 and len(doc["findings"]) == N_EVALS and doc["radar_evals"] == many_data.ids(N_EVALS)[:8]
