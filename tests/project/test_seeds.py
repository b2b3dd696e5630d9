"""Seeds: the list a user writes, and mean ± sd of a configuration over them."""

import json
import subprocess
import sys

import pytest

import modstudio as ms
from modstudio.project.run import Run, RunMetrics
from modstudio.project.seeds import SeedListError, aggregate, format_figure, parse_seeds, seed_groups


@pytest.mark.parametrize(("text", "seeds"), [("0-4", [0, 1, 2, 3, 4]), ("0,2,7", [0, 2, 7]), ("3", [3]),
                                              ("0-2,9,1", [0, 1, 2, 9]), (" 5 - 6 ", [5, 6])])
def test_seed_lists(text, seeds):
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize(("text", "why"), [("a-b", "whole numbers"), ("4-2", "backwards"), ("", "whole numbers"),
                                           ("-1", "whole numbers"), ("0-5000", "at most")])
def test_bad_seed_lists_say_why(text, why):
    with pytest.raises(SeedListError, match=why):
        parse_seeds(text)


def _run(status, acc, bwt, params, sizes=(72, 71)):
    return Run(status=status, metrics=RunMetrics(tasks_trained=2, acc=acc, bwt=bwt, fwt=0.0, forgetting=-bwt,
                                                 aia=acc, total_parameters=params, test_sizes=list(sizes)))


def test_the_aggregate_is_the_sample_mean_and_sd_of_finished_runs():
    runs = [_run("finished", 0.90, -0.02, 100), _run("finished", 0.80, -0.04, 100),
            _run("finished", 0.70, -0.06, 130), _run("stopped", 0.10, -0.5, 10)]
    summary = aggregate(runs)
    assert summary["runs"] == 4 and summary["finished"] == 3
    acc = summary["figures"]["acc"]
    assert acc["mean"] == pytest.approx(0.80) and acc["sd"] == pytest.approx(0.10)  # √(0.02 / 2)
    assert acc["values"] == [0.90, 0.80, 0.70] and acc["n"] == 3
    assert summary["figures"]["bwt"]["sd"] == pytest.approx(0.02)
    assert summary["figures"]["total_parameters"]["mean"] == pytest.approx(110)
    assert summary["test_sizes"] == [72, 71]
    assert summary["points_per_sample"] == pytest.approx([100 / 72, 100 / 71])
    assert format_figure("acc", acc) == "acc 80.0 ± 10.0"
    one = aggregate(runs[:1])["figures"]["acc"]
    assert one["sd"] is None and format_figure("acc", one) == "acc 90.0"


def test_cli_trains_once_per_seed_keeps_every_run_and_reports_mean_and_sd(tmp_path):
    path = tmp_path / "d.modstudio"
    subprocess.run([sys.executable, "-m", "modstudio", "new", str(path), "--example", "split-digits"], check=True,
                   capture_output=True)
    out = subprocess.run([sys.executable, "-m", "modstudio", "train", str(path), "--strategy", "finetune",
                          "--epochs", "1", "--seeds", "0-2", "--json"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["seeds"] == [0, 1, 2] and len(report["runs"]) == 3
    project = ms.load_project(path)
    assert [r.settings["seed"] for r in project.runs] == [0, 1, 2]
    accs = [r.metrics.acc for r in project.runs]
    import statistics

    assert report["aggregate"]["figures"]["acc"]["mean"] == pytest.approx(statistics.mean(accs))
    assert report["aggregate"]["figures"]["acc"]["sd"] == pytest.approx(statistics.stdev(accs))
    assert report["aggregate"]["test_sizes"] == [len(t.test.y) for t in project.tasks]
    info = subprocess.run([sys.executable, "-m", "modstudio", "info", str(path), "--json"], capture_output=True,
                          text=True, check=True)
    (group,) = json.loads(info.stdout)["seed_groups"]
    assert group["seeds"] == [0, 1, 2] and group["aggregate"]["figures"]["acc"] == report["aggregate"]["figures"]["acc"]
    text = subprocess.run([sys.executable, "-m", "modstudio", "info", str(path)], capture_output=True, text=True,
                          check=True).stdout
    assert "over seeds 0, 1, 2: finetune task" in text
    both = subprocess.run([sys.executable, "-m", "modstudio", "train", str(path), "--seeds", "0-1", "--seed", "3"],
                          capture_output=True, text=True)
    assert both.returncode != 0 and "either --seed or --seeds" in both.stderr


def test_seed_groups_are_configurations_that_differ_only_in_the_seed():
    a = [Run(strategy="ewc", settings={"strategy": "ewc", "seed": s, "epochs": 5}) for s in (0, 1)]
    b = Run(strategy="ewc", settings={"strategy": "ewc", "seed": 0, "epochs": 6})  # another configuration
    single = [Run(strategy="lwf", settings={"strategy": "lwf", "seed": 0})]
    groups = seed_groups([a[0], b, a[1], *single])
    assert [(g["strategy"], g["seeds"], len(g["run_ids"])) for g in groups] == [("ewc", [0, 1], 2)]
