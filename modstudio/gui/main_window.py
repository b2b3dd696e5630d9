"""The studio window: canvas in the middle, palette, inspector and tasks in docks, menus and a
toolbar over them. It wires signals; the work lives in the views and the document."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QPointF, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QDockWidget, QInputDialog, QLabel, QMainWindow, QMenu,
                               QMessageBox, QTableWidget, QTableWidgetItem, QToolBar, QVBoxLayout)

from modstudio import __version__
from modstudio.graph.commands import RenameGroup
from modstudio.gui import dialogs, settings, theme, undo, welcome
from modstudio.gui.canvas.editing import CanvasEditor
from modstudio.gui.canvas.scene import GraphScene
from modstudio.gui.canvas.view import CanvasView
from modstudio.gui.document import Document
from modstudio.gui.files import ProjectFiles
from modstudio.gui.icons import app_icon
from modstudio.gui.inspector import Inspector
from modstudio.gui.palette import Palette
from modstudio.gui.tasks_panel import TasksPanel
from modstudio.gui.training.controller import TrainingController

STATE_VERSION = 2  # 2: the bottom docks span the window's width
DEFAULT_SIZE = (1440, 900)  # at most: a smaller screen gets a window that fits it
INSPECTOR_WIDTH = 300  # px: a module's form (name, a label and a field per parameter)
CANVAS_SHARE = 0.53  # of the window's height, at least, for the canvas at first launch
BOTTOM_TABS_HEIGHT = 36  # px: the tab bar of the bottom docks and the separator above them


def default_size(window: QMainWindow) -> QSize:
    """The first launch's size: ``DEFAULT_SIZE``, or 92 % of a smaller screen's free area."""
    screen = window.screen().availableGeometry() if window.screen() is not None else None
    if screen is None or screen.width() <= 0:
        return QSize(*DEFAULT_SIZE)
    return QSize(min(DEFAULT_SIZE[0], int(screen.width() * 0.92)), min(DEFAULT_SIZE[1], int(screen.height() * 0.92)))
DATA_SUFFIXES = {".csv", ".tsv", ".txt", ".npz", ".npy", ".idx", ".gz", ".ubyte"}


class MainWindow(QMainWindow):
    def __init__(self, project=None, path: str | Path | None = None, show_welcome: bool = False) -> None:
        super().__init__()
        if project is None:
            from modstudio.project import Project

            project = Project.new("Untitled")
        self.setObjectName("studio")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.document = Document(project, path, self)
        self.scene = GraphScene(self.document, self)
        self.view = CanvasView(self.scene)
        self.editor = CanvasEditor(self.document, self.scene, self.view)
        self.setCentralWidget(self.view)
        self.files = ProjectFiles(self)
        self._exporter = None  # File → Export, created on first use

        self.palette = Palette()
        self.inspector = Inspector(self.document, self.scene)
        self.tasks_panel = TasksPanel(self.document)
        self.palette_dock = self._dock("Modules", "palette-dock", self.palette, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.inspector_dock = self._dock("Inspector", "inspector-dock", self.inspector,
                                         Qt.DockWidgetArea.RightDockWidgetArea)
        self.tasks_dock = self._dock("Tasks", "tasks-dock", self.tasks_panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        # The tasks and the training plots span the window's width; the side docks stand beside the canvas.
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.BottomDockWidgetArea)

        self.check_label = QLabel()
        self.zoom_label = QLabel("100 %")
        self.statusBar().addPermanentWidget(self.check_label)
        self.statusBar().addPermanentWidget(self.zoom_label)

        self._make_actions()
        self._make_menus()
        self._make_toolbar()
        self.training = TrainingController(self)  # Run menu, Training dock, background runs

        self.palette.kind_activated.connect(self._on_palette_kind_activated)
        self.view.kind_dropped.connect(self._on_view_kind_dropped)
        self.view.files_dropped.connect(self.open_paths)
        self.view.zoom_changed.connect(self._on_view_zoom_changed)
        self.scene.status.connect(self._on_scene_status)
        self.scene.group_label_activated.connect(self._on_scene_group_label_activated)
        self.scene.selectionChanged.connect(self._update_actions)
        self.document.message.connect(self._on_scene_status)
        self.document.checked.connect(self._on_document_checked)
        self.document.name_changed.connect(self._update_title)
        self.document.path_changed.connect(self._update_title)
        self.document.undo_stack.cleanChanged.connect(self._update_title)
        self.document.undo_stack.indexChanged.connect(self._update_actions)

        welcome.install(self)  # the welcome page, in a stack with the canvas
        self.resize(default_size(self))
        self._restore_layout()
        self.after_project_replaced()
        if show_welcome:
            welcome.show(self)

    # ------------------------------------------------------------------ building

    def _dock(self, title: str, name: str, widget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        return dock

    def _action(self, text: str, slot, shortcut=None, tip: str = "", canvas: bool = False) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(f"{tip} ({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
                              if shortcut is not None else tip)
        action.triggered.connect(lambda checked=False: slot())
        if canvas:
            # Only while the canvas has focus, so Delete and Ctrl+C still work in text fields.
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.view.addAction(action)
        else:
            self.addAction(action)
        return action

    def _make_actions(self) -> None:
        K = QKeySequence.StandardKey
        e, f = self.editor, self.files
        self.new_action = self._action("&New", f.new_project, K.New, "Start a new project")
        self.open_action = self._action("&Open…", f.open_project, K.Open, "Open a project file")
        self.save_action = self._action("&Save", f.save, K.Save, "Save the project")
        self.save_as_action = self._action("Save &As…", f.save_as, K.SaveAs, "Save the project under a new name")
        self.export_action = self._action("&Export…", self.export, "Ctrl+E", "Export a trained model")
        self.quit_action = self._action("&Quit", self.close, K.Quit, "Close the window")
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)

        stack = self.document.undo_stack
        # Undo asks before it deletes a trained run (undoing the AddRun that kept it)
        self.undo_action = undo.guarded_undo_action(stack, self, "&Undo",
                                                    lambda run: dialogs.ask_undo_run(self, run))
        self.undo_action.setShortcut(QKeySequence(K.Undo))
        self.redo_action = stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcut(QKeySequence(K.Redo))
        self.addActions([self.undo_action, self.redo_action])
        self.cut_action = self._action("Cu&t", e.cut, K.Cut, "Cut the selected modules", canvas=True)
        self.copy_action = self._action("&Copy", e.copy, K.Copy, "Copy the selected modules", canvas=True)
        self.paste_action = self._action("&Paste", e.paste, K.Paste, "Paste modules", canvas=True)
        self.duplicate_action = self._action("D&uplicate", e.duplicate, "Ctrl+D", "Duplicate the selection")
        self.delete_action = self._action("&Delete", e.delete, K.Delete, "Delete the selection", canvas=True)
        self.select_all_action = self._action("Select &All", self._select_all, K.SelectAll, "Select every module",
                                              canvas=True)
        self.group_action = self._action("&Group", e.group, "Ctrl+G", "Group the selected modules into a block")
        self.ungroup_action = self._action("U&ngroup", e.ungroup, "Ctrl+Shift+G", "Dissolve the selected groups")
        self.add_tasks_action = self._action("Add &Tasks…", self.tasks_panel.open_dialog, "Ctrl+T",
                                             "Add tasks from a built-in dataset or a data file")

        self.zoom_in_action = self._action("Zoom &In", self.view.zoom_in, K.ZoomIn, "Zoom in")
        self.zoom_out_action = self._action("Zoom &Out", self.view.zoom_out, K.ZoomOut, "Zoom out")
        self.fit_action = self._action("&Fit to View", self.view.fit, "Ctrl+0", "Show the whole network")
        self.actual_size_action = self._action("Actual &Size", lambda: self.view.set_zoom(1.0), "Ctrl+1",
                                               "Zoom to 100 %")
        self.layout_action = self._action("&Auto-layout", e.auto_layout, "Ctrl+L",
                                          "Arrange the modules left to right in layers")
        self.shortcuts_action = self._action("&Keyboard Shortcuts", self.show_shortcuts, K.HelpContents,
                                             "List the keyboard shortcuts")
        self.about_action = self._action("&About ModStudio", self.show_about, None, "About ModStudio")
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.guide_action = self._action("How Continual Learning &Works", self.show_guide, None,
                                         "What tasks, forgetting, the strategies and the metrics are")
        self.welcome_action = self._action("&Welcome Page", lambda: welcome.show(self), None,
                                           "New, open, recent projects and the examples")

    def _make_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.new_action, self.open_action])
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(lambda: self.files.fill_recent_menu(self.recent_menu))
        self.examples_menu = file_menu.addMenu("E&xamples")
        self.examples_menu.aboutToShow.connect(self._on_examples_menu_about_to_show)
        file_menu.addSeparator()
        file_menu.addActions([self.save_action, self.save_as_action, self.export_action])
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        edit = bar.addMenu("&Edit")
        edit.addActions([self.undo_action, self.redo_action])
        edit.addSeparator()
        edit.addActions([self.cut_action, self.copy_action, self.paste_action, self.duplicate_action,
                         self.delete_action, self.select_all_action])
        edit.addSeparator()
        edit.addActions([self.group_action, self.ungroup_action])
        edit.addSeparator()
        edit.addAction(self.add_tasks_action)

        view = bar.addMenu("&View")
        view.addActions([self.zoom_in_action, self.zoom_out_action, self.fit_action, self.actual_size_action])
        view.addSeparator()
        view.addAction(self.layout_action)
        view.addSeparator()
        panels = view.addMenu("&Panels")
        for dock in (self.palette_dock, self.inspector_dock, self.tasks_dock):
            panels.addAction(dock.toggleViewAction())
        self.view_menu = view
        theme.add_theme_menu(view.addMenu("&Theme"))
        view.addAction(self.welcome_action)

        help_menu = bar.addMenu("&Help")
        help_menu.addActions([self.guide_action, self.shortcuts_action, self.about_action])

    def _make_toolbar(self) -> None:
        bar = QToolBar("Toolbar", self)
        bar.setObjectName("main-toolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in (self.new_action, self.open_action, self.save_action, None, self.undo_action,
                       self.redo_action, None, self.add_tasks_action, None, self.group_action,
                       self.layout_action, self.fit_action):
            if action is None:
                bar.addSeparator()
            else:
                bar.addAction(action)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.toolbar = bar
        self.panels_menu_toolbar_action = bar.toggleViewAction()
        self.view_menu.addAction(self.panels_menu_toolbar_action)

    # ------------------------------------------------------------------ state

    def after_project_replaced(self) -> None:
        """Title, actions and framing after a project was opened or created."""
        self._update_title()
        self._update_actions()
        self._on_document_checked(self.document.report)
        self.view.fit()

    def _update_title(self, *args) -> None:
        self.setWindowTitle(f"{self.document.display_name}[*] — ModStudio")
        self.setWindowModified(self.document.modified)

    def _update_actions(self, *args) -> None:
        has_nodes = bool(self.scene.selected_node_ids())
        for action in (self.cut_action, self.copy_action, self.duplicate_action, self.group_action):
            action.setEnabled(has_nodes)
        self.delete_action.setEnabled(has_nodes or bool(self.scene.selected_edges()))
        self.ungroup_action.setEnabled(bool(self.scene.selected_groups()))

    def _restore_layout(self) -> None:
        store = settings.studio_settings()
        geometry = store.value("window/geometry")
        state = store.value("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        self._default_layout_pending = not (isinstance(state, QByteArray) and self.restoreState(state, STATE_VERSION))
        if self._default_layout_pending:
            self.default_layout()

    def default_layout(self) -> None:
        """The first launch's dock sizes: the palette as wide as its longest title, the inspector a
        form's width, the bottom docks low enough that the canvas keeps more than half the height."""
        width, height = self.width(), self.height()
        self.resizeDocks([self.palette_dock, self.inspector_dock],
                         [self.palette.natural_width() + 4, max(INSPECTOR_WIDTH, width // 5)],
                         Qt.Orientation.Horizontal)
        bars = sum(bar.sizeHint().height() for bar in (self.menuBar(), self.toolbar, self.statusBar()))
        bottom = height - bars - int(height * CANVAS_SHARE) - BOTTOM_TABS_HEIGHT
        self.resizeDocks([self.tasks_dock, self.training.dock], [max(bottom, 0)] * 2, Qt.Orientation.Vertical)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self._default_layout_pending:  # again at the size the window got: a window manager may change it
            self._default_layout_pending = False
            QTimer.singleShot(0, self.default_layout)

    def save_layout(self) -> None:
        welcome.restore_docks(self)  # the layout of the studio, not of its welcome page
        store = settings.studio_settings()
        store.setValue("window/geometry", self.saveGeometry())
        store.setValue("window/state", self.saveState(STATE_VERSION))
        store.sync()

    def closeEvent(self, event) -> None:
        if not self.training.confirm_close():  # a run is going: ask, stop it and join its thread
            event.ignore()
            return
        if not self.files.maybe_save():
            event.ignore()
            return
        self.save_layout()
        self.files.autosave_timer.stop()
        self.files.forget_recovery()  # a clean exit leaves nothing to recover
        event.accept()

    # ------------------------------------------------------------------ slots

    def _on_palette_kind_activated(self, kind: str) -> None:
        self.editor.add_kind(kind)
        self.view.setFocus()

    def _on_view_kind_dropped(self, kind: str, scene_pos: QPointF) -> None:
        self.editor.drop_kind(kind, scene_pos)  # onto a wire: inserted there when the shapes fit
        self.view.setFocus()

    def _on_view_zoom_changed(self, zoom: float) -> None:
        self.zoom_label.setText(f"{zoom * 100:.0f} %")

    def _on_scene_status(self, text: str) -> None:
        if text:
            self.statusBar().showMessage(text, 8000)
        else:
            self.statusBar().clearMessage()

    def _on_document_checked(self, report) -> None:
        if report is None:
            return
        if report.ok:
            self.check_label.setText(f"✔ {report.summary()}")
            self.check_label.setStyleSheet("color: #4cc38a;")
            self.check_label.setToolTip("The network checks out: every shape fits.")
        else:
            n = len(report.errors)
            self.check_label.setText(f"⚠ {n} problem{'s' * (n != 1)}")
            self.check_label.setStyleSheet("color: #ff7b7f;")
            self.check_label.setToolTip("\n".join(e.message for e in report.errors[:20]))

    def _on_scene_group_label_activated(self, group_id: str) -> None:
        label, ok = QInputDialog.getText(self, "Rename group", "Label:", text=self.document.graph.groups[group_id])
        if ok and label.strip():
            self.document.push(RenameGroup(group_id, label))

    def _on_examples_menu_about_to_show(self) -> None:
        self.examples_menu.clear()
        from modstudio.examples import list_examples  # not at import time: it loads the data layer (numpy)

        for example in list_examples():
            action = self.examples_menu.addAction(example.title)
            action.setStatusTip(example.description)
            action.setToolTip(example.description)
            action.triggered.connect(lambda checked=False, n=example.name: self.files.open_example(n))

    def _select_all(self) -> None:
        self.scene.select_all()

    # ------------------------------------------------------------------ files and drops

    def open_paths(self, paths: list[str]) -> None:
        """Dropped or passed paths: a project opens, a data file or folder becomes tasks."""
        for path in paths:
            p = Path(path)
            if p.suffix.lower() == ".modstudio":
                self.files.open_project(str(p))
                return
        for path in paths:
            self.tasks_panel.open_dialog(str(path))
            return

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_paths(paths)

    def export(self) -> None:
        from modstudio.gui.exporting import ExportController

        if self._exporter is None:
            self._exporter = ExportController(self)
        self._exporter.start()

    def show_about(self) -> None:
        QMessageBox.about(self, "About ModStudio",
                          f"<h3>ModStudio {__version__}</h3><p>Compose networks from modules, attach datasets as "
                          "a sequence of tasks, and learn them one after another without forgetting the "
                          "earlier ones.</p>")

    def show_guide(self) -> None:
        from modstudio.gui.help import show_guide

        show_guide(self)

    def show_shortcuts(self) -> None:
        dialog = QDialog(self)
        dialog.setWindowTitle("Keyboard shortcuts")
        rows = [(a.text().replace("&", ""), a.shortcut().toString(QKeySequence.SequenceFormat.NativeText))
                for a in self.findChildren(QAction) if not a.shortcut().isEmpty()]
        rows += [("Pan the canvas", "Space + drag, or middle button"), ("Zoom around the cursor", "Mouse wheel"),
                 ("Connect", "Drag from an output port to an input port"), ("Cancel a connection", "Esc")]
        rows = sorted(set(rows))
        table = QTableWidget(len(rows), 2)
        table.setHorizontalHeaderLabels(["Action", "Shortcut"])
        for i, (name, keys) in enumerate(rows):
            table.setItem(i, 0, QTableWidgetItem(name))
            table.setItem(i, 1, QTableWidgetItem(keys))
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.resizeColumnsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.reject)
        layout = QVBoxLayout(dialog)
        layout.addWidget(table)
        layout.addWidget(buttons)
        dialog.resize(460, 520)
        dialog.exec()


def window_menu(window: MainWindow, title: str) -> QMenu | None:
    """A top-level menu by its visible title (tests and scripts)."""
    for action in window.menuBar().actions():
        if action.text().replace("&", "") == title:
            return action.menu()
    return None
