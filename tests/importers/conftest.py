"""Helpers for the import tests: run the CLI, snapshot a folder, read what was written."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from app.cli import main
from tests.conftest import ROOT

RG_DEMO = Path("reasoning-gym-eval") / "demo"


def run_import(capsys, *args: str) -> tuple[int, str, str]:
    """``analyze.py import ARGS`` in-process: (exit code, stdout, stderr)."""
    code = main(["import", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """``python analyze.py ARGS`` as a user runs it, from the repository root."""
    return subprocess.run([sys.executable, "analyze.py", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes, to prove a failed import changed nothing."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def load(folder: Path) -> tuple[dict, pd.DataFrame]:
    """(dataset.json, samples) of a dataset folder, with ``text`` joined from the texts file by row when it has one."""
    meta = json.loads((folder / "dataset.json").read_text())
    samples = pd.read_parquet(folder / meta["samples"])
    if meta.get("texts"):
        texts = pd.read_parquet(folder / meta["texts"])
        samples["text"] = pd.Series(texts["text"].to_numpy(), index=texts["row"].to_numpy()).reindex(samples.index)
    return meta, samples


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def make_rg_run(root: Path, run_name: str = "acme_tiny-model_20250101_120000", *, level: str = "easy",
                tasks: dict[str, list[list[dict]]] | None = None, summary: dict | None = None) -> Path:
    """A small reasoning-gym-eval run folder in the real layout, for tests that need no real data."""
    run = root / level / run_name
    (run / "arithmetic").mkdir(parents=True)
    summary = {"model": "acme/tiny-model", "max_tokens": 4096, "temperature": 0.6, "top_p": 0.95,
               "completions_per_prompt": 2, "partial": False} if summary is None else summary
    (run / "summary.json").write_text(json.dumps(summary))
    tasks = tasks or {"gcd": [[{"model_answer": "4", "full_model_response": "<answer>4</answer>", "score": 1.0},
                               {"model_answer": None, "full_model_response": "", "score": 0.0}]]}
    for name, results in tasks.items():
        doc = {"name": name, "category": "arithmetic", "config": {"size": len(results), "seed": 1},
               "results": [{"question": "q", "expected_answer": "4", "completions": c} for c in results]}
        (run / "arithmetic" / f"{name}.json").write_text(json.dumps(doc))
    return run


@pytest.fixture(scope="session")
def rg_demo(shared_data: Path) -> Path:
    return shared_data / RG_DEMO


@pytest.fixture
def copy_run(rg_demo: Path, tmp_path: Path):
    """Copy one real run dir (``level/run-name``) into ``tmp_path/src/<level>/``."""

    def copy(rel: str, level: str | None = None, name: str | None = None) -> Path:
        src = rg_demo / rel
        dst = tmp_path / "src" / (level or src.parent.name) / (name or src.name)
        shutil.copytree(src, dst)
        return dst

    return copy
