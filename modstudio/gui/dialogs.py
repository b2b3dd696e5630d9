"""Every modal question the window asks, in one module: the seam tests replace so that no modal
dialog ever blocks a test run.

File dialogs start in the folder last used for their kind of file (``settings.last_folder``:
projects, data, exports), unless the caller names a folder of its own (Save As of a project
that has a file, a folder already typed in a field); whatever the user picks is remembered."""

from __future__ import annotations

import os

from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox, QWidget

from modstudio.gui import settings

PROJECT_FILTER = "ModStudio projects (*.modstudio)"
DATA_FILTER = "Data files (*.csv *.tsv *.txt *.npz *.npy *.idx *-ubyte *-ubyte.gz);;All files (*)"


def start_in(kind: str, suggested: str = "") -> str:
    """Where a dialog opens: ``suggested`` if it names a folder, else the last folder used for
    ``kind`` (with ``suggested``'s bare file name in it)."""
    if os.path.dirname(suggested):
        return suggested
    folder = settings.last_folder(kind)
    return os.path.join(folder, suggested) if suggested else folder


def _chosen(kind: str, path: str | None) -> str | None:
    if path:
        settings.remember_folder(kind, path)
    return path or None


def ask_open_project(parent: QWidget, start: str = "") -> str | None:
    path, _ = QFileDialog.getOpenFileName(parent, "Open project", start_in("projects", start),
                                          f"{PROJECT_FILTER};;All files (*)")
    return _chosen("projects", path)


def ask_save_project(parent: QWidget, suggested: str) -> str | None:
    path, _ = QFileDialog.getSaveFileName(parent, "Save project", start_in("projects", suggested), PROJECT_FILTER)
    if path and not path.endswith(".modstudio"):
        path += ".modstudio"
    return _chosen("projects", path)


def ask_data_path(parent: QWidget, folder: bool = False) -> str | None:
    start = start_in("data")
    if folder:
        path = QFileDialog.getExistingDirectory(parent, "Import an image folder (one sub-folder per class)", start)
    else:
        path, _ = QFileDialog.getOpenFileName(parent, "Import a data file", start, DATA_FILTER)
    return _chosen("data", path)


def ask_folder(parent: QWidget, title: str, start: str = "") -> str | None:
    """A folder to write into (TensorBoard logs, an MLflow file store); the dialog can make a new one."""
    return _chosen("exports", QFileDialog.getExistingDirectory(parent, title, start_in("exports", start)))


