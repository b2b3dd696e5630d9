"""File → Export: write the newest trained run as ONNX, TorchScript, a torch.export program,
safetensors or PyTorch code (NAME.py plus its weights, NAME.safetensors), in the background (an
ONNX export takes seconds), with the result or the reason it could not be done in a dialog."""

from __future__ import annotations

from pathlib import Path

from modstudio.gui import dialogs
from modstudio.gui.jobs import Job

EXPORT_FILTERS = ("ONNX (*.onnx);;TorchScript (*.pt);;torch.export program (*.pt2);;"
                  "safetensors weights + JSON (*.safetensors);;Python code (*.py)")


def trained_runs(project) -> list:
    return [r for r in project.runs if r.weights]


class ExportController:
    """Asks for a file, exports every trained task of the newest trained run, reports back."""

    def __init__(self, window) -> None:
        self.window = window
        self.job: Job | None = None

    def start(self) -> bool:
        project = self.window.document.project
        runs = trained_runs(project)
        if not runs:
            dialogs.show_info(self.window, "Nothing to export yet",
                              "Export writes a trained model (ONNX, TorchScript, torch.export, safetensors or "
                              "Python code). "
                              "Train the project first; its trained modules are then kept with the project.")
            return False
        if self.job is not None and self.job.isRunning():
            return False
        stem = (project.name or "model").replace(" ", "-")
        path = dialogs.ask_save_file(self.window, "Export the trained model", f"{stem}.onnx", EXPORT_FILTERS)
        if not path:
            return False
        run = runs[-1]
        several = len(run.paths) > 1 and not path.endswith(".safetensors")
        project_file = self.window.document.path  # an export never lands on the project itself

        def work():
            from modstudio.learn.export import export

            # force: the file dialog has asked already whether to replace an existing file
            return export(project, path, run=run.id, all_tasks=several, force=True, project_file=project_file)

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
