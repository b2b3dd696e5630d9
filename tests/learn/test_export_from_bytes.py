"""An export of tasks stored as bytes says how a deployed model's inputs are made from bytes: the
tasks' value mapping (a folder's scaling, a normalisation by the data's mean/sd) in the metadata of
every format and in the Python file's docstring; tasks of float features say "none", as before."""

from __future__ import annotations

import numpy as np

import modstudio as ms
from modstudio.data import UNIT, Encoded, Split, Task
from modstudio.data.tasks import normalize_tasks
from modstudio.learn.export import export
from modstudio.project import Project, TrainingSettings


def _byte_project() -> Project:
    rng = np.random.default_rng(0)
    tasks = []
    for t in range(2):
        x = rng.integers(0, 256, size=(48, 1, 8, 8), dtype=np.uint8)
        y = np.arange(48) % 2
        tasks.append(Task(f"t{t}", [2 * t, 2 * t + 1], ["a", "b"], Split(Encoded(x[:32], UNIT), y[:32]),
                          Split(Encoded(x[32:40], UNIT), y[32:40]), Split(Encoded(x[40:], UNIT), y[40:])))
    project = Project.new("bytes")
    g = project.graph
    nodes = [g.add_node("input"), g.add_node("flatten"), g.add_node("mlp_block", hidden=[16]), g.add_node("head")]
    for a, b in zip(nodes, nodes[1:]):
        g.connect(a, b)
    project.tasks.extend(normalize_tasks(tasks))
    project.settings = TrainingSettings(strategy="finetune", epochs=1, batch_size=16)
    return project


def test_the_metadata_and_the_python_file_carry_the_byte_mapping(tmp_path):
    project = _byte_project()
    ms.train(project)
    values = project.tasks[0].values
    done = export(project, tmp_path / "all.safetensors", all_tasks=True)
    meta = done.metadata
    assert meta["input"]["normalization"] == "from_bytes"
    assert [t["from_bytes"] for t in meta["tasks"]] == [values.to_dict()] * 2
    export(project, tmp_path / "model.py", task=0)
    text = (tmp_path / "model.py").read_text()
    shift, spread = values.shift[0], values.spread[0]
    assert f"x = (byte / 255 − {shift:.4g}) / {spread:.4g}" in text
