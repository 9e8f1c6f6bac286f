"""The view cache: signed JSON instead of pickles, misses instead of errors, LRU eviction under a size bound."""

from __future__ import annotations

import csv
import io
import logging
import os
import pickle
import shutil
import socket
import stat
import struct
import time
from pathlib import Path

import pytest
import requests
from flask import Flask

from app.engine import Dataset
from app.web import compute
from app.web.cache import ViewCache, make_cache, redis_client
from app.web.file_cache import EXPIRY, LruFileCache
from app.web.services import EXTENSION, Services, current
from app.web.settings import Settings
from app.web.signing import KEY_FILE, derive, seal, unseal
from app.web.state import decode
from tests.web.conftest import free_port, stop
from tests.web.data import make_dataset
from tests.web.servers import REQUEST_HEADER, gunicorn, start_redis, workers_of

SECRET = derive("test secret")


class Plant:
    """A pickle that creates a folder when it is unpickled: proof that nothing read from the cache is unpickled."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return (os.makedirs, (self.path,))


def planted_pickle(marker: Path, tmp: Path) -> bytes:
    payload = pickle.dumps(Plant(marker))
    proof = tmp / "proof-the-payload-works"
    pickle.loads(pickle.dumps(Plant(proof)))  # noqa: S301 - shows what unpickling such an entry would do
    assert proof.is_dir()
    return payload


def file_cache(tmp: Path, max_bytes: int = 1 << 20) -> ViewCache:
    return ViewCache(LruFileCache(tmp / "cache", max_bytes), "filesystem", SECRET)


# ---------------------------------------------------------------- signed entries
def test_text_and_json_values_round_trip_as_signed_text(tmp_path):
    cache = file_cache(tmp_path)
    figure = '{"data":[{"type":"bar","y":[1,2]}],"layout":{}}'
    cache.set_many({"k:fig:0": figure, "k:summary": {"status": "ok", "n_rows": 3}, "k:splits": [4, "a", 1.5]})
    assert cache.get("k:fig:0") == figure  # figures and CSV are stored as the text they are
    assert cache.get("k:summary") == {"status": "ok", "n_rows": 3}
    assert cache.get("k:splits") == [4, "a", 1.5]
    raw = cache.backend.get("k:fig:0")
    assert raw.startswith(b"PRF1t") and raw.endswith(figure.encode())  # readable, not a pickle


@pytest.mark.parametrize("spoil", ["flip a payload byte", "flip a MAC byte", "other key", "other secret",
                                   "cut short", "pickle", "empty"])
def test_an_entry_that_fails_its_check_is_a_miss(spoil):
    good = seal(SECRET, "view:summary", {"status": "ok"})
    data, key, secret = good, "view:summary", SECRET
    if spoil == "flip a payload byte":
        data = good[:-2] + bytes([good[-2] ^ 1]) + good[-1:]
    elif spoil == "flip a MAC byte":
        data = good[:10] + bytes([good[10] ^ 1]) + good[11:]
    elif spoil == "other key":  # a genuine entry copied under another key (e.g. another dataset version)
        key = "view2:summary"
    elif spoil == "other secret":
        secret = derive("another deployment")
    elif spoil == "cut short":
        data = good[:20]
    elif spoil == "pickle":
        data = pickle.dumps({"status": "ok"})
    elif spoil == "empty":
        data = b""
    assert unseal(SECRET, "view:summary", good) == ({"status": "ok"}, True)
    assert unseal(secret, key, data) == (None, False)


def test_a_planted_pickle_in_the_cache_folder_is_a_miss_and_never_unpickled(web_app, client, tmp_path):
    url = "/_profile/figure/hazard/0.json?bucket_size=99"
    first = client.get(url)
    assert first.status_code == 200 and first.headers["X-Profile-Cache"] == "miss"
    with web_app.server.test_request_context("/"):
        services = current()
        key = compute.view(services, decode("hazard", {"bucket_size": "99"}, services.registry).state).key
    path = services.cache.backend.path(f"{key}:fig:0")
    assert path.is_file()
    marker = tmp_path / "pwned"
    payload = planted_pickle(marker, tmp_path)
    for planted in (EXPIRY.pack(0) + payload,  # our file layout around a pickle
                    struct.pack("I", 0) + payload):  # cachelib's FileSystemCache layout (what was stored before)
        path.write_bytes(planted)
        again = client.get(url)
        assert again.status_code == 200 and again.headers["X-Profile-Cache"] == "miss"
        assert again.get_json() == first.get_json()
        assert not marker.exists()
        assert client.get(url).headers["X-Profile-Cache"] == "hit"  # the recomputed entry replaced it


@pytest.mark.browser
def test_a_planted_pickle_in_redis_is_a_miss_and_never_unpickled(tmp_path):
    proc, port, client = start_redis(tmp_path)
    try:
        cache = make_cache(Flask("t"), Settings(data=tmp_path, cache_dir=tmp_path / "c", secret_key="s",
                                                redis_url=f"redis://127.0.0.1:{port}/0"))
        cache.set("profile:v1:hazard:abc:summary", {"status": "ok"})
        assert cache.get("profile:v1:hazard:abc:summary") == {"status": "ok"}
        marker = tmp_path / "pwned"
        payload = planted_pickle(marker, tmp_path)
        for planted in (b"!" + payload,  # cachelib's RedisSerializer layout: what flask-caching would unpickle
                        payload, b"PRF1j" + bytes(32) + b'{"status":"forged"}'):
            client.set("profile:v1:hazard:abc:summary", planted)
            assert cache.get("profile:v1:hazard:abc:summary") is None
            assert not marker.exists()
    finally:
        stop(proc)


# --------------------------------------------------------------------- the secret
def test_without_secret_key_workers_share_one_private_key_file(tmp_path, caplog):
    one = make_cache(Flask("a"), Settings(data=tmp_path, cache_dir=tmp_path / "c"))
    two = make_cache(Flask("b"), Settings(data=tmp_path, cache_dir=tmp_path / "c"))  # a second worker
    one.set("k", {"from": "one"})
    assert two.get("k") == {"from": "one"}
    mode = (tmp_path / "c" / KEY_FILE).stat().st_mode
    assert stat.S_IMODE(mode) == 0o600
    with caplog.at_level(logging.WARNING, "app.web.signing"):
        make_cache(Flask("c"), Settings(data=tmp_path, cache_dir=tmp_path / "c", redis_url="redis://127.0.0.1:1/0"))
    assert "set SECRET_KEY" in caplog.text  # Redis: the key file is per host


def test_secret_key_is_shared_by_hosts_and_a_different_one_misses(tmp_path):
    a = make_cache(Flask("a"), Settings(data=tmp_path, cache_dir=tmp_path / "c", secret_key="same"))
    a.set("k", "text")
    b = ViewCache(a.backend, "filesystem", derive("same"))  # another host, same backend
    c = ViewCache(a.backend, "filesystem", derive("other"))
    assert b.get("k") == "text" and c.get("k") is None
    assert not (tmp_path / "c" / KEY_FILE).exists()


def test_a_key_file_others_could_have_written_is_refused(tmp_path, caplog):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / KEY_FILE).write_bytes(b"k" * 32)
    (folder / KEY_FILE).chmod(0o644)
    with caplog.at_level(logging.WARNING, "app.web.signing"):
        one = make_cache(Flask("a"), Settings(data=tmp_path, cache_dir=folder))
        two = make_cache(Flask("b"), Settings(data=tmp_path, cache_dir=folder))
    assert "not private" in caplog.text
    one.set("k", "v")
    assert two.get("k") is None and one.get("k") == "v"  # each worker signs with its own random key


# ------------------------------------------------------------- bounded entries
def test_a_value_over_the_entry_bound_is_served_but_not_cached(web_app, client, caplog):
    services = web_app.server.extensions[EXTENSION]
    small = ViewCache(services.cache.backend, "filesystem", SECRET, max_entry_bytes=2000)
    web_app.server.extensions[EXTENSION] = Services(services.settings, services.registry, small)
    url = "/_profile/figure/hazard/0.json?bucket_size=123"
    try:
        with caplog.at_level(logging.WARNING, "app.web.cache"):
            answers = [client.get(url) for _ in range(3)]
    finally:
        web_app.server.extensions[EXTENSION] = services
    assert all(r.status_code == 200 and r.get_json()["data"] for r in answers)
    assert len(answers[0].data) > 2000
    assert [r.headers["X-Profile-Cache"] for r in answers] == ["miss"] * 3  # computed each time, never stored
    assert caplog.text.count("not cached") == 1 and "over the" in caplog.text  # logged once per interval


# --------------------------------------------------- a cache that is down or slow
def test_an_unreachable_redis_is_a_miss_and_logged_once(tmp_path, caplog):
    cache = make_cache(Flask("r"), Settings(data=tmp_path, cache_dir=tmp_path / "c", secret_key="s",
                                            redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    cache.retry_seconds = 0.0  # no rest: every call tries (and fails) again
    started = time.perf_counter()
    with caplog.at_level(logging.WARNING, "app.web.cache"):
        for i in range(50):
            assert cache.get(f"k{i}") is None
            assert cache.set_many({f"k{i}": "v"}) == []
    assert time.perf_counter() - started < 5
    assert caplog.text.count("redis cache unavailable (connection failed)") == 1
    assert not cache.status().reachable and cache.status().reason == "connection failed"


def test_a_redis_that_never_answers_is_a_miss_within_its_timeout(tmp_path):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections complete in the kernel; nothing ever answers
    try:
        client = redis_client(f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
        backend = make_cache(Flask("s"), Settings(data=tmp_path, cache_dir=tmp_path / "c", secret_key="s",
                                                  redis_url="redis://127.0.0.1:1/0")).backend
        backend._read_client = backend._write_client = client
        cache = ViewCache(backend, "redis", SECRET, ping=client.ping)
        started = time.perf_counter()
        assert cache.get("k") is None
        first = time.perf_counter() - started
        assert first < 1.5
        started = time.perf_counter()
        for _ in range(20):  # resting after the failure: no timeout to wait out per request
            assert cache.get("k") is None and cache.set("k", "v") is False
        assert time.perf_counter() - started < 0.05
        assert cache.status().reason == "timed out"
    finally:
        silent.close()


# -------------------------------------------------------------------- LRU files
def test_the_file_cache_evicts_the_least_recently_used_not_the_oldest(tmp_path):
    backend = LruFileCache(tmp_path / "lru", max_bytes=1_000_000)
    cache = ViewCache(backend, "filesystem", SECRET)
    value = "x" * 100_000
    cache.set("popular", value)  # written first: the oldest entry
    for i in range(40):  # 4 MB written into a 1 MB cache
        cache.set(f"one-off-{i}", value)
        assert cache.get("popular") == value, f"the popular entry was evicted after {i + 1} writes"
    assert backend.size() <= 1_000_000 and backend.evicted >= 30
    assert cache.get("one-off-0") is None and cache.get("one-off-39") == value


def test_the_file_cache_bound_comes_from_cache_max_mb(tmp_path):
    from app.web.settings import from_env

    assert from_env({}).cache_max_mb == 512
    assert from_env({"CACHE_MAX_MB": "64"}).cache_max_mb == 64
    assert from_env({"CACHE_MAX_MB": "²"}).cache_max_mb == 512 and from_env({"CACHE_MAX_MB": "0"}).cache_max_mb == 512
    assert from_env({"SECRET_KEY": "s3"}).secret_key == "s3" and "s3" not in repr(from_env({"SECRET_KEY": "s3"}))
    cache = make_cache(Flask("m"), Settings(data=tmp_path, cache_dir=tmp_path / "c", cache_max_mb=64))
    assert cache.backend.max_bytes == 64 << 20


def test_an_expired_entry_is_a_miss(tmp_path):
    backend = LruFileCache(tmp_path / "lru", max_bytes=1 << 20, default_timeout=1)
    backend.set("k", b"v")
    assert backend.get("k") == b"v"
    path = backend.path("k")
    path.write_bytes(EXPIRY.pack(int(time.time()) - 1) + b"v")
    assert backend.get("k") is None and not path.exists()


# ------------------------------------------- two workers after a Parquet changes
def _accuracy(text: str) -> dict[tuple[str, str], float]:
    return {(r["eval_id"], r["base_task"]): float(r["accuracy"]) for r in csv.DictReader(io.StringIO(text))}


@pytest.mark.browser
def test_two_workers_serve_the_new_numbers_after_the_parquet_changes(tmp_path):
    folder = tmp_path / "served"
    meta_path = make_dataset(folder, seed=3)
    other = make_dataset(tmp_path / "other", seed=11)  # same evals and tasks, other outcomes
    env = {"PROFILE_DATA": str(folder), "CACHE_DIR": str(tmp_path / "cache"), "SECRET_KEY": "k"}
    url = "_profile/table/spiderweb.csv"
    with gunicorn(env, tmp_path) as (base, access):
        def ask_both_workers(tag: str) -> list[requests.Response]:
            answers = []
            for i in range(60):  # new connections until each of the 2 workers has answered twice
                rid = f"{tag}{i}"
                answers.append(requests.get(base + url, headers={"Connection": "close", REQUEST_HEADER: rid},
                                            timeout=30))
                pids = [p for r, p in workers_of(access, wait=0.3).items() if r.startswith(tag)]
                if len(pids) >= 4 and all(pids.count(p) >= 2 for p in set(pids)) and len(set(pids)) == 2:
                    return answers
            pytest.fail("both workers did not answer")

        before = ask_both_workers("a")
        assert len({r.text for r in before}) == 1 and before[-1].headers["X-Profile-Cache"] == "hit"
        shutil.copyfile(other.parent / "samples.parquet", folder / "samples.parquet")  # dataset.json unchanged
        after = ask_both_workers("b")
    assert all(r.status_code == 200 for r in before + after)
    assert len({r.text for r in after}) == 1, "two workers served different numbers for one URL"
    want = Dataset.open(meta_path).aggregate(group_by=["eval_id", "base_task"])
    expected = {(r.eval_id, r.base_task): r.accuracy for r in want.itertuples()}
    got = _accuracy(after[0].text)
    assert got.keys() == expected.keys() and got != _accuracy(before[0].text)
    assert all(abs(got[k] - expected[k]) < 1e-9 for k in expected)


# ------------------------------------------------------------ Redis settings
def test_a_malformed_redis_url_serves_without_a_cache_and_says_why(tmp_path):
    cache = make_cache(Flask("m"), Settings(data=tmp_path, cache_dir=tmp_path / "c", secret_key="s",
                                            redis_url="redis://:hunter2@127.0.0.1:notaport/0"))
    assert cache.get("k") is None and cache.set("k", "v") is False
    status = cache.status()
    assert not status.reachable and status.reason.startswith("REDIS_URL is malformed: Port could not be cast")
    assert "hunter2" not in status.reason


@pytest.mark.browser
def test_redis_with_a_password(tmp_path):
    proc, port, _ = start_redis(tmp_path, password="s3cret")
    try:
        def cache(url: str) -> ViewCache:
            return make_cache(Flask("p"), Settings(data=tmp_path, cache_dir=tmp_path / "c", secret_key="s",
                                                   redis_url=url))

        right = cache(f"redis://:s3cret@127.0.0.1:{port}/0")
        assert right.status().reachable and right.set("k", {"v": 1}) and right.get("k") == {"v": 1}
        for url in (f"redis://:wrong@127.0.0.1:{port}/0", f"redis://127.0.0.1:{port}/0"):
            status = cache(url).status()
            assert status.reason == "authentication failed (check the password in REDIS_URL)", (url, status)
    finally:
        stop(proc)


def test_a_view_whose_figures_the_cache_refuses_is_computed_once_per_request(web_app, client, caplog):
    """The page's early fetch asks for every figure of a view: served from one computation, cached or not."""
    services = web_app.server.extensions[EXTENSION]
    small = ViewCache(services.cache.backend, "filesystem", SECRET, max_entry_bytes=2000)
    web_app.server.extensions[EXTENSION] = Services(services.settings, services.registry, small)
    try:
        with caplog.at_level(logging.INFO, "app.web.compute"):
            answer = client.get("/_profile/view/spiderweb.json?style=matrix&truncation=separate")
    finally:
        web_app.server.extensions[EXTENSION] = services
    figures = answer.get_json()["figures"]
    assert answer.status_code == 200 and figures and all(f["data"] for f in figures.values())
    assert caplog.text.count("computed spiderweb") == 1
