"""The project's check: what would fail on the first batch is found before training, on the node to
change, naming the tasks and both shapes."""

from __future__ import annotations

import pytest

import modstudio.data as msdata
from modstudio.graph import Graph
from modstudio.graph.check import ErrorKind
from modstudio.project import Project
from modstudio.project.check import check_project


@pytest.fixture(scope="module")
def image_tasks():
    return msdata.split_by_class(msdata.load_builtin("digits"), n_tasks=5)  # samples of 1×8×8


@pytest.fixture(scope="module")
def feature_tasks():
    data = msdata.load_builtin("blobs", n_samples=120, n_features=8, n_classes=4, seed=0)
    return msdata.split_by_class(data, n_tasks=2)  # samples of 8 features


def project_of(tasks, input_shape=(), head_classes=0, flatten=True) -> tuple[Project, dict[str, str]]:
    g = Graph()
    ids = {"input": g.add_node("input", shape=list(input_shape))}
    chain = ([("flatten", "flatten", {})] if flatten else []) + [("linear", "linear", {"out_features": 16}),
                                                                  ("head", "head", {"classes": head_classes})]
    previous = ids["input"]
    for key, kind, params in chain:
        ids[key] = g.add_node(kind, **params)
        g.connect(previous, ids[key])
        previous = ids[key]
    project = Project.new("check")
    project.graph = g
    project.tasks.extend(tasks)
    return project, ids


def test_tasks_that_fit_pass(image_tasks):
    project, _ = project_of(image_tasks)
    report = check_project(project)
    assert report.ok, report.summary()


def test_an_input_shape_typed_by_hand_against_image_tasks_is_an_error_on_the_input(image_tasks):
    project, ids = project_of(image_tasks, input_shape=(64,), flatten=False)
    assert project.graph.check(input_shape=(1, 8, 8), classes=2).ok  # the graph alone cannot see it
    report = check_project(project)
    (error,) = report.errors
    assert error.kind is ErrorKind.TASK_SHAPE and error.node_id == ids["input"]
    assert report.error_for(ids["input"]) is error and error.tasks == (0, 1, 2, 3, 4)
    assert "64" in error.message and "1×8×8" in error.message  # both shapes
    assert "set the shape to 1,8,8" in error.message and "Flatten" in error.message  # what to change


def test_tasks_of_different_shapes_are_an_error_naming_the_odd_tasks(image_tasks, feature_tasks):
    project, ids = project_of([*image_tasks[:2], *feature_tasks])
    report = check_project(project)
    (error,) = report.task_errors()
    assert error.node_id == ids["input"] and error.tasks == (2, 3)
    assert "tasks 3 and 4" in error.message and "8 but the network takes 1×8×8" in error.message
    assert "remove them" in error.message


def test_a_head_of_fixed_width_against_tasks_of_other_widths(image_tasks):
    project, ids = project_of(image_tasks, head_classes=10)
    report = check_project(project)
    (error,) = report.errors
    assert error.kind is ErrorKind.TASK_CLASSES and error.node_id == ids["head"] and len(error.tasks) == 5
    assert "set to 10" in error.message and "have 2" in error.message and "classes to 0" in error.message


def test_no_tasks_is_the_graph_check_alone():
    project, _ = project_of([], input_shape=(64,), head_classes=3, flatten=False)
    assert check_project(project).ok
    project, _ = project_of([], flatten=False)
    assert check_project(project).errors == project.graph.check().errors  # shapes wait for a task


def test_a_typed_shape_no_task_has_points_at_the_input_first(image_tasks, feature_tasks):
    project, ids = project_of([*image_tasks[:2], *feature_tasks], input_shape=(64,), flatten=False)
    first, odd = check_project(project).errors
    assert first.node_id == ids["input"] and "set to 64" in first.message and "set the shape to 1,8,8" in first.message
    assert "task 1 “digits 0-1” has samples of 1×8×8" in first.message
    assert odd.tasks == (2, 3) and "the network takes 1×8×8, the shape of task 1" in odd.message
