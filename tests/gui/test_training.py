"""Training from the studio: runs from the Train action, stop, failure, closing mid-run, the views.

Three tests train in a real training process (a finished run; pause, resume and stop; a process that
dies); the others only need *a* run, and train in this process (``in_process``), with no process.
"""

from __future__ import annotations

import pytest

from modstudio.gui import dialogs

RUN_TIMEOUT_MS = 60000


@pytest.fixture
def train_script(script, monkeypatch):
    """The shared dialog script, plus the questions a training run may ask."""
    for name in ("ask_stop_run", "show_run_error", "ask_save_file"):
        monkeypatch.setattr(dialogs, name, script.make(name))
    return script


@pytest.fixture
def make_window(make_window):
    """The shared window factory, with any run still going stopped and joined before teardown."""
    windows = []

    def make(*args, **kwargs):
        windows.append(make_window(*args, **kwargs))
        return windows[-1]

    yield make
    for w in windows:
        w.training.stop_and_wait()


@pytest.fixture
def in_process(make_window, monkeypatch):
    """The window factory, its windows training in this process instead of a training process."""
    from modstudio.learn import remote
    from tests.gui.helpers import in_process_trainer

    monkeypatch.setattr(remote, "start_spare", lambda: None)  # no training process to start ahead either

    def make(*args, **kwargs):
        window = make_window(*args, **kwargs)
        window.training.trainer_factory = in_process_trainer
        return window

    return make


@pytest.fixture(scope="module")
def blob_tasks():
    from modstudio.data import load_builtin, split_by_class

    data = load_builtin("blobs", n_samples=360, n_features=8, n_classes=6, spread=1.5, seed=3)
    return split_by_class(data, n_tasks=3)


def tiny_project(tasks, **settings):
    from modstudio.graph import Graph
    from modstudio.project import Project, TrainingSettings

    project = Project.new("tiny")
    g = project.graph
    x = g.add_node("input", pos=(0, 0))
    m = g.add_node("mlp_block", hidden=[16], pos=(240, 0))
    h = g.add_node("head", pos=(480, 0))
    g.connect(x, m)
    g.connect(m, h)
    project.tasks.extend(tasks)
    project.settings = TrainingSettings(**{"strategy": "expansion", "epochs": 2, "batch_size": 32, "lr": 1e-2,
                                           "device": "cpu", **settings})
    return project


def mlp_id(window) -> str:
    return next(n for n, node in window.document.graph.nodes.items() if node.kind == "mlp_block")


def wait_done(qtbot, window, timeout=RUN_TIMEOUT_MS):
    qtbot.waitUntil(lambda: not window.training.running, timeout=timeout)


def test_train_action_runs_to_the_end_with_one_curve_per_task(make_window, train_script, blob_tasks, qtbot):
    window = make_window(tiny_project(blob_tasks))
    training = window.training
    window.training.train_action.trigger()
    assert training.running and window.document.locked
    wait_done(qtbot, window)
    run = window.document.project.runs[-1]
    assert run.status == "finished", run.message
    training.refresh_now()
    plots = training.panel.plots
    assert plots.retention.curve_count() == 3 and len(plots.retention.curves) == 3
    assert plots.matrix.filled_rows() == 4 and len(plots.matrix.texts) == 12
    assert plots.cards.text("acc").endswith("%") and plots.cards.text("params") != "—"
    assert training.panel.header.bar.value() == 1000
    assert "Run finished" in training.panel.log_text()
    # the run is one undoable step, and the project can be saved with it
    assert window.isWindowModified() and not window.document.locked
    assert training.panel.runs.table.rowCount() == 1
    # the canvas shows the last task's path: its own head, and the hidden block grown or reused
    badges = {n: item.badge for n, item in window.scene.nodes.items() if item.badge is not None}
    assert mlp_id(window) in badges and ("reused" in badges[mlp_id(window)].text or
                                         "new" in badges[mlp_id(window)].text)
    assert "bank" in badges[mlp_id(window)].detail
    train_script.answer("ask_undo_run", True)  # undoing a trained run asks first
    window.undo_action.trigger()
    assert window.document.project.runs == [] and training.panel.runs.table.rowCount() == 0
    assert train_script.called("ask_undo_run") == [(window, run)]
    window.redo_action.trigger()
    assert window.document.project.runs[-1] is run
    assert not train_script.called("show_run_error")


