"""Fixtures for the project-file tests: a small real project, hostile-archive helpers."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

import modstudio.data as msdata
from modstudio.graph import Graph
from modstudio.project import Project, Run, RunMetrics, TrainingSettings


@pytest.fixture(autouse=True)
def _data_dir(tmp_path, monkeypatch):
    """No test may touch the real per-user data folder."""
    monkeypatch.setenv("MODSTUDIO_DATA_DIR", str(tmp_path / "userdata"))


@pytest.fixture(scope="session")
def digit_tasks():
    return msdata.split_by_class(msdata.load_builtin("digits", flat=True), n_tasks=5)


def tiny_task(name: str = "tiny", seed: int = 0) -> msdata.Task:
    """A task built in code (no origin, so always embedded) small enough for byte fuzzing."""
    rng = np.random.default_rng(seed)

    def split(n):
        return msdata.Split(rng.standard_normal((n, 4)).astype(np.float32), np.arange(n) % 2)

    return msdata.Task(name, [0, 1], ["a", "b"], split(6), split(2), split(2))


def make_graph(features: int = 64) -> tuple[Graph, dict[str, str]]:
    g = Graph()
    ids = {
        "input": g.add_node("input", shape=(features,)),
        "linear": g.add_node("linear", out_features=8),
        "relu": g.add_node("relu"),
        "head": g.add_node("head"),
    }
    g.connect(ids["input"], ids["linear"])
    g.connect(ids["linear"], ids["relu"])
    g.connect(ids["relu"], ids["head"])
    return g, ids


def make_weights(ids: dict[str, str], tasks, features: int = 64, seed: int = 0) -> dict[str, np.ndarray]:
    """A module bank that fits make_graph: two linear instances and one head per task."""
    rng = np.random.default_rng(seed)
    w = {}
    for i in range(2):
        w[f"bank/{ids['linear']}/{i}/weight"] = rng.standard_normal((8, features)).astype(np.float32)
        w[f"bank/{ids['linear']}/{i}/bias"] = rng.standard_normal(8).astype(np.float32)
    for t, task in enumerate(tasks):
        w[f"bank/{ids['head']}/{t}/weight"] = rng.standard_normal((task.num_classes, 8)).astype(np.float32)
        w[f"bank/{ids['head']}/{t}/bias"] = np.full(task.num_classes, np.nan, np.float32)
    w["extra/ewc/fisher"] = rng.random((3, 3)).astype(np.float64)
    w["extra/step"] = np.array(7, np.int64)
    return w


def make_run(ids, tasks, weights: bool = True, features: int = 64, **kw) -> Run:
    n = len(tasks)
    return Run(
        strategy="expansion", settings={"epochs": 1, "lr": 0.01}, started="2025-01-02T03:04:05+00:00",
        ended="2025-01-02T03:05:00+00:00", status="finished", message="done",
        curves=[{"task": t, "epoch": 0, "loss": 0.5 / (t + 1), "acc": [0.9] * (t + 1)} for t in range(n)],
        acc_matrix=[[None] * n] + [[0.9 if j <= i else 0.5 for j in range(n)] for i in range(n)],
        metrics=RunMetrics(tasks_trained=n, acc=0.9, bwt=-0.01, fwt=None, forgetting=0.1,
                           final_accuracies=[0.9] * n, seconds_per_task=[0.5] * n, bank_sizes={ids["linear"]: 2}),
        # as the trainer records them: an instance of every node but the input (stateless ones: 0)
        paths=[{ids["linear"]: min(t, 1), ids["relu"]: 0, ids["head"]: t} for t in range(n)],
        params_per_task=[8 * 64 + 8 + 18] * n,
        weights=make_weights(ids, tasks, features) if weights else None,
        **kw,
    )


def make_project(tasks=(), runs: int = 1, weights: bool = True, embed: str = "auto", features: int = 64) -> Project:
    graph, ids = make_graph(features)
    project = Project(name="Split digits ✓", graph=graph, tasks=list(tasks),
                      settings=TrainingSettings(strategy="ewc", epochs=3, embed_data=embed,
                                                strategy_params={"lambda": 100.0}))
    project.runs = [make_run(ids, project.tasks, weights, features) for _ in range(runs)]
    return project


def read_members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def write_zip(path: Path, members, compress: bool = True) -> Path:
    """An archive with exactly these (name, bytes) members — hostile ones included."""
    items = members.items() if isinstance(members, dict) else members
    with zipfile.ZipFile(path, "w") as z:
        for name, data in items:
            info = name if isinstance(name, zipfile.ZipInfo) else zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
            z.writestr(info, data)
    return path


def zip_bytes(members, compress: bool = True) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buffer.getvalue()
