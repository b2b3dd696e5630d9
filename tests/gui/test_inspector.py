"""The inspector edits params and names through undoable commands and refuses bad values."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox

from modstudio.project import strategy_specs
from tests.gui.helpers import add, chain


def editor(window, name: str):
    return window.inspector.node_page.findChild(object, f"param-{name}")


def type_into(qtbot, widget, text: str) -> None:
    line = widget.lineEdit() if hasattr(widget, "lineEdit") and widget.lineEdit() else widget
    widget.setFocus()
    line.selectAll()
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Return)


def test_spin_box_edit_is_one_undoable_set_param(window, qtbot):
    x, h = chain(window, ("input", {"shape": [16]}), ("linear", {"out_features": 64}))
    window.scene.select_nodes([h])
    spin = editor(window, "out_features")
    assert isinstance(spin, QSpinBox) and spin.value() == 64 and spin.minimum() == 1
    graph = window.document.graph
    index = window.document.undo_stack.index()
    type_into(qtbot, spin, "128")
    assert graph.nodes[h].params["out_features"] == 128
    assert window.document.undo_stack.index() == index + 1
    assert "128" in window.inspector.node_page.output.text()  # output shape follows live
    assert window.document.report.nodes[h].param_count == 16 * 128 + 128

    window.undo_action.trigger()
    assert graph.nodes[h].params["out_features"] == 64 and spin.value() == 64
    window.redo_action.trigger()
    assert graph.nodes[h].params["out_features"] == 128 and spin.value() == 128


def test_bool_and_choice_editors(window):
    m = add(window, "mlp_block")
    lin = add(window, "linear", pos=(300, 0))
    graph = window.document.graph
    window.scene.select_nodes([m])
    combo = editor(window, "activation")
    assert isinstance(combo, QComboBox)
    combo.activated.emit(combo.findData("gelu"))
    assert graph.nodes[m].params["activation"] == "gelu"
    window.scene.select_nodes([lin])
    box = editor(window, "bias")
    assert isinstance(box, QCheckBox) and box.isChecked()
    box.click()
    assert graph.nodes[lin].params["bias"] is False
    window.undo_action.trigger()
    assert graph.nodes[lin].params["bias"] is True and box.isChecked()


def test_shape_editor_validates_and_refuses_with_the_reason(window, qtbot):
    x = add(window, "input")
    window.scene.select_nodes([x])
    line = editor(window, "shape")
    assert isinstance(line, QLineEdit)
    graph = window.document.graph
    count = window.document.undo_stack.count()
    type_into(qtbot, line, "1, eight, 8")
    assert graph.nodes[x].params["shape"] == []
    assert window.document.undo_stack.count() == count
    assert "whole numbers" in window.inspector.node_page.refusal.text()
    type_into(qtbot, line, "0, 8")
    assert graph.nodes[x].params["shape"] == []
    assert "below the minimum" in window.inspector.node_page.refusal.text()
    type_into(qtbot, line, "1, 8, 8")
    assert graph.nodes[x].params["shape"] == [1, 8, 8]
    assert window.document.report.nodes[x].shape == (1, 8, 8)


def test_rename_node_and_project(window, qtbot):
    (h,) = chain(window, ("linear", {}))
    window.scene.select_nodes([h])
    name = window.inspector.node_page.findChild(QLineEdit, "node-name")
    type_into(qtbot, name, "encoder")
    assert window.document.graph.nodes[h].name == "encoder"
    assert window.scene.nodes[h]._name == "encoder"
    window.undo_action.trigger()
    assert window.document.graph.nodes[h].name != "encoder"

    window.scene.clearSelection()
    assert window.inspector.pages.currentWidget() is window.inspector.project_page
    project_name = window.inspector.project_page.findChild(QLineEdit, "project-name")
    type_into(qtbot, project_name, "split digits")
    assert window.document.project.name == "split digits"
    assert window.windowTitle() == "split digits[*] — ModStudio" and window.isWindowModified()
    window.undo_action.trigger()
    assert window.document.project.name == "Untitled"


def test_the_training_settings_have_one_form_the_inspector_summarises_it(window, qtbot):
    """One settings form: the run settings edit every training setting; the inspector's project page
    edits only the file's own setting, summarises the next run and opens that form."""
    from modstudio.project.settings import SETTING_SPECS

    window.scene.clearSelection()
    page = window.inspector.project_page
    edits = {w.objectName() for kind in (QComboBox, QSpinBox, QDoubleSpinBox, QLineEdit)
             for w in page.findChildren(kind) if w.objectName()}
    assert edits == {"project-name", "setting-embed_data"}
    assert [page.setting_widgets["embed_data"].itemData(i) for i in range(3)] == list(SETTING_SPECS["embed_data"].choices)
    panel = window.training.panel.run_panel
    type_into(qtbot, panel.epochs, "12")
    assert window.document.project.settings.epochs == 12
    assert "12 epochs per task" in page.run_summary.text()
    strategy = panel.strategy
    assert [strategy.itemData(i) for i in range(strategy.count())] == strategy_specs.names()
    strategy.activated.emit(strategy.findData("ewc"))
    assert window.document.project.settings.strategy == "ewc" and "EWC (online)" in page.run_summary.text()
    window.undo_action.trigger()
    window.undo_action.trigger()
    assert window.document.project.settings.epochs != 12 and "12 epochs" not in page.run_summary.text()

    window.tasks_dock.raise_()
    qtbot.wait(10)
    assert window.training.dock.visibleRegion().isEmpty()
    page.run_settings_button.click()
    qtbot.waitUntil(lambda: not window.training.dock.visibleRegion().isEmpty())
    assert strategy.hasFocus()
    embed = page.setting_widgets["embed_data"]
    embed.activated.emit(embed.findData("never"))
    assert window.document.project.settings.embed_data == "never"
