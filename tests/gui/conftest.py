"""GUI test set-up: per-test config and data folders, and no modal dialog can ever block a run
(every question goes through modstudio.gui.dialogs, replaced here by recorders that fail loudly
unless a test scripts an answer)."""

from __future__ import annotations

import pytest

from modstudio.gui import dialogs


class DialogScript:
    """Scripted answers for modstudio.gui.dialogs; unscripted questions fail the test."""

    def __init__(self) -> None:
        self.answers: dict[str, list] = {}
        self.calls: list[tuple[str, tuple]] = []

    def answer(self, name: str, *values) -> None:
        self.answers.setdefault(name, []).extend(values)

    def called(self, name: str) -> list[tuple]:
        return [args for n, args in self.calls if n == name]

    def make(self, name: str):
        def fake(*args, **kwargs):
            self.calls.append((name, args))
            queue = self.answers.get(name)
            if not queue:
                if name in ("show_error", "show_info"):
                    return None  # recorded; tests assert on them
                raise AssertionError(f"unexpected dialog {name}{args[1:]!r}")
            value = queue.pop(0)
            return value(*args) if callable(value) else value
        return fake


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("MODSTUDIO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("MODSTUDIO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MODSTUDIO_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("MODSTUDIO_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def script(monkeypatch) -> DialogScript:
    s = DialogScript()
    for name in ("ask_open_project", "ask_save_project", "ask_data_path", "show_error", "show_info",
                 "ask_save_changes", "ask_recover", "exec_dialog", "show_crash", "ask_allow_external_data",
                 "ask_folder", "ask_tracking_target", "ask_undo_run", "ask_export", "ask_predict_file"):
        monkeypatch.setattr(dialogs, name, s.make(name))
    return s


@pytest.fixture
def make_window(qtbot, script):
    from modstudio.gui.main_window import MainWindow

    windows = []

    def make(project=None, path=None):
        w = MainWindow(project, path)
        w.resize(1200, 800)
        w.show()
        qtbot.waitExposed(w)
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.document.undo_stack.setClean()  # no close prompt at teardown
        w.close()
        w.deleteLater()


@pytest.fixture
def window(make_window):
    return make_window()


@pytest.fixture
def trained_window(qtbot):
    """A window over a split-digits project of 2 tasks with one expansion run (1 epoch)."""
    import modstudio as ms
    from modstudio.gui.main_window import MainWindow

    project = ms.examples.build_example("split-digits")
    project.tasks[:] = project.tasks[:2]
    ms.train(project, strategy="expansion", epochs=1)
    window = MainWindow(project)
    qtbot.addWidget(window)
    return window


@pytest.fixture
def dataset_dialog(qtbot):
    """The Add Tasks dialog, shown, as it opens (the built-in digits selected)."""
    from modstudio.gui.dataset_dialog import DatasetDialog

    d = DatasetDialog()
    qtbot.addWidget(d)
    d.show()
    qtbot.waitExposed(d)
    return d
