"""One computation of a view at a time across processes (app.web.single_flight)."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

from app.web.single_flight import STRIPES, ComputeLocks, lock_folder


def _hold(folder: str, key: str, journal: str, name: str, held, release) -> None:
    locks = ComputeLocks(Path(folder))
    with locks.hold(key):
        with open(journal, "a") as out:
            out.write(f"{name} in\n")
        if held is not None:
            held.set()
            release.wait(10)
        with open(journal, "a") as out:
            out.write(f"{name} out\n")


def test_a_second_process_waits_for_the_first(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    journal = tmp_path / "journal"
    held, release = ctx.Event(), ctx.Event()
    first = ctx.Process(target=_hold, args=(str(tmp_path / "locks"), "view:a", str(journal), "first", held, release))
    first.start()
    assert held.wait(30)
    second = ctx.Process(target=_hold, args=(str(tmp_path / "locks"), "view:a", str(journal), "second", None, None))
    second.start()
    second.join(0.5)
    assert second.is_alive()  # blocked on the lock the first holds
    release.set()
    first.join(30)
    second.join(30)
    assert journal.read_text().split("\n")[:-1] == ["first in", "first out", "second in", "second out"]


def test_the_lock_goes_with_a_killed_holder(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    held, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold, args=(str(tmp_path), "view:b", str(tmp_path / "j"), "h", held, release))
    holder.start()
    assert held.wait(30)
    holder.kill()  # a worker gunicorn killed on timeout
    holder.join(30)
    with ComputeLocks(tmp_path).hold("view:b") as waited:
        assert waited < 5


def test_views_share_a_fixed_set_of_lock_files(tmp_path):
    locks = ComputeLocks(tmp_path / "locks")
    for n in range(500):
        with locks.hold(f"view:{n}"):
            pass
    assert 0 < len(os.listdir(tmp_path / "locks")) <= STRIPES


def test_no_lock_folder_means_no_lock(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    locks = ComputeLocks(blocker / "locks")
    assert not locks.usable
    with locks.hold("view:a") as outer, locks.hold("view:a") as inner:  # the same key twice: nothing blocks
        assert outer == inner == 0.0


def test_the_folder_follows_the_cache_folder(tmp_path):
    assert lock_folder(tmp_path / "a") == lock_folder(tmp_path / "a" / ".." / "a")
    assert lock_folder(tmp_path / "a") != lock_folder(tmp_path / "b")
    assert not lock_folder(tmp_path / "a").is_relative_to(tmp_path / "a")  # never inside the file cache's folder
