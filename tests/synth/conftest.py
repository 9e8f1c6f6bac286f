"""The committed demo dataset, loaded once for the truth tests."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest


@pytest.fixture(scope="session")
def meta(bundled: Path) -> dict:
    return json.loads(bundled.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def truth(bundled: Path) -> dict:
    path = bundled.parent / "demo-truth.json"
    if not path.is_file():
        pytest.skip("data/demo-truth.json missing (python analyze.py demo --out data)")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def samples(bundled: Path, meta: dict) -> pd.DataFrame:
    return pd.read_parquet(bundled.parent / meta["samples"])
