"""The studio's side of class-incremental modular learning: what feeds the unified classifier on the
canvas, the router and how often it found the task (matrix, cards, progress line, Runs tab), AIA,
the memory a run kept, and run settings that show only the parameters that take effect."""

from __future__ import annotations

import copy

import pytest
from PySide6.QtWidgets import QApplication, QComboBox

from modstudio.gui.training.panel import READOUT_OVERLAY
from modstudio.gui.training.path_badges import Readout, head_badge, readout_badges, task_badges, task_list
from modstudio.gui.training.plots import fmt_pct
from modstudio.gui.training.state import LiveRun
from modstudio.learn.metrics import summarize
from modstudio.project import features, strategy_specs

RUN_TIMEOUT_MS = 60000


@pytest.fixture(scope="module")
def trained_runs():
    """Runs on the first 3 split-digits tasks: expansion (unified), progressive (gate), expansion
    (memory router), replay — all class-incremental — and a task-incremental expansion run."""
    import modstudio as ms

    project = ms.examples.build_example("split-digits")
    project.tasks[:] = project.tasks[:3]
    for overrides in (dict(strategy="expansion", scenario="class", strategy_params={"task_inference": "unified"}),
                      dict(strategy="progressive", scenario="class"),
                      dict(strategy="expansion", scenario="class", strategy_params={"task_inference": "memory"}),
                      dict(strategy="replay", scenario="class"), dict(strategy="expansion")):
        result = ms.train(project, epochs=2, **overrides)
        assert result.run.status == "finished", result.run.message
    return list(project.runs)


def project_with(runs):
    import modstudio as ms

    project = ms.examples.build_example("split-digits")
    project.tasks[:] = project.tasks[:3]
    project.graph = runs[0].trained_graph(project.graph)  # the node ids the runs' paths name
    project.runs.extend(copy.deepcopy(r) for r in runs)
    return project


def chain_graph():
    from modstudio.graph import Graph

    g = Graph()
    x, a, b, h = g.add_node("input", shape=[8]), g.add_node("mlp_block"), g.add_node("mlp_block"), g.add_node("head")
    g.connect(x, a)
    g.connect(a, b)
    g.connect(b, h)
    return g, g.check(input_shape=(8,), classes=2), (x, a, b, h)


def badges_of(window) -> dict:
    return {n: item.badge for n, item in window.scene.nodes.items() if item.badge is not None}


def choose_overlay(window, data) -> None:
    combo = window.training.panel.overlay
    index = combo.findData(data)
    assert index >= 0, [combo.itemData(i) for i in range(combo.count())]
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


# ------------------------------------------------------------------------------------------ badges


def test_the_head_says_over_which_tasks_features_the_unified_classifier_reads_and_if_the_task_feeds_it():
    g, report, (x, a, b, h) = chain_graph()
    # task 3 runs task 2's modules up to the head: its features are task 2's, read through one block
    paths = [{a: 0, b: 0, h: 0}, {a: 0, b: 1, h: 1}, {a: 0, b: 1, h: 2}, {a: 1, b: 2, h: 3}]
    readout = Readout("unified", features.feature_nodes(g), task_inference=(1.0, 0.9, 0.8, 0.7))
    assert readout.sources(paths) == [0, 1, 3]
    shared = task_badges(paths, 2, report, True, 4, readout=readout)[h]
    assert shared.text == "unified ← T1–2, T4" and shared.detail == "via T2"
    assert "features are task 2's" in shared.tooltip and "80%" in shared.tooltip
    own = head_badge(paths, 3, readout, 3, 4, "#fff")
    assert own.detail == "feeds" and "block 3 of 3" in own.tooltip
    # the readout overlay: every module's instances whose features the classifier reads
    overlay = readout_badges(paths, report, readout)
    assert (overlay[a].text, overlay[a].detail) == ("feeds unified", "#0–1 of 2")
    assert (overlay[b].text, overlay[b].detail) == ("feeds unified", "#0–2 of 3")
    assert overlay[h].text == "unified ← T1–2, T4" and overlay[h].detail == "3 blocks"
    assert x not in overlay  # the unified classifier does not read the input itself


