"""Editing as in other node editors: placement that never covers a card, a palette drop onto a wire
inserts the module, a wire onto a taken input rewires it, context menus, the add popup at the
cursor, tooltips with every problem, shapes that follow typing, and a drag that is one command."""

from __future__ import annotations

import html

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest

from modstudio.graph.commands import SetParam
from modstudio.gui.canvas.node_item import HEIGHT, WIDTH
from modstudio.gui.param_editors import TYPING_PAUSE_MS

from tests.gui.helpers import add, centre, chain, connect, drag, port, view_pos
from tests.gui.test_canvas import drop_mime


def card_rects(window) -> dict[str, QRectF]:
    return {i: QRectF(n.pos[0], n.pos[1], WIDTH, HEIGHT) for i, n in window.document.graph.nodes.items()}


def assert_no_overlap(window) -> None:
    rects = list(card_rects(window).items())
    for k, (a, ra) in enumerate(rects):
        for b, rb in rects[k + 1:]:
            assert not ra.intersects(rb), f"{a} covers {b}"


def edges(window) -> list[tuple[str, str]]:
    return [(e.src, e.dst) for e in window.document.graph.edges]


def kind_mime(window, kind: str):
    return window.palette.tree.mimeData([window.palette.items[kind]])


# ---------------------------------------------------------------------------------------- placement


def test_double_click_adds_beside_the_selection_and_never_on_a_card(window):
    a = add(window, "linear", pos=(0, 0))
    add(window, "relu", pos=(240, 0))  # the spot right of a is taken
    window.view.fit()
    window.scene.select_nodes([a])
    window.palette.kind_activated.emit("dropout")  # what a double-click in the palette sends
    graph = window.document.graph
    new = window.scene.selected_node_ids()[0]
    assert graph.nodes[new].kind == "dropout"
    assert graph.nodes[new].pos[0] >= WIDTH  # beside the selection, not on it
    assert_no_overlap(window)
    # nothing selected: at the view's centre (the cursor is not on the canvas), still on no card
    for _ in range(6):
        window.scene.clearSelection()
        window.editor.add_kind("relu")
    assert len(graph.nodes) == 9
    assert_no_overlap(window)


def test_a_drop_onto_a_card_lands_next_to_it(window):
    a = add(window, "linear", pos=(0, 0))
    window.view.fit()
    drop_mime(window, kind_mime(window, "relu"), centre(window, a))
    assert len(window.document.graph.nodes) == 2
    assert_no_overlap(window)


# ---------------------------------------------------------------------------------------- drop on a wire


def midpoint(window, src: str, dst: str) -> QPoint:
    item = next(e for e in window.scene.edges.values() if (e.edge.src, e.edge.dst) == (src, dst))
    return view_pos(window, item.path().pointAtPercent(0.5))


def test_dropping_a_module_on_a_wire_inserts_it_as_one_step(window):
    x, h, head = chain(window, ("input", {"shape": [8]}), ("linear", {}), ("head", {"classes": 3}))
    window.view.fit()
    index = window.document.undo_stack.index()
    drop_mime(window, kind_mime(window, "relu"), midpoint(window, x, h))
    graph = window.document.graph
    (relu,) = [i for i, n in graph.nodes.items() if n.kind == "relu"]
    assert sorted(edges(window)) == sorted([(x, relu), (relu, h), (h, head)])
    assert window.document.report.ok
    assert "Inserted" in window.statusBar().currentMessage()
    assert window.document.undo_stack.index() == index + 1
    # room made: the new card sits in line after the input, what follows moved one step right
    assert graph.nodes[relu].pos == (240.0, 0.0) and graph.nodes[h].pos == (480.0, 0.0)
    assert graph.nodes[head].pos == (720.0, 0.0)
    assert_no_overlap(window)
    window.undo_action.trigger()
    assert edges(window) == [(x, h), (h, head)] and len(graph.nodes) == 3
    assert graph.nodes[h].pos == (240.0, 0.0) and graph.nodes[head].pos == (480.0, 0.0)


def test_a_module_whose_shapes_do_not_fit_is_dropped_but_not_inserted(window):
    x, h, head = chain(window, ("input", {"shape": [8]}), ("linear", {}), ("head", {"classes": 3}))
    window.view.fit()
    drop_mime(window, kind_mime(window, "conv2d"), midpoint(window, x, h))  # a 2-D conv on flat features
    graph = window.document.graph
    assert any(n.kind == "conv2d" for n in graph.nodes.values())
    assert edges(window) == [(x, h), (h, head)]  # the wire is kept, the new card stands apart
    assert "not inserted" in window.statusBar().currentMessage()


