"""File → Export's question, asked before the file name: which trained run, which of its tasks, and
which format. Only runs with trained weights are offered; the choices the run cannot take (a task
of a model that answers for every task, Python code of a unified classifier) are switched off with
the reason beside them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from modstudio.project import features

# (key of ms.export's FORMATS, title, suffix); tests hold it equal to modstudio.learn.export.FORMATS
FORMATS = (
    ("onnx", "ONNX", ".onnx"),
    ("torchscript", "TorchScript", ".pt"),
    ("pt2", "torch.export program", ".pt2"),
    ("safetensors", "safetensors weights + JSON description", ".safetensors"),
    ("python", "Python code (PyTorch) + safetensors weights", ".py"),
)
ALL_TASKS = -1  # the task list's entry for "every trained task behind a task input"


@dataclass(frozen=True)
class ExportQuestion:
    """What the dialog offers: the runs with weights, the one chosen at first, the project's task names."""

    runs: Sequence
    selected_id: str
    task_names: Sequence[str]


@dataclass(frozen=True)
class ExportChoice:
    run_id: str
    task: int | None  # None: every trained task
    format: str

    @property
    def suffix(self) -> str:
        return next(s for key, _, s in FORMATS if key == self.format)

    @property
    def title(self) -> str:
        return next(t for key, t, _ in FORMATS if key == self.format)


def run_label(run) -> str:
    trained = len(run.paths)
    acc = run.metrics.acc
    figure = f" · ACC {acc * 100:.1f} %" if acc is not None else ""
    return (f"{run.id[:8]} · {run.strategy} · {run.status} · {trained} task{'s' * (trained != 1)}{figure} · "
            f"{run.started[:16].replace('T', ' ')}")


def readout(run) -> str | None:
    """How ``run`` predicts without the task (``features.task_inference``); None in the task scenario."""
    return features.task_inference(run.strategy, str(run.settings.get("scenario", "task")),
                                   run.settings.get("strategy_params"))


def one_model(run) -> bool:
    """A run whose one classifier answers for every task (a shared head, the unified classifier)."""
    return readout(run) in ("shared", "unified")


class ExportDialog(QDialog):
    def __init__(self, question: ExportQuestion, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export the trained model")
        self.runs = list(question.runs)
        self.task_names = list(question.task_names)
        self.run_combo = QComboBox()
        for run in self.runs:
            self.run_combo.addItem(run_label(run), run.id)
        self.task_combo = QComboBox()
        self.format_combo = QComboBox()
        for key, title, suffix in FORMATS:
            self.format_combo.addItem(f"{title} ({suffix})", key)
        self.note = QLabel(objectName="dim")
        self.note.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Run", self.run_combo)
        form.addRow("Tasks", self.task_combo)
        form.addRow("Format", self.format_combo)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.choose_button = buttons.addButton("Choose File…", QDialogButtonBox.ButtonRole.AcceptRole)
        self.choose_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(buttons)
        self.run_combo.currentIndexChanged.connect(self._on_run_changed)
        self.format_combo.currentIndexChanged.connect(self._update)
        self.run_combo.setCurrentIndex(max(0, self.run_combo.findData(question.selected_id)))
        self._on_run_changed()
        self.resize(max(self.sizeHint().width(), 560), self.sizeHint().height())

    @property
    def run(self):
        return self.runs[self.run_combo.currentIndex()]

    def _on_run_changed(self) -> None:
        run = self.run
        self.task_combo.clear()
        self.task_combo.addItem("Every trained task (one model with a task input)", ALL_TASKS)
        for k in range(len(run.paths)):
            name = self.task_names[k] if k < len(self.task_names) else f"Task {k + 1}"
            self.task_combo.addItem(f"Task {k + 1}: {name}", k)
        python = self.format_combo.model().item([key for key, _, _ in FORMATS].index("python"))
        unified = readout(run) == "unified"
        python.setEnabled(not unified)
        if unified and self.format_combo.currentData() == "python":
            self.format_combo.setCurrentIndex(0)
        self._update()

    def _update(self) -> None:
        run, fmt = self.run, self.format_combo.currentData()
        notes = []
        if fmt == "safetensors":
            notes.append("A safetensors export holds every task of the run.")
        elif one_model(run):
            notes.append("This run predicts every class with one classifier, so one model answers for every task.")
        if readout(run) == "unified":
            notes.append("Python code is not offered: it does not write a unified classifier yet.")
        self.task_combo.setEnabled(fmt != "safetensors" and not one_model(run))
        self.note.setText(" ".join(notes))
        self.note.setVisible(bool(notes))

    def choice(self) -> ExportChoice:
        task = self.task_combo.currentData()
        if not self.task_combo.isEnabled() or task == ALL_TASKS:
            task = None
        return ExportChoice(self.run.id, task, self.format_combo.currentData())
