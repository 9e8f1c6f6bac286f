"""What killed imports leave is removed by the next write into the same place: ours only, never a live import's."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import time
from pathlib import Path

import pyarrow as pa
import pytest

from app.engine import Dataset
from app.engine import leftovers as lo
from app.engine.store import write_dataset

from .conftest import EVALS, random_rows


def meta():
    return {"name": "t", "evals": EVALS, "tasks": []}


def table(seed: int = 0) -> pa.Table:
    return pa.Table.from_pylist(random_rows(seed=seed))


def leave_behind(target: Path) -> dict[str, Path]:
    """What ``store._commit`` leaves when killed at each step, by its own naming."""
    staging = target.parent / f".{target.name}.k3x_9q2a"      # mkdtemp(prefix=".<name>.") of a first import
    staging.mkdir()
    (staging / "samples.parquet").write_bytes(b"PAR1 half written")
    made = {"staging": staging}
    for name in (".samples-0a1b2c3d.parquet.tmp", ".texts-0a1b2c3d.parquet.tmp", ".samples.parquet.tmp",
                 ".dataset.json.tmp", "samples-0a1b2c3d.parquet", "texts-9f8e7d6c.parquet"):
        made[name] = target / name
        made[name].write_bytes(b"partial")
    return made


def not_ours(target: Path) -> list[Path]:
    """Names close to ours that a user (or another tool) may own: never removed."""
    (target.parent / f".{target.name}.notes").mkdir()                        # not 8 characters
    odd = target.parent / f".{target.name}.abcdefgh"                          # our pattern, foreign content
    odd.mkdir()
    (odd / "keep.txt").write_text("mine")
    paths = [target.parent / f".{target.name}.notes", odd, target / ".samples.parquet.tmp.bak",
             target / "notes.tmp", target / "samples-backup.parquet", target / ".dataset.json.tmp~",
             target.parent / ".other.zzzzzzzz"]
    for p in paths[2:6]:
        p.write_text("keep")
    paths[6].mkdir()
    return paths


@pytest.fixture()
def target(tmp_path) -> Path:
    out = tmp_path / "ds"
    write_dataset(out, meta(), table())
    return out


def test_the_next_write_removes_exactly_what_killed_imports_left(target):
    made = leave_behind(target)
    keep = not_ours(target)
    summary = write_dataset(target, meta(), table(seed=1))
    assert sorted(summary.leftovers) == sorted([".ds.k3x_9q2a/", *[n for n in made if n != "staging"]])
    assert not any(p.exists() for p in made.values())
    assert all(p.exists() for p in keep)
    ds = Dataset.open(target)                       # the dataset itself is whole
    assert ds.n_samples == len(random_rows(seed=1))


def test_nothing_is_removed_while_another_import_holds_the_folder(target):
    made = leave_behind(target)
    fd = os.open(target, os.O_RDONLY)                # a live import into the same target holds this lock
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        summary = write_dataset(target, meta(), table(seed=1))
        assert summary.leftovers == [f".{target.name}.k3x_9q2a/"]   # the parent was free
        assert made[".samples-0a1b2c3d.parquet.tmp"].exists() and made["samples-0a1b2c3d.parquet"].exists()
    finally:
        os.close(fd)
    summary = write_dataset(target, meta(), table(seed=2))
    assert {".samples-0a1b2c3d.parquet.tmp", "samples-0a1b2c3d.parquet"} <= set(summary.leftovers)
    assert not made[".samples-0a1b2c3d.parquet.tmp"].exists()


def test_staging_folders_beside_the_target_wait_for_imports_into_the_same_parent(target):
    made = leave_behind(target)
    fd = os.open(target.parent, os.O_RDONLY)         # a live import into a sibling folder
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        summary = write_dataset(target, meta(), table(seed=1))
        assert made["staging"].exists() and ".samples.parquet.tmp" in summary.leftovers
    finally:
        os.close(fd)
    assert f".{target.name}.k3x_9q2a/" in write_dataset(target, meta(), table(seed=2)).leftovers


def test_without_locks_only_old_leftovers_go(target, monkeypatch):
    made = leave_behind(target)
    old = time.time() - lo.UNLOCKED_MIN_AGE - 60
    os.utime(made[".texts-0a1b2c3d.parquet.tmp"], (old, old))

    def no_flock(fd, op):
        raise OSError(errno.ENOLCK, "no locks on this file system")

    monkeypatch.setattr(lo.fcntl, "flock", no_flock)
    summary = write_dataset(target, meta(), table(seed=1))
    assert summary.leftovers == [".texts-0a1b2c3d.parquet.tmp"]
    assert made[".samples.parquet.tmp"].exists() and made["staging"].exists()


def test_the_data_files_in_use_are_never_orphans(target):
    write_dataset(target, meta(), table(seed=1))      # now samples-<hex>.parquet, named by dataset.json
    doc = json.loads((target / "dataset.json").read_text())
    assert doc["samples"] != "samples.parquet"
    summary = write_dataset(target, meta(), table(seed=2))
    assert summary.leftovers == []
    assert Dataset.open(target).n_samples == len(random_rows(seed=2))


def test_the_staging_pattern_is_mkdtemps():
    import tempfile

    here = Path(tempfile.mkdtemp(prefix=".ds.", dir=tempfile.gettempdir()))
    try:
        assert lo.staging_pattern(Path("/x/ds")).fullmatch(here.name)
    finally:
        here.rmdir()