def test_editing_is_locked_while_a_run_goes_and_stop_keeps_a_partial_run(make_window, train_script, blob_tasks,
                                                                          qtbot):
    from modstudio.graph.commands import AddNode

    window = make_window(tiny_project(blob_tasks, strategy="finetune", epochs=400))
    training = window.training
    training.start()
    assert window.document.push(AddNode("relu")) is not None  # refused while training
    assert not window.palette.isEnabled() and not window.inspector.isEnabled()
    assert not window.training.train_action.isEnabled() and training.stop_action.isEnabled()
    qtbot.waitUntil(lambda: bool(training.state.epoch_loss_x), timeout=RUN_TIMEOUT_MS)
    training.pause_action.trigger()
    assert training.resume_action.isEnabled() and not training.pause_action.isEnabled()
    training.resume_action.trigger()
    training.stop_action.trigger()
    wait_done(qtbot, window)
    run = window.document.project.runs[-1]
    assert run.status == "stopped"
    assert 1 <= len(run.acc_matrix) < 4 and run.curves  # before training + the tasks done, not all three
    assert training.panel.plots.retention.curve_count() >= 1
    assert window.isVisible() and training.train_action.isEnabled() and window.palette.isEnabled()
    assert window.document.push(AddNode("relu")) is None  # editing is back
    assert "Stopped" in training.panel.header.bar.format()


def test_a_failing_run_shows_the_error_and_keeps_its_history(in_process, train_script, blob_tasks, qtbot):
    window = in_process(tiny_project(blob_tasks, strategy="finetune", optimizer="sgd", lr=1e30))
    train_script.answer("show_run_error", None)
    window.training.start()
    wait_done(qtbot, window)
    run = window.document.project.runs[-1]
    assert run.status == "failed" and "loss" in run.message
    (call,) = train_script.called("show_run_error")
    assert call[1] == "Training failed" and "loss" in call[2]
    assert "Training 3 tasks with finetune" in call[3]  # the log rides along
    assert run.acc_matrix  # the row before training is kept


def test_a_training_process_that_dies_ends_the_run_with_the_error_and_its_history(make_window, train_script,
                                                                                  blob_tasks, qtbot):
    window = make_window(tiny_project(blob_tasks, strategy="finetune", epochs=400))
    training = window.training
    train_script.answer("show_run_error", None)
    training.start()
    qtbot.waitUntil(lambda: bool(training.state.epoch_loss_x), timeout=RUN_TIMEOUT_MS)
    training.worker.trainer.process.popen.kill()  # as the out-of-memory killer would
    wait_done(qtbot, window)
    run = window.document.project.runs[-1]
    assert run.status == "failed" and "killed" in run.message and run.curves and run.acc_matrix
    (call,) = train_script.called("show_run_error")
    assert "killed" in call[2]
    assert window.isVisible() and not window.document.locked and training.train_action.isEnabled()
    assert "Run failed" in training.panel.log_text()
    window.document.project.configure(epochs=1)
    training.start()  # the next run gets a new process
    wait_done(qtbot, window)
    assert window.document.project.runs[-1].status == "finished"


def test_closing_during_a_run_asks_stops_and_joins_the_thread(in_process, train_script, blob_tasks, qtbot):
    window = in_process(tiny_project(blob_tasks, strategy="finetune", epochs=400))
    training = window.training
    training.start()
    worker = training.worker
    qtbot.waitUntil(lambda: bool(training.state.epoch_loss_x), timeout=RUN_TIMEOUT_MS)
    train_script.answer("ask_stop_run", False)
    window.close()
    assert window.isVisible() and training.running  # "keep training" keeps the window and the run
    train_script.answer("ask_stop_run", True)
    train_script.answer("ask_save_changes", "discard")
    window.close()
    assert not window.isVisible() and not training.running
    assert worker.isFinished()  # joined, not abandoned
    assert window.document.project.runs[-1].status == "stopped"


def test_runs_table_overlays_selected_runs_and_lesion_runs_on_a_copy(in_process, train_script, blob_tasks, qtbot):
    window = in_process(tiny_project(blob_tasks, strategy="finetune", epochs=1))
    training = window.training
    training.start()
    wait_done(qtbot, window)
    window.document.project.configure(strategy="expansion")
    training.start()
    wait_done(qtbot, window)
    runs = window.document.project.runs
    assert [r.strategy for r in runs] == ["finetune", "expansion"]
    table = training.panel.runs
    assert table.table.rowCount() == 2
    table.select_rows([0, 1])
    assert table.overlay_count() == 2
    weights = {k: v.copy() for k, v in runs[-1].weights.items()}
    training.show_run(runs[-1])
    assert training.lesion_node(mlp_id(window))
    qtbot.waitUntil(lambda: training.panel.lesion.result is not None, timeout=RUN_TIMEOUT_MS)
    result = training.panel.lesion.result
    assert len(result.before) == len(result.after) == 3 and all(result.affected)
    assert all(a <= b + 1e-9 for a, b in zip(result.after, result.before))
    assert all((weights[k] == v).all() for k, v in runs[-1].weights.items())


