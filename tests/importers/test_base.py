"""The helpers every adapter shares: JSON with positions, sampler labels, typed import metadata."""

from __future__ import annotations

import pytest

from app.engine.errors import InputError
from app.engine.meta import EvalMeta, ImportMeta, TaskMeta
from app.importers.base import load_json, sampler_label


def test_load_json_reports_file_line_and_column(tmp_path):
    path = tmp_path / "run.json"
    path.write_text('{\n  "model": "m",\n  "score": ,\n}\n')
    with pytest.raises(InputError) as exc:
        load_json(path)
    assert str(exc.value) == f"{path}:3:12: not valid JSON (Expecting value)"


def test_load_json_reports_bad_bytes_and_missing_files(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"a": 1,\n "b": "caf\xe9"}')
    with pytest.raises(InputError, match=r"latin1\.json:2:11: not UTF-8 text"):
        load_json(path)
    with pytest.raises(InputError, match=r"absent\.json: cannot read"):
        load_json(tmp_path / "absent.json")
    (tmp_path / "bom.json").write_bytes(b'\xef\xbb\xbf{"a": 1}')
    assert load_json(tmp_path / "bom.json") == {"a": 1}


@pytest.mark.parametrize("kwargs, label", [
    ({"temperature": 0.6, "top_p": 0.95}, "t0.6-p0.95"),
    ({"temperature": 0}, "t0"),
    ({"temperature": 0.7}, "t0.7"),
    ({"top_p": 0.9}, "p0.9"),
    ({}, "default"),
    ({"temperature": True, "top_p": "0.9"}, "default"),  # not numbers: not settings
    ({"temperature": 0.7, "top_p": 0.9, "greedy": True}, "greedy"),
])
def test_sampler_label(kwargs, label):
    assert sampler_label(**kwargs) == label


def test_import_meta_becomes_a_dataset_with_provenance_over_every_import():
    first = ImportMeta(evals=[EvalMeta("m")], tasks=[TaskMeta("t")], source="a.jsonl", tokens="exact")
    ds = first.dataset("samples", "2026-01-01T00:00:00Z", name="mine")
    assert (ds.name, ds.title, ds.evals[0].eval_id, ds.tasks[0].base_task) == ("mine", "mine", "9d6bf0", "t")
    assert ds.provenance == {"source": "a.jsonl", "imported": "2026-01-01T00:00:00Z", "tokens": "exact",
                             "imports": [{"adapter": "samples", "imported": "2026-01-01T00:00:00Z",
                                          "source": "a.jsonl", "tokens": "exact"}]}
    second = ImportMeta(source="b/", tokens="estimated", tokens_method="bytes / 4", details={"grading": "g"})
    merged = second.dataset("babilong", "2026-01-02T00:00:00Z", previous=ds)
    assert merged.name == "dataset"  # no name: the target's is kept when the store merges
    assert merged.provenance["source"] == "a.jsonl; b/" and merged.provenance["tokens"] == "estimated"
    assert merged.provenance["imports"][-1] == {"adapter": "babilong", "imported": "2026-01-02T00:00:00Z",
                                                "source": "b/", "tokens": "estimated", "tokens_method": "bytes / 4",
                                                "grading": "g"}
    assert merged.tokens_methods == ["bytes / 4"]
    with pytest.raises(ValueError, match="tokens must be one of"):
        ImportMeta(tokens="guessed")
