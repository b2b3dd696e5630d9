"""Open, save, recent files, unsaved-changes prompts, autosave and recovery: all through the
project layer, errors in dialogs."""

from __future__ import annotations

from modstudio.gui import settings

from tests.gui.helpers import chain


def build_project(window):
    from modstudio import data

    ids = chain(window, ("input", {}), ("conv_block", {"out_channels": 8}), ("flatten", {}), ("head", {}))
    window.scene.select_nodes(ids[1:3])
    window.group_action.trigger()
    window.tasks_panel.add_tasks(data.split_by_class(data.load_builtin("digits"), n_tasks=5))
    return ids


def test_save_and_reopen_gives_the_same_project(make_window, script, tmp_path):
    window = make_window()
    build_project(window)
    assert window.document.report.ok, window.document.report.summary()
    path = tmp_path / "digits.modstudio"
    script.answer("ask_save_project", str(path))
    assert window.isWindowModified()
    window.save_action.trigger()
    assert path.is_file() and not window.isWindowModified()
    assert window.windowTitle() == "digits.modstudio[*] — ModStudio"  # the file, not the project's "Untitled"
    assert settings.recent_files() == [str(path.resolve())]

    other = make_window()
    script.answer("ask_open_project", str(path))
    other.open_action.trigger()
    a, b = window.document.project, other.document.project
    assert b.graph.to_dict() == a.graph.to_dict()
    assert [t.fingerprint for t in b.tasks] == [t.fingerprint for t in a.tasks]
    assert [t.name for t in b.tasks] == [t.name for t in a.tasks]
    assert b.settings == a.settings and b == a
    assert len(other.scene.nodes) == 4 and len(other.scene.groups) == 1 and len(other.scene.edges) == 3
    assert other.tasks_panel.tree.topLevelItemCount() == 5
    assert other.document.path == path and not other.isWindowModified()
    assert other.document.undo_stack.count() == 0

    # saving again goes to the same file without asking
    other.scene.select_nodes(list(b.graph.nodes)[:1])
    other.delete_action.trigger()
    assert other.isWindowModified()
    other.save_action.trigger()
    assert not other.isWindowModified() and not script.called("ask_save_project")[1:]


def test_open_recent_menu_lists_saved_files(window, script, tmp_path):
    path = tmp_path / "p.modstudio"
    chain(window, ("linear", {}))
    assert window.files.save_to(path)
    window.files.fill_recent_menu(window.recent_menu)
    texts = [a.text() for a in window.recent_menu.actions()]
    assert any("p.modstudio" in t for t in texts)
    window.recent_menu.actions()[0].trigger()  # reopening the same file
    assert window.document.path == path


def test_a_broken_file_is_reported_in_a_dialog_not_raised(window, script, tmp_path):
    bad = tmp_path / "broken.modstudio"
    bad.write_bytes(b"this is not a zip archive")
    assert not window.files.open_project(str(bad))
    (call,) = script.called("show_error")
    assert "broken.modstudio" in call[2]
    assert window.document.path is None


def test_unsaved_changes_ask_save_discard_cancel_on_close(make_window, script, tmp_path):
    window = make_window()
    chain(window, ("linear", {}))
    script.answer("ask_save_changes", "cancel")
    assert not window.close()
    assert window.isVisible()
    path = tmp_path / "kept.modstudio"
    script.answer("ask_save_changes", "save")
    script.answer("ask_save_project", str(path))
    assert window.close()
    assert path.is_file()

    second = make_window()
    chain(second, ("relu", {}))
    script.answer("ask_save_changes", "discard")
    assert second.close()


def test_title_and_close_prompt_name_the_file(make_window, script, tmp_path):
    from modstudio.project import Project

    path = tmp_path / "digits-study.modstudio"
    Project.new("Untitled").save(path)
    window = make_window()
    script.answer("ask_open_project", str(path))
    window.open_action.trigger()
    assert window.windowTitle() == "digits-study.modstudio[*] — ModStudio"
    chain(window, ("relu", {}))
    script.answer("ask_save_changes", "cancel")
    assert not window.close()
    (call,) = script.called("ask_save_changes")
    assert call[1] == "digits-study.modstudio"
    # Save As while nothing is unsaved still renames the window
    window.files.save_to(path)
    script.answer("ask_save_project", str(tmp_path / "renamed.modstudio"))
    window.save_as_action.trigger()
    assert window.windowTitle() == "renamed.modstudio[*] — ModStudio"


def test_new_project_asks_about_unsaved_changes(window, script):
    chain(window, ("linear", {}))
    script.answer("ask_save_changes", "cancel")
    window.new_action.trigger()
    assert len(window.document.graph.nodes) == 1
    script.answer("ask_save_changes", "discard")
    window.new_action.trigger()
    assert not window.document.graph.nodes and not window.scene.nodes
    assert window.document.undo_stack.count() == 0


def test_autosave_writes_a_recovery_copy_and_a_new_window_offers_it(make_window, script):
    from modstudio.project import recovery

    window = make_window()
    build_project(window)
    assert window.files.autosave()
    assert not window.files.autosave()  # nothing new since the last copy
    (copy,) = recovery.list_recoverable()
    assert copy.project_id == window.document.project.id

    fresh = make_window()
    script.answer("ask_recover", lambda parent, copies: copies[0])
    assert fresh.files.offer_recovery()
    assert fresh.document.project.graph.to_dict() == window.document.project.graph.to_dict()
    assert len(fresh.document.project.tasks) == 5
    assert fresh.isWindowModified()  # recovered work still needs saving

    # a clean close forgets the copy
    fresh.document.undo_stack.setClean()
    fresh.close()
    assert all(c.project_id != fresh.document.project.id for c in recovery.list_recoverable())


def test_dropping_a_project_file_opens_it(window, script, tmp_path):
    path = tmp_path / "drop.modstudio"
    chain(window, ("input", {"shape": [3]}), ("linear", {}))
    window.files.save_to(path)
    script.answer("ask_save_changes", "discard")
    window.new_action.trigger()
    window.open_paths([str(path)])
    assert window.document.path == path and len(window.document.graph.nodes) == 2


def test_a_project_reading_files_outside_it_opens_only_when_the_user_allows(window, script, tmp_path):
    """Its task recipes name a CSV on this computer: the studio asks, naming the file; on No the
    project does not open and the file is not read."""
    import numpy as np

    import modstudio as ms
    from modstudio.data import import_path, split_by_class

    csv = tmp_path / "private.csv"
    rng = np.random.default_rng(0)
    rows = [",".join(f"{v:.3f}" for v in rng.standard_normal(3)) + f",{i % 4}" for i in range(80)]
    csv.write_text("a,b,c,label\n" + "\n".join(rows) + "\n")
    project = ms.Project.new("outside")
    project.tasks.extend(split_by_class(import_path(csv), n_tasks=2))
    project.configure(embed_data="never")
    path = project.save(tmp_path / "outside.modstudio")

    script.answer("ask_allow_external_data", False)
    assert not window.files.open_project(str(path))
    (asked,) = script.called("ask_allow_external_data")
    assert asked[1] == "outside.modstudio" and asked[2] == [str(csv)]  # each file once
    assert window.document.project.name == "Untitled" and not script.called("show_error")

    script.answer("ask_allow_external_data", True)
    assert window.files.open_project(str(path))
    assert window.document.project.name == "outside" and len(window.document.project.tasks) == 2
