"""File → Export's question: run, tasks and format in one dialog, before the file name."""

from __future__ import annotations

import dataclasses

from modstudio.gui.export_dialog import FORMATS, ExportDialog, ExportQuestion
from modstudio.project import Run


def run_of(trained: int, scenario: str = "task", strategy: str = "expansion", acc=0.9, **params) -> Run:
    run = Run(strategy=strategy, status="finished", settings={"scenario": scenario, "strategy_params": params},
              paths=[{"n": t} for t in range(trained)], weights={})
    return dataclasses.replace(run, metrics=dataclasses.replace(run.metrics, acc=acc))


def dialog_for(qtbot, runs, selected, names=("digits 0-1", "digits 2-3", "digits 4-5")) -> ExportDialog:
    dialog = ExportDialog(ExportQuestion(runs, selected.id, list(names)))
    qtbot.addWidget(dialog)
    return dialog


def test_the_formats_are_the_exporters_own():
    from modstudio.learn.export import FORMATS as EXPORTERS

    assert {key: suffix for key, _, suffix in FORMATS} == EXPORTERS


def test_it_offers_the_chosen_run_its_trained_tasks_and_every_format(qtbot):
    first, second = run_of(3), run_of(2, acc=None)
    dialog = dialog_for(qtbot, [first, second], second)
    assert dialog.run_combo.currentIndex() == 1 and second.id[:8] in dialog.run_combo.currentText()
    assert [dialog.task_combo.itemText(i) for i in range(dialog.task_combo.count())] == [
        "Every trained task (one model with a task input)", "Task 1: digits 0-1", "Task 2: digits 2-3"]
    assert dialog.format_combo.count() == len(FORMATS)
    dialog.task_combo.setCurrentIndex(2)
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("torchscript"))
    choice = dialog.choice()
    assert (choice.run_id, choice.task, choice.format, choice.suffix) == (second.id, 1, "torchscript", ".pt")
    dialog.run_combo.setCurrentIndex(0)
    assert dialog.task_combo.count() == 4 and dialog.choice() == dataclasses.replace(choice, run_id=first.id, task=None)


def test_choices_the_run_cannot_take_are_off_with_the_reason(qtbot):
    task_run, unified = run_of(3), run_of(3, scenario="class", task_inference="unified")
    dialog = dialog_for(qtbot, [task_run, unified], task_run)
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("safetensors"))
    assert not dialog.task_combo.isEnabled() and "every task" in dialog.note.text()
    assert dialog.choice().task is None
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("python"))
    dialog.run_combo.setCurrentIndex(1)  # class-incremental expansion: one unified classifier
    python = dialog.format_combo.model().item(dialog.format_combo.findData("python"))
    assert not python.isEnabled() and dialog.choice().format == "onnx"
    assert not dialog.task_combo.isEnabled() and "one classifier" in dialog.note.text()
