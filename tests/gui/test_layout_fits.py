"""The default layout fits the window: at 1280×800 and 1920×1080 the canvas keeps at least half the
width and height, no dock scrolls sideways, and no label, choice or palette title is cut (the
palette once showed "Batch norm …" for both batch norms, the run settings "Automatic (GPU if presen")."""

from __future__ import annotations

import pytest

from modstudio.gui.fit import elided_texts, sideways_scrollbars
from modstudio.project import strategy_specs


@pytest.fixture
def trained_project():
    import modstudio as ms

    project = ms.examples.build_example("split-digits")
    project.tasks[:] = project.tasks[:2]
    ms.train(project, strategy="expansion", epochs=1)
    return project


def _docks_fit(window) -> list[str]:
    """What is cut or scrolls sideways in the docks now (the canvas may scroll: it is a canvas)."""
    problems = [f"scrolls sideways: {s}" for s in sideways_scrollbars(window) if not s.startswith("CanvasView")]
    for part in (window.palette, window.inspector, window.training.panel):
        problems += elided_texts(part)
    return problems


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_the_default_layout_fits_at_common_screen_sizes(qtbot, trained_project, size):
    from modstudio.gui.main_window import MainWindow

    window = MainWindow(trained_project)
    qtbot.addWidget(window)
    window.resize(*size)
    window.default_layout()
    window.show()
    qtbot.waitExposed(window)
    window.training.dock.raise_()
    qtbot.waitUntil(lambda: window.training.panel.plots is not None)
    qtbot.wait(50)
    canvas = window.view.size()
    assert canvas.width() >= size[0] // 2 and canvas.height() >= size[1] // 2, (canvas, size)
    assert _docks_fit(window) == []

    panel = window.training.panel
    for index in range(panel.tabs.count()):  # every tab of the Training dock
        panel.tabs.setCurrentIndex(index)
        qtbot.wait(10)
        assert _docks_fit(window) == [], panel.tabs.tabText(index)

    run_panel = panel.run_panel
    for name in strategy_specs.names():  # every strategy's parameters, in both scenarios
        for scenario in ("task", "class"):
            window.document.project.configure(strategy=name, strategy_params={}, scenario=scenario)
            qtbot.wait(1)
            assert elided_texts(run_panel) == [], (name, scenario)

    conv = window.document.graph.add_node("conv2d")  # the node with the most parameters
    window.scene.select_nodes([conv])
    qtbot.wait(10)
    assert window.inspector.pages.currentWidget() is window.inspector.node_page
    assert _docks_fit(window) == []
    window.document.undo_stack.setClean()


def test_a_cut_label_is_reported(qtbot):
    """The check itself: a one-line label narrower than its text, a combo narrower than its choice."""
    from PySide6.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

    root = QWidget()
    qtbot.addWidget(root)
    layout = QVBoxLayout(root)
    label, combo = QLabel("a label far too long for forty pixels"), QComboBox()
    combo.addItem("Automatic (GPU if present, else CPU)")
    for w in (label, combo):
        w.setFixedWidth(60)
        layout.addWidget(w)
    root.show()
    qtbot.waitExposed(root)
    assert len(elided_texts(root)) == 2
    for w in (label, combo):
        w.setFixedWidth(400)
    qtbot.wait(1)
    assert elided_texts(root) == []


def test_legends_stand_beside_the_curves_whole(trained_window, qtbot):
    """The retention legend once covered task 1's curve, and the runs overlay's covered its curves."""
    window = trained_window
    window.resize(1280, 800)
    window.default_layout()
    window.show()
    qtbot.waitExposed(window)
    window.training.dock.raise_()
    qtbot.waitUntil(lambda: window.training.panel.plots is not None)
    panel = window.training.panel
    panel.tabs.setCurrentWidget(panel.runs_page)
    qtbot.wait(20)
    panel.tabs.setCurrentWidget(panel.live_page)
    qtbot.wait(20)
    for plot, legend in ((panel.plots.retention, panel.plots.retention.legend),
                         (panel.runs.overlay, panel.runs.overlay_legend)):
        box = plot.getPlotItem().getViewBox().sceneBoundingRect()
        area = legend.sceneBoundingRect()
        assert legend.items and area.width() > 0
        assert area.left() >= box.right() - 1, (plot, area, box)  # beside the data, not over it
        assert area.right() <= plot.sceneRect().right() + 1  # whole, not cut by the plot's edge
        texts = [label.text for _sample, label in legend.items]
        assert all(label.boundingRect().width() <= area.width() for _s, label in legend.items), texts


def test_a_long_sequence_gets_legend_columns_that_fit_the_plot(qtbot):
    """Twelve tasks in a low plot: columns of task numbers, every entry inside the plot."""
    from modstudio.gui.training.plots import RetentionPlot

    plot = RetentionPlot()
    qtbot.addWidget(plot)
    plot.resize(420, 170)
    plot.show()
    qtbot.waitExposed(plot)
    plot.reset([f"task number {i}" for i in range(12)])
    qtbot.wait(10)
    legend = plot.legend
    area = legend.sceneBoundingRect()
    assert plot._legend_columns > 1 and [label.text for _s, label in legend.items][:2] == ["T1", "T2"]
    assert area.bottom() <= plot.sceneRect().bottom() + 1 and area.right() <= plot.sceneRect().right() + 1
    plot.resize(420, 700)  # tall enough for one column: the names come back
    qtbot.wait(10)
    assert plot._legend_columns == 1 and legend.items[0][1].text == "T1 task number 0"
