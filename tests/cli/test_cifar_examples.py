"""The CIFAR examples end to end from the CLI: listed with what they need, then, once the benchmark
is here, written by ``modstudio new --example`` and trained for an epoch by ``modstudio train``.

The benchmark files are the small fakes of tests/data/benchmark_files.py served on 127.0.0.1
(100 CIFAR-10 and 200 CIFAR-100 training images in the real binary format); nothing is downloaded."""

import json

import pytest

import modstudio as ms
from modstudio.cli import main
from tests.data.benchmark_files import benchmark_env  # noqa: F401  (fixture)

CIFAR = [("split-cifar10", "cifar10", 5, 2), ("split-cifar100", "cifar100", 10, 10)]


@pytest.mark.parametrize("example, bench, n_tasks, classes", CIFAR)
def test_a_cifar_example_needs_its_benchmark_then_trains_one_epoch(benchmark_env, tmp_path, capsys, example,
                                                                    bench, n_tasks, classes):
    assert main(["examples"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith(example))
    assert line.endswith(f"(needs: modstudio data get {bench})")
    assert example not in [e.name for e in ms.examples.list_examples()]
    path = tmp_path / "p.modstudio"
    assert main(["new", str(path), "--example", example]) == 2
    assert f"modstudio data get {bench}" in capsys.readouterr().err

    assert main(["data", "get", bench]) == 0
    assert example in [e.name for e in ms.examples.list_examples()]
    assert main(["new", str(path), "--example", example]) == 0
    project = ms.load_project(path)  # rebuilt from the benchmark files: the file holds recipes only
    assert project.settings.embed_data == "never" and len(project.tasks) == n_tasks
    assert all(len(t.classes) == classes for t in project.tasks)
    assert project.tasks[0].origin["dataset"]["builtin"] == bench
    assert project.tasks[0].train.x.shape[1:] == (3, 32, 32)
    capsys.readouterr()
    assert main(["train", str(path), "--epochs", "1", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["status"] == "finished" and len(printed["acc_matrix"]) == n_tasks + 1
    trained = ms.load_project(path)
    assert trained.runs[-1].status == "finished" and trained.runs[-1].settings["epochs"] == 1


def test_the_cifar100_example_draws_a_resnet_style_body(benchmark_env):
    """A stem, a residual block that keeps 32×32, two that halve it and double the channels."""
    from modstudio.data.benchmarks import get
    from modstudio.project.check import check_project

    get("cifar100")
    project = ms.examples.build_example("split-cifar100")
    report = check_project(project)
    assert report.ok
    graph = project.graph
    shapes = [(graph.nodes[n].kind, report.nodes[n].shape) for n in report.order]
    assert shapes == [("input", (3, 32, 32)), ("conv_block", (32, 32, 32)), ("residual_block", (32, 32, 32)),
                      ("residual_block", (64, 16, 16)), ("residual_block", (128, 8, 8)), ("global_avg_pool", (128,)),
                      ("head", (10,))]
