"""The canvas driven like a user: drops, mouse wiring, refusals, moves, clipboard, groups, layout."""

from __future__ import annotations

import json
import warnings

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication

from modstudio.gui.canvas.edge_item import EdgeItem
from modstudio.gui.canvas.node_item import HEIGHT, WIDTH
from modstudio.gui.canvas.view import KIND_MIME

from tests.gui.helpers import add, centre, chain, click, drag, port


def drop_mime(window, mime: QMimeData, at: QPoint) -> QDropEvent:
    viewport = window.view.viewport()
    action = Qt.DropAction.CopyAction
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    with warnings.catch_warnings():  # Qt 6.12 marks the QPoint constructors deprecated, with no QPointF one yet
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(at, action, mime, buttons, mods)
        move = QDragMoveEvent(at, action, mime, buttons, mods)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(viewport, move)
    drop = QDropEvent(QPointF(at), action, mime, buttons, mods)
    QApplication.sendEvent(viewport, drop)
    return drop


def test_drop_a_palette_kind_creates_the_node_where_it_is_dropped(window):
    item = window.palette.items["conv2d"]
    mime = window.palette.tree.mimeData([item])  # exactly what a drag from the palette carries
    assert bytes(mime.data(KIND_MIME)) == b"conv2d"
    at = QPoint(400, 300)
    target = window.view.mapToScene(at)
    drop = drop_mime(window, mime, at)
    assert drop.isAccepted()

    graph = window.document.graph
    (node,) = graph.nodes.values()
    assert node.kind == "conv2d"
    # centred on the drop point (snapped to the 10-unit grid)
    assert abs(node.pos[0] + WIDTH / 2 - target.x()) <= 5 and abs(node.pos[1] + HEIGHT / 2 - target.y()) <= 5
    assert window.scene.nodes[node.id].isSelected()
    assert window.inspector.pages.currentWidget() is window.inspector.node_page

    window.undo_action.trigger()
    assert not graph.nodes and not window.scene.nodes
    window.redo_action.trigger()
    assert [n.kind for n in graph.nodes.values()] == ["conv2d"] and len(window.scene.nodes) == 1


def test_palette_search_and_double_click(window, qtbot):
    window.palette.search.setText("pool")
    visible = window.palette.visible_kinds()
    assert "maxpool2d" in visible and "global_avg_pool" in visible and "linear" not in visible
    window.palette.search.clear()
    item = window.palette.items["relu"]
    window.palette.tree.scrollToItem(item)
    rect = window.palette.tree.visualItemRect(item)
    qtbot.mouseClick(window.palette.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(window.palette.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert [n.kind for n in window.document.graph.nodes.values()] == ["relu"]
    assert "max(0, x)" in item.toolTip(0)


def test_connect_two_ports_by_mouse_then_undo_redo(window):
    x = add(window, "input", pos=(0, 0), shape=[64])
    h = add(window, "linear", pos=(320, 60))
    window.view.fit()
    graph = window.document.graph
    drag(window, port(window, x, "out"), port(window, h, "in"))
    assert [(e.src, e.dst) for e in graph.edges] == [(x, h)]
    assert len([i for i in window.scene.items() if isinstance(i, EdgeItem)]) == 1
    assert "Connected" in window.statusBar().currentMessage()
    assert window.document.report.nodes[h].shape == (64,)

    window.undo_action.trigger()
    assert graph.edges == [] and not window.scene.edges
    window.redo_action.trigger()
    assert [(e.src, e.dst) for e in graph.edges] == [(x, h)] and len(window.scene.edges) == 1


def test_hovered_target_shows_accepted_then_refused(window):
    a = add(window, "input", pos=(0, 0), shape=[8])
    b = add(window, "linear", pos=(300, 0))
    window.view.fit()
    viewport = window.view.viewport()
    from PySide6.QtTest import QTest

    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, port(window, a, "out"))
    QTest.mouseMove(viewport, port(window, b, "in") + QPoint(-2, 0))
    QTest.mouseMove(viewport, port(window, b, "in"))
    assert window.scene.nodes[b].target_state == "ok"
    QTest.mouseMove(viewport, port(window, a, "out") + QPoint(-40, 0))  # over the source itself: no target
    assert window.scene.nodes[b].target_state is None
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       port(window, a, "out") + QPoint(-40, 0))
    assert window.document.graph.edges == []


def test_a_cycle_is_refused_with_the_reason_in_the_status_bar(window):
    a, b, c = chain(window, ("linear", {}), ("relu", {}), ("linear", {}))
    graph = window.document.graph
    before = list(graph.edges)
    index = window.document.undo_stack.index()
    drag(window, port(window, c, "out"), port(window, a, "in"))
    assert graph.edges == before
    assert window.document.undo_stack.index() == index
    message = window.statusBar().currentMessage()
    assert "cycle" in message and message.startswith("Cannot connect")
    # a wire onto the input it already feeds is refused too, with its own reason
    drag(window, port(window, a, "out"), port(window, b, "in"))
    assert graph.edges == before
    assert "already connected" in window.statusBar().currentMessage()


