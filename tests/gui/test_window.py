"""The window itself: menus with standard shortcuts, layout persistence, title, CLI entry, bench."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence

from modstudio.gui.main_window import window_menu


def menu_texts(window, title):
    return [a.text().replace("&", "") for a in window_menu(window, title).actions() if a.text()]


def test_menus_and_standard_shortcuts(window):
    assert {"New", "Open…", "Open Recent", "Save", "Save As…", "Export…", "Quit"} <= set(menu_texts(window, "File"))
    assert {"Undo", "Redo", "Cut", "Copy", "Paste", "Duplicate", "Delete", "Select All", "Group",
            "Ungroup"} <= set(menu_texts(window, "Edit"))
    assert {"Zoom In", "Zoom Out", "Fit to View", "Auto-layout", "Panels"} <= set(menu_texts(window, "View"))
    assert {"Keyboard Shortcuts", "About ModStudio"} <= set(menu_texts(window, "Help"))
    K = QKeySequence.StandardKey
    for action, key in ((window.save_action, K.Save), (window.open_action, K.Open), (window.copy_action, K.Copy),
                        (window.undo_action, K.Undo), (window.zoom_in_action, K.ZoomIn)):
        assert action.shortcut() == QKeySequence(key)


def test_examples_menu_is_hidden_without_the_examples_module(window):
    import importlib.util

    present = importlib.util.find_spec("modstudio.learn.examples") is not None
    assert window.examples_menu.menuAction().isVisible() == present


def test_title_tracks_the_undo_stack_clean_state(window):
    from tests.gui.helpers import add

    assert window.windowTitle() == "Untitled[*] — ModStudio" and not window.isWindowModified()
    add(window, "relu")
    assert window.isWindowModified()
    window.undo_action.trigger()
    assert not window.isWindowModified()


def test_dock_layout_persists_between_launches(make_window):
    first = make_window()
    first.tasks_dock.hide()
    first.save_layout()
    second = make_window()
    assert second.tasks_dock.isHidden() and not second.palette_dock.isHidden()


def test_cli_opens_the_studio_without_a_subcommand(monkeypatch):
    from modstudio import cli

    opened = []
    monkeypatch.setattr(cli, "open_studio", lambda project=None: opened.append(project) or 0)
    assert cli.main([]) == 0 and cli.main(["x.modstudio"]) == 0
    assert opened == [None, "x.modstudio"]


def test_bench_canvas_reports_figures():
    from modstudio.gui.bench import bench_canvas

    result = bench_canvas(n_nodes=60, frames=2)
    assert result["nodes"] == 60 and result["edges"] == 60
    assert result["open_s"] > 0 and result["pan_frame_ms"] > 0 and result["zoom_frame_ms"] > 0


def test_qt_binding_workaround_keeps_none_alive():
    import sys

    from modstudio.gui import qtcompat

    # whatever the binding does to None, its count can no longer run out
    if sys.version_info < (3, 12):
        assert sys.getrefcount(None) > 1 << 39
    assert qtcompat.none_leaks_per_void_call() in (0, 1)
