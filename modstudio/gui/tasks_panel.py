"""The ordered task list: what the network learns, one task after another. Every change (add,
remove, rename, reorder, augmentation, normalisation) is an undoable command over ``project.tasks``. The project's check
(``project/check.py``) marks the tasks that do not fit the network, and says why above the list."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QToolButton, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

from modstudio.data.augment import Augmentation
from modstudio.graph.catalog import fmt_shape
from modstudio.graph.commands import Macro
from modstudio.gui import dialogs
from modstudio.gui.augmentation import AugmentationDialog, augmentable, normalizable
from modstudio.project.commands import AddTasks, AugmentTask, MoveTask, NormalizeTasks, RemoveTasks, RenameTask

COLUMNS = ("#", "Task", "Classes", "Train / val / test", "Preparation", "Source")
PREPARATION_COLUMN = COLUMNS.index("Preparation")  # augmentation and normalisation
PROBLEM_COLOR = "#ff7b7f"  # the canvas's and the status bar's colour for a problem


def task_source(task) -> str:
    origin = task.origin or {}
    sources = origin.get("datasets") or ([origin["dataset"]] if "dataset" in origin else [])
    names = []
    for s in sources:
        if "builtin" in s:
            names.append(f"{s['builtin']} (built-in)")
        elif "path" in s:
            names.append(Path(s["path"]).name)
    builder = {"split_by_class": "split by classes", "permuted": "permuted", "rotated": "rotated",
               "datasets_as_tasks": ""}.get(origin.get("builder", ""), "")
    text = ", ".join(names) or (task.domain or "in memory")
    return f"{text} · {builder}" if builder else text


def preparation_text(task) -> str:
    """The Preparation column (augmentation, normalisation): "crop ±4 px, flip, mean/sd", or a dash for none."""
    text = task.describe_preparation()
    return "–" if text == "none" else text


def preparation_tip(task) -> str:
    """The Preparation column's tooltip: what can be changed there, and, when normalised, by what."""
    lines = ["Training batches only. Double-click to change." if augmentable(task.sample_shape)
             else "Only images (channels × height × width) can be augmented."]
    if task.normalization is not None:
        mean = ", ".join(f"{m:.4g}" for m in task.normalization.mean)
        sd = ", ".join(f"{s:.4g}" for s in task.normalization.sd)
        lines.append(f"Normalised (training and evaluation): mean {mean}, sd {sd} per channel, of the values as "
                     "imported.")
    elif task.values is None:
        lines.append("Stored as float features: cannot be normalised here.")
    return "\n".join(lines)


def classes_text(task) -> str:
    names = list(task.class_names)
    shown = ", ".join(names[:6]) + (f", … ({len(names)})" if len(names) > 6 else "")
    return shown


class TaskTree(QTreeWidget):
    """Drag to reorder; the drop is turned into a request instead of moving rows itself."""

    move_requested = Signal(int, int)
    delete_pressed = Signal()

    def dropEvent(self, event) -> None:
        if event.source() is not self:
            event.ignore()
            return
        src_item = self.currentItem()
        if src_item is None:
            return
        src = self.indexOfTopLevelItem(src_item)
        target = self.itemAt(event.position().toPoint())
        if target is None:
            dst = self.topLevelItemCount() - 1
        else:
            dst = self.indexOfTopLevelItem(target)
            rect = self.visualItemRect(target)
            if event.position().y() > rect.center().y() and dst < src:
                dst += 1
            elif event.position().y() < rect.center().y() and dst > src:
                dst -= 1
        event.setDropAction(Qt.DropAction.IgnoreAction)
        event.accept()
        if dst != src:
            self.move_requested.emit(src, dst)

    def edit(self, index, trigger=None, event=None):  # only the name column is editable
        if trigger is None:
            return super().edit(index)
        if index.column() != 1:
            return False
        return super().edit(index, trigger, event)

    def keyPressEvent(self, event) -> None:
        editing = self.state() == QAbstractItemView.State.EditingState
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and not editing:
            self.delete_pressed.emit()
            return
        super().keyPressEvent(event)