def test_the_wire_under_a_palette_drag_lights_up(window):
    import warnings

    from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent
    from PySide6.QtWidgets import QApplication

    x, h = chain(window, ("input", {"shape": [8]}), ("linear", {}))
    window.view.fit()
    at = midpoint(window, x, h)
    mime, args = kind_mime(window, "relu"), (Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with warnings.catch_warnings():  # Qt 6.12 marks the QPoint constructors deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        QApplication.sendEvent(window.view.viewport(), QDragEnterEvent(at, Qt.DropAction.CopyAction, mime, *args))
        QApplication.sendEvent(window.view.viewport(), QDragMoveEvent(at, Qt.DropAction.CopyAction, mime, *args))
    (item,) = window.scene.edges.values()
    assert item._drop_target
    drop_mime(window, kind_mime(window, "relu"), at)
    assert not any(e._drop_target for e in window.scene.edges.values())


# ---------------------------------------------------------------------------------------- rewiring


def test_a_wire_onto_a_taken_input_replaces_the_old_one_in_one_undo_step(window):
    x, a, b = chain(window, ("input", {"shape": [8]}), ("linear", {}), ("linear", {}))
    c = add(window, "relu", pos=(240, 200))
    connect(window, x, c)
    window.view.fit()
    index = window.document.undo_stack.index()
    drag(window, port(window, c, "out"), port(window, b, "in"))
    assert (c, b) in edges(window) and (a, b) not in edges(window)
    assert window.document.undo_stack.index() == index + 1
    assert len([e for e in window.scene.edges.values() if e.edge.dst == b]) == 1
    window.undo_action.trigger()
    assert (a, b) in edges(window) and (c, b) not in edges(window)


def test_rewiring_that_would_close_a_cycle_is_still_refused(window):
    a, b, c = chain(window, ("linear", {}), ("relu", {}), ("linear", {}))
    before = edges(window)
    drag(window, port(window, c, "out"), port(window, b, "in"))  # b's input is taken, and c comes after b
    assert edges(window) == before
    assert "cycle" in window.statusBar().currentMessage()


# ---------------------------------------------------------------------------------------- context menus


def actions(menu) -> dict:
    return {a.objectName(): a for a in menu.actions() if a.objectName()}


def test_node_menu_has_rename_duplicate_delete_disconnect_and_lesion(window, monkeypatch):
    x, h, head = chain(window, ("input", {"shape": [8]}), ("linear", {}), ("head", {"classes": 3}))
    menu = window.editor.node_menu(h)
    found = actions(menu)
    assert list(found) == ["rename", "duplicate", "delete", "disconnect", "lesion"]
    assert window.scene.selected_node_ids() == [h]  # the right-clicked card is the one acted on
    lesion = found["lesion"]
    assert not lesion.isEnabled() and "trained run" in lesion.toolTip()  # no run yet
    opened = []
    monkeypatch.setattr(window.training, "lesion_node", lambda node_id: opened.append(node_id))
    lesion.setEnabled(True)
    lesion.trigger()
    assert opened == [h]

    graph = window.document.graph
    found["duplicate"].trigger()
    assert len(graph.nodes) == 4
    menu = window.editor.node_menu(h)
    actions(menu)["disconnect"].trigger()
    assert edges(window) == []
    window.undo_action.trigger()  # both wires back in one step
    assert sorted(edges(window)) == sorted([(x, h), (h, head)])
    actions(window.editor.node_menu(h))["delete"].trigger()
    assert h not in graph.nodes


def test_rename_from_the_menu_edits_in_place(window):
    (h,) = chain(window, ("linear", {}))
    actions(window.editor.node_menu(h))["rename"].trigger()
    edit = window.editor.rename_edit
    assert edit is not None and edit.isVisible() and edit.text() == "Linear 1" and edit.selectedText() == "Linear 1"
    QTest.keyClicks(edit, "encoder")
    QTest.keyClick(edit, Qt.Key.Key_Return)
    graph = window.document.graph
    assert graph.nodes[h].name == "encoder" and window.editor.rename_edit is None
    window.undo_action.trigger()
    assert graph.nodes[h].name == "Linear 1"
    # Escape keeps the name
    actions(window.editor.node_menu(h))["rename"].trigger()
    QTest.keyClicks(window.editor.rename_edit, "x")
    QTest.keyClick(window.editor.rename_edit, Qt.Key.Key_Escape)
    assert graph.nodes[h].name == "Linear 1" and window.editor.rename_edit is None


def test_rename_is_off_for_several_modules(window):
    a, b = chain(window, ("linear", {}), ("relu", {}))
    window.scene.select_all()
    rename = actions(window.editor.node_menu(a))["rename"]
    assert not rename.isEnabled() and "2 are selected" in rename.toolTip()


def test_canvas_menu_adds_pastes_and_lays_out(window):
    a, b = chain(window, ("linear", {}), ("relu", {}))
    QGuiApplication.clipboard().clear()
    at = QPointF(1000, 600)
    found = actions(window.editor.canvas_menu(at))
    assert list(found) == ["add", "paste", "auto-layout"]
    assert not found["paste"].isEnabled()  # nothing to paste
    window.scene.select_nodes([a])
    window.copy_action.trigger()
    paste = actions(window.editor.canvas_menu(at))["paste"]
    assert paste.isEnabled()
    paste.trigger()
    graph = window.document.graph
    (pasted,) = window.scene.selected_node_ids()
    assert pasted not in (a, b)
    assert QRectF(*graph.nodes[pasted].pos, WIDTH, HEIGHT).contains(at)  # where the menu was opened

    graph.move_node(b, (900, 900))  # out of line, so the layout has something to do
    actions(window.editor.canvas_menu(at))["auto-layout"].trigger()
    assert graph.nodes[b].pos[1] != 900 and window.undo_action.text().endswith("auto-layout")

    actions(window.editor.canvas_menu(at))["add"].trigger()
    assert window.editor.popup is not None and window.editor.popup.isVisible()
    window.editor.popup.close()


def test_a_right_click_shows_the_menu_for_what_is_under_it(window, monkeypatch):
    from PySide6.QtGui import QContextMenuEvent
    from PySide6.QtWidgets import QApplication

    (h,) = chain(window, ("linear", {}))
    shown = []
    monkeypatch.setattr(window.view, "show_menu", lambda menu, at: shown.append(menu.objectName()))
    viewport = window.view.viewport()
    for at in (centre(window, h), QPoint(5, 5)):
        event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, at, viewport.mapToGlobal(at))
        QApplication.sendEvent(viewport, event)
    assert shown == ["node-menu", "canvas-menu"]


