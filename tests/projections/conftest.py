"""Fixtures for projection tests: the planted synthetic dataset and the bundled demo with its truth."""

from __future__ import annotations

import json

import pytest

from app.engine import Dataset
from tests.projections import synthetic


@pytest.fixture(scope="session")
def syn_path(tmp_path_factory):
    return synthetic.build(tmp_path_factory.mktemp("synthetic") / "ds")


@pytest.fixture(scope="session")
def syn(syn_path) -> Dataset:
    return Dataset.open(syn_path)


@pytest.fixture(scope="session")
def ids() -> dict[str, str]:
    return synthetic.ids()


@pytest.fixture(scope="session")
def demo(bundled) -> Dataset:
    return Dataset.open(bundled)


@pytest.fixture(scope="session")
def truth(bundled) -> dict:
    path = bundled.parent / "demo-truth.json"
    if not path.is_file():
        pytest.skip("data/demo-truth.json missing")
    return json.loads(path.read_text())
