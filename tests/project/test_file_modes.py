"""Files written atomically get the permissions any new file gets: 0666 less the user's umask (a
replaced file keeps its own), and writing one never changes the process's umask, which every
thread shares."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from modstudio.project.atomic import atomic_write

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


@pytest.fixture
def umask():
    """Set the process umask for one test, and put it back."""
    saved = os.umask(0o022)
    os.umask(saved)
    yield lambda mask: os.umask(mask)
    os.umask(saved)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002, 0o077])
def test_a_new_file_gets_the_umask_as_a_plain_open_would(tmp_path, umask, mask):
    umask(mask)
    plain = tmp_path / "plain"
    plain.write_bytes(b"x")
    written = atomic_write(tmp_path / "model.safetensors", lambda out: out.write(b"weights"), backup=False)
    assert mode(written) == mode(plain) == 0o666 & ~mask


def test_a_replaced_file_keeps_its_permissions(tmp_path, umask):
    umask(0o022)
    path = tmp_path / "model.onnx"
    path.write_bytes(b"old")
    path.chmod(0o600)
    atomic_write(path, lambda out: out.write(b"new"), backup=False)
    assert path.read_bytes() == b"new" and mode(path) == 0o600


def test_writing_never_sets_the_umask_another_thread_creates_files_under(tmp_path, umask, monkeypatch):
    umask(0o077)  # a private user: every file of theirs is 0600
    changes = []
    real = os.umask
    monkeypatch.setattr(os, "umask", lambda mask: changes.append(mask) or real(mask))
    threads = [threading.Thread(target=atomic_write, args=(tmp_path / f"f{i}", lambda out: out.write(b"x")),
                                kwargs={"backup": False}) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert changes == []  # an os.umask(0o022) here would make a file another thread opens meanwhile 0644
    assert {mode(tmp_path / f"f{i}") for i in range(4)} == {0o600}