# ---------------------------------------------------------------------------------------- add popup


def test_add_popup_filters_the_catalog_and_adds_at_the_cursor(window):
    from modstudio.graph import catalog

    at = QPointF(500, 300)
    popup = window.editor.open_add_popup(at)
    assert set(popup.visible_kinds()) == {s.kind for specs in catalog.categories().values() for s in specs}
    QTest.keyClicks(popup.search, "pool")
    shown = popup.visible_kinds()
    assert "maxpool2d" in shown and "global_avg_pool" in shown and "linear" not in shown
    QTest.keyClick(popup.search, Qt.Key.Key_Down)
    chosen = popup.current_kind()
    assert chosen == shown[1]
    QTest.keyClick(popup.search, Qt.Key.Key_Return)
    graph = window.document.graph
    (node,) = graph.nodes.values()
    assert node.kind == chosen and not popup.isVisible()
    assert abs(node.pos[0] + WIDTH / 2 - at.x()) <= 5 and abs(node.pos[1] + HEIGHT / 2 - at.y()) <= 5


def test_add_popup_with_no_match_adds_nothing(window):
    popup = window.editor.open_add_popup(QPointF(0, 0))
    QTest.keyClicks(popup.search, "no such module")
    assert popup.visible_kinds() == [] and popup.current_kind() is None
    QTest.keyClick(popup.search, Qt.Key.Key_Return)
    assert not window.document.graph.nodes


def test_double_click_on_empty_canvas_opens_the_add_popup(window):
    QTest.mouseDClick(window.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                      QPoint(300, 200))
    assert window.editor.popup is not None and window.editor.popup.isVisible()
    window.editor.popup.close()


# ---------------------------------------------------------------------------------------- errors and typing


def test_tooltip_lists_every_problem_of_a_node(window):
    from modstudio import data

    x, _, _, _ = chain(window, ("input", {"shape": [64]}), ("flatten", {}), ("linear", {"out_features": 16}),
                       ("head", {}))
    digits = data.split_by_class(data.load_builtin("digits"), n_tasks=5)[:1]  # samples of 1×8×8
    blobs = data.split_by_class(data.load_builtin("blobs", n_samples=60, n_features=8, n_classes=2, seed=0),
                                n_tasks=1)
    window.tasks_panel.add_tasks([*digits, *blobs])
    problems = [e.message for e in window.document.report.errors if e.node_id == x]
    assert len(problems) >= 2
    tip = window.scene.nodes[x].toolTip()
    for problem in problems:
        assert html.escape(problem) in tip
    assert tip.count("⚠") == len(problems)


