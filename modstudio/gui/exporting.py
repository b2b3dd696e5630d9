"""File → Export: write a trained run as ONNX, TorchScript, a torch.export program, safetensors or
PyTorch code (NAME.py plus its weights, NAME.safetensors), in the background (an ONNX export takes
seconds), with the result or the reason it could not be done in a dialog.

The run is the one selected in the Runs tab, else the newest with weights; one question
(``export_dialog``) settles run, tasks and format before the file name is asked for."""

from __future__ import annotations

from pathlib import Path

from modstudio.gui import dialogs
from modstudio.gui.jobs import Job


def trained_runs(project) -> list:
    return [r for r in project.runs if r.weights]


def default_run(window, runs: list):
    """The run the Runs tab has selected (the last selected, if several) when it has weights, else the
    newest with weights."""
    panel = window.training.panel
    selected = panel.runs.selected_runs() if panel.runs is not None else []
    ids = {r.id for r in runs}
    return next((r for r in reversed(selected) if r.id in ids), runs[-1])


class ExportController:
    """Asks what to export and where, exports it in a Job, reports back."""

    def __init__(self, window) -> None:
        self.window = window
        self.job: Job | None = None

    def start(self) -> bool:
        document = self.window.document
        project = document.project
        runs = trained_runs(project)
        if not runs:
            dialogs.show_info(self.window, "Nothing to export yet",
                              "Export writes a trained model (ONNX, TorchScript, torch.export, safetensors or "
                              "Python code). "
                              "Train the project first; its trained modules are then kept with the project.")
            return False
        if self.job is not None and self.job.isRunning():
            return False
        from modstudio.gui.export_dialog import ExportQuestion

        question = ExportQuestion(runs, default_run(self.window, runs).id, [t.name for t in project.tasks])
        choice = dialogs.ask_export(self.window, question)
        if choice is None:
            return False
        stem = (Path(document.path).stem if document.path else project.name or "model").replace(" ", "-")
        path = dialogs.ask_save_file(self.window, "Export the trained model", f"{stem}{choice.suffix}",
                                     f"{choice.title} (*{choice.suffix});;All files (*)")
        if not path:
            return False
        project_file = document.path  # an export never lands on the project itself

        def work():
            from modstudio.learn.export import export

            # force: the file dialog has asked already whether to replace an existing file
            return export(project, path, format=choice.format, run=choice.run_id, task=choice.task,
                          all_tasks=choice.task is None and choice.format != "safetensors", force=True,
                          project_file=project_file)

        self.job = Job(work, self.window)
        self.job.done.connect(self._on_job_done)
        self.job.failed.connect(self._on_job_failed)
        self.window.statusBar().showMessage(f"exporting to {Path(path).name}…")
        self.job.start()
        return True

    def wait(self, ms: int = 120_000) -> None:
        if self.job is not None:
            self.job.wait(ms)

    def _on_job_done(self, exported) -> None:
        files = "\n".join(str(p) for p in exported.paths)
        self.window.statusBar().showMessage(f"exported {len(exported.paths)} file(s)", 8000)
        dialogs.show_info(self.window, "Export finished",
                          f"Wrote the {exported.format} export of run {exported.run_id[:8]} "
                          f"(tasks {', '.join(str(t) for t in exported.tasks)}):\n\n{files}")

    def _on_job_failed(self, message: str) -> None:
        self.window.statusBar().showMessage("export failed", 8000)
        dialogs.show_error(self.window, "Export failed", message)
