"""Normalised tasks in the project: one undoable command, kept in the file whether the data is
embedded or rebuilt from its recipe, and trained as bytes on the device (one map for all)."""

from __future__ import annotations

import pytest

import modstudio as ms
from modstudio.data import DataError
from modstudio.data.tasks import normalize_tasks
from modstudio.graph.commands import CommandStack
from modstudio.project import load_project
from modstudio.project.commands import NormalizeTasks
from tests.data.benchmark_files import benchmark_env  # noqa: F401  (fixture)


@pytest.fixture
def cifar(benchmark_env):  # noqa: F811
    """The split CIFAR-10 example on the small fake CIFAR-10: 5 byte tasks rebuilt from a recipe."""
    from modstudio.data.benchmarks import get

    get("cifar10")
    return ms.examples.build_example("split-cifar10")


def test_one_undoable_step_normalises_the_selected_tasks_together(cifar):
    before = list(cifar.tasks)
    stack = CommandStack(cifar)
    stack.push(NormalizeTasks([1, 3]))
    assert stack.undo_text == "normalise tasks"
    tasks = cifar.tasks
    assert tasks[0] is before[0] and tasks[2] is before[2] and tasks[4] is before[4]
    assert tasks[1].values == tasks[3].values != before[1].values
    assert tasks[1].normalization == normalize_tasks([before[1], before[3]])[0].normalization
    assert tasks[1].augmentation == before[1].augmentation  # the example's crop and flip stay
    stack.undo()
    assert list(cifar.tasks) == before
    stack.redo()
    assert cifar.tasks[1].values == cifar.tasks[3].values != before[1].values
    stack.push(NormalizeTasks([1, 3], on=False))
    assert [t.fingerprint for t in cifar.tasks] == [t.fingerprint for t in before]
    assert [t.values for t in cifar.tasks] == [t.values for t in before]


def test_a_float_task_is_refused_before_anything_changes():
    project = ms.examples.build_example("split-digits")
    before = list(project.tasks)
    with pytest.raises(DataError, match="stored as float features"):
        CommandStack(project).push(NormalizeTasks([0, 1]))
    assert list(project.tasks) == before


@pytest.mark.parametrize("embed", ["always", "never"])
def test_normalised_tasks_survive_save_and_load(cifar, tmp_path, embed):
    cifar.tasks[:] = normalize_tasks(cifar.tasks)
    cifar.configure(embed_data=embed)
    path = cifar.save(tmp_path / f"{embed}.modstudio")
    loaded = load_project(path, strict=True)  # strict: a rebuilt task whose fingerprint differs is refused
    assert loaded.warnings == []
    assert [t.fingerprint for t in loaded.tasks] == [t.fingerprint for t in cifar.tasks]
    assert [t.normalization for t in loaded.tasks] == [t.normalization for t in cifar.tasks]
    assert len({t.values for t in loaded.tasks}) == 1
    assert [t.name for t in loaded.tasks] == [t.name for t in cifar.tasks]
    imported = normalize_tasks(loaded.tasks, on=False)
    assert [t.values for t in imported] == [ms.data.UNIT] * 5


def test_tasks_normalised_together_train_as_bytes_on_the_device(cifar):
    cifar.tasks[:] = normalize_tasks(cifar.tasks[:2])
    result = ms.train(cifar, epochs=1, strategy="finetune", device="cpu")
    assert result.run.status == "finished"
    assert result.trainer.values == cifar.tasks[0].values  # one map: the bytes stay bytes
    assert str(result.trainer.data[0].train_x.dtype) == "torch.uint8"
