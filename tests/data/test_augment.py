"""A task's augmentation: the spec, its place in the task's metadata and in the project file."""

import numpy as np
import pytest

from modstudio.data import Augmentation, DataError, Task, load_builtin, split_by_class
from modstudio.data.tasks import TASK_FORMAT
from modstudio.graph import CommandStack
from modstudio.project import Project, TrainingSettings, load_project
from modstudio.project.commands import AugmentTask

CROP_FLIP = Augmentation(crop_padding=4, flip=True)


@pytest.mark.parametrize("bad", [{"crop_padding": -1}, {"crop_padding": 65}, {"crop_padding": 2.0},
                                 {"crop_padding": True}, {"flip": 1}, {"flip": "yes"}])
def test_the_spec_refuses_what_it_cannot_do(bad):
    with pytest.raises(DataError, match="augmentation"):
        Augmentation(**bad)


def test_the_spec_in_words_and_as_json():
    assert Augmentation().describe() == "none" and not Augmentation().active
    assert CROP_FLIP.describe() == "crop ±4 px, flip"
    assert Augmentation(flip=True).describe() == "flip"
    assert Augmentation.from_dict(CROP_FLIP.to_dict()) == CROP_FLIP
    assert Augmentation.from_dict({"flip": True}) == Augmentation(flip=True)
    for bad in ([4, True], {"crop_padding": 4, "rotate": 10}, {"crop_padding": "4"}):
        with pytest.raises(DataError):
            Augmentation.from_dict(bad)


@pytest.fixture(scope="module")
def image_tasks():
    return split_by_class(load_builtin("digits"), n_tasks=5)  # 1 × 8 × 8, rebuilt from its recipe


def test_only_image_tasks_take_an_augmentation(image_tasks):
    flat = split_by_class(load_builtin("digits", flat=True), n_tasks=5)[0]
    with pytest.raises(DataError, match=r"channels × height × width.*\(64,\)"):
        flat.with_augmentation(CROP_FLIP)
    assert flat.with_augmentation(Augmentation()).augmentation == Augmentation()  # none is fine anywhere
    task = image_tasks[0]
    changed = task.with_augmentation(CROP_FLIP)
    assert changed is not task and task.augmentation == Augmentation()  # a copy: the original stays
    assert changed.fingerprint == task.fingerprint and changed.train is task.train


def test_the_metadata_holds_it_and_old_metadata_reads_unchanged(image_tasks):
    task = image_tasks[0]
    plain = task.to_dict()
    assert "augmentation" not in plain and plain["format"] == 1  # as before the augmentation existed
    meta = task.with_augmentation(CROP_FLIP).to_dict()
    assert meta["format"] == TASK_FORMAT == 3 and meta["augmentation"] == {"crop_padding": 4, "flip": True}
    again = Task.from_dict(meta, task.arrays())
    assert again.augmentation == CROP_FLIP
    assert Task.from_dict(plain, task.arrays()).augmentation == Augmentation()
    with pytest.raises(DataError, match="needs task format 3"):  # a format-2 reader's file cannot claim it
        Task.from_dict({**meta, "format": 2}, task.arrays())
    with pytest.raises(DataError, match="newer"):
        Task.from_dict({**meta, "format": 4}, task.arrays())
    with pytest.raises(DataError, match="channels × height × width"):
        flat = {k: v.reshape(len(v), -1) if k.endswith("_x") else v for k, v in task.arrays().items()}
        Task.from_dict({**meta, "sample_shape": None}, flat)


@pytest.mark.parametrize("embed", ["always", "never"])
def test_save_and_load_keep_each_tasks_augmentation(tmp_path, image_tasks, embed):
    project = Project.new("augmented")
    project.tasks.extend([image_tasks[0].with_augmentation(CROP_FLIP), image_tasks[1],
                          image_tasks[2].with_augmentation(Augmentation(flip=True))])
    project.settings = TrainingSettings(embed_data=embed)
    loaded = load_project(project.save(tmp_path / "a.modstudio"))
    assert [t.augmentation for t in loaded.tasks] == [CROP_FLIP, Augmentation(), Augmentation(flip=True)]
    assert loaded.warnings == []


def test_an_edit_of_the_augmentation_is_undoable(image_tasks):
    project = Project.new("edit")
    project.tasks.extend(image_tasks[:2])
    stack = CommandStack(project)
    replaced = []
    project.events.task_replaced.connect(lambda i, new, old: replaced.append(i))
    stack.push(AugmentTask(1, CROP_FLIP))
    assert project.tasks[1].augmentation == CROP_FLIP and replaced == [1]
    assert project.tasks[0].augmentation == Augmentation()
    stack.undo()
    assert project.tasks[1] is image_tasks[1] and project.tasks[1].augmentation == Augmentation()
    stack.redo()
    assert project.tasks[1].augmentation == CROP_FLIP
    np.testing.assert_array_equal(project.tasks[1].train.x, image_tasks[1].train.x)
