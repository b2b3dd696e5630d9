"""Every modal question the window asks, in one module: the seam tests replace so that no modal
dialog ever blocks a test run."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox, QWidget

PROJECT_FILTER = "ModStudio projects (*.modstudio)"
DATA_FILTER = "Data files (*.csv *.tsv *.txt *.npz *.npy *.idx *-ubyte *-ubyte.gz);;All files (*)"


def ask_open_project(parent: QWidget, start: str = "") -> str | None:
    path, _ = QFileDialog.getOpenFileName(parent, "Open project", start, f"{PROJECT_FILTER};;All files (*)")
    return path or None


def ask_save_project(parent: QWidget, suggested: str) -> str | None:
    path, _ = QFileDialog.getSaveFileName(parent, "Save project", suggested, PROJECT_FILTER)
    if path and not path.endswith(".modstudio"):
        path += ".modstudio"
    return path or None


def ask_data_path(parent: QWidget, folder: bool = False) -> str | None:
    if folder:
        path = QFileDialog.getExistingDirectory(parent, "Import an image folder (one sub-folder per class)")
    else:
        path, _ = QFileDialog.getOpenFileName(parent, "Import a data file", "", DATA_FILTER)
    return path or None


def ask_folder(parent: QWidget, title: str, start: str = "") -> str | None:
    """A folder to write into (TensorBoard logs, an MLflow file store); the dialog can make a new one."""
    return QFileDialog.getExistingDirectory(parent, title, start) or None


def ask_tracking_target(parent: QWidget, question) -> str | None:
    """Where runs go for an experiment tracker: a folder or a tracking URI (None: cancelled);
    ``question``: a ``TargetQuestion`` (title, what it does, the suggestion)."""
    from modstudio.gui.training.tracking_export import TargetDialog

    dialog = TargetDialog(question, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.value() or None


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

    path, chosen = QFileDialog.getSaveFileName(parent, title, suggested, filters)
    if path and "." not in path.rsplit("/", 1)[-1]:
        match = re.search(r"\*(\.\w+)", chosen or filters)
        if match:
            path += match.group(1)
    return path or None
