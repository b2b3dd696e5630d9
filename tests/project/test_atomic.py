"""A crash mid-save never costs the previous version; a normal re-save keeps it as a backup."""

from __future__ import annotations

import errno
import os

import pytest

from modstudio.project import ProjectFileError, load_project
from modstudio.project import atomic, saving, tensors

from .conftest import make_project, tiny_task


@pytest.fixture
def saved(tmp_path):
    project = make_project([tiny_task()], runs=1, features=4)
    path = project.save(tmp_path / "work.modstudio")
    return project, path, path.read_bytes()


def _only(folder, *names):
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)


def test_exception_while_serialising_weights(saved, monkeypatch):
    project, path, before = saved
    monkeypatch.setattr(tensors, "encode_parts", lambda w: (_ for _ in ()).throw(RuntimeError("boom")))
    project.name = "changed"
    with pytest.raises(RuntimeError, match="boom"):
        project.save(path)
    assert path.read_bytes() == before
    _only(path.parent, "work.modstudio")


def test_disk_full_while_writing(saved, monkeypatch):
    project, path, before = saved
    real_write = saving.ArchiveWriter.write_parts

    def full(self, name, size, parts):
        real_write(self, name, size, parts)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(saving.ArchiveWriter, "write_parts", full)
    with pytest.raises(ProjectFileError, match="No space left on device"):
        project.save(path)
    assert path.read_bytes() == before
    _only(path.parent, "work.modstudio")


@pytest.mark.parametrize("target", ["fsync", "replace"])
def test_fsync_or_rename_failure(saved, monkeypatch, target):
    project, path, before = saved

    def fail(*args, **kwargs):
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(atomic.os, target, fail)
    with pytest.raises(ProjectFileError, match="I/O error"):
        project.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert load_project(path) == project


def test_resave_keeps_backup_of_previous_version(saved):
    project, path, before = saved
    backup = path.with_name("work.modstudio~")
    assert not backup.exists()
    project.name = "second"
    project.save(path)
    assert backup.read_bytes() == before
    assert load_project(path).name == "second"
    second = path.read_bytes()
    project.name = "third"
    project.save(path)
    assert backup.read_bytes() == second
    _only(path.parent, "work.modstudio", "work.modstudio~")


def test_backup_copies_where_hard_links_are_refused(saved, monkeypatch):
    project, path, before = saved
    monkeypatch.setattr(atomic.os, "link", lambda *a: (_ for _ in ()).throw(OSError(errno.EPERM, "no links")))
    project.save(path)
    assert path.with_name("work.modstudio~").read_bytes() == before


def test_save_into_missing_folder_is_a_project_file_error(tmp_path):
    with pytest.raises(ProjectFileError, match="cannot save"):
        make_project(runs=0).save(tmp_path / "nope" / "x.modstudio")


def test_file_mode_is_not_private_temp_mode(saved):
    _, path, _ = saved
    # mkstemp creates 0600; a saved project should get normal permissions like any document
    assert os.stat(path).st_mode & 0o644 == 0o644