class TasksPanel(QWidget):
    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.summary = QLabel(objectName="dim")
        self.summary.setWordWrap(True)
        self.tree = TaskTree()
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.tree.setDragEnabled(True)
        self.tree.setAcceptDrops(True)
        self.tree.setDropIndicatorShown(True)
        triggers = QAbstractItemView.EditTrigger
        self.tree.setEditTriggers(triggers.DoubleClicked | triggers.EditKeyPressed)
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        self.tree.setColumnWidth(1, 170)
        self.tree.setColumnWidth(2, 130)
        self.tree.setColumnWidth(3, 120)
        widest = self.tree.fontMetrics().horizontalAdvance("crop ±16 px, flip, mean/sd")  # all three in full
        self.tree.setColumnWidth(PREPARATION_COLUMN, max(120, widest + 16))
        self.tree.itemChanged.connect(self._on_tree_item_changed)
        self.tree.move_requested.connect(self._on_tree_move_requested)
        self.tree.delete_pressed.connect(self.remove_selected)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.tree.itemDoubleClicked.connect(self._on_tree_item_double_clicked)

        self.add_button = self._button("Add…", "Add tasks from a built-in dataset or a file", self.open_dialog)
        self.remove_button = self._button("Remove", "Remove the selected tasks", self.remove_selected)
        self.up_button = self._button("▲", "Move the selected task earlier", lambda: self._move_selected(-1))
        self.down_button = self._button("▼", "Move the selected task later", lambda: self._move_selected(1))
        self.augment_button = self._button("Augment…", "Random crop and flip of the selected image tasks' "
                                           "training batches, and normalisation of their values by their "
                                           "mean and sd", self.augment_selected)
        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        for b in (self.add_button, self.remove_button, self.up_button, self.down_button, self.augment_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.summary, 4)
        self.problems = QLabel(objectName="error")
        self.problems.setWordWrap(True)
        self.problems.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addLayout(buttons)
        layout.addWidget(self.problems)
        layout.addWidget(self.tree)
        document.tasks_changed.connect(self.refresh)
        document.project_replaced.connect(self.refresh)
        document.checked.connect(self._on_document_checked)
        self.refresh()

    def _button(self, text: str, tip: str, slot) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setToolTip(tip)
        b.clicked.connect(slot)
        return b

    @property
    def tasks(self) -> list:
        return self.document.project.tasks

    def refresh(self) -> None:
        selected = self.selected_indices()
        self.tree.blockSignals(True)
        self.tree.clear()
        for i, task in enumerate(self.tasks):
            sizes = " / ".join(f"{len(task.split(s)):,}" for s in ("train", "val", "test"))
            item = QTreeWidgetItem([str(i + 1), task.name, classes_text(task), sizes, preparation_text(task),
                                    task_source(task)])
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable
                          | Qt.ItemFlag.ItemIsDragEnabled)
            item.setToolTip(1, f"{task.name}\nsample shape {fmt_shape(task.sample_shape)}, "
                               f"{task.num_classes} classes (global ids {task.classes})\n"
                               "Double-click to rename; drag to reorder.")
            item.setToolTip(2, ", ".join(task.class_names))
            item.setToolTip(PREPARATION_COLUMN, preparation_tip(task))
            item.setTextAlignment(0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.tree.addTopLevelItem(item)
            if i in selected:
                item.setSelected(True)
        self.tree.blockSignals(False)
        if self.tasks:
            first = self.tasks[0]
            self.summary.setText(f"{len(self.tasks)} task{'s' * (len(self.tasks) != 1)} · input "
                                 f"{fmt_shape(first.sample_shape)} · {first.num_classes} classes in the first")
        else:
            self.summary.setText("No tasks yet: add a built-in dataset, or drop a data file or folder here.")
        self._update_buttons()
        self._show_problems()

    def _on_document_checked(self, report) -> None:
        self._show_problems()

    def _show_problems(self) -> None:
        """The check's problems with the tasks: above the list, and on each row they are about."""
        report = self.document.report
        errors = report.task_errors() if report is not None else []
        self.problems.setText("\n".join(f"⚠ {e.message}" for e in errors))
        self.problems.setVisible(bool(errors))
        about: dict[int, list[str]] = {}
        for error in errors:
            for index in error.tasks:
                about.setdefault(index, []).append(error.message)
        self.tree.blockSignals(True)  # not a rename
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            item.setText(0, f"⚠ {i + 1}" if i in about else str(i + 1))
            brush = QBrush(QColor(PROBLEM_COLOR)) if i in about else None  # None: the theme's colour again
            for column in range(len(COLUMNS)):
                item.setData(column, Qt.ItemDataRole.ForegroundRole, brush)
            item.setToolTip(0, "\n".join(about.get(i, [])))
        self.tree.blockSignals(False)

    def selected_indices(self) -> list[int]:
        return sorted(self.tree.indexOfTopLevelItem(i) for i in self.tree.selectedItems())

    def _update_buttons(self) -> None:
        sel = self.selected_indices()
        self.remove_button.setEnabled(bool(sel))
        self.up_button.setEnabled(len(sel) == 1 and sel[0] > 0)
        self.down_button.setEnabled(len(sel) == 1 and sel[0] < len(self.tasks) - 1)
        self.augment_button.setEnabled(bool(sel) and self._editable(sel))

    def _editable(self, sel: list[int]) -> bool:
        """Whether the Augment… dialog has something to offer these tasks: crop and flip (images) or
        normalisation (bytes)."""
        tasks = [self.tasks[i] for i in sel]
        return all(augmentable(t.sample_shape) for t in tasks) or normalizable(tasks) is None

    # ------------------------------------------------------------------ edits

    def open_dialog(self, path: str | None = None) -> bool:
        """Run the data dialog (optionally for a dropped path) and add what it builds."""
        from modstudio.gui.dataset_dialog import DatasetDialog

        dialog = DatasetDialog(self.window(), path=path if isinstance(path, str) else None)
        try:
            if not dialogs.exec_dialog(dialog) or not dialog.tasks:
                return False
            return self.add_tasks(dialog.tasks)
        finally:
            dialog.deleteLater()

    def add_tasks(self, tasks: list) -> bool:
        if self.tasks and tasks and tuple(tasks[0].sample_shape) != tuple(self.tasks[0].sample_shape):
            self.document.message.emit(
                f"Note: the new tasks have samples of shape {fmt_shape(tasks[0].sample_shape)}, the first task "
                f"{fmt_shape(self.tasks[0].sample_shape)}; one network needs one input shape")
        return self.document.push(AddTasks(tasks)) is None

    def remove_selected(self) -> None:
        sel = self.selected_indices()
        if sel:
            self.document.push(RemoveTasks(sel))

    def _move_selected(self, step: int) -> None:
        sel = self.selected_indices()
        if len(sel) == 1 and 0 <= sel[0] + step < len(self.tasks):
            self._on_tree_move_requested(sel[0], sel[0] + step)

    def _on_tree_move_requested(self, src: int, dst: int) -> None:
        if self.document.push(MoveTask(src, dst)) is None:
            self.tree.clearSelection()
            self.tree.topLevelItem(dst).setSelected(True)
            self.tree.setCurrentItem(self.tree.topLevelItem(dst))

    def augment_selected(self) -> bool:
        """Ask the selected tasks' augmentation and normalisation and set them, one undo step for all
        of them: crop and flip when every one is an image, normalisation (of all of them together,
        ``NormalizeTasks``) when every one is stored as bytes."""
        sel = self.selected_indices()
        if not sel or not self._editable(sel):
            return False
        tasks = [self.tasks[i] for i in sel]
        images = all(augmentable(t.sample_shape) for t in tasks)
        why_not = normalizable(tasks)
        normalized = {t.normalization is not None for t in tasks}
        dialog = AugmentationDialog(tasks[0].augmentation if images else Augmentation(), len(sel), self.window(),
                                    normalized=normalized.pop() if len(normalized) == 1 else None, images=images,
                                    why_not_normalized=why_not)
        try:
            if not dialogs.exec_dialog(dialog):
                return False
            chosen = dialog.editor.augmentation()
            normalize = dialog.editor.normalized() if why_not is None else None
        finally:
            dialog.deleteLater()
        commands = [AugmentTask(i, chosen) for i in sel if images and self.tasks[i].augmentation != chosen]
        if normalize is not None and any((t.normalization is not None) != normalize for t in tasks):
            commands.append(NormalizeTasks(sel, normalize))  # statistics of all of them, together
        if not commands:
            return False
        command = commands[0] if len(commands) == 1 else Macro(commands, "change augmentation")
        if self.document.push(command) is not None:
            return False
        for i in sel:
            self.tree.topLevelItem(i).setSelected(True)
        return True

    def _on_tree_item_double_clicked(self, item: QTreeWidgetItem, column: int) -> None:
        if column == PREPARATION_COLUMN:
            self.tree.clearSelection()
            item.setSelected(True)
            self.augment_selected()

    def _on_tree_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        index = self.tree.indexOfTopLevelItem(item)
        if column != 1 or not (0 <= index < len(self.tasks)):
            return
        name = item.text(1).strip()
        if not name or name == self.tasks[index].name:
            self.refresh()
            return
        try:
            command = RenameTask(index, name)
        except ValueError as exc:
            self.document.message.emit(str(exc))
            self.refresh()
            return
        self.document.push(command)
