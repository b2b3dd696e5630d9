"""Tiny task sequences for training tests: seconds, not minutes, on two cores."""

import pytest

from modstudio.data import load_builtin, split_by_class
from modstudio.graph import Graph
from modstudio.project import Project, TrainingSettings


def mlp_graph(hidden=(16,)) -> Graph:
    g = Graph()
    x = g.add_node("input")
    m = g.add_node("mlp_block", hidden=list(hidden))
    h = g.add_node("head")
    g.connect(x, m)
    g.connect(m, h)
    return g


@pytest.fixture(scope="session")
def blob_tasks():
    """3 tasks of 2 classes from 6 Gaussian blobs in 8-D."""
    data = load_builtin("blobs", n_samples=360, n_features=8, n_classes=6, spread=1.5, seed=3)
    return split_by_class(data, n_tasks=3)


@pytest.fixture
def tiny_project(blob_tasks):
    project = Project.new("tiny")
    project.graph = mlp_graph()
    project.tasks.extend(blob_tasks)
    project.settings = TrainingSettings(strategy="finetune", epochs=2, batch_size=32, lr=1e-2)
    return project
