"""``modstudio data get|list`` end to end, and the benchmark examples trained for an epoch by the CLI.

Everything is served from 127.0.0.1 (tests/data/benchmark_files.py), the checksums of its small
files pinned for the test only; the commands run in this process so they see that catalog."""

import dataclasses
import json
from types import MappingProxyType

import pytest

import modstudio as ms
from modstudio import cli_data
from modstudio.cli import main
from modstudio.data import load_builtin, split_by_class
from modstudio.data.benchmarks import catalog as catalog_module
from tests.data.benchmark_files import benchmark_env, closed_port_url  # noqa: F401  (fixture)


def test_get_downloads_then_list_shows_it_present_with_its_size_and_folder(benchmark_env, capsys):
    env = benchmark_env
    assert main(["data", "get", "mnist"]) == 0
    out = capsys.readouterr().out
    assert f"downloaded from {env.server.url}train-images-idx3-ubyte.gz" in out
    assert "mnist is ready: 4 file(s)" in out and "split-mnist" in out
    assert main(["data", "list", "--json"]) == 0
    listed = {b["name"]: b for b in json.loads(capsys.readouterr().out)}
    assert listed["mnist"]["present"] and listed["mnist"]["missing"] == []
    assert listed["mnist"]["bytes"] == sum(len(env.files[f.name]) for f in env.catalog["mnist"].files)
    assert listed["mnist"]["folder"] == str(env.data_dir / "benchmarks" / "mnist")
    assert not listed["cifar10"]["present"]
    assert main(["data", "list"]) == 0
    text = capsys.readouterr().out
    assert str(env.data_dir / "benchmarks") in text
    assert any(line.split()[:2] == ["mnist", "present"] for line in text.splitlines())


def test_get_again_offline_uses_the_verified_copy(benchmark_env, capsys):
    assert main(["data", "get", "mnist"]) == 0
    benchmark_env.server.stop()
    capsys.readouterr()
    assert main(["data", "get", "mnist"]) == 0
    assert capsys.readouterr().out.count("already here (verified)") == 4


def test_mirror_is_tried_before_the_publishers(benchmark_env, monkeypatch, capsys):
    env = benchmark_env
    dead = MappingProxyType({name: dataclasses.replace(b, mirrors=(closed_port_url(),))
                             for name, b in env.catalog.items()})
    monkeypatch.setattr(catalog_module, "PINNED", dead)
    assert main(["data", "get", "cifar10", "--mirror", env.server.url]) == 0
    assert f"downloaded from {env.server.url}cifar-10-binary.tar.gz" in capsys.readouterr().out


