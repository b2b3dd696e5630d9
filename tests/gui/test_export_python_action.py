"""File → Export offers Python code: the .py file and its weights beside it, both reported."""

from modstudio.gui import dialogs
from modstudio.gui.exporting import EXPORT_FILTERS


def test_the_dialog_offers_python_code():
    assert "Python code (*.py)" in EXPORT_FILTERS.split(";;")


def test_export_to_python_writes_code_and_weights(trained_window, tmp_path, monkeypatch, qtbot):
    target = tmp_path / "model.py"
    shown, filters = [], []

    def ask(parent, title, suggested, given):
        filters.append(given)
        return str(target)

    monkeypatch.setattr(dialogs, "ask_save_file", ask)
    monkeypatch.setattr(dialogs, "show_info", lambda parent, title, text: shown.append((title, text)))
    trained_window.export()
    qtbot.waitUntil(lambda: bool(shown), timeout=120_000)
    assert "Python code (*.py)" in filters[0]
    assert shown[0][0] == "Export finished" and "python" in shown[0][1]
    assert "model.py" in shown[0][1] and "model.safetensors" in shown[0][1]
    source = target.read_text()
    assert "class AllTasks(nn.Module)" in source and "def forward(self, x: torch.Tensor, task: int)" in source
    assert (tmp_path / "model.safetensors").exists()