def test_drag_moves_the_selection_as_one_undo_step(window):
    a = add(window, "linear", pos=(0, 0))
    b = add(window, "relu", pos=(300, 0))
    window.view.fit()
    graph = window.document.graph
    window.scene.select_nodes([a, b])
    index = window.document.undo_stack.index()
    start = centre(window, a)
    drag(window, start, start + QPoint(60, 40), steps=8)
    moved_a, moved_b = graph.nodes[a].pos, graph.nodes[b].pos
    assert moved_a != (0.0, 0.0) and moved_b[0] - moved_a[0] == 300.0  # moved together
    assert window.document.undo_stack.index() == index + 1  # one merged step for the whole drag
    assert window.scene.nodes[a].pos() == QPointF(*moved_a)
    window.undo_action.trigger()
    assert graph.nodes[a].pos == (0.0, 0.0) and graph.nodes[b].pos == (300.0, 0.0)
    assert window.scene.nodes[b].pos() == QPointF(300, 0)


def test_click_and_ctrl_click_selection(window):
    a = add(window, "linear", pos=(0, 0))
    b = add(window, "relu", pos=(300, 0))
    window.view.fit()
    click(window, centre(window, a))
    assert window.scene.selected_node_ids() == [a]
    click(window, centre(window, b), Qt.KeyboardModifier.ControlModifier)
    assert window.scene.selected_node_ids() == [a, b]
    assert window.inspector.pages.currentWidget() is window.inspector.multi_page


def test_rubber_band_selects(window):
    a = add(window, "linear", pos=(0, 0))
    b = add(window, "relu", pos=(300, 0))
    window.view.fit()
    rect = window.scene.nodes_rect()
    top_left = window.view.mapFromScene(rect.topLeft() - QPointF(30, 30))
    bottom_right = window.view.mapFromScene(rect.bottomRight() + QPointF(30, 30))
    drag(window, top_left, bottom_right)
    assert set(window.scene.selected_node_ids()) == {a, b}


def test_delete_selection_and_undo(window):
    a, b, c = chain(window, ("input", {"shape": [4]}), ("linear", {}), ("head", {"classes": 3}))
    graph = window.document.graph
    before = graph.to_dict()
    window.scene.select_nodes([b])
    window.view.setFocus()
    window.delete_action.trigger()
    assert list(graph.nodes) == [a, c] and graph.edges == []
    window.undo_action.trigger()
    assert graph.to_dict() == before
    # deleting a selected wire only disconnects
    window.scene.clearSelection()
    window.scene.edges[graph.edges[0]].setSelected(True)
    window.delete_action.trigger()
    assert len(graph.edges) == 1 and len(graph.nodes) == 3


def test_copy_paste_through_the_system_clipboard(window):
    a, b = chain(window, ("input", {"shape": [4]}), ("linear", {"out_features": 7}))
    graph = window.document.graph
    window.scene.select_nodes([a, b])
    window.copy_action.trigger()
    clip = json.loads(QGuiApplication.clipboard().text())  # plain JSON, readable by another window
    assert clip["format"] == "modstudio-subgraph" and len(clip["graph"]["nodes"]) == 2

    window.paste_action.trigger()
    assert len(graph.nodes) == 4 and len(graph.edges) == 2
    pasted = window.scene.selected_node_ids()
    assert len(pasted) == 2 and not set(pasted) & {a, b}
    copy_of_b = next(n for n in pasted if graph.nodes[n].kind == "linear")
    assert graph.nodes[copy_of_b].params["out_features"] == 7
    assert graph.nodes[copy_of_b].pos == (graph.nodes[b].pos[0] + 40, graph.nodes[b].pos[1] + 40)
    assert graph.nodes[copy_of_b].name != graph.nodes[b].name

    window.undo_action.trigger()
    assert set(graph.nodes) == {a, b}
    window.redo_action.trigger()
    assert len(graph.nodes) == 4

    # cut = copy + delete as one step; paste brings them back
    window.scene.select_nodes(pasted)
    window.cut_action.trigger()
    assert set(graph.nodes) == {a, b}
    window.paste_action.trigger()
    assert len(graph.nodes) == 4


def test_paste_refuses_foreign_clipboard_text(window):
    QGuiApplication.clipboard().setText("not a graph")
    window.paste_action.trigger()
    assert not window.document.graph.nodes
    assert "no ModStudio modules" in window.statusBar().currentMessage()


def test_duplicate(window):
    (a,) = chain(window, ("linear", {}))
    window.scene.select_nodes([a])
    window.duplicate_action.trigger()
    assert len(window.document.graph.nodes) == 2


