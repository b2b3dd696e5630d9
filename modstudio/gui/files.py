"""Opening, saving, recent files, autosave and crash recovery, for one window.

Everything goes through the project layer (``Project.save``, ``load_project``, ``recovery``);
every failure becomes a dialog with the layer's message, never an exception in the event loop.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QMenu

from modstudio.gui import dialogs, settings

AUTOSAVE_ENV = "MODSTUDIO_AUTOSAVE_SECONDS"
DEFAULT_AUTOSAVE_S = 60


def autosave_interval_ms() -> int:
    try:
        seconds = float(os.environ.get(AUTOSAVE_ENV, DEFAULT_AUTOSAVE_S))
    except ValueError:
        seconds = DEFAULT_AUTOSAVE_S
    return max(1, int(seconds * 1000))


class ProjectFiles(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self._autosaved_index: int | None = None
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(autosave_interval_ms())
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()

    @property
    def document(self):
        return self.window.document

    # ------------------------------------------------------------------ questions

    def maybe_save(self) -> bool:
        """True when it is fine to drop the current project (saved, discarded, or unchanged)."""
        if not self.document.modified:
            return True
        answer = dialogs.ask_save_changes(self.window, self.document.display_name)
        if answer == "save":
            return self.save()
        return answer == "discard"

    # ------------------------------------------------------------------ new / open

    def new_project(self, name: str = "Untitled") -> bool:
        if not self.maybe_save():
            return False
        from modstudio.project import Project

        self._replace(Project.new(name), None)
        return True

    def open_project(self, path: str | None = None) -> bool:
        if path is None:
            path = dialogs.ask_open_project(self.window)  # starts where the last project was opened or saved
            if not path:
                return False
        if not self.maybe_save():
            return False
        project = self.load(path)
        if project is None:
            return False
        self._replace(project, Path(path))
        settings.add_recent_file(path)
        settings.remember_folder("projects", path)  # opened from Recent or a drop counts as used too
        for warning in project.warnings:
            self.document.message.emit(warning)
        if project.warnings:
            dialogs.show_info(self.window, "Opened with notes", "\n\n".join(project.warnings))
        return True

    def load(self, path: str | Path):
        """The project at ``path``, or None after showing why it cannot be opened.

        A project whose task recipes read files outside it opens only if the user allows it when
        asked (naming the files); on No it does not open, and nothing is said again."""
        from modstudio.project import ProjectFileError, load_project

        declined = []

        def consent(paths: list[str]) -> bool:
            allowed = bool(dialogs.ask_allow_external_data(self.window, Path(path).name, paths))
            declined.extend([] if allowed else paths)
            return allowed

        try:
            return load_project(path, allow_external_data=consent)
        except ProjectFileError as exc:
            if declined:
                self.document.message.emit(f"Did not open {Path(path).name}: reading its data files was not allowed")
                return None
            dialogs.show_error(self.window, "Cannot open project", f"{Path(path).name} could not be opened:\n\n{exc}")
        except OSError as exc:
            dialogs.show_error(self.window, "Cannot open project", f"{path}: {exc.strerror or exc}")
        return None

    def open_example(self, name: str) -> bool:
        if not self.maybe_save():
            return False
        try:
            from modstudio.examples import build_example  # not at import time: it loads the data layer (numpy)

            project = build_example(name)
        except Exception as exc:  # an example that fails to build must not take the window down
            dialogs.show_error(self.window, "Cannot open example", f"The example {name!r} failed to build:\n\n{exc}")
            return False
        self._replace(project, None)
        return True

    def _replace(self, project, path: Path | None) -> None:
        old = self.document.project
        self.document.set_project(project, path)
        self._autosaved_index = None
        if old is not None and old is not project:
            self._forget_recovery(old)
        self.window.after_project_replaced()

    # ------------------------------------------------------------------ save

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self.save_to(self.document.path)

    def save_as(self) -> bool:
        # a project's own file, or its name in the folder last used for projects
        suggested = str(self.document.path or f"{self.document.name}.modstudio")
        path = dialogs.ask_save_project(self.window, suggested)
        return bool(path) and self.save_to(path)

    def save_to(self, path: str | Path) -> bool:
        from modstudio.project import ProjectFileError

        try:
            saved = self.document.project.save(path)
        except (ProjectFileError, OSError, ValueError) as exc:
            dialogs.show_error(self.window, "Cannot save project", f"The project was not saved:\n\n{exc}")
            return False
        self.document.mark_saved(saved or path)
        settings.add_recent_file(saved or path)
        settings.remember_folder("projects", saved or path)
        self._forget_recovery(self.document.project)
        self.document.message.emit(f"Saved {Path(saved or path).name}")
        return True

    # ------------------------------------------------------------------ recent files

    def fill_recent_menu(self, menu: QMenu) -> None:
        menu.clear()
        files = settings.recent_files()
        for i, path in enumerate(files):
            action = menu.addAction(f"&{i + 1}  {Path(path).name}" if i < 9 else Path(path).name)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda checked=False, p=path: self.open_project(p))
        if not files:
            menu.addAction("No recent projects").setEnabled(False)
        menu.addSeparator()
        clear = menu.addAction("Clear Recent")
        clear.setEnabled(bool(files))
        clear.triggered.connect(settings.clear_recent_files)

    # ------------------------------------------------------------------ autosave and recovery

    def autosave(self) -> bool:
        """Write a recovery copy when there are unsaved changes not yet autosaved."""
        doc = self.document
        index = doc.undo_stack.index()
        if not doc.modified or index == self._autosaved_index:
            return False
        try:
            from modstudio.project import recovery

            recovery.autosave(doc.project, source=doc.path)
        except Exception as exc:  # autosave must never interrupt work; say so and go on
            doc.message.emit(f"Autosave failed: {exc}")
            return False
        self._autosaved_index = index
        return True

    def _forget_recovery(self, project) -> None:
        try:
            from modstudio.project import recovery

            recovery.delete_recovery(project.id)
        except (OSError, AttributeError):
            pass

    def forget_recovery(self) -> None:
        self._forget_recovery(self.document.project)

    def offer_recovery(self) -> bool:
        """After a crash, offer the newest recovery copy; True when one was restored."""
        try:
            from modstudio.project import recovery

            copies = recovery.list_recoverable()
        except OSError:
            return False
        if not copies:
            return False
        choice = dialogs.ask_recover(self.window, copies)
        if choice == "discard":
            for c in copies:
                recovery.delete_recovery(c.project_id)
            return False
        if choice is None:
            return False
        project = self.load(choice.path)
        if project is None:
            return False
        self._replace(project, Path(choice.source) if choice.source else None)
        self.document.undo_stack.resetClean()  # recovered work is unsaved work
        self.document.message.emit(f"Recovered “{project.name}” — save it to keep it")
        return True
