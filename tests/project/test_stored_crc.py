"""Weights are written with their CRC-32 computed beside the write: the archive must still verify."""

import zipfile

import numpy as np

from modstudio.project import Project, Run, load_project
from modstudio.project.archive import _crc32_of


def test_weights_member_crc_matches_its_bytes(tmp_path):
    project = Project.new("crc")
    g = project.graph
    x = g.add_node("input", shape=(16,))
    h = g.add_node("linear", out_features=8)
    head = g.add_node("head", classes=3)
    g.connect(x, h)
    g.connect(h, head)
    rng = np.random.default_rng(1)
    weights = {f"bank/{h}/0/weight": rng.standard_normal((8, 16), np.float32),
               f"bank/{h}/0/bias": rng.standard_normal(8, np.float32),
               f"bank/{head}/0/weight": rng.standard_normal((3, 8), np.float32),
               f"bank/{head}/0/bias": rng.standard_normal(3, np.float32)}
    project.runs.append(Run(strategy="finetune", status="finished", weights=weights))
    path = project.save(tmp_path / "p.modstudio")
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None  # every member's bytes match its recorded CRC-32
        member = next(n for n in archive.namelist() if n.startswith("weights/"))
        assert archive.getinfo(member).CRC == _crc32_of([memoryview(archive.read(member))])
    loaded = load_project(path).runs[0].weights
    assert all(np.array_equal(loaded[k], weights[k]) for k in weights)
