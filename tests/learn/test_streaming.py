"""Training on data mapped from the project file: no copy on the CPU, streamed batches on a GPU,
and a dataset twice the process's memory limit trained to the matrix of in-memory training."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

import modstudio.data as msdata
from modstudio.learn import streaming
from modstudio.learn.streaming import HostStream
from modstudio.learn.trainer import Trainer
from modstudio.project import load_project
from tests.project.test_mapped_data import byte_task, project_file


def _run(project, **settings):
    project.configure(strategy="finetune", epochs=2, batch_size=64, **settings)
    trainer = Trainer(project.graph, project.tasks, project.settings)
    run = trainer.run()
    assert run.status == "finished", run.message
    return trainer, run


def float_task(name, seed):
    """``byte_task``'s samples as float32 features (a float task is mapped and trained the same way)."""
    task = byte_task(name, seed=seed)

    def split(s):
        return msdata.Split(s.floats(), s.y)

    return msdata.Task(name, task.classes, task.class_names, split(task.train), split(task.val), split(task.test))


@pytest.mark.parametrize("make", [byte_task, float_task], ids=["bytes", "floats"])
def test_on_the_cpu_a_mapped_split_is_trained_from_the_map_itself(tmp_path, make):
    path = project_file(tmp_path, [make("a", seed=0), make("b", seed=1)])
    trainer, mapped = _run(load_project(path, map_data=True), device="cpu")
    for task, data in zip(trainer.tasks, trainer.data):
        assert data.train_x.data_ptr() == task.train.x.ctypes.data  # the file's pages: no copy at all
        assert data.test_x.data_ptr() == task.test.x.ctypes.data
    _, read = _run(load_project(path, map_data=False), device="cpu")
    assert mapped.acc_matrix == read.acc_matrix


def test_training_refuses_a_file_changed_under_its_map(tmp_path):
    path = project_file(tmp_path)
    project = load_project(path, map_data=True)
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size - 1)  # a mapped read past the new end would crash (SIGBUS)
    project.configure(strategy="finetune", epochs=1, device="cpu")
    run = Trainer(project.graph, project.tasks, project.settings).run()
    assert run.status == "failed" and "changed on disk" in run.message


def test_the_host_stream_gives_the_rows_asked_for_and_prefetches_the_next():
    x = torch.arange(1000 * 3).reshape(1000, 3)
    stream = HostStream(torch.device("cpu"))
    order = torch.randperm(1000, generator=torch.Generator().manual_seed(0))
    for b in range(0, 1000, 128):  # as Trainer.fit slices its batches
        assert torch.equal(stream.batch(x, order[b:b + 128]), x[order[b:b + 128]])
    assert stream.prefetched == 7  # every batch after the first
    for start in range(0, 1000, 300):
        assert torch.equal(stream.rows(x, start, min(start + 300, 1000)), x[start:start + 300])
    assert stream.prefetched == 10
    assert torch.equal(stream.batch(x, torch.tensor([5, 1, 3])), x[[5, 1, 3]])  # not a slice: no prefetch


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_on_a_gpu_a_mapped_split_too_big_for_it_streams_to_the_same_matrix(tmp_path, monkeypatch):
    path = project_file(tmp_path, [byte_task("a", seed=0), byte_task("b", seed=1)])
    monkeypatch.setattr(streaming, "DEVICE_SHARE", 0.0)  # every mapped split "does not fit"
    trainer, streamed = _run(load_project(path, map_data=True), device="cuda")
    assert trainer.data[0].train_x.device.type == "cpu" and trainer._stream.prefetched > 0
    monkeypatch.setattr(streaming, "DEVICE_SHARE", 1.0)
    trainer, resident = _run(load_project(path, map_data=False), device="cuda")
    assert trainer.data[0].train_x.device.type == "cuda"
    np.testing.assert_allclose(np.array(streamed.acc_matrix, float), np.array(resident.acc_matrix, float))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_DATA counts file maps apart since Linux 4.7")
def test_a_dataset_twice_the_memory_limit_trains_to_the_matrix_of_in_memory_training(tmp_path):
    from modstudio.mapped_bench import run_child, write_project

    limit_mb = 100
    path = tmp_path / "big.modstudio"
    data = write_project(path, 2 * limit_mb, tmp_path)
    assert data >= 2 * limit_mb * 2**20 * 0.99
    limited = run_child(path, limit_mb)
    assert "not enough memory" in limited["in_memory"]  # the limit is real: read into memory, it fails
    assert limited["status"] == "finished", limited["message"]
    free = run_child(path, 0)  # no limit, read into memory
    assert free["status"] == "finished"
    assert limited["acc_matrix"] == free["acc_matrix"]
    assert limited["acc_matrix"][-1] != limited["acc_matrix"][0]  # it learned something
