"""Training from the window: the Run menu and toolbar actions, the worker's life cycle, editing locked
while a run goes, the timer that redraws the plots, the finished run kept in the project (one undo
step), the canvas overlay of a task's path, the run shown in the Evaluate tab, the lesion study from
the canvas's context menu, and the Runs tab's exports to TensorBoard and MLflow (``tracking_export``)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMenu

from modstudio.gui import dialogs
from modstudio.gui.training.bridge import TrainingBridge
from modstudio.gui.training.panel import FOLLOW, NO_OVERLAY, READOUT_OVERLAY, TrainingPanel
from modstudio.gui.training.state import LiveRun, memory_text
from modstudio.project import strategy_specs
from modstudio.project.commands import AddRun
from modstudio.project.seeds import SeedListError

REFRESH_MS = 50  # 20 Hz: smooth to the eye, a small fraction of a core
LOCKED = "Training is running: the network, tasks and settings are locked until it ends (Stop to end it now)."


class TrainingController(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.document = window.document
        self.worker = None
        self.trainer_factory = None  # None: each run in a training process (TrainingWorker's default)
        self.bridge: TrainingBridge | None = None
        self.state = LiveRun()
        self.shown_run = None  # the saved run the views show (None while a run trains)
        self._badges_version = None
        self._feature_nodes: tuple | None = None  # (the run shown, the feature nodes of the graph it trained)
        self._log_failed = ""
        self.tracking_export = None  # TrackingExport, made on first use
        self._seed_queue: list[int] = []  # the Seeds list's seeds still to train, one run each
        self._seeds_total = 0

        self.panel = TrainingPanel(self.document)
        self.panel.views_ready = self._on_panel_views_ready
        self.panel.overlay_changed.connect(self._on_panel_overlay_changed)
        self.panel.save_plots_requested.connect(self.save_plots)
        self.panel.save_metrics_requested.connect(self.save_metrics)
        self.dock = QDockWidget("Training", window)
        self.dock.setObjectName("training-dock")
        self.dock.setWidget(self.panel)
        self.dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                              | QDockWidget.DockWidgetFeature.DockWidgetClosable
                              | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        window.tabifyDockWidget(window.tasks_dock, self.dock)
        window.tasks_dock.raise_()

        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self._on_timer_timeout)

        self.train_action = self._action("&Train", self.start, "F5", "Train the task sequence in the background")
        self.pause_action = self._action("&Pause", self.pause, "F6", "Pause the run after the current batch")
        self.resume_action = self._action("&Resume", self.resume, "F6", "Go on with the paused run")
        self.stop_action = self._action("&Stop", self.stop, "Shift+F5", "Stop the run; the tasks trained so far are kept")
        self.show_dock_action = self.dock.toggleViewAction()
        self.show_dock_action.setText("Training &Panel")
        self._install_menu()
        self._update_actions()

        window.editor.node_menu_extras.append(self._add_node_menu_actions)
        window.inspector.run_settings_requested.connect(self.show_run_settings)
        self.document.project_replaced.connect(self._on_document_project_replaced)
        self.document.runs_changed.connect(self._on_document_runs_changed)
        self._on_document_project_replaced()

    # ------------------------------------------------------------------ building

    def _action(self, text: str, slot, shortcut: str, tip: str) -> QAction:
        action = QAction(text, self.window)
        action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.setToolTip(f"{tip} ({shortcut})")
        action.triggered.connect(lambda checked=False: slot())
        self.window.addAction(action)
        return action

    def _install_menu(self) -> None:
        bar = self.window.menuBar()
        menu = QMenu("&Run", self.window)
        menu.addActions([self.train_action, self.pause_action, self.resume_action, self.stop_action])
        menu.addSeparator()
        menu.addAction(self.show_dock_action)
        help_action = next((a for a in bar.actions() if a.text().replace("&", "") == "Help"), None)
        if help_action is not None:
            bar.insertMenu(help_action, menu)
        else:
            bar.addMenu(menu)
        self.menu = menu
        toolbar = self.window.toolbar
        toolbar.addSeparator()
        toolbar.addActions([self.train_action, self.pause_action, self.resume_action, self.stop_action])

    def show_run_settings(self) -> None:
        """The one form of the training settings: the Training dock's run settings, focused."""
        self.dock.show()
        self.dock.raise_()
        self.panel.run_panel.strategy.setFocus(Qt.FocusReason.OtherFocusReason)

    # ------------------------------------------------------------------ state

    @property
    def running(self) -> bool:
        return self.worker is not None

    def _update_actions(self) -> None:
        running = self.running
        paused = running and self.worker.paused
        self.train_action.setEnabled(not running)
        self.pause_action.setEnabled(running and not paused)
        self.resume_action.setEnabled(paused)
        self.stop_action.setEnabled(running)
        self.pause_action.setVisible(not paused)
        self.resume_action.setVisible(paused)

    def _lock(self, locked: bool) -> None:
        """Editing waits for the run: the model refuses edits, and the editing views are disabled."""
        w = self.window
        self.document.locked = LOCKED if locked else None
        if locked:
            w.scene.clearSelection()
        w.view.setInteractive(not locked)
        for widget in (w.palette, w.inspector, w.tasks_panel, self.panel.run_panel):
            widget.setEnabled(not locked)
        for action in (w.new_action, w.open_action, w.cut_action, w.paste_action, w.duplicate_action,
                       w.delete_action, w.group_action, w.ungroup_action, w.add_tasks_action, w.layout_action):
            action.setEnabled(not locked)
        for menu in (w.recent_menu, w.examples_menu):
            menu.setEnabled(not locked)
        stack = self.document.undo_stack
        w.undo_action.setEnabled(not locked and stack.canUndo())
        w.redo_action.setEnabled(not locked and stack.canRedo())
        if not locked:
            w._update_actions()

    def task_names(self) -> list[str]:
        return [t.name for t in self.document.project.tasks]

    # ------------------------------------------------------------------ control

    def start(self) -> bool:
        """Start a run with the project's settings; False (with the reason shown) when it cannot."""
        if self.running:
            return False
        project = self.document.project
        if not project.tasks:
            dialogs.show_error(self.window, "Nothing to train",
                               "The project has no tasks yet. Add a dataset as a sequence of tasks (Ctrl+T) first.")
            return False
        # The network checked with its tasks (project/check.py): a problem seen now starts nothing, so
        # no failed run is kept for it.
        report = self.document.recheck()
        if not report.ok:
            tasks = bool(report.task_errors())
            dialogs.show_error(self.window, "The tasks do not fit the network" if tasks else "The network has problems",
                               f"Fix the problems marked on the canvas{' and in the Tasks panel' * tasks} before "
                               "training:\n\n" + "\n".join(f"• {e.message}" for e in report.errors[:10]))
            return False
        try:
            seeds = self.panel.run_panel.seed_list()
        except SeedListError as exc:
            dialogs.show_error(self.window, "The seeds are not a list", f"Seeds: {exc}. Give whole numbers and "
                               "ranges (0-4, or 0,2,7), or leave the field empty for one run.")
            return False
        self._seed_queue = list(seeds or [])
        self._seeds_total = len(self._seed_queue)
        return self._start_run(self._next_settings())

    def _next_settings(self):
        """The project's settings (a frozen value: edits after this make a new one), with the next
        seed of the Seeds list when one is being trained."""
        settings = self.document.project.settings
        return settings.replace(seed=self._seed_queue.pop(0)) if self._seed_queue else settings

    def _start_run(self, settings) -> bool:
        from modstudio.gui.training.worker import TrainingWorker

        project = self.document.project
        self.panel.ensure_views()
        self.state = LiveRun.for_tasks(self.task_names(), settings.strategy, settings.to_dict())
        self.state.status = "running"
        self.shown_run = None
        self._badges_version = None
        self._feature_nodes = None  # the graph may have changed since the last run
        self.panel.clear_log()
        of_seeds = (f", run {self._seeds_total - len(self._seed_queue)} of {self._seeds_total} over seeds"
                    if self._seeds_total > 1 else "")
        self.panel.append_log(f"Training {len(project.tasks)} tasks with {settings.strategy} "
                              f"({settings.epochs} epochs per task, {settings.optimizer} lr {settings.lr:g}, "
                              f"batch {settings.batch_size}, seed {settings.seed}, device {settings.device}{of_seeds})")
        self.bridge = TrainingBridge(self)
        self.bridge.subscribe(self._on_bridge_event)
        self.worker = TrainingWorker(project.graph, project.tasks, settings, self.bridge,
                                     trainer_factory=self.trainer_factory, parent=self)
        self.worker.done.connect(self._on_worker_done, Qt.ConnectionType.QueuedConnection)
        self._lock(True)
        self.panel.set_overlay_tasks(self.task_names(), running=True, select=FOLLOW, readout=self.state.readout)
        self.panel.tabs.setCurrentWidget(self.panel.live_page)
        self.dock.show()
        self.dock.raise_()
        self.worker.start()
        self.timer.start()
        self._update_actions()
        self.window.statusBar().showMessage("Training started: editing is locked until the run ends.", 8000)
        self._on_timer_timeout()
        return True

    def pause(self) -> None:
        if self.running:
            self.worker.pause()
            self.panel.append_log("Paused (after the current batch).")
            self._update_actions()
            self._on_timer_timeout()

    def resume(self) -> None:
        if self.running:
            self.worker.resume()
            self.panel.append_log("Resumed.")
            self._update_actions()

    def stop(self) -> None:
        if self.running:
            self.worker.stop()
            self.panel.append_log("Stopping after the current batch …")
            self.stop_action.setEnabled(False)

    def stop_and_wait(self, timeout_ms: int = 30000) -> bool:
        """Stop a run and join its thread (closing the window); the partial run is kept. A run that
        does not stop within ``timeout_ms`` (a kernel that never returns) has its process ended."""
        if not self.running:
            return True
        worker = self.worker
        worker.stop()
        if not worker.wait(timeout_ms):
            worker.kill()
            if not worker.wait(10000):
                return False
        self._finish(worker.result, quiet=True)
        return True

    def confirm_close(self) -> bool:
        """Called by the window's closeEvent: True when it may close (no run, or the run stopped)."""
        if self.panel.lesion is not None:
            self.panel.lesion.wait()
            self.panel.evaluate.wait()
        if self.tracking_export is not None:
            self.tracking_export.wait()  # a QThread still running at exit aborts the studio
        if not self.running:
            return True
        if not dialogs.ask_stop_run(self.window):
            return False
        return self.stop_and_wait()

    # ------------------------------------------------------------------ events from the worker

    def _on_bridge_event(self, event) -> None:
        if self.worker is None:
            return  # a late event of a run already finished (the window closed mid-run)
        self.state.apply(event)
        line = self._describe(event)
        if line:
            self.panel.append_log(line)

    def _node_name(self, node_id: str) -> str:
        node = self.document.graph.nodes.get(node_id)
        return node.name if node is not None else node_id[:8]

    def _describe(self, event) -> str | None:
        kind = event.kind
        pct = lambda values: ", ".join(f"T{i + 1} {v * 100:.1f}" for i, v in enumerate(values))  # noqa: E731
        if kind == "run_started":
            return f"Run {event.run_id[:8]} started on {event.device}"
        if kind == "evaluated" and event.task == -1:
            return f"Before training: {pct(event.accuracies)} %"
        if kind == "validation_carved":
            return event.describe()
        if kind == "task_started":
            return f"Task {event.task + 1}/{self.state.n_tasks} “{event.name}”: {event.n_train:,} training samples"
        if kind == "epoch_ended":
            seen = event.accuracies[:event.task + 1]  # none when the run evaluates after each task only
            return f"  epoch {event.epoch + 1}: loss {event.train_loss:.4f}" + (f" · acc {pct(seen)} %" if seen else "")
        if kind in ("early_stopping", "early_stopping_skipped"):
            return f"  {event.describe()}"
        if kind == "candidate_evaluated":
            which = "last" if event.reuse == "suffix" else "first"
            grow = "grow the rest anew" if event.init == "fresh" else "grow the rest"
            return (f"  candidate: reuse the {which} {event.reused} module(s) of T{event.source_task + 1}, {grow} "
                    f"→ val {event.val_accuracy * 100:.1f} % (+{event.new_parameters:,} parameters)")
        if kind == "module_reused":
            return f"  {self._node_name(event.node_id)}: reuses instance {event.instance} of T{event.from_task + 1} (frozen)"
        if kind == "module_added" and event.task > 0:
            return f"  {self._node_name(event.node_id)}: grows instance {event.instance}"
        if kind == "task_ended":
            inferred = (f" · task inferred right {pct(event.task_inference)} %"
                        if event.task_inference is not None else "")
            return (f"Task {event.task + 1} done in {event.seconds:.1f} s: {pct(event.accuracies[:event.task + 1])} % · "
                    f"{event.parameters:,} parameters" + inferred)
        if kind == "memory_updated":
            return f"  memory after task {event.task + 1}: {memory_text(event.samples, event.nbytes)}"
        if kind == "run_finished":
            s = self.state.summary()  # the figures follow from the matrix the events built
            values = {k: getattr(s, k) for k in ("acc", "aia", "bwt", "fwt", "forgetting")} if s is not None else {}
            figures = " · ".join(f"{k} {v * 100:+.1f}" if k not in ("acc", "aia") else f"{k} {v * 100:.1f} %"
                                 for k, v in values.items() if v is not None)
            memory = self.state.memory
            if memory:
                figures += (" · " if figures else "") + f"memory {memory_text(memory['samples'], memory['bytes'])}"
            return f"Run {event.status}" + (f": {event.message}" if event.message else "") + (
                f" — {figures}" if figures else "")
        return None

    def _on_worker_done(self, run) -> None:
        if self.worker is not None and run is self.worker.result:
            self._finish(run)

    def _finish(self, run, quiet: bool = False) -> None:
        from modstudio.learn.remote import start_spare

        worker, self.worker = self.worker, None
        if worker is not None:
            worker.wait()
            worker.deleteLater()
        if not quiet:
            start_spare()  # the next run starts at once instead of after seconds of importing torch
        self.timer.stop()
        self._lock(False)
        self.state.finished(run)
        if not any(r is run for r in self.document.project.runs):
            self.document.push(AddRun(run))
        self.shown_run = run
        self._update_actions()
        trained = len(run.paths)
        self.panel.set_overlay_tasks(self.task_names()[:trained], running=False,
                                     select=trained - 1 if trained else NO_OVERLAY, readout=self.state.readout)
        self._on_timer_timeout()
        if self.panel.lesion is not None:
            self.panel.lesion.set_run(run)
            self.panel.evaluate.set_run(run)
        n = len(self.document.project.tasks)
        if self._seed_queue:  # more seeds of the Seeds list: the next starts once this one is kept
            if run.status == "finished" and not quiet:
                QTimer.singleShot(0, lambda: self._start_run(self._next_settings()))
                return
            left, self._seed_queue = len(self._seed_queue), []
            self.panel.append_log(f"{left} seed{'s' * (left != 1)} of the list not trained: this run {run.status}.")
        if run.status == "finished":
            self.window.statusBar().showMessage(f"Training finished: {trained} tasks, average accuracy "
                                                f"{(run.metrics.acc or 0) * 100:.1f} %.", 10000)
        elif run.status == "stopped":
            self.window.statusBar().showMessage(f"Training stopped: {trained} of {n} tasks trained, kept in the "
                                                "project.", 10000)
        elif run.status == "failed" and not quiet:
            details = self.panel.log_text()
            if run.metrics.traceback:
                details += "\n\n" + run.metrics.traceback
            dialogs.show_run_error(self.window, "Training failed", run.message or "The run failed.", details)

    def _on_document_runs_changed(self) -> None:
        if self.panel.runs is not None:
            self.panel.runs.set_runs(self.document.project.runs)

    # ------------------------------------------------------------------ views

    def _on_panel_views_ready(self) -> None:
        self.panel.runs.selection_changed.connect(self._on_runs_selection_changed)
        self.panel.runs.export_requested.connect(self._on_runs_export_requested)
        self.panel.runs.set_runs(self.document.project.runs)
        if self.shown_run is not None:
            self.panel.lesion.set_run(self.shown_run)
            self.panel.evaluate.set_run(self.shown_run)
        self._on_timer_timeout()

    def _on_timer_timeout(self) -> None:
        paused = self.running and self.worker.paused
        self.panel.header.refresh(self.state, paused)
        if self.panel.plots is not None and self.panel.isVisible():
            self.panel.plots.refresh(self.state)
        self._refresh_badges()

    def refresh_now(self) -> None:
        """Draw the buffers immediately (tests, exports), visible or not."""
        self.panel.ensure_views()
        self.panel.header.refresh(self.state, self.running and self.worker.paused)
        self.panel.plots.refresh(self.state)
        self._refresh_badges(force=True)

    def _path_based(self) -> bool:
        spec = strategy_specs.find(self.state.strategy)
        return bool(spec and spec.path_based)

    def _readout(self):
        """How the run shown reads class-incremental predictions (``path_badges.Readout``), or None."""
        from modstudio.gui.training.path_badges import Readout
        from modstudio.project.features import feature_nodes

        if self.state.readout is None:
            return None
        run = self.shown_run
        if self._feature_nodes is None or self._feature_nodes[0] is not run:
            graph = run.trained_graph(self.document.graph) if run is not None else self.document.graph
            self._feature_nodes = (run, feature_nodes(graph))
        return Readout.of(self.state, self._feature_nodes[1])

    def _refresh_badges(self, force: bool = False) -> None:
        from modstudio.gui.training.path_badges import live_badges, readout_badges, task_badges

        choice = self.panel.overlay_choice()
        key = (choice, self.state.version)
        if key == self._badges_version and not force:
            return
        self._badges_version = key
        report = self.document.report
        if choice == NO_OVERLAY or choice is None:
            badges = {}
        elif choice == FOLLOW:
            badges = live_badges(self.state, report, self._path_based())
        elif choice == READOUT_OVERLAY:
            badges = readout_badges(self.state.paths, report, self._readout(), self.state.metrics)
        else:
            from modstudio.gui.training.plots import task_color

            badges = task_badges(self.state.paths, int(choice), report, self._path_based(), self.state.tasks_trained,
                                 self.state.metrics, task_color(int(choice)).name(), self._readout())
        self.window.scene.set_badges(badges)

    def _on_panel_overlay_changed(self, choice) -> None:
        self._refresh_badges(force=True)

    def _on_runs_export_requested(self, kind: str, runs: list) -> None:
        from modstudio.gui.training.tracking_export import TrackingExport

        if self.tracking_export is None:
            self.tracking_export = TrackingExport(self.window)
        self.tracking_export.start(kind, runs)

    def _on_runs_selection_changed(self, runs: list) -> None:
        if self.running or len(runs) != 1:
            return
        self.show_run(runs[0])

    def show_run(self, run) -> None:
        """Show a saved run in the live plots, the overlay choice and the lesion study."""
        self.state = LiveRun.from_run(run, self.task_names())
        self.shown_run = run
        trained = len(run.paths)
        self.panel.set_overlay_tasks(self.state.task_names[:trained], running=False, readout=self.state.readout)
        if self.panel.lesion is not None:
            self.panel.lesion.set_run(run)
            self.panel.evaluate.set_run(run)
        self._badges_version = None
        self._on_timer_timeout()

    def _on_document_project_replaced(self) -> None:
        runs = self.document.project.runs
        self.window.scene.clear_badges()
        if runs:
            self.show_run(runs[-1])
        else:
            self.state = LiveRun.for_tasks(self.task_names())
            self.shown_run = None
            self.panel.set_overlay_tasks([], running=False)
            if self.panel.lesion is not None:
                self.panel.lesion.set_run(None)
                self.panel.evaluate.set_run(None)
            self._on_timer_timeout()
        self._on_document_runs_changed()

    # ------------------------------------------------------------------ saving

    def save_plots(self) -> list:
        from modstudio.gui.training.exporting import save_plots

        self.refresh_now()
        path = dialogs.ask_save_file(self.window, "Save plots", f"{self.document.name}-run.png",
                                     "PNG image (*.png);;SVG image (*.svg)")
        if not path:
            return []
        try:
            written = save_plots(self.panel.plots.plots(), path)
        except Exception as exc:
            dialogs.show_error(self.window, "Could not save the plots", str(exc))
            return []
        self.window.statusBar().showMessage(f"Saved {len(written)} plots beside {written[0].name}", 8000)
        return written

    def save_metrics(self) -> list:
        from modstudio.gui.training.exporting import save_metrics_csv

        path = dialogs.ask_save_file(self.window, "Save metrics", f"{self.document.name}-metrics.csv",
                                     "CSV file (*.csv)")
        if not path:
            return []
        try:
            written = save_metrics_csv(self.state, path, self.shown_run)
        except Exception as exc:
            dialogs.show_error(self.window, "Could not save the metrics", str(exc))
            return []
        self.window.statusBar().showMessage(f"Saved {', '.join(p.name for p in written)}", 8000)
        return written

    # ------------------------------------------------------------------ canvas context menu

    def _add_node_menu_actions(self, menu: QMenu, node_id: str) -> None:
        """The canvas's node menu (``CanvasEditor.node_menu``) gets Lesion… from here."""
        name = self._node_name(node_id)
        action = menu.addAction(f"Lesion “{name}”…")
        action.setObjectName("lesion")
        run = self.shown_run
        usable = (run is not None and not self.running and bool(run.weights)
                  and any(k.startswith(f"bank/{node_id}/") for k in run.weights))
        action.setEnabled(usable)
        if not usable:
            action.setToolTip("Needs a trained run in which this module has weights")
        action.triggered.connect(lambda: self.lesion_node(node_id))

    def lesion_node(self, node_id: str, start: bool = True) -> bool:
        """Open the lesion study on ``node_id`` (and run it)."""
        self.panel.ensure_views()
        self.dock.show()
        self.dock.raise_()
        self.panel.tabs.setCurrentWidget(self.panel.lesion_page)
        if self.panel.lesion.run is not self.shown_run:
            self.panel.lesion.set_run(self.shown_run)
        if not self.panel.lesion.select_node(node_id):
            return False
        return self.panel.lesion.start() if start else True
