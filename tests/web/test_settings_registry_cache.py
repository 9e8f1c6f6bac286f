"""Settings from the environment, dataset discovery, and the cache key."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from flask import Flask

from app.engine.errors import InputError
from app.web.cache import KEY_PREFIX, make_cache, view_key
from app.web.registry import Registry, discover
from app.web.settings import DEFAULT_CACHE_DIR, DEFAULT_DATA, Settings, from_env, normalise_base_path
from app.web.state import decode


def test_settings_defaults():
    s = from_env({})
    assert s.data == DEFAULT_DATA and s.cache_dir == DEFAULT_CACHE_DIR
    assert s.redis_url is None and s.cache_backend == "filesystem" and s.url_base_pathname == "/"


def test_settings_from_environment(tmp_path):
    s = from_env({"PROFILE_DATA": str(tmp_path / "d"), "CACHE_DIR": "rel/cache", "REDIS_URL": "redis://h:1/0",
                  "URL_BASE_PATHNAME": "profile", "CACHE_TIMEOUT": "60", "PROFILE_PRELOAD": "0"})
    assert s.data == tmp_path / "d"
    assert s.cache_dir == Path.cwd() / "rel/cache"
    assert s.cache_backend == "redis" and s.redis_url == "redis://h:1/0"
    assert s.url_base_pathname == "/profile/" and s.cache_timeout == 60 and s.preload is False


@pytest.mark.parametrize("raw, want", [(None, "/"), ("", "/"), ("/", "/"), ("/a", "/a/"), ("a/b/", "/a/b/")])
def test_base_path_normalised(raw, want):
    assert normalise_base_path(raw) == want


def test_discovery_of_one_file_a_folder_and_subfolders(web_data, tmp_path):
    assert [e.name for e in discover(web_data)] == ["webtest"]
    root = tmp_path / "many"
    for sub in ("one", "two"):
        shutil.copytree(web_data.parent, root / sub)
    meta = json.loads((root / "two" / "dataset.json").read_text())
    meta["name"] = "second"
    (root / "two" / "dataset.json").write_text(json.dumps(meta))
    (root / "broken").mkdir()
    (root / "broken" / "dataset.json").write_text("{not json")
    entries = discover(root)
    assert [e.name for e in entries] == ["webtest", "second"]
    shutil.copytree(web_data.parent, root / "three")  # same name again: disambiguated by folder
    assert [e.name for e in discover(root)] == ["webtest", "webtest-three", "second"]  # sorted by folder
    assert discover(tmp_path / "absent") == []


def test_names_are_looked_up_never_used_as_paths(web_data):
    registry = Registry(web_data.parent)
    assert registry.names == ["webtest"] and registry.default == "webtest"
    for bad in ("../webtest", "/etc/passwd", "webtest/../../x", ""):
        with pytest.raises(InputError, match="unknown dataset"):
            registry.entry(bad)


def test_opened_once_and_reopened_when_rewritten(web_data, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(web_data.parent, folder)
    registry = Registry(folder)
    first = registry.get()
    assert registry.get() is first and registry.opened() == ["webtest"]
    path = folder / "dataset.json"
    meta = json.loads(path.read_text())
    meta["title"] = "Changed title"
    path.write_text(json.dumps(meta))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10_000_000))
    second = registry.get()
    assert second is not first and second.title == "Changed title" and second.version != first.version


def test_no_data_is_a_clear_error(tmp_path):
    registry = Registry(tmp_path)
    with pytest.raises(InputError, match="PROFILE_DATA"):
        registry.get()


def test_view_key_follows_version_and_canonical_state(web_data):
    registry = Registry(web_data)
    a = decode("hazard", {"bucket_size": "128"}, registry).state
    b = decode("hazard", {"bucket_size": "128", "group_by": "eval_id"}, registry).state  # default spelled out
    c = decode("hazard", {"bucket_size": "64"}, registry).state
    d = decode("spiderweb", {}, registry).state
    assert view_key(a, "v1") == view_key(b, "v1")
    assert len({view_key(a, "v1"), view_key(a, "v2"), view_key(c, "v1"), view_key(d, "v1")}) == 4
    assert view_key(a, "v1").startswith(f"{KEY_PREFIX}hazard:")


def test_cache_backend_follows_settings(tmp_path):
    fs = make_cache(Flask("a"), Settings(data=tmp_path, cache_dir=tmp_path / "c", cache_max_mb=3))
    assert type(fs.backend).__name__ == "LruFileCache" and (tmp_path / "c").is_dir()
    assert fs.backend_name == "filesystem" and fs.backend.max_bytes == 3 << 20
    fs.set("k", {"x": 1})
    assert fs.get("k") == {"x": 1}
    redis = make_cache(Flask("b"), Settings(data=tmp_path, cache_dir=tmp_path / "c", redis_url="redis://127.0.0.1:1/0"))
    assert type(redis.backend).__name__ == "RedisCache" and redis.backend_name == "redis"
    assert type(redis.backend.serializer).__name__ == "RawBytes"  # flask-caching's pickling path is never used