def test_typed_shape_updates_the_canvas_after_a_pause_one_step_each(window, qtbot):
    x, h = chain(window, ("input", {"shape": [8]}), ("linear", {"out_features": 4}))
    window.scene.select_nodes([x])
    edit = window.inspector.node_page.editors["shape"].widget
    stack = window.document.undo_stack
    index = stack.index()
    edit.selectAll()
    QTest.keyClicks(edit, "16")
    assert window.document.report.nodes[x].shape == (8,)  # not yet: the user may still be typing
    qtbot.waitUntil(lambda: window.document.report.nodes[x].shape == (16,), timeout=TYPING_PAUSE_MS * 5)
    assert "16" in window.scene.nodes[x]._lines[1] and stack.index() == index + 1
    QTest.keyClicks(edit, "0")
    qtbot.waitUntil(lambda: window.document.report.nodes[x].shape == (160,), timeout=TYPING_PAUSE_MS * 5)
    assert stack.index() == index + 2  # one step per pause
    QTest.keyClick(edit, Qt.Key.Key_Return)  # Enter after the pause commits nothing more
    assert stack.index() == index + 2
    window.undo_action.trigger()
    assert window.document.graph.nodes[x].params["shape"] == [16]


def test_typed_number_commits_after_a_pause(window, qtbot):
    (h,) = chain(window, ("linear", {"out_features": 4}))
    window.scene.select_nodes([h])
    box = window.inspector.node_page.editors["out_features"].widget
    box.lineEdit().selectAll()
    QTest.keyClicks(box.lineEdit(), "32")
    qtbot.waitUntil(lambda: window.document.graph.nodes[h].params["out_features"] == 32, timeout=TYPING_PAUSE_MS * 5)
    assert box.lineEdit().text() == "32"


def test_a_pause_in_an_unfinished_shape_commits_nothing(window, qtbot):
    (x,) = chain(window, ("input", {"shape": [8]}))
    window.scene.select_nodes([x])
    edit = window.inspector.node_page.editors["shape"].widget
    index = window.document.undo_stack.index()
    edit.selectAll()
    QTest.keyClicks(edit, "1, 0")  # on the way to "1, 0.." or "1, 8": not a shape yet
    qtbot.wait(TYPING_PAUSE_MS * 2)
    assert window.document.undo_stack.index() == index and "e5484d" in edit.styleSheet()


# ---------------------------------------------------------------------------------------- selection and drag


def test_select_all_tells_the_listeners_once(window):
    for i in range(30):
        add(window, "relu", pos=(i * 240.0, 0.0))
    told = []
    window.scene.selectionChanged.connect(lambda: told.append(1))
    window.select_all_action.trigger()
    assert len(told) == 1 and len(window.scene.selected_node_ids()) == 30
    assert window.inspector.multi_label.text() == "30 modules selected"


def test_a_drag_moves_the_cards_and_commits_one_move_at_release(window, qtbot):
    a, b = chain(window, ("linear", {}), ("relu", {}))
    window.scene.select_all()
    graph, viewport = window.document.graph, window.view.viewport()
    start = centre(window, a)
    index = window.document.undo_stack.index()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for i in range(1, 6):
        QTest.mouseMove(viewport, start + QPoint(20 * i, 10 * i))
    qtbot.waitUntil(lambda: window.scene.nodes[a].pos() != QPointF(0, 0), timeout=1000)
    assert graph.nodes[a].pos == (0.0, 0.0) and window.document.undo_stack.index() == index  # model untouched
    (wire,) = window.scene.edges.values()
    assert wire.path().pointAtPercent(1.0) == window.scene.nodes[b].port_scene_pos("in")  # wires follow
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(100, 50))
    assert window.document.undo_stack.index() == index + 1
    assert graph.nodes[a].pos != (0.0, 0.0) and window.scene.nodes[a].pos() == QPointF(*graph.nodes[a].pos)
    assert graph.nodes[b].pos[0] - graph.nodes[a].pos[0] == 240.0


def test_escape_during_a_drag_puts_the_cards_back(window, qtbot):
    (a,) = chain(window, ("linear", {}))
    viewport = window.view.viewport()
    start = centre(window, a)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(viewport, start + QPoint(60, 0))
    qtbot.waitUntil(lambda: window.scene.nodes[a].pos() != QPointF(0, 0), timeout=1000)
    window.scene.cancel_gesture()
    assert window.scene.nodes[a].pos() == QPointF(0, 0)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(60, 0))
    assert window.document.graph.nodes[a].pos == (0.0, 0.0)


def test_bench_reports_select_all_and_drag_figures():
    from modstudio.gui.canvas_bench import bench_canvas_editing

    result = bench_canvas_editing(n_nodes=40, frames=3)
    assert result["editing_nodes"] == 40
    assert all(result[k] > 0 for k in ("select_all_ms_100", "drag_frame_ms_100", "select_all_ms_fit",
                                       "drag_frame_ms_fit"))


def test_set_param_keeps_working_from_outside_the_inspector(window):
    (x,) = chain(window, ("input", {"shape": [8]}))
    window.scene.select_nodes([x])
    window.document.push(SetParam(x, "shape", [4]))
    assert window.inspector.node_page.editors["shape"].widget.text() == "4"
