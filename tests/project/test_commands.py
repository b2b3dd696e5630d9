"""The evented project and its Qt-free edits: typed events on every real change, undo through the
same CommandStack the graph uses (do → undo → compare → redo)."""

from __future__ import annotations

import numpy as np
import pytest

from modstudio.graph.commands import AddNode, CommandStack, Macro
from modstudio.project import Project, SettingsError, TrainingSettings
from modstudio.project.commands import (AddRun, AddTasks, ChangeSettings, MoveTask, RemoveTasks, RenameProject,
                                        RenameTask)
from modstudio.project.run import Run

from .conftest import tiny_task


def recorded(project):
    events = []
    project.events.connect_all(lambda name, payload: events.append((name, payload)))
    return events


def test_project_events_fire_once_per_real_change():
    project = Project.new("p")
    events = recorded(project)
    project.name = "p"  # unchanged
    project.settings = TrainingSettings()  # equal: no change
    assert events == []
    project.name = "q"
    old = project.settings
    new = project.configure(epochs=9)
    a, b = tiny_task(), tiny_task()
    project.tasks.extend([a, b])
    project.tasks[1] = b  # the same object: no change
    del project.tasks[0]
    run = Run(strategy="finetune")
    project.runs.append(run)
    assert events == [
        ("name_changed", ("q",)),
        ("settings_changed", (new, old)),
        ("task_added", (0, a)), ("task_added", (1, b)),
        ("task_removed", (0, a)),
        ("run_added", (0, run)),
    ]
    assert project.tasks == [b] and project.runs == [run]


def test_settings_are_a_checked_value_changed_only_through_the_project():
    project = Project.new("p")
    with pytest.raises(AttributeError):
        project.settings.epochs = 3  # frozen: a silent change would reach no view
    settings = project.configure(lr=np.float32(0.5), epochs=np.int64(2))
    assert type(settings.lr) is float and settings.lr == 0.5 and type(settings.epochs) is int
    for bad, message in (({"lr": "0.1"}, "lr must be a finite number"), ({"batch_size": 1.5}, "whole number"),
                         ({"scenario": "sideways"}, "scenario must be one of task, class"),
                         ({"epochs": 0}, "below the minimum 1"), ({"strategy_params": "abc"}, "strategy_params"),
                         ({"colour": "red"}, "unknown training setting 'colour'")):
        with pytest.raises(SettingsError, match=message):
            project.configure(**bad)
    assert project.settings == settings  # nothing half-applied


def test_project_and_graph_edits_share_one_undo_history():
    project = Project.new("p")
    stack = CommandStack(project)
    snapshots = []

    def snapshot():
        return (project.name, project.settings, [t.name for t in project.tasks], len(project.runs),
                project.graph.to_dict())

    a, b = tiny_task("first"), tiny_task("second")
    commands = [AddTasks([a, b]), RenameTask(1, "renamed"), MoveTask(1, 0), ChangeSettings(epochs=7, lr=0.1),
                RenameProject("new name"), AddRun(Run(strategy="ewc")), AddNode("relu"),
                Macro([RemoveTasks([0]), ChangeSettings(seed=3)], "both"), ]
    for command in commands:
        snapshots.append(snapshot())
        stack.push(command)
    final = snapshot()
    assert final[0] == "new name" and final[1].epochs == 7 and final[1].seed == 3 and final[2] == [a.name]
    for expected in reversed(snapshots):
        stack.undo()
        assert snapshot() == expected
    for _ in commands:
        stack.redo()
    assert snapshot() == final


def test_a_refused_settings_edit_changes_nothing():
    project = Project.new("p")
    stack = CommandStack(project)
    with pytest.raises(SettingsError):
        stack.push(ChangeSettings(epochs=-1))
    assert len(stack) == 0 and project.settings == TrainingSettings()
