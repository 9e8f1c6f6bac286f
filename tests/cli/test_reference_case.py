"""Spec §3's reference case, end to end: JSONL → ``import --adapter samples`` → ``spiderweb --format json``."""

from __future__ import annotations

import json
import math

import pytest

from tests.importers.conftest import run_cli, write_jsonl

COUNTS = {"correct": 337, "invalid": 6, "incorrect": 545, "truncated": 8}
GUESS = 1 / 12
Z = 1.96


def wilson(p: float, n: float) -> tuple[float, float]:
    """§3: center and margin of the 95% Wilson interval on p clipped to [0, 1]."""
    p = min(max(p, 0.0), 1.0)
    center = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    margin = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return center, margin


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reference")
    records = [{"model": "reference", "base_task": "choice", "params": {}, "outcome": outcome, "guess_rate": GUESS}
               for outcome, n in COUNTS.items() for _ in range(n)]
    src = write_jsonl(tmp / "reference.jsonl", records)
    result = run_cli("import", src, "--adapter", "samples", "--out", tmp / "ds")
    assert result.returncode == 0, result.stderr
    return tmp


def spiderweb_row(folder, truncation: str) -> dict:
    out = folder / truncation
    result = run_cli("spiderweb", folder / "ds", "--format", "json", "--truncation", truncation, "--output-dir", out)
    assert result.returncode == 0, result.stderr
    [row] = json.loads((out / "spiderweb.json").read_text())["rows"]
    return row


def test_legacy_mode_gives_the_documented_digits(reference):
    row = spiderweb_row(reference, "separate")
    assert row["accuracy"] == pytest.approx(0.3230958230958231, abs=1e-12)
    assert row["center"] == pytest.approx(0.3239267848444002, abs=1e-12)
    assert row["margin"] == pytest.approx(0.03206244563179326, abs=1e-12)


def test_failure_mode_gives_the_digits_of_the_formulas(reference):
    c, w, i, t = (COUNTS[k] for k in ("correct", "incorrect", "invalid", "truncated"))
    g = (c + w + i + t) * GUESS                                    # G over all samples
    n, s = c + w + i + t - g, c - g
    center, margin = wilson(s / n, n)
    row = spiderweb_row(reference, "failure")
    assert row["accuracy"] == pytest.approx(s / n, abs=1e-12)
    assert row["center"] == pytest.approx(center, abs=1e-12)
    assert row["margin"] == pytest.approx(margin, abs=1e-12)
    assert row["truncated"] == 8 and row["n"] == pytest.approx(n, abs=1e-9)  # trials: C + W + I + T − G