def test_from_a_folder_imports_without_the_network(benchmark_env, tmp_path, capsys):
    env = benchmark_env
    env.server.stop()
    for name, body in env.files.items():
        (tmp_path / name).write_bytes(body)
    assert main(["data", "get", "mnist", "cifar100", "--from", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count("imported from") == 5 and "cifar100 is ready" in out


def test_a_wrong_file_is_refused_with_exit_2_naming_it_and_the_checksum(benchmark_env, capsys):
    env = benchmark_env
    env.server.files["t10k-labels-idx1-ubyte.gz"] = b"not the labels"
    assert main(["data", "get", "mnist"]) == 2
    err = capsys.readouterr().err
    assert "t10k-labels-idx1-ubyte.gz" in err and env.catalog["mnist"].file("t10k-labels-idx1-ubyte.gz").sha256 in err
    assert not (env.data_dir / "benchmarks" / "mnist" / "t10k-labels-idx1-ubyte.gz").exists()


def test_ctrl_c_exits_130_keeping_the_part_and_the_same_command_resumes(benchmark_env, monkeypatch, capsys):
    env = benchmark_env
    monkeypatch.setattr("modstudio.data.benchmarks.fetch.CHUNK", 1024)
    real_call = cli_data.ByteBar.__call__

    def interrupted(self, t):
        real_call(self, t)
        if t.done >= 2048:
            raise KeyboardInterrupt

    monkeypatch.setattr(cli_data.ByteBar, "__call__", interrupted)
    assert main(["data", "get", "cifar10"]) == 130
    assert "run the same command to resume" in capsys.readouterr().err
    folder = env.data_dir / "benchmarks" / "cifar10"
    assert [p.name for p in folder.iterdir()] == ["cifar-10-binary.tar.gz.part"]
    kept = (folder / "cifar-10-binary.tar.gz.part").stat().st_size
    assert kept >= 2048
    monkeypatch.setattr(cli_data.ByteBar, "__call__", real_call)
    env.server.requests.clear()
    assert main(["data", "get", "cifar10"]) == 0
    assert env.server.requests == [("cifar-10-binary.tar.gz", f"bytes={kept}-")]
    assert (folder / "cifar-10-binary.tar.gz").read_bytes() == env.files["cifar-10-binary.tar.gz"]


def test_off_a_terminal_the_progress_is_a_line_per_file_saying_where_it_resumes():
    import io

    from modstudio.data.benchmarks import Transfer

    out = io.StringIO()
    bar = cli_data.ByteBar(out)
    for done in (3 * 1024**2, 4 * 1024**2, 5 * 1024**2):
        bar(Transfer("a.gz", "http://h/a.gz", done, 5 * 1024**2, 3 * 1024**2))
    bar(Transfer("b.gz", "http://h/b.gz", 0, None, 0))
    bar.close()
    assert out.getvalue() == "a.gz: from http://h/a.gz (resuming at 3.0 MiB)\nb.gz: from http://h/b.gz\n"


def test_the_mnist_examples_appear_once_mnist_is_here(benchmark_env, tmp_path, capsys):
    assert main(["examples"]) == 0
    assert "needs: modstudio data get mnist" in capsys.readouterr().out
    assert "split-mnist" not in [e.name for e in ms.examples.list_examples()]
    assert main(["new", str(tmp_path / "x.modstudio"), "--example", "split-mnist"]) == 2
    assert "modstudio data get mnist" in capsys.readouterr().err
    assert main(["data", "get", "mnist"]) == 0
    assert {"split-mnist", "permuted-mnist"} <= {e.name for e in ms.examples.list_examples()}
    capsys.readouterr()
    assert main(["examples"]) == 0
    assert "needs: modstudio data get mnist" not in capsys.readouterr().out  # the CIFAR ones still need theirs


@pytest.mark.parametrize("example, n_tasks", [("split-mnist", 5), ("permuted-mnist", 10)])
def test_a_benchmark_example_trains_one_epoch_from_the_cli(benchmark_env, tmp_path, capsys, example, n_tasks):
    assert main(["data", "get", "mnist"]) == 0
    path = tmp_path / "p.modstudio"
    assert main(["new", str(path), "--example", example]) == 0
    project = ms.load_project(path)  # rebuilt from the benchmark files: the file holds recipes only
    assert len(project.tasks) == n_tasks and project.settings.embed_data == "never"
    assert project.tasks[0].origin["dataset"]["builtin"] == "mnist"
    capsys.readouterr()
    assert main(["train", str(path), "--epochs", "1", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["status"] == "finished" and len(printed["acc_matrix"]) == n_tasks + 1


def test_cifar10_tasks_train_one_epoch_with_a_conv_net(benchmark_env, tmp_path, capsys):
    assert main(["data", "get", "cifar10"]) == 0
    project = ms.Project.new("split CIFAR-10")
    g = project.graph
    ids = [g.add_node("input"), g.add_node("conv_block", out_channels=8), g.add_node("global_avg_pool"),
           g.add_node("head")]
    for a, b in zip(ids, ids[1:]):
        g.connect(a, b)
    project.tasks.extend(split_by_class(load_builtin("cifar10"), n_tasks=5))
    path = project.save(tmp_path / "c.modstudio")
    capsys.readouterr()
    assert main(["train", str(path), "--epochs", "1", "--strategy", "finetune", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["status"] == "finished" and len(printed["acc_matrix"]) == 6