def test_group_draws_a_block_behind_members_and_ungroups(window):
    a, b, c = chain(window, ("input", {"shape": [4]}), ("linear", {}), ("relu", {}))
    graph = window.document.graph
    window.scene.select_nodes([b, c])
    window.group_action.trigger()
    (group_id,) = graph.groups
    assert graph.nodes[b].group == group_id == graph.nodes[c].group and graph.nodes[a].group is None
    window.scene.flush()
    block = window.scene.groups[group_id]
    assert block.zValue() < window.scene.nodes[b].zValue()
    for member in (b, c):
        assert block.sceneBoundingRect().contains(window.scene.nodes[member].sceneBoundingRect())
    assert not block.sceneBoundingRect().contains(window.scene.nodes[a].sceneBoundingRect())

    window.undo_action.trigger()
    assert not graph.groups and not window.scene.groups and graph.nodes[b].group is None
    window.redo_action.trigger()
    assert len(window.scene.groups) == 1

    window.scene.select_nodes([b])
    window.ungroup_action.trigger()
    assert not graph.groups and graph.nodes[b].group is None and graph.nodes[c].group is None
    window.undo_action.trigger()
    assert graph.nodes[c].group in graph.groups


def test_auto_layout_is_one_undoable_step(window):
    graph = window.document.graph
    ids = [add(window, k, pos=(i * 37.0, -i * 53.0)) for i, k in enumerate(("linear", "relu", "linear"))]
    for s, d in zip(ids, ids[1:]):
        window.document.push(__import__("modstudio.graph.commands", fromlist=["Connect"]).Connect(s, d))
    before = {i: graph.nodes[i].pos for i in ids}
    window.layout_action.trigger()
    expected = graph.layout()
    assert {i: graph.nodes[i].pos for i in ids} == expected
    assert window.scene.nodes[ids[2]].pos() == QPointF(*expected[ids[2]])
    window.undo_action.trigger()
    assert {i: graph.nodes[i].pos for i in ids} == before


def test_error_badge_and_live_recheck(window):
    x, h, head = chain(window, ("input", {"shape": [4]}), ("linear", {}), ("head", {"classes": 3}))
    assert window.document.report.ok
    assert window.scene.nodes[h].error is None
    window.document.push(__import__("modstudio.graph.commands", fromlist=["SetParam"]).SetParam(x, "shape", [1, 8, 8]))
    # a 3-D input into the head's flat-only input: the head gets a badge with the message as tooltip
    item = window.scene.nodes[head]
    assert item.error and "flat" in item.error
    assert item.error in item.toolTip()
    assert "problem" in window.check_label.text()
    window.undo_action.trigger()
    assert window.scene.nodes[head].error is None and "✔" in window.check_label.text()


def test_wheel_zoom_and_fit(window, qtbot):
    chain(window, ("input", {"shape": [4]}), ("linear", {}), ("relu", {}), ("head", {"classes": 2}))
    window.actual_size_action.trigger()
    assert window.view.zoom == 1.0
    from PySide6.QtGui import QWheelEvent

    pos = QPointF(200, 200)
    event = QWheelEvent(pos, window.view.viewport().mapToGlobal(pos), QPoint(), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(window.view.viewport(), event)
    assert window.view.zoom > 1.2
    assert window.zoom_label.text() == f"{window.view.zoom * 100:.0f} %"
    window.fit_action.trigger()
    visible = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    assert visible.contains(window.scene.nodes_rect())


def test_middle_button_pans(window):
    chain(window, ("linear", {}), ("relu", {}))
    window.view.set_zoom(2.0)
    viewport = window.view.viewport()
    from PySide6.QtTest import QTest

    before = window.view.mapToScene(viewport.rect().center())
    QTest.mousePress(viewport, Qt.MouseButton.MiddleButton, Qt.KeyboardModifier.NoModifier, QPoint(300, 300))
    QTest.mouseMove(viewport, QPoint(250, 280))
    QTest.mouseRelease(viewport, Qt.MouseButton.MiddleButton, Qt.KeyboardModifier.NoModifier, QPoint(250, 280))
    after = window.view.mapToScene(viewport.rect().center())
    assert after.x() > before.x() and after.y() > before.y()
    assert window.document.undo_stack.count() == 3  # panning is not an edit


def test_dragging_a_group_block_moves_its_members(window):
    a, b, c = chain(window, ("input", {"shape": [4]}), ("linear", {}), ("relu", {}))
    graph = window.document.graph
    window.scene.select_nodes([b, c])
    window.group_action.trigger()
    window.scene.flush()
    window.scene.clearSelection()
    (group_id,) = graph.groups
    label = window.scene.groups[group_id].label_rect()
    start = window.view.mapFromScene(label.center())
    before = {n: graph.nodes[n].pos for n in (a, b, c)}
    drag(window, start, start + QPoint(0, 80))
    assert graph.nodes[a].pos == before[a]
    for n in (b, c):
        assert graph.nodes[n].pos[0] == before[n][0] and graph.nodes[n].pos[1] > before[n][1]
    window.scene.flush()
    block = window.scene.groups[group_id].sceneBoundingRect()
    assert block.contains(window.scene.nodes[b].sceneBoundingRect())
