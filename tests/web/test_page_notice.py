"""A dataset whose samples file is broken gets the page's notice with the engine's one-line reason, not a 500."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq

from app.web.page import guarded
from app.web.registry import Registry
from tests.importers.conftest import run_cli, write_jsonl


def test_the_notice_says_which_column_is_wrong_with_the_datasets_name_not_a_path(tmp_path, web_app):
    src = write_jsonl(tmp_path / "r.jsonl", [{"model": "m", "base_task": "t", "params": {"n": n}, "outcome": "correct",
                                              "completion_tokens": 5} for n in range(3)])
    folder = tmp_path / "data" / "broken"
    assert run_cli("import", src, "--adapter", "samples", "--out", folder).returncode == 0
    samples = folder / json.loads((folder / "dataset.json").read_text())["samples"]
    table = pq.read_table(samples)
    i = table.schema.get_field_index("completion_tokens")
    pq.write_table(table.set_column(i, pa.field("completion_tokens", pa.string()), table[i].cast(pa.string())),
                   samples)

    with web_app.server.app_context():
        page = guarded(lambda: Registry(tmp_path / "data").get("broken"))()
    text = str(page)
    assert "No dataset to show" in text
    assert "column 'completion_tokens' has type string; expected int32" in text
    assert str(tmp_path) not in text and "Traceback" not in text and "Internal error" not in text