def test_plots_and_metrics_save_as_png_svg_and_csv(in_process, train_script, blob_tasks, qtbot, tmp_path):
    window = in_process(tiny_project(blob_tasks, epochs=1))
    window.training.start()
    wait_done(qtbot, window)
    train_script.answer("ask_save_file", str(tmp_path / "fig.png"), str(tmp_path / "fig.svg"),
                        str(tmp_path / "m.csv"))
    png = window.training.save_plots()
    svg = window.training.save_plots()
    csv_files = window.training.save_metrics()
    assert {p.name for p in png} == {"fig-retention.png", "fig-loss.png", "fig-matrix.png", "fig-growth.png"}
    assert all(p.stat().st_size > 1000 for p in png + svg)
    assert (tmp_path / "fig-retention.svg").read_text().lstrip().startswith("<?xml")
    matrix = (tmp_path / "m-matrix.csv").read_text().splitlines()
    assert len(matrix) == 5 and matrix[1].startswith("init")
    assert "acc," in (tmp_path / "m-summary.csv").read_text()


def test_run_settings_are_undoable_edits(window):
    panel = window.training.panel.run_panel
    settings = lambda: window.document.project.settings  # noqa: E731
    panel.epochs.setValue(7)
    assert settings().epochs == 7
    panel._set_param("search_epochs", 3)
    assert settings().strategy_params == {"search_epochs": 3}
    index = panel.strategy.findData("ewc")
    panel.strategy.setCurrentIndex(index)
    panel._on_strategy_activated(index)
    assert settings().strategy == "ewc" and settings().strategy_params == {}
    assert set(panel.param_widgets) == {"lambda", "gamma", "fisher_samples", "fisher_batch"}
    window.undo_action.trigger()
    assert settings().strategy == "expansion" and settings().strategy_params == {"search_epochs": 3}


def test_run_panel_offers_the_specs_strategies_and_settings_choices(window):
    from modstudio.learn.strategies import STRATEGIES
    from modstudio.project import strategy_specs
    from modstudio.project.settings import SETTING_SPECS

    panel = window.training.panel.run_panel
    offered = [panel.strategy.itemData(i) for i in range(panel.strategy.count())]
    assert offered == strategy_specs.names() and set(offered) == set(STRATEGIES)  # each with its class
    for name in ("scenario", "optimizer"):
        combo = getattr(panel, name)
        assert tuple(combo.itemData(i) for i in range(combo.count())) == SETTING_SPECS[name].choices
    assert (panel.epochs.minimum(), panel.epochs.maximum()) == (1, SETTING_SPECS["epochs"].max)


def test_devices_are_listed_by_the_training_process(qtbot, monkeypatch):
    from modstudio.gui.training import devices
    from modstudio.gui.training.devices import LOOKING, DeviceCombo

    monkeypatch.setattr(devices, "ASK_AFTER_SHOWN_MS", 50)  # "a little later": no need to wait 3 s for it
    combo = DeviceCombo()
    qtbot.addWidget(combo)
    combo.select("cuda:3")  # a saved project's choice stays selectable
    combo.show()  # shown: the question goes out a little later, not during the studio's start-up
    assert combo.findText(LOOKING) < 0
    qtbot.waitUntil(lambda: combo.findText(LOOKING) >= 0 or combo.listed, timeout=10000)
    if not combo.listed:
        assert not combo.model().item(combo.findText(LOOKING)).isEnabled()
    qtbot.waitUntil(lambda: combo.listed, timeout=RUN_TIMEOUT_MS)
    names = [combo.itemData(i) for i in range(combo.count())]
    assert names[0] == "auto" and "cpu" in names and combo.currentData() == "cuda:3"
    assert combo.findText(LOOKING) < 0 and "CPU (" in combo.itemText(names.index("cpu"))


def test_devices_that_cannot_be_listed_leave_auto_and_cpu(qtbot, monkeypatch):
    from modstudio.gui.training.devices import LOOKING, DeviceCombo
    from modstudio.learn import remote

    def broken():
        raise RuntimeError("no driver")

    monkeypatch.setattr(remote, "list_devices", broken)
    combo = DeviceCombo()
    qtbot.addWidget(combo)
    combo.list_devices()
    qtbot.waitUntil(lambda: "no driver" in combo.toolTip(), timeout=10000)
    assert [combo.itemData(i) for i in range(combo.count())] == ["auto", "cpu"] and combo.findText(LOOKING) < 0


