"""The CIFAR examples train with crop + flip, kept in the file and shown by ``modstudio info``."""

import json

import modstudio as ms
from modstudio.cli import main
from modstudio.data import Augmentation
from tests.data.benchmark_files import benchmark_env  # noqa: F401  (fixture)


def test_the_cifar10_example_crops_and_flips_and_info_says_so(benchmark_env, tmp_path, capsys):
    from modstudio.data.benchmarks import get

    get("cifar10")
    project = ms.examples.build_example("split-cifar10")
    assert {t.augmentation for t in project.tasks} == {Augmentation(crop_padding=4, flip=True)}
    path = project.save(tmp_path / "c.modstudio")
    assert {t.augmentation for t in ms.load_project(path).tasks} == {Augmentation(crop_padding=4, flip=True)}
    capsys.readouterr()
    assert main(["info", str(path)]) == 0
    task_lines = [line for line in capsys.readouterr().out.splitlines() if "train/val/test" in line]
    assert len(task_lines) == 5 and all(line.endswith("augmentation: crop ±4 px, flip") for line in task_lines)
    assert main(["info", str(path), "--json"]) == 0
    tasks = json.loads(capsys.readouterr().out)["tasks"]
    assert [t["augmentation"] for t in tasks] == [{"crop_padding": 4, "flip": True}] * 5


def test_info_shows_nothing_for_a_task_without_augmentation(tmp_path, capsys):
    project = ms.examples.build_example("split-digits")
    path = project.save(tmp_path / "d.modstudio")
    assert main(["info", str(path), "--json"]) == 0
    assert all(t["augmentation"] is None for t in json.loads(capsys.readouterr().out)["tasks"])
    assert main(["info", str(path)]) == 0
    assert "augmentation" not in capsys.readouterr().out
