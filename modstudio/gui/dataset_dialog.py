"""Add tasks from data: pick a built-in dataset (Download… fetches a standard benchmark into that
list) or a file/folder, see a preview (samples or rows and class counts), choose how to cut it
into tasks. A folder of images keeps its images' own size and colours unless the Images row says
otherwise (size, colour, normalisation: the image reader's options, recorded in the tasks' recipe);
a folder of several sizes is refused with its sizes, and the dialog offers to resize to the most
common. Every refusal from the data layer is shown in the dialog in its own words; the dialog
never raises."""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout,
                               QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QRadioButton, QScrollArea,
                               QSizePolicy, QSpinBox, QStackedWidget, QVBoxLayout, QWidget)

from modstudio.data.tasks import normalize_tasks, not_normalizable
from modstudio.gui import dialogs, theme
from modstudio.gui.augmentation import AugmentationEditor, augmentable
from modstudio.gui.data_preview import ClassCounts, image_grid, is_image_shape, rows_table

NATIVE = "As in the files"

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
        self.image_options = self._build_image_options()
        grid.addRow("Images", self.image_options)
        self._source_grid = grid

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
        self.augmentation = AugmentationEditor()
        tf.addRow("Augmentation", self.augmentation)
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
        self._show_image_options()
        if path:
            self.set_path(path)
        else:
            self.load_preview()

    def _build_image_options(self) -> QWidget:
        """Size, colour and normalisation of an image folder, as the image reader takes them."""
        from modstudio.data.importers.images import IMAGE_MODES, IMAGE_NORMALIZATIONS

        box = QWidget()
        form = QFormLayout(box)
        form.setContentsMargins(0, 0, 0, 0)
        self.image_size = QComboBox()
        self.image_size.addItem(NATIVE, "native")
        self.image_size.addItem("Resize to (height × width)", "resize")
        self.image_height, self.image_width = QSpinBox(), QSpinBox()
        for spin, what in ((self.image_height, "height"), (self.image_width, "width")):
            spin.setRange(1, 4096)
            spin.setValue(28)
            spin.setSuffix(" px")
            spin.setKeyboardTracking(False)
            spin.setToolTip(f"The {what} every image is resized to")
            spin.valueChanged.connect(self._on_image_option_changed)
        size_row = QHBoxLayout()
        size_row.addWidget(self.image_size, 1)
        size_row.addWidget(self.image_height)
        size_row.addWidget(QLabel("×"))
        size_row.addWidget(self.image_width)
        self.image_mode = QComboBox()
        self.image_mode.addItem(f"{NATIVE} (grey if every image is grey)", None)
        for key, title in IMAGE_MODES.items():
            self.image_mode.addItem(title[:1].upper() + title[1:], key)
        self.image_normalize = QComboBox()
        for key, title in IMAGE_NORMALIZATIONS.items():
            self.image_normalize.addItem(title, key)
        self.image_note = QLabel(objectName="dim")
        self.image_note.setWordWrap(True)
        self.resize_button = QPushButton()
        self.resize_button.setToolTip("Resize every image to the size most of them have")
        self.resize_button.clicked.connect(self._on_resize_button_clicked)
        self.resize_button.hide()
        note_row = QHBoxLayout()
        note_row.addWidget(self.image_note, 1)
        note_row.addWidget(self.resize_button)
        form.addRow("Size", size_row)
        form.addRow("Colour", self.image_mode)
        form.addRow("Values", self.image_normalize)
        form.addRow(note_row)
        for combo in (self.image_size, self.image_mode, self.image_normalize):
            combo.currentIndexChanged.connect(self._on_image_option_changed)
        self._sync_size_spins()
        return box

    def _sync_size_spins(self) -> None:
        resize = self.image_size.currentData() == "resize"
        self.image_height.setEnabled(resize)
        self.image_width.setEnabled(resize)

    def _on_image_option_changed(self) -> None:
        self._sync_size_spins()
        if self.file_radio.isChecked() and self._is_folder():
            self.load_preview()

    def _on_resize_button_clicked(self) -> None:
        self.image_size.blockSignals(True)
        self.image_size.setCurrentIndex(self.image_size.findData("resize"))
        self.image_size.blockSignals(False)
        self._on_image_option_changed()

    def _is_folder(self) -> bool:
        path = self.path_edit.text().strip()
        return bool(path) and os.path.isdir(os.path.expanduser(path))

    def _show_image_options(self) -> None:
        self._source_grid.setRowVisible(self.image_options, self.file_radio.isChecked() and self._is_folder())

    def image_import_options(self) -> dict[str, Any]:
        """The image reader's options as the Images row sets them."""
        size = ((self.image_height.value(), self.image_width.value())
                if self.image_size.currentData() == "resize" else None)
        return {"size": size, "mode": self.image_mode.currentData(), "normalize": self.image_normalize.currentData()}

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
        self._show_image_options()
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
        self._show_image_options()

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
        from modstudio.data.importers.images import MixedImageSizes

        self._show_image_options()
        self.resize_button.hide()
        self.image_note.setText("")
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
                if self._is_folder():
                    options.update(self.image_import_options())
                dataset = self.data.import_path(path, **options)
        except MixedImageSizes as exc:
            self._show_error(str(exc))
            self._offer_resize(exc.sizes)
            return False
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

    def _offer_resize(self, sizes: list[tuple[tuple[int, int], int]]) -> None:
        """Images of several sizes at "As in the files": say so, and offer the most common size."""
        (h, w), count = sizes[0]
        total = sum(n for _, n in sizes)
        self._set_size_spins(h, w)
        self.image_note.setText(f"{len(sizes)} sizes; {count:,} of {total:,} images are {h}×{w}. "
                                "A network needs one.")
        self.resize_button.setText(f"Resize to {h}×{w}")
        self.resize_button.show()

    def _set_size_spins(self, h: int, w: int) -> None:
        for spin, value in ((self.image_height, h), (self.image_width, w)):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)

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
            f"{ds.num_classes} classes<br><span style='color:{theme.CHROME[theme.current()]['dim']}'>{ds.source}</span>")
        if self.file_radio.isChecked() and self._is_folder():
            self._note_image_options(ds)
        if is_image_shape(ds.sample_shape):
            self.samples_label.setPixmap(image_grid(ds.x, ds.y, ds.class_names))
            self.samples.setCurrentIndex(0)
        else:
            self._clear_rows()
            self.table_holder.layout().addWidget(rows_table(ds.floats(slice(0, 8)), ds.y[:8], ds.class_names, ds.feature_names))
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

    def _show_augmentation(self, ds) -> None:
        """The Augmentation row: crop and flip for images only (other samples cannot be cropped or
        flipped), normalisation for tasks that will be bytes."""
        images = augmentable(ds.sample_shape)
        self.augmentation.allow(images, self._why_not_normalized(ds))
        self.augmentation.setToolTip("" if images else "Only images (channels × height × width) can be augmented.")

    def _why_not_normalized(self, ds) -> str | None:
        """None when the tasks the chosen builder makes of ``ds`` stay bytes (so can be normalised)."""
        if ds.values is None:
            return not_normalizable(ds)
        key = self.builder_combo.currentData()
        if key == "rotated":
            return "Rotated images are float features (their values fall between bytes): they cannot be normalised."
        if key == "permuted" and ds.values.channels > 1:
            return ("Permuting the features of images with per-channel values makes float features: they cannot "
                    "be normalised.")
        return None

    def _note_image_options(self, ds) -> None:
        """What the Images row did to this folder, in words (its recipe holds the same)."""
        from modstudio.data.importers.images import IMAGE_MODES, IMAGE_NORMALIZATIONS

        chosen = (ds.origin or {}).get("options", {})
        h, w = chosen.get("size", ds.sample_shape[-2:])
        kept = self.image_size.currentData() == "native"
        if kept:  # the size a switch to "Resize to" starts from
            self._set_size_spins(h, w)
        size = f"kept at their own size, {h}×{w}" if kept else f"resized to {h}×{w}"
        colour = IMAGE_MODES.get(chosen.get("mode"), "")
        values = IMAGE_NORMALIZATIONS.get(chosen.get("normalize"), "")
        self.image_note.setText(f"Images {size}, {colour}; values {values}.")

    def _update_note(self) -> None:
        key = self.builder_combo.currentData()
        self.n_tasks.setEnabled(key != "whole")
        ds = self.dataset
        if ds is None:
            self.task_note.setText("")
            return
        self._show_augmentation(ds)  # the builder decides whether the tasks stay bytes
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
            augmentation = self.augmentation.augmentation()
            if augmentation.active:
                tasks = [t.with_augmentation(augmentation) for t in tasks]
            if self.augmentation.normalized():  # the statistics of all the tasks made, together
                tasks = normalize_tasks(tasks)
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