def test_progress_line_names_task_epoch_phase_speed_and_eta(qtbot):
    from modstudio.gui.training.progress import ProgressHeader
    from modstudio.gui.training.state import LiveRun

    header = ProgressHeader()
    qtbot.addWidget(header)
    header.resize(1200, 30)
    header.show()
    state = LiveRun.for_tasks(["a", "b"], "expansion")
    state.status, state.current_task, state.epoch, state.epochs = "running", 1, 2, 5
    state.samples_per_s, state.eta_s, state.device, state.phase = 31868.4, 75.0, "cpu", "search"
    header.refresh(state)
    assert header.bar.format() == "Task 2/2 · epoch 3/5 · searching · %p%"
    assert header.speed.text() == "31.9 k samples/s · ETA 1:15 · cpu"
    # the label's room is kept whatever the figures: no re-layout of the panel when they change
    assert header.speed.sizeHint().width() <= header.speed.minimumWidth()
    state.phase, state.version = "train", state.version + 1
    header.refresh(state, paused=True)
    assert header.bar.format() == "Task 2/2 · epoch 3/5 · paused · %p%"
    header.refresh(state)
    assert header.bar.format() == "Task 2/2 · epoch 3/5 · training · %p%"
    header.bar.setFixedWidth(150)  # a narrow panel: shorter words, still one line
    qtbot.wait(10)
    state.version += 1
    header.refresh(state)
    text = header.bar.format()
    assert text.startswith("T2/2 ·") and header.bar.fontMetrics().horizontalAdvance(text) < 150


def test_epoch_dots_only_while_few_and_axes_that_never_resize(qtbot):
    import numpy as np

    from modstudio.gui.training.plots import DOT_LIMIT, LEFT_AXIS_WIDTH, RetentionPlot, set_points

    plot = RetentionPlot()
    qtbot.addWidget(plot)
    plot.reset(["a"])
    curve = plot.curves[0]
    set_points(curve, np.arange(DOT_LIMIT), np.zeros(DOT_LIMIT))
    assert curve.opts["symbol"] == "o"
    set_points(curve, np.arange(DOT_LIMIT + 1), np.zeros(DOT_LIMIT + 1))
    assert curve.opts["symbol"] is None and len(curve.xData) == DOT_LIMIT + 1
    set_points(curve, [0.0, 1.0], [0.5, 0.6])
    assert curve.opts["symbol"] == "o"
    axis = plot.getPlotItem().getAxis("left")
    plot.setYRange(0, 0.0001)  # wider tick labels would otherwise resize the data area
    assert axis.minimumWidth() == axis.maximumWidth() == LEFT_AXIS_WIDTH


def test_the_seeds_field_trains_one_run_per_seed_and_the_runs_tab_aggregates_them(in_process, blob_tasks, qtbot,
                                                                                  script):
    """Seeds 3,5: two runs, one per seed, each kept; the Runs tab shows their seeds and mean ± sd."""
    window = in_process(tiny_project(blob_tasks))
    panel = window.training.panel.run_panel
    panel.seeds.setText("3-x")
    assert panel.seeds_error.isVisibleTo(panel) and "3-x" in panel.seeds_error.text()
    assert not window.training.start() and script.called("show_error")  # refused: nothing starts
    panel.seeds.setText("3,5")
    assert not panel.seeds_error.isVisibleTo(panel) and panel.seed_list() == [3, 5]
    window.training.train_action.trigger()
    qtbot.waitUntil(lambda: len(window.document.project.runs) == 2 and not window.training.running,
                    timeout=RUN_TIMEOUT_MS * 2)
    runs = window.document.project.runs
    assert [r.settings["seed"] for r in runs] == [3, 5] and all(r.status == "finished" for r in runs)
    assert window.document.project.settings.seed == 0  # the setting itself is left as it was
    table = window.training.panel.runs
    from modstudio.gui.training.runs_table import COLUMNS

    assert [table.table.item(r, COLUMNS.index("Seed")).text() for r in range(2)] == ["3", "5"]
    text = table.seed_summary.text()
    assert table.seed_summary.isVisibleTo(table) and "over seeds 3, 5" in text and "±" in text
    from modstudio.project.seeds import aggregate, format_figure

    assert format_figure("acc", aggregate(runs)["figures"]["acc"]) in text
    window.document.undo_stack.setClean()
