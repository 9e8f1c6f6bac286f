"""The registry stays current: new folders without a restart, a new version when any data file changes."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from app.engine import Dataset, fingerprint
from app.engine.errors import InputError
from app.web import registry as registry_module
from app.web.registry import Registry
from tests.web.data import make_dataset


def copy_as(web_data: Path, folder: Path, name: str) -> Path:
    shutil.copytree(web_data.parent, folder)
    meta = json.loads((folder / "dataset.json").read_text())
    meta["name"] = name
    (folder / "dataset.json").write_text(json.dumps(meta))
    return folder


def test_new_and_removed_dataset_folders_are_seen_without_a_restart(web_data, tmp_path):
    root = tmp_path / "root"
    copy_as(web_data, root / "first", "first")
    registry = Registry(root, rescan_seconds=0.2)
    assert registry.names == ["first"]
    copy_as(web_data, root / "second", "second")
    assert registry.names == ["first"]  # not rescanned on every call
    time.sleep(0.25)
    assert registry.names == ["first", "second"] and registry.get("second").name == "second"
    shutil.rmtree(root / "first")
    time.sleep(0.25)
    assert registry.names == ["second"] and registry.opened() == ["second"]
    with pytest.raises(InputError, match="unknown dataset 'first'"):
        registry.get("first")


def test_a_rescan_parses_only_changed_dataset_json_files(web_data, tmp_path, monkeypatch):
    root = tmp_path / "root"
    for name in ("a", "b", "c"):
        copy_as(web_data, root / name, name)
    parsed: list[str] = []
    real = registry_module.read_meta
    monkeypatch.setattr(registry_module, "read_meta", lambda p: parsed.append(Path(p).parent.name) or real(p))
    registry = Registry(root)
    assert sorted(parsed) == ["a", "b", "c"]
    for _ in range(5):
        registry.rescan()
    assert len(parsed) == 3
    path = root / "b" / "dataset.json"
    path.write_text(path.read_text().replace('"name": "b"', '"name": "bee"'))
    registry.rescan()
    assert parsed[3:] == ["b"] and registry.names == ["a", "bee", "c"]


def test_a_rewritten_parquet_under_the_same_dataset_json_is_reopened_with_a_new_version(tmp_path):
    meta_path = make_dataset(tmp_path / "served", seed=3)
    other = make_dataset(tmp_path / "other", seed=11)
    registry = Registry(meta_path)
    first = registry.get()
    old = first.aggregate(group_by=["eval_id"])
    json_before = meta_path.read_bytes()
    shutil.copyfile(other.parent / "samples.parquet", meta_path.parent / "samples.parquet")
    assert meta_path.read_bytes() == json_before
    second = registry.get()
    assert second is not first and second.version != first.version
    new = second.aggregate(group_by=["eval_id"])
    assert not new["accuracy"].equals(old["accuracy"])
    assert new["accuracy"].tolist() == Dataset.open(other).aggregate(group_by=["eval_id"])["accuracy"].tolist()
    assert registry.get() is second  # unchanged files: the same object, no reopen


def test_the_version_covers_every_declared_data_file(tmp_path):
    meta_path = make_dataset(tmp_path / "d")
    doc = json.loads(meta_path.read_text())
    doc["texts"] = "texts.parquet"
    meta_path.write_text(json.dumps(doc))
    texts = meta_path.parent / "texts.parquet"
    texts.write_bytes(b"placeholder")
    ds = Dataset.open(meta_path)
    assert [s.name for s in ds.stamps] == ["dataset.json", "samples.parquet", "texts.parquet"]
    v1 = ds.version
    texts.write_bytes(b"placeholder, longer")
    assert ds.changed_on_disk() and Dataset.open(meta_path).version != v1
    samples = meta_path.parent / "samples.parquet"
    st = samples.stat()
    os.utime(samples, ns=(st.st_atime_ns, st.st_mtime_ns + 1))  # same size, 1 ns newer
    v2 = Dataset.open(meta_path).version
    os.utime(samples, ns=(st.st_atime_ns, st.st_mtime_ns + 2))
    assert Dataset.open(meta_path).version != v2
    assert ds.version == v1  # pinned to the files it was read from


def test_identical_copies_with_their_mtimes_share_a_version(tmp_path):
    meta_path = make_dataset(tmp_path / "one")
    shutil.copytree(meta_path.parent, tmp_path / "two")  # copytree keeps mtimes, like rsync -t or docker COPY
    assert Dataset.open(meta_path).version == Dataset.open(tmp_path / "two").version


def test_a_dataset_that_fails_to_open_is_retried_only_when_its_files_change(web_data, tmp_path, monkeypatch):
    folder = copy_as(web_data, tmp_path / "d", "d")
    good = (folder / "samples.parquet").read_bytes()
    (folder / "samples.parquet").write_bytes(good[:50])
    opens: list[int] = []
    real = Dataset.open
    monkeypatch.setattr(registry_module.Dataset, "open", lambda p: opens.append(1) or real(p))
    registry = Registry(folder)
    for _ in range(3):
        with pytest.raises(InputError, match=r"^dataset 'd' cannot be opened: d/samples.parquet: ") as err:
            registry.get()
        assert str(tmp_path) not in str(err.value)
    assert len(opens) == 1
    (folder / "samples.parquet").write_bytes(good)
    assert registry.get().name == "d" and len(opens) == 2
    assert registry.health()[0].ok


def test_a_file_that_changes_during_the_read_is_read_again(tmp_path, monkeypatch):
    meta_path = make_dataset(tmp_path / "d")
    samples = meta_path.parent / "samples.parquet"
    opens: list[int] = []
    real = Dataset.open

    def open_while_written(path):
        ds = real(path)
        opens.append(1)
        if len(opens) == 1:  # the importer replaces the file while the first read runs
            st = samples.stat()
            os.utime(samples, ns=(st.st_atime_ns, st.st_mtime_ns + 1000))
        return ds

    monkeypatch.setattr(registry_module.Dataset, "open", open_while_written)
    ds = Registry(meta_path).get()
    assert len(opens) == 2
    assert ds.version == fingerprint.version(fingerprint.stamps(meta_path, ds.meta))
