"""The Training dock's Evaluate tab: the run shown is evaluated in the background when the tab is
opened, its confusion matrix and recalls are the run's, the wrong samples show as thumbnails for
image tasks and as values for others, class-incremental runs get an "All classes" view, and
Predict… answers for a scripted file (a bad one gets a message, no dialog)."""

from __future__ import annotations

import numpy as np
import pytest

import modstudio as ms

TIMEOUT_MS = 60000


@pytest.fixture(scope="module")
def image_project():
    """Two tasks of 1×8×8 digit images through a small conv net, one epoch: a run with weights."""
    project = ms.examples.build_example("split-digits-conv")
    del project.tasks[2:]
    project.configure(epochs=1, strategy="finetune", strategy_params={}, device="cpu")
    run = ms.train(project).run
    assert run.status == "finished", run.message
    return project


@pytest.fixture(scope="module")
def class_project():
    """Blobs (8 features) in 3 tasks, class-incremental with a shared head."""
    from modstudio.data import load_builtin, split_by_class
    from tests.gui.test_training import tiny_project

    data = load_builtin("blobs", n_samples=360, n_features=8, n_classes=6, spread=1.5, seed=3)
    project = tiny_project(split_by_class(data, n_tasks=3), strategy="finetune", epochs=1, scenario="class")
    assert ms.train(project).run.status == "finished"
    return project


def _open_tab(window, qtbot):
    training = window.training
    training.panel.ensure_views()
    training.dock.show()
    training.dock.raise_()
    tab = training.panel.evaluate
    training.panel.tabs.setCurrentWidget(training.panel.evaluate_page)
    qtbot.waitUntil(lambda: tab.result is not None, timeout=TIMEOUT_MS)
    return tab


def test_the_tab_evaluates_the_run_shown_and_draws_its_matrix_and_thumbnails(make_window, image_project, qtbot):
    window = make_window(image_project)
    tab = _open_tab(window, qtbot)
    run = window.document.project.runs[-1]
    assert tab.result.run_id == run.id
    assert [tab.view.itemText(i) for i in range(tab.view.count())] == ["T1 digits 0-1", "T2 digits 2-3"]
    for index in range(2):
        tab.view.setCurrentIndex(index)
        view = tab.current_view()
        table = tab.matrix
        assert table.rowCount() == 2 and table.columnCount() == 3  # two predicted classes and the recall
        assert [table.horizontalHeaderItem(j).text() for j in range(3)] == [*view.predicted_names, "recall"]
        counts = [[int(table.item(i, j).text()) for j in range(2)] for i in range(2)]
        assert counts == view.confusion
        assert sum(map(sum, counts)) == len(image_project.tasks[index].test)
        assert (counts[0][0] + counts[1][1]) / sum(map(sum, counts)) == pytest.approx(run.acc_matrix[-1][index])
        assert table.item(0, 2).text() == f"{view.per_class_accuracy[0] * 100:.1f} %"
        assert f"{view.accuracy * 100:.1f} %" in tab.caption.text()
        if view.confident_wrong:  # 1×8×8 images: each wrong sample a thumbnail
            first = tab.wrong.item(0)
            assert not first.icon().isNull()
            w = view.confident_wrong[0]
            assert first.text().startswith(f"{view.true_names[w.true]} → {view.predicted_names[w.predicted]}")
    # another run shown (a second one, trained in the window's project) is evaluated in its turn
    window.document.project.configure(epochs=1)
    second = ms.train(window.document.project).run
    window.training.show_run(second)
    qtbot.waitUntil(lambda: tab.result is not None and tab.result.run_id == second.id, timeout=TIMEOUT_MS)
    window.training.show_run(run)
    assert tab.result.run_id == run.id  # kept: shown again at once


def test_class_incremental_runs_get_all_classes_and_values_for_flat_samples(make_window, class_project, qtbot):
    window = make_window(class_project)
    tab = _open_tab(window, qtbot)
    assert tab.view.itemText(tab.view.count() - 1) == "All classes (no task id)"
    tab.view.setCurrentIndex(tab.view.count() - 1)
    whole = tab.current_view()
    assert whole.task is None and tab.matrix.rowCount() == 6
    assert sum(int(tab.matrix.item(i, j).text()) for i in range(6) for j in range(tab.matrix.columnCount() - 1)) \
        == sum(len(t.test) for t in class_project.tasks)
    assert "task inferred right" in tab.caption.text()
    texts = [tab.wrong.item(i).text() for i in range(tab.wrong.count())]
    assert texts and all(t.startswith("T") and "[" in t for t in texts)  # where, what, and the sample's values
    assert tab.wrong.item(0).icon().isNull()


def test_nothing_in_the_tab_is_cut_or_scrolls_sideways_at_1280_by_800(make_window, class_project, qtbot):
    from modstudio.gui.fit import elided_texts, sideways_scrollbars

    window = make_window(class_project)
    window.resize(1280, 800)
    tab = _open_tab(window, qtbot)
    for index in range(tab.view.count()):  # every task's matrix and the whole problem's
        tab.view.setCurrentIndex(index)
        qtbot.wait(10)
        assert elided_texts(tab) == [] and sideways_scrollbars(tab) == [], tab.view.itemText(index)


def test_predict_reads_a_scripted_file_and_shows_every_head(make_window, image_project, script, qtbot, tmp_path):
    from PIL import Image

    window = make_window(image_project)
    tab = _open_tab(window, qtbot)
    sample = np.asarray(image_project.tasks[1].test.x[0])[0]
    Image.fromarray((sample * 255).round().astype(np.uint8)).save(tmp_path / "digit.png")
    script.answer("ask_predict_file", str(tmp_path / "digit.png"))
    assert tab.predict()
    qtbot.waitUntil(lambda: tab.prediction is not None, timeout=TIMEOUT_MS)
    heads = tab.prediction.samples[0].heads
    assert [h.task_name for h in heads] == ["digits 0-1", "digits 2-3"]
    text = tab.prediction_text.toPlainText()
    assert "digit.png: 1 sample of shape 1×8×8" in text
    for head in heads:
        assert f"T{head.task + 1} {head.task_name}" in text
        assert f"{head.predicted_name} {head.probabilities[head.predicted] * 100:.0f} %" in text

    np.save(tmp_path / "wrong.npy", np.zeros((3, 5), dtype=np.float32))
    script.answer("ask_predict_file", str(tmp_path / "wrong.npy"))
    assert tab.predict()
    qtbot.waitUntil(lambda: "Cannot predict" in tab.prediction_text.toPlainText(), timeout=TIMEOUT_MS)
    assert "shape 3×5 does not fit the tasks' sample shape 1×8×8" in tab.prediction_text.toPlainText()
    assert tab.prediction is None and not script.called("show_error")
    script.answer("ask_predict_file", None)  # cancelled: nothing starts
    assert not tab.predict()
