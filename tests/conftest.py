"""Shared fixtures: where the real third-party data lives, and small datasets."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SHARED_DATA = SHARED / "data"
BUNDLED = ROOT / "data" / "dataset.json"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real evaluation data in ../shared/data (present in CI; skipped elsewhere)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA} (../shared is absent)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def bundled() -> Path:
    """The committed demo dataset."""
    if not BUNDLED.is_file():
        pytest.skip("data/dataset.json not generated yet (python analyze.py demo --out data)")
    return BUNDLED


@pytest.fixture(scope="session")
def rg_demo_import(shared_data: Path, tmp_path_factory):
    """``../shared/data/reasoning-gym-eval/demo`` imported once per session; the import's Report.

    With reasoning-gym installed, every task file is rebuilt to find its real difficulty values:
    about 25 s the first time on 2 cores, then a few seconds, since the rebuilds are kept in
    ``.cache/reasoning-gym`` (and in memory for any later import in the same session).
    ``report.written.path`` is the dataset.json.
    """
    from app.importers.runner import import_sources

    out = tmp_path_factory.mktemp("rg-demo") / "ds"
    return import_sources([shared_data / "reasoning-gym-eval" / "demo"], "reasoning-gym-eval", out)
