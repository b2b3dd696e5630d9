"""Autosave hooks: recovery copies in the per-user data folder, listed and deleted."""

from __future__ import annotations

from datetime import datetime, timezone

from modstudio.project import load_project
from modstudio.project import recovery

from .conftest import make_project, tiny_task


def test_autosave_list_delete(tmp_path, monkeypatch):
    now = [1_700_000_000.0]
    monkeypatch.setattr(recovery, "clock", lambda: now[0])  # a fake clock: no sleeping between saves
    assert recovery.list_recoverable() == []
    first = make_project([tiny_task()], runs=1, features=4)
    first.name = "first"
    second = make_project(runs=0)
    second.name = "second"
    path = recovery.autosave(first, source=tmp_path / "first.modstudio")
    assert path.parent == tmp_path / "userdata" / "recovery"
    now[0] += 0.25  # a quarter of a second later: still ordered
    recovery.autosave(second)
    copies = recovery.list_recoverable()
    assert [c.name for c in copies] == ["second", "first"]  # newest first
    assert copies[1].saved_at == datetime.fromtimestamp(1_700_000_000.0, timezone.utc)
    assert copies[0].saved_at == datetime.fromtimestamp(1_700_000_000.25, timezone.utc)
    assert copies[1].source == str(tmp_path / "first.modstudio") and copies[0].source is None
    assert load_project(copies[1].path) == first
    first.name = "first, edited"
    now[0] += 1
    recovery.autosave(first)  # replaces its own copy, no second entry
    assert sorted(c.name for c in recovery.list_recoverable()) == ["first, edited", "second"]
    recovery.delete_recovery(first.id)
    assert [c.name for c in recovery.list_recoverable()] == ["second"]
    recovery.delete_recovery("not-there")  # harmless


def test_damaged_sidecar_is_skipped(tmp_path):
    project = make_project(runs=0)
    recovery.autosave(project)
    (recovery.recovery_dir() / f"{project.id}.json").write_text("{broken")
    assert recovery.list_recoverable() == []


def test_default_folder_is_appdirs(monkeypatch):
    import appdirs

    monkeypatch.delenv("MODSTUDIO_DATA_DIR")
    assert str(recovery.data_dir()) == appdirs.user_data_dir("ModStudio")
