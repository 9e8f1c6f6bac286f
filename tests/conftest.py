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
