"""The studio checks the network with its tasks: a mismatch shows on the Input node and in the Tasks
panel, and Train refuses with it before anything starts, so no failed run is kept."""

from __future__ import annotations

import pytest

from modstudio.graph.commands import SetParam
from tests.gui.helpers import chain


@pytest.fixture(scope="module")
def digit_tasks():
    from modstudio import data

    return data.split_by_class(data.load_builtin("digits"), n_tasks=5)  # samples of 1×8×8


def test_an_input_typed_by_hand_that_the_tasks_do_not_fit_refuses_train(window, script, digit_tasks):
    x, _, _ = chain(window, ("input", {"shape": [64]}), ("linear", {"out_features": 32}), ("head", {}))
    window.tasks_panel.add_tasks(digit_tasks)

    card = window.scene.nodes[x]
    assert card.error and "64" in card.error and "1×8×8" in card.error  # on the Input node
    panel = window.tasks_panel
    assert not panel.problems.isHidden() and "set the shape to 1,8,8" in panel.problems.text()
    assert all(panel.tree.topLevelItem(i).text(0).startswith("⚠") for i in range(5))
    assert "problem" in window.check_label.text()  # not "✔ ok"

    assert window.training.start() is False
    (call,) = script.called("show_error")
    assert call[1] == "The tasks do not fit the network" and "1×8×8" in call[2] and "Tasks panel" in call[2]
    assert not window.training.running and list(window.document.project.runs) == []

    window.document.push(SetParam(x, "shape", [1, 8, 8]))  # as the message says; the linear now wants a Flatten
    assert not panel.problems.text() and panel.problems.isHidden()
    assert panel.tree.topLevelItem(0).text(0) == "1"


def test_tasks_of_another_shape_are_marked_in_the_list(window, script, digit_tasks):
    from modstudio import data

    chain(window, ("input", {}), ("flatten", {}), ("linear", {"out_features": 32}), ("head", {}))
    window.tasks_panel.add_tasks(digit_tasks[:2])
    assert window.document.report.ok
    blobs = data.split_by_class(data.load_builtin("blobs", n_samples=120, n_features=8, n_classes=4, seed=0),
                                n_tasks=2)
    window.tasks_panel.add_tasks(blobs)
    rows = [window.tasks_panel.tree.topLevelItem(i).text(0) for i in range(4)]
    assert rows == ["1", "2", "⚠ 3", "⚠ 4"]
    assert "tasks 3 and 4 have samples of 8" in window.tasks_panel.problems.text()
    assert "tasks 3 and 4" in window.tasks_panel.tree.topLevelItem(2).toolTip(0)
    window.undo_action.trigger()  # the odd tasks go: so do the marks
    assert window.document.report.ok and window.tasks_panel.problems.isHidden()
