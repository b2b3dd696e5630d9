"""Add tasks from data: pick a built-in dataset (Download… fetches a standard benchmark into that
list) or a file/folder, see a preview (samples or rows and class counts), choose how to cut it
into tasks. Every refusal from the data layer is shown in the dialog in its own words; the dialog
never raises."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout,
                               QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QRadioButton, QScrollArea,
                               QSizePolicy, QSpinBox, QStackedWidget, QVBoxLayout, QWidget)

from modstudio.gui import dialogs
from modstudio.gui.data_preview import ClassCounts, image_grid, is_image_shape, rows_table

BUILDERS = (
    ("whole", "One task: the whole dataset"),
    ("split", "Split by classes (e.g. digits 0–1, 2–3, …)"),
    ("permuted", "Permuted inputs (same classes, shuffled features)"),
    ("rotated", "Rotated images (same classes, turned a bit more each task)"),
)


class DatasetDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, path: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add tasks from data")
        self.resize(820, 760)
        from modstudio import data

        self.data = data
        self.dataset = None
        self.tasks: list = []
        self._option_widgets: dict[str, QWidget] = {}

        # ---------------------------------------------------------------- source
        source = QGroupBox("Data")
        self.builtin_radio = QRadioButton("Built-in")
        self.file_radio = QRadioButton("File or folder")
        self.builtin_radio.setChecked(True)
        self.builtin_combo = QComboBox()
        self.builtins = data.list_builtin()
        for info in self.builtins:
            self.builtin_combo.addItem(info.title, info.name)
        self.options_form = QFormLayout()
        self.path_edit = QLineEdit(placeholderText="a .csv, .npz, .npy or IDX file, or a folder of class folders")
        self.label_column = QLineEdit(placeholderText="last column")
        self.label_column.setToolTip("CSV only: the column that holds the labels (its name or number)")
        browse_file = QPushButton("File…")
        browse_dir = QPushButton("Folder…")
        browse_file.clicked.connect(lambda: self._on_browse_clicked(False))
        browse_dir.clicked.connect(lambda: self._on_browse_clicked(True))
        load = QPushButton("Load")
        load.clicked.connect(self.load_preview)
        self.download_button = QPushButton("Download…")
        self.download_button.setToolTip("Download MNIST, Fashion-MNIST, KMNIST or CIFAR from their publishers "
                                        "(checked, then offline); they join this list")
        self.download_button.clicked.connect(self._on_download_clicked)
        builtin_row = QHBoxLayout()
        builtin_row.addWidget(self.builtin_combo, 1)
        builtin_row.addWidget(self.download_button)
        grid = QFormLayout(source)
        grid.addRow(self.builtin_radio, builtin_row)
        grid.addRow("", self._wrap(self.options_form))
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse_file)
        row.addWidget(browse_dir)
        row.addWidget(load)
        grid.addRow(self.file_radio, row)
        grid.addRow("Label column", self.label_column)

        # ---------------------------------------------------------------- preview
        preview = QGroupBox("Preview")
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.samples = QStackedWidget()
        self.samples_label = QLabel()
        self.samples_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea()
        scroll.setWidget(self.samples_label)
        scroll.setWidgetResizable(True)
        self.samples.addWidget(scroll)
        self.table_holder = QWidget()
        QVBoxLayout(self.table_holder).setContentsMargins(0, 0, 0, 0)
        self.samples.addWidget(self.table_holder)
        self.counts = ClassCounts()
        counts_scroll = QScrollArea()
        counts_scroll.setWidget(self.counts)
        counts_scroll.setWidgetResizable(True)
        pv = QVBoxLayout(preview)
        pv.addWidget(self.summary)
        body = QHBoxLayout()
        body.addWidget(self.samples, 3)
        body.addWidget(counts_scroll, 2)
        pv.addLayout(body, 1)

        # ---------------------------------------------------------------- tasks
        tasks = QGroupBox("Tasks")
        self.builder_combo = QComboBox()
        for key, title in BUILDERS:
            self.builder_combo.addItem(title, key)
        self.builder_combo.setCurrentIndex(1)
        self.n_tasks = QSpinBox()
        self.n_tasks.setRange(1, 1000)
        self.n_tasks.setValue(5)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.task_note = QLabel(objectName="dim")
        self.task_note.setWordWrap(True)
        tf = QFormLayout(tasks)
        tf.addRow("Make", self.builder_combo)
        tf.addRow("Number of tasks", self.n_tasks)
        tf.addRow("Seed", self.seed)
        tf.addRow("", self.task_note)

        self.error = QLabel(objectName="error")
        self.error.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.add_button = self.buttons.addButton("Add tasks", QDialogButtonBox.ButtonRole.AcceptRole)
        self.add_button.setDefault(True)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(source)
        layout.addWidget(preview, 1)
        layout.addWidget(tasks)
        tasks.setSizePolicy(tasks.sizePolicy().horizontalPolicy(), QSizePolicy.Policy.Maximum)
        source.setSizePolicy(source.sizePolicy().horizontalPolicy(), QSizePolicy.Policy.Maximum)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

        self.builtin_combo.currentIndexChanged.connect(self._on_builtin_combo_changed)
        self.builtin_radio.toggled.connect(self._on_source_toggled)
        self.path_edit.textEdited.connect(self._on_path_edit_text_edited)
        # Return in a path or label field loads the file; the dialog would otherwise press Add with it
        self.path_edit.installEventFilter(self)
        self.label_column.installEventFilter(self)
        self.builder_combo.currentIndexChanged.connect(self._update_note)
        self.n_tasks.valueChanged.connect(self._update_note)
        self._on_builtin_combo_changed()
        if path:
            self.set_path(path)
        else:
            self.load_preview()

    @staticmethod
    def _wrap(layout) -> QWidget:
        w = QWidget()
        w.setLayout(layout)
        layout.setContentsMargins(0, 0, 0, 0)
        return w

    # ------------------------------------------------------------------ source

    def set_path(self, path: str) -> None:
        self.file_radio.setChecked(True)
        self.path_edit.setText(str(path))
        self.load_preview()

    def select_builtin(self, name: str) -> None:
        self.builtin_radio.setChecked(True)
        self.builtin_combo.setCurrentIndex(max(0, self.builtin_combo.findData(name)))
        self.load_preview()

    def _on_download_clicked(self) -> None:
        from modstudio.gui.benchmark_download import BenchmarkDownloadDialog

        dialog = BenchmarkDownloadDialog(self)
        got: list[str] = []
        dialog.downloaded.connect(got.append)
        dialog.exec()
        if got:
            self.refresh_builtins(select=got[-1])

    def refresh_builtins(self, select: str | None = None) -> None:
        """Re-read the built-in list (a benchmark downloaded since joins it) and choose ``select``."""
        current = select or self.builtin_combo.currentData()
        self.builtins = self.data.list_builtin()
        self.builtin_combo.blockSignals(True)
        self.builtin_combo.clear()
        for info in self.builtins:
            self.builtin_combo.addItem(info.title, info.name)
        self.builtin_combo.setCurrentIndex(max(0, self.builtin_combo.findData(current)))
        self.builtin_combo.blockSignals(False)
        self._on_builtin_combo_changed()  # the options form, and the preview if built-in is chosen
        self.builtin_radio.setChecked(True)  # otherwise this shows it

    def _on_browse_clicked(self, folder: bool) -> None:
        path = dialogs.ask_data_path(self, folder)
        if path:
            self.set_path(path)

    def _on_source_toggled(self) -> None:
        self.load_preview()

    def _on_path_edit_text_edited(self, text: str) -> None:
        """Typing a path means that file: choose "File or folder", and drop the preview of anything
        else, so that Add never adds what was shown before. The file is read on Return or Load, not
        at every keystroke of a half-typed name."""
        self.builtin_radio.blockSignals(True)  # its toggle would load the half-typed path
        self.file_radio.setChecked(True)
        self.builtin_radio.blockSignals(False)
        self._show_error("")
        self.summary.setText("Press Return or Load to read it." if text.strip() else "")
        self.add_button.setEnabled(bool(text.strip()))  # Add reads it first (build_tasks)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if (watched in (self.path_edit, self.label_column) and event.type() == QEvent.Type.KeyPress
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)):
            if watched is self.path_edit and not self.file_radio.isChecked():
                self.file_radio.setChecked(True)  # its toggle loads the path
            else:
                self.load_preview()
            return True
        return super().eventFilter(watched, event)

    def _on_builtin_combo_changed(self) -> None:
        while self.options_form.rowCount():
            self.options_form.removeRow(0)
        self._option_widgets.clear()
        info = self.builtins[self.builtin_combo.currentIndex()]
        for opt in info.options:
            if opt.kind == "bool":
                w = QCheckBox()
                w.setChecked(bool(opt.default))
                w.toggled.connect(self.load_preview)
            elif opt.kind == "int":
                w = QSpinBox()
                w.setRange(int(opt.minimum if opt.minimum is not None else 0),
                           int(min(opt.maximum if opt.maximum is not None else 2**31 - 1, 2**31 - 1)))
                w.setValue(int(opt.default))
                w.setKeyboardTracking(False)
                w.valueChanged.connect(self.load_preview)
            else:
                w = QDoubleSpinBox()
                w.setDecimals(3)
                w.setRange(opt.minimum if opt.minimum is not None else -1e9,
                           opt.maximum if opt.maximum is not None else 1e9)
                w.setValue(float(opt.default))
                w.setKeyboardTracking(False)
                w.valueChanged.connect(self.load_preview)
            w.setToolTip(opt.doc)
            self.options_form.addRow(opt.name.replace("_", " "), w)
            self._option_widgets[opt.name] = w
        if self.builtin_radio.isChecked():
            self.load_preview()

    def _builtin_options(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, w in self._option_widgets.items():
            out[name] = w.isChecked() if isinstance(w, QCheckBox) else w.value()
        return out

    # ------------------------------------------------------------------ preview

    def load_preview(self) -> bool:
        """Load the chosen data; shows the preview or the data layer's refusal."""
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            if self.builtin_radio.isChecked():
                dataset = self.data.load_builtin(self.builtin_combo.currentData(), **self._builtin_options())
            else:
                path = self.path_edit.text().strip()
                if not path:
                    self._show_error("Choose a file or folder to import.")
                    return False
                options: dict[str, Any] = {}
                column = self.label_column.text().strip()
                if column:
                    options["label_column"] = int(column) if column.lstrip("-").isdigit() else column
                dataset = self.data.import_path(path, **options)
        except self.data.DataError as exc:
            self._show_error(str(exc))
            return False
        except (OSError, ValueError, TypeError) as exc:  # not expected from the data layer; still no crash
            self._show_error(f"Could not read the data: {exc}")
            return False
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.dataset = dataset
        self.error.clear()
        self.add_button.setEnabled(True)
        self._show_dataset(dataset)
        return True

    def _show_error(self, text: str) -> None:
        self.dataset = None
        self.error.setText(text)
        self.add_button.setEnabled(False)
        self.summary.setText("")
        self.samples_label.clear()
        self._clear_rows()
        self.counts.set_counts([], [])

    def _clear_rows(self) -> None:
        layout = self.table_holder.layout()
        while layout.count():
            layout.takeAt(0).widget().deleteLater()

    def _show_dataset(self, ds) -> None:
        from modstudio.graph.catalog import fmt_shape

        self.summary.setText(
            f"<b>{ds.name}</b> — {len(ds):,} samples of shape {fmt_shape(ds.sample_shape)}, "
            f"{ds.num_classes} classes<br><span style='color:#9aa4b1'>{ds.source}</span>")
        if is_image_shape(ds.sample_shape):
            self.samples_label.setPixmap(image_grid(ds.x, ds.y, ds.class_names))
            self.samples.setCurrentIndex(0)
        else:
            self._clear_rows()
            self.table_holder.layout().addWidget(rows_table(ds.x, ds.y, ds.class_names))
            self.samples.setCurrentIndex(1)
        self.counts.set_counts(ds.class_names, ds.class_counts())
        if self.builder_combo.currentData() == "split" and ds.num_classes // self.n_tasks.value() < 2:
            self.n_tasks.setValue(max(1, ds.num_classes // 2))
        rotatable = len(ds.sample_shape) in (2, 3)
        rotated_index = [k for k, _ in BUILDERS].index("rotated")
        self.builder_combo.model().item(rotated_index).setEnabled(rotatable)
        if not rotatable and self.builder_combo.currentData() == "rotated":
            self.builder_combo.setCurrentIndex(1)
        self._update_note()

    def _update_note(self) -> None:
        key = self.builder_combo.currentData()
        self.n_tasks.setEnabled(key != "whole")
        ds = self.dataset
        if ds is None:
            self.task_note.setText("")
            return
        n = self.n_tasks.value()
        per_task = ds.num_classes // max(n, 1)
        tasks = f"{n} task{'s' * (n != 1)}"
        split_note = (f"{tasks} of {per_task}{'+' if ds.num_classes % n else ''} classes each; each task gets "
                      "its own head (task-incremental)." if per_task >= 2 else
                      f"Too many tasks: {ds.num_classes} classes make at most {ds.num_classes // 2} tasks of two "
                      "classes.")
        notes = {
            "whole": f"One task with all {ds.num_classes} classes.",
            "split": split_note,
            "permuted": f"{tasks} with all {ds.num_classes} classes; task 0 is the data as it is.",
            "rotated": f"{tasks} with all {ds.num_classes} classes, rotated by 0° … {180 * (n - 1) / max(n, 1):.0f}°.",
        }
        self.task_note.setText(notes[key])

    # ------------------------------------------------------------------ result

    def build_tasks(self) -> list | None:
        if self.dataset is None and not self.load_preview():
            return None
        key, n, seed = self.builder_combo.currentData(), self.n_tasks.value(), self.seed.value()
        try:
            if key == "whole":
                tasks = self.data.datasets_as_tasks([self.dataset], seed=seed)
            elif key == "split":
                tasks = self.data.split_by_class(self.dataset, n_tasks=n, seed=seed)
            elif key == "permuted":
                tasks = self.data.permuted(self.dataset, n_tasks=n, seed=seed)
            else:
                tasks = self.data.rotated(self.dataset, n_tasks=n, seed=seed)
        except self.data.DataError as exc:
            self.error.setText(str(exc))
            return None
        return tasks

    def accept(self) -> None:
        tasks = self.build_tasks()
        if not tasks:
            return  # the reason is on screen; the dialog stays open
        self.tasks = tasks
        super().accept()