def test_a_routed_run_names_its_router_and_how_often_it_was_right():
    g, report, (x, a, b, h) = chain_graph()
    paths = [{a: i, b: i, h: i} for i in range(3)]
    gate = Readout("gate", features.feature_nodes(g), lateral=True, task_inference=(0.97, 0.5, 0.25))
    badge = task_badges(paths, 1, report, True, 3, readout=gate)[h]
    assert badge.text == "own head of T2" and badge.detail == "gate 50%" and "autoencoder" in badge.tooltip
    overlay = readout_badges(paths, report, gate)
    assert overlay[x].text == "read by the gate" and overlay[x].detail == "3 AE"
    assert overlay[h].text == "routed by gate" and a not in overlay  # the gate reads the input, not features
    memory = Readout("memory", features.feature_nodes(g), lateral=True)
    assert readout_badges(paths, report, memory)[a].text == "feeds task clf."
    assert task_list([0, 1, 2, 4, 6, 7]) == "T1–3, T5, T7–8"


def test_the_canvas_overlay_of_a_saved_run_shows_its_readout(make_window, trained_runs):
    unified, gate, _, _, task_run = trained_runs
    window = make_window(project_with(trained_runs))
    training = window.training
    training.panel.ensure_views()
    run = window.document.project.runs[0]
    training.show_run(run)
    combo = training.panel.overlay
    assert combo.itemText(combo.findData(READOUT_OVERLAY)) == "unified classifier's inputs"
    choose_overlay(window, READOUT_OVERLAY)
    head = window.document.report.head_id
    sources = features.feature_sources(run.paths, features.feature_nodes(run.trained_graph(window.document.graph)))
    assert badges_of(window)[head].text == f"unified ← {task_list(sources)}"
    assert all(b.text == "feeds unified" for n, b in badges_of(window).items() if n != head)
    choose_overlay(window, 2)
    assert badges_of(window)[head].detail in ("feeds", *(f"via T{t + 1}" for t in sources))

    training.show_run(window.document.project.runs[1])  # progressive, routed by the gate
    assert combo.itemText(combo.findData(READOUT_OVERLAY)) == "task router (gate)"
    choose_overlay(window, 1)
    assert badges_of(window)[head].detail.startswith("gate ")
    choose_overlay(window, READOUT_OVERLAY)
    assert badges_of(window)[window.document.report.input_id].text == "read by the gate"

    training.show_run(window.document.project.runs[4])  # task-incremental: no readout to show
    assert combo.findData(READOUT_OVERLAY) < 0
    choose_overlay(window, 0)
    assert badges_of(window)[head].text == "own head of T1"


# ------------------------------------------------------------------------------------------ figures


def test_the_matrix_and_cards_show_how_often_the_task_was_inferred_and_by_what(make_window, trained_runs):
    window = make_window(project_with(trained_runs))
    training = window.training
    training.panel.ensure_views()
    plots, cards = None, None
    for index, label in ((0, "unified classifier"), (1, "task by gate"), (2, "task by memory classifier")):
        run = window.document.project.runs[index]
        training.show_run(run)
        training.refresh_now()
        plots = training.panel.plots
        cards = plots.cards
        rates = run.metrics.task_inference
        assert rates is not None and len(rates) == 3
        assert plots.matrix.inference_values() == [f"{r * 100:.0f}" for r in rates]
        assert plots.matrix.inference_image.isVisible() or not plots.isVisible()
        assert not cards.values["inferred"].isHidden() and cards.text("inferred") == fmt_pct(sum(rates) / 3)
        assert training.panel.header.speed.text() == f"{run.strategy} · {label}"  # the routing mode, named
        assert features.READOUT_TEXT[features.task_inference(run.strategy, "class", run.settings["strategy_params"])] \
            in plots.matrix.toolTip()
        assert cards.text("aia") == fmt_pct(run.metrics.aia)
    training.show_run(window.document.project.runs[4])  # the task is given: no row, no card
    training.refresh_now()
    assert plots.matrix.inference_values() == [] and not plots.matrix.inference_image.isVisible()
    assert cards.values["inferred"].isHidden() and training.panel.header.speed.text() == "expansion"
    assert cards.text("aia") == fmt_pct(window.document.project.runs[4].metrics.aia)
    assert "Rebuffi" in cards.values["aia"].toolTip() and "seen so far" in cards.values["aia"].toolTip()


