"""Fixtures for the report tests: the bundled demo (opened once) and a tiny imported dataset with no 2-D view."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from app.engine import Dataset

BALANCED = "54804a"  # the demo's balanced generalist (data/demo-truth.json)
SPECIALIST = "a1ed7a"  # the demo's task specialist
HOSTILE = "</script><script>window.pwned=1</script> *evil* [x](javascript:alert(1)) | `tick`"


@pytest.fixture(scope="session")
def demo(bundled: Path) -> Dataset:
    return Dataset.open(bundled)


def write_records(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def flat_records(model: str = HOSTILE) -> list[dict]:
    """One task with a single parameter (so no 2-D view: the surface step cannot run), tokens counted."""
    out = []
    for n in (1, 2, 3, 4):
        for i in range(8):
            out.append({"model": model, "template": "t", "sampler": "s", "base_task": "count",
                        "params": {"n": n}, "outcome": "correct" if i < 8 - n else "incorrect",
                        "completion_tokens": 100 * n + i})
    return out


@pytest.fixture(scope="session")
def flat(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-task dataset imported by analyze.py, whose model name is hostile markup; its dataset.json."""
    folder = tmp_path_factory.mktemp("flat")
    src = write_records(folder / "in.jsonl", flat_records())
    assert main(["import", str(src), "--adapter", "samples", "--out", str(folder / "ds")]) == 0
    return folder / "ds" / "dataset.json"
