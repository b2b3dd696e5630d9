"""Evaluation a chunk at a time: the trainer, ``modstudio evaluate`` and the lesion study map a
split's bytes to floats at most EVAL_BYTES at once, and count exactly as a whole-split pass would."""

import numpy as np
import pytest
import torch

import modstudio as ms
import modstudio.data as msdata
from modstudio.data.tasks import Split
from modstudio.graph import Graph
from modstudio.learn.chunks import EVAL_BATCH, EVAL_BYTES, float_chunks, step_for
from modstudio.learn.evaluation import evaluate_run, restored
from modstudio.learn.lesion import task_accuracies
from modstudio.project import Project, TrainingSettings

SHAPE = (1, 64, 64)  # 16 KiB of floats a sample: 512 to a chunk


def _split(rng, count):
    x = rng.integers(0, 256, (count, *SHAPE), dtype=np.uint8)
    return Split(msdata.Encoded(x, msdata.UNIT), (x[:, 0, 0, :8].mean(1) >= 128).astype(np.int64))


@pytest.fixture(scope="module")
def big_image_run():
    rng = np.random.default_rng(0)
    tasks = [msdata.Task(f"t{i}", [0, 1], ["dark", "light"], _split(rng, 200), _split(rng, 20), _split(rng, 1100))
             for i in range(2)]
    g = Graph()
    nodes = [g.add_node("input"), g.add_node("flatten"), g.add_node("head")]
    for a, b in zip(nodes, nodes[1:]):
        g.connect(a, b)
    project = Project(name="big images", graph=g, tasks=tasks)
    project.settings = TrainingSettings(strategy="finetune", epochs=1, batch_size=50, lr=1e-2)
    run = ms.train(project).run
    assert run.status == "finished", run.message
    return project, run


@pytest.fixture
def rows_mapped(monkeypatch):
    """How many rows each call of ``Split.floats`` mapped."""
    seen = []
    floats = Split.floats

    def counting(self, rows=slice(None)):
        out = floats(self, rows)
        seen.append(len(out))
        return out

    monkeypatch.setattr(Split, "floats", counting)
    return seen


def test_chunks_of_a_split_are_its_features_and_bounded():
    split = _split(np.random.default_rng(1), 1100)
    chunks = list(float_chunks(split))
    assert [len(c) for c in chunks] == [512, 512, 76]
    assert all(c.dtype == torch.float32 and c.nelement() * 4 <= EVAL_BYTES for c in chunks)
    assert torch.equal(torch.cat(chunks), torch.from_numpy(split.floats()))
    features = split.floats()
    assert torch.equal(torch.cat(list(float_chunks(features))), torch.from_numpy(features))  # an array as well
    assert step_for((64,)) == EVAL_BATCH


def test_evaluate_counts_as_the_run_did_without_a_whole_split_of_floats(big_image_run, rows_mapped):
    project, run = big_image_run
    result = evaluate_run(project, run)
    assert [view.accuracy for view in result.tasks] == pytest.approx(run.acc_matrix[-1])
    assert rows_mapped and max(rows_mapped) <= 512


def test_the_lesion_studys_accuracies_are_the_runs_without_a_whole_split_of_floats(big_image_run, rows_mapped):
    project, run = big_image_run
    assert task_accuracies(restored(project, run), project.tasks) == pytest.approx(run.acc_matrix[-1])
    assert rows_mapped and max(rows_mapped) <= 512
