"""``modstudio info`` says which tasks are normalised, and by what mean and sd."""

import json

import modstudio as ms
from modstudio.cli import main
from modstudio.data.tasks import normalize_tasks
from tests.data.benchmark_files import benchmark_env  # noqa: F401  (fixture)


def test_info_shows_the_normalisation(benchmark_env, tmp_path, capsys):  # noqa: F811
    from modstudio.data.benchmarks import get

    get("cifar10")
    project = ms.examples.build_example("split-cifar10")
    project.tasks[:2] = normalize_tasks(project.tasks[:2])
    mean, sd = project.tasks[0].normalization.mean, project.tasks[0].normalization.sd
    path = project.save(tmp_path / "c.modstudio")
    capsys.readouterr()
    assert main(["info", str(path)]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "train/val/test" in line]
    figures = "; ".join(f"{m:.4g}/{s:.4g}" for m, s in zip(mean, sd))
    assert all(line.endswith(f"augmentation: crop ±4 px, flip  normalised: mean/sd {figures}") for line in lines[:2])
    assert all(line.endswith("augmentation: crop ±4 px, flip") for line in lines[2:]) and len(lines) == 5
    assert main(["info", str(path), "--json"]) == 0
    tasks = json.loads(capsys.readouterr().out)["tasks"]
    assert [t["normalize"] is None for t in tasks] == [False, False, True, True, True]
    assert tasks[0]["normalize"]["mean"] == list(mean) and tasks[0]["normalize"]["imported"]["divisor"] == 255.0
