"""Editing a task's augmentation (``data/augment.py``): one row of controls, used by the Add Tasks
dialog for the tasks it makes and by the Tasks panel's Augment… dialog for tasks already there."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from modstudio.data.augment import MAX_CROP_PADDING, Augmentation

TIP = ("Training batches only, drawn per sample from the run's seed; evaluation sees the images as they are. "
       "Images only (channels × height × width).")


def augmentable(sample_shape) -> bool:
    """Whether samples of this shape can be augmented: images, channels × height × width."""
    return len(tuple(sample_shape)) == 3


class AugmentationEditor(QWidget):
    """Crop padding (0: no crop) and a horizontal flip."""

    def __init__(self, parent: QWidget | None = None) -> None:
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
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.crop)
        row.addWidget(self.flip)
        row.addStretch(1)

    def augmentation(self) -> Augmentation:
        return Augmentation(crop_padding=self.crop.value(), flip=self.flip.isChecked())

    def set_augmentation(self, augmentation: Augmentation) -> None:
        self.crop.setValue(augmentation.crop_padding)
        self.flip.setChecked(augmentation.flip)


class AugmentationDialog(QDialog):
    """Asks the augmentation of the selected tasks, starting from the first one's."""

    def __init__(self, augmentation: Augmentation, tasks: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Augmentation")
        self.editor = AugmentationEditor()
        self.editor.set_augmentation(augmentation)
        note = QLabel(f"For {'this task' if tasks == 1 else f'the {tasks} selected tasks'}: random changes to "
                      "each training batch. " + TIP, objectName="dim")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.editor)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)
