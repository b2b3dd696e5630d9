"""The studio's side of the training settings: every declared setting has an editor (the run panel
builds the ones without a row of their own from their specs), and a run evaluated only after each
task draws from the matrix where it has no per-epoch accuracies."""

from __future__ import annotations

from modstudio.project import Run
from modstudio.project.settings import SETTING_SPECS


def test_the_run_panel_builds_an_editor_for_every_other_setting(window):
    from modstudio.gui.training.run_panel import RunPanel

    panel = window.training.panel.run_panel
    built = set(SETTING_SPECS) - set(RunPanel.OWN_ROWS) - set(RunPanel.NOT_HERE)
    assert set(panel.setting_widgets) == built >= {"lr_schedule", "lr_step_epochs", "lr_step_factor",
                                                    "early_stopping_patience", "reset_optimizer", "evaluate"}
    for name in ("lr_schedule", "evaluate"):
        combo = panel.setting_widgets[name]
        assert tuple(combo.itemData(i) for i in range(combo.count())) == SETTING_SPECS[name].choices
    settings = lambda: window.document.project.settings  # noqa: E731
    reset = panel.setting_widgets["reset_optimizer"]
    assert reset.currentData() is True
    reset.setCurrentIndex(reset.findData(False))
    reset.activated.emit(reset.currentIndex())
    panel.setting_widgets["early_stopping_patience"].setValue(3)
    assert settings().reset_optimizer is False and settings().early_stopping_patience == 3
    window.undo_action.trigger()
    window.undo_action.trigger()
    assert settings().reset_optimizer is True and settings().early_stopping_patience == 0
    assert reset.currentData() is True and panel.setting_widgets["early_stopping_patience"].value() == 0
    assert set(window.inspector.project_page.setting_widgets) == set(RunPanel.NOT_HERE)  # the file's own


def _run_evaluated_per_task() -> Run:
    matrix = [[0.5, 0.5], [0.9, 0.4], [0.8, 0.95]]
    curves = [{"task": t, "epoch": e, "fraction": (t + (e + 1) / 2) / 2, "loss": 0.5, "acc": [], "lr": 1e-3}
              for t in range(2) for e in range(2)]
    return Run(strategy="finetune", acc_matrix=matrix, curves=curves, status="finished",
               params_per_task=[10, 10], paths=[{}, {}])


def test_a_run_without_per_epoch_accuracies_draws_retention_from_the_matrix():
    from modstudio.gui.training.state import LiveRun

    state = LiveRun.from_run(_run_evaluated_per_task(), ["a", "b"])
    assert state.retention[0] == ([0.0, 1.0, 2.0], [0.5, 0.9, 0.8])  # start, its end, the next task's end
    assert state.retention[1] == ([1.0, 2.0], [0.4, 0.95])
    assert state.epoch_loss_y == [0.5] * 4  # the loss still has its per-epoch points


def test_the_runs_overlay_uses_the_matrix_rows_then(qtbot):
    from modstudio.gui.training.runs_table import mean_seen_accuracy

    xs, ys = mean_seen_accuracy(_run_evaluated_per_task())
    assert xs.tolist() == [1.0, 2.0] and ys.tolist() == [0.9, (0.8 + 0.95) / 2]
