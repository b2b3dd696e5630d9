"""Runs tab → Export to TensorBoard… / Export to MLflow…: the chosen runs' histories written by
``modstudio.tracking`` in the background (importing mlflow alone takes seconds; a tracking server
may be slow), the result in the status bar and a message.

The runs are the table's selection, or every run when none is selected; each keeps its place in
the project in its name (``03-expansion-1a2b3c4d``), as ``modstudio runs --tensorboard/--mlflow``
names it, so the studio and the command line write the same. The last folder or URI is offered
again next time (per-user settings). Without the tracker's package the action says what to install.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout,
                               QWidget)

from modstudio.gui import dialogs
from modstudio.gui.jobs import Job
from modstudio.gui.settings import studio_settings
from modstudio.tracking import mlflow as mlflow_writer
from modstudio.tracking import tensorboard as tensorboard_writer
from modstudio.tracking import unavailable

TITLES = {"tensorboard": "TensorBoard", "mlflow": "MLflow"}
PACKAGES = {"tensorboard": ("writing TensorBoard files", "tensorboard"), "mlflow": ("logging to MLflow", "mlflow")}
WRITERS = {"tensorboard": tensorboard_writer, "mlflow": mlflow_writer}
SETTING = "tracking/{kind}"  # the last target, per kind


class TrackingExport:
    """One export at a time: asks where, writes in a Job, reports back."""

    def __init__(self, window) -> None:
        self.window = window
        self.job: Job | None = None

    def start(self, kind: str, selected: list) -> bool:
        """Export ``selected`` (every run when empty) to ``kind`` ("tensorboard" or "mlflow")."""
        title = TITLES[kind]
        project = self.window.document.project
        runs = list(selected) or list(project.runs)
        if not runs:
            dialogs.show_info(self.window, "No runs to export",
                              f"Export to {title} writes the runs the project keeps. Train the project first.")
            return False
        if self.job is not None and self.job.isRunning():
            return False
        if not WRITERS[kind].available():
            dialogs.show_error(self.window, f"{title} is not installed", str(unavailable(*PACKAGES[kind])))
            return False
        target = self._ask(kind)
        if not target:
            return False
        studio_settings().setValue(SETTING.format(kind=kind), target)
        indices = [next(i for i, r in enumerate(project.runs) if r is run) for run in runs]
        experiment = project.name
        if kind == "tensorboard":
            work = lambda: tensorboard_writer.write_runs(runs, target, indices)  # noqa: E731
        else:
            work = lambda: mlflow_writer.write_runs(runs, target, experiment, indices)  # noqa: E731
        self.job = Job(work, self.window)
        self.job.done.connect(lambda result: self._on_job_done(kind, target, result))
        self.job.failed.connect(lambda message: self._on_job_failed(kind, message))
        self.window.statusBar().showMessage(f"Exporting {len(runs)} run(s) to {title}…")
        self.job.start()
        return True

    def wait(self, ms: int = 120_000) -> None:
        if self.job is not None:
            self.job.wait(ms)

    def _ask(self, kind: str) -> str | None:
        """The folder or URI, suggested as the last one used or a folder beside the project."""
        last = studio_settings().value(SETTING.format(kind=kind), "")
        document_path = self.window.document.path
        here = Path(document_path).parent if document_path else Path.home()
        if kind == "tensorboard":
            question = TargetQuestion(
                "Export runs to TensorBoard",
                "Write the runs as TensorBoard event files into a log folder, one sub-folder per run "
                "(the folder is made if it is missing).",
                last or str(here / "tensorboard"), "a folder",
                "A run written there before is replaced; other files are left alone.")
        else:
            experiment = self.window.document.project.name or mlflow_writer.DEFAULT_EXPERIMENT
            question = TargetQuestion(
                "Export runs to MLflow",
                "Log the runs to an MLflow tracking store: a folder on this computer (MLflow's file store) "
                "or a tracking URI, such as http://localhost:5000.",
                last or str(here / "mlruns"), "a folder or a tracking URI",
                f"Experiment: “{experiment}” (named after the project). A run logged before is replaced.")
        return dialogs.ask_tracking_target(self.window, question)

    def _on_job_done(self, kind: str, target: str, result: list) -> None:
        n = len(result)
        if kind == "tensorboard":
            self.window.statusBar().showMessage(f"Wrote {n} run(s) to TensorBoard in {target}", 10000)
            dialogs.show_info(self.window, "Export to TensorBoard finished",
                              f"Wrote {n} run(s), one folder each, in\n{target}\n\n"
                              f"View them with:  tensorboard --logdir \"{target}\"")
            return
        uri = mlflow_writer.tracking_uri(target)
        experiment = result[0].experiment if result else ""
        self.window.statusBar().showMessage(f"Logged {n} run(s) to MLflow experiment “{experiment}”", 10000)
        hint = mlflow_writer.view_hint(uri)  # "view them …", as the command line says it
        text = f"Logged {n} run(s) to the experiment “{experiment}” at\n{uri}\n\n"
        dialogs.show_info(self.window, "Export to MLflow finished", text + hint[0].upper() + hint[1:])

    def _on_job_failed(self, kind: str, message: str) -> None:
        self.window.statusBar().showMessage(f"Export to {TITLES[kind]} failed", 10000)
        dialogs.show_error(self.window, f"Export to {TITLES[kind]} failed", message)


def existing_parent(text: str) -> Path:
    """Where a folder picker starts for a typed target: the folder, or the nearest one above it that
    exists (a picker cannot open a folder that is not there yet); home for a URI or nothing."""
    if not text or mlflow_writer.local_folder(mlflow_writer.tracking_uri(text)) is None:
        return Path.home()
    path = mlflow_writer.local_folder(mlflow_writer.tracking_uri(text))
    while not path.is_dir() and path != path.parent:
        path = path.parent
    return path


@dataclass(frozen=True)
class TargetQuestion:
    """What the target dialog asks: its title, what the export does, the suggested target."""

    title: str
    intro: str
    suggested: str
    placeholder: str
    note: str


class TargetDialog(QDialog):
    """Where an export goes, typed or picked: a folder (which may not exist yet, unlike in a folder
    picker) or, for MLflow, a tracking URI."""

    def __init__(self, question: TargetQuestion, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(question.title)
        intro = QLabel(question.intro)
        intro.setWordWrap(True)
        self.target = QLineEdit(question.suggested)
        self.target.setObjectName("tracking-target")
        self.target.setPlaceholderText(question.placeholder)
        self.target.setMinimumWidth(420)
        browse = QPushButton("Folder…")
        browse.clicked.connect(self._on_browse_clicked)
        row = QHBoxLayout()
        row.addWidget(self.target, 1)
        row.addWidget(browse)
        note = QLabel(question.note)
        note.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.target.textChanged.connect(self._on_target_text_changed)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(note)
        layout.addWidget(self.buttons)
        self._on_target_text_changed(self.target.text())

    def value(self) -> str:
        return self.target.text().strip()

    def _on_target_text_changed(self, text: str) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(text.strip()))

    def _on_browse_clicked(self) -> None:
        folder = dialogs.ask_folder(self, "Choose a folder", str(existing_parent(self.value())))
        if folder:
            self.target.setText(folder)