def test_the_aia_card_weights_the_tasks_by_their_test_samples_as_the_record_does(qtbot):
    from modstudio.gui.training.plots import SummaryCards

    state = LiveRun.for_tasks(["a", "b"], "finetune", {"scenario": "task"})
    state.test_sizes = [10, 30]
    state.before_training([0.5, 0.5])
    state.task_ended(0, [1.0, 0.0], 10, {})
    state.task_ended(1, [0.2, 0.9], 10, {})
    cards = SummaryCards()
    qtbot.addWidget(cards)
    cards.refresh(state)
    weighted, equal = summarize(state.matrix, [10, 30]).aia, summarize(state.matrix).aia
    assert abs(weighted - equal) > 0.05  # the weights matter here
    assert cards.text("aia") == fmt_pct(weighted)


def test_runs_table_has_aia_and_memory_and_no_sideways_scrollbar_at_1280x800(make_window, trained_runs, qtbot):
    from modstudio.gui.training.runs_table import COLUMNS, FIGURES

    window = make_window(project_with(trained_runs))
    window.resize(1280, 800)
    training = window.training
    training.panel.ensure_views()
    training.dock.show()
    training.dock.raise_()
    training.panel.tabs.setCurrentWidget(training.panel.runs_page)
    qtbot.wait(50)
    table = training.panel.runs.table
    runs = window.document.project.runs
    aia, memory, scenario = COLUMNS.index("AIA"), COLUMNS.index("Memory"), COLUMNS.index("Scenario")
    for row, run in enumerate(runs):
        assert table.item(row, aia).text() == fmt_pct(run.metrics.aia)
        if run.memory:
            assert table.item(row, memory).text() == f"{run.memory['samples']:,}"
            assert "KiB" in table.item(row, memory).toolTip() or "bytes" in table.item(row, memory).toolTip()
        else:
            assert table.item(row, memory).text() == "—"
    assert runs[3].memory and runs[1].memory is None  # replay keeps one; progressive routed by the gate not
    assert "unified" in table.item(0, scenario).toolTip() and "task inferred right" in table.item(0, scenario).toolTip()
    assert "Rebuffi" in table.horizontalHeaderItem(aia).toolTip()
    assert ("aia", "AIA") in FIGURES
    QApplication.processEvents()
    assert not table.horizontalScrollBar().isVisible(), (table.viewport().width(), training.panel.runs.table_width())


def test_a_live_class_run_logs_its_memory_task_inference_and_aia(make_window, script, monkeypatch, qtbot, tmp_path):
    from modstudio.gui import dialogs
    from modstudio.learn import remote
    from tests.gui.helpers import in_process_trainer
    from tests.gui.test_training import tiny_project

    from modstudio.data import load_builtin, split_by_class

    monkeypatch.setattr(remote, "start_spare", lambda: None)
    for name in ("ask_stop_run", "show_run_error", "ask_save_file"):
        monkeypatch.setattr(dialogs, name, script.make(name))
    tasks = split_by_class(load_builtin("blobs", n_samples=360, n_features=8, n_classes=6, spread=1.5, seed=3),
                           n_tasks=3)
    window = make_window(tiny_project(tasks, scenario="class", strategy_params={"memory": 60,
                                                                                "task_inference": "unified"}))
    window.training.trainer_factory = in_process_trainer
    assert window.training.start()
    qtbot.waitUntil(lambda: not window.training.running, timeout=RUN_TIMEOUT_MS)
    run = window.document.project.runs[-1]
    assert run.status == "finished", run.message
    log = window.training.panel.log_text()
    assert "memory after task 1:" in log and "task inferred right T1" in log
    assert f"aia {run.metrics.aia * 100:.1f} %" in log
    assert f"memory {run.memory['samples']:,} samples (" in log.splitlines()[-1]
    assert window.training.state.memory == {"samples": run.memory["samples"], "bytes": run.memory["bytes"]}
    script.answer("ask_save_file", str(tmp_path / "m.csv"))
    window.training.save_metrics()
    summary = dict(line.split(",", 1) for line in (tmp_path / "m-summary.csv").read_text().splitlines())
    assert float(summary["aia"]) == pytest.approx(run.metrics.aia)
    assert float(summary["task_inferred_T3"]) == pytest.approx(run.metrics.task_inference[2])
    assert int(summary["memory_samples"]) == run.memory["samples"]


