"""Saving never destroys what the user had (issue 17, items 8-10): killed saves leave the previous
file intact and their temporary files do not pile up; links and long names save correctly."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from modstudio.project import load_project
from modstudio.project import atomic

from .conftest import make_project, tiny_task


def temps(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _fake(folder, name, pid=None, host=None, age=0.0):
    """A temporary file as atomic_write names them, for a writer ``pid`` on ``host``."""
    real = atomic.temp_name(folder, name)
    if pid is not None:
        real = real.replace(f"-{os.getpid():08x}-", f"-{pid:08x}-")
    if host is not None:
        real = real.replace(f".{atomic._HOST}-", f".{host}-")
    path = folder / real
    path.write_bytes(b"half a save")
    if age:
        os.utime(path, (time.time() - age, time.time() - age))
    return path


# --------------------------------------------------------------------------- 8: stale temporary files


def test_stale_temporary_files_of_the_target_are_removed_on_save_and_load(tmp_path):
    project = make_project([tiny_task()], runs=0, features=4)
    target = tmp_path / "work.modstudio"
    gone = dead_pid()
    stale = [
        _fake(tmp_path, target.name, pid=gone),                                 # this computer, process gone
        _fake(tmp_path, target.name, host="abcdef", age=atomic.STALE_SECONDS + 60),  # elsewhere, abandoned
        tmp_path / ".work.modstudio.k2j4_x9q.tmp",                              # an older version's name
        tmp_path / ".work.modstudio~.a1b2c3d4.tmp",
    ]
    for legacy in stale[2:]:
        legacy.write_bytes(b"old")
        os.utime(legacy, (time.time() - atomic.STALE_SECONDS - 60,) * 2)
    kept = [
        _fake(tmp_path, target.name),                                           # a live save (this process)
        _fake(tmp_path, target.name, pid=os.getppid()),                         # a live save (another process)
        _fake(tmp_path, target.name, host="abcdef", age=60),                    # elsewhere, recently written
        _fake(tmp_path, "other.modstudio", pid=gone),                           # another file's save
        tmp_path / ".work.modstudio.k2j4_x9r.tmp",                              # older name, but recent
        tmp_path / ".work.modstudio.notours.tmp",                               # not a name we make
    ]
    for path in kept[4:]:
        path.write_bytes(b"x")
    folder_like = tmp_path / atomic.temp_name(tmp_path, target.name).replace(f"-{os.getpid():08x}-", f"-{gone:08x}-")
    folder_like.mkdir()  # only regular files are ever removed
    kept.append(folder_like)
    project.save(target)
    assert sorted(temps(tmp_path)) == sorted(p.name for p in kept)
    for path in stale:
        path.write_bytes(b"again")
        os.utime(path, (time.time() - atomic.STALE_SECONDS - 60,) * 2)
    load_project(target)  # loading cleans up too
    assert sorted(temps(tmp_path)) == sorted(p.name for p in kept)
    assert atomic.remove_stale_temps(tmp_path / "nothing-here" / "x.modstudio") == []  # never raises


def _keep_saving(project, target, ready, label):
    """The child: save ``project`` again and again, a new name each time, until killed."""
    ready.set()
    i = 0
    while True:
        project.name = f"{label}-{i}"
        project.save(target)
        i += 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_killed_saves_keep_the_previous_file_and_leave_no_pile_of_temps(tmp_path):
    """SIGKILL a process that saves a multi-MB project in a loop, at random moments, 24 times:
    the file is always one complete version byte for byte, and temporary files never pile up."""
    rng = np.random.default_rng(3)
    project = make_project([tiny_task()], runs=1, features=4)
    project.runs[0].weights["extra/payload"] = rng.standard_normal(1_000_000).astype(np.float32)  # 4 MB
    target = tmp_path / "work" / "big.modstudio"
    target.parent.mkdir()
    scratch = tmp_path / "scratch"
    scratch.mkdir()

    def expected_bytes(name: str) -> bytes:
        project.name = name  # saving is deterministic: the same project gives the same bytes
        return project.save(scratch / "expected.modstudio", backup=False).read_bytes()

    project.name = "v0"
    started = time.perf_counter()
    project.save(target)
    save_seconds = time.perf_counter() - started
    versions = {"v0": target.read_bytes()}
    context = multiprocessing.get_context("fork")
    random.seed(11)
    hits = 0
    for trial in range(24):
        ready = context.Event()
        child = context.Process(target=_keep_saving, args=(project, target, ready, f"t{trial}"), daemon=True)
        child.start()
        assert ready.wait(10)
        time.sleep(random.uniform(0, 3 * save_seconds))
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        leftovers = temps(target.parent)
        hits += bool(leftovers)
        assert len(leftovers) <= 2, leftovers  # at most what this one kill left (data, backup link)
        for path in (target, target.with_name(target.name + "~")):
            if not path.exists():
                continue
            name = load_project(path).name
            if name not in versions:
                versions[name] = expected_bytes(name)
            assert path.read_bytes() == versions[name], f"trial {trial}: {path.name} is not a complete version"
    assert hits >= 3, "no kill landed in the middle of a save: the test proves nothing"
    project.name = "final"
    project.save(target)
    assert temps(target.parent) == []
    assert sorted(p.name for p in target.parent.iterdir()) == ["big.modstudio", "big.modstudio~"]


# --------------------------------------------------------------------------- 9: symbolic links


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_saving_through_a_symlink_replaces_its_target(tmp_path):
    project = make_project([tiny_task()], runs=0, features=4)
    real = tmp_path / "real" / "p.modstudio"
    real.parent.mkdir()
    project.save(real)
    old = real.read_bytes()
    link = tmp_path / "link.modstudio"
    link.symlink_to(real)
    project.name = "through the link"
    assert project.save(link) == link
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert load_project(real).name == "through the link"
    assert real.with_name("p.modstudio~").read_bytes() == old  # the backup sits beside the target
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.modstudio", "real"]
    chain = tmp_path / "chain.modstudio"
    chain.symlink_to(link)
    project.name = "two links"
    project.save(chain)
    assert chain.is_symlink() and link.is_symlink() and load_project(real).name == "two links"
    dangling = tmp_path / "dangling.modstudio"
    dangling.symlink_to(tmp_path / "real" / "new.modstudio")
    project.save(dangling)
    assert dangling.is_symlink() and load_project(tmp_path / "real" / "new.modstudio") == project


# --------------------------------------------------------------------------- 10: long names


@pytest.mark.parametrize("length", [242, 250, 254, 255])
def test_names_up_to_name_max_save_and_load(tmp_path, length):
    project = make_project([tiny_task()], runs=1, features=4)
    stem = "é" * ((length - len(".modstudio")) // 2)
    name = stem + "x" * (length - len(".modstudio") - len(stem.encode())) + ".modstudio"
    assert len(name.encode()) == length
    path = project.save(tmp_path / name)
    project.name = "second"
    project.save(path)  # with a backup where name~ still fits
    assert load_project(path) == project
    backup = path.with_name(name + "~")
    assert os.path.exists(backup) == (length < 255)  # name~ would be longer than NAME_MAX
    assert temps(tmp_path) == [] and all(len(p.name.encode()) <= 255 for p in tmp_path.iterdir())
    assert all(len(atomic.temp_name(tmp_path, name).encode()) <= 255 for _ in range(5))