def ask_tracking_target(parent: QWidget, question) -> str | None:
    """Where runs go for an experiment tracker: a folder or a tracking URI (None: cancelled);
    ``question``: a ``TargetQuestion`` (title, what it does, the suggestion)."""
    from modstudio.gui.training.tracking_export import TargetDialog

    dialog = TargetDialog(question, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.value() or None


def ask_export(parent: QWidget, question) -> object | None:
    """File → Export's run, tasks and format (``export_dialog.ExportChoice``), or None: cancelled.
    ``question``: an ``ExportQuestion`` (the runs with weights, the one to offer first, task names)."""
    from modstudio.gui.export_dialog import ExportDialog

    dialog = ExportDialog(question, parent)
    try:
        return dialog.choice() if dialog.exec() == QDialog.DialogCode.Accepted else None
    finally:
        dialog.deleteLater()


def show_error(parent: QWidget, title: str, text: str) -> None:
    QMessageBox.warning(parent, title, text)


def show_info(parent: QWidget, title: str, text: str) -> None:
    QMessageBox.information(parent, title, text)


def ask_save_changes(parent: QWidget, name: str) -> str:
    """'save', 'discard' or 'cancel'."""
    box = QMessageBox(QMessageBox.Icon.Question, "Unsaved changes",
                      f"Save the changes to “{name}” before closing?", parent=parent)
    box.setInformativeText("Your changes are lost if you don't save them.")
    box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                           | QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    return {QMessageBox.StandardButton.Save: "save",
            QMessageBox.StandardButton.Discard: "discard"}.get(QMessageBox.StandardButton(answer), "cancel")


def ask_allow_external_data(parent: QWidget, name: str, paths: list[str]) -> bool:
    """A project's task recipes name files outside it: True to let opening read them (default No)."""
    shown = "\n".join(f"  {p}" for p in paths[:10]) + (f"\n  … and {len(paths) - 10} more" if len(paths) > 10 else "")
    box = QMessageBox(QMessageBox.Icon.Warning, "Read files outside the project?",
                      f"“{name}” rebuilds its tasks from data files on this computer:\n\n{shown}", parent=parent)
    box.setInformativeText("Allow this only for a project you trust: the files are read into the project, "
                           "and saving it may then store their data inside the project file. If you do not "
                           "allow it, the project does not open.")
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    box.setDefaultButton(QMessageBox.StandardButton.No)
    return QMessageBox.StandardButton(box.exec()) == QMessageBox.StandardButton.Yes


def ask_recover(parent: QWidget, copies: list) -> object | None:
    """Offer the newest recovery copy; returns it, or None to start fresh (the copy is kept)."""
    newest = copies[0]
    when = newest.saved_at.astimezone().strftime("%d %b %Y, %H:%M")
    box = QMessageBox(QMessageBox.Icon.Question, "Recover unsaved work",
                      f"ModStudio did not close normally. Recover “{newest.name}” (autosaved {when})?",
                      parent=parent)
    if len(copies) > 1:
        box.setInformativeText(f"{len(copies) - 1} older recovery cop{'ies' if len(copies) > 2 else 'y'} "
                               "are kept too.")
    recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton("Not now", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    clicked = box.clickedButton()
    if clicked is recover:
        return newest
    if box.buttonRole(clicked) == QMessageBox.ButtonRole.DestructiveRole:
        return "discard"
    return None


def exec_dialog(dialog: QDialog) -> bool:
    return dialog.exec() == QDialog.DialogCode.Accepted


def show_crash(parent: QWidget, summary: str, details: str, recovery_path=None) -> str:
    """The unhandled-exception dialog (modstudio.gui.crash): 'continue' or 'quit'."""
    from modstudio.gui.crash import CrashDialog

    dialog = CrashDialog(summary, details, recovery_path, parent)
    dialog.exec()
    return "quit" if dialog.quit_requested else "continue"


def ask_stop_run(parent: QWidget) -> bool:
    """Closing while a run trains: True to stop it (its results so far are kept) and close."""
    box = QMessageBox(QMessageBox.Icon.Question, "A run is training",
                      "Stop the training run and close?", parent=parent)
    box.setInformativeText("The tasks trained so far are kept in the project as a stopped run.")
    stop = box.addButton("Stop and Close", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton("Keep Training", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    return box.clickedButton() is stop


def ask_undo_run(parent: QWidget, run) -> bool:
    """Undo would delete a trained run from the project: True to go ahead (default: keep it)."""
    trained = len(run.paths)
    acc = run.metrics.acc
    figures = f", ACC {acc * 100:.1f} %" if acc is not None else ""
    box = QMessageBox(QMessageBox.Icon.Warning, "Undo a training run?",
                      f"Undo removes the {run.strategy} run {run.id[:8]} ({run.status}, {trained} "
                      f"task{'s' * (trained != 1)} trained{figures}) and its trained weights from the project.",
                      parent=parent)
    box.setInformativeText("Redo brings it back, until another edit is made.")
    remove = box.addButton("Remove Run", QMessageBox.ButtonRole.DestructiveRole)
    keep = box.addButton("Keep Run", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(keep)
    box.exec()
    return box.clickedButton() is remove


def show_run_error(parent: QWidget, title: str, text: str, details: str = "") -> None:
    """A failed run: the reason, and the log and traceback under "Show Details"."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=parent)
    box.setInformativeText("The tasks trained before the failure are kept in the project.")
    if details:
        box.setDetailedText(details)
    box.exec()


def ask_save_file(parent: QWidget, title: str, suggested: str, filters: str) -> str | None:
    """A path to write (plots, metrics); the first filter's suffix is added when none is given."""
    import re

    path, chosen = QFileDialog.getSaveFileName(parent, title, start_in("exports", suggested), filters)
    if path and "." not in path.rsplit("/", 1)[-1]:
        match = re.search(r"\*(\.\w+)", chosen or filters)
        if match:
            path += match.group(1)
    return _chosen("exports", path)


def ask_predict_file(parent: QWidget) -> str | None:
    """A file of samples to predict with a trained run (the Evaluate tab's Predict…)."""
    from modstudio.data.importers.samples import SUFFIXES

    patterns = " ".join(f"*{s}" for s in SUFFIXES)
    path, _ = QFileDialog.getOpenFileName(parent, "Predict the samples of a file", start_in("data"),
                                          f"Images, CSV and NumPy files ({patterns});;All files (*)")
    return _chosen("data", path)
