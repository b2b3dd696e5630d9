"""Shared test set-up: Qt offscreen, and tiny fixtures every layer's tests can use."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MODSTUDIO_NO_OPENGL", "1")

import pytest  # noqa: E402

from modstudio.graph import Graph  # noqa: E402


@pytest.fixture
def tiny_graph() -> Graph:
    """input(64) → linear(32) → relu → head(10): the smallest useful network."""
    g = Graph()
    x = g.add_node("input", shape=(64,), pos=(0, 0))
    h = g.add_node("linear", out_features=32, pos=(200, 0))
    a = g.add_node("relu", pos=(400, 0))
    head = g.add_node("head", classes=10, pos=(600, 0))
    g.connect(x, h)
    g.connect(h, a)
    g.connect(a, head)
    return g