# ------------------------------------------------------------------------------------------ settings


def test_run_settings_show_the_parameters_that_take_effect(window):
    panel = window.training.panel.run_panel
    project = window.document.project

    def expected():
        spec = strategy_specs.get(project.settings.strategy)
        return [p.name for p in spec.params
                if features.param_applies(spec, p.name, project.settings.scenario, project.settings.strategy_params)]

    project.configure(strategy="expansion", scenario="task")
    assert panel.shown_params() == expected() and "aux_weight" not in panel.shown_params()
    assert panel.class_heading.isHidden() and not panel.class_note.isHidden()
    assert panel.class_note.text() == "+ 7 parameters for the class scenario"
    project.configure(scenario="class")
    shown = panel.shown_params()  # the default readout: the gate
    assert shown == expected() and {"task_inference", "gate_hidden", "router_epochs"} <= set(shown)
    assert "aux_weight" not in shown and not panel.class_heading.isHidden() and panel.class_note.isHidden()
    combo = panel.param_widgets["task_inference"]
    assert isinstance(combo, QComboBox)
    assert [combo.itemData(i) for i in range(combo.count())] == ["unified", *strategy_specs.ROUTERS]
    combo.activated.emit(combo.findData("unified"))  # a choice param, one undoable edit
    assert project.settings.strategy_params == {"task_inference": "unified"}
    shown = panel.shown_params()
    assert shown == expected() and {"aux_weight", "memory"} <= set(shown) and "gate_hidden" not in shown
    window.undo_action.trigger()
    assert "gate_hidden" in panel.shown_params() and "aux_weight" not in panel.shown_params()
    project.configure(strategy="progressive", strategy_params={}, scenario="task")
    assert panel.shown_params() == expected() and "task_inference" not in panel.shown_params()


@pytest.mark.parametrize("size", [None, (1280, 800)])
def test_the_longer_parameter_lists_fit_the_run_settings(make_window, qtbot, size):
    from modstudio.examples import build_example

    project = build_example("split-digits")
    project.configure(strategy="expansion", scenario="class")
    window = make_window(project)
    if size is not None:
        window.resize(*size)
    window.training.dock.raise_()
    qtbot.wait(50)
    panel = window.training.panel.run_panel
    viewport = panel.parentWidget()
    for strategy, params in (("expansion", {}), ("expansion", {"task_inference": "gate"}), ("progressive", {})):
        project.configure(strategy=strategy, strategy_params=params)
        QApplication.processEvents()
        form = panel.params_form
        assert form.minimumSize().width() + 16 <= viewport.width(), strategy  # the panel's margins beside it
        for key in panel.shown_params():
            label, editor = panel.param_labels[key], panel.param_widgets[key]
            assert label.width() >= label.minimumSizeHint().width(), key  # no clipped label
            assert editor.width() >= editor.minimumWidth(), key


def test_the_inspector_and_the_run_panel_edit_every_parameter_type_a_spec_declares():
    from modstudio.gui.param_editors import ChoiceEditor, make_editor
    from modstudio.gui.training.run_panel import _param_editor
    from modstudio.project.settings import SETTING_SPECS

    for spec in [p for s in strategy_specs.specs() for p in s.params]:
        assert make_editor(spec) is not None and _param_editor(spec) is not None, spec.name
    for spec in SETTING_SPECS.values():
        assert make_editor(spec) is not None, spec.name
    choice = strategy_specs.get("expansion").param("task_inference")
    editor = make_editor(choice)
    assert isinstance(editor, ChoiceEditor)
    combo = editor.widget
    assert [combo.itemData(i) for i in range(combo.count())] == list(choice.choices)
    editor.set_value("gate")
    assert combo.currentData() == "gate"
    committed = []
    editor.committed.connect(committed.append)
    combo.activated.emit(combo.findData("memory"))
    assert committed == ["memory"]
