"""File → Export offers Python code: the .py file and its weights beside it, both reported."""

from modstudio.gui import dialogs
from modstudio.gui.export_dialog import FORMATS
from tests.gui.test_export_action import choose


def test_the_dialog_offers_python_code():
    assert ("python", ".py") in [(key, suffix) for key, _, suffix in FORMATS]


def test_export_to_python_writes_code_and_weights(trained_window, tmp_path, monkeypatch, qtbot):
    target = tmp_path / "model.py"
    shown, filters = [], []
    choose(monkeypatch, "python")

    def ask(parent, title, suggested, given):
        filters.append(given)
        return str(target)

    monkeypatch.setattr(dialogs, "ask_save_file", ask)
    monkeypatch.setattr(dialogs, "show_info", lambda parent, title, text: shown.append((title, text)))
    trained_window.export()
    qtbot.waitUntil(lambda: bool(shown), timeout=120_000)
    assert filters[0].startswith("Python code (PyTorch) + safetensors weights (*.py)")
    assert shown[0][0] == "Export finished" and "python" in shown[0][1]
    assert "model.py" in shown[0][1] and "model.safetensors" in shown[0][1]
    source = target.read_text()
    assert "class AllTasks(nn.Module)" in source and "def forward(self, x: torch.Tensor, task: int)" in source
    assert (tmp_path / "model.safetensors").exists()
