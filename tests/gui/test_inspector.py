"""The inspector edits params and names through undoable commands and refuses bad values."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QSpinBox

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


def test_training_settings_are_editable_and_undoable(window, qtbot):
    window.scene.clearSelection()
    page = window.inspector.project_page
    epochs = page.findChild(QSpinBox, "setting-epochs")
    assert epochs is not None and epochs.value() == window.document.project.settings.epochs
    type_into(qtbot, epochs, "12")
    assert window.document.project.settings.epochs == 12
    strategy = page.findChild(QComboBox, "setting-strategy")
    assert [strategy.itemData(i) for i in range(strategy.count())] == strategy_specs.names()
    assert strategy.itemText(strategy.findData("ewc")) == "EWC (online)"  # the spec's title
    strategy.activated.emit(strategy.findData("ewc"))
    assert window.document.project.settings.strategy == "ewc"
    window.undo_action.trigger()
    window.undo_action.trigger()
    assert window.document.project.settings.epochs != 12 and epochs.value() == window.document.project.settings.epochs


def test_settings_forms_fit_their_columns_at_the_default_size(qtbot, script):
    """Long strategy titles and wide number ranges elide or scroll inside their fields instead of
    widening the form past its dock (the inspector and the run settings had sideways scrollbars)."""
    from modstudio.examples import build_example
    from modstudio.gui.main_window import MainWindow

    window = MainWindow(build_example("split-digits"))  # at the studio's default size and layout
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.training.dock.raise_()
    window.scene.clearSelection()
    qtbot.wait(50)
    settings_scroll = window.training.panel.run_panel.parentWidget().parentWidget()
    for area in (window.inspector, settings_scroll):
        assert area.widget().minimumSizeHint().width() <= area.viewport().width()
        assert not area.horizontalScrollBar().isVisible()
    window.document.undo_stack.setClean()
