"""Editing a task's augmentation (``data/augment.py``) and normalisation (``values.Normalization``):
one group of controls, used by the Add Tasks dialog for the tasks it makes and by the Tasks panel's
Augment… dialog for tasks already there."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout,
                               QWidget)

from modstudio.data.augment import MAX_CROP_PADDING, Augmentation
from modstudio.data.tasks import not_normalizable

TIP = ("Training batches only, drawn per sample from the run's seed; evaluation sees the images as they are. "
       "Images only (channels × height × width).")
NORMALIZE_TIP = ("Standardise each channel's values to mean 0 and standard deviation 1, by the mean and sd of the "
                 "training splits of all these tasks together: one mapping for all of them, applied to training and "
                 "evaluation alike on the device (the data stays bytes). Off gives back the values as imported.")


def augmentable(sample_shape) -> bool:
    """Whether samples of this shape can be augmented: images, channels × height × width."""
    return len(tuple(sample_shape)) == 3


def normalizable(tasks) -> str | None:
    """None when these tasks can be normalised (stored as bytes), else why not, in words."""
    floats = [t for t in tasks if t.values is None]
    return not_normalizable(floats[0]) if floats else None


class AugmentationEditor(QWidget):
    """Crop padding (0: no crop) and a horizontal flip; below them, normalisation by the mean and sd of
    ``scope`` (the tasks it is for, in words)."""

    def __init__(self, parent: QWidget | None = None, scope: str = "these tasks' training data") -> None:
        super().__init__(parent)
        self.crop = QSpinBox()
        self.crop.setRange(0, MAX_CROP_PADDING)
        self.crop.setSpecialValueText("no crop")
        self.crop.setSuffix(" px")
        self.crop.setPrefix("crop ±")
        self.crop.setToolTip("Pad each image with this many zero pixels on every side, then crop it back to its "
                             "size at a random offset: content moves by up to ± this many pixels.\n" + TIP)
        self.flip = QCheckBox("Flip horizontally")
        self.flip.setToolTip("Mirror each image left–right with probability ½.\n" + TIP)
        self.normalize = QCheckBox(f"Normalise: mean 0, sd 1 per channel ({scope})")
        self.normalize.setToolTip(NORMALIZE_TIP)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.crop)
        row.addWidget(self.flip)
        row.addStretch(1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(row)
        column.addWidget(self.normalize)

    def augmentation(self) -> Augmentation:
        return Augmentation(crop_padding=self.crop.value(), flip=self.flip.isChecked())

    def set_augmentation(self, augmentation: Augmentation) -> None:
        self.crop.setValue(augmentation.crop_padding)
        self.flip.setChecked(augmentation.flip)

    def normalized(self) -> bool | None:
        """Whether to normalise; None: left as it is (tasks of both kinds, the box untouched)."""
        state = self.normalize.checkState()
        return None if state == Qt.CheckState.PartiallyChecked else state == Qt.CheckState.Checked

    def set_normalized(self, on: bool | None) -> None:
        """Checked, unchecked, or (None) partly: some of the tasks are normalised and some not."""
        self.normalize.setTristate(on is None)
        self.normalize.setCheckState(Qt.CheckState.PartiallyChecked if on is None
                                     else Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)

    def allow(self, images: bool, why_not_normalized: str | None) -> None:
        """Enable what applies: crop and flip for images, normalisation for bytes (else the reason as
        its tooltip, the box cleared); the whole editor only when one of them does."""
        for control in (self.crop, self.flip):
            control.setEnabled(images)
        if not images:
            self.set_augmentation(Augmentation())
        self.normalize.setEnabled(why_not_normalized is None)
        self.normalize.setToolTip(NORMALIZE_TIP if why_not_normalized is None else why_not_normalized)
        if why_not_normalized is not None:
            self.set_normalized(False)
        self.setEnabled(images or why_not_normalized is None)


class AugmentationDialog(QDialog):
    """Asks the augmentation of the selected tasks, starting from the first one's, and whether to
    normalise them (checked when all are, partly when some are)."""

    def __init__(self, augmentation: Augmentation, tasks: int, parent: QWidget | None = None, *,
                 normalized: bool | None = False, images: bool = True,
                 why_not_normalized: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Augmentation and normalisation")
        these = "this task" if tasks == 1 else f"the {tasks} selected tasks"
        self.editor = AugmentationEditor(scope="the selected task's training data" if tasks == 1
                                         else "the selected tasks' training data")
        self.editor.set_augmentation(augmentation)
        self.editor.set_normalized(normalized)
        self.editor.allow(images, why_not_normalized)
        note = QLabel(f"For {these}: random changes to each training batch. {TIP} Normalisation maps the values "
                      "seen in training and evaluation alike.", objectName="dim")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.editor)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.setMinimumWidth(max(420, self.editor.sizeHint().width() + 24))
